// The chat screen: one connection to a room, drawn as the message list, the member list, the
// typing line, the connection status, the message menu and the owner panel. Decisions live in
// the modules it imports.

import { Attachments, filesBase } from './attachments.js';
import { Attention } from './attention.js';
import { Composer } from './composer.js';
import { ChatConnection } from './connection.js';
import { EmojiPicker } from './emoji-picker.js';
import { confirmDialog } from './member-menu.js';
import { MentionComplete } from './mention-complete.js';
import { actionErrorText, LongPress, messageActions } from './message-actions.js';
import { MessageMenu } from './message-menu.js';
import { markOwners } from './owner-badge.js';
import { OwnerPanel } from './owner-panel.js';
import { RoomSettings } from './room-settings.js';
import { roomName } from './room-title.js';
import { SearchPanel } from './search-panel.js';
import { Announcer, statusView } from './status.js';
import { Typists } from './typing.js';
import { MessageList, renderMembers } from './ui.js';
import { isPrivateRoom, roomLink, typingText } from './util.js';

/** Error codes about an action (edit, delete, react, moderation): said under the composer. */
const ACTION_NOTICES = new Set(['not_found', 'forbidden', 'edit_window', 'invalid_emoji', 'too_many_reactions']);

/** Pages of older messages a jump to a search result loads at most (the list keeps 1,500). */
const JUMP_PAGES = 30;

/** What the history notice says about missed messages and older pages. */
export function historyNotice(detail) {
  if (detail.state === 'retrying') {
    return 'Some messages from while you were away could not be loaded yet. Retrying…';
  }
  if (detail.state === 'filled') return 'The missed messages are loaded.';
  if (detail.error) return 'Older messages could not be loaded. Scroll up to try again.';
  return '';
}

