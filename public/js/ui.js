// DOM building for the chat screen. Every piece of user text goes in through textContent:
// nothing here parses HTML.

import { nameKey, sameName } from './names.js';
import { trimCount } from './shown.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const GROUP_WINDOW_MS = 5 * 60 * 1000;

/** Create an element with a class and text (as text, never HTML). */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function validTime(at) {
  return Number.isFinite(at) && at > 0 ? at : Date.now();
}

function timeElement(at) {
  const d = new Date(validTime(at));
  const t = h('time', 'time', timeFormat.format(d));
  t.dateTime = d.toISOString();
  t.title = fullFormat.format(d);
  return t;
}

function dayKey(at) {
  const d = new Date(validTime(at));
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

function dayLabel(at) {
  const d = new Date(validTime(at));
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(d.getTime()) === dayKey(today.getTime())) return 'Today';
  if (dayKey(d.getTime()) === dayKey(yesterday.getTime())) return 'Yesterday';
  return dayFormat.format(d);
}

/** A stable colour slot (0–7) for a name, used for its avatar. */
export function colourSlot(name) {
  let x = 0x811c9dc5; // FNV-1a
  for (const ch of name.toLowerCase()) x = Math.imul(x ^ ch.codePointAt(0), 0x01000193) >>> 0;
  return x % 8;
}

/** One or two letters for an avatar. */
export function initials(name) {
  const parts = name.trim().split(/\s+/u).filter(Boolean);
  const first = (s) => Array.from(s)[0] || '?';
  if (parts.length >= 2) return (first(parts[0]) + first(parts[1])).toUpperCase();
  return first(parts[0] || '?').toUpperCase();
}

function avatar(name) {
  const a = h('span', `avatar c${colourSlot(name)}`, initials(name));
  a.setAttribute('aria-hidden', 'true');
  return a;
}

/** The list item for one message. */
export function messageElement(m, { own = false, pending = false } = {}) {
  const li = h('li', `msg${own ? ' own' : ''}${pending ? ' is-pending' : ''}`);
  if (!pending) li.dataset.id = String(m.id);
  if (pending) li.dataset.nonce = m.nonce;
  li.dataset.name = nameKey(m.name); // groups runs by one member
  li.dataset.at = String(validTime(m.at));
  li.dataset.day = dayKey(m.at);

  li.append(avatar(m.name));
  const body = h('div', 'msg-body');
  const meta = h('div', 'msg-meta');
  const author = h('span', 'author', m.name);
  meta.append(author, document.createTextNode(' '));
  if (pending) meta.append(h('span', 'sending', 'Sending…'));
  else meta.append(timeElement(m.at));
  const bubble = h('p', 'bubble', m.text);
  if (!pending) bubble.title = fullFormat.format(new Date(validTime(m.at)));
  body.append(meta, bubble);
  li.append(body);
  return li;
}

/** A system line, e.g. "Bob joined". */
export function systemElement(text, at) {
  const li = h('li', 'system');
  li.dataset.at = String(validTime(at));
  li.dataset.day = dayKey(at);
  li.append(h('span', 'system-text', text), document.createTextNode(' '), timeElement(at));
  return li;
}

function dividerElement(at) {
  const li = h('li', 'day-divider');
  li.dataset.day = dayKey(at);
  li.dataset.at = String(validTime(at));
  li.setAttribute('role', 'separator');
  li.append(h('span', null, dayLabel(at)));
  return li;
}

/**
 * The message list: keeps messages in id order, groups runs from one person, puts day dividers
 * between days, and scrolls only when the reader is already at the bottom.
 */
export class MessageList {
  /**
   * @param {object} o
   * @param {(ids: number[]) => void} [o.onTrim]  the oldest messages were dropped from the list
   * @param {() => void} [o.onNearTop]            the reader scrolled near the top (load older ones)
   */
  constructor({ scroller, list, pendingList, marker, onTrim = () => {}, onNearTop = () => {} }) {
    this.scroller = scroller;
    this.list = list;
    this.pendingList = pendingList;
    this.marker = marker;
    this.onTrim = onTrim;
    this.onNearTop = onNearTop;
    this.unread = 0;
    this.scroller.addEventListener(
      'scroll',
      () => {
        if (this.atBottom()) this.hideMarker();
        if (this.scroller.scrollTop < 200) this.onNearTop();
      },
      { passive: true },
    );
    this.marker.addEventListener('click', () => {
      this.scrollToBottom(true);
      this.hideMarker();
    });
  }

