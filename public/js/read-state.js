// Where the reader left off: the read position the room keeps per member (docs/protocol.md, Read
// positions), the unread messages and mentions after it, and when to tell the room that the
// reader has seen more. No DOM: tested in Node.

export class ReadState {
  constructor() {
    /** The newest id read, here or on another of the member's connections. */
    this.readId = 0;
    /** The newest id this connection told the room about. */
    this.sentId = 0;
    /** Unread messages from others: id -> whether it mentions me. */
    this.unreadIds = new Map();
  }

  /** The welcome's `read_id` (every welcome: another device may have read on meanwhile). */
  welcome(readId) {
    return this.read(Number.isSafeInteger(readId) ? readId : 0);
  }

  /**
   * A message was shown. Returns whether it is unread: someone else's, after the read position.
   * `mentioned`: it mentions me.
   */
  message(id, { own = false, mentioned = false } = {}) {
    if (own || !Number.isSafeInteger(id) || id <= this.readId) return false;
    this.unreadIds.set(id, mentioned);
    return true;
  }

  /** The read position moved to `id` (ours, or the room's `read` frame). Returns whether it moved. */
  read(id) {
    if (!Number.isSafeInteger(id) || id <= this.readId) return false;
    this.readId = id;
    for (const k of this.unreadIds.keys()) if (k <= id) this.unreadIds.delete(k);
    return true;
  }

  get unread() {
    return this.unreadIds.size;
  }

  get mentions() {
    let n = 0;
    for (const mentioned of this.unreadIds.values()) if (mentioned) n += 1;
    return n;
  }

  /** The oldest unread message, where the "new" divider goes; null when none. */
  firstUnread() {
    let first = null;
    for (const id of this.unreadIds.keys()) if (first === null || id < first) first = id;
    return first;
  }

  /**
   * The newest shown message, `newest`, is on the screen: the id to send as `read`, or null when
   * the room knows already.
   */
  seen(newest) {
    if (!Number.isSafeInteger(newest) || newest <= Math.max(this.readId, this.sentId)) return null;
    this.sentId = newest;
    this.read(newest);
    return newest;
  }

  /** A new connection (another room, or after leaving): nothing read yet. */
  reset() {
    this.readId = 0;
    this.sentId = 0;
    this.unreadIds.clear();
  }
}

/** "3 unread · 1 mention" for the header; '' when nothing is unread. */
export function countsText(unread, mentions) {
  if (unread <= 0) return '';
  const m = mentions > 0 ? ` · ${mentions} mention${mentions === 1 ? '' : 's'}` : '';
  return `${unread} unread${m}`;
}

/** "(3 · @1) #lobby · Chatterly": unread and mentions before the room; the plain title without. */
export function countsTitle(roomLabel, unread, mentions) {
  if (!roomLabel) return 'Chatterly';
  const counts = unread > 0 ? `(${unread}${mentions > 0 ? ` · @${mentions}` : ''}) ` : '';
  return `${counts}${roomLabel} · Chatterly`;
}
