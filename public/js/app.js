// The page's entry point: finds the elements, builds the two screens and wires them together.
// Everything that decides something lives in the modules it imports (and is tested in Node).

import { ChatScreen } from './chat-screen.js';
import { JoinScreen } from './join-screen.js';
import { KickedScreen } from './kicked-screen.js';
import { roomName } from './room-title.js';
import { Saved } from './saved.js';
import { normalizeRoom, roomFromLocation } from './util.js';

const $ = (id) => document.getElementById(id);
const els = {
  joinScreen: $('join-screen'),
  joinForm: $('join-form'),
  joinName: $('join-name'),
  joinRoom: $('join-room'),
  joinOwnerKey: $('join-owner-key'),
  ownerKeyBox: $('owner-key-box'),
  ownerKeyShare: $('owner-key-share'),
  ownerKeyValue: $('owner-key-value'),
  copyOwnerKey: $('copy-owner-key'),
  ownerKeyStatus: $('owner-key-status'),
  joinError: $('join-error'),
  joinButton: $('join-button'),
  roomHintPublic: $('room-hint-public'),
  roomHintPrivate: $('room-hint-private'),
  createRoom: $('create-room'),
  createError: $('create-error'),
  shareBox: $('share-box'),
  shareLink: $('share-link'),
  copyLink: $('copy-link'),
  copyStatus: $('copy-status'),
  chatScreen: $('chat-screen'),
  roomTitle: $('room-title'),
  roomTopic: $('room-topic'),
  roomLocked: $('room-locked'),
  connStatus: $('conn-status'),
  connText: $('conn-text'),
  connAnnounce: $('conn-announce'),
  reconnectNow: $('reconnect-now'),
  shareRoom: $('share-room'),
  membersToggle: $('members-toggle'),
  membersToggleCount: $('members-toggle-count'),
  leaveButton: $('leave-button'),
  scroller: $('scroller'),
  log: $('log'),
  messages: $('messages'),
  pending: $('pending'),
  newMessages: $('new-messages'),
  composer: $('composer'),
  typing: $('typing'),
  historyNotice: $('history-notice'),
  composerError: $('composer-error'),
  input: $('message-input'),
  charCountEl: $('char-count'),
  membersPanel: $('members-panel'),
  membersList: $('members-list'),
  membersCount: $('members-count'),
  messageMenu: $('message-menu'),
  replyPreview: $('reply-preview'),
  replyName: $('reply-name'),
  replyText: $('reply-text'),
  replyCancel: $('reply-cancel'),
  ownerPanel: $('owner-panel'),
  topicForm: $('topic-form'),
  topicInput: $('topic-input'),
  lockButton: $('lock-button'),
  lockState: $('lock-state'),
  roomCounts: $('room-counts'),
  searchForm: $('search-form'),
  searchInput: $('search-input'),
  searchPanel: $('search-panel'),
  searchClose: $('search-close'),
  searchStatus: $('search-status'),
  searchResults: $('search-results'),
  searchMore: $('search-more'),
  notifyButton: $('notify-button'),
  mentionList: $('mention-list'),
  titleForm: $('title-form'),
  titleInput: $('title-input'),
  kickedBox: $('kicked-box'),
  settingsToggle: $('settings-toggle'),
};

const saved = new Saved();

const joinScreen = new JoinScreen({
  els,
  onJoin: (room, name, ownerKey) => {
    saved.name = name;
    join(room, name, ownerKey);
  },
  onOwnerKey: (room, key) => saved.setOwnerKey(room, key),
});

const chatScreen = new ChatScreen({
  els,
  saved,
  onExit: ({ code, message, room, name, by, title, until }) => {
    joinScreen.show({ room, name });
    // Removed (a kick, or a ban found on joining): who, where, and a countdown on the button.
    if ((code === 'kicked' || code === 'banned') && until > Date.now()) {
      kicked.show({ by, room: roomName(room, title ?? chatScreen.roomView.title), until });
      kickedFrom = room;
      return;
    }
    kicked.hide();
    if (code) joinScreen.showError(code, message);
  },
});

const kicked = new KickedScreen({ box: els.kickedBox, button: els.joinButton });
let kickedFrom = '';
// The ban is this room's: typing another room lets the person join that one.
els.joinRoom.addEventListener('input', () => {
  const room = normalizeRoom(els.joinRoom.value || 'lobby');
  if (kicked.active && room !== kickedFrom) kicked.hide();
});

function join(room, name, ownerKey = '') {
  kicked.hide();
  joinScreen.setJoining(true);
  chatScreen.join(room, name, ownerKey);
}

window.addEventListener('hashchange', () => {
  const room = roomFromLocation(location);
  if (!room) return;
  // A link to another room was opened in this tab: leave, and offer to join that one.
  if (chatScreen.visible && room !== chatScreen.room) chatScreen.leave();
  if (joinScreen.visible) joinScreen.setRoom(room);
});

function start() {
  const urlRoom = roomFromLocation(location);
  joinScreen.show({ room: urlRoom || 'lobby', name: saved.name });
  // A reload of a tab that was in a room goes straight back in (the session takes the name back).
  const back = saved.rejoin(urlRoom);
  if (back) {
    joinScreen.show(back);
    join(back.room, back.name);
    return;
  }
  joinScreen.focusFirst(urlRoom);
}

document.documentElement.classList.add('js');
start();
