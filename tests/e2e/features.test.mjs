// End-to-end, issue 12: replies, reactions, edits and deletes between two people; the owner's
// topic, lock and kick; a member who was away sees every change on return. The client in public/
// against the real Worker under `wrangler dev`, in Chromium.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertClean,
  eventually,
  joinRoom,
  messageTexts,
  openPerson,
  postRoom,
  send,
  startServerAndBrowser,
  stopAll,
  uniqueRoom,
  waitForMembers,
  waitForMessage,
  waitForText,
} from './helpers.mjs';
import { startServer } from './server.mjs';

/** The list item of the stored message whose bubble holds `text`. */
function message(page, text) {
  return page.locator('#messages .msg', { has: page.locator('.bubble', { hasText: text }) });
}

/** The element is on the screen where a person can see it (not text kept for screen readers). */
async function assertSeen(locator, what) {
  await locator.scrollIntoViewIfNeeded();
  const seen = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return r.width > 8 && r.height > 8 && el.contains(hit);
  });
  assert.ok(seen, `${what} is not visible`);
}

/** Open a message's menu with the pointer (hover shows the button). */
async function openMenu(page, text) {
  const li = message(page, text);
  await li.hover();
  await li.locator('.more-button').click();
  await page.locator('#message-menu').waitFor({ state: 'visible' });
  return page.locator('#message-menu');
}

async function menuActions(page) {
  return page
    .locator('#message-menu [data-action]:not([data-action="react"]):not([data-action="picker"])')
    .allTextContents();
}

/** A private room made through the API: its id and owner key. */
async function privateRoom(url) {
  const res = await postRoom(url);
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.match(body.room, /^[0-9a-f]{64}$/);
  assert.match(body.owner_key, /^[0-9a-f]{64}$/);
  return body;
}

/** Join as the owner: the key in the join form's owner key field. */
async function joinAsOwner(person, name, room, key) {
  await person.page.locator('#owner-key-box summary').click();
  await person.page.locator('#join-owner-key').fill(key);
  await joinRoom(person, name, room);
  await person.page.locator('#owner-panel').waitFor({ state: 'visible' });
}

