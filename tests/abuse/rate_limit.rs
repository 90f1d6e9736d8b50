//! The rate limit belongs to the member's name, not the socket (RATE_LIMIT_PER_SEC 1, burst 3):
//! a takeover, or closing and joining again, does not refill the bucket.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

use super::limits;

/// Spends the burst of 3 as `client`; returns when the last one was stored.
async fn spend_burst(c: &mut Client) -> Instant {
    for i in 0..3 {
        c.say_nonce(&format!("burst {i}"), &format!("b{i}")).await;
    }
    Instant::now()
}

/// Sends 3 messages at once (nonces r0..r2) and returns the replies by nonce: the echo or the
/// error frame. Broadcasts from others are skipped.
async fn three_more(c: &mut Client) -> Vec<Value> {
    let frames: Vec<String> = (0..3)
        .map(|i| {
            json!({"type":"message","text":format!("again {i}"),"nonce":format!("r{i}")})
                .to_string()
        })
        .collect();
    c.write_texts(&frames).await;
    let mut replies = Vec::new();
    while replies.len() < 3 {
        let v = c.recv_json().await;
        if v["type"] == "message" || v["type"] == "error" {
            replies.push(v);
        }
    }
    replies
}

/// After the burst was spent at `spent`, at most one message per whole second since then may
/// have gone through, and the rest are `rate_limited` with their nonce. A fresh bucket would let
/// all three through.
fn assert_bucket_kept(replies: &[Value], spent: Instant) {
    let refilled = spent.elapsed().as_secs() as usize;
    let sent: Vec<&Value> = replies.iter().filter(|v| v["type"] == "message").collect();
    assert!(
        sent.len() <= refilled.min(2),
        "{} of 3 messages went through {:?} after the bucket was emptied (a fresh bucket): {replies:?}",
        sent.len(),
        spent.elapsed()
    );
    for (i, v) in replies.iter().enumerate() {
        assert_eq!(
            v["nonce"],
            format!("r{i}"),
            "replies in order, with nonces: {replies:?}"
        );
        if v["type"] == "error" {
            assert_eq!(v["code"], "rate_limited", "{v}");
            assert!(v["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0), "{v}");
        }
    }
}

#[tokio::test]
async fn rate_limit_holds_across_a_takeover() {
    let s = limits();
    let room = uniq("rl-takeover");
    let session = "flood-session-0123456789abcdef";
    let (mut obs, _) = join(s, &room, "Observer").await;
    let mut old = connect(s, &room).await;
    old.join_with(json!({"type":"join","name":"Flood","session":session}))
        .await;
    obs.expect("join").await;
    let spent = spend_burst(&mut old).await;

    let mut new = connect(s, &room).await;
    new.join_with(json!({"type":"join","name":"Flood","session":session}))
        .await;
    let replies = three_more(&mut new).await;
    assert_bucket_kept(&replies, spent);
    let h = history_page(s, &room, "").await;
    let stored = h.len();
    assert!(stored <= 3 + spent.elapsed().as_secs() as usize, "{h:?}");
}

#[tokio::test]
async fn rate_limit_holds_across_close_and_rejoin() {
    let s = limits();
    let room = uniq("rl-rejoin");
    let (mut first, _) = join(s, &room, "Flood").await;
    let spent = spend_burst(&mut first).await;
    assert_eq!(first.close(Some(1000)).await, Some(1000));
    wait_stats(s, &room, "Flood gone", |v| v["members"] == 0).await;

    let (mut again, _) = join(s, &room, "Flood").await;
    let replies = three_more(&mut again).await;
    assert_bucket_kept(&replies, spent);
    // The limit is per member, not per room: another name has its own bucket.
    let (mut other, _) = join(s, &room, "Other").await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    for i in 0..3 {
        other.say(&format!("other {i}")).await;
    }
}
