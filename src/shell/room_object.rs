//! `ChatRoom`, the Durable Object behind each room. It turns runtime events into
//! [`Event`]s for the [`Room`] and carries out the [`Effects`] it returns; it decides nothing.
//!
//! The path of one chat message:
//! 1. [`ChatRoom::websocket_message`]: the frame becomes `Event::Frame` for [`Room::handle`],
//!    which checks it, assigns its id and queues it; the shell schedules a flush.
//! 2. [`Inner::flush`], once the burst of events is handled: [`Room::flush`] stores the burst
//!    through [`SqlStore`] and returns one batch per recipient; the shell sends them.
//!
//! Runtime facts this relies on, where they bite:
//! - **Hibernation.** Sockets are accepted with the Hibernation API, so an idle room is evicted
//!   from memory while its sockets stay open. Everything in [`Live`] is a cache rebuilt on the next
//!   event from the sockets' attachments and SQLite ([`Inner::load`]).
//! - **Flush after the burst.** The flush runs from a zero-delay timer: the runtime delivers every
//!   socket event that is already waiting before a timer fires, so one flush covers the burst,
//!   and an idle room flushes a lone frame at once (see bench/README.md for the measurements).
//! - **Output gate.** Frames sent after a SQL write leave only once the write is durable, so
//!   "stored before sent" holds without an `await`.
//! - **No panics.** A panic aborts the Wasm instance and drops in-flight requests, so every
//!   input-driven path returns errors, and runtime failures are logged and survived.
//! - **No borrow across `await`.** The live state sits in a `RefCell` that is only borrowed in
//!   synchronous sections.

use super::log::Logger;
use super::sockets::Sockets;
use super::storage::{self, RawStorage, SqlStore};
use super::{now_ms, router};
use crate::config::{Limits, LogLevel};
use crate::protocol::{close, to_json};
use crate::room::{log_tag, Attachment, ConnId, Debug, Effects, Event, Room};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{
    web_sys, Env, Request, Response, ScheduledTime, SqlStorage, State, WebSocket, WebSocketPair,
    WebSocketRequestResponsePair,
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: i32) -> JsValue;

    /// The parts of `ctx` the `worker` crate does not wrap.
    type RawState;
    #[wasm_bindgen(method, getter)]
    fn storage(this: &RawState) -> RawStorage;
    #[wasm_bindgen(method, catch, js_name = getWebSocketAutoResponseTimestamp)]
    fn auto_response_timestamp(
        this: &RawState,
        ws: &JsValue,
    ) -> Result<Option<js_sys::Date>, JsValue>;
}

/// The Durable Object class (`class_name = "ChatRoom"` in `wrangler.toml`).
///
/// Exported with `wasm_bindgen` directly rather than through `worker`'s `#[durable_object]`: that
/// macro makes every handler `async`, so each WebSocket frame would cost a Promise and a few
/// microtask hops. The socket handlers here never wait on I/O (the SQL API is synchronous), so
/// they are plain synchronous exports; `fetch` and `alarm` stay `async`.
#[wasm_bindgen]
pub struct ChatRoom {
    inner: Rc<Inner>,
}

struct Inner {
    state: State,
    raw_state: RawState,
    /// `state.storage().sql()` and `ctx.storage`, fetched once: each getter is a call into JS.
    sql: SqlStorage,
    storage: RawStorage,
    limits: Limits,
    log: Logger,
    /// When this instance was created (the stats' `started_at`).
    started_at: u64,
    live: RefCell<Option<Live>>,
    /// The flush as a JS function for `setTimeout`, made once. It holds this state weakly, so an
    /// evicted instance is not kept alive by its own callback.
    flush_callback: Closure<dyn FnMut()>,
    flush_scheduled: Cell<bool>,
    /// When a flush for held presence frames is due, if one is scheduled.
    held_flush_at: Cell<Option<u64>>,
    /// Whether this instance made sure the tables and the room's name are stored.
    tables: Cell<bool>,
}

/// The room's in-memory state: a cache of the attachments and SQLite. See the module docs.
struct Live {
    room: Room,
    /// How logs name this room.
    tag: String,
    sockets: Sockets,
    next_conn: ConnId,
}

