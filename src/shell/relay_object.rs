//! `ChatRelay`, a Durable Object that holds part of a big room's sockets (see [`crate::relay`]).
//! It decides nothing: its members' frames go up its link to the room object in one batch per
//! burst, and each batch the room sends down is handed to the members it names.
//!
//! Runtime facts this relies on:
//! - **The link keeps the relay in memory.** Members' sockets are accepted with the Hibernation
//!   API, but the link is an outgoing WebSocket, which an object cannot hibernate with. So the
//!   relay's state is never rebuilt under an open link; when the link closes (the room object
//!   restarted, or a deploy), the relay closes its members' sockets with 1012 and they rejoin
//!   with `since`, as every member of a restarted room does. Nothing is lost: the room object
//!   stores before it sends, and a member's unacknowledged messages are resent by its client.
//! - **One link per relay.** Frames of a burst wait for a zero-delay timer and go up together;
//!   a WebSocket keeps them in order, so the room sees each member's frames as sent.

use super::now_ms;
use super::sockets::{self, Incoming, Sockets};
use crate::protocol::close;
use crate::relay::{pack_link, Down, Pieces, RelayConn, Up, MAX_LINK_BYTES};
use crate::room::Batch;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{web_sys, Env, Headers, Request, Response, State, WebSocket, WebSocketPair};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;

    type RawRelayState;
    /// Resets the object as an eviction would (the `debug_relay_abort` test hook).
    #[wasm_bindgen(method, catch)]
    fn abort(this: &RawRelayState, reason: &str) -> Result<(), JsValue>;
}

/// The frame a member sends, under `TEST_HOOKS=1` only, to make its relay fail.
const ABORT_HOOK: &str = r#"{"type":"debug_relay_abort"}"#;

/// The Durable Object class (`class_name = "ChatRelay"` in `wrangler.toml`).
#[wasm_bindgen]
pub struct ChatRelay {
    inner: Rc<Inner>,
}

struct Inner {
    state: State,
    raw_state: RawRelayState,
    env: Env,
    test_hooks: bool,
    /// `MAX_FRAME_BYTES`, the room's limit: nothing larger goes up the link.
    max_frame_bytes: usize,
    /// `RELAY_IDLE_MS`: how long the link stays open with no socket here.
    idle_ms: u64,
    /// The room object's id, the room's name as the Worker passes it on, and this relay's number.
    room: RefCell<Option<(String, String, u32)>>,
    /// Members' sockets by this relay's numbers for them (`next` is the next number).
    members: RefCell<Sockets>,
    next: Cell<RelayConn>,
    link: RefCell<Link>,
    /// Items waiting to go up the link.
    up: RefCell<Vec<Up>>,
    /// The start of a large text coming down the link in pieces.
    pieces: RefCell<Pieces>,
    flush_callback: Closure<dyn FnMut()>,
    flush_scheduled: Cell<bool>,
    /// Closes the link if the relay is still empty (`RELAY_IDLE_MS` after its last socket went).
    idle_callback: Closure<dyn FnMut()>,
}

