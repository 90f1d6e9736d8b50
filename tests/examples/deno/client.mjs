// The SDK unchanged in Deno (issue 19): `deno run --allow-net=HOST client.mjs URL ROOM`. It joins,
// sends with an acknowledgement, answers the first "ping" it hears with "pong", and prints one JSON
// line of what it saw. Deno has WebSocket and fetch built in: nothing is passed to connect().
import { connect } from '../../../public/sdk/chatterly.js';

const [url, room] = Deno.args;
const chat = await connect({ url, room, name: 'Dino' });
const heard = new Promise((resolve) => chat.on('message', (m) => m.text === 'ping' && resolve(m)));
const stored = await chat.send('hello from Deno');
const ping = await heard;
const pong = await chat.send('pong', { replyTo: ping.id });
console.log(JSON.stringify({ members: chat.members, stored: stored.id, ping: ping.name, pong: pong.replyTo }));
chat.close();
