// Frames waiting for the next macrotask, per socket (the batching ceiling, BATCH_FRAMES=1).
//
// Everything the room produces while it handles one burst of socket events is queued; a
// `setTimeout(0)` flush then sends each socket its frames as one JSON array, or a lone frame as
// a plain object. An idle room flushes at once: one event, one frame, no timer wait in between.
// The messages of a flush are stored together first (one transaction), then sent.

// Keeps every batch well under the runtime's 1 MiB WebSocket message limit.
const MAX_BATCH_BYTES = 256 * 1024;

export class Outbox {
  constructor(storeRows) {
    this.storeRows = storeRows;
    this.queues = new Map();
    this.rows = [];
    this.scheduled = false;
  }

  send(ws, frame) {
    let q = this.queues.get(ws);
    if (!q) {
      q = [];
      this.queues.set(ws, q);
    }
    q.push(frame);
    this.schedule();
  }

  // A message row to store before the batch that carries it is sent.
  store(id, body) {
    this.rows.push([id, body]);
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.flush(), 0);
  }

  flush() {
    this.scheduled = false;
    if (this.rows.length) {
      this.storeRows(this.rows);
      this.rows = [];
    }
    const queues = this.queues;
    this.queues = new Map();
    for (const [ws, q] of queues) {
      try {
        sendBatches(ws, q);
      } catch {
        // closing socket: ignore
      }
    }
  }
}

function sendBatches(ws, frames) {
  if (frames.length === 1) return ws.send(frames[0]);
  let batch = [];
  let bytes = 0;
  for (const f of frames) {
    if (batch.length && bytes + f.length > MAX_BATCH_BYTES) {
      ws.send(batch.length === 1 ? batch[0] : `[${batch.join(',')}]`);
      batch = [];
      bytes = 0;
    }
    batch.push(f);
    bytes += f.length + 1;
  }
  ws.send(batch.length === 1 ? batch[0] : `[${batch.join(',')}]`);
}
