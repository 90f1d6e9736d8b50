// The room's own state as the welcome and the room change events describe it: topic, lock, and
// whether this member is the owner; and the line each change shows in the conversation. Like
// message-state.js, a change older than what is known (a gap filled late) changes nothing.

/** Change events about the room itself. */
export const ROOM_CHANGES = new Set(['topic', 'lock', 'kick']);

/** Longest topic (server: the topic limit). */
export const MAX_TOPIC_CHARS = 200;

export function isRoomChange(v) {
  return v !== null && typeof v === 'object' && ROOM_CHANGES.has(v.type) && Number.isSafeInteger(v.id);
}

/** The conversation line for a room change. */
export function changeText(frame) {
  const who = typeof frame.name === 'string' && frame.name ? frame.name : 'The owner';
  if (frame.type === 'topic') {
    return frame.text ? `${who} set the topic: ${frame.text}` : `${who} cleared the topic`;
  }
  if (frame.type === 'lock') return frame.locked ? `${who} locked the room` : `${who} unlocked the room`;
  if (frame.type === 'kick') return `${who} removed ${frame.target} from the room`;
  return '';
}

export class RoomState {
  constructor() {
    this.topic = '';
    this.locked = false;
    this.owner = false;
    this.version = 0; // newest event id the topic and lock reflect
  }

  /** A welcome: the current topic and lock as of `version` (its last id). */
  welcome(frame, version) {
    this.topic = typeof frame.topic === 'string' ? frame.topic : '';
    this.locked = frame.locked === true;
    this.owner = frame.owner === true;
    this.version = version;
    return this.view();
  }

  /** A room change: whether the topic or lock changed. */
  apply(frame) {
    if (frame.id <= this.version) return false;
    if (frame.type === 'topic' && typeof frame.text === 'string') {
      this.topic = frame.text;
      this.version = frame.id;
      return true;
    }
    if (frame.type === 'lock' && typeof frame.locked === 'boolean') {
      this.locked = frame.locked;
      this.version = frame.id;
      return true;
    }
    return false;
  }

  view() {
    return { topic: this.topic, locked: this.locked, owner: this.owner };
  }
}
