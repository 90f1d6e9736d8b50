// What a message offers (reply, react, edit, delete) and the words around it: reaction labels,
// quotes, the texts for refused actions, and the keys of the message menu. No DOM: the menu and
// the list in ui.js / message-menu.js ask here.

import { sameName } from '../shared/names.js';
import { EDIT_WINDOW_MS } from './protocol.js';

/** The small picker of common emoji in the message menu. */
export const REACTION_CHOICES = ['👍', '❤️', '😂', '😮', '😢', '🎉'];

/** How long a touch must rest on a message to open its menu. */
export const LONG_PRESS_MS = 500;

/**
 * Which actions a message offers to `me`: anyone may reply and react; the author edits and
 * deletes within the window; the owner deletes anything. The server decides for real.
 * @param {import('../sdk/chatterly.js').Message} m
 */
export function messageActions(m, { me, owner = false, now = Date.now(), editWindowMs = EDIT_WINDOW_MS }) {
  if (m.deleted) return { reply: false, react: false, edit: false, delete: false };
  const mine = sameName(m.name, me);
  const inWindow = now - m.at < editWindowMs;
  return { reply: true, react: true, edit: mine && inWindow, delete: (mine && inWindow) || owner };
}

/**
 * "Alice", "Alice and Bob", "Alice, Bob and 3 others". `count` is how many reacted in all, when
 * the server named only some of them ("Bob, Carol and 58 others").
 */
export function namesText(names, me, count = names.length) {
  const shown = names.map((n) => (me && sameName(n, me) ? 'you' : n));
  const total = Math.max(count, shown.length);
  if (total <= 1) return shown[0] ?? (total === 1 ? '1 person' : '');
  if (total <= 3 && shown.length === total) return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
  const named = shown.slice(0, Math.min(2, shown.length));
  if (named.length === 0) return `${total} people`;
  const others = total - named.length;
  return `${named.join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
}

/** Whether `me` reacted: the SDK's word (change events, else the welcome's `me`), else the names. */
export function reactedByMe(r, me) {
  if (!me) return false;
  if (typeof r.mine === 'boolean') return r.mine;
  return r.names.some((n) => sameName(n, me));
}

/** One reaction in the bar: what it shows, what it says, and whether it is ours. */
export function reactionView(r, me) {
  const mine = reactedByMe(r, me);
  const count = Math.max(r.count ?? 0, r.names.length);
  // Ours first when we are not among the names shown, so the text says "you".
  const names = mine && !r.names.some((n) => sameName(n, me)) ? [me, ...r.names] : r.names;
  const who = namesText(names, me, count);
  return {
    text: `${r.emoji} ${count}`,
    label: `${r.emoji} ${count}: ${who} reacted. ${mine ? 'Remove your reaction' : 'React too'}`,
    title: `${who} reacted with ${r.emoji}`,
    mine,
  };
}

/** The quote above a reply. */
export function quoteView(reply) {
  if (!reply) return null;
  if (reply.deleted) return { name: reply.name, text: 'message deleted', deleted: true };
  return { name: reply.name, text: reply.text, deleted: false };
}

/** The start of a text for the reply preview above the composer. */
export function excerpt(text, max = 100) {
  const flat = text.replace(/\s+/gu, ' ').trim();
  const chars = Array.from(flat);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : flat;
}

/** What to say when the server refused an action (or a reply, join, …). */
export function actionErrorText({ code, message, retryAfterMs }) {
  switch (code) {
    case 'not_found':
      return 'That message no longer exists.';
    case 'forbidden':
      return 'You are not allowed to do that.';
    case 'edit_window':
      return 'Messages can only be edited or deleted for 15 minutes after they were sent.';
    case 'invalid_emoji':
      return 'That is not an emoji the room accepts.';
    case 'too_many_reactions':
      return 'That message has as many reactions as it can take (or you already added 3).';
    case 'rate_limited': {
      const secs = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
      return `You're doing that too fast. Try again in ${secs} s.`;
    }
    case 'invalid_message':
      return 'That text is not allowed (empty or too long).';
    default:
      return message || 'That did not work.';
  }
}

/**
 * The menu item to focus after a key, or null to leave focus alone; 'close' closes the menu.
 * Arrows move and wrap, Home/End jump, Escape and Tab close.
 */
export function menuKey(key, index, count) {
  if (count === 0) return key === 'Escape' || key === 'Tab' ? 'close' : null;
  switch (key) {
    case 'ArrowDown':
    case 'ArrowRight':
      return (index + 1) % count;
    case 'ArrowUp':
    case 'ArrowLeft':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    case 'Escape':
    case 'Tab':
      return 'close';
    default:
      return null;
  }
}

/**
 * A touch that rests on a message opens its menu; moving or lifting the finger first cancels.
 * Timers are parameters (Node tests).
 */
export class LongPress {
  constructor({ onPress, timers = globalThis, ms = LONG_PRESS_MS }) {
    this.onPress = onPress;
    this.timers = timers;
    this.ms = ms;
    this.timer = null;
    this.fired = false;
  }

  start(target) {
    this.cancel();
    this.fired = false;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.fired = true;
      this.onPress(target);
    }, this.ms);
  }

  cancel() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** The finger lifted: whether the press already opened the menu (then the tap is swallowed). */
  end() {
    this.cancel();
    const fired = this.fired;
    this.fired = false;
    return fired;
  }
}
