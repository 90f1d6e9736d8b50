// Which messages are shown, and the caps on the list (public/js/shown.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WELCOME_HISTORY } from '../../public/js/protocol.js';
import { KEEP_ITEMS, MAX_ITEMS, OLDER_PAGE, ShownIds, trimCount } from '../../public/js/shown.js';

const page = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i }));

test('the list is trimmed to KEEP_ITEMS while the reader follows, to MAX_ITEMS otherwise', () => {
  assert.equal(trimCount(KEEP_ITEMS, true), 0);
  assert.equal(trimCount(KEEP_ITEMS + 1, true), 1);
  assert.equal(trimCount(KEEP_ITEMS + 300, false), 0, 'never under the reader while they read');
  assert.equal(trimCount(MAX_ITEMS + 5, false), 5);
  assert.equal(trimCount(10, true, { keep: 4, max: 8 }), 6);
});

test('each id is shown once, and nothing below the floor', () => {
  const s = new ShownIds();
  s.start(page(51, 50 + WELCOME_HISTORY));
  assert.equal(s.floor, 51);
  assert.equal(s.hasOlder, true);
  for (const { id } of page(51, 150)) assert.equal(s.accept(id), true);
  assert.equal(s.accept(150), false);
  assert.equal(s.accept(10), false);
  assert.equal(s.accept(151), true);
  assert.equal(s.lastId, 151);
});

test('a short first history means nothing older exists; an empty one changes nothing', () => {
  const s = new ShownIds();
  s.start(page(1, 100));
  assert.equal(s.hasOlder, false, 'id 1 is the first message');
  const t = new ShownIds();
  t.start(page(40, 60));
  assert.equal(t.hasOlder, false);
  const e = new ShownIds();
  e.start([]);
  assert.equal(e.floor, 0);
  assert.equal(e.accept(1), true);
});

test('older pages lower the floor until a short page; the cap stops them', () => {
  const s = new ShownIds();
  s.start(page(101, 200));
  for (const { id } of page(101, 200)) s.accept(id);
  assert.ok(s.canLoadOlder(100));
  assert.ok(!s.canLoadOlder(MAX_ITEMS - OLDER_PAGE + 1));
  assert.deepEqual(
    s.acceptOlder(page(51, 100)).map((m) => m.id),
    page(51, 100).map((m) => m.id),
  );
  assert.equal(s.floor, 51);
  assert.equal(s.hasOlder, true);
  // A duplicate or a newer id in a page is not shown again.
  assert.deepEqual(
    s.acceptOlder([{ id: 20 }, { id: 30 }, { id: 51 }, { id: 120 }], OLDER_PAGE).map((m) => m.id),
    [20, 30],
  );
  assert.equal(s.floor, 20);
  assert.equal(s.hasOlder, false);
  assert.ok(!s.canLoadOlder(0));
});

test('forgetting the oldest raises the floor and makes them loadable again', () => {
  const s = new ShownIds();
  for (const { id } of page(1, 10)) s.accept(id);
  s.forget([1, 2, 3]);
  assert.equal(s.floor, 4);
  assert.equal(s.hasOlder, true);
  assert.equal(s.accept(2), false);
  s.forget([...page(4, 10).map((m) => m.id)]);
  assert.equal(s.floor, 11);
  assert.equal(s.size, 0);
  s.forget([]);
  assert.equal(s.floor, 11);
});
