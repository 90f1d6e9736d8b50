// The connection to a room (public/js/connection.js) with a scripted socket and a manual clock:
// reconnect and backoff, batches, de-duplication, pending messages and their errors, keepalive,
// typing, gaps and older pages. The browser tests cover the same paths against the real server;
// these pin the edge cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OLDER_RETRY_MS, sessionTag } from '../../public/js/connection.js';
import { harness, jsonResponse, settle } from './fakes.mjs';

test('joins with the session, then resumes with since and never shows a message twice', () => {
  const h = harness();
  h.conn.connect();
  const ws = h.sockets[0];
  assert.equal(ws.url, `ws://127.0.0.1:1234/api/rooms/lobby/websocket?tag=${sessionTag('s'.repeat(32))}`);
  ws.open();
  assert.deepEqual(ws.json()[0], { type: 'join', name: 'Alice', session: 's'.repeat(32) });
  ws.recv(h.welcome([h.msg(1, 'Bob', 'a'), h.msg(2, 'Bob', 'b')]));
  assert.equal(h.conn.state, 'connected');
  ws.recv(h.msg(3, 'Bob', 'c'));
  ws.recv(h.msg(3, 'Bob', 'c'));
  ws.recv('pong');
  ws.recv('not json');
  ws.recv({ type: 'something_new', x: 1 });
  assert.deepEqual(
    h.of('message').map((e) => e.message.id),
    [1, 2, 3],
  );

  ws.drop(1006);
  assert.equal(h.conn.state, 'waiting');
  h.clock.advance(h.conn.retryAt - h.clock.t);
  const ws2 = h.sockets[1];
  ws2.open();
  assert.deepEqual(ws2.json()[0], { type: 'join', name: 'Alice', session: 's'.repeat(32), since: 3 });
  ws2.recv(h.welcome([h.msg(3, 'Bob', 'c'), h.msg(4, 'Bob', 'd')], { members: ['Bob', 'Alice'] }));
  assert.deepEqual(
    h.of('message').map((e) => e.message.id),
    [1, 2, 3, 4],
  );
  assert.deepEqual(h.of('members').at(-1).members, ['Bob', 'Alice']);
  assert.equal(h.of('welcome').at(-1).first, false);
});

test('backoff delays grow while the server stays away, and reset after a welcome', () => {
  const h = harness();
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv(h.welcome());
  h.sockets[0].drop();
  const delays = [];
  for (let i = 0; i < 6; i += 1) {
    delays.push(h.conn.retryAt - h.clock.t);
    h.clock.advance(h.conn.retryAt - h.clock.t);
    h.sockets.at(-1).drop(); // never opens
  }
  // Full jitter (random() is 0.5 here): half of 500, 1000, 2000, … capped at 10 s.
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 5000]);
  h.clock.advance(h.conn.retryAt - h.clock.t);
  h.sockets.at(-1).open();
  h.sockets.at(-1).recv(h.welcome());
  h.sockets.at(-1).drop();
  assert.equal(h.conn.retryAt - h.clock.t, 250);
});

test('close code 4001 (replaced by another tab) and a deliberate leave do not reconnect', () => {
  const h = harness();
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv(h.welcome());
  h.sockets[0].drop(4001);
  assert.equal(h.conn.state, 'replaced');
  h.clock.advance(60_000);
  assert.equal(h.sockets.length, 1);
  h.conn.retryHistory(); // back online or back to the tab: never a takeover
  assert.equal(h.sockets.length, 1);
  h.conn.retryNow(); // "Use here"
  assert.equal(h.sockets.length, 2);
  h.sockets[1].open();
  h.sockets[1].recv(h.welcome());
  h.conn.leave();
  assert.equal(h.sockets[1].closedWith, 1000);
  h.clock.advance(60_000);
  assert.equal(h.sockets.length, 2);
  assert.equal(h.conn.state, 'closed');
});

