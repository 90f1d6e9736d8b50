// `@na…` completion in the composer: a list of matching members under the caret's word, moved
// through with the arrow keys and chosen with Enter or Tab (or a click); Escape closes it.
// Decisions in mentions.js.

import { applyCompletion, completions, mentionQuery } from './mentions.js';
import { h } from './ui.js';

export class MentionComplete {
  /**
   * @param {object} o
   * @param {HTMLTextAreaElement} o.input
   * @param {HTMLElement} o.listEl       a role="listbox" element
   * @param {HTMLElement} o.form         the composer form (its keys are seen first, in capture)
   * @param {() => string[]} o.members
   * @param {() => string} o.me
   */
  constructor({ input, listEl, form, members, me }) {
    this.input = input;
    this.listEl = listEl;
    this.members = members;
    this.me = me;
    this.options = [];
    this.active = 0;
    this.at = null;
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', listEl.id);
    const update = () => this.update();
    input.addEventListener('input', update);
    input.addEventListener('click', update);
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    // In capture on the form: before the composer's own Enter (send) and Escape handlers.
    form.addEventListener('keydown', (ev) => this.key(ev), true);
    listEl.addEventListener('mousedown', (ev) => ev.preventDefault()); // keep the caret
    listEl.addEventListener('click', (ev) => {
      const li = ev.target.closest('[role="option"]');
      if (li) this.choose(Number(li.dataset.index));
    });
  }

  get open() {
    return !this.listEl.hidden;
  }

  update() {
    const at = mentionQuery(this.input.value, this.input.selectionStart ?? this.input.value.length);
    const options = at ? completions(at.query, this.members(), this.me()) : [];
    if (!at || options.length === 0) {
      this.close();
      return;
    }
    this.at = at;
    this.options = options;
    this.active = Math.min(this.active, options.length - 1);
    this.render();
  }

  render() {
    const items = this.options.map((name, i) => {
      const li = h('li', null, name);
      li.id = `mention-option-${i}`;
      li.dataset.index = String(i);
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === this.active));
      return li;
    });
    this.listEl.replaceChildren(...items);
    this.listEl.hidden = false;
    this.input.setAttribute('aria-activedescendant', `mention-option-${this.active}`);
  }

  key(ev) {
    if (!this.open || ev.target !== this.input) return;
    const stop = () => {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    };
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      stop();
      const n = this.options.length;
      this.active = (this.active + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if ((ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) || ev.key === 'Tab') {
      stop();
      this.choose(this.active);
    } else if (ev.key === 'Escape') {
      stop();
      this.close();
    }
  }

  choose(i) {
    const name = this.options[i];
    if (!name || !this.at) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const done = applyCompletion(this.input.value, this.at.start, caret, name);
    this.input.value = done.text;
    this.input.setSelectionRange(done.caret, done.caret);
    this.close();
    this.input.dispatchEvent(new Event('input', { bubbles: true }));
    this.input.focus();
  }

  close() {
    this.listEl.hidden = true;
    this.listEl.replaceChildren();
    this.options = [];
    this.active = 0;
    this.at = null;
    this.input.removeAttribute('aria-activedescendant');
  }
}
