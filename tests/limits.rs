//! The [vars] limits of docs/protocol.md, on a server started with small values:
//! rate limiting (RATE_LIMIT_PER_SEC 2, RATE_LIMIT_BURST 3) and MAX_MEMBERS 3.
//! (JOIN_TIMEOUT_MS has its own server, in join_timeout.rs, so that its short timeout cannot
//! close the unjoined sockets these tests keep open for a while.)

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(
        &SERVER,
        &[
            ("RATE_LIMIT_PER_SEC", "2"),
            ("RATE_LIMIT_BURST", "3"),
            ("MAX_MEMBERS", "3"),
        ],
    )
}

#[tokio::test]
async fn rate_limit_drops_the_message_and_keeps_the_socket() {
    let s = server();
    let room = uniq("rate");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;

    // The burst of 3 goes through.
    let mut ok = Vec::new();
    for i in 0..3 {
        let m = a.say(&format!("burst {i}")).await;
        assert_eq!(b.expect("message").await, m);
        ok.push(m);
    }
    // The 4th is refused, dropped, and tells when to retry (a token every 500 ms).
    a.send_json(&json!({"type":"message","text":"too fast","nonce":"dropped"}))
        .await;
    let e = a.expect_error("rate_limited").await;
    let retry = e["retry_after_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("retry_after_ms must be a positive integer: {e}"));
    assert!(
        (1..=600).contains(&retry),
        "retry_after_ms {retry} for a 2/s bucket: {e}"
    );
    b.expect_silence(Duration::from_millis(500)).await;
    let h = history_page(s, &room, "").await;
    assert_eq!(ids(&h), ids(&ok), "the dropped message is not stored");
    assert!(!h.iter().any(|m| m["nonce"] == "dropped"));
    assert_eq!(stats(s, &room).await["messages_stored"], 3);

    // After waiting as told, sending works again on the same socket.
    tokio::time::sleep(Duration::from_millis(retry + 50)).await;
    let m = a.say("patient").await;
    assert_eq!(b.expect("message").await, m);
    assert!(m["id"].as_i64() > ok[2]["id"].as_i64());

    // Another connection has its own bucket.
    for i in 0..3 {
        let m = b.say(&format!("bob {i}")).await;
        assert_eq!(a.expect("message").await, m);
    }
    b.send_json(&json!({"type":"message","text":"bob too fast"}))
        .await;
    b.expect_error("rate_limited").await;
    a.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn rate_limit_refills_at_the_configured_rate() {
    let s = server();
    let room = uniq("refill");
    let (mut a, _) = join(s, &room, "Alice").await;
    let start = Instant::now();
    // Pipeline 12 messages: 3 from the burst, then refused until tokens come back.
    for i in 0..12 {
        a.send_json(&json!({"type":"message","text":format!("r{i}")}))
            .await;
    }
    let mut accepted = 0;
    for _ in 0..12 {
        let v = a.recv_json().await;
        match (v["type"].as_str(), v["code"].as_str()) {
            (Some("message"), _) => accepted += 1,
            (Some("error"), Some("rate_limited")) => {}
            _ => panic!("unexpected frame {v}"),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let max = 3 + (secs * 2.0).ceil() as i64 + 1;
    assert!(
        accepted >= 3 && accepted <= max,
        "{accepted} accepted in {secs:.2}s with burst 3 and 2/s"
    );
    // Two seconds later, ~4 tokens are back (capped at the burst of 3).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for i in 0..3 {
        a.say(&format!("later {i}")).await;
    }
    a.send_json(&json!({"type":"message","text":"over the burst"}))
        .await;
    a.expect_error("rate_limited").await;
}

#[tokio::test]
async fn room_full_at_max_members() {
    let s = server();
    let room = uniq("full");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (b, _) = join(s, &room, "Bob").await;
    let (mut c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    // Unjoined sockets do not count, and cannot join while the room is full.
    let mut d = connect(s, &room).await;
    let mut e = connect(s, &room).await;
    d.send_json(&json!({"type":"join","name":"Dave"})).await;
    d.expect_error("room_full").await;
    e.send_json(&json!({"type":"join","name":"Eve"})).await;
    e.expect_error("room_full").await;
    a.expect_silence(Duration::from_millis(500)).await;
    // The refused socket stays open, still unjoined.
    d.send_json(&json!({"type":"message","text":"let me in"}))
        .await;
    d.expect_error("not_joined").await;
    let st = stats(s, &room).await;
    assert_eq!(st["members"], 3);
    assert_eq!(st["connections"], 5);

    // A seat frees up: the next join fits, the one after does not.
    assert_eq!(b.close(Some(1000)).await, Some(1000));
    assert_leave_frame(&a.expect("leave").await, "Bob");
    assert_leave_frame(&c.expect("leave").await, "Bob");
    let w = d.join("Dave").await;
    assert_eq!(members(&w), ["Alice", "Carol", "Dave"]);
    e.send_json(&json!({"type":"join","name":"Eve"})).await;
    e.expect_error("room_full").await;
    assert_join_frame(&a.expect("join").await, "Dave");
    d.say("in at last").await;
}
