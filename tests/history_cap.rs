//! HISTORY_CAP and RATE_LIMIT_PER_SEC = 0, on a server started with
//! `--var HISTORY_CAP:150 --var RATE_LIMIT_PER_SEC:0`.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(
        &SERVER,
        &[("HISTORY_CAP", "150"), ("RATE_LIMIT_PER_SEC", "0")],
    )
}

/// Pipelines `n` messages on one socket and returns the echoes (no rate limit may interfere).
async fn blast(c: &mut Client, n: usize, tag: &str) -> Vec<Value> {
    for i in 0..n {
        c.send_json(&json!({"type":"message","text":format!("{tag} {i}")}))
            .await;
    }
    let mut out = Vec::new();
    for i in 0..n {
        let v = c.recv_json().await;
        assert_eq!(
            v["type"], "message",
            "message {i} of {n} was not accepted: {v}"
        );
        assert_eq!(v["text"], format!("{tag} {i}"));
        out.push(v);
    }
    out
}

/// Walks the whole history back with the page API and returns it oldest first.
async fn all_history(s: &Server, room: &str) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = match before {
            Some(b) => format!("?before={b}&limit=100"),
            None => "?limit=100".to_string(),
        };
        let mut p = history_page(s, room, &q).await;
        if p.is_empty() {
            return all;
        }
        before = p[0]["id"].as_i64();
        p.append(&mut all);
        all = p;
    }
}

#[tokio::test]
async fn rate_limit_zero_disables_rate_limiting() {
    let s = server();
    let room = uniq("nolimit");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let sent = blast(&mut a, 120, "fast").await;
    for m in &sent {
        assert_eq!(&b.expect("message").await, m);
    }
    assert_strictly_increasing(&ids(&sent));
}

#[tokio::test]
async fn history_cap_keeps_only_the_newest_messages() {
    let s = server();
    let room = uniq("cap");
    let (mut a, _) = join(s, &room, "Alice").await;

    let mut sent = blast(&mut a, 150, "cap").await;
    let st = stats(s, &room).await;
    assert_eq!(st["messages_stored"], 150, "{st}");
    assert_eq!(ids(&all_history(s, &room).await), ids(&sent));

    // One more: the oldest goes.
    sent.extend(blast(&mut a, 1, "one more").await);
    let st = stats(s, &room).await;
    assert_eq!(st["messages_stored"], 150, "{st}");
    assert_eq!(ids(&all_history(s, &room).await), ids(&sent[1..]));

    sent.extend(blast(&mut a, 49, "more").await);
    assert_eq!(sent.len(), 200);
    let st = stats(s, &room).await;
    assert_eq!(st["messages_stored"], 150, "{st}");
    assert_eq!(st["last_message_id"], sent[199]["id"], "{st}");
    let kept = all_history(s, &room).await;
    assert_eq!(
        kept.iter().map(msg_core).collect::<Vec<_>>(),
        sent[50..].iter().map(msg_core).collect::<Vec<_>>()
    );

    // The welcome still shows the newest 100, and resuming from a deleted id is truncated.
    let (_r, w) = join(s, &room, "Reader").await;
    assert_eq!(ids(w["history"].as_array().unwrap()), ids(&sent[100..]));
    assert_eq!(w["last_id"], sent[199]["id"]);
    let mut c = connect(s, &room).await;
    let w = c
        .join_with(json!({"type":"join","name":"Resumer","since":sent[10]["id"]}))
        .await;
    assert_eq!(ids(w["history"].as_array().unwrap()), ids(&sent[100..]));
    assert_eq!(w["truncated"], true);
}
