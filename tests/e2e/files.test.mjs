// Pictures and files in the page (public/js/attachments.js) against wrangler dev's local R2:
// a pasted image reaches another person inline; a dropped PDF downloads byte for byte; a file
// too big says why; the progress bar moves and Cancel stops it; a file opened directly runs no
// script; the chat with files is axe-clean.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import {
  assertClean,
  eventually,
  joinRoom,
  openPerson,
  startServerAndBrowser,
  stopAll,
  TIMEOUT,
  uniqueRoom,
} from './helpers.mjs';
import { startServer } from './server.mjs';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const MAX = 2_000_000;

/** A PNG header of `w`×`h` and `extra` bytes after it (the server reads the size, not pixels). */
function png(w, h, extra = 64) {
  const b = Buffer.alloc(29 + extra);
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b, 0);
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b.set([8, 6, 0, 0, 0], 24);
  return b;
}

/** A real 2×2 PNG, so the browser can draw it. */
const REAL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFElEQVR4nGP8z8DwnwEJMDGgAQA6BgIBuF5rXQAAAABJRU5ErkJggg==',
  'base64',
);

/** Puts files on the page's clipboard paste or drop, as a person would. */
async function dispatchFiles(page, selector, type, files) {
  await page.evaluate(
    ({ selector, type, files }) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
      const target = document.querySelector(selector);
      const ev =
        type === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true })
          : new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true });
      target.dispatchEvent(ev);
    },
    { selector, type, files: files.map((f) => ({ ...f, bytes: [...f.bytes] })) },
  );
}

