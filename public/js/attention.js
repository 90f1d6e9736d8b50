// What wants the reader's attention: unread messages and mentions (in the title and the room
// header), the "new" divider at the first unread message, `read` sent when the newest message is
// on the screen, and a browser notification for a mention while the tab is hidden (permission is
// asked only from the "Notify me" button, never on load). Decisions in read-state.js and
// mentions.js.

import { mentionsMe } from './mentions.js';
import { countsText, countsTitle, ReadState } from './read-state.js';
import { h } from './ui.js';

export class Attention {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {import('./ui.js').MessageList} o.list
   * @param {(id: number) => void} o.sendRead   tell the room we read up to `id`
   * @param {() => string} o.roomLabel          '' when no room is shown
   * @param {import('./surface.js').Surface} [o.surface]
   * @param {(counts: {room: string, unread: number, mentions: number}) => void} [o.onCounts]
   *   where a widget's counts go (our page writes them into document.title)
   */
  constructor({ els, list, sendRead, roomLabel, surface = null, onCounts = null }) {
    this.els = els;
    this.embedded = !!surface?.embedded;
    this.onCounts = onCounts;
    this.last = '';
    this.list = list;
    this.sendRead = sendRead;
    this.roomLabel = roomLabel;
    this.state = new ReadState();
    this.me = '';
    this.newest = 0;
    this.wantDivider = false;
    this.dividerWhileHidden = false;
    els.scroller.addEventListener('scroll', () => this.maybeRead(), { passive: true });
    const listen = (target, type, fn) =>
      surface ? surface.listen(target, type, fn) : target.addEventListener(type, fn);
    listen(document, 'visibilitychange', () => {
      if (document.visibilityState !== 'visible') return;
      this.dividerWhileHidden = false;
      this.maybeRead();
    });
    listen(window, 'focus', () => this.maybeRead());
    this.showNotifyButton();
    els.notifyButton.addEventListener('click', async () => {
      try {
        await Notification.requestPermission();
      } catch {
        // An old browser without the promise form: nothing to do.
      }
      this.showNotifyButton();
    });
  }

  /** A new connection (room or name): nothing read, no divider. */
  start(me) {
    this.state.reset();
    this.me = me;
    this.newest = 0;
    this.wantDivider = true;
    this.dividerWhileHidden = false;
    this.els.messages.querySelector(':scope > .new-divider')?.remove();
    this.render();
  }

  /** Every welcome: our name and the read position, which another device may have moved. */
  welcome({ name, readId }) {
    this.me = name;
    this.state.welcome(readId);
    this.render();
  }

  /** A message was shown (history or live). */
  message({ message: m, own, live }) {
    if (m.id > this.newest) this.newest = m.id;
    const mentioned = mentionsMe(m, this.me, { live });
    const li = this.list.item(m.id);
    li?.classList.toggle('mentions-me', mentionsMe(m, this.me));
    const unread = this.state.message(m.id, { own, mentioned });
    if (unread && li) {
      if (this.wantDivider && !live) this.placeDivider(li);
      else if (live && document.hidden && !this.dividerWhileHidden) {
        this.placeDivider(li);
        this.dividerWhileHidden = true;
      }
    }
    if (unread && live && mentioned && document.hidden) this.notify(m);
    if (live) this.wantDivider = false;
    this.maybeRead();
    this.render();
  }

  /** A shown message changed (an edit may mention us now, or no longer). */
  update(m) {
    this.list.item(m.id)?.classList.toggle('mentions-me', mentionsMe(m, this.me));
  }

  /** Another connection of ours read up to `id`. */
  read(id) {
    if (this.state.read(id)) this.render();
  }

  /** The newest message is on the screen of a visible tab: tell the room. */
  maybeRead() {
    if (document.visibilityState !== 'visible' || !this.newest || !this.list.atBottom()) return;
    const id = this.state.seen(this.newest);
    if (id !== null) {
      this.sendRead(id);
      this.render();
    }
  }

  placeDivider(li) {
    this.els.messages.querySelector(':scope > .new-divider')?.remove();
    const d = h('li', 'new-divider', 'New');
    // Same day and time as the message, so the list's day dividers and ordering pass it by.
    d.dataset.day = li.dataset.day;
    d.dataset.at = li.dataset.at;
    li.before(d);
  }

  notify(m) {
    if (this.embedded) return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(`${m.name} mentioned you in ${this.roomLabel()}`, {
        body: Array.from(m.text ?? '')
          .slice(0, 140)
          .join(''),
        tag: `chatterly-${m.id}`,
      });
      n.addEventListener('click', () => {
        window.focus();
        this.list.focusMessage(m.id);
        n.close();
      });
    } catch {
      // Some browsers allow notifications only from a service worker: the title still counts.
    }
  }

  showNotifyButton() {
    // In a widget, asking for notifications would ask for the host app's origin: its business.
    const can = !this.embedded && typeof Notification !== 'undefined' && Notification.permission === 'default';
    this.els.notifyButton.hidden = !can;
  }

  get unread() {
    return this.state.unread;
  }

  get mentions() {
    return this.state.mentions;
  }

  /** The counts in the title and the room header. */
  render() {
    const label = this.roomLabel();
    if (!this.embedded) document.title = countsTitle(label, this.state.unread, this.state.mentions);
    else {
      // The host app's title is its own: the counts go out as an event, when they change.
      const counts = { room: label, unread: this.state.unread, mentions: this.state.mentions };
      const key = JSON.stringify(counts);
      if (key !== this.last) {
        this.last = key;
        this.onCounts?.(counts);
      }
    }
    const text = label ? countsText(this.state.unread, this.state.mentions) : '';
    this.els.roomCounts.textContent = text;
    this.els.roomCounts.hidden = !text;
  }
}
