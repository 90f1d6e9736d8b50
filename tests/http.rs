//! HTTP surface of docs/protocol.md: static client, routing, room names, private rooms, history
//! pages. One `wrangler dev` shared by every test here; each test uses its own rooms.

mod common;

use std::sync::OnceLock;

use common::*;

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[])
}

#[tokio::test]
async fn root_serves_the_client_html() {
    let s = server();
    let r = http("GET", s.url("/")).await;
    assert_eq!(r.status, 200);
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/html"), "content-type {ct:?}");
    assert!(
        r.body.to_ascii_lowercase().contains("<html"),
        "GET / is not an HTML page: {}",
        clip(&r.body)
    );
}

/// "GET / (and other static paths): the client from public/": every file is served as is.
#[tokio::test]
async fn every_public_file_is_served_as_is() {
    let s = server();
    let public = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public");
    let files = files_under(&public);
    assert!(!files.is_empty());
    for f in files {
        let rel = f
            .strip_prefix(&public)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if rel.starts_with('_') {
            continue; // _headers / _redirects configure the asset server; they are not content
        }
        let path = if rel == "index.html" {
            "/".to_string()
        } else {
            format!("/{rel}")
        };
        let r = tokio::task::spawn_blocking({
            let url = s.url(&path);
            move || minreq::get(url).with_timeout(30).send().unwrap()
        })
        .await
        .unwrap();
        assert_eq!(r.status_code, 200, "GET {path}");
        assert_eq!(
            r.as_bytes(),
            std::fs::read(&f).unwrap().as_slice(),
            "GET {path} differs from {}",
            f.display()
        );
        let ct = r.header("content-type").unwrap_or_default().to_string();
        let want = match f.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html",
            Some("js") | Some("mjs") => "javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            _ => "",
        };
        assert!(
            ct.contains(want),
            "GET {path}: content-type {ct:?}, want {want}"
        );
    }
}

#[tokio::test]
async fn unknown_static_file_is_404() {
    let s = server();
    let r = http("GET", s.url("/no-such-file-8d1f.js")).await;
    assert_eq!(r.status, 404, "{}", clip(&r.body));
}

#[tokio::test]
async fn websocket_route_without_upgrade_is_426() {
    let s = server();
    let (st, v) = get_json(s, "/api/rooms/lobby/websocket").await;
    assert_http_error(st, &v, 426, "upgrade_required");
}

/// Every way a room name can be invalid, on every route that takes one.
#[tokio::test]
async fn invalid_room_names_are_400_invalid_room() {
    let s = server();
    let bad: Vec<String> = vec![
        "a".repeat(33),     // too long
        "a!b".into(),       // bad char
        "a.b".into(),       // bad char
        "a%20b".into(),     // inner space survives trimming
        "caf%C3%A9".into(), // non-ASCII
        "a%2Fb".into(),     // encoded slash
        "%20%20".into(),    // empty after trimming
        "ab%00".into(),     // NUL
        "f".repeat(63),     // 63 hex: neither a public name nor an id
        "f".repeat(65),     // 65 hex
        "0".repeat(64),     // 64 hex that no `unique_id` made
        "0123456789abcdef".repeat(4),
    ];
    for room in &bad {
        for route in ["stats", "messages"] {
            let (st, v) = get_json(s, &format!("/api/rooms/{room}/{route}")).await;
            assert_http_error(st, &v, 400, "invalid_room");
        }
        // The upgrade itself is refused with the JSON error.
        match try_connect(s, room).await {
            Ok(_) => panic!("upgrade to invalid room {room:?} was accepted"),
            Err(r) => assert_eq!(r.status, 400, "upgrade to {room:?}: {}", r.body),
        }
        let r = upgrade_request(s, room).await;
        assert_http_error(r.status, &r.json(), 400, "invalid_room");
    }
}

/// `/api/rooms//websocket` (an empty segment): invalid_room, or not_found if the router never
/// matches an empty segment. Either way a JSON error, never a hang or a 500.
#[tokio::test]
async fn empty_room_segment_is_a_json_error() {
    let s = server();
    for route in ["websocket", "stats", "messages"] {
        let (st, v) = get_json(s, &format!("/api/rooms//{route}")).await;
        if st == 404 {
            assert_http_error(st, &v, 404, "not_found");
        } else {
            assert_http_error(st, &v, 400, "invalid_room");
        }
    }
}

