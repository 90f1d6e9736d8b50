// Runtime ceiling for the Chatterly benchmark: what workerd itself can do with hibernatable
// WebSockets when the object does (almost) nothing. Not a chat server: no storage, no
// validation, no JSON parsing. It only understands the load generator's frames:
//   {"type":"join",...}     -> {"type":"welcome"} to that socket
//   {"type":"message",...}  -> {"id":N,"type":"message",...} (the same frame with an id spliced in)
//                              to every socket of the room, the sender included
// With the var BROADCAST_JOINS=1 (bench/run --ceiling-joins) a join is also announced to every
// socket that joined before, as the chat protocol does: the runtime's floor for a room filling up.
// With STORE_MESSAGES=1 (bench/run --ceiling-store) each message frame is first inserted into
// SQLite, one row per message: the runtime's floor for a chat that stores before it broadcasts.
// With DECODED_STRINGS=1 (bench/run --ceiling-decoded) each outgoing frame is made by TextDecoder,
// as wasm-bindgen makes JS strings from Rust ones (a diagnostic for the cost of ws.send).
import { DurableObject } from "cloudflare:workers";

export default {
  async fetch(request, env) {
    const m = new URL(request.url).pathname.match(/^\/api\/rooms\/([^/]+)\/websocket$/);
    if (!m) return new Response("chatterly ceiling\n");
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("upgrade required\n", { status: 426 });
    }
    return env.ROOMS.get(env.ROOMS.idFromName(m[1])).fetch(request);
  },
};

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.nextId = 0;
    this.broadcastJoins = env.BROADCAST_JOINS === "1";
    this.joined = new Set();
    this.store = env.STORE_MESSAGES === "1";
    // Diagnostic: build each outgoing frame the way wasm-bindgen hands Rust strings to JS
    // (TextDecoder over UTF-8 bytes) instead of by JS concatenation.
    this.decoded = env.DECODED_STRINGS === "1";
    this.encoder = new TextEncoder();
    this.decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    if (this.store) ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, body TEXT)");
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, msg) {
    if (typeof msg !== "string") return;
    if (msg.startsWith('{"type":"join"')) {
      ws.send('{"type":"welcome"}');
      if (this.broadcastJoins) {
        // To the sockets that joined before (in memory only: this is not a chat server).
        for (const s of this.joined) s.send('{"type":"join","name":"x"}');
        this.joined.add(ws);
      }
      return;
    }
    const id = ++this.nextId;
    if (this.store) this.ctx.storage.sql.exec("INSERT INTO m (id, body) VALUES (?, ?)", id, msg);
    let out = '{"id":' + id + "," + msg.slice(1);
    if (this.decoded) out = this.decoder.decode(this.encoder.encode(out));
    for (const s of this.ctx.getWebSockets()) {
      try {
        s.send(out);
      } catch {
        // closing socket: ignore
      }
    }
  }

  async webSocketClose(ws) {
    this.joined?.delete(ws);
    try {
      ws.close(1000, "bye");
    } catch {
      // already closed
    }
  }

  async webSocketError() {}
}
