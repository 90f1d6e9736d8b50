use super::range::{parse, Ranged};
use super::rules::{self, FileRow, FileState, FileStore};
use super::sniff::{dimensions, sniff, Kind};
use super::{Limits, TICKET_TTL_MS};
use crate::room::StoreError;
use std::collections::BTreeMap;

/// The room's `files` table, in memory.
#[derive(Debug, Default)]
pub struct MemFiles {
    pub rows: BTreeMap<String, FileRow>,
    /// How often the trimmed messages' files were looked for.
    pub trim_lookups: u32,
}

impl FileStore for MemFiles {
    fn secret(&mut self) -> Result<String, StoreError> {
        Ok("room-secret".into())
    }
    fn get(&mut self, id: &str) -> Result<Option<FileRow>, StoreError> {
        Ok(self.rows.get(id).cloned())
    }
    fn put(&mut self, row: &FileRow) -> Result<(), StoreError> {
        self.rows.insert(row.id.clone(), row.clone());
        Ok(())
    }
    fn bytes_since(&mut self, owner: &str, since: u64) -> Result<u64, StoreError> {
        Ok(self
            .rows
            .values()
            .filter(|r| r.owner == owner && r.created_at >= since)
            .map(|r| r.size)
            .sum())
    }
    fn attached_upto(&mut self, upto: u64) -> Result<Vec<String>, StoreError> {
        self.trim_lookups += 1;
        Ok(self
            .rows
            .values()
            .filter(|r| r.state == FileState::Attached && r.message.is_some_and(|m| m <= upto))
            .map(|r| r.id.clone())
            .collect())
    }
    fn attached_floor(&mut self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .rows
            .values()
            .filter(|r| r.state == FileState::Attached)
            .filter_map(|r| r.message)
            .min())
    }
    fn stale(&mut self, now: u64) -> Result<Vec<String>, StoreError> {
        Ok(self
            .rows
            .values()
            .filter(|r| !matches!(r.state, FileState::Attached | FileState::Gone))
            .filter(|r| r.stale_at() <= now)
            .map(|r| r.id.clone())
            .collect())
    }
    fn next_stale(&mut self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .rows
            .values()
            .filter(|r| !matches!(r.state, FileState::Attached | FileState::Gone))
            .map(FileRow::stale_at)
            .min())
    }
    fn gone(&mut self, ids: &[String], now: u64) -> Result<(), StoreError> {
        for id in ids {
            if let Some(r) = self.rows.get_mut(id) {
                r.state = FileState::Gone;
            }
        }
        self.rows
            .retain(|_, r| r.state != FileState::Gone || r.created_at + super::HOUR_MS > now);
        Ok(())
    }
}

const PNG_320X240: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 1,
    0x40, 0, 0, 0, 0xF0, 8, 6, 0, 0, 0,
];

fn issue(files: &mut MemFiles, owner: &str, size: u64, now: u64) -> rules::Issued {
    rules::issue(
        files,
        &Limits::default(),
        "lobby",
        owner,
        "a.png",
        size,
        now,
    )
    .unwrap()
}

#[test]
fn magic_numbers() {
    assert_eq!(sniff(PNG_320X240), Some(Kind::Png));
    assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Kind::Jpeg));
    assert_eq!(sniff(b"GIF89a\x02\x00\x03\x00"), Some(Kind::Gif));
    assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Kind::Webp));
    assert_eq!(sniff(b"%PDF-1.7\n"), Some(Kind::Pdf));
    assert_eq!(sniff("hello, wörld\n".as_bytes()), Some(Kind::Text));
    // An HTML page renamed .png is still HTML: refused, whatever its name or declared type.
    assert_eq!(sniff(b"<html><script>window.__xss=1</script>"), None);
    assert_eq!(sniff(b"\n  <!DOCTYPE html><p>hi"), None);
    assert_eq!(
        sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
        None
    );
    assert_eq!(sniff(b"<?xml version='1.0'?><svg/>"), None);
    assert_eq!(sniff(b"\xEF\xBB\xBF<SCRIPT>"), None);
    assert_eq!(sniff(&[0, 1, 2, 3]), None);
    assert_eq!(sniff(b""), None);
    // A multibyte character cut at the end of the sniffed head is still text.
    assert_eq!(sniff(&[b'a', 0xC3]), Some(Kind::Text));
}

