// Issue 20 in the browser, at 1280 and 390 px: a kick that leaves the owner and another guest at
// the same address in (every browser here is 127.0.0.1), explained to the removed person with a
// countdown and a disabled Join, behind a confirmation; owners marked; the room's name in the
// header and the tab; links that are safe; long names not cut to a letter. axe-core checks each
// new state in light and dark; screenshots go to SCREENSHOT_DIR (default target/e2e-shots).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  axeViolations,
  eventually,
  joinRoom,
  postRoom,
  send,
  shownDialog,
  startServerAndBrowser,
  stopAll,
  TIMEOUT,
  useScheme,
  waitForMembers,
  waitForMessage,
  waitForText,
} from './helpers.mjs';
import { REPO_ROOT, startServer } from './server.mjs';

const SHOTS = process.env.SCREENSHOT_DIR || join(REPO_ROOT, 'target', 'e2e-shots');
mkdirSync(SHOTS, { recursive: true });

async function privateRoom(url) {
  const res = await postRoom(url);
  assert.equal(res.status, 201);
  return res.json();
}

async function axeBoth(page, label, shot) {
  for (const scheme of ['light', 'dark']) {
    await useScheme(page, scheme);
    assert.deepEqual(await axeViolations(page), [], `${label} (${scheme})`);
    if (shot) await page.screenshot({ path: join(SHOTS, `${shot}-${scheme}.png`) });
  }
  await useScheme(page, 'light');
}

/** On a phone the member list and the settings are behind the People button. */
async function openPeople(page, phone) {
  if (!phone) return;
  if ((await page.locator('#members-toggle').getAttribute('aria-expanded')) !== 'true') {
    await page.locator('#members-toggle').click();
  }
}

