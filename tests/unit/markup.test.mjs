// The chat UI's markup is in one place (public/js/markup.js), drawn by our page and by
// <chatterly-room>: every element mount.js looks up is in it, ids are unique, the page's
// index.html holds none of it (so nothing can drift), and embedded it claims no page landmarks.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { uiMarkup } from '../../public/js/markup.js';
import { memoryStore, Saved } from '../../public/js/saved.js';
import { Surface } from '../../public/js/surface.js';

const read = (p) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const ids = (html) => [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);

test('every element the UI looks up is in the markup, once, on the page and in a widget', () => {
  const wanted = [...read('public/js/mount.js').matchAll(/\$\('([\w-]+)'\)/g)].map((m) => m[1]);
  assert.ok(wanted.length > 60, `mount.js looks up ${wanted.length} elements`);
  for (const embedded of [false, true]) {
    const html = uiMarkup({ assets: embedded ? 'https://chat.example' : '', embedded });
    const found = ids(html);
    assert.equal(new Set(found).size, found.length, 'ids are unique');
    for (const id of wanted) assert.ok(found.includes(id), `#${id} (embedded: ${embedded})`);
    // Every reference to an id (label for, aria-*) points inside the markup.
    for (const [, ref] of html.matchAll(/\s(?:for|aria-controls|aria-labelledby|aria-describedby)="([^"]+)"/g)) {
      for (const id of ref.split(/\s+/)) assert.ok(found.includes(id), `reference to #${id}`);
    }
  }
});

test('the markup lives only in markup.js: index.html has the box and nothing of the UI', () => {
  const index = read('public/index.html');
  assert.match(index, /<div id="app" class="app"><\/div>/);
  assert.deepEqual(
    ids(index).filter((id) => id !== 'app'),
    [],
  );
});

test('in a widget: sections instead of main/aside/header, our assets from the server', () => {
  const page = uiMarkup();
  const widget = uiMarkup({ assets: 'https://chat.example', embedded: true });
  assert.match(page, /<main id="join-screen"/);
  assert.match(page, /<aside id="members-panel"/);
  assert.match(page, /src="\/favicon.svg"/);
  assert.doesNotMatch(widget, /<(main|aside|header)\b/);
  assert.match(widget, /src="https:\/\/chat.example\/favicon.svg"/);
});

test("a widget's memory store keeps the name and session for the page's life, not in the host's storage", () => {
  const saved = new Saved({ local: memoryStore(), session: memoryStore() });
  assert.equal(saved.name, '');
  saved.name = 'Ada';
  assert.equal(saved.name, 'Ada');
  const s = saved.sessionSecret();
  assert.equal(saved.sessionSecret(), s, 'one session secret per widget');
  const store = memoryStore();
  store.setItem('k', 1);
  assert.equal(store.getItem('k'), '1');
  store.removeItem('k');
  assert.equal(store.getItem('k'), null);
});

test('Surface: a shadow root is embedded, listeners end with destroy, an event is found where it started', () => {
  const doc = { body: { id: 'body' }, activeElement: 'host', createElement: (t) => ({ t }) };
  const shadow = { ownerDocument: doc, activeElement: null, getElementById: (id) => ({ id }) };
  const app = {
    getBoundingClientRect: () => ({ top: 10, left: 20, right: 340, bottom: 510, width: 320, height: 500 }),
  };
  const s = new Surface(shadow, app);
  assert.equal(s.embedded, true);
  assert.equal(s.layer.body, app, "dialogs go in the widget's box");
  assert.equal(s.layer.activeElement, null, "the shadow root's focus, not the host's");
  assert.equal(s.mayFocus(), false, 'a widget takes no focus from the host page');
  s.autofocus = true;
  assert.equal(s.mayFocus(), true);
  assert.equal(s.frame().width, 320);
  assert.deepEqual(s.byId('x'), { id: 'x' });

  const heard = [];
  const target = new EventTarget();
  s.listen(target, 'ping', () => heard.push(1));
  target.dispatchEvent(new Event('ping'));
  s.destroy();
  target.dispatchEvent(new Event('ping'));
  assert.deepEqual(heard, [1]);

  const page = new Surface(doc, doc.body);
  assert.equal(page.embedded, false);
  assert.equal(page.layer.body, doc.body);
  assert.equal(page.mayFocus(), true);
  assert.equal(Surface.origin({ composedPath: () => ['inner'], target: 'host' }), 'inner');
});
