// Each message's current state and the member list, as the SDK's events and getters show them
// (public/sdk/chatterly.js): change frames in any order, applied twice, or older than what is
// known, all end in the server's state; a crowd's presence is a count and the latest names.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameKey } from '../../public/shared/names.js';
import { jsonResponse, sdk, settle } from './sdk-fakes.mjs';

const msg = (id, extra = {}) => ({ type: 'message', id, name: 'Alice', text: `m${id}`, at: 1000 + id, ...extra });
const edit = (id, target, text) => ({ type: 'edit', id, target, text, name: 'Alice', at: 5000 + id });
const del = (id, target) => ({ type: 'delete', id, target, name: 'Alice', at: 5000 + id });
const react = (id, target, emoji, name, on = true) => ({ type: 'react', id, target, emoji, on, name, at: 5000 + id });
const shown = (h, id) => h.room.messages.find((m) => m.id === id);
const names = (m) => m.reactions.map((r) => [r.emoji, r.count, r.names]);

test('a message event carries the view; edit, delete and react apply once, twice is harmless', async () => {
  const h = sdk();
  const ws = await h.joined([msg(1, { nonce: 'c1' })]);
  assert.deepEqual(h.of('message')[0], {
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
    files: [],
    own: true,
    verified: false,
  });
  ws.recv(edit(2, 1, 'fixed'));
  ws.recv(edit(2, 1, 'fixed'));
  assert.equal(h.of('update').length, 1, 'the same edit again changes nothing');
  assert.equal(shown(h, 1).editedAt, 5002);
  ws.recv([react(3, 1, '👍', 'Bob'), react(3, 1, '👍', 'Bob'), react(4, 1, '👍', 'Carol'), react(5, 1, '🎉', 'Bob')]);
  assert.deepEqual(names(shown(h, 1)), [
    ['👍', 2, ['Bob', 'Carol']],
    ['🎉', 1, ['Bob']],
  ]);
  ws.recv(react(6, 1, '👍', 'bob', false));
  assert.deepEqual(names(shown(h, 1)), [
    ['👍', 1, ['Carol']],
    ['🎉', 1, ['Bob']],
  ]);
  ws.recv(del(7, 1));
  const gone = shown(h, 1);
  assert.deepEqual([gone.deleted, gone.text, gone.reactions], [true, '', []]);
  const before = h.of('update').length;
  ws.recv([del(7, 1), edit(8, 1, 'zombie'), edit(9, 99, 'unknown')]);
  assert.equal(h.of('update').length, before, 'a tombstone stays one; an unknown target is ignored');
  assert.equal(h.room.lastId, 9);
});

test('a summary counts everyone and names a few; changes set the count they carry', async () => {
  const h = sdk();
  const summary = { emoji: '👍', count: 60, names: ['Bob', 'Carol', 'Dan', 'Eve', 'Fay'], me: true };
  const ws = await h.joined([msg(1, { name: 'Bob', reactions: [summary] })], { last_id: 10 });
  let [r] = shown(h, 1).reactions;
  assert.deepEqual([r.count, r.names, r.mine], [60, summary.names, true], 'the welcome says we reacted, unnamed');
  ws.recv({ ...react(11, 1, '👍', 'Zoe'), count: 61 });
  ws.recv({ ...react(11, 1, '👍', 'Zoe'), count: 61 });
  assert.equal(shown(h, 1).reactions[0].count, 61, 'a change applied twice sets the same count');
  ws.recv({ ...react(12, 1, '👍', 'alice', false), count: 60 });
  [r] = shown(h, 1).reactions;
  assert.deepEqual([r.count, r.mine], [60, false], 'taking ours back says so, though the welcome named us not');
  // An older change (a gap filled late) sets no count over a newer one.
  ws.recv({ ...react(9, 1, '👍', 'Old'), count: 3 });
  assert.equal(shown(h, 1).reactions[0].count, 60);
});

test('an older change never undoes a newer one (a gap filled after newer changes)', async () => {
  const h = sdk();
  const ws = await h.joined([msg(1)]);
  ws.recv([edit(20, 1, 'newest'), react(21, 1, '👍', 'Bob', false), edit(10, 1, 'older'), react(11, 1, '👍', 'Bob')]);
  assert.equal(shown(h, 1).text, 'newest');
  assert.deepEqual(shown(h, 1).reactions, []);
});

