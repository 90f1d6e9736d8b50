// The page's connection to one room: the SDK's Room (public/sdk/chatterly.js, the one client
// implementation: join, reconnect, keepalive, acknowledgements, resume, gaps, message states),
// plus what only this page needs: which messages its list shows (shown.js, so scrolling up loads
// older pages and a dropped message is not shown again), and a line of text per room change.
// No DOM access; tests/unit/connection*.test.mjs drive it with a scripted socket.
//
// Events (CustomEvent, data in `detail`):
//   state    {state, retryAt?, attempt?}        'connecting' | 'connected' | 'waiting' | 'replaced' | 'closed' | 'failed'
//   welcome  {room, name, first, owner, readId}  after every successful (re)join
//   read     {id}                               another connection of ours read up to `id`
//   message  {message, own, live}                once per message id, never twice (a Message view)
//   update   {message, own}                      a shown message changed (edit, delete, reaction, quote)
//   room     {topic, title, locked, owner}              the room's topic or lock changed (also on welcome)
//   system   {text, at, kind, live}              a room change to show as a line (topic, lock, kick)
//   older    {messages: [{message, own}], hasOlder} | {error}   a page loaded by loadOlder()
//   members  {members, away, count, owners}              the member list changed (replaced on welcome)
//   join     {name, at} / leave {name, at}       someone else joined / left
//   typing   {name}                              someone else is typing
//   pending  {item}                              a message of ours waits for the server's echo
//   sent     {item, message}                     its echo arrived (or was found in a resume)
//   rejected {item, code, message, retryAfterMs} the server refused it (it is dropped)
//   gap      {state: 'retrying', retryAt} | {state: 'filled'}   missed messages could not be loaded yet / now are
//   failure  {code, message}                     the join failed for good (name taken, kicked, …)
//   notice   {code, message, target?}            an error not tied to one of our messages

import { Room, sessionTag } from '../sdk/chatterly.js';
import { nameKey } from '../shared/names.js';
import { changeText } from './room-state.js';
import { OLDER_PAGE, ShownIds } from './shown.js';
import { randomHex } from './util.js';

