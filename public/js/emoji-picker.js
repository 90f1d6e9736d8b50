// The full emoji picker: loaded on first open (public/emoji/emoji-table.json, built from the
// emojibase-data package by scripts/emoji-table.mjs), searchable by name and tags, with the
// person's recent emoji first, and keyboard navigable (arrow keys across the grid, Home/End,
// Enter to choose, Escape to close). It offers only what the server accepts: the table holds
// only emoji that pass public/shared/emoji.js, and a choice is checked again before it is used.

import { isEmoji } from '../shared/emoji.js';
import { openDialog } from './dialog.js';

export const TABLE_URL = '/emoji/emoji-table.json';
export const RECENT_KEY = 'chatterly.recentEmoji';
export const RECENT_MAX = 16;

/** The emoji whose name or tags hold every word of `query` (case-insensitive), in table order. */
export function searchEmoji(table, query, limit = 200) {
  const words = String(query).toLowerCase().trim().split(/\s+/).filter(Boolean);
  const found = [];
  for (const g of table.groups) {
    for (const [emoji, name, tags] of g.emoji) {
      const hay = `${name} ${tags}`.toLowerCase();
      if (words.every((w) => hay.includes(w))) found.push([emoji, name]);
      if (found.length >= limit) return found;
    }
  }
  return found;
}

/** The recent list after choosing `emoji`: it moves to the front, at most `max`, only emoji. */
export function pushRecent(list, emoji, max = RECENT_MAX) {
  const clean = (Array.isArray(list) ? list : []).filter((e) => isEmoji(e) && e !== emoji);
  return [...new Set(isEmoji(emoji) ? [emoji, ...clean] : clean)].slice(0, max);
}

/** The index an arrow key moves to in a grid of `count` items, `cols` wide (null: not ours). */
export function gridMove(index, key, count, cols) {
  if (count === 0) return null;
  const at = (i) => Math.max(0, Math.min(count - 1, i));
  if (key === 'ArrowRight') return at(index + 1);
  if (key === 'ArrowLeft') return at(index - 1);
  if (key === 'ArrowDown') return at(index + cols);
  if (key === 'ArrowUp') return index - cols < 0 ? null : at(index - cols);
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  return null;
}

let tablePromise = null;
/** The table, fetched once (from `assets`: '' on our page, the chat server's origin in a widget). */
export function loadTable(fetchImpl = globalThis.fetch, assets = '') {
  if (!tablePromise) {
    tablePromise = fetchImpl(`${assets}${TABLE_URL}`).then((r) => {
      if (!r.ok) throw new Error(`emoji table: ${r.status}`);
      return r.json();
    });
    tablePromise.catch(() => {
      tablePromise = null;
    });
  }
  return tablePromise;
}

function readRecent(storage) {
  try {
    return pushRecent(JSON.parse(storage?.getItem(RECENT_KEY) ?? '[]'), '');
  } catch {
    return [];
  }
}

export class EmojiPicker {
  constructor({ doc = document, storage = globalThis.localStorage, assets = '' } = {}) {
    Object.assign(this, { doc, storage, assets, dialog: null });
  }

  /** Opens the picker; resolves with the chosen emoji, or null when closed without one. */
  async open({ title = 'Add a reaction' } = {}) {
    const { doc } = this;
    const search = doc.createElement('input');
    search.type = 'search';
    search.className = 'emoji-search';
    search.placeholder = 'Search emoji';
    search.setAttribute('aria-label', 'Search emoji');
    search.autocomplete = 'off';
    const grid = doc.createElement('div');
    grid.className = 'emoji-grid';
    const status = doc.createElement('p');
    status.className = 'emoji-status';
    status.setAttribute('role', 'status');
    status.textContent = 'Loading emoji…';
    const close = doc.createElement('button');
    close.type = 'button';
    close.className = 'btn btn-secondary btn-small emoji-close';
    close.textContent = 'Close';

    return new Promise((resolve) => {
      let chosen = null;
      let table = null;
      const dialog = openDialog(doc, {
        className: 'emoji-picker',
        title,
        titleClass: 'emoji-picker-title',
        titleId: 'emoji-picker-title',
        parts: [search, status, grid, close],
        focus: search,
        onClose: () => {
          this.dialog = null;
          resolve(chosen);
        },
      });
      this.dialog = dialog;
      const finish = (emoji) => {
        if (emoji && isEmoji(emoji)) {
          chosen = emoji;
          try {
            this.storage?.setItem(RECENT_KEY, JSON.stringify(pushRecent(readRecent(this.storage), emoji)));
          } catch {}
        }
        dialog.close();
      };
      close.addEventListener('click', () => finish(null));
      const buttons = () => [...grid.querySelectorAll('button.emoji')];
      const draw = () => {
        if (!table) return;
        const q = search.value.trim();
        const sections = q
          ? [{ name: `Results for “${q}”`, emoji: searchEmoji(table, q) }]
          : [
              { name: 'Recent', emoji: readRecent(this.storage).map((e) => [e, e]) },
              ...table.groups.map((g) => ({ name: g.name, emoji: g.emoji })),
            ];
        const parts = [];
        let total = 0;
        for (const s of sections) {
          if (s.emoji.length === 0) continue;
          const label = doc.createElement('h3');
          label.className = 'emoji-group';
          label.textContent = s.name;
          const row = doc.createElement('div');
          row.className = 'emoji-row';
          row.setAttribute('role', 'group');
          row.setAttribute('aria-label', s.name);
          for (const [emoji, name] of s.emoji) {
            const b = doc.createElement('button');
            b.type = 'button';
            b.className = 'emoji';
            b.textContent = emoji;
            b.dataset.emoji = emoji;
            b.title = name;
            b.setAttribute('aria-label', name);
            b.tabIndex = total === 0 ? 0 : -1;
            row.append(b);
            total += 1;
          }
          parts.push(label, row);
        }
        grid.replaceChildren(...parts);
        status.textContent = total === 0 ? 'No emoji found.' : q ? `${total} emoji found.` : '';
      };
      grid.addEventListener('click', (ev) => {
        const b = ev.target.closest('button.emoji');
        if (b) finish(b.dataset.emoji);
      });
      grid.addEventListener('keydown', (ev) => {
        const list = buttons();
        const index = list.indexOf(doc.activeElement);
        if (index < 0) return;
        const width = list[0].getBoundingClientRect().width || 36;
        const cols = Math.max(1, Math.floor(list[0].parentElement.clientWidth / width));
        const next = gridMove(index, ev.key, list.length, cols);
        if (next === null) {
          if (ev.key === 'ArrowUp') {
            ev.preventDefault();
            search.focus();
          }
          return;
        }
        ev.preventDefault();
        list[index].tabIndex = -1;
        list[next].tabIndex = 0;
        list[next].focus();
      });
      search.addEventListener('input', draw);
      search.addEventListener('keydown', (ev) => {
        if (ev.key === 'ArrowDown' || (ev.key === 'Enter' && search.value.trim())) {
          const first = buttons()[0];
          if (!first) return;
          ev.preventDefault();
          if (ev.key === 'Enter') finish(first.dataset.emoji);
          else first.focus();
        }
      });
      loadTable(globalThis.fetch, this.assets).then(
        (t) => {
          table = t;
          draw();
        },
        () => {
          status.textContent = 'The emoji could not be loaded. Close and try again.';
        },
      );
    });
  }
}
