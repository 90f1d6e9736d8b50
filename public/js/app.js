// Wires the join screen, the chat screen and the connection together.

import { ChatConnection, makeSession } from './connection.js';
import { MessageList, renderMembers } from './ui.js';
import {
  isPrivateRoom, isValidRoom, nameProblem, normalizeRoom, roomFromLocation, roomLabel, roomLink,
  textProblem, typingText, sameName, charCount, MAX_TEXT_CHARS,
} from './util.js';

const NAME_KEY = 'chatterly.name';           // localStorage: the last name used
const SESSION_KEY = 'chatterly.session';     // sessionStorage: this tab's session secret
const ACTIVE_KEY = 'chatterly.active';       // sessionStorage: the room this tab is in (rejoin on reload)
const TYPING_SHOW_MS = 3000;

const $ = (id) => document.getElementById(id);
const els = {
  joinScreen: $('join-screen'), joinForm: $('join-form'), joinName: $('join-name'), joinRoom: $('join-room'),
  joinError: $('join-error'), joinButton: $('join-button'), createRoom: $('create-room'),
  createError: $('create-error'), shareBox: $('share-box'), shareLink: $('share-link'), copyLink: $('copy-link'),
  copyStatus: $('copy-status'),
  chatScreen: $('chat-screen'), roomTitle: $('room-title'), connStatus: $('conn-status'), connText: $('conn-text'), connAnnounce: $('conn-announce'),
  reconnectNow: $('reconnect-now'), shareRoom: $('share-room'), membersToggle: $('members-toggle'),
  membersToggleCount: $('members-toggle-count'), leaveButton: $('leave-button'),
  scroller: $('scroller'), log: $('log'), messages: $('messages'), pending: $('pending'), newMessages: $('new-messages'),
  composer: $('composer'), typing: $('typing'), composerError: $('composer-error'), input: $('message-input'),
  charCountEl: $('char-count'), membersPanel: $('members-panel'), membersList: $('members-list'),
  membersCount: $('members-count'),
};

const storage = {
  get(store, key) { try { return store.getItem(key); } catch { return null; } },
  set(store, key, value) { try { store.setItem(key, value); } catch { /* private mode */ } },
  remove(store, key) { try { store.removeItem(key); } catch { /* private mode */ } },
};

function sessionSecret() {
  let s = storage.get(sessionStorage, SESSION_KEY);
  if (!s || !/^[\x21-\x7e]{16,128}$/.test(s)) {
    s = makeSession();
    storage.set(sessionStorage, SESSION_KEY, s);
  }
  return s;
}

const list = new MessageList({
  scroller: els.scroller, list: els.messages, pendingList: els.pending, marker: els.newMessages,
});

let conn = null;
let room = '';
let myName = '';
let countdownTimer = null;
let lastAnnounced = '';
let unseen = 0; // messages from others while the tab is hidden
let composerErrorTimer = null;
const typists = new Map(); // name -> timeout id

// ---- join screen ------------------------------------------------------------------------

const JOIN_ERROR_TEXT = {
  name_taken: 'Someone in this room already uses that name. Please pick another one.',
  invalid_name: 'That name is not allowed: use 1–32 visible characters.',
  invalid_room: 'That room name is not valid: use 1–32 of a–z, 0–9, - and _ (or a private room link).',
  room_full: 'This room is full right now. Please try again later.',
  unreachable: 'Could not connect to the chat server. Check your connection and try again.',
};

function showJoinError(code, fallback) {
  els.joinError.textContent = JOIN_ERROR_TEXT[code] || fallback || 'Could not join the room.';
  els.joinError.dataset.code = code || '';
  if (code === 'name_taken' || code === 'invalid_name') {
    els.joinName.setAttribute('aria-invalid', 'true');
    els.joinName.focus();
  } else if (code === 'invalid_room') {
    els.joinRoom.setAttribute('aria-invalid', 'true');
    els.joinRoom.focus();
  }
}

function clearJoinError() {
  els.joinError.textContent = '';
  els.joinError.dataset.code = '';
  els.joinName.removeAttribute('aria-invalid');
  els.joinRoom.removeAttribute('aria-invalid');
}

function setJoining(busy) {
  els.joinButton.disabled = busy;
  els.joinButton.textContent = busy ? 'Joining…' : 'Join room';
}

