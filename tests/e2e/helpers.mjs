// Browser helpers for the e2e tests: Debian's Chromium driven by playwright-core.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const TIMEOUT = 15_000;

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * `POST /api/rooms` from Node: a new private room's `Response`. wrangler dev's proxy answers a POST
 * whose pooled connection to the runtime went stale with `503 Your worker restarted mid-request`
 * (it retries only GET and HEAD itself); that is the dev proxy's, not our Worker's, so it is
 * retried once.
 */
export async function postRoom(baseUrl, init = {}) {
  const res = await fetch(`${baseUrl}/api/rooms`, { method: 'POST', ...init });
  if (res.status !== 503) return res;
  const text = await res.text();
  if (!text.includes('restarted mid-request')) return new Response(text, { status: 503 });
  return fetch(`${baseUrl}/api/rooms`, { method: 'POST', ...init });
}

let roomCounter = 0;
/** A fresh public room name per test, so tests never see each other's messages. */
/** Starts the server and Chromium at once; if either fails, stops whichever started. */
export async function startServerAndBrowser(startServer) {
  const [s, b] = await Promise.allSettled([startServer(), launchBrowser()]);
  const started = { server: s.value, browser: b.value };
  if (s.status === 'rejected' || b.status === 'rejected') {
    await stopAll(started, []);
    throw s.status === 'rejected' ? s.reason : b.reason;
  }
  return started;
}

/** Closes every person's page, then the browser, then the server. */
export async function stopAll({ server, browser }, people) {
  await Promise.allSettled(people.map((p) => p.close()));
  await browser?.close();
  await server?.cleanup();
}

export function uniqueRoom(prefix = 'e2e') {
  roomCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${roomCounter}`.slice(0, 32);
}

/**
 * One person: a browser context of their own (own storage), with a page that records problems:
 * page errors, console errors, CSP violations and dialogs (none of which should ever happen).
 */
export async function openPerson(
  browser,
  baseUrl,
  { viewport = { width: 1100, height: 720 }, colorScheme = 'light', path = '/' } = {},
) {
  const context = await browser.newContext({ viewport, colorScheme, locale: 'en-US' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  const dialogs = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.goto(baseUrl + path);
  return { context, page, problems, dialogs, close: () => context.close() };
}

/** Fill the join form and wait for the chat screen. */
export async function joinRoom(person, name, room) {
  const { page } = person;
  await page.locator('#join-name').fill(name);
  if (room !== undefined) await page.locator('#join-room').fill(room);
  await page.locator('#join-button').click();
  await page.locator('#chat-screen').waitFor({ state: 'visible' });
  await waitForText(page.locator('#conn-text'), 'Connected');
}

/** Type a message and press Enter. */
export async function send(page, text) {
  const input = page.locator('#message-input');
  await input.fill(text);
  await input.press('Enter');
}

/** Poll `fn` until it stops throwing (an expect-style retry), then return its value. */
export async function eventually(fn, { timeout = TIMEOUT, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let lastErr;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw lastErr;
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Wait until the locator's text content contains `text`. */
export async function waitForText(locator, text, timeout = TIMEOUT) {
  await eventually(
    async () => {
      const actual = await locator.textContent({ timeout: 1000 });
      assert.ok(actual?.includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(actual)}`);
    },
    { timeout },
  );
}

/** Texts of all stored messages shown, in order. */
export function messageTexts(page) {
  return page.locator('#messages .msg .bubble').allTextContents();
}

/** Wait until a stored message (not a pending one) with exactly this text is shown. */
export async function waitForMessage(page, text, timeout = TIMEOUT) {
  await eventually(
    async () => {
      const texts = await messageTexts(page);
      assert.ok(texts.includes(text), `message ${JSON.stringify(text)} not in ${JSON.stringify(texts)}`);
    },
    { timeout },
  );
}

/** Names in "People in this room". */
export function memberNames(page) {
  return page.locator('#members-list .member-name').allTextContents();
}

export async function waitForMembers(page, expected, timeout = TIMEOUT) {
  await eventually(
    async () => {
      const names = await memberNames(page);
      assert.deepEqual([...names].sort(), [...expected].sort());
      assert.equal(await page.locator('#members-count').textContent(), String(expected.length));
    },
    { timeout },
  );
}

/** Every shown message id appears once and ids increase. */
export async function assertNoDuplicates(page) {
  const ids = await page.locator('#messages .msg').evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  assert.equal(new Set(ids).size, ids.length, `duplicate message ids: ${ids}`);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
    `messages out of order: ${ids}`,
  );
}

/** No dialogs, page errors or console errors (minus those matching `ignore`, e.g. during a restart). */
export function assertClean(person, label = 'page', ignore = null) {
  assert.deepEqual(person.dialogs, [], `${label} opened dialogs`);
  const problems = ignore ? person.problems.filter((p) => !ignore.test(p)) : person.problems;
  assert.deepEqual(problems, [], `${label} had errors`);
}

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * axe-core's violations on the page as it is now (WCAG 2.1 A/AA and best practice), one line each
 * (rule, impact, the first targets). axe comes from node_modules/axe-core, never fetched.
 */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE_PATH });
  const results = await page.evaluate(() =>
    window.axe.run(document, {
      resultTypes: ['violations'],
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'],
    }),
  );
  return results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} @ ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(' '))
        .join(', ')}`,
  );
}

/** Switch light/dark and let the 0.15 s colour transitions end before axe measures contrast. */
export async function useScheme(page, colorScheme) {
  await page.emulateMedia({ colorScheme });
  await page.waitForTimeout(400);
}

/**
 * The open modal dialog as a screen reader meets it (public/js/dialog.js): its name (the heading
 * its aria-labelledby points at) and the class of what has the focus; null when none is open.
 */
export function shownDialog(page) {
  return page.evaluate(() => {
    const d = document.querySelector('dialog:modal');
    if (!d) return null;
    const name = document.getElementById(d.getAttribute('aria-labelledby'));
    return { name: d.contains(name) ? name.textContent : null, focused: document.activeElement?.className };
  });
}
