// A host app on its own origin that embeds <chatterly-room> and vouches for its users with join
// tokens (HS256, docs/embedding.md). Node.js standard library only.
//
//   JOIN_TOKEN_SECRET=… CHAT=http://127.0.0.1:8787 PORT=3000 node examples/embed/server.mjs
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const { JOIN_TOKEN_SECRET: secret = 'dev-secret', CHAT = 'http://127.0.0.1:8787', PORT = '3000' } = process.env;
const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8').replaceAll('{{CHAT}}', CHAT);
const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The app's own session says who the user is; here a cookie set by the page's form. */
function user(req) {
  const m = /(?:^|;\s*)user=([A-Za-z0-9 _-]{1,32})/.exec(req.headers.cookie ?? '');
  return m ? decodeURIComponent(m[1]) : null;
}

function token(name, room) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: `demo:${name}`, name, room, iat: now, exp: now + 600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

createServer((req, res) => {
  const url = new URL(req.url, 'http://host');
  if (url.pathname === '/token') {
    const name = user(req);
    if (!name) return res.writeHead(401).end('sign in first');
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    return res.end(JSON.stringify({ token: token(name, url.searchParams.get('room') ?? 'lobby') }));
  }
  if (url.pathname !== '/') return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
}).listen(Number(PORT), '127.0.0.1', () => console.log(`host app on http://127.0.0.1:${PORT}`));
