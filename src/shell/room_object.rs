//! `ChatRoom`, the Durable Object behind each room. It turns runtime events into
//! [`Event`]s for the [`Room`] and carries out the [`Effects`] it returns; it decides nothing.
//!
//! The path of one chat message:
//! 1. [`ChatRoom::websocket_message`]: the frame becomes `Event::Frame` for [`Room::handle`],
//!    which checks it, assigns its id and queues it; the shell schedules a flush.
//! 2. [`Inner::flush`], once the burst of events is handled: [`Room::flush`] stores the burst
//!    through [`SqlStore`] and returns one batch per recipient; the shell sends them.
//!
//! Its HTTP side (the upgrade, history pages, searches, reactions, claims, stats) is in [`http`].
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

mod http;

use super::links::Links;
use super::log::Logger;
use super::now_ms;
use super::sockets::{self, Incoming, Sockets};
use super::storage::{self, RawStorage, SqlStore};
use crate::config::{Limits, LogLevel};
use crate::protocol::close;
use crate::relay::{Relays, Up};
use crate::room::{log_tag, ConnId, Debug, Effects, Event, Room};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{
    web_sys, Env, Response, ScheduledTime, SqlStorage, State, WebSocket, WebSocketPair,
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
    env: Env,
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
    /// `ADDRESS_SEARCHES_PER_MIN`'s buckets.
    searches: RefCell<crate::search::SearchLimit>,
}