#[wasm_bindgen(wasm_bindgen_futures = worker::wasm_bindgen_futures)]
impl ChatRoom {
    #[wasm_bindgen(constructor)]
    pub fn new(state: DurableObjectState, env: Env) -> ChatRoom {
        let raw_state: RawState = JsValue::from(state.clone()).unchecked_into();
        let state = State::from(state);
        // `MODERATOR_KEY` is a secret (`wrangler secret put`), the rest are vars.
        let limits = Limits::from_vars(|name| {
            env.var(name)
                .or_else(|_| env.secret(name))
                .ok()
                .map(|v| v.to_string())
        });
        // Keepalives are answered by the runtime without waking a hibernating room.
        if let Ok(pair) = WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
            let weak = weak.clone();
            Inner {
                sql: state.storage().sql(),
                storage: raw_state.storage(),
                state,
                raw_state,
                log: Logger {
                    level: limits.log_level,
                },
                limits,
                started_at: now_ms(),
                live: RefCell::new(None),
                flush_callback: Closure::new(move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.flush();
                    }
                }),
                flush_scheduled: Cell::new(false),
                held_flush_at: Cell::new(None),
                tables: Cell::new(false),
            }
        });
        ChatRoom { inner }
    }

    pub async fn fetch(&self, req: web_sys::Request) -> Result<web_sys::Response, JsValue> {
        self.inner
            .serve(req.into())
            .await
            .map(web_sys::Response::from)
            .map_err(JsValue::from)
    }

    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn websocket_message(&self, ws: web_sys::WebSocket, data: JsValue) -> Result<(), JsValue> {
        let ws = WebSocket::from(ws);
        let now = now_ms();
        let effects = self.inner.step(|live| {
            let Some(conn) = live.sockets.conn_of(&ws) else {
                // A socket we cannot attribute has no attachment: nothing sane to do but end it.
                let _ = ws.close(Some(close::INTERNAL), Some("unknown connection"));
                return Effects::default();
            };
            let mut store = self.inner.store();
            match data.as_string() {
                Some(text) => live
                    .room
                    .handle(Event::Frame { conn, text: &text }, now, &mut store),
                None => live.room.handle(Event::Binary { conn }, now, &mut store),
            }
        })?;
        self.inner.carry_out(effects);
        Ok(())
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn websocket_close(
        &self,
        ws: web_sys::WebSocket,
        code: u16,
        _reason: String,
        _clean: bool,
    ) {
        let ws = WebSocket::from(ws);
        self.inner.gone(&ws, "close");
        // Answer the close handshake. 1005 (no code) and 1006 (dropped) cannot be sent: say 1000.
        let reply = match code {
            1000..=1003 | 1007..=1014 | 3000..=4999 => code,
            _ => close::NORMAL,
        };
        if ws.close(Some(reply), Some("closed")).is_err() {
            let _ = ws.close(Some(close::NORMAL), Some("closed"));
        }
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn websocket_error(&self, ws: web_sys::WebSocket, _error: JsValue) {
        let ws = WebSocket::from(ws);
        self.inner.gone(&ws, "error");
        let _ = ws.close(Some(close::INTERNAL), Some("socket error"));
    }

    pub async fn alarm(&self) -> Result<(), JsValue> {
        let now = now_ms();
        let inner = &self.inner;
        let effects = inner.step(|live| {
            // When the runtime last answered each socket's ping (without waking us).
            let heard = live
                .sockets
                .iter()
                .filter_map(|(conn, ws)| {
                    let at = inner
                        .raw_state
                        .auto_response_timestamp(ws.as_ref())
                        .ok()??;
                    Some((conn, at.get_time() as u64))
                })
                .collect();
            live.room
                .handle(Event::Alarm { heard }, now, &mut inner.store())
        })?;
        inner.carry_out(effects);
        Ok(())
    }
}

impl Inner {
    /// The room's HTTP side: the WebSocket upgrade, history pages and stats.
    async fn serve(self: &Rc<Self>, req: Request) -> worker::Result<Response> {
        let url = req.inner().url();
        let (path, query) = crate::api::split_url(&url);
        // The Worker validated everything it forwards (`crate::api`).
        let param = |key| crate::api::query_param(query, key);
        let room_name = param("room").unwrap_or_default().into_owned();
        let owner_hash = param("owner").map(|v| v.into_owned());
        match path {
            "/websocket" => {
                // A socket is what creates a room; reads never do. Once per instance: a crowd
                // arriving should not cost a schema check and a read per socket.
                if !self.tables.get() {
                    storage::init(&self.sql)?;
                    if storage::get_meta(&self.sql, "room")?.is_none() && !room_name.is_empty() {
                        storage::set_meta(&self.sql, "room", &room_name)?;
                    }
                    self.tables.set(true);
                }
                let address = req.headers().get("CF-Connecting-IP").ok().flatten();
                self.accept(&room_name, address.as_deref())
            }
            "/messages" => {
                let query = crate::validate::page_query(query).map_err(worker::Error::RustError)?;
                let messages = storage::page(&self.sql, &query)?;
                router::json_ok(&to_json(&serde_json::json!({ "messages": messages })))
            }
            // A new private room: the Worker hands over the digest of its owner key, once.
            "/claim" => {
                // Not `tables`: that flag also means the room's name is stored, which only a
                // socket's request carries.
                storage::init(&self.sql)?;
                if let (Some(hash), None) = (owner_hash, storage::get_meta(&self.sql, "owner")?) {
                    storage::set_meta(&self.sql, "owner", &hash)?;
                }
                router::json_ok("{}")
            }
            "/stats" => self.stats(&room_name),
            _ => Response::error("not found", 404),
        }
    }

    /// The room's store, for one step.
    fn store(&self) -> SqlStore<'_> {
        SqlStore {
            sql: &self.sql,
            storage: &self.storage,
        }
    }

    /// Accepts a WebSocket into the room (hibernatable) and registers it.
    fn accept(self: &Rc<Self>, room_name: &str, address: Option<&str>) -> worker::Result<Response> {
        let pair = WebSocketPair::new()?;
        let now = now_ms();
        let effects = self.with_live(room_name, |live| {
            let conn = live.next_conn;
            live.next_conn = live.next_conn.saturating_add(1);
            self.state.accept_web_socket(&pair.server);
            live.sockets.insert(conn, pair.server.clone());
            live.room
                .handle(Event::Connect { conn, address }, now, &mut self.store())
        })?;
        self.carry_out(effects);
        Response::from_websocket(pair.client)
    }

    /// A socket closed, errored or dropped.
    fn gone(self: &Rc<Self>, ws: &WebSocket, why: &'static str) {
        let now = now_ms();
        let effects = self.step(|live| {
            let Some(conn) = live.sockets.conn_of(ws) else {
                return Effects::default();
            };
            live.sockets.remove(conn);
            live.room
                .handle(Event::Gone { conn, why }, now, &mut self.store())
        });
        if let Ok(effects) = effects {
            self.carry_out(effects);
        }
    }

    /// The end of a burst: store and send what the room queued.
    fn flush(self: &Rc<Self>) {
        self.flush_scheduled.set(false);
        let now = now_ms();
        if self.held_flush_at.get().is_some_and(|at| at <= now) {
            self.held_flush_at.set(None);
        }
        let effects = self.step(|live| live.room.flush(&mut self.store(), now));
        if let Ok(effects) = effects {
            self.carry_out(effects);
        }
    }

    /// Carries out what the room decided, in order.
    fn carry_out(self: &Rc<Self>, effects: Effects) {
        // Only ever on a loaded room: effects come from it.
        let failed = self
            .with_loaded(|live| {
                for (conn, attachment) in &effects.attach {
                    if let Some(ws) = live.sockets.get(*conn) {
                        if let Err(e) = ws.serialize_attachment(attachment) {
                            // Without its attachment this socket is forgotten on the next wake.
                            self.log.log(
                                LogLevel::Warn,
                                &live.tag,
                                "storage_failure",
                                serde_json::json!({"operation": "attachment", "error": e.to_string()}),
                            );
                        }
                    }
                }
                for c in &effects.close {
                    if let Some(ws) = live.sockets.get(c.conn) {
                        let _ = ws.close(Some(c.code), Some(c.reason));
                    }
                }
                let failed = live.sockets.send(&effects.send);
                for line in &effects.logs {
                    self.log.line(&live.tag, line);
                }
                failed
            })
            .unwrap_or_default();
        // A socket that refuses a send is gone: it leaves like any other.
        for conn in failed {
            let now = now_ms();
            let more = self.step(|live| {
                if let Some(ws) = live.sockets.get(conn) {
                    let _ = ws.close(Some(close::NORMAL), Some("send failed"));
                }
                live.sockets.remove(conn);
                live.room.handle(
                    Event::Gone {
                        conn,
                        why: "send failed",
                    },
                    now,
                    &mut self.store(),
                )
            });
            if let Ok(more) = more {
                self.carry_out(more);
            }
        }
        if effects.flush && !self.flush_scheduled.replace(true) {
            set_timeout(self.flush_callback.as_ref().unchecked_ref(), 0);
        }
        // Presence held back to go out together: one more flush when it is due. (An extra flush
        // finds nothing to do; a missing one would leave frames waiting.)
        if let Some(ms) = effects.flush_in {
            let at = now_ms().saturating_add(ms);
            if self.held_flush_at.get().is_none_or(|t| at < t) {
                self.held_flush_at.set(Some(at));
                set_timeout(self.flush_callback.as_ref().unchecked_ref(), ms as i32);
            }
        }
        if let Some(at) = effects.alarm {
            self.alarm_by(at);
        } else if effects.cancel_alarm {
            let storage = self.state.storage();
            worker::wasm_bindgen_futures::spawn_local(async move {
                let _ = storage.delete_alarm().await;
            });
        }
        if effects.reload {
            // Storage refused a write: memory may be ahead of it. Rebuild on the next event.
            self.live.replace(None);
        }
        match effects.debug {
            Some(Debug::Reset) => {
                self.flush();
                self.live.replace(None);
            }
            Some(Debug::FailWrites(on)) => {
                if let Err(e) = storage::fail_writes(&self.sql, on) {
                    self.log.log(
                        LogLevel::Warn,
                        "",
                        "storage_failure",
                        serde_json::json!({"operation": "debug", "error": e.to_string()}),
                    );
                }
            }
            None => {}
        }
    }

    /// Runs `f` on the live state if this instance has it (never loads: no recursion).
    fn with_loaded<R>(&self, f: impl FnOnce(&mut Live) -> R) -> Option<R> {
        self.live.borrow_mut().as_mut().map(f)
    }

    /// Makes sure the alarm rings by `at`: an earlier one stays (the room reschedules when it rings).
    fn alarm_by(self: &Rc<Self>, at: u64) {
        let storage = self.state.storage();
        let log = self.log;
        worker::wasm_bindgen_futures::spawn_local(async move {
            if let Ok(Some(set)) = storage.get_alarm().await {
                if set >= 0 && (set as u64) <= at {
                    return;
                }
            }
            // An absolute time: `worker` reads a bare integer as an offset from now.
            let when = ScheduledTime::new(js_sys::Date::new(&JsValue::from_f64(at as f64)));
            if let Err(e) = storage.set_alarm(when).await {
                log.log(
                    LogLevel::Warn,
                    "",
                    "storage_failure",
                    serde_json::json!({"operation": "set_alarm", "error": e.to_string()}),
                );
            }
        });
    }

    fn stats(self: &Rc<Self>, room_name: &str) -> worker::Result<Response> {
        let body = self.with_live(room_name, |live| {
            to_json(&serde_json::json!({
                "room": live.room.name(),
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

    /// Runs one step of the room (`f` returns its effects), loading the room first if needed.
    fn step(self: &Rc<Self>, f: impl FnOnce(&mut Live) -> Effects) -> worker::Result<Effects> {
        self.with_live("", f)
    }

    /// Runs `f` on the live state, loading it first if this instance has none yet (the room's
    /// name, when the caller knows it, names a room that storage does not know yet), and carries
    /// out what the room decided while restoring.
    fn with_live<R>(
        self: &Rc<Self>,
        room_name: &str,
        f: impl FnOnce(&mut Live) -> R,
    ) -> worker::Result<R> {
        let mut restored = None;
        let result = {
            let mut slot = self.live.borrow_mut();
            if slot.is_none() {
                let (live, effects) = self.load(room_name)?;
                *slot = Some(live);
                restored = Some(effects);
            }
            match slot.as_mut() {
                Some(live) => f(live),
                None => return Err(worker::Error::RustError("room state unavailable".into())),
            }
        };
        if let Some(effects) = restored {
            self.carry_out(effects);
        }
        Ok(result)
    }

    /// Rebuilds the room from SQLite and the open sockets' attachments.
    fn load(&self, room_name: &str) -> worker::Result<(Live, Effects)> {
        let sql = &self.sql;
        let history = storage::load_history(sql)?;
        let name = storage::get_meta(sql, "room")?.unwrap_or_else(|| room_name.to_string());
        let mut room = Room::new(self.limits.clone(), &name, history);
        let mut sockets = Sockets::default();
        let mut attachments = Vec::new();
        let mut next_conn: ConnId = 1;
        for ws in self.state.get_websockets() {
            match ws.deserialize_attachment::<Attachment>() {
                Ok(Some(attachment)) => {
                    next_conn = next_conn.max(attachment.conn.saturating_add(1));
                    sockets.insert(attachment.conn, ws);
                    attachments.push(attachment);
                }
                _ => {
                    let _ = ws.close(Some(close::INTERNAL), Some("lost connection state"));
                }
            }
        }
        let effects = room.restore(attachments, now_ms());
        let tag = log_tag(&name);
        self.log.log(
            LogLevel::Info,
            &tag,
            "room_loaded",
            serde_json::json!({
                "members": room.member_count(),
                "connections": room.connection_count(),
                "last_id": room.last_id(),
            }),
        );
        Ok((
            Live {
                room,
                tag,
                sockets,
                next_conn,
            },
            effects,
        ))
    }
}

/// The instance's WebAssembly linear memory, in bytes: shared by every room object in this
/// isolate, not this room's own.
fn wasm_memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}
