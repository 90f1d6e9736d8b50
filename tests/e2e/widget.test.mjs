// <chatterly-room> (public/sdk/chatterly-room.js) on a page of ANOTHER origin: it is our page's
// whole UI (public/js/mount.js) in a shadow root. With the host app's join tokens: the member
// list, a message's menu (react, reply, edit, delete), the owner removing someone who then sees
// the kicked screen. In open mode: chat with an SDK client (a picture too) across a server restart, a name asked
// for when it has none. Always: the host's custom properties and color-scheme theme it, the
// host's CSS (even `* { … !important }`) does not reach inside nor ours out, the host's title and
// address are left alone, and axe-core finds nothing inside it, light and dark, at 320 and 1100 px.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { eventually, startServerAndBrowser, stopAll, TIMEOUT, uniqueRoom, waitForText } from './helpers.mjs';
import { startServer } from './server.mjs';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SECRET = `widget-secret-${process.pid}-0123456789abcdef`;
/** The host app's moderators: their tokens carry `owner: true`. */
const OWNERS = new Set(['Ada']);

/** A real 2×2 PNG, so the browser can draw it. */
const REAL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFElEQVR4nGP8z8DwnwEJMDGgAQA6BgIBuF5rXQAAAABJRU5ErkJggg==',
  'base64',
);

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An HS256 join token, as a host app mints it (docs/embedding.md). */
function token(name, room) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: `host:${name}`, name, room, iat: now, exp: now + 600, owner: OWNERS.has(name) };
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/**
 * A host page on its own origin: the widget with `attrs`, the host's theme, CSS that tries to
 * leak in (even `!important` on every element), and elements of the host named like ours.
 */
