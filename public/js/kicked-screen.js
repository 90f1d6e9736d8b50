// What a removed member sees on the join screen: who removed them, from which room, and a live
// countdown to when they may join again; the Join button stays disabled until then. The text is
// a pure function (tested in Node); the class only draws it and ticks once a second.

/** "9:05", "1:02:03" or "0:00" for a duration in ms (rounded up: never "0:00" too early). */
export function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * The lines to show. `by`: who removed us (absent when the server did not say, as for a ban
 * found on join); `room`: the room's label (its title, or its id).
 */
export function kickedText({ by = '', room = '', leftMs = 0 }) {
  const where = room ? ` from ${room}` : ' from this room';
  const headline = by ? `${by} removed you${where}.` : `You were removed${where}.`;
  const wait = leftMs > 0 ? `You can join again in ${countdown(leftMs)}.` : 'You can join again now.';
  return { headline, wait };
}

export class KickedScreen {
  /**
   * @param {object} o
   * @param {HTMLElement} o.box      the notice's container
   * @param {HTMLButtonElement} o.button  the Join button, disabled while the ban runs
   * @param {() => number} [o.now]
   */
  constructor({ box, button, now = () => Date.now(), timers = globalThis }) {
    Object.assign(this, { box, button, now, timers, timer: null, info: null });
    const doc = box.ownerDocument;
    this.headline = doc.createElement('p');
    this.headline.className = 'kicked-headline';
    this.wait = doc.createElement('p');
    this.wait.className = 'kicked-wait';
    // The countdown ticks every second: a live region would read each tick. The headline is
    // said once (the box is a status when it appears); the wait is read on demand.
    this.wait.setAttribute('aria-live', 'off');
    box.replaceChildren(this.headline, this.wait);
    box.hidden = true;
  }

  /** Shows the notice for a removal ending at `until` (unix ms, our clock). */
  show({ by = '', room = '', until = 0 }) {
    this.info = { by, room, until };
    this.box.hidden = false;
    this.tick();
  }

  hide() {
    this.info = null;
    this.box.hidden = true;
    this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.button.disabled = false;
    this.button.removeAttribute('aria-describedby');
  }

  get active() {
    return this.info !== null && this.info.until > this.now();
  }

  tick() {
    this.timers.clearTimeout(this.timer);
    if (!this.info) return;
    const leftMs = this.info.until - this.now();
    const { headline, wait } = kickedText({ ...this.info, leftMs });
    this.headline.textContent = headline;
    this.wait.textContent = wait;
    this.button.disabled = leftMs > 0;
    this.button.setAttribute('aria-describedby', this.box.id);
    if (leftMs > 0) this.timer = this.timers.setTimeout(() => this.tick(), Math.min(1000, leftMs % 1000 || 1000));
  }
}
