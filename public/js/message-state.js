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
 * @property {Reaction[]} reactions   in first-use order, none empty
 */

/**
 * One emoji on a message. The server sends a summary (a count, the first few names and, in a
 * welcome, whether you reacted); change events add the names they name.
 * @typedef {object} Reaction
 * @property {string} emoji
 * @property {number} count      how many members reacted with it
 * @property {string[]} names    those known to have (the first few, and later reactors)
 * @property {string[]} off      those known to have taken theirs back
 * @property {boolean} me        the server said you reacted (a welcome's word; `names`/`off` may know better)
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
        reactions: new Map(), // emoji -> {count, countV, me, who: Map(nameKey -> {name, on, v})}
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
      const r = emojiState(s, change.emoji);
      const key = nameKey(change.name);
      const cur = r.who.get(key);
      if (cur && id <= cur.v) return [];
      r.who.set(key, { name: change.name, on, v: id });
      // The change carries the count after it: set, not stepped (a change replayed is harmless).
      if (id > r.countV) {
        r.count = Number.isSafeInteger(change.count) ? change.count : Math.max(0, r.count + (on ? 1 : -1));
        r.countV = id;
      }
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

function tombstone(s) {
  s.deleted = true;
  s.text = '';
  s.textVersion = Number.MAX_SAFE_INTEGER;
  s.reactions.clear();
}

function emojiState(s, emoji) {
  let r = s.reactions.get(emoji);
  if (!r) {
    r = { count: 0, countV: -1, me: false, who: new Map() };
    s.reactions.set(emoji, r);
  }
  return r;
}

/**
 * A snapshot's reactions win over every (emoji, member) not changed by a newer event. A summary
 * names only the first few: a member it does not name is known not to have reacted only when the
 * summary names everyone it counts; else what we knew of them is dropped.
 */
function setReactions(s, list, version) {
  const listed = new Map();
  for (const r of list) {
    if (!r || typeof r.emoji !== 'string' || !Array.isArray(r.names)) continue;
    const names = new Map();
    for (const n of r.names) if (typeof n === 'string') names.set(nameKey(n), n);
    const count = Number.isSafeInteger(r.count) ? r.count : names.size;
    listed.set(r.emoji, { names, count, complete: names.size >= count, me: r.me === true });
  }
  for (const [emoji, r] of s.reactions) {
    const l = listed.get(emoji);
    if (version >= r.countV) {
      r.count = l?.count ?? 0;
      r.countV = version;
      r.me = l?.me ?? false;
    }
    for (const [key, entry] of r.who) {
      if (entry.v > version) continue;
      if (l?.names.has(key)) {
        entry.on = true;
        entry.v = version;
      } else if (!l || l.complete) {
        entry.on = false;
        entry.v = version;
      } else r.who.delete(key);
    }
  }
  for (const [emoji, l] of listed) {
    const r = emojiState(s, emoji);
    if (version >= r.countV) {
      r.count = l.count;
      r.countV = version;
      r.me = l.me;
    }
    for (const [key, name] of l.names) {
      if (!r.who.has(key)) r.who.set(key, { name, on: true, v: version });
    }
  }
}

/** @returns {MessageView} */
function view(s) {
  const reactions = [];
  for (const [emoji, r] of s.reactions) {
    const entries = [...r.who.values()];
    const names = entries.filter((e) => e.on).map((e) => e.name);
    const off = entries.filter((e) => !e.on).map((e) => e.name);
    const count = Math.max(r.count, names.length);
    if (count > 0) reactions.push({ emoji, count, names, off, me: r.me });
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
  };
  if (s.nonce !== undefined) v.nonce = s.nonce;
  return v;
}
