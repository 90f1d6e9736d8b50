// What a message offers and the words around it (public/js/message-actions.js): permissions as
// the client guesses them, reaction labels, quotes, refused-action texts, menu keys, long press.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  actionErrorText,
  excerpt,
  LongPress,
  menuKey,
  messageActions,
  namesText,
  quoteView,
  REACTION_CHOICES,
  reactionView,
} from '../../public/js/message-actions.js';
import { Clock } from './fakes.mjs';

const m = (extra = {}) => ({
  id: 1,
  name: 'Alice',
  text: 'hi',
  at: 1_000_000,
  deleted: false,
  reactions: [],
  ...extra,
});

test('authors edit and delete within the window; the owner deletes anything; tombstones offer nothing', () => {
  const now = 1_000_000 + 60_000;
  assert.deepEqual(messageActions(m(), { me: 'alice', now }), { reply: true, react: true, edit: true, delete: true });
  assert.deepEqual(messageActions(m(), { me: 'Bob', now }), { reply: true, react: true, edit: false, delete: false });
  assert.deepEqual(messageActions(m(), { me: 'Bob', owner: true, now }), {
    reply: true,
    react: true,
    edit: false,
    delete: true,
  });
  const late = 1_000_000 + 15 * 60_000;
  assert.deepEqual(messageActions(m(), { me: 'Alice', now: late }), {
    reply: true,
    react: true,
    edit: false,
    delete: false,
  });
  assert.equal(messageActions(m(), { me: 'Alice', owner: true, now: late }).delete, true);
  assert.deepEqual(messageActions(m({ deleted: true }), { me: 'Alice', owner: true, now }), {
    reply: false,
    react: false,
    edit: false,
    delete: false,
  });
});

test('reactions say who reacted; ours is pressed', () => {
  assert.equal(namesText(['Alice'], 'Bob'), 'Alice');
  assert.equal(namesText(['Alice', 'Bob'], 'bob'), 'Alice and you');
  assert.equal(namesText(['A', 'B', 'C', 'D', 'E'], ''), 'A, B and 3 others');
  const v = reactionView({ emoji: '👍', names: ['Alice', 'Bob'] }, 'Bob');
  assert.equal(v.text, '👍 2');
  assert.equal(v.mine, true);
  assert.match(v.label, /Alice and you reacted\. Remove your reaction/);
  assert.equal(v.title, 'Alice and you reacted with 👍');
  assert.equal(reactionView({ emoji: '🎉', names: ['Alice'] }, 'Bob').mine, false);
  // A summary: the count, a few names, and whether we reacted.
  const many = { emoji: '👍', count: 60, names: ['Bob', 'Carol', 'Dan', 'Eve', 'Fay'], mine: false };
  assert.equal(reactionView(many, 'Zed').title, 'Bob, Carol and 58 others reacted with 👍');
  assert.equal(reactionView(many, 'Zed').text, '👍 60');
  const ours = reactionView({ ...many, mine: true }, 'Zed');
  assert.equal(ours.mine, true, "the SDK's word, though the summary does not name us");
  assert.equal(ours.title, 'you, Bob and 58 others reacted with 👍');
  assert.equal(reactionView({ ...many, names: ['Zed'], mine: false }, 'Zed').mine, false, 'taken back since');
  assert.equal(namesText([], '', 2), '2 people');
  assert.equal(REACTION_CHOICES.length, 6);
});

test('quotes show the author and the start of the text, or the tombstone', () => {
  assert.deepEqual(quoteView({ name: 'A', text: 'x', deleted: false }), { name: 'A', text: 'x', deleted: false });
  assert.deepEqual(quoteView({ name: 'A', text: '', deleted: true }), {
    name: 'A',
    text: 'message deleted',
    deleted: true,
  });
  assert.equal(quoteView(null), null);
  assert.equal(excerpt('a\n  b'), 'a b');
  assert.equal(excerpt('😀'.repeat(101)), `${'😀'.repeat(100)}…`);
});

test('every refused action has a clear text', () => {
  for (const code of ['not_found', 'forbidden', 'edit_window', 'invalid_emoji', 'too_many_reactions']) {
    const text = actionErrorText({ code, message: 'raw' });
    assert.notEqual(text, 'raw', code);
  }
  assert.match(actionErrorText({ code: 'rate_limited', retryAfterMs: 2500 }), /3 s/);
  assert.equal(actionErrorText({ code: 'other', message: 'raw' }), 'raw');
});

test('menu keys move and wrap; Escape and Tab close', () => {
  assert.equal(menuKey('ArrowDown', 0, 3), 1);
  assert.equal(menuKey('ArrowRight', 2, 3), 0);
  assert.equal(menuKey('ArrowUp', 0, 3), 2);
  assert.equal(menuKey('ArrowLeft', -1, 3), 1);
  assert.equal(menuKey('Home', 2, 3), 0);
  assert.equal(menuKey('End', 0, 3), 2);
  assert.equal(menuKey('Escape', 0, 3), 'close');
  assert.equal(menuKey('Tab', 0, 3), 'close');
  assert.equal(menuKey('a', 0, 3), null);
});

test('a long press opens the menu; a short tap or a move does not', () => {
  const clock = new Clock();
  const pressed = [];
  const p = new LongPress({ onPress: (t) => pressed.push(t), timers: clock, ms: 500 });
  p.start('li1');
  clock.advance(300);
  assert.equal(p.end(), false);
  clock.advance(1000);
  assert.deepEqual(pressed, []);
  p.start('li2');
  clock.advance(500);
  assert.deepEqual(pressed, ['li2']);
  assert.equal(p.end(), true, 'the tap that follows is swallowed');
  p.start('li3');
  p.cancel();
  clock.advance(1000);
  assert.deepEqual(pressed, ['li2']);
});

test('the owner key is kept per room in local storage, and only a well-formed one', async () => {
  const { Saved } = await import('../../public/js/saved.js');
  const data = new Map();
  const local = {
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k),
  };
  const s = new Saved({ local, session: local });
  const key = 'a1'.repeat(32);
  assert.equal(s.ownerKey('r1'), '');
  s.setOwnerKey('r1', key);
  assert.equal(s.ownerKey('r1'), key);
  assert.equal(s.ownerKey('r2'), '');
  s.setOwnerKey('r2', 'not-a-key');
  assert.equal(s.ownerKey('r2'), '');
  s.setOwnerKey('r1', '');
  assert.equal(s.ownerKey('r1'), '');
});
