//! Reads do not create rooms: stats and history on made-up names leave no new SQLite file in the
//! local state, while a room that had a socket has one. Its own server: no other test may add
//! rooms to the state it counts.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::*;

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

    for i in 0..5 {
        let room = format!("made-up-{i}");
        let st = stats(&s, &room).await;
        assert_eq!(st["members"], 0, "{st}");
        assert!(history_page(&s, &room, "").await.is_empty());
        assert!(history_page(&s, &room, "?limit=5").await.is_empty());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = sqlite_files(&s);
    let created: Vec<String> = after
        .difference(&before)
        .map(|p| {
            let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            format!("{} ({size} bytes)", p.display())
        })
        .collect();
    assert!(
        created.is_empty(),
        "reading 5 made-up rooms created {} SQLite files:\n{}",
        created.len(),
        created.join("\n")
    );

    // A socket does create its room.
    let (c, _) = join(&s, "second-room", "Bob").await;
    assert_eq!(c.close(Some(1000)).await, Some(1000));
    let deadline = Instant::now() + Duration::from_secs(10);
    while sqlite_files(&s).len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sqlite_files(&s).len(), 2, "{:?}", sqlite_files(&s));
}
