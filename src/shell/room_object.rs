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

use super::links::Links;
use super::log::Logger;
use super::sockets::{self, Incoming, Sockets};
use super::storage::{self, RawStorage, SqlStore};
use super::{now_ms, router};
use crate::config::{Limits, LogLevel};
use crate::protocol::{close, to_json};
use crate::relay::{Relays, Route, Up};
use crate::room::{log_tag, ConnId, Debug, Effects, Event, Room, Store};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use worker::worker_sys::DurableObjectState;
use worker::{
    web_sys, Env, Response, ScheduledTime, SqlStorage, State, WebSocket, WebSocketPair,
    WebSocketRequestResponsePair,
};

/// The header by which the room object tells the Worker to take a socket to relay `k` instead.
pub const RELAY_HEADER: &str = "X-Chatterly-Relay";

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
    /// The room's HTTP side: the WebSocket upgrade, history pages and stats.
    ///
    /// The runtime's request as it is: `worker::Request::from` reads its method, URL, headers
    /// and `cf` object up front (the `cf` getter alone was ~3 % of a join storm's CPU), and the
    /// room needs only the URL and one header.
    async fn serve(self: &Rc<Self>, req: web_sys::Request) -> worker::Result<Response> {
        let url = req.url();
        let (path, query) = crate::api::split_url(&url);
        // The Worker validated everything it forwards (`crate::api`).
        let param = |key| crate::api::query_param(query, key);
        let room_name = param("room").unwrap_or_default().into_owned();
        let owner_hash = param("owner").map(|v| v.into_owned());
        let owner_sub = param("owner_sub").map(|v| v.into_owned());
        match path {
            "/websocket" => {
                // A socket is what creates a room; reads never do. Once per instance: a crowd
                // arriving should not cost a schema check and a read per socket.
                if !self.tables.get() {
                    storage::init(&self.sql)?;
                    super::search::init(&self.sql, self.limits.search_index)?;
                    if storage::get_meta(&self.sql, "room")?.is_none() && !room_name.is_empty() {
                        storage::set_meta(&self.sql, "room", &room_name)?;
                    }
                    self.tables.set(true);
                }
                let address = req.headers().get("CF-Connecting-IP").ok().flatten();
                // Past the threshold the socket goes to a relay: the Worker takes it there.
                let tag = crate::api::session_tag(query)
                    .map(str::to_string)
                    .or(address.clone());
                let route = self.with_live(&room_name, |live| {
                    let now = now_ms();
                    live.relays.route(
                        live.room.member_count() + live.room.joining(now),
                        self.limits.relay_threshold,
                        self.limits.relay_members,
                        tag.as_deref().unwrap_or(""),
                        now,
                    )
                })?;
                if let Route::Relay(k) = route {
                    let mut response = router::json_ok(&format!("{{\"relay\":{k}}}"))?;
                    response.headers_mut().set(RELAY_HEADER, &k.to_string())?;
                    return Ok(response);
                }
                self.accept(&room_name, address.as_deref())
            }
            "/messages" => {
                let query = crate::validate::page_query(query).map_err(worker::Error::RustError)?;
                let messages = storage::page(&self.sql, &query)?;
                // Changes after `after` were deleted by `CHANGES_CAP`: this log is not the whole
                // story any more, and the client should take the messages' current state.
                let floor = storage::get_meta(&self.sql, storage::CHANGES_FLOOR)?
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                let messages: Vec<_> = messages.iter().map(|e| e.out()).collect();
                let mut body = serde_json::json!({ "messages": messages });
                if query.after.is_some_and(|after| after < floor) {
                    body["truncated"] = serde_json::Value::Bool(true);
                }
                router::json_ok(&to_json(&body))
            }
            "/search" if !self.limits.search_index => router::json_status(
                404,
                &crate::protocol::http_error_body(
                    "not_found",
                    "search is off here (SEARCH_INDEX=0)",
                ),
            ),
            "/search" => match crate::search::parse_request(query) {
                Err(why) => bad_request(&why),
                Ok(request) => {
                    let address = req.headers().get("CF-Connecting-IP").ok().flatten();
                    let per_min = self.limits.address_searches_per_min;
                    let taken =
                        self.searches
                            .borrow_mut()
                            .take(address.as_deref(), now_ms(), per_min);
                    if let Err(wait) = taken {
                        return router::too_many(
                            wait,
                            "too many searches from your network; try again soon",
                        )
                        .map_err(|e| worker::Error::RustError(e.message));
                    }
                    match super::search::run(&self.sql, &request)? {
                        Ok(body) => router::json_ok(&body),
                        Err(why) => {
                            self.log.log(
                                LogLevel::Warn,
                                "",
                                "search_refused",
                                serde_json::json!({"error": why}),
                            );
                            bad_request("the index could not run this query")
                        }
                    }
                }
            },
            // A new private room: the Worker hands over the digest of its owner key, once.
            "/claim" => {
                // Not `tables`: that flag also means the room's name is stored, which only a
                // socket's request carries.
                storage::init(&self.sql)?;
                if let (Some(hash), None) = (owner_hash, storage::get_meta(&self.sql, "owner")?) {
                    storage::set_meta(&self.sql, "owner", &hash)?;
                    // The sub whose bearer token made the room (`crate::token::may_create`).
                    if let Some(identity) = owner_sub {
                        storage::set_meta(&self.sql, "owner_sub", &identity)?;
                    }
                }
                router::json_ok("{}")
            }
            // A relay of this room (re)connects its link.
            "/relay" => {
                let k = param("k")
                    .and_then(|k| k.parse::<u32>().ok())
                    .ok_or_else(|| worker::Error::RustError("relay without k".into()))?;
                self.attach_link(&room_name, k)
            }
            "/stats" => self.stats(&room_name).await,
            // A `PUT` of a file: its ticket checked and used up, then what R2 stored.
            "/file_claim" => super::files::claim(&mut self.store(), &room_name, query, now_ms()),
            "/file_done" => super::files::complete(&mut self.store(), query),
            // Every name behind a message's reactions (frames and pages carry a summary).
            "/reactions" => {
                let id = param("id").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                let found = match storage::exists(&self.sql)? {
                    true => self
                        .store()
                        .posted(id)
                        .map_err(|e| worker::Error::RustError(e.0))?,
                    false => None,
                };
                match found.filter(|p| !p.message.deleted) {
                    Some(p) => router::json_ok(&to_json(&serde_json::json!({
                        "id": id,
                        "reactions": p.message.reactions,
                    }))),
                    None => router::json_error(404, "not_found", "no message has that id"),
                }
            }
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

    async fn stats(self: &Rc<Self>, room_name: &str) -> worker::Result<Response> {
        let (mut body, loads) = self.with_live(room_name, |live| {
            let entries = live.room.last_id().saturating_sub(live.first_id);
            let loads: Vec<(u32, usize, u64)> = live.relays.loads().collect();
            let batches: u64 = loads.iter().map(|l| l.2).sum();
            let body = serde_json::json!({
                "room": live.room.name(),
                "members": live.room.member_count(),
                "connections": live.room.connection_count(),
                "messages_stored": live.room.stored_count(),
                "last_message_id": live.room.last_id(),
                "memory_bytes": wasm_memory_bytes(),
                "started_at": self.started_at,
                "sends": live.sockets.sent() + batches,
                "sends_per_message": per(live.sockets.sent() + batches, entries),
            });
            (body, (loads, entries))
        })?;
        let (loads, entries) = loads;
        // Each relay counts its own sends; asked in turn (stats are rare, relays few).
        let mut relays = Vec::new();
        for (k, sockets, batches) in loads {
            let relay_sends = self.relay_sends(k).await;
            relays.push(serde_json::json!({
                "relay": k,
                "connections": sockets,
                "batches": batches,
                "sends": relay_sends,
                "sends_per_message": relay_sends.map(|s| per(s, entries)),
            }));
        }
        body["relays"] = serde_json::Value::Array(relays);
        router::json_ok(&to_json(&body))
    }

    /// How many frames relay `k` sent its members since it started, if it answers.
    async fn relay_sends(&self, k: u32) -> Option<u64> {
        let stub = self
            .env
            .durable_object(super::RELAYS)
            .ok()?
            .id_from_name(&super::relay_name(&self.state.id().to_string(), k))
            .ok()?
            .get_stub()
            .ok()?;
        let response = stub.fetch_with_str("https://relay/stats").await.ok()?;
        let stats = super::body_json(response).await.ok()?;
        stats["sends"].as_u64()
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

/// A `400 bad_request` answer with the protocol's error body.
fn bad_request(why: &str) -> worker::Result<Response> {
    router::json_status(400, &crate::protocol::http_error_body("bad_request", why))
}

/// Sends per message id (messages and changes share the sequence), to two decimals.
fn per(sends: u64, entries: u64) -> Option<f64> {
    (entries > 0).then(|| (sends as f64 / entries as f64 * 100.0).round() / 100.0)
}

/// The instance's WebAssembly linear memory, in bytes: shared by every room object in this
/// isolate, not this room's own.
fn wasm_memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}