function showJoinScreen() {
  els.chatScreen.hidden = true;
  els.joinScreen.hidden = false;
  lastAnnounced = '';
  updateTitle();
  setJoining(false);
}

function updateTitle() {
  if (els.chatScreen.hidden) {
    document.title = 'Chatterly';
    return;
  }
  document.title = `${unseen > 0 ? `(${unseen}) ` : ''}${roomLabel(room)} · Chatterly`;
}

function showChatScreen() {
  els.joinScreen.hidden = true;
  els.chatScreen.hidden = false;
  els.roomTitle.textContent = roomLabel(room);
  els.roomTitle.title = isPrivateRoom(room) ? room : '';
  unseen = 0;
  updateTitle();
}

els.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearJoinError();
  const name = els.joinName.value.trim();
  const r = normalizeRoom(els.joinRoom.value || 'lobby');
  const problem = nameProblem(name);
  if (problem) {
    els.joinError.textContent = problem;
    els.joinError.dataset.code = 'invalid_name';
    els.joinName.setAttribute('aria-invalid', 'true');
    els.joinName.focus();
    return;
  }
  if (!isValidRoom(r)) {
    showJoinError('invalid_room');
    return;
  }
  storage.set(localStorage, NAME_KEY, name);
  join(r, name);
});

function updateRoomHint() {
  const priv = isPrivateRoom(normalizeRoom(els.joinRoom.value));
  $('room-hint-public').hidden = priv;
  $('room-hint-private').hidden = !priv;
}
els.joinRoom.addEventListener('input', updateRoomHint);

for (const input of [els.joinName, els.joinRoom]) {
  input.addEventListener('input', () => {
    if (els.joinError.textContent) clearJoinError();
  });
}

els.createRoom.addEventListener('click', async () => {
  els.createError.textContent = '';
  els.createRoom.disabled = true;
  try {
    const res = await fetch('/api/rooms', { method: 'POST' });
    const body = await res.json().catch(() => null);
    if (!res.ok || !body || typeof body.room !== 'string' || !isPrivateRoom(body.room)) {
      throw new Error(body?.error?.message || `The server answered ${res.status}.`);
    }
    els.joinRoom.value = body.room;
    updateRoomHint();
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
});

async function copyText(text, statusEl, inputEl) {
  try {
    await navigator.clipboard.writeText(text);
    statusEl.textContent = 'Link copied to the clipboard.';
  } catch {
    if (inputEl) {
      inputEl.focus();
      inputEl.select();
    }
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    statusEl.textContent = ok ? 'Link copied to the clipboard.' : 'Select the link and copy it (Ctrl+C).';
  }
}

els.copyLink.addEventListener('click', () => copyText(els.shareLink.value, els.copyStatus, els.shareLink));

// ---- chat ---------------------------------------------------------------------------------

function join(r, name) {
  if (conn) conn.leave();
  room = r;
  myName = name;
  setJoining(true);
  list.clear();
  typists.forEach((t) => clearTimeout(t));
  typists.clear();
  renderTyping();

  const c = new ChatConnection({ room, name, session: sessionSecret(), origin: location.origin });
  conn = c;
  const on = (type, fn) => c.addEventListener(type, (ev) => { if (conn === c) fn(ev.detail); });

  on('welcome', (d) => {
    myName = d.name;
    storage.set(sessionStorage, ACTIVE_KEY, JSON.stringify({ room, name: d.name }));
    if (location.hash !== `#${room}`) history.replaceState(null, '', `${location.pathname}#${room}`);
    if (d.first) {
      // The history that follows is not news: keep the live region quiet while it is drawn.
      els.log.setAttribute('aria-live', 'off');
      setTimeout(() => els.log.setAttribute('aria-live', 'polite'), 0);
      showChatScreen();
      setJoining(false);
      els.input.focus();
    }
  });
  on('members', (d) => {
    renderMembers(els.membersList, d.members, myName);
    els.membersCount.textContent = String(d.members.length);
    els.membersToggleCount.textContent = String(d.members.length);
  });
  on('message', (d) => {
    list.addMessage(d.message, { own: d.own, live: d.live });
    stopTyping(d.message.name);
    if (document.hidden && !d.own && d.live) {
      unseen += 1;
      updateTitle();
    }
  });
  on('join', (d) => list.addSystem(`${d.name} joined`, d.at));
  on('leave', (d) => {
    list.addSystem(`${d.name} left`, d.at);
    stopTyping(d.name);
  });
  on('typing', (d) => startTyping(d.name));
  on('pending', (d) => list.addPending(d.item, myName));
  on('sent', (d) => list.removePending(d.item.nonce));
  on('rejected', (d) => {
    list.removePending(d.item.nonce);
    restoreText(d.item.text);
    if (d.code === 'rate_limited') {
      const secs = Math.max(1, Math.ceil((d.retryAfterMs ?? 1000) / 1000));
      showComposerError(`You're sending messages too fast. Try again in ${secs} s.`, Math.max(3000, secs * 1000));
    } else if (d.code === 'too_large') {
      showComposerError('That message is too large to send.');
    } else {
      showComposerError(`Message not sent: ${d.message}`);
    }
  });
  on('notice', (d) => console.warn('chatterly:', d.code, d.message));
  on('failure', (d) => {
    backToJoinScreen();
    showJoinError(d.code, d.message);
  });
  on('state', (d) => renderState(d));

  c.connect();
}

/** Drops the connection (already closed by the caller) and shows the join form, prefilled. */
function backToJoinScreen() {
  conn = null;
  stopCountdown();
  storage.remove(sessionStorage, ACTIVE_KEY);
  showJoinScreen();
  els.joinRoom.value = room;
  els.joinName.value = myName;
}

function leave() {
  if (conn) conn.leave();
  backToJoinScreen();
  els.joinName.focus();
}

els.leaveButton.addEventListener('click', leave);
els.reconnectNow.addEventListener('click', () => conn && conn.retryNow());
els.shareRoom.addEventListener('click', async () => {
  const link = roomLink(location.origin, room);
  let ok = false;
  try {
    await navigator.clipboard.writeText(link);
    ok = true;
  } catch {
    ok = false;
  }
  const label = els.shareRoom.querySelector('.label');
  label.textContent = ok ? 'Copied!' : 'Copy failed';
  els.shareRoom.title = ok ? 'Link copied to the clipboard' : link;
  setTimeout(() => {
    label.textContent = 'Copy link';
    els.shareRoom.title = 'Copy a link to this room';
  }, 2000);
});
window.addEventListener('online', () => conn && conn.state === 'waiting' && conn.retryNow());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  if (conn && conn.state === 'waiting') conn.retryNow();
  unseen = 0;
  updateTitle();
});

