// Issue 12 on the connection (public/js/connection.js): change events count for `since`, a
// rejoin's history and a filled gap bring every change, the new frames out, errors with a
// `target`, the owner, away members, and close 4003.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, jsonResponse, settle } from './fakes.mjs';

const updates = (h) => h.events.filter((e) => e.type === 'update');

function watch(h) {
  const seen = [];
  for (const type of ['update', 'room', 'system'])
    h.conn.addEventListener(type, (e) => seen.push({ type, ...e.detail }));
  return seen;
}

test('live changes update shown messages and count for since', () => {
  const h = harness();
  const seen = watch(h);
  const ws = h.joined([h.msg(1, 'Bob', 'hello')]);
  ws.recv([
    { type: 'edit', id: 2, target: 1, text: 'hello!', name: 'Bob', at: 9 },
    { type: 'react', id: 3, target: 1, emoji: '👍', on: true, name: 'Alice', at: 9 },
  ]);
  ws.recv({ type: 'react', id: 3, target: 1, emoji: '👍', on: true, name: 'Alice', at: 9 });
  const ups = seen.filter((e) => e.type === 'update');
  assert.equal(ups.length, 2, 'the repeated reaction changes nothing');
  assert.equal(ups[1].message.text, 'hello!');
  assert.deepEqual(ups[1].message.reactions, [{ emoji: '👍', count: 1, names: ['Alice'], mine: true }]);
  assert.equal(h.conn.lastId, 3);
  const ws2 = h.reconnect();
  ws2.open();
  assert.equal(ws2.json()[0].since, 3);
  assert.equal(updates(h).length, 0, 'the harness does not record update');
});

test('a rejoin history brings messages in their current state and the changes after since', () => {
  const h = harness();
  const seen = watch(h);
  h.joined([h.msg(1, 'Bob', 'one'), h.msg(2, 'Alice', 'two')], { last_id: 2 });
  const ws2 = h.reconnect();
  ws2.open();
  // Meanwhile: message 1 edited (4), 2 deleted (5), a reply to 2 (3) whose quote is now a tombstone,
  // a topic (6) and a kick (7).
  ws2.recv(
    h.welcome(
      [
        { id: 3, name: 'Bob', text: 'answer', at: 3, reply_to: 2, reply: { name: 'Alice', text: '', deleted: true } },
        { type: 'edit', id: 4, target: 1, text: 'one!', name: 'Bob', at: 4 },
        { type: 'delete', id: 5, target: 2, name: 'Alice', at: 5 },
        { type: 'topic', id: 6, text: 'Plans', name: 'Alice', at: 6 },
        { type: 'kick', id: 7, target: 'Carol', name: 'Alice', at: 7 },
      ],
      { last_id: 7, topic: 'Plans', locked: true },
    ),
  );
  const byId = new Map(seen.filter((e) => e.type === 'update').map((e) => [e.message.id, e.message]));
  assert.equal(byId.get(1).text, 'one!');
  assert.equal(byId.get(2).deleted, true);
  const reply = h.of('message').find((e) => e.message.id === 3).message;
  assert.deepEqual(reply.reply, { name: 'Alice', text: '', deleted: true });
  assert.deepEqual(seen.filter((e) => e.type === 'room').at(-1), {
    type: 'room',
    topic: 'Plans',
    title: '',
    locked: true,
    owner: false,
  });
  assert.deepEqual(
    seen.filter((e) => e.type === 'system').map((e) => e.text),
    ['Alice set the topic: Plans', 'Alice removed Carol from the room'],
  );
  assert.equal(h.conn.lastId, 7);
});

