#!/usr/bin/env node
// Edit round trips in an empty room and in a room of N replies (issue 17, item 2): an edit finds
// the replies it requotes through an index, so its cost must not grow with the room's history.
// One wrangler dev on loopback; one member per room edits its own message (which has no replies)
// `--edits` times, alternating between the rooms so that the machine's load moves both alike.
//
//   node bench/edits.mjs [--replies 10000] [--edits 40]
//
// Prints the median and p90 of each room's edit round trip (edit sent → its `edit` frame back).

import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startDevServer } from '../tests/support/devserver.mjs';

const { values: o } = parseArgs({
  options: { replies: { type: 'string', default: '10000' }, edits: { type: 'string', default: '40' } },
});
const REPLIES = Number(o.replies);
const EDITS = Number(o.edits);

/** A member of `room`: `next(type)` resolves with the next frame of that type (batches unpacked). */
async function member(base, room, name) {
  const ws = new WebSocket(`${base}/api/rooms/${room}/websocket`, { perMessageDeflate: false });
  const waiting = [];
  ws.on('message', (data) => {
    const v = JSON.parse(String(data));
    for (const f of Array.isArray(v) ? v : [v]) {
      const i = waiting.findIndex((w) => w.type === f.type);
      if (i >= 0) waiting.splice(i, 1)[0].resolve(f);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = (type) => new Promise((resolve) => waiting.push({ type, resolve }));
  const send = (frame) => ws.send(JSON.stringify(frame));
  const welcome = next('welcome');
  send({ type: 'join', name, session: `bench-session-${name}-0001` });
  await welcome;
  return { ws, next, send };
}

async function say(m, text, extra = {}) {
  const echo = m.next('message');
  m.send({ type: 'message', text, ...extra });
  return echo;
}

async function editTime(m, id, i) {
  const start = process.hrtime.bigint();
  const done = m.next('edit');
  m.send({ type: 'edit', id, text: `edit ${i}` });
  await done;
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const server = await startDevServer({
  vars: { RATE_LIMIT_PER_SEC: '0', HISTORY_CAP: String(REPLIES + 100), ADDRESS_ROOMS_PER_HOUR: '0' },
});
try {
  const base = server.url.replace('http:', 'ws:');
  const stamp = Date.now();
  const a = await member(base, `edits-empty-${stamp}`, 'Ann');
  const b = await member(base, `edits-full-${stamp}`, 'Bob');
  const mineA = await say(a, 'mine');
  const asked = await say(b, 'the question');
  const mineB = await say(b, 'mine');
  const t0 = Date.now();
  for (let i = 0; i < REPLIES; i += 500) {
    const n = Math.min(500, REPLIES - i);
    const echoes = Array.from({ length: n }, () => b.next('message'));
    for (let j = 0; j < n; j += 1) b.send({ type: 'message', text: `reply ${i + j}`, reply_to: asked.id });
    await Promise.all(echoes);
  }
  console.log(`${REPLIES} replies stored in ${Date.now() - t0} ms`);
  for (let i = 0; i < 3; i += 1) {
    await editTime(a, mineA.id, i);
    await editTime(b, mineB.id, i);
  }
  const [ta, tb] = [[], []];
  for (let i = 0; i < EDITS; i += 1) {
    ta.push(await editTime(a, mineA.id, i));
    tb.push(await editTime(b, mineB.id, i));
  }
  const row = (label, t) =>
    console.log(`${label.padEnd(22)} median ${pct(t, 0.5).toFixed(2)} ms  p90 ${pct(t, 0.9).toFixed(2)} ms`);
  row('empty room', ta);
  row(`${REPLIES} replies`, tb);
  a.ws.close();
  b.ws.close();
} finally {
  await server.stop();
}