function stopCountdown() {
  if (countdownTimer !== null) clearInterval(countdownTimer);
  countdownTimer = null;
}

const ANNOUNCE = {
  connected: 'Connected.',
  waiting: 'Connection lost. Reconnecting…',
  replaced: 'This chat was opened in another tab.',
};

function renderState(d) {
  stopCountdown();
  // Screen readers hear state changes, not every tick of the countdown.
  const announce = ANNOUNCE[d.state];
  if (announce && lastAnnounced !== d.state) {
    if (d.state !== 'connected' || lastAnnounced) els.connAnnounce.textContent = announce;
  }
  if (announce) lastAnnounced = d.state;
  els.connStatus.dataset.state = d.state;
  els.reconnectNow.hidden = true;
  els.reconnectNow.textContent = 'Reconnect now';
  switch (d.state) {
    case 'connecting':
      els.connText.textContent = d.attempt > 0 || (conn && conn.joinedOnce) ? 'Reconnecting…' : 'Connecting…';
      break;
    case 'connected':
      els.connText.textContent = 'Connected';
      break;
    case 'waiting': {
      const tick = () => {
        const secs = Math.max(0, Math.ceil((d.retryAt - Date.now()) / 1000));
        els.connText.textContent = secs > 0 ? `Reconnecting in ${secs} s…` : 'Reconnecting…';
      };
      tick();
      countdownTimer = setInterval(tick, 250);
      els.reconnectNow.hidden = false;
      break;
    }
    case 'replaced':
      els.connText.textContent = 'Opened in another tab';
      els.reconnectNow.textContent = 'Use here';
      els.reconnectNow.hidden = false;
      break;
    case 'closed':
      els.connText.textContent = 'Disconnected';
      break;
    default:
      break;
  }
}

