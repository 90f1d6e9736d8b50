// The SDK's types (public/sdk/chatterly.d.ts) name the same frames and error codes as the wire
// contract (docs/protocol.md): a frame or code added to one and not the other fails here.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const dts = readFileSync(new URL('../../public/sdk/chatterly.d.ts', import.meta.url), 'utf8');
const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The body of `export type Name = …;` or `export interface Name {…}` in the .d.ts. */
function block(name) {
  const m = dts.match(new RegExp(`export (?:type ${name} =([^;]*);|interface ${name}\\b[^{]*\\{([^}]*)\\})`));
  assert.ok(m, `${name} in chatterly.d.ts`);
  return m[1] ?? m[2];
}
const literals = (text) => new Set([...text.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]));
const typesOf = (names) => new Set(names.flatMap((n) => [...literals(block(n).match(/type\??: ([^;]*);/)?.[1] ?? '')]));

/** The `"type":"…"` of each frame in the rows of the protocol.md table under `heading`. */
function docFrames(heading) {
  const start = doc.indexOf(heading);
  assert.ok(start >= 0, heading);
  const table = doc.slice(start).split('\n\n')[1];
  return new Set([...table.matchAll(/"type":"([a-z_]+)"/g)].map((m) => m[1]));
}

function same(name, fromDts, fromDoc) {
  const missingInDoc = [...fromDts].filter((x) => !fromDoc.has(x));
  const missingInDts = [...fromDoc].filter((x) => !fromDts.has(x));
  assert.deepEqual({ missingInDoc, missingInDts }, { missingInDoc: [], missingInDts: [] }, name);
}

test('client frames: the .d.ts ClientFrame union and the Client → server table agree', () => {
  const names = block('ClientFrame')
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
  same('client frames', typesOf(names), docFrames('### Client → server'));
});

test('server frames: the .d.ts ServerFrame types and the Server → client table agree', () => {
  const names = [
    'WelcomeFrame',
    'MessageFrame',
    'EditFrame',
    'DeleteFrame',
    'ReactFrame',
    'TopicFrame',
    'TitleFrame',
    'LockFrame',
    'KickFrame',
    'KickedFrame',
    'PresenceNameFrame',
    'TypingFrame',
    'PresenceFrame',
    'ReadFrame',
    'UploadTicketFrame',
    'AuthAckFrame',
    'ErrorFrame',
  ];
  same('server frames', typesOf(names), docFrames('### Server → client'));
});

test('error codes: ProtocolErrorCode and the error code tables agree', () => {
  const fromDts = literals(block('ProtocolErrorCode'));
  const ws = doc.slice(doc.indexOf('### Error codes')).split('\n\n')[1];
  const fromDoc = new Set([...ws.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]));
  // HTTP errors a client can meet on its way in (docs/protocol.md, HTTP).
  for (const code of ['invalid_room']) {
    assert.ok(doc.includes(`\`400 ${code}\``), code);
    fromDoc.add(code);
  }
  // And the upload's (docs/protocol.md, Files).
  for (const code of ['file_type', 'wrong_size', 'bad_ticket']) {
    assert.match(doc, new RegExp(`\`4\\d\\d ${code}\``), code);
    fromDoc.add(code);
  }
  same('error codes', fromDts, fromDoc);
});

test('every export of chatterly.js is declared in chatterly.d.ts, and nothing more', async () => {
  const sdk = await import('../../public/sdk/chatterly.js');
  const declared = new Set([...dts.matchAll(/^export declare (?:function|class|const) (\w+)/gm)].map((m) => m[1]));
  assert.deepEqual([...declared].sort(), Object.keys(sdk).sort());
});

test('chatterly.min.js is chatterly.js minified, current, and within 12 KiB gzip', async () => {
  const { gzipSync } = await import('node:zlib');
  const { minify, TARGET } = await import('../../scripts/sdk-min.mjs');
  const shipped = readFileSync(TARGET, 'utf8');
  assert.equal(shipped, minify(), 'public/sdk/chatterly.min.js is stale: run node scripts/sdk-min.mjs');
  const size = gzipSync(shipped, { level: 9 }).length;
  assert.ok(size <= 12 * 1024, `chatterly.min.js is ${size} bytes gzip`);
  // The same module: every export of the source is an export of the minified file.
  const sdk = await import('../../public/sdk/chatterly.js');
  const min = await import('../../public/sdk/chatterly.min.js');
  assert.deepEqual(Object.keys(min).sort(), Object.keys(sdk).sort());
});
