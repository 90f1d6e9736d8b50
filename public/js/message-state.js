// Each shown message's current state: text, edit, tombstone, reactions and the quote it answers,
// from message frames (a message in some state) and change events (edit, delete, react). Every
// field remembers the newest event id that set it, so a change applies once and an older one
// (a gap filled after newer events arrived) never undoes a newer one: applying twice is harmless.

import { nameKey } from './names.js';

/** Change events that target one message. */
export const MESSAGE_CHANGES = new Set(['edit', 'delete', 'react']);

/** Whether a history or page entry is a change event (else it is a message frame). */
export function isMessageChange(v) {
  return (
    v !== null &&
    typeof v === 'object' &&
    MESSAGE_CHANGES.has(v.type) &&
    Number.isSafeInteger(v.id) &&
    Number.isSafeInteger(v.target)
  );
}

/**
 * @typedef {object} MessageView
 * @property {number} id
 * @property {string} name
 * @property {string} text           '' when deleted
 * @property {number} at
 * @property {string} [nonce]
 * @property {number|null} replyTo
 * @property {{name: string, text: string, deleted: boolean}|null} reply
 * @property {number|null} editedAt
 * @property {boolean} deleted
 * @property {{emoji: string, names: string[]}[]} reactions   in first-use order, none empty
 * @property {string[]} mentions     who the text mentions (names, `@everyone`, `@here`)
 */

/** How much of a message a reply quotes (server: `QUOTE_CHARS`). */
export const QUOTE_CHARS = 100;

function quoteOf(reply) {
  if (!reply || typeof reply !== 'object' || typeof reply.name !== 'string') return null;
  const deleted = reply.deleted === true;
  return { name: reply.name, text: deleted ? '' : String(reply.text ?? ''), deleted };
}

export class MessageStates {
  constructor() {
    /** id -> internal state */
    this.byId = new Map();
    /** quoted id -> ids of the replies quoting it (a delete turns their quotes into tombstones) */
    this.replies = new Map();
  }

  has(id) {
    return this.byId.has(id);
  }

  /** The current view of a message, or null. */
  get(id) {
    const s = this.byId.get(id);
    return s ? view(s) : null;
  }

  /**
   * A message frame in some state; `version` is the newest event id its sender knew (its own id
   * when live, the welcome's last id for a history). Returns the view.
   */
  snapshot(m, version = m.id) {
    let s = this.byId.get(m.id);
    if (!s) {
      s = {
        id: m.id,
        name: m.name,
        at: m.at,
        nonce: m.nonce,
        text: '',
        textVersion: -1,
        editedAt: null,
        deleted: false,
        replyTo: Number.isSafeInteger(m.reply_to) ? m.reply_to : null,
        reply: null,
        reactions: new Map(), // emoji -> Map(nameKey -> {name, on, v})
        mentions: [],
      };
      this.byId.set(m.id, s);
      if (s.replyTo !== null) {
        if (!this.replies.has(s.replyTo)) this.replies.set(s.replyTo, new Set());
        this.replies.get(s.replyTo).add(s.id);
      }
    }
    if (m.deleted === true) tombstone(s);
    if (!s.deleted && version >= s.textVersion) {
      s.text = m.text;
      s.mentions = mentionList(m.mentions);
      s.textVersion = version;
      s.editedAt = Number.isFinite(m.edited_at) ? m.edited_at : s.editedAt;
    }
    const quote = quoteOf(m.reply);
    if (quote && !s.reply?.deleted) s.reply = quote;
    if (!s.deleted) setReactions(s, Array.isArray(m.reactions) ? m.reactions : [], version);
    return view(s);
  }

