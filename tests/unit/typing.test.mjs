// Who is shown as typing (public/js/typing.js), on a manual clock. Our own typing frames are the
// SDK's (tests/unit/sdk-state.test.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TYPING_SHOW_MS } from '../../public/js/protocol.js';
import { Typists } from '../../public/js/typing.js';
import { Clock } from './fakes.mjs';

test('typists show for a while after their last frame, and stop at their message', () => {
  const clock = new Clock();
  const seen = [];
  const t = new Typists({ timers: clock, onChange: (names) => seen.push(names.join(',')) });
  t.start('Bob');
  clock.advance(TYPING_SHOW_MS - 1);
  t.start('Carol');
  t.start('Bob');
  assert.deepEqual(t.names, ['Bob', 'Carol']);
  clock.advance(TYPING_SHOW_MS - 1);
  assert.deepEqual(t.names, ['Bob', 'Carol']);
  t.stop('CAROL');
  assert.deepEqual(t.names, ['Bob']);
  clock.advance(1);
  assert.deepEqual(t.names, []);
  t.stop('nobody');
  assert.deepEqual(seen, ['Bob', 'Bob,Carol', 'Bob,Carol', 'Bob', '']);
  t.start('Dan');
  t.clear();
  assert.deepEqual(t.names, []);
  assert.equal(clock.timers.size, 0);
});
