// End-to-end: the server restarts mid-conversation (same port, same persist dir). The clients
// reconnect by themselves, show nothing twice, lose nothing, and keep chatting; within the
// presence grace the restart is quiet: nobody joins twice and nobody is shown as gone.

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

// A grace longer than a restart plus the clients' backoff (up to 10 s between attempts), so
// both are back before it ends however the reconnects fall.
const GRACE_MS = 30_000;

before(async () => {
  ({ server, browser } = await startServerAndBrowser(() =>
    startServer({ vars: { PRESENCE_GRACE_MS: String(GRACE_MS) } }),
  ));
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

/** Record every state of the member list and every system line from now on, in the page. */
function watch(page) {
  return page.evaluate(() => {
    const names = () =>
      [...document.querySelectorAll('#members-list .member')].map((li) => ({
        name: li.querySelector('.member-name').textContent,
        away: li.classList.contains('away'),
      }));
    window.seen = { members: [names()], lines: [] };
    new MutationObserver(() => window.seen.members.push(names())).observe(document.querySelector('#members-list'), {
      childList: true,
    });
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes) if (n.classList?.contains('system')) window.seen.lines.push(n.textContent);
    }).observe(document.querySelector('#messages'), { childList: true });
  });
}

test('a restart under two people is quiet: no second joined line, nobody shown as left', {
  timeout: 120_000,
}, async () => {
  const room = uniqueRoom('quiet');
  const alice = await openPerson(browser, server.url);
  people.push(alice);
  await joinRoom(alice, 'Alice', room);
  const bob = await openPerson(browser, server.url);
  people.push(bob);
  await joinRoom(bob, 'Bob', room);
  await waitForMembers(alice.page, ['Alice', 'Bob']);
  await waitForText(alice.page.locator('#messages .system'), 'Bob joined');
  await send(alice.page, 'before the restart');
  await waitForMessage(bob.page, 'before the restart');
  for (const p of [alice, bob]) await watch(p.page);

  await server.stop();
  for (const p of [alice, bob]) await waitForText(p.page.locator('#conn-text'), 'Reconnecting', 20_000);
  // Bob's network is down a little longer, so Alice is back first and sees him away, not gone.
  await bob.context.setOffline(true);
  await server.start();
  await waitForText(alice.page.locator('#conn-text'), 'Connected', 30_000);
  await waitForMembers(alice.page, ['Alice', 'Bob']);
  await eventually(async () =>
    assert.equal(await alice.page.locator('#members-list .member.away .member-name').textContent(), 'Bob'),
  );
  await bob.context.setOffline(false);
  await waitForText(bob.page.locator('#conn-text'), 'Connected', 30_000);
  // Once both are back nobody is away any more.
  for (const p of [alice, bob]) {
    await waitForMembers(p.page, ['Alice', 'Bob']);
    await eventually(async () => assert.equal(await p.page.locator('#members-list .member.away').count(), 0));
  }
  await send(bob.page, 'after the restart');
  await waitForMessage(alice.page, 'after the restart');

  for (const [p, label] of [
    [alice, 'Alice'],
    [bob, 'Bob'],
  ]) {
    const seen = await p.page.evaluate(() => window.seen);
    assert.deepEqual(seen.lines, [], `${label} saw presence lines across the restart`);
    // Everyone stayed in the list the whole time: the other one at most shown as away.
    for (const state of seen.members) {
      assert.deepEqual(state.map((m) => m.name).sort(), ['Alice', 'Bob'], `${label} saw ${JSON.stringify(state)}`);
      assert.ok(!state.some((m) => m.name === label && m.away), `${label} saw themself away`);
    }
    const lines = await p.page.locator('#messages .system').allTextContents();
    assert.equal(lines.filter((l) => l.includes('joined')).length, label === 'Alice' ? 1 : 0, lines.join(' | '));
    assert.equal(lines.filter((l) => l.includes('left')).length, 0, lines.join(' | '));
    await assertNoDuplicates(p.page);
  }
  assertClean(alice, 'Alice', RESTART_NOISE);
  assertClean(bob, 'Bob', RESTART_NOISE);
});
