// The search box in the room header (`/` focuses it) and its results panel: snippets with the
// matched words highlighted (text nodes and <mark>, never HTML), paging, empty and error states.
// Choosing a result asks the chat screen to show that message (`onJump`). Decisions in search.js.

import { MAX_QUERY_CHARS, runSearch, snippetParts } from './search.js';
import { h } from './ui.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Whether a key press belongs to something being typed in (then `/` is just a slash). */
function typing(target) {
  return !!target?.closest?.('input, textarea, select, [contenteditable=""], [contenteditable="true"]');
}

export class SearchPanel {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {() => string} o.room              the room searched
   * @param {() => boolean} o.active           whether the chat screen is showing
   * @param {(id: number) => Promise<boolean>} o.onJump  show message `id`; false if it cannot be
   */
  constructor({
    els,
    room,
    active,
    onJump,
    surface = null,
    origin = location.origin,
    fetchImpl = (...a) => fetch(...a),
  }) {
    this.els = els;
    this.room = room;
    this.onJump = onJump;
    this.origin = origin;
    this.fetchImpl = fetchImpl;
    this.query = '';
    this.cursor = null;
    this.seq = 0;
    this.count = 0;
    els.searchForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search(els.searchInput.value);
    });
    els.searchInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !els.searchPanel.hidden) {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
      }
    });
    els.searchPanel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
        els.searchInput.focus();
      }
    });
    els.searchClose.addEventListener('click', () => {
      this.close();
      els.searchInput.focus();
    });
    els.searchMore.addEventListener('click', () => this.more());
    els.searchResults.addEventListener('click', async (ev) => {
      const hit = ev.target.closest('.search-hit');
      if (!hit) return;
      const shown = await this.onJump(Number(hit.dataset.id));
      if (!shown) this.say('That message is too far back to show here.');
    });
    // `/` pressed inside the UI (in a widget, not on the host's page, where `/` is the host's).
    const keys = (fn) =>
      surface ? surface.listen(surface.root, 'keydown', fn) : document.addEventListener('keydown', fn);
    keys((ev) => {
      const target = ev.composedPath?.()[0] ?? ev.target;
      if (ev.key !== '/' || ev.ctrlKey || ev.metaKey || ev.altKey || !active() || typing(target)) return;
      ev.preventDefault();
      els.searchInput.focus();
      els.searchInput.select();
    });
  }

  /** A new search for `q` (trimmed); empty input closes the panel. */
  async search(q) {
    const query = q.trim();
    if (!query) {
      this.close();
      return;
    }
    if (Array.from(query).length > MAX_QUERY_CHARS) {
      this.open();
      this.say(`Searches are at most ${MAX_QUERY_CHARS} characters.`);
      return;
    }
    this.query = query;
    this.cursor = null;
    this.count = 0;
    this.els.searchResults.replaceChildren();
    this.open();
    await this.load();
  }

  async more() {
    if (this.cursor) await this.load();
  }

  async load() {
    const { els } = this;
    const seq = ++this.seq;
    els.searchMore.hidden = true;
    this.say('Searching…');
    const found = await runSearch(this.origin, this.room(), this.query, { cursor: this.cursor }, this.fetchImpl);
    if (seq !== this.seq) return; // a newer search replaced this one
    if (found.error) {
      this.say(found.error);
      return;
    }
    for (const m of found.messages) els.searchResults.append(this.hitElement(m));
    this.count += found.messages.length;
    this.cursor = found.cursor;
    els.searchMore.hidden = !this.cursor;
    if (this.count === 0) this.say(`No messages match “${this.query}”.`);
    else
      this.say(`${this.count}${this.cursor ? '+' : ''} message${this.count === 1 ? '' : 's'} match “${this.query}”.`);
  }

  hitElement(m) {
    const li = h('li');
    const b = h('button', 'search-hit');
    b.type = 'button';
    b.dataset.id = String(m.id);
    const meta = h('span', 'search-meta');
    meta.append(h('strong', null, String(m.name ?? '')), document.createTextNode(' · '));
    meta.append(h('time', null, Number.isFinite(m.at) ? timeFormat.format(new Date(m.at)) : ''));
    const snippet = h('span', 'search-snippet');
    for (const part of snippetParts(m.snippet, m.marks)) {
      snippet.append(part.mark ? h('mark', null, part.text) : document.createTextNode(part.text));
    }
    b.append(meta, snippet);
    li.append(b);
    return li;
  }

  say(text) {
    this.els.searchStatus.textContent = text;
  }

  open() {
    this.els.searchPanel.hidden = false;
  }

  close() {
    this.seq += 1;
    this.els.searchPanel.hidden = true;
  }

  /** Another room (or none): forget the last search. */
  reset() {
    this.close();
    this.query = '';
    this.cursor = null;
    this.els.searchInput.value = '';
    this.els.searchResults.replaceChildren();
    this.say('');
  }
}
