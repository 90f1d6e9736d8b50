//! Validation of everything a client can type: room names, member names, message text, nonces and
//! session secrets. Pure functions, so every edge case is a host unit test. Member names, and when
//! two of them are one person, are in `names`.
//!
//! Each check trims first and counts Unicode scalar values (what a person sees as characters, near
//! enough), never bytes: a 32-character name in Japanese is as valid as one in English.

use std::borrow::Cow;

mod emoji;
mod names;

pub use emoji::emoji;
pub use names::{member_name, name_key};

/// Longest public room name.
pub const MAX_ROOM_NAME: usize = 32;
/// A private room id: the hex form of a Durable Object id.
pub const PRIVATE_ROOM_ID_LEN: usize = 64;
/// Longest member name.
pub const MAX_NAME: usize = 32;
/// Longest message text, after trimming.
pub const MAX_TEXT: usize = 2000;
/// Longest client nonce.
pub const MAX_NONCE: usize = 64;
/// Session secrets: long enough to be unguessable, short enough to hash cheaply.
pub const MIN_SESSION: usize = 16;
pub const MAX_SESSION: usize = 128;
/// The largest message id a client can name: the largest integer JavaScript numbers (and so the
/// runtime's SQL API) carry exactly.
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A room, as named in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomName {
    /// A public room, routed with `id_from_name`.
    Public(String),
    /// A private room: the 64-hex id `POST /api/rooms` returned, routed with `id_from_string`.
    Private(String),
}

impl RoomName {
    pub fn as_str(&self) -> &str {
        match self {
            RoomName::Public(name) | RoomName::Private(name) => name,
        }
    }
}

/// Parses a room name from a (percent-decoded) path segment: trimmed, lowercased, then either
/// 1–32 characters of `[a-z0-9_-]` or 64 hex digits.
pub fn room_name(raw: &str) -> Result<RoomName, &'static str> {
    let name = raw.trim().to_ascii_lowercase();
    if name.len() == PRIVATE_ROOM_ID_LEN && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(RoomName::Private(name));
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
    if name.is_empty() || name.len() > MAX_ROOM_NAME || !name.bytes().all(allowed) {
        return Err(
            "room names are 1-32 characters of a-z, 0-9, _ and -, or a 64-hex private room id",
        );
    }
    Ok(RoomName::Public(name))
}

/// Message text: trimmed, 1–2000 characters; newlines, carriage returns and tabs are kept, other
/// control characters are refused (they corrupt terminals and logs of whoever reads them).
pub fn message_text(raw: &str) -> Result<&str, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("message text must not be empty");
    }
    // Cheap byte bound first: 2000 characters are at most 8000 bytes.
    if text.len() > MAX_TEXT && text.chars().count() > MAX_TEXT {
        return Err("message text must be at most 2000 characters");
    }
    if has_control(text) {
        return Err("message text must not contain control characters");
    }
    Ok(text)
}

/// Whether `text` holds a control character (Unicode's `Cc`: U+0000-U+001F, U+007F-U+009F) other
/// than a line break or a tab. Read from the UTF-8 bytes, without decoding every character: the
/// only multi-byte ones are U+0080-U+009F, encoded `C2 80`-`C2 9F`.
fn has_control(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\n' | b'\r' | b'\t' => false,
        0..=0x1f | 0x7f => true,
        0xc2 => bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)),
        _ => false,
    })
}

/// A client nonce: at most 64 characters, echoed back verbatim.
pub fn nonce(raw: &str) -> Result<&str, &'static str> {
    if raw.len() > MAX_NONCE && raw.chars().count() > MAX_NONCE {
        return Err("nonce must be at most 64 characters");
    }
    Ok(raw)
}

/// A session secret: 16–128 printable ASCII characters.
pub fn session(raw: &str) -> Result<&str, &'static str> {
    let printable = raw.bytes().all(|b| b.is_ascii_graphic());
    if raw.len() < MIN_SESSION || raw.len() > MAX_SESSION || !printable {
        return Err("session must be 16-128 printable ASCII characters");
    }
    Ok(raw)
}

/// Decodes `%XX` escapes of a URL path segment. Invalid escapes or invalid UTF-8 are errors rather
/// than being passed through, so one room is never reachable under two spellings by accident.
pub fn percent_decode(segment: &str) -> Result<Cow<'_, str>, &'static str> {
    if !segment.contains('%') {
        return Ok(Cow::Borrowed(segment));
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("bad percent escape")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "bad percent escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad percent escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| "path is not UTF-8")
}

/// A page of history requested over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    /// Only messages with `id < before`; `None` means from the newest.
    pub before: Option<u64>,
    /// Instead: every log entry (messages and changes) with `id > after`, oldest first, to fill a
    /// gap after a truncated resume.
    pub after: Option<u64>,
    pub limit: u32,
}

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

