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
