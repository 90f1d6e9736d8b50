// End-to-end: a burst of messages from other clients reaches a person in the browser in order,
// each once, none missing. The senders are plain WebSocket clients (ws) sending as fast as they
// can; the server may deliver the burst as plain frames or as batches (JSON arrays), and this
// passes with either. Then a long history: scrolling up loads the older messages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { framesOf } from '../../public/js/protocol.js';
import { KEEP_ITEMS, OLDER_PAGE } from '../../public/js/shown.js';
import {
  assertClean,
  assertNoDuplicates,
  eventually,
  joinRoom,
  messageTexts,
  openPerson,
  startServerAndBrowser,
  stopAll,
  uniqueRoom,
  waitForMembers,
} from './helpers.mjs';
import { startServer } from './server.mjs';

const PER_SENDER = 15;
// Raw clients send faster than people: no rate limit, and every member here comes from loopback.
const VARS = {
  RATE_LIMIT_PER_SEC: '0',
  ADDRESS_JOINS_PER_MIN: '0',
  ADDRESS_MAX_MEMBERS: '0',
  ADDRESS_UNJOINED_MAX: '0',
};

let server;
let browser;
const people = [];
const sockets = [];

before(async () => {
  ({ server, browser } = await startServerAndBrowser(() => startServer({ vars: VARS })));
});

after(async () => {
  for (const ws of sockets) ws.terminate();
  await stopAll({ server, browser }, people);
});

/** A member on a raw socket: every frame it receives, batches taken apart, in order. */
async function rawMember(room, name) {
  const url = `${server.url.replace(/^http/, 'ws')}/api/rooms/${room}/websocket`;
  const ws = new WebSocket(url);
  sockets.push(ws);
  const frames = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) frames.push(...framesOf(data.toString()));
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'join', name }));
  await eventually(() =>
    assert.ok(
      frames.some((f) => f.type === 'welcome'),
      `${name} got no welcome`,
    ),
  );
  const stored = () => frames.filter((f) => f.type === 'message');
  return { ws, frames, stored };
}

test('a burst from two other clients renders in order, with no duplicate and nothing missing', {
  timeout: 90_000,
}, async () => {
  const room = uniqueRoom('burst');
  const alice = await openPerson(browser, server.url);
  people.push(alice);
  await joinRoom(alice, 'Alice', room);
  const one = await rawMember(room, 'Sender One');
  const two = await rawMember(room, 'Sender Two');
  await waitForMembers(alice.page, ['Alice', 'Sender One', 'Sender Two']);

  // Both send their whole burst at once, interleaved on the server.
  const texts = [];
  for (let i = 1; i <= PER_SENDER; i += 1) {
    for (const [who, member] of [
      ['one', one],
      ['two', two],
    ]) {
      const text = `burst ${who} ${i}`;
      texts.push(text);
      member.ws.send(JSON.stringify({ type: 'message', text, nonce: `${who}-${i}` }));
    }
  }

  // The senders see every message once, in the same order, ids increasing.
  await eventually(() => assert.equal(one.stored().length, texts.length));
  await eventually(() => assert.equal(two.stored().length, texts.length));
  const order = one.stored().map((m) => m.text);
  assert.deepEqual(
    two.stored().map((m) => m.text),
    order,
  );
  const ids = one.stored().map((m) => m.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
  );
  assert.deepEqual([...order].sort(), [...texts].sort());
  // Each sender's own messages keep their send order.
  for (const who of ['one', 'two']) {
    assert.deepEqual(
      order.filter((t) => t.startsWith(`burst ${who} `)),
      texts.filter((t) => t.startsWith(`burst ${who} `)),
    );
  }

  // The browser shows exactly that order: nothing twice, nothing missing.
  await eventually(async () => assert.deepEqual(await messageTexts(alice.page), order));
  await assertNoDuplicates(alice.page);
  assert.equal(await alice.page.locator('#messages .msg').count(), texts.length);

  // And so does the stored history.
  const res = await fetch(`${server.url}/api/rooms/${room}/messages?limit=100`);
  assert.deepEqual(
    (await res.json()).messages.map((m) => m.text),
    order,
  );
  for (const m of [one, two]) {
    assert.equal(
      m.frames.filter((f) => f.type === 'error').length,
      0,
      JSON.stringify(m.frames.filter((f) => f.type === 'error')),
    );
  }
  assertClean(alice, 'Alice');
});