/// Parses `before=<id>&limit=<1..100>` (both optional). Unknown parameters are ignored, like any
/// web API; present but malformed ones are errors.
pub fn page_query(query: &str) -> Result<PageQuery, String> {
    let mut page = PageQuery {
        before: None,
        after: None,
        limit: DEFAULT_PAGE,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "before" => {
                let before = parse_positive(value).ok_or_else(|| {
                    format!("before must be a positive message id, got {}", echo(value))
                })?;
                page.before = Some(before);
            }
            "after" => {
                let after = parse_id(value).ok_or_else(|| {
                    format!(
                        "after must be a message id (0 or more), got {}",
                        echo(value)
                    )
                })?;
                page.after = Some(after);
            }
            "limit" => {
                page.limit = parse_positive(value)
                    .filter(|&n| n <= u64::from(MAX_PAGE))
                    .map(|n| n as u32)
                    .ok_or_else(|| format!("limit must be 1-100, got {}", echo(value)))?;
            }
            _ => {}
        }
    }
    if page.before.is_some() && page.after.is_some() {
        return Err("give before or after, not both".to_string());
    }
    Ok(page)
}

/// The caller's input, quoted and cut to a few dozen characters: an error message is no place to
/// echo kilobytes back.
fn echo(value: &str) -> String {
    const MAX: usize = 24;
    // One character past the cut is enough for `truncate_chars` to see there was more.
    let mut out: String = value.chars().take(MAX + 1).collect();
    crate::protocol::truncate_chars(&mut out, MAX);
    format!("{out:?}")
}

/// Digits only (no sign, no spaces), at least 1.
fn parse_positive(value: &str) -> Option<u64> {
    parse_id(value).filter(|&n| n >= 1)
}

/// Digits only (no sign, no spaces).
fn parse_id(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The byte scan says what decoding every character would.
        #[test]
        fn control_characters_are_found_from_the_bytes(text in any::<String>(), c in 0u32..0xa0) {
            let text = match char::from_u32(c) {
                Some(c) => format!("{text}{c}{text}"),
                None => text,
            };
            let decoded = text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
            prop_assert_eq!(has_control(&text), decoded);
        }
    }

    #[test]
    fn room_names_are_trimmed_and_lowercased() {
        assert_eq!(room_name("  Lobby "), Ok(RoomName::Public("lobby".into())));
        assert_eq!(room_name("a_b-9"), Ok(RoomName::Public("a_b-9".into())));
        assert_eq!(
            room_name(&"x".repeat(32)),
            Ok(RoomName::Public("x".repeat(32)))
        );
    }

    #[test]
    fn bad_room_names_are_refused() {
        for bad in [
            "",
            "   ",
            &"x".repeat(33),
            "a b",
            "a/b",
            "caf\u{e9}",
            "a.b",
            "%",
        ] {
            assert!(room_name(bad).is_err(), "{bad:?} should be refused");
        }
        // 63 and 65 hex digits are neither public (too long) nor private.
        assert!(room_name(&"a".repeat(63)).is_err());
        assert!(room_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn private_ids_are_64_hex_any_case() {
        let id = "AbCdEf0123456789".repeat(4);
        assert_eq!(room_name(&id), Ok(RoomName::Private(id.to_lowercase())));
        assert!(room_name(&"g".repeat(64)).is_err());
    }

    #[test]
    fn message_text_bounds() {
        assert_eq!(message_text("  hi \n"), Ok("hi"));
        assert_eq!(message_text("line1\nline2\tx"), Ok("line1\nline2\tx"));
        assert!(message_text("").is_err());
        assert!(message_text(" \n\t ").is_err());
        assert!(message_text("a\u{1}b").is_err());
        let max = "é".repeat(MAX_TEXT);
        assert_eq!(message_text(&max), Ok(max.as_str()));
        assert!(message_text(&"é".repeat(MAX_TEXT + 1)).is_err());
        // Trimming happens before counting.
        let padded = format!("  {}  ", "a".repeat(MAX_TEXT));
        assert!(message_text(&padded).is_ok());
    }

    #[test]
    fn nonce_and_session_bounds() {
        assert!(nonce(&"n".repeat(64)).is_ok());
        assert!(nonce(&"n".repeat(65)).is_err());
        assert!(nonce(&"ñ".repeat(64)).is_ok());
        assert!(session(&"s".repeat(16)).is_ok());
        assert!(session(&"s".repeat(15)).is_err());
        assert!(session(&"s".repeat(129)).is_err());
        assert!(session("0123456789abcdef ").is_err());
        assert!(session("0123456789abcdeé").is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("lobby").unwrap(), "lobby");
        assert_eq!(percent_decode("%20Lobby%20").unwrap(), " Lobby ");
        assert_eq!(percent_decode("caf%C3%A9").unwrap(), "café");
        assert!(percent_decode("%2").is_err());
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%ff").is_err());
    }

    #[test]
    fn page_queries() {
        assert_eq!(
            page_query(""),
            Ok(PageQuery {
                before: None,
                after: None,
                limit: DEFAULT_PAGE
            })
        );
        assert_eq!(
            page_query("before=10&limit=100"),
            Ok(PageQuery {
                before: Some(10),
                after: None,
                limit: 100
            })
        );
        assert_eq!(page_query("utm=x&limit=1").map(|p| p.limit), Ok(1));
        for bad in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=",
            "limit=1.5",
            "before=0",
            "before=abc",
            "before=+5",
            "before=99999999999999999999",
        ] {
            assert!(page_query(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