test('pending messages: confirmed by echo, found in history after a drop, or resent', async () => {
  const h = harness();
  h.conn.connect();
  const ws = h.sockets[0];
  ws.open();
  ws.recv(h.welcome());
  const a = h.conn.send('first');
  const b = h.conn.send('second');
  const c = h.conn.send('third');
  assert.deepEqual(
    ws
      .json()
      .slice(1)
      .map((f) => f.nonce),
    [a.nonce, b.nonce, c.nonce],
  );
  ws.recv(h.msg(10, 'Alice', 'first', a.nonce));
  await settle();
  assert.deepEqual(
    h.of('sent').map((e) => e.item.nonce),
    [a.nonce],
  );
  // The echo of "second" was stored but the socket dropped before it arrived; "third" was lost.
  ws.drop();
  const d = h.conn.send('while away');
  h.clock.advance(h.conn.retryAt - h.clock.t);
  const ws2 = h.sockets[1];
  ws2.open();
  assert.equal(ws2.json().length, 1, 'nothing is sent before the welcome');
  ws2.recv(h.welcome([h.msg(11, 'Alice', 'second', b.nonce)]));
  await settle();
  assert.deepEqual(
    h.of('sent').map((e) => e.item.nonce),
    [a.nonce, b.nonce],
  );
  assert.deepEqual(
    ws2
      .json()
      .slice(1)
      .map((f) => [f.text, f.nonce]),
    [
      ['third', c.nonce],
      ['while away', d.nonce],
    ],
  );
  ws2.recv(h.msg(12, 'Alice', 'third', c.nonce));
  ws2.recv(h.msg(13, 'Alice', 'while away', d.nonce));
  assert.equal(h.conn.pending.length, 0);
  assert.deepEqual(
    h.of('message').map((e) => [e.message.id, e.own]),
    [
      [10, true],
      [11, true],
      [12, true],
      [13, true],
    ],
  );
});

test('rate_limited and invalid_message reject the oldest unanswered message, in order', async () => {
  const h = harness();
  h.conn.connect();
  const ws = h.sockets[0];
  ws.open();
  ws.recv(h.welcome());
  const a = h.conn.send('ok');
  const b = h.conn.send('too fast');
  const c = h.conn.send('bad');
  ws.recv(h.msg(1, 'Alice', 'ok', a.nonce));
  ws.recv({ type: 'error', code: 'rate_limited', message: 'slow down', retry_after_ms: 800 });
  ws.recv({ type: 'error', code: 'invalid_message', message: 'nope' });
  await settle();
  const rejected = h.of('rejected');
  assert.deepEqual(
    rejected.map((e) => [e.item.nonce, e.code]),
    [
      [b.nonce, 'rate_limited'],
      [c.nonce, 'invalid_message'],
    ],
  );
  assert.equal(rejected[0].retryAfterMs, 800);
  assert.equal(h.conn.pending.length, 0);
  assert.equal(h.conn.state, 'connected', 'the socket stays usable after an error');
});

test('join errors end the connection with a failure', () => {
  for (const code of ['name_taken', 'invalid_name', 'room_full']) {
    const h = harness();
    h.conn.connect();
    h.sockets[0].open();
    h.sockets[0].recv({ type: 'error', code, message: code });
    assert.deepEqual(
      h.of('failure').map((e) => e.code),
      [code],
    );
    assert.equal(h.conn.state, 'failed');
    h.clock.advance(60_000);
    assert.equal(h.sockets.length, 1);
  }
});

test('a refused upgrade is explained by the HTTP error body (invalid_room)', async () => {
  const h = harness({
    fetch: async () => ({
      status: 400,
      ok: false,
      json: async () => ({ error: { code: 'invalid_room', message: 'bad room' } }),
    }),
  });
  h.conn.connect();
  h.sockets[0].drop(1006);
  await settle();
  assert.deepEqual(
    h.of('failure').map((e) => e.code),
    ['invalid_room'],
  );
  assert.match(h.fetches[0], /\/api\/rooms\/lobby\/stats$/);
});

test('keepalive: ping every interval, pong ignored, silence means reconnect', () => {
  const h = harness({ conn: { pingIntervalMs: 25_000, pongTimeoutMs: 10_000 } });
  h.conn.connect();
  const ws = h.sockets[0];
  ws.open();
  ws.recv(h.welcome());
  h.clock.advance(25_000);
  assert.equal(ws.sent.at(-1), 'ping');
  ws.recv('pong');
  h.clock.advance(25_000);
  assert.equal(ws.sent.filter((s) => s === 'ping').length, 2);
  h.clock.advance(10_000); // no pong this time
  assert.equal(h.conn.state, 'waiting');
  assert.equal(ws.closedWith, 4000);
});

