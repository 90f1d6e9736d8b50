// Chatterly's JavaScript baseline for the benchmark (bench/README.md).
//
// The same wire contract as the Rust Worker (docs/protocol.md) for everything the benchmark and a
// basic client touch: join/welcome (members + last 100 history, `since`), message (id, name, text,
// at, nonce), typing, leave, the error codes of the basic cases, name validation and the 16 KiB
// frame limit. Written the way Cloudflare's docs and the edge-chat-demo teach: the WebSocket
// Hibernation API, per-socket state in attachments, SQLite storage, one JSON.stringify per
// broadcast and a `ws.send` loop over `ctx.getWebSockets()`.
//
// Left out (not exercised by the benchmark): session takeover, the join timeout, the
// history-page and stats HTTP endpoints.
import { DurableObject } from 'cloudflare:workers';

const MAX_FRAME_BYTES = 16 * 1024;
const HISTORY_ON_JOIN = 100;
const PUBLIC_ROOM = /^[a-z0-9_-]{1,32}$/;
const PRIVATE_ROOM = /^[0-9a-f]{64}$/;
// Control characters and invisible formatting characters that make look-alike names.
const BAD_NAME_CHARS = /[\p{Cc}\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2028\u2029\u2060-\u2064\u2066-\u2069\uFEFF]/u;
// Control characters other than newline and tab.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const BAD_TEXT_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

function jsonError(status, code, message) {
  return Response.json({ error: { code, message } }, { status });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split('/').slice(1);
    if (parts[0] !== 'api') {
      return new Response('Chatterly JS baseline\n', { headers: { 'content-type': 'text/plain' } });
    }
    if (parts.length === 2 && parts[1] === 'rooms') {
      if (request.method !== 'POST') return jsonError(405, 'method_not_allowed', 'use POST');
      return Response.json({ room: env.ROOMS.newUniqueId().toString() }, { status: 201 });
    }
    if (parts.length === 4 && parts[1] === 'rooms' && parts[3] === 'websocket') {
      let room;
      try {
        room = decodeURIComponent(parts[2]).trim().toLowerCase();
      } catch {
        room = '';
      }
      let id;
      if (PRIVATE_ROOM.test(room)) {
        try {
          id = env.ROOMS.idFromString(room);
        } catch {
          id = null;
        }
      } else if (PUBLIC_ROOM.test(room)) {
        id = env.ROOMS.idFromName(room);
      }
      if (!id) {
        return jsonError(400, 'invalid_room', 'room names are 1-32 characters of a-z, 0-9, _ and -');
      }
      if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
        return jsonError(426, 'upgrade_required', 'expected a WebSocket upgrade');
      }
      const headers = new Headers(request.headers);
      headers.set('X-Room', room);
      return env.ROOMS.get(id).fetch(new Request(request, { headers }));
    }
    return jsonError(404, 'not_found', 'no such endpoint');
  },
};

