//! Issue 12 (edit, delete, reactions, replies, the room owner, gapless resume, quiet reconnects)
//! against a real `wrangler dev`, one file per topic. Three shared servers, each with the [vars]
//! its tests need (each test uses its own rooms); the restart tests start their own.
//! - `server()`: the defaults, and `MODERATOR_KEY` set;
//! - `short()`: `EDIT_WINDOW_MS` and `KICK_BAN_MS` short enough to run out during a test, a
//!   `HISTORY_CAP` of 20, and no `MODERATOR_KEY` (nobody owns a public room);
//! - `grace()`: `PRESENCE_GRACE_MS` on (the harness turns it off by default).

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod deep;
mod edit;
mod kicks;
mod limits;
mod owner;
mod presence;
mod reactions;
mod replies;
mod restart;
mod resume;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// How long a test waits to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(800);

/// The operator's moderator key on `server()`.
const MOD_KEY: &str = "operator-moderator-key-7f3a9c21";

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(&SERVER, &[("MODERATOR_KEY", MOD_KEY)])
}

const EDIT_WINDOW_MS: u64 = 1500;
const KICK_BAN_MS: u64 = 3000;
const HISTORY_CAP: u64 = 20;

fn short() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(
        &SERVER,
        &[
            ("EDIT_WINDOW_MS", "1500"),
            ("KICK_BAN_MS", "3000"),
            ("HISTORY_CAP", "20"),
        ],
    )
}

const GRACE_MS: u64 = 1500;

fn grace() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(&SERVER, &[("PRESENCE_GRACE_MS", "1500")])
}

/// A session secret of the documented form (16-128 printable ASCII), unique per call.
fn session(tag: &str) -> String {
    format!("sess-{}-0123456789abcdef", uniq(tag))
}

/// Connects (with extra upgrade headers) and sends `join`; returns the client and the first frame
/// (the welcome, or an error).
async fn try_enter(
    s: &Server,
    room: &str,
    join: Value,
    headers: &[(&str, &str)],
) -> (Client, Value) {
    let mut c = match try_connect_with(s.port, room, headers).await {
        Ok(c) => c,
        Err(r) => panic!("upgrade to {room} refused: {} {}", r.status, r.body),
    };
    c.send_json(&join).await;
    let v = c.recv_json().await;
    if v["type"] == "welcome" {
        c.name = v["name"].as_str().map(String::from);
    }
    (c, v)
}

/// Like [`try_enter`], and the first frame must be the welcome.
async fn enter(s: &Server, room: &str, join: Value) -> (Client, Value) {
    let (c, w) = try_enter(s, room, join.clone(), &[]).await;
    assert_eq!(w["type"], "welcome", "join {join}: {w}");
    (c, w)
}

/// Joins as `name` with a session of its own; returns the client, its welcome and the session.
async fn join_session(s: &Server, room: &str, name: &str) -> (Client, Value, String) {
    let sess = session(name);
    let (c, w) = enter(s, room, json!({"type":"join","name":name,"session":sess})).await;
    (c, w, sess)
}

/// A new private room: its id and its owner key.
async fn create_room(s: &Server) -> (String, String) {
    let (st, v) = post_json(s, "/api/rooms").await;
    assert_eq!(st, 201, "POST /api/rooms: {v}");
    let room = v["room"].as_str().unwrap_or_else(|| panic!("room: {v}"));
    let key = v["owner_key"]
        .as_str()
        .unwrap_or_else(|| panic!("POST /api/rooms returns an owner_key: {v}"));
    (room.to_string(), key.to_string())
}

fn is_presence(v: &Value) -> bool {
    ["join", "leave", "away", "back", "typing"].contains(&v["type"].as_str().unwrap_or(""))
}

/// The next frame that is not presence (join, leave, away, back, typing), which must be of type
/// `ty`.
async fn next_of(c: &mut Client, ty: &str) -> Value {
    loop {
        let v = c.recv_json().await;
        if is_presence(&v) {
            continue;
        }
        assert_eq!(v["type"], ty, "expected a {ty:?} frame, got {v}");
        return v;
    }
}

/// Sends `frame` from `actor` and returns the change every one of `actor` and `others` gets,
/// asserting they all get the same one.
async fn change(actor: &mut Client, others: &mut [&mut Client], frame: Value, ty: &str) -> Value {
    actor.send_json(&frame).await;
    let v = next_of(actor, ty).await;
    for o in others.iter_mut() {
        assert_eq!(
            next_of(o, ty).await,
            v,
            "everyone gets the same {ty} change"
        );
    }
    assert_recent(&v, "at");
    v
}

/// The error `c` gets for `frame` (presence frames before it are skipped), which must have
/// this code and a message.
async fn refused(c: &mut Client, frame: Value, code: &str) -> Value {
    c.send_json(&frame).await;
    let e = next_of(c, "error").await;
    assert_eq!(e["code"], code, "{frame}: want {code}, got {e}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error frames carry a message: {e}"
    );
    e
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

fn id_of(v: &Value) -> u64 {
    v["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("id must be an integer: {v}"))
}

fn history(w: &Value) -> Vec<Value> {
    w["history"]
        .as_array()
        .unwrap_or_else(|| panic!("welcome.history must be an array: {w}"))
        .clone()
}

/// The Worker's JSON log lines whose `room` is `tag` and `event` one of `events`, once at least
/// `min` are there (wrangler writes its log asynchronously).
async fn log_lines(s: &Server, tag: &str, events: &[&str], min: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<Value> = s
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .filter(|v| v["room"] == tag && events.iter().any(|e| v["event"] == *e))
            .collect();
        if lines.len() >= min || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every log entry of a room through `GET /messages?after=`, `limit` at a time.
async fn log_after(s: &Server, room: &str, after: u64, limit: u32) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut from = after;
    loop {
        let page = history_page(s, room, &format!("?after={from}&limit={limit}")).await;
        assert!(
            page.len() <= limit as usize,
            "a page holds at most limit entries"
        );
        let Some(last) = page.last() else {
            return all;
        };
        from = id_of(last);
        all.extend(page);
    }
}

/// Sends a message and returns its echo, skipping presence frames that come first.
async fn post(c: &mut Client, text: &str) -> Value {
    c.send_json(&json!({"type":"message","text":text})).await;
    let m = next_of(c, "message").await;
    assert_eq!(m["text"], text.trim(), "echo: {m}");
    m
}
