// A scripted socket and fetch for the SDK (public/sdk/chatterly.js): the SDK takes WebSocket,
// fetch and timers as options, so its tests run in Node without a server or real time.

import { Room } from '../../public/sdk/chatterly.js';
import { Clock, jsonResponse, scriptedSocket, settle } from './fakes.mjs';

export { Clock, jsonResponse, settle };

export const SESSION = 's'.repeat(32);

/** A room for Alice in `lobby` over scripted sockets; `events` records every event in order. */
export function sdk(opts = {}) {
  const clock = new Clock();
  const sockets = [];
  const FakeSocket = scriptedSocket(sockets);
  const fetches = [];
  const room = new Room({
    url: 'http://127.0.0.1:1234',
    room: 'lobby',
    name: 'Alice',
    session: SESSION,
    WebSocket: FakeSocket,
    timers: clock,
    now: clock.now,
    random: () => 0.5,
    fetch: async (url) => {
      fetches.push(url);
      return opts.fetch ? opts.fetch(url) : jsonResponse(200, { messages: [] });
    },
    ...opts.room,
  });
  const events = [];
  for (const type of ['state', 'welcome', 'message', 'update', 'room', 'members', 'join', 'leave']) {
    room.on(type, (detail, meta) => events.push({ type, detail, meta }));
  }
  for (const type of ['away', 'back', 'typing', 'error', 'gap']) {
    room.on(type, (detail) => events.push({ type, detail }));
  }
  const of = (type) => events.filter((e) => e.type === type).map((e) => e.detail);
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
  /** Open the room and welcome its first socket; resolves with the open() promise's value. */
  const joined = async (history = [], extra = {}) => {
    const ready = room.open();
    await settle();
    const ws = sockets.at(-1);
    ws.open();
    ws.recv(welcome(history, extra));
    await ready;
    return ws;
  };
  /** Drop the socket, let the backoff timer dial the next one, and open it (not welcomed). */
  const redial = async (code = 1006) => {
    sockets.at(-1).drop(code);
    clock.advance(10_000);
    await settle();
    const ws = sockets.at(-1);
    ws.open();
    return ws;
  };
  return { clock, sockets, room, events, of, msg, welcome, fetches, joined, redial };
}