export class ChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      text TEXT NOT NULL,
      at INTEGER NOT NULL,
      nonce TEXT
    )`);
    this.lastId = this.sql.exec('SELECT COALESCE(MAX(id), 0) AS last FROM messages').one().last;
    this.ratePerSec = Number(env.RATE_LIMIT_PER_SEC ?? 5);
    this.rateBurst = Number(env.RATE_LIMIT_BURST ?? 20);
    this.maxMembers = Number(env.MAX_MEMBERS ?? 1000);
    this.historyCap = Number(env.HISTORY_CAP ?? 10000);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));

    // Sessions survive hibernation in the sockets' attachments; rebuild the map on wake-up.
    this.sessions = new Map();
    for (const ws of this.ctx.getWebSockets()) {
      this.sessions.set(ws, { ...ws.deserializeAttachment() });
    }
  }

  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    const session = { room: request.headers.get('X-Room'), name: null, joinedAt: 0, joinSeq: 0 };
    server.serializeAttachment(session);
    this.sessions.set(server, session);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, raw) {
    if (typeof raw !== 'string') {
      return this.sendError(ws, 'bad_request', 'binary frames are not supported');
    }
    // UTF-16 length bounds the UTF-8 length: only encode when it could be over the limit.
    if (
      raw.length > MAX_FRAME_BYTES ||
      (raw.length * 3 > MAX_FRAME_BYTES && new TextEncoder().encode(raw).length > MAX_FRAME_BYTES)
    ) {
      return this.sendError(ws, 'too_large', 'frames are limited to 16 KiB');
    }
    let data;
    try {
      data = JSON.parse(raw);
    } catch {
      return this.sendError(ws, 'bad_request', 'frames must be JSON');
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return this.sendError(ws, 'bad_request', 'frames must be JSON objects');
    }
    const session = this.sessions.get(ws);
    switch (data.type) {
      case 'join':
        return this.onJoin(ws, session, data);
      case 'message':
        return this.onMessage(ws, session, data);
      case 'typing':
        return this.onTyping(ws, session);
      default:
        return this.sendError(ws, 'bad_request', 'unknown frame type');
    }
  }

  onJoin(ws, session, data) {
    if (session.name) return this.sendError(ws, 'bad_request', 'already joined');
    if (typeof data.name !== 'string') return this.sendError(ws, 'invalid_name', 'a name is required');
    const name = data.name.trim();
    const length = [...name].length;
    if (length < 1 || length > 32 || BAD_NAME_CHARS.test(name)) {
      return this.sendError(ws, 'invalid_name', 'names are 1-32 visible characters');
    }
    let since = null;
    if (data.since !== undefined) {
      if (!Number.isSafeInteger(data.since) || data.since < 0) {
        return this.sendError(ws, 'bad_request', 'since must be an integer >= 0');
      }
      since = data.since;
    }
    if (data.session !== undefined && typeof data.session !== 'string') {
      return this.sendError(ws, 'bad_request', 'session must be a string');
    }

    const lower = name.toLowerCase();
    const members = [];
    for (const other of this.sessions.values()) {
      if (!other.name) continue;
      if (other.name.toLowerCase() === lower) {
        return this.sendError(ws, 'name_taken', 'that name is taken in this room');
      }
      members.push(other);
    }
    if (members.length >= this.maxMembers) {
      return this.sendError(ws, 'room_full', 'the room is full');
    }

    session.name = name;
    session.joinedAt = Date.now();
    session.joinSeq = members.reduce((max, m) => Math.max(max, m.joinSeq), 0) + 1;
    ws.serializeAttachment(session);
    members.push(session);
    members.sort((a, b) => a.joinSeq - b.joinSeq);

    let history;
    let truncated = false;
    if (since === null) {
      history = this.sql
        .exec('SELECT id, name, text, at, nonce FROM messages ORDER BY id DESC LIMIT ?', HISTORY_ON_JOIN)
        .toArray();
    } else {
      history = this.sql
        .exec(
          'SELECT id, name, text, at, nonce FROM messages WHERE id > ? ORDER BY id DESC LIMIT ?',
          since,
          HISTORY_ON_JOIN + 1,
        )
        .toArray();
      if (history.length > HISTORY_ON_JOIN) {
        truncated = true;
        history.length = HISTORY_ON_JOIN;
      }
    }
    history.reverse();

    ws.send(
      JSON.stringify({
        type: 'welcome',
        room: session.room,
        name,
        members: members.map((m) => m.name),
        history: history.map(messageFrame),
        truncated,
        last_id: this.lastId,
      }),
    );
    this.broadcast(JSON.stringify({ type: 'join', name, at: session.joinedAt }), ws);
  }

  onMessage(ws, session, data) {
    if (!session.name) return this.sendError(ws, 'not_joined', 'join first');
    if (typeof data.text !== 'string') return this.sendError(ws, 'invalid_message', 'text is required');
    const text = data.text.trim();
    const length = [...text].length;
    if (length < 1 || length > 2000 || BAD_TEXT_CHARS.test(text)) {
      return this.sendError(ws, 'invalid_message', 'text is 1-2000 characters without control characters');
    }
    let nonce = null;
    if (data.nonce !== undefined) {
      if (typeof data.nonce !== 'string') return this.sendError(ws, 'bad_request', 'nonce must be a string');
      if ([...data.nonce].length > 64) return this.sendError(ws, 'invalid_message', 'nonce is at most 64 characters');
      nonce = data.nonce;
    }
    if (this.ratePerSec > 0 && !this.takeToken(session)) {
      const retryAfterMs = Math.ceil((1 - session.tokens) * (1000 / this.ratePerSec));
      return ws.send(
        JSON.stringify({
          type: 'error',
          code: 'rate_limited',
          message: 'slow down',
          retry_after_ms: retryAfterMs,
        }),
      );
    }

    // Store first, then broadcast: every message anyone saw is in the history.
    const at = Date.now();
    const id = this.sql
      .exec(
        'INSERT INTO messages (name, text, at, nonce) VALUES (?, ?, ?, ?) RETURNING id',
        session.name,
        text,
        at,
        nonce,
      )
      .one().id;
    this.lastId = id;
    if (id > this.historyCap) {
      this.sql.exec('DELETE FROM messages WHERE id <= ?', id - this.historyCap);
    }
    this.broadcast(JSON.stringify(messageFrame({ id, name: session.name, text, at, nonce })));
  }

  onTyping(ws, session) {
    if (!session.name) return this.sendError(ws, 'not_joined', 'join first');
    const now = Date.now();
    if (session.lastTyping && now - session.lastTyping < 1000) return;
    session.lastTyping = now;
    this.broadcast(JSON.stringify({ type: 'typing', name: session.name }), ws);
  }

  // Token bucket per connection, kept in memory (it does not need to survive hibernation).
  takeToken(session) {
    const now = Date.now();
    if (session.tokens === undefined) {
      session.tokens = this.rateBurst;
      session.refilledAt = now;
    }
    session.tokens = Math.min(this.rateBurst, session.tokens + ((now - session.refilledAt) / 1000) * this.ratePerSec);
    session.refilledAt = now;
    if (session.tokens < 1) return false;
    session.tokens -= 1;
    return true;
  }

  broadcast(message, except = null) {
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || !this.sessions.get(ws)?.name) continue;
      try {
        ws.send(message);
      } catch {
        // The socket is closing; webSocketClose cleans up.
      }
    }
  }

  sendError(ws, code, message) {
    ws.send(JSON.stringify({ type: 'error', code, message }));
  }

  async webSocketClose(ws) {
    this.leave(ws);
    try {
      ws.close(1000, 'bye');
    } catch {
      // already closed
    }
  }

  async webSocketError(ws) {
    this.leave(ws);
  }

  leave(ws) {
    const session = this.sessions.get(ws);
    this.sessions.delete(ws);
    if (session?.name) {
      this.broadcast(JSON.stringify({ type: 'leave', name: session.name, at: Date.now() }), ws);
    }
  }
}

function messageFrame(row) {
  const frame = { type: 'message', id: row.id, name: row.name, text: row.text, at: row.at };
  if (row.nonce !== null && row.nonce !== undefined) frame.nonce = row.nonce;
  return frame;
}
