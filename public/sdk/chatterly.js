// Chatterly's client: one ES module, no dependencies. It runs in browsers, in Node.js (20 with a
// `WebSocket` passed in, 22's global one) and in Deno. Reference: docs/sdk.md; types: chatterly.d.ts;
// the wire contract it speaks: docs/protocol.md.
//
//   import { connect } from 'https://chat.example.com/sdk/chatterly.js';
//   const room = await connect({ url: 'https://chat.example.com', room: 'lobby', name: 'Ada' });
//   room.on('message', (m) => console.log(`${m.name}: ${m.text}`));
//   await room.send('hello');

/** Close codes (docs/protocol.md, "Close codes"). */
export const CLOSE = Object.freeze({
  NORMAL: 1000,
  GAVE_UP: 4000, // sent by this client when a socket stops answering
  REPLACED: 4001, // another socket of this session (or this member's newest device) took over: do not reconnect
  IDLE: 4002,
  KICKED: 4003, // the owner removed this member: do not reconnect
  TOKEN_EXPIRED: 4004, // not renewed in time: rejoin at once with a fresh token and `since`
});

/** Error codes that refuse a join for good: no retry, whatever the join. */
export const JOIN_ERRORS = new Set([
  'invalid_name',
  'name_taken',
  'room_full',
  'invalid_room',
  'bad_request',
  'address_limit',
  'room_locked',
  'banned',
  'forbidden',
  'unauthorized',
]);
/** Error codes that refuse one message frame; they carry its nonce when it had one. */
const MESSAGE_ERRORS = new Set(['rate_limited', 'invalid_message', 'too_large', 'storage_failed']);
const MESSAGE_CHANGES = new Set(['edit', 'delete', 'react']);
const UPLOAD_ERRORS = new Set(['file_too_large', 'file_quota', 'files_off', 'bad_request']);
const ROOM_CHANGES = new Set(['topic', 'title', 'lock', 'kick']);
/** How much of a message a reply quotes (server: `QUOTE_CHARS`). */
export const QUOTE_CHARS = 100;
/** This client sends a typing frame at most this often; the server relays one a second. */
export const TYPING_INTERVAL_MS = 2000;
const TYPING_RELAY_MS = 1000;
const PAGE = 100;
/** Message states kept for `update` events; older ones are forgotten, oldest id first. */
const KEEP = 2000;

/** An error with the protocol's own code (`name_taken`, `rate_limited`, …) or the client's own
 * (`timeout`, `queue_full`, `closed`, `unreachable`, `kicked`, `replaced`, `token_failed`). */
export class ChatterlyError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = 'ChatterlyError';
    this.code = code;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
    if (extra.target !== undefined) this.target = extra.target;
    if (extra.nonce !== undefined) this.nonce = extra.nonce;
    // A kick's explanation (the `kicked` frame): who removed us, the room's title, until when.
    if (extra.by !== undefined) Object.assign(this, { by: extra.by, title: extra.title, until: extra.until });
  }
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, base·2^attempt)). */
export function backoffDelay(attempt, { base = 500, max = 10000, random = Math.random } = {}) {
  return Math.floor(random() * Math.min(max, base * 2 ** Math.max(0, attempt)));
}

/** The frames in one WebSocket text frame: the server may batch several as a JSON array. */
export function framesOf(data) {
  if (typeof data !== 'string' || data === 'pong' || data === 'ping') return [];
  let v;
  try {
    v = JSON.parse(data);
  } catch {
    return [];
  }
  return (Array.isArray(v) ? v : [v]).filter((f) => f !== null && typeof f === 'object' && !Array.isArray(f));
}

/** A JWT's `exp` in unix ms, or null when it has none or is not a JWT. */
export function tokenExpiry(token) {
  try {
    const part = String(token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4))).exp;
    return Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** A short, stable tag of the session (FNV-1a): it picks the relay and tells nothing of the session. */