  /** A change event: the views it changed (the target, and replies quoting a deleted message). */
  apply(change) {
    const s = this.byId.get(change.target);
    if (!s) return []; // not shown: it comes in its current state if it is ever loaded
    const id = change.id;
    if (change.type === 'edit') {
      if (s.deleted || id <= s.textVersion || typeof change.text !== 'string') return [];
      s.text = change.text;
      s.mentions = mentionList(change.mentions);
      s.textVersion = id;
      s.editedAt = Number.isFinite(change.at) ? change.at : Date.now();
      // Replies quote what the message says now (the server stores their quotes that way too).
      const out = [view(s)];
      for (const rid of this.replies.get(s.id) ?? []) {
        const r = this.byId.get(rid);
        if (!r?.reply || r.reply.deleted) continue;
        r.reply = { ...r.reply, text: [...change.text].slice(0, QUOTE_CHARS).join('') };
        out.push(view(r));
      }
      return out;
    }
    if (change.type === 'delete') {
      if (s.deleted) return [];
      tombstone(s);
      const out = [view(s)];
      for (const rid of this.replies.get(s.id) ?? []) {
        const r = this.byId.get(rid);
        if (!r || r.reply?.deleted) continue;
        r.reply = { name: r.reply?.name ?? s.name, text: '', deleted: true };
        out.push(view(r));
      }
      return out;
    }
    if (change.type === 'react') {
      if (s.deleted || typeof change.emoji !== 'string' || typeof change.name !== 'string') return [];
      const on = change.on !== false;
      let who = s.reactions.get(change.emoji);
      if (!who) {
        who = new Map();
        s.reactions.set(change.emoji, who);
      }
      const key = nameKey(change.name);
      const cur = who.get(key);
      if (cur && id <= cur.v) return [];
      who.set(key, { name: change.name, on, v: id });
      return [view(s)];
    }
    return [];
  }

  /** The list dropped these messages. */
  forget(ids) {
    for (const id of ids) {
      const s = this.byId.get(id);
      if (!s) continue;
      this.byId.delete(id);
      this.replies.delete(id);
      if (s.replyTo !== null) this.replies.get(s.replyTo)?.delete(id);
    }
  }
}

/** A frame's `mentions`, as strings only. */
function mentionList(list) {
  return Array.isArray(list) ? list.filter((n) => typeof n === 'string') : [];
}

function tombstone(s) {
  s.deleted = true;
  s.text = '';
  s.mentions = [];
  s.textVersion = Number.MAX_SAFE_INTEGER;
  s.reactions.clear();
}

/** A snapshot's reactions win over every (emoji, member) not changed by a newer event. */
function setReactions(s, list, version) {
  const listed = new Map();
  for (const r of list) {
    if (!r || typeof r.emoji !== 'string' || !Array.isArray(r.names)) continue;
    const names = new Map();
    for (const n of r.names) if (typeof n === 'string') names.set(nameKey(n), n);
    listed.set(r.emoji, names);
  }
  for (const [emoji, who] of s.reactions) {
    const names = listed.get(emoji);
    for (const [key, entry] of who) {
      if (entry.v > version) continue;
      entry.on = names?.has(key) ?? false;
      entry.v = version;
    }
  }
  for (const [emoji, names] of listed) {
    let who = s.reactions.get(emoji);
    if (!who) {
      who = new Map();
      s.reactions.set(emoji, who);
    }
    for (const [key, name] of names) {
      if (!who.has(key)) who.set(key, { name, on: true, v: version });
    }
  }
}

/** @returns {MessageView} */
function view(s) {
  const reactions = [];
  for (const [emoji, who] of s.reactions) {
    const names = [...who.values()].filter((e) => e.on).map((e) => e.name);
    if (names.length > 0) reactions.push({ emoji, names });
  }
  const v = {
    id: s.id,
    name: s.name,
    text: s.text,
    at: s.at,
    replyTo: s.replyTo,
    reply: s.reply,
    editedAt: s.editedAt,
    deleted: s.deleted,
    reactions,
    mentions: s.mentions,
  };
  if (s.nonce !== undefined) v.nonce = s.nonce;
  return v;
}
