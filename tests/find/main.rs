//! Issue 21 (search, mentions, read positions) against a real `wrangler dev`, one file per topic.
//! Two shared servers (each test uses its own rooms); the restart tests start their own.
//! - `server()`: rate limits off (tests post quickly) and `TEST_HOOKS=1` for `debug_index`, which
//!   reports where a text occurs in the search index's tables;
//! - `capped()`: the same with a `HISTORY_CAP` of 20.

#[path = "../common/mod.rs"]
mod common;

mod mentions;
mod props;
mod reads;
mod search;

use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const HOOKS: [(&str, &str); 2] = [("RATE_LIMIT_PER_SEC", "0"), ("TEST_HOOKS", "1")];

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(&SERVER, &HOOKS)
}

const HISTORY_CAP: usize = 20;

fn capped() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(&SERVER, &[HOOKS[0], HOOKS[1], ("HISTORY_CAP", "20")])
}

/// A session secret of the documented form, unique per call.
fn session(tag: &str) -> String {
    format!("sess-{}-0123456789abcdef", uniq(tag))
}

/// Joins `room` as `name` (with `session`, if any); returns the client and its welcome.
async fn enter(s: &Server, room: &str, name: &str, session: Option<&str>) -> (Client, Value) {
    let mut c = connect(s, room).await;
    let w = c
        .join_with(json!({"type":"join","name":name,"session":session}))
        .await;
    assert_eq!(w["type"], "welcome", "{w}");
    (c, w)
}

/// Reads `c` until a frame of type `ty`, whatever comes before it.
async fn skip_to(c: &mut Client, ty: &str) -> Value {
    loop {
        let v = c.recv_json().await;
        if v["type"] == ty {
            return v;
        }
    }
}

/// Sends a message and returns its echo (other members' messages before it are skipped).
async fn post(c: &mut Client, text: &str) -> Value {
    let nonce = uniq("n");
    c.send_json(&json!({"type":"message","text":text,"nonce":nonce}))
        .await;
    loop {
        let m = skip_to(c, "message").await;
        if m["nonce"] == json!(nonce) {
            assert_eq!(m["text"], text, "{m}");
            return m;
        }
    }
}

fn id_of(v: &Value) -> u64 {
    v["id"].as_u64().unwrap_or_else(|| panic!("no id: {v}"))
}

/// Percent-encodes a query parameter (everything but unreserved ASCII).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /search` with `q` and extra raw parameters: status and body.
async fn search_raw(s: &Server, room: &str, q: &str, extra: &str) -> (u16, Value) {
    get_json(
        s,
        &format!("/api/rooms/{room}/search?q={}{extra}", encode(q)),
    )
    .await
}

/// The messages a search finds (asserting 200).
async fn search(s: &Server, room: &str, q: &str, extra: &str) -> Vec<Value> {
    let (st, v) = search_raw(s, room, q, extra).await;
    assert_eq!(st, 200, "search {q:?}{extra}: {v}");
    v["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages must be an array: {v}"))
        .clone()
}

/// The ids a search finds, in order.
async fn found(s: &Server, room: &str, q: &str) -> Vec<u64> {
    search(s, room, q, "").await.iter().map(id_of).collect()
}

/// Where `text` occurs in the room's log and search index tables (the `debug_index` hook).
async fn index_scan(c: &mut Client, text: &str) -> Value {
    c.send_json(&json!({"type":"debug_index","text":text}))
        .await;
    let v = skip_to(c, "debug_index").await;
    assert!(v.get("error").is_none(), "{v}");
    v
}

/// Waits until the room answers (its writes are done before it answers a socket's next frame).
async fn settle(c: &mut Client) {
    c.send_json(&json!({"type":"typing"})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
}
