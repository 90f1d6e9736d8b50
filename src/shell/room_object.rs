//! `ChatRoom`, the Durable Object behind each room: it adapts runtime events (a socket accepted, a
//! frame, a close, an alarm) to [`Room`] and carries out what the room decides.
//!
//! Design decisions, where they bite:
//! - **Hibernation.** Sockets are accepted with the Hibernation API, so an idle room is evicted
//!   from memory while its sockets stay open. Everything in [`Live`] is a cache rebuilt on the next
//!   event from the sockets' attachments and SQLite ([`ChatRoom::load`]); the attachment is
//!   rewritten whenever membership changes.
//! - **No panics.** A panic aborts the Wasm instance and drops in-flight requests, so every
//!   input-driven path returns errors, and runtime failures are logged and survived.
//! - **No borrow across `await`.** Handlers take `&self`; the live state sits in a `RefCell` that
//!   is only borrowed in synchronous sections.
//! - **Broadcast cost.** A frame is serialized once and turned into one JS string, which every
//!   socket's `send` receives as is (no per-socket UTF-8 → UTF-16 copy); the sender of a frame is
//!   found through a JS `Map` keyed by socket object rather than by deserializing its attachment.

use super::log::Logger;
use super::{now_ms, router, storage};
use crate::config::{Limits, LogLevel};
use crate::protocol::{to_json, ErrorCode, ErrorFrame};
use crate::room::{Attachment, ConnId, Left, Outcome, Room};
use js_sys::{JsString, Map};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{
    web_sys, Env, Request, Response, ScheduledTime, SqlStorage, State, WebSocket, WebSocketPair,
    WebSocketRequestResponsePair,
};

#[wasm_bindgen]
extern "C" {
    /// The runtime's WebSocket, seen through a `send` that takes any JS value: a broadcast hands
    /// every socket the same JS string instead of converting the Rust text once per socket.
    type SharedSend;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_value(this: &SharedSend, data: &JsValue) -> Result<(), JsValue>;
}

/// Close codes (see `docs/protocol.md`).
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_INTERNAL: u16 = 1011;
const CLOSE_REPLACED: u16 = 4001;

/// The Durable Object class (`class_name = "ChatRoom"` in `wrangler.toml`).
///
/// Exported with `wasm_bindgen` directly rather than through `worker`'s `#[durable_object]`: that
/// macro makes every handler `async`, so each WebSocket frame would cost a Promise and a few
/// microtask hops. The socket handlers here never wait on I/O (the SQL API is synchronous), so
/// they are plain synchronous exports; `fetch` and `alarm` stay `async`.
#[wasm_bindgen]
pub struct ChatRoom {
    state: State,
    /// `state.storage().sql()`, fetched once: each getter is a call into JS.
    sql: SqlStorage,
    limits: Limits,
    log: Logger,
    /// When this instance was created (the stats' `started_at`).
    started_at: u64,
    live: RefCell<Option<Live>>,
    /// The join-deadline alarm we know is set, to skip re-reading it on every connect.
    alarm_at: Cell<Option<u64>>,
}

