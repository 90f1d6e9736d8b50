// The owner's actions on one member: a "⋯" button beside the name opens a small menu whose
// Remove asks first, in a dialog that says what it does ("Remove Carol from Q3 planning for 10
// minutes?"). The wording is a pure function, tested in Node.

import { messageDialog } from './dialog.js';

/** The server's default `KICK_BAN_MS` (docs/protocol.md); the welcome does not carry it. */
export const KICK_BAN_MS_DEFAULT = 600_000;

/** "10 minutes", "1 minute", "45 seconds", "2 hours". */
export function durationText(ms) {
  const s = Math.round(ms / 1000);
  const unit = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return unit(Math.round(s / 60), 'minute');
  return unit(Math.round(s / 3600), 'hour');
}

/** The confirmation's question. */
export function removeQuestion(name, room, banMs = KICK_BAN_MS_DEFAULT) {
  return banMs > 0 ? `Remove ${name} from ${room} for ${durationText(banMs)}?` : `Remove ${name} from ${room}?`;
}

/** Asks "yes or no" in a modal <dialog>; resolves true for the confirming button. */
export function confirmDialog(doc, { title, body, confirm, cancel = 'Cancel', danger = true }) {
  return new Promise((resolve) => {
    messageDialog(doc, {
      title,
      text: body,
      idPrefix: 'confirm',
      buttons: [
        [cancel, 'btn btn-secondary'],
        [confirm, `btn ${danger ? 'btn-danger' : 'btn-primary'}`],
      ],
      focus: 0, // the safe answer is the default
      onClose: (button) => resolve(button === 1),
    });
  });
}

/** The "⋯" button and its menu for `name`; `onRemove` after the person confirmed. */
export function memberActions(doc, name, { roomLabel, onRemove }) {
  const wrap = doc.createElement('span');
  wrap.className = 'member-actions';
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = 'btn btn-ghost btn-small member-more';
  button.textContent = '⋯';
  button.setAttribute('aria-label', `Actions for ${name}`);
  button.setAttribute('aria-haspopup', 'menu');
  button.setAttribute('aria-expanded', 'false');
  const menu = doc.createElement('div');
  menu.className = 'member-menu';
  menu.setAttribute('role', 'menu');
  menu.hidden = true;
  const remove = doc.createElement('button');
  remove.type = 'button';
  remove.className = 'member-menu-item danger';
  remove.setAttribute('role', 'menuitem');
  remove.textContent = `Remove ${name}…`;
  menu.append(remove);
  const close = (focus) => {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (focus) button.focus();
  };
  button.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) remove.focus();
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      close(true);
    }
  });
  menu.addEventListener('focusout', (ev) => {
    if (!wrap.contains(ev.relatedTarget)) close(false);
  });
  remove.addEventListener('click', async () => {
    close(true);
    const ok = await confirmDialog(doc, {
      title: `Remove ${name}?`,
      body: `${removeQuestion(name, roomLabel())} They will see who removed them and when they can come back.`,
      confirm: 'Remove',
    });
    if (ok) onRemove(name);
  });
  wrap.append(button, menu);
  return wrap;
}