test('scrolling up loads the messages older than the welcome, in order and once', { timeout: 90_000 }, async () => {
  const room = uniqueRoom('older');
  const writer = await rawMember(room, 'Archivist');
  const texts = Array.from({ length: 130 }, (_, i) => `old message ${i + 1}`);
  for (const text of texts) writer.ws.send(JSON.stringify({ type: 'message', text }));
  await eventually(() => assert.equal(writer.stored().length, texts.length));

  const bob = await openPerson(browser, server.url, { viewport: { width: 900, height: 600 } });
  people.push(bob);
  await joinRoom(bob, 'Bob', room);
  // The welcome holds the newest 100.
  await eventually(async () => assert.deepEqual(await messageTexts(bob.page), texts.slice(-100)));
  const scroller = bob.page.locator('#scroller');
  await scroller.evaluate((el) => {
    el.scrollTop = 0;
  });
  await eventually(async () => assert.deepEqual(await messageTexts(bob.page), texts));
  await assertNoDuplicates(bob.page);
  // The reader stays where they were: the message that was at the top is still in view.
  const inView = await bob.page.evaluate(() => {
    const scroller = document.getElementById('scroller');
    const li = [...document.querySelectorAll('#messages .msg')].find((el) => el.textContent.includes('old message 31'));
    const box = li.getBoundingClientRect();
    const view = scroller.getBoundingClientRect();
    return box.bottom > view.top && box.top < view.bottom;
  });
  assert.ok(inView, 'the view jumped away from where the reader was');
  assert.equal(await bob.page.locator('#history-notice').textContent(), '');
  assertClean(bob, 'Bob');
});

test('a long conversation keeps the list capped while following; scrolling up brings older ones back', {
  timeout: 120_000,
}, async () => {
  const room = uniqueRoom('cap');
  const carol = await openPerson(browser, server.url, { viewport: { width: 900, height: 600 } });
  people.push(carol);
  await joinRoom(carol, 'Carol', room);
  const writer = await rawMember(room, 'Chatty');
  await waitForMembers(carol.page, ['Carol', 'Chatty']);
  const total = KEEP_ITEMS + 100;
  const texts = Array.from({ length: total }, (_, i) => `line ${i + 1}`);
  for (const text of texts) writer.ws.send(JSON.stringify({ type: 'message', text }));
  await eventually(() => assert.equal(writer.stored().length, total), { timeout: 60_000 });

  // Carol follows at the bottom: the newest are shown, the oldest were dropped, in order.
  await eventually(async () => assert.equal((await messageTexts(carol.page)).at(-1), texts.at(-1)), {
    timeout: 30_000,
  });
  const items = () => carol.page.locator('#messages > .msg, #messages > .system').count();
  assert.ok((await items()) <= KEEP_ITEMS, `${await items()} items kept`);
  const shown = await messageTexts(carol.page);
  assert.deepEqual(shown, texts.slice(-shown.length));
  await assertNoDuplicates(carol.page);

  // Scrolling up loads the dropped ones again, page by page.
  await carol.page.locator('#scroller').evaluate((el) => {
    el.scrollTop = 0;
  });
  await eventually(async () => assert.equal((await messageTexts(carol.page)).length, shown.length + OLDER_PAGE));
  assert.deepEqual(await messageTexts(carol.page), texts.slice(-(shown.length + OLDER_PAGE)));
  await assertNoDuplicates(carol.page);
  assertClean(carol, 'Carol');
});
