//! The wire format: JSON frames between clients and a room (see `docs/protocol.md`).
//!
//! Parsing is deliberately flat: every client frame deserializes into one `RawFrame` whose fields
//! are all optional, then [`ClientFrame::parse`] checks which ones the frame's `type` needs. That
//! gives one clear error per mistake (`bad_request` for malformed JSON or a wrong field type,
//! `invalid_name` / `invalid_message` for content) instead of serde's "no variant matched".

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Frames larger than this are refused unparsed.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

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
}

impl ErrorFrame {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ErrorFrame {
            code,
            message: message.into(),
            retry_after_ms: None,
            nonce: None,
        }
    }

    pub fn with_nonce(mut self, nonce: Option<&str>) -> Self {
        self.nonce = nonce.map(str::to_string);
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
    /// A newer socket with the same session took the name over: do not reconnect.
    pub const REPLACED: u16 = 4001;
    /// Nothing was heard from the socket for `IDLE_TIMEOUT_MS`: reconnect when back.
    pub const IDLE: u16 = 4002;
}

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
}

/// A frame from a client, structurally valid (content is checked by the room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame<'a> {
    Join {
        name: Cow<'a, str>,
        since: Option<u64>,
        session: Option<Cow<'a, str>>,
    },
    Message {
        text: Cow<'a, str>,
        nonce: Option<Cow<'a, str>>,
    },
    Typing,
    /// Test hook: drop the room's in-memory state. Honoured only when `TEST_HOOKS=1`.
    DebugReset,
    /// Test hook: make every message write fail (`on: true`) or work again. `TEST_HOOKS=1` only.
    DebugFailWrites {
        on: bool,
    },
}

impl<'a> ClientFrame<'a> {
    /// Parses one text frame. Never panics, whatever the input.
    pub fn parse(frame: &'a str) -> Result<Self, ErrorFrame> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(ErrorFrame::new(
                ErrorCode::TooLarge,
                "frames are limited to 16 KiB",
            ));
        }
        let raw: RawFrame<'a> = serde_json::from_str(frame).map_err(|e| {
            let message = if e.is_syntax() || e.is_eof() {
                "frame is not valid JSON".to_string()
            } else {
                // serde's data errors name the field and the expected type, and quote the
                // offending input: keep the start, never kilobytes of it.
                let mut m = format!("malformed frame: {e}");
                truncate_chars(&mut m, 64);
                m
            };
            ErrorFrame::new(ErrorCode::BadRequest, message)
        })?;
        match raw.kind.as_ref() {
            "join" => Ok(ClientFrame::Join {
                name: raw
                    .name
                    .ok_or_else(|| ErrorFrame::new(ErrorCode::InvalidName, "join needs a name"))?,
                since: raw.since,
                session: raw.session,
            }),
            "message" => Ok(ClientFrame::Message {
                text: raw.text.ok_or_else(|| {
                    ErrorFrame::new(ErrorCode::InvalidMessage, "message needs a text")
                })?,
                nonce: raw.nonce,
            }),
            "typing" => Ok(ClientFrame::Typing),
            "debug_reset" => Ok(ClientFrame::DebugReset),
            "debug_fail_writes" => Ok(ClientFrame::DebugFailWrites {
                on: raw.on.unwrap_or(true),
            }),
            _ => Err(ErrorFrame::new(
                ErrorCode::BadRequest,
                "unknown frame type: expected join, message or typing",
            )),
        }
    }
}

pub(crate) fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
        s.push('…');
    }
}

