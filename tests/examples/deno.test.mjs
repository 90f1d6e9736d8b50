// The SDK in Deno (issue 19: "works unchanged in browsers, Node.js and Deno"): Deno (npm's `deno`
// package, a dev dependency) runs tests/examples/deno/client.mjs against a real `wrangler dev`,
// and chats with an SDK client in Node.js: a message each way, acknowledged, and a reply.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { REPO_ROOT, startServer } from '../e2e/server.mjs';

const DENO = path.join(REPO_ROOT, 'node_modules', '.bin', 'deno');
let server;
let node;

before(async () => {
  server = await startServer();
});

after(async () => {
  node?.close();
  await server?.cleanup();
});

test('the SDK joins, sends and replies from Deno, unchanged', { timeout: 90_000 }, async () => {
  const room = `deno-${process.pid}`;
  node = await connect({ url: server.url, room, name: 'Nora', WebSocket });
  const host = new URL(server.url).host;
  const script = path.join(REPO_ROOT, 'tests', 'examples', 'deno', 'client.mjs');
  const run = new Promise((resolve, reject) => {
    execFile(
      DENO,
      ['run', '--no-prompt', `--allow-net=${host}`, script, server.url, room],
      { timeout: 60_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  const hello = await new Promise((resolve) => node.on('message', (m) => m.name === 'Dino' && resolve(m)));
  assert.equal(hello.text, 'hello from Deno');
  const ping = await node.send('ping');
  const out = JSON.parse((await run).trim().split('\n').pop());
  assert.deepEqual(out.members.sort(), ['Dino', 'Nora']);
  assert.equal(out.stored, hello.id, 'the acknowledgement carries the stored id');
  assert.equal(out.ping, 'Nora');
  assert.equal(out.pong, ping.id, 'the reply points at the ping');
  const pong = node.messages.find((m) => m.text === 'pong');
  assert.equal(pong?.replyTo, ping.id);
});
