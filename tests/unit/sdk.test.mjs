// The SDK's public API (public/sdk/chatterly.js) against a scripted socket and a manual clock:
// acknowledgements and timeouts, the offline queue and its bound, exactly-once across resumes,
// tokens (each join, renewal, refusal), backoff bounds, and which close codes end it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backoffDelay,
  ChatterlyError,
  connect,
  framesOf,
  sessionTag,
  tokenExpiry,
} from '../../public/sdk/chatterly.js';
import { jsonResponse, SESSION, sdk, settle } from './sdk-fakes.mjs';

/** A JWT-shaped token (unsigned: the SDK only reads `exp`). */
function jwt(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.sig`;
}

test('backoff: full jitter below an exponential bound, capped', () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 0);
  assert.equal(backoffDelay(0, { random: () => 0.999 }), 499);
  assert.equal(backoffDelay(3, { random: () => 0.999 }), 3996);
  for (let i = 0; i < 60; i += 1) {
    const d = backoffDelay(i, { base: 500, max: 10000 });
    assert.ok(d >= 0 && d < Math.min(10000, 500 * 2 ** i), `attempt ${i}: ${d}`);
  }
  const h = sdk();
  return (async () => {
    await h.joined();
    h.sockets[0].drop();
    const waits = [];
    for (let i = 0; i < 8; i += 1) {
      const s = h.of('state').at(-1);
      waits.push(s.retryAt - h.clock.t);
      h.clock.advance(s.retryAt - h.clock.t);
      await settle();
      h.sockets.at(-1).drop(); // never opens
    }
    // random() is 0.5: half of 500, 1000, 2000, … capped at 10 s.
    assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  })();
});

test('connect resolves once welcomed, with getters; joins carry the session, then since', async () => {
  const h = sdk();
  const ws = await h.joined([h.msg(1, 'Bob', 'a'), h.msg(2, 'Bob', 'b')], { topic: 'Launch', locked: true });
  assert.equal(ws.url, `ws://127.0.0.1:1234/api/rooms/lobby/websocket?tag=${sessionTag(SESSION)}`);
  assert.deepEqual(ws.json()[0], { type: 'join', session: SESSION, name: 'Alice' });
  assert.deepEqual(h.room.members, ['Alice', 'Bob']);
  assert.equal(h.room.topic, 'Launch');
  assert.equal(h.room.locked, true);
  assert.equal(h.room.owner, false);
  assert.deepEqual(
    h.room.messages.map((m) => m.text),
    ['a', 'b'],
  );
  ws.recv(h.msg(3, 'Bob', 'c'));
  ws.recv(h.msg(3, 'Bob', 'c'));
  ws.recv('pong');
  ws.recv('not json');
  ws.recv({ type: 'something_new' });
  assert.deepEqual(
    h.of('message').map((m) => m.id),
    [1, 2, 3],
  );
  const ws2 = await h.redial();
  assert.deepEqual(ws2.json()[0], { type: 'join', session: SESSION, name: 'Alice', since: 3 });
  ws2.recv(h.welcome([h.msg(4, 'Bob', 'd')]));
  assert.deepEqual(
    h.of('message').map((m) => m.id),
    [1, 2, 3, 4],
  );
});

test('send resolves with the stored message on its echo; errors and timeouts reject', async () => {
  const h = sdk({ room: { timeoutMs: 5000 } });
  const ws = await h.joined();
  const a = h.room.send('first');
  const b = h.room.send('too fast');
  const c = h.room.send('silence');
  const [fa, fb, fc] = ws.messages();
  assert.equal(fa.nonce, a.nonce);
  ws.recv(h.msg(7, 'Alice', 'first', fa.nonce));
  const m = await a;
  assert.equal(m.id, 7);
  assert.equal(m.own, true);
  ws.recv({ type: 'error', code: 'rate_limited', message: 'slow down', retry_after_ms: 800, nonce: fb.nonce });
  await assert.rejects(b, (e) => e instanceof ChatterlyError && e.code === 'rate_limited' && e.retryAfterMs === 800);
  assert.equal(fc.nonce, c.nonce);
  h.clock.advance(5000);
  await assert.rejects(c, { code: 'timeout' });
  assert.equal(h.room.state, 'connected', 'the socket stays usable');
});

