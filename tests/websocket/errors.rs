//! Error frames: malformed frames, errors before join, the 16 KiB frame limit, debug hooks off.

use std::time::Duration;

use crate::common::*;
use chatterly::protocol::MAX_FRAME_BYTES as MAX_FRAME;
use serde_json::json;

use super::{server, QUIET};

#[tokio::test]
async fn malformed_frames_are_bad_request_and_the_socket_stays_usable() {
    let s = server();
    let room = uniq("errors");
    let (mut obs, _) = join(s, &room, "Observer").await;
    // Three offenders take turns so the valid follow-up messages stay under the default burst.
    let mut offenders = Vec::new();
    for n in ["A1", "A2", "A3"] {
        let (c, _) = join(s, &room, n).await;
        assert_join_frame(&obs.expect("join").await, n);
        offenders.push(c);
    }
    for (i, c) in offenders.iter_mut().enumerate() {
        for _ in i + 1..3 {
            c.expect("join").await;
        }
    }
    let bad_text: Vec<String> = vec![
        "not json".into(),
        "{".into(),
        "{\"type\":\"message\",\"text\":\"hi\"".into(),
        "".into(),
        "pong".into(),
        "PING".into(),
        "null".into(),
        "42".into(),
        "\"message\"".into(),
        "[]".into(),
        "[{\"type\":\"message\",\"text\":\"hi\"}]".into(),
        "true".into(),
        "{}".into(),
        r#"{"text":"no type"}"#.into(),
        r#"{"type":"shout","text":"hi"}"#.into(),
        r#"{"type":"Message","text":"hi"}"#.into(),
        r#"{"type":"welcome"}"#.into(),
        r#"{"type":"error"}"#.into(),
        r#"{"type":"debug_reset"}"#.into(),
        r#"{"type":null}"#.into(),
        r#"{"type":7}"#.into(),
        r#"{"type":["message"]}"#.into(),
        r#"{"type":"message","text":5}"#.into(),
        r#"{"type":"message","text":["hi"]}"#.into(),
        r#"{"type":"message","text":"hi","nonce":5}"#.into(),
        r#"{"type":"message","text":"hi","nonce":{}}"#.into(),
        "[".repeat(8000),
        format!("{}{}", "{\"a\":".repeat(2000), "1"),
    ];
    for (i, t) in bad_text.iter().enumerate() {
        let k = i % offenders.len();
        let a = &mut offenders[k];
        a.send_text(t.clone()).await;
        let e = a.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "bad_request",
            "{:?} must be bad_request, got {e}",
            clip(t)
        );
        // The socket stays usable.
        let m = a.say("still here").await;
        assert_eq!(obs.expect("message").await, m);
        for (j, o) in offenders.iter_mut().enumerate() {
            if j != k {
                assert_eq!(o.expect("message").await, m);
            }
        }
    }
    // A binary frame is bad_request, even when it holds a valid frame.
    for bin in [
        br#"{"type":"message","text":"hi"}"#.to_vec(),
        vec![0, 159, 146, 150],
        Vec::new(),
    ] {
        let a = &mut offenders[0];
        a.send_binary(bin).await;
        a.expect_error("bad_request").await;
    }
    let m = offenders[0].say("after binary").await;
    assert_eq!(obs.expect("message").await, m);
    obs.expect_silence(Duration::from_millis(300)).await;
    s.assert_no_panic();
}

#[tokio::test]
async fn errors_before_join_keep_the_socket_usable() {
    let s = server();
    let room = uniq("errjoin");
    let mut c = connect(s, &room).await;
    c.send_text("nope").await;
    c.expect_error("bad_request").await;
    c.send_binary(vec![1, 2, 3]).await;
    c.expect_error("bad_request").await;
    c.send_text("x".repeat(MAX_FRAME + 1)).await;
    c.expect_error("too_large").await;
    c.send_json(&json!({"type":"wave"})).await;
    c.expect_error("bad_request").await;
    c.join("Survivor").await;
    c.say("made it").await;
}

#[tokio::test]
async fn frames_over_16_kib_are_too_large_at_exactly_the_limit() {
    let s = server();
    let room = uniq("large");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;

    // A frame of exactly 16384 bytes is parsed: its text is trimmed down to 2000 characters.
    let head = format!(r#"{{"type":"message","text":"{}"#, "x".repeat(2000));
    let tail = r#""}"#;
    let pad = MAX_FRAME - head.len() - tail.len();
    let exact = format!("{head}{}{tail}", " ".repeat(pad));
    assert_eq!(exact.len(), MAX_FRAME);
    a.send_text(exact).await;
    let m = a.expect("message").await;
    assert_eq!(m["text"], "x".repeat(2000));
    assert_eq!(b.expect("message").await, m);

    // One byte more is too_large, not parsed, not broadcast.
    let over = format!("{head}{}{tail}", " ".repeat(pad + 1));
    assert_eq!(over.len(), MAX_FRAME + 1);
    a.send_text(over).await;
    a.expect_error("too_large").await;
    // Invalid JSON over the limit is too_large too (never parsed).
    a.send_text("{".repeat(MAX_FRAME + 1)).await;
    a.expect_error("too_large").await;
    a.send_text("[".repeat(100_000)).await;
    a.expect_error("too_large").await;
    a.send_text(format!(
        r#"{{"type":"message","text":"{}"}}"#,
        "z".repeat(200_000)
    ))
    .await;
    a.expect_error("too_large").await;
    b.expect_silence(QUIET).await;
    let m = a.say("fine after too_large").await;
    assert_eq!(b.expect("message").await, m);
    assert_eq!(history_page(s, &room, "").await.len(), 2);
    s.assert_no_panic();
}

#[tokio::test]
async fn debug_reset_is_rejected_without_test_hooks() {
    let s = server();
    let room = uniq("nohooks");
    let mut u = connect(s, &room).await;
    u.send_json(&json!({"type":"debug_reset"})).await;
    u.expect_error("bad_request").await;
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let m1 = a.say("before").await;
    b.expect("message").await;
    a.send_json(&json!({"type":"debug_reset"})).await;
    a.expect_error("bad_request").await;
    // Nothing was reset.
    let st = stats(s, &room).await;
    assert_eq!(st["members"], 2);
    let (_c, wc) = join(s, &room, "Carol").await;
    assert_eq!(members(&wc), ["Alice", "Bob", "Carol"]);
    assert_join_frame(&b.expect("join").await, "Carol");
    let m2 = b.say("after").await;
    assert!(m2["id"].as_i64() > m1["id"].as_i64());
}
