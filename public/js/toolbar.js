// The message toolbar: Reply, a quick reaction and ⋯ (the menu with the rest), beside the bubble
// itself rather than at the row's far edge. It shows on hover or when focus is in the message;
// the row of an open menu is highlighted (CSS `.msg.menu-open`). Its buttons are not Tab stops
// of their own: the message list is one Tab stop (arrow keys between messages), and only the
// focused message's toolbar and chips join the Tab order (`rovingTools`).

/** The quick reaction offered beside every message. */
export const QUICK_REACTION = '👍';

function button(doc, className, text, label) {
  const b = doc.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.tabIndex = -1;
  b.setAttribute('aria-label', label);
  b.title = label;
  return b;
}

/** The toolbar of message `m` (a MessageView); `more` is the existing ⋯ button. */
export function messageToolbar(doc, m, more) {
  const bar = doc.createElement('div');
  bar.className = 'msg-toolbar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', `Actions for the message from ${m.name}`);
  const reply = button(doc, 'tool-button', '↩', `Reply to ${m.name}`);
  reply.dataset.tool = 'reply';
  const react = button(doc, 'tool-button', QUICK_REACTION, `React with ${QUICK_REACTION}`);
  react.dataset.tool = 'react';
  react.dataset.emoji = QUICK_REACTION;
  more.tabIndex = -1;
  bar.append(reply, react, more);
  return bar;
}

/** The buttons of a message that join the Tab order while focus is in it. */
const TOOLS = '.msg-toolbar button, .reactions button';

/**
 * Makes only the focused message's toolbar and chips Tab stops; every other message's are
 * reached with the arrow keys (to the message) and then Tab.
 */
export function rovingTools(list) {
  list.addEventListener('focusin', (ev) => {
    const li = ev.target.closest('.msg');
    for (const b of list.querySelectorAll(`.msg.tools-active`)) {
      if (b !== li) deactivate(b);
    }
    if (li && !li.classList.contains('tools-active')) {
      li.classList.add('tools-active');
      for (const b of li.querySelectorAll(TOOLS)) b.tabIndex = 0;
    }
  });
  list.addEventListener('focusout', (ev) => {
    const li = ev.target.closest('.msg');
    if (li && !li.contains(ev.relatedTarget)) deactivate(li);
  });
}

function deactivate(li) {
  li.classList.remove('tools-active');
  for (const b of li.querySelectorAll(TOOLS)) b.tabIndex = -1;
}

/**
 * The list's one Tab stop is the scroller: from it, an arrow key, Home or End goes to a message
 * (the newest for Up and End, the oldest for Home), as in the ARIA feed pattern.
 */
export function enterFeed(scroller, list) {
  scroller.addEventListener('keydown', (ev) => {
    if (ev.target !== scroller) return;
    const all = list.querySelectorAll(':scope > .msg[data-id]');
    if (all.length === 0) return;
    const to = { ArrowUp: all.length - 1, End: all.length - 1, ArrowDown: all.length - 1, Home: 0 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    all[to].focus();
    all[to].scrollIntoView({ block: 'nearest' });
  });
}

/** Chips and toolbar of a redrawn message follow whether it holds focus. */
export function syncTools(li) {
  const active = li.classList.contains('tools-active');
  for (const b of li.querySelectorAll(TOOLS)) b.tabIndex = active ? 0 : -1;
}
