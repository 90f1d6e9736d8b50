//! Test harness for the integration tests: runs the real `wrangler dev` (prebuilt Worker in
//! `build/worker/`) through the shared launcher `tests/support/devserver.mjs` and talks to it over
//! HTTP and WebSocket, exactly as a browser would.
//!
//! Layout:
//! - `server`: starts, restarts and stops a server; its log and scratch dir.
//! - `http`: a blocking HTTP client and the HTTP endpoints (stats, history).
//! - `client`: the WebSocket client; a batch (a JSON array frame) reads as its frames, in order.
//! - `assertions`: checks on frames and history entries, and room-filling helpers.
//! - `util`: names, clocks and a seeded PRNG.

// Every test binary compiles this whole module and uses only part of it.
#![allow(dead_code)]

mod assertions;
mod client;
mod http;
mod server;
mod util;

// A test binary may use nothing from one of them.
#[allow(unused_imports)]
pub use self::{assertions::*, client::*, http::*, server::*, util::*};
