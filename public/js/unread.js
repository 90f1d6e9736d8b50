// The unread count in the tab title: messages from others that arrived while the tab was hidden.

export class UnreadCount {
  constructor() {
    this.count = 0;
  }

  /**
   * A message was shown; returns whether the count changed. History (not live) and our own
   * messages are not news; neither is anything the reader can see.
   */
  message({ own, live }, hidden) {
    if (own || !live || !hidden) return false;
    this.count += 1;
    return true;
  }

  /** The reader is back (or in another room). */
  reset() {
    const changed = this.count !== 0;
    this.count = 0;
    return changed;
  }
}

/** "Chatterly" on the join screen; "(3) #lobby · Chatterly" with 3 unread in the chat. */
export function pageTitle(roomLabel, unread) {
  if (!roomLabel) return 'Chatterly';
  return `${unread > 0 ? `(${unread}) ` : ''}${roomLabel} · Chatterly`;
}
