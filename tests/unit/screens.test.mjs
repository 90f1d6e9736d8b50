// What the screens decide, without a DOM: the connection status line and its announcements, the
// composer's texts, join errors and the history notice.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyNotice } from '../../public/js/chat-screen.js';
import { charCountView, rejectionText, restoredValue } from '../../public/js/composer.js';
import { JOIN_ERROR_TEXT, joinErrorField } from '../../public/js/join-screen.js';
import { JOIN_ERRORS, MAX_TEXT_CHARS } from '../../public/js/protocol.js';
import { Announcer, statusView } from '../../public/js/status.js';

test('status line: connecting, reconnecting with a countdown, replaced', () => {
  const at = { now: 10_000, joinedOnce: false };
  assert.equal(statusView({ state: 'connecting', attempt: 0 }, at).text, 'Connecting…');
  assert.equal(statusView({ state: 'connecting', attempt: 0 }, { ...at, joinedOnce: true }).text, 'Reconnecting…');
  assert.deepEqual(statusView({ state: 'waiting', retryAt: 12_100 }, at), {
    text: 'Reconnecting in 3 s…',
    button: 'Reconnect now',
    ticks: true,
  });
  assert.equal(statusView({ state: 'waiting', retryAt: 9_000 }, at).text, 'Reconnecting…');
  assert.deepEqual(statusView({ state: 'replaced' }, at), {
    text: 'Opened in another tab',
    button: 'Use here',
    ticks: false,
  });
  assert.equal(statusView({ state: 'connected' }, at).button, null);
  assert.equal(statusView({ state: 'closed' }, at).text, 'Disconnected');
});

test('announcements: changes only, and not the first "Connected"', () => {
  const a = new Announcer();
  assert.equal(a.next('connecting'), '');
  assert.equal(a.next('connected'), '');
  assert.equal(a.next('waiting'), 'Connection lost. Reconnecting…');
  assert.equal(a.next('waiting'), '', 'no repeat on each retry');
  assert.equal(a.next('connecting'), '');
  assert.equal(a.next('connected'), 'Connected.');
  assert.equal(a.next('replaced'), 'This chat was opened in another tab.');
  a.reset();
  assert.equal(a.next('connected'), '');
});

test('composer: why a message was refused, the count near the limit, text put back', () => {
  assert.deepEqual(rejectionText({ code: 'rate_limited', retryAfterMs: 2500 }), {
    text: "You're sending messages too fast. Try again in 3 s.",
    ms: 3000,
  });
  assert.equal(rejectionText({ code: 'rate_limited', retryAfterMs: 9000 }).ms, 9000);
  assert.match(rejectionText({ code: 'storage_failed', message: 'internal' }).text, /could not save/);
  assert.match(rejectionText({ code: 'too_large' }).text, /too large/);
  assert.equal(rejectionText({ code: 'invalid_message', message: 'bad' }).text, 'Message not sent: bad');
  assert.deepEqual(charCountView('x'.repeat(100)), { text: '', over: false });
  assert.deepEqual(charCountView('é'.repeat(MAX_TEXT_CHARS + 1)), {
    text: `${MAX_TEXT_CHARS + 1}/${MAX_TEXT_CHARS}`,
    over: true,
  });
  assert.equal(restoredValue('refused', '  '), 'refused');
  assert.equal(restoredValue('refused', 'new'), 'refused\nnew');
});

test('every join error has words for the join screen, and points at the field to fix', () => {
  for (const code of JOIN_ERRORS) {
    if (code === 'bad_request') continue; // the server's own message is shown
    assert.ok(JOIN_ERROR_TEXT[code], code);
  }
  assert.match(JOIN_ERROR_TEXT.address_limit, /network/);
  assert.equal(joinErrorField('name_taken'), 'name');
  assert.equal(joinErrorField('invalid_room'), 'room');
  assert.equal(joinErrorField('address_limit'), null);
  assert.equal(joinErrorField('forbidden'), 'ownerKey', 'a refused owner key points at its field');
});

test('history notice: retrying, filled, failed older page', () => {
  assert.match(historyNotice({ state: 'retrying', retryAt: 1 }), /could not be loaded yet/);
  assert.match(historyNotice({ state: 'filled' }), /loaded/);
  assert.match(historyNotice({ error: 'x' }), /Older messages/);
  assert.equal(historyNotice({}), '');
});
