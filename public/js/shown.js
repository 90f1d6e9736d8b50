// Which messages are shown, so none is shown twice, with a cap on how many are kept. Message ids
// strictly increase in a room, so what is kept is everything from `floor` up: older messages were
// dropped from the screen (or never loaded) and come back only through the history endpoint.

import { WELCOME_HISTORY } from './protocol.js';

/** Items (messages and system lines) the list keeps while the reader follows the newest. */
export const KEEP_ITEMS = 500;
/** Items the list keeps at most, even while the reader is scrolled up. */
export const MAX_ITEMS = 1500;
/** Messages per page when the reader scrolls up for older ones. */
export const OLDER_PAGE = 50;

/** How many of the oldest items to drop from a list of `count` items. */
export function trimCount(count, atBottom, { keep = KEEP_ITEMS, max = MAX_ITEMS } = {}) {
  if (atBottom && count > keep) return count - keep;
  if (count > max) return count - max;
  return 0;
}

export class ShownIds {
  constructor() {
    this.ids = new Set();
    this.floor = 0; // ids below this are not shown
    this.lastId = 0; // highest id shown: a rejoin asks for what came after it
    this.hasOlder = false; // the server may have messages below `floor`
  }

  get size() {
    return this.ids.size;
  }

  /** The first welcome's history, oldest first: older messages exist if it was full. */
  start(history) {
    if (history.length === 0) return;
    this.floor = history[0].id;
    this.hasOlder = history.length >= WELCOME_HISTORY && history[0].id > 1;
  }

  /** A live, history or gap message: whether to show it (never twice, never below the floor). */
  accept(id) {
    if (id < this.floor || this.ids.has(id)) return false;
    this.ids.add(id);
    if (id > this.lastId) this.lastId = id;
    return true;
  }

  /** A change event: it counts for `since` like a message. */
  seen(id) {
    if (id > this.lastId) this.lastId = id;
  }

  /** Whether the reader may load another page of older messages now. */
  canLoadOlder(itemCount) {
    return this.hasOlder && itemCount + OLDER_PAGE <= MAX_ITEMS;
  }

  /**
   * A page of older messages (`before` = the floor), oldest first: the ones to show. A short page
   * means the start of the history was reached.
   */
  acceptOlder(page, limit = OLDER_PAGE) {
    const fresh = page.filter((m) => m.id < this.floor && !this.ids.has(m.id));
    for (const m of fresh) this.ids.add(m.id);
    if (page.length > 0) this.floor = Math.min(this.floor, ...page.map((m) => m.id));
    this.hasOlder = page.length >= limit && this.floor > 1;
    return fresh;
  }

  /** The list dropped these (its oldest) messages: they can be loaded again from the server. */
  forget(ids) {
    if (ids.length === 0) return;
    for (const id of ids) this.ids.delete(id);
    this.floor = this.ids.size > 0 ? Math.min(...this.ids) : this.lastId + 1;
    this.hasOlder = true;
  }
}
