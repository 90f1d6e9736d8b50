//! Issue 13 (abuse-proof rooms) against a real `wrangler dev`, one file per item. Each test fails
//! on the server before the fix. Four servers, each with the [vars] its tests need:
//! - `limits()`: the rate limit (1/s, burst 3), a short join timeout and the test hooks;
//! - `idle()`: IDLE_TIMEOUT_MS 3000, otherwise the defaults (logs, overflows, names);
//! - `addresses()`: the per-address limits, with a client address per test in `CF-Connecting-IP`;
//! - `reads.rs` starts its own, so that no other test adds room files to its state.

#[path = "../common/mod.rs"]
mod common;

mod address;
mod ghosts;
mod idle;
mod logs;
mod names;
mod overflow;
mod rate_limit;
mod reads;

use std::sync::OnceLock;
use std::time::Duration;

use common::*;

/// How long a test waits to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(800);

/// JOIN_TIMEOUT_MS of the `limits()` server.
const JOIN_TIMEOUT_MS: u64 = 1500;

fn limits() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(
        &SERVER,
        &[
            ("RATE_LIMIT_PER_SEC", "1"),
            ("RATE_LIMIT_BURST", "3"),
            ("JOIN_TIMEOUT_MS", "1500"),
            ("TEST_HOOKS", "1"),
        ],
    )
}

/// IDLE_TIMEOUT_MS of the `idle()` server.
const IDLE_TIMEOUT_MS: u64 = 3000;

fn idle() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(&SERVER, &[("IDLE_TIMEOUT_MS", "3000")])
}

const ADDRESS_JOINS_PER_MIN: usize = 4;
const ADDRESS_MAX_MEMBERS: usize = 2;

fn addresses() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(
        &SERVER,
        &[("ADDRESS_JOINS_PER_MIN", "4"), ("ADDRESS_MAX_MEMBERS", "2")],
    )
}
