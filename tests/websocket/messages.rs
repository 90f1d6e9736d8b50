//! Messages: delivery to every member, id order, text rules, nothing before join.

use crate::common::*;
use serde_json::{json, Value};

use super::{server, QUIET};

#[tokio::test]
async fn messages_reach_every_member_including_the_sender() {
    let s = server();
    let room = uniq("msg");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;

    let before = now_ms();
    a.send_json(&json!({"type":"message","text":"hello","nonce":"c1"}))
        .await;
    let echo = a.expect("message").await;
    assert!(echo["id"].as_i64().unwrap() > 0, "{echo}");
    assert_eq!(echo["name"], "Alice");
    assert_eq!(echo["text"], "hello");
    assert_eq!(echo["nonce"], "c1");
    assert_recent(&echo, "at");
    assert!(echo["at"].as_i64().unwrap() >= before - 5000);
    assert_eq!(b.expect("message").await, echo);
    assert_eq!(c.expect("message").await, echo);

    // Without a nonce the frame has none.
    let e2 = b.say("no nonce").await;
    assert!(e2.get("nonce").is_none(), "nonce only when given: {e2}");
    assert_eq!(a.expect("message").await, e2);
    assert_eq!(c.expect("message").await, e2);
}

#[tokio::test]
async fn ids_strictly_increase_and_everyone_sees_one_order() {
    let s = server();
    let room = uniq("order");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut w, _) = join(s, &room, "Watch").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;
    // Interleave two senders without waiting for echoes.
    for i in 0..8 {
        a.send_json(&json!({"type":"message","text":format!("a{i}")}))
            .await;
        b.send_json(&json!({"type":"message","text":format!("b{i}")}))
            .await;
    }
    let mut seen = Vec::new();
    for cl in [&mut a, &mut b, &mut w] {
        let mut v = Vec::new();
        for _ in 0..16 {
            v.push(cl.expect("message").await);
        }
        seen.push(v);
    }
    let order = ids(&seen[0]);
    assert_strictly_increasing(&order);
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    // Per-sender order is kept.
    let a_texts: Vec<_> = seen[0]
        .iter()
        .filter(|m| m["name"] == "Alice")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(a_texts, (0..8).map(|i| format!("a{i}")).collect::<Vec<_>>());
    let h = history_page(s, &room, "").await;
    assert_eq!(
        h.iter().map(msg_core).collect::<Vec<_>>(),
        seen[0].iter().map(msg_core).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn message_text_rules() {
    let s = server();
    let room = uniq("text");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;

    // Trimmed; inner newlines and tabs kept.
    let m = a.say("  \n\t hi there \t\n ").await;
    assert_eq!(m["text"], "hi there");
    b.expect("message").await;
    let m = a.say("line1\nline2\n\tindented").await;
    assert_eq!(m["text"], "line1\nline2\n\tindented");
    b.expect("message").await;

    // Exactly 2000 characters (ASCII and 4-byte scalars) are fine.
    for t in ["x".repeat(2000), "😀".repeat(2000), "é".repeat(2000)] {
        let m = a.say(&t).await;
        assert_eq!(m["text"].as_str().unwrap().chars().count(), 2000);
        b.expect("message").await;
    }
    // Trimming happens before the length check.
    let m = a.say(&format!("   {}   ", "y".repeat(2000))).await;
    assert_eq!(m["text"], "y".repeat(2000));
    b.expect("message").await;

    let bad: Vec<Value> = vec![
        json!({"type":"message","text":"x".repeat(2001)}),
        json!({"type":"message","text":"😀".repeat(2001)}),
        json!({"type":"message","text":""}),
        json!({"type":"message","text":"   \n\t  "}),
        json!({"type":"message"}),
        json!({"type":"message","text":"bell\u{0007}"}),
        json!({"type":"message","text":"nul\u{0000}x"}),
        json!({"type":"message","text":"esc\u{001b}[2J"}),
        json!({"type":"message","text":"del\u{007f}x"}),
        json!({"type":"message","text":"ok","nonce":"n".repeat(65)}),
        json!({"type":"message","text":"ok","nonce":"😀".repeat(65)}),
    ];
    for f in &bad {
        a.send_json(f).await;
        let e = a.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "invalid_message",
            "{} must be invalid_message, got {e}",
            clip(&f.to_string())
        );
    }
    // Nothing of that reached anyone or the history.
    b.expect_silence(QUIET).await;
    let m = a.say_nonce("nonce at the limit", &"n".repeat(64)).await;
    assert_eq!(b.expect("message").await, m);
    // The nonce limit counts characters, not bytes.
    let m = a.say_nonce("unicode nonce", &"😀".repeat(64)).await;
    assert_eq!(b.expect("message").await, m);
    let h = history_page(s, &room, "?limit=100").await;
    assert_eq!(h.len(), 8, "only the valid messages are stored");
}

#[tokio::test]
async fn message_and_typing_before_join_are_not_joined() {
    let s = server();
    let room = uniq("early");
    let (mut a, _) = join(s, &room, "Alice").await;
    let mut c = connect(s, &room).await;
    c.send_json(&json!({"type":"message","text":"sneaky"}))
        .await;
    c.expect_error("not_joined").await;
    c.send_json(&json!({"type":"typing"})).await;
    c.expect_error("not_joined").await;
    a.expect_silence(QUIET).await;
    assert!(history_page(s, &room, "").await.is_empty());
    c.join("Late").await;
    assert_join_frame(&a.expect("join").await, "Late");
    c.say("now it works").await;
}
