// The connection to one room: join, reconnect with backoff, de-duplication by message id,
// pending messages matched by nonce, keepalive and typing throttle. No DOM access: every
// browser dependency can be injected, so the logic can run against a fake socket.
//
// Events (CustomEvent, data in `detail`):
//   state    {state, retryAt?, attempt?}        'connecting' | 'connected' | 'waiting' | 'replaced' | 'closed' | 'failed'
//   welcome  {room, name, members, first}        after every successful (re)join
//   message  {message, own, live}                once per message id, never twice
//   members  {members}                           the member list changed (replaced on welcome)
//   join     {name, at} / leave {name, at}       someone else joined / left
//   typing   {name}                              someone else is typing
//   pending  {item}                              a message of ours waits for the server's echo
//   sent     {item, message}                     the echo of a pending message arrived (or was found in history)
//   rejected {item, code, message, retryAfterMs} the server refused a pending message (it is dropped)
//   failure  {code, message}                     the join failed for good (name taken, invalid room, …)
//   notice   {code, message}                     an error frame not tied to one of our messages

import { randomHex, sameName } from './util.js';

export const CLOSE_REPLACED = 4001;
export const CLOSE_NORMAL = 1000;
export const TYPING_INTERVAL_MS = 2000;
// After a message is sent the receivers clear the indicator, so the next keystroke may announce
// typing again sooner, but never faster than the server relays it (once per second).
export const TYPING_AFTER_SEND_MS = 1000;
const MESSAGE_ERRORS = new Set(['rate_limited', 'invalid_message', 'too_large']);
const JOIN_ERRORS = new Set(['invalid_name', 'name_taken', 'room_full', 'invalid_room', 'bad_request']);