test('typing is sent at most once per 2 s, and again soon after a message', () => {
  const h = harness();
  h.conn.connect();
  const ws = h.sockets[0];
  ws.open();
  ws.recv(h.welcome());
  const typings = () => ws.sent.filter((s) => s === '{"type":"typing"}').length;
  h.conn.typing();
  h.clock.advance(500);
  h.conn.typing();
  h.clock.advance(500);
  h.conn.typing();
  assert.equal(typings(), 1);
  h.clock.advance(1000);
  h.conn.typing();
  assert.equal(typings(), 2);
  h.conn.send('done');
  h.clock.advance(100);
  h.conn.typing(); // too soon: goes out once the window opens
  assert.equal(typings(), 2);
  h.clock.advance(2000);
  assert.equal(typings(), 3);
  ws.recv({ type: 'typing', name: 'Bob' });
  assert.deepEqual(
    h.of('typing').map((e) => e.name),
    ['Bob'],
  );
});

test('join and leave keep the member list', () => {
  const h = harness();
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv(h.welcome([], { members: ['Alice'] }));
  h.sockets[0].recv({ type: 'join', name: 'Bob', at: 5 });
  h.sockets[0].recv({ type: 'join', name: 'Carol', at: 6 });
  h.sockets[0].recv({ type: 'leave', name: 'Bob', at: 7 });
  assert.deepEqual(h.conn.r.members, ['Alice', 'Carol']);
  assert.deepEqual(
    h.of('join').map((e) => e.name),
    ['Bob', 'Carol'],
  );
  assert.deepEqual(
    h.of('leave').map((e) => e.name),
    ['Bob'],
  );
});

test('truncated history after a long absence is filled from the history endpoint', async () => {
  // Every event after `after`, oldest first, 100 at most (the room's last id is 350).
  const page = (after) =>
    Array.from({ length: 100 }, (_, i) => ({ id: after + 1 + i, name: 'Bob', text: `m${after + 1 + i}`, at: 1 }));
  const h = harness({
    fetch: async (url) => {
      const after = Number(new URL(url).searchParams.get('after'));
      return { ok: true, status: 200, json: async () => ({ messages: page(after).filter((m) => m.id <= 350) }) };
    },
  });
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv(h.welcome([h.msg(5, 'Bob', 'm5')]));
  h.sockets[0].drop();
  h.clock.advance(h.conn.retryAt - h.clock.t);
  h.sockets[1].open();
  const history = Array.from({ length: 100 }, (_, i) => h.msg(251 + i, 'Bob', `m${251 + i}`));
  h.sockets[1].recv(h.welcome(history, { truncated: true }));
  await settle();
  const ids = h
    .of('message')
    .map((e) => e.message.id)
    .sort((x, y) => x - y);
  assert.equal(ids.length, 350 - 5 + 1);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids[0], 5);
  assert.equal(ids.at(-1), 350);
});

test('a socket that opens but is never welcomed is dropped and retried', async () => {
  const h = harness({ conn: { joinTimeoutMs: 15_000 } });
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv(h.welcome());
  h.sockets[0].drop();
  h.clock.advance(h.conn.retryAt - h.clock.t);
  h.sockets[1].open(); // silence after this
  h.clock.advance(14_999);
  assert.equal(h.conn.state, 'connecting');
  h.clock.advance(1);
  assert.equal(h.conn.state, 'waiting');
  assert.equal(h.sockets[1].closedWith, 4000);
  // The very first join gives up instead, with a message for the join screen.
  const first = harness({ conn: { joinTimeoutMs: 15_000 } });
  first.conn.connect();
  first.sockets[0].open();
  first.clock.advance(15_000);
  await settle();
  assert.deepEqual(
    first.of('failure').map((e) => e.code),
    ['unreachable'],
  );
});

