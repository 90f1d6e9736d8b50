// Types for public/sdk/chatterly.js: every option, event, method and error, and every frame of
// the wire contract (docs/protocol.md). Interfaces, not closed unions of literals, wherever the
// server may add fields: a newer server adds, an older client ignores.

// ---- wire frames: client → server ---------------------------------------------------------

export interface JoinFrame {
  type: 'join';
  name?: string;
  since?: number;
  session?: string;
  owner_key?: string;
  /** A compact JWT from the host app (join tokens); `name` is then ignored. */
  token?: string;
}
export interface MessageFrameOut {
  type: 'message';
  /** Optional when `files` has one. */
  text?: string;
  nonce?: string;
  reply_to?: number;
  /** Ids of files this member uploaded and has not attached yet. */
  files?: string[];
}
/** Asks for an upload ticket (docs/protocol.md, Files). */
export interface UploadFrameOut {
  type: 'upload';
  name: string;
  size: number;
}
export interface TypingFrameOut {
  type: 'typing';
}
export interface EditFrameOut {
  type: 'edit';
  id: number;
  text: string;
}
export interface DeleteFrameOut {
  type: 'delete';
  id: number;
}
export interface ReactFrameOut {
  type: 'react';
  id: number;
  emoji: string;
}
export interface KickFrameOut {
  type: 'kick';
  name: string;
}
export interface LockFrameOut {
  type: 'lock';
  locked: boolean;
}
export interface TopicFrameOut {
  type: 'topic';
  text?: string;
}
/** Owner only: the room's display name (at most 64 characters; '' clears it). */
export interface TitleFrameOut {
  type: 'title';
  text?: string;
}
/** Replaces the member's token in place (same `sub` and room). */
export interface AuthFrame {
  type: 'auth';
  token: string;
}
/** "I have read up to `id`": stored per member, monotonic; the member's other connections hear it. */
export interface ReadFrameOut {
  type: 'read';
  id: number;
}
export type ClientFrame =
  | JoinFrame
  | MessageFrameOut
  | TypingFrameOut
  | EditFrameOut
  | DeleteFrameOut
  | ReactFrameOut
  | KickFrameOut
  | LockFrameOut
  | TopicFrameOut
  | UploadFrameOut
  | TitleFrameOut
  | AuthFrame
  | ReadFrameOut;
export type ClientFrameType = ClientFrame['type'];

// ---- wire frames: server → client ---------------------------------------------------------

export interface Quote {
  name: string;
  text: string;
  deleted?: boolean;
}
/** One emoji on a message, summarized: how many reacted, the first few of them
 * (`REACTION_NAMES`, 5), and in a welcome whether the joiner is among them. */
export interface ReactionEntry {
  emoji: string;
  count: number;
  names: string[];
  /** Welcomes only: the joiner reacted with it (omitted otherwise). */
  me?: boolean;
}
/** A stored message as the server sends it (live, in a welcome's history, in a page). */
export interface MessageFrame {
  type?: 'message';
  id: number;
  name: string;
  text: string;
  at: number;
  nonce?: string;
  reply_to?: number;
  reply?: Quote;
  edited_at?: number;
  deleted?: boolean;
  reactions?: ReactionEntry[];
  /** Members the text mentions (`@name`), by name; `@everyone`/`@here` from the owner. */
  mentions?: string[];
  files?: FileRef[];
}
/** A picture or file a message carries (the bytes: `GET /api/rooms/{room}/files/{id}`). */
export interface FileRef {
  id: string;
  name: string;
  /** The MIME type it is served with, checked from its bytes. */
  type: string;
  size: number;
  /** Images whose header says so. */
  width?: number;
  height?: number;
}
/** The answer to `upload`: PUT the bytes to `url` (relative to the server) before `expires_at`. */
export interface UploadTicketFrame {
  type: 'upload_ticket';
  id: string;
  url: string;
  expires_at: number;
}
interface ChangeBase {
  /** The change's own id in the room's log (one sequence with the messages). */
  id: number;
  /** Who made it. */
  name: string;
  at: number;
}
export interface EditFrame extends ChangeBase {
  type: 'edit';
  target: number;
  text: string;
  /** The edited text's mentions: the message's `mentions` from now on. */
  mentions?: string[];
}
export interface DeleteFrame extends ChangeBase {
  type: 'delete';
  target: number;
}
export interface ReactFrame extends ChangeBase {
  type: 'react';
  target: number;
  emoji: string;
  on: boolean;
  /** How many members have this emoji on the message after this change (a value to set). */
  count: number;
}
export interface TopicFrame extends ChangeBase {
  type: 'topic';
  text: string;
}
export interface TitleFrame extends ChangeBase {
  type: 'title';
  text: string;
}
export interface LockFrame extends ChangeBase {
  type: 'lock';
  locked: boolean;
}
export interface KickFrame extends ChangeBase {
  type: 'kick';
  /** The name of the member removed. */
  target: string;
}
export type MessageChange = EditFrame | DeleteFrame | ReactFrame;
export type RoomChange = TopicFrame | TitleFrame | LockFrame | KickFrame;
export type ChangeFrame = MessageChange | RoomChange;

