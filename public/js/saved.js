// What the browser remembers between visits: the last name used (localStorage), this tab's
// session secret and the room it is in (sessionStorage, so a reload rejoins). Stores are
// parameters; private browsing modes that refuse storage are treated as empty.

import { makeSession } from './connection.js';
import { MAX_SESSION_CHARS, MIN_SESSION_CHARS } from './protocol.js';
import { isValidRoom, nameProblem } from './util.js';

const NAME_KEY = 'chatterly.name';
const SESSION_KEY = 'chatterly.session';
const ACTIVE_KEY = 'chatterly.active';
const OWNER_KEY_PREFIX = 'chatterly.owner.';
const OWNER_KEY_RE = /^[0-9a-f]{64}$/;
const SESSION_RE = new RegExp(`^[\\x21-\\x7e]{${MIN_SESSION_CHARS},${MAX_SESSION_CHARS}}$`);

function get(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}

function set(store, key, value) {
  try {
    store.setItem(key, value);
  } catch {
    /* private mode */
  }
}

function remove(store, key) {
  try {
    store.removeItem(key);
  } catch {
    /* private mode */
  }
}

export class Saved {
  constructor({ local = globalThis.localStorage, session = globalThis.sessionStorage, cryptoImpl } = {}) {
    this.local = local;
    this.session = session;
    this.cryptoImpl = cryptoImpl;
  }

  get name() {
    return get(this.local, NAME_KEY) || '';
  }

  set name(value) {
    set(this.local, NAME_KEY, value);
  }

  /** This tab's session secret, made on first use (a copied tab keeps its parent's: a takeover). */
  sessionSecret() {
    let s = get(this.session, SESSION_KEY);
    if (!s || !SESSION_RE.test(s)) {
      s = makeSession(this.cryptoImpl);
      set(this.session, SESSION_KEY, s);
    }
    return s;
  }

  /** The owner key kept for `room` (this browser made the room, or was given the key), or ''. */
  ownerKey(room) {
    const key = get(this.local, OWNER_KEY_PREFIX + room) || '';
    return OWNER_KEY_RE.test(key) ? key : '';
  }

  /** Keep (or, with '', forget) the owner key of `room`, so its owner is the owner on return. */
  setOwnerKey(room, key) {
    if (key && OWNER_KEY_RE.test(key)) set(this.local, OWNER_KEY_PREFIX + room, key);
    else remove(this.local, OWNER_KEY_PREFIX + room);
  }

  /** This tab is in `room` as `name`. */
  enter(room, name) {
    set(this.session, ACTIVE_KEY, JSON.stringify({ room, name }));
  }

  leave() {
    remove(this.session, ACTIVE_KEY);
  }

  /**
   * The room to go straight back into after a reload, or null: the tab was in a room, the link
   * does not point to another one, and what was saved is still valid.
   */
  rejoin(urlRoom) {
    let active = null;
    try {
      active = JSON.parse(get(this.session, ACTIVE_KEY) || 'null');
    } catch {
      return null;
    }
    if (!active || typeof active.room !== 'string' || typeof active.name !== 'string') return null;
    if (urlRoom && urlRoom !== active.room) return null;
    if (!isValidRoom(active.room) || nameProblem(active.name)) return null;
    return { room: active.room, name: active.name };
  }
}

/** A store like localStorage that lives as long as the page (a widget keeps nothing in the host's storage). */
export function memoryStore() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}
