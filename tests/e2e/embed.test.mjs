// Chatterly embedded in another app (issue 18): a page served by a tiny Node app on another
// loopback port gets join tokens from that app's own token endpoint (HS256, signed with Node's
// crypto as docs/embedding.md shows) and chats through Chatterly, whose ALLOWED_ORIGINS names
// that app. The very same page served from a third origin is refused: its WebSocket upgrade and
// its POST /api/rooms get 403 origin_not_allowed, so the browser sees neither.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startServerAndBrowser, stopAll, TIMEOUT, uniqueRoom } from './helpers.mjs';
import { startServer } from './server.mjs';

const SECRET = 'e2e-embed-secret-0123456789abcdef';

/** An HS256 join token, in a few lines of Node.js crypto (the same as docs/embedding.md). */
function mintToken(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  const signature = crypto.createHmac('sha256', SECRET).update(input).digest('base64url');
  return `${input}.${signature}`;
}

/** The embedding app's page: it asks its own server for a token, then talks to Chatterly. */
function page(chatUrl) {
  return `<!doctype html><meta charset="utf-8"><title>App</title>
<ul id="log"></ul><p id="status">starting</p>
<script type="module">
const chat = ${JSON.stringify(chatUrl)};
const params = new URLSearchParams(location.search);
const user = params.get('user');
const room = params.get('room');
const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').append(li); };
const status = (text) => { document.getElementById('status').textContent = text; };
window.made = fetch('/token?create=1&user=' + user, { method: 'POST' })
  .then((r) => r.json())
  .then(({ token }) => fetch(chat + '/api/rooms', { method: 'POST', headers: { Authorization: 'Bearer ' + token } }))
  .then((r) => 'made:' + r.status, (e) => 'refused:' + e.name);
const { token } = await (await fetch('/token?room=' + room + '&user=' + user, { method: 'POST' })).json();
const ws = new WebSocket(chat.replace('http', 'ws') + '/api/rooms/' + room + '/websocket');
ws.onopen = () => ws.send(JSON.stringify({ type: 'join', token }));
ws.onclose = (e) => status('closed:' + e.code);
ws.onmessage = (e) => {
  const data = JSON.parse(e.data);
  for (const f of Array.isArray(data) ? data : [data]) {
    if (f.type === 'welcome') { status('joined as ' + f.name + (f.verified?.includes(f.name) ? ' (verified)' : '')); }
    if (f.type === 'message') log(f.name + ': ' + f.text);
    if (f.type === 'error') status('error:' + f.code);
  }
};
window.say = (text) => ws.send(JSON.stringify({ type: 'message', text }));
</script>`;
}

/**
 * The embedding app on a port of its own: its page and its token endpoint. Users are who the app
 * says. It listens before Chatterly starts (Chatterly must know its origin), so `chat.url` is read
 * when a page is asked for.
 */
async function startApp(chat) {
  let port;
  const names = { u1: 'Ada', u2: 'Grace' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (url.pathname === '/token' && req.method === 'POST') {
      const user = url.searchParams.get('user');
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: `app-user-${user}`, name: names[user] ?? 'Someone', iat: now, exp: now + 300 };
      if (url.searchParams.get('create')) Object.assign(claims, { room: '*', create: true });
      else claims.room = url.searchParams.get('room');
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token: mintToken(claims) }));
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page(chat.url));
  });
  // Port 0: the kernel's choice, so nothing can take it between choosing and listening.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  };
}

describe('embedding Chatterly in another origin', { timeout: 120_000 }, () => {
  let chat;
  let app;
  let stranger;
  let browser;
  before(async () => {
    // The app's origin must be known before Chatterly starts.
    const where = { url: null };
    app = await startApp(where);
    stranger = await startApp(where);
    let server;
    ({ server, browser } = await startServerAndBrowser(() =>
      startServer({ vars: { JOIN_TOKENS: 'required', JOIN_TOKEN_SECRET: SECRET, ALLOWED_ORIGINS: app.url } }),
    ));
    chat = server;
    where.url = chat.url;
  });

  after(async () => {
    await stopAll({ server: chat, browser }, []);
    await Promise.allSettled([app?.close(), stranger?.close()]);
  });

  // What the page's room creation came to; a page's evaluate has no timeout of its own.
  const settled = (p) =>
    p.evaluate((ms) => Promise.race([window.made, new Promise((r) => setTimeout(() => r('pending'), ms))]), TIMEOUT);

  async function open(base, user, room) {
    const context = await browser.newContext();
    context.setDefaultTimeout(TIMEOUT);
    const p = await context.newPage();
    await p.goto(`${base}/?user=${user}&room=${room}`);
    return p;
  }

  test('the allowed app chats, verified, and makes rooms with a bearer token', async () => {
    const room = uniqueRoom('embed');
    const ada = await open(app.url, 'u1', room);
    const grace = await open(app.url, 'u2', room);
    await ada.locator('#status', { hasText: 'joined as Ada (verified)' }).waitFor();
    await grace.locator('#status', { hasText: 'joined as Grace (verified)' }).waitFor();
    await ada.evaluate(() => window.say('hello from the app'));
    await grace.locator('#log li', { hasText: 'Ada: hello from the app' }).waitFor();
    assert.equal(await settled(ada), 'made:201');
    await ada.context().close();
    await grace.context().close();
  });

  test('the same page from a third origin is refused', async () => {
    const room = uniqueRoom('embed');
    const eve = await open(stranger.url, 'u1', room);
    // The upgrade is refused (403), which a browser reports as a close without a handshake.
    await eve.locator('#status', { hasText: 'closed:1006' }).waitFor();
    // The POST is refused too, and without CORS headers the page cannot read the answer.
    assert.equal(await settled(eve), 'refused:TypeError');
    await eve.context().close();
  });
});