/// The room's in-memory state: a cache of the attachments and SQLite. See the module docs.
struct Live {
    room: Room,
    /// The room's display name (`lobby`, or a private room's hex id).
    name: String,
    sockets: HashMap<ConnId, WebSocket>,
    /// Socket object → connection id, for finding a frame's sender without a deserialize.
    by_socket: Map,
    next_conn: ConnId,
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl ChatRoom {
    #[wasm_bindgen(constructor)]
    pub fn new(state: DurableObjectState, env: Env) -> ChatRoom {
        let state = State::from(state);
        let limits = Limits::from_vars(|name| env.var(name).ok().map(|v| v.to_string()));
        // Keepalives are answered by the runtime without waking a hibernating room.
        if let Ok(pair) = WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        ChatRoom {
            sql: state.storage().sql(),
            state,
            log: Logger {
                level: limits.log_level,
            },
            limits,
            started_at: now_ms(),
            live: RefCell::new(None),
            alarm_at: Cell::new(None),
        }
    }

    pub async fn fetch(&self, req: web_sys::Request) -> Result<web_sys::Response, JsValue> {
        self.serve(req.into())
            .await
            .map(web_sys::Response::from)
            .map_err(JsValue::from)
    }

    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn websocket_message(
        &self,
        ws: web_sys::WebSocket,
        message: JsValue,
    ) -> Result<(), JsValue> {
        let ws = WebSocket::from(ws);
        let now = now_ms();
        let reset = self.with_live(|live| {
            let Some(conn) = live.conn_of(&ws) else {
                // A socket we cannot attribute has no attachment: nothing sane to do but end it.
                let _ = ws.close(Some(CLOSE_INTERNAL), Some("unknown connection"));
                return false;
            };
            let outcome = match message.as_string() {
                Some(text) => live.room.handle(conn, &text, &live.name, now),
                None => Room::binary_frame(),
            };
            self.carry_out(live, conn, &ws, outcome, now)
        })?;
        if reset {
            self.live.replace(None);
        }
        Ok(())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn websocket_close(
        &self,
        ws: web_sys::WebSocket,
        code: u16,
        _reason: String,
        _was_clean: bool,
    ) {
        let ws = WebSocket::from(ws);
        self.gone(&ws, "close");
        // Answer the close handshake. 1005 (no code) and 1006 (dropped) cannot be sent: say 1000.
        let reply = match code {
            1000..=1003 | 1007..=1014 | 3000..=4999 => code,
            _ => CLOSE_NORMAL,
        };
        if ws.close(Some(reply), Some("closed")).is_err() {
            let _ = ws.close(Some(CLOSE_NORMAL), Some("closed"));
        }
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn websocket_error(&self, ws: web_sys::WebSocket, _error: JsValue) {
        let ws = WebSocket::from(ws);
        self.gone(&ws, "error");
        let _ = ws.close(Some(CLOSE_INTERNAL), Some("socket error"));
    }

    pub async fn alarm(&self) -> Result<(), JsValue> {
        let now = now_ms();
        self.alarm_at.set(None);
        let next = self.with_live(|live| {
            for conn in live.room.join_expired(now) {
                if let Some(ws) = live.sockets.get(&conn) {
                    let _ = ws.close(Some(CLOSE_POLICY), Some("join timeout"));
                }
                live.remove(conn, now);
            }
            live.room.next_join_deadline()
        })?;
        if let Some(at) = next {
            self.set_alarm(at).await;
        }
        Ok(())
    }
}

impl ChatRoom {
    /// The room's HTTP side: the WebSocket upgrade, history pages and stats.
    async fn serve(&self, req: Request) -> worker::Result<Response> {
        let url = req.url()?;
        let mut room_name = String::new();
        let (mut before, mut limit) = (None, 50);
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "room" => room_name = value.into_owned(),
                "before" => before = value.parse().ok(),
                "limit" => limit = value.parse().unwrap_or(50u32).clamp(1, 100),
                _ => {}
            }
        }
        self.with_live(|live| live.remember_name(&self.sql, &room_name))?;
        match url.path() {
            "/websocket" => {
                let response = self.accept()?;
                self.schedule_join_deadline().await;
                Ok(response)
            }
            "/messages" => {
                let messages = storage::page(&self.sql, before, limit)?;
                router::json_ok(&to_json(&serde_json::json!({ "messages": messages })))
            }
            "/stats" => self.stats(),
            _ => Response::error("not found", 404),
        }
    }

    /// Runs `f` on the live state, loading it first if this instance has none yet.
    fn with_live<R>(&self, f: impl FnOnce(&mut Live) -> R) -> worker::Result<R> {
        let mut slot = self.live.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.load()?);
        }
        match slot.as_mut() {
            Some(live) => Ok(f(live)),
            None => Err(worker::Error::RustError("room state unavailable".into())),
        }
    }

    /// Rebuilds the room from SQLite and the open sockets' attachments.
    fn load(&self) -> worker::Result<Live> {
        let sql = &self.sql;
        storage::init(sql)?;
        let history = storage::load_history(sql)?;
        let name = storage::get_meta(sql, "room")?.unwrap_or_default();
        let mut room = Room::new(self.limits.clone(), history);
        let mut sockets = HashMap::new();
        let by_socket = Map::new();
        let mut next_conn = 1;
        for ws in self.state.get_websockets() {
            match ws.deserialize_attachment::<Attachment>() {
                Ok(Some(attachment)) => {
                    room.restore(&attachment);
                    by_socket.set(ws.as_ref(), &JsValue::from(attachment.conn));
                    next_conn = next_conn.max(attachment.conn.saturating_add(1));
                    sockets.insert(attachment.conn, ws);
                }
                _ => {
                    let _ = ws.close(Some(CLOSE_INTERNAL), Some("lost connection state"));
                }
            }
        }
        room.finish_restore();
        self.log.log(
            LogLevel::Info,
            &name,
            "room_loaded",
            serde_json::json!({
                "members": room.member_count(),
                "connections": room.connection_count(),
                "last_id": room.last_id(),
            }),
        );
        Ok(Live {
            room,
            name,
            sockets,
            by_socket,
            next_conn,
        })
    }

    /// Accepts a WebSocket into the room (hibernatable) and registers it.
    fn accept(&self) -> worker::Result<Response> {
        let pair = WebSocketPair::new()?;
        let now = now_ms();
        self.with_live(|live| -> worker::Result<()> {
            let conn = live.next_conn;
            live.next_conn = live.next_conn.saturating_add(1);
            let attachment = live.room.connect(conn, now);
            self.state.accept_web_socket(&pair.server);
            pair.server.serialize_attachment(&attachment)?;
            live.by_socket
                .set(pair.server.as_ref(), &JsValue::from(conn));
            live.sockets.insert(conn, pair.server.clone());
            Ok(())
        })??;
        Response::from_websocket(pair.client)
    }

    /// Makes sure an alarm fires by the earliest join deadline.
    async fn schedule_join_deadline(&self) {
        let Ok(Some(deadline)) = self.with_live(|live| live.room.next_join_deadline()) else {
            return;
        };
        if self.alarm_at.get().is_some_and(|at| at <= deadline) {
            return;
        }
        // After a restart we do not know what is set: an earlier alarm stays, it reschedules.
        if let Ok(Some(at)) = self.state.storage().get_alarm().await {
            if at >= 0 && (at as u64) <= deadline {
                self.alarm_at.set(Some(at as u64));
                return;
            }
        }
        self.set_alarm(deadline).await;
    }

    async fn set_alarm(&self, at: u64) {
        self.alarm_at.set(Some(at));
        // An absolute time: `worker` reads a bare integer as an offset from now.
        let when = ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(at as f64)));
        if let Err(e) = self.state.storage().set_alarm(when).await {
            self.alarm_at.set(None);
            self.log_failure("", "set_alarm", &e);
        }
    }

    /// Carries out one outcome of a frame from `conn`. Returns whether the room asked to forget
    /// its in-memory state (the test hook).
    fn carry_out(
        &self,
        live: &mut Live,
        conn: ConnId,
        ws: &WebSocket,
        outcome: Outcome,
        now: u64,
    ) -> bool {
        match outcome {
            Outcome::Reject(error) => {
                self.log.log(
                    LogLevel::Info,
                    &live.name,
                    "error_sent",
                    serde_json::json!({"code": error.code.as_str()}),
                );
                let _ = ws.send_with_str(to_json(&error));
            }
            Outcome::Joined(joined) => {
                if let Err(e) = ws.serialize_attachment(&joined.attachment) {
                    // Without the attachment this member would be forgotten on the next wake.
                    self.log_failure(&live.name, "attachment", &e);
                }
                let _ = ws.send_with_str(&joined.welcome);
                if let Some((old, attachment)) = &joined.replaced {
                    if let Some(old_ws) = live.sockets.get(old) {
                        let _ = old_ws.serialize_attachment(attachment);
                        let _ = old_ws.close(Some(CLOSE_REPLACED), Some("session taken over"));
                    }
                    live.remove(*old, now);
                }
                if let Some(announce) = &joined.announce {
                    live.broadcast(announce, Some(conn), now);
                }
                self.log.log(
                    LogLevel::Info,
                    &live.name,
                    if joined.replaced.is_some() {
                        "takeover"
                    } else {
                        "join"
                    },
                    serde_json::json!({"members": live.room.member_count()}),
                );
            }
            Outcome::Message { message, frame } => {
                let sql = &self.sql;
                if let Err(e) = storage::insert(sql, &message) {
                    self.log_failure(&live.name, "insert", &e);
                    let error = ErrorFrame::new(
                        ErrorCode::StorageFailed,
                        "the message could not be stored; it was not sent",
                    );
                    let _ = ws.send_with_str(to_json(&error));
                    return false;
                }
                if self.log.enabled(LogLevel::Debug) {
                    self.log.log(
                        LogLevel::Debug,
                        &live.name,
                        "message",
                        serde_json::json!({"id": message.id, "members": live.room.member_count()}),
                    );
                }
                let excess = live.room.message_stored(message);
                if excess > 0 {
                    if let Err(e) = storage::delete_oldest(sql, excess) {
                        self.log_failure(&live.name, "trim", &e);
                    }
                }
                live.broadcast(&frame, None, now);
            }
            Outcome::Typing { frame } => live.broadcast(&frame, Some(conn), now),
            Outcome::Ignored => {}
            Outcome::DebugReset { frame } => {
                let _ = ws.send_with_str(&frame);
                return true;
            }
        }
        false
    }

    /// A socket closed, errored or dropped: tell the others if it was a member.
    fn gone(&self, ws: &WebSocket, why: &str) {
        let now = now_ms();
        let result = self.with_live(|live| {
            let conn = live.conn_of(ws)?;
            live.forget(conn, now)
                .map(|name| (name, live.room.member_count(), live.name.clone()))
        });
        if let Ok(Some((_name, members, room))) = result {
            self.log.log(
                LogLevel::Info,
                &room,
                "leave",
                serde_json::json!({"members": members, "reason": why}),
            );
        }
    }

    fn stats(&self) -> worker::Result<Response> {
        let body = self.with_live(|live| {
            to_json(&serde_json::json!({
                "room": live.name,
                "members": live.room.member_count(),
                "connections": live.room.connection_count(),
                "messages_stored": live.room.stored_count(),
                "last_message_id": live.room.last_id(),
                "memory_bytes": wasm_memory_bytes(),
                "started_at": self.started_at,
            }))
        })?;
        router::json_ok(&body)
    }

    fn log_failure(&self, room: &str, operation: &str, error: &worker::Error) {
        self.log.log(
            LogLevel::Warn,
            room,
            "storage_failure",
            serde_json::json!({"operation": operation, "error": error.to_string()}),
        );
    }
}

