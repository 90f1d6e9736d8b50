//! Chatterly: real-time chat rooms at the edge.
//!
//! A Cloudflare Worker upgrades `GET /api/rooms/{room}/websocket` to a WebSocket and hands it to
//! the Durable Object named after the room. The room object holds its members' sockets through the
//! WebSocket Hibernation API, keeps the room's history in its SQLite storage, and broadcasts join,
//! message and leave events. The wire contract is `docs/protocol.md`.
//!
//! The crate is a pure core with a thin shell. The core decides everything, storage included,
//! and is tested on the host; the shell only adapts runtime events and carries out effects.
//!
//! # Layout
//!
//! - [`protocol`]: the JSON frames on the wire, parsed and serialized with serde; error and close
//!   codes; the frame size check; a message's reactions as sent (a summary within 2 KiB);
//! - [`validate`]: the rules for room names, member names (Unicode: case folding, confusables),
//!   message text and request parameters;
//! - [`config`]: the room's limits, read from wrangler `[vars]`; [`vars`]: a var's number, as
//!   Rust would parse it;
//! - [`rate`]: the token bucket behind the per-member and per-address limits;
//! - [`address`]: which client addresses count as one (IPv6 by its /64) for limits and bans;
//! - [`creation`]: how many rooms one client address may make (`POST /api/rooms`);
//! - [`digest`]: SHA-256 in hex, the only form in which secrets and addresses are kept;
//! - [`fields`]: stored JSON objects' fields read by hand, as serde's derive would read them;
//! - [`api`]: the HTTP routes and their errors, as a pure function;
//! - [`files`]: pictures and files in chat: types by magic numbers, image sizes, upload tickets
//!   and every rule of a file's life; the bytes go between the client and R2 through the shell;
//! - [`token`]: join tokens an embedding app signs (HS256 or EdDSA by `kid`) and every claim rule;
//! - [`cors`]: which web pages may use the API (`ALLOWED_ORIGINS`): headers, preflights, refusals;
//! - [`room`]: one room as plain Rust. [`room::Room::handle`] takes a runtime event and decides,
//!   queueing frames; [`room::Room::flush`] stores a burst's messages through [`room::Store`] and
//!   packs the queued frames into one batch per member. One module per client frame (`join`,
//!   `message`, `typing`, `edit` for edit and delete, `react`, `moderation` for kick, lock, topic
//!   and title, `auth` for a token's renewal, `read` for read positions, `upload` for files) and
//!   per concept (`mentions` for a text's `@name`s, `outbox`, `flush`, `history`, `quota`,
//!   `deadline`, `leave` for away
//!   and leave, `crowd` for presence as a count in a very large room, `remembered` for the
//!   stored member rows a rebuild reads only for members no socket holds);
//! - [`search`]: the search endpoint's request and query grammar, compiled into a safe FTS5 query,
//!   its snippets cut from a hit's text (`snippet`) and the per-address limit (`limit`); the
//!   index itself is SQL in the shell;
//! - [`relay`]: rooms bigger than one object: which object holds a new socket (the room or one of
//!   its relays) and the batches on the link between a relay and its room;
//! - `shell` (WebAssembly only): the Worker router, the `ChatRoom` Durable Object that turns
//!   runtime events into [`room::Event`]s and carries out [`room::Effects`], the SQLite store, the
//!   sockets and the logs. It is the only code that touches the `worker` crate.
//!
//! # One message, one path
//!
//! A frame arrives at `ChatRoom::websocket_message` (shell), becomes `Event::Frame` for
//! `Room::handle` (core: parse, check, assign the id, queue), and the shell schedules a flush.
//! Once the burst of events is handled, `Room::flush` (core) writes the burst's messages in one
//! statement through the `Store` and, only for what was stored, returns one batch per member; the
//! shell sends them. The runtime's output gate holds those sends until the write is durable.
//!
//! Everything but the shell builds and is unit-tested on the host with `cargo test --lib`; the
//! shell is tested end to end against a real `wrangler dev` by the integration tests in `tests/`.

pub mod address;
pub mod api;
pub mod config;
pub mod cors;
pub mod creation;
pub mod digest;
pub mod fields;
pub mod files;
pub mod protocol;
pub mod rate;
pub mod relay;
pub mod room;
pub mod search;
pub mod token;
pub mod validate;
pub mod vars;

#[cfg(target_arch = "wasm32")]
mod shell;
