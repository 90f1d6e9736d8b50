//! Overflows and error hygiene: `since` past the last id, an out-of-range `before`, and error
//! messages that never echo more than a few dozen characters of the caller's input.

use serde_json::{json, Value};

use crate::common::*;

use super::idle;

/// Why `message` echoes too much of `input` (a run of more than 40 of its characters, or a
/// message over 200 characters), if it does.
fn echo_problem(message: &str, input: &str) -> Option<String> {
    let chars: Vec<char> = input.chars().collect();
    let echoes = chars
        .windows(41)
        .any(|w| message.contains(&w.iter().collect::<String>()));
    let len = message.chars().count();
    (echoes || len > 200).then(|| {
        format!(
            "the error message ({len} chars) echoes more than 40 characters of the input: {}",
            clip(message)
        )
    })
}

fn assert_not_echoed(message: &str, input: &str) {
    if let Some(problem) = echo_problem(message, input) {
        panic!("{problem}");
    }
}

#[tokio::test]
async fn since_beyond_u64_means_nothing_was_missed() {
    let s = idle();
    let room = uniq("since-max");
    let sent = fill_room(s, &room, 150, "fill").await;
    let mut c = connect(s, &room).await;
    let w = c
        .join_with(json!({"type":"join","name":"Max","since":u64::MAX}))
        .await;
    assert_eq!(w["history"], json!([]), "{w}");
    assert_eq!(w["truncated"], false, "nothing was missed: {w}");
    assert_eq!(w["last_id"], sent[149]["id"], "{w}");
    // The socket still works.
    c.say("after").await;
}

#[tokio::test]
async fn before_out_of_range_is_bad_request() {
    let s = idle();
    for before in [
        "9999999999999999999",
        "18446744073709551616",
        "9007199254740992",
    ] {
        let (st, v) = get_json(s, &format!("/api/rooms/lobby/messages?before={before}")).await;
        assert_http_error(st, &v, 400, "bad_request");
    }
    // The largest id a JavaScript number carries exactly is still fine.
    history_page(s, "lobby", "?before=9007199254740991").await;
}

#[tokio::test]
async fn http_errors_never_echo_long_input() {
    let s = idle();
    let input: String = (0..10_240)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let mut echoed = Vec::new();
    for param in ["limit", "before"] {
        let (st, v) = get_json(s, &format!("/api/rooms/lobby/messages?{param}={input}")).await;
        assert_http_error(st, &v, 400, "bad_request");
        if let Some(problem) = echo_problem(v["error"]["message"].as_str().unwrap(), &input) {
            echoed.push(format!("{param}: {problem}"));
        }
    }
    assert!(
        echoed.is_empty(),
        "errors that echo the input:\n{}",
        echoed.join("\n")
    );
}

#[tokio::test]
async fn frame_errors_never_echo_long_input() {
    let s = idle();
    let room = uniq("echo");
    let long: String = (0..10_000)
        .map(|i| (b'A' + (i % 26) as u8) as char)
        .collect();
    let mut c = connect(s, &room).await;
    // (frame, its error code; "" where the protocol does not pin one)
    let before_join: Vec<(Value, &str)> = vec![
        (json!({"type": long}), "bad_request"),
        (json!({"type":"join","name": long}), "invalid_name"),
        (json!({"type":"join","name":"Ann","session": long}), ""),
        (
            json!({"type":"join","name":"Ann","since": long}),
            "bad_request",
        ),
    ];
    let after_join: Vec<(Value, &str)> = vec![
        (json!({"type":"message","text": long}), "invalid_message"),
        (
            json!({"type":"message","text":"hi","nonce": long}),
            "invalid_message",
        ),
    ];
    for (frame, code) in before_join {
        check_error(&mut c, &frame, code, &long).await;
    }
    c.join("Ann").await;
    for (frame, code) in after_join {
        check_error(&mut c, &frame, code, &long).await;
    }
}

async fn check_error(c: &mut Client, frame: &Value, code: &str, long: &str) {
    c.send_json(frame).await;
    let e = c.recv_json().await;
    assert_eq!(e["type"], "error", "{}", clip(&e.to_string()));
    if !code.is_empty() {
        assert_eq!(e["code"], code, "{}", clip(&e.to_string()));
    }
    let message = e["message"].as_str().unwrap_or_default();
    let field = frame
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| v.as_str() == Some(long));
    let field = field.map(|(k, _)| k.as_str()).unwrap_or("?");
    eprintln!(
        "long {field:?}: {code} message of {} chars",
        message.chars().count()
    );
    assert_not_echoed(message, long);
}
