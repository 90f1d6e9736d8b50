// The room's topic, lock and owner flag (public/js/room-state.js), and the away members
// (public/js/members.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemberList } from '../../public/js/members.js';
import { changeText, isRoomChange, RoomState } from '../../public/js/room-state.js';

test('the welcome sets topic, lock and owner; newer changes apply, older ones do not', () => {
  const r = new RoomState();
  assert.deepEqual(r.welcome({ topic: 'Hi', locked: false, owner: true }, 10), {
    topic: 'Hi',
    locked: false,
    owner: true,
  });
  assert.equal(r.apply({ type: 'topic', id: 9, text: 'stale', name: 'A' }), false, 'the welcome knew it');
  assert.equal(r.apply({ type: 'topic', id: 11, text: 'New', name: 'A' }), true);
  assert.equal(r.apply({ type: 'lock', id: 12, locked: true, name: 'A' }), true);
  assert.equal(r.apply({ type: 'lock', id: 12, locked: true, name: 'A' }), false, 'twice is harmless');
  assert.deepEqual(r.view(), { topic: 'New', locked: true, owner: true });
  assert.deepEqual(new RoomState().welcome({}, 0), { topic: '', locked: false, owner: false });
});

test('each room change has a line for the conversation', () => {
  assert.equal(changeText({ type: 'topic', text: 'Plans', name: 'Alice' }), 'Alice set the topic: Plans');
  assert.equal(changeText({ type: 'topic', text: '', name: 'Alice' }), 'Alice cleared the topic');
  assert.equal(changeText({ type: 'lock', locked: true, name: 'Alice' }), 'Alice locked the room');
  assert.equal(changeText({ type: 'lock', locked: false, name: 'Alice' }), 'Alice unlocked the room');
  assert.equal(changeText({ type: 'kick', target: 'Bob', name: 'Alice' }), 'Alice removed Bob from the room');
  assert.ok(isRoomChange({ type: 'kick', id: 3 }));
  assert.ok(!isRoomChange({ type: 'join', id: 3 }));
});

test('away members stay listed, dimmed, until back or gone', () => {
  const m = new MemberList();
  m.reset(['Alice', 'Bob', 'Carol'], ['Bob', 'Nobody']);
  assert.deepEqual(m.away, ['Bob']);
  assert.equal(m.setAway('carol', true), true);
  assert.equal(m.setAway('Carol', true), false);
  assert.equal(m.setAway('Zed', true), false, 'not a member');
  assert.deepEqual(m.away, ['Bob', 'Carol']);
  assert.equal(m.setAway('Bob', false), true);
  assert.equal(m.join('Carol'), true, 'a join of an away member brings them back');
  assert.deepEqual(m.away, []);
  m.setAway('Alice', true);
  m.leave('Alice');
  assert.deepEqual(m.away, []);
  assert.deepEqual(m.names, ['Bob', 'Carol']);
});
