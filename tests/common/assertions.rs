//! Checks on frames, history entries and HTTP error bodies, and helpers that fill a room.

use serde_json::{json, Value};

use super::client::{join, Client};
use super::server::Server;
use super::util::{now_ms, uniq};

/// Asserts `at` is a unix-ms timestamp within 30 s of now.
pub fn assert_recent(v: &Value, field: &str) {
    let at = v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} must be an integer: {v}"));
    let now = now_ms();
    assert!(
        (at - now).abs() < 30_000,
        "{field} = {at} is not close to now ({now}): {v}"
    );
}

pub fn assert_join_frame(v: &Value, name: &str) {
    assert_eq!(v["type"], "join", "expected join: {v}");
    assert_eq!(v["name"], name, "join name: {v}");
    assert_recent(v, "at");
}

pub fn assert_leave_frame(v: &Value, name: &str) {
    assert_eq!(v["type"], "leave", "expected leave: {v}");
    assert_eq!(v["name"], name, "leave name: {v}");
    assert_recent(v, "at");
}

/// The `<message>` fields of a frame or history entry (type, if present, must be "message").
pub fn msg_core(v: &Value) -> Value {
    if let Some(t) = v.get("type") {
        assert_eq!(t, "message", "history entries are message frames: {v}");
    }
    json!({
        "id": v["id"], "name": v["name"], "text": v["text"], "at": v["at"],
        "nonce": v.get("nonce").cloned().unwrap_or(Value::Null),
    })
}

pub fn ids(msgs: &[Value]) -> Vec<i64> {
    msgs.iter()
        .map(|m| {
            m["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("id must be an integer: {m}"))
        })
        .collect()
}

pub fn assert_strictly_increasing(ids: &[i64]) {
    for w in ids.windows(2) {
        assert!(w[0] < w[1], "ids not strictly increasing: {ids:?}");
    }
}

pub fn members(welcome: &Value) -> Vec<String> {
    welcome["members"]
        .as_array()
        .unwrap_or_else(|| panic!("welcome.members must be an array: {welcome}"))
        .iter()
        .map(|m| {
            m.as_str()
                .unwrap_or_else(|| panic!("member names are strings: {welcome}"))
                .to_string()
        })
        .collect()
}

/// Fills a room with `n` messages through throwaway senders (each below the default burst of
/// 20 messages, so the default rate limit never triggers). Returns the echoed frames in order.
/// Each sender joins and leaves, so live members of the room see its join, messages and leave.
pub async fn fill_room(server: &Server, room: &str, n: usize, tag: &str) -> Vec<Value> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let name = uniq("filler");
        let (mut c, _) = join(server, room, &name).await;
        let batch = (n - i).min(18);
        for _ in 0..batch {
            let m = c.say(&format!("{tag} {i}")).await;
            out.push(m);
            i += 1;
        }
        assert_eq!(c.close(Some(1000)).await, Some(1000));
    }
    out
}

/// Reads frames until a `message` frame arrives, returning it and the frames seen before it.
pub async fn recv_until_message(c: &mut Client) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let v = c.recv_json().await;
        if v["type"] == "message" {
            return (v, before);
        }
        before.push(v);
    }
}

/// Asserts the documented error body shape and code.
pub fn assert_http_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(
        status, want_status,
        "want HTTP {want_status} {want_code}, got {status} {body}"
    );
    assert_eq!(
        body["error"]["code"], want_code,
        "want error code {want_code}, got {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error.message must be a non-empty string: {body}"
    );
}
