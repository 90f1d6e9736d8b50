// Issue 12's codes in the client (public/js/protocol.js, room-state.js) against the server's
// source and docs/protocol.md, read as text: the kick close code, the new error codes, the topic
// limit and the edit window.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ACTION_ERRORS, CLOSE_KICKED, EDIT_WINDOW_MS, JOIN_ERRORS } from '../../public/js/protocol.js';
import { MAX_TOPIC_CHARS } from '../../public/js/room-state.js';
import { QUOTE_CHARS } from '../../public/sdk/chatterly.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function readAll(dir) {
  let all = '';
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) all += readAll(p);
    else if (e.name.endsWith('.rs')) all += fs.readFileSync(p, 'utf8');
  }
  return all;
}

const SRC = readAll(path.join(ROOT, 'src'));
const DOCS = fs.readFileSync(path.join(ROOT, 'docs', 'protocol.md'), 'utf8');

test('close 4003 is the server kick code, and documented', () => {
  assert.match(SRC, new RegExp(`const KICKED: u16 = ${CLOSE_KICKED};`));
  assert.ok(DOCS.includes(`\`${CLOSE_KICKED}\``));
});

test('every action and join error the client names is one the server sends and the docs list', () => {
  for (const code of [...ACTION_ERRORS, 'room_locked', 'banned']) {
    assert.ok(SRC.includes(`"${code}"`), `src/ never sends "${code}"`);
    assert.match(DOCS, new RegExp(`\\b${code}\\b`), `docs/protocol.md does not mention ${code}`);
  }
  assert.ok(JOIN_ERRORS.has('room_locked') && JOIN_ERRORS.has('banned'));
});

test('the topic limit and the default edit window are the server values', () => {
  assert.match(SRC, new RegExp(`const MAX_TOPIC[A-Z_]*: usize = ${MAX_TOPIC_CHARS};`));
  assert.match(SRC, new RegExp(`const QUOTE_CHARS: usize = ${QUOTE_CHARS};`));
  assert.match(SRC, /edit_window_ms: 15 \* 60 \* 1000,/);
  assert.equal(EDIT_WINDOW_MS, 15 * 60 * 1000);
  assert.ok(DOCS.includes('EDIT_WINDOW_MS'));
});
