// DOM building for the chat screen. Every piece of user text goes in through textContent:
// nothing here parses HTML.

import { nameKey, sameName } from '../shared/names.js';
import { filesElement } from './attachments.js';
import { linkify } from './linkify.js';
import { memberActions } from './member-menu.js';
import { quoteView, reactionView } from './message-actions.js';
import { ownerBadge } from './owner-badge.js';
import { trimCount } from './shown.js';
import { enterFeed, messageToolbar, rovingTools, syncTools } from './toolbar.js';

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

/** ✓ beside a member who joined with a join token: the embedding app vouches for them. */
export function verifiedBadge() {
  const b = h('span', 'verified-badge', '✓');
  b.setAttribute('role', 'img');
  b.setAttribute('aria-label', 'verified');
  b.title = 'Verified by the app that embeds this chat';
  return b;
}

function avatar(name) {
  const a = h('span', `avatar c${colourSlot(name)}`, initials(name));
  a.setAttribute('aria-hidden', 'true');
  return a;
}

/** The list item for one message (a MessageView, or a pending item). */
export function messageElement(m, { own = false, pending = false, me = '', files = '' } = {}) {
  const li = h('li', `msg${own ? ' own' : ''}${pending ? ' is-pending' : ''}`);
  if (!pending) {
    li.dataset.id = String(m.id);
    li.tabIndex = -1; // arrow keys move between messages; the More actions button is the tab stop
  }
  if (pending) li.dataset.nonce = m.nonce;
  li.dataset.name = nameKey(m.name); // groups runs by one member
  li.dataset.at = String(validTime(m.at));
  li.dataset.day = dayKey(m.at);
  fillMessage(li, m, { pending, me, files });
  return li;
}

/**
 * (Re)draw a message's content in place; an open inline editor is kept. `files`: where the room's
 * files are (attachments.js filesBase).
 */
export function fillMessage(li, m, { pending = false, me = '', files = '' } = {}) {
  const body = h('div', 'msg-body');
  const meta = h('div', 'msg-meta');
  meta.append(h('span', 'author', m.name), document.createTextNode(' '));
  if (m.verified) meta.append(verifiedBadge(), document.createTextNode(' '));
  if (pending) meta.append(h('span', 'sending', 'Sending…'));
  else meta.append(timeElement(m.at));
  li.classList.toggle('is-edited', !!m.editedAt && !m.deleted);
  if (m.editedAt && !m.deleted) {
    const edited = h('span', 'edited', '(edited)');
    edited.title = `Edited ${fullFormat.format(new Date(validTime(m.editedAt)))}`;
    meta.append(document.createTextNode(' '), edited);
  }
  body.append(meta);
  const quote = quoteView(m.reply);
  if (quote) {
    const q = h('blockquote', `reply-quote${quote.deleted ? ' deleted' : ''}`);
    if (m.replyTo !== null && m.replyTo !== undefined) q.dataset.target = String(m.replyTo);
    q.append(h('span', 'visually-hidden', 'Replying to '), h('span', 'quote-name', quote.name));
    q.append(document.createTextNode(': '), h('span', 'quote-text', quote.text));
    body.append(q);
  }
  const editor = li.querySelector(':scope .editor');
  li.classList.toggle('deleted', !!m.deleted);
  if (m.deleted) {
    li.classList.remove('editing');
    body.append(h('p', 'bubble tombstone', 'message deleted'));
  } else if (editor && li.classList.contains('editing')) {
    body.append(editor);
  } else if (m.text || !m.files?.length) {
    const bubble = linkify(h('p', 'bubble'), m.text);
    if (!pending) bubble.title = fullFormat.format(new Date(validTime(m.at)));
    body.append(bubble);
  }
  if (!m.deleted && m.files?.length) body.append(filesElement(m.files, files));
  if (!pending && m.reactions?.length) {
    const bar = h('div', 'reactions');
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', 'Reactions');
    for (const r of m.reactions) {
      const view = reactionView(r, me);
      const b = h('button', `reaction${view.mine ? ' mine' : ''}`, view.text);
      b.type = 'button';
      b.dataset.emoji = r.emoji;
      b.title = view.title;
      b.setAttribute('aria-label', view.label);
      b.setAttribute('aria-pressed', String(view.mine));
      bar.append(b);
    }
    body.append(bar);
  }
  const parts = [avatar(m.name), body];
  if (!pending && !m.deleted) {
    const more = h('button', 'more-button', '⋯');
    more.type = 'button';
    more.setAttribute('aria-haspopup', 'menu');
    more.setAttribute('aria-expanded', 'false');
    more.setAttribute('aria-label', `More actions for the message from ${m.name}`);
    more.title = 'More actions';
    // Beside the bubble (or the open editor), not at the row's far edge.
    const content = body.querySelector(':scope > .bubble, :scope > .editor');
    if (content) {
      const row = h('div', 'bubble-row');
      content.replaceWith(row);
      row.append(content, messageToolbar(document, m, more));
    } else {
      parts.push(more);
    }
  }
  li.replaceChildren(...parts);
  syncTools(li);
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
  // A list item (a `role` on it would take it out of the list): its heading-like text says the day.
  const li = h('li', 'day-divider');
  li.dataset.day = dayKey(at);
  li.dataset.at = String(validTime(at));
  li.append(h('span', null, dayLabel(at)));
  return li;
}

