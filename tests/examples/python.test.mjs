// examples/python/chat.py (the protocol over `websockets`, no JavaScript), the bot
// (examples/bot.mjs) and an SDK client in one room against `wrangler dev`; the server restarts
// under all three, and nothing is lost or doubled. The Python client runs from .venv (made here
// from examples/python/requirements.txt when missing).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { REPO_ROOT, startServer } from '../e2e/server.mjs';

const VENV = path.join(REPO_ROOT, '.venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const room = `py-${process.pid}`;
let server;
const children = [];

function venv() {
  const ready = () => {
    try {
      execFileSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (ready()) return;
  if (!fs.existsSync(PYTHON)) execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  const req = path.join(REPO_ROOT, 'examples', 'python', 'requirements.txt');
  execFileSync(PYTHON, ['-m', 'pip', 'install', '-q', '-r', req], { stdio: 'inherit' });
}

function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.out = '';
  child.stdout.on('data', (d) => {
    child.out += d;
  });
  child.stderr.on('data', (d) => {
    child.out += d;
  });
  children.push(child);
  return child;
}

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out: ${what}\n${children.map((c) => c.out).join('\n---\n')}`);
}

before(async () => {
  venv();
  server = await startServer({ vars: { PRESENCE_GRACE_MS: '5000' } });
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await server?.cleanup();
});

test('Python, the bot and the SDK chat in one room, across a restart, nothing lost or doubled', async () => {
  const py = run(PYTHON, [path.join(REPO_ROOT, 'examples', 'python', 'chat.py'), server.url, room, 'Grace']);
  run(process.execPath, [path.join(REPO_ROOT, 'examples', 'bot.mjs'), server.url, room, 'TimeBot']);
  const ada = await connect({ url: server.url, room, name: 'Ada', WebSocket });
  await until('everyone is in', () => ['Grace', 'TimeBot'].every((n) => ada.members.includes(n)));
  const said = (name, text) => ada.messages.some((m) => m.name === name && m.text === text);
  const printed = (line) => py.out.split('\n').includes(line);

  py.stdin.write('hello from python\n');
  await until('Ada hears Grace', () => said('Grace', 'hello from python'));
  await ada.send('hi Grace');
  await until('Grace hears Ada', () => printed('Ada: hi Grace'));
  py.stdin.write('!time\n');
  await until('the bot answers Grace', () => ada.messages.some((m) => m.name === 'TimeBot'));
  await until('Grace hears the bot', () => py.out.includes('TimeBot: It is '));

  await server.restart();
  py.stdin.write('after the restart\n');
  const back = ada.send('welcome back');
  await until('Ada hears Grace again', () => said('Grace', 'after the restart'), 60_000);
  await back;
  await until('Grace hears Ada again', () => printed('Ada: welcome back'), 60_000);

  // The bot is back too: it answers once, and everyone hears it once.
  py.stdin.write('!time\n');
  await until('the bot answers again', () => ada.messages.filter((m) => m.name === 'TimeBot').length === 2, 60_000);
  await until('Grace hears the bot again', () => py.out.split('TimeBot: It is ').length === 3, 30_000);
  await new Promise((r) => setTimeout(r, 1000)); // time for anything doubled to arrive

  const texts = ada.messages.map((m) => `${m.name}: ${m.text.startsWith('It is') ? '(time)' : m.text}`);
  assert.deepEqual(texts.slice(0, 4), ['Grace: hello from python', 'Ada: hi Grace', 'Grace: !time', 'TimeBot: (time)']);
  // The order of the next two depends on who reconnects first.
  assert.deepEqual(texts.slice(4, 6).sort(), ['Ada: welcome back', 'Grace: after the restart']);
  assert.deepEqual(texts.slice(6), ['Grace: !time', 'TimeBot: (time)']);
  const ids = ada.messages.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'the SDK holds each message once');
  // Python prints each message once, by id: the same lines as the SDK holds, in its order.
  const lines = py.out
    .split('\n')
    .filter((l) => /^(Ada|Grace|TimeBot): /.test(l))
    .map((l) => (l.startsWith('TimeBot: It is') ? 'TimeBot: (time)' : l));
  assert.equal(lines.length, 8, `Python printed a message twice or missed one:\n${py.out}`);
  assert.deepEqual(lines.slice(0, 4), texts.slice(0, 4), py.out);
  assert.deepEqual(lines.slice(4, 6).sort(), texts.slice(4, 6).sort(), py.out);
  assert.deepEqual(lines.slice(6), texts.slice(6), py.out);
  ada.close();
});