test('a resumed message wins over changes up to the welcome, not over newer ones', async () => {
  const h = sdk();
  const ws = await h.joined([msg(1)]);
  ws.recv([react(5, 1, '👍', 'Bob'), edit(6, 1, 'live edit')]);
  // A gap page as of id 4 (it did not know changes 5 and 6)...
  const ws2 = await h.redial();
  const old = msg(1, { text: 'old', reactions: [{ emoji: '😂', names: ['Carol'] }] });
  ws2.recv(h.welcome([old], { last_id: 4 }));
  assert.equal(shown(h, 1).text, 'live edit');
  assert.deepEqual(names(shown(h, 1)), [
    ['👍', 1, ['Bob']],
    ['😂', 1, ['Carol']],
  ]);
  // ...and a newer one knows Bob took his reaction back and the text changed again.
  const ws3 = await h.redial();
  const now = msg(1, { text: 'final', edited_at: 7777, reactions: [{ emoji: '😂', names: ['Carol'] }] });
  ws3.recv(h.welcome([now, react(8, 1, '😂', 'Carol'), edit(7, 1, 'final')], { last_id: 9 }));
  assert.equal(shown(h, 1).text, 'final');
  assert.equal(shown(h, 1).editedAt, 7777);
  assert.deepEqual(names(shown(h, 1)), [['😂', 1, ['Carol']]]);
  // A crowd's emoji names a few of many: the count is the server's.
  const ws4 = await h.redial();
  ws4.recv(
    h.welcome([msg(1, { text: 'final', reactions: [{ emoji: '😂', count: 40, names: ['Carol'] }] })], { last_id: 10 }),
  );
  assert.deepEqual(names(shown(h, 1)), [['😂', 40, ['Carol']]]);
});

test('a reply quotes its message; an edit reaches the quote, a delete makes it a tombstone', async () => {
  const h = sdk();
  const ws = await h.joined([msg(1), msg(2, { name: 'Bob', reply_to: 1, reply: { name: 'Alice', text: 'm1' } })]);
  assert.deepEqual(shown(h, 2).reply, { name: 'Alice', text: 'm1', deleted: false });
  assert.equal(shown(h, 2).replyTo, 1);
  ws.recv(edit(3, 1, 'x'.repeat(120)));
  assert.deepEqual(
    h.of('update').map((m) => m.id),
    [1, 2],
  );
  assert.equal(shown(h, 2).reply.text, 'x'.repeat(100));
  ws.recv(del(4, 1));
  assert.deepEqual(shown(h, 2).reply, { name: 'Alice', text: '', deleted: true });
  ws.recv(msg(5, { reply_to: 99, reply: { name: 'Zed', text: '', deleted: true } }));
  assert.deepEqual(shown(h, 5).reply, { name: 'Zed', text: '', deleted: true });
  h.room.forget([1, 2, 5]);
  assert.deepEqual(
    h.room.messages.map((m) => m.id),
    [],
  );
});

test('members: welcome, join once, leave; with nameKey, names the server takes for one are one', async () => {
  const h = sdk({ room: { nameKey } });
  const ws = await h.joined([], { members: ['Alice', 7, 'ΟΔΟΣ', 'Zoë'], away: ['zoë', 'Nobody'] });
  assert.deepEqual(h.room.members, ['Alice', 'ΟΔΟΣ', 'Zoë']);
  assert.deepEqual(h.room.away, ['Zoë']);
  ws.recv([
    { type: 'join', name: '\u0410lice' },
    { type: 'join', name: 'οδος' },
    { type: 'back', name: 'Zoe\u0308' },
  ]);
  assert.deepEqual(h.room.members, ['Alice', 'ΟΔΟΣ', 'Zoë']);
  assert.deepEqual(h.room.away, []);
  ws.recv({ type: 'leave', name: 'ALICE' });
  assert.deepEqual(h.room.members, ['ΟΔΟΣ', 'Zoë']);
});

