// The chat UI, mounted into our page's document (app.js) or into the shadow root of a
// <chatterly-room> (public/sdk/chatterly-room.js): one implementation, the markup of markup.js.
// It finds the elements, builds the two screens and wires them together; everything that decides
// something lives in the modules it imports (and is tested in Node).
//
// Embedded in another app's page (a shadow root), the UI leaves the host page alone: the room is
// the one the widget names (no room field, no private rooms, no #room in the address), nothing
// is kept in the host's storage, the title's counts go out as an event instead of into
// document.title, and notifications are the host app's business.

import { ChatScreen } from './chat-screen.js';
import { JoinScreen } from './join-screen.js';
import { KickedScreen } from './kicked-screen.js';
import { uiMarkup } from './markup.js';
import { roomName } from './room-title.js';
import { memoryStore, Saved } from './saved.js';
import { Surface } from './surface.js';
import { normalizeRoom, roomFromLocation } from './util.js';

/**
 * Draws the chat UI into `root` and starts it.
 * @param {Document | ShadowRoot} root  its element #app (made in a shadow root) holds the UI
 * @param {object} [o]
 * @param {string} [o.server]   the chat server's origin (default: this page's)
 * @param {string} [o.assets]   where our static files are (default: the server's origin in a widget, '' on our page)
 * @param {string} [o.room]     the one room (a widget's): required in a shadow root
 * @param {string} [o.name]     join at once under this name
 * @param {() => Promise<string>} [o.token]  join at once with the host app's join token (it names the member)
 * @param {(who: {room: string, name: string}) => void} [o.onJoined]  after each first welcome
 * @param {boolean} [o.autofocus]  a widget takes the focus when it starts
 * @param {(counts: {room: string, unread: number, mentions: number}) => void} [o.onCounts]
 *   a widget's unread and mention counts (our page puts them in its title)
 * @returns {{surface: Surface, chatScreen: ChatScreen, destroy: () => void}}
 */
export function mount(
  root,
  {
    server = '',
    assets,
    room: fixedRoom = '',
    name: fixedName = '',
    token,
    onCounts,
    onJoined,
    autofocus = false,
  } = {},
) {
  let app = root.getElementById('app');
  if (!app) {
    app = (root.ownerDocument ?? root).createElement('div');
    app.id = 'app';
    app.className = 'app';
    root.append(app);
  }
  const surface = new Surface(root, app);
  const { embedded } = surface;
  surface.autofocus = autofocus;
  const origin = server || location.origin;
  app.classList.toggle('embedded', embedded);
  const files = assets ?? (embedded ? origin : '');
  app.innerHTML = uiMarkup({ assets: files, embedded });

  const $ = (id) => surface.byId(id);
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
    attachments: $('attachments'),
    fileInput: $('file-input'),
    attachButton: $('attach-button'),
  };

  // Page-level things a host app does not want from a widget: hidden, not merely unused.
  if (embedded) {
    for (const el of [
      els.joinRoom.closest('.field'),
      els.ownerKeyBox,
      app.querySelector('.divider'),
      app.querySelector('.private'),
      els.shareRoom,
    ]) {
      el.hidden = true;
    }
    if (token) els.joinName.closest('.field').hidden = true;
  }

  const saved = embedded ? new Saved({ local: memoryStore(), session: memoryStore() }) : new Saved();

  const joinScreen = new JoinScreen({
    els,
    surface,
    askName: !token,
    onJoin: (room, name, ownerKey) => {
      saved.name = name;
      join(room, name, ownerKey);
    },
    onOwnerKey: (room, key) => saved.setOwnerKey(room, key),
  });

  const chatScreen = new ChatScreen({
    els,
    saved,
    surface,
    origin,
    assets: files,
    onCounts,
    onJoined,
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
    // With a token, the host app names the member: the token's name, not a typed one.
    chatScreen.join(room, token ? '' : name, ownerKey, token);
  }

  if (embedded) {
    const room = normalizeRoom(fixedRoom || 'lobby');
    // The card says which room it joins (there is no room field to say it).
    app.querySelector('.tagline').textContent = roomName(room);
    joinScreen.show({ room, name: fixedName });
    if (token || fixedName) join(room, fixedName);
    else joinScreen.focusFirst(room);
  } else {
    surface.listen(window, 'hashchange', () => {
      const room = roomFromLocation(location);
      if (!room) return;
      // A link to another room was opened in this tab: leave, and offer to join that one.
      if (chatScreen.visible && room !== chatScreen.room) chatScreen.leave();
      if (joinScreen.visible) joinScreen.setRoom(room);
    });
    const urlRoom = roomFromLocation(location);
    joinScreen.show({ room: urlRoom || 'lobby', name: saved.name });
    // A reload of a tab that was in a room goes straight back in (the session takes the name back).
    const back = saved.rejoin(urlRoom);
    if (back) {
      joinScreen.show(back);
      join(back.room, back.name);
    } else {
      joinScreen.focusFirst(urlRoom);
    }
  }

  return {
    surface,
    chatScreen,
    destroy() {
      chatScreen.close();
      kicked.hide();
      surface.destroy();
    },
  };
}
