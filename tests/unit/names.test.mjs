// The browser's name rule agrees with the server's on the shared vectors (tests/vectors/names.json,
// also read by the Rust tests in src/validate.rs).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { nameKey, sameName } from '../../public/shared/names.js';
import { IGNORABLE } from '../../public/shared/names-data.js';
import { mixesUnsafeScripts } from '../../public/shared/scripts.js';

const vectors = JSON.parse(readFileSync(new URL('../vectors/names.json', import.meta.url), 'utf8'));

test('names that collide share a key', () => {
  for (const { a, b, why } of vectors.collide) {
    assert.equal(nameKey(a), nameKey(b), `${JSON.stringify(a)} ~ ${JSON.stringify(b)}: ${why}`);
    assert.ok(sameName(a, b), why);
  }
});

test('distinct names have distinct keys', () => {
  for (const { a, b, why } of vectors.distinct) {
    assert.notEqual(nameKey(a), nameKey(b), `${JSON.stringify(a)} / ${JSON.stringify(b)}: ${why}`);
    assert.ok(!sameName(a, b), why);
  }
});

test('a name is the same person as itself, however it is spaced or cased', () => {
  for (const { name, shown } of vectors.accepted) {
    assert.ok(sameName(name, shown));
    assert.ok(sameName(shown, shown.toUpperCase()), shown);
    assert.ok(nameKey(shown).length > 0, shown);
  }
});

test('non-strings are never the same name', () => {
  assert.equal(sameName(undefined, undefined), false);
  assert.equal(sameName('Alice', null), false);
  assert.equal(nameKey(undefined), '');
});

test('the invisible characters the server refuses are in the shared table', () => {
  for (const { name, why } of vectors.refused.filter((r) => r.why.includes('Default_Ignorable'))) {
    assert.ok(IGNORABLE.test(name), `${JSON.stringify(name)}: ${why}`);
  }
  for (const { name } of vectors.accepted) assert.ok(!IGNORABLE.test(name), name);
});

test('names that mix unsafe scripts are refused as the server refuses them', () => {
  for (const { name, why } of vectors.refused.filter((r) => /script|Cyrillic|Hebrew/.test(r.why))) {
    assert.ok(mixesUnsafeScripts(name), `${JSON.stringify(name)}: ${why}`);
  }
  for (const { name } of vectors.accepted) assert.ok(!mixesUnsafeScripts(name), name);
});