enum Link {
    None,
    Connecting,
    Open(WebSocket),
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl ChatRelay {
    #[wasm_bindgen(constructor)]
    pub fn new(state: DurableObjectState, env: Env) -> ChatRelay {
        let raw_state: RawRelayState = JsValue::from(state.clone()).unchecked_into();
        let state = State::from(state);
        // The room's own limits, read the same way, so the relay and the room agree.
        let limits =
            crate::config::Limits::from_vars(|name| env.var(name).ok().map(|v| v.to_string()));
        let test_hooks = limits.test_hooks;
        let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
            let (weak, idle) = (weak.clone(), weak.clone());
            Inner {
                state,
                raw_state,
                env,
                test_hooks,
                max_frame_bytes: limits.max_frame_bytes,
                idle_ms: limits.relay_idle_ms,
                room: RefCell::new(None),
                members: RefCell::new(Sockets::default()),
                next: Cell::new(0),
                link: RefCell::new(Link::None),
                up: RefCell::new(Vec::new()),
                pieces: RefCell::new(Pieces::default()),
                flush_callback: Closure::new(move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.flush();
                    }
                }),
                flush_scheduled: Cell::new(false),
                idle_callback: Closure::new(move || {
                    if let Some(inner) = idle.upgrade() {
                        inner.close_if_idle();
                    }
                }),
            }
        });
        ChatRelay { inner }
    }

    pub async fn fetch(&self, req: web_sys::Request) -> Result<web_sys::Response, JsValue> {
        self.inner
            .serve(req.into())
            .map(web_sys::Response::from)
            .map_err(JsValue::from)
    }

    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn websocket_message(&self, ws: web_sys::WebSocket, data: JsValue) {
        let ws = WebSocket::from(ws);
        let Some(conn) = self.inner.conn_of(&ws) else {
            // Not a socket of this instance's (it was reset): its member rejoins.
            let _ = ws.close(Some(close::RESTART), Some("relay restarted"));
            return;
        };
        // Checked here as in the room object: an oversized frame is neither copied nor
        // forwarded (escaped into a link item it would grow, and the room refuses it anyway).
        let max = self.inner.max_frame_bytes;
        let item = match sockets::incoming(&data, max) {
            Incoming::Text(text) if text.len() > max => Up::TooLarge { conn },
            // The keepalive, answered here as the room object's runtime answers its own
            // sockets': forwarded, it would reach the room as a frame that is not JSON.
            Incoming::Text(text) if text == "ping" => {
                let _ = ws.send_with_str("pong");
                Up::Heard { conn }
            }
            Incoming::Text(text) => {
                if self.inner.test_hooks && text == ABORT_HOOK {
                    let _ = self.inner.raw_state.abort("debug_relay_abort");
                    return;
                }
                Up::Frame { conn, text }
            }
            Incoming::Oversized => Up::TooLarge { conn },
            Incoming::Binary => Up::Binary { conn },
        };
        self.inner.queue(item);
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn websocket_close(&self, ws: web_sys::WebSocket, code: u16, reason: String, _clean: bool) {
        let ws = WebSocket::from(ws);
        self.inner.gone(&ws, sockets::gone_reason(code, &reason));
        sockets::answer_close(&ws, code);
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn websocket_error(&self, ws: web_sys::WebSocket, _error: JsValue) {
        let ws = WebSocket::from(ws);
        self.inner.gone(&ws, "error");
        let _ = ws.close(Some(close::INTERNAL), Some("socket error"));
    }
}

impl Inner {
    fn serve(self: &Rc<Self>, req: Request) -> worker::Result<Response> {
        let url = req.inner().url();
        let (path, query) = crate::api::split_url(&url);
        match path {
            // A member's socket, sent here by the Worker on the room object's word.
            "/websocket" => {
                let param = |key| crate::api::query_param(query, key).map(|v| v.into_owned());
                let (Some(room_id), Some(room), Some(k)) = (
                    param("room_id"),
                    crate::api::raw_query_param(query, "room"),
                    param("k").and_then(|k| k.parse::<u32>().ok()),
                ) else {
                    return Response::error("bad relay request", 400);
                };
                self.room
                    .borrow_mut()
                    .get_or_insert_with(|| (room_id, room.to_string(), k));
                let address = req.headers().get("CF-Connecting-IP").ok().flatten();
                let pair = WebSocketPair::new()?;
                self.state.accept_web_socket(&pair.server);
                let conn = self.next.get();
                self.next.set(conn.wrapping_add(1));
                self.members.borrow_mut().insert(conn, pair.server);
                self.queue(Up::Open { conn, address });
                self.ensure_link();
                Response::from_websocket(pair.client)
            }
            "/stats" => {
                let members = self.members.borrow();
                let (connections, sends) = (members.len(), members.sent());
                super::answers::json_ok(&format!(
                    r#"{{"connections":{connections},"sends":{sends}}}"#
                ))
            }
            _ => Response::error("not found", 404),
        }
    }

    fn conn_of(&self, ws: &WebSocket) -> Option<RelayConn> {
        self.members.borrow().conn_of(ws)
    }

    fn gone(&self, ws: &WebSocket, why: &str) {
        let Some(conn) = self.conn_of(ws) else {
            return;
        };
        self.members.borrow_mut().remove(conn);
        self.queue(Up::Gone {
            conn,
            why: why.to_string(),
        });
        // The last socket went: if none comes within `RELAY_IDLE_MS`, the link closes, so that
        // neither this relay nor the room object is kept in memory for nobody (an open link
        // keeps both from hibernating).
        if self.members.borrow().len() == 0 {
            let ms = i32::try_from(self.idle_ms).unwrap_or(i32::MAX);
            set_timeout(self.idle_callback.as_ref().unchecked_ref(), ms);
        }
    }

    /// The idle timer rang: closes the link if the relay still holds no socket and has nothing
    /// left to send. Its members (none) are told nothing; the next socket opens a new link.
    fn close_if_idle(&self) {
        if self.members.borrow().len() > 0 || !self.up.borrow().is_empty() {
            return;
        }
        if let Link::Open(ws) = &*self.link.borrow() {
            let _ = ws.close(Some(close::NORMAL), Some("relay idle"));
        }
    }

    /// Queues an item for the link; the burst goes up together from a zero-delay timer.
    fn queue(&self, item: Up) {
        self.up.borrow_mut().push(item);
        if !self.flush_scheduled.replace(true) {
            set_timeout(self.flush_callback.as_ref().unchecked_ref(), 0);
        }
    }

    /// Sends the queued items up the link, if it is open (else they wait for it).
    fn flush(self: &Rc<Self>) {
        self.flush_scheduled.set(false);
        let sent = {
            let link = self.link.borrow();
            let Link::Open(ws) = &*link else {
                return;
            };
            let items = std::mem::take(&mut *self.up.borrow_mut());
            if items.is_empty() {
                return;
            }
            pack_link(&items, MAX_LINK_BYTES)
                .into_iter()
                .all(|text| ws.send_with_str(text).is_ok())
        };
        if !sent {
            self.link_lost();
        }
    }

    /// Opens the link to the room object unless it is open or opening.
    fn ensure_link(self: &Rc<Self>) {
        if !matches!(*self.link.borrow(), Link::None) {
            return;
        }
        *self.link.borrow_mut() = Link::Connecting;
        let weak = Rc::downgrade(self);
        worker::wasm_bindgen_futures::spawn_local(async move {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let ws = match inner.connect().await {
                Ok(ws) => ws,
                Err(e) => {
                    worker::console_error!(
                        "{}",
                        serde_json::json!({"level": "warn", "event": "relay_link_failed",
                            "at": now_ms(), "error": e.to_string()})
                    );
                    inner.link_lost();
                    return;
                }
            };
            *inner.link.borrow_mut() = Link::Open(ws.clone());
            inner.flush();
            drop(inner);
            let down = |inner: &Rc<Inner>, text: &str| inner.down(text);
            super::links::watch(ws, weak, down, |inner| inner.link_lost()).await;
        });
    }

    /// The link: a WebSocket to the room object's `/relay`.
    async fn connect(&self) -> worker::Result<WebSocket> {
        let (room_id, room, k) = self
            .room
            .borrow()
            .clone()
            .ok_or_else(|| worker::Error::RustError("relay without a room".into()))?;
        let stub = self
            .env
            .durable_object(super::ROOMS)?
            .id_from_string(&room_id)?
            .get_stub()?;
        let headers = Headers::new();
        headers.set("Upgrade", "websocket")?;
        let url = format!("https://room/relay?room={room}&k={k}");
        let response = stub
            .fetch_with_request(super::get_request(&url, Some(&headers))?)
            .await?;
        let ws = response
            .websocket()
            .ok_or_else(|| worker::Error::RustError("the room refused the link".into()))?;
        ws.accept()?;
        Ok(ws)
    }

    /// A batch from the room: sends and closes for this relay's members.
    fn down(&self, text: &str) {
        let Ok(items) = serde_json::from_str::<Vec<Down>>(text) else {
            return;
        };
        let members = self.members.borrow();
        for item in items {
            let Some(item) = self.pieces.borrow_mut().take(item) else {
                continue;
            };
            match item {
                // A refused send means the socket is going: its close event follows.
                Down::Send { to, text } => drop(members.send(&[Batch { to, text }])),
                Down::Close { conn, code, reason } => {
                    if let Some(ws) = members.get(conn) {
                        let _ = ws.close(Some(code), Some(reason));
                    }
                }
                Down::Piece { .. } => {}
            }
        }
    }

    /// The link closed or could not open: every member rejoins (through the Worker, which asks
    /// the room object again), so no one is left connected to a room that no longer hears them.
    fn link_lost(&self) {
        *self.link.borrow_mut() = Link::None;
        self.up.borrow_mut().clear();
        *self.pieces.borrow_mut() = Pieces::default();
        let mut members = self.members.borrow_mut();
        let conns: Vec<RelayConn> = members.iter().map(|(conn, _)| conn).collect();
        for conn in conns {
            if let Some(ws) = members.get(conn) {
                let _ = ws.close(Some(close::RESTART), Some("relay lost its room"));
            }
            members.remove(conn);
        }
    }
}
