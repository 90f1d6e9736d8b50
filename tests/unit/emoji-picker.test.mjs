// The emoji picker's table and logic (public/js/emoji-picker.js, scripts/emoji-table.mjs): the
// committed table is what the script builds from emojibase-data, and holds only emoji the
// server accepts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gridMove, pushRecent, searchEmoji } from '../../public/js/emoji-picker.js';
import { isEmoji } from '../../public/shared/emoji.js';
import { tableText } from '../../scripts/emoji-table.mjs';

const text = readFileSync(new URL('../../public/emoji/emoji-table.json', import.meta.url), 'utf8');
const table = JSON.parse(text);

test('the committed table is current (run node scripts/emoji-table.mjs) and only holds accepted emoji', () => {
  assert.equal(text, tableText());
  const all = table.groups.flatMap((g) => g.emoji.map((e) => e[0]));
  assert.ok(all.length > 1800, `${all.length} emoji`);
  assert.deepEqual(
    all.filter((e) => !isEmoji(e)),
    [],
  );
  assert.equal(new Set(all).size, all.length, 'each once');
  for (const e of ['👍', '❤️', '😂', '🎉', '🏳️‍🌈', '🇫🇷']) assert.ok(all.includes(e), e);
});

test('search matches every word in the name or the tags', () => {
  assert.equal(searchEmoji(table, 'thumbs up')[0][0], '👍');
  assert.ok(
    searchEmoji(table, '+1').some(([e]) => e === '👍'),
    'by tag',
  );
  assert.ok(
    searchEmoji(table, 'PARTY').some(([e]) => e === '🎉'),
    'case-insensitive',
  );
  assert.deepEqual(searchEmoji(table, 'zzzz-nothing'), []);
  assert.ok(searchEmoji(table, 'face', 10).length === 10, 'limited');
});

test('recent emoji: newest first, once each, at most 16, only emoji', () => {
  assert.deepEqual(pushRecent(['👍', '🎉'], '🎉'), ['🎉', '👍']);
  assert.deepEqual(pushRecent(['x', '<b>', '👍'], '😂'), ['😂', '👍']);
  assert.equal(
    pushRecent(
      Array.from({ length: 20 }, () => '👍'),
      '😂',
    ).length,
    2,
  );
  assert.deepEqual(pushRecent(null, 'not emoji'), []);
});

test('arrow keys move across the grid and stop at its edges', () => {
  assert.equal(gridMove(0, 'ArrowRight', 10, 4), 1);
  assert.equal(gridMove(0, 'ArrowLeft', 10, 4), 0);
  assert.equal(gridMove(1, 'ArrowDown', 10, 4), 5);
  assert.equal(gridMove(8, 'ArrowDown', 10, 4), 9);
  assert.equal(gridMove(5, 'ArrowUp', 10, 4), 1);
  assert.equal(gridMove(2, 'ArrowUp', 10, 4), null, 'up from the first row: back to the search');
  assert.equal(gridMove(3, 'End', 10, 4), 9);
  assert.equal(gridMove(3, 'Enter', 10, 4), null);
});
