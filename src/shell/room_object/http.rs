//! The room object's HTTP side: the WebSocket upgrade (or the way to a relay), history pages,
//! searches, a message's reactions, an owner's claim, file uploads' bookkeeping and stats. The
//! Worker validated everything it forwards (`crate::api`); each answer is read from SQLite or
//! the live room, and only a socket's request creates a room.

use super::Inner;
use crate::config::LogLevel;
use crate::protocol::to_json;
use crate::relay::Route;
use crate::room::Store;
use crate::shell::{self, answers, now_ms, storage, RELAY_HEADER};
use std::rc::Rc;
use worker::{web_sys, Response};

impl Inner {
    /// The room's HTTP side: the WebSocket upgrade, history pages and stats.
    ///
    /// The runtime's request as it is: `worker::Request::from` reads its method, URL, headers
    /// and `cf` object up front (the `cf` getter alone was ~3 % of a join storm's CPU), and the
    /// room needs only the URL and one header.
    pub(super) async fn serve(self: &Rc<Self>, req: web_sys::Request) -> worker::Result<Response> {
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
                    self.make_tables()?;
                    shell::search::init(&self.sql, self.limits.search_index)?;
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
                        live.room.member_count()
                            + live
                                .room
                                .joining(now.saturating_sub(crate::relay::ARRIVING_MS)),
                        self.limits.relay_threshold,
                        self.limits.relay_members,
                        tag.as_deref().unwrap_or(""),
                        now,
                    )
                })?;
                if let Route::Relay(k) = route {
                    let mut response = answers::json_ok(&format!("{{\"relay\":{k}}}"))?;
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
                answers::json_ok(&to_json(&body))
            }
            "/search" if !self.limits.search_index => {
                answers::json_error(404, "not_found", "search is off here (SEARCH_INDEX=0)")
            }
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
                        return answers::too_many(
                            wait,
                            "too many searches from your network; try again soon",
                        )
                        .map_err(|e| worker::Error::RustError(e.message));
                    }
                    match shell::search::run(&self.sql, &request)? {
                        Ok(body) => answers::json_ok(&body),
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
                self.make_tables()?;
                if let (Some(hash), None) = (owner_hash, storage::get_meta(&self.sql, "owner")?) {
                    storage::set_meta(&self.sql, "owner", &hash)?;
                    // The sub whose bearer token made the room (`crate::token::may_create`).
                    if let Some(identity) = owner_sub {
                        storage::set_meta(&self.sql, "owner_sub", &identity)?;
                    }
                }
                answers::json_ok("{}")
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
            "/file_claim" => shell::files::claim(&mut self.store(), &room_name, query, now_ms()),
            "/file_done" => shell::files::complete(&mut self.store(), query),
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
                    Some(p) => answers::json_ok(&to_json(&serde_json::json!({
                        "id": id,
                        "reactions": p.message.reactions,
                    }))),
                    None => answers::json_error(404, "not_found", "no message has that id"),
                }
            }
            _ => Response::error("not found", 404),
        }
    }

    /// The log's tables and the files' (each `CREATE … IF NOT EXISTS`).
    fn make_tables(&self) -> worker::Result<()> {
        storage::init(&self.sql)?;
        shell::files::init(&self.sql)
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
        answers::json_ok(&to_json(&body))
    }

    /// How many frames relay `k` sent its members since it started, if it answers.
    async fn relay_sends(&self, k: u32) -> Option<u64> {
        let stub = self
            .env
            .durable_object(shell::RELAYS)
            .ok()?
            .id_from_name(&shell::relay_name(&self.state.id().to_string(), k))
            .ok()?
            .get_stub()
            .ok()?;
        let response = stub.fetch_with_str("https://relay/stats").await.ok()?;
        let stats = shell::body_json(response).await.ok()?;
        stats["sends"].as_u64()
    }
}

/// A `400 bad_request` answer with the protocol's error body.
fn bad_request(why: &str) -> worker::Result<Response> {
    answers::json_error(400, "bad_request", why)
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
