//! The room object's open sockets: which socket is which connection, and sending batches.

use crate::protocol::close;
use crate::room::{Attachment, Batch, ConnId, LEFT};
use js_sys::{JsString, Map};
use std::cell::Cell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use worker::WebSocket;

#[wasm_bindgen]
extern "C" {
    /// The runtime's WebSocket, seen through a `send` that takes any JS value: a batch for many
    /// members is handed to every socket as the same JS string instead of converting the Rust
    /// text once per socket.
    type SharedSend;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_value(this: &SharedSend, data: &JsValue) -> Result<(), JsValue>;
}

#[wasm_bindgen(module = "/src/shell/sockets.js")]
extern "C" {
    /// ASCII bytes (a view over the Wasm memory) as a one-byte JS string, built in chunks.
    #[wasm_bindgen(js_name = asciiString)]
    fn ascii_string(bytes: &[u8]) -> JsString;
}

#[derive(Default)]
pub struct Sockets {
    by_conn: HashMap<ConnId, WebSocket>,
    /// Socket object → connection id, to find a frame's sender without a deserialize.
    by_socket: Map,
    /// Frames handed to sockets since this state was built (the stats' `sends`).
    sent: Cell<u64>,
}

impl Sockets {
    pub fn insert(&mut self, conn: ConnId, ws: WebSocket) {
        self.by_socket.set(ws.as_ref(), &JsValue::from(conn));
        self.by_conn.insert(conn, ws);
    }

    pub fn remove(&mut self, conn: ConnId) {
        if let Some(ws) = self.by_conn.remove(&conn) {
            self.by_socket.delete(ws.as_ref());
        }
    }

    pub fn len(&self) -> usize {
        self.by_conn.len()
    }

    pub fn sent(&self) -> u64 {
        self.sent.get()
    }

    pub fn get(&self, conn: ConnId) -> Option<&WebSocket> {
        self.by_conn.get(&conn)
    }

    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &WebSocket)> {
        self.by_conn.iter().map(|(c, ws)| (*c, ws))
    }

    /// The connection id of a socket: by identity when this instance has seen the object, else
    /// from its attachment.
    pub fn conn_of(&self, ws: &WebSocket) -> Option<ConnId> {
        if let Some(id) = self.by_socket.get(ws.as_ref()).as_f64() {
            return Some(id as ConnId);
        }
        Some(attachment(ws)?.conn)
    }

    /// Sends each batch to its recipients; returns the connections whose send threw (gone).
    pub fn send(&self, batches: &[Batch]) -> Vec<ConnId> {
        let mut failed = Vec::new();
        for batch in batches {
            let shared = frame_string(&batch.text, batch.to.len());
            for &conn in &batch.to {
                let Some(ws) = self.by_conn.get(&conn) else {
                    continue;
                };
                self.sent.set(self.sent.get() + 1);
                let socket: &SharedSend = ws.as_ref().unchecked_ref();
                if socket.send_value(&shared).is_err() {
                    failed.push(conn);
                }
            }
        }
        failed.sort_unstable();
        failed.dedup();
        failed
    }
}

/// Why a socket closed, for the room: on purpose (the client's 1000 `leave`) or not.
pub fn gone_reason(code: u16, reason: &str) -> &'static str {
    if code == close::NORMAL && reason == LEFT {
        LEFT
    } else {
        "close"
    }
}

/// The room's name for a reason a relay reported ([`gone_reason`]'s, or `error`).
pub fn known_reason(why: &str) -> &'static str {
    match why {
        "error" => "error",
        LEFT => LEFT,
        _ => "close",
    }
}

/// Answers a client's close handshake. 1005 (no code) and 1006 (dropped) cannot be sent: say 1000.
pub fn answer_close(ws: &WebSocket, code: u16) {
    let reply = match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => code,
        _ => close::NORMAL,
    };
    if ws.close(Some(reply), Some("closed")).is_err() {
        let _ = ws.close(Some(close::NORMAL), Some("closed"));
    }
}

/// A batch as the JS string handed to every recipient's `send`. wasm-bindgen's usual route
/// (`TextDecoder`) gives a two-byte string, which the runtime re-encodes to UTF-8 on every `send`
/// (about 2.5 µs per recipient, measured in bench/). `String.fromCharCode` over an ASCII text
/// gives V8's compact one-byte string instead, but costs about as much as three such re-encodings
/// to build: worth it from a handful of recipients on. It reads the bytes in place and takes them
/// in chunks (`sockets.js`): a batch spread whole as arguments overflowed the stack.
fn frame_string(text: &str, recipients: usize) -> JsValue {
    const ONE_BYTE_FROM: usize = 4;
    if recipients >= ONE_BYTE_FROM && text.is_ascii() {
        ascii_string(text.as_bytes()).into()
    } else {
        JsString::from(text).into()
    }
}

/// A frame as the runtime handed it over, read without copying more than the limit allows.
pub enum Incoming {
    Text(String),
    /// A text frame over the limit: refused, and never copied into the Wasm memory.
    Oversized,
    Binary,
}

/// Reads a `webSocketMessage`'s data. The string's length in UTF-16 units is asked of the
/// runtime first (no copy): a frame the length already condemns is not copied at all, and any
/// other copy is at most three times `max` bytes (`crate::protocol::too_large_unread`).
pub fn incoming(data: &JsValue, max: usize) -> Incoming {
    match data.dyn_ref::<JsString>() {
        Some(s) if crate::protocol::too_large_unread(s.length() as usize, max) => {
            Incoming::Oversized
        }
        Some(s) => Incoming::Text(String::from(s)),
        None => Incoming::Binary,
    }
}

/// Keeps `attachment` with the socket across hibernation, as its JSON text: the runtime clones
/// a string for the socket more cheaply than an object, and there is no `JSON.parse` per join
/// (each join writes the attachment twice: at the connect and at the join).
pub fn attach(ws: &WebSocket, attachment: &Attachment) -> Result<(), String> {
    use worker::worker_sys::ext::WebSocketExt;
    let json = serde_json::to_string(attachment).map_err(|e| e.to_string())?;
    ws.as_ref()
        .serialize_attachment(JsValue::from_str(&json))
        .map_err(|e| format!("{e:?}"))
}

/// The socket's attachment ([`attach`]), or `None` when it has none or it does not read. Sockets
/// attached before [`attach`] kept the JSON text hold the plain object `JSON.parse` made of it (the
/// object `worker`'s `serialize_attachment` stored before that): both read the same.
pub fn attachment(ws: &WebSocket) -> Option<Attachment> {
    use worker::worker_sys::ext::WebSocketExt;
    let value = ws.as_ref().deserialize_attachment().ok()?;
    if value.is_null() || value.is_undefined() {
        return None;
    }
    let json = match value.as_string() {
        Some(json) => json,
        None => String::from(js_sys::JSON::stringify(&value).ok()?),
    };
    Attachment::read(&serde_json::from_str(&json).ok()?)
}