test('edit, delete, react, kick, lock and topic resolve on their echoes, reject on errors', async () => {
  const h = sdk();
  const ws = await h.joined([h.msg(5, 'Alice', 'hi')], { owner: true });
  const edit = h.room.edit(5, 'hi there');
  const react = h.room.react(5, '👍');
  const kick = h.room.kick('bob');
  const lock = h.room.lock(true);
  const topic = h.room.setTopic(' Launch ');
  assert.deepEqual(
    ws
      .json()
      .slice(1)
      .map((f) => f.type),
    ['edit', 'react', 'kick', 'lock', 'topic'],
  );
  // Someone else's reaction with the same emoji does not settle ours.
  ws.recv({ type: 'react', id: 6, target: 5, emoji: '👍', on: true, name: 'Bob', at: 2 });
  ws.recv({ type: 'react', id: 7, target: 5, emoji: '👍', on: true, name: 'Alice', at: 2 });
  ws.recv({ type: 'edit', id: 8, target: 5, text: 'hi there', name: 'Alice', at: 3 });
  ws.recv({ type: 'error', code: 'not_found', message: 'no such member' });
  ws.recv({ type: 'lock', id: 9, locked: true, name: 'Alice', at: 4 });
  ws.recv({ type: 'topic', id: 10, text: 'Launch', name: 'Alice', at: 4 });
  assert.equal((await edit).id, 8);
  assert.equal((await react).on, true);
  await assert.rejects(kick, { code: 'not_found' });
  assert.equal((await lock).locked, true);
  assert.equal((await topic).text, 'Launch');
  assert.equal(h.room.topic, 'Launch');
  assert.equal(h.room.locked, true);
  const view = h.of('update').at(-1);
  assert.equal(view.text, 'hi there');
  assert.deepEqual(view.reactions, [{ emoji: '👍', count: 2, names: ['Bob', 'Alice'], mine: true }]);
  const del = h.room.delete(5);
  ws.recv({ type: 'error', code: 'edit_window', message: 'too late', target: 5 });
  await assert.rejects(del, { code: 'edit_window', target: 5 });
});

test('the offline queue holds maxQueued messages, then send rejects with queue_full', async () => {
  const h = sdk({ room: { maxQueued: 3 } });
  const ws = await h.joined();
  ws.drop();
  const queued = [h.room.send('1'), h.room.send('2'), h.room.send('3')];
  await assert.rejects(h.room.send('4'), { code: 'queue_full' });
  assert.equal(h.room.queued.length, 3);
  // Offline, no timeout runs: the queue waits for the connection.
  h.clock.advance(5);
  const ws2 = await h.redial();
  assert.equal(ws2.messages().length, 0, 'nothing before the welcome');
  ws2.recv(h.welcome());
  const sent = ws2.messages();
  assert.deepEqual(
    sent.map((f) => f.text),
    ['1', '2', '3'],
  );
  sent.forEach((f, i) => {
    ws2.recv(h.msg(10 + i, 'Alice', f.text, f.nonce));
  });
  assert.deepEqual(
    (await Promise.all(queued)).map((m) => m.id),
    [10, 11, 12],
  );
});

