//! Issue 11 (batching) against a real `wrangler dev` with the test hooks on and every other [vars]
//! at its default (the join storm needs the default join timeout). The tests here read the raw
//! WebSocket messages, to see which were batches (JSON arrays) and which lone frames (objects).
//! They run one at a time: the join storm must not share the machine with the others.

#[path = "../common/mod.rs"]
mod common;

mod arrays;
mod storage;
mod storm;

use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

/// How long a test waits to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(800);

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(&SERVER, &[("TEST_HOOKS", "1")])
}

/// Held by each test for its whole run.
async fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::const_new(());
    SERIAL.lock().await
}

/// One WebSocket text message as sent: a batch (a JSON array of frames) or a lone frame.
#[derive(Debug)]
enum Raw {
    Batch(Vec<Value>),
    Lone(Value),
}

impl Raw {
    fn frames(&self) -> Vec<Value> {
        match self {
            Raw::Batch(frames) => frames.clone(),
            Raw::Lone(v) => vec![v.clone()],
        }
    }
}

/// The next raw text message within `d`, parsed; None if nothing arrived.
async fn recv_raw(c: &mut Client, d: Duration) -> Option<Raw> {
    match c.recv_raw_timeout(d).await? {
        Frame::Text(t) => {
            let v: Value = serde_json::from_str(&t)
                .unwrap_or_else(|e| panic!("a text message that is not JSON ({e}): {}", clip(&t)));
            Some(match v {
                Value::Array(frames) => Raw::Batch(frames),
                Value::Object(_) => Raw::Lone(v),
                other => panic!("a message that is neither an array nor an object: {other}"),
            })
        }
        other => panic!("expected a text message, got {}", other.describe()),
    }
}
