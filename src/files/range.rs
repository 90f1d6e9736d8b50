//! The `Range` request header of a download (one range of bytes; several are served whole, as
//! RFC 9110 allows) and the headers a download carries.

use super::Kind;

/// What to answer a `GET` with a given `Range` header, for a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// 200: the whole file (no header, or one the server may ignore).
    Whole,
    /// 206: bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// 416: nothing of the file is in the range.
    Unsatisfiable,
}

pub fn parse(header: Option<&str>, size: u64) -> Ranged {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ranged::Whole;
    };
    if spec.contains(',') {
        return Ranged::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ranged::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        // `-N`: the last N bytes.
        (true, false) => match num(b) {
            Some(0) => Ranged::Unsatisfiable,
            Some(n) if size > 0 => Ranged::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            Some(_) => Ranged::Unsatisfiable,
            None => Ranged::Whole,
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return Ranged::Whole;
            };
            let end = if b.is_empty() { Some(u64::MAX) } else { num(b) };
            match end {
                None => Ranged::Whole,
                Some(end) if end < start => Ranged::Whole,
                Some(_) if start >= size => Ranged::Unsatisfiable,
                Some(end) => Ranged::Part {
                    start,
                    end: end.min(size - 1),
                },
            }
        }
        (true, true) => Ranged::Whole,
    }
}

/// How long a browser may keep a file: files never change (a new upload is a new id), but they
/// can be deleted, so not for ever, and never in a shared cache (`private`).
pub const CACHE_CONTROL: &str = "private, max-age=3600";

/// The headers of every download, whatever is stored (docs/protocol.md says why each).
pub fn headers(kind: Kind, name: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Content-Type", kind.mime().to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        (
            "Content-Security-Policy",
            "sandbox; default-src 'none'".to_string(),
        ),
        ("Cache-Control", CACHE_CONTROL.to_string()),
        ("Accept-Ranges", "bytes".to_string()),
    ];
    // Pictures show in widgets on the apps' own sites; anything else stays with ours.
    let (disposition, embedders) = if kind.is_image() {
        ("inline", "cross-origin")
    } else {
        ("attachment", "same-site")
    };
    h.push(("Cross-Origin-Resource-Policy", embedders.to_string()));
    h.push((
        "Content-Disposition",
        format!("{disposition}; filename=\"{}\"", ascii_name(name)),
    ));
    h
}

/// A file name safe inside a quoted header value: printable ASCII without quotes or backslashes.
fn ascii_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .take(100)
        .collect();
    if clean.is_empty() {
        "file".into()
    } else {
        clean
    }
}
