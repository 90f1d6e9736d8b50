// Our messages awaiting the server's answer (public/js/pending.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingMessages } from '../../public/js/pending.js';

function sent(p, ...texts) {
  return texts.map((t) => {
    const item = p.add(t, 1);
    p.transmitted(item);
    return item;
  });
}

test('nonces are unique, random and within the server limit', () => {
  const p = new PendingMessages();
  const nonces = Array.from({ length: 50 }, () => p.add('x', 1).nonce);
  assert.equal(new Set(nonces).size, 50);
  for (const n of nonces) assert.match(n, /^[0-9a-f]{16}-\d+$/);
  assert.ok(nonces.every((n) => n.length <= 64));
});

test('an echo confirms its item and everything sent before it is answered', () => {
  const p = new PendingMessages();
  const [a, b, c] = sent(p, 'a', 'b', 'c');
  assert.equal(p.confirm({ nonce: b.nonce }), b);
  assert.deepEqual(p.inflight, [c.nonce]);
  assert.deepEqual([...p.items.keys()], [a.nonce, c.nonce]);
  assert.equal(p.confirm({ nonce: b.nonce }), null, 'twice');
  assert.equal(p.confirm({}), null);
});

test('an error with a nonce rejects that item only; without one, the oldest in flight', () => {
  const p = new PendingMessages();
  const [a, b, c] = sent(p, 'a', 'b', 'c');
  assert.equal(p.reject({ code: 'storage_failed', nonce: b.nonce }), b);
  assert.deepEqual(p.inflight, [a.nonce, c.nonce]);
  assert.equal(p.reject({ code: 'rate_limited' }), a);
  assert.equal(p.reject({ code: 'rate_limited', nonce: 'someone-else' }), null);
  assert.deepEqual([...p.items.keys()], [c.nonce]);
  p.socketClosed();
  assert.equal(p.reject({ code: 'too_large' }), null, 'nothing in flight on a new socket');
});

test('after a rejoin: unsent items go out; items that went out wait while a gap is open', () => {
  const p = new PendingMessages();
  const [a] = sent(p, 'a');
  const b = p.add('b', 2);
  assert.deepEqual(p.toResend(), [b], 'a is still in flight on this socket');
  p.socketClosed();
  assert.deepEqual(p.toResend(), [a, b]);
  assert.deepEqual(p.toResend({ gapOpen: true }), [b]);
});