export interface WelcomeFrame {
  type: 'welcome';
  room: string;
  name: string;
  members: string[];
  away?: string[];
  /** Members who joined with a join token, in join order (omitted when none). */
  verified?: string[];
  count?: number;
  history: (MessageFrame | ChangeFrame)[];
  /** Entries after `since` were left out: page them with `?after=`. Also when `since` is older
   * than the changes `CHANGES_CAP` deleted: `history` is then the newest messages' current state. */
  truncated: boolean;
  last_id: number;
  topic: string;
  /** The room's display name ('' for none). */
  title?: string;
  locked: boolean;
  owner?: boolean;
  /** The member's read position (0: none yet). */
  read_id: number;
  /** The room's owners here or away. */
  owners?: string[];
}
/** Another connection of this member read up to `id`. */
export interface ReadFrame {
  type: 'read';
  id: number;
}
/** To a kicked member, just before the 4003 close. */
export interface KickedFrame {
  type: 'kicked';
  room: string;
  title: string;
  /** Who removed this member. */
  name: string;
  at: number;
  retry_after_ms: number;
}
export interface PresenceNameFrame {
  type: 'join' | 'leave' | 'away' | 'back';
  name: string;
  at: number;
  /** `join` and `back`: the member is one of the room's owners. */
  owner?: boolean;
  /** `join` and `back`: the member joined with a join token. */
  verified?: true;
}
export interface TypingFrame {
  type: 'typing';
  name: string;
}
export interface PresenceFrame {
  type: 'presence';
  count: number;
  joined?: string[];
  left?: string[];
  members?: string[];
  /** The verified among `joined` or `members` (omitted when none). */
  verified?: string[];
}
/** The answer to an `auth` renewal: the new token's `exp` (unix seconds). */
export interface AuthAckFrame {
  type: 'auth';
  exp: number;
}
/** `GET /api/rooms/{room}/messages`: `truncated` on an `?after=` page from before the changes
 * `CHANGES_CAP` deleted (the messages are in their current state; some changes are gone). */
export interface HistoryPage {
  messages: (MessageFrame | ChangeFrame)[];
  truncated?: true;
}
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  nonce?: string;
  target?: number;
  retry_after_ms?: number;
}
export type ServerFrame =
  | WelcomeFrame
  | (MessageFrame & { type: 'message' })
  | ChangeFrame
  | PresenceNameFrame
  | TypingFrame
  | PresenceFrame
  | ReadFrame
  | UploadTicketFrame
  | KickedFrame
  | AuthAckFrame
  | ErrorFrame;
export type ServerFrameType = ServerFrame['type'];

/** The protocol's error codes (docs/protocol.md, "Error codes"). */
export type ProtocolErrorCode =
  | 'invalid_name'
  | 'name_taken'
  | 'room_full'
  | 'invalid_message'
  | 'not_joined'
  | 'bad_request'
  | 'too_large'
  | 'rate_limited'
  | 'address_limit'
  | 'storage_failed'
  | 'not_found'
  | 'forbidden'
  | 'edit_window'
  | 'invalid_emoji'
  | 'too_many_reactions'
  | 'room_locked'
  | 'banned'
  | 'unauthorized'
  | 'file_too_large'
  | 'file_quota'
  | 'files_off'
  | 'file_type'
  | 'wrong_size'
  | 'bad_ticket'
  | 'invalid_room';
/** Codes the client itself gives. */
export type ClientErrorCode =
  | 'timeout'
  | 'queue_full'
  | 'closed'
  | 'not_connected'
  | 'unreachable'
  | 'kicked'
  | 'replaced'
  | 'token_failed'
  | 'history_failed'
  | 'aborted'
  | 'upload_failed';