describe('issue 12 in the browser', { timeout: 240_000 }, () => {
  let server;
  let browser;
  const people = [];

  async function person(opts = {}) {
    const p = await openPerson(browser, server.url, opts);
    people.push(p);
    return p;
  }

  // A short presence grace: a member who closes the tab is gone within a second or so (the
  // restart test covers the grace itself).
  before(async () => {
    ({ server, browser } = await startServerAndBrowser(() => startServer({ vars: { PRESENCE_GRACE_MS: '1000' } })));
  });

  after(() => stopAll({ server, browser }, people));

  test('two people reply, react, edit and delete', async () => {
    const room = uniqueRoom('features');
    const alice = await person();
    await joinRoom(alice, 'Alice', room);
    // Bob is on a phone, in dark mode: the menu is a sheet at the bottom.
    const bob = await person({ viewport: { width: 390, height: 760 }, colorScheme: 'dark' });
    await joinRoom(bob, 'Bob', room);
    await waitForMembers(alice.page, ['Alice', 'Bob']);

    await send(alice.page, 'Lunch at noon?');
    await waitForMessage(bob.page, 'Lunch at noon?');

    // Bob answers that message: the preview shows it, the reply quotes it for both.
    let menu = await openMenu(bob.page, 'Lunch at noon?');
    assert.deepEqual(await menuActions(bob.page), ['Reply'], "no edit or delete on someone else's message");
    await menu.locator('[data-action="reply"]').click();
    await waitForText(bob.page.locator('#reply-preview'), 'Lunch at noon?');
    assert.ok(await bob.page.locator('#message-input').evaluate((el) => el === document.activeElement));
    await send(bob.page, 'Yes, see you there');
    assert.ok(await bob.page.locator('#reply-preview').isHidden());
    for (const p of [alice, bob]) {
      await waitForMessage(p.page, 'Yes, see you there');
      const quote = message(p.page, 'Yes, see you there').locator('.reply-quote');
      await waitForText(quote, 'Alice');
      await waitForText(quote, 'Lunch at noon?');
    }

    // Reactions: from the menu's picker, then the bar toggles; everyone sees counts and names.
    menu = await openMenu(alice.page, 'Yes, see you there');
    await menu.locator('[data-emoji="👍"]').click();
    const bobsBar = message(bob.page, 'Yes, see you there').locator('.reaction');
    await waitForText(bobsBar, '👍 1');
    assert.match(await bobsBar.getAttribute('aria-label'), /Alice reacted/);
    assert.equal(await bobsBar.getAttribute('aria-pressed'), 'false');
    await bobsBar.click();
    await waitForText(message(alice.page, 'Yes, see you there').locator('.reaction'), '👍 2');
    await eventually(async () => assert.equal(await bobsBar.getAttribute('aria-pressed'), 'true'));
    assert.match(await bobsBar.getAttribute('title'), /Alice and you reacted with 👍/);
    await bobsBar.click();
    await waitForText(message(alice.page, 'Yes, see you there').locator('.reaction'), '👍 1');

    // Alice edits her message by keyboard: the More actions button, End, Up (Edit), Enter.
    const mine = message(alice.page, 'Lunch at noon?');
    const more = mine.locator('.more-button');
    await more.focus();
    await more.press('Enter');
    assert.equal(await more.getAttribute('aria-expanded'), 'true');
    assert.equal(await alice.page.evaluate(() => document.activeElement.dataset.emoji), '👍');
    await alice.page.keyboard.press('Escape');
    assert.ok(await alice.page.locator('#message-menu').isHidden());
    assert.equal(await more.getAttribute('aria-expanded'), 'false');
    assert.ok(await more.evaluate((el) => el === document.activeElement), 'Escape gives focus back');
    await more.press('Enter');
    await alice.page.keyboard.press('End');
    await alice.page.keyboard.press('ArrowUp');
    assert.equal(await alice.page.evaluate(() => document.activeElement.textContent), 'Edit');
    await alice.page.keyboard.press('Enter');
    const editor = alice.page.locator('#messages .editor textarea');
    await editor.waitFor();
    await editor.fill('Lunch at 12:30?');
    await editor.press('Enter');
    for (const p of [alice, bob]) {
      await waitForMessage(p.page, 'Lunch at 12:30?');
      await waitForText(message(p.page, 'Lunch at 12:30?').locator('.edited'), 'edited');
      await assertSeen(message(p.page, 'Lunch at 12:30?').locator('.edited'), 'the edited marker');
    }
    // Escape cancels an edit.
    menu = await openMenu(alice.page, 'Lunch at 12:30?');
    await menu.locator('[data-action="edit"]').click();
    await editor.fill('never sent');
    await editor.press('Escape');
    assert.equal(await alice.page.locator('#messages .editor').count(), 0);
    await waitForMessage(alice.page, 'Lunch at 12:30?');

    // Alice deletes it (the menu asks once more): a tombstone for both, and the quote follows.
    menu = await openMenu(alice.page, 'Lunch at 12:30?');
    assert.deepEqual(await menuActions(alice.page), ['Reply', 'Edit', 'Delete…']);
    await menu.locator('[data-action="delete"]').click();
    await waitForText(alice.page.locator('dialog.confirm-dialog'), 'Delete this message?');
    await alice.page.locator('dialog.confirm-dialog .btn-danger').click();
    for (const p of [alice, bob]) {
      await eventually(async () => {
        assert.equal(await p.page.locator('#messages .msg .tombstone').count(), 1);
        assert.ok(!(await messageTexts(p.page)).includes('Lunch at 12:30?'));
      });
      await waitForText(p.page.locator('#messages .tombstone'), 'message deleted');
      await waitForText(message(p.page, 'Yes, see you there').locator('.reply-quote'), 'message deleted');
    }
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob');
  });

  test('the owner sets the topic, locks the room and removes a member who cannot come back', async () => {
    const { room, owner_key: key } = await privateRoom(server.url);
    const alice = await person();
    await joinAsOwner(alice, 'Alice', room, key);
    const bob = await person({ path: `/#${room}` });
    await joinRoom(bob, 'Bob');
    assert.ok(await bob.page.locator('#owner-panel').isHidden(), 'Bob is no owner');
    assert.equal(await bob.page.locator('#members-list .member-more').count(), 0);
    await waitForMembers(alice.page, ['Alice', 'Bob']);

    // The topic: in the header for everyone, and as a line.
    await alice.page.locator('#topic-input').fill('Planning the offsite');
    await alice.page.locator('#topic-save').click();
    for (const p of [alice, bob]) {
      await waitForText(p.page.locator('#room-topic'), 'Planning the offsite');
      await waitForText(p.page.locator('#messages .system').last(), 'Alice set the topic: Planning the offsite');
    }

    // The owner deletes Bob's message (any message).
    await send(bob.page, 'an unfortunate message');
    await waitForMessage(alice.page, 'an unfortunate message');
    const menu = await openMenu(alice.page, 'an unfortunate message');
    assert.deepEqual(await menuActions(alice.page), ['Reply', 'Delete…']);
    await menu.locator('[data-action="delete"]').click();
    await menu.page().locator('dialog.confirm-dialog .btn-danger').click();
    await eventually(async () => assert.equal(await bob.page.locator('#messages .tombstone').count(), 1));

    // Locked: a new person is refused, with words for it.
    await alice.page.locator('#lock-button').click();
    await eventually(async () =>
      assert.equal(await alice.page.locator('#lock-button').getAttribute('aria-pressed'), 'true'),
    );
    await waitForText(bob.page.locator('#messages .system').last(), 'Alice locked the room');
    assert.ok(await bob.page.locator('#room-locked').isVisible());
    const carol = await person({ path: `/#${room}` });
    await carol.page.locator('#join-name').fill('Carol');
    await carol.page.locator('#join-button').click();
    await waitForText(carol.page.locator('#join-error'), 'This room is locked');
    await alice.page.locator('#lock-button').click();
    await waitForText(bob.page.locator('#messages .system').last(), 'Alice unlocked the room');
    await joinRoom(carol, 'Carol');
    await waitForMembers(alice.page, ['Alice', 'Bob', 'Carol']);

    // Removed: Bob is back on the join screen with the notice, and cannot rejoin.
    await alice.page.locator('#members-list .member', { hasText: 'Bob' }).locator('.member-more').click();
    await alice.page.locator('#members-list .member-menu-item', { hasText: 'Remove Bob' }).click();
    await alice.page.locator('dialog.confirm-dialog .btn-danger').click();
    await bob.page.locator('#join-screen').waitFor({ state: 'visible' });
    await waitForText(bob.page.locator('#kicked-box'), 'Alice removed you from');
    await waitForMembers(alice.page, ['Alice', 'Carol']);
    await waitForMembers(carol.page, ['Alice', 'Carol']);
    await waitForText(
      carol.page.locator('#messages .system', { hasText: 'removed' }),
      'Alice removed Bob from the room',
    );
    await bob.page.waitForTimeout(1500);
    assert.ok(await bob.page.locator('#join-screen').isVisible(), 'no automatic reconnect');
    assert.ok(await bob.page.locator('#join-button').isDisabled(), 'Join waits for the ban to end');
    assertClean(alice, 'Alice');
    assertClean(carol, 'Carol');
  });

  test('a member who was offline sees every change on return', async () => {
    const { room, owner_key: key } = await privateRoom(server.url);
    const alice = await person();
    await joinAsOwner(alice, 'Alice', room, key);
    let bob = await person({ path: `/#${room}` });
    await joinRoom(bob, 'Bob');
    await waitForMembers(alice.page, ['Alice', 'Bob']);
    for (const text of ['keep me', 'edit me', 'delete me', 'react to me']) await send(alice.page, text);
    await waitForMessage(bob.page, 'react to me');

    // Bob closes his tab; what the tab kept (its session) is what a reopened tab gets back.
    const kept = await bob.page.evaluate(() => ({ ...sessionStorage }));
    assert.ok(kept['chatterly.session']);
    await bob.close();
    await waitForMembers(alice.page, ['Alice']);

    let menu = await openMenu(alice.page, 'edit me');
    await menu.locator('[data-action="edit"]').click();
    const editor = alice.page.locator('#messages .editor textarea');
    await editor.fill('edited while Bob was away');
    await editor.press('Enter');
    menu = await openMenu(alice.page, 'delete me');
    await menu.locator('[data-action="delete"]').click();
    await menu.page().locator('dialog.confirm-dialog .btn-danger').click();
    menu = await openMenu(alice.page, 'react to me');
    await menu.locator('[data-emoji="🎉"]').click();
    menu = await openMenu(alice.page, 'keep me');
    await menu.locator('[data-action="reply"]').click();
    await send(alice.page, 'a reply while Bob was away');
    await alice.page.locator('#topic-input').fill('Back to work');
    await alice.page.locator('#topic-save').click();
    await waitForText(alice.page.locator('#room-topic'), 'Back to work');
    await waitForText(message(alice.page, 'react to me').locator('.reaction'), '🎉 1');

    // The tab reopens with the same session and goes straight back in.
    bob = await person({ path: `/#${room}` });
    await bob.context.addInitScript((saved) => {
      if (!sessionStorage.getItem('chatterly.session')) {
        for (const [k, v] of Object.entries(saved)) sessionStorage.setItem(k, v);
      }
    }, kept);
    await bob.page.reload();
    await bob.page.locator('#chat-screen').waitFor({ state: 'visible' });
    await waitForText(bob.page.locator('#conn-text'), 'Connected');
    await waitForMessage(bob.page, 'edited while Bob was away');
    await waitForText(message(bob.page, 'edited while Bob was away').locator('.edited'), 'edited');
    // The second of a run from one person shows no name or time, but still says it was edited.
    assert.ok(
      await message(bob.page, 'edited while Bob was away').evaluate((li) => li.classList.contains('continued')),
    );
    await assertSeen(message(bob.page, 'edited while Bob was away').locator('.edited'), 'the edited marker');
    assert.ok(!(await messageTexts(bob.page)).includes('delete me'));
    assert.equal(await bob.page.locator('#messages .tombstone').count(), 1);
    await waitForText(message(bob.page, 'react to me').locator('.reaction'), '🎉 1');
    await waitForText(message(bob.page, 'a reply while Bob was away').locator('.reply-quote'), 'keep me');
    await waitForText(bob.page.locator('#room-topic'), 'Back to work');
    await waitForMembers(alice.page, ['Alice', 'Bob']);
    assertClean(alice, 'Alice');
    assertClean(bob, 'Bob (back)');
  });
});
