// <chatterly-room>: the chat of one room in any page, on the SDK (./chatterly.js), in Shadow DOM
// so the host page's CSS neither leaks in nor out. Reference: docs/sdk.md ("The widget").
//
//   <script type="module" src="https://chat.example.com/sdk/chatterly-room.js"></script>
//   <chatterly-room server="https://chat.example.com" room="lobby"></chatterly-room>
//
// Attributes: `server` (default: the origin this script came from), `room`, and either
// `token-url` (the host app's endpoint answering {"token":"…"} or the token as text; called with
// credentials: "include") or `name` (joins under it; without it the widget asks for one).
// Theming: the CSS custom properties below, set on the element or any ancestor; light or dark
// follows the host's `color-scheme` (the defaults use light-dark()).

import { Room } from './chatterly.js';

const CSS = `
:host {
  --chatterly-font: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif, "Noto Color Emoji";
  --chatterly-bg: light-dark(#ffffff, #171a22);
  --chatterly-surface: light-dark(#f1f2f6, #222632);
  --chatterly-text: light-dark(#1b1e28, #e7e9f0);
  --chatterly-muted: light-dark(#585f70, #a3aabb);
  --chatterly-border: light-dark(#d4d8e2, #3a4050);
  --chatterly-accent: light-dark(#4f46e5, #8f88ff);
  --chatterly-accent-text: light-dark(#ffffff, #10121a);
  --chatterly-danger: light-dark(#b3261e, #ff8a8f);
  --chatterly-radius: 12px;
  display: flex; flex-direction: column; min-width: 0; min-height: 260px; height: 100%;
  box-sizing: border-box; overflow: hidden;
  font: 15px/1.45 var(--chatterly-font); color: var(--chatterly-text); background: var(--chatterly-bg);
  border: 1px solid var(--chatterly-border); border-radius: var(--chatterly-radius);
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 .5em; padding: .6em .8em;
  border-bottom: 1px solid var(--chatterly-border); }
h2 { font-size: 1em; margin: 0; overflow-wrap: anywhere; }
.topic, .status, .meta, .typing, .hint { color: var(--chatterly-muted); font-size: .85em; }
.topic { flex-basis: 100%; overflow-wrap: anywhere; margin: 0; }
.status { margin-left: auto; }
.log { flex: 1; overflow-y: auto; padding: .4em .8em; min-height: 0; }
.list { list-style: none; margin: 0; padding: 0; }
.log:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible {
  outline: 2px solid var(--chatterly-accent); outline-offset: 2px; }
.msg { padding: .3em 0; overflow-wrap: anywhere; }
.msg .who { font-weight: 600; }
.verified { font-weight: 700; font-size: .8em; cursor: help; }
.msg .text { white-space: pre-wrap; margin: 0; }
.msg.deleted .text { font-style: italic; color: var(--chatterly-muted); }
.quote { margin: .1em 0; padding-left: .5em; border-left: 3px solid var(--chatterly-border);
  color: var(--chatterly-muted); font-size: .9em; }
.system { color: var(--chatterly-muted); font-size: .85em; padding: .2em 0; }
.reactions { display: flex; flex-wrap: wrap; gap: .3em; margin-top: .2em; }
button { font: inherit; color: inherit; cursor: pointer; border-radius: calc(var(--chatterly-radius) / 2);
  border: 1px solid var(--chatterly-border); background: var(--chatterly-surface); padding: .15em .5em; }
button[aria-pressed="true"] { border-color: var(--chatterly-accent); }
button.primary { background: var(--chatterly-accent); color: var(--chatterly-accent-text);
  border-color: var(--chatterly-accent); padding: .4em .9em; font-weight: 600; }
button:disabled { opacity: .6; cursor: default; }
form { display: flex; gap: .5em; align-items: flex-end; padding: .6em .8em; border-top: 1px solid var(--chatterly-border); }
form.join { flex-direction: column; align-items: stretch; border: 0; margin: auto 0; }
label { font-weight: 600; font-size: .9em; }
.field { display: flex; flex-direction: column; gap: .2em; flex: 1; min-width: 0; }
textarea, input { font: inherit; color: inherit; background: var(--chatterly-bg); width: 100%; min-width: 0;
  border: 1px solid var(--chatterly-border); border-radius: calc(var(--chatterly-radius) / 2); padding: .4em .5em; }
textarea { resize: none; height: 2.6em; }
.error { color: var(--chatterly-danger); font-size: .85em; margin: 0; min-height: 0; }
.error:empty, .typing:empty { display: none; }
.typing { padding: 0 .8em; margin: 0; }
.replying { margin: 0; padding: .3em .8em 0; font-size: .85em; color: var(--chatterly-muted); overflow-wrap: anywhere; }
.msg button.reply { border: 0; background: none; padding: 0 .2em; font-size: .8em; color: var(--chatterly-muted);
  text-decoration: underline; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith('aria-') || k === 'role' || k === 'for') e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

let nextId = 0;

export class ChatterlyRoom extends HTMLElement {
  static observedAttributes = ['server', 'room', 'name', 'token-url'];

  constructor() {
    super();
    nextId += 1;
    this.uid = `c${nextId}`;
    this.root = this.attachShadow({ mode: 'open' });
    this.root.append(el('style', { textContent: CSS }));
    this.chat = null;
  }

  connectedCallback() {
    this.start();
  }

  disconnectedCallback() {
    this.chat?.close();
    this.chat = null;
  }

  attributeChangedCallback(_name, before, now) {
    if (before !== now && this.isConnected && this.started) this.start();
  }

  get server() {
    return this.getAttribute('server') || new URL(import.meta.url).origin;
  }

  /** (Re)starts from the attributes: joins with a token, a name, or asks for a name. */
  start() {
    this.started = true;
    this.chat?.close();
    this.chat = null;
    for (const node of [...this.root.childNodes]) if (node.localName !== 'style') node.remove();
    const room = this.getAttribute('room') || 'lobby';
    const name = this.getAttribute('name');
    if (this.hasAttribute('token-url')) this.join(room, { token: () => this.fetchToken() });
    else if (name) this.join(room, { name });
    else this.askName(room);
  }

  async fetchToken() {
    const res = await fetch(new URL(this.getAttribute('token-url'), document.baseURI), { credentials: 'include' });
    if (!res.ok) throw new Error(`the token endpoint answered ${res.status}`);
    const text = (await res.text()).trim();
    try {
      return JSON.parse(text).token;
    } catch {
      return text;
    }
  }

  askName(room, error = '') {
    const id = `${this.uid}-name`;
    const input = el('input', { id, type: 'text', autocomplete: 'nickname', maxLength: 32, required: true });
    const err = el('p', { className: 'error', id: `${id}-error`, role: 'alert', textContent: error });
    input.setAttribute('aria-describedby', err.id);
    const form = el(
      'form',
      { className: 'join', 'aria-label': `Join ${room}` },
      el('label', { for: id, textContent: 'Your name' }),
      input,
      err,
      el('button', { className: 'primary', type: 'submit', textContent: `Join ${room}` }),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      form.remove();
      this.join(room, { name });
    });
    this.root.append(form);
    if (this.hasAttribute('autofocus')) input.focus();
  }

  join(room, who) {
    const title = el('h2', { id: `${this.uid}-title`, textContent: room });
    const topic = el('p', { className: 'topic', hidden: true });
    const status = el('span', { className: 'status', role: 'status', textContent: 'Connecting…' });
    const list = el('ol', { className: 'list' });
    const log = el(
      'div',
      { className: 'log', role: 'log', tabIndex: 0, 'aria-label': `Messages in ${room}`, 'aria-live': 'polite' },
      list,
    );
    const typing = el('p', { className: 'typing', 'aria-live': 'polite' });
    const inputId = `${this.uid}-message`;
    const input = el('textarea', { id: inputId, maxLength: 2000, rows: 1, disabled: true });
    const error = el('p', { className: 'error', id: `${inputId}-error`, 'aria-live': 'assertive' });
    input.setAttribute('aria-describedby', error.id);
    const send = el('button', { className: 'primary', type: 'submit', textContent: 'Send', disabled: true });
    const composer = el(
      'form',
      { 'aria-label': 'Send a message' },
      el(
        'div',
        { className: 'field' },
        el('label', { className: 'sr', for: inputId, textContent: 'Message' }),
        input,
        error,
      ),
      send,
    );
    const replying = el('p', { className: 'replying', hidden: true });
    this.root.append(el('header', {}, title, status, topic), log, typing, replying, composer);

    const chat = new Room({ url: this.server, room, ...who });
    this.chat = chat;
    const items = new Map(); // message id -> <li>
    const typists = new Map(); // name -> timer
    const showTypists = () => {
      const names = [...typists.keys()];
      typing.textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…`;
    };
    const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const add = (node, follow) => {
      list.append(node);
      while (list.childElementCount > 500) {
        const first = list.firstElementChild;
        items.delete(Number(first.dataset.id));
        first.remove();
      }
      if (follow) log.scrollTop = log.scrollHeight;
    };
    const render = (m) => {
      const li = items.get(m.id) ?? el('li', { className: 'msg' });
      li.dataset.id = String(m.id);
      li.classList.toggle('deleted', m.deleted);
      const when = el('time', {
        className: 'meta',
        dateTime: new Date(m.at).toISOString(),
        textContent: TIME.format(m.at),
      });
      const reactions = m.reactions.length
        ? el(
            'div',
            { className: 'reactions' },
            ...m.reactions.map((r) => {
              const b = el('button', { type: 'button', textContent: `${r.emoji} ${r.count}` });
              b.setAttribute('aria-pressed', String(r.mine));
              b.setAttribute('aria-label', `${r.emoji} ${r.count}: ${r.names.join(', ')}`);
              b.addEventListener('click', () => chat.react(m.id, r.emoji).catch((e) => say(e)));
              return b;
            }),
          )
        : null;
      li.replaceChildren(
        el('span', { className: 'who', textContent: m.name }),
        ' ',
        // The app that embeds the chat vouches for this member (a join token).
        m.verified
          ? el('span', {
              className: 'verified',
              role: 'img',
              'aria-label': 'verified',
              title: 'Verified by this site',
              textContent: '✓',
            })
          : null,
        m.verified ? ' ' : null,
        when,
        m.editedAt && !m.deleted ? el('span', { className: 'meta', textContent: ' (edited)' }) : null,
        m.reply
          ? el('p', {
              className: 'quote',
              textContent: `${m.reply.name}: ${m.reply.deleted ? 'deleted' : m.reply.text}`,
            })
          : null,
        el('p', { className: 'text', textContent: m.deleted ? 'This message was deleted.' : m.text }),
        reactions,
        m.deleted ? null : replyButton(m),
      );
      items.set(m.id, li);
      return li;
    };
    let replyTo = null;
    const setReply = (m) => {
      replyTo = m?.id ?? null;
      replying.hidden = !m;
      if (!m) return replying.replaceChildren();
      const cancel = el('button', { type: 'button', textContent: 'Cancel', 'aria-label': 'Cancel the reply' });
      cancel.addEventListener('click', () => {
        setReply(null);
        input.focus();
      });
      replying.replaceChildren(`Replying to ${m.name}: ${[...m.text].slice(0, 60).join('')} `, cancel);
      input.focus();
    };
    function replyButton(m) {
      const b = el('button', { type: 'button', className: 'reply', textContent: 'Reply' });
      b.setAttribute('aria-label', `Reply to ${m.name}`);
      b.addEventListener('click', () => setReply(m));
      return b;
    }
    const system = (text) => add(el('li', { className: 'system', textContent: text }), atBottom());
    const say = (e) => {
      error.textContent = e?.retryAfterMs
        ? `${e.message} (try again in ${Math.ceil(e.retryAfterMs / 1000)} s)`
        : (e?.message ?? '');
    };

    chat.on('message', (m, { live }) => {
      const follow = !live || m.own || atBottom();
      add(render(m), follow);
      clearTimeout(typists.get(m.name));
      if (typists.delete(m.name)) showTypists();
    });
    chat.on('update', (m) => {
      if (items.has(m.id)) render(m);
    });
    chat.on('room', (r) => {
      topic.textContent = r.topic ? `Topic: ${r.topic}` : '';
      topic.hidden = !r.topic;
      if (r.change?.type === 'topic' && r.live)
        system(`${r.change.name} set the topic${r.topic ? `: ${r.topic}` : ''}`);
      if (r.change?.type === 'lock' && r.live) system(`${r.change.name} ${r.locked ? 'locked' : 'unlocked'} the room`);
    });
    chat.on('join', (e) => system(`${e.name} joined`));
    chat.on('leave', (e) => system(`${e.name} left`));
    chat.on('typing', ({ name }) => {
      clearTimeout(typists.get(name));
      typists.set(
        name,
        setTimeout(() => {
          typists.delete(name);
          showTypists();
        }, 3000),
      );
      showTypists();
    });
    chat.on('members', (e) => {
      if (chat.state === 'connected') status.textContent = `${e.count} online`;
    });
    chat.on('state', (s) => {
      const on = s.state === 'connected';
      input.disabled = !on && s.state !== 'waiting';
      send.disabled = input.disabled;
      if (on) status.textContent = `${chat.memberCount} online`;
      else if (s.state === 'waiting') status.textContent = 'Reconnecting…';
      else if (s.state === 'connecting') status.textContent = 'Connecting…';
      else if (s.state === 'replaced') status.textContent = 'Open in another tab';
      else if (s.state === 'failed') status.textContent = 'Disconnected';
    });
    chat.on('error', say);

    composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      say(null);
      const options = replyTo === null ? {} : { replyTo };
      setReply(null);
      chat.send(text, options).catch((e) => {
        if (e.code !== 'closed') {
          say(e);
          if (!input.value) input.value = text;
        }
      });
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && replyTo !== null) setReply(null);
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        composer.requestSubmit();
      }
    });
    input.addEventListener('input', () => chat.typing());

    chat.open().then(
      () => {
        this.dispatchEvent(new CustomEvent('chatterly-ready', { detail: { room, name: chat.name } }));
      },
      (e) => {
        if (this.chat !== chat) return;
        for (const node of [...this.root.childNodes]) if (node.localName !== 'style') node.remove();
        if (who.name && ['name_taken', 'invalid_name'].includes(e.code)) this.askName(room, e.message);
        else
          this.root.append(el('p', { className: 'error', role: 'alert', textContent: `Could not join: ${e.message}` }));
      },
    );
  }
}

if (!customElements.get('chatterly-room')) customElements.define('chatterly-room', ChatterlyRoom);