describe('issue 20: the room as people know it', { timeout: 300_000 }, () => {
  let server;
  let browser;
  const people = [];

  async function person({ viewport, path = '/' }) {
    const context = await browser.newContext({ viewport, locale: 'en-US', bypassCSP: true });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) problems.push(msg.text());
    });
    await page.goto(server.url + path);
    const p = { context, page, problems, close: () => context.close() };
    people.push(p);
    return p;
  }

  before(async () => {
    // 50 messages in a few seconds: no rate limit in the way.
    const vars = { RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' };
    ({ server, browser } = await startServerAndBrowser(() => startServer({ vars })));
  });
  after(() => stopAll({ server, browser }, people));

  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    const phone = viewport.width < 500;
    const tag = `${viewport.width}`;

    test(`${tag} px: a kick leaves the owner and a bystander at the same address in, and is explained`, async () => {
      const { room, owner_key: key } = await privateRoom(server.url);
      const olga = await person({ viewport });
      await olga.page.locator('#owner-key-box summary').click();
      await olga.page.locator('#join-owner-key').fill(key);
      await joinRoom(olga, 'Olga', room);
      const long = 'Bartholomew Featherstone';
      const yvonne = await person({ viewport, path: `/#${room}` });
      await joinRoom(yvonne, long);
      const xavier = await person({ viewport, path: `/#${room}` });
      await joinRoom(xavier, 'Xavier');

      // The room's name: in the header and the tab for everyone, instead of the id. On a phone the
      // owner's settings have their own header button.
      const headerHeight = () => xavier.page.locator('.chat-header').evaluate((h) => h.getBoundingClientRect().height);
      const heightBefore = await headerHeight();
      if (phone) {
        await olga.page.locator('#settings-toggle').click();
        await olga.page.locator('#title-input').waitFor({ state: 'visible' });
        assert.ok(await olga.page.locator('#members-list').isHidden(), 'only the settings');
        await olga.page.screenshot({ path: join(SHOTS, `settings-${tag}.png`) });
        await axeBoth(olga.page, 'the settings on a phone', null);
      } else {
        assert.ok(await olga.page.locator('#settings-toggle').isHidden(), 'beside the list on a desktop');
      }
      const topic = `${'A very long topic that goes on and on about the quarter, '.repeat(3)}the end.`;
      await olga.page.locator('#topic-input').fill(topic);
      await olga.page.locator('#topic-save').click();
      await olga.page.locator('#title-input').fill('Q3 planning');
      await olga.page.locator('#title-save').click();
      await waitForText(xavier.page.locator('#room-topic'), 'the end.');
      assert.equal(await headerHeight(), heightBefore, 'the header keeps its height with a long topic');
      await xavier.page.locator('#room-topic').click();
      await waitForText(xavier.page.locator('dialog .topic-full'), topic);
      await axeBoth(xavier.page, 'the topic in full', `topic-${tag}`);
      assert.deepEqual(await shownDialog(xavier.page), { name: 'Topic', focused: 'btn btn-secondary' });
      await xavier.page.locator('dialog .btn').click();
      // Closed: it is gone, and the focus is back on the topic.
      await xavier.page.locator('dialog').waitFor({ state: 'detached' });
      assert.equal(await xavier.page.evaluate(() => document.activeElement?.id), 'room-topic');
      for (const p of [olga, yvonne, xavier]) {
        await waitForText(p.page.locator('#room-title'), 'Q3 planning');
        await eventually(async () => assert.match(await p.page.title(), /Q3 planning/));
      }

      // Owners are marked: in the member list and beside their messages.
      await send(olga.page, 'Agenda: https://example.com/q3?x=1 and javascript:alert(1)');
      await waitForMessage(xavier.page, 'Agenda: https://example.com/q3?x=1 and javascript:alert(1)');
      await openPeople(xavier.page, phone);
      await waitForMembers(xavier.page, ['Olga', long, 'Xavier']);
      assert.equal(
        await xavier.page.locator('#members-list .member', { hasText: 'Olga' }).locator('.owner-badge').count(),
        1,
      );
      assert.equal(await xavier.page.locator('#messages .msg .owner-badge').first().textContent(), 'Owner');

      // Links: the http(s) URL is a safe link, the javascript: text stays text.
      const links = await xavier.page
        .locator('#messages .bubble a')
        .evaluateAll((as) =>
          as.map((a) => ({ href: a.getAttribute('href'), rel: a.rel, target: a.target, text: a.textContent })),
        );
      assert.deepEqual(links, [
        {
          href: 'https://example.com/q3?x=1',
          rel: 'noopener noreferrer nofollow',
          target: '_blank',
          text: 'https://example.com/q3?x=1',
        },
      ]);

      // Hostile strings: each stays text, or its http(s) part is the only link; no markup is parsed.
      const hostile = [
        '<a href="javascript:alert(1)">click</a>',
        '<img src=x onerror=alert(1)>',
        'JAVASCRIPT:alert(1) data:text/html,<script>alert(1)</script>',
        'https://ok.example/"onmouseover="alert(1) and //evil.example',
        `https://long.example/${'x'.repeat(300)}`,
      ];
      for (const text of hostile) await send(olga.page, text);
      await waitForMessage(xavier.page, hostile.at(-1));
      const found = await xavier.page.locator('#messages .bubble').evaluateAll((bubbles) => ({
        hrefs: bubbles.flatMap((b) => [...b.querySelectorAll('a')].map((a) => a.getAttribute('href'))),
        markup: bubbles.flatMap((b) => [...b.querySelectorAll('*')].map((e) => e.tagName)).filter((t) => t !== 'A'),
        wide: bubbles.filter((b) => b.scrollWidth > b.clientWidth + 1).length,
      }));
      assert.deepEqual(found.markup, [], 'no element but links inside a bubble');
      assert.ok(
        found.hrefs.every((h) => /^https?:\/\//.test(h)),
        `only http(s) links: ${found.hrefs}`,
      );
      assert.deepEqual(found.hrefs.slice(1), ['https://ok.example/', `https://long.example/${'x'.repeat(300)}`]);
      assert.equal(found.wide, 0, 'a long URL wraps inside its bubble');
      await xavier.page.screenshot({ path: join(SHOTS, `links-${tag}.png`) });

      // A long name is not cut to a letter in the owner's list (measured: the whole name shows).
      await openPeople(olga.page, phone);
      const name = olga.page.locator('#members-list .member-name', { hasText: 'Bartholomew' });
      const widths = await name.evaluate((el) => ({ client: el.clientWidth, scroll: el.scrollWidth }));
      assert.ok(widths.client >= widths.scroll, `the name fits its box: ${JSON.stringify(widths)}`);
      assert.ok(widths.client > 60, `more than a letter wide: ${widths.client}`);
      await olga.page.screenshot({ path: join(SHOTS, `members-owner-${tag}.png`) });

      // The owner removes Xavier from the member's menu, behind a confirmation.
      const row = olga.page.locator('#members-list .member', { hasText: 'Xavier' });
      await row.locator('.member-more').click();
      await olga.page.locator('#members-list .member-menu-item', { hasText: 'Remove Xavier' }).click();
      const dialog = olga.page.locator('dialog.confirm-dialog');
      await waitForText(dialog, 'Remove Xavier from Q3 planning for 10 minutes?');
      await axeBoth(olga.page, 'the confirmation', `confirm-${tag}`);
      await dialog.locator('.btn-danger').click();

      // Xavier: who, which room, a countdown, and Join disabled.
      await xavier.page.locator('#join-screen').waitFor({ state: 'visible' });
      await waitForText(xavier.page.locator('#kicked-box'), 'Olga removed you from Q3 planning.');
      const before = await xavier.page.locator('.kicked-wait').textContent();
      assert.match(before, /You can join again in (10:00|9:5\d)\./);
      assert.ok(await xavier.page.locator('#join-button').isDisabled());
      await xavier.page.waitForTimeout(2100);
      assert.notEqual(await xavier.page.locator('.kicked-wait').textContent(), before, 'the countdown is live');
      await axeBoth(xavier.page, 'the kicked screen', `kicked-${tag}`);
      // The ban is this room's: another room may be joined at once.
      await xavier.page.locator('#join-room').fill('lobby');
      assert.ok(await xavier.page.locator('#join-button').isEnabled(), 'another room: Join works');
      assert.ok(await xavier.page.locator('#kicked-box').isHidden());

      // One line for the kick, and the others stay: the bystander at the same address talks.
      for (const p of [olga, yvonne]) {
        await waitForText(p.page.locator('#messages .system').last(), 'Olga removed Xavier from the room');
        assert.equal(await p.page.locator('#messages .system', { hasText: 'Xavier left' }).count(), 0);
      }
      await send(yvonne.page, 'still here');
      await waitForMessage(olga.page, 'still here');

      // The owner reloads (same address as the kicked guest): back in the room.
      await olga.page.reload();
      await olga.page.locator('#chat-screen').waitFor({ state: 'visible' });
      await waitForText(olga.page.locator('#room-title'), 'Q3 planning');

      // A new guest at the address is kept out, with the time the server gave.
      const newcomer = await person({ viewport, path: `/#${room}` });
      await newcomer.page.locator('#join-name').fill('Not Xavier');
      await newcomer.page.locator('#join-button').click();
      await waitForText(newcomer.page.locator('#kicked-box'), 'You were removed from');
      assert.ok(await newcomer.page.locator('#join-button').isDisabled());

      // A locked room: the header label at AA contrast, light and dark.
      await openPeople(olga.page, phone);
      await olga.page.locator('#lock-button').click();
      await yvonne.page.locator('#room-locked').waitFor({ state: 'visible' });
      await axeBoth(yvonne.page, 'a locked room', `locked-${tag}`);
      for (const p of [olga, yvonne, xavier]) assert.deepEqual(p.problems, []);
    });

    test(`${tag} px: the toolbar beside the bubble, the highlighted row, the editor's height, one Tab stop`, async () => {
      const room = `ui-${tag}-${Date.now().toString(36)}`;
      const ann = await person({ viewport });
      await joinRoom(ann, 'Ann', room);
      const ben = await person({ viewport });
      await joinRoom(ben, 'Ben', room);
      const long =
        'A long message that wraps over several lines in the editor, so the box must grow with it: ' +
        'it is not one line showing only its tail, and the person sees what they are editing.';
      await send(ann.page, 'short');
      await send(ann.page, long);
      await waitForMessage(ben.page, long);
      const msg = (page, text) => page.locator('#messages .msg', { has: page.locator('.bubble', { hasText: text }) });

      // The toolbar sits beside the bubble (measured), and its quick reaction reacts in one click.
      const theirs = msg(ben.page, 'short');
      await theirs.hover();
      const gap = await theirs.evaluate((li) => {
        const b = li.querySelector('.bubble').getBoundingClientRect();
        const t = li.querySelector('.msg-toolbar').getBoundingClientRect();
        return t.left - b.right;
      });
      if (!phone) assert.ok(gap >= 0 && gap <= 16, `toolbar ${gap} px from the bubble`);
      // On a phone it takes no width from the bubble: a long message uses the row's width.
      const share = await msg(ben.page, 'A long message').evaluate((li) => {
        const body = li.querySelector('.msg-body').getBoundingClientRect().width;
        return li.querySelector('.bubble').getBoundingClientRect().width / body;
      });
      if (phone) assert.ok(share > 0.85, `the bubble uses ${Math.round(share * 100)}% of the row`);
      if (!phone) {
        await theirs.locator('[data-tool="react"]').click();
        await eventually(async () => assert.equal(await msg(ann.page, 'short').locator('.reaction').count(), 1));
        await theirs.hover();
        await theirs.locator('[data-tool="reply"]').click();
        await ben.page.locator('#reply-preview').waitFor({ state: 'visible' });
        await ben.page.locator('#reply-cancel').click();
      }

      // The open menu's row is highlighted.
      await theirs.hover();
      await theirs.locator('.more-button').click();
      await ben.page.locator('#message-menu').waitFor({ state: 'visible' });
      assert.ok(await theirs.evaluate((li) => li.classList.contains('menu-open')));
      const bg = await theirs.evaluate((li) => getComputedStyle(li).backgroundColor);
      assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'the row has a background');
      await ben.page.screenshot({ path: join(SHOTS, `menu-row-${tag}.png`) });
      await ben.page.keyboard.press('Escape');

      // The editor is as tall as its wrapped text (not one line).
      const mine = msg(ann.page, 'A long message');
      await mine.hover();
      await mine.locator('.more-button').click();
      await ann.page.locator('#message-menu [data-action="edit"]').click();
      const box = ann.page.locator('.editor textarea');
      const fit = await box.evaluate((t) => ({
        client: t.clientHeight,
        scroll: t.scrollHeight,
        line: parseFloat(getComputedStyle(t).lineHeight) || 20,
      }));
      assert.ok(fit.client >= fit.scroll - 2, `the text fits: ${JSON.stringify(fit)}`);
      assert.ok(fit.client > fit.line * 1.8, `more than one line: ${JSON.stringify(fit)}`);
      await ann.page.screenshot({ path: join(SHOTS, `editor-${tag}.png`) });
      await box.press('Escape');

      // 50 messages: Tab goes from the list to the composer in a few stops, not one per message.
      for (let i = 0; i < 48; i++) await send(ann.page, `filler ${i}`);
      await waitForMessage(ben.page, 'filler 47');
      await ben.page.locator('#scroller').focus();
      let stops = 0;
      for (; stops < 30; stops++) {
        await ben.page.keyboard.press('Tab');
        if (await ben.page.evaluate(() => document.activeElement?.id === 'message-input')) break;
      }
      assert.ok(stops < 5, `${stops + 1} Tab stops from the list to the composer`);
      // Arrow keys move between messages; the focused message's toolbar is then reachable by Tab.
      await ben.page.locator('#scroller').focus();
      await ben.page.keyboard.press('End');
      assert.equal(
        await ben.page.evaluate(() => document.activeElement?.querySelector('.bubble')?.textContent),
        'filler 47',
        'End in the list goes to the newest message',
      );
      await ben.page.keyboard.press('ArrowUp');
      const focusedText = await ben.page.evaluate(() => document.activeElement?.querySelector('.bubble')?.textContent);
      assert.equal(focusedText, 'filler 46');
      await ben.page.keyboard.press('Tab');
      assert.equal(await ben.page.evaluate(() => document.activeElement?.dataset.tool), 'reply');
      await axeBoth(ben.page, 'the toolbar of a focused message', `toolbar-${tag}`);
      // The full picker: a search that reacts, keyboard only.
      const target = msg(ben.page, 'filler 47');
      await target.hover();
      await target.locator('.more-button').click();
      await ben.page.locator('#message-menu [data-action="picker"]').click();
      const picker = ben.page.locator('dialog.emoji-picker');
      await picker.locator('button.emoji').first().waitFor();
      await picker.locator('.emoji-search').fill('party popper');
      await waitForText(picker.locator('.emoji-status'), 'emoji found');
      await axeBoth(ben.page, 'the emoji picker', `picker-${tag}`);
      assert.deepEqual(await shownDialog(ben.page), { name: 'Add a reaction', focused: 'emoji-search' });
      await picker.locator('.emoji-search').press('ArrowDown');
      await ben.page.keyboard.press('Enter');
      await eventually(async () =>
        assert.equal(await msg(ann.page, 'filler 47').locator('.reaction').first().getAttribute('data-emoji'), '🎉'),
      );
      // The picker remembers: 🎉 is first among the recent emoji next time.
      await target.hover();
      await target.locator('.more-button').click();
      await ben.page.locator('#message-menu [data-action="picker"]').click();
      await picker.locator('.emoji-row').first().waitFor();
      assert.equal(await picker.locator('.emoji-group').first().textContent(), 'Recent');
      assert.equal(await picker.locator('button.emoji').first().getAttribute('data-emoji'), '🎉');
      await ben.page.keyboard.press('Escape');
      await picker.waitFor({ state: 'detached' });

      // Delete is confirmed in a dialog; on a phone the menu is a sheet over a dimmed room, with a
      // title and Cancel, and the message stays in view above it.
      const doomed = msg(ann.page, 'filler 20');
      await doomed.scrollIntoViewIfNeeded();
      await doomed.hover();
      await doomed.locator('.more-button').click();
      if (phone) {
        await ann.page.locator('#message-menu .menu-title').waitFor({ state: 'visible' });
        await ann.page.locator('#message-menu .menu-cancel').waitFor({ state: 'visible' });
        const seen = await doomed.evaluate((li) => {
          const r = li.querySelector('.bubble').getBoundingClientRect();
          const sheet = document.getElementById('message-menu').getBoundingClientRect();
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return { above: r.bottom <= sheet.top, hit: li.contains(hit) };
        });
        assert.deepEqual(seen, { above: true, hit: true }, 'the message is visible above the sheet, not under the dim');
        await ann.page.screenshot({ path: join(SHOTS, `sheet-${tag}.png`) });
        await axeBoth(ann.page, 'the phone sheet', null);
      }
      await ann.page.locator('#message-menu [data-action="delete"]').click();
      const ask = ann.page.locator('dialog.confirm-dialog');
      await waitForText(ask, 'Delete this message?');
      // Cancel, the safe answer, has the focus.
      assert.deepEqual(await shownDialog(ann.page), { name: 'Delete this message?', focused: 'btn btn-secondary' });
      await ann.page.screenshot({ path: join(SHOTS, `delete-dialog-${tag}.png`) });
      await ask.locator('.btn-danger').click();
      await eventually(async () => assert.equal(await ben.page.locator('#messages .tombstone').count(), 1));

      // Ann's tab goes: she is away (the presence grace) and her row says so at AA contrast.
      await ann.close();
      await openPeople(ben.page, phone);
      await ben.page.locator('#members-list .member.away').waitFor();
      await axeBoth(ben.page, 'an away member', `away-${tag}`);

      for (const p of [ann, ben]) assert.deepEqual(p.problems, []);
    });
  }
});
