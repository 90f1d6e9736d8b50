//! Stats against what clients did, and room isolation.

use std::time::Duration;

use crate::common::*;
use serde_json::Value;

use super::{server, QUIET};

#[tokio::test]
async fn stats_agree_with_what_clients_did() {
    let s = server();
    let room = uniq("stats");
    let fresh = stats(s, &room).await;
    assert_eq!(fresh["room"], room.as_str());
    assert_eq!(fresh["members"], 0);
    assert_eq!(fresh["connections"], 0);
    assert_eq!(fresh["messages_stored"], 0);
    assert_eq!(fresh["last_message_id"], 0);

    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let u = connect(s, &room).await;
    a.expect("join").await;
    let mut last = Value::Null;
    for i in 0..7 {
        last = b.say(&format!("m{i}")).await;
        a.expect("message").await;
    }
    let st = stats(s, &room).await;
    assert_eq!(st["room"], room.as_str());
    assert_eq!(st["members"], 2, "{st}");
    assert_eq!(st["connections"], 3, "{st}");
    assert_eq!(st["messages_stored"], 7, "{st}");
    assert_eq!(st["last_message_id"], last["id"], "{st}");
    let mem = st["memory_bytes"].as_u64().expect("memory_bytes");
    assert!(
        mem > 0 && mem % 65536 == 0,
        "wasm memory is whole pages: {st}"
    );
    let started = st["started_at"].as_i64().expect("started_at");
    assert!(
        started >= s.started_ms - 1000 && started <= now_ms(),
        "started_at {started} not within this server's life (started {}): {st}",
        s.started_ms
    );

    u.drop_silently();
    wait_stats(s, &room, "2 connections", |v| v["connections"] == 2).await;
    assert_eq!(b.close(Some(1000)).await, Some(1000));
    a.expect("leave").await;
    let st = wait_stats(s, &room, "1 member", |v| {
        v["members"] == 1 && v["connections"] == 1
    })
    .await;
    assert_eq!(st["messages_stored"], 7);
    a.drop_abruptly();
    let st = wait_stats(s, &room, "empty", |v| {
        v["members"] == 0 && v["connections"] == 0
    })
    .await;
    assert_eq!(st["last_message_id"], last["id"]);
}

#[tokio::test]
async fn two_rooms_stay_isolated() {
    let s = server();
    let r1 = uniq("iso-one");
    let r2 = uniq("iso-two");
    let (mut a1, _) = join(s, &r1, "Alice").await;
    let (mut a2, w2) = join(s, &r2, "Alice").await; // same name, other room: fine
    assert_eq!(members(&w2), ["Alice"]);
    let (mut b1, _) = join(s, &r1, "Bob").await;
    a1.expect("join").await;
    let m = b1.say("only in one").await;
    a1.expect("message").await;
    a2.expect_silence(QUIET).await;
    let m2 = a2.say("only in two").await;
    a1.expect_silence(Duration::from_millis(200)).await;
    b1.expect_silence(Duration::from_millis(200)).await;
    assert_eq!(
        ids(&history_page(s, &r1, "").await),
        [m["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(&history_page(s, &r2, "").await),
        [m2["id"].as_i64().unwrap()]
    );
    assert_eq!(stats(s, &r1).await["members"], 2);
    assert_eq!(stats(s, &r2).await["members"], 1);
    drop(b1);
    assert_leave_frame(&a1.expect("leave").await, "Bob");
    a2.expect_silence(QUIET).await;
}