/// The room's in-memory state: a cache of the attachments and SQLite. See the module docs.
struct Live {
    room: Room,
    /// How logs name this room.
    tag: String,
    sockets: Sockets,
    /// The links of this room's relays and the connections behind them (`crate::relay`).
    links: Links,
    relays: Relays,
    next_conn: ConnId,
    /// The last id when this state was loaded: ids since are what the stats' sends are per.
    first_id: u64,
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
                env,
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
                searches: RefCell::default(),
            }
        });
        ChatRoom { inner }
    }

    pub async fn fetch(&self, req: web_sys::Request) -> Result<web_sys::Response, JsValue> {
        self.inner
            .serve(req)
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
            match sockets::incoming(&data, self.inner.limits.max_frame_bytes) {
                Incoming::Text(text) => {
                    live.room
                        .handle(Event::Frame { conn, text: &text }, now, &mut store)
                }
                Incoming::Oversized => live.room.handle(Event::Oversized { conn }, now, &mut store),
                Incoming::Binary => live.room.handle(Event::Binary { conn }, now, &mut store),
            }
        })?;
        self.inner.carry_out(effects);
        Ok(())
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
                // A relayed connection has no socket here to attach to: the room stays in memory
                // while a link is open (links are not hibernatable), and a room that restarts
                // closes the links, so the relays' members rejoin (`crate::relay`).
                for (conn, attachment) in &effects.attach {
                    if let Some(ws) = live.sockets.get(*conn) {
                        if let Err(e) = super::sockets::attach(ws, attachment) {
                            // Without its attachment this socket is forgotten on the next wake.
                            self.log.log(
                                LogLevel::Warn,
                                &live.tag,
                                "storage_failure",
                                serde_json::json!({"operation": "attachment", "error": e}),
                            );
                        }
                    }
                }
                for c in &effects.close {
                    if let Some(ws) = live.sockets.get(c.conn) {
                        // Its last words (why it closes) go first: a frame sent after the close
                        // is lost.
                        if let Some(last) = &c.last {
                            let _ = ws.send_with_str(last);
                        }
                        let _ = ws.close(Some(c.code), Some(c.reason));
                    }
                }
                let failed = live.sockets.send(&effects.send);
                let (sent, lost) = live.links.send(&effects.close, &effects.send);
                for k in sent {
                    live.relays.sent(k);
                }
                for line in &effects.logs {
                    self.log.line(&live.tag, line);
                }
                (failed, lost)
            })
            .unwrap_or_default();
        let (failed, lost) = failed;
        for k in lost {
            self.link_lost(k, None);
        }
        // A socket that refuses a send is gone: it leaves like any other.
        self.with_loaded(|live| {
            for &conn in &failed {
                if let Some(ws) = live.sockets.get(conn) {
                    let _ = ws.close(Some(close::NORMAL), Some("send failed"));
                }
                live.sockets.remove(conn);
            }
        });
        self.leave_all(failed, "send failed");
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
        if !effects.delete_files.is_empty() {
            let room_id = self.state.id().to_string();
            super::files::delete_objects(&self.env, room_id, effects.delete_files);
        }
        if effects.reload {
            // Storage refused a write: memory may be ahead of it. Rebuild on the next event.
            self.unload();
        }
        match effects.debug {
            Some(Debug::Reset) => {
                self.flush();
                self.unload();
            }
            Some(Debug::Index { conn, text }) => {
                let answer = super::search::scan(&self.sql, &text).unwrap_or_else(|e| {
                    format!("{{\"type\":\"debug_index\",\"error\":{:?}}}", e.to_string())
                });
                self.with_loaded(|live| {
                    if let Some(ws) = live.sockets.get(conn) {
                        let _ = ws.send_with_str(&answer);
                    }
                });
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

    /// Forgets the live state, to rebuild it from storage on the next event. The relays' links
    /// close with it: the connections behind them live only in memory, so their members rejoin
    /// (their relays close them with 1012) as after a restart.
    fn unload(&self) {
        if let Some(live) = self.live.replace(None) {
            for ws in live.links.sockets() {
                let _ = ws.close(Some(close::RESTART), Some("room reloaded"));
            }
        }
    }

    /// Relay `k` of this room connects its link: accepted without hibernation, so the room stays
    /// in memory with the relayed connections while any link is open.
    fn attach_link(self: &Rc<Self>, room_name: &str, k: u32) -> worker::Result<Response> {
        let pair = WebSocketPair::new()?;
        pair.server.accept()?;
        let (generation, replaced) = self.with_live(room_name, |live| {
            live.relays.detached(k);
            live.links.attach(k, pair.server.clone())
        })?;
        self.leave_all(replaced, "relay reconnected");
        self.watch_link(k, generation, pair.server);
        Response::from_websocket(pair.client)
    }

    /// Reads a link's batches until it closes.
    fn watch_link(self: &Rc<Self>, k: u32, generation: u64, ws: WebSocket) {
        let end = ws.clone();
        worker::wasm_bindgen_futures::spawn_local(super::links::watch(
            ws,
            Rc::downgrade(self),
            move |inner, text| inner.link_batch(k, generation, text),
            move |inner| {
                // Answer the relay's close (an idle relay closes its link): a link left half
                // open would keep this object from hibernating.
                let _ = end.close(Some(close::NORMAL), Some("link closed"));
                inner.link_lost(k, Some(generation))
            },
        ));
    }

    /// One batch from relay `k`: each item is a runtime event of one of its sockets, handled as
    /// the same event of a socket of the room's own.
    fn link_batch(self: &Rc<Self>, k: u32, generation: u64, text: &str) {
        let items: Vec<Up> = match serde_json::from_str(text) {
            Ok(items) => items,
            Err(e) => {
                self.log.log(
                    LogLevel::Warn,
                    "",
                    "relay_batch_refused",
                    serde_json::json!({"relay": k, "error": e.to_string()}),
                );
                return;
            }
        };
        for item in items {
            let now = now_ms();
            let effects = self.step(|live| {
                if !live.links.is_current(k, generation) {
                    return Effects::default();
                }
                let mut store = self.store();
                match item {
                    Up::Open {
                        conn: remote,
                        address,
                    } => {
                        let conn = live.next_conn;
                        live.next_conn = live.next_conn.saturating_add(1);
                        live.links.add(k, remote, conn);
                        live.relays.opened(k);
                        let address = address.as_deref();
                        live.room
                            .handle(Event::Connect { conn, address }, now, &mut store)
                    }
                    Up::Frame { conn, text } => match live.links.conn_of(k, conn) {
                        Some(conn) => {
                            live.room
                                .handle(Event::Frame { conn, text: &text }, now, &mut store)
                        }
                        None => Effects::default(),
                    },
                    Up::Binary { conn } => match live.links.conn_of(k, conn) {
                        Some(conn) => live.room.handle(Event::Binary { conn }, now, &mut store),
                        None => Effects::default(),
                    },
                    Up::Heard { conn } => match live.links.conn_of(k, conn) {
                        Some(conn) => live.room.handle(Event::Heard { conn }, now, &mut store),
                        None => Effects::default(),
                    },
                    Up::TooLarge { conn } => match live.links.conn_of(k, conn) {
                        Some(conn) => live.room.handle(Event::Oversized { conn }, now, &mut store),
                        None => Effects::default(),
                    },
                    Up::Gone { conn, why } => match live.links.remove(k, conn) {
                        Some(conn) => {
                            live.relays.closed(k);
                            let why = sockets::known_reason(&why);
                            live.room.handle(Event::Gone { conn, why }, now, &mut store)
                        }
                        None => Effects::default(),
                    },
                }
            });
            if let Ok(effects) = effects {
                self.carry_out(effects);
            }
        }
    }

    /// Relay `k`'s link closed or failed (the link of `generation`, when given): its members
    /// leave, as if each of their sockets had closed.
    fn link_lost(self: &Rc<Self>, k: u32, generation: Option<u64>) {
        let gone = self
            .with_loaded(|live| {
                let gone = live.links.detach(k, generation);
                if !gone.is_empty() || generation.is_none() {
                    live.relays.detached(k);
                }
                gone
            })
            .unwrap_or_default();
        self.leave_all(gone, "relay lost");
    }

    /// Each of `conns` went away (its socket or its relay's link is already gone): one step each.
    fn leave_all(self: &Rc<Self>, conns: Vec<ConnId>, why: &'static str) {
        for conn in conns {
            let now = now_ms();
            let effects = self.step(|live| {
                live.room
                    .handle(Event::Gone { conn, why }, now, &mut self.store())
            });
            if let Ok(effects) = effects {
                self.carry_out(effects);
            }
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
            match super::sockets::attachment(&ws) {
                Some(attachment) => {
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
                first_id: room.last_id(),
                room,
                tag,
                sockets,
                links: Links::default(),
                relays: Relays::default(),
                next_conn,
            },
            effects,
        ))
    }
}