test('a truncated history is filled with ?after= pages of messages and changes', async () => {
  // Messages (even ids) each edited by the next id; a page shows messages in their current state.
  const stored = [];
  for (let id = 2; id <= 250; id += 1) {
    if (id % 2) stored.push({ type: 'edit', id, target: id - 1, text: `e${id}`, name: 'Bob', at: id });
    else stored.push({ id, name: 'Bob', text: id < 250 ? `e${id + 1}` : `m${id}`, at: id });
  }
  const h = harness({
    fetch: async (url) => {
      const q = new URL(url).searchParams;
      const after = Number(q.get('after'));
      return jsonResponse(200, { messages: stored.filter((e) => e.id > after).slice(0, Number(q.get('limit'))) });
    },
  });
  const seen = watch(h);
  h.joined([h.msg(1, 'Bob', 'm1')], { last_id: 1 });
  const ws2 = h.reconnect();
  ws2.open();
  ws2.recv(h.welcome(stored.slice(-100), { truncated: true, last_id: 250 }));
  await settle();
  assert.match(h.fetches[0], /messages\?after=1&limit=100$/);
  assert.match(h.fetches[1], /messages\?after=101&limit=100$/);
  assert.equal(h.fetches.length, 2);
  const ids = h.of('message').map((e) => e.message.id);
  assert.equal(ids.length, 1 + 125);
  assert.equal(new Set(ids).size, ids.length);
  // Every message shows its edit, whichever page the edit came in.
  const texts = new Map();
  for (const e of h.of('message')) texts.set(e.message.id, e.message.text);
  for (const e of seen.filter((x) => x.type === 'update')) texts.set(e.message.id, e.message.text);
  assert.equal(texts.get(100), 'e101');
  assert.equal(texts.get(150), 'e151');
  assert.equal(texts.get(250), 'm250');
});

test('the owner key, replies, edits, reactions and moderation go out as frames', () => {
  const h = harness({ conn: { ownerKey: 'ab'.repeat(32) } });
  const seen = watch(h);
  const ws = h.joined([h.msg(1, 'Bob', 'hi')], { owner: true, topic: '', locked: false });
  assert.equal(ws.json()[0].owner_key, 'ab'.repeat(32));
  assert.equal(h.of('welcome')[0].owner, true);
  assert.equal(seen.find((e) => e.type === 'room').owner, true);
  h.conn.send('re', { replyTo: 1 });
  h.conn.edit(1, 'x');
  h.conn.deleteMessage(1);
  h.conn.react(1, '🎉');
  h.conn.kick('Bob');
  h.conn.lock(true);
  h.conn.setTopic('T');
  const out = ws.json().slice(1);
  assert.equal(out[0].reply_to, 1);
  assert.deepEqual(out.slice(1), [
    { type: 'edit', id: 1, text: 'x' },
    { type: 'delete', id: 1 },
    { type: 'react', id: 1, emoji: '🎉' },
    { type: 'kick', name: 'Bob' },
    { type: 'lock', locked: true },
    { type: 'topic', text: 'T' },
  ]);
});

test('errors about an action are notices; a refused reply gives its text back', async () => {
  const h = harness();
  const ws = h.joined([h.msg(1, 'Bob', 'hi')]);
  const item = h.conn.send('quoting', { replyTo: 77 });
  h.conn.send('plain');
  ws.recv({ type: 'error', code: 'forbidden', message: 'not yours', target: 1 });
  ws.recv({ type: 'error', code: 'rate_limited', message: 'slow down', target: 1, retry_after_ms: 500 });
  ws.recv({ type: 'error', code: 'edit_window', message: 'too late' });
  assert.deepEqual(
    h.of('notice').map((e) => [e.code, e.target]),
    [
      ['forbidden', 1],
      ['rate_limited', 1],
      ['edit_window', undefined],
    ],
  );
  assert.equal(h.conn.pending.length, 2, 'no pending message was blamed');
  ws.recv({ type: 'error', code: 'not_found', message: 'no such message', nonce: item.nonce });
  await settle();
  assert.equal(h.of('rejected')[0].item.text, 'quoting');
  assert.equal(h.of('rejected')[0].code, 'not_found');
});

test('away and back dim a member; close 4003 fails for good; banned refuses the join', () => {
  const h = harness();
  const ws = h.joined([], { members: ['Alice', 'Bob'], away: ['Bob'] });
  assert.deepEqual(h.of('members').at(-1).away, ['Bob']);
  ws.recv({ type: 'back', name: 'Bob', at: 1 });
  assert.deepEqual(h.of('members').at(-1).away, []);
  ws.recv({ type: 'away', name: 'Bob', at: 2 });
  assert.deepEqual(h.of('members').at(-1).away, ['Bob']);
  assert.equal(h.of('join').length, 0);
  ws.drop(4003);
  assert.equal(h.conn.state, 'failed');
  assert.deepEqual(h.of('failure')[0], { type: 'failure', code: 'kicked', message: 'You were removed from the room.' });
  h.clock.advance(60_000);
  assert.equal(h.sockets.length, 1, 'no reconnect after a kick');

  const h2 = harness();
  h2.conn.connect();
  h2.sockets[0].open();
  h2.sockets[0].recv({ type: 'error', code: 'banned', message: 'kicked', retry_after_ms: 5000 });
  assert.equal(h2.of('failure')[0].code, 'banned');
});
