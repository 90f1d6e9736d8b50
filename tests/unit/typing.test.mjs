// Typing in both directions (public/js/typing.js), on a manual clock.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TYPING_RELAY_INTERVAL_MS, TYPING_SEND_INTERVAL_MS, TYPING_SHOW_MS } from '../../public/js/protocol.js';
import { TypingSender, Typists } from '../../public/js/typing.js';
import { Clock } from './fakes.mjs';

function sender(canSend = () => true) {
  const clock = new Clock();
  let frames = 0;
  const s = new TypingSender({
    send: () => {
      if (!canSend()) return false;
      frames += 1;
      return true;
    },
    timers: clock,
    now: clock.now,
  });
  return { clock, s, frames: () => frames };
}

test('one typing frame per send interval while typing on', () => {
  const { clock, s, frames } = sender();
  assert.equal(s.typing(), true);
  for (let t = 0; t < 10; t += 1) {
    clock.advance(100);
    s.typing();
  }
  assert.equal(frames(), 1);
  clock.advance(TYPING_SEND_INTERVAL_MS - 1000);
  s.typing();
  assert.equal(frames(), 2);
});

test('after our message the next keystroke announces typing one relay interval later', () => {
  const { clock, s, frames } = sender();
  s.typing();
  clock.advance(300);
  s.messageSent();
  s.typing();
  assert.equal(frames(), 1, 'not at once: the server could drop it');
  clock.advance(TYPING_RELAY_INTERVAL_MS - 1);
  assert.equal(frames(), 1);
  clock.advance(1);
  assert.equal(frames(), 2, 'the keystroke was kept and sent when allowed');
});

test('sending the message cancels a typing frame waiting to go out', () => {
  const { clock, s, frames } = sender();
  s.typing();
  s.messageSent();
  s.typing();
  s.messageSent();
  clock.advance(5000);
  assert.equal(frames(), 1);
});

test('a frame that could not be sent does not count', () => {
  let up = false;
  const { s, frames } = sender(() => up);
  assert.equal(s.typing(), false);
  up = true;
  assert.equal(s.typing(), true);
  assert.equal(frames(), 1);
});

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
