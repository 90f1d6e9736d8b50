// The member list (public/js/members.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemberList } from '../../public/js/members.js';

test('welcome replaces the list; join adds once; leave removes', () => {
  const m = new MemberList();
  assert.deepEqual(m.reset(['Alice', 7, 'Bob']), ['Alice', 'Bob']);
  assert.equal(m.join('Carol'), true);
  assert.equal(m.join('carol'), false, 'the same name twice is one member');
  assert.deepEqual(m.names, ['Alice', 'Bob', 'Carol']);
  assert.equal(m.leave('BOB'), true);
  assert.equal(m.leave('Bob'), false);
  assert.deepEqual(m.names, ['Alice', 'Carol']);
  assert.ok(m.has('alice'));
  assert.deepEqual(m.reset(null), []);
});

test('names that the server takes for one person are one member (case folding, confusables)', () => {
  const m = new MemberList();
  m.reset(['Alice', 'ΟΔΟΣ', 'Zoë']);
  assert.equal(m.join('\u0410lice'), false, 'Cyrillic А');
  assert.equal(m.join('οδος'), false);
  assert.equal(m.join('Zoe\u0308'), false, 'combining diaeresis');
  assert.equal(m.join('Alicia'), true);
  assert.equal(m.leave('ALICE'), true);
  assert.deepEqual(m.names, ['ΟΔΟΣ', 'Zoë', 'Alicia']);
});

test('a crowd: the welcome and presence frames carry a count and the latest names; a list again below the size', () => {
  const m = new MemberList();
  m.reset(['a', 'b'], [], 1500);
  assert.equal(m.size, 1500);
  const joined = Array.from({ length: 25 }, (_, i) => `n${i}`);
  assert.equal(m.presence({ type: 'presence', count: 1520, joined, left: ['a'] }), true);
  assert.equal(m.size, 1520);
  assert.equal(m.names.length, 20, 'only the latest joiners are kept');
  assert.equal(m.names.at(-1), 'n24');
  assert.equal(m.has('a'), false);
  assert.equal(m.presence({ type: 'presence', count: 'x' }), false, 'a malformed frame changes nothing');
  m.presence({ type: 'presence', count: 3, members: ['x', 'y', 'z'] });
  assert.equal(m.count, null);
  assert.equal(m.size, 3);
  assert.deepEqual(m.names, ['x', 'y', 'z']);
});