export class ChatScreen {
  /**
   * @param {object} o
   * @param {Record<string, HTMLElement>} o.els
   * @param {import('./saved.js').Saved} o.saved
   * @param {(why: {code?: string, message?: string}) => void} o.onExit  back to the join screen
   * @param {import('./surface.js').Surface} o.surface  the page's document or a widget's shadow root
   * @param {string} [o.origin]  the chat server's origin
   * @param {string} [o.assets]  where our static files are ('' on our page)
   * @param {(counts: object) => void} [o.onCounts]  a widget's counts (our page shows them in its title)
   * @param {(who: {room: string, name: string}) => void} [o.onJoined]  after each first welcome
   */
  constructor({ els, saved, onExit, surface, origin = location.origin, assets = '', onCounts, onJoined = () => {} }) {
    this.els = els;
    this.saved = saved;
    this.onExit = onExit;
    this.surface = surface;
    this.origin = origin;
    this.onJoined = onJoined;
    this.conn = null;
    this.room = '';
    this.name = '';
    this.ownerKey = '';
    this.roomView = { topic: '', title: '', locked: false, owner: false };
    this.membersView = { members: [], away: [], owners: [] };
    this.kickedNames = new Set(); // kicked just now: their leave is not a second line
    this.countdownTimer = null;
    this.noticeTimer = null;
    this.announcer = new Announcer();
    this.typists = new Typists({
      timers: globalThis,
      onChange: (names) => {
        els.typing.textContent = typingText(names);
      },
    });
    this.list = new MessageList({
      surface,
      scroller: els.scroller,
      list: els.messages,
      pendingList: els.pending,
      marker: els.newMessages,
      onTrim: (ids) => this.conn?.forget(ids),
      onNearTop: () => this.conn?.loadOlder(this.list.itemCount()),
      onMenu: (id, button) => this.openMenu(id, button),
      onReact: (id, emoji) => this.conn?.react(id, emoji),
      onTool: (action, id, emoji) => this.choose(action, id, emoji),
    });
    this.attachments = new Attachments({
      els,
      upload: (file, opts) => (this.conn ? this.conn.upload(file, opts) : Promise.reject({ code: 'not_connected' })),
    });
    this.composer = new Composer({
      els,
      onSend: (text, replyTo) => this.conn?.send(text, { replyTo, files: this.attachments.take() }),
      onTyping: () => this.conn?.typing(),
      hasFiles: () => this.attachments.ready,
    });
    this.menu = new MessageMenu({
      surface,
      el: els.messageMenu,
      onChoose: (action, id, emoji) => this.choose(action, id, emoji),
    });
    this.attention = new Attention({
      els,
      surface,
      onCounts,
      list: this.list,
      sendRead: (id) => this.conn?.read(id),
      roomLabel: () => (this.visible ? roomName(this.room, this.roomView.title) : ''),
    });
    this.search = new SearchPanel({
      els,
      surface,
      origin,
      room: () => this.room,
      active: () => this.visible,
      onJump: (id) => this.jumpTo(id),
    });
    this.mentionComplete = new MentionComplete({
      input: els.input,
      listEl: els.mentionList,
      form: els.composer,
      members: () => this.membersView.members,
      me: () => this.name,
    });
    this.ownerPanel = new OwnerPanel({
      els,
      onTopic: (text) => this.conn?.setTopic(text),
      onTitle: (text) => this.conn?.setTitle(text),
      onLock: (locked) => this.conn?.lock(locked),
    });
    this.settings = new RoomSettings({ els, doc: surface.layer });
    this.picker = new EmojiPicker({
      doc: surface.layer,
      assets,
      storage: surface.embedded ? saved.local : globalThis.localStorage,
    });
    // A touch resting on a message opens its menu (hover shows the button on desktop).
    const press = new LongPress({
      onPress: (li) => {
        const more = li.querySelector('.more-button');
        if (more) this.openMenu(Number(li.dataset.id), more);
      },
    });
    els.messages.addEventListener('pointerdown', (ev) => {
      const li = ev.target.closest('.msg');
      if (ev.pointerType === 'touch' && li?.dataset.id && !ev.target.closest('button, .editor')) press.start(li);
    });
    for (const type of ['pointerup', 'pointercancel', 'pointermove']) {
      els.messages.addEventListener(type, (ev) => {
        if (type !== 'pointermove' || Math.abs(ev.movementX) + Math.abs(ev.movementY) > 8) {
          if (press.end() && type === 'pointerup') ev.preventDefault();
        }
      });
    }
    els.messages.addEventListener('contextmenu', (ev) => {
      if (ev.target.closest('.msg') && press.fired) ev.preventDefault();
    });

    els.leaveButton.addEventListener('click', () => {
      this.leave();
      (els.joinName.closest('[hidden]') ? els.joinButton : els.joinName).focus();
    });
    els.reconnectNow.addEventListener('click', () => this.conn?.retryNow());
    els.shareRoom.addEventListener('click', () => this.copyRoomLink());
    // Back online or back to the tab: retry now what waits for a timer (never a takeover).
    const retry = () => {
      if (this.conn?.state === 'waiting') this.conn.retryNow();
      else this.conn?.retryHistory();
    };
    surface.listen(window, 'online', retry);
    surface.listen(document, 'visibilitychange', () => {
      if (document.visibilityState !== 'visible') return;
      retry();
    });
    els.membersToggle.addEventListener('click', () => {
      const open = els.membersPanel.classList.toggle('open');
      els.membersToggle.setAttribute('aria-expanded', String(open));
    });
    // Keys pressed inside the UI only (in a widget, not the host page's).
    surface.listen(surface.root, 'keydown', (ev) => {
      // Escape closes the innermost thing only: the menu, an editor or a reply take it first.
      if (ev.key === 'Escape' && !ev.defaultPrevented && els.membersPanel.classList.contains('open')) {
        els.membersPanel.classList.remove('open');
        els.membersToggle.setAttribute('aria-expanded', 'false');
        els.membersToggle.focus();
      }
    });
  }

  get visible() {
    return !this.els.chatScreen.hidden;
  }

