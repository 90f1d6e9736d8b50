// End-to-end: a room past its relay threshold, in a real browser. With RELAY_THRESHOLD=1 Alice's
// socket is the room object's own and Bob's goes to a relay; the browser client cannot tell, and
// the two chat as in any room. A room past PRESENCE_LIST_MAX shows its size from the count.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  assertClean,
  assertNoDuplicates,
  joinRoom,
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

let server;
let browser;
const people = [];

before(async () => {
  ({ server, browser } = await startServerAndBrowser(() =>
    startServer({ vars: { RELAY_THRESHOLD: '1', RELAY_MEMBERS: '1', PRESENCE_LIST_MAX: '2' } }),
  ));
});

after(() => stopAll({ server, browser }, people));

test('two people chat through the room object and a relay', { timeout: 90_000 }, async () => {
  const room = uniqueRoom('relay');
  const alice = await openPerson(browser, server.url);
  people.push(alice);
  await joinRoom(alice, 'Alice', room);
  const bob = await openPerson(browser, server.url);
  people.push(bob);
  await joinRoom(bob, 'Bob', room);
  await waitForMembers(alice.page, ['Alice', 'Bob']);
  await waitForMembers(bob.page, ['Alice', 'Bob']);

  const stats = await (await fetch(`${server.url}/api/rooms/${room}/stats`)).json();
  assert.equal(stats.connections, 2);
  assert.deepEqual(
    stats.relays.map((r) => r.connections),
    [1],
    'Bob is held by a relay',
  );

  for (const [i, text] of ['hello from the room object', 'hello from a relay', 'both ways'].entries()) {
    await send(i === 1 ? bob.page : alice.page, text);
    await waitForMessage(alice.page, text);
    await waitForMessage(bob.page, text);
  }
  await assertNoDuplicates(alice.page);
  await assertNoDuplicates(bob.page);

  // 22 more members (plain sockets from Bob's page) make it a crowd (PRESENCE_LIST_MAX=2): the
  // size shown comes from the count, and the list holds the latest arrivals only.
  const joined = await bob.page.evaluate(async (room) => {
    const url = `${location.origin.replace('http', 'ws')}/api/rooms/${room}/websocket`;
    const welcomes = [];
    for (let i = 0; i < 22; i++) {
      const ws = new WebSocket(url);
      window.__crowd = [...(window.__crowd ?? []), ws];
      welcomes.push(
        new Promise((resolve) => {
          ws.onopen = () => ws.send(JSON.stringify({ type: 'join', name: `crowd${String(i).padStart(2, '0')}` }));
          ws.onmessage = (ev) => {
            const frames = [].concat(JSON.parse(ev.data));
            if (frames.some((f) => f.type === 'welcome')) resolve(true);
          };
        }),
      );
    }
    return (await Promise.all(welcomes)).length;
  }, room);
  assert.equal(joined, 22);
  await waitForText(alice.page.locator('#members-count'), '24');
  const listed = await alice.page.locator('#members-list li').count();
  assert.ok(listed <= 21, `a crowd lists the latest arrivals, not everyone (${listed})`);
  for (const p of people) assertClean(p);
});
