// <chatterly-room>: our page's whole chat UI (public/js/mount.js, the markup of markup.js, the
// stylesheets of public/css/) in any page, in Shadow DOM so the host page's CSS neither leaks in
// nor out. One UI implementation: the widget is a frame around it. Reference: docs/sdk.md ("The
// widget").
//
//   <script type="module" src="https://chat.example.com/sdk/chatterly-room.js"></script>
//   <chatterly-room server="https://chat.example.com" room="lobby"></chatterly-room>
//
// Attributes: `server` (default: the origin this script came from), `room`, and either
// `token-url` (the host app's endpoint answering {"token":"…"} or the token as text; called with
// credentials: "include") or `name` (joins under it; without it the widget asks for one);
// `autofocus` lets it take the focus when it starts. Theming: the --chatterly-* custom
// properties (public/css/app.css); light or dark follows the host's `color-scheme`.
// Events on the element: `chatterly-ready` {room, name} after joining, `chatterly-counts`
// {room, unread, mentions} when they change (our page shows them in its title).

import { mount } from '../js/mount.js';

/** Where our static files are: the origin (and path) this script was loaded from. */
const ASSETS = new URL('..', import.meta.url).href.replace(/\/$/, '');

/** Before the page's stylesheets: the host's inherited styles stop at the box. */
const RESET = `.app { all: initial; }`;

/** After them: the box's frame. */
const FRAME = `
:host { display: block !important; min-width: 0; min-height: 260px; height: 100%; }
:host([hidden]) { display: none !important; }
.app {
  display: block;
  /* all: initial cleared it: the host page's scheme is ours. */
  color-scheme: inherit;
  position: relative;
  /* The box is the containing block of the menu and the phone sheet (position: fixed). */
  contain: layout paint;
  height: 100%;
  overflow: hidden;
  border: 1px solid var(--border);
  border-radius: var(--radius);
}
.chat-screen { height: 100%; }
.join-screen { height: 100%; overflow: auto; }
`;

let sheets = null;
/** The stylesheets, fetched and made once for every widget on the page. */
function styleSheets() {
  if (!sheets) {
    const make = (text, baseURL) => {
      const sheet = new CSSStyleSheet(baseURL ? { baseURL } : {});
      sheet.replaceSync(text);
      return sheet;
    };
    const load = async (path) => {
      const res = await fetch(`${ASSETS}${path}`);
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return make(await res.text(), `${ASSETS}${path}`);
    };
    sheets = Promise.all([load('/css/app.css'), load('/css/attachments.css')]).then((page) => [
      make(RESET),
      ...page,
      make(FRAME),
    ]);
    sheets.catch(() => {
      sheets = null;
    });
  }
  return sheets;
}

export class ChatterlyRoom extends HTMLElement {
  static observedAttributes = ['server', 'room', 'name', 'token-url'];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.ui = null;
    this.run = 0;
  }

  connectedCallback() {
    this.start();
  }

  disconnectedCallback() {
    this.stop();
  }

  attributeChangedCallback(_name, before, now) {
    if (before !== now && this.isConnected && this.started) this.start();
  }

  get server() {
    return (this.getAttribute('server') || new URL(import.meta.url).origin).replace(/\/$/, '');
  }

  stop() {
    this.run += 1;
    this.ui?.destroy();
    this.ui = null;
    this.root.replaceChildren();
  }

  /** (Re)starts from the attributes: joins with a token, a name, or asks for a name. */
  async start() {
    this.started = true;
    this.stop();
    const run = this.run;
    try {
      this.root.adoptedStyleSheets = await styleSheets();
    } catch (e) {
      if (run !== this.run) return;
      const p = document.createElement('p');
      p.setAttribute('role', 'alert');
      p.textContent = `The chat could not be loaded: ${e.message}`;
      this.root.replaceChildren(p);
      return;
    }
    if (run !== this.run) return; // stopped or restarted while the styles loaded
    this.ui = mount(this.root, {
      server: this.server,
      assets: ASSETS,
      room: this.getAttribute('room') || 'lobby',
      name: this.getAttribute('name') || '',
      token: this.hasAttribute('token-url') ? () => this.fetchToken() : undefined,
      autofocus: this.hasAttribute('autofocus'),
      onJoined: (detail) => this.dispatchEvent(new CustomEvent('chatterly-ready', { detail })),
      onCounts: (detail) => this.dispatchEvent(new CustomEvent('chatterly-counts', { detail })),
    });
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
}

if (!customElements.get('chatterly-room')) customElements.define('chatterly-room', ChatterlyRoom);
