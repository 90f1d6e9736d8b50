#!/usr/bin/env node
// Search latency (issue 21): one room filled with 10,000 messages through a real WebSocket, then
// 100 searches of mixed kinds over HTTP, one at a time, timed from request to full response.
// Reports p50 / p99 / max in ms per kind and over all. A fresh `wrangler dev` (state in a temp dir)
// of the built Worker, rate limit off.
//
//   node bench/search.mjs                       # 10,000 messages, 100 queries
//   node bench/search.mjs --messages 2000 --queries 50
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startDevServer } from '../tests/support/devserver.mjs';

const { values: opts } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '100' },
    window: { type: 'string', default: '64' },
  },
});
const MESSAGES = Number(opts.messages);
const QUERIES = Number(opts.queries);
const WINDOW = Number(opts.window);

// A vocabulary with a long tail, as chat has: a few common words, many rare ones.
let seed = 42;
const rand = (n) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};
const COMMON = ['the', 'a', 'is', 'to', 'and', 'deploy', 'build', 'lunch', 'today', 'fix', 'café'];
const RARE = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}x${(i * 7919) % 997}`);
const word = () => (rand(3) === 0 ? RARE[rand(RARE.length)] : COMMON[rand(COMMON.length)]);
const text = () => Array.from({ length: 4 + rand(16) }, word).join(' ');

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function fill(url, room) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/rooms/${room}/websocket`);
  await new Promise((ok, fail) => {
    ws.once('open', ok);
    ws.once('error', fail);
  });
  const frames = [];
  let wake = null;
  ws.on('message', (data) => {
    const v = JSON.parse(data.toString());
    frames.push(...(Array.isArray(v) ? v : [v]));
    wake?.();
  });
  const next = async () => {
    while (frames.length === 0) await new Promise((r) => (wake = r));
    return frames.shift();
  };
  const names = ['Alice', 'Bob', 'Carol'];
  ws.send(JSON.stringify({ type: 'join', name: names[0] }));
  for (let f = await next(); f.type !== 'welcome'; f = await next()) {}
  let sent = 0;
  let acked = 0;
  const t0 = Date.now();
  while (acked < MESSAGES) {
    while (sent < MESSAGES && sent - acked < WINDOW) {
      ws.send(JSON.stringify({ type: 'message', text: text() }));
      sent++;
    }
    const f = await next();
    if (f.type === 'message') acked++;
    else if (f.type === 'error') throw new Error(JSON.stringify(f));
  }
  console.log(`filled ${MESSAGES} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  ws.close(1000, 'leave');
}

const KINDS = [
  ['common word', () => 'deploy'],
  ['two words', () => `${COMMON[5 + rand(5)]} ${RARE[rand(RARE.length)]}`],
  ['rare word', () => RARE[rand(RARE.length)]],
  ['phrase', () => `"${COMMON[rand(COMMON.length)]} ${COMMON[rand(COMMON.length)]}"`],
  ['prefix', () => `${RARE[rand(RARE.length)].slice(0, 3)}*`],
  ['from: + word', () => 'from:alice lunch'],
  ['recent, common', () => ['the', '&sort=recent']],
  ['diacritics', () => 'cafe'],
];

async function main() {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'chatterly-search-bench-'));
  const server = await startDevServer({
    persistTo: state,
    vars: { RATE_LIMIT_PER_SEC: '0', ADDRESS_SEARCHES_PER_MIN: '0' },
  });
  try {
    const room = `search-bench-${Date.now()}`;
    await fill(server.url, room);
    const times = new Map(KINDS.map(([k]) => [k, []]));
    const all = [];
    let hits = 0;
    for (let i = 0; i < QUERIES; i++) {
      const [kind, make] = KINDS[i % KINDS.length];
      const made = make();
      const [q, extra] = Array.isArray(made) ? made : [made, ''];
      const url = `${server.url}/api/rooms/${room}/search?q=${encodeURIComponent(q)}&limit=20${extra}`;
      const t = performance.now();
      const res = await fetch(url);
      const body = await res.json();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`${q}: ${res.status} ${JSON.stringify(body)}`);
      hits += body.messages.length;
      times.get(kind).push(ms);
      all.push(ms);
    }
    console.log(`${QUERIES} queries, ${hits} hits in all, limit 20, one at a time`);
    console.log('| kind | n | p50 ms | p99 ms | max ms |');
    console.log('| --- | --- | --- | --- | --- |');
    const row = (k, xs) =>
      console.log(
        `| ${k} | ${xs.length} | ${percentile(xs, 50).toFixed(1)} | ${percentile(xs, 99).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`,
      );
    for (const [k, xs] of times) row(k, xs);
    row('all', all);
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
}

await main();