test('a batch (JSON array) is handled as its frames in order, like the same frames one by one', () => {
  const frames = (h) => [
    h.msg(1, 'Bob', 'a'),
    { type: 'join', name: 'Carol', at: 2 },
    h.msg(2, 'Carol', 'b'),
    { type: 'typing', name: 'Carol' },
    { type: 'leave', name: 'Bob', at: 3 },
    h.msg(2, 'Carol', 'b'),
  ];
  const record = (h) => h.events.filter((e) => e.type !== 'state').map((e) => [e.type, e.message?.id ?? e.name ?? '']);
  const single = harness();
  const ws1 = single.joined();
  for (const f of frames(single)) ws1.recv(f);
  const batched = harness();
  const ws2 = batched.joined();
  ws2.recv(frames(batched));
  assert.deepEqual(record(batched), record(single));
  assert.deepEqual(
    batched.of('message').map((e) => e.message.id),
    [1, 2],
  );
  assert.deepEqual(batched.conn.r.members, ['Alice', 'Carol']);
});

test('a welcome at the head of a batch is followed by the rest of the batch', () => {
  const h = harness();
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv([h.welcome([h.msg(1, 'Bob', 'a')]), h.msg(2, 'Bob', 'b'), { type: 'join', name: 'Dan', at: 1 }]);
  assert.equal(h.conn.state, 'connected');
  assert.deepEqual(
    h.of('message').map((e) => [e.message.id, e.live]),
    [
      [1, false],
      [2, true],
    ],
  );
  assert.deepEqual(h.conn.r.members, ['Alice', 'Bob', 'Dan']);
});

test('errors name their message by nonce: storage_failed and rate_limited reject the right one', async () => {
  const h = harness();
  const ws = h.joined();
  const a = h.conn.send('one');
  const b = h.conn.send('two');
  const c = h.conn.send('three');
  // Out of send order, as a batch that failed to store might answer.
  ws.recv([
    { type: 'error', code: 'storage_failed', message: 'could not store', nonce: b.nonce },
    { type: 'error', code: 'rate_limited', message: 'slow', retry_after_ms: 1200, nonce: c.nonce },
  ]);
  await settle();
  assert.deepEqual(
    h.of('rejected').map((e) => [e.item.text, e.code]),
    [
      ['two', 'storage_failed'],
      ['three', 'rate_limited'],
    ],
  );
  assert.equal(h.of('rejected')[1].retryAfterMs, 1200);
  // "one" is still waiting for its echo, and gets it.
  assert.deepEqual(
    h.conn.pending.map((p) => p.nonce),
    [a.nonce],
  );
  ws.recv(h.msg(7, 'Alice', 'one', a.nonce));
  await settle();
  assert.deepEqual(
    h.of('sent').map((e) => e.item.text),
    ['one'],
  );
  assert.equal(h.conn.pending.length, 0);
});

test('an error without a nonce falls back to the oldest unanswered message; an unknown nonce is a notice', async () => {
  const h = harness();
  const ws = h.joined();
  const a = h.conn.send('one');
  h.conn.send('two');
  ws.recv({ type: 'error', code: 'storage_failed', message: 'x' });
  await settle();
  assert.deepEqual(
    h.of('rejected').map((e) => e.item.nonce),
    [a.nonce],
  );
  ws.recv({ type: 'error', code: 'rate_limited', message: 'y', nonce: 'not-ours' });
  assert.deepEqual(
    h.of('notice').map((e) => e.code),
    ['rate_limited'],
  );
  assert.equal(h.conn.pending.length, 1);
});

test('close code 4002 (idle) reconnects like any drop, and resumes with since', () => {
  const h = harness();
  h.joined([h.msg(4, 'Bob', 'x')]);
  h.sockets[0].drop(4002);
  assert.equal(h.conn.state, 'waiting');
  h.clock.advance(h.conn.retryAt - h.clock.t);
  assert.equal(h.sockets.length, 2);
  h.sockets[1].open();
  assert.equal(h.sockets[1].json()[0].since, 4);
});