describe('files in the page', { timeout: 240_000 }, () => {
  let server;
  let browser;
  const people = [];
  const person = async (opts) => {
    const p = await openPerson(browser, server.url, opts);
    people.push(p);
    return p;
  };

  before(async () => {
    ({ server, browser } = await startServerAndBrowser(() => startServer({ vars: { MAX_FILE_BYTES: String(MAX) } })));
  });
  after(() => stopAll({ server, browser }, people));

  test('a pasted image reaches another person inline, its size set before it loads', async () => {
    const room = uniqueRoom('files-paste');
    const alice = await person();
    const bob = await person();
    await joinRoom(alice, 'Alice', room);
    await joinRoom(bob, 'Bob', room);
    await dispatchFiles(alice.page, '#message-input', 'paste', [
      { name: 'shot.png', type: 'image/png', bytes: REAL_PNG },
    ]);
    await alice.page.locator('.attachment.done').waitFor();
    await alice.page.locator('#message-input').press('Enter');
    const img = bob.page.locator('#messages .file-image img');
    await img.waitFor();
    assert.equal(await img.getAttribute('width'), '2');
    assert.equal(await img.getAttribute('height'), '2');
    assert.equal(await img.getAttribute('alt'), 'shot.png');
    await eventually(async () => assert.equal(await img.evaluate((i) => i.complete && i.naturalWidth), 2));
    // Bounded: a large picture is drawn within 320×240, its ratio kept, before it loads.
    await dispatchFiles(alice.page, '#message-input', 'paste', [
      { name: 'wide.png', type: 'image/png', bytes: png(1600, 400) },
    ]);
    await alice.page.locator('.attachment.done').waitFor();
    await alice.page.locator('#message-input').fill('a wide one');
    await alice.page.locator('#message-input').press('Enter');
    const wide = bob.page.locator('#messages .file-image img[alt="wide.png"]');
    await wide.waitFor({ state: 'attached' });
    assert.deepEqual([await wide.getAttribute('width'), await wide.getAttribute('height')], ['320', '80']);
    assertClean(alice, 'alice');
  });

  test('a dropped PDF is a card that downloads byte for byte', async () => {
    const room = uniqueRoom('files-drop');
    const alice = await person();
    const bob = await person();
    await joinRoom(alice, 'Alice', room);
    await joinRoom(bob, 'Bob', room);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(50_000, 7)]);
    await dispatchFiles(alice.page, '#composer', 'drop', [{ name: 'plan.pdf', type: 'application/pdf', bytes: pdf }]);
    await alice.page.locator('.attachment.done').waitFor();
    await alice.page.locator('#message-input').fill('the plan');
    await alice.page.locator('#message-input').press('Enter');
    const card = bob.page.locator('#messages .file-card');
    await card.waitFor();
    assert.match(await card.textContent(), /plan\.pdf[\s\S]*PDF · 50 kB/);
    const [download] = await Promise.all([bob.page.waitForEvent('download'), card.click()]);
    assert.equal(download.suggestedFilename(), 'plan.pdf');
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    assert.ok((await readFile(path)).equals(pdf), 'the download differs from the upload');
    assertClean(bob, 'bob');
  });

  test('a file too big, or of a type the room does not take, says why and offers a retry', async () => {
    const room = uniqueRoom('files-refuse');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    await alice.page.locator('#file-input').setInputFiles({
      name: 'huge.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(MAX)]),
    });
    const failed = alice.page.locator('.attachment.failed');
    await failed.waitFor();
    assert.match(await failed.textContent(), /Too big: files can be at most 2\.0 MB\./);
    assert.ok(await failed.getByRole('button', { name: 'Retry the upload of huge.pdf' }).isVisible());
    await failed.getByRole('button', { name: 'Remove huge.pdf' }).click();
    await dispatchFiles(alice.page, '#message-input', 'paste', [
      { name: 'cat.png', type: 'image/png', bytes: Buffer.from('<html><script>window.__xss=1</script>') },
    ]);
    await failed.waitFor();
    assert.match(await failed.textContent(), /not accepted/);
  });

  test('the progress bar moves, and Cancel stops the upload', async () => {
    const room = uniqueRoom('files-progress');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    // A slow link, so the upload takes a few seconds.
    const cdp = await alice.context.newCDPSession(alice.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 300 * 1024,
    });
    await alice.page.locator('#file-input').setInputFiles({
      name: 'big.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(1_500_000, 1)]),
    });
    const bar = alice.page.locator('.attachment progress');
    const seen = new Set();
    await eventually(
      async () => {
        seen.add(await bar.evaluate((p) => p.value));
        assert.ok(
          [...seen].some((v) => v > 0 && v < 100),
          `progress seen: ${[...seen]}`,
        );
        assert.ok([...seen].filter((v) => v > 0 && v < 100).length >= 2, `progress seen: ${[...seen]}`);
      },
      { interval: 50, timeout: TIMEOUT },
    );
    await alice.page.getByRole('button', { name: 'Cancel the upload of big.pdf' }).click();
    await eventually(async () => assert.equal(await alice.page.locator('.attachment').count(), 0));
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  });

  test('a file opened directly runs no script', async () => {
    const room = uniqueRoom('files-xss');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    // Text that holds a script (not at its start, so it is accepted as plain text).
    const text = Buffer.from('notes\n<html><script>window.__xss = 1</script></html>\n');
    await dispatchFiles(alice.page, '#message-input', 'paste', [{ name: 'page.html', type: 'text/html', bytes: text }]);
    await alice.page.locator('.attachment.done').waitFor();
    await alice.page.locator('#message-input').press('Enter');
    const href = await alice.page.locator('#messages .file-card').getAttribute('href');
    const viewer = await person();
    const response = await viewer.page.goto(server.url + href).catch(() => null);
    // Served as an attachment, a navigation becomes a download; either way nothing ran.
    if (response) assert.equal(response.headers()['content-security-policy'], "sandbox; default-src 'none'");
    assert.equal(await viewer.page.evaluate(() => typeof window.__xss).catch(() => 'undefined'), 'undefined');
    // Opened as the bytes a browser would render, in a tab of our origin: still no script.
    const direct = await fetch(server.url + href);
    assert.equal(direct.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(direct.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await alice.page.evaluate(() => typeof window.__xss), 'undefined');
    // A polyglot: a PNG header, then HTML with a script. Served inline as image/png under
    // nosniff and a sandbox, a tab that opens it shows an image and runs nothing.
    const polyglot = Buffer.concat([png(2, 2, 0), Buffer.from('<html><body><script>window.__xss=1</script>')]);
    await dispatchFiles(alice.page, '#message-input', 'paste', [
      { name: 'poly.png', type: 'image/png', bytes: polyglot },
    ]);
    await alice.page.locator('.attachment.done').waitFor();
    await alice.page.locator('#message-input').press('Enter');
    const img = alice.page.locator('#messages .file-image[title^="poly.png"]');
    await img.waitFor();
    const opened = await person();
    const shown = await opened.page.goto(server.url + (await img.getAttribute('href')));
    assert.equal(shown.headers()['content-type'], 'image/png');
    assert.equal(await opened.page.evaluate(() => typeof window.__xss), 'undefined');
    assert.equal(await opened.page.evaluate(() => document.querySelector('script')), null);
  });

  test('the chat with files and uploads is axe-clean', async () => {
    const room = uniqueRoom('files-axe');
    const context = await browser.newContext({
      viewport: { width: 1100, height: 720 },
      bypassCSP: true,
      locale: 'en-US',
    });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    people.push({ close: () => context.close() });
    await page.goto(server.url);
    await joinRoom({ page }, 'Alice', room);
    await dispatchFiles(page, '#message-input', 'paste', [
      { name: 'shot.png', type: 'image/png', bytes: REAL_PNG },
      { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('hello\n') },
    ]);
    await eventually(async () => assert.equal(await page.locator('.attachment.done').count(), 2));
    await page.locator('#message-input').press('Enter');
    await page.locator('#messages .file-card').waitFor();
    await page
      .locator('#file-input')
      .setInputFiles({ name: 'x.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0, 1, 2]) });
    await page.locator('.attachment.failed').waitFor();
    await page.addScriptTag({ path: AXE_PATH });
    const results = await page.evaluate(() =>
      window.axe.run(document, {
        resultTypes: ['violations'],
        runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'],
      }),
    );
    const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(found, []);
    // Keyboard: the attach button, the retry and the file card take focus.
    await page.locator('#attach-button').focus();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'attach-button');
  });
});
