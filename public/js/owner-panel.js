// The owner panel (DOM only), shown when the welcome says we own the room: set the topic, lock
// or unlock the room. Removing a member is a button in the member list (ui.js renderMembers).

import { MAX_TOPIC_CHARS } from './room-state.js';
import { charCount } from './util.js';

export class OwnerPanel {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {(text: string) => void} o.onTopic
   * @param {(locked: boolean) => void} o.onLock
   */
  constructor({ els, onTopic, onLock }) {
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
  }

  /** Show or hide, and reflect the room's current topic and lock. */
  render({ owner, topic, locked }) {
    const { els } = this;
    els.ownerPanel.hidden = !owner;
    this.locked = locked;
    els.lockButton.textContent = locked ? 'Unlock the room' : 'Lock the room';
    els.lockButton.setAttribute('aria-pressed', String(locked));
    els.lockState.textContent = locked
      ? 'Locked: only people already in the room can come back.'
      : 'Open: anyone with the link can join.';
    if (document.activeElement !== els.topicInput) els.topicInput.value = topic;
  }
}
