// The join screen: the name and room form, its errors, and making a private room.

import { isPrivateRoom, isValidRoom, nameProblem, normalizeRoom, roomLink } from './util.js';

export const JOIN_ERROR_TEXT = {
  name_taken: 'Someone in this room already uses that name. Please pick another one.',
  invalid_name: 'That name is not allowed: use 1–32 visible characters.',
  invalid_room: 'That room name is not valid: use 1–32 of a–z, 0–9, - and _ (or a private room link).',
  room_full: 'This room is full right now. Please try again later.',
  address_limit: 'Too many people from your network are in this room already. Please try again later.',
  rate_limited: 'Too many joins from your network just now. Please wait a minute and try again.',
  room_locked: 'This room is locked: the owner does not let new people in right now.',
  banned: 'You were removed from this room and cannot rejoin yet. Please try again later.',
  kicked: 'You were removed from the room.',
  unauthorized: 'Your sign-in for this chat was refused or has run out. Sign in again, then rejoin.',
  forbidden: 'That owner key is not this room’s. Clear it to join as a member, or paste the right one.',
  invalid_owner_key: 'An owner key is 64 characters of 0–9 and a–f, as shown when the room was created.',
  unreachable: 'Could not connect to the chat server. Check your connection and try again.',
};

/** The field a join error is about, so focus goes where the fix is. */
export function joinErrorField(code) {
  if (code === 'name_taken' || code === 'invalid_name') return 'name';
  if (code === 'invalid_room') return 'room';
  if (code === 'invalid_owner_key' || code === 'forbidden') return 'ownerKey';
  return null;
}

export class JoinScreen {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {(room: string, name: string, ownerKey: string) => void} o.onJoin
   * @param {(room: string, ownerKey: string) => void} [o.onOwnerKey]  a new private room's key
   * @param {import('./surface.js').Surface} [o.surface]  whether it may take the focus
   * @param {boolean} [o.askName]  false when the host app's token names the member
   */
  constructor({ els, onJoin, onOwnerKey = () => {}, surface = null, askName = true }) {
    this.els = els;
    this.surface = surface;
    this.askName = askName;
    this.onJoin = onJoin;
    this.onOwnerKey = onOwnerKey;
    els.joinForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    els.joinRoom.addEventListener('input', () => this.updateRoomHint());
    for (const input of [els.joinName, els.joinRoom, els.joinOwnerKey]) {
      input.addEventListener('input', () => {
        if (els.joinError.textContent) this.clearError();
      });
    }
    els.createRoom.addEventListener('click', () => this.createPrivateRoom());
    els.copyLink.addEventListener('click', () => this.copyLink());
    els.copyOwnerKey.addEventListener('click', () => this.copy(els.ownerKeyValue, els.ownerKeyStatus, 'Owner key'));
  }

  get visible() {
    return !this.els.joinScreen.hidden;
  }

  show({ room, name } = {}) {
    this.els.joinScreen.hidden = false;
    this.setJoining(false);
    if (name !== undefined) this.els.joinName.value = name;
    if (room !== undefined) this.setRoom(room);
    else this.updateRoomHint();
  }

  /** A link to a room was opened while this screen shows. */
  setRoom(room) {
    this.els.joinRoom.value = room;
    this.updateRoomHint();
  }

  submit() {
    const { els } = this;
    this.clearError();
    const name = els.joinName.value.trim();
    const room = normalizeRoom(els.joinRoom.value || 'lobby');
    const problem = this.askName ? nameProblem(name) : null;
    if (problem) {
      this.showError('invalid_name');
      els.joinError.textContent = problem; // says exactly what is wrong
      return;
    }
    if (!isValidRoom(room)) {
      this.showError('invalid_room');
      return;
    }
    const ownerKey = els.joinOwnerKey.value.trim().toLowerCase();
    if (ownerKey && !/^[0-9a-f]{64}$/.test(ownerKey)) {
      els.ownerKeyBox.open = true;
      this.showError('invalid_owner_key');
      return;
    }
    this.onJoin(room, name, ownerKey);
  }

  /** A join error: the known codes get our wording, others the server's message. */
  showError(code, message) {
    const { els } = this;
    els.joinError.textContent = JOIN_ERROR_TEXT[code] || message || 'Could not join the room.';
    els.joinError.dataset.code = code || '';
    const field = joinErrorField(code);
    const inputs = { name: els.joinName, room: els.joinRoom, ownerKey: els.joinOwnerKey };
    const input = field ? inputs[field] : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (this.mayFocus()) input.focus();
    }
  }

  clearError() {
    const { els } = this;
    els.joinError.textContent = '';
    els.joinError.dataset.code = '';
    els.joinName.removeAttribute('aria-invalid');
    els.joinRoom.removeAttribute('aria-invalid');
    els.joinOwnerKey.removeAttribute('aria-invalid');
  }

  setJoining(busy) {
    this.els.joinButton.disabled = busy;
    this.els.joinButton.textContent = busy ? 'Joining…' : 'Join room';
  }

  mayFocus() {
    return this.surface ? this.surface.mayFocus() : true;
  }

  updateRoomHint() {
    const priv = isPrivateRoom(normalizeRoom(this.els.joinRoom.value));
    this.els.roomHintPublic.hidden = priv;
    this.els.roomHintPrivate.hidden = !priv;
  }

  /** Focus where the person continues: the name, or the button when both fields are filled. */
  focusFirst(urlRoom) {
    const { els } = this;
    if (!this.mayFocus()) return;
    (els.joinName.value ? els.joinRoom : els.joinName).focus();
    if (els.joinName.value && urlRoom) els.joinButton.focus();
  }

  async createPrivateRoom() {
    const { els } = this;
    els.createError.textContent = '';
    els.createRoom.disabled = true;
    try {
      const res = await fetch('/api/rooms', { method: 'POST' });
      const body = await res.json().catch(() => null);
      if (!res.ok || !body || typeof body.room !== 'string' || !isPrivateRoom(body.room)) {
        throw new Error(body?.error?.message || `The server answered ${res.status}.`);
      }
      els.joinRoom.value = body.room;
      // The owner key is shown once: this browser keeps it, so its maker owns the room on return.
      const ownerKey = typeof body.owner_key === 'string' ? body.owner_key : '';
      els.ownerKeyShare.hidden = !ownerKey;
      els.ownerKeyValue.value = ownerKey;
      els.ownerKeyStatus.textContent = '';
      if (ownerKey) this.onOwnerKey(body.room, ownerKey);
      this.updateRoomHint();
      els.shareLink.value = roomLink(location.origin, body.room);
      els.copyStatus.textContent = '';
      els.shareBox.hidden = false;
      history.replaceState(null, '', `#${body.room}`);
      els.shareLink.focus();
      els.shareLink.select();
    } catch (err) {
      els.createError.textContent = `Could not create a private room: ${err.message}`;
    } finally {
      els.createRoom.disabled = false;
    }
  }

  copyLink() {
    return this.copy(this.els.shareLink, this.els.copyStatus, 'Link');
  }

  /** Copy an input's value; `what` names it in the status line. */
  async copy(input, status, what) {
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = `${what} copied to the clipboard.`;
    } catch {
      input.focus();
      input.select();
      let ok = false;
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      status.textContent = ok
        ? `${what} copied to the clipboard.`
        : `Select the ${what.toLowerCase()} and copy it (Ctrl+C).`;
    }
  }
}
