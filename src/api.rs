//! The HTTP API's routing as a pure function: method + path + query in, a route or an HTTP error
//! out. The Worker only carries out the result, so every status code is a host unit test.

use crate::validate::{self, PageQuery, RoomName};

/// Where the route's ids stop; defined with the other input bounds (`crate::validate`), kept
/// here for the callers that name it through the API.
pub use crate::validate::MAX_ID;

/// A request the Worker knows how to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /api/rooms`: make a private room.
    CreateRoom,
    /// `GET /api/rooms/{room}/websocket` with `Upgrade: websocket`.
    WebSocket(RoomName),
    /// `GET /api/rooms/{room}/messages?before=&limit=`.
    Messages(RoomName, PageQuery),
    /// `GET /api/rooms/{room}/stats`.
    Stats(RoomName),
    /// `GET /api/rooms/{room}/messages/{id}/reactions`: every name behind a message's reactions
    /// (frames carry a summary: `crate::protocol::summarize`).
    Reactions(RoomName, u64),
    /// `GET /api/rooms/{room}/search?q=&limit=&cursor=&sort=` ([`crate::search`]).
    Search(RoomName, crate::search::SearchRequest),
    /// `PUT /api/rooms/{room}/files/{id}?ticket=`: an upload (`crate::files`).
    FilePut(RoomName, String),
    /// `GET` or `HEAD /api/rooms/{room}/files/{id}`: a download; `true` for `HEAD`.
    FileGet(RoomName, String, bool),
    /// `GET /api/rooms/{room}/files`: the room's objects in R2, with `TEST_HOOKS=1` only.
    DebugFiles(RoomName),
}

/// An HTTP error with its JSON body's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl HttpError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        HttpError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn body(&self) -> String {
        crate::protocol::http_error_body(self.code, &self.message)
    }
}

/// Routes one request under `/api/`. `upgrade` is the request's `Upgrade` header.
///
/// Checks run in the order a client can fix them: unknown path (404), wrong method (405), bad room
/// name (400), bad parameters (400), missing upgrade (426).
pub fn route(
    method: &str,
    path: &str,
    query: &str,
    upgrade: Option<&str>,
) -> Result<Route, HttpError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let (room_segment, action) = match segments.as_slice() {
        ["", "api", "rooms"] => {
            return match method {
                "POST" => Ok(Route::CreateRoom),
                _ => Err(method_not_allowed("POST")),
            }
        }
        ["", "api", "rooms", room, action @ ("websocket" | "messages" | "stats" | "search")] => {
            (*room, *action)
        }
        ["", "api", "rooms", room, "messages", id, "reactions"] => {
            if method != "GET" {
                return Err(method_not_allowed("GET"));
            }
            let room = room_of(room)?;
            let id = id
                .parse::<u64>()
                .ok()
                .filter(|id| (1..=MAX_ID).contains(id))
                .ok_or_else(|| {
                    HttpError::new(400, "bad_request", format!("a message id is 1 to {MAX_ID}"))
                })?;
            return Ok(Route::Reactions(room, id));
        }
        ["", "api", "rooms", room, "files", rest @ ..] => return file_route(method, room, rest),
        _ => return Err(HttpError::new(404, "not_found", "no such API endpoint")),
    };
    if method != "GET" {
        return Err(method_not_allowed("GET"));
    }
    let room = room_of(room_segment)?;
    match action {
        "websocket" => {
            if !upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
                return Err(HttpError::new(
                    426,
                    "upgrade_required",
                    "this endpoint speaks WebSocket: send Upgrade: websocket",
                ));
            }
            Ok(Route::WebSocket(room))
        }
        "messages" => match validate::page_query(query) {
            Ok(page) if page.before.is_some_and(|b| b > MAX_ID) => Err(HttpError::new(
                400,
                "bad_request",
                format!("before must be at most {MAX_ID}"),
            )),
            Ok(page) => Ok(Route::Messages(room, page)),
            Err(why) => Err(HttpError::new(400, "bad_request", why)),
        },
        "search" => crate::search::parse_request(query)
            .map(|search| Route::Search(room, search))
            .map_err(|why| HttpError::new(400, "bad_request", why)),
        _ => Ok(Route::Stats(room)),
    }
}

/// The files endpoints (`crate::files`).
fn file_route(method: &str, room: &str, rest: &[&str]) -> Result<Route, HttpError> {
    match rest {
        [] if method == "GET" => Ok(Route::DebugFiles(room_of(room)?)),
        [] => Err(method_not_allowed("GET")),
        [id] => {
            let room = room_of(room)?;
            if !crate::files::is_file_id(id) {
                return Err(HttpError::new(404, "not_found", "no file has this id"));
            }
            let id = id.to_string();
            match method {
                "PUT" => Ok(Route::FilePut(room, id)),
                "GET" => Ok(Route::FileGet(room, id, false)),
                "HEAD" => Ok(Route::FileGet(room, id, true)),
                _ => Err(method_not_allowed("GET, HEAD, PUT")),
            }
        }
        _ => Err(HttpError::new(404, "not_found", "no such API endpoint")),
    }
}