export function sessionTag(session) {
  let h = 0x811c9dc5;
  for (const ch of String(session)) h = Math.imul(h ^ ch.codePointAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(a);
  return [...a].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const isId = Number.isSafeInteger;
const names = (l) => (Array.isArray(l) ? l.filter((n) => typeof n === 'string') : []);
const isMessageFrame = (v) => isId(v?.id) && typeof v.name === 'string' && typeof v.text === 'string';
const isMessageEntry = (v) => isMessageFrame(v) && (v.type === undefined || v.type === 'message');
const isChange = (v) => isId(v?.id) && ((MESSAGE_CHANGES.has(v.type) && isId(v.target)) || ROOM_CHANGES.has(v.type));
// The server takes names that differ in case, normalization or look-alike characters for one
// member; this default folds the first two (the `nameKey` option can bring the full rule).
const foldName = (name) => String(name).normalize('NFKC').toLowerCase();

/** Join a room. Resolves with the Room once welcomed; rejects with a ChatterlyError. */
export function connect(options) {
  return new Room(options).open();
}

export class Room {
  constructor(o) {
    if (!o || typeof o.url !== 'string' || typeof o.room !== 'string') {
      throw new TypeError('connect needs { url, room }');
    }
    this.o = {
      timeoutMs: 10000,
      maxQueued: 100,
      backoff: { base: 500, max: 10000 },
      pingIntervalMs: 25000,
      pongTimeoutMs: 10000,
      joinTimeoutMs: 15000,
      renewBeforeMs: 60000,
      timers: globalThis,
      now: () => Date.now(),
      random: Math.random,
      ...o,
    };
    this.url = o.url.replace(/\/$/, '');
    this.room = o.room;
    this.name = o.name ?? '';
    this.key = o.nameKey ?? foldName;
    this.session = o.session ?? randomHex(16);
    this.WS = o.WebSocket ?? globalThis.WebSocket;
    this.fetch = o.fetch ?? globalThis.fetch?.bind(globalThis);
    this.lastId = Number.isSafeInteger(o.since) ? o.since : 0;
    this.readId = 0; // how far we have read (the welcome's read_id, our read(), other devices')
    this.resume = Number.isSafeInteger(o.since);
    this.state = 'idle';
    this.handlers = new Map();
    this.ws = null;
    this.welcomed = false;
    this.joinedOnce = false;
    this.attempt = 0;
    this.t = {}; // timers by name
    this.queue = new Map(); // nonce -> our message waiting for its echo, in send order
    this.inflight = []; // nonces sent on this socket, unanswered, in order
    this.actions = []; // edits, deletes, reactions and moderation waiting for their echo
    this.uploads = []; // upload frames waiting for their ticket, in order
    this.states = new Map(); // message id -> state, for update events
    this.replies = new Map(); // quoted id -> Set of reply ids
    this.memberList = [];
    this.awaySet = new Set();
    this.verifiedSet = new Set(); // keys of the members who joined with a token
    this.count = null;
    this.roomState = { topic: '', title: '', locked: false, owner: false, version: 0 };
    this.ownerSet = new Set(); // name keys of the room's owners
    this.kicked = null; // the `kicked` frame, until the 4003 close that follows it
    this.gap = null; // {after, before} of a truncated resume, while it is being filled
    this.counter = 0;
    this.lastTyping = Number.NEGATIVE_INFINITY;
    this.typingCleared = true;
  }

  // ---- public surface -----------------------------------------------------------------------

  get members() {
    return [...this.memberList];
  }
  get away() {
    return this.memberList.filter((n) => this.awaySet.has(this.key(n)));
  }
  /** The members who joined with a join token (the server vouches for them). */
  get verified() {
    return this.memberList.filter((n) => this.verifiedSet.has(this.key(n)));
  }
  get memberCount() {
    return this.count ?? this.memberList.length;
  }
  get topic() {
    return this.roomState.topic;
  }
  get locked() {
    return this.roomState.locked;
  }
  /** The room's display name ('' for none: show the room's id). */
  get title() {
    return this.roomState.title;
  }
  /** The room's owners among the members, in member order. */
  get owners() {
    return this.memberList.filter((n) => this.ownerSet.has(this.key(n)));
  }
  get owner() {
    return this.roomState.owner;
  }
  /** The messages the room holds (the welcome's history, then live), oldest first. */
  get messages() {
    return [...this.states.values()].sort((a, b) => a.id - b.id).map((s) => this.view(s));
  }
  /** Messages sent and not yet echoed (queued offline or in flight), in send order. */
  get queued() {
    return [...this.queue.values()].map(({ nonce, text, replyTo, at }) => ({ nonce, text, replyTo, at }));
  }

  /** Subscribe; returns a function that unsubscribes. */
  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
    return () => this.handlers.get(event)?.delete(handler);
  }

  /** Starts the first connection; resolves on the first welcome. `connect()` calls it. */
  open() {
    if (!this.ready) {
      this.ready = new Promise((resolve, reject) => {
        this.settle = { resolve, reject };
      });
      this.dial();
    }
    return this.ready;
  }

  /** Send a message: resolves with the stored message when its echo arrives. */
  send(text, { replyTo, files, timeoutMs = this.o.timeoutMs } = {}) {
    if (this.state === 'closed' || this.state === 'failed') {
      return Promise.reject(new ChatterlyError('closed', 'the room is closed'));
    }
    if (this.queue.size >= this.o.maxQueued) {
      return Promise.reject(new ChatterlyError('queue_full', `${this.o.maxQueued} messages already wait to be sent`));
    }
    this.counter += 1;
    const item = { nonce: `${randomHex(8)}-${this.counter}`, text: String(text), at: this.o.now(), timeoutMs };
    if (isId(replyTo)) item.replyTo = replyTo;
    if (files?.length) item.files = files.map((f) => f.id ?? f);
    const promise = new Promise((resolve, reject) => Object.assign(item, { resolve, reject }));
    promise.nonce = item.nonce;
    this.queue.set(item.nonce, item);
    // Our message clears our typing indicator: the next keystroke may say so again soon, but
    // not faster than the server relays typing (once a second).
    this.lastTyping = Math.min(this.lastTyping, this.o.now() - TYPING_INTERVAL_MS + TYPING_RELAY_MS);
    this.clear('typing');
    this.typingCleared = true;
    if (this.welcomed) this.transmit(item);
    return promise;
  }

  /** Upload a file (a Blob or File): a ticket on the socket, then the bytes over HTTP. Resolves
   * with `{id, name, type, size, width?, height?}` to pass to `send(text, { files })`. Progress
   * comes from XMLHttpRequest where there is one (fetch reports none). */
  async upload(file, { onProgress, signal } = {}) {
    if (!this.welcomed) throw new ChatterlyError('not_connected', 'not connected to the room');
    const t = await new Promise((resolve, reject) => {
      this.uploads.push({ resolve, reject });
      this.raw(JSON.stringify({ type: 'upload', name: file.name || 'file', size: file.size }));
    });
    const url = this.url + t.url;
    const aborted = () => new ChatterlyError('aborted', 'the upload was cancelled');
    if (signal?.aborted) throw aborted();
    const XHR = this.o.XMLHttpRequest ?? globalThis.XMLHttpRequest;
    const [status, body] = XHR
      ? await new Promise((resolve, reject) => {
          const x = new XHR();
          x.open('PUT', url);
          x.upload.onprogress = (e) => onProgress?.(e.loaded, e.total || file.size);
          x.onload = () => resolve([x.status, x.responseText]);
          x.onerror = () => reject(new ChatterlyError('upload_failed', 'the upload failed'));
          x.onabort = () => reject(aborted());
          signal?.addEventListener('abort', () => x.abort());
          x.send(file);
        })
      : await this.fetch(url, { method: 'PUT', body: file, signal }).then(
          async (r) => [r.status, await r.text()],
          (e) => Promise.reject(signal?.aborted ? aborted() : e),
        );
    let j = null;
    try {
      j = JSON.parse(body);
    } catch {}
    if (status !== 201) {
      throw new ChatterlyError(j?.error?.code ?? 'upload_failed', j?.error?.message ?? `upload answered ${status}`);
    }
    onProgress?.(file.size, file.size);
    return { ...j, name: file.name || 'file' };
  }

  /** Replace the text of one of our messages; resolves with the `edit` change. */
  edit(id, text) {
    return this.act({ type: 'edit', id, text }, (f) => f.type === 'edit' && f.target === id, id);
  }
  /** Delete a message (ours, or any when we own the room). */
  delete(id) {
    return this.act({ type: 'delete', id }, (f) => f.type === 'delete' && f.target === id, id);
  }
  /** Toggle our reaction `emoji` on a message; resolves with the `react` change (`on`). */
  react(id, emoji) {
    return this.act(
      { type: 'react', id, emoji },
      (f) => f.type === 'react' && f.target === id && f.emoji === emoji && this.mine(f),
      id,
    );
  }
  /** Owner: remove a member (closed with 4003 and banned for `KICK_BAN_MS`). */
  kick(name) {
    return this.act(
      { type: 'kick', name },
      (f) => f.type === 'kick' && this.key(f.target) === this.key(name) && this.mine(f),
    );
  }
  /** Owner: lock (true) or unlock (false) the room to new members. */
  lock(locked = true) {
    return this.act({ type: 'lock', locked }, (f) => f.type === 'lock' && f.locked === locked && this.mine(f));
  }
  /** Owner: set the room's topic ('' clears it). Named `setTopic` too, since `topic` is a getter. */
  setTopic(text) {
    const t = String(text).trim();
    return this.act({ type: 'topic', text: t }, (f) => f.type === 'topic' && f.text === t && this.mine(f));
  }

  /** Record that we have read up to `id`, for our other devices and our next visit (monotonic:
   * an older position is not sent). Returns whether a frame went out. */
  read(id) {
    if (!isId(id) || id <= this.readId || !this.welcomed) return false;
    this.readId = id;
    return this.raw(JSON.stringify({ type: 'read', id }));
  }

  /** Owner: set the room's display name ('' clears it; at most 64 characters). */
  setTitle(text) {
    const t = String(text).trim();
    return this.act({ type: 'title', text: t }, (f) => f.type === 'title' && f.text === t && this.mine(f));
  }

  /** Tell the room we are typing; at most one frame every 2 s. Returns whether one went out.
   * A keystroke inside the quiet window after our message is not lost: it goes out at its end. */
  typing() {
    const now = this.o.now();
    const wait = this.lastTyping + TYPING_INTERVAL_MS - now;
    if (!this.welcomed) return false;
    if (wait > 0) {
      if (this.typingCleared && !this.t.typing) {
        this.t.typing = this.o.timers.setTimeout(() => {
          this.t.typing = null;
          this.typing();
        }, wait);
      }
      return false;
    }
    if (!this.raw('{"type":"typing"}')) return false;
    this.lastTyping = now;
    this.typingCleared = false;
    return true;
  }

  /** Older messages, one page (oldest first) per step, newest page first. */
  async *history({ before, limit = PAGE } = {}) {
    let floor = isId(before) ? before : this.oldest();
    for (;;) {
      if (floor !== null && floor <= 1) return;
      const q = floor === null ? `limit=${limit}` : `before=${floor}&limit=${limit}`;
      const body = await this.get(q);
      const page = body.filter(isMessageEntry).sort((a, b) => a.id - b.id);
      if (page.length === 0) return;
      yield page.map((m) => this.snapshot(m, this.lastId));
      if (page.length < limit) return;
      floor = page[0].id;
    }
  }

  /** Reconnect now instead of waiting for the backoff (or after another tab took the name). */
  reconnect() {
    if (this.state === 'waiting' || this.state === 'replaced') {
      this.clear('retry');
      this.dial();
    }
    if (this.gap && this.t.gap) {
      this.clear('gap');
      this.fill();
    }
  }

  /** Leave for good: no reconnect. Pending sends and actions reject with `closed`. */
  close() {
    if (this.state === 'closed') return;
    this.shutDown('leave');
    this.setState('closed');
    this.failAll(new ChatterlyError('closed', 'the room was closed'));
  }

  /** The room forgets these messages' states (a list that dropped them). */
  forget(ids) {
    for (const id of ids) this.drop(id);
  }

  // ---- connection ---------------------------------------------------------------------------

  emit(event, ...args) {
    for (const h of [...(this.handlers.get(event) ?? [])]) {
      try {
        h(...args);
      } catch (err) {
        globalThis.reportError?.(err);
      }
    }
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit('state', { state, ...extra });
  }

  wsUrl() {
    const u = new URL(`${this.url}/api/rooms/${encodeURIComponent(this.room)}/websocket`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : u.protocol === 'http:' ? 'ws:' : u.protocol;
    u.search = `?tag=${sessionTag(this.session)}`;
    return u.toString();
  }

  /** The token for this join: the string, or the provider's fresh one. */
  async currentToken() {
    const t = this.o.token;
    if (typeof t !== 'function') return t;
    return t();
  }

  async dial() {
    if (this.ws || this.state === 'closed' || this.state === 'failed') return;
    this.setState('connecting', { attempt: this.attempt });
    let token;
    if (this.o.token !== undefined) {
      try {
        token = await this.currentToken();
      } catch (err) {
        const why = `the token provider failed: ${err?.message ?? err}`;
        // A first join says so; a rejoin (offline, the app's endpoint too) tries again later.
        if (!this.joinedOnce) return this.fail('token_failed', why);
        this.emit('error', new ChatterlyError('token_failed', why));
        return this.retry();
      }
      if (this.state !== 'connecting') return;
    }
    let ws;
    try {
      ws = new this.WS(this.wsUrl());
    } catch (err) {
      this.drop1(null, { code: 1006, reason: String(err) });
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    this.opened = false;
    this.inflight = [];
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.opened = true;
      this.t.join = this.o.timers.setTimeout(() => {
        if (ws === this.ws && !this.welcomed) this.giveUp(ws, 'no welcome');
      }, this.o.joinTimeoutMs);
      const join = { type: 'join', session: this.session };
      if (this.name) join.name = this.name;
      if (token !== undefined) join.token = token;
      if (this.o.ownerKey) join.owner_key = this.o.ownerKey;
      if (this.joinedOnce || this.resume) join.since = this.lastId;
      this.token = token;
      this.raw(JSON.stringify(join));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.clear('pong');
      for (const f of framesOf(ev.data)) {
        if (ws !== this.ws) return; // a frame of the batch closed this socket
        this.frame(f);
      }
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (ws === this.ws) this.drop1(ws, ev);
    };
  }

  raw(data) {
    const ws = this.ws;
    if (ws?.readyState !== 1) return false;
    try {
      ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  clear(name) {
    if (this.t[name] != null) {
      this.o.timers.clearTimeout(this.t[name]);
      this.o.timers.clearInterval(this.t[name]);
    }
    this.t[name] = null;
  }

  shutDown(reason) {
    for (const name of Object.keys(this.t)) this.clear(name);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) {
      detach(ws);
      try {
        ws.close(CLOSE.NORMAL, reason);
      } catch {}
    }
  }

  giveUp(ws, reason, minDelay = 0) {
    try {
      ws.close(CLOSE.GAVE_UP, reason);
    } catch {}
    this.drop1(ws, { code: 1006 }, minDelay);
  }

  /** A socket is gone: decide whether to rejoin. */
  drop1(ws, ev, minDelay = 0) {
    const { opened, welcomed } = this;
    if (ws) detach(ws);
    this.ws = null;
    this.welcomed = false;
    this.inflight = [];
    // A ticket asked on a socket that is gone never comes.
    this.failAll(new ChatterlyError('not_connected', 'the connection dropped'), true);
    for (const name of ['join', 'ping', 'pong', 'renew']) this.clear(name);
    this.renewing = null;
    // Offline, a message waits in the queue without a timeout; it starts again when resent.
    for (const item of this.queue.values()) this.o.timers.clearTimeout(item.timer);
    if (this.state === 'closed' || this.state === 'failed') return;
    if (ev?.code === CLOSE.REPLACED) {
      this.setState('replaced');
      this.emit('error', new ChatterlyError('replaced', 'another connection took this seat'));
      return;
    }
    // Expired, not renewed: a fresh token from the provider, and the rejoin is quiet within the grace.
    if (ev?.code === CLOSE.TOKEN_EXPIRED) return this.dial();
    if (ev?.code === CLOSE.KICKED) {
      const k = this.kicked;
      const until = k ? k.at0 + k.retry_after_ms : undefined;
      const by = k && typeof k.name === 'string' ? k.name : undefined;
      const msg = by ? `${by} removed you from the room.` : 'You were removed from the room.';
      return this.fail('kicked', msg, { by, title: k?.title ?? '', until, retryAfterMs: k?.retry_after_ms });
    }
    if (!this.joinedOnce && !welcomed) return this.diagnose(opened);
    this.retry(minDelay);
  }

  retry(minDelay = 0) {
    const delay = Math.max(minDelay, backoffDelay(this.attempt, { ...this.o.backoff, random: this.o.random }));
    this.attempt += 1;
    const retryAt = this.o.now() + delay;
    this.clear('retry');
    this.t.retry = this.o.timers.setTimeout(() => {
      this.t.retry = null;
      this.dial();
    }, delay);
    this.setState('waiting', { retryAt, attempt: this.attempt });
  }

  /** The first join never got a welcome: say why (a 4xx from the server names it), not retry. */
  async diagnose(opened) {
    if (!opened && this.fetch) {
      try {
        const res = await this.fetch(`${this.url}/api/rooms/${encodeURIComponent(this.room)}/stats`);
        const err = res.status >= 400 && res.status < 500 ? (await res.json().catch(() => null))?.error : null;
        if (typeof err?.code === 'string') return this.fail(err.code, err.message);
      } catch {}
    }
    if (this.state !== 'closed')
      this.fail('unreachable', 'Could not connect to the chat server. Check your connection and try again.');
  }

  /** Stop for good with `code`: the open() promise rejects, or an `error` event says it. */
  fail(code, message, extra) {
    const err = new ChatterlyError(code, message, extra);
    this.shutDown(code);
    // A kick's or a ban's particulars (who, until when) travel with the state.
    const { by, title, until, retryAfterMs } = err;
    this.setState('failed', { code, message: err.message, by, title, until, retryAfterMs });
    if (this.settle && !this.joinedOnce) this.settle.reject(err);
    else this.emit('error', err);
    this.failAll(err);
  }

  failAll(err, uploadsOnly) {
    for (const u of this.uploads.splice(0)) u.reject(err);
    if (uploadsOnly) return;
    for (const item of this.queue.values()) this.settleItem(item, null, err);
    for (const a of this.actions.splice(0)) this.settleAction(a, null, err);
  }

  startPing() {
    this.clear('ping');
    this.t.ping = this.o.timers.setInterval(() => {
      if (!this.raw('ping')) return;
      const ws = this.ws;
      this.clear('pong');
      this.t.pong = this.o.timers.setTimeout(() => {
        if (ws === this.ws) this.giveUp(ws, 'keepalive timeout');
      }, this.o.pongTimeoutMs);
    }, this.o.pingIntervalMs);
  }

  /** Before the token expires (`exp`: unix ms), ask the provider for a new one and send it as
   * `auth`; the server's `{"type":"auth","exp"}` makes it ours and schedules the next one. */
  scheduleRenewal(exp = tokenExpiry(this.token)) {
    this.clear('renew');
    if (typeof this.o.token !== 'function' || exp === null) return;
    const left = exp - this.o.now();
    const delay = Math.max(0, left - Math.min(this.o.renewBeforeMs, left / 2));
    this.t.renew = this.o.timers.setTimeout(async () => {
      this.t.renew = null;
      let token;
      try {
        token = await this.o.token();
      } catch (err) {
        this.emit('error', new ChatterlyError('token_failed', `the token provider failed: ${err?.message ?? err}`));
        return; // the socket closes with 4004 at expiry, and the rejoin asks again
      }
      if (this.welcomed && this.raw(JSON.stringify({ type: 'auth', token }))) this.renewing = token;
    }, delay);
  }

  // ---- frames in ----------------------------------------------------------------------------

  frame(f) {
    const t = f.type;
    if (t === 'welcome') return this.welcome(f);
    if (t === 'error') return this.error(f);
    // Sent just before a 4003 close: kept for the error the close raises. The ban's end is
    // counted from when the frame arrived (our clock, not the server's).
    if (t === 'kicked' && Number.isFinite(f.retry_after_ms)) this.kicked = { ...f, at0: this.o.now() };
    if (!this.welcomed) return;
    if (t === 'upload_ticket') return this.uploads.shift()?.resolve(f);
    if (t === 'message') {
      if (isMessageFrame(f)) this.message(f, true);
    } else if (t === 'auth') {
      // Our renewal was taken: its token is the socket's now, until `exp` (unix seconds).
      if (this.renewing && isId(f.exp)) {
        this.token = this.renewing;
        this.renewing = null;
        this.scheduleRenewal(f.exp * 1000);
      }
    } else if (isChange(f)) this.change(f, true);
    else if (t === 'join' || t === 'leave' || t === 'away' || t === 'back') {
      if (typeof f.name !== 'string') return;
      const k = this.key(f.name);
      if ((t === 'join' || t === 'back') && f.owner === true) this.ownerSet.add(k);
      if (t === 'join' || t === 'back') this.verifiedSet[f.verified === true ? 'add' : 'delete'](k);
      if (t === 'join') this.addMember(f.name);
      else if (t === 'leave') this.removeMember(k);
      else if (this.memberList.some((n) => this.key(n) === k)) {
        if (t === 'away') this.awaySet.add(k);
        else this.awaySet.delete(k);
      }
      this.emit(t, { name: f.name, at: f.at, verified: this.verifiedSet.has(k) });
      this.emitMembers();
    } else if (t === 'presence') {
      if (Array.isArray(f.members)) this.resetMembers(f.members, [], f.count, f.verified);
      else if (isId(f.count)) {
        this.count = f.count;
        for (const n of f.left ?? []) this.removeMember(this.key(n));
        for (const n of f.joined ?? []) this.addMember(n, f.verified ?? []);
        this.memberList = this.memberList.slice(-20); // a crowd lists its latest arrivals
      }
      this.emitMembers();
    } else if (t === 'typing') {
      if (typeof f.name === 'string' && this.key(f.name) !== this.key(this.name)) this.emit('typing', { name: f.name });
    } else if (t === 'read' && isId(f.id) && f.id > this.readId) {
      // Another device or tab of ours read further.
      this.readId = f.id;
      this.emit('read', { id: f.id });
    }
  }

  welcome(f) {
    if (this.welcomed) return;
    const ws = this.ws;
    const first = !this.joinedOnce;
    const since = this.lastId;
    this.welcomed = true;
    this.joinedOnce = true;
    this.attempt = 0;
    this.clear('join');
    if (typeof f.name === 'string' && f.name) this.name = f.name;
    this.resetMembers(f.members, f.away, f.count, f.verified);
    const entries = (Array.isArray(f.history) ? f.history : []).filter((e) => isMessageEntry(e) || isChange(e));
    entries.sort((a, b) => a.id - b.id);
    const version = Math.max(isId(f.last_id) ? f.last_id : 0, entries.at(-1)?.id ?? 0);
    const r = this.roomState;
    Object.assign(r, { topic: typeof f.topic === 'string' ? f.topic : '', locked: f.locked === true });
    r.title = typeof f.title === 'string' ? f.title : '';
    this.ownerSet = new Set(
      (Array.isArray(f.owners) ? f.owners : []).filter((n) => typeof n === 'string').map((n) => this.key(n)),
    );
    if (f.owner === true) this.ownerSet.add(this.key(this.name));
    r.owner = f.owner === true;
    r.version = version;
    this.readId = isId(f.read_id) ? f.read_id : 0;
    this.emit('welcome', {
      room: f.room ?? this.room,
      name: this.name,
      first,
      owner: r.owner,
      readId: this.readId,
      frame: f,
    });
    this.emit('room', this.roomView());
    this.emitMembers();
    this.setState('connected');
    this.startPing();
    this.scheduleRenewal();
    // A resume's history is what was said while we were away: `missed`, not the first history.
    for (const e of entries) this.entry(e, version, false, !first || this.resume);
    this.lastId = Math.max(this.lastId, version);
    if (first && this.settle) this.settle.resolve(this);
    // More was missed than a welcome holds: page the gap before resending anything that may be in it.
    if (f.truncated === true && entries.length > 0 && since < entries[0].id - 1) {
      this.gap = { after: since, before: entries[0].id, since };
      this.resend(true);
      this.fill(ws);
      return;
    }
    // Truncated with nothing missing in between: CHANGES_CAP deleted changes after `since`.
    if (f.truncated === true && !first) this.refresh(since + 1);
    this.resend();
  }

  /** Changes after the resume's `since` were deleted (CHANGES_CAP), so messages we hold from
   * before it may be stale: take their current state (`?before=` pages) down to our oldest. */
  async refresh(before) {
    try {
      for (const low = this.oldest(); low !== null && before > low; ) {
        const page = (await this.get(`before=${before}&limit=${PAGE}`)).filter(isMessageEntry);
        for (const m of page) if (this.states.has(m.id)) this.emit('update', this.snapshot(m, this.lastId));
        if (page.length < PAGE) return;
        before = Math.min(...page.map((m) => m.id));
      }
    } catch {} // best effort: the messages after `since` are exact anyway
  }

  /** Pages the gap after a truncated resume (`?after=`), retrying with backoff. */
  async fill(ws = this.ws) {
    const gap = this.gap;
    try {
      for (let pages = 0; gap === this.gap && pages < 50; pages++) {
        const page = await this.get(`after=${gap.after}&limit=${PAGE}`);
        gap.stale ||= page.truncated; // from before the changes floor
        const list = page
          .filter((e) => (isMessageEntry(e) || isChange(e)) && e.id > gap.after && e.id < gap.before)
          .sort((a, b) => a.id - b.id);
        if (gap !== this.gap) return;
        for (const e of list) this.entry(e, this.lastId, false, true);
        if (page.length < PAGE || list.length === 0 || list.at(-1).id >= gap.before - 1) break;
        gap.after = list.at(-1).id;
      }
    } catch {
      if (gap !== this.gap) return;
      const delay = backoffDelay(gap.attempt ?? 0, { base: 1000, max: 30000, random: this.o.random });
      gap.attempt = (gap.attempt ?? 0) + 1;
      this.clear('gap');
      this.t.gap = this.o.timers.setTimeout(() => {
        this.t.gap = null;
        this.fill();
      }, delay);
      this.emit('gap', { state: 'retrying', retryAt: this.o.now() + delay });
      return;
    }
    if (gap !== this.gap) return;
    this.gap = null;
    if (gap.attempt) this.emit('gap', { state: 'filled' });
    if (gap.stale) this.refresh(gap.since + 1);
    if (ws === this.ws) this.resend();
  }

  async get(query) {
    const res = await this.fetch(`${this.url}/api/rooms/${encodeURIComponent(this.room)}/messages?${query}`);
    if (!res.ok) throw new ChatterlyError('history_failed', `history answered ${res.status}`);
    const body = await res.json();
    if (!Array.isArray(body?.messages)) throw new ChatterlyError('history_failed', 'history answered no messages');
    body.messages.truncated = body.truncated === true;
    return body.messages;
  }

  /** Whatever is queued and not on this socket never reached the server (the welcome or the gap
   * would have held its echo): send it now, in order. */
  resend(gapOpen = false) {
    if (!this.welcomed) return;
    for (const item of this.queue.values()) {
      // While a gap is open, one that went out before may be stored in it: it waits for the gap.
      if (!this.inflight.includes(item.nonce) && !(gapOpen && item.transmitted)) this.transmit(item);
    }
  }

  transmit(item) {
    const f = { type: 'message', text: item.text, nonce: item.nonce };
    if (item.replyTo !== undefined) f.reply_to = item.replyTo;
    if (item.files) f.files = item.files;
    if (!this.raw(JSON.stringify(f))) return;
    this.inflight.push(item.nonce);
    item.transmitted = true;
    // The timeout runs from the moment the frame goes out: offline, the queue waits.
    this.o.timers.clearTimeout(item.timer);
    if (!(item.timeoutMs > 0)) return; // 0: no timeout
    item.timer = this.o.timers.setTimeout(() => {
      this.settleItem(
        item,
        null,
        new ChatterlyError('timeout', `no answer within ${item.timeoutMs} ms`, { nonce: item.nonce }),
      );
    }, item.timeoutMs);
  }

  settleItem(item, message, err) {
    if (!this.queue.delete(item.nonce)) return;
    this.o.timers.clearTimeout(item.timer);
    const i = this.inflight.indexOf(item.nonce);
    if (i >= 0) this.inflight.splice(i, 1);
    if (message) item.resolve(message);
    else item.reject(err);
  }

  entry(e, version, live, missed = false) {
    if (isMessageEntry(e)) this.message(e, live, version, missed);
    else this.change(e, live);
  }

  message(m, live, version = m.id, missed = false) {
    this.lastId = Math.max(this.lastId, m.id);
    const known = this.states.has(m.id);
    const view = this.snapshot(m, version);
    if (known) this.emit('update', view);
    else this.emit('message', view, { live, missed });
    const item = typeof m.nonce === 'string' && this.mine(m) ? this.queue.get(m.nonce) : null;
    if (item) this.settleItem(item, view);
  }

  change(f, live) {
    this.lastId = Math.max(this.lastId, f.id);
    if (ROOM_CHANGES.has(f.type)) {
      const r = this.roomState;
      if (f.id > r.version && f.type !== 'kick') {
        r.version = f.id;
        if (f.type === 'topic' && typeof f.text === 'string') r.topic = f.text;
        if (f.type === 'title' && typeof f.text === 'string') r.title = f.text;
        if (f.type === 'lock' && typeof f.locked === 'boolean') r.locked = f.locked;
      }
      this.emit('room', { ...this.roomView(), change: f, live });
    } else {
      for (const v of this.apply(f)) this.emit('update', v);
    }
    const i = this.actions.findIndex((a) => a.match(f));
    if (i >= 0 && this.mine(f)) this.settleAction(this.actions.splice(i, 1)[0], f);
  }

  mine(f) {
    return typeof f.name === 'string' && this.key(f.name) === this.key(this.name);
  }

  error(f) {
    const code = typeof f.code === 'string' ? f.code : 'error';
    const err = new ChatterlyError(code, typeof f.message === 'string' ? f.message : code, {
      retryAfterMs: Number.isFinite(f.retry_after_ms) ? f.retry_after_ms : undefined,
      target: f.target,
      nonce: typeof f.nonce === 'string' ? f.nonce : undefined,
    });
    if (!this.welcomed) {
      if (JOIN_ERRORS.has(code) || (code === 'rate_limited' && !this.joinedOnce)) {
        return this.fail(code, err.message, err);
      }
      if (code === 'rate_limited' && this.ws) return this.giveUp(this.ws, 'rate limited', err.retryAfterMs);
      return this.emit('error', err);
    }
    // A refused renewal (its token check may be rate limited too): the old token stays until
    // it expires, then the socket closes with 4004 and the rejoin asks the provider again.
    if (code === 'unauthorized' || (this.renewing && code === 'rate_limited' && f.nonce == null && f.target == null)) {
      this.renewing = null;
      return this.emit('error', err);
    }
    // An upload's refusal names neither nonce nor target: the oldest upload waiting is it.
    if (UPLOAD_ERRORS.has(code) && this.uploads.length) return this.uploads.shift().reject(err);
    // The server answers a socket's frames in order: an error names its frame by nonce (a
    // message) or target (an edit, delete or react); a moderation error names neither.
    let item = err.nonce !== undefined ? this.queue.get(err.nonce) : null;
    let action = null;
    if (err.target !== undefined) action = this.actions.find((a) => a.target === err.target && a.sent);
    else if (!item && err.nonce === undefined) {
      if (MESSAGE_ERRORS.has(code) && this.inflight.length > 0) item = this.queue.get(this.inflight[0]);
      else action = this.actions.find((a) => a.target === undefined && a.sent);
    }
    if (item) return this.settleItem(item, null, err);
    if (action) {
      this.actions.splice(this.actions.indexOf(action), 1);
      return this.settleAction(action, null, err);
    }
    this.emit('error', err); // tied to no call of ours
  }

  /** Sends a change frame; the promise waits for its echo (a change with our name), an error, or the timeout. */
  act(frame, match, target) {
    if (!this.welcomed) return Promise.reject(new ChatterlyError('not_connected', 'not connected to the room'));
    return new Promise((resolve, reject) => {
      const a = { match, target, resolve, reject, sent: false };
      if (this.o.timeoutMs > 0) {
        a.timer = this.o.timers.setTimeout(() => {
          const i = this.actions.indexOf(a);
          if (i >= 0) this.actions.splice(i, 1);
          reject(new ChatterlyError('timeout', `no answer within ${this.o.timeoutMs} ms`, { target }));
        }, this.o.timeoutMs);
      }
      this.actions.push(a);
      a.sent = this.raw(JSON.stringify(frame));
      if (!a.sent) {
        this.actions.pop();
        this.settleAction(a, null, new ChatterlyError('not_connected', 'not connected to the room'));
      }
    });
  }

  settleAction(a, change, err) {
    this.o.timers.clearTimeout(a.timer);
    if (change) a.resolve(change);
    else a.reject(err);
  }

  // ---- members and room -----------------------------------------------------------------------

  resetMembers(list, away, count, verified) {
    this.memberList = names(list);
    const keys = new Set(this.memberList.map(this.key));
    const known = (l) =>
      new Set(
        names(l)
          .map(this.key)
          .filter((k) => keys.has(k)),
      );
    this.awaySet = known(away);
    this.verifiedSet = known(verified);
    this.count = isId(count) ? count : null;
  }
  /** `verified`: a crowd's presence lists the verified among those it names. */
  addMember(name, verified) {
    if (typeof name !== 'string') return;
    const k = this.key(name);
    this.awaySet.delete(k);
    if (names(verified).includes(name)) this.verifiedSet.add(k);
    else if (verified) this.verifiedSet.delete(k);
    if (!this.memberList.some((n) => this.key(n) === k)) this.memberList = [...this.memberList, name];
  }
  removeMember(k) {
    this.awaySet.delete(k);
    this.ownerSet.delete(k);
    this.verifiedSet.delete(k);
    this.memberList = this.memberList.filter((n) => this.key(n) !== k);
  }
  emitMembers() {
    const { members, away, memberCount: count, owners, verified } = this;
    this.emit('members', { members, away, count, owners, verified });
  }
  roomView() {
    return { topic: this.topic, title: this.title, locked: this.locked, owner: this.owner };
  }
  oldest() {
    let min = null;
    for (const id of this.states.keys()) if (min === null || id < min) min = id;
    return min;
  }

  // ---- message states: each message's text, tombstone, quote and reactions ----------------

  /** A message frame in some state as of `version` (the newest id its sender knew). */
  snapshot(m, version = m.id) {
    let s = this.states.get(m.id);
    if (!s) {
      s = { id: m.id, name: m.name, at: m.at, nonce: m.nonce, text: '', tv: -1, editedAt: null, deleted: false };
      s.mentions = [];
      // Whether its author was a verified member when we first saw it (frames carry no sub).
      s.verified = this.verifiedSet.has(this.key(m.name));
      s.replyTo = isId(m.reply_to) ? m.reply_to : null;
      s.files = Array.isArray(m.files) ? m.files : [];
      s.reply = null;
      s.reactions = new Map(); // emoji -> {count, names: Map(key -> {name, on, v}), v}
      this.states.set(m.id, s);
      if (s.replyTo !== null) {
        if (!this.replies.has(s.replyTo)) this.replies.set(s.replyTo, new Set());
        this.replies.get(s.replyTo).add(s.id);
      }
      if (this.states.size > KEEP) this.drop(this.states.keys().next().value);
    }
    if (m.deleted === true) tombstone(s);
    if (!s.deleted && version >= s.tv) {
      s.text = m.text;
      s.mentions = strings(m.mentions);
      s.tv = version;
      if (Number.isFinite(m.edited_at)) s.editedAt = m.edited_at;
    }
    const q = m.reply;
    if (q && typeof q.name === 'string' && !s.reply?.deleted) {
      s.reply = { name: q.name, text: q.deleted === true ? '' : String(q.text ?? ''), deleted: q.deleted === true };
    }
    if (!s.deleted) setReactions(s, Array.isArray(m.reactions) ? m.reactions : [], version, this.key);
    return this.view(s);
  }

  /** A message change: the views it changed (its message, and replies that quote it). */
  apply(c) {
    const s = this.states.get(c.target);
    if (!s || s.deleted) return [];
    const out = [];
    const quotes = (fn) => {
      for (const rid of this.replies.get(s.id) ?? []) {
        const r = this.states.get(rid);
        if (r && !r.reply?.deleted) {
          r.reply = fn(r.reply);
          out.push(this.view(r));
        }
      }
    };
    if (c.type === 'edit') {
      if (c.id <= s.tv || typeof c.text !== 'string') return [];
      Object.assign(s, { text: c.text, tv: c.id, editedAt: Number.isFinite(c.at) ? c.at : this.o.now() });
      s.mentions = strings(c.mentions);
      out.push(this.view(s));
      quotes((q) => q && { ...q, text: [...c.text].slice(0, QUOTE_CHARS).join('') });
    } else if (c.type === 'delete') {
      tombstone(s);
      out.push(this.view(s));
      quotes((q) => ({ name: q?.name ?? s.name, text: '', deleted: true }));
    } else if (typeof c.emoji === 'string' && typeof c.name === 'string') {
      const r = s.reactions.get(c.emoji) ?? { count: 0, names: new Map(), v: 0 };
      s.reactions.set(c.emoji, r);
      const k = this.key(c.name);
      const cur = r.names.get(k);
      if (cur && c.id <= cur.v) return [];
      const on = c.on !== false;
      // The change carries the count after it (set, not stepped); older servers sent none.
      if (Number.isSafeInteger(c.count) && c.count >= 0) {
        if (c.id > r.v) r.count = c.count;
      } else if ((cur?.on ?? false) !== on) r.count = Math.max(0, r.count + (on ? 1 : -1));
      r.names.set(k, { name: c.name, on, v: c.id });
      r.v = Math.max(r.v, c.id);
      out.push(this.view(s));
    }
    return out;
  }

  drop(id) {
    const s = this.states.get(id);
    if (!s) return;
    this.states.delete(id);
    this.replies.delete(id);
    if (s.replyTo !== null) this.replies.get(s.replyTo)?.delete(id);
  }

  view(s) {
    const reactions = [];
    const me = this.key(this.name);
    for (const [emoji, r] of s.reactions) {
      const names = [...r.names.values()].filter((e) => e.on).map((e) => e.name);
      // What a change said of us, else the welcome's word (its summary names only a few).
      const mine = r.names.get(me)?.on ?? r.me === true;
      if (r.count > 0) reactions.push({ emoji, count: r.count, names, mine });
    }
    const v = { id: s.id, name: s.name, text: s.text, at: s.at, replyTo: s.replyTo, reply: s.reply, files: s.files };
    Object.assign(v, {
      editedAt: s.editedAt,
      deleted: s.deleted,
      reactions,
      mentions: s.mentions,
      own: this.key(s.name) === me,
    });
    v.verified = s.verified;
    if (s.nonce !== undefined) v.nonce = s.nonce;
    return v;
  }
}

/** A frame's list of names (`mentions`), strings only. */
function strings(list) {
  return Array.isArray(list) ? list.filter((n) => typeof n === 'string') : [];
}

function tombstone(s) {
  Object.assign(s, { deleted: true, text: '', mentions: [], tv: Number.MAX_SAFE_INTEGER, files: [] });
  s.reactions.clear();
}

/** A snapshot's reactions win over every (emoji, member) not changed by a newer change. Each
 * emoji comes as `{emoji, names}` or `{emoji, count, names}` (a few names of many). */
function setReactions(s, list, version, key) {
  const listed = new Map();
  for (const r of list) {
    if (typeof r?.emoji !== 'string' || !Array.isArray(r.names)) continue;
    const names = new Map(r.names.filter((n) => typeof n === 'string').map((n) => [key(n), n]));
    listed.set(r.emoji, { names, count: isId(r.count) ? r.count : names.size, me: r.me === true });
  }
  for (const [emoji, r] of s.reactions) {
    if (r.v > version) continue;
    const l = listed.get(emoji);
    for (const [k, e] of r.names) {
      // A crowd's emoji lists a few names of many: one not listed may still be on.
      if (e.v > version || (l && l.count > l.names.size)) continue;
      e.on = l?.names.has(k) ?? false;
      e.v = version;
    }
    if (!l) {
      r.count = 0;
      r.me = false;
    }
  }
  for (const [emoji, l] of listed) {
    const r = s.reactions.get(emoji) ?? { count: 0, names: new Map(), v: 0 };
    s.reactions.set(emoji, r);
    if (r.v > version) continue;
    for (const [k, name] of l.names) if (!r.names.has(k)) r.names.set(k, { name, on: true, v: version });
    r.count = l.count;
    r.me = l.me;
    r.v = version;
  }
}

function detach(ws) {
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
}
