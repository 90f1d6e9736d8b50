//! Chatterly: real-time chat rooms at the edge.
//!
//! A Cloudflare Worker upgrades `GET /api/rooms/{room}/websocket` to a WebSocket and hands it to
//! the Durable Object named after the room. The room object holds its members' sockets through the
//! WebSocket Hibernation API, keeps the room's history in its SQLite storage, and broadcasts join,
//! message and leave events. The wire contract is `docs/protocol.md`.
//!
//! The crate is a pure core with a thin shell:
//!
//! - [`api`]: the HTTP routes and their errors;
//! - [`protocol`]: the JSON frames on the wire, parsed and serialized with serde;
//! - [`validate`]: the rules for room names, member names, message text and request parameters;
//! - [`rate`]: the per-connection token bucket;
//! - [`config`]: the room's limits, read from wrangler `[vars]`;
//! - [`room`]: one room's logic as plain Rust, events in and frames out;
//! - `shell` (WebAssembly only): the Worker router and the Durable Object adapter, the only code
//!   that touches the `worker` crate.
//!
//! Everything but the shell builds and is unit-tested on the host with `cargo test`; the shell is
//! tested end to end against a real `wrangler dev` by the integration tests in `tests/`.

pub mod api;
pub mod config;
pub mod protocol;
pub mod rate;
pub mod room;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod shell;