  /**
   * Connect to `room` as `name` (or with the host app's `token`, which names us); the screen
   * shows once the first welcome arrives.
   */
  join(room, name, ownerKey = '', token = undefined) {
    if (this.conn) this.conn.leave();
    this.room = room;
    this.name = name;
    this.list.me = name;
    this.list.clear();
    this.typists.clear();
    this.menu.close(false);
    this.composer.setReply(null);
    this.attachments.clear();
    this.list.files = filesBase(room, this.surface.embedded ? this.origin : '');
    this.setNotice('');
    this.attention.start(name);
    this.search.reset();
    this.ownerKey = ownerKey || this.saved.ownerKey(room);
    this.renderRoom({ topic: '', title: '', locked: false, owner: false });
    this.kickedNames.clear();

    const c = new ChatConnection({
      room,
      name,
      session: this.saved.sessionSecret(),
      origin: this.origin,
      ownerKey: this.ownerKey,
      token,
    });
    this.conn = c;
    const on = (type, fn) =>
      c.addEventListener(type, (ev) => {
        if (this.conn === c) fn(ev.detail);
      });
    on('welcome', (d) => {
      this.welcomed(d);
      this.attention.welcome(d);
    });
    on('read', (d) => this.attention.read(d.id));
    on('members', (d) => {
      this.membersView = {
        members: d.members,
        away: d.away ?? [],
        verified: d.verified ?? [],
        count: d.count,
        owners: d.owners ?? [],
      };
      this.renderMembers();
      markOwners(this.els.messages, this.membersView.owners);
    });
    on('update', (d) => {
      this.list.updateMessage(d.message, { own: d.own });
      this.attention.update(d.message);
      markOwners(this.els.messages, this.membersView.owners);
      if (d.message.deleted) this.composer.replyDeleted(d.message.id);
      if (d.message.deleted && this.menu.id === d.message.id) this.menu.close(false);
    });
    on('room', (d) => this.renderRoom(d));
    on('system', (d) => {
      // A kick is one line: the leave that follows it only updates the member list.
      if (d.kind === 'kick' && d.live && d.target) this.kickedNames.add(d.target);
      this.list.addSystem(d.text, d.at);
    });
    on('message', (d) => {
      this.list.addMessage(d.message, { own: d.own, live: d.live });
      markOwners(this.els.messages, this.membersView.owners);
      this.typists.stop(d.message.name);
      this.attention.message(d);
    });
    on('older', (d) => {
      if (d.error) this.setNotice(historyNotice(d), 6000);
      else this.list.addOlder(d.messages);
      for (const { message } of d.messages ?? []) this.attention.update(message);
    });
    on('join', (d) => this.list.addSystem(`${d.name} joined`, d.at));
    on('leave', (d) => {
      if (!this.kickedNames.delete(d.name)) this.list.addSystem(`${d.name} left`, d.at);
      this.typists.stop(d.name);
    });
    on('typing', (d) => this.typists.start(d.name));
    on('pending', (d) => this.list.addPending(d.item, this.name));
    on('sent', (d) => this.list.removePending(d.item.nonce));
    on('rejected', (d) => {
      this.list.removePending(d.item.nonce);
      this.composer.rejected(d);
    });
    on('gap', (d) => this.setNotice(historyNotice(d), d.state === 'filled' ? 4000 : 0));
    on('notice', (d) => {
      if (d.code === 'rate_limited' || d.target !== undefined || ACTION_NOTICES.has(d.code)) {
        this.composer.showError(actionErrorText(d));
      } else {
        console.warn('chatterly:', d.code, d.message);
      }
    });
    on('failure', (d) => {
      // A refused owner key is forgotten, or every later visit would be refused the same way.
      if (d.code === 'forbidden') this.saved.setOwnerKey(this.room, '');
      this.exit(d);
    });
    on('state', (d) => this.renderState(d));
    c.connect();
  }

  welcomed(d) {
    this.name = d.name;
    this.list.me = d.name;
    this.saved.enter(this.room, d.name);
    // The key made us the owner: keep it for next time. Refused: forget it and say so.
    if (this.ownerKey && d.owner) this.saved.setOwnerKey(this.room, this.ownerKey);
    if (this.ownerKey && !d.owner && d.first) {
      this.saved.setOwnerKey(this.room, '');
      this.setNotice('The owner key was not accepted: you joined as a member.', 8000);
    }
    // The address names the room on our page; a host app's address is its own.
    if (!this.surface.embedded && location.hash !== `#${this.room}`) {
      history.replaceState(null, '', `${location.pathname}#${this.room}`);
    }
    if (!d.first) return;
    // The history that follows is not news: keep the live region quiet while it is drawn.
    this.els.log.setAttribute('aria-live', 'off');
    setTimeout(() => this.els.log.setAttribute('aria-live', 'polite'), 0);
    const focus = this.surface.mayFocus();
    this.show();
    if (focus) this.composer.focus();
    this.onJoined({ room: this.room, name: d.name });
  }

  show() {
    const { els } = this;
    els.joinScreen.hidden = true;
    els.chatScreen.hidden = false;
    els.roomTitle.textContent = roomName(this.room, this.roomView.title);
    els.roomTitle.title = isPrivateRoom(this.room) ? this.room : '';
    this.updateTitle();
  }

  /** Leave the room (if in one) and hand over to the join screen. */
  leave() {
    if (this.conn) this.conn.leave();
    this.exit({});
  }

  /** Leave without going back to the join screen (the UI is being taken down). */
  close() {
    this.conn?.leave();
    this.conn = null;
    this.stopCountdown();
    this.typists.clear();
    clearTimeout(this.noticeTimer);
  }

  /** The connection is closed (or failed): drop it and go back to the join screen. */
  exit(why) {
    this.conn = null;
    this.menu.close(false);
    this.composer.setReply(null);
    this.stopCountdown();
    this.announcer.reset();
    this.saved.leave();
    this.els.chatScreen.hidden = true;
    this.updateTitle();
    this.onExit({ ...why, room: this.room, name: this.name });
  }

