// What the header says about the connection, and what a screen reader hears. Pure: the chat
// screen renders what these return.

const ANNOUNCE = {
  connected: 'Connected.',
  waiting: 'Connection lost. Reconnecting…',
  replaced: 'This chat was opened in another tab.',
};

/**
 * The header's view of a connection state event.
 * @param {{state: string, attempt?: number, retryAt?: number}} d  the `state` event's detail
 * @param {{now: number, joinedOnce: boolean}} o
 * @returns {{text: string, button: string|null, ticks: boolean}}  button: the label of the
 *   reconnect button, or null to hide it; ticks: the text counts down and must be refreshed
 */
export function statusView(d, { now, joinedOnce }) {
  switch (d.state) {
    case 'connecting':
      return { text: d.attempt > 0 || joinedOnce ? 'Reconnecting…' : 'Connecting…', button: null, ticks: false };
    case 'connected':
      return { text: 'Connected', button: null, ticks: false };
    case 'waiting': {
      const secs = Math.max(0, Math.ceil((d.retryAt - now) / 1000));
      return {
        text: secs > 0 ? `Reconnecting in ${secs} s…` : 'Reconnecting…',
        button: 'Reconnect now',
        ticks: true,
      };
    }
    case 'replaced':
      return { text: 'Opened in another tab', button: 'Use here', ticks: false };
    case 'closed':
      return { text: 'Disconnected', button: null, ticks: false };
    default:
      return { text: '', button: null, ticks: false };
  }
}

/**
 * Screen readers hear changes of state, never every tick of the countdown, and not the first
 * "Connected" (the chat screen appearing says it).
 */
export class Announcer {
  constructor() {
    this.last = '';
  }

  /** The text to announce for this state, or '' for silence. */
  next(state) {
    const text = ANNOUNCE[state];
    if (!text) return '';
    const say = this.last !== state && (state !== 'connected' || this.last !== '');
    this.last = state;
    return say ? text : '';
  }

  reset() {
    this.last = '';
  }
}
