// End-to-end: the client in public/ against the real Worker under `wrangler dev`, in Chromium.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertClean,
  assertNoDuplicates,
  eventually,
  joinRoom,
  messageTexts,
  openPerson,
  send,
  startServerAndBrowser,
  stopAll,
  uniqueRoom,
  waitForMembers,
  waitForMessage,
  waitForText,
} from './helpers.mjs';
import { captureScreenshot } from './screenshot.mjs';
import { REPO_ROOT, startServer } from './server.mjs';

describe('chat in the browser', { timeout: 180_000 }, () => {
  let server;
  let browser;
  const people = [];

  async function person(opts = {}) {
    const p = await openPerson(browser, server.url, opts);
    people.push(p);
    return p;
  }

  before(async () => {
    ({ server, browser } = await startServerAndBrowser(startServer));
  });

  after(() => stopAll({ server, browser }, people));

  test('static client is served with the security headers', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') || '';
    for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) {
      assert.ok(csp.includes(part), `CSP ${JSON.stringify(csp)} lacks ${part}`);
    }
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const html = await res.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'inline script in index.html');
    assert.ok(!/\sstyle=/i.test(html), 'inline style attribute in index.html');
    const js = await fetch(`${server.url}/js/app.js`);
    assert.match(js.headers.get('content-type') || '', /javascript/);
    assert.equal((await fetch(`${server.url}/_headers`)).status, 404);
  });

  test('two people exchange messages both ways and agree on the member list', async () => {
    const room = uniqueRoom('pair');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    const bob = await person();
    await joinRoom(bob, 'Bob', room);

    await waitForMembers(alice.page, ['Alice', 'Bob']);
    await waitForMembers(bob.page, ['Alice', 'Bob']);
    await waitForText(alice.page.locator('#messages .system').last(), 'Bob joined');

    await send(alice.page, 'Hello Bob');
    await waitForMessage(bob.page, 'Hello Bob');
    await send(bob.page, 'Hi Alice!\nTwo lines.');
    await waitForMessage(alice.page, 'Hi Alice!\nTwo lines.');
    await waitForMessage(bob.page, 'Hi Alice!\nTwo lines.');
    await waitForMessage(alice.page, 'Hello Bob');

    // Own messages are marked, others' are not; each shows a name and a time.
    const own = alice.page.locator('#messages .msg.own .bubble', { hasText: 'Hello Bob' });
    assert.equal(await own.count(), 1);
    const other = alice.page.locator('#messages .msg:not(.own) .bubble', { hasText: 'Two lines.' });
    assert.equal(await other.count(), 1);
    const bobMsg = alice.page.locator('#messages .msg', { hasText: 'Two lines.' });
    assert.equal((await bobMsg.locator('.author').textContent()).trim(), 'Bob');
    assert.match(await bobMsg.locator('time').getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);

    // Nothing stays pending, the composer keeps focus and is empty.
    await eventually(async () => assert.equal(await alice.page.locator('#pending .msg').count(), 0));
    assert.equal(await alice.page.locator('#message-input').inputValue(), '');
    assert.ok(await alice.page.locator('#message-input').evaluate((el) => el === document.activeElement));

    // Shift+Enter makes a new line instead of sending.
    const input = alice.page.locator('#message-input');
    await input.fill('line one');
    await input.press('Shift+Enter');
    await input.pressSequentially('line two');
    assert.equal(await input.inputValue(), 'line one\nline two');
    await input.press('Enter');
    await waitForMessage(bob.page, 'line one\nline two');
    // Both get it in the same flush, but not at the same instant: Alice's own copy too.
    await waitForMessage(alice.page, 'line one\nline two');

    assert.deepEqual(await messageTexts(alice.page), await messageTexts(bob.page));
    await assertNoDuplicates(alice.page);
    await assertNoDuplicates(bob.page);
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('HTML in a message is shown as text and never runs', async () => {
    const room = uniqueRoom('xss');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    const bob = await person();
    await joinRoom(bob, '<b>Bob</b>', room);

    const payload = '<img src=x onerror=alert(1)>';
    const payload2 = '<script>alert(2)</script><svg onload=alert(3)>';
    await send(bob.page, payload);
    await send(bob.page, payload2);
    for (const p of [alice, bob]) {
      await waitForMessage(p.page, payload);
      await waitForMessage(p.page, payload2);
      assert.equal(await p.page.locator('#messages img, #messages script, #messages svg, #messages b').count(), 0);
      assert.equal(await p.page.locator('#messages .msg .author', { hasText: '<b>Bob</b>' }).count(), 2);
      assert.ok((await p.page.locator('#members-list .member-name', { hasText: '<b>Bob</b>' }).count()) === 1);
    }
    // Give an onerror handler a moment to fire if anything had been parsed as HTML.
    await alice.page.waitForTimeout(300);
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('a taken name shows an error on the join screen', async () => {
    const room = uniqueRoom('taken');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);

    const other = await person();
    await other.page.locator('#join-name').fill('alice');
    await other.page.locator('#join-room').fill(room);
    await other.page.locator('#join-button').click();
    const error = other.page.locator('#join-error');
    await waitForText(error, 'already uses that name');
    assert.equal(await error.getAttribute('aria-live'), 'polite');
    assert.ok(await other.page.locator('#join-screen').isVisible());
    assert.ok(!(await other.page.locator('#chat-screen').isVisible()));

    // An invalid room is caught before connecting; another name then works.
    await other.page.locator('#join-name').fill('Alice 2');
    await other.page.locator('#join-room').fill('no spaces allowed!');
    await other.page.locator('#join-button').click();
    await waitForText(error, 'room name is not valid');
    await joinRoom(other, 'Alice 2', room);
    await waitForMembers(alice.page, ['Alice', 'Alice 2']);
    assertClean(alice, 'Alice');
    assertClean(other, 'second person');
  });

  test('a private room made with the button works through its link', async () => {
    const alice = await person();
    await alice.page.locator('#create-room').click();
    const link = await eventually(async () => {
      const v = await alice.page.locator('#share-link').inputValue();
      assert.match(v, new RegExp(`^${server.url.replace(/[.]/g, '\\.')}/#[0-9a-f]{64}$`));
      return v;
    });
    const roomId = link.split('#')[1];
    assert.equal(await alice.page.locator('#join-room').inputValue(), roomId);
    await joinRoom(alice, 'Alice');
    await waitForText(alice.page.locator('#room-title'), 'Private room');

    const bob = await person({ path: `/#${roomId}` });
    assert.equal(await bob.page.locator('#join-room').inputValue(), roomId);
    await joinRoom(bob, 'Bob');
    await waitForMembers(alice.page, ['Alice', 'Bob']);
    await send(bob.page, 'found the private room');
    await waitForMessage(alice.page, 'found the private room');

    // The query form of a link works too, and a made-up id is refused inline.
    const carol = await person({ path: `/?room=${roomId}` });
    assert.equal(await carol.page.locator('#join-room').inputValue(), roomId);
    await carol.page.locator('#join-name').fill('Carol');
    await carol.page.locator('#join-room').fill('ab'.repeat(32));
    await carol.page.locator('#join-button').click();
    await waitForText(carol.page.locator('#join-error'), 'room');
    assert.equal(await carol.page.locator('#join-error').getAttribute('data-code'), 'invalid_room');
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('closing a tab: the others see "left" and the list shrinks', async () => {
    const room = uniqueRoom('close');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    const bob = await person();
    await joinRoom(bob, 'Bob', room);
    await waitForMembers(alice.page, ['Alice', 'Bob']);

    await bob.close();
    await waitForMembers(alice.page, ['Alice']);
    await waitForText(alice.page.locator('#messages .system').last(), 'Bob left');
    assertClean(alice, 'Alice');
  });

  test('reload shows the history and keeps the name (session takeover)', async () => {
    const room = uniqueRoom('reload');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    const bob = await person();
    await joinRoom(bob, 'Bob', room);
    for (let i = 1; i <= 3; i += 1) {
      await send(i % 2 ? alice.page : bob.page, `before reload ${i}`);
      await waitForMessage(bob.page, `before reload ${i}`);
    }
    await bob.page.reload();
    // Straight back into the room, with the same name and the history, no name_taken.
    await bob.page.locator('#chat-screen').waitFor({ state: 'visible' });
    await waitForText(bob.page.locator('#conn-text'), 'Connected');
    for (let i = 1; i <= 3; i += 1) await waitForMessage(bob.page, `before reload ${i}`);
    assert.equal(await bob.page.locator('#join-error').textContent(), '');
    await waitForMembers(bob.page, ['Alice', 'Bob']);
    await waitForMembers(alice.page, ['Alice', 'Bob']);
    await assertNoDuplicates(bob.page);

    await send(bob.page, 'after reload');
    await waitForMessage(alice.page, 'after reload');
    assert.equal(
      await alice.page.locator('#messages .msg', { hasText: 'after reload' }).locator('.author').textContent(),
      'Bob',
    );
    // Bob's own messages from before the reload are still his.
    assert.equal(await bob.page.locator('#messages .msg.own .bubble', { hasText: 'before reload 2' }).count(), 1);
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('the typing indicator shows for the other person', async () => {
    const room = uniqueRoom('typing');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    const bob = await person();
    await joinRoom(bob, 'Bob', room);
    await waitForMembers(alice.page, ['Alice', 'Bob']);

    await bob.page.locator('#message-input').pressSequentially('I am writ', { delay: 30 });
    await waitForText(alice.page.locator('#typing'), 'Bob is typing…');
    assert.equal(await bob.page.locator('#typing').textContent(), '');
    // The message clears the indicator at once.
    await bob.page.locator('#message-input').press('Enter');
    await waitForMessage(alice.page, 'I am writ');
    assert.equal(await alice.page.locator('#typing').textContent(), '');

    // And it expires by itself a few seconds after the last typing frame.
    await bob.page.waitForTimeout(1100);
    await bob.page.locator('#message-input').pressSequentially('more', { delay: 30 });
    await waitForText(alice.page.locator('#typing'), 'Bob is typing…');
    await eventually(async () => assert.equal(await alice.page.locator('#typing').textContent(), ''), {
      timeout: 8000,
    });
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('rate_limited: a too-fast burst shows a notice and keeps the refused text', async () => {
    const room = uniqueRoom('burst');
    const p = await person();
    await joinRoom(p, 'Speedy', room);
    const N = 40;
    // Type-and-Enter N times within one task, faster than any person could.
    await p.page.evaluate((n) => {
      const input = document.getElementById('message-input');
      for (let i = 1; i <= n; i += 1) {
        input.value = `burst ${i}`;
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      }
    }, N);
    await waitForText(p.page.locator('#composer-error'), 'too fast');
    await eventually(async () => assert.equal(await p.page.locator('#pending .msg').count(), 0));
    const shown = (await messageTexts(p.page)).filter((t) => t.startsWith('burst '));
    const kept = (await p.page.locator('#message-input').inputValue()).split('\n').filter(Boolean);
    assert.ok(shown.length >= 20 && shown.length < N, `${shown.length} of ${N} went through`);
    // Every message either went through or is back in the composer: nothing silently lost.
    assert.deepEqual([...shown, ...kept].sort(), Array.from({ length: N }, (_, i) => `burst ${i + 1}`).sort());
    assertClean(p, 'Speedy');
  });

  test('the same session in a second tab takes the name over; the first tab does not fight back', async () => {
    const room = uniqueRoom('takeover');
    const first = await person();
    await joinRoom(first, 'Tabby', room);
    const watcher = await person();
    await joinRoom(watcher, 'Watcher', room);
    // A second tab with the first tab's session secret (as "duplicate tab" would copy it).
    const secret = await first.page.evaluate(() => sessionStorage.getItem('chatterly.session'));
    const second = await first.context.newPage();
    second.on('pageerror', (e) => first.problems.push(`second tab: ${e.message}`));
    await second.goto(`${server.url}/#${room}`);
    await second.evaluate((s) => sessionStorage.setItem('chatterly.session', s), secret);
    await second.locator('#join-name').fill('Tabby');
    await second.locator('#join-button').click();
    await waitForText(second.locator('#conn-text'), 'Connected');
    await waitForText(first.page.locator('#conn-text'), 'Opened in another tab');
    await first.page.waitForTimeout(1500); // it must not reconnect by itself
    await waitForText(first.page.locator('#conn-text'), 'Opened in another tab');
    await waitForText(second.locator('#conn-text'), 'Connected');
    // Nobody saw Tabby leave or join again.
    await waitForMembers(watcher.page, ['Tabby', 'Watcher']);
    const lines = await watcher.page.locator('#messages .system').allTextContents();
    assert.equal(lines.filter((l) => l.includes('Tabby')).length, 0, JSON.stringify(lines));
    // "Use here" takes it back.
    await first.page.locator('#reconnect-now').click();
    await waitForText(first.page.locator('#conn-text'), 'Connected');
    await waitForText(second.locator('#conn-text'), 'Opened in another tab');
    await send(first.page, 'back in the first tab');
    await waitForMessage(watcher.page, 'back in the first tab');
    assertClean(first, 'Tabby');
    assertClean(watcher, 'Watcher');
  });

  test('auto-scroll only at the bottom; otherwise a "New messages" marker', async () => {
    const room = uniqueRoom('scroll');
    const alice = await person({ viewport: { width: 900, height: 480 } });
    await joinRoom(alice, 'Alice', room);
    const bob = await person();
    await joinRoom(bob, 'Bob', room);
    for (let i = 1; i <= 12; i += 1) await send(bob.page, `filler message number ${i}`);
    await waitForMessage(alice.page, 'filler message number 12');
    const scroller = alice.page.locator('#scroller');
    const gap = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    await eventually(async () => assert.ok((await gap()) < 5, 'follows new messages while at the bottom'));

    await scroller.evaluate((el) => {
      el.scrollTop = 0;
    });
    await send(bob.page, 'while Alice reads old messages');
    await waitForMessage(alice.page, 'while Alice reads old messages');
    const marker = alice.page.locator('#new-messages');
    await marker.waitFor({ state: 'visible' });
    assert.match(await marker.textContent(), /New messages ↓/);
    assert.equal(await scroller.evaluate((el) => el.scrollTop), 0, 'the view stayed where Alice was reading');

    await marker.click();
    await marker.waitFor({ state: 'hidden' });
    await eventually(async () => assert.ok((await gap()) < 5));
    // Her own message always brings her to the bottom.
    await scroller.evaluate((el) => {
      el.scrollTop = 0;
    });
    await send(alice.page, 'my own message');
    await waitForMessage(alice.page, 'my own message');
    await eventually(async () => assert.ok((await gap()) < 5));
    assertClean(alice, 'Alice');
  });

  test('keyboard only: join with Tab and Enter, focus lands in the composer', async () => {
    const room = uniqueRoom('keys');
    const p = await person({ path: `/#${room}` });
    await p.page.locator('#join-name').focus();
    await p.page.keyboard.type('Kim');
    await p.page.keyboard.press('Tab');
    assert.equal(await p.page.evaluate(() => document.activeElement.id), 'join-room');
    assert.equal(await p.page.locator('#join-room').inputValue(), room);
    await p.page.keyboard.press('Enter');
    await waitForText(p.page.locator('#conn-text'), 'Connected');
    assert.equal(await p.page.evaluate(() => document.activeElement.id), 'message-input');
    await p.page.keyboard.type('typed without a mouse');
    await p.page.keyboard.press('Enter');
    await waitForMessage(p.page, 'typed without a mouse');
    // Leave goes back to the join screen with the name remembered.
    await p.page.locator('#leave-button').focus();
    await p.page.keyboard.press('Enter');
    await p.page.locator('#join-screen').waitFor({ state: 'visible' });
    assert.equal(await p.page.locator('#join-name').inputValue(), 'Kim');
    assert.equal(await p.page.evaluate(() => localStorage.getItem('chatterly.name')), 'Kim');
    assertClean(p, 'Kim');
  });

  test('a 375 px phone: no sideways scrolling, the member list folds away', async () => {
    const room = uniqueRoom('phone');
    const p = await person({ viewport: { width: 375, height: 720 } });
    await joinRoom(p, 'Phone Person', room);
    await send(
      p.page,
      'A long line from a phone that has to wrap nicely without making the page scroll sideways at all.',
    );
    await waitForMessage(
      p.page,
      'A long line from a phone that has to wrap nicely without making the page scroll sideways at all.',
    );
    const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    assert.ok(!(await p.page.locator('#members-panel').isVisible()));
    await p.page.locator('#members-toggle').click();
    assert.ok(await p.page.locator('#members-panel').isVisible());
    assert.equal(await p.page.locator('#members-toggle').getAttribute('aria-expanded'), 'true');
    assertClean(p, 'phone');
  });

  // The README's screenshot comes from here: `UPDATE_SCREENSHOT=1 make e2e` writes docs/screenshot.png.
  test('screenshot of a small conversation (a topic, a reply, reactions, an edit)', async () => {
    const update = process.env.UPDATE_SCREENSHOT === '1';
    const out = update
      ? path.join(REPO_ROOT, 'docs', 'screenshot.png')
      : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'chatterly-shot-')), 'screenshot.png');
    try {
      await captureScreenshot({ browser, baseUrl: server.url, out });
      const png = fs.readFileSync(out);
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.ok(png.length > 20_000, `screenshot is only ${png.length} bytes`);
    } finally {
      if (!update) fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});
