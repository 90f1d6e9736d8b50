// room.upload (public/sdk/chatterly.js): a ticket on the socket, the bytes by XMLHttpRequest with
// progress (fetch without one), refusals as ChatterlyErrors with the protocol's codes, cancel.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sdk, settle } from './sdk-fakes.mjs';

const TICKET = { type: 'upload_ticket', id: 'a'.repeat(32), url: '/api/rooms/lobby/files/x?ticket=t', expires_at: 1 };

/** An XMLHttpRequest that reports two progress events, then answers `status` with `body`. */
function fakeXhr(status, body, log) {
  return class {
    constructor() {
      this.upload = {};
      log.push(this);
    }
    open(method, url) {
      Object.assign(this, { method, url });
    }
    send(file) {
      this.file = file;
      queueMicrotask(() => {
        if (this.aborted) return;
        this.upload.onprogress?.({ loaded: 1, total: 4 });
        this.upload.onprogress?.({ loaded: 4, total: 4 });
        Object.assign(this, { status, responseText: JSON.stringify(body) });
        this.onload();
      });
    }
    abort() {
      this.aborted = true;
      this.onabort();
    }
  };
}

test('upload asks for a ticket, PUTs the bytes with progress, and a message carries the file', async () => {
  const log = [];
  const done = { id: TICKET.id, type: 'image/png', size: 4, width: 2, height: 1 };
  const h = sdk({ room: { XMLHttpRequest: fakeXhr(201, done, log) } });
  const ws = await h.joined();
  const progress = [];
  const file = new Blob(['abcd']);
  file.name = 'a.png';
  const up = h.room.upload(file, { onProgress: (l, t) => progress.push([l, t]) });
  await settle();
  assert.deepEqual(ws.json().at(-1), { type: 'upload', name: 'a.png', size: 4 });
  ws.recv(TICKET);
  const ref = await up;
  assert.equal(log[0].method, 'PUT');
  assert.equal(log[0].url, `http://127.0.0.1:1234${TICKET.url}`);
  assert.deepEqual(ref, { ...done, name: 'a.png' });
  assert.deepEqual(progress, [
    [1, 4],
    [4, 4],
    [4, 4],
  ]);
  h.room.send('', { files: [ref] });
  assert.deepEqual(ws.messages().at(-1).files, [TICKET.id]);
});

test('a refused ticket or PUT rejects with the protocol code; cancel is aborted', async () => {
  const log = [];
  const h = sdk({ room: { XMLHttpRequest: fakeXhr(415, { error: { code: 'file_type', message: 'no' } }, log) } });
  const ws = await h.joined();
  const big = h.room.upload(new Blob(['x']));
  await settle();
  ws.recv({ type: 'error', code: 'file_too_large', message: 'files are limited to 10 bytes' });
  await assert.rejects(big, { code: 'file_too_large' });
  const typed = h.room.upload(new Blob(['<html>']));
  await settle();
  ws.recv(TICKET);
  await assert.rejects(typed, { code: 'file_type' });
  const controller = new AbortController();
  controller.abort();
  const cancelled = h.room.upload(new Blob(['x']), { signal: controller.signal });
  await settle();
  ws.recv(TICKET);
  await assert.rejects(cancelled, { code: 'aborted' });
  // A ticket asked on a socket that drops never comes: the upload fails rather than hang.
  const lost = h.room.upload(new Blob(['x']));
  await settle();
  ws.drop();
  await assert.rejects(lost, { code: 'not_connected' });
});
