// Fast checks of the client's connection logic (public/js/connection.js) with a scripted socket
// and a manual clock: reconnect and backoff, de-duplication, pending messages, keepalive, typing.
// The browser tests cover the same paths against the real server; these pin the edge cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';

// public/js/*.js are browser ES modules with no package.json "type" beside them: Node detects the
// syntax and warns once per file. The warning is noise here, so it is filtered for these imports.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'MODULE_TYPELESS_PACKAGE_JSON') return;
  emitWarning.call(process, warning, ...rest);
};
const { ChatConnection, backoffDelay } = await import('../../public/js/connection.js');
const { roomFromLocation, typingText, nameProblem, textProblem } = await import('../../public/js/util.js');
process.emitWarning = emitWarning;

class Clock {
  constructor() { this.t = 1_000_000; this.timers = new Map(); this.next = 1; }
  now = () => this.t;
  setTimeout = (fn, ms) => { const id = this.next++; this.timers.set(id, { at: this.t + ms, fn }); return id; };
  clearTimeout = (id) => { this.timers.delete(id); };
  setInterval = (fn, ms) => { const id = this.next++; this.timers.set(id, { at: this.t + ms, fn, every: ms }); return id; };
  clearInterval = (id) => { this.timers.delete(id); };
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let best = null;
      for (const [id, tm] of this.timers) if (tm.at <= end && (!best || tm.at < best[1].at)) best = [id, tm];
      if (!best) break;
      const [id, tm] = best;
      this.t = tm.at;
      if (tm.every) tm.at += tm.every; else this.timers.delete(id);
      tm.fn();
    }
    this.t = end;
  }
}

function harness(opts = {}) {
  const clock = new Clock();
  const sockets = [];
  class FakeSocket {
    constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
    send(d) { this.sent.push(d); }
    close(code = 1000) { this.readyState = 3; this.closedWith = code; }
    open() { this.readyState = 1; this.onopen?.(); }
    recv(obj) { this.onmessage?.({ data: typeof obj === 'string' ? obj : JSON.stringify(obj) }); }
    drop(code = 1006) { this.readyState = 3; this.onclose?.({ code }); }
    json() { return this.sent.filter((s) => s.startsWith('{')).map((s) => JSON.parse(s)); }
  }
  const fetches = [];
  const conn = new ChatConnection({
    room: 'lobby', name: 'Alice', session: 's'.repeat(32), origin: 'http://127.0.0.1:1234',
    WebSocketImpl: FakeSocket, timers: clock, now: clock.now, random: () => 0.5,
    fetchImpl: async (url) => { fetches.push(url); return opts.fetch ? opts.fetch(url) : { status: 200, ok: true, json: async () => ({}) }; },
    ...opts.conn,
  });
  const events = [];
  for (const type of ['state', 'welcome', 'message', 'members', 'join', 'leave', 'typing', 'pending', 'sent', 'rejected', 'failure', 'notice']) {
    conn.addEventListener(type, (e) => events.push({ type, ...e.detail }));
  }
  const of = (type) => events.filter((e) => e.type === type);
  const msg = (id, name, text, nonce) => ({ type: 'message', id, name, text, at: 1, ...(nonce ? { nonce } : {}) });
  const welcome = (history = [], extra = {}) => ({ type: 'welcome', room: 'lobby', name: 'Alice', members: ['Alice', 'Bob'], history, truncated: false, last_id: history.at(-1)?.id ?? 0, ...extra });
  return { clock, sockets, conn, events, of, msg, welcome, fetches };
}

const tick = () => new Promise((r) => setImmediate(r));

test('backoff grows from about 0.5 s to 10 s with jitter', () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
  assert.equal(backoffDelay(0, { random: () => 1 }), 500);
  assert.equal(backoffDelay(3, { random: () => 1 }), 4000);
  for (let i = 5; i < 50; i += 1) {
    const d = backoffDelay(i, { random: Math.random });
    assert.ok(d >= 5000 && d <= 10000, `attempt ${i}: ${d}`);
  }
});