  /** The title and the header's counts (attention.js). */
  updateTitle() {
    this.attention.render();
  }

  /**
   * Show message `id` (a search result): in the list already, or after loading older pages until
   * it is. Resolves false when it is further back than the list keeps.
   */
  async jumpTo(id) {
    for (let pages = 0; !this.list.item(id) && pages < JUMP_PAGES; pages++) {
      const c = this.conn;
      if (!c) return false;
      if (!(await c.loadOlder(this.list.itemCount()))) {
        if (!c.loadingOlder) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const li = this.list.item(id);
    if (!li) return false;
    this.list.focusMessage(id);
    li.classList.add('found');
    setTimeout(() => li.classList.remove('found'), 2000);
    return true;
  }

  renderMembers() {
    const { els } = this;
    const { members, away, verified, count } = this.membersView;
    renderMembers(els.membersList, members, this.name, {
      away,
      verified,
      owner: this.roomView.owner,
      owners: this.membersView.owners ?? [],
      roomLabel: () => roomName(this.room, this.roomView.title),
      onKick: (name) => this.conn?.kick(name),
      doc: this.surface.layer,
    });
    // In a crowd the list holds the latest joiners and `count` is the room's size.
    els.membersCount.textContent = String(count ?? members.length);
    els.membersToggleCount.textContent = String(count ?? members.length);
  }

  /** The room's topic and lock in the header, and the owner panel. */
  renderRoom(view) {
    const { els } = this;
    const ownerChanged = view.owner !== this.roomView.owner;
    this.roomView = view;
    if (this.room) els.roomTitle.textContent = roomName(this.room, view.title);
    this.updateTitle();
    els.roomTopic.textContent = view.topic;
    els.roomTopic.hidden = !view.topic;
    els.roomTopic.title = view.topic;
    els.roomLocked.hidden = !view.locked;
    this.ownerPanel.render(view);
    this.settings.render(view);
    if (ownerChanged) this.renderMembers();
  }

  /** Open the menu of message `id` next to `button`. */
  openMenu(id, button) {
    const v = this.list.views.get(id);
    if (!v || !this.conn) return;
    const actions = messageActions(v.message, { me: this.name, owner: this.roomView.owner });
    this.menu.open(button, v.message, actions, this.name);
  }

  /** A menu item was chosen for message `id`. */
  choose(action, id, emoji) {
    const v = this.list.views.get(id);
    if (!v || !this.conn) return;
    if (action === 'react') this.conn.react(id, emoji);
    else if (action === 'delete') {
      confirmDialog(this.surface.layer, {
        title: 'Delete this message?',
        body: `The message from ${v.message.name} is deleted for everyone in the room.`,
        confirm: 'Delete',
      }).then((yes) => {
        if (yes) this.conn?.deleteMessage(id);
        this.list.item(id)?.focus();
      });
    } else if (action === 'picker') {
      this.picker.open().then((emoji) => {
        if (emoji) this.conn?.react(id, emoji);
        this.list.item(id)?.focus();
      });
    } else if (action === 'edit') this.list.startEdit(id, (text) => this.conn?.edit(id, text));
    else if (action === 'reply') {
      this.composer.setReply(v.message);
      this.composer.focus();
    }
  }

  renderState(d) {
    const { els } = this;
    this.stopCountdown();
    const say = this.announcer.next(d.state);
    if (say) els.connAnnounce.textContent = say;
    els.connStatus.dataset.state = d.state;
    const draw = () => {
      const view = statusView(d, { now: Date.now(), joinedOnce: !!this.conn?.joinedOnce });
      els.connText.textContent = view.text;
      els.reconnectNow.hidden = view.button === null;
      els.reconnectNow.textContent = view.button ?? 'Reconnect now';
      return view;
    };
    if (draw().ticks) this.countdownTimer = setInterval(draw, 250);
  }

  stopCountdown() {
    if (this.countdownTimer !== null) clearInterval(this.countdownTimer);
    this.countdownTimer = null;
  }

  /** The history notice above the composer; `ms` > 0 clears it after that long. */
  setNotice(text, ms = 0) {
    clearTimeout(this.noticeTimer);
    this.els.historyNotice.textContent = text;
    if (text && ms > 0) {
      this.noticeTimer = setTimeout(() => {
        this.els.historyNotice.textContent = '';
      }, ms);
    }
  }

  async copyRoomLink() {
    const { els } = this;
    const link = roomLink(this.origin, this.room);
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
  }
}
