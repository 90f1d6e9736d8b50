// The room changes (topic, lock, kick) as the page shows them: a line in the conversation each.
// The room's state itself (topic, lock, owner) is the SDK's (public/sdk/chatterly.js).

/** Change events about the room itself. */
export const ROOM_CHANGES = new Set(['topic', 'title', 'lock', 'kick']);

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
  if (frame.type === 'title') {
    return frame.text ? `${who} named the room ${frame.text}` : `${who} cleared the room's name`;
  }
  if (frame.type === 'lock') return frame.locked ? `${who} locked the room` : `${who} unlocked the room`;
  if (frame.type === 'kick') return `${who} removed ${frame.target} from the room`;
  return '';
}
