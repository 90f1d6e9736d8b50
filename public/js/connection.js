// The connection to one room: join, reconnect with backoff, keepalive, and the frames in and out.
// The decisions it delegates live beside it: pending.js (our messages awaiting an answer),
// shown.js (which messages are shown), history.js (gaps and older pages), members.js, typing.js,
// message-state.js (each message's edits, tombstone and reactions), room-state.js (topic, lock).
// No DOM access: the socket, fetch, timers, clock and randomness are parameters, so it runs in
// Node against a scripted socket (tests/unit/connection.test.mjs).
//
// Events (CustomEvent, data in `detail`):
//   state    {state, retryAt?, attempt?}        'connecting' | 'connected' | 'waiting' | 'replaced' | 'closed' | 'failed'
//   welcome  {room, name, members, first, owner, readId} after every successful (re)join
//   read     {id}                               another connection of ours read up to `id`
//   message  {message, own, live}                once per message id, never twice (a MessageView)
//   update   {message, own}                      a shown message changed (edit, delete, reaction, quote)
//   room     {topic, locked, owner}              the room's topic or lock changed (also on welcome)
//   system   {text, at, kind}                    a room change to show as a line (topic, lock, kick)
//   older    {messages: [{message, own}], hasOlder} | {error}   a page loaded by loadOlder()
//   members  {members, away}                     the member list changed (replaced on welcome)
//   join     {name, at} / leave {name, at}       someone else joined / left
//   typing   {name}                              someone else is typing
//   pending  {item}                              a message of ours waits for the server's echo
//   sent     {item, message}                     the echo of a pending message arrived (or was found in history)
//   rejected {item, code, message, retryAfterMs} the server refused a pending message (it is dropped)
//   gap      {state: 'retrying', retryAt} | {state: 'filled'}   missed messages could not be loaded yet / now are
//   failure  {code, message}                     the join failed for good (name taken, kicked, …)
//   notice   {code, message, target?}            an error frame not tied to one of our messages

import { backoffDelay } from './backoff.js';
import { fetchEvents, fetchPage, GapFiller, isChange, isMessageEntry } from './history.js';
import { MemberList } from './members.js';
import { MessageStates } from './message-state.js';
import { sameName } from './names.js';
import { PendingMessages } from './pending.js';
import {
  ACTION_ERRORS,
  CLOSE_CLIENT_TIMEOUT,
  CLOSE_KICKED,
  CLOSE_NORMAL,
  CLOSE_REPLACED,
  framesOf,
  isMessage,
  JOIN_ERRORS,
  MESSAGE_ERRORS,
} from './protocol.js';
import { changeText, isRoomChange, RoomState } from './room-state.js';
import { OLDER_PAGE, ShownIds } from './shown.js';
import { TypingSender } from './typing.js';
import { randomHex } from './util.js';

export { backoffDelay };

/** After a page of older messages failed, wait this long before scrolling asks again. */
export const OLDER_RETRY_MS = 2000;

/** Make a per-tab session secret (32 hex characters from crypto.getRandomValues). */
export function makeSession(cryptoImpl = globalThis.crypto) {
  return randomHex(16, cryptoImpl);
}

