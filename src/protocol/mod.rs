//! The wire format: JSON frames between clients and a room (see `docs/protocol.md`).
//!
//! - `client.rs`: frames from clients ([`ClientFrame`]), parsed flat;
//! - `server.rs`: frames to clients: messages, change events, presence, the welcome;
//! - here: error frames and codes, close codes, serialization.
//!
//! Parsing is deliberately flat: every client frame deserializes into one `RawFrame` whose fields
//! are all optional, then [`ClientFrame::parse`] checks which ones the frame's `type` needs. That
//! gives one clear error per mistake (`bad_request` for malformed JSON or a wrong field type,
//! `invalid_name` / `invalid_message` for content) instead of serde's "no variant matched".

pub(crate) mod client;
mod reactions;
mod server;

pub use client::ClientFrame;
pub use reactions::{
    summarize, EntryOut, MessageOut, ReactionSummary, MAX_REACTION_BYTES, REACTION_NAMES,
};
pub use server::{Change, ChatMessage, Entry, EntryRef, Quote, Reaction, ServerFrame};

use serde::Serialize;
use std::borrow::Cow;

/// Frames larger than this are refused unparsed (the default of `MAX_FRAME_BYTES`).
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// Whether a text frame is over `max` UTF-8 bytes judging by its length in UTF-16 code units,
/// which the runtime knows before anything is copied into the Wasm memory.
///
/// Every UTF-16 unit is at least one UTF-8 byte, so more units than `max` is surely too large:
/// refused without a copy. At most `max` units is at most `3 * max` bytes (a unit is at most three
/// bytes; a surrogate pair is two units and four bytes): that copy is bounded, and the exact byte
/// count is checked after it ([`ClientFrame::parse_within`]). So the limit is exact in bytes, and
/// the most a frame can cost the Wasm memory is three times the limit.
pub fn too_large_unread(utf16_units: usize, max: usize) -> bool {
    utf16_units > max
}

/// Error codes a client can receive (the `code` of an error frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidName,
    NameTaken,
    RoomFull,
    InvalidMessage,
    NotJoined,
    BadRequest,
    TooLarge,
    RateLimited,
    /// The room could not store the message; nothing was broadcast.
    StorageFailed,
    /// Too many members from the joiner's address are in the room (`ADDRESS_MAX_MEMBERS`).
    AddressLimit,
    /// The id names no (undeleted) message of this room.
    NotFound,
    /// Someone else's message, or a moderation action without being the owner.
    Forbidden,
    /// The author's edit or delete came after `EDIT_WINDOW_MS`.
    EditWindow,
    InvalidEmoji,
    TooManyReactions,
    /// A new member joins a locked room.
    RoomLocked,
    /// A kicked name or address joins again before `KICK_BAN_MS` ran out.
    Banned,
    /// A join token (or its renewal) was refused, or the room needs one (`JOIN_TOKENS`).
    Unauthorized,
    /// An upload over `MAX_FILE_BYTES` (`crate::files`).
    FileTooLarge,
    /// An upload past the member's `FILE_BYTES_PER_HOUR`.
    FileQuota,
    /// The room takes no files (`MAX_FILE_BYTES=0`).
    FilesOff,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::StorageFailed => "storage_failed",
            ErrorCode::AddressLimit => "address_limit",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::EditWindow => "edit_window",
            ErrorCode::InvalidEmoji => "invalid_emoji",
            ErrorCode::TooManyReactions => "too_many_reactions",
            ErrorCode::RoomLocked => "room_locked",
            ErrorCode::Banned => "banned",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::FileTooLarge => "file_too_large",
            ErrorCode::FileQuota => "file_quota",
            ErrorCode::FilesOff => "files_off",
        }
    }
}

/// An error frame, sent only to the socket that caused it. The socket stays open.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename = "error")]
pub struct ErrorFrame {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The nonce of the `message` frame this error is about, so the client can tell which of its
    /// pending messages failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The message an edit, delete or react was about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<u64>,
}

impl ErrorFrame {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ErrorFrame {
            code,
            message: message.into(),
            retry_after_ms: None,
            nonce: None,
            target: None,
        }
    }

    pub fn with_nonce(mut self, nonce: Option<&str>) -> Self {
        self.nonce = nonce.map(str::to_string);
        self
    }

    pub fn with_target(mut self, target: u64) -> Self {
        self.target = Some(target);
        self
    }
}

/// WebSocket close codes the server sends (see `docs/protocol.md`).
pub mod close {
    /// The answer to a client's close (1005 and 1006 cannot be sent back).
    pub const NORMAL: u16 = 1000;
    /// The socket did not join within `JOIN_TIMEOUT_MS`.
    pub const JOIN_TIMEOUT: u16 = 1008;
    /// The room lost the socket's state (no attachment): nothing sane to do but end it.
    pub const INTERNAL: u16 = 1011;
    /// The object behind the socket restarted or lost its room (a relay whose link to the room
    /// object closed): reconnect and resume with `since`.
    pub const RESTART: u16 = 1012;
    /// A newer socket with the same session took the name over: do not reconnect.
    pub const REPLACED: u16 = 4001;
    /// Nothing was heard from the socket for `IDLE_TIMEOUT_MS`: reconnect when back.
    pub const IDLE: u16 = 4002;
    /// The room's owner removed this member: do not reconnect automatically.
    pub const KICKED: u16 = 4003;
    /// The member's join token expired without an `auth` renewal: get a new token and rejoin
    /// with `since`.
    pub const TOKEN_EXPIRED: u16 = 4004;
}

/// Serializes a frame. Our frames are plain structs of strings and numbers, which serde_json
/// cannot fail on; the fallback keeps this path panic-free all the same.
pub fn to_json<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","code":"bad_request","message":"internal serialization error"}"#.into()
    })
}

/// The body of every HTTP error: `{"error":{"code":…,"message":…}}`.
pub fn http_error_body(code: &str, message: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        error: Inner<'a>,
    }
    #[derive(Serialize)]
    struct Inner<'a> {
        code: &'a str,
        message: &'a str,
    }
    to_json(&Body {
        error: Inner { code, message },
    })
}

pub(crate) fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
        s.push('…');
    }
}

#[cfg(test)]
mod tests;
