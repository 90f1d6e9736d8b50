// The SDK (public/sdk/chatterly.js) with real join tokens against `wrangler dev` (no browser):
// the token provider is called for the first join and on each reconnect (a server restart), a
// renewal goes out as `auth` before expiry and the server's answer keeps the socket past the
// first token's end, a refused renewal is an error event that keeps the old token until the
// server closes the socket with 4004, and then the SDK rejoins at once with a fresh token and
// `since`, quietly (the others see away and back), missing and doubling nothing. Tokens are
// short-lived: minted with `exp` a few seconds past the 60 s clock skew, under a short
// JOIN_TOKEN_MAX_TTL_S.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { uniqueRoom } from './helpers.mjs';
import { startServer } from './server.mjs';

const SECRET = `sdk-tokens-${process.pid}-0123456789abcdef`;
const SKEW_S = 60; // docs/protocol.md: a token is accepted until exp + 60 s
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 join token (docs/embedding.md). `left`: seconds it stays valid, skew included. */
function mint({ sub = 'u-ada', name = 'Ada', room = '*', left = 110 } = {}) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const exp = now() - SKEW_S + left;
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, name, room, iat: Math.min(now(), exp) - 5, exp })}`;
  return `${input}.${crypto.createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out: ${what}`);
}

/** Everything a room tells, in order, for the assertions. */
function record(room) {
  const log = { states: [], errors: [], presence: [] };
  room.on('state', (s) => log.states.push(s.state));
  room.on('error', (e) => log.errors.push(e.code));
  for (const t of ['join', 'leave', 'away', 'back']) room.on(t, (e) => log.presence.push(`${t} ${e.name}`));
  return log;
}

describe('the SDK with join tokens against the real server', { timeout: 180_000 }, () => {
  let server;
  before(async () => {
    server = await startServer({
      vars: { JOIN_TOKENS: 'optional', JOIN_TOKEN_SECRET: SECRET, JOIN_TOKEN_MAX_TTL_S: '120' },
    });
  });
  after(() => server?.cleanup());

  test('a token past JOIN_TOKEN_MAX_TTL_S is refused: connect rejects unauthorized, no retry', async () => {
    let calls = 0;
    const token = () => {
      calls += 1;
      const exp = now() + 3600;
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${b64({ alg: 'HS256' })}.${b64({ sub: 'u', name: 'Long', room: '*', iat: now(), exp })}`;
      return `${input}.${crypto.createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    };
    await assert.rejects(connect({ url: server.url, room: uniqueRoom('ttl'), token, WebSocket }), (e) => {
      assert.equal(e.code, 'unauthorized');
      return true;
    });
    await sleep(1500);
    assert.equal(calls, 1);
  });

  test('renewed before expiry by auth; the provider is asked again on a reconnect; guests see it verified', async () => {
    const room = uniqueRoom('renew');
    const tokens = [];
    // The first token has 6 s left: the SDK renews at once (less than renewBeforeMs is left).
    const token = async () => {
      const t = mint({ left: tokens.length === 0 ? 6 : 110 });
      tokens.push(t);
      return t;
    };
    const ada = await connect({ url: server.url, room, token, WebSocket });
    const log = record(ada);
    const bob = await connect({ url: server.url, room, name: 'Bob', WebSocket });
    assert.equal(ada.name, 'Ada');
    assert.deepEqual(bob.verified, ['Ada']);
    await until('the renewal', () => tokens.length === 2);
    // Well past the first token's end (exp + skew): still the same socket, no 4004.
    await sleep(8000);
    assert.deepEqual(log.states, [], 'no reconnect');
    assert.deepEqual(log.errors, []);
    const m = await ada.send('still here on the renewed token');
    await until('Bob hears it', () => bob.messages.some((x) => x.id === m.id));
    assert.equal(bob.messages.find((x) => x.id === m.id).verified, true);

    await server.restart();
    await until('Ada is back after the restart', () => ada.state === 'connected' && log.states.includes('waiting'));
    assert.ok(tokens.length >= 3, 'the provider was asked for each attempt to rejoin');
    await until('Bob is back', () => bob.state === 'connected');
    const again = await ada.send('after the restart');
    await until('Bob hears it again', () => bob.messages.some((x) => x.id === again.id));
    const texts = bob.messages.map((x) => x.text);
    assert.equal(new Set(texts).size, texts.length, `nothing twice: ${texts}`);
    ada.close();
    bob.close();
  });

  test('a refused renewal keeps the old token until 4004; the rejoin is quiet and loses nothing', async () => {
    const room = uniqueRoom('expire');
    let calls = 0;
    const token = async () => {
      calls += 1;
      if (calls === 1) return mint({ left: 7 });
      // The renewal: another user's token, which the server refuses for this socket.
      if (calls === 2) return mint({ sub: 'u-mallory', name: 'Mallory' });
      return mint();
    };
    const bob = await connect({ url: server.url, room, name: 'Bob', WebSocket });
    const bobLog = record(bob);
    const ada = await connect({ url: server.url, room, token, WebSocket });
    const log = record(ada);
    await until('the refused renewal', () => log.errors.includes('unauthorized'));
    assert.equal(ada.state, 'connected', 'the old token stays');
    await ada.send('on the old token');

    // The server closes the socket at exp + skew with 4004; Bob speaks meanwhile.
    await until('the 4004', () => log.states.includes('connecting'), 20_000);
    const missed = bob.send('said while Ada was rejoining');
    await until('Ada rejoined', () => ada.state === 'connected' && calls === 3).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify({ calls, log, state: ada.state })}`);
    });
    await missed;
    await until('Ada has Bob’s message', () => ada.messages.some((m) => m.text === 'said while Ada was rejoining'));
    await ada.send('with a fresh token');
    await until('Bob hears it', () => bob.messages.some((m) => m.text === 'with a fresh token'));

    assert.deepEqual(log.states, ['connecting', 'connected'], 'at once: no waiting for a backoff');
    assert.deepEqual(log.errors, ['unauthorized']);
    // Quiet: away then back, no leave or join.
    assert.deepEqual(bobLog.presence, ['join Ada', 'away Ada', 'back Ada']);
    assert.deepEqual(bob.verified, ['Ada']);
    const texts = ada.messages.map((m) => m.text);
    assert.deepEqual(texts, ['on the old token', 'said while Ada was rejoining', 'with a fresh token']);
    ada.close();
    bob.close();
  });
});
