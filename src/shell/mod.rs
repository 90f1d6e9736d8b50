//! The thin shell: the only code that touches the Workers runtime. It carries out what the pure
//! core decides and owns nothing the core could test on the host.
//!
//! - [`router`]: the Worker's `fetch`: routes `/api/*` to the room objects (static files never
//!   reach it: wrangler's `[assets]` serves `public/`);
//! - [`room_object`]: the `ChatRoom` Durable Object, one per room: runtime events in as
//!   [`crate::room::Event`]s, [`crate::room::Effects`] carried out;
//! - [`sockets`]: the room object's open sockets and the sending of batches;
//! - [`storage`]: the room's SQLite schema and queries, and the room's `Store`;
//! - [`log`]: structured JSON log lines.

mod log;
mod room_object;
mod router;
mod sockets;
mod storage;

/// Unix milliseconds from the runtime's clock (which advances only across I/O: good enough for
/// timestamps and rate limits, and identical to what JavaScript's `Date.now()` sees).
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
