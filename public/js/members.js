// The member list of one room, as the welcome, join and leave frames describe it. Two names are
// one member when their keys match (names.js); each key is computed once, as a room may hold
// a thousand members.

import { nameKey } from './names.js';

export class MemberList {
  constructor() {
    /** @type {string[]} in join order, as typed */
    this.names = [];
    this.keys = new Set();
  }

  /** A welcome: the full list, in join order. */
  reset(members) {
    this.names = Array.isArray(members) ? members.filter((m) => typeof m === 'string') : [];
    this.keys = new Set(this.names.map(nameKey));
    return this.names;
  }

  /** Someone joined; returns whether the list changed (a name already listed is kept once). */
  join(name) {
    const key = nameKey(name);
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    this.names = [...this.names, name];
    return true;
  }

  /** Someone left; returns whether the list changed. */
  leave(name) {
    const key = nameKey(name);
    if (!this.keys.delete(key)) return false;
    this.names = this.names.filter((m) => nameKey(m) !== key);
    return true;
  }

  has(name) {
    return this.keys.has(nameKey(name));
  }
}