/// The longest valid name and all allowed characters work.
#[tokio::test]
async fn valid_room_name_edges_are_accepted() {
    let s = server();
    let long = "z".repeat(32);
    for room in [long.as_str(), "a", "a-b_c-9", "0"] {
        let st = stats(s, room).await;
        assert_eq!(st["room"], room, "{st}");
        let (mut c, w) = join(s, room, "edge").await;
        assert_eq!(w["room"], room);
        c.say("ok").await;
    }
}

#[tokio::test]
async fn room_names_are_trimmed_and_lowercased() {
    let s = server();
    let room = uniq("trim");
    let upper = room.to_uppercase();
    let spaced = format!("%20{upper}%20%20");
    let (mut a, wa) = join(s, &spaced, "Alice").await;
    assert_eq!(
        wa["room"],
        room.as_str(),
        "welcome.room is the canonical name"
    );
    let (mut b, wb) = join(s, &room, "Bob").await;
    assert_eq!(wb["room"], room.as_str());
    assert_eq!(members(&wb), ["Alice", "Bob"]);
    assert_join_frame(&a.expect("join").await, "Bob");
    let m = b.say("hello from lowercase").await;
    assert_eq!(a.expect("message").await, m);
    let m = a.say("hello from spaced uppercase").await;
    assert_eq!(b.expect("message").await, m);
    let st = stats(s, &format!("%20{upper}")).await;
    assert_eq!(st["room"], room.as_str());
    assert_eq!(st["members"], 2);
}

#[tokio::test]
async fn post_rooms_makes_distinct_private_rooms_that_work() {
    let s = server();
    let (st1, v1) = post_json(s, "/api/rooms").await;
    let (st2, v2) = post_json(s, "/api/rooms").await;
    assert_eq!(st1, 201, "{v1}");
    assert_eq!(st2, 201, "{v2}");
    let id1 = v1["room"].as_str().unwrap().to_string();
    let id2 = v2["room"].as_str().unwrap().to_string();
    for id in [&id1, &id2] {
        assert_eq!(id.len(), 64, "{id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "not lowercase hex: {id}"
        );
    }
    assert_ne!(id1, id2);

    let (mut a, w) = join(s, &id1, "Alice").await;
    assert_eq!(w["room"], id1.as_str());
    assert_eq!(w["last_id"], 0);
    let (mut b, _) = join(s, &id1, "Bob").await;
    assert_join_frame(&a.expect("join").await, "Bob");
    let m = a.say("private hello").await;
    assert_eq!(b.expect("message").await, m);
    let st = stats(s, &id1).await;
    assert_eq!(st["room"], id1.as_str());
    assert_eq!(st["members"], 2);
    assert_eq!(st["messages_stored"], 1);
    let page = history_page(s, &id1, "").await;
    assert_eq!(page.len(), 1);
    // The other private room is a different room.
    let st2 = stats(s, &id2).await;
    assert_eq!(st2["members"], 0);
    assert_eq!(st2["messages_stored"], 0);
    assert!(history_page(s, &id2, "").await.is_empty());

    // An id with one hex digit changed is not an id this namespace made.
    let mut forged: Vec<char> = id1.chars().collect();
    forged[63] = if forged[63] == '0' { '1' } else { '0' };
    let forged: String = forged.into_iter().collect();
    let (st, v) = get_json(s, &format!("/api/rooms/{forged}/stats")).await;
    assert_http_error(st, &v, 400, "invalid_room");
}

#[tokio::test]
async fn unknown_api_paths_are_404_not_found() {
    let s = server();
    for p in [
        "/api/nope",
        "/api/rooms/lobby",
        "/api/rooms/lobby/nope",
        "/api/rooms/lobby/websocket/extra",
        "/api/roomz/lobby/stats",
    ] {
        let (st, v) = get_json(s, p).await;
        assert_http_error(st, &v, 404, "not_found");
    }
}

#[tokio::test]
async fn wrong_method_on_known_paths_is_405() {
    let s = server();
    for (m, p) in [
        ("GET", "/api/rooms"),
        ("DELETE", "/api/rooms"),
        ("POST", "/api/rooms/lobby/stats"),
        ("PUT", "/api/rooms/lobby/messages"),
        ("DELETE", "/api/rooms/lobby/messages"),
    ] {
        let r = http(m, s.url(p)).await;
        assert_http_error(r.status, &r.json(), 405, "method_not_allowed");
    }
}

