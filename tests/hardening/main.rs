//! Issue 17 (hardening, second round) against a real `wrangler dev`, one file per item. Each test
//! fails on the server before its fix.
//! - `frames.rs` starts its own server: it compares the isolate's `memory_bytes`, which any other
//!   test's traffic would move;
//! - `limits()`: relays at two members, short relay idle, and the per-address limits, for
//!   `pinning.rs` (item 5), `creation.rs` (6) and `prefix.rs` (7);
//! - `history()`: no rate limit and a small message and change cap, for `replies.rs` (2),
//!   `changes.rs` (3) and `reactions.rs` (4).

#[path = "../common/mod.rs"]
mod common;

mod changes;
mod creation;
mod frames;
mod pinning;
mod prefix;
mod reactions;
mod replies;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

/// The operator's owner key on the `limits()` server.
const MODERATOR_KEY: &str = "hardening-moderator-key-0123456789";

fn limits() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(
        &SERVER,
        &[
            ("RELAY_THRESHOLD", "2"),
            ("RELAY_MEMBERS", "5"),
            ("RELAY_IDLE_MS", "1000"),
            ("ADDRESS_UNJOINED_MAX", "3"),
            ("ADDRESS_ROOMS_PER_HOUR", "3"),
            ("ADDRESS_MAX_MEMBERS", "2"),
            ("MODERATOR_KEY", MODERATOR_KEY),
        ],
    )
}

fn history() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(
        &SERVER,
        &[
            ("RATE_LIMIT_PER_SEC", "0"),
            ("HISTORY_CAP", "30"),
            ("CHANGES_CAP", "20"),
        ],
    )
}

/// Connects from `address` (`CF-Connecting-IP`).
async fn connect_from(s: &Server, room: &str, address: &str) -> Client {
    match try_connect_with(s.port, room, &[("CF-Connecting-IP", address)]).await {
        Ok(c) => c,
        Err(r) => panic!("upgrade from {address} refused: {} {}", r.status, r.body),
    }
}

/// Connects from `address` and joins as `name` (with `extra` fields): the welcome or the error.
async fn join_from(
    s: &Server,
    room: &str,
    name: &str,
    address: &str,
    extra: Value,
) -> (Client, Value) {
    let mut c = connect_from(s, room, address).await;
    let mut frame = json!({"type":"join","name":name});
    if let (Some(f), Some(e)) = (frame.as_object_mut(), extra.as_object()) {
        f.extend(e.clone());
    }
    c.send_json(&frame).await;
    let v = c.recv_json().await;
    if v["type"] == "welcome" {
        c.name = Some(name.to_string());
    }
    (c, v)
}
