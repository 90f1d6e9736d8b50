// Runtime ceiling for the Chatterly benchmark: what workerd itself can do with hibernatable
// WebSockets when the object does (almost) nothing. Not a chat server: no validation, no JSON
// parsing. It only understands the load generator's frames:
//   {"type":"join","name":"m7"} -> {"type":"welcome"} to that socket
//   {"type":"message",...}      -> {"id":N,"type":"message",...} (the same frame with an id
//                                  spliced in) to every socket of the room, the sender included
// Vars (bench/run sets them):
// - BATCH_FRAMES=1 (the "ceiling-js batched" server): frames produced before the next macrotask
//   go out as one JSON array per socket (outbox.js); otherwise one ws.send per frame.
// - BROADCAST_JOINS=1 (--ceiling-joins, and the join-storm row): a join is announced to every
//   socket that joined before, and the welcome lists the members, as the chat protocol does: the
//   runtime's floor for a room filling up.
// - STORE_MESSAGES=1 (--ceiling-store): each message is inserted into SQLite before it is sent,
//   one row per message (batched: the rows of a flush in one transaction).
// - INDEX_MESSAGES=1 (--ceiling-index, with STORE_MESSAGES=1): each stored message's text also
//   goes into a contentless FTS5 index, a burst's texts in one statement, with Chatterly's
//   tokenizer and merge setting: what a search index on the write path costs a room that does
//   nothing else.
// - DECODED_STRINGS=1 (--ceiling-decoded): each outgoing frame is made by TextDecoder, as
//   wasm-bindgen makes JS strings from Rust ones (a diagnostic for the cost of ws.send).
import { DurableObject } from 'cloudflare:workers';
import { Outbox } from './outbox.js';

export default {
  async fetch(request, env) {
    const m = new URL(request.url).pathname.match(/^\/api\/rooms\/([^/]+)\/websocket$/);
    if (!m) return new Response('chatterly ceiling\n');
    if (request.headers.get('Upgrade') !== 'websocket') {
      return new Response('upgrade required\n', { status: 426 });
    }
    return env.ROOMS.get(env.ROOMS.idFromName(m[1])).fetch(request);
  },
};

const JOIN_PREFIX = '{"type":"join","name":"';

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.nextId = 0;
    this.broadcastJoins = env.BROADCAST_JOINS === '1';
    // In memory only: this is not a chat server.
    this.joined = new Map();
    this.store = env.STORE_MESSAGES === '1';
    this.decoded = env.DECODED_STRINGS === '1';
    this.encoder = new TextEncoder();
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    if (this.store) ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, body TEXT)');
    this.index = this.store && env.INDEX_MESSAGES === '1';
    if (this.index) {
      ctx.storage.sql.exec(
        "CREATE VIRTUAL TABLE IF NOT EXISTS s USING fts5(text, content = '', tokenize = 'unicode61 remove_diacritics 2')",
      );
      // Chatterly's merge setting too (src/shell/search.rs: fewer, larger merges).
      ctx.storage.sql.exec("INSERT INTO s (s, rank) VALUES ('automerge', 16)");
    }
    this.outbox = env.BATCH_FRAMES === '1' ? new Outbox((rows) => this.insertRows(rows)) : null;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  async fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  send(ws, frame) {
    if (this.outbox) return this.outbox.send(ws, frame);
    try {
      ws.send(frame);
    } catch {
      // closing socket: ignore
    }
  }

  insertRows(rows) {
    this.ctx.storage.transactionSync(() => {
      for (const [id, body] of rows) this.ctx.storage.sql.exec('INSERT INTO m (id, body) VALUES (?, ?)', id, body);
      // The rows' texts in one statement, as Chatterly's burst: FTS5 writes a segment per
      // statement, so one per row would cost it far more than the index itself.
      if (this.index) {
        const pairs = `[${rows.map(([id, body]) => `[${id},${body}]`).join(',')}]`;
        this.ctx.storage.sql.exec(
          "INSERT INTO s (rowid, text) SELECT value ->> '$[0]', value ->> '$[1].text' FROM json_each(?)",
          pairs,
        );
      }
    });
  }

  async webSocketMessage(ws, msg) {
    if (typeof msg !== 'string') return;
    if (msg.startsWith(JOIN_PREFIX)) return this.join(ws, msg);
    const id = ++this.nextId;
    if (this.store) {
      if (this.outbox) this.outbox.store(id, msg);
      else this.insertRows([[id, msg]]);
    }
    let out = `{"id":${id},${msg.slice(1)}`;
    if (this.decoded) out = this.decoder.decode(this.encoder.encode(out));
    for (const s of this.ctx.getWebSockets()) this.send(s, out);
  }

  join(ws, msg) {
    if (!this.broadcastJoins) return this.send(ws, '{"type":"welcome"}');
    // The load generator's names are m<digits>: nothing to escape.
    const name = msg.slice(JOIN_PREFIX.length, msg.indexOf('"', JOIN_PREFIX.length));
    const announce = `${JOIN_PREFIX}${name}"}`;
    for (const s of this.joined.keys()) this.send(s, announce);
    this.joined.set(ws, name);
    this.send(ws, `{"type":"welcome","members":${JSON.stringify([...this.joined.values()])}}`);
  }

  async webSocketClose(ws) {
    this.joined.delete(ws);
    try {
      ws.close(1000, 'bye');
    } catch {
      // already closed
    }
  }

  async webSocketError() {}
}
