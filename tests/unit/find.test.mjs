// Issue 21 on the client, without a DOM: whether a message mentions me and the `@na…` completion;
// read positions, unread and mention counts; the search request, a snippet's marks as parts, and
// what a failed search says.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyCompletion, completions, EVERYONE, HERE, mentionQuery, mentionsMe } from '../../public/js/mentions.js';
import { countsText, countsTitle, ReadState } from '../../public/js/read-state.js';
import { runSearch, searchErrorText, searchUrl, snippetParts } from '../../public/js/search.js';

test('mentions: by name key, everyone always, here only live', () => {
  assert.ok(mentionsMe({ mentions: ['Alice'] }, 'alice'));
  assert.ok(mentionsMe({ mentions: ['Bob', 'ＡＬＩＣＥ'] }, 'Alice'));
  assert.ok(!mentionsMe({ mentions: ['Bob'] }, 'Alice'));
  assert.ok(!mentionsMe({}, 'Alice'));
  assert.ok(!mentionsMe({ mentions: 'Alice' }, 'Alice'));
  assert.ok(mentionsMe({ mentions: [EVERYONE] }, 'Alice', { live: false }));
  assert.ok(mentionsMe({ mentions: [HERE] }, 'Alice'));
  assert.ok(!mentionsMe({ mentions: [HERE] }, 'Alice', { live: false }));
  assert.ok(!mentionsMe({ mentions: ['Alice'] }, ''));
});

test('mention completion: the @word at the caret, members by prefix, the text after', () => {
  assert.deepEqual(mentionQuery('hi @al', 6), { start: 3, query: 'al' });
  assert.deepEqual(mentionQuery('@', 1), { start: 0, query: '' });
  assert.equal(mentionQuery('mail bob@al', 11), null);
  assert.equal(mentionQuery('hi @al there', 12), null);
  assert.deepEqual(mentionQuery('(@Zo', 4), { start: 1, query: 'Zo' });
  const members = ['Alice', 'alan', 'Bob', 'Ａｌｆ', 'Me'];
  assert.deepEqual(completions('al', members, 'Me'), ['alan', 'Ａｌｆ', 'Alice']);
  assert.deepEqual(completions('', members, 'Me'), ['alan', 'Ａｌｆ', 'Alice', 'Bob']);
  assert.deepEqual(completions('x', members, 'Me'), []);
  assert.deepEqual(applyCompletion('hi @al', 3, 6, 'Alice'), { text: 'hi @Alice ', caret: 10 });
  assert.deepEqual(applyCompletion('hi @al there', 3, 6, 'Alice'), { text: 'hi @Alice there', caret: 10 });
});

test('read state: unread and mentions after the read position; monotonic; what to send', () => {
  const r = new ReadState();
  r.welcome(5);
  assert.equal(r.message(4, {}), false, 'read already');
  assert.equal(r.message(6, { own: true }), false, 'ours');
  assert.equal(r.message(7, {}), true);
  assert.equal(r.message(9, { mentioned: true }), true);
  assert.deepEqual([r.unread, r.mentions, r.firstUnread()], [2, 1, 7]);
  // Another device read up to 7: one left, the mention.
  assert.equal(r.read(7), true);
  assert.equal(r.read(6), false, 'never back');
  assert.deepEqual([r.unread, r.mentions, r.firstUnread()], [1, 1, 9]);
  // The newest message is on the screen: send once.
  assert.equal(r.seen(9), 9);
  assert.equal(r.seen(9), null);
  assert.equal(r.seen(3), null);
  assert.deepEqual([r.unread, r.mentions, r.firstUnread()], [0, 0, null]);
  // A later welcome with an older position changes nothing.
  assert.equal(r.welcome(2), false);
  assert.equal(r.readId, 9);
  r.reset();
  assert.equal(r.readId, 0);
});

test('counts in the title and the header', () => {
  assert.equal(countsTitle('#lobby', 0, 0), '#lobby · Chatterly');
  assert.equal(countsTitle('#lobby', 3, 0), '(3) #lobby · Chatterly');
  assert.equal(countsTitle('#lobby', 3, 1), '(3 · @1) #lobby · Chatterly');
  assert.equal(countsTitle('', 3, 1), 'Chatterly');
  assert.equal(countsText(0, 0), '');
  assert.equal(countsText(3, 0), '3 unread');
  assert.equal(countsText(3, 1), '3 unread · 1 mention');
  assert.equal(countsText(3, 2), '3 unread · 2 mentions');
});

test('search: the request, marks as parts (characters, never HTML), errors', async () => {
  assert.equal(
    searchUrl('http://h:1', 'lobby', 'café "a b" from:x', { cursor: 'o20' }),
    'http://h:1/api/rooms/lobby/search?q=caf%C3%A9+%22a+b%22+from%3Ax&limit=20&cursor=o20',
  );
  assert.match(searchUrl('http://h', 'r', 'x', { sort: 'recent' }), /sort=recent/);
  assert.deepEqual(
    snippetParts('a café 😀 <b>', [
      [2, 6],
      [9, 12],
    ]),
    [
      { text: 'a ', mark: false },
      { text: 'café', mark: true },
      { text: ' 😀 ', mark: false },
      { text: '<b>', mark: true },
    ],
  );
  // Bad marks (out of range, overlapping, malformed) are dropped.
  assert.deepEqual(snippetParts('abc', [[0, 9], [1, 2], [0, 1], 'x', [2, 2]]), [
    { text: 'a', mark: false },
    { text: 'b', mark: true },
    { text: 'c', mark: false },
  ]);
  assert.deepEqual(snippetParts(null, null), []);
  assert.match(searchErrorText(400, { error: { message: 'unbalanced quotes' } }), /unbalanced quotes/);
  assert.match(searchErrorText(500, null), /try again/);
  const ok = async () => ({ ok: true, json: async () => ({ messages: [{ id: 1 }, { id: 'x' }], cursor: 'o1' }) });
  assert.deepEqual(await runSearch('http://h', 'r', 'x', {}, ok), { messages: [{ id: 1 }], cursor: 'o1' });
  const bad = async () => ({ ok: false, status: 400, json: async () => ({ error: { message: 'no' } }) });
  assert.match((await runSearch('http://h', 'r', 'x', {}, bad)).error, /no/);
  const down = async () => {
    throw new Error('offline');
  };
  assert.match((await runSearch('http://h', 'r', 'x', {}, down)).error, /connection/);
});