/** Exponential backoff with "equal jitter": attempt 0 → 250–500 ms, … capped at `max`. */
export function backoffDelay(attempt, { base = 500, max = 10000, random = Math.random } = {}) {
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** Make a per-tab session secret (32 hex characters from crypto.getRandomValues). */
export function makeSession(cryptoImpl = globalThis.crypto) {
  return randomHex(16, cryptoImpl);
}

/** Whether `v` looks like a message frame. */
function isMessage(v) {
  return v && Number.isSafeInteger(v.id) && typeof v.name === 'string' && typeof v.text === 'string';
}

export class ChatConnection extends EventTarget {
  /**
   * @param {object} o
   * @param {string} o.room       normalized room name
   * @param {string} o.name       the name to join with
   * @param {string} o.session    per-tab secret (16–128 printable ASCII)
   * @param {string} o.origin     e.g. "http://127.0.0.1:8787"
   */
  constructor({
    room, name, session, origin,
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
  }) {
    super();
    this.room = room;
    this.name = name;
    this.session = session;
    this.origin = origin.replace(/\/$/, '');
    this.WebSocketImpl = WebSocketImpl;
    this.fetchImpl = fetchImpl;
    this.timers = timers;
    this.now = now;
    this.random = random;
    this.cryptoImpl = cryptoImpl;
    this.pingIntervalMs = pingIntervalMs;
    this.pongTimeoutMs = pongTimeoutMs;
    this.joinTimeoutMs = joinTimeoutMs;
    this.joinTimer = null;
    this.backoff = backoff;

    this.state = 'idle';
    this.ws = null;
    this.welcomed = false;      // this socket got its welcome
    this.joinedOnce = false;    // some socket got a welcome: later joins send `since`
    this.attempt = 0;
    this.retryAt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.lastId = 0;            // highest message id seen
    this.seen = new Set();      // every message id shown
    this.pending = new Map();   // nonce -> {nonce, text, at}, in send order
    this.inflight = [];         // nonces sent on the current socket, awaiting echo or error
    this.members = [];
    this.lastTypingSent = -Infinity;
    this.typingTimer = null;
    this.typingCleared = true;  // the others show no typing indicator for us
    this.nonceCounter = 0;
  }

  get wsUrl() {
    const u = new URL(this.origin);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `/api/rooms/${encodeURIComponent(this.room)}/websocket`;
    u.search = '';
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
    this.inflight = [];
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.opened = true;
      // A server that accepts the socket but never welcomes us is treated like a dropped one.
      this.joinTimer = this.timers.setTimeout(() => {
        this.joinTimer = null;
        if (ws !== this.ws || this.welcomed) return;
        try { ws.close(4000, 'no welcome'); } catch { /* ignore */ }
        this.onDrop(ws, { code: 1006 });
      }, this.joinTimeoutMs);
      const join = { type: 'join', name: this.name, session: this.session };
      if (this.joinedOnce) join.since = this.lastId;
      this.rawSend(JSON.stringify(join));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.onFrame(ev.data);
    };
    ws.onerror = () => { /* a close event follows */ };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.onDrop(ws, ev);
    };
  }

  /** Stops timers and retries and closes the socket (if any) with `reason`, for good. */
  shutDown(reason) {
    this.stopTimers();
    this.clearRetry();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      try { ws.close(CLOSE_NORMAL, reason); } catch { /* already closed */ }
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
  }

  /**
   * Queue a message: it is shown as pending and sent now, or after the next join.
   * Returns the pending item ({nonce, text}).
   */
  send(text) {
    this.nonceCounter += 1;
    const nonce = `${randomHex(8, this.cryptoImpl)}-${this.nonceCounter}`;
    const item = { nonce, text, at: this.now() };
    this.pending.set(nonce, item);
    this.lastTypingSent = Math.min(this.lastTypingSent, this.now() - TYPING_INTERVAL_MS + TYPING_AFTER_SEND_MS);
    this.cancelTyping();
    this.typingCleared = true;
    this.emit('pending', { item });
    if (this.state === 'connected') this.transmit(item);
    return item;
  }

  /**
   * Tell the room we are typing, at most once every 2 s. When the others show no indicator for
   * us (nothing sent yet, or our message just cleared it), a keystroke inside the quiet window is
   * not lost: one frame goes out when the window ends (cancelled by sending the message).
   */
  typing() {
    if (this.state !== 'connected') return false;
    const t = this.now();
    const wait = this.lastTypingSent + TYPING_INTERVAL_MS - t;
    if (wait > 0) {
      if (this.typingCleared && this.typingTimer === null) {
        this.typingTimer = this.timers.setTimeout(() => {
          this.typingTimer = null;
          this.typing();
        }, wait);
      }
      return false;
    }
    this.lastTypingSent = t;
    this.typingCleared = false;
    return this.rawSend('{"type":"typing"}');
  }

  cancelTyping() {
    if (this.typingTimer !== null) {
      this.timers.clearTimeout(this.typingTimer);
      this.typingTimer = null;
    }
  }

  // ---- internals -------------------------------------------------------------------------

  transmit(item) {
    if (this.rawSend(JSON.stringify({ type: 'message', text: item.text, nonce: item.nonce }))) {
      this.inflight.push(item.nonce);
    }
  }

  rawSend(data) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  onFrame(data) {
    this.armPong(false);
    if (typeof data !== 'string' || data === 'pong' || data === 'ping') return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    switch (frame.type) {
      case 'welcome': this.onWelcome(frame); break;
      case 'message': if (isMessage(frame)) this.onMessage(frame, true); break;
      case 'join':
        if (typeof frame.name !== 'string' || !this.welcomed) break;
        if (!this.members.some((m) => sameName(m, frame.name))) this.members = [...this.members, frame.name];
        this.emit('join', { name: frame.name, at: frame.at });
        this.emit('members', { members: this.members });
        break;
      case 'leave':
        if (typeof frame.name !== 'string' || !this.welcomed) break;
        this.members = this.members.filter((m) => !sameName(m, frame.name));
        this.emit('leave', { name: frame.name, at: frame.at });
        this.emit('members', { members: this.members });
        break;
      case 'typing':
        if (typeof frame.name === 'string' && !sameName(frame.name, this.name)) this.emit('typing', { name: frame.name });
        break;
      case 'error': this.onError(frame); break;
      default: break; // unknown frame types are ignored
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
    this.members = Array.isArray(frame.members) ? frame.members.filter((m) => typeof m === 'string') : [];
    this.emit('welcome', { room: frame.room ?? this.room, name: this.name, members: this.members, first });
    this.emit('members', { members: this.members });
    this.setState('connected');
    this.startPing();

    const history = Array.isArray(frame.history) ? frame.history.filter(isMessage) : [];
    history.sort((a, b) => a.id - b.id);
    for (const m of history) this.onMessage(m, false);

    // More than 100 messages were missed while away: fetch the gap page by page.
    if (frame.truncated === true && !first && history.length > 0) {
      await this.fillGap(sinceBefore, history[0].id);
      if (ws !== this.ws || this.state !== 'connected') return;
    }
    // Whatever is still pending never reached the server (or its echo would be in history): resend.
    for (const item of this.pending.values()) {
      if (!this.inflight.includes(item.nonce)) this.transmit(item);
    }
  }

  async fillGap(afterId, beforeId) {
    let before = beforeId;
    for (let page = 0; page < 20 && before > afterId + 1; page += 1) {
      let messages;
      try {
        const url = `${this.origin}/api/rooms/${encodeURIComponent(this.room)}/messages?before=${before}&limit=100`;
        const res = await this.fetchImpl(url);
        if (!res.ok) return;
        messages = (await res.json()).messages;
      } catch {
        return;
      }
      if (!Array.isArray(messages) || messages.length === 0) return;
      const fresh = messages.filter(isMessage).filter((m) => m.id > afterId).sort((a, b) => a.id - b.id);
      for (const m of fresh) this.onMessage(m, false);
      const oldest = Math.min(...messages.filter(isMessage).map((m) => m.id));
      if (!(oldest < before) || oldest <= afterId + 1) return;
      before = oldest;
    }
  }

  onMessage(m, live) {
    const own = sameName(m.name, this.name);
    if (own && typeof m.nonce === 'string' && this.pending.has(m.nonce)) {
      const item = this.pending.get(m.nonce);
      this.pending.delete(m.nonce);
      const i = this.inflight.indexOf(m.nonce);
      if (i >= 0) this.inflight.splice(0, i + 1); // answers arrive in send order
      this.emit('sent', { item, message: m });
    }
    if (this.seen.has(m.id)) return;
    this.seen.add(m.id);
    if (m.id > this.lastId) this.lastId = m.id;
    this.emit('message', { message: m, own, live });
  }

  onError(frame) {
    const code = typeof frame.code === 'string' ? frame.code : 'error';
    const message = typeof frame.message === 'string' ? frame.message : code;
    if (!this.welcomed) {
      if (JOIN_ERRORS.has(code)) this.fail(code, message);
      else this.emit('notice', { code, message });
      return;
    }
    if (MESSAGE_ERRORS.has(code) && this.inflight.length > 0) {
      // The server answers frames in order: this error belongs to the oldest unanswered message.
      const nonce = this.inflight.shift();
      const item = this.pending.get(nonce);
      this.pending.delete(nonce);
      if (item) {
        const retryAfterMs = Number.isFinite(frame.retry_after_ms) ? frame.retry_after_ms : undefined;
        this.emit('rejected', { item, code, message, retryAfterMs });
        return;
      }
    }
    this.emit('notice', { code, message });
  }

  /** The join failed for good: stop, and tell why. */
  fail(code, message) {
    this.shutDown(code);
    this.setState('failed', { code });
    this.emit('failure', { code, message });
  }

  onDrop(ws, ev) {
    const wasOpened = this.opened;
    const wasWelcomed = this.welcomed;
    if (ws) detach(ws);
    this.ws = null;
    this.welcomed = false;
    this.inflight = [];
    this.stopTimers();
    if (this.state === 'closed' || this.state === 'failed') return;
    if (ev && ev.code === CLOSE_REPLACED) {
      this.setState('replaced');
      return;
    }
    if (!this.joinedOnce && !wasWelcomed) {
      // The very first join did not work: find out why instead of retrying forever.
      this.diagnose(wasOpened);
      return;
    }
    this.scheduleRetry();
  }

  async diagnose(wasOpened) {
    if (!wasOpened && this.fetchImpl) {
      try {
        const res = await this.fetchImpl(`${this.origin}/api/rooms/${encodeURIComponent(this.room)}/stats`);
        if (res.status >= 400 && res.status < 500) {
          const body = await res.json().catch(() => null);
          const err = body && body.error;
          if (err && typeof err.code === 'string') {
            this.fail(err.code, typeof err.message === 'string' ? err.message : err.code);
            return;
          }
        }
      } catch { /* unreachable */ }
    }
    if (this.state === 'closed') return;
    this.fail('unreachable', 'Could not connect to the chat server. Check your connection and try again.');
  }

  scheduleRetry() {
    const delay = backoffDelay(this.attempt, { ...this.backoff, random: this.random });
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
      try { ws.close(4000, 'keepalive timeout'); } catch { /* ignore */ }
      this.onDrop(ws, { code: 1006 });
    }, this.pongTimeoutMs);
  }

  stopTimers() {
    this.cancelTyping();
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