test('exactly once: a message stored before the drop is found by nonce in the resume, not resent', async () => {
  const h = sdk();
  const ws = await h.joined();
  const stored = h.room.send('stored, echo lost');
  const lost = h.room.send('never arrived');
  const [fs, fl] = ws.messages();
  ws.drop();
  const ws2 = await h.redial();
  ws2.recv(h.welcome([h.msg(20, 'Alice', 'stored, echo lost', fs.nonce)]));
  assert.equal((await stored).id, 20);
  assert.deepEqual(
    ws2.messages().map((f) => f.nonce),
    [fl.nonce],
    'only the lost one again, with its nonce',
  );
  ws2.recv(h.msg(21, 'Alice', 'never arrived', fl.nonce));
  assert.equal((await lost).id, 21);
});

test('a truncated resume pages the gap before resending what may be in it', async () => {
  let answer = () => jsonResponse(500, {});
  const h = sdk({ fetch: (url) => answer(url) });
  const ws = await h.joined([h.msg(1, 'Bob', 'x')]);
  const item = h.room.send('maybe stored');
  const [f] = ws.messages();
  ws.drop();
  const ws2 = await h.redial();
  ws2.recv(h.welcome([h.msg(150, 'Bob', 'late')], { truncated: true, last_id: 150 }));
  await settle();
  assert.equal(ws2.messages().length, 0, 'held while the gap is open');
  assert.equal(h.of('gap').at(-1).state, 'retrying');
  answer = (url) => {
    assert.match(url, /after=1&limit=100$/);
    return jsonResponse(200, { messages: [h.msg(60, 'Alice', 'maybe stored', f.nonce)] });
  };
  h.clock.advance(30_000);
  await settle();
  assert.equal((await item).id, 60);
  assert.equal(ws2.messages().length, 0, 'found in the gap: never sent twice');
  assert.equal(h.of('gap').at(-1).state, 'filled');
});

test('token: called for the first join and every reconnect, renewed before expiry with auth', async () => {
  let calls = 0;
  const exp = () => Math.floor(h2.clock.t / 1000) + 600; // ten minutes
  const h2 = sdk({
    room: {
      name: undefined,
      pingIntervalMs: 3_600_000, // no keepalive in this test: the scripted socket never answers
      token: async () => {
        calls += 1;
        return jwt({ sub: 'u1', exp: exp(), n: calls });
      },
    },
  });
  const ws = await h2.joined();
  const join = ws.json()[0];
  assert.equal(calls, 1);
  assert.equal(join.name, undefined);
  assert.equal(tokenExpiry(join.token), exp() * 1000);
  // 60 s before expiry: a fresh token goes out as `auth` on the same socket.
  h2.clock.advance(539_000);
  await settle();
  assert.equal(calls, 1);
  h2.clock.advance(1_000);
  await settle();
  assert.equal(calls, 2);
  const auth = ws.json().at(-1);
  assert.equal(auth.type, 'auth');
  assert.equal(JSON.parse(Buffer.from(auth.token.split('.')[1], 'base64url')).n, 2);
  // The server's answer makes it the socket's token: the next renewal is due 60 s before the
  // answer's exp (not the one we guessed), so an ack that never comes schedules nothing.
  h2.clock.advance(600_000);
  await settle();
  assert.equal(calls, 2, 'no ack yet: no second renewal');
  ws.recv({ type: 'auth', exp: exp() + 300 });
  h2.clock.advance(839_000);
  await settle();
  assert.equal(calls, 2);
  h2.clock.advance(1_000);
  await settle();
  assert.equal(calls, 3);
  assert.equal(ws.json().at(-1).type, 'auth');
  // A refused renewal is an error event, even while a moderation call waits; the socket stays.
  const kick = h2.room.kick('Bob');
  ws.recv({ type: 'error', code: 'unauthorized', message: 'different sub' });
  assert.equal(h2.of('error').at(-1).code, 'unauthorized');
  assert.equal(h2.room.state, 'connected');
  ws.recv({ type: 'error', code: 'forbidden', message: 'not the owner' });
  await assert.rejects(kick, { code: 'forbidden' });
  // Closed with 4004 (token expired): rejoin at once, with since and a token from the provider.
  const before = h2.sockets.length;
  ws.recv(h2.msg(7, 'Bob', 'x'));
  ws.drop(4004);
  await settle();
  assert.equal(h2.sockets.length, before + 1, 'no backoff wait');
  const ws2 = h2.sockets.at(-1);
  ws2.open();
  assert.equal(calls, 4);
  assert.equal(ws2.json()[0].since, 7);
  assert.equal(JSON.parse(Buffer.from(ws2.json()[0].token.split('.')[1], 'base64url')).n, 4);
  ws2.recv(h2.welcome([], { last_id: 7 }));
  assert.equal(h2.room.state, 'connected');
});

