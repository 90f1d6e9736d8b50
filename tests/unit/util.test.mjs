// Small pure helpers (public/js/util.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  charCount,
  isValidRoom,
  nameProblem,
  normalizeRoom,
  roomFromLocation,
  roomLabel,
  textProblem,
  typingText,
} from '../../public/js/util.js';

test('room names come from the hash or the query; helpers', () => {
  assert.equal(roomFromLocation({ hash: '#Lobby', search: '' }), 'lobby');
  assert.equal(roomFromLocation({ hash: '', search: '?room=%20Team-1%20' }), 'team-1');
  assert.equal(roomFromLocation({ hash: '#a', search: '?room=b' }), 'a');
  assert.equal(roomFromLocation({ hash: '', search: '' }), '');
  assert.equal(typingText(['A']), 'A is typing…');
  assert.equal(typingText(['A', 'B']), 'A and B are typing…');
  assert.equal(typingText(['A', 'B', 'C', 'D']), 'A, B and 2 others are typing…');
  assert.equal(nameProblem('  '), 'Please enter a name.');
  assert.ok(nameProblem('a\u200bb'));
  assert.equal(nameProblem('Zoë 🎉'), '');
  assert.ok(textProblem('x'.repeat(2001)));
  assert.equal(textProblem('tab\tand\nnewline'), '');
});

test('room names, labels and character counts', () => {
  assert.equal(normalizeRoom('  Lobby '), 'lobby');
  assert.ok(isValidRoom('a'.repeat(32)));
  assert.ok(!isValidRoom('a'.repeat(33)));
  assert.ok(isValidRoom('ab'.repeat(32)));
  assert.equal(roomLabel('lobby'), '#lobby');
  assert.equal(roomLabel('ab'.repeat(32)), 'Private room ababab…abab');
  assert.equal(charCount('Zoë 🎉'), 5);
  assert.ok(nameProblem('x'.repeat(33)));
  assert.equal(nameProblem('x'.repeat(32)), '');
});
