// Runtime ceiling for the Chatterly benchmark: what workerd itself can do with hibernatable
// WebSockets when the object does (almost) nothing. Not a chat server: no storage, no
// validation, no JSON parsing. It only understands the load generator's frames:
//   {"type":"join",...}     -> {"type":"welcome"} to that socket
//   {"type":"message",...}  -> {"id":N,"type":"message",...} (the same frame with an id spliced in)
//                              to every socket of the room, the sender included
// With the var BROADCAST_JOINS=1 (bench/run --ceiling-joins) a join is also announced to every
// other socket, as the chat protocol does: the runtime's floor for a room filling up.
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
        for (const s of this.ctx.getWebSockets()) {
          if (s !== ws) s.send('{"type":"join","name":"x"}');
        }
      }
      return;
    }
    const out = '{"id":' + ++this.nextId + "," + msg.slice(1);
    for (const s of this.ctx.getWebSockets()) {
      try {
        s.send(out);
      } catch {
        // closing socket: ignore
      }
    }
  }

  async webSocketClose(ws) {
    try {
      ws.close(1000, "bye");
    } catch {
      // already closed
    }
  }

  async webSocketError() {}
}
