// The room's owners, marked beside their messages (the member list marks them in ui.js). A
// message's meta line is redrawn on every update, so the mark is (re)applied from the list of
// owners by name key, never stored in the message.

import { nameKey } from '../shared/names.js';

/** Adds or removes the "Owner" badge after the author of each message under `root`. */
export function markOwners(root, owners) {
  const keys = new Set(owners.map(nameKey));
  for (const li of root.querySelectorAll('.msg[data-name]')) {
    const author = li.querySelector('.msg-meta .author');
    if (!author) continue;
    const badge = author.nextElementSibling?.classList.contains('owner-badge') ? author.nextElementSibling : null;
    const owner = keys.has(li.dataset.name);
    if (owner && !badge) author.after(ownerBadge(li.ownerDocument));
    if (!owner && badge) badge.remove();
  }
}

export function ownerBadge(doc) {
  const b = doc.createElement('span');
  b.className = 'owner-badge';
  b.textContent = 'Owner';
  return b;
}
