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
  unreachable: 'Could not connect to the chat server. Check your connection and try again.',
};

/** The field a join error is about, so focus goes where the fix is. */
export function joinErrorField(code) {
  if (code === 'name_taken' || code === 'invalid_name') return 'name';
  if (code === 'invalid_room') return 'room';
  return null;
}

export class JoinScreen {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {(room: string, name: string) => void} o.onJoin
   */
  constructor({ els, onJoin }) {
    this.els = els;
    this.onJoin = onJoin;
    els.joinForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    els.joinRoom.addEventListener('input', () => this.updateRoomHint());
    for (const input of [els.joinName, els.joinRoom]) {
      input.addEventListener('input', () => {
        if (els.joinError.textContent) this.clearError();
      });
    }
    els.createRoom.addEventListener('click', () => this.createPrivateRoom());
    els.copyLink.addEventListener('click', () => this.copyLink());
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
    const problem = nameProblem(name);
    if (problem) {
      this.showError('invalid_name');
      els.joinError.textContent = problem; // says exactly what is wrong
      return;
    }
    if (!isValidRoom(room)) {
      this.showError('invalid_room');
      return;
    }
    this.onJoin(room, name);
  }

  /** A join error: the known codes get our wording, others the server's message. */
  showError(code, message) {
    const { els } = this;
    els.joinError.textContent = JOIN_ERROR_TEXT[code] || message || 'Could not join the room.';
    els.joinError.dataset.code = code || '';
    const field = joinErrorField(code);
    const input = field === 'name' ? els.joinName : field === 'room' ? els.joinRoom : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  clearError() {
    const { els } = this;
    els.joinError.textContent = '';
    els.joinError.dataset.code = '';
    els.joinName.removeAttribute('aria-invalid');
    els.joinRoom.removeAttribute('aria-invalid');
  }

  setJoining(busy) {
    this.els.joinButton.disabled = busy;
    this.els.joinButton.textContent = busy ? 'Joining…' : 'Join room';
  }

  updateRoomHint() {
    const priv = isPrivateRoom(normalizeRoom(this.els.joinRoom.value));
    this.els.roomHintPublic.hidden = priv;
    this.els.roomHintPrivate.hidden = !priv;
  }

  /** Focus where the person continues: the name, or the button when both fields are filled. */
  focusFirst(urlRoom) {
    const { els } = this;
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

  async copyLink() {
    const { els } = this;
    try {
      await navigator.clipboard.writeText(els.shareLink.value);
      els.copyStatus.textContent = 'Link copied to the clipboard.';
    } catch {
      els.shareLink.focus();
      els.shareLink.select();
      let ok = false;
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      els.copyStatus.textContent = ok ? 'Link copied to the clipboard.' : 'Select the link and copy it (Ctrl+C).';
    }
  }
}
