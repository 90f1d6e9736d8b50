//! The thin shell: the only code that touches the Workers runtime. It carries out what the pure
//! core decides and owns nothing the core could test on the host.
//!
//! - [`router`]: the Worker's `fetch`: routes `/api/*` to the room objects (static files never
//!   reach it: wrangler's `[assets]` serves `public/`);
//! - [`room_object`]: the `ChatRoom` Durable Object, one per room: runtime events in as
//!   [`crate::room::Event`]s, [`crate::room::Effects`] carried out; its HTTP side (the upgrade,
//!   pages, searches, stats) in `room_object/http.rs`;
//! - [`relay_object`]: the `ChatRelay` Durable Object that holds part of a big room's sockets
//!   and forwards over one link to the room object; [`links`]: the room object's side of those
//!   links (see [`crate::relay`]);
//! - [`address_object`]: the `AddressQuota` Durable Object that keeps one client address's
//!   allowance of new rooms (`crate::creation`);
//! - [`sockets`]: the room object's open sockets and the sending of batches;
//! - [`storage`]: the room's SQLite schema and queries, and the room's `Store`;
//! - [`search`]: the room's FTS5 index (kept in step with the log by triggers) and its queries;
//! - [`files`]: pictures and files in R2: the room's `files` table, uploads streamed to the
//!   bucket and downloads streamed from it;
//! - [`answers`]: HTTP answers in the protocol's shapes (JSON, the one error shape, `429`s);
//! - [`log`]: structured JSON log lines.

mod address_object;
mod answers;
mod files;
mod links;
mod log;
mod relay_object;
mod room_object;
mod router;
mod search;
mod sockets;
mod storage;

/// The Durable Object namespace bindings in `wrangler.toml`.
const ROOMS: &str = "ROOMS";
const RELAYS: &str = "RELAYS";
const ADDRESSES: &str = "ADDRESSES";

/// The header by which the room object tells the Worker to take a socket to relay `k` instead.
const RELAY_HEADER: &str = "X-Chatterly-Relay";

/// The name of relay `k` of the room object `room_id` in the `RELAYS` namespace.
fn relay_name(room_id: &str, k: u32) -> String {
    format!("{room_id}#{k}")
}

/// A GET request to another object, with these headers. Built through web-sys rather than
/// `worker::RequestInit`, whose conversion carries the serializer of every `cf` option (~11 KB of
/// Wasm: the upload budget, issue 18); these requests never set any.
fn get_request(url: &str, headers: Option<&worker::Headers>) -> worker::Result<worker::Request> {
    let init = worker::web_sys::RequestInit::new();
    init.set_method("GET");
    if let Some(headers) = headers {
        init.set_headers(&headers.0);
    }
    Ok(worker::web_sys::Request::new_with_str_and_init(url, &init)?.into())
}

/// Another object's JSON answer, read by the runtime (`Response.json()`) and handed over as its
/// text: `worker::Response::json` collects a streamed body chunk by chunk through Rust futures
/// (~2 KB of Wasm per caller type: the upload budget, issue 18).
async fn body_json(response: worker::Response) -> worker::Result<serde_json::Value> {
    let response = worker::web_sys::Response::from(response);
    let value = worker::wasm_bindgen_futures::JsFuture::from(response.json()?).await?;
    let text = String::from(js_sys::JSON::stringify(&value)?);
    Ok(serde_json::from_str(&text)?)
}

/// `s` as a JSON string (quoted and escaped), for answers written with `format!` rather than
/// built as a `serde_json::Value` (less Wasm: the upload budget, issue 18).
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Unix milliseconds from the runtime's clock (which advances only across I/O: good enough for
/// timestamps and rate limits, and identical to what JavaScript's `Date.now()` sees).
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// `bytes` random bytes from the runtime's CSPRNG, as hex.
fn random_hex(bytes: u32) -> worker::Result<String> {
    let buf = js_sys::Uint8Array::new_with_length(bytes);
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())?;
    let get = js_sys::Reflect::get(&crypto, &"getRandomValues".into())?;
    js_sys::Function::from(get).call1(&crypto, &buf)?;
    Ok(buf.to_vec().iter().map(|b| format!("{b:02x}")).collect())
}
