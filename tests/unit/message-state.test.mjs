// Each message's current state (public/js/message-state.js): snapshots and change events in any
// order, applied twice, or older than what is known, all end in the server's state.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMessageChange, MessageStates, QUOTE_CHARS } from '../../public/js/message-state.js';

const msg = (id, extra = {}) => ({ type: 'message', id, name: 'Alice', text: `m${id}`, at: 1000 + id, ...extra });
const edit = (id, target, text) => ({ type: 'edit', id, target, text, name: 'Alice', at: 5000 + id });
const del = (id, target) => ({ type: 'delete', id, target, name: 'Alice', at: 5000 + id });
const react = (id, target, emoji, name, on = true) => ({ type: 'react', id, target, emoji, on, name, at: 5000 + id });

test('a message frame gives the view; change frames are told apart', () => {
  const s = new MessageStates();
  const v = s.snapshot(msg(1, { nonce: 'c1' }));
  assert.deepEqual(v, {
    id: 1,
    name: 'Alice',
    text: 'm1',
    at: 1001,
    nonce: 'c1',
    replyTo: null,
    reply: null,
    editedAt: null,
    deleted: false,
    reactions: [],
    mentions: [],
  });
  assert.ok(isMessageChange(edit(2, 1, 'x')));
  assert.ok(!isMessageChange(msg(2)));
  assert.ok(!isMessageChange({ type: 'edit', id: 2 }));
});

test('mentions come with the text: an edit replaces them, a delete clears them', () => {
  const s = new MessageStates();
  assert.deepEqual(s.snapshot({ ...msg(1), mentions: ['Bob', 7] }).mentions, ['Bob']);
  assert.deepEqual(s.apply({ ...edit(2, 1, 'hi @Carol'), mentions: ['Carol'] })[0].mentions, ['Carol']);
  assert.deepEqual(s.apply(edit(3, 1, 'no one'))[0].mentions, []);
  assert.deepEqual(s.apply({ type: 'delete', id: 4, target: 1, name: 'Alice', at: 1 })[0].mentions, []);
});

test('edit, delete and react apply once; twice is harmless', () => {
  const s = new MessageStates();
  s.snapshot(msg(1));
  assert.equal(s.apply(edit(2, 1, 'fixed'))[0].text, 'fixed');
  assert.equal(s.get(1).editedAt, 5002);
  assert.deepEqual(s.apply(edit(2, 1, 'fixed')), [], 'the same edit again changes nothing');
  s.apply(react(3, 1, '👍', 'Bob'));
  s.apply(react(3, 1, '👍', 'Bob'));
  s.apply(react(4, 1, '👍', 'Carol'));
  s.apply(react(5, 1, '🎉', 'Bob'));
  assert.deepEqual(s.get(1).reactions, [
    { emoji: '👍', names: ['Bob', 'Carol'] },
    { emoji: '🎉', names: ['Bob'] },
  ]);
  s.apply(react(6, 1, '👍', 'bob', false));
  assert.deepEqual(s.get(1).reactions, [
    { emoji: '👍', names: ['Carol'] },
    { emoji: '🎉', names: ['Bob'] },
  ]);
  const [gone] = s.apply(del(7, 1));
  assert.equal(gone.deleted, true);
  assert.equal(gone.text, '');
  assert.deepEqual(gone.reactions, []);
  assert.deepEqual(s.apply(del(7, 1)), []);
  assert.deepEqual(s.apply(edit(8, 1, 'zombie')), [], 'a tombstone stays one');
  assert.deepEqual(s.apply(edit(9, 99, 'x')), [], 'an unknown target is ignored');
});

test('an older change never undoes a newer one (a gap filled after newer events)', () => {
  const s = new MessageStates();
  s.snapshot(msg(1));
  s.apply(edit(20, 1, 'newest'));
  s.apply(react(21, 1, '👍', 'Bob', false));
  s.apply(edit(10, 1, 'older'));
  s.apply(react(11, 1, '👍', 'Bob', true));
  assert.equal(s.get(1).text, 'newest');
  assert.deepEqual(s.get(1).reactions, []);
});

test('a snapshot wins over changes up to its version, not over newer ones', () => {
  const s = new MessageStates();
  s.snapshot(msg(1));
  s.apply(react(5, 1, '👍', 'Bob'));
  s.apply(edit(6, 1, 'live edit'));
  // A welcome's history as of id 4 (it did not know events 5 and 6).
  s.snapshot(msg(1, { text: 'old', reactions: [{ emoji: '😂', names: ['Carol'] }] }), 4);
  assert.equal(s.get(1).text, 'live edit');
  assert.deepEqual(s.get(1).reactions, [
    { emoji: '👍', names: ['Bob'] },
    { emoji: '😂', names: ['Carol'] },
  ]);
  // A newer one (as of id 9) knows Bob took his reaction back and the text changed again.
  s.snapshot(msg(1, { text: 'final', edited_at: 7777, reactions: [{ emoji: '😂', names: ['Carol'] }] }), 9);
  assert.equal(s.get(1).text, 'final');
  assert.equal(s.get(1).editedAt, 7777);
  assert.deepEqual(s.get(1).reactions, [{ emoji: '😂', names: ['Carol'] }]);
  // Changes it already reflects (from the same history) are harmless.
  s.apply(react(8, 1, '😂', 'Carol'));
  s.apply(edit(7, 1, 'final'));
  assert.equal(s.get(1).text, 'final');
  s.snapshot(msg(1, { deleted: true, text: '' }), 12);
  assert.equal(s.get(1).deleted, true);
  s.snapshot(msg(1, { text: 'stale' }), 13);
  assert.equal(s.get(1).text, '', 'a delete is for good');
});

test('a reply quotes its message; deleting that message turns the quote into a tombstone', () => {
  const s = new MessageStates();
  s.snapshot(msg(1));
  const r = s.snapshot(msg(2, { name: 'Bob', reply_to: 1, reply: { name: 'Alice', text: 'm1' } }));
  assert.equal(r.replyTo, 1);
  assert.deepEqual(r.reply, { name: 'Alice', text: 'm1', deleted: false });
  const changed = s.apply(del(3, 1));
  assert.deepEqual(
    changed.map((v) => v.id),
    [1, 2],
  );
  assert.deepEqual(s.get(2).reply, { name: 'Alice', text: '', deleted: true });
  // A reply to a message deleted before it was loaded arrives with the tombstone already.
  const late = s.snapshot(msg(4, { reply_to: 99, reply: { name: 'Zed', text: '', deleted: true } }));
  assert.deepEqual(late.reply, { name: 'Zed', text: '', deleted: true });
  s.forget([1, 2, 4]);
  assert.equal(s.has(2), false);
});

test('an edit reaches the quotes of replies to it', () => {
  const s = new MessageStates();
  s.snapshot(msg(1));
  s.snapshot(msg(2, { name: 'Bob', reply_to: 1, reply: { name: 'Alice', text: 'm1' } }));
  const long = 'x'.repeat(QUOTE_CHARS + 20);
  const changed = s.apply(edit(3, 1, long));
  assert.deepEqual(
    changed.map((v) => v.id),
    [1, 2],
  );
  assert.equal(s.get(2).reply.text, 'x'.repeat(QUOTE_CHARS));
  assert.equal(s.get(2).reply.name, 'Alice');
});
