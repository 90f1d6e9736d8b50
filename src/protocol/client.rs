//! Frames from clients: one flat `RawFrame`, then the fields the frame's `type` needs.

use super::{truncate_chars, ErrorCode, ErrorFrame, MAX_FRAME_BYTES};
use serde::Deserialize;
use std::borrow::Cow;

/// Every field any client frame may carry. Unknown fields are ignored (clients may be newer).
#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    nonce: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session: Option<Cow<'a, str>>,
    since: Option<u64>,
    on: Option<bool>,
    id: Option<u64>,
    reply_to: Option<u64>,
    #[serde(borrow)]
    emoji: Option<Cow<'a, str>>,
    locked: Option<bool>,
    #[serde(borrow)]
    owner_key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    token: Option<Cow<'a, str>>,
    /// `message`: ids of uploaded files it carries (`crate::files`).
    files: Option<Vec<String>>,
    /// `upload`: the file's size in bytes.
    size: Option<u64>,
}

/// A frame from a client, structurally valid (content is checked by the room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame<'a> {
    Join {
        name: Cow<'a, str>,
        since: Option<u64>,
        session: Option<Cow<'a, str>>,
        owner_key: Option<Cow<'a, str>>,
        /// A signed join token (`crate::token`); with one, `name` is ignored and may be absent.
        token: Option<Cow<'a, str>>,
    },
    /// Renews the member's token in place.
    Auth {
        token: Cow<'a, str>,
    },
    Message {
        text: Cow<'a, str>,
        nonce: Option<Cow<'a, str>>,
        reply_to: Option<u64>,
        /// Uploaded files to attach; with one, `text` may be empty or absent.
        files: Vec<String>,
    },
    /// Asks for an upload ticket (`crate::files`).
    Upload {
        name: Cow<'a, str>,
        size: u64,
    },
    Typing,
    Edit {
        id: u64,
        text: Cow<'a, str>,
    },
    Delete {
        id: u64,
    },
    React {
        id: u64,
        emoji: Cow<'a, str>,
    },
    Kick {
        name: Cow<'a, str>,
    },
    Lock {
        locked: bool,
    },
    Topic {
        text: Cow<'a, str>,
    },
    /// The room's display name (`crate::room::moderation`).
    Title {
        text: Cow<'a, str>,
    },
    /// The member has read up to `id`.
    Read {
        id: u64,
    },
    /// Test hook: how often `text` occurs in the search index's tables. `TEST_HOOKS=1` only.
    DebugIndex {
        text: Cow<'a, str>,
    },
    /// Test hook: drop the room's in-memory state. Honoured only when `TEST_HOOKS=1`.
    DebugReset,
    /// Test hook: make every message write fail (`on: true`) or work again. `TEST_HOOKS=1` only.
    DebugFailWrites {
        on: bool,
    },
}

impl<'a> ClientFrame<'a> {
    /// Parses one text frame of at most [`MAX_FRAME_BYTES`]. Never panics, whatever the input.
    pub fn parse(frame: &'a str) -> Result<Self, ErrorFrame> {
        Self::parse_within(frame, MAX_FRAME_BYTES)
    }