test("a renewal answered rate_limited is the renewal's error, not a message's", async () => {
  const h = sdk({
    room: {
      timeoutMs: 0,
      pingIntervalMs: 3_600_000,
      token: async () => jwt({ sub: 'u', exp: Math.floor(h.clock.t / 1000) + 100 }),
    },
  });
  const ws = await h.joined();
  const sent = h.room.send('waiting for its echo');
  h.clock.advance(50_000);
  await settle();
  assert.equal(ws.json().at(-1).type, 'auth');
  ws.recv({ type: 'error', code: 'rate_limited', message: 'too many joins', retry_after_ms: 900 });
  assert.equal(h.of('error').at(-1).code, 'rate_limited');
  ws.recv(h.msg(1, 'Alice', 'waiting for its echo', ws.messages()[0].nonce));
  assert.equal((await sent).id, 1);
});

test('a token refused on a reconnect is an error event and the end, not a retry loop', async () => {
  const h = sdk({ room: { token: async () => 'tok' } });
  const ws = await h.joined();
  assert.equal(ws.json()[0].token, 'tok');
  const ws2 = await h.redial();
  ws2.recv({ type: 'error', code: 'unauthorized', message: 'token expired' });
  assert.equal(h.room.state, 'failed');
  assert.equal(h.of('error').at(-1).code, 'unauthorized');
  h.clock.advance(600_000);
  await settle();
  assert.equal(h.sockets.length, 2);
});

test('a refused first join rejects connect with the protocol code and never retries', async () => {
  for (const code of ['name_taken', 'unauthorized', 'banned']) {
    const h = sdk();
    const ready = h.room.open();
    await settle();
    h.sockets[0].open();
    h.sockets[0].recv({ type: 'error', code, message: code, retry_after_ms: code === 'banned' ? 9 : undefined });
    await assert.rejects(ready, (e) => e instanceof ChatterlyError && e.code === code);
    h.clock.advance(600_000);
    await settle();
    assert.equal(h.sockets.length, 1);
  }
});

test('no reconnect after 4003 (kicked) or 4001 (replaced); pending sends reject', async () => {
  const h = sdk();
  const ws = await h.joined();
  const p = h.room.send('x');
  ws.drop(4003);
  await assert.rejects(p, { code: 'kicked' });
  assert.equal(h.room.state, 'failed');
  assert.equal(h.of('error').at(-1).code, 'kicked');
  h.clock.advance(600_000);
  await settle();
  assert.equal(h.sockets.length, 1);

  const r = sdk();
  (await r.joined()).drop(4001);
  assert.equal(r.room.state, 'replaced');
  r.clock.advance(600_000);
  await settle();
  assert.equal(r.sockets.length, 1);
});

test('close ends it: no reconnect, sends reject with closed', async () => {
  const h = sdk();
  const ws = await h.joined();
  h.room.close();
  assert.equal(ws.closedWith, 1000);
  await assert.rejects(h.room.send('x'), { code: 'closed' });
  h.clock.advance(600_000);
  await settle();
  assert.equal(h.sockets.length, 1);
});

