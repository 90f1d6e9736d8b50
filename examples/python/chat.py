"""A small Chatterly client in Python: the documented protocol (docs/protocol.md) over
`websockets`, no JavaScript. It joins a room, prints what is said, says each line read from
stdin, and after a drop rejoins with `since`: nothing is missed, shown twice or sent twice (a
line is resent only if the resumed history does not hold its nonce).

    python3 -m venv .venv && .venv/bin/pip install -r examples/python/requirements.txt
    .venv/bin/python examples/python/chat.py http://127.0.0.1:8787 lobby Grace
"""

import asyncio
import json
import secrets
import sys
from urllib.parse import quote

import websockets

# Close codes after which rejoining would be wrong (docs/protocol.md, "Close codes").
NO_REJOIN = {4001: "replaced by another connection", 4003: "removed by the owner"}


def frames(text):
    """The frames in one WebSocket text frame: the server may batch them as a JSON array."""
    if text in ("ping", "pong"):
        return []
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


class Client:
    def __init__(self, server, room, name):
        self.url = server.replace("http", "ws", 1) + f"/api/rooms/{quote(room)}/websocket"
        self.name = name
        self.session = secrets.token_hex(16)  # the same seat across reconnects
        self.last_id = 0
        self.joined = False
        self.seen = set()
        self.pending = {}  # nonce -> text, until its echo arrives
        self.ws = None

    def show(self, m):
        self.last_id = max(self.last_id, m["id"])
        if m.get("nonce") in self.pending and m["name"] == self.name:
            del self.pending[m["nonce"]]
        if m["id"] not in self.seen:
            self.seen.add(m["id"])
            print(f"{m['name']}: {m['text']}", flush=True)

    async def say(self, text):
        nonce = secrets.token_hex(8)
        self.pending[nonce] = text
        await self.transmit(nonce, text)

    async def transmit(self, nonce, text):
        if self.ws is not None:
            try:
                await self.ws.send(json.dumps({"type": "message", "text": text, "nonce": nonce}))
            except websockets.ConnectionClosed:
                pass  # resent after the next welcome unless its history holds it

    async def run(self):
        delay = 0.5
        while True:
            try:
                async with websockets.connect(self.url) as ws:
                    join = {"type": "join", "name": self.name, "session": self.session}
                    if self.joined:
                        join["since"] = self.last_id
                    await ws.send(json.dumps(join))
                    async for text in ws:
                        for f in frames(text):
                            if await self.frame(ws, f) is False:
                                return 1
                    delay = 0.5
            except (OSError, websockets.ConnectionClosed) as err:
                code = getattr(getattr(err, "rcvd", None), "code", None)
                if code in NO_REJOIN:
                    print(f"* {NO_REJOIN[code]}", flush=True)
                    return 1
            self.ws = None
            print(f"* reconnecting in {delay:.1f} s", flush=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

    async def frame(self, ws, f):
        t = f.get("type")
        if t == "welcome":
            self.joined, self.ws = True, ws
            print(f"* in {f['room']} as {f['name']} with {', '.join(f['members'])}", flush=True)
            for e in f["history"]:
                self.last_id = max(self.last_id, e["id"])
                if e.get("type", "message") == "message":
                    self.show(e)
            for nonce, text in list(self.pending.items()):
                await self.transmit(nonce, text)
        elif t == "message":
            self.show(f)
        elif "id" in f:  # a change (edit, delete, react, topic, lock, kick) counts for `since`
            self.last_id = max(self.last_id, f["id"])
        elif t == "error":
            print(f"! {f['code']}: {f['message']}", flush=True)
            if not self.joined:
                return False  # a refused join is not retried


async def main(server, room, name):
    client = Client(server, room, name)
    loop = asyncio.get_running_loop()

    async def read_stdin():
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            await client.say(line.rstrip("\n"))

    asyncio.create_task(read_stdin())
    return await client.run()


if __name__ == "__main__":
    args = sys.argv[1:] + ["http://127.0.0.1:8787", "lobby", "Grace"][len(sys.argv) - 1 :]
    sys.exit(asyncio.run(main(*args[:3])))
