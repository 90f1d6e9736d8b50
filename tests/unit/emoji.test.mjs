// The reaction check the browser client and the Worker share, on the same vectors as the Rust
// host tests (tests/vectors/emoji.json).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { isEmoji } from '../../public/shared/emoji.js';

const vectors = JSON.parse(fs.readFileSync(new URL('../vectors/emoji.json', import.meta.url), 'utf8'));

test('every vector emoji is one emoji', () => {
  for (const e of vectors.emoji) assert.ok(isEmoji(e), JSON.stringify(e));
});

test('no other vector is', () => {
  for (const e of vectors.not_emoji) assert.ok(!isEmoji(e), JSON.stringify(e));
  assert.ok(!isEmoji(undefined) && !isEmoji(42));
});
