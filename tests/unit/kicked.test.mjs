// The words of a removal (public/js/kicked-screen.js, member-menu.js, room-title.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countdown, kickedText } from '../../public/js/kicked-screen.js';
import { durationText, removeQuestion } from '../../public/js/member-menu.js';
import { roomName } from '../../public/js/room-title.js';

test('the countdown rounds up and shows hours only when needed', () => {
  assert.equal(countdown(600_000), '10:00');
  assert.equal(countdown(599_001), '10:00');
  assert.equal(countdown(59_000), '0:59');
  assert.equal(countdown(1), '0:01');
  assert.equal(countdown(0), '0:00');
  assert.equal(countdown(-5), '0:00');
  assert.equal(countdown(3_723_000), '1:02:03');
});

test('the kicked notice says who, where and how long', () => {
  assert.deepEqual(kickedText({ by: 'Carol', room: 'Q3 planning', leftMs: 61_000 }), {
    headline: 'Carol removed you from Q3 planning.',
    wait: 'You can join again in 1:01.',
  });
  assert.equal(kickedText({ room: '#lobby', leftMs: 1000 }).headline, 'You were removed from #lobby.');
  assert.equal(kickedText({ by: 'Carol', room: 'x', leftMs: 0 }).wait, 'You can join again now.');
});

test('the confirmation names the member, the room and the ban', () => {
  assert.equal(removeQuestion('Carol', 'Q3 planning'), 'Remove Carol from Q3 planning for 10 minutes?');
  assert.equal(removeQuestion('Carol', '#lobby', 0), 'Remove Carol from #lobby?');
  assert.equal(durationText(1000), '1 second');
  assert.equal(durationText(60_000), '1 minute');
  assert.equal(durationText(7_200_000), '2 hours');
});

test('a room is called by its title, else by its id', () => {
  assert.equal(roomName('lobby', 'Q3 planning'), 'Q3 planning');
  assert.equal(roomName('lobby', '  '), '#lobby');
  assert.equal(roomName('lobby'), '#lobby');
  assert.match(roomName('a'.repeat(64), ''), /^Private room aaaaaa…aaaa$/);
});
