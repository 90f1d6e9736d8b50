// examples/embed/: a host app on its own origin (server.mjs, Node.js standard library) signs its
// user in, mints an HS256 join token, and the <chatterly-room> on its page joins with it through
// `token-url`. An SDK client and a guest on Chatterly's own page chat with the member, see them
// marked verified (a ✓ with an accessible name, in the page's member list and beside their
// messages), and the chat server restarts under all three: the widget rejoins with a fresh token
// from the host's endpoint, nothing is lost or doubled, and the host's custom properties theme it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from '../../public/sdk/chatterly.js';
import { eventually, joinRoom, launchBrowser, openPerson, send, TIMEOUT, waitForMessage } from '../e2e/helpers.mjs';
import { freePort, REPO_ROOT, startServer } from '../e2e/server.mjs';

const SECRET = `test-secret-${process.pid}-0123456789abcdef`;
let chat;
let host;
let hostUrl;
let browser;

before(async () => {
  const port = await freePort();
  hostUrl = `http://127.0.0.1:${port}`;
  chat = await startServer({
    vars: { JOIN_TOKENS: 'optional', JOIN_TOKEN_SECRET: SECRET, ALLOWED_ORIGINS: hostUrl },
  });
  host = spawn(process.execPath, [path.join(REPO_ROOT, 'examples', 'embed', 'server.mjs')], {
    env: { ...process.env, JOIN_TOKEN_SECRET: SECRET, CHAT: chat.url, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Up once it prints its address; never wait without an end (a taken port makes it exit).
  await new Promise((resolve, reject) => {
    host.stdout.once('data', resolve);
    host.once('exit', (code) => reject(new Error(`examples/embed/server.mjs exited (${code})`)));
    setTimeout(() => reject(new Error('examples/embed/server.mjs did not start within 15 s')), 15_000).unref();
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  host?.kill('SIGTERM');
  await chat?.cleanup();
});

test("the widget joins with the host app's token: chat, verified marks, a restart, the host's theme", {
  timeout: 180_000,
}, async () => {
  const bob = await connect({ url: chat.url, room: 'lobby', name: 'Bob', WebSocket });
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  let tokenRequests = 0;
  // Tokens the host's endpoint gave (before signing in it answers 401).
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/token' && r.status() === 200) tokenRequests += 1;
  });
  await page.goto(hostUrl);
  await page.locator('#user').fill('Ada');
  await page.locator('#user').press('Enter');
  await page.waitForLoadState();
  await page.locator('chatterly-room #message-input:not([disabled])').waitFor();
  const joined = await new Promise((resolve) => {
    if (bob.members.includes('Ada')) resolve({ name: 'Ada', verified: bob.verified.includes('Ada') });
    bob.on('join', (e) => e.name === 'Ada' && resolve(e));
  });
  assert.equal(joined.verified, true, 'the SDK sees the member as verified');
  assert.equal(tokenRequests, 1);

  const widgetSays = async (text) => {
    await page.locator('chatterly-room #message-input').fill(text);
    await page.locator('chatterly-room #message-input').press('Enter');
  };
  const heard = (text) =>
    new Promise((resolve) => {
      const m = bob.messages.find((x) => x.text === text);
      if (m) resolve(m);
      bob.on('message', (x) => x.text === text && resolve(x));
    });
  const fromAda = heard('signed in by my app');
  await widgetSays('signed in by my app');
  const m = await fromAda;
  assert.equal(m.name, 'Ada');
  assert.equal(m.verified, true);
  await bob.send('Hello Ada');
  const texts = () => page.locator('chatterly-room #messages .msg .bubble').allTextContents();
  await eventually(async () => assert.deepEqual(await texts(), ['signed in by my app', 'Hello Ada']));
  // The widget marks the verified member's message, with an accessible name; Bob is a guest.
  const adaMsg = page.locator('chatterly-room #messages .msg', { hasText: 'signed in by my app' });
  await adaMsg.getByRole('img', { name: 'verified' }).waitFor();
  assert.equal(
    await page.locator('chatterly-room #messages .msg', { hasText: 'Hello Ada' }).getByRole('img').count(),
    0,
  );

  // A guest on Chatterly's own page (another origin than the host's) sees the mark too.
  const carol = await openPerson(browser, chat.url);
  await joinRoom(carol, 'Carol', 'lobby');
  await waitForMessage(carol.page, 'signed in by my app');
  const badge = carol.page.locator('#members-list .member', { hasText: 'Ada' }).getByRole('img', { name: 'verified' });
  await badge.waitFor();
  assert.equal(
    await carol.page.locator('#members-list .member', { hasText: 'Bob' }).getByRole('img').count(),
    0,
    'guests are not marked',
  );
  await carol.page
    .locator('#messages .msg', { hasText: 'signed in by my app' })
    .getByRole('img', { name: 'verified' })
    .waitFor();

  // The host's custom properties (examples/embed/index.html) theme the widget.
  const look = await page.evaluate(() => {
    const send = getComputedStyle(document.querySelector('chatterly-room').shadowRoot.getElementById('send-button'));
    return { bg: send.backgroundColor, radius: Number.parseFloat(send.borderTopLeftRadius) };
  });
  assert.equal(look.bg, 'rgb(11, 122, 75)');
  // --chatterly-radius: 4px (buttons take 5/7 of it, as our page's 10 px of 14 px).
  assert.ok(look.radius > 2 && look.radius < 3, `radius ${look.radius}`);

  // The chat server restarts: the widget rejoins with a fresh token from the host's endpoint.
  await chat.restart();
  await bob.send('After the restart');
  await eventually(async () => assert.ok((await texts()).includes('After the restart')), { timeout: 60_000 });
  assert.ok(tokenRequests >= 2, `the widget asked the host for a token again (${tokenRequests})`);
  const still = heard('Still here');
  await widgetSays('Still here');
  assert.equal((await still).verified, true);
  await send(carol.page, 'Carol after the restart');
  await eventually(async () => assert.ok((await texts()).includes('Carol after the restart')), { timeout: 30_000 });
  const shown = await texts();
  assert.equal(new Set(shown).size, shown.length, `nothing twice: ${shown}`);
  assert.deepEqual(shown, [
    'signed in by my app',
    'Hello Ada',
    'After the restart',
    'Still here',
    'Carol after the restart',
  ]);
  await carol.close();
  bob.close();
});