test('presence, typing and the unsubscribe function', async () => {
  const h = sdk();
  const ws = await h.joined();
  const seen = [];
  const off = h.room.on('join', (e) => seen.push(e.name));
  ws.recv([
    { type: 'join', name: 'Carol', at: 1 },
    { type: 'away', name: 'Bob', at: 2 },
    { type: 'typing', name: 'Carol' },
  ]);
  off();
  ws.recv({ type: 'join', name: 'Dan', at: 3 });
  assert.deepEqual(seen, ['Carol']);
  assert.deepEqual(h.room.members, ['Alice', 'Bob', 'Carol', 'Dan']);
  assert.deepEqual(h.room.away, ['Bob']);
  assert.deepEqual(h.of('typing'), [{ name: 'Carol' }]);
  ws.recv({ type: 'leave', name: 'bob', at: 4 });
  assert.deepEqual(h.room.members, ['Alice', 'Carol', 'Dan']);
  assert.equal(h.room.typing(), true);
  assert.equal(h.room.typing(), false, 'at most one typing frame every 2 s');
  h.clock.advance(2000);
  assert.equal(h.room.typing(), true);
});

test('history() pages older messages, newest page first, until a short page', async () => {
  const pages = [
    Array.from({ length: 100 }, (_, i) => ({ id: 101 + i, name: 'Bob', text: `m${101 + i}`, at: 1 })),
    [{ id: 7, name: 'Bob', text: 'm7', at: 1 }],
  ];
  const h = sdk({ fetch: () => jsonResponse(200, { messages: pages.shift() ?? [] }) });
  await h.joined([h.msg(300, 'Bob', 'newest')]);
  const got = [];
  for await (const page of h.room.history()) got.push(page.map((m) => m.id));
  assert.equal(got.length, 2);
  assert.equal(got[0][0], 101);
  assert.deepEqual(got[1], [7]);
  assert.match(h.fetches[0], /messages\?before=300&limit=100$/);
  assert.match(h.fetches[1], /messages\?before=101&limit=100$/);
});

test('batches are frames in order; connect() needs url and room', () => {
  assert.deepEqual(framesOf('[{"type":"a"},1,{"type":"b"}]'), [{ type: 'a' }, { type: 'b' }]);
  assert.deepEqual(framesOf('pong'), []);
  assert.throws(() => connect({ room: 'x' }), TypeError);
});

test('a token provider that fails on a rejoin is retried with backoff; on the first join it rejects', async () => {
  let up = true;
  const h = sdk({
    room: {
      token: async () => {
        if (!up) throw new Error('offline');
        return 'tok';
      },
    },
  });
  const ws = await h.joined();
  up = false;
  ws.drop();
  h.clock.advance(10_000);
  await settle();
  assert.equal(h.of('error').at(-1).code, 'token_failed');
  assert.equal(h.room.state, 'waiting');
  assert.equal(h.sockets.length, 1);
  up = true;
  h.clock.advance(10_000);
  await settle();
  assert.equal(h.sockets.length, 2);
  assert.equal(h.sockets[1].url.includes('/api/rooms/lobby/websocket'), true);

  const first = sdk({
    room: {
      token: async () => {
        throw new Error('no session');
      },
    },
  });
  await assert.rejects(first.room.open(), { code: 'token_failed' });
});

test('the kicked frame before 4003: the error and the failed state say who, where and until when', async () => {
  const h = sdk();
  const ws = await h.joined();
  const now = h.clock.now();
  ws.recv({ type: 'kicked', room: 'lobby', title: 'Q3 planning', name: 'Carol', at: 1, retry_after_ms: 600_000 });
  ws.drop(4003);
  await settle();
  const err = h.of('error').at(-1);
  assert.equal(err.code, 'kicked');
  assert.equal(err.by, 'Carol');
  assert.equal(err.title, 'Q3 planning');
  assert.equal(err.until, now + 600_000);
  assert.equal(err.message, 'Carol removed you from the room.');
  const failed = h.of('state').at(-1);
  assert.deepEqual([failed.state, failed.by, failed.until], ['failed', 'Carol', now + 600_000]);
});
