// A Chatterly bot: joins a room with the SDK and answers `!time` with the time, as a reply.
//
//   node examples/bot.mjs [server] [room] [name]      (defaults: http://127.0.0.1:8787 lobby TimeBot)
//
// Node.js 22 and Deno have a global WebSocket; on Node.js 20 the `ws` package stands in for it.

import { connect } from '../public/sdk/chatterly.js';

const [url = 'http://127.0.0.1:8787', room = 'lobby', name = 'TimeBot'] = process.argv.slice(2);
const WebSocket = globalThis.WebSocket ?? (await import('ws')).default;

const chat = await connect({ url, room, name, WebSocket });
console.log(`${chat.name} is in ${room}`);

chat.on('message', async (m, { live, missed }) => {
  // What is said from now on, and what was said while the bot was reconnecting; never the room's
  // history from before it came, nor its own messages.
  if (!(live || missed) || m.own || m.text.trim() !== '!time') return;
  try {
    await chat.send(`It is ${new Date().toISOString()} (UTC).`, { replyTo: m.id });
  } catch (err) {
    console.error(`could not answer: ${err.code}`);
  }
});
chat.on('state', ({ state }) => console.log(`connection: ${state}`));
chat.on('error', (err) => console.error(`error: ${err.code} ${err.message}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    chat.close();
    process.exit(0);
  });
}
