// Our messages that wait for the server's answer: the echo of the stored message, or an error.
// Each has a nonce; the server echoes it in the message frame and in the error frame it caused.

import { randomHex } from './util.js';

/**
 * @typedef {object} PendingItem
 * @property {string} nonce
 * @property {string} text
 * @property {number} at            when it was written (client clock)
 * @property {boolean} transmitted  it went out on some socket, so the server may have stored it
 */

export class PendingMessages {
  /** @param {{cryptoImpl?: Crypto}} [o] */
  constructor({ cryptoImpl = globalThis.crypto } = {}) {
    this.cryptoImpl = cryptoImpl;
    /** @type {Map<string, PendingItem>} nonce -> item, in send order */
    this.items = new Map();
    /** nonces sent on the current socket and not answered yet, in send order */
    this.inflight = [];
    this.counter = 0;
  }

  get size() {
    return this.items.size;
  }

  /** A new message to send; its nonce is random (unguessable by others) plus a counter. */
  add(text, at) {
    this.counter += 1;
    const item = { nonce: `${randomHex(8, this.cryptoImpl)}-${this.counter}`, text, at, transmitted: false };
    this.items.set(item.nonce, item);
    return item;
  }

  /** The item went out on the current socket. */
  transmitted(item) {
    item.transmitted = true;
    this.inflight.push(item.nonce);
  }

  /** The socket is gone: nothing is in flight any more (the items stay pending). */
  socketClosed() {
    this.inflight = [];
  }

  /** A stored message with our name arrived: the pending item it answers, removed, or null. */
  confirm(message) {
    const nonce = message.nonce;
    if (typeof nonce !== 'string' || !this.items.has(nonce)) return null;
    const item = this.items.get(nonce);
    this.items.delete(nonce);
    const i = this.inflight.indexOf(nonce);
    // The server answers a socket's frames in order: anything sent before this echo was answered.
    if (i >= 0) this.inflight.splice(0, i + 1);
    return item;
  }

  /**
   * A message error arrived: the pending item it refuses, removed, or null. The error names its
   * message by nonce; an error without one (a frame too large to parse, an older server) belongs
   * to the oldest unanswered message, since the server answers in order.
   */
  reject(errorFrame) {
    let nonce = typeof errorFrame.nonce === 'string' ? errorFrame.nonce : null;
    if (nonce !== null && !this.items.has(nonce)) return null;
    if (nonce === null) nonce = this.inflight[0] ?? null;
    if (nonce === null) return null;
    const item = this.items.get(nonce) ?? null;
    this.items.delete(nonce);
    const i = this.inflight.indexOf(nonce);
    if (i >= 0) this.inflight.splice(i, 1);
    return item;
  }

  /**
   * What to send after a welcome, in order. An item not in the welcome's history never reached
   * the server, unless the history was cut short (`gapOpen`): then an item that went out before
   * may be stored in the gap, and is held back until the gap is filled, so it is never stored twice.
   */
  toResend({ gapOpen = false } = {}) {
    const out = [];
    for (const item of this.items.values()) {
      if (this.inflight.includes(item.nonce)) continue;
      if (gapOpen && item.transmitted) continue;
      out.push(item);
    }
    return out;
  }
}