function hostPage(chat, attrs, scheme) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host app</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script type="module" src="${chat}/sdk/chatterly-room.js"></script>
<style>
  :root { color-scheme: ${scheme}; }
  body { margin: 0; background: ${scheme === 'dark' ? '#000' : '#fff'}; }
  * { color: rgb(255, 0, 0) !important; font-family: serif !important; text-transform: uppercase !important;
      letter-spacing: 3px !important; display: inline !important; }
  p, li, button, div, section, ol, ul, form, textarea { font-size: 40px !important; background: yellow !important; }
  head, style, script, title { display: none !important; }
  chatterly-room { height: 520px; --chatterly-accent: rgb(11, 122, 75); --chatterly-accent-text: #fff; --chatterly-radius: 3px; }
</style></head><body><main><h1>Host app</h1>
<p class="bubble msg" id="outside">The host's own paragraph</p>
<chatterly-room ${attrs}></chatterly-room></main></body></html>`;
}

describe('the <chatterly-room> widget: our whole UI on another origin', { timeout: 300_000 }, () => {
  let chat;
  let host;
  let hostUrl;
  let browser;
  const contexts = [];

  before(async () => {
    // Another origin than the chat server's (another port), started first: if Chatterly or the
    // browser fails to start, the other is stopped and `after` closes this one.
    host = createServer((req, res) => {
      const url = new URL(req.url, hostUrl);
      if (url.pathname === '/token') {
        // The host app's own session (a cookie) says who asks.
        const user = /(?:^|;\s*)user=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
        if (!user) return res.writeHead(401).end('sign in first');
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        return res.end(JSON.stringify({ token: token(user, url.searchParams.get('room')) }));
      }
      const q = url.searchParams;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(hostPage(chat.url, q.get('attrs') ?? '', q.get('scheme') ?? 'light'));
    });
    await new Promise((resolve, reject) => {
      host.once('error', reject);
      host.listen(0, '127.0.0.1', resolve);
    });
    hostUrl = `http://127.0.0.1:${host.address().port}`;
    ({ server: chat, browser } = await startServerAndBrowser(() =>
      startServer({ vars: { JOIN_TOKENS: 'optional', JOIN_TOKEN_SECRET: SECRET } }),
    ));
  });

  after(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await stopAll({ server: chat, browser }, []);
    await new Promise((r) => {
      if (!host) return r();
      host.close(r);
      host.closeAllConnections();
    });
  });

  /** A browser of its own (cookies: `user`) on the host page with the widget's `attrs`. */
  async function open(attrs, { width = 1100, scheme = 'light', user = '' } = {}) {
    const context = await browser.newContext({ viewport: { width, height: 700 }, locale: 'en-US' });
    contexts.push(context);
    context.setDefaultTimeout(TIMEOUT);
    if (user) await context.addCookies([{ name: 'user', value: user, url: hostUrl }]);
    const p = await context.newPage();
    const problems = [];
    p.on('pageerror', (e) => problems.push(e.message));
    p.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await p.goto(`${hostUrl}/?${new URLSearchParams({ attrs, scheme })}`);
    return { p, problems };
  }

  /** Playwright's CSS locators pierce open shadow roots: `w(p, sel)` is inside the widget. */
  const w = (p, selector) => p.locator(`chatterly-room ${selector}`);
  const texts = (p) => w(p, '#messages .msg .bubble:not(.tombstone)').allTextContents();
  const message = (p, text) => w(p, '#messages .msg').filter({ has: p.locator('.bubble', { hasText: text }) });
  const members = (p) => w(p, '#members-list .member-name').allTextContents();

  async function openMenu(p, text) {
    const li = message(p, text);
    await li.hover();
    await li.locator('.more-button').click();
    await w(p, '#message-menu').waitFor({ state: 'visible' });
    return w(p, '#message-menu');
  }

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

  /** What the host's CSS would change if it leaked in, and what ours would if it leaked out. */
  async function assertSealed(p) {
    const look = await p.evaluate(() => {
      const root = document.querySelector('chatterly-room').shadowRoot;
      const style = (el) => {
        const s = getComputedStyle(el);
        return {
          color: s.color,
          size: s.fontSize,
          family: s.fontFamily,
          transform: s.textTransform,
          spacing: s.letterSpacing,
          display: s.display,
          bg: s.backgroundColor,
          radius: s.borderTopLeftRadius,
        };
      };
      const outside = getComputedStyle(document.getElementById('outside'));
      return {
        bubble: style(root.querySelector('#messages .bubble')),
        list: style(root.querySelector('#messages')),
        send: style(root.querySelector('#send-button')),
        host: getComputedStyle(document.querySelector('chatterly-room')).display,
        outside: { radius: outside.borderTopLeftRadius, padding: outside.paddingTop },
      };
    });
    for (const [what, s] of Object.entries({ bubble: look.bubble, list: look.list })) {
      assert.notEqual(s.color, 'rgb(255, 0, 0)', `${what}: the host's colour`);
      assert.notEqual(s.size, '40px', `${what}: the host's font size`);
      assert.doesNotMatch(s.family, /^serif/, `${what}: the host's font`);
      assert.equal(s.transform, 'none', `${what}: the host's text-transform`);
      assert.equal(s.spacing, 'normal', `${what}: the host's letter-spacing`);
      assert.notEqual(s.bg, 'rgb(255, 255, 0)', `${what}: the host's background`);
    }
    assert.notEqual(look.list.display, 'inline', 'the list is laid out by our CSS');
    assert.notEqual(look.bubble.display, 'inline', 'a bubble too');
    assert.equal(look.host, 'block', 'the box stays a block');
    // The host's custom properties theme it: the Send button takes the accent.
    assert.equal(look.send.bg, 'rgb(11, 122, 75)');
    // --chatterly-radius: 3px; buttons take 5/7 of it (our page: 10 px of 14).
    const radius = Number.parseFloat(look.send.radius);
    assert.ok(radius > 2 && radius < 2.3, `radius ${look.send.radius}`);
    // Ours does not leak out: the host's .bubble.msg paragraph is not drawn as a bubble.
    assert.deepEqual(look.outside, { radius: '0px', padding: '0px' });
  }

  test('with tokens: the member list, the message menu (react, reply, edit, delete), the owner removes someone', async () => {
    const room = uniqueRoom('widget-tokens');
    const attrs = `server="${chat.url}" room="${room}" token-url="/token?room=${room}"`;
    const ada = await open(attrs, { user: 'Ada' });
    await w(ada.p, '#message-input').waitFor();
    await eventually(async () => assert.deepEqual(await members(ada.p), ['Ada']));
    const bob = await open(attrs, { user: 'Bob' });
    await eventually(async () => assert.deepEqual((await members(ada.p)).sort(), ['Ada', 'Bob']));
    await eventually(async () => assert.deepEqual((await members(bob.p)).sort(), ['Ada', 'Bob']));
    // Both verified by the host (its tokens); Ada owns the room (her token's claim).
    await w(ada.p, '#members-list .member').filter({ hasText: 'Bob' }).getByRole('img', { name: 'verified' }).waitFor();
    assert.ok(await w(ada.p, '#owner-panel').isVisible(), 'the owner panel shows for Ada');
    assert.ok(await w(bob.p, '#owner-panel').isHidden(), 'not for Bob');

    const say = async (p, text) => {
      await w(p, '#message-input').fill(text);
      await w(p, '#message-input').press('Enter');
    };
    await say(bob.p, 'Hi Ada, from Bob');
    await say(ada.p, 'Helo Bob');
    for (const { p } of [ada, bob]) {
      await eventually(async () => assert.deepEqual(await texts(p), ['Hi Ada, from Bob', 'Helo Bob']));
    }

    // React through the menu: Bob sees it.
    let menu = await openMenu(ada.p, 'Hi Ada, from Bob');
    await menu.locator('[data-emoji="👍"]').click();
    await waitForText(message(bob.p, 'Hi Ada, from Bob').locator('.reaction'), '👍');

    // Reply through the menu: the quote for both.
    menu = await openMenu(ada.p, 'Hi Ada, from Bob');
    await menu.locator('[data-action="reply"]').click();
    await waitForText(w(ada.p, '#reply-preview'), 'Hi Ada, from Bob');
    await say(ada.p, 'Answering you');
    for (const { p } of [ada, bob]) {
      await waitForText(message(p, 'Answering you').locator('.reply-quote'), 'Hi Ada, from Bob');
    }

    // Edit her own message: Bob sees the new text, marked edited.
    menu = await openMenu(ada.p, 'Helo Bob');
    await menu.locator('[data-action="edit"]').click();
    const editor = w(ada.p, '#messages .editor textarea');
    await editor.fill('Hello Bob');
    await editor.press('Enter');
    await waitForText(message(bob.p, 'Hello Bob').locator('.edited'), 'edited');

    // Delete it, confirmed in the dialog (drawn inside the widget): a tombstone for Bob.
    menu = await openMenu(ada.p, 'Hello Bob');
    await menu.locator('[data-action="delete"]').click();
    await waitForText(w(ada.p, 'dialog.confirm-dialog'), 'Delete this message?');
    await w(ada.p, 'dialog.confirm-dialog .btn-danger').click();
    await eventually(async () => {
      assert.equal(await w(bob.p, '#messages .tombstone').count(), 1);
      assert.ok(!(await texts(bob.p)).includes('Hello Bob'));
    });

    await assertSealed(ada.p);
    // Keys are heard inside the widget only: `/` on the host page is the host's.
    await ada.p.locator('#outside').click();
    await ada.p.keyboard.press('/');
    assert.equal(await ada.p.evaluate(() => document.querySelector('chatterly-room').shadowRoot.activeElement), null);
    await w(ada.p, '#scroller').focus();
    await ada.p.keyboard.press('/');
    assert.equal(
      await ada.p.evaluate(() => document.querySelector('chatterly-room').shadowRoot.activeElement?.id),
      'search-input',
    );
    await ada.p.keyboard.press('Escape');
    // The host's title and address are its own.
    assert.equal(await ada.p.title(), 'Host app');
    assert.equal(new URL(ada.p.url()).hash, '');

    // The owner removes Bob (member menu, confirmed): Bob's widget shows who, and waits.
    await w(ada.p, '#members-list .member').filter({ hasText: 'Bob' }).locator('.member-more').click();
    await w(ada.p, '#members-list .member-menu-item').filter({ hasText: 'Remove Bob' }).click();
    await w(ada.p, 'dialog.confirm-dialog .btn-danger').click();
    await w(bob.p, '#join-screen').waitFor({ state: 'visible' });
    await waitForText(w(bob.p, '#kicked-box'), 'Ada removed you from');
    assert.match(await w(bob.p, '.kicked-wait').textContent(), /You can join again in \d+:\d\d\./);
    assert.ok(await w(bob.p, '#join-button').isDisabled());
    // The token names Bob: the screen asks for no name and offers no other room.
    assert.ok(await w(bob.p, '#join-name').isHidden());
    assert.ok(await w(bob.p, '#join-room').isHidden());
    assert.ok(await w(bob.p, '#create-room').isHidden());
    await eventually(async () => assert.deepEqual(await members(ada.p), ['Ada']));
    await axe(bob.p, 'the kicked screen');
    assert.deepEqual(ada.problems, []);
    assert.deepEqual(bob.problems, []);
  });

  test('open mode: chats with an SDK client across a server restart', async () => {
    const room = uniqueRoom('widget');
    const { p, problems } = await open(`server="${chat.url}" room="${room}" name="Cy"`);
    await w(p, '#conn-status[data-state="connected"]').waitFor();
    const bob = await connect({ url: chat.url, room, name: 'Bob', WebSocket });
    await bob.send('Hello from Node');
    await eventually(async () => assert.deepEqual(await texts(p), ['Hello from Node']));
    // A picture shows inline on the host's origin, loaded from the chat server (images are served
    // with CORP cross-origin); its link goes there too, not to the host's origin.
    const ref = await bob.upload(new File([REAL_PNG], 'dot.png', { type: 'image/png' }));
    await bob.send('A picture', { files: [ref] });
    const picture = w(p, '#messages .file-image');
    await picture.waitFor();
    assert.ok((await picture.getAttribute('href')).startsWith(`${chat.url}/api/rooms/${room}/files/`));
    await eventually(async () =>
      assert.ok(await picture.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0), 'decoded'),
    );
    assert.equal(await w(p, '#messages .file-card').count(), 0, 'a picture, not a card');
    const heard = new Promise((resolve) => bob.on('message', (m) => m.name === 'Cy' && resolve(m)));
    await w(p, '#message-input').fill('Hi Bob, from the widget');
    await w(p, '#message-input').press('Enter');
    assert.equal((await heard).text, 'Hi Bob, from the widget');

    await chat.restart();
    await bob.send('After the restart');
    await eventually(async () => assert.ok((await texts(p)).includes('After the restart')), { timeout: 40_000 });
    await w(p, '#message-input').fill('Still here');
    await w(p, '#message-input').press('Enter');
    await eventually(() => assert.ok(bob.messages.some((m) => m.text === 'Still here')), { timeout: 20_000 });
    const shown = await texts(p);
    assert.equal(new Set(shown).size, shown.length, `nothing twice: ${shown}`);
    // Taken off the page, it leaves the room.
    await p.evaluate(() => document.querySelector('chatterly-room').remove());
    await eventually(() => assert.deepEqual(bob.members, ['Bob']));
    bob.close();
    // A restart logs a failed socket or two to the console; nothing else may go wrong.
    assert.deepEqual(
      problems.filter((m) => !/WebSocket/.test(m)),
      [],
    );
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
      const name = w(p, '#join-name');
      await name.waitFor();
      assert.ok(await w(p, '#join-room').isHidden(), 'the room is the widget’s');
      await waitForText(w(p, '.tagline'), `#${room}`);
      await axe(p, `name form, ${width} px ${scheme}`);
      await name.fill(`Cy${width}`);
      await name.press('Enter');
      await w(p, '#message-input:not([disabled])').waitFor();
      const bob = await connect({ url: chat.url, room, name: 'Bob', WebSocket });
      const m = await bob.send('A message with a long-unbroken-word-that-must-wrap-inside-the-box-at-320px');
      await bob.react(m.id, '🎉');
      await bob.send('A reply', { replyTo: m.id });
      await eventually(async () => assert.equal((await texts(p)).length, 2));
      await w(p, '#messages .reaction').waitFor();
      // Fits its box: nothing scrolls sideways; narrow, it takes the phone layout.
      const fit = await p.evaluate(() => {
        const el = document.querySelector('chatterly-room');
        const s = el.shadowRoot.getElementById('scroller');
        const toggle = el.shadowRoot.getElementById('members-toggle');
        return {
          host: el.scrollWidth - el.clientWidth,
          scroller: s.scrollWidth - s.clientWidth,
          toggle: getComputedStyle(toggle).display !== 'none',
        };
      });
      assert.deepEqual(fit, { host: 0, scroller: 0, toggle: width < 760 }, `${width} px`);
      // Dark follows the host's color-scheme.
      const bg = await p.evaluate(
        () =>
          getComputedStyle(document.querySelector('chatterly-room').shadowRoot.getElementById('app')).backgroundColor,
      );
      assert.equal(bg, scheme === 'dark' ? 'rgb(15, 17, 23)' : 'rgb(244, 245, 249)', `${width} px ${scheme}`);
      await axe(p, `chat, ${width} px ${scheme}`);
      // The member list (a panel behind People when narrow) and the message menu, checked too.
      if (width < 760) await w(p, '#members-toggle').click();
      await eventually(async () => assert.deepEqual((await members(p)).sort(), ['Bob', `Cy${width}`]));
      await axe(p, `members, ${width} px ${scheme}`);
      if (width < 760) await w(p, '#members-toggle').click();
      await openMenu(p, 'A reply');
      await axe(p, `menu, ${width} px ${scheme}`);
      await p.keyboard.press('Escape');
      bob.close();
      assert.deepEqual(problems, []);
    }
  });
});
