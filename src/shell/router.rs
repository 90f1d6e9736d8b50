//! The Worker's front door: routes `/api/*` (see [`crate::api::route`]) to the room objects.
//! Static files never get here: wrangler's `[assets]` serves `public/` and runs this Worker only for
//! `/api/*`.

use super::answers::{error_response, internal, json_response, too_many};
use super::{now_ms, random_hex, relay_name, ADDRESSES, RELAYS, RELAY_HEADER, ROOMS};
use crate::api::{self, HttpError, Route};
use crate::config::Limits;
use crate::validate::RoomName;
use crate::{cors, token};
use worker::{event, Context, Env, Headers, Request, Response, Stub};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    // Which pages may use the API (`crate::cors`), decided before anything else.
    let url = req.inner().url();
    let origin = req.headers().get("Origin").ok().flatten();
    let upgrade = req.headers().get("Upgrade").ok().flatten();
    let upgrade = upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket"));
    let origins = cors::Origins::parse(var(&env, "ALLOWED_ORIGINS").as_deref());
    let method = req.method().to_string();
    let own = cors::origin_of(&url);
    let (response, headers) = match cors::decide(&origins, &method, origin.as_deref(), upgrade, own)
    {
        cors::Decision::Preflight(headers) => {
            (Response::empty().map(|r| r.with_status(204)), headers)
        }
        cors::Decision::Refuse(error, headers) => (error_response(&error), headers),
        cors::Decision::Serve(headers) => {
            let response = match handle(req, &env).await {
                Ok(response) => Ok(response),
                Err(error) => error_response(&error),
            };
            (response, headers)
        }
    };
    response.map(|r| with_headers(r, &headers))
}