// ---- typing indicator -----------------------------------------------------------------------

function renderTyping() {
  els.typing.textContent = typingText([...typists.keys()]);
}

function startTyping(name) {
  clearTimeout(typists.get(name));
  typists.set(name, setTimeout(() => stopTyping(name), TYPING_SHOW_MS));
  renderTyping();
}

function stopTyping(name) {
  for (const key of typists.keys()) {
    if (sameName(key, name)) {
      clearTimeout(typists.get(key));
      typists.delete(key);
    }
  }
  renderTyping();
}

// ---- composer -----------------------------------------------------------------------------

function showComposerError(text, ms = 6000) {
  els.composerError.textContent = text;
  clearTimeout(composerErrorTimer);
  composerErrorTimer = setTimeout(() => { els.composerError.textContent = ''; }, ms);
}

function restoreText(text) {
  const current = els.input.value;
  els.input.value = current.trim() ? `${text}\n${current}` : text;
  updateCharCount();
  els.input.focus();
}

function updateCharCount() {
  autoGrow();
  const n = charCount(els.input.value.trim());
  if (n > MAX_TEXT_CHARS - 200) {
    els.charCountEl.textContent = `${n}/${MAX_TEXT_CHARS}`;
    els.charCountEl.classList.toggle('over', n > MAX_TEXT_CHARS);
  } else {
    els.charCountEl.textContent = '';
  }
}

function sendCurrent() {
  if (!conn) return;
  const text = els.input.value.trim();
  const problem = textProblem(text);
  if (problem) {
    if (text) showComposerError(problem);
    els.input.focus();
    return;
  }
  els.composerError.textContent = '';
  conn.send(text);
  els.input.value = '';
  updateCharCount();
  els.input.focus();
}

els.composer.addEventListener('submit', (ev) => {
  ev.preventDefault();
  sendCurrent();
});

els.input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.isComposing) {
    ev.preventDefault();
    sendCurrent();
  }
});

// Browsers without CSS `field-sizing` grow the composer here (CSSOM, which the CSP allows).
const growFallback = !(window.CSS && CSS.supports && CSS.supports('field-sizing', 'content'));
function autoGrow() {
  if (!growFallback) return;
  els.input.style.height = 'auto';
  els.input.style.height = `${Math.min(els.input.scrollHeight + 2, 160)}px`;
}

els.input.addEventListener('input', () => {
  updateCharCount();
  if (conn && els.input.value.trim()) conn.typing();
});

// ---- responsive member list -------------------------------------------------------------------

els.membersToggle.addEventListener('click', () => {
  const open = els.membersPanel.classList.toggle('open');
  els.membersToggle.setAttribute('aria-expanded', String(open));
});

document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && els.membersPanel.classList.contains('open')) {
    els.membersPanel.classList.remove('open');
    els.membersToggle.setAttribute('aria-expanded', 'false');
    els.membersToggle.focus();
  }
});

// ---- start -------------------------------------------------------------------------------

function start() {
  const urlRoom = roomFromLocation(location);
  els.joinName.value = storage.get(localStorage, NAME_KEY) || '';
  els.joinRoom.value = urlRoom || 'lobby';
  updateRoomHint();

  // A reload of a tab that was in a room goes straight back in (the session takes the name back).
  let active = null;
  try { active = JSON.parse(storage.get(sessionStorage, ACTIVE_KEY) || 'null'); } catch { active = null; }
  if (active && typeof active.room === 'string' && typeof active.name === 'string'
      && (!urlRoom || urlRoom === active.room) && isValidRoom(active.room) && !nameProblem(active.name)) {
    els.joinRoom.value = active.room;
    els.joinName.value = active.name;
    join(active.room, active.name);
    return;
  }
  (els.joinName.value ? els.joinRoom : els.joinName).focus();
  if (els.joinName.value && urlRoom) els.joinButton.focus();
}

window.addEventListener('hashchange', () => {
  const r = roomFromLocation(location);
  if (!r) return;
  if (!els.chatScreen.hidden && r !== room) {
    // A link to another room was opened in this tab: leave, and offer to join that one.
    leave();
  }
  if (!els.joinScreen.hidden) {
    els.joinRoom.value = r;
    updateRoomHint();
  }
});

document.documentElement.classList.add('js');
start();
