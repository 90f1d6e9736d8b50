//! Sessions: takeover, malformed sessions, the secret never stored in clear, the join timeout.

use std::time::Duration;

use crate::common::*;
use serde_json::json;

use super::{server, QUIET};

#[tokio::test]
async fn session_takeover_replaces_the_socket_silently() {
    let s = server();
    let room = uniq("session");
    let secret = "s3cr3t-Session-0123456789abcdef";
    let (mut obs, _) = join(s, &room, "Observer").await;
    let mut old = connect(s, &room).await;
    let w = old
        .join_with(json!({"type":"join","name":"Sam","session":secret}))
        .await;
    assert_eq!(w["name"], "Sam");
    let j = obs.expect("join").await;
    assert_join_frame(&j, "Sam");
    let m1 = old.say("from the old tab").await;
    assert_eq!(obs.expect("message").await, m1);

    // A different session, or none, cannot take the name.
    let mut thief = connect(s, &room).await;
    thief
        .send_json(&json!({"type":"join","name":"Sam","session":"another-session-0123456789"}))
        .await;
    thief.expect_error("name_taken").await;
    thief.send_json(&json!({"type":"join","name":"sam"})).await;
    thief.expect_error("name_taken").await;

    // The same session takes over.
    let mut new = connect(s, &room).await;
    let w = new
        .join_with(json!({"type":"join","name":"Sam","session":secret}))
        .await;
    assert_eq!(w["name"], "Sam");
    assert_eq!(members(&w), ["Observer", "Sam"]);
    assert_eq!(w["last_id"], m1["id"]);
    assert!(
        !w.to_string().contains(secret),
        "the welcome does not echo the secret"
    );
    assert_eq!(old.expect_close().await, Some(4001));
    obs.expect_silence(Duration::from_millis(1500)).await;

    // Observer, the new tab and the (unjoined) thief: the old tab's socket is gone.
    let st = wait_stats(s, &room, "2 members, 3 connections", |v| {
        v["members"] == 2 && v["connections"] == 3
    })
    .await;
    assert_eq!(st["members"], 2);
    let m2 = new.say("from the new tab").await;
    assert_eq!(obs.expect("message").await, m2);
    // The secret is nowhere others can read.
    let page = http("GET", s.url(&format!("/api/rooms/{room}/messages"))).await;
    assert!(!page.body.contains(secret));
    let st = http("GET", s.url(&format!("/api/rooms/{room}/stats"))).await;
    assert!(!st.body.contains(secret));
    // One leave, when the new socket goes.
    assert_eq!(new.close(Some(1000)).await, Some(1000));
    let l = obs.expect("leave").await;
    assert_leave_frame(&l, "Sam");
    obs.expect_silence(QUIET).await;
    for f in [&j, &l, &m1, &m2] {
        assert!(!f.to_string().contains(secret));
    }
}

/// After the takeover the old socket is gone for good: its close produces no leave.
#[tokio::test]
async fn takeover_then_old_socket_activity_is_harmless() {
    let s = server();
    let room = uniq("takeover2");
    let secret = "ABCDEFGHIJKLMNOPqrstuvwx";
    let (mut obs, _) = join(s, &room, "Observer").await;
    let mut t1 = connect(s, &room).await;
    t1.join_with(json!({"type":"join","name":"Kim","session":secret}))
        .await;
    obs.expect("join").await;
    let mut t2 = connect(s, &room).await;
    t2.join_with(json!({"type":"join","name":"Kim","session":secret}))
        .await;
    assert_eq!(t1.expect_close().await, Some(4001));
    // And a third tab takes over again.
    let mut t3 = connect(s, &room).await;
    let w = t3
        .join_with(json!({"type":"join","name":"Kim","session":secret}))
        .await;
    assert_eq!(members(&w), ["Observer", "Kim"]);
    assert_eq!(t2.expect_close().await, Some(4001));
    obs.expect_silence(Duration::from_millis(1000)).await;
    t3.drop_abruptly();
    assert_leave_frame(&obs.expect("leave").await, "Kim");
    wait_stats(s, &room, "1 member", |v| v["members"] == 1).await;
}

/// Session must be 16–128 printable ASCII characters. Reading: a malformed session is a join
/// error (`bad_request`, the field is not of the documented form), never a takeover.
#[tokio::test]
async fn malformed_sessions_are_rejected() {
    let s = server();
    let room = uniq("badsess");
    let mut c = connect(s, &room).await;
    for sess in [
        json!("short"),
        json!("a".repeat(15)),
        json!("a".repeat(129)),
        json!(format!("{}\u{00e9}", "a".repeat(20))),
        json!(format!("{}\n", "a".repeat(20))),
        json!(12345678901234567i64),
    ] {
        c.send_json(&json!({"type":"join","name":"Pat","session":sess}))
            .await;
        let e = c.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "bad_request",
            "session {sess} must be rejected with bad_request, got {e}"
        );
    }
    let w = c
        .join_with(json!({"type":"join","name":"Pat","session":"a".repeat(16)}))
        .await;
    assert_eq!(w["name"], "Pat");
    let mut c2 = connect(s, &room).await;
    c2.join_with(json!({"type":"join","name":"Max","session":"~".repeat(128)}))
        .await;
}

/// "The secret is never sent to anyone else and never stored in clear": it appears in no file the
/// server persisted and in no log line.
#[tokio::test]
async fn session_secret_is_never_stored_in_clear() {
    let s = server();
    let room = uniq("secret");
    let secret = format!("NeverStored-{}-q7Zx9", uniq("s"));
    let mut t1 = connect(s, &room).await;
    t1.join_with(json!({"type":"join","name":"Vault","session":secret}))
        .await;
    t1.say_nonce("a stored message", "vault-nonce").await;
    let mut t2 = connect(s, &room).await;
    t2.join_with(json!({"type":"join","name":"Vault","session":secret}))
        .await;
    assert_eq!(t1.expect_close().await, Some(4001));
    t2.say("another stored message").await;
    // Make sure the writes reached the disk: stats answers after the room's storage work.
    assert_eq!(stats(s, &room).await["messages_stored"], 2);
    let files = files_under(&s.persist);
    assert!(
        !files.is_empty(),
        "nothing persisted under {}",
        s.persist.display()
    );
    let mut found_nonce = false;
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(
            !hay.contains(&secret),
            "the session secret is stored in clear in {}",
            f.display()
        );
        found_nonce |= hay.contains("vault-nonce");
    }
    // (The check would be vacuous if the history were not under this dir at all.)
    assert!(
        found_nonce,
        "the room's storage was not found under the persist dir"
    );
    assert!(
        !s.log().contains(&secret),
        "the session secret is in the log"
    );
}

/// Default JOIN_TIMEOUT_MS is 10 s: an idle socket is left alone for 9 s, then closed with 1008.
#[tokio::test]
async fn default_join_timeout_closes_idle_sockets_after_10_s() {
    let s = server();
    let room = uniq("deftimeout");
    let mut idle = connect(s, &room).await;
    idle.expect_silence(Duration::from_secs(9)).await;
    match idle.recv_timeout(Duration::from_secs(6)).await {
        Some(Frame::Close(code, _)) => assert_eq!(code, Some(1008)),
        other => panic!("expected close 1008 about 10 s after connecting, got {other:?}"),
    }
}
