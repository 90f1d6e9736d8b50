// The member list of one room, as the welcome, join, leave, away, back and presence frames describe it.
// Past the server's PRESENCE_LIST_MAX a room sends a count and the latest names instead of the
// whole list (docs/protocol.md, "Presence in a crowd"): then `count` is set and `names` holds the
// latest joiners only. Two names are
// one member when their keys match (names.js); each key is computed once, as a room may hold
// a thousand members.

import { nameKey } from './names.js';

/** How many of the latest joiners a crowd's list keeps (the server names 20 at a time). */
const CROWD_NAMES = 20;

export class MemberList {
  constructor() {
    /** @type {string[]} in join order, as typed */
    this.names = [];
    this.keys = new Set();
    /** keys of members whose socket dropped and who may come back (presence grace) */
    this.awayKeys = new Set();
    /** @type {number|null} the room's member count when the server sends a count, not a list */
    this.count = null;
  }

  /** How many members the room has. */
  get size() {
    return this.count ?? this.names.length;
  }

  /**
   * A `presence` frame: the whole list again (`members`), or the new count with the latest
   * joiners and leavers. Returns whether anything changed.
   */
  presence(frame) {
    if (Array.isArray(frame.members)) {
      this.reset(frame.members);
      return true;
    }
    if (!Number.isSafeInteger(frame.count)) return false;
    this.count = frame.count;
    for (const name of Array.isArray(frame.left) ? frame.left : []) {
      if (typeof name === 'string') this.leave(name);
    }
    for (const name of Array.isArray(frame.joined) ? frame.joined : []) {
      if (typeof name === 'string') this.join(name);
    }
    // Only the latest joiners are named in a crowd.
    if (this.names.length > CROWD_NAMES) {
      for (const gone of this.names.slice(0, this.names.length - CROWD_NAMES)) this.leave(gone);
    }
    return true;
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

  /** A welcome: the full list, in join order (or in a crowd the latest joiners and `count`). */
  reset(members, away = [], count = null) {
    this.count = Number.isSafeInteger(count) ? count : null;
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
