// A screenshot of the chat screen with a small conversation.
//
//   node tests/e2e/screenshot.mjs [out.png] [--width=1200] [--height=760] [--dark]
//
// starts its own `wrangler dev` (the Worker must be built) and writes docs/screenshot.png by
// default. The e2e suite calls captureScreenshot() with its own server and a temporary file.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinRoom, launchBrowser, openPerson, send, waitForMessage, waitForText } from './helpers.mjs';
import { REPO_ROOT, startServer } from './server.mjs';

const CONVERSATION = [
  ['Maya', 'Morning! Is the release still on for today?'],
  ['Jonas', 'Yes. Reconnects are solid now: I restarted the server twice mid-chat and nothing was lost.'],
  ['Jonas', 'History fills in after a reload too.'],
  ['Maya', 'Great work. I will write the announcement.'],
  ['Maya', 'Draft:\n"Chatterly 1.0: rooms, private links, typing indicators."'],
  ['Jonas', 'Perfect, ship it!'],
];

/**
 * Join two people to a fresh room, play the conversation, and save the first person's screen.
 * Returns the path written.
 */
export async function captureScreenshot({
  browser,
  baseUrl,
  out,
  width = 1200,
  height = 760,
  colorScheme = 'light',
  room = 'release-planning',
}) {
  const viewport = { width, height };
  const maya = await openPerson(browser, baseUrl, { viewport, colorScheme });
  const jonas = await openPerson(browser, baseUrl, { viewport, colorScheme });
  const sam = await openPerson(browser, baseUrl, { viewport, colorScheme });
  try {
    await joinRoom(jonas, 'Jonas', room);
    await joinRoom(maya, 'Maya', room);
    await joinRoom(sam, 'Sam Lee', room);
    const pages = { Maya: maya.page, Jonas: jonas.page };
    for (const [who, text] of CONVERSATION) {
      await send(pages[who], text);
      await waitForMessage(maya.page, text);
    }
    // Sam starts typing, so the indicator shows too.
    await sam.page.locator('#message-input').pressSequentially('Can I', { delay: 20 });
    await waitForText(maya.page.locator('#typing'), 'Sam Lee is typing…');
    await maya.page.locator('#message-input').focus();
    await maya.page.mouse.move(0, 0);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await maya.page.screenshot({ path: out });
    return out;
  } finally {
    await Promise.allSettled([maya.close(), jonas.close(), sam.close()]);
  }
}

async function main() {
  const args = process.argv.slice(2);
  const flag = (name, dflt) => {
    const a = args.find((x) => x.startsWith(`--${name}=`));
    return a ? Number(a.split('=')[1]) : dflt;
  };
  const out = path.resolve(args.find((x) => !x.startsWith('--')) || path.join(REPO_ROOT, 'docs', 'screenshot.png'));
  const [s, b] = await Promise.allSettled([startServer(), launchBrowser()]);
  const server = s.value;
  const browser = b.value;
  try {
    if (s.status === 'rejected') throw s.reason;
    if (b.status === 'rejected') throw b.reason;
    await captureScreenshot({
      browser,
      baseUrl: server.url,
      out,
      width: flag('width', 1200),
      height: flag('height', 760),
      colorScheme: args.includes('--dark') ? 'dark' : 'light',
    });
    console.log(`wrote ${out}`);
  } finally {
    await browser?.close();
    await server?.cleanup();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