/// A room name from its path segment, or `400 invalid_room`.
fn room_of(segment: &str) -> Result<RoomName, HttpError> {
    validate::percent_decode(segment)
        .map_err(|why| HttpError::new(400, "invalid_room", why))
        .and_then(|name| {
            validate::room_name(&name).map_err(|why| HttpError::new(400, "invalid_room", why))
        })
}

/// The path and the query (without `?`) of an absolute URL as the runtime serializes it
/// (`Request.url`), split by hand: the `url` crate's parser (and its IDNA tables) cost the Worker
/// ~25 KB of Wasm for what is, on an already-normalized URL, two `find`s.
pub fn split_url(url: &str) -> (&str, &str) {
    let rest = url.find("://").map_or(url, |i| &url[i + 3..]);
    let rest = rest.find('#').map_or(rest, |i| &rest[..i]);
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = before_query.find('/').map_or("/", |i| &before_query[i..]);
    (path, query)
}

/// The value of `key` in a query string (`a=1&b=2`), percent-decoded; `None` when absent or
/// undecodable.
pub fn query_param<'q>(query: &'q str, key: &str) -> Option<std::borrow::Cow<'q, str>> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| validate::percent_decode(v).ok())
}

/// The value of `key` in a query string as it stands (still percent-encoded): for passing a value
/// on in another URL unchanged.
pub fn raw_query_param<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// A WebSocket request's optional `tag`: what a client names itself by so that it reconnects to
/// the same relay of a big room (the browser client sends a digest of its session). Anything
/// but a short token is ignored: the room then hashes the client's address instead.
pub fn session_tag(query: &str) -> Option<&str> {
    raw_query_param(query, "tag").filter(|t| {
        !t.is_empty()
            && t.len() <= 64
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn method_not_allowed(allowed: &str) -> HttpError {
    HttpError::new(
        405,
        "method_not_allowed",
        format!("this endpoint accepts {allowed} only"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(method: &str, path: &str, query: &str, upgrade: Option<&str>) -> u16 {
        match route(method, path, query, upgrade) {
            Ok(_) => 200,
            Err(e) => e.status,
        }
    }

    #[test]
    fn reactions_of_a_message_have_their_own_route() {
        let r = route("GET", "/api/rooms/lobby/messages/42/reactions", "", None);
        assert!(matches!(r, Ok(Route::Reactions(_, 42))), "{r:?}");
        assert_eq!(
            status("POST", "/api/rooms/lobby/messages/42/reactions", "", None),
            405
        );
        for id in ["0", "x", "-1", "9007199254740992", ""] {
            let path = format!("/api/rooms/lobby/messages/{id}/reactions");
            assert_eq!(status("GET", &path, "", None), 400, "{id}");
        }
        assert_eq!(
            status("GET", "/api/rooms/Bad!/messages/1/reactions", "", None),
            400
        );
    }

    #[test]
    fn files_have_their_routes() {
        let id = "0123456789abcdef0123456789abcdef";
        let path = format!("/api/rooms/lobby/files/{id}");
        assert!(matches!(
            route("PUT", &path, "ticket=x", None),
            Ok(Route::FilePut(_, _))
        ));
        assert!(matches!(
            route("GET", &path, "", None),
            Ok(Route::FileGet(_, _, false))
        ));
        assert!(matches!(
            route("HEAD", &path, "", None),
            Ok(Route::FileGet(_, _, true))
        ));
        assert_eq!(status("POST", &path, "", None), 405);
        assert_eq!(status("DELETE", &path, "", None), 405);
        // Not a file id (too short, upper case, a path): no such file.
        for bad in ["abc", "0123456789ABCDEF0123456789ABCDEF", "..%2f..%2fx"] {
            assert_eq!(
                status("GET", &format!("/api/rooms/lobby/files/{bad}"), "", None),
                404
            );
        }
        assert_eq!(
            status("GET", &format!("/api/rooms/Bad!/files/{id}"), "", None),
            400
        );
        assert!(matches!(
            route("GET", "/api/rooms/lobby/files", "", None),
            Ok(Route::DebugFiles(_))
        ));
        assert_eq!(status("GET", &format!("{path}/x"), "", None), 404);
    }

    #[test]
    fn splits_urls() {
        assert_eq!(split_url("https://h/api/rooms?x=1"), ("/api/rooms", "x=1"));
        assert_eq!(split_url("https://h:8787/a/b"), ("/a/b", ""));
        assert_eq!(split_url("https://h"), ("/", ""));
        assert_eq!(split_url("https://h?q=1#f"), ("/", "q=1"));
        assert_eq!(split_url("https://h/p#f?x"), ("/p", ""));
        assert_eq!(
            split_url("https://room/claim?room=a&owner=ff"),
            ("/claim", "room=a&owner=ff")
        );
        assert_eq!(
            query_param("room=a&owner=ff", "owner").as_deref(),
            Some("ff")
        );
        assert_eq!(
            query_param("room=caf%C3%A9", "room").as_deref(),
            Some("café")
        );
        assert_eq!(query_param("room=a", "owner"), None);
    }

    #[test]
    fn websocket_route() {
        assert_eq!(
            route(
                "GET",
                "/api/rooms/%20Lobby%20/websocket",
                "",
                Some("WebSocket")
            ),
            Ok(Route::WebSocket(RoomName::Public("lobby".into())))
        );
        assert_eq!(status("GET", "/api/rooms/lobby/websocket", "", None), 426);
        assert_eq!(
            status("GET", "/api/rooms/lobby/websocket", "", Some("h2c")),
            426
        );
        // A bad room is reported before a missing upgrade.
        let err = route("GET", "/api/rooms/a%20b/websocket", "", None).unwrap_err();
        assert_eq!((err.status, err.code), (400, "invalid_room"));
        assert_eq!(
            status("GET", "/api/rooms/%zz/websocket", "", Some("websocket")),
            400
        );
        assert_eq!(
            status("POST", "/api/rooms/lobby/websocket", "", Some("websocket")),
            405
        );
    }

    #[test]
    fn create_room_route() {
        assert_eq!(route("POST", "/api/rooms", "", None), Ok(Route::CreateRoom));
        assert_eq!(
            route("POST", "/api/rooms/", "", None),
            Ok(Route::CreateRoom)
        );
        assert_eq!(status("GET", "/api/rooms", "", None), 405);
    }

    #[test]
    fn messages_and_stats_routes() {
        assert_eq!(
            route("GET", "/api/rooms/lobby/messages", "before=5&limit=2", None),
            Ok(Route::Messages(
                RoomName::Public("lobby".into()),
                PageQuery {
                    before: Some(5),
                    after: None,
                    limit: 2
                }
            ))
        );
        let err = route("GET", "/api/rooms/lobby/messages", "limit=500", None).unwrap_err();
        assert_eq!((err.status, err.code), (400, "bad_request"));
        for before in ["9999999999999999999", "9007199254740992"] {
            let query = format!("before={before}");
            let err = route("GET", "/api/rooms/lobby/messages", &query, None).unwrap_err();
            assert_eq!((err.status, err.code), (400, "bad_request"), "{before}");
        }
        assert!(route(
            "GET",
            "/api/rooms/lobby/messages",
            "before=9007199254740991",
            None
        )
        .is_ok());
        assert_eq!(
            route("GET", "/api/rooms/lobby/stats", "", None),
            Ok(Route::Stats(RoomName::Public("lobby".into())))
        );
    }

    #[test]
    fn search_route() {
        assert!(matches!(
            route("GET", "/api/rooms/lobby/search", "q=hello&limit=5", None),
            Ok(Route::Search(RoomName::Public(_), s)) if s.limit == 5
        ));
        for query in ["", "q=", "q=%22open", "q=*", "q=a&limit=51", "q=a%20OR%20b"] {
            let err = route("GET", "/api/rooms/lobby/search", query, None).unwrap_err();
            assert_eq!((err.status, err.code), (400, "bad_request"), "{query}");
        }
        assert_eq!(status("POST", "/api/rooms/lobby/search", "q=a", None), 405);
        assert_eq!(status("GET", "/api/rooms/a%20b/search", "q=a", None), 400);
    }

    #[test]
    fn session_tags_are_short_tokens() {
        assert_eq!(session_tag("tag=ab12-_Z"), Some("ab12-_Z"));
        assert_eq!(session_tag("x=1&tag=abc"), Some("abc"));
        assert_eq!(session_tag("tag="), None);
        assert_eq!(session_tag("tag=a%20b"), None);
        assert_eq!(session_tag(&format!("tag={}", "a".repeat(65))), None);
        assert_eq!(raw_query_param("room=a%20b&k=1", "room"), Some("a%20b"));
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in [
            "/api",
            "/api/",
            "/api/nope",
            "/api/rooms/lobby",
            "/api/rooms/lobby/x",
            "/api/rooms/a/b/stats",
        ] {
            assert_eq!(status("GET", path, "", None), 404, "{path}");
        }
    }

    #[test]
    fn error_bodies_are_json() {
        let err = route("GET", "/api/rooms/!/stats", "", None).unwrap_err();
        let v: serde_json::Value = serde_json::from_str(&err.body()).unwrap();
        assert_eq!(v["error"]["code"], "invalid_room");
    }
}
