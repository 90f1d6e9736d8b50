// End-to-end: the server restarts mid-conversation (same port, same persist dir). The clients
// reconnect by themselves, show nothing twice, lose nothing, and keep chatting.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
import { startServer } from './server.mjs';

// While the server is down the browser logs failed WebSocket connections: expected here.
const RESTART_NOISE = /WebSocket connection to|Failed to load resource|ERR_CONNECTION_REFUSED/;

let server;
let browser;
const people = [];

before(async () => {
  ({ server, browser } = await startServerAndBrowser(startServer));
});

after(() => stopAll({ server, browser }, people));

test('a server restart mid-conversation reconnects without duplicates or losses', { timeout: 120_000 }, async () => {
  const room = uniqueRoom('restart');
  const alice = await openPerson(browser, server.url);
  people.push(alice);
  await joinRoom(alice, 'Alice', room);
  const bob = await openPerson(browser, server.url);
  people.push(bob);
  await joinRoom(bob, 'Bob', room);
  await waitForMembers(alice.page, ['Alice', 'Bob']);

  const before = ['one', 'two', 'three', 'four'];
  for (const [i, text] of before.entries()) {
    await send(i % 2 ? bob.page : alice.page, text);
    await waitForMessage(alice.page, text);
    await waitForMessage(bob.page, text);
  }

  await server.stop();
  for (const p of [alice, bob]) {
    await waitForText(p.page.locator('#conn-text'), 'Reconnecting', 20_000);
  }
  // Written while the server is down: shown as pending, delivered once after the reconnect.
  await send(alice.page, 'sent while offline');
  assert.equal(await alice.page.locator('#pending .msg .bubble', { hasText: 'sent while offline' }).count(), 1);

  await server.start();
  for (const p of [alice, bob]) {
    await waitForText(p.page.locator('#conn-text'), 'Connected', 30_000);
  }
  await waitForMessage(bob.page, 'sent while offline', 20_000);
  await waitForMessage(alice.page, 'sent while offline');
  await eventually(async () => assert.equal(await alice.page.locator('#pending .msg').count(), 0));
  await waitForMembers(alice.page, ['Alice', 'Bob']);
  await waitForMembers(bob.page, ['Alice', 'Bob']);

  await send(bob.page, 'after restart from Bob');
  await send(alice.page, 'after restart from Alice');
  for (const p of [alice, bob]) {
    await waitForMessage(p.page, 'after restart from Bob');
    await waitForMessage(p.page, 'after restart from Alice');
  }

  const expected = [...before, 'sent while offline', 'after restart from Bob', 'after restart from Alice'];
  for (const p of [alice, bob]) {
    const texts = await messageTexts(p.page);
    for (const t of expected)
      assert.equal(texts.filter((x) => x === t).length, 1, `${t} shown ${texts.filter((x) => x === t).length} times`);
    await assertNoDuplicates(p.page);
  }
  assert.deepEqual(await messageTexts(alice.page), await messageTexts(bob.page));

  // What the server stored agrees with what the people saw: nothing twice, nothing lost.
  const res = await fetch(`${server.url}/api/rooms/${room}/messages?limit=100`);
  assert.equal(res.status, 200);
  const stored = (await res.json()).messages.map((m) => m.text);
  assert.deepEqual(stored, await messageTexts(alice.page));

  assertClean(alice, 'Alice', RESTART_NOISE);
  assertClean(bob, 'Bob', RESTART_NOISE);
});
