//! The WebSocket half of docs/protocol.md against a real `wrangler dev` with default [vars], one
//! file per topic. One server shared by every test here; each test uses its own rooms.

#[path = "../common/mod.rs"]
mod common;

mod errors;
mod history;
mod join;
mod join_burst;
mod leave;
mod messages;
mod ping_typing;
mod rate_limit;
mod sessions;
mod stats;

use std::sync::OnceLock;
use std::time::Duration;

use common::*;

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[])
}

/// How long a test waits to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(700);
