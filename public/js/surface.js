// Where the chat UI lives: our page's document, or the shadow root of a <chatterly-room> in
// someone else's page. The UI's modules ask this object, never `document` or `window` directly,
// for what differs between the two:
// - `root`: where elements are looked up and keys are heard (a ShadowRoot has getElementById and
//   its own activeElement: `document.activeElement` inside a widget is the host element);
// - `layer`: what dialogs are made with and put in (the page's body, or the widget's box, so the
//   widget's stylesheet reaches them and the host's does not);
// - `frame()`: the box that floating things (the message menu, the phone sheet) stay inside;
// - `listen()`: listeners on document/window that end when the UI is taken down (a widget can be
//   removed from its page; the page itself never is).

export class Surface {
  /**
   * @param {Document | ShadowRoot} root
   * @param {HTMLElement} app  the element holding the UI (page: body; widget: its box)
   */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.doc = root.ownerDocument ?? root; // a Document's ownerDocument is null
    this.embedded = root !== this.doc;
    this.autofocus = false;
    this.stop = new AbortController();
    const surface = this;
    this.layer = {
      createElement: (tag) => surface.doc.createElement(tag),
      createTextNode: (text) => surface.doc.createTextNode(text),
      get activeElement() {
        return surface.root.activeElement;
      },
      body: this.embedded ? app : this.doc.body,
    };
  }

  /**
   * Whether the UI may take the focus: always on our page; in a widget only when the focus is in
   * it already (the person is using it) or the host asked (`autofocus`), never from the host's page.
   */
  mayFocus() {
    return !this.embedded || this.autofocus || this.root.activeElement !== null;
  }

  /** The element with `id` inside this UI. */
  byId(id) {
    return this.root.getElementById(id);
  }

  /** The focused element inside this UI (null when focus is elsewhere). */
  get activeElement() {
    return this.root.activeElement;
  }

  /** The box floating things stay in, in viewport coordinates: the window, or the widget's box. */
  frame() {
    if (this.embedded) return this.app.getBoundingClientRect();
    const view = this.doc.defaultView;
    return {
      top: 0,
      left: 0,
      right: view.innerWidth,
      bottom: view.innerHeight,
      width: view.innerWidth,
      height: view.innerHeight,
    };
  }

  /** addEventListener that ends with destroy(). */
  listen(target, type, fn, options = {}) {
    target.addEventListener(type, fn, { ...options, signal: this.stop.signal });
  }

  /** The element an event started at, also when it crossed a shadow boundary on the way. */
  static origin(ev) {
    return ev.composedPath?.()[0] ?? ev.target;
  }

  destroy() {
    this.stop.abort();
  }
}