test('joins with the session, then resumes with since and never shows a message twice', () => {
  const h = harness();
  h.conn.connect();
  const ws = h.sockets[0];
  assert.equal(ws.url, 'ws://127.0.0.1:1234/api/rooms/lobby/websocket');
  ws.open();
  assert.deepEqual(ws.json()[0], { type: 'join', name: 'Alice', session: 's'.repeat(32) });
  ws.recv(h.welcome([h.msg(1, 'Bob', 'a'), h.msg(2, 'Bob', 'b')]));
  assert.equal(h.conn.state, 'connected');
  ws.recv(h.msg(3, 'Bob', 'c'));
  ws.recv(h.msg(3, 'Bob', 'c'));
  ws.recv('pong');
  ws.recv('not json');
  ws.recv({ type: 'something_new', x: 1 });
  assert.deepEqual(h.of('message').map((e) => e.message.id), [1, 2, 3]);

  ws.drop(1006);
  assert.equal(h.conn.state, 'waiting');
  h.clock.advance(h.conn.retryAt - h.clock.t);
  const ws2 = h.sockets[1];
  ws2.open();
  assert.deepEqual(ws2.json()[0], { type: 'join', name: 'Alice', session: 's'.repeat(32), since: 3 });
  ws2.recv(h.welcome([h.msg(3, 'Bob', 'c'), h.msg(4, 'Bob', 'd')], { members: ['Bob', 'Alice'] }));
  assert.deepEqual(h.of('message').map((e) => e.message.id), [1, 2, 3, 4]);
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
  assert.deepEqual(delays, [375, 750, 1500, 3000, 6000, 7500]);
  h.clock.advance(h.conn.retryAt - h.clock.t);
  h.sockets.at(-1).open();
  h.sockets.at(-1).recv(h.welcome());
  h.sockets.at(-1).drop();
  assert.equal(h.conn.retryAt - h.clock.t, 375);
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

test('pending messages: confirmed by echo, found in history after a drop, or resent', () => {
  const h = harness();
  h.conn.connect();
  const ws = h.sockets[0];
  ws.open();
  ws.recv(h.welcome());
  const a = h.conn.send('first');
  const b = h.conn.send('second');
  const c = h.conn.send('third');
  assert.deepEqual(ws.json().slice(1).map((f) => f.nonce), [a.nonce, b.nonce, c.nonce]);
  ws.recv(h.msg(10, 'Alice', 'first', a.nonce));
  assert.deepEqual(h.of('sent').map((e) => e.item.nonce), [a.nonce]);
  // The echo of "second" was stored but the socket dropped before it arrived; "third" was lost.
  ws.drop();
  const d = h.conn.send('while away');
  h.clock.advance(h.conn.retryAt - h.clock.t);
  const ws2 = h.sockets[1];
  ws2.open();
  assert.equal(ws2.json().length, 1, 'nothing is sent before the welcome');
  ws2.recv(h.welcome([h.msg(11, 'Alice', 'second', b.nonce)]));
  assert.deepEqual(h.of('sent').map((e) => e.item.nonce), [a.nonce, b.nonce]);
  assert.deepEqual(ws2.json().slice(1).map((f) => [f.text, f.nonce]), [['third', c.nonce], ['while away', d.nonce]]);
  ws2.recv(h.msg(12, 'Alice', 'third', c.nonce));
  ws2.recv(h.msg(13, 'Alice', 'while away', d.nonce));
  assert.equal(h.conn.pending.size, 0);
  assert.deepEqual(h.of('message').map((e) => [e.message.id, e.own]), [[10, true], [11, true], [12, true], [13, true]]);
});

test('rate_limited and invalid_message reject the oldest unanswered message, in order', () => {
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
  const rejected = h.of('rejected');
  assert.deepEqual(rejected.map((e) => [e.item.nonce, e.code]), [[b.nonce, 'rate_limited'], [c.nonce, 'invalid_message']]);
  assert.equal(rejected[0].retryAfterMs, 800);
  assert.equal(h.conn.pending.size, 0);
  assert.equal(h.conn.state, 'connected', 'the socket stays usable after an error');
});

test('join errors end the connection with a failure', () => {
  for (const code of ['name_taken', 'invalid_name', 'room_full']) {
    const h = harness();
    h.conn.connect();
    h.sockets[0].open();
    h.sockets[0].recv({ type: 'error', code, message: code });
    assert.deepEqual(h.of('failure').map((e) => e.code), [code]);
    assert.equal(h.conn.state, 'failed');
    h.clock.advance(60_000);
    assert.equal(h.sockets.length, 1);
  }
});

test('a refused upgrade is explained by the HTTP error body (invalid_room)', async () => {
  const h = harness({
    fetch: async () => ({ status: 400, ok: false, json: async () => ({ error: { code: 'invalid_room', message: 'bad room' } }) }),
  });
  h.conn.connect();
  h.sockets[0].drop(1006);
  await tick();
  await tick();
  assert.deepEqual(h.of('failure').map((e) => e.code), ['invalid_room']);
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
  assert.deepEqual(h.of('typing').map((e) => e.name), ['Bob']);
});

test('join and leave keep the member list', () => {
  const h = harness();
  h.conn.connect();
  h.sockets[0].open();
  h.sockets[0].recv(h.welcome([], { members: ['Alice'] }));
  h.sockets[0].recv({ type: 'join', name: 'Bob', at: 5 });
  h.sockets[0].recv({ type: 'join', name: 'Carol', at: 6 });
  h.sockets[0].recv({ type: 'leave', name: 'Bob', at: 7 });
  assert.deepEqual(h.conn.members, ['Alice', 'Carol']);
  assert.deepEqual(h.of('join').map((e) => e.name), ['Bob', 'Carol']);
  assert.deepEqual(h.of('leave').map((e) => e.name), ['Bob']);
});

test('truncated history after a long absence is filled from the history endpoint', async () => {
  const page = (before) => Array.from({ length: 100 }, (_, i) => ({ id: before - 100 + i, name: 'Bob', text: `m${before - 100 + i}`, at: 1 }));
  const h = harness({
    fetch: async (url) => {
      const before = Number(new URL(url).searchParams.get('before'));
      return { ok: true, status: 200, json: async () => ({ messages: page(before).filter((m) => m.id > 0) }) };
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
  for (let i = 0; i < 20; i += 1) await tick();
  const ids = h.of('message').map((e) => e.message.id).sort((x, y) => x - y);
  assert.equal(ids.length, 350 - 5 + 1);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids[0], 5);
  assert.equal(ids.at(-1), 350);
});

test('room names come from the hash or the query; helpers', () => {
  assert.equal(roomFromLocation({ hash: '#Lobby', search: '' }), 'lobby');
  assert.equal(roomFromLocation({ hash: '', search: '?room=%20Team-1%20' }), 'team-1');
  assert.equal(roomFromLocation({ hash: '#a', search: '?room=b' }), 'a');
  assert.equal(roomFromLocation({ hash: '', search: '' }), '');
  assert.equal(typingText(['A']), 'A is typing…');
  assert.equal(typingText(['A', 'B']), 'A and B are typing…');
  assert.equal(typingText(['A', 'B', 'C', 'D']), 'A, B and 2 others are typing…');
  assert.equal(nameProblem('  '), 'Please enter a name.');
  assert.ok(nameProblem('a\u200bb'));
  assert.equal(nameProblem('Zoë 🎉'), '');
  assert.ok(textProblem('x'.repeat(2001)));
  assert.equal(textProblem('tab\tand\nnewline'), '');
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
  for (let i = 0; i < 5; i += 1) await tick();
  assert.deepEqual(first.of('failure').map((e) => e.code), ['unreachable']);
});