  clear() {
    this.list.replaceChildren();
    this.pendingList.replaceChildren();
    this.hideMarker();
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  scrollToBottom(smooth = false) {
    const s = this.scroller;
    if (smooth && !window.matchMedia('(prefers-reduced-motion: reduce)').matches) {
      s.scrollTo({ top: s.scrollHeight, behavior: 'smooth' });
    } else {
      s.scrollTop = s.scrollHeight;
    }
  }

  hideMarker() {
    this.unread = 0;
    this.marker.hidden = true;
  }

  /** Run `change`, then keep the view pinned to the bottom if it was, or count unread. */
  update(change, { force = false, countsAsNew = false } = {}) {
    const wasAtBottom = this.atBottom();
    change();
    if (force || wasAtBottom) {
      this.trim(true);
      this.scrollToBottom();
      this.hideMarker();
    } else {
      this.trim(false);
      if (countsAsNew) {
        this.unread += 1;
        this.marker.textContent = this.unread > 1 ? `${this.unread} new messages ↓` : 'New messages ↓';
        this.marker.hidden = false;
      }
    }
  }

  /** Number of items (messages, system lines) in the list, dividers aside. */
  itemCount() {
    return this.list.querySelectorAll(':scope > .msg, :scope > .system').length;
  }

  /** Drop the oldest items beyond the cap (see shown.js), keeping the view where the reader is. */
  trim(atBottom) {
    const n = trimCount(this.itemCount(), atBottom);
    if (n === 0) return;
    const heightBefore = this.scroller.scrollHeight;
    const ids = [];
    let dropped = 0;
    while (dropped < n && this.list.firstElementChild) {
      const li = this.list.firstElementChild;
      if (li.classList.contains('msg')) ids.push(Number(li.dataset.id));
      if (!li.classList.contains('day-divider')) dropped += 1;
      li.remove();
    }
    // The list starts again with a day divider for its first item's day, and no "continued".
    while (this.list.firstElementChild?.classList.contains('day-divider')) this.list.firstElementChild.remove();
    if (this.list.firstElementChild) this.fixNeighbours(this.list.firstElementChild);
    if (!atBottom) this.scroller.scrollTop -= heightBefore - this.scroller.scrollHeight;
    this.onTrim(ids);
  }

  /** Insert a page of older messages above the others, keeping the view where the reader is. */
  addOlder(messages) {
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    for (const { message, own } of messages) {
      const li = messageElement(message, { own });
      this.insertInOrder(li, message.id);
    }
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  /** Insert a stored message in id order (system lines are ordered by time). */
  addMessage(m, { own = false, live = true } = {}) {
    const li = messageElement(m, { own });
    this.update(() => this.insertInOrder(li, m.id), { force: own && live, countsAsNew: !own });
    return li;
  }

  insertInOrder(li, id) {
    // Usually the newest: walk back from the end past anything that came later.
    let after = this.list.lastElementChild;
    while (after) {
      if (after.classList.contains('msg')) {
        if (Number(after.dataset.id) < id) break;
      } else if (Number(after.dataset.at) <= Number(li.dataset.at)) {
        break;
      }
      after = after.previousElementSibling;
    }
    if (after) after.after(li);
    else this.list.prepend(li);
    this.fixNeighbours(li);
  }

  addSystem(text, at) {
    const li = systemElement(text, at);
    this.update(() => {
      this.list.append(li);
      this.fixNeighbours(li);
    });
  }

  addPending(item, name) {
    const li = messageElement({ name, text: item.text, at: item.at, nonce: item.nonce }, { own: true, pending: true });
    this.update(() => this.pendingList.append(li), { force: true });
  }

  removePending(nonce) {
    for (const li of this.pendingList.children) {
      if (li.dataset.nonce === nonce) {
        li.remove();
        return;
      }
    }
  }

  /** Day dividers and "continued" grouping around a newly inserted item. */
  fixNeighbours(li) {
    let prev = li.previousElementSibling;
    if (!prev || prev.dataset.day !== li.dataset.day) {
      if (!(prev?.classList.contains('day-divider') && prev.dataset.day === li.dataset.day)) {
        li.before(dividerElement(Number(li.dataset.at)));
        prev = li.previousElementSibling;
      }
    }
    const next = li.nextElementSibling;
    if (next?.classList.contains('day-divider') && next.dataset.day === li.dataset.day) next.remove();
    this.group(li);
    if (li.nextElementSibling) this.group(li.nextElementSibling);
  }

  group(li) {
    if (!li.classList.contains('msg')) return;
    const prev = li.previousElementSibling;
    const continued =
      !!prev &&
      prev.classList.contains('msg') &&
      prev.dataset.name === li.dataset.name &&
      Number(li.dataset.at) - Number(prev.dataset.at) < GROUP_WINDOW_MS;
    li.classList.toggle('continued', continued);
  }
}

/** Replace the member list. */
export function renderMembers(listEl, members, me) {
  const items = members.map((name) => {
    const li = h('li', 'member');
    li.append(avatar(name), h('span', 'member-name', name));
    if (me && sameName(name, me)) {
      li.classList.add('me');
      li.append(h('span', 'you', '(you)'));
    }
    return li;
  });
  listEl.replaceChildren(...items);
}
