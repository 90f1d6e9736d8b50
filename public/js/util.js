// Small pure helpers shared by the client modules (no DOM access here).

import { IGNORABLE } from '../shared/names-data.js';
import { MAX_NAME_CHARS, MAX_ROOM_NAME_CHARS, MAX_TEXT_CHARS, PRIVATE_ROOM_ID_CHARS } from './protocol.js';

export const PUBLIC_ROOM_RE = new RegExp(`^[a-z0-9_-]{1,${MAX_ROOM_NAME_CHARS}}$`);
export const PRIVATE_ROOM_RE = new RegExp(`^[0-9a-f]{${PRIVATE_ROOM_ID_CHARS}}$`);

// Control characters and invisible formatting characters the server refuses in names.
const BAD_NAME_CHARS_RE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;
// Control characters other than newline and tab are refused in message text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const BAD_TEXT_CHARS_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u;

/** Trim and lowercase a room name the way the server does. */
export function normalizeRoom(raw) {
  return String(raw ?? '')
    .trim()
    .toLowerCase();
}

export function isPrivateRoom(room) {
  return PRIVATE_ROOM_RE.test(room);
}

export function isValidRoom(room) {
  return PUBLIC_ROOM_RE.test(room) || PRIVATE_ROOM_RE.test(room);
}

/** Room from `/#lobby` or `/?room=lobby` (the hash wins), normalized; '' when absent. */
export function roomFromLocation(loc) {
  let hash = String(loc.hash || '').replace(/^#/, '');
  try {
    hash = decodeURIComponent(hash);
  } catch {
    /* keep it raw */
  }
  if (hash.trim()) return normalizeRoom(hash);
  const query = new URLSearchParams(loc.search || '').get('room');
  return query ? normalizeRoom(query) : '';
}

/** A human label for a room: private ids are shortened. */
export function roomLabel(room) {
  return isPrivateRoom(room) ? `Private room ${room.slice(0, 6)}…${room.slice(-4)}` : `#${room}`;
}

/** The shareable link for a room. */
export function roomLink(origin, room) {
  return `${origin}/#${room}`;
}

/** Number of Unicode scalar values in a string. */
export function charCount(s) {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

/** Client-side check of a name; returns an error message or '' (the server has the last word). */
export function nameProblem(raw) {
  const name = String(raw ?? '').trim();
  if (!name) return 'Please enter a name.';
  if (charCount(name) > MAX_NAME_CHARS) return `Names are at most ${MAX_NAME_CHARS} characters.`;
  // Default_Ignorable code points (the server's list) are invisible: refused like controls.
  if (BAD_NAME_CHARS_RE.test(name) || IGNORABLE.test(name))
    return 'That name contains invisible or control characters.';
  return '';
}

/** Client-side check of a message; returns an error message or ''. */
export function textProblem(raw) {
  const text = String(raw ?? '').trim();
  if (!text) return 'Type a message first.';
  if (charCount(text) > MAX_TEXT_CHARS) return `Messages are at most ${MAX_TEXT_CHARS} characters.`;
  if (BAD_TEXT_CHARS_RE.test(text)) return 'The message contains control characters.';
  return '';
}

/** `bytes` random bytes as lowercase hex, from crypto.getRandomValues. */
export function randomHex(bytes = 16, cryptoImpl = globalThis.crypto) {
  const buf = new Uint8Array(bytes);
  cryptoImpl.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and 2 others are typing…". */
export function typingText(names) {
  const n = names.length;
  if (n === 0) return '';
  if (n === 1) return `${names[0]} is typing…`;
  if (n === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (n === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names[0]}, ${names[1]} and ${n - 2} others are typing…`;
}
