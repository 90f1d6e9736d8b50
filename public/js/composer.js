// The message composer: Enter sends, Shift+Enter makes a new line, a character count near the
// limit, errors under the field, and refused text put back.

import { actionErrorText, excerpt, quoteView } from './message-actions.js';
import { MAX_TEXT_CHARS } from './protocol.js';
import { charCount, textProblem } from './util.js';

/** What the composer says when the server refused one of our messages. */
export function rejectionText({ code, message, retryAfterMs }) {
  if (code === 'rate_limited') {
    const secs = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
    return { text: `You're sending messages too fast. Try again in ${secs} s.`, ms: Math.max(3000, secs * 1000) };
  }
  if (code === 'too_large') return { text: 'That message is too large to send.', ms: 6000 };
  if (code === 'storage_failed') {
    return { text: 'The room could not save that message. It is back in the box: send it again.', ms: 6000 };
  }
  if (code === 'not_found') {
    return { text: 'The message you replied to no longer exists. Your text is back in the box.', ms: 6000 };
  }
  if (code === 'forbidden' || code === 'invalid_emoji' || code === 'edit_window') {
    return { text: actionErrorText({ code, message }), ms: 6000 };
  }
  return { text: `Message not sent: ${message}`, ms: 6000 };
}

/** The character count shown near the limit ('' far from it), and whether it is over. */
export function charCountView(text) {
  const n = charCount(text.trim());
  if (n <= MAX_TEXT_CHARS - 200) return { text: '', over: false };
  return { text: `${n}/${MAX_TEXT_CHARS}`, over: n > MAX_TEXT_CHARS };
}

/** Refused text goes back above whatever is being typed now. */
export function restoredValue(refused, current) {
  return current.trim() ? `${refused}\n${current}` : refused;
}

export class Composer {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {(text: string, replyTo: number|null) => void} o.onSend   a valid message to send
   * @param {() => void} o.onTyping             the person typed something
   */
  constructor({ els, onSend, onTyping, hasFiles = () => false }) {
    this.els = els;
    this.onSend = onSend;
    // Files waiting to be sent (attachments.js) make a message without text valid.
    this.hasFiles = hasFiles;
    this.errorTimer = null;
    this.replyTo = null;
    els.replyCancel.addEventListener('click', () => {
      this.setReply(null);
      this.focus();
    });
    els.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.replyTo !== null) {
        ev.preventDefault();
        this.setReply(null);
      }
    });
    els.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    els.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.isComposing) {
        ev.preventDefault();
        this.send();
      }
    });
    els.input.addEventListener('input', () => {
      this.updateCharCount();
      if (els.input.value.trim()) onTyping();
    });
    // Browsers without CSS `field-sizing` grow the composer here (CSSOM, which the CSP allows).
    this.growFallback = !globalThis.CSS?.supports?.('field-sizing', 'content');
  }

  focus() {
    this.els.input.focus();
  }

  send() {
    const { els } = this;
    const text = els.input.value.trim();
    const problem = text === '' && this.hasFiles() ? null : textProblem(text);
    if (problem) {
      if (text) this.showError(problem);
      els.input.focus();
      return;
    }
    els.composerError.textContent = '';
    this.onSend(text, this.replyTo);
    this.setReply(null);
    els.input.value = '';
    this.updateCharCount();
    els.input.focus();
  }

  /**
   * Answer message `m` (a MessageView), or stop answering (null): the preview above the field
   * says to whom, with a button to cancel.
   */
  setReply(m) {
    const { els } = this;
    this.replyTo = m ? m.id : null;
    els.replyPreview.hidden = !m;
    if (!m) {
      els.replyName.textContent = '';
      els.replyText.textContent = '';
      return;
    }
    const quote = quoteView({ name: m.name, text: excerpt(m.text), deleted: m.deleted });
    els.replyName.textContent = quote.name;
    els.replyText.textContent = quote.text;
  }

  /** The message being answered was deleted: the preview shows the tombstone. */
  replyDeleted(id) {
    if (this.replyTo === id) this.els.replyText.textContent = 'message deleted';
  }

  /** The server refused a message: say why and put its text back. */
  rejected(detail) {
    const { els } = this;
    els.input.value = restoredValue(detail.item.text, els.input.value);
    this.updateCharCount();
    els.input.focus();
    const { text, ms } = rejectionText(detail);
    this.showError(text, ms);
  }

  showError(text, ms = 6000) {
    this.els.composerError.textContent = text;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      this.els.composerError.textContent = '';
    }, ms);
  }

  updateCharCount() {
    const { els } = this;
    this.autoGrow();
    const view = charCountView(els.input.value);
    els.charCountEl.textContent = view.text;
    els.charCountEl.classList.toggle('over', view.over);
  }

  autoGrow() {
    if (!this.growFallback) return;
    const input = this.els.input;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
  }
}
