// Typing in both directions: how often we tell the room we type, and who is shown as typing.
// Timers and clock are parameters, so both run in Node with a manual clock.

import { TYPING_RELAY_INTERVAL_MS, TYPING_SEND_INTERVAL_MS, TYPING_SHOW_MS } from './protocol.js';
import { sameName } from './util.js'; // names.js once it lands

/**
 * Our typing frames: at most one per `TYPING_SEND_INTERVAL_MS`. When the others show no indicator
 * for us (nothing sent yet, or our message just cleared it), a keystroke inside the quiet window
 * is not lost: one frame goes out when the window ends (cancelled by sending the message).
 */
export class TypingSender {
  /**
   * @param {object} o
   * @param {() => boolean} o.send  sends one typing frame; false when it could not
   * @param {{setTimeout: Function, clearTimeout: Function}} o.timers
   * @param {() => number} o.now
   */
  constructor({ send, timers, now }) {
    this.sendFrame = send;
    this.timers = timers;
    this.now = now;
    this.lastSent = -Infinity;
    this.timer = null;
    this.cleared = true; // the others show no typing indicator for us
  }

  /** A keystroke: returns whether a frame went out now. */
  typing() {
    const t = this.now();
    const wait = this.lastSent + TYPING_SEND_INTERVAL_MS - t;
    if (wait > 0) {
      if (this.cleared && this.timer === null) {
        this.timer = this.timers.setTimeout(() => {
          this.timer = null;
          this.typing();
        }, wait);
      }
      return false;
    }
    if (!this.sendFrame()) return false;
    this.lastSent = t;
    this.cleared = false;
    return true;
  }

  /**
   * We sent a message: the others clear our indicator, so the next keystroke may announce typing
   * sooner, but never faster than the server relays typing frames.
   */
  messageSent() {
    this.lastSent = Math.min(this.lastSent, this.now() - TYPING_SEND_INTERVAL_MS + TYPING_RELAY_INTERVAL_MS);
    this.cancel();
    this.cleared = true;
  }

  cancel() {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

/** Who is typing: a name shows for `TYPING_SHOW_MS` after their last typing frame. */
export class Typists {
  /**
   * @param {object} o
   * @param {(names: string[]) => void} o.onChange
   * @param {{setTimeout: Function, clearTimeout: Function}} o.timers
   * @param {number} [o.showMs]
   */
  constructor({ onChange, timers, showMs = TYPING_SHOW_MS }) {
    this.onChange = onChange;
    this.timers = timers;
    this.showMs = showMs;
    this.expiry = new Map(); // name -> timer id
  }

  get names() {
    return [...this.expiry.keys()];
  }

  start(name) {
    this.timers.clearTimeout(this.expiry.get(name));
    this.expiry.set(
      name,
      this.timers.setTimeout(() => this.stop(name), this.showMs),
    );
    this.onChange(this.names);
  }

  /** Their message or their leave ends the indicator at once. */
  stop(name) {
    let changed = false;
    for (const [key, timer] of this.expiry) {
      if (sameName(key, name)) {
        this.timers.clearTimeout(timer);
        this.expiry.delete(key);
        changed = true;
      }
    }
    if (changed) this.onChange(this.names);
  }

  clear() {
    for (const timer of this.expiry.values()) this.timers.clearTimeout(timer);
    this.expiry.clear();
    this.onChange([]);
  }
}
