//! What goes into the room ([`Event`]) and what comes out ([`Effects`]): the whole interface
//! between the core and the shell.

use super::members::Attachment;
use super::ConnId;
use crate::config::LogLevel;

/// A runtime event, as the shell hands it to [`super::Room::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// A socket was accepted. `address` is the client's address (`CF-Connecting-IP`), if known;
    /// the room keeps only a digest of it.
    Connect {
        conn: ConnId,
        address: Option<&'a str>,
    },
    /// A text frame arrived.
    Frame { conn: ConnId, text: &'a str },
    /// A binary frame arrived (the protocol is JSON text only).
    Binary { conn: ConnId },
    /// A keepalive was answered for the socket without reaching the room (a relay's member):
    /// it is not idle.
    Heard { conn: ConnId },
    /// A text frame arrived that the shell already knows is over `MAX_FRAME_BYTES` from its
    /// length (`crate::protocol::too_large_unread`): it was not copied, and is refused.
    Oversized { conn: ConnId },
    /// The socket closed, errored, or refused a send.
    Gone { conn: ConnId, why: &'static str },
    /// The room's alarm rang. `heard` says, per socket, when the runtime last answered its ping
    /// without waking the room (unix ms).
    Alarm { heard: Vec<(ConnId, u64)> },
}

/// What the shell must carry out, in this order: attachments, closes, sends, logs, then schedule
/// a flush and the alarm if asked.
#[derive(Debug, Default, PartialEq)]
pub struct Effects {
    /// Attachments to persist on sockets (membership changed, or the socket was closed).
    pub attach: Vec<(ConnId, Attachment)>,
    /// Sockets to close.
    pub close: Vec<Close>,
    /// Batches to send, in order; one text per batch, the same for every recipient in `to`.
    pub send: Vec<Batch>,
    pub logs: Vec<LogLine>,
    /// The outbox holds frames: call [`super::Room::flush`] once the current burst of events is
    /// handled.
    pub flush: bool,
    /// Presence frames are being held (see `PRESENCE_BATCH_MS`): flush again in this many ms.
    pub flush_in: Option<u64>,
    /// The room needs its alarm to ring by then (unix ms).
    pub alarm: Option<u64>,
    /// The last socket left: delete the alarm, so the runtime can evict the empty room now
    /// instead of waking it once more for a deadline nobody is waiting on.
    pub cancel_alarm: bool,
    /// A test hook to carry out (only with `TEST_HOOKS=1`).
    pub debug: Option<Debug>,
    /// Storage refused a write: drop the room's memory (it may be ahead of storage) and rebuild
    /// it from storage and the sockets' attachments on the next event.
    pub reload: bool,
    /// Files whose objects to delete from R2 (`crate::files`): their rows are already gone.
    pub delete_files: Vec<String>,
}

/// Close `conn` with `code` (see [`crate::protocol::close`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub conn: ConnId,
    pub code: u16,
    pub reason: &'static str,
    /// A frame the socket gets just before it closes (a kick's explanation), if any.
    pub last: Option<String>,
}

/// One WebSocket text frame for several recipients: a lone frame as a JSON object, or several
/// as a JSON array in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub to: Vec<ConnId>,
    pub text: String,
}

/// A structured log line; the shell adds the level name and the room's log tag.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: LogLevel,
    pub event: &'static str,
    pub fields: serde_json::Value,
}

/// Test hooks, honoured only with `TEST_HOOKS=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Debug {
    /// Flush, then forget every in-memory state, as a hibernation wake would.
    Reset,
    /// Make every message write fail (`true`) or work again (`false`).
    FailWrites(bool),
    /// Answer `conn` with where `text` occurs in the search index's tables (`debug_index`).
    Index { conn: ConnId, text: String },
}

impl Effects {
    pub(super) fn close(&mut self, conn: ConnId, code: u16, reason: &'static str) {
        self.close.push(Close {
            conn,
            code,
            reason,
            last: None,
        });
    }

    pub(super) fn log(&mut self, level: LogLevel, event: &'static str, fields: serde_json::Value) {
        self.logs.push(LogLine {
            level,
            event,
            fields,
        });
    }
}
