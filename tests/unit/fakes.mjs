// Test doubles for the client modules: a manual clock with timers, and a connection harness with a
// scripted socket and fetch. Nothing here waits on real time.

import { ChatConnection } from '../../public/js/connection.js';

/** A clock whose timers fire only when `advance` moves time past them, in time order. */
export class Clock {
  constructor() {
    this.t = 1_000_000;
    this.timers = new Map();
    this.next = 1;
  }

  now = () => this.t;

  setTimeout = (fn, ms) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };

  clearTimeout = (id) => {
    this.timers.delete(id);
  };

  setInterval = (fn, ms) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn, every: ms });
    return id;
  };

  clearInterval = (id) => {
    this.timers.delete(id);
  };

  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let best = null;
      for (const [id, tm] of this.timers) if (tm.at <= end && (!best || tm.at < best[1].at)) best = [id, tm];
      if (!best) break;
      const [id, tm] = best;
      this.t = tm.at;
      if (tm.every) tm.at += tm.every;
      else this.timers.delete(id);
      tm.fn();
    }
    this.t = end;
  }
}

/** Let pending promise callbacks run (fetch answers are promises). */
export async function settle(rounds = 20) {
  for (let i = 0; i < rounds; i += 1) await new Promise((r) => setImmediate(r));
}

export const EVENTS = [
  'state',
  'welcome',
  'message',
  'older',
  'members',
  'join',
  'leave',
  'typing',
  'pending',
  'sent',
  'rejected',
  'gap',
  'failure',
  'notice',
];

/** A fetch answer with a JSON body. */
export function jsonResponse(status, body) {
  return { status, ok: status >= 200 && status < 300, json: async () => body };
}

/** A scripted WebSocket class: each socket made joins `sockets`; tests open, feed and drop it. */
export function scriptedSocket(sockets) {
  return class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(d) {
      this.sent.push(d);
    }
    close(code = 1000) {
      this.readyState = 3;
      this.closedWith = code;
    }
    open() {
      this.readyState = 1;
      this.onopen?.();
    }
    recv(obj) {
      this.onmessage?.({ data: typeof obj === 'string' ? obj : JSON.stringify(obj) });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose?.({ code });
    }
    json() {
      return this.sent.filter((s) => s.startsWith('{')).map((s) => JSON.parse(s));
    }
    messages() {
      return this.json().filter((f) => f.type === 'message');
    }
  };
}

/**
 * A ChatConnection for Alice in `lobby`, with a scripted socket class, a manual clock and a fetch
 * answered by `opts.fetch(url)`. Every event is recorded in `events`.
 */
export function harness(opts = {}) {
  const clock = new Clock();
  const sockets = [];
  const FakeSocket = scriptedSocket(sockets);
  const fetches = [];
  const conn = new ChatConnection({
    room: 'lobby',
    name: 'Alice',
    session: 's'.repeat(32),
    origin: 'http://127.0.0.1:1234',
    WebSocketImpl: FakeSocket,
    timers: clock,
    now: clock.now,
    random: () => 0.5,
    fetchImpl: async (url) => {
      fetches.push(url);
      return opts.fetch ? opts.fetch(url) : jsonResponse(200, {});
    },
    ...opts.conn,
  });
  const events = [];
  for (const type of EVENTS) conn.addEventListener(type, (e) => events.push({ type, ...e.detail }));
  const of = (type) => events.filter((e) => e.type === type);
  const msg = (id, name, text, nonce) => ({ type: 'message', id, name, text, at: 1, ...(nonce ? { nonce } : {}) });
  const welcome = (history = [], extra = {}) => ({
    type: 'welcome',
    room: 'lobby',
    name: 'Alice',
    members: ['Alice', 'Bob'],
    history,
    truncated: false,
    last_id: history.at(-1)?.id ?? 0,
    ...extra,
  });
  /** Connect, open and welcome the first socket. */
  const joined = (history = [], extra = {}) => {
    conn.connect();
    const ws = sockets.at(-1);
    ws.open();
    ws.recv(welcome(history, extra));
    return ws;
  };
  /** Drop the current socket and let the backoff timer open the next one (not yet opened). */
  const reconnect = (code = 1006) => {
    sockets.at(-1).drop(code);
    clock.advance(conn.retryAt - clock.t);
    return sockets.at(-1);
  };
  return { clock, sockets, conn, events, of, msg, welcome, fetches, joined, reconnect };
}
