// examples/bot.mjs against a real `wrangler dev`: an SDK client asks `!time` and the bot answers
// with a reply; the server restarts under both and the conversation goes on, nothing lost or
// doubled (the SDK resumes with `since` and its queue is exactly-once).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { REPO_ROOT, startServer } from '../e2e/server.mjs';

let server;
let bot;
const room = `bot-${process.pid}`;

before(async () => {
  server = await startServer({ vars: { PRESENCE_GRACE_MS: '5000' } });
});

after(async () => {
  if (bot && bot.exitCode === null) bot.kill('SIGTERM');
  await server?.cleanup();
});

function startBot() {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'examples', 'bot.mjs'), server.url, room, 'TimeBot'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  child.log = () => out;
  return child;
}

/** Resolves with the first message event that `pick` accepts. */
function next(chat, pick, ms = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no such message within ${ms} ms; bot log:\n${bot?.log()}`));
    }, ms);
    const off = chat.on('message', (m) => {
      if (!pick(m)) return;
      clearTimeout(timer);
      off();
      resolve(m);
    });
  });
}

async function until(what, fn, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out: ${what}`);
}

test('the bot answers !time, and keeps answering after a server restart', async () => {
  bot = startBot();
  const ada = await connect({ url: server.url, room, name: 'Ada', WebSocket });
  await until('the bot joined', () => ada.members.includes('TimeBot'));

  const asked = await ada.send('!time');
  const answer = await next(ada, (m) => m.name === 'TimeBot');
  assert.equal(answer.replyTo, asked.id);
  assert.match(answer.text, /^It is \d{4}-\d\d-\d\dT.*\(UTC\)\.$/);

  await server.restart();
  // Sent while the server is down or coming back: queued, then sent once.
  const again = ada.send('!time');
  const answer2 = await next(ada, (m) => m.name === 'TimeBot' && m.replyTo !== asked.id, 40_000);
  assert.equal(answer2.replyTo, (await again).id);

  const ids = ada.messages.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no message twice');
  assert.deepEqual(
    ada.messages.map((m) => [m.name, m.text.startsWith('It is') ? 'answer' : m.text]),
    [
      ['Ada', '!time'],
      ['TimeBot', 'answer'],
      ['Ada', '!time'],
      ['TimeBot', 'answer'],
    ],
  );
  ada.close();
});