#[test]
fn image_dimensions_from_headers() {
    assert_eq!(dimensions(Kind::Png, PNG_320X240), Some((320, 240)));
    assert_eq!(
        dimensions(Kind::Gif, b"GIF89a\x02\x01\x03\x00"),
        Some((258, 3))
    );
    let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0".to_vec();
    vp8.extend([0x40, 0x01, 0xF0, 0x00]);
    assert_eq!(dimensions(Kind::Webp, &vp8), Some((320, 240)));
    let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0".to_vec();
    vp8x.extend([0x3F, 0x01, 0x00, 0xEF, 0x00, 0x00]);
    assert_eq!(dimensions(Kind::Webp, &vp8x), Some((320, 240)));
    let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2F".to_vec();
    let bits: u32 = 319 | (239 << 14);
    vp8l.extend(bits.to_le_bytes());
    assert_eq!(dimensions(Kind::Webp, &vp8l), Some((320, 240)));
    // JPEG: SOI, an APP0 segment, then SOF0 with height 240 and width 320.
    let jpeg = [
        0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 240, 1, 64, 3,
    ];
    assert_eq!(dimensions(Kind::Jpeg, &jpeg), Some((320, 240)));
    // Cut short or garbage: no size, no panic.
    assert_eq!(dimensions(Kind::Jpeg, &jpeg[..12]), None);
    assert_eq!(dimensions(Kind::Png, &PNG_320X240[..18]), None);
    assert_eq!(
        dimensions(Kind::Webp, b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2F\x01"),
        None
    );
    assert_eq!(dimensions(Kind::Pdf, b"%PDF-"), None);
}

#[test]
fn a_ticket_is_single_use() {
    let mut f = MemFiles::default();
    let t = issue(&mut f, "alice", 100, 1_000);
    assert!(super::is_file_id(&t.id));
    assert_eq!(t.expires_at, 1_000 + TICKET_TTL_MS);
    assert!(rules::claim(&mut f, "lobby", &t.id, &t.ticket, 100, 2_000).is_ok());
    let again = rules::claim(&mut f, "lobby", &t.id, &t.ticket, 100, 2_000).unwrap_err();
    assert_eq!(again.code, "bad_ticket");
}

#[test]
fn a_ticket_expires() {
    let mut f = MemFiles::default();
    let t = issue(&mut f, "alice", 100, 1_000);
    let late = rules::claim(&mut f, "lobby", &t.id, &t.ticket, 100, t.expires_at + 1).unwrap_err();
    assert_eq!(
        (late.code, late.message.as_str()),
        ("bad_ticket", "this ticket has expired")
    );
}

#[test]
fn a_ticket_is_for_its_room_file_size_and_member() {
    let mut f = MemFiles::default();
    let t = issue(&mut f, "alice", 100, 1_000);
    let other = issue(&mut f, "alice", 100, 1_001);
    // Another room (same secret for the test: the room's name is in the MAC).
    assert_eq!(
        rules::claim(&mut f, "kitchen", &t.id, &t.ticket, 100, 1_500)
            .unwrap_err()
            .code,
        "bad_ticket"
    );
    // Another file's ticket.
    assert_eq!(
        rules::claim(&mut f, "lobby", &other.id, &t.ticket, 100, 1_500)
            .unwrap_err()
            .code,
        "bad_ticket"
    );
    // Another length.
    assert_eq!(
        rules::claim(&mut f, "lobby", &t.id, &t.ticket, 99, 1_500)
            .unwrap_err()
            .code,
        "wrong_size"
    );
    // A ticket whose row names another member or size does not verify.
    let mut row = f.get(&t.id).unwrap().unwrap();
    row.owner = "mallory".into();
    f.put(&row).unwrap();
    assert_eq!(
        rules::claim(&mut f, "lobby", &t.id, &t.ticket, 100, 1_500)
            .unwrap_err()
            .code,
        "bad_ticket"
    );
    // The refusals above used nothing up: the other file's own ticket still works.
    assert!(rules::claim(&mut f, "lobby", &other.id, &other.ticket, 100, 1_500).is_ok());
}

#[test]
fn size_and_hourly_quota() {
    let mut f = MemFiles::default();
    let limits = Limits::default();
    let big = rules::issue(
        &mut f,
        &limits,
        "lobby",
        "alice",
        "a",
        limits.max_file_bytes + 1,
        0,
    );
    assert_eq!(big.unwrap_err().code, "file_too_large");
    assert_eq!(
        rules::issue(&mut f, &limits, "lobby", "alice", "a", 0, 0)
            .unwrap_err()
            .code,
        "bad_request"
    );
    let ten = 10 * 1024 * 1024;
    for i in 0..5 {
        issue(&mut f, "alice", ten, i);
    }
    let over = rules::issue(&mut f, &limits, "lobby", "alice", "a", 1, 10).unwrap_err();
    assert_eq!((over.code, over.status), ("file_quota", 429));
    // Someone else has their own hour; alice has hers back an hour later.
    issue(&mut f, "bob", 1, 10);
    issue(&mut f, "alice", 1, super::HOUR_MS + 5);
    // 0 turns files off.
    let off = Limits {
        max_file_bytes: 0,
        ..Limits::default()
    };
    assert_eq!(
        rules::issue(&mut f, &off, "lobby", "bob", "a", 1, 0)
            .unwrap_err()
            .code,
        "files_off"
    );
}

fn uploaded(f: &mut MemFiles, owner: &str, now: u64) -> String {
    let t = issue(f, owner, 100, now);
    rules::claim(f, "lobby", &t.id, &t.ticket, 100, now).unwrap();
    rules::complete(f, &t.id, Kind::Png, 100, Some((2, 3))).unwrap();
    t.id
}

#[test]
fn attach_rules() {
    let mut f = MemFiles::default();
    let l = Limits::default();
    let mine = uploaded(&mut f, "alice", 0);
    let theirs = uploaded(&mut f, "bob", 0);
    let pending = issue(&mut f, "alice", 5, 0).id;
    assert_eq!(
        rules::check_attach(&mut f, &l, "alice", &[theirs])
            .unwrap_err()
            .code,
        "not_found"
    );
    assert_eq!(
        rules::check_attach(&mut f, &l, "alice", &[pending])
            .unwrap_err()
            .code,
        "invalid_message"
    );
    assert_eq!(
        rules::check_attach(&mut f, &l, "alice", &[mine.clone(), mine.clone()])
            .unwrap_err()
            .code,
        "invalid_message"
    );
    let five: Vec<String> = (0..5).map(|i| uploaded(&mut f, "alice", i)).collect();
    assert!(rules::check_attach(&mut f, &l, "alice", &five).is_err());
    let rows = rules::check_attach(&mut f, &l, "alice", std::slice::from_ref(&mine)).unwrap();
    let refs = rules::attach(&mut f, rows, 7).unwrap();
    assert_eq!(refs[0].kind, "image/png");
    assert_eq!((refs[0].width, refs[0].height), (Some(2), Some(3)));
    // Used once only.
    assert_eq!(
        rules::check_attach(&mut f, &l, "alice", &[mine])
            .unwrap_err()
            .code,
        "invalid_message"
    );
}

#[test]
fn lifecycle_delete_trim_and_stale() {
    let mut f = MemFiles::default();
    let l = Limits::default();
    let a = uploaded(&mut f, "alice", 0);
    let b = uploaded(&mut f, "alice", 0);
    let abandoned = uploaded(&mut f, "alice", 0);
    let rows = rules::check_attach(&mut f, &l, "alice", std::slice::from_ref(&a)).unwrap();
    rules::attach(&mut f, rows, 3).unwrap();
    let rows = rules::check_attach(&mut f, &l, "alice", std::slice::from_ref(&b)).unwrap();
    rules::attach(&mut f, rows, 9).unwrap();
    // A message delete: its files go.
    assert_eq!(
        rules::doomed(&mut f, vec![b.clone()], None, 1).unwrap(),
        vec![b.clone()]
    );
    // Trimming messages up to 5: message 3's file goes.
    assert_eq!(
        rules::doomed(&mut f, vec![], Some(5), 2).unwrap(),
        vec![a.clone()]
    );
    // The abandoned upload lives its ticket's life plus the margin, then goes.
    let at = 2 * TICKET_TTL_MS;
    assert_eq!(f.next_stale().unwrap(), Some(at));
    assert!(rules::doomed(&mut f, vec![], None, at - 1)
        .unwrap()
        .is_empty());
    assert_eq!(
        rules::doomed(&mut f, vec![], None, at).unwrap(),
        vec![abandoned]
    );
    assert_eq!(f.next_stale().unwrap(), None);
    // Gone files still count against the hour, and are forgotten after it.
    assert_eq!(f.bytes_since("alice", 0).unwrap(), 300);
    rules::doomed(&mut f, vec![], None, super::HOUR_MS + 1).unwrap();
    assert_eq!(f.rows.len(), 0);
}

#[test]
fn complete_checks_the_stored_size() {
    let mut f = MemFiles::default();
    let t = issue(&mut f, "alice", 100, 0);
    assert_eq!(
        rules::complete(&mut f, &t.id, Kind::Png, 100, None)
            .unwrap_err()
            .code,
        "not_found"
    );
    rules::claim(&mut f, "lobby", &t.id, &t.ticket, 100, 0).unwrap();
    assert_eq!(
        rules::complete(&mut f, &t.id, Kind::Png, 99, None)
            .unwrap_err()
            .code,
        "wrong_size"
    );
}

#[test]
fn ranges() {
    assert_eq!(parse(None, 10), Ranged::Whole);
    assert_eq!(
        parse(Some("bytes=0-3"), 10),
        Ranged::Part { start: 0, end: 3 }
    );
    assert_eq!(
        parse(Some("bytes=5-"), 10),
        Ranged::Part { start: 5, end: 9 }
    );
    assert_eq!(
        parse(Some("bytes=-4"), 10),
        Ranged::Part { start: 6, end: 9 }
    );
    assert_eq!(
        parse(Some("bytes=8-100"), 10),
        Ranged::Part { start: 8, end: 9 }
    );
    assert_eq!(parse(Some("bytes=10-"), 10), Ranged::Unsatisfiable);
    assert_eq!(parse(Some("bytes=-0"), 10), Ranged::Unsatisfiable);
    assert_eq!(parse(Some("bytes=0-1,4-5"), 10), Ranged::Whole);
    assert_eq!(parse(Some("bytes=x-"), 10), Ranged::Whole);
    assert_eq!(parse(Some("items=0-1"), 10), Ranged::Whole);
}

#[test]
fn limits_from_vars() {
    let l = Limits::from_vars(&|n: &str| match n {
        "MAX_FILE_BYTES" => Some("2048".into()),
        "FILE_TYPES" => Some("png, pdf,bogus".into()),
        "FILE_BYTES_PER_HOUR" => Some("0".into()),
        _ => None,
    });
    assert_eq!(l.max_file_bytes, 2048);
    assert_eq!(l.types, vec![Kind::Png, Kind::Pdf]);
    assert_eq!(l.bytes_per_hour, 0);
    assert_eq!(Limits::from_vars(&|_: &str| None), Limits::default());
}

#[test]
fn download_headers() {
    let h = super::range::headers(Kind::Pdf, "plan \"v2\".pdf");
    let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        get("Content-Disposition"),
        Some("attachment; filename=\"plan _v2_.pdf\"")
    );
    assert_eq!(get("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(get("Cross-Origin-Resource-Policy"), Some("same-site"));
    let h = super::range::headers(Kind::Png, "a.png");
    let get = |k: &str| h.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
    assert!(get("Content-Disposition").is_some_and(|v| v.starts_with("inline")));
    assert_eq!(get("Cross-Origin-Resource-Policy"), Some("cross-origin"));
}
