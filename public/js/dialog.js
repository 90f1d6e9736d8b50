// A modal <dialog>, built one way for every dialog of the UI (the confirmations, the topic in full,
// the emoji picker): named by its heading for screen readers, put in the UI's layer (surface.js:
// the page's body, or the widget's box, where the widget's stylesheet reaches it), and gone when
// it closes, with the focus back on what had it before.

/** A heading id no other dialog shares (dialogs come and go; a fixed id could meet another). */
export function uniqueId(prefix) {
  return `${prefix}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Opens `<dialog class={className}>` holding `<h2 class={titleClass} id={titleId}>{title}</h2>`
 * and then `parts`, modal, and focuses `focus`. When it closes (a button, Escape): it is removed,
 * the focus goes back to the element that had it if that is still in the page, then `onClose()`.
 * @param {Pick<Document, 'createElement' | 'activeElement' | 'body'>} layer  where it is drawn
 * @returns {HTMLDialogElement}
 */
export function openDialog(layer, { className, title, titleClass, titleId, parts, focus, onClose }) {
  const dialog = layer.createElement('dialog');
  dialog.className = className;
  const heading = layer.createElement('h2');
  heading.className = titleClass;
  heading.id = titleId;
  heading.textContent = title;
  dialog.setAttribute('aria-labelledby', heading.id);
  dialog.append(heading, ...parts);
  const opener = layer.activeElement;
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener?.isConnected && typeof opener.focus === 'function') opener.focus();
    onClose?.();
  });
  layer.body.append(dialog);
  dialog.showModal();
  focus.focus();
  return dialog;
}

/**
 * A short message (class `confirm-dialog`: a confirmation, the topic in full): the title, `text`
 * in a paragraph (plus `textClass`), and a row of buttons, each `[label, className]`, focusing
 * the button at `focus`. Each button closes it; `onClose(i)` hears which one (-1: Escape).
 * @returns {HTMLDialogElement}
 */
export function messageDialog(layer, { title, text, textClass, idPrefix, buttons, focus = 0, onClose }) {
  const p = layer.createElement('p');
  p.className = textClass ? `confirm-body ${textClass}` : 'confirm-body';
  p.textContent = text;
  const row = layer.createElement('div');
  row.className = 'confirm-actions';
  const made = buttons.map(([label, className]) => {
    const b = layer.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = label;
    return b;
  });
  row.append(...made);
  let chosen = -1;
  const dialog = openDialog(layer, {
    className: 'confirm-dialog',
    title,
    titleClass: 'confirm-title',
    titleId: uniqueId(idPrefix),
    parts: [p, row],
    focus: made[focus],
    onClose: () => onClose?.(chosen),
  });
  made.forEach((b, i) => {
    b.addEventListener('click', () => {
      chosen = i;
      dialog.close();
    });
  });
  return dialog;
}
