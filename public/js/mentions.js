// Mentions on the client: whether a message mentions me (the room resolved its `mentions`, see
// docs/protocol.md), and the `@na…` completion in the composer. No DOM: tested in Node.

import { nameKey, sameName } from '../shared/names.js';

export const EVERYONE = '@everyone';
export const HERE = '@here';
/** Completions offered at most. */
export const MAX_COMPLETIONS = 8;

/**
 * Whether message `m` (a MessageView or a frame) mentions `me`: by name, or `@everyone`, or
 * `@here` when it arrived live (it is for those present then).
 */
export function mentionsMe(m, me, { live = true } = {}) {
  if (!me || !Array.isArray(m?.mentions)) return false;
  return m.mentions.some((n) => n === EVERYONE || (n === HERE ? live : typeof n === 'string' && sameName(n, me)));
}

/**
 * The `@word` being typed at `caret` in `text`, if any: `{start, query}` where `start` is the
 * index of the `@`. An `@` counts where a mention can start (not after a letter or digit).
 */
export function mentionQuery(text, caret) {
  const before = text.slice(0, caret);
  const m = /(^|[^\p{L}\p{N}])@([\p{L}\p{N}_.-]{0,32})$/u.exec(before);
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** Members whose name starts like `query` (case and width folded), `me` left out, by name key. */
export function completions(query, members, me) {
  const q = query.toLowerCase();
  const qKey = nameKey(query);
  return members
    .filter((name) => !sameName(name, me))
    .filter((name) => name.toLowerCase().startsWith(q) || nameKey(name).startsWith(qKey))
    .map((name) => ({ name, key: nameKey(name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((m) => m.name)
    .slice(0, MAX_COMPLETIONS);
}

/** The text with the `@query` at `start`..`caret` replaced by `@name `, and the new caret. */
export function applyCompletion(text, start, caret, name) {
  const insert = `@${name} `;
  const rest = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, start) + insert + rest, caret: start + insert.length };
}
