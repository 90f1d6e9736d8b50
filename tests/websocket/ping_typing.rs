//! Ping/pong and typing.

use std::time::Duration;

use crate::common::*;
use serde_json::json;

use super::{server, QUIET};

#[tokio::test]
async fn ping_is_answered_pong_before_and_after_join() {
    let s = server();
    let room = uniq("ping");
    let mut c = connect(s, &room).await;
    for _ in 0..3 {
        c.send_text("ping").await;
        assert_eq!(c.recv().await, Frame::Text("pong".into()));
    }
    let (mut other, _) = join(s, &room, "Other").await;
    c.join("Pinger").await;
    other.expect("join").await;
    c.send_text("ping").await;
    assert_eq!(c.recv().await, Frame::Text("pong".into()));
    other.expect_silence(Duration::from_millis(300)).await;
    // ping does not count as a message.
    assert!(history_page(s, &room, "").await.is_empty());
}

#[tokio::test]
async fn typing_is_relayed_to_others_and_throttled() {
    let s = server();
    let room = uniq("typing");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;

    a.send_json(&json!({"type":"typing"})).await;
    for cl in [&mut b, &mut c] {
        let t = cl.expect("typing").await;
        assert_eq!(t["name"], "Alice");
    }
    // A second frame within a second is dropped silently (no error to the sender either).
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.send_json(&json!({"type":"typing"})).await;
    a.send_json(&json!({"type":"typing"})).await;
    a.expect_silence(QUIET).await;
    b.expect_silence(Duration::from_millis(100)).await;
    c.expect_silence(Duration::from_millis(100)).await;
    // The throttle is per member: Bob may type meanwhile.
    b.send_json(&json!({"type":"typing"})).await;
    assert_eq!(a.expect("typing").await["name"], "Bob");
    assert_eq!(c.expect("typing").await["name"], "Bob");
    // After the second is over, Alice's typing is relayed again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    a.send_json(&json!({"type":"typing"})).await;
    assert_eq!(b.expect("typing").await["name"], "Alice");
    assert_eq!(c.expect("typing").await["name"], "Alice");
    b.expect_silence(QUIET).await;
    a.expect_silence(Duration::from_millis(100)).await;
    // Never stored.
    assert!(history_page(s, &room, "").await.is_empty());
    assert_eq!(stats(s, &room).await["messages_stored"], 0);
}
