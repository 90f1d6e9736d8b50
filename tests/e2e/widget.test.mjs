// <chatterly-room> (public/sdk/chatterly-room.js) on a page of ANOTHER origin: it chats with an
// SDK client in Node, goes on after the chat server restarts, takes the host's custom properties
// and color-scheme, keeps the host's CSS out, asks for a name when it has none, and axe-core
// finds nothing inside it, light and dark, at 320 px and 1100 px.
// (With join tokens, from examples/embed/: tests/examples/embed.test.mjs.)

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { eventually, launchBrowser, TIMEOUT, uniqueRoom } from './helpers.mjs';
import { freePort, startServer } from './server.mjs';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** A host page on its own origin: the widget, the host's theme, and CSS that must not leak in. */
function hostPage(chat, attrs, scheme = 'light') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script type="module" src="${chat}/sdk/chatterly-room.js"></script>
<style>
  :root { color-scheme: ${scheme}; }
  body { margin: 0; background: ${scheme === 'dark' ? '#000' : '#fff'}; }
  p, li, button { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
  chatterly-room { height: 480px; --chatterly-accent: rgb(11, 122, 75); --chatterly-accent-text: #fff; --chatterly-radius: 3px; }
</style></head><body><main><h1>Host app</h1><chatterly-room ${attrs}></chatterly-room></main></body></html>`;
}

describe('the <chatterly-room> widget', { timeout: 240_000 }, () => {
  let chat;
  let host;
  let hostUrl;
  let browser;
  let page = { attrs: '', scheme: 'light' };
  const contexts = [];

  before(async () => {
    const [s, b] = await Promise.all([startServer(), launchBrowser()]);
    chat = s;
    browser = b;
    const port = await freePort();
    host = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(hostPage(chat.url, page.attrs, page.scheme));
    });
    await new Promise((r) => host.listen(port, '127.0.0.1', r));
    // Another origin than the chat server's (another port).
    hostUrl = `http://127.0.0.1:${port}/`;
  });

  after(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    host?.close();
    await chat?.cleanup();
  });

  async function open(attrs, { width = 1100, scheme = 'light' } = {}) {
    page = { attrs, scheme };
    const context = await browser.newContext({ viewport: { width, height: 700 }, locale: 'en-US' });
    contexts.push(context);
    context.setDefaultTimeout(TIMEOUT);
    const p = await context.newPage();
    const problems = [];
    p.on('pageerror', (e) => problems.push(e.message));
    await p.goto(hostUrl);
    return { p, problems };
  }

  /** Texts of the widget's messages (its Shadow DOM). */
  const texts = (p) => p.locator('chatterly-room .msg .text').allTextContents();

  async function axe(p, label) {
    if (!(await p.evaluate(() => typeof window.axe === 'object'))) await p.addScriptTag({ path: AXE_PATH });
    const v = await p.evaluate(() =>
      window.axe.run(
        { include: [['chatterly-room']] },
        { resultTypes: ['violations'], runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] },
      ),
    );
    const found = v.violations
      .filter((x) => x.id !== 'region' && x.id !== 'page-has-heading-one')
      .map((x) => `${x.id}: ${x.help} @ ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(found, [], `${label}: axe found violations`);
  }

  test('chats with an SDK client from another origin, across a server restart, themed by the host', async () => {
    const room = uniqueRoom('widget');
    const { p, problems } = await open(`server="${chat.url}" room="${room}" name="Ada"`);
    await p.locator('chatterly-room .status').filter({ hasText: 'online' }).waitFor();
    const bob = await connect({ url: chat.url, room, name: 'Bob', WebSocket });
    await bob.send('Hello from Node');
    await eventually(async () => assert.deepEqual(await texts(p), ['Hello from Node']));

    const heard = new Promise((resolve) => bob.on('message', (m) => m.name === 'Ada' && resolve(m)));
    await p.locator('chatterly-room textarea').fill('Hi Bob, from the widget');
    await p.locator('chatterly-room textarea').press('Enter');
    assert.equal((await heard).text, 'Hi Bob, from the widget');
    await eventually(async () => assert.equal((await texts(p)).length, 2));

    // A reaction from Bob shows as a button the widget's user can press too.
    await bob.react((await bob.send('React to me')).id, '👍');
    const reaction = p.locator('chatterly-room .reactions button');
    await reaction.waitFor();
    assert.equal(await reaction.getAttribute('aria-pressed'), 'false');
    await reaction.click();
    await eventually(async () => assert.equal(await reaction.getAttribute('aria-pressed'), 'true'));

    // The host's custom properties theme it; the host's own CSS does not reach inside.
    const look = await p.evaluate(() => {
      const root = document.querySelector('chatterly-room').shadowRoot;
      const send = getComputedStyle(root.querySelector('button.primary'));
      const text = getComputedStyle(root.querySelector('.msg .text'));
      return { bg: send.backgroundColor, radius: send.borderTopLeftRadius, color: text.color, size: text.fontSize };
    });
    assert.equal(look.bg, 'rgb(11, 122, 75)');
    assert.equal(look.radius, '1.5px');
    assert.notEqual(look.color, 'rgb(255, 0, 0)');
    assert.notEqual(look.size, '40px');

    // Reply from the widget: its Reply button, then the message carries reply_to.
    await p
      .locator('chatterly-room .msg', { hasText: 'Hello from Node' })
      .getByRole('button', { name: 'Reply to Bob' })
      .click();
    const replied = new Promise((resolve) => bob.on('message', (m) => m.name === 'Ada' && m.replyTo && resolve(m)));
    await p.locator('chatterly-room textarea').fill('Answering you');
    await p.locator('chatterly-room textarea').press('Enter');
    assert.equal((await replied).reply.text, 'Hello from Node');
    await p.locator('chatterly-room .quote', { hasText: 'Bob: Hello from Node' }).waitFor();

    await chat.restart();
    await bob.send('After the restart');
    await eventually(async () => assert.ok((await texts(p)).includes('After the restart')), { timeout: 40_000 });
    await p.locator('chatterly-room textarea').fill('Still here');
    await p.locator('chatterly-room textarea').press('Enter');
    await eventually(() => assert.ok(bob.messages.some((m) => m.text === 'Still here')), { timeout: 20_000 });
    const shown = await texts(p);
    assert.equal(new Set(shown).size, shown.length, `nothing twice: ${shown}`);
    bob.close();
    assert.deepEqual(problems, []);
  });

  test('without a name it asks for one; axe-core is clean inside, light and dark, 320 px and 1100 px', async () => {
    for (const [width, scheme] of [
      [320, 'light'],
      [1100, 'dark'],
      [320, 'dark'],
      [1100, 'light'],
    ]) {
      const room = uniqueRoom('widget-a11y');
      const { p, problems } = await open(`server="${chat.url}" room="${room}"`, { width, scheme });
      const name = p.locator('chatterly-room input');
      await name.waitFor();
      await axe(p, `name form, ${width} px ${scheme}`);
      await name.fill(`Cy ${width}`);
      await name.press('Enter');
      await p.locator('chatterly-room textarea:not([disabled])').waitFor();
      const bob = await connect({ url: chat.url, room, name: 'Bob', WebSocket });
      const m = await bob.send('A message with a long-unbroken-word-that-must-wrap-inside-the-box-at-320px');
      await bob.react(m.id, '🎉');
      await bob.send('A reply', { replyTo: m.id });
      await eventually(async () => assert.equal((await texts(p)).length, 2));
      await p.locator('chatterly-room .reactions button').waitFor();
      // Fits its box: nothing scrolls sideways.
      const overflow = await p.evaluate(() => {
        const el = document.querySelector('chatterly-room');
        const log = el.shadowRoot.querySelector('.log');
        return { host: el.scrollWidth - el.clientWidth, log: log.scrollWidth - log.clientWidth };
      });
      assert.deepEqual(overflow, { host: 0, log: 0 }, `${width} px`);
      // Dark follows the host's color-scheme.
      const bg = await p.evaluate(() => getComputedStyle(document.querySelector('chatterly-room')).backgroundColor);
      assert.equal(bg, scheme === 'dark' ? 'rgb(23, 26, 34)' : 'rgb(255, 255, 255)');
      await axe(p, `chat, ${width} px ${scheme}`);
      bob.close();
      assert.deepEqual(problems, []);
    }
  });
});