export class ChatConnection extends EventTarget {
  /**
   * @param {object} o
   * @param {string} o.room       normalized room name
   * @param {string} o.name       the name to join with
   * @param {string} o.session    per-tab secret (16–128 printable ASCII)
   * @param {string} o.origin     e.g. "http://127.0.0.1:8787"
   * @param {string} [o.ownerKey] the room's owner key (64 hex), sent with every join
   */
  constructor({
    room,
    name,
    session,
    origin,
    ownerKey = '',
    WebSocketImpl = globalThis.WebSocket,
    fetchImpl = globalThis.fetch?.bind(globalThis),
    timers = globalThis,
    now = () => Date.now(),
    random = Math.random,
    cryptoImpl = globalThis.crypto,
    pingIntervalMs = 25000,
    pongTimeoutMs = 10000,
    joinTimeoutMs = 15000,
    backoff = { base: 500, max: 10000 },
    historyBackoff = { base: 1000, max: 30000 },
  }) {
    super();
    this.room = room;
    this.name = name;
    this.session = session;
    this.ownerKey = ownerKey;
    this.origin = origin.replace(/\/$/, '');
    this.WebSocketImpl = WebSocketImpl;
    this.fetchImpl = fetchImpl;
    this.timers = timers;
    this.now = now;
    this.random = random;
    this.pingIntervalMs = pingIntervalMs;
    this.pongTimeoutMs = pongTimeoutMs;
    this.joinTimeoutMs = joinTimeoutMs;
    this.backoff = backoff;

    this.state = 'idle';
    this.ws = null;
    this.opened = false; // this socket opened
    this.welcomed = false; // this socket got its welcome
    this.joinedOnce = false; // some socket got a welcome: later joins send `since`
    this.attempt = 0;
    this.retryAt = 0;
    this.retryTimer = null;
    this.joinTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.loadingOlder = false;
    this.olderRetryAt = 0; // after a failed page, scrolling does not ask again before this

    this.shown = new ShownIds();
    this.pending = new PendingMessages({ cryptoImpl });
    this.members = new MemberList();
    this.states = new MessageStates();
    this.roomState = new RoomState();
    this.typingSender = new TypingSender({ send: () => this.rawSend('{"type":"typing"}'), timers, now });
    const page = (before, limit) =>
      fetchPage({ origin: this.origin, room: this.room, before, limit, fetchImpl: this.fetchImpl });
    this.fetchPage = page;
    this.gaps = new GapFiller({
      // A gap page is at least as new as everything known when it was asked for.
      fetchPage: async (after) => {
        const version = this.lastId;
        const list = await fetchEvents({ origin: this.origin, room: this.room, after, fetchImpl: this.fetchImpl });
        list.version = version;
        return list;
      },
      onMessages: (list, fetched) => {
        for (const e of list) this.onEntry(e, fetched.version ?? this.lastId);
      },
      onState: (detail) => {
        if (detail.state === 'filled') this.resendPending();
        this.emit('gap', detail);
      },
      timers,
      now,
      random,
      backoff: historyBackoff,
    });
  }

  /** The highest event id seen (messages and changes): a rejoin asks for what came after it. */
  get lastId() {
    return this.shown.lastId;
  }

  get wsUrl() {
    const u = new URL(this.origin);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `/api/rooms/${encodeURIComponent(this.room)}/websocket`;
    // In a room big enough for relays, the same tag lands on the same relay (docs/protocol.md).
    u.search = `?tag=${sessionTag(this.session)}`;
    u.hash = '';
    return u.toString();
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit('state', { state, ...extra });
  }

  /** Open the first connection. */
  connect() {
    if (this.ws || this.state === 'closed') return;
    this.clearRetry();
    this.setState('connecting', { attempt: this.attempt });
    let ws;
    try {
      ws = new this.WebSocketImpl(this.wsUrl);
    } catch (err) {
      this.onDrop(null, { code: 1006, reason: String(err) });
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    this.opened = false;
    this.pending.socketClosed();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.opened = true;
      // A server that accepts the socket but never welcomes us is treated like a dropped one.
      this.joinTimer = this.timers.setTimeout(() => {
        this.joinTimer = null;
        if (ws !== this.ws || this.welcomed) return;
        this.giveUp(ws, 'no welcome');
      }, this.joinTimeoutMs);
      const join = { type: 'join', name: this.name, session: this.session };
      if (this.joinedOnce) join.since = this.lastId;
      if (this.ownerKey) join.owner_key = this.ownerKey;
      this.rawSend(JSON.stringify(join));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.armPong(false);
      for (const frame of framesOf(ev.data)) {
        if (ws !== this.ws) return; // a frame of the batch closed this socket
        this.onFrame(frame);
      }
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.onDrop(ws, ev);
    };
  }

