//! The room's side of files: tickets on the socket, attaching, and the files that die with their
//! message, their trim or their abandonment (`upload.rs`, `crate::files`).

use super::harness::{unlimited, Harness};
use crate::files::tests::MemFiles;
use crate::files::{rules, FileStore, Kind};
use serde_json::{json, Value};

fn harness(limits: crate::config::Limits) -> Harness {
    let mut h = Harness::new(limits);
    h.store.files = Some(MemFiles::default());
    h
}

fn files(h: &mut Harness) -> &mut MemFiles {
    h.store.files.as_mut().expect("files")
}

/// Asks for a ticket and uploads as the Worker would: the file's id.
fn uploaded(h: &mut Harness, conn: u32, name: &str) -> String {
    h.send(conn, json!({"type":"upload","name":name,"size":10}));
    let t = h.one(conn);
    assert_eq!(t["type"], "upload_ticket", "{t}");
    let id = t["id"].as_str().unwrap_or_default().to_string();
    let url = t["url"].as_str().unwrap_or_default().to_string();
    assert!(url.starts_with(&format!("/api/rooms/{}/files/{id}?ticket=", h.room.name())));
    let ticket = url.rsplit('=').next().unwrap_or_default().to_string();
    let now = h.now;
    let room = h.room.name().to_string();
    rules::claim(files(h), &room, &id, &ticket, 10, now).expect("claim");
    rules::complete(files(h), &id, Kind::Png, 10, Some((4, 3))).expect("complete");
    id
}

fn message_with(h: &mut Harness, conn: u32, ids: &[&str]) -> Value {
    h.send(conn, json!({"type":"message","files":ids}));
    h.take(conn).into_iter().last().unwrap_or(Value::Null)
}

#[test]
fn no_ticket_before_joining_or_without_file_storage() {
    let mut h = harness(unlimited());
    h.connect(1);
    h.send(1, json!({"type":"upload","name":"a.png","size":10}));
    assert_eq!(h.error_code(1), "not_joined");
    let mut plain = Harness::new(unlimited());
    plain.join(1, "alice");
    plain.send(1, json!({"type":"upload","name":"a.png","size":10}));
    assert_eq!(plain.error_code(1), "files_off");
    h.join(2, "bob");
    h.send(2, json!({"type":"upload","name":"a.png","size":20_000_000}));
    assert_eq!(h.error_code(2), "file_too_large");
}

#[test]
fn a_message_carries_its_files_once_and_only_its_authors() {
    let mut h = harness(unlimited());
    h.join(1, "alice");
    h.join(2, "bob");
    h.clear();
    let id = uploaded(&mut h, 1, "shot.png");
    let m = message_with(&mut h, 1, &[&id]);
    assert_eq!(m["type"], "message", "{m}");
    assert_eq!(m["text"], "");
    assert_eq!(
        m["files"],
        json!([{"id":id,"name":"shot.png","type":"image/png","size":10,"width":4,"height":3}])
    );
    assert_eq!(
        h.store.messages.last().map(|p| p.message.files.len()),
        Some(1)
    );
    // Not twice; not by someone else.
    assert_eq!(message_with(&mut h, 1, &[&id])["code"], "invalid_message");
    h.clear();
    let theirs = uploaded(&mut h, 2, "b.png");
    assert_eq!(message_with(&mut h, 1, &[&theirs])["code"], "not_found");
}

#[test]
fn a_deleted_message_takes_its_files() {
    let mut h = harness(unlimited());
    h.join_with(
        1,
        json!({"type":"join","name":"alice","session":"s-0123456789abcdef"}),
    );
    h.clear();
    let id = uploaded(&mut h, 1, "a.png");
    let m = message_with(&mut h, 1, &[&id]);
    h.send(1, json!({"type":"delete","id":m["id"]}));
    assert_eq!(h.deleted_files, vec![id.clone()]);
    assert!(h.store.messages[0].message.files.is_empty());
    assert_eq!(files(&mut h).rows[&id].state, crate::files::FileState::Gone);
}

#[test]
fn trimming_takes_the_files_of_the_trimmed_messages() {
    let mut limits = unlimited();
    limits.history_cap = 2;
    let mut h = harness(limits);
    h.join(1, "alice");
    h.clear();
    let id = uploaded(&mut h, 1, "a.png");
    message_with(&mut h, 1, &[&id]);
    h.send(1, json!({"type":"message","text":"one"}));
    assert!(h.deleted_files.is_empty());
    h.send(1, json!({"type":"message","text":"two"}));
    assert_eq!(h.deleted_files, vec![id]);
}

#[test]
fn a_full_room_looks_for_trimmed_files_only_when_one_is_attached_that_low() {
    let mut limits = unlimited();
    limits.history_cap = 3;
    let mut h = harness(limits);
    h.join(1, "alice");
    h.clear();
    for i in 0..10 {
        h.send(1, json!({"type":"message","text":format!("plain {i}")}));
    }
    h.clear();
    assert_eq!(files(&mut h).trim_lookups, 0, "trims without files");
    let id = uploaded(&mut h, 1, "a.png");
    message_with(&mut h, 1, &[&id]);
    // Two trims below the file's message: still no lookup; the third takes it.
    h.send(1, json!({"type":"message","text":"one"}));
    h.send(1, json!({"type":"message","text":"two"}));
    assert_eq!(files(&mut h).trim_lookups, 0);
    assert!(h.deleted_files.is_empty());
    h.send(1, json!({"type":"message","text":"three"}));
    assert_eq!(h.deleted_files, vec![id]);
    assert_eq!(files(&mut h).trim_lookups, 1);
    for i in 0..5 {
        h.send(1, json!({"type":"message","text":format!("after {i}")}));
    }
    assert_eq!(files(&mut h).trim_lookups, 1, "none attached any more");
}

#[test]
fn the_alarm_deletes_uploads_never_attached_even_after_everyone_left() {
    let mut h = harness(unlimited());
    h.join(1, "alice");
    h.clear();
    let id = uploaded(&mut h, 1, "a.png");
    let stale_at = files(&mut h).rows[&id].stale_at();
    assert!(h.alarm.is_some_and(|at| at <= stale_at));
    h.gone(1);
    // Its alarm stays: nobody is here, but a file is waiting to be deleted.
    assert!(files(&mut h).next_stale().unwrap_or(None).is_some());
    h.now = stale_at;
    h.ring(vec![]);
    assert_eq!(h.deleted_files, vec![id]);
    assert_eq!(files(&mut h).next_stale().unwrap_or(None), None);
}