    /// Parses one text frame of at most `max` bytes (`MAX_FRAME_BYTES`); a larger one is
    /// `too_large`, unparsed.
    pub fn parse_within(frame: &'a str, max: usize) -> Result<Self, ErrorFrame> {
        if frame.len() > max {
            return Err(too_large(max));
        }
        let raw: RawFrame<'a> = serde_json::from_str(frame).map_err(|e| {
            let message = if e.is_syntax() || e.is_eof() {
                "frame is not valid JSON".to_string()
            } else {
                // serde's data errors name the field and the expected type; cap their length since
                // they can quote the offending input.
                let mut m = format!("malformed frame: {e}");
                truncate_chars(&mut m, 64);
                m
            };
            ErrorFrame::new(ErrorCode::BadRequest, message)
        })?;
        match raw.kind.as_ref() {
            "join" => Ok(ClientFrame::Join {
                name: match (raw.name, &raw.token) {
                    (Some(name), _) => name,
                    (None, Some(_)) => Cow::Borrowed(""),
                    (None, None) => {
                        return Err(ErrorFrame::new(ErrorCode::InvalidName, "join needs a name"))
                    }
                },
                since: raw.since,
                session: raw.session,
                owner_key: raw.owner_key,
                token: raw.token,
            }),
            "auth" => Ok(ClientFrame::Auth {
                token: raw.token.ok_or_else(|| {
                    ErrorFrame::new(ErrorCode::Unauthorized, "auth needs a token")
                })?,
            }),
            "message" => {
                let files = raw.files.unwrap_or_default();
                let text = match (raw.text, files.is_empty()) {
                    (Some(text), _) => text,
                    (None, false) => Cow::Borrowed(""),
                    (None, true) => {
                        return Err(ErrorFrame::new(
                            ErrorCode::InvalidMessage,
                            "message needs a text",
                        ))
                    }
                };
                Ok(ClientFrame::Message {
                    text,
                    nonce: raw.nonce,
                    reply_to: raw.reply_to,
                    files,
                })
            }
            "upload" => Ok(ClientFrame::Upload {
                name: raw
                    .name
                    .ok_or_else(|| ErrorFrame::new(ErrorCode::BadRequest, "upload needs a name"))?,
                size: need(raw.size, "upload needs a size")?,
            }),
            "typing" => Ok(ClientFrame::Typing),
            "edit" => Ok(ClientFrame::Edit {
                id: need(raw.id, "edit needs an id")?,
                text: raw.text.ok_or_else(|| {
                    ErrorFrame::new(ErrorCode::InvalidMessage, "edit needs a text")
                })?,
            }),
            "delete" => Ok(ClientFrame::Delete {
                id: need(raw.id, "delete needs an id")?,
            }),
            "react" => Ok(ClientFrame::React {
                id: need(raw.id, "react needs an id")?,
                emoji: raw.emoji.ok_or_else(|| {
                    ErrorFrame::new(ErrorCode::InvalidEmoji, "react needs an emoji")
                })?,
            }),
            "kick" => Ok(ClientFrame::Kick {
                name: raw
                    .name
                    .ok_or_else(|| ErrorFrame::new(ErrorCode::BadRequest, "kick needs a name"))?,
            }),
            "lock" => Ok(ClientFrame::Lock {
                locked: need(raw.locked, "lock needs locked: true or false")?,
            }),
            "topic" => Ok(ClientFrame::Topic {
                text: raw.text.unwrap_or_default(),
            }),
            "title" => Ok(ClientFrame::Title {
                text: raw.text.unwrap_or_default(),
            }),
            "read" => Ok(ClientFrame::Read {
                id: need(raw.id, "read needs an id")?,
            }),
            "debug_index" => Ok(ClientFrame::DebugIndex {
                text: raw.text.unwrap_or_default(),
            }),
            "debug_reset" => Ok(ClientFrame::DebugReset),
            "debug_fail_writes" => Ok(ClientFrame::DebugFailWrites {
                on: raw.on.unwrap_or(true),
            }),
            _ => Err(ErrorFrame::new(ErrorCode::BadRequest, UNKNOWN_TYPE)),
        }
    }
}

/// The error for a frame of no known type.
pub const UNKNOWN_TYPE: &str =
    "unknown frame type: expected join, auth, message, upload, typing, edit, delete, react, kick, lock, topic, title or read";

fn need<T>(field: Option<T>, why: &'static str) -> Result<T, ErrorFrame> {
    field.ok_or_else(|| ErrorFrame::new(ErrorCode::BadRequest, why))
}

/// The error for a frame over `max` bytes.
pub fn too_large(max: usize) -> ErrorFrame {
    ErrorFrame::new(
        ErrorCode::TooLarge,
        format!("frames are limited to {max} bytes"),
    )
}
