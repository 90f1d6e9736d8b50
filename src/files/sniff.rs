//! What a file is, from its first bytes (magic numbers), never from its name or the client's
//! word; and an image's width and height from its header.

/// The types a room may accept (`FILE_TYPES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Text,
}

impl Kind {
    /// The `Content-Type` a download is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Pdf => "application/pdf",
            // Whatever the bytes say (HTML, SVG, script), text is served as plain text.
            Kind::Text => "text/plain; charset=utf-8",
        }
    }

    /// The short name used in `FILE_TYPES` and stored with the file.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Png => "png",
            Kind::Jpeg => "jpeg",
            Kind::Gif => "gif",
            Kind::Webp => "webp",
            Kind::Pdf => "pdf",
            Kind::Text => "text",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name.trim() {
            "png" => Kind::Png,
            "jpeg" | "jpg" => Kind::Jpeg,
            "gif" => Kind::Gif,
            "webp" => Kind::Webp,
            "pdf" => Kind::Pdf,
            "text" | "txt" => Kind::Text,
            _ => return None,
        })
    }

    /// Images are shown inline; everything else is downloaded as an attachment.
    pub fn is_image(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp)
    }
}

/// How many leading bytes [`sniff`] and [`dimensions`] want to see (a JPEG's frame header may
/// sit behind its EXIF block; past this, a JPEG is still a JPEG, without its size).
pub const HEAD_BYTES: usize = 64 * 1024;

/// The file's kind from its first bytes, or `None` when it is none of the known kinds. Text is
/// UTF-8 without NUL bytes that does not look like markup a browser would run (HTML, SVG, XML):
/// refused rather than trusted to the headers alone.
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(Kind::Gif);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(Kind::Webp);
    }
    if head.starts_with(b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if is_text(head) && !looks_like_markup(head) {
        return Some(Kind::Text);
    }
    None
}

/// UTF-8 (a character cut at the end of `head` is allowed) with no NUL or other binary controls.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Only an incomplete character at the very end of what was read.
        Err(e) => e.error_len().is_none(),
    };
    valid
        && !head.is_empty()
        && head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
}

/// What browsers sniff as HTML/XML/SVG (WHATWG MIME sniffing's markup patterns, after
/// whitespace and a byte order mark).
fn looks_like_markup(head: &[u8]) -> bool {
    let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = &start[start
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(start.len())..];
    let lower: Vec<u8> = start.iter().take(32).map(u8::to_ascii_lowercase).collect();
    const TAGS: [&[u8]; 18] = [
        b"<!doctype",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
        b"<?xml",
    ];
    TAGS.iter().any(|tag| lower.starts_with(tag)) || lower.starts_with(b"<svg")
}

/// Width and height of an image from its header bytes, if they are there.
pub fn dimensions(kind: Kind, head: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*head.get(i)?, *head.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*head.get(i)?, *head.get(i + 1)?]) as u32);
    let be32 = |i: usize| {
        let b = head.get(i..i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let le24 = |i: usize| {
        let b = head.get(i..i + 3)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    };
    let size = match kind {
        // IHDR is the first chunk: width and height at 16 and 20.
        Kind::Png if head.get(12..16) == Some(b"IHDR") => (be32(16)?, be32(20)?),
        Kind::Gif => (le16(6)?, le16(8)?),
        Kind::Webp => match head.get(12..16)? {
            b"VP8 " => (le16(26)? & 0x3FFF, le16(28)? & 0x3FFF),
            b"VP8L" if head.get(20) == Some(&0x2F) => {
                let b = head.get(21..25)?;
                let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            }
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            _ => return None,
        },
        Kind::Jpeg => {
            // Walk the segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
            let mut i = 2;
            loop {
                if *head.get(i)? != 0xFF {
                    return None;
                }
                let marker = *head.get(i + 1)?;
                if marker == 0xFF {
                    i += 1;
                    continue;
                }
                if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    break (be16(i + 7)?, be16(i + 5)?);
                }
                if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
                    i += 2;
                    continue;
                }
                i += 2 + be16(i + 2)? as usize;
            }
        }
        _ => return None,
    };
    (size.0 > 0 && size.1 > 0).then_some(size)
}
