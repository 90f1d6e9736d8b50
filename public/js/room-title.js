// The room's display name (its title, set by the owner): what the header and the browser tab
// show instead of the id. A private room's id is 64 hex digits, so its label is short.

import { roomLabel } from './util.js';

/** The longest title (server: `MAX_TITLE`). */
export const MAX_TITLE_CHARS = 64;

/** What to call the room: its title, or the label of its id. */
export function roomName(room, title = '') {
  const t = typeof title === 'string' ? title.trim() : '';
  return t || roomLabel(room);
}
