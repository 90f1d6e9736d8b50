// The wire contract as the client sees it (docs/protocol.md): limits the server enforces, close
// and error codes, and how a WebSocket text frame becomes frames. Close codes, join errors and
// batches are the SDK's (public/sdk/chatterly.js), named here for the page. The numbers the server also
// defines are checked against src/ by tests/unit/protocol.test.mjs, so they cannot drift.

import { CLOSE, framesOf, JOIN_ERRORS, TYPING_INTERVAL_MS } from '../sdk/chatterly.js';

/** Longest member name, in Unicode scalar values (server: `MAX_NAME`). */
export const MAX_NAME_CHARS = 32;
/** Longest message text after trimming (server: `MAX_TEXT`). */
export const MAX_TEXT_CHARS = 2000;
/** Longest nonce the server accepts (server: `MAX_NONCE`). */
export const MAX_NONCE_CHARS = 64;
/** Session secrets: 16–128 printable ASCII characters (server: `MIN_SESSION`, `MAX_SESSION`). */
export const MIN_SESSION_CHARS = 16;
export const MAX_SESSION_CHARS = 128;
/** Longest public room name (server: `MAX_ROOM_NAME`); private ids are 64 hex (`PRIVATE_ROOM_ID_LEN`). */
export const MAX_ROOM_NAME_CHARS = 32;
export const PRIVATE_ROOM_ID_CHARS = 64;
/** Client frames larger than this are refused unparsed with `too_large` (server: `MAX_FRAME_BYTES`). */
export const MAX_FRAME_BYTES = 16 * 1024;
/** The most messages a welcome's history holds (server: `WELCOME_HISTORY`). */
export const WELCOME_HISTORY = 100;
/** The largest page of `GET /api/rooms/{room}/messages` (server: `MAX_PAGE`). */
export const MAX_PAGE = 100;

/** The server relays one member's typing frames at most this often (server: its typing relay interval). */
export const TYPING_RELAY_INTERVAL_MS = 1000;
/** This client sends a typing frame at most this often while the user types (client only: the SDK's). */
export const TYPING_SEND_INTERVAL_MS = TYPING_INTERVAL_MS;
/** How long "Alice is typing…" stays up after her last typing frame (client only). */
export const TYPING_SHOW_MS = 3000;

/** Close codes the client sends or receives. */
export const CLOSE_NORMAL = CLOSE.NORMAL;
/** The name was taken over by a newer socket with the same session: do not reconnect. */
export const CLOSE_REPLACED = CLOSE.REPLACED;
/** The server closed a socket that was silent too long (`IDLE_TIMEOUT_MS`): reconnect as usual. */
export const CLOSE_IDLE = CLOSE.IDLE;
/** Kicked by the room's owner: back to the join screen, never reconnect automatically. */
export const CLOSE_KICKED = CLOSE.KICKED;
/** Sent by this client when it gives up on a socket (no welcome, no pong). */
export const CLOSE_CLIENT_TIMEOUT = CLOSE.GAVE_UP;

/** Error codes that refuse a join for good: back to the join screen. */
export { framesOf, JOIN_ERRORS };
/** Error codes that refuse an edit, delete, react, reply or moderation frame (the socket stays usable). */
export const ACTION_ERRORS = new Set(['not_found', 'forbidden', 'edit_window', 'invalid_emoji', 'too_many_reactions']);
/** How long after its `at` the author may edit or delete a message (server: `EDIT_WINDOW_MS` default). */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;
/** Error codes that refuse one message frame (they carry its nonce when it had one). */
export const MESSAGE_ERRORS = new Set(['rate_limited', 'invalid_message', 'too_large', 'storage_failed']);

/** Whether `v` looks like a stored message frame. */
export function isMessage(v) {
  return (
    v !== null &&
    typeof v === 'object' &&
    Number.isSafeInteger(v.id) &&
    typeof v.name === 'string' &&
    typeof v.text === 'string'
  );
}