/** The nearest message before or after `li` (day dividers and system lines skipped). */
function sibling(li, dir) {
  let n = li[dir];
  while (n && !(n.classList.contains('msg') && n.dataset.id)) n = n[dir];
  return n;
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
  constructor({
    surface = null,
    scroller,
    list,
    pendingList,
    marker,
    onTrim = () => {},
    onNearTop = () => {},
    onMenu = () => {},
    onReact = () => {},
    onTool = () => {},
  }) {
    this.surface = surface;
    this.files = ''; // where the room's files are (attachments.js filesBase)
    this.scroller = scroller;
    /** id -> {message, own}: what each shown message looks like now */
    this.views = new Map();
    this.me = '';
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
    rovingTools(list);
    enterFeed(scroller, list);
    list.addEventListener('click', (ev) => {
      const li = ev.target.closest('.msg');
      if (!li?.dataset.id) return;
      const id = Number(li.dataset.id);
      const tool = ev.target.closest('[data-tool]');
      if (tool) onTool(tool.dataset.tool, id, tool.dataset.emoji);
      const more = ev.target.closest('.more-button');
      if (more) onMenu(id, more);
      const reaction = ev.target.closest('.reaction');
      if (reaction) onReact(id, reaction.dataset.emoji);
      const quote = ev.target.closest('.reply-quote');
      if (quote?.dataset.target) this.focusMessage(Number(quote.dataset.target));
    });
    // Arrow keys move between messages; Enter on a message opens its menu.
    list.addEventListener('keydown', (ev) => {
      const li = ev.target.closest('.msg');
      if (!li?.dataset.id || ev.target.closest('.editor')) return;
      if (ev.key === 'ArrowUp' || ev.key === 'ArrowDown') {
        const next = sibling(li, ev.key === 'ArrowUp' ? 'previousElementSibling' : 'nextElementSibling');
        if (next) {
          ev.preventDefault();
          next.focus();
        }
      } else if (
        ev.target === li &&
        (ev.key === 'Enter' || ev.key === 'ContextMenu' || (ev.key === 'F10' && ev.shiftKey))
      ) {
        const more = li.querySelector('.more-button');
        if (more) {
          ev.preventDefault();
          onMenu(Number(li.dataset.id), more);
        }
      }
    });
  }

  /** The list item of a shown message, or null. */
  item(id) {
    return this.list.querySelector(`:scope > .msg[data-id="${id}"]`);
  }

  /** Move focus to a shown message (a quote was clicked), if it is still in the list. */
  focusMessage(id) {
    const li = this.item(id);
    if (!li) return;
    li.scrollIntoView({ block: 'center' });
    li.focus();
  }

  /** A shown message changed (edit, delete, reaction, quote): redraw it where it is. */
  updateMessage(m, { own = false } = {}) {
    const li = this.item(m.id);
    if (!li) return;
    this.views.set(m.id, { message: m, own });
    const wasAtBottom = this.atBottom();
    // The list's own root: in a widget, document.activeElement is the host element.
    const active = li.getRootNode().activeElement;
    const hadFocus = li.contains(active) && active !== li;
    const focusedEmoji = active?.dataset?.emoji;
    const focusedMore = active?.classList.contains('more-button');
    fillMessage(li, m, { me: this.me, files: this.files });
    // Redrawing replaced the focused button: focus its successor, so keyboard users stay put.
    if (hadFocus && !li.classList.contains('editing')) {
      const again =
        (focusedEmoji && li.querySelector(`.reaction[data-emoji="${CSS.escape(focusedEmoji)}"]`)) ||
        (focusedMore && li.querySelector('.more-button')) ||
        li;
      again.focus();
    }
    if (wasAtBottom) this.scrollToBottom();
  }

  /** Redraw every message (our name changed). */
  redrawAll() {
    for (const [id, v] of this.views) {
      const li = this.item(id);
      if (li) fillMessage(li, v.message, { me: this.me, files: this.files });
    }
  }

  /**
   * Inline editing of message `id`: Enter saves (`onSave(text)`), Escape cancels. Focus goes back
   * to the message afterwards.
   */
  startEdit(id, onSave) {
    const li = this.item(id);
    const v = this.views.get(id);
    if (!li || !v || v.message.deleted) return;
    if (li.classList.contains('editing')) {
      li.querySelector('.editor textarea')?.focus();
      return;
    }
    const form = h('form', 'editor');
    form.noValidate = true;
    const label = h('label', 'visually-hidden', 'Edit message');
    const input = h('textarea', 'editor-input');
    input.id = `edit-${id}`;
    label.htmlFor = input.id;
    input.value = v.message.text;
    input.rows = Math.min(6, v.message.text.split('\n').length);
    const hint = h('p', 'editor-hint', 'Enter to save, Escape to cancel');
    hint.id = `edit-hint-${id}`;
    input.setAttribute('aria-describedby', hint.id);
    const save = h('button', 'btn btn-primary btn-small', 'Save');
    save.type = 'submit';
    const cancel = h('button', 'btn btn-ghost btn-small', 'Cancel');
    cancel.type = 'button';
    const row = h('div', 'editor-row');
    row.append(save, cancel);
    form.append(label, input, row, hint);
    const end = () => {
      li.classList.remove('editing');
      const now = this.views.get(id);
      if (now) fillMessage(li, now.message, { me: this.me, files: this.files });
      li.focus();
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (text && text !== v.message.text) onSave(text);
      end();
    });
    cancel.addEventListener('click', end);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        end();
      } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    li.classList.add('editing');
    li.querySelector('.bubble')?.replaceWith(form);
    // The box grows with its text as it wraps (not only at newlines), up to half the screen.
    const fit = () => {
      input.style.height = 'auto';
      input.style.height = `${Math.min(input.scrollHeight + 2, Math.round(this.frameHeight() / 2))}px`;
    };
    input.addEventListener('input', fit);
    fit();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /** The height of the box the UI is in: the window, or the widget's box. */
  frameHeight() {
    return this.surface ? this.surface.frame().height : window.innerHeight;
  }

  clear() {
    this.views.clear();
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
      if (li.classList.contains('msg')) {
        ids.push(Number(li.dataset.id));
        this.views.delete(Number(li.dataset.id));
      }
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
      this.views.set(message.id, { message, own });
      const li = messageElement(message, { own, me: this.me, files: this.files });
      this.insertInOrder(li, message.id);
    }
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  /** Insert a stored message in id order (system lines are ordered by time). */
  addMessage(m, { own = false, live = true } = {}) {
    this.views.set(m.id, { message: m, own });
    const li = messageElement(m, { own, me: this.me, files: this.files });
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

/**
 * Replace the member list. Away members are dimmed and say so, verified ones get a ✓; owners are
 * marked; the owner gets a menu for everyone else whose Remove asks first (`onKick`).
 */
export function renderMembers(
  listEl,
  members,
  me,
  {
    away = [],
    verified = [],
    owner = false,
    owners = [],
    roomLabel = () => '',
    onKick = () => {},
    doc = document, // where the confirmation is drawn (surface.js layer)
  } = {},
) {
  const awayKeys = new Set(away.map(nameKey));
  const verifiedKeys = new Set(verified.map(nameKey));
  const ownerKeys = new Set(owners.map(nameKey));
  const items = members.map((name) => {
    const li = h('li', 'member');
    li.append(avatar(name), h('span', 'member-name', name));
    if (verifiedKeys.has(nameKey(name))) li.append(verifiedBadge());
    if (ownerKeys.has(nameKey(name))) li.append(ownerBadge(document));
    if (me && sameName(name, me)) {
      li.classList.add('me');
      li.append(h('span', 'you', '(you)'));
    } else {
      if (awayKeys.has(nameKey(name))) {
        li.classList.add('away');
        li.append(h('span', 'away-label', '(away)'));
      }
      if (owner) li.append(memberActions(doc, name, { roomLabel, onRemove: onKick }));
    }
    return li;
  });
  listEl.replaceChildren(...items);
}
