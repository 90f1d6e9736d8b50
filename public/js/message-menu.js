// The message menu (DOM only): one floating role="menu" shared by every message, opened from a
// message's "More actions" button, Enter on a message, or a long press. The common emoji come
// first, then Reply, Edit and Delete as messageActions() allows. Arrow keys move, Escape closes
// and gives focus back to the button. Delete asks once more inside the menu.

import { menuKey, REACTION_CHOICES, reactedByMe } from './message-actions.js';
import { h } from './ui.js';

export class MessageMenu {
  /**
   * @param {object} o
   * @param {HTMLElement} o.el   the (hidden) role="menu" element
   * @param {(action: string, id: number, emoji?: string) => void} o.onChoose
   * @param {import('./surface.js').Surface} o.surface  the box the menu stays in
   */
  constructor({ el, onChoose, surface }) {
    this.el = el;
    this.surface = surface;
    this.onChoose = onChoose;
    this.button = null;
    this.id = null;
    el.addEventListener('keydown', (ev) => {
      const items = this.items();
      const index = items.indexOf(surface.activeElement);
      const next = menuKey(ev.key, index, items.length);
      if (next === null) return;
      if (next === 'close') {
        if (ev.key === 'Escape') ev.preventDefault();
        this.close(ev.key === 'Escape');
        return;
      }
      ev.preventDefault();
      items[next].focus();
    });
    el.addEventListener('click', (ev) => {
      const item = ev.target.closest('[data-action]');
      if (!item || this.id === null) return;
      const { action, emoji } = item.dataset;
      // Delete is confirmed in a dialog (chat-screen.js): never a second tap in the same spot.
      const id = this.id;
      this.close(action !== 'edit' && action !== 'reply');
      this.onChoose(action, id, emoji);
    });
    // A press anywhere else closes it, on the host's page too (where the target is the widget's
    // host element: the path says what was pressed inside).
    surface.listen(document, 'pointerdown', (ev) => {
      const target = surface.constructor.origin(ev);
      if (this.id !== null && !el.contains(target) && target !== this.button) this.close(false);
    });
    surface.listen(window, 'resize', () => this.close(false));
  }

  get isOpen() {
    return this.id !== null;
  }

  items() {
    // Cancel shows only in the phone sheet: an item not drawn is not one the keys move to.
    return [...this.el.querySelectorAll('[role^="menuitem"]')].filter((el) => el.getClientRects().length > 0);
  }

  /**
   * Open for message `m` next to `button`.
   * @param {import('../sdk/chatterly.js').Message} m
   * @param {{reply: boolean, react: boolean, edit: boolean, delete: boolean}} actions
   */
  open(button, m, actions, me) {
    if (this.id === m.id) {
      this.close(true);
      return;
    }
    this.close(false);
    this.id = m.id;
    this.button = button;
    const parts = [];
    if (actions.react) {
      const row = h('div', 'menu-reactions');
      row.setAttribute('role', 'group');
      row.setAttribute('aria-label', 'React');
      for (const emoji of REACTION_CHOICES) {
        const mine = m.reactions.some((r) => r.emoji === emoji && reactedByMe(r, me));
        const b = item('menu-emoji', emoji, 'react', 'menuitemcheckbox');
        b.dataset.emoji = emoji;
        b.setAttribute('aria-checked', String(mine));
        b.setAttribute('aria-label', `React with ${emoji}`);
        row.append(b);
      }
      // The full picker (emoji-picker.js), for any emoji the server accepts.
      const more = item('menu-emoji menu-more-emoji', '+', 'picker');
      more.setAttribute('aria-label', 'More emoji…');
      more.title = 'More emoji';
      row.append(more);
      parts.push(row);
    }
    if (actions.reply) parts.push(item('menu-item', 'Reply', 'reply'));
    if (actions.edit) parts.push(item('menu-item', 'Edit', 'edit'));
    if (actions.delete) parts.push(item('menu-item danger', 'Delete…', 'delete'));
    // On a phone the menu is a sheet: a title saying which message, and Cancel (CSS shows them).
    const title = h('p', 'menu-title', `Message from ${m.name}`);
    title.setAttribute('aria-hidden', 'true');
    const cancel = h('button', 'menu-item menu-cancel', 'Cancel');
    cancel.type = 'button';
    cancel.tabIndex = -1;
    cancel.setAttribute('role', 'menuitem');
    cancel.addEventListener('click', () => this.close(true));
    this.el.replaceChildren(title, ...parts, cancel);
    this.surface.app.classList.add('menu-sheet-open');
    this.el.setAttribute('aria-label', `Actions for the message from ${m.name}`);
    this.el.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    const li = button.closest('.msg');
    li?.classList.add('menu-open');
    this.place(button);
    this.items()[0]?.focus();
  }

  /**
   * Under (or above, near the bottom) the button; a sheet at the bottom on phones (CSS). All within
   * the surface's frame: the window, or a widget's box (which is the menu's containing block).
   */
  place(button) {
    const f = this.surface.frame();
    const r = button.getBoundingClientRect();
    const menu = this.el.getBoundingClientRect();
    const below = r.bottom + 4 + menu.height <= f.bottom;
    const top = below ? r.bottom + 4 : Math.max(f.top + 4, r.top - 4 - menu.height);
    const left = Math.max(f.left + 4, Math.min(r.right - menu.width, f.right - menu.width - 4));
    this.el.style.top = `${Math.round(top - f.top)}px`;
    this.el.style.left = `${Math.round(left - f.left)}px`;
    // A sheet at the bottom (phones) must not cover its message: scroll it into the space above.
    const sheet = this.el.getBoundingClientRect();
    const li = button.closest('.msg');
    const scroller = li?.closest('.scroller');
    if (li && scroller && sheet.top > f.top && sheet.bottom >= f.bottom - 1) {
      const over = li.getBoundingClientRect().bottom - (sheet.top - 8);
      if (over > 0) scroller.scrollTop += over;
    }
  }

  /** Close; `restoreFocus` gives focus back to the button that opened it. */
  close(restoreFocus) {
    if (this.id === null) return;
    const button = this.button;
    const li = button?.closest('.msg');
    this.id = null;
    this.button = null;
    this.el.hidden = true;
    this.el.replaceChildren();
    this.surface.app.classList.remove('menu-sheet-open');
    if (button) {
      button.setAttribute('aria-expanded', 'false');
      li?.classList.remove('menu-open');
      // The message may have been redrawn meanwhile (a reaction came in): its new button, then.
      const target = button.isConnected ? button : (li?.querySelector('.more-button') ?? li);
      if (restoreFocus) target?.focus();
    }
  }
}

function item(className, text, action, role = 'menuitem') {
  const b = h('button', className, text);
  b.type = 'button';
  b.tabIndex = -1;
  b.dataset.action = action;
  b.setAttribute('role', role);
  return b;
}
