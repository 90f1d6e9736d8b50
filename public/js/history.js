// Pages of `GET /api/rooms/{room}/messages`: `before=` gives older messages for scrolling up;
// `after=` gives every event (messages in their current state and change events) a rejoin missed
// when more than a welcome's worth happened while away.

import { backoffDelay } from './backoff.js';
import { isMessageChange } from './message-state.js';
import { isMessage, MAX_PAGE } from './protocol.js';
import { isRoomChange } from './room-state.js';

/** Whether a page or history entry is a change event. */
export function isChange(v) {
  return isMessageChange(v) || isRoomChange(v);
}

/** Whether a page or history entry is a message frame (history entries may omit `type`). */
export function isMessageEntry(v) {
  return isMessage(v) && (v.type === undefined || v.type === 'message');
}

/**
 * One page of stored messages with `id < before`, oldest first. Throws when the server cannot
 * answer (network, 4xx/5xx, a body that is not a page).
 */
export async function fetchPage({ origin, room, before, limit = MAX_PAGE, fetchImpl }) {
  const url = `${origin}/api/rooms/${encodeURIComponent(room)}/messages?before=${before}&limit=${limit}`;
  const res = await fetchImpl(url);
  if (!res.ok) throw new Error(`history answered ${res.status}`);
  const body = await res.json();
  if (!body || !Array.isArray(body.messages)) throw new Error('history answered without messages');
  return body.messages.filter(isMessage).sort((a, b) => a.id - b.id);
}

/**
 * Every event with `id > after`, oldest first (messages and changes). Throws like fetchPage.
 */
export async function fetchEvents({ origin, room, after, limit = MAX_PAGE, fetchImpl }) {
  const url = `${origin}/api/rooms/${encodeURIComponent(room)}/messages?after=${after}&limit=${limit}`;
  const res = await fetchImpl(url);
  if (!res.ok) throw new Error(`history answered ${res.status}`);
  const body = await res.json();
  if (!body || !Array.isArray(body.messages)) throw new Error('history answered without messages');
  return body.messages.filter((e) => isMessageEntry(e) || isChange(e)).sort((a, b) => a.id - b.id);
}

/**
 * Fills gaps page by page, oldest first (`after=` the last id seen), and retries with backoff when a page cannot be fetched,
 * until every gap is filled or `stop()` is called.
 *
 * fetchPage(after)  the events with id > after, oldest first (at most `limit`)
 * onMessages(list, page)  the events found in a gap, oldest first, and the page they came in
 * onState(detail)   {state: 'retrying', retryAt, attempt} after a failure; {state: 'filled'} when
 *                   no gap is left (after a failure only, so a quiet success stays quiet)
 */
export class GapFiller {
  constructor({
    fetchPage: fetchOne,
    onMessages,
    onState,
    timers,
    now,
    random = Math.random,
    backoff = { base: 1000, max: 30000 },
    maxPages = 20,
    limit = MAX_PAGE,
  }) {
    this.limit = limit;
    this.fetchOne = fetchOne;
    this.onMessages = onMessages;
    this.onState = onState;
    this.timers = timers;
    this.now = now;
    this.random = random;
    this.backoff = backoff;
    this.maxPages = maxPages; // per gap: beyond this the list would drop them again anyway
    this.gaps = []; // {after, before}: the missing ids are after < id < before
    this.running = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.stopped = false;
  }

  get open() {
    return this.gaps.length > 0;
  }

  /** Events with after < id < before were missed; fill them. Resolves when filled or failed once. */
  add(after, before) {
    if (before > after + 1) this.gaps.push({ after, before, pages: 0 });
    return this.run();
  }

  /** Fill now instead of waiting for the retry timer. */
  retryNow() {
    this.clearRetry();
    return this.run();
  }

  stop() {
    this.stopped = true;
    this.clearRetry();
    this.gaps = [];
  }

  /** Resolves true when every gap is filled, false after a failure (a retry is then scheduled). */
  async run() {
    if (this.running || this.stopped) return !this.open;
    this.running = true;
    try {
      while (this.gaps.length > 0) {
        const gap = this.gaps[0];
        let page;
        try {
          page = await this.fetchOne(gap.after);
        } catch {
          if (this.stopped) return false;
          this.scheduleRetry();
          return false;
        }
        if (this.stopped) return false;
        const fresh = page.filter((m) => m.id > gap.after && m.id < gap.before);
        if (fresh.length > 0) this.onMessages(fresh, page);
        gap.pages += 1;
        const newest = page.length > 0 ? page.at(-1).id : gap.before;
        // A short page, or one that reaches the gap's end, ends it.
        if (page.length < this.limit || newest >= gap.before - 1 || newest <= gap.after || gap.pages >= this.maxPages) {
          this.gaps.shift();
        } else {
          gap.after = newest;
        }
      }
    } finally {
      this.running = false;
    }
    if (this.attempt > 0) {
      this.attempt = 0;
      this.onState({ state: 'filled' });
    }
    return true;
  }

  scheduleRetry() {
    const delay = backoffDelay(this.attempt, { ...this.backoff, random: this.random });
    this.attempt += 1;
    const retryAt = this.now() + delay;
    this.clearRetry();
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.run();
    }, delay);
    this.onState({ state: 'retrying', retryAt, attempt: this.attempt });
  }

  clearRetry() {
    if (this.retryTimer !== null) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }
}