  /** Stops timers and retries and closes the socket (if any) with `reason`, for good. */
  shutDown(reason) {
    this.stopTimers();
    this.clearRetry();
    this.gaps.stop();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(CLOSE_NORMAL, reason);
      } catch {
        /* already closed */
      }
    }
  }

  /** Leave deliberately: close the socket and never reconnect. */
  leave() {
    this.setState('closed');
    this.shutDown('leave');
  }

  /** Reconnect now instead of waiting for the backoff timer (or after a takeover by another tab). */
  retryNow() {
    if (this.state === 'waiting' || this.state === 'replaced') {
      this.clearRetry();
      this.connect();
    }
    this.retryHistory();
  }

  /** Fill missed messages now instead of waiting for the history retry timer (back online). */
  retryHistory() {
    if (this.gaps.open) this.gaps.retryNow();
  }

  /**
   * Queue a message: it is shown as pending and sent now, or after the next join.
   * Returns the pending item ({nonce, text}).
   */
  send(text, { replyTo = null } = {}) {
    const item = this.pending.add(text, this.now());
    if (Number.isSafeInteger(replyTo)) item.replyTo = replyTo;
    this.typingSender.messageSent();
    this.emit('pending', { item });
    if (this.state === 'connected') this.transmit(item);
    return item;
  }

  /** Replace the text of one of our messages. */
  edit(id, text) {
    return this.rawSend(JSON.stringify({ type: 'edit', id, text }));
  }

  /** Delete a message (ours, or any when we own the room). */
  deleteMessage(id) {
    return this.rawSend(JSON.stringify({ type: 'delete', id }));
  }

  /** Toggle our reaction `emoji` on a message. */
  react(id, emoji) {
    return this.rawSend(JSON.stringify({ type: 'react', id, emoji }));
  }

  /** Owner: remove a member from the room. */
  kick(name) {
    return this.rawSend(JSON.stringify({ type: 'kick', name }));
  }

  /** Owner: lock or unlock the room to new members. */
  lock(locked) {
    return this.rawSend(JSON.stringify({ type: 'lock', locked }));
  }

  /** Owner: set the room's topic ('' clears it). */
  setTopic(text) {
    return this.rawSend(JSON.stringify({ type: 'topic', text }));
  }

  /** Tell the room we have read up to `id` (its other connections of ours hear it). */
  read(id) {
    return this.rawSend(JSON.stringify({ type: 'read', id }));
  }

  /** Tell the room we are typing (throttled, see typing.js). */
  typing() {
    if (this.state !== 'connected') return false;
    return this.typingSender.typing();
  }

  /**
   * Load a page of messages older than the oldest shown (when the reader scrolls up). Resolves
   * after the `older` event; false when there is nothing to load or a load is under way.
   */
  async loadOlder(itemCount = this.shown.size) {
    if (this.loadingOlder || this.now() < this.olderRetryAt || !this.shown.canLoadOlder(itemCount)) return false;
    this.loadingOlder = true;
    try {
      const page = await this.fetchPage(this.shown.floor, OLDER_PAGE);
      if (this.state === 'closed') return false;
      const version = this.lastId;
      const fresh = this.shown.acceptOlder(page, OLDER_PAGE);
      const messages = fresh.map((m) => ({
        message: this.states.snapshot(m, version),
        own: sameName(m.name, this.name),
      }));
      this.emit('older', { messages, hasOlder: this.shown.hasOlder });
      return true;
    } catch (err) {
      this.olderRetryAt = this.now() + OLDER_RETRY_MS;
      this.emit('older', { error: String(err?.message ?? err) });
      return false;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** The list dropped these (its oldest) message ids: they may be loaded again later. */
  forget(ids) {
    this.shown.forget(ids);
    this.states.forget(ids);
  }

  // ---- internals -------------------------------------------------------------------------

  transmit(item) {
    const frame = { type: 'message', text: item.text, nonce: item.nonce };
    if (item.replyTo !== undefined) frame.reply_to = item.replyTo;
    if (this.rawSend(JSON.stringify(frame))) {
      this.pending.transmitted(item);
    }
  }

  rawSend(data) {
    const ws = this.ws;
    if (ws?.readyState !== 1) return false;
    try {
      ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  onFrame(frame) {
    switch (frame.type) {
      case 'welcome':
        this.onWelcome(frame);
        break;
      case 'message':
        if (isMessage(frame)) this.onMessage(frame, true);
        break;
      case 'edit':
      case 'delete':
      case 'react':
      case 'topic':
      case 'lock':
      case 'kick':
        if (this.welcomed && isChange(frame)) this.onChange(frame, true);
        break;
      case 'away':
      case 'back':
        if (typeof frame.name !== 'string' || !this.welcomed) break;
        if (this.members.setAway(frame.name, frame.type === 'away')) this.emitMembers();
        break;
      case 'presence':
        if (this.welcomed && this.members.presence(frame)) this.emitMembers();
        break;
      case 'join':
        if (typeof frame.name !== 'string' || !this.welcomed) break;
        this.members.join(frame.name);
        this.emit('join', { name: frame.name, at: frame.at });
        this.emitMembers();
        break;
      case 'leave':
        if (typeof frame.name !== 'string' || !this.welcomed) break;
        this.members.leave(frame.name);
        this.emit('leave', { name: frame.name, at: frame.at });
        this.emitMembers();
        break;
      case 'typing':
        if (typeof frame.name === 'string' && !sameName(frame.name, this.name))
          this.emit('typing', { name: frame.name });
        break;
      case 'error':
        this.onError(frame);
        break;
      case 'read':
        if (Number.isSafeInteger(frame.id)) this.emit('read', { id: frame.id });
        break;
      default:
        break; // unknown frame types are ignored
    }
  }

  async onWelcome(frame) {
    if (this.welcomed) return;
    const ws = this.ws;
    const first = !this.joinedOnce;
    const sinceBefore = this.lastId;
    this.welcomed = true;
    this.joinedOnce = true;
    this.attempt = 0;
    if (typeof frame.name === 'string' && frame.name) this.name = frame.name;
    const members = this.members.reset(frame.members, frame.away, frame.count);
    const entries = Array.isArray(frame.history) ? frame.history.filter((e) => isMessageEntry(e) || isChange(e)) : [];
    entries.sort((a, b) => a.id - b.id);
    const history = entries.filter(isMessageEntry);
    // The history shows every message in its state as of the welcome: its last id.
    const version = Math.max(Number.isSafeInteger(frame.last_id) ? frame.last_id : 0, entries.at(-1)?.id ?? 0);
    const room = this.roomState.welcome(frame, version);
    const readId = Number.isSafeInteger(frame.read_id) ? frame.read_id : 0;
    this.emit('welcome', { room: frame.room ?? this.room, name: this.name, members, first, owner: room.owner, readId });
    this.emit('room', room);
    this.emitMembers();
    this.setState('connected');
    this.startPing();

    if (first) this.shown.start(history);
    for (const e of entries) this.onEntry(e, version);

    // More than a welcome's worth of messages was missed while away: fill the gap page by page.
    if (frame.truncated === true && !first && entries.length > 0) {
      await this.gaps.add(sinceBefore, entries[0].id);
      if (ws !== this.ws || this.state !== 'connected') return;
    }
    this.resendPending();
  }

  /**
   * Whatever is still pending and not in flight never reached the server (or its echo would have
   * been in the history): send it again. While a gap is open, a message that went out before may
   * be stored in it: those wait for the gap (see PendingMessages.toResend).
   */
  resendPending() {
    if (this.state !== 'connected') return;
    for (const item of this.pending.toResend({ gapOpen: this.gaps.open })) this.transmit(item);
  }

  emitMembers() {
    this.emit('members', { members: this.members.names, away: this.members.away, count: this.members.size });
  }

  /** A history or gap entry: a message in its state as of `version`, or a change event. */
  onEntry(e, version) {
    if (isMessageEntry(e)) this.onMessage(e, false, version);
    else this.onChange(e, false);
  }

  onMessage(m, live, version = m.id) {
    const own = sameName(m.name, this.name);
    if (own) {
      const item = this.pending.confirm(m);
      if (item) this.emit('sent', { item, message: m });
    }
    const known = this.states.has(m.id);
    if (!this.shown.accept(m.id)) {
      // Shown already (a rejoin's history): it may have changed meanwhile.
      if (known) this.emit('update', { message: this.states.snapshot(m, version), own });
      return;
    }
    this.emit('message', { message: this.states.snapshot(m, version), own, live });
  }

  /** A change event: counts for `since`, updates the messages or the room it names. */
  onChange(frame, live) {
    this.shown.seen(frame.id);
    if (isRoomChange(frame)) {
      if (this.roomState.apply(frame)) this.emit('room', this.roomState.view());
      this.emit('system', { text: changeText(frame), at: frame.at, kind: frame.type, live });
      return;
    }
    for (const message of this.states.apply(frame)) {
      this.emit('update', { message, own: sameName(message.name, this.name) });
    }
  }

  onError(frame) {
    const code = typeof frame.code === 'string' ? frame.code : 'error';
    const message = typeof frame.message === 'string' ? frame.message : code;
    const retryAfterMs = Number.isFinite(frame.retry_after_ms) ? frame.retry_after_ms : undefined;
    if (!this.welcomed) {
      this.onJoinError(code, message, retryAfterMs);
      return;
    }
    // An error about an edit, delete or react names its message as `target`: never a pending one.
    const aboutAction = frame.target !== undefined || (ACTION_ERRORS.has(code) && typeof frame.nonce !== 'string');
    if ((MESSAGE_ERRORS.has(code) || ACTION_ERRORS.has(code)) && !aboutAction) {
      const item = this.pending.reject(frame);
      if (item) {
        this.emit('rejected', { item, code, message, retryAfterMs });
        return;
      }
    }
    this.emit('notice', { code, message, target: frame.target });
  }

  /**
   * An error before the welcome. A refused join fails for good; too many joins from this address
   * (`rate_limited`) fails a first join (the person sees why) and delays a rejoin.
   */
  onJoinError(code, message, retryAfterMs) {
    if (JOIN_ERRORS.has(code)) {
      this.fail(code, message);
    } else if (code === 'rate_limited' && !this.joinedOnce) {
      this.fail(code, message);
    } else if (code === 'rate_limited') {
      const ws = this.ws;
      if (ws) this.giveUp(ws, 'rate limited', retryAfterMs);
    } else {
      this.emit('notice', { code, message });
    }
  }

  /** The join failed for good: stop, and tell why. */
  fail(code, message) {
    this.shutDown(code);
    this.setState('failed', { code });
    this.emit('failure', { code, message });
  }

  /** Close a socket we no longer trust and go through the usual drop path. */
  giveUp(ws, reason, minDelayMs = 0) {
    try {
      ws.close(CLOSE_CLIENT_TIMEOUT, reason);
    } catch {
      /* ignore */
    }
    this.onDrop(ws, { code: 1006 }, minDelayMs);
  }

  onDrop(ws, ev, minDelayMs = 0) {
    const wasOpened = this.opened;
    const wasWelcomed = this.welcomed;
    if (ws) detach(ws);
    this.ws = null;
    this.welcomed = false;
    this.pending.socketClosed();
    this.stopTimers();
    if (this.state === 'closed' || this.state === 'failed') return;
    if (ev && ev.code === CLOSE_REPLACED) {
      this.setState('replaced');
      return;
    }
    if (ev && ev.code === CLOSE_KICKED) {
      this.fail('kicked', 'You were removed from the room.');
      return;
    }
    if (!this.joinedOnce && !wasWelcomed) {
      // The very first join did not work: find out why instead of retrying forever.
      this.diagnose(wasOpened);
      return;
    }
    // Anything else (a network drop, a restart, CLOSE_IDLE after a silent spell): rejoin.
    this.scheduleRetry(minDelayMs);
  }

  async diagnose(wasOpened) {
    if (!wasOpened && this.fetchImpl) {
      try {
        const res = await this.fetchImpl(`${this.origin}/api/rooms/${encodeURIComponent(this.room)}/stats`);
        if (res.status >= 400 && res.status < 500) {
          const body = await res.json().catch(() => null);
          const err = body?.error;
          if (err && typeof err.code === 'string') {
            this.fail(err.code, typeof err.message === 'string' ? err.message : err.code);
            return;
          }
        }
      } catch {
        /* unreachable */
      }
    }
    if (this.state === 'closed') return;
    this.fail('unreachable', 'Could not connect to the chat server. Check your connection and try again.');
  }

  scheduleRetry(minDelayMs = 0) {
    const delay = Math.max(minDelayMs, backoffDelay(this.attempt, { ...this.backoff, random: this.random }));
    this.attempt += 1;
    this.retryAt = this.now() + delay;
    this.clearRetry();
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setState('waiting', { retryAt: this.retryAt, attempt: this.attempt });
  }

  clearRetry() {
    if (this.retryTimer !== null) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }

  startPing() {
    this.stopTimers();
    this.pingTimer = this.timers.setInterval(() => {
      if (this.rawSend('ping')) this.armPong(true);
    }, this.pingIntervalMs);
  }

  /** After a ping, expect some frame within pongTimeoutMs, or treat the socket as dead. */
  armPong(arm) {
    if (this.pongTimer !== null) {
      this.timers.clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
    if (!arm) return;
    const ws = this.ws;
    this.pongTimer = this.timers.setTimeout(() => {
      this.pongTimer = null;
      if (ws !== this.ws) return;
      this.giveUp(ws, 'keepalive timeout');
    }, this.pongTimeoutMs);
  }

  stopTimers() {
    this.typingSender.cancel();
    if (this.joinTimer !== null) {
      this.timers.clearTimeout(this.joinTimer);
      this.joinTimer = null;
    }
    if (this.pingTimer !== null) {
      this.timers.clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
    this.armPong(false);
  }
}

function detach(ws) {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onerror = null;
  ws.onclose = null;
}

/** A short, stable tag of the session (FNV-1a, 32 bits): it picks the relay, and tells nothing of the session. */
export function sessionTag(session) {
  let h = 0x811c9dc5;
  for (const ch of String(session ?? '')) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
