//! What the log says: a private room only by its `private-` tag, never its id (the room's only
//! secret); rejected frames counted, not one line each.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

use super::idle;

/// The Worker's JSON log lines (not wrangler's own) whose `room` is `tag` and `event` is
/// `event`, once at least `min` are there (wrangler writes the log asynchronously).
async fn log_lines(s: &Server, tag: &str, event: &str, min: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<Value> = s
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .filter(|v| v["room"] == tag && v["event"] == event)
            .collect();
        if lines.len() >= min || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_private_room_is_logged_by_its_tag_never_its_id() {
    let s = idle();
    let (st, v) = post_json(s, "/api/rooms").await;
    assert_eq!(st, 201, "{v}");
    let id = v["room"].as_str().unwrap().to_string();
    let (mut a, _) = join(s, &id, "Pat").await;
    a.say("a secret").await;
    assert_eq!(a.close(Some(1000)).await, Some(1000));
    wait_stats(s, &id, "empty", |v| v["members"] == 0).await;

    // Presence is logged (one line per flush), under a private- tag…
    let deadline = Instant::now() + Duration::from_secs(10);
    let tagged = loop {
        let lines: Vec<Value> = s
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .filter(|v| {
                v["room"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("private-"))
                    && v["event"] == "presence"
            })
            .collect();
        if !lines.is_empty() || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        !tagged.is_empty(),
        "no presence line under a private- tag; log tail:\n{}",
        s.log_tail(3000)
    );
    let tag = tagged[0]["room"].as_str().unwrap();
    let hex = tag.strip_prefix("private-").unwrap();
    assert!(
        hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "tag {tag:?}"
    );
    // …and the id appears nowhere in the Worker's lines, not even in part. (wrangler's own
    // request lines, `[wrangler:info] GET /api/rooms/<id>/…`, are the dev server's, not ours.)
    let leaks: Vec<String> = s
        .log()
        .lines()
        .filter(|l| !l.trim_start().starts_with("[wrangler") && l.contains(&id[..16]))
        .map(String::from)
        .collect();
    assert!(
        leaks.is_empty(),
        "the Worker logged the private room's id {id}:\n{}",
        leaks.join("\n")
    );
}

#[tokio::test]
async fn thirty_bad_frames_log_at_most_two_lines() {
    let s = idle();
    let room = uniq("rejects");
    let (mut c, _) = join(s, &room, "Noisy").await;
    for i in 0..30 {
        c.send_text(format!("not json {i}")).await;
        c.expect_error("bad_request").await;
    }
    c.send_json(&json!({"type":"typing","x":1})).await;
    assert_eq!(c.close(Some(1000)).await, Some(1000));
    wait_stats(s, &room, "empty", |v| v["connections"] == 0).await;
    // The leave line comes after every rejected line.
    log_lines(s, &room, "presence", 2).await;
    let rejected = log_lines(s, &room, "rejected", 3).await;
    assert!(
        !rejected.is_empty(),
        "no rejected line at all for room {room}; log tail:\n{}",
        s.log_tail(3000)
    );
    assert!(
        rejected.len() <= 2,
        "30 bad frames wrote {} rejected lines: {rejected:?}",
        rejected.len()
    );
}
