// The line each room change shows in the conversation (public/js/room-state.js). The topic, lock
// and owner flag themselves are the SDK's (tests/unit/sdk-state.test.mjs).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeText, isRoomChange } from '../../public/js/room-state.js';

test('each room change has a line for the conversation', () => {
  assert.equal(changeText({ type: 'topic', text: 'Plans', name: 'Alice' }), 'Alice set the topic: Plans');
  assert.equal(changeText({ type: 'topic', text: '', name: 'Alice' }), 'Alice cleared the topic');
  assert.equal(changeText({ type: 'lock', locked: true, name: 'Alice' }), 'Alice locked the room');
  assert.equal(changeText({ type: 'lock', locked: false, name: 'Alice' }), 'Alice unlocked the room');
  assert.equal(changeText({ type: 'kick', target: 'Bob', name: 'Alice' }), 'Alice removed Bob from the room');
  assert.ok(isRoomChange({ type: 'kick', id: 3 }));
  assert.ok(!isRoomChange({ type: 'join', id: 3 }));
});