export { sessionTag };

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
   * @param {string | (() => Promise<string>)} [o.token]  a join token (a widget's host app gives it)
   */
  constructor({
    room,
    name,
    session,
    origin,
    ownerKey = '',
    token = undefined,
    WebSocketImpl = globalThis.WebSocket,
    fetchImpl = globalThis.fetch?.bind(globalThis),
    timers = globalThis,
    now = () => Date.now(),
    random = Math.random,
    pingIntervalMs = 25000,
    pongTimeoutMs = 10000,
    joinTimeoutMs = 15000,
    backoff = { base: 500, max: 10000 },
  }) {
    super();
    this.room = room;
    this.now = now;
    this.loadingOlder = false;
    this.olderRetryAt = 0; // after a failed page, scrolling does not ask again before this
    this.shown = new ShownIds();
    // A message of ours waits in the list until the server has it: no timeout, as the list
    // shows it pending for as long as it waits.
    const r = new Room({
      url: origin,
      room,
      name,
      session,
      ownerKey,
      ...(token === undefined ? {} : { token }),
      WebSocket: WebSocketImpl,
      fetch: fetchImpl,
      timers,
      now,
      random,
      pingIntervalMs,
      pongTimeoutMs,
      joinTimeoutMs,
      backoff,
      timeoutMs: 0,
      // The server's rule for names that are one member (case, normalization, look-alikes).
      nameKey,
    });
    this.r = r;
    this.retryAt = 0;
    r.on('state', (d) => {
      if (d.state === 'waiting') this.retryAt = d.retryAt;
      this.emit('state', d);
      if (d.state === 'failed') {
        // A kick says who and until when; a ban on join, how long it has left.
        const until = d.until ?? (Number.isFinite(d.retryAfterMs) ? this.now() + d.retryAfterMs : undefined);
        const failure = { code: d.code, message: d.message, by: d.by, title: d.title, until };
        for (const k of ['by', 'title', 'until']) if (failure[k] === undefined) delete failure[k];
        this.emit('failure', failure);
      }
    });
    r.on('welcome', (d) => {
      if (d.first)
        this.shown.start((d.frame.history ?? []).filter((e) => e.type === undefined || e.type === 'message'));
      this.emit('welcome', { room: d.room, name: d.name, first: d.first, owner: d.owner, readId: d.readId });
    });
    r.on('read', (d) => this.emit('read', d));
    r.on('message', (message, { live }) => {
      if (this.shown.accept(message.id)) this.emit('message', { message, own: message.own, live });
    });
    r.on('update', (message) => {
      if (this.shown.ids.has(message.id)) this.emit('update', { message, own: message.own });
    });
    r.on('room', (d) => {
      const { change, live, ...view } = d;
      this.emit('room', view);
      if (change) {
        const target = typeof change.target === 'string' ? change.target : undefined;
        this.emit('system', { text: changeText(change), at: change.at, kind: change.type, live, target });
      }
    });
    r.on('members', (d) => this.emit('members', d));
    r.on('join', (d) => this.emit('join', d));
    r.on('leave', (d) => this.emit('leave', d));
    r.on('typing', (d) => this.emit('typing', d));
    r.on('gap', (d) => this.emit('gap', d));
    r.on('error', (e) => {
      // A failed or replaced room says so in its state.
      if (r.state !== 'failed' && r.state !== 'replaced') this.notice(e);
    });
  }

  get state() {
    return this.r.state;
  }
  get name() {
    return this.r.name;
  }
  get joinedOnce() {
    return this.r.joinedOnce;
  }
  /** The highest id seen (messages and changes): a rejoin asks for what came after it. */
  get lastId() {
    return this.r.lastId;
  }
  /** Tell the room we have read up to `id` (our other connections hear it). */
  read(id) {
    return this.r.read(id);
  }
  /** Our messages waiting for the server's answer. */
  get pending() {
    return this.r.queued;
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  notice(e) {
    this.emit('notice', { code: e.code, message: e.message, target: e.target });
  }

  /** Open the first connection. */
  connect() {
    // A refused first join is a `failed` state (and so a failure event), not a rejection to catch here.
    this.r.open().catch(() => {});
  }

  /** Leave deliberately: close the socket and never reconnect. */
  leave() {
    this.r.close();
  }

  /** Reconnect now instead of waiting for the backoff timer (or after a takeover by another tab). */
  retryNow() {
    this.r.reconnect();
  }

  /** Fill missed messages now instead of waiting for the history retry timer (back online). */
  retryHistory() {
    // Connected, reconnect() only pages a gap now; in any other state it would dial (and after
    // a takeover by another tab, take the name back: that is retryNow's, on the person's word).
    if (this.state === 'connected') this.r.reconnect();
  }

  /**
   * Queue a message: it is shown as pending and sent now, or after the next join.
   * Returns the pending item ({nonce, text}).
   */
  send(text, { replyTo = null, files } = {}) {
    const p = this.r.send(text, { replyTo: replyTo ?? undefined, files });
    const item = { nonce: p.nonce, text, at: this.now() };
    if (Number.isSafeInteger(replyTo)) item.replyTo = replyTo;
    this.emit('pending', { item });
    p.then(
      (message) => this.emit('sent', { item, message }),
      (e) => {
        if (e.code !== 'closed' && e.code !== 'kicked') {
          this.emit('rejected', { item, code: e.code, message: e.message, retryAfterMs: e.retryAfterMs });
        }
      },
    );
    return item;
  }

  /** Upload a file for the next message (the SDK's `room.upload`). */
  upload(file, opts) {
    return this.r.upload(file, opts);
  }

  /** An action's refusal is said as a notice (the list shows the change only once it is made). */
  act(promise) {
    promise.catch((e) => {
      if (e.code !== 'closed' && e.code !== 'kicked') this.notice(e);
    });
    return this.state === 'connected';
  }

  /** Replace the text of one of our messages. */
  edit(id, text) {
    return this.act(this.r.edit(id, text));
  }

  /** Delete a message (ours, or any when we own the room). */
  deleteMessage(id) {
    return this.act(this.r.delete(id));
  }

  /** Toggle our reaction `emoji` on a message. */
  react(id, emoji) {
    return this.act(this.r.react(id, emoji));
  }

  /** Owner: remove a member from the room. */
  kick(name) {
    return this.act(this.r.kick(name));
  }

  /** Owner: lock or unlock the room to new members. */
  lock(locked) {
    return this.act(this.r.lock(locked));
  }

  /** Owner: set the room's display name ('' clears it). */
  setTitle(text) {
    return this.act(this.r.setTitle(text));
  }

  /** Owner: set the room's topic ('' clears it). */
  setTopic(text) {
    return this.act(this.r.setTopic(text));
  }

  /** Tell the room we are typing (at most once every 2 s). */
  typing() {
    return this.r.typing();
  }

  /**
   * Load a page of messages older than the oldest shown (when the reader scrolls up). Resolves
   * after the `older` event; false when there is nothing to load or a load is under way.
   */
  async loadOlder(itemCount = this.shown.size) {
    if (this.loadingOlder || this.now() < this.olderRetryAt || !this.shown.canLoadOlder(itemCount)) return false;
    this.loadingOlder = true;
    try {
      const pages = this.r.history({ before: this.shown.floor, limit: OLDER_PAGE });
      const { value: page = [] } = await pages.next();
      await pages.return();
      if (this.state === 'closed') return false;
      const fresh = this.shown.acceptOlder(page, OLDER_PAGE);
      this.emit('older', { messages: fresh.map((m) => ({ message: m, own: m.own })), hasOlder: this.shown.hasOlder });
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
    this.r.forget(ids);
  }
}