/** A code the server added after this client was written is still a string. */
export type ErrorCode = ProtocolErrorCode | ClientErrorCode | (string & {});

export declare class ChatterlyError extends Error {
  name: 'ChatterlyError';
  code: ErrorCode;
  /** `rate_limited` and `banned`: how long to wait. */
  retryAfterMs?: number;
  /** The message an edit, delete or react error is about. */
  target?: number;
  /** The nonce of the message an error is about. */
  nonce?: string;
  /** `kicked`: who removed this member, the room's title, when the ban ends (unix ms, our clock). */
  by?: string;
  title?: string;
  until?: number;
  constructor(code: ErrorCode, message?: string, extra?: { retryAfterMs?: number; target?: number; nonce?: string });
}

// ---- the SDK ------------------------------------------------------------------------------

export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev?: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev?: unknown) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;
export type FetchLike = (url: string, init?: unknown) => Promise<{ ok: boolean; status: number; json(): Promise<any> }>;
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

/** A string, or a function the SDK calls for the first join, each reconnect and before expiry. */
export type TokenSource = string | (() => string | Promise<string>);

export interface ConnectOptions {
  /** The Chatterly server's origin, e.g. "https://chat.example.com". */
  url: string;
  room: string;
  /** The name to join with (not needed with a token: its `name` claim wins). */
  name?: string;
  token?: TokenSource;
  /** The room's owner key (64 hex) from `POST /api/rooms`, or the operator's moderator key. */
  ownerKey?: string;
  /** A secret of 16–128 printable ASCII characters kept across reconnects; random by default. */
  session?: string;
  /** The last id seen: the first join resumes from it. */
  since?: number;
  /** For runtimes without a global one (Node.js 20: `import WebSocket from 'ws'`). */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  /** For `upload`'s progress; `globalThis.XMLHttpRequest` by default (fetch without one). */
  XMLHttpRequest?: unknown;
  /** How long send and the change methods wait for their echo (default 10000). */
  timeoutMs?: number;
  /** Messages waiting to be sent while offline (default 100); beyond it send rejects `queue_full`. */
  maxQueued?: number;
  /** Reconnect delays: full jitter below min(max, base·2^attempt) (default 500 / 10000 ms). */
  backoff?: { base?: number; max?: number };
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  joinTimeoutMs?: number;
  /** Renew a token this long before its `exp` (default 60000, at most half its life). */
  renewBeforeMs?: number;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

export interface Reaction {
  emoji: string;
  /** How many members put it on. */
  count: number;
  /** Their names, as far as the client knows them. */
  names: string[];
  /** Whether this member's reaction is among them. */
  mine: boolean;
}
/** A message in its current state. */
export interface Message {
  id: number;
  name: string;
  /** '' once deleted. */
  text: string;
  at: number;
  nonce?: string;
  replyTo: number | null;
  reply: { name: string; text: string; deleted: boolean } | null;
  editedAt: number | null;
  deleted: boolean;
  reactions: Reaction[];
  /** Who the text mentions (names, `@everyone`, `@here`). */
  mentions: string[];
  /** Pictures and files ([] once deleted). */
  files: FileRef[];
  /** Sent by this member. */
  own: boolean;
  /** Its author was a verified member (joined with a join token) when this client first saw it. */
  verified: boolean;
}
export interface QueuedMessage {
  nonce: string;
  text: string;
  replyTo?: number;
  at: number;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'replaced' | 'closed' | 'failed';
export interface StateEvent {
  state: ConnectionState;
  /** `waiting`: when the next attempt starts (unix ms). */
  retryAt?: number;
  attempt?: number;
  /** `failed`: why. */
  code?: ErrorCode;
  message?: string;
}
export interface RoomView {
  topic: string;
  title: string;
  locked: boolean;
  owner: boolean;
}
export interface RoomEvent extends RoomView {
  /** The change that made it (absent after a welcome). */
  change?: RoomChange;
  live?: boolean;
}
export interface MembersEvent {
  members: string[];
  away: string[];
  count: number;
  owners: string[];
  /** Those of `members` who joined with a join token. */
  verified: string[];
}
export interface NameEvent {
  name: string;
  at?: number;
  /** `join`, `back`: the member joined with a join token. */
  verified?: boolean;
}
export interface WelcomeEvent {
  room: string;
  name: string;
  first: boolean;
  owner: boolean;
  /** The member's read position, kept across devices and visits. */
  readId: number;
}
export interface GapEvent {
  state: 'retrying' | 'filled';
  retryAt?: number;
}

/** Event names and what their handlers receive. */
export interface RoomEvents {
  /** `live`: said just now; `missed`: said while this client was away (a resume or its gap);
   * neither: the first welcome's history. */
  message: (message: Message, meta: { live: boolean; missed: boolean }) => void;
  /** A known message changed: an edit, a delete, a reaction, a quote. */
  update: (message: Message) => void;
  room: (room: RoomEvent) => void;
  members: (members: MembersEvent) => void;
  join: (e: NameEvent) => void;
  leave: (e: NameEvent) => void;
  away: (e: NameEvent) => void;
  back: (e: NameEvent) => void;
  typing: (e: { name: string }) => void;
  state: (e: StateEvent) => void;
  error: (error: ChatterlyError) => void;
  welcome: (e: WelcomeEvent) => void;
  gap: (e: GapEvent) => void;
  /** Another device or tab of this member read up to `id`. */
  read: (e: { id: number }) => void;
}
export type RoomEventName = keyof RoomEvents;

export declare class Room {
  constructor(options: ConnectOptions);
  readonly room: string;
  /** The name the room knows this member by (from the welcome). */
  readonly name: string;
  readonly session: string;
  readonly state: ConnectionState;
  /** The highest id seen: a rejoin resumes after it. */
  readonly lastId: number;
  /** How far this member has read (the welcome's, `read()`'s or another device's position). */
  readonly readId: number;
  readonly members: string[];
  readonly away: string[];
  /** The members who joined with a join token (the app vouches for them). */
  readonly verified: string[];
  readonly memberCount: number;
  readonly topic: string;
  /** The room's display name ('' for none: show the id). */
  readonly title: string;
  /** The room's owners among the members. */
  readonly owners: string[];
  readonly locked: boolean;
  readonly owner: boolean;
  readonly messages: Message[];
  readonly queued: QueuedMessage[];
  on<E extends RoomEventName>(event: E, handler: RoomEvents[E]): () => void;
  open(): Promise<Room>;
  send(
    text: string,
    options?: { replyTo?: number; files?: (FileRef | string)[]; timeoutMs?: number },
  ): Promise<Message> & { nonce: string };
  /** Uploads a file (ticket on the socket, bytes over HTTP); pass the result to `send`'s `files`.
   * `onProgress(loaded, total)` where XMLHttpRequest exists; `signal` cancels (`aborted`). */
  upload(
    file: Blob & { name?: string },
    options?: { onProgress?: (loaded: number, total: number) => void; signal?: AbortSignal },
  ): Promise<FileRef>;
  edit(id: number, text: string): Promise<EditFrame>;
  delete(id: number): Promise<DeleteFrame>;
  react(id: number, emoji: string): Promise<ReactFrame>;
  kick(name: string): Promise<KickFrame>;
  lock(locked?: boolean): Promise<LockFrame>;
  setTopic(text: string): Promise<TopicFrame>;
  setTitle(text: string): Promise<TitleFrame>;
  typing(): boolean;
  /** Record that this member has read up to `id` (monotonic); returns whether a frame went out. */
  read(id: number): boolean;
  history(options?: { before?: number; limit?: number }): AsyncIterableIterator<Message[]>;
  reconnect(): void;
  forget(ids: Iterable<number>): void;
  close(): void;
}

export declare function connect(options: ConnectOptions): Promise<Room>;
export declare function backoffDelay(
  attempt: number,
  options?: { base?: number; max?: number; random?: () => number },
): number;
export declare function framesOf(data: unknown): ServerFrame[];
export declare function tokenExpiry(token: string): number | null;
export declare function sessionTag(session: string): string;
export declare const CLOSE: Readonly<{
  NORMAL: 1000;
  GAVE_UP: 4000;
  REPLACED: 4001;
  IDLE: 4002;
  KICKED: 4003;
  TOKEN_EXPIRED: 4004;
}>;
export declare const JOIN_ERRORS: ReadonlySet<string>;
export declare const QUOTE_CHARS: 100;
export declare const TYPING_INTERVAL_MS: 2000;
