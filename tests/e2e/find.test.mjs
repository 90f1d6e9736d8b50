// End-to-end, issue 21: search and jump to a message older than the page holds; empty and error
// states; a mention highlighted, counted and notified in a hidden tab; the "new" divider and the
// title's counts; a second page of the same person clearing the first one's count by reading;
// @-completion from the member list; axe-clean with the search panel open.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  assertClean,
  axeViolations,
  eventually,
  joinRoom,
  openPerson,
  send,
  startServerAndBrowser,
  stopAll,
  uniqueRoom,
  waitForMessage,
  waitForText,
} from './helpers.mjs';
import { startServer } from './server.mjs';

/** Posts `texts` to `room` as `name` through a WebSocket of the test's own, in order. */
async function seed(url, room, name, texts) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/rooms/${room}/websocket`);
  await new Promise((ok, fail) => {
    ws.once('open', ok);
    ws.once('error', fail);
  });
  const frames = [];
  let wake = () => {};
  ws.on('message', (data) => {
    const v = JSON.parse(data.toString());
    frames.push(...(Array.isArray(v) ? v : [v]));
    wake();
  });
  const next = async () => {
    while (frames.length === 0) await new Promise((r) => (wake = r));
    return frames.shift();
  };
  // Welcomed first: messages in the join's own burst would come in its history instead.
  ws.send(JSON.stringify({ type: 'join', name }));
  while ((await next()).type !== 'welcome') {}
  for (const text of texts) ws.send(JSON.stringify({ type: 'message', text }));
  for (let echoed = 0; echoed < texts.length; ) if ((await next()).type === 'message') echoed += 1;
  ws.close(1000, 'leave');
}

/** The page says its tab is hidden (or visible again), as a switch to another tab would. */
async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
    Object.defineProperty(document, 'hidden', { value: h, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/** Records notifications instead of (as well as) showing them. */
function recordNotifications() {
  window.__notes = [];
  const Real = window.Notification;
  if (!Real) return;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({ title, body: options?.body });
    }
  };
}

describe('search, mentions and read positions', { timeout: 240_000 }, () => {
  let server;
  let browser;
  const people = [];

  async function person(opts) {
    const p = await openPerson(browser, server.url, opts);
    people.push(p);
    return p;
  }

  before(async () => {
    ({ server, browser } = await startServerAndBrowser(() => startServer({ vars: { RATE_LIMIT_PER_SEC: '0' } })));
  });

  after(() => stopAll({ server, browser }, people));

  test('search finds, highlights and jumps to a message the page has not loaded', async () => {
    const room = uniqueRoom('find');
    const texts = ['the first words', 'a needle in the haystack, café crème'];
    for (let i = 0; i < 180; i++) texts.push(`filler ${i}`);
    await seed(server.url, room, 'Seeder', texts);
    const bob = await person();
    await joinRoom(bob, 'Bob', room);
    const { page } = bob;
    await waitForMessage(page, 'filler 179');
    assert.equal(await page.locator('#messages .msg .bubble', { hasText: 'needle' }).count(), 0, 'not loaded yet');

    // `/` focuses the search box from anywhere but a text field.
    await page.locator('#scroller').focus();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'search-input');
    await page.keyboard.type('cafe needle');
    await page.keyboard.press('Enter');
    const hit = page.locator('#search-results .search-hit');
    await eventually(async () => assert.equal(await hit.count(), 1));
    assert.match(await hit.locator('.search-snippet').textContent(), /needle in the haystack, café crème/);
    assert.deepEqual(await hit.locator('mark').allTextContents(), ['needle', 'café']);
    await waitForText(page.locator('#search-status'), '1 message');
    const violations = await axeWithPanel(page);
    assert.deepEqual(violations, [], 'axe with the search panel open');

    await hit.click();
    const target = page.locator('#messages .msg', { has: page.locator('.bubble', { hasText: 'a needle in' }) });
    await eventually(async () => assert.equal(await target.count(), 1, 'loaded by paging back'));
    await eventually(async () =>
      assert.equal(await page.evaluate(() => document.activeElement?.querySelector('.bubble')?.textContent), texts[1]),
    );

    // Empty and error states; Escape closes the panel.
    await page.locator('#search-input').fill('zzznothing');
    await page.locator('#search-input').press('Enter');
    await waitForText(page.locator('#search-status'), 'No messages match “zzznothing”');
    await page.locator('#search-input').fill('"unbalanced');
    await page.locator('#search-input').press('Enter');
    await waitForText(page.locator('#search-status'), 'unbalanced quotes');
    await page.locator('#search-input').press('Escape');
    assert.ok(await page.locator('#search-panel').isHidden());
    // The browser logs the 400 of the malformed query itself; nothing else may go wrong.
    assertClean(bob, 'Bob', /status of 400 \(Bad Request\)/);
  });

  test('a mention in a hidden tab: highlighted, counted, notified; the divider; read clears it', async () => {
    const room = uniqueRoom('mention');
    const alice = await person();
    const bob = await person();
    await bob.context.grantPermissions(['notifications'], { origin: server.url });
    await bob.context.addInitScript(recordNotifications);
    await bob.page.reload();
    await joinRoom(alice, 'Alice', room);
    await joinRoom(bob, 'Bob', room);
    assert.ok(await bob.page.locator('#notify-button').isHidden(), 'permission already granted: no button');
    assert.ok(await alice.page.locator('#notify-button').isVisible(), 'asked only on a click, never on load');
    await send(alice.page, 'before');
    await waitForMessage(bob.page, 'before');
    await eventually(async () => assert.equal(await bob.page.title(), `#${room} · Chatterly`));

    await setHidden(bob.page, true);
    await send(alice.page, 'hello there');
    await send(alice.page, 'hey @bob, look');
    await waitForMessage(bob.page, 'hey @bob, look');
    await eventually(async () => assert.equal(await bob.page.title(), `(2 · @1) #${room} · Chatterly`));
    await waitForText(bob.page.locator('#room-counts'), '2 unread · 1 mention');
    const notes = await bob.page.evaluate(() => window.__notes);
    assert.deepEqual(notes, [{ title: `Alice mentioned you in #${room}`, body: 'hey @bob, look' }]);
    const mentioned = bob.page.locator('#messages .msg.mentions-me');
    assert.deepEqual(await mentioned.locator('.bubble').allTextContents(), ['hey @bob, look']);
    // The divider stands before the first message that came while the tab was hidden.
    const next = await bob.page.evaluate(
      () => document.querySelector('#messages .new-divider')?.nextElementSibling?.querySelector('.bubble')?.textContent,
    );
    assert.equal(next, 'hello there');

    await setHidden(bob.page, false);
    await eventually(async () => assert.equal(await bob.page.title(), `#${room} · Chatterly`));
    assert.ok(await bob.page.locator('#room-counts').isHidden());
    // A fresh page of Bob's gets the position back: no divider, nothing unread.
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('a second page of the same person clears the first one’s count by reading', async () => {
    const room = uniqueRoom('read');
    const alice = await person();
    const laptop = await person();
    const phone = await person();
    await joinRoom(alice, 'Alice', room);
    await joinRoom(laptop, 'Bob', room);
    // The same person: the phone's tab has the laptop's session (under another name today).
    const secret = await laptop.page.evaluate(() => sessionStorage.getItem('chatterly.session'));
    await phone.page.evaluate((s) => sessionStorage.setItem('chatterly.session', s), secret);
    await joinRoom(phone, 'Bob phone', room);

    await setHidden(laptop.page, true);
    await setHidden(phone.page, true);
    await send(alice.page, 'one');
    await send(alice.page, 'two');
    await waitForMessage(laptop.page, 'two');
    await waitForMessage(phone.page, 'two');
    await eventually(async () => assert.equal(await laptop.page.title(), `(2) #${room} · Chatterly`));
    // Reading on the phone clears the laptop's badge.
    await setHidden(phone.page, false);
    await eventually(async () => assert.equal(await laptop.page.title(), `#${room} · Chatterly`));
    assert.ok(await laptop.page.locator('#room-counts').isHidden());

    // A reload of the laptop's page: its welcome carries the position, so nothing is new.
    await setHidden(laptop.page, false);
    await laptop.page.reload();
    await laptop.page.locator('#chat-screen').waitFor({ state: 'visible' });
    await waitForMessage(laptop.page, 'two');
    assert.equal(await laptop.page.locator('#messages .new-divider').count(), 0);
    assert.equal(await laptop.page.title(), `#${room} · Chatterly`);
  });

  test('@ completes from the member list with the keyboard', async () => {
    const room = uniqueRoom('complete');
    const alice = await person();
    const bob = await person();
    await joinRoom(alice, 'Alice', room);
    await joinRoom(bob, 'Bobby Tables', room);
    const input = alice.page.locator('#message-input');
    await eventually(async () =>
      assert.deepEqual(await alice.page.locator('#members-list .member-name').allTextContents(), [
        'Alice',
        'Bobby Tables',
      ]),
    );
    await input.click();
    await alice.page.keyboard.type('hi @bo');
    const list = alice.page.locator('#mention-list');
    await eventually(async () =>
      assert.deepEqual(await list.locator('[role="option"]').allTextContents(), ['Bobby Tables']),
    );
    await alice.page.keyboard.press('Enter');
    assert.equal(await input.inputValue(), 'hi @Bobby Tables ');
    assert.ok(await list.isHidden());
    await alice.page.keyboard.type('welcome');
    await alice.page.keyboard.press('Enter');
    await waitForMessage(bob.page, 'hi @Bobby Tables welcome');
    await eventually(async () =>
      assert.equal(await bob.page.locator('#messages .msg.mentions-me').count(), 1, 'the mention is resolved'),
    );
  });
});

/** axe on the page with the search panel open (the page's CSP forbids injecting it: bypass). */
async function axeWithPanel(page) {
  const context = page.context();
  const url = page.url();
  const other = await context.browser().newContext({ bypassCSP: true, locale: 'en-US' });
  try {
    const p = await other.newPage();
    await p.goto(url);
    await p.locator('#join-name').fill('Axe');
    await p.locator('#join-button').click();
    await p.locator('#chat-screen').waitFor({ state: 'visible' });
    await p.locator('#search-input').fill('needle');
    await p.locator('#search-input').press('Enter');
    await p.locator('#search-results .search-hit').first().waitFor();
    return await axeViolations(p);
  } finally {
    await other.close();
  }
}
