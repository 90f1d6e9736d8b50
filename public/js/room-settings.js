// The header's room controls: the topic, one line that opens in full in a dialog (so the header
// keeps its height whatever the topic), and, on phones, a Settings button of its own for the
// owner (topic, name, lock), apart from the People list.

import { messageDialog } from './dialog.js';

/** Shows `text` in full in a modal dialog with a title and a Close button. */
export function showTextDialog(doc, { title, text }) {
  return messageDialog(doc, {
    title,
    text,
    textClass: 'topic-full',
    idPrefix: 'text-dialog',
    buttons: [['Close', 'btn btn-secondary']],
  });
}

export class RoomSettings {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els  roomTopic (a button), settingsToggle, membersPanel,
   *   membersToggle, titleInput
   * @param {Pick<Document, 'createElement' | 'activeElement' | 'body'>} [o.doc]  where the dialog is drawn
   */
  constructor({ els, doc = document }) {
    this.els = els;
    els.roomTopic.addEventListener('click', () => {
      showTextDialog(doc, { title: 'Topic', text: els.roomTopic.textContent });
    });
    els.settingsToggle.addEventListener('click', () => {
      const panel = els.membersPanel;
      const open = !(panel.classList.contains('open') && panel.classList.contains('settings-only'));
      panel.classList.toggle('open', open);
      panel.classList.toggle('settings-only', open);
      els.settingsToggle.setAttribute('aria-expanded', String(open));
      els.membersToggle.setAttribute('aria-expanded', 'false');
      if (open) els.titleInput.focus();
    });
    // The People button shows the whole panel again (before its own handler toggles the panel:
    // from the settings, People opens the list rather than closing the panel).
    els.membersToggle.addEventListener(
      'click',
      () => {
        if (!els.membersPanel.classList.contains('settings-only')) return;
        els.membersPanel.classList.remove('settings-only', 'open');
        els.settingsToggle.setAttribute('aria-expanded', 'false');
      },
      true,
    );
  }

  render({ owner, topic }) {
    const { els } = this;
    els.settingsToggle.hidden = !owner;
    els.roomTopic.setAttribute('aria-label', topic ? `Topic: ${topic}. Show in full` : 'Topic');
  }
}
