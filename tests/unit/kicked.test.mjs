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

test('the title limit is the server value (src/room/moderation.rs MAX_TITLE)', async () => {
  const { readFileSync } = await import('node:fs');
  const { MAX_TITLE_CHARS } = await import('../../public/js/room-title.js');
  const src = readFileSync(new URL('../../src/room/moderation.rs', import.meta.url), 'utf8');
  assert.match(src, new RegExp(`pub const MAX_TITLE: usize = ${MAX_TITLE_CHARS};`));
});

test("the confirmation's ban length is the default KICK_BAN_MS in wrangler.toml", async () => {
  const { readFileSync } = await import('node:fs');
  const { KICK_BAN_MS_DEFAULT } = await import('../../public/js/member-menu.js');
  const toml = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');
  assert.match(toml, new RegExp(`^KICK_BAN_MS = "${KICK_BAN_MS_DEFAULT}"`, 'm'));
});
