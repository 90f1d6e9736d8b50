//! Pictures and files in chat: the rules, as plain Rust. The bytes themselves never pass
//! through the room: the Worker streams them between the client and R2 (`shell::files`).
//!
//! A file's life:
//! 1. A member sends `upload` on the socket; the room ([`rules::issue`]) checks the size, the
//!    member's hourly bytes and stores a [`FileRow`] in state `ticket`; the member gets an
//!    `upload_ticket` whose ticket is an HMAC over the row's fields ([`ticket`]).
//! 2. The client `PUT`s the bytes; the Worker asks the room to check and consume the ticket
//!    ([`rules::claim`]: state `uploading`), sniffs the first bytes ([`sniff`]), streams the body
//!    to R2 with a known length and reports what it stored ([`rules::complete`]: `uploaded`).
//! 3. A message with `files: [id]` attaches it ([`rules::attach`]: `attached`).
//! 4. It dies with its message (delete, `HISTORY_CAP`), or unattached past twice its ticket's
//!    life ([`FileRow::stale_at`]); the room decides, the shell deletes the object.

pub mod range;
pub mod rules;
pub mod sniff;
pub mod ticket;

pub use rules::{FileRow, FileState, FileStore, Refusal};
pub use sniff::Kind;

/// How long a ticket may be used after it was given, at most (`FILE_TICKET_TTL_MS` may shorten
/// it): long enough to start a 10 MiB upload on a slow link, short enough that a leaked URL soon
/// opens nothing.
pub const TICKET_TTL_MS: u64 = 5 * 60 * 1000;
/// The window of `FILE_BYTES_PER_HOUR`.
pub const HOUR_MS: u64 = 60 * 60 * 1000;

/// The files vars (`MAX_FILE_BYTES`, `FILE_TYPES`, `FILE_BYTES_PER_HOUR`, `FILES_PER_MESSAGE`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest file; 0 turns files off.
    pub max_file_bytes: u64,
    /// Bytes one member may upload per hour; 0 means no hourly limit.
    pub bytes_per_hour: u64,
    pub types: Vec<Kind>,
    pub per_message: usize,
    /// How long a ticket may be used; an upload not attached by twice this is deleted.
    pub ticket_ttl_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 10 * 1024 * 1024,
            bytes_per_hour: 50 * 1024 * 1024,
            types: vec![
                Kind::Png,
                Kind::Jpeg,
                Kind::Gif,
                Kind::Webp,
                Kind::Pdf,
                Kind::Text,
            ],
            per_message: 4,
            ticket_ttl_ms: TICKET_TTL_MS,
        }
    }
}

impl Limits {
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Self {
        let d = Limits::default();
        let num = |name: &str| {
            var(name)
                .and_then(|v| crate::vars::number(v.trim()))
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        let types =
            var("FILE_TYPES").map(|v| v.split(',').filter_map(Kind::from_name).collect::<Vec<_>>());
        Limits {
            max_file_bytes: num("MAX_FILE_BYTES").map_or(d.max_file_bytes, |n| n as u64),
            bytes_per_hour: num("FILE_BYTES_PER_HOUR").map_or(d.bytes_per_hour, |n| n as u64),
            types: types.unwrap_or(d.types),
            per_message: num("FILES_PER_MESSAGE")
                .filter(|n| *n >= 1.0)
                .map_or(d.per_message, |n| n as usize),
            ticket_ttl_ms: num("FILE_TICKET_TTL_MS")
                .filter(|n| *n >= 1.0)
                .map_or(d.ticket_ttl_ms, |n| (n as u64).min(TICKET_TTL_MS)),
        }
    }

    pub fn enabled(&self) -> bool {
        self.max_file_bytes > 0
    }
}

/// The R2 key of a room's file: the room object's id first, so one room's files are never
/// reachable through another room's URL.
pub fn object_key(room_id: &str, file_id: &str) -> String {
    format!("{room_id}/{file_id}")
}

/// Whether `id` has the shape of a file id (32 lowercase hex digits).
pub fn is_file_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
pub(crate) mod tests;