#[tokio::test]
async fn history_page_of_an_empty_room() {
    let s = server();
    let room = uniq("empty");
    assert!(history_page(s, &room, "").await.is_empty());
    assert!(history_page(s, &room, "?before=5&limit=3").await.is_empty());
    let st = stats(s, &room).await;
    assert_eq!(st["messages_stored"], 0);
    assert_eq!(st["last_message_id"], 0);
}

#[tokio::test]
async fn history_pages_defaults_bounds_and_walk() {
    let s = server();
    let room = uniq("pages");
    let sent = fill_room(s, &room, 130, "page").await;
    let all_ids = ids(&sent);
    assert_strictly_increasing(&all_ids);
    let core: Vec<_> = sent.iter().map(msg_core).collect();

    // Default: the newest 50, oldest first, identical to what was broadcast.
    let p = history_page(s, &room, "").await;
    assert_eq!(p.len(), 50);
    let got: Vec<_> = p.iter().map(msg_core).collect();
    assert_eq!(got, core[80..].to_vec());

    // limit bounds.
    let p = history_page(s, &room, "?limit=1").await;
    assert_eq!(ids(&p), [all_ids[129]]);
    let p = history_page(s, &room, "?limit=100").await;
    assert_eq!(ids(&p), all_ids[30..].to_vec());

    // before is exclusive.
    let b = all_ids[10];
    let p = history_page(s, &room, &format!("?before={b}")).await;
    assert_eq!(ids(&p), all_ids[..10].to_vec());
    let p = history_page(s, &room, &format!("?before={b}&limit=3")).await;
    assert_eq!(ids(&p), all_ids[7..10].to_vec());
    let p = history_page(s, &room, &format!("?limit=3&before={}", all_ids[0])).await;
    assert!(p.is_empty(), "nothing before the first message: {p:?}");
    // A `before` beyond the newest id returns the newest messages.
    let p = history_page(
        s,
        &room,
        &format!("?before={}&limit=2", all_ids[129] + 1000),
    )
    .await;
    assert_eq!(ids(&p), all_ids[128..].to_vec());

    // Walking back page by page visits every message once, with no gaps.
    for limit in [7usize, 50, 100] {
        let mut seen: Vec<i64> = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let q = match before {
                Some(b) => format!("?before={b}&limit={limit}"),
                None => format!("?limit={limit}"),
            };
            let p = history_page(s, &room, &q).await;
            assert!(p.len() <= limit);
            if p.is_empty() {
                break;
            }
            let pid = ids(&p);
            assert_strictly_increasing(&pid);
            if let Some(b) = before {
                assert!(*pid.last().unwrap() < b);
            }
            before = Some(pid[0]);
            let mut merged = pid;
            merged.extend(seen);
            seen = merged;
        }
        assert_eq!(seen, all_ids, "walk with limit {limit}");
    }
}

#[tokio::test]
async fn history_page_invalid_params_are_400_bad_request() {
    let s = server();
    let room = uniq("badq");
    fill_room(s, &room, 3, "q").await;
    for q in [
        "?limit=0",
        "?limit=101",
        "?limit=-1",
        "?limit=abc",
        "?limit=1.5",
        "?limit=",
        "?limit=99999999999999999999999",
        "?before=abc",
        "?before=-5",
        "?before=0",
        "?before=1.5",
        "?before=",
        "?before=1e3",
        "?before=99999999999999999999999",
    ] {
        let (st, v) = get_json(s, &format!("/api/rooms/{room}/messages{q}")).await;
        assert_http_error(st, &v, 400, "bad_request");
    }
}

/// "A message is stored before it is broadcast": once a member has seen it, it is in the history.
#[tokio::test]
async fn seen_messages_are_already_stored() {
    let s = server();
    let room = uniq("stored");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    for i in 0..5 {
        let m = a.say_nonce(&format!("m{i}"), &format!("n{i}")).await;
        let seen = b.expect("message").await;
        assert_eq!(seen, m);
        let p = history_page(s, &room, "?limit=1").await;
        assert_eq!(p.len(), 1);
        assert_eq!(msg_core(&p[0]), msg_core(&m), "nonce is stored too");
    }
}