/// `response` with `extra` headers added. A fetched response's headers are immutable, so they are
/// copied into a new set; an upgrade's answer (101) goes as it is (CORS does not apply to it).
fn with_headers(response: Response, extra: &[(&'static str, String)]) -> Response {
    if response.status_code() == 101 {
        return response;
    }
    let headers = Headers::new();
    for (name, value) in response.headers().entries() {
        let _ = headers.set(&name, &value);
    }
    for (name, value) in extra {
        let _ = headers.set(name, value);
    }
    response.with_headers(headers)
}

/// A var or a secret of the Worker.
fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .or_else(|_| env.secret(name))
        .ok()
        .map(|v| v.to_string())
}

async fn handle(req: Request, env: &Env) -> Result<Response, HttpError> {
    let url = req.inner().url();
    let (path, query) = api::split_url(&url);
    let upgrade = req.headers().get("Upgrade").ok().flatten();
    let route = api::route(req.method().as_ref(), path, query, upgrade.as_deref())?;
    let rooms = env.durable_object(ROOMS).map_err(internal)?;
    match route {
        Route::CreateRoom => {
            // Under JOIN_TOKENS=required only an app's user with a `create` token makes rooms,
            // and becomes their first owner. Checked before the address's quota, so refused
            // requests do not spend it.
            let tokens = Limits::from_vars(|name| var(env, name)).tokens;
            let authorization = req.headers().get("Authorization").ok().flatten();
            let maker = token::may_create(authorization.as_deref(), &tokens, now_ms())?;
            if let Some(wait_ms) = creation_wait(&req, env).await? {
                return rate_limited(wait_ms);
            }
            // A fresh random id: unguessable, and listed nowhere.
            let id = rooms.unique_id().map_err(internal)?.to_string();
            // The owner key is shown once, here; the room keeps only its digest.
            let owner_key = random_hex(32).map_err(internal)?;
            let room = RoomName::Private(id.clone());
            let (_, stub) = room_stub(env, &room)?;
            let mut query = format!("&owner={}", crate::digest::digest(&owner_key));
            if let Some(identity) = maker {
                query.push_str(&format!("&owner_sub={identity}"));
            }
            let claim = room_request(&room, "claim", &query, None)?;
            let claimed = stub.fetch_with_request(claim).await.map_err(internal)?;
            if claimed.status_code() != 200 {
                return Err(internal(worker::Error::RustError("claim failed".into())));
            }
            // Both are hex: no escaping (a JSON value built for two strings costs Wasm).
            let body = format!(r#"{{"room":"{id}","owner_key":"{owner_key}"}}"#);
            json_response(201, &body)
        }
        Route::WebSocket(room) => {
            let (room_id, stub) = room_stub(env, &room)?;
            // Hand the upgrade itself to the room: its response carries the client socket...
            let tag = api::session_tag(query).map_or(String::new(), |t| format!("&tag={t}"));
            let forwarded = room_request(&room, "websocket", &tag, Some(req.headers()))?;
            let response = stub.fetch_with_request(forwarded).await.map_err(internal)?;
            // ...unless the room is big and names one of its relays to hold it (`crate::relay`).
            let relay = response.headers().get(RELAY_HEADER).ok().flatten();
            let Some(k) = relay.and_then(|k| k.parse::<u32>().ok()) else {
                return Ok(response);
            };
            let relays = env.durable_object(RELAYS).map_err(internal)?;
            let stub = relays
                .id_from_name(&relay_name(&room_id, k))
                .and_then(|id| id.get_stub())
                .map_err(internal)?;
            let url = format!(
                "https://relay/websocket?room={}&room_id={room_id}&k={k}",
                room.as_str()
            );
            let forwarded = super::get_request(&url, Some(req.headers())).map_err(internal)?;
            stub.fetch_with_request(forwarded).await.map_err(internal)
        }
        Route::Messages(room, page) => {
            let (_, stub) = room_stub(env, &room)?;
            let mut query = format!("&limit={}", page.limit);
            if let Some(before) = page.before {
                query.push_str(&format!("&before={before}"));
            }
            if let Some(after) = page.after {
                query.push_str(&format!("&after={after}"));
            }
            let forwarded = room_request(&room, "messages", &query, None)?;
            stub.fetch_with_request(forwarded).await.map_err(internal)
        }
        Route::Reactions(room, id) => {
            let (_, stub) = room_stub(env, &room)?;
            let forwarded = room_request(&room, "reactions", &format!("&id={id}"), None)?;
            stub.fetch_with_request(forwarded).await.map_err(internal)
        }
        Route::Search(room, _) => {
            // Checked above; the room object parses the same parameters again, still encoded.
            let mut forwarded_query = String::new();
            for key in ["q", "limit", "cursor", "sort"] {
                if let Some(value) = api::raw_query_param(query, key) {
                    forwarded_query.push_str(&format!("&{key}={value}"));
                }
            }
            let (_, stub) = room_stub(env, &room)?;
            // With the client's headers: the room limits searches per address.
            let forwarded = room_request(&room, "search", &forwarded_query, Some(req.headers()))?;
            stub.fetch_with_request(forwarded).await.map_err(internal)
        }
        Route::Stats(room) => {
            let (_, stub) = room_stub(env, &room)?;
            let forwarded = room_request(&room, "stats", "", None)?;
            stub.fetch_with_request(forwarded).await.map_err(internal)
        }
        // Pictures and files (`crate::files`, `super::files`).
        Route::FilePut(room, id) => {
            let (room_id, stub) = room_stub(env, &room)?;
            let ask = |action: &str, q: &str| room_request(&room, action, q, None);
            super::files::put(&req, env, &stub, ask, &room_id, &id, query).await
        }
        Route::FileGet(room, id, head) => {
            let (room_id, _) = room_stub(env, &room)?;
            super::files::get(&req, env, &room_id, &id, head).await
        }
        Route::DebugFiles(room) if Limits::from_vars(|name| var(env, name)).test_hooks => {
            let (room_id, _) = room_stub(env, &room)?;
            super::files::list(env, &room_id).await
        }
        Route::DebugFiles(_) => Err(HttpError::new(404, "not_found", "no such API endpoint")),
    }
}

/// `ADDRESS_ROOMS_PER_HOUR`: how long the client's address must wait before it may make another
/// room, or `None` when it may now (one room is taken from its allowance). Asked of the
/// address's own `AddressQuota` object (`crate::creation` says why there). A request without an
/// address (not through Cloudflare's edge) is not limited.
async fn creation_wait(req: &Request, env: &Env) -> Result<Option<u64>, HttpError> {
    let per_hour =
        crate::config::Limits::from_vars(|name| env.var(name).ok().map(|v| v.to_string()))
            .address_rooms_per_hour;
    let address = req.headers().get("CF-Connecting-IP").ok().flatten();
    let (Some(address), true) = (address, per_hour > 0) else {
        return Ok(None);
    };
    let name = crate::digest::digest(&crate::address::key(&address));
    let stub = env
        .durable_object(ADDRESSES)
        .map_err(internal)?
        .id_from_name(&name)
        .and_then(|id| id.get_stub())
        .map_err(internal)?;
    let url = format!("https://address/take?per_hour={per_hour}");
    let response = stub.fetch_with_str(&url).await.map_err(internal)?;
    if response.status_code() != 429 {
        return Ok(None);
    }
    let body = super::body_json(response).await.map_err(internal)?;
    Ok(Some(body["retry_after_ms"].as_u64().unwrap_or(1000)))
}

/// `429 rate_limited` with `Retry-After` (seconds).
fn rate_limited(wait_ms: u64) -> Result<Response, HttpError> {
    too_many(
        wait_ms,
        "too many rooms made from your network; try again later",
    )
}

/// The room's object and its id: named rooms by name, private rooms by the id `POST /api/rooms`
/// gave out.
fn room_stub(env: &Env, room: &RoomName) -> Result<(String, Stub), HttpError> {
    let rooms = env.durable_object(ROOMS).map_err(internal)?;
    let id = match room {
        RoomName::Public(name) => rooms.id_from_name(name).map_err(internal)?,
        // A 64-hex string that this namespace did not make is refused by the runtime.
        RoomName::Private(hex) => rooms
            .id_from_string(hex)
            .map_err(|_| HttpError::new(400, "invalid_room", "no private room has this id"))?,
    };
    Ok((id.to_string(), id.get_stub().map_err(internal)?))
}

/// The request the room object sees: the action, the room's display name (an object cannot
/// learn the name it was addressed by) and already-validated parameters.
fn room_request(
    room: &RoomName,
    action: &str,
    query: &str,
    headers: Option<&Headers>,
) -> Result<Request, HttpError> {
    let url = format!("https://room/{action}?room={}{query}", room.as_str());
    super::get_request(&url, headers).map_err(internal)
}