test('a crowd: a count and the latest names; the whole list again when it shrinks', async () => {
  const h = sdk();
  const ws = await h.joined([], { members: ['a', 'b'], count: 1500 });
  assert.equal(h.room.memberCount, 1500);
  const joined = Array.from({ length: 25 }, (_, i) => `n${i}`);
  ws.recv({ type: 'presence', count: 1520, joined, left: ['a'] });
  assert.equal(h.room.memberCount, 1520);
  assert.equal(h.room.members.length, 20, 'only the latest joiners are kept');
  assert.equal(h.room.members.at(-1), 'n24');
  ws.recv({ type: 'presence', count: 3, members: ['x', 'y', 'z'], verified: ['y'] });
  assert.equal(h.room.memberCount, 3);
  assert.deepEqual(h.of('members').at(-1), {
    members: ['x', 'y', 'z'],
    away: [],
    count: 3,
    owners: [],
    verified: ['y'],
  });
  // A crowd's presence names the verified among its joiners; absent: none of them is.
  ws.recv({ type: 'presence', count: 1600, joined: ['v', 'y'], verified: ['v'] });
  assert.deepEqual(h.room.verified, ['v']);
});

test('topic, lock and owner: the welcome sets them, newer changes apply, older ones do not', async () => {
  const h = sdk();
  const ws = await h.joined([], { topic: 'Hi', locked: false, owner: true, last_id: 10 });
  assert.deepEqual([h.room.topic, h.room.locked, h.room.owner], ['Hi', false, true]);
  ws.recv([
    { type: 'topic', id: 9, text: 'stale', name: 'A', at: 1 },
    { type: 'topic', id: 11, text: 'New', name: 'A', at: 1 },
    { type: 'lock', id: 12, locked: true, name: 'A', at: 1 },
    { type: 'kick', id: 13, target: 'Bob', name: 'A', at: 1 },
  ]);
  assert.deepEqual([h.room.topic, h.room.locked, h.room.owner], ['New', true, true]);
  // Every change is an event with the room as it is after it, the change, and whether it is live.
  assert.deepEqual(
    h.of('room').map((r) => [r.topic, r.change?.type ?? null]),
    [
      ['Hi', null],
      ['Hi', 'topic'],
      ['New', 'topic'],
      ['New', 'lock'],
      ['New', 'kick'],
    ],
  );
});

test('away members stay listed until back or gone', async () => {
  const h = sdk();
  const ws = await h.joined([], { members: ['Alice', 'Bob', 'Carol'], away: ['Bob', 'Nobody'] });
  assert.deepEqual(h.room.away, ['Bob']);
  ws.recv([
    { type: 'away', name: 'carol' },
    { type: 'away', name: 'Zed' },
  ]);
  assert.deepEqual(h.room.away, ['Bob', 'Carol']);
  ws.recv([
    { type: 'back', name: 'Bob' },
    { type: 'join', name: 'Carol' },
  ]);
  assert.deepEqual(h.room.away, [], 'a join of an away member brings them back');
  ws.recv([
    { type: 'away', name: 'Alice' },
    { type: 'leave', name: 'Alice' },
  ]);
  assert.deepEqual(h.room.away, []);
  assert.deepEqual(h.room.members, ['Bob', 'Carol']);
  assert.deepEqual(
    h.of('away').map((e) => e.name),
    ['carol', 'Zed', 'Alice'],
  );
});

test('typing: after our message the next keystroke may announce typing one second later', async () => {
  const h = sdk();
  const ws = await h.joined();
  const typings = () => ws.sent.filter((s) => s === '{"type":"typing"}').length;
  assert.equal(h.room.typing(), true);
  h.clock.advance(1500);
  assert.equal(h.room.typing(), false);
  h.room.send('done');
  h.clock.advance(100);
  assert.equal(h.room.typing(), false, 'too soon: it goes out when the window opens');
  h.clock.advance(2000);
  assert.equal(typings(), 2);
  h.room.send('again');
  h.room.typing();
  h.room.send('and again'); // sending cancels the frame waiting to go out
  h.clock.advance(5000);
  assert.equal(typings(), 2);
});