/// A chat message as stored and as sent: the `message` frame and each `history` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message")]
pub struct ChatMessage {
    pub id: u64,
    pub name: String,
    pub text: String,
    /// Unix milliseconds, server clock.
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// Frames the server sends, other than `message` ([`ChatMessage`]) and `error` ([`ErrorFrame`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome {
        room: &'a str,
        name: &'a str,
        members: Vec<&'a str>,
        history: &'a [ChatMessage],
        truncated: bool,
        last_id: u64,
    },
    Join {
        name: &'a str,
        at: u64,
    },
    Leave {
        name: &'a str,
        at: u64,
    },
    Typing {
        name: &'a str,
    },
    DebugReset {
        ok: bool,
    },
    DebugFailWrites {
        on: bool,
    },
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn code(frame: &str) -> ErrorCode {
        ClientFrame::parse(frame).unwrap_err().code
    }

    #[test]
    fn parses_each_client_frame() {
        assert_eq!(
            ClientFrame::parse(r#"{"type":"join","name":"Alice","since":4,"session":"s"}"#),
            Ok(ClientFrame::Join {
                name: "Alice".into(),
                since: Some(4),
                session: Some("s".into())
            })
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"message","text":"hi \"there\"","nonce":"c1"}"#),
            Ok(ClientFrame::Message {
                text: "hi \"there\"".into(),
                nonce: Some("c1".into())
            })
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"typing","extra":[1,{"a":2}]}"#),
            Ok(ClientFrame::Typing)
        );
    }

    #[test]
    fn malformed_frames_are_bad_requests() {
        for frame in [
            "",
            "ping!",
            "{",
            "[]",
            "42",
            "null",
            r#"{"name":"x"}"#,
            r#"{"type":"shout"}"#,
            r#"{"type":5}"#,
            r#"{"type":"join","name":5}"#,
            r#"{"type":"join","name":"a","since":-1}"#,
            r#"{"type":"join","name":"a","since":1.5}"#,
            r#"{"type":"message","text":["hi"]}"#,
            r#"{"type":"join","type":"join","name":"a"}"#,
            r#"{"__proto__":{"type":"join"},"type":"nope"}"#,
        ] {
            assert_eq!(code(frame), ErrorCode::BadRequest, "{frame:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!(r#"{{"type":"typing","x":{}}}"#, "[".repeat(10_000));
        assert_eq!(code(&deep), ErrorCode::BadRequest);
    }

    #[test]
    fn missing_content_has_its_own_code() {
        assert_eq!(code(r#"{"type":"join"}"#), ErrorCode::InvalidName);
        assert_eq!(code(r#"{"type":"message"}"#), ErrorCode::InvalidMessage);
    }

    #[test]
    fn oversized_frames_are_not_parsed() {
        let big = format!(
            r#"{{"type":"message","text":"{}"}}"#,
            "a".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(code(&big), ErrorCode::TooLarge);
    }

    #[test]
    fn error_messages_are_bounded() {
        let long = format!(r#"{{"type":"join","name":{}}}"#, "1".repeat(5000));
        let err = ClientFrame::parse(&long).unwrap_err();
        assert!(err.message.chars().count() <= 65, "{}", err.message);
    }

    #[test]
    fn server_frames_match_the_documented_shapes() {
        let msg = ChatMessage {
            id: 42,
            name: "Alice".into(),
            text: "hi".into(),
            at: 7,
            nonce: Some("c1".into()),
        };
        let v: Value = serde_json::from_str(&to_json(&msg)).unwrap();
        assert_eq!(
            v,
            json!({"type":"message","id":42,"name":"Alice","text":"hi","at":7,"nonce":"c1"})
        );
        let plain = ChatMessage { nonce: None, ..msg };
        let v: Value = serde_json::from_str(&to_json(&plain)).unwrap();
        assert!(v.get("nonce").is_none());

        let welcome = ServerFrame::Welcome {
            room: "lobby",
            name: "Alice",
            members: vec!["Alice", "Bob"],
            history: std::slice::from_ref(&plain),
            truncated: false,
            last_id: 42,
        };
        let v: Value = serde_json::from_str(&to_json(&welcome)).unwrap();
        assert_eq!(v["type"], "welcome");
        assert_eq!(v["members"], json!(["Alice", "Bob"]));
        assert_eq!(v["history"][0]["type"], "message");
        assert_eq!(v["last_id"], 42);

        let v: Value =
            serde_json::from_str(&to_json(&ServerFrame::Leave { name: "Bob", at: 9 })).unwrap();
        assert_eq!(v, json!({"type":"leave","name":"Bob","at":9}));

        let mut err = ErrorFrame::new(ErrorCode::RateLimited, "slow down");
        err.retry_after_ms = Some(200);
        let v: Value = serde_json::from_str(&to_json(&err)).unwrap();
        assert_eq!(
            v,
            json!({"type":"error","code":"rate_limited","message":"slow down","retry_after_ms":200})
        );
    }

    #[test]
    fn error_code_names_match_serde() {
        for code in [
            ErrorCode::InvalidName,
            ErrorCode::NameTaken,
            ErrorCode::RoomFull,
            ErrorCode::InvalidMessage,
            ErrorCode::NotJoined,
            ErrorCode::BadRequest,
            ErrorCode::TooLarge,
            ErrorCode::RateLimited,
            ErrorCode::StorageFailed,
            ErrorCode::AddressLimit,
        ] {
            assert_eq!(to_json(&code), format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn http_error_body_shape() {
        let v: Value = serde_json::from_str(&http_error_body("invalid_room", "no")).unwrap();
        assert_eq!(v, json!({"error":{"code":"invalid_room","message":"no"}}));
    }
}
