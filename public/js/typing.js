// Who is shown as typing (our own typing frames are the SDK's: public/sdk/chatterly.js).
// Timers and clock are parameters, so both run in Node with a manual clock.

import { sameName } from '../shared/names.js';
import { TYPING_SHOW_MS } from './protocol.js';

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
