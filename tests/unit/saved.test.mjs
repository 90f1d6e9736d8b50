// What the browser remembers (public/js/saved.js), with in-memory stores.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Saved } from '../../public/js/saved.js';

function store() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  };
}

const broken = {
  getItem() {
    throw new Error('denied');
  },
  setItem() {
    throw new Error('denied');
  },
  removeItem() {
    throw new Error('denied');
  },
};

test('a reload rejoins the saved room, unless the link points elsewhere or it is invalid', () => {
  const s = new Saved({ local: store(), session: store() });
  assert.equal(s.rejoin(''), null);
  s.enter('lobby', 'Alice');
  assert.deepEqual(s.rejoin(''), { room: 'lobby', name: 'Alice' });
  assert.deepEqual(s.rejoin('lobby'), { room: 'lobby', name: 'Alice' });
  assert.equal(s.rejoin('other'), null);
  s.enter('Not A Room!', 'Alice');
  assert.equal(s.rejoin(''), null);
  s.enter('lobby', '');
  assert.equal(s.rejoin(''), null);
  s.session.setItem('chatterly.active', '{not json');
  assert.equal(s.rejoin(''), null);
  s.enter('lobby', 'Alice');
  s.leave();
  assert.equal(s.rejoin(''), null);
});

test('the session secret is made once per tab and replaced when malformed', () => {
  const session = store();
  const s = new Saved({ local: store(), session });
  const secret = s.sessionSecret();
  assert.match(secret, /^[0-9a-f]{32}$/);
  assert.equal(s.sessionSecret(), secret);
  session.setItem('chatterly.session', 'short');
  assert.notEqual(s.sessionSecret(), 'short');
});

test('storage that refuses (private mode) reads as empty and never throws', () => {
  const s = new Saved({ local: broken, session: broken });
  s.name = 'Bob';
  assert.equal(s.name, '');
  s.enter('lobby', 'Bob');
  assert.equal(s.rejoin(''), null);
  assert.match(s.sessionSecret(), /^[0-9a-f]{32}$/);
});
