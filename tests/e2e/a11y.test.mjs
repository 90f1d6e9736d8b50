// Accessibility checked by a machine: axe-core (node_modules/axe-core, injected into the page,
// never fetched) finds no violations on the join screen, the chat screen (a reply, reactions, an
// edited and a deleted message), the message menu with its emoji picker, inline editing, the reply
// preview and the owner panel, in light and dark mode, at desktop and phone width.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  axeViolations,
  eventually,
  joinRoom,
  postRoom,
  send,
  startServerAndBrowser,
  stopAll,
  TIMEOUT,
  useScheme,
  waitForMessage,
} from './helpers.mjs';
import { startServer } from './server.mjs';

async function assertNoViolations(page, label) {
  const found = await axeViolations(page);
  assert.deepEqual(found, [], `${label}: axe found violations`);
  // The message list is a list of list items only (day dividers and system lines included).
  const others = await page
    .locator('#messages, #pending')
    .evaluateAll((lists) =>
      lists.flatMap((l) => [...l.children].filter((c) => c.tagName !== 'LI')).map((c) => c.tagName),
    );
  assert.deepEqual(others, [], `${label}: the message lists hold more than <li>`);
}

describe('accessibility (axe-core)', { timeout: 240_000 }, () => {
  let server;
  let browser;
  const people = [];

  // A context of its own: bypassCSP lets the test inject axe (the page's CSP forbids inline scripts).
  async function person({ viewport = { width: 1100, height: 720 } } = {}) {
    const context = await browser.newContext({ viewport, locale: 'en-US', bypassCSP: true });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
    });
    await page.goto(server.url);
    const p = { context, page, problems, close: () => context.close() };
    people.push(p);
    return p;
  }

  before(async () => {
    ({ server, browser } = await startServerAndBrowser(startServer));
  });

  after(() => stopAll({ server, browser }, people));

  for (const viewport of [
    { width: 1100, height: 720 },
    { width: 390, height: 760 },
  ]) {
    test(`no violations at ${viewport.width} px, light and dark: join, chat, menu, picker, editing, owner panel`, async () => {
      const res = await postRoom(server.url);
      assert.equal(res.status, 201);
      const { room, owner_key: ownerKey } = await res.json();
      assert.match(ownerKey, /^[0-9a-f]{64}$/);

      const alice = await person({ viewport });
      const bob = await person({ viewport });
      for (const scheme of ['light', 'dark']) {
        await useScheme(alice.page, scheme);
        await assertNoViolations(alice.page, `join screen (${scheme})`);
      }
      // The owner key field, opened.
      await alice.page.locator('#owner-key-box summary').click();
      await alice.page.locator('#join-owner-key').fill(ownerKey);
      await assertNoViolations(alice.page, 'join screen with the owner key field');
      await joinRoom(alice, 'Alice', room);
      await joinRoom(bob, 'Bob', room);

      await send(alice.page, 'Hello, this is a message with a reaction and a reply.');
      await waitForMessage(bob.page, 'Hello, this is a message with a reaction and a reply.');
      const first = bob.page.locator('#messages .msg', {
        has: bob.page.locator('.bubble', { hasText: 'Hello, this is' }),
      });
      await first.hover();
      await first.locator('.more-button').click();
      await bob.page.locator('#message-menu [data-emoji="👍"]').click();
      await first.hover();
      await first.locator('.more-button').click();
      await bob.page.locator('#message-menu [data-action="reply"]').click();
      await send(bob.page, 'A reply');
      await waitForMessage(alice.page, 'A reply');
      await eventually(async () =>
        assert.equal(await alice.page.locator('#messages .msg .reaction').count(), 1, 'reaction shown'),
      );
      await send(bob.page, 'To be edited');
      await waitForMessage(bob.page, 'To be edited');
      const edited = bob.page.locator('#messages .msg', {
        has: bob.page.locator('.bubble', { hasText: 'To be edited' }),
      });
      await edited.hover();
      await edited.locator('.more-button').click();
      await bob.page.locator('#message-menu [data-action="edit"]').click();
      await bob.page.locator('#messages .editor textarea').fill('Edited once');
      await bob.page.locator('#messages .editor textarea').press('Enter');
      await eventually(async () => assert.equal(await alice.page.locator('#messages .msg .edited').count(), 1));
      await send(alice.page, 'To be deleted');
      await waitForMessage(alice.page, 'To be deleted');
      const gone = alice.page.locator('#messages .msg', {
        has: alice.page.locator('.bubble', { hasText: 'To be deleted' }),
      });
      await gone.hover();
      await gone.locator('.more-button').click();
      await alice.page.locator('#message-menu [data-action="delete"]').click();
      await alice.page.locator('dialog.confirm-dialog .btn-danger').click();
      await eventually(async () => assert.equal(await alice.page.locator('#messages .tombstone').count(), 1));

      for (const scheme of ['light', 'dark']) {
        await useScheme(alice.page, scheme);
        await useScheme(bob.page, scheme);
        await assertNoViolations(alice.page, `chat screen (${scheme})`);
        // The message menu, open.
        const msg = bob.page.locator('#messages .msg', {
          has: bob.page.locator('.bubble', { hasText: 'Hello, this is' }),
        });
        await msg.hover();
        await msg.locator('.more-button').click();
        await bob.page.locator('#message-menu').waitFor({ state: 'visible' });
        assert.equal(await bob.page.evaluate(() => document.activeElement.dataset.emoji), '👍', 'the picker has focus');
        await assertNoViolations(bob.page, `message menu and its emoji picker (${scheme})`);
        await bob.page.keyboard.press('Escape');
        // Inline editing of Bob's own message.
        const own = bob.page.locator('#messages .msg', {
          has: bob.page.locator('.bubble', { hasText: 'Edited once' }),
        });
        await own.hover();
        await own.locator('.more-button').click();
        await bob.page.locator('#message-menu [data-action="edit"]').click();
        await bob.page.locator('#messages .editor textarea').waitFor();
        await assertNoViolations(bob.page, `inline editing (${scheme})`);
        await bob.page.locator('#messages .editor textarea').press('Escape');
        // The owner panel (in the member panel, a toggle on phones).
        if (viewport.width < 760) {
          await alice.page.locator('#members-toggle').click();
        }
        await alice.page.locator('#owner-panel').waitFor({ state: 'visible' });
        await assertNoViolations(alice.page, `owner panel (${scheme})`);
        if (viewport.width < 760) await alice.page.locator('#members-toggle').click();
        // The reply preview above the composer.
        await msg.hover();
        await msg.locator('.more-button').click();
        await bob.page.locator('#message-menu [data-action="reply"]').click();
        await assertNoViolations(bob.page, `reply preview (${scheme})`);
        await bob.page.locator('#reply-cancel').click();
      }
      assert.deepEqual(alice.problems, []);
      assert.deepEqual(bob.problems, []);
    });
  }
});
