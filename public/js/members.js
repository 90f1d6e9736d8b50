// The member list of one room, as the welcome, join, leave, away and back frames describe it. Two names are
// one member when their keys match (names.js); each key is computed once, as a room may hold
// a thousand members.

import { nameKey } from './names.js';

export class MemberList {
  constructor() {
    /** @type {string[]} in join order, as typed */
    this.names = [];
    this.keys = new Set();
    /** keys of members whose socket dropped and who may come back (presence grace) */
    this.awayKeys = new Set();
  }

  /** Names of the members shown as away, in list order. */
  get away() {
    return this.names.filter((m) => this.awayKeys.has(nameKey(m)));
  }

  /** Someone's socket dropped (`away`) or they came back (`back`); returns whether that changed. */
  setAway(name, away) {
    const key = nameKey(name);
    if (!this.keys.has(key) || this.awayKeys.has(key) === away) return false;
    if (away) this.awayKeys.add(key);
    else this.awayKeys.delete(key);
    return true;
  }

  /** A welcome: the full list, in join order. */
  reset(members, away = []) {
    this.names = Array.isArray(members) ? members.filter((m) => typeof m === 'string') : [];
    this.keys = new Set(this.names.map(nameKey));
    const awayKeys = Array.isArray(away) ? away.filter((m) => typeof m === 'string').map(nameKey) : [];
    this.awayKeys = new Set(awayKeys.filter((k) => this.keys.has(k)));
    return this.names;
  }

  /** Someone joined; returns whether the list changed (a name already listed is kept once). */
  join(name) {
    const key = nameKey(name);
    if (this.keys.has(key)) return this.awayKeys.delete(key);
    this.keys.add(key);
    this.names = [...this.names, name];
    return true;
  }

  /** Someone left; returns whether the list changed. */
  leave(name) {
    const key = nameKey(name);
    if (!this.keys.delete(key)) return false;
    this.awayKeys.delete(key);
    this.names = this.names.filter((m) => nameKey(m) !== key);
    return true;
  }

  has(name) {
    return this.keys.has(nameKey(name));
  }
}