impl Live {
    /// The connection id of a socket: by identity when this instance has seen the object, else
    /// from its attachment.
    fn conn_of(&self, ws: &WebSocket) -> Option<ConnId> {
        if let Some(id) = self.by_socket.get(ws.as_ref()).as_f64() {
            return Some(id as ConnId);
        }
        let attachment = ws.deserialize_attachment::<Attachment>().ok().flatten()?;
        Some(attachment.conn)
    }

    /// Remembers the room's display name the first time the router tells it.
    fn remember_name(&mut self, sql: &SqlStorage, name: &str) {
        if self.name.is_empty() && !name.is_empty() {
            self.name = name.to_string();
            let _ = storage::set_meta(sql, "room", name);
        }
    }

    /// Sends `frame` to every member (but `except`). Sockets that refuse a send are gone: they are
    /// dropped and their leave is broadcast in turn.
    fn broadcast(&mut self, frame: &str, except: Option<ConnId>, now: u64) {
        let mut failed = self.send_to_members(frame, except);
        while let Some(conn) = failed.pop() {
            if let Some(ws) = self.sockets.get(&conn) {
                let _ = ws.close(Some(CLOSE_NORMAL), Some("send failed"));
            }
            if let Some(left) = self.remove(conn, now) {
                failed.extend(self.send_to_members(&left.frame, None));
            }
        }
    }

