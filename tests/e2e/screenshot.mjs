// A screenshot of the chat screen with a small conversation: a topic, a reply, reactions and an
// edited message.
//
//   node tests/e2e/screenshot.mjs [out.png] [--width=1200] [--height=760] [--dark]
//
// starts its own `wrangler dev` (the Worker must be built) and writes docs/screenshot.png by
// default. The e2e suite calls captureScreenshot() with its own server and a temporary file.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinRoom, launchBrowser, openPerson, postRoom, send, waitForMessage, waitForText } from './helpers.mjs';
import { REPO_ROOT, startServer } from './server.mjs';

const CONVERSATION = [
  ['Maya', 'Morning! Is the release still on for today?'],
  ['Jonas', 'Yes. Reconnects are solid: I restarted the server twice mid-chat and nothing was lost.'],
  ['Jonas', 'History fills in after a reload too.'],
  ['Maya', 'Great work. I will write the announcment.'],
];

/** The list item of the message whose bubble holds `text`. */
const message = (page, text) => page.locator('#messages .msg', { has: page.locator('.bubble', { hasText: text }) });

/** Open a message's menu with the pointer. */
async function openMenu(page, text) {
  const li = message(page, text);
  await li.hover();
  await li.locator('.more-button').click();
  await page.locator('#message-menu').waitFor({ state: 'visible' });
  return page.locator('#message-menu');
}

/**
 * Two people (and a third who types) in a private room whose owner set its topic: a
 * conversation with a reply, reactions and an edited message. Saves the first person's screen;
 * returns the path written.
 */
export async function captureScreenshot({ browser, baseUrl, out, width = 1200, height = 760, colorScheme = 'light' }) {
  const viewport = { width, height };
  const res = await postRoom(baseUrl);
  const { room, owner_key: ownerKey } = await res.json();
  const maya = await openPerson(browser, baseUrl, { viewport, colorScheme });
  const jonas = await openPerson(browser, baseUrl, { viewport, colorScheme });
  const sam = await openPerson(browser, baseUrl, { viewport, colorScheme });
  try {
    // Jonas owns the room: the owner key in the join form.
    await jonas.page.locator('#owner-key-box summary').click();
    await jonas.page.locator('#join-owner-key').fill(ownerKey);
    await joinRoom(jonas, 'Jonas', room);
    await jonas.page.locator('#topic-input').fill('Release day: 1.0 ships at 16:00');
    await jonas.page.locator('#topic-save').click();
    await joinRoom(maya, 'Maya', room);
    await joinRoom(sam, 'Sam Lee', room);
    const pages = { Maya: maya.page, Jonas: jonas.page };
    for (const [who, text] of CONVERSATION) {
      await send(pages[who], text);
      await waitForMessage(maya.page, text);
    }
    // Maya fixes a typo: an edited message.
    let menu = await openMenu(maya.page, 'announcment');
    await menu.locator('[data-action="edit"]').click();
    const editor = maya.page.locator('#messages .editor textarea');
    await editor.fill('Great work. I will write the announcement.');
    await editor.press('Enter');
    await waitForText(message(maya.page, 'announcement').locator('.bubble'), 'announcement');
    // Jonas replies to it, and both react.
    menu = await openMenu(jonas.page, 'announcement');
    await menu.locator('[data-action="reply"]').click();
    await send(jonas.page, 'Perfect, ship it! 🚀');
    await waitForMessage(maya.page, 'Perfect, ship it! 🚀');
    for (const [page, text, emoji] of [
      [jonas.page, 'nothing was lost', '🎉'],
      [maya.page, 'nothing was lost', '🎉'],
      [maya.page, 'Perfect, ship it!', '👍'],
    ]) {
      menu = await openMenu(page, text);
      await menu.locator(`[data-emoji="${emoji}"]`).click();
    }
    await waitForText(message(maya.page, 'nothing was lost').locator('.reaction'), '🎉 2');
    await waitForText(message(maya.page, 'Perfect, ship it!').locator('.reaction'), '👍 1');
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
