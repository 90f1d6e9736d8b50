// Pages of stored messages and the gap filler (public/js/history.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchPage, GapFiller } from '../../public/js/history.js';
import { Clock, jsonResponse, settle } from './fakes.mjs';

test('fetchPage asks for the page before an id and returns valid messages, oldest first', async () => {
  const urls = [];
  const page = await fetchPage({
    origin: 'http://h',
    room: 'a b',
    before: 10,
    limit: 3,
    fetchImpl: async (url) => {
      urls.push(url);
      return jsonResponse(200, {
        messages: [{ id: 9, name: 'a', text: 'x' }, { id: 7, name: 'a', text: 'y' }, { id: 'z' }],
      });
    },
  });
  assert.deepEqual(urls, ['http://h/api/rooms/a%20b/messages?before=10&limit=3']);
  assert.deepEqual(
    page.map((m) => m.id),
    [7, 9],
  );
  for (const res of [jsonResponse(400, {}), jsonResponse(200, { nope: 1 })]) {
    await assert.rejects(fetchPage({ origin: 'http://h', room: 'r', before: 1, fetchImpl: async () => res }));
  }
});

test('the gap filler pages up from the gap start to its end, then stops quietly', async () => {
  const clock = new Clock();
  const got = [];
  const states = [];
  const asked = [];
  const g = new GapFiller({
    fetchPage: async (after) => {
      asked.push(after);
      return Array.from({ length: 100 }, (_, i) => ({ id: after + 1 + i })).filter((m) => m.id <= 300);
    },
    onMessages: (list) => got.push(...list.map((m) => m.id)),
    onState: (s) => states.push(s),
    timers: clock,
    now: clock.now,
  });
  assert.equal(await g.add(30, 260), true);
  assert.deepEqual(asked, [30, 130, 230]);
  assert.deepEqual(
    got.sort((a, b) => a - b),
    Array.from({ length: 229 }, (_, i) => i + 31),
  );
  assert.deepEqual(states, []);
  assert.equal(g.open, false);
  assert.equal(await g.add(5, 6), true, 'no ids between: nothing to fetch');
  assert.deepEqual(asked.length, 3);
});

test('the gap filler gives up on a gap after maxPages, and stop() ends retries', async () => {
  const clock = new Clock();
  let calls = 0;
  const g = new GapFiller({
    fetchPage: async (after) => {
      calls += 1;
      return Array.from({ length: 100 }, (_, i) => ({ id: after + 1 + i }));
    },
    onMessages: () => {},
    onState: () => {},
    timers: clock,
    now: clock.now,
    maxPages: 3,
  });
  await g.add(0, 10_000);
  assert.equal(calls, 3);
  const failing = new GapFiller({
    fetchPage: async () => {
      throw new Error('down');
    },
    onMessages: () => {},
    onState: () => {},
    timers: clock,
    now: clock.now,
  });
  assert.equal(await failing.add(0, 10), false);
  assert.equal(clock.timers.size, 1);
  failing.stop();
  assert.equal(clock.timers.size, 0);
  await settle();
});