    /// One JS string for all recipients; returns the connections whose send threw.
    fn send_to_members(&self, frame: &str, except: Option<ConnId>) -> Vec<ConnId> {
        let shared = frame_string(frame, self.room.member_count());
        let mut failed = Vec::new();
        for &conn in self.room.member_conns() {
            if Some(conn) == except {
                continue;
            }
            if let Some(ws) = self.sockets.get(&conn) {
                let socket: &SharedSend = ws.as_ref().unchecked_ref();
                if socket.send_value(&shared).is_err() {
                    failed.push(conn);
                }
            }
        }
        failed
    }

    /// Removes a connection; returns its leave if it was a member (for the caller to broadcast).
    fn remove(&mut self, conn: ConnId, now: u64) -> Option<Left> {
        if let Some(ws) = self.sockets.remove(&conn) {
            self.by_socket.delete(ws.as_ref());
        }
        self.room.disconnect(conn, now)
    }

    /// Removes a connection and broadcasts its leave. Returns the member's name if it was one.
    fn forget(&mut self, conn: ConnId, now: u64) -> Option<String> {
        let left = self.remove(conn, now)?;
        self.broadcast(&left.frame, None, now);
        Some(left.name)
    }
}

/// A frame as the JS string handed to every recipient's `send`. wasm-bindgen's usual route
/// (`TextDecoder`) gives a two-byte string, which the runtime re-encodes to UTF-8 on every `send`
/// (about 2.5 µs per recipient, measured in bench/). `String.fromCharCode` over an ASCII frame
/// gives V8's compact one-byte string instead, but costs about as much as three such re-encodings
/// to build: worth it from a handful of recipients on.
fn frame_string(frame: &str, recipients: usize) -> JsValue {
    const ONE_BYTE_FROM: usize = 4;
    if recipients >= ONE_BYTE_FROM && frame.is_ascii() {
        let codes: Vec<u16> = frame.bytes().map(u16::from).collect();
        JsString::from_char_code(&codes).into()
    } else {
        JsString::from(frame).into()
    }
}

/// The instance's WebAssembly linear memory, in bytes.
fn wasm_memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}