test('address_limit refuses the join for good; rate_limited fails a first join but only delays a rejoin', () => {
  for (const code of ['address_limit', 'rate_limited']) {
    const h = harness();
    h.conn.connect();
    h.sockets[0].open();
    h.sockets[0].recv({ type: 'error', code, message: code, retry_after_ms: 30_000 });
    assert.deepEqual(
      h.of('failure').map((e) => e.code),
      [code],
    );
    assert.equal(h.conn.state, 'failed');
  }
  const h = harness();
  h.joined();
  const next = h.reconnect();
  next.open();
  next.recv({ type: 'error', code: 'rate_limited', message: 'too many joins', retry_after_ms: 30_000 });
  assert.equal(h.conn.state, 'waiting');
  assert.equal(next.closedWith, 4000);
  assert.equal(h.conn.retryAt - h.clock.t, 30_000, 'waits at least retry_after_ms');
  assert.equal(h.of('failure').length, 0);
});

test('a gap that cannot be filled is reported, retried with backoff, and filled later', async () => {
  let up = false;
  const h = harness({
    fetch: async (url) => {
      if (!up) return jsonResponse(503, { error: { code: 'unavailable' } });
      const after = Number(new URL(url).searchParams.get('after'));
      const ids = [];
      for (let id = after + 1; id <= Math.min(200, after + 100); id += 1) ids.push(id);
      return jsonResponse(200, { messages: ids.map((id) => ({ id, name: 'Bob', text: `m${id}`, at: 1 })) });
    },
  });
  h.joined([h.msg(5, 'Bob', 'm5')]);
  const ws2 = h.reconnect();
  ws2.open();
  ws2.recv(h.welcome([h.msg(200, 'Bob', 'm200')], { truncated: true }));
  await settle();
  const gaps = h.of('gap');
  assert.equal(gaps.length, 1);
  assert.equal(gaps[0].state, 'retrying');
  const firstDelay = gaps[0].retryAt - h.clock.t;
  assert.ok(firstDelay >= 500 && firstDelay <= 1000, `first retry after ${firstDelay} ms`);
  // Still down: the next retry waits longer.
  h.clock.advance(firstDelay);
  await settle();
  const secondDelay = h.of('gap')[1].retryAt - h.clock.t;
  assert.ok(secondDelay > firstDelay, `${secondDelay} > ${firstDelay}`);
  up = true;
  h.clock.advance(secondDelay);
  await settle();
  assert.equal(h.of('gap').at(-1).state, 'filled');
  const ids = h.of('message').map((e) => e.message.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(
    [...ids].sort((a, b) => a - b),
    Array.from({ length: 196 }, (_, i) => i + 5),
  );
  h.clock.advance(120_000);
  await settle();
  assert.equal(h.of('gap').length, 3, 'no retries after the gap is filled');
});

test('while a gap is open, a message that went out before is held back; a new one is sent', async () => {
  let up = false;
  const h = harness({
    fetch: async () =>
      up
        ? jsonResponse(200, { messages: [{ id: 50, name: 'Alice', text: 'maybe stored', at: 1, nonce: held.nonce }] })
        : jsonResponse(500, {}),
  });
  const ws = h.joined([h.msg(5, 'Bob', 'm5')]);
  const held = h.conn.send('maybe stored');
  assert.equal(ws.messages().length, 1);
  const ws2 = h.reconnect();
  const fresh = h.conn.send('written while away');
  ws2.open();
  ws2.recv(h.welcome([h.msg(200, 'Bob', 'm200')], { truncated: true }));
  await settle();
  assert.deepEqual(
    ws2.messages().map((f) => f.text),
    ['written while away'],
  );
  up = true;
  h.clock.advance(h.of('gap')[0].retryAt - h.clock.t);
  await settle();
  // Its echo was in the gap: confirmed, not sent twice.
  assert.deepEqual(
    h.of('sent').map((e) => e.item.text),
    ['maybe stored'],
  );
  assert.deepEqual(
    ws2.messages().map((f) => f.text),
    ['written while away'],
  );
  assert.deepEqual(
    h.conn.pending.map((p) => p.nonce),
    [fresh.nonce],
  );
});

test('a held message whose echo is not in the filled gap is sent again', async () => {
  let up = false;
  const h = harness({ fetch: async () => (up ? jsonResponse(200, { messages: [] }) : jsonResponse(500, {})) });
  h.joined([h.msg(5, 'Bob', 'm5')]);
  h.conn.send('lost');
  const ws2 = h.reconnect();
  ws2.open();
  ws2.recv(h.welcome([h.msg(200, 'Bob', 'm200')], { truncated: true }));
  await settle();
  assert.equal(ws2.messages().length, 0);
  up = true;
  h.clock.advance(h.of('gap')[0].retryAt - h.clock.t);
  await settle();
  assert.deepEqual(
    ws2.messages().map((f) => f.text),
    ['lost'],
  );
});

test('older pages load below the oldest shown message until the start of the history', async () => {
  const stored = Array.from({ length: 160 }, (_, i) => ({
    id: i + 1,
    name: i % 2 ? 'Alice' : 'Bob',
    text: `m${i + 1}`,
    at: 1,
  }));
  const h = harness({
    fetch: async (url) => {
      const q = new URL(url).searchParams;
      const before = Number(q.get('before'));
      const limit = Number(q.get('limit'));
      return jsonResponse(200, { messages: stored.filter((m) => m.id < before).slice(-limit) });
    },
  });
  h.joined(stored.slice(-100).map((m) => ({ type: 'message', ...m })));
  assert.equal(h.conn.shown.hasOlder, true);
  assert.equal(await h.conn.loadOlder(), true);
  const first = h.of('older')[0];
  assert.deepEqual(
    first.messages.map((m) => m.message.id),
    Array.from({ length: 50 }, (_, i) => i + 11),
  );
  assert.equal(first.messages[0].own, false);
  assert.equal(first.messages[1].own, true);
  assert.equal(first.hasOlder, true);
  await h.conn.loadOlder();
  assert.deepEqual(
    h.of('older')[1].messages.map((m) => m.message.id),
    Array.from({ length: 10 }, (_, i) => i + 1),
  );
  assert.equal(h.of('older')[1].hasOlder, false);
  assert.equal(await h.conn.loadOlder(), false, 'nothing older is left');
  assert.match(h.fetches[0], /\/api\/rooms\/lobby\/messages\?before=61&limit=50$/);
  // None of them came as a live or history message.
  assert.equal(h.of('message').length, 100);
});

test('a room with a short welcome history has nothing older; a failed page is reported', async () => {
  const h = harness({ fetch: async () => jsonResponse(500, {}) });
  h.joined([h.msg(1, 'Bob', 'a'), h.msg(2, 'Bob', 'b')]);
  assert.equal(await h.conn.loadOlder(), false);
  assert.equal(h.fetches.length, 0);
  // After the list dropped its oldest messages, they can be loaded again.
  h.conn.forget([1]);
  assert.equal(h.conn.shown.floor, 2);
  assert.equal(await h.conn.loadOlder(), false);
  assert.ok(h.of('older')[0].error);
  // Scrolling on does not hammer the server: the next try waits a moment.
  assert.equal(await h.conn.loadOlder(), false);
  assert.equal(h.fetches.length, 1);
  h.clock.advance(OLDER_RETRY_MS);
  await h.conn.loadOlder();
  assert.equal(h.fetches.length, 2);
});

test('messages the list dropped are not shown again when a rejoin replays them', () => {
  const h = harness();
  const ws = h.joined([h.msg(1, 'Bob', 'a'), h.msg(2, 'Bob', 'b'), h.msg(3, 'Bob', 'c')]);
  h.conn.forget([1, 2]);
  assert.equal(h.conn.shown.size, 1);
  ws.recv(h.msg(2, 'Bob', 'b'));
  ws.recv(h.msg(4, 'Bob', 'd'));
  assert.deepEqual(
    h.of('message').map((e) => e.message.id),
    [1, 2, 3, 4],
  );
});

test('the session tag is short, stable and not the session', () => {
  const session = '0123456789abcdef0123456789abcdef';
  assert.match(sessionTag(session), /^[0-9a-f]{8}$/);
  assert.equal(sessionTag(session), sessionTag(session));
  assert.notEqual(sessionTag(session), sessionTag(`${session}x`));
  assert.ok(!session.includes(sessionTag(session)));
});