test('title and owners: the welcome sets them, a title change and a join with owner update them', async () => {
  const h = sdk();
  const ws = await h.joined([], { members: ['Olga', 'Bob'], owners: ['Olga'], title: 'Q3', last_id: 5 });
  assert.equal(h.room.title, 'Q3');
  assert.deepEqual(h.room.owners, ['Olga']);
  ws.recv([
    { type: 'title', id: 6, text: 'Q3 planning', name: 'Olga', at: 1 },
    { type: 'join', name: 'Mod', at: 2, owner: true },
    { type: 'leave', name: 'Olga', at: 3 },
  ]);
  assert.equal(h.room.title, 'Q3 planning');
  assert.deepEqual(h.room.owners, ['Mod']);
  assert.deepEqual(h.of('members').at(-1).owners, ['Mod']);
  assert.equal(h.of('room').at(-1).title, 'Q3 planning');
});

test('verified members: the welcome lists them, join and back say so, a leave or a guest ends it', async () => {
  const h = sdk();
  const ws = await h.joined([msg(1, { name: 'Bob' }), msg(2, { name: 'Carol' })], {
    members: ['Alice', 'Bob', 'Carol'],
    verified: ['Bob', 'Mallory'], // a name not among the members is not kept
  });
  assert.deepEqual(h.room.verified, ['Bob']);
  assert.deepEqual(
    h.room.messages.map((m) => [m.name, m.verified]),
    [
      ['Bob', true],
      ['Carol', false],
    ],
  );
  ws.recv([
    { type: 'join', name: 'Dan', at: 1, verified: true },
    { type: 'join', name: 'Eve', at: 1 },
    { type: 'away', name: 'Bob', at: 2 },
  ]);
  assert.deepEqual(h.room.verified, ['Bob', 'Dan'], 'away keeps it');
  assert.deepEqual(
    h.of('join').map((e) => [e.name, e.verified]),
    [
      ['Dan', true],
      ['Eve', false],
    ],
  );
  assert.deepEqual(h.of('members').at(-1).verified, ['Bob', 'Dan']);
  ws.recv(msg(3, { name: 'Dan' }));
  assert.equal(shown(h, 3).verified, true);
  // Bob's seat went to a guest of that name after he left: the guest is not verified, and what
  // Bob said before stays marked as his.
  ws.recv([
    { type: 'leave', name: 'Bob', at: 3 },
    { type: 'join', name: 'Bob', at: 4 },
  ]);
  assert.deepEqual(h.room.verified, ['Dan']);
  ws.recv(msg(4, { name: 'Bob' }));
  assert.deepEqual(
    h.room.messages.filter((m) => m.name === 'Bob').map((m) => m.verified),
    [true, false],
  );
  ws.recv({ type: 'back', name: 'Dan', at: 5 });
  assert.deepEqual(h.room.verified, [], 'a back without verified is a guest');
});

test('a resume from before the changes CHANGES_CAP deleted takes the current state of what it holds', async () => {
  const pages = [];
  const h = sdk({
    fetch: (url) => {
      pages.push(url.slice(url.indexOf('?')));
      if (url.includes('after=')) return jsonResponse(200, { messages: [msg(3, { text: 'new' })], truncated: true });
      return jsonResponse(200, {
        messages: [msg(1, { text: 'edited', edited_at: 9 }), msg(2, { deleted: true, text: '' })],
      });
    },
  });
  await h.joined([msg(1), msg(2)]);
  // The floor case without a gap: the welcome is the newest messages, truncated.
  const ws2 = await h.redial();
  assert.equal(ws2.json()[0].since, 2);
  ws2.recv(h.welcome([msg(3, { text: 'new' })], { truncated: true, last_id: 3 }));
  await settle();
  assert.deepEqual(pages, ['?before=3&limit=100']);
  assert.deepEqual(
    h.room.messages.map((m) => [m.id, m.text, m.deleted]),
    [
      [1, 'edited', false],
      [2, '', true],
      [3, 'new', false],
    ],
  );
  // With a gap: the ?after= page says truncated, and after it the held messages are refreshed.
  const ws3 = await h.redial();
  ws3.recv(h.welcome([msg(20)], { truncated: true, last_id: 20 }));
  await settle();
  assert.deepEqual(pages.slice(1), ['?after=3&limit=100', '?before=4&limit=100']);
});
