// Issue 18's wire contract, read as text: the names an SDK builds on (the `token` of a join, the
// `auth` frame and its answer, the `unauthorized` error, close 4004) are the server's own and are
// documented, and docs/embedding.md's Node.js snippet mints a token of the documented shape.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (...p) => fs.readFileSync(path.join(ROOT, ...p), 'utf8');
const PROTOCOL = read('docs', 'protocol.md');
const EMBEDDING = read('docs', 'embedding.md');

test('close 4004 is the server token-expiry code, and documented', () => {
  assert.match(read('src', 'protocol', 'mod.rs'), /const TOKEN_EXPIRED: u16 = 4004;/);
  assert.ok(PROTOCOL.includes('`4004`'));
  assert.ok(EMBEDDING.includes('`4004`'));
});

test('unauthorized, the auth frame and the join token are the server names', () => {
  assert.match(read('src', 'protocol', 'mod.rs'), /ErrorCode::Unauthorized => "unauthorized"/);
  assert.match(read('src', 'protocol', 'client.rs'), /"auth" => Ok\(ClientFrame::Auth/);
  assert.match(read('src', 'protocol', 'client.rs'), /token: Option<Cow<'a, str>>/);
  for (const text of ['`unauthorized`', '{"type":"auth","token":', '{"type":"auth","exp":', '"token"']) {
    assert.ok(PROTOCOL.includes(text), `docs/protocol.md does not mention ${text}`);
  }
});

test('every embedding var is in wrangler.toml or documented as a secret, and in protocol.md', () => {
  const toml = read('wrangler.toml');
  for (const v of ['JOIN_TOKENS', 'JOIN_TOKEN_MAX_TTL_S', 'MEMBER_SOCKETS_MAX', 'ALLOWED_ORIGINS']) {
    assert.match(toml, new RegExp(`^${v} = `, 'm'), `${v} in wrangler.toml`);
    assert.match(read('src', 'config.rs') + read('src', 'shell', 'router.rs'), new RegExp(`"${v}"`));
  }
  for (const v of [
    'JOIN_TOKENS',
    'JOIN_TOKEN_SECRET',
    'JOIN_TOKEN_PUBLIC_KEYS',
    'JOIN_TOKEN_MAX_TTL_S',
    'MEMBER_SOCKETS_MAX',
    'ALLOWED_ORIGINS',
  ]) {
    assert.match(PROTOCOL, new RegExp(`\\| \`${v}\` \\|`), `${v} has a row in docs/protocol.md`);
  }
});

test("docs/embedding.md's Node.js HS256 snippet makes a three-part token that verifies", () => {
  const snippet = EMBEDDING.match(/export function mintHS256[\s\S]*?\n}\n/)[0].replace('export ', '');
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const mintHS256 = new Function('crypto', 'b64', `${snippet}; return mintHS256;`)(crypto, b64);
  const token = mintHS256({ sub: 'u', name: 'A', room: 'lobby', exp: 1 }, 'secret');
  const [h, p, s] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  assert.equal(JSON.parse(Buffer.from(p, 'base64url')).sub, 'u');
  assert.equal(s, crypto.createHmac('sha256', 'secret').update(`${h}.${p}`).digest('base64url'));
});
