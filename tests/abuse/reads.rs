//! Reads do not create rooms: stats, history and search on made-up names store nothing, while a room that
//! had a socket has its tables. Its own server: no other test may add rooms to the state it counts.
//!
//! `wrangler dev` (miniflare) creates an object's SQLite database when it first instantiates the
//! object, before any of our code runs, and records the object's name in it
//! (`__miniflare_do_name`); measured: answering without touching storage leaves the same file.
//! So "nothing stored" is checked as "none of the room's tables is in the database or its WAL":
//! SQLite keeps each table's `CREATE TABLE` text in its schema pages.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::*;

/// Whether the room's own tables are in this database (its file or its write-ahead log).
fn has_room_tables(p: &PathBuf) -> bool {
    let mut bytes = std::fs::read(p).unwrap_or_default();
    bytes.extend(std::fs::read(p.with_extension("sqlite-wal")).unwrap_or_default());
    bytes
        .windows(b"TABLE messages".len())
        .any(|w| w == b"TABLE messages")
}

fn sqlite_files(s: &Server) -> BTreeSet<PathBuf> {
    files_under(&s.persist)
        .into_iter()
        // A room object's own database; not the namespace's (or the cache's) metadata.sqlite.
        .filter(|p| {
            p.extension().is_some_and(|e| e == "sqlite")
                && p.to_string_lossy().contains("/do/")
                && !p.ends_with("metadata.sqlite")
        })
        .collect()
}

#[tokio::test]
async fn reads_do_not_create_rooms() {
    let s = Server::start(&[]);
    // The state dir exists once any room was stored: make one first, so the count is not 0 of 0.
    let (c, _) = join(&s, "first-room", "Ann").await;
    assert_eq!(c.close(Some(1000)).await, Some(1000));
    let deadline = Instant::now() + Duration::from_secs(10);
    while sqlite_files(&s).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = sqlite_files(&s);
    assert_eq!(
        before.len(),
        1,
        "a room with a socket has its file: {before:?}"
    );
    let first = before.iter().next().cloned().unwrap_or_default();
    assert!(
        has_room_tables(&first),
        "a room with a socket has its tables"
    );

    for i in 0..5 {
        let room = format!("made-up-{i}");
        let st = stats(&s, &room).await;
        assert_eq!(st["members"], 0, "{st}");
        assert!(history_page(&s, &room, "").await.is_empty());
        assert!(history_page(&s, &room, "?limit=5").await.is_empty());
        let (st, v) = get_json(&s, &format!("/api/rooms/{room}/search?q=hello")).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["messages"], serde_json::json!([]), "{v}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = sqlite_files(&s);
    let created: Vec<String> = after
        .difference(&before)
        .filter(|p| has_room_tables(p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        created.is_empty(),
        "reading 5 made-up rooms stored something in {} databases:\n{}",
        created.len(),
        created.join("\n")
    );

    // A socket does create its room.
    let (c, _) = join(&s, "second-room", "Bob").await;
    assert_eq!(c.close(Some(1000)).await, Some(1000));
    let deadline = Instant::now() + Duration::from_secs(10);
    let stored = |s: &Server| {
        sqlite_files(s)
            .iter()
            .filter(|p| has_room_tables(p))
            .count()
    };
    while stored(&s) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let with_tables: Vec<_> = sqlite_files(&s)
        .into_iter()
        .filter(has_room_tables)
        .collect();
    assert_eq!(with_tables.len(), 2, "{with_tables:?}");
}
