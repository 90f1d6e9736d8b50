// The owner panel (DOM only), shown when the welcome says we own the room: set the topic, lock
// or unlock the room. Removing a member is a button in the member list (ui.js renderMembers).

import { MAX_TOPIC_CHARS } from './room-state.js';
import { MAX_TITLE_CHARS } from './room-title.js';
import { charCount } from './util.js';

export class OwnerPanel {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {(text: string) => void} o.onTopic
   * @param {(locked: boolean) => void} o.onLock
   * @param {(text: string) => void} [o.onTitle]  the room's display name
   */
  constructor({ els, onTopic, onLock, onTitle = () => {} }) {
    this.els = els;
    this.locked = false;
    els.topicInput.maxLength = MAX_TOPIC_CHARS;
    els.topicForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = els.topicInput.value.trim();
      if (charCount(text) > MAX_TOPIC_CHARS) return;
      onTopic(text);
    });
    els.lockButton.addEventListener('click', () => onLock(!this.locked));
    if (els.titleForm) {
      els.titleInput.maxLength = MAX_TITLE_CHARS;
      els.titleForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const text = els.titleInput.value.trim();
        if (charCount(text) > MAX_TITLE_CHARS) return;
        onTitle(text);
      });
    }
  }

  /** Show or hide, and reflect the room's current topic and lock. */
  render({ owner, topic, title = '', locked }) {
    const { els } = this;
    els.ownerPanel.hidden = !owner;
    this.locked = locked;
    els.lockButton.textContent = locked ? 'Unlock the room' : 'Lock the room';
    els.lockButton.setAttribute('aria-pressed', String(locked));
    els.lockState.textContent = locked
      ? 'Locked: only people already in the room can come back.'
      : 'Open: anyone with the link can join.';
    // The panel's own root: in a widget, document.activeElement is the host element.
    const active = els.topicInput.getRootNode().activeElement;
    if (active !== els.topicInput) els.topicInput.value = topic;
    if (els.titleInput && active !== els.titleInput) els.titleInput.value = title;
  }
}
