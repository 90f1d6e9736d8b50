//! `GET /api/rooms/{room}/search`: finds, ranks and snippets; phrases, prefixes and `from:`;
//! every malformed query is a 400; deleted, edited-away and trimmed texts are never found, nor
//! left in the index's tables.

use serde_json::{json, Value};

use super::*;

/// The marked parts of a hit's snippet (marks are offsets in characters).
fn marked(hit: &Value) -> Vec<String> {
    let chars: Vec<char> = hit["snippet"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .collect();
    hit["marks"]
        .as_array()
        .unwrap_or_else(|| panic!("marks: {hit}"))
        .iter()
        .map(|m| {
            let (a, b) = (
                m[0].as_u64().unwrap() as usize,
                m[1].as_u64().unwrap() as usize,
            );
            chars[a..b].iter().collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_ranks_and_snippets() {
    let s = server();
    let room = uniq("find");
    let (mut a, _) = enter(s, &room, "Alice", None).await;
    let once = post(&mut a, "the quick brown fox jumps").await;
    let thrice = post(&mut a, "fox, fox and fox").await;
    post(&mut a, "nothing to see").await;
    let cafe = post(&mut a, "Un café à Zürich 😀 avec Zoë").await;
    let words: Vec<String> = (1..=40).map(|i| format!("w{i}")).collect();
    let long_text = format!("{} needle {}", words[..20].join(" "), words[20..].join(" "));
    let long = post(&mut a, &long_text).await;

    // bm25: three foxes in a short text rank above one in a longer one.
    assert_eq!(found(s, &room, "fox").await, [id_of(&thrice), id_of(&once)]);
    let hits = search(s, &room, "FOX", "").await;
    assert_eq!(hits[0]["text"], "fox, fox and fox");
    assert_eq!(hits[0]["type"], "message");
    assert_eq!(hits[0]["name"], "Alice");
    assert_eq!(marked(&hits[0]), ["fox", "fox", "fox"]);
    // Diacritics removed, both ways; marks count characters (the emoji is one).
    for q in ["cafe", "zurich", "zoe", "café"] {
        let hits = search(s, &room, q, "").await;
        assert_eq!(hits.len(), 1, "{q}");
        assert_eq!(id_of(&hits[0]), id_of(&cafe));
    }
    let hits = search(s, &room, "zoe", "").await;
    assert_eq!(marked(&hits[0]), ["Zoë"]);
    // A long text is cut around the match, with … where it is cut.
    let hits = search(s, &room, "needle", "").await;
    assert_eq!(id_of(&hits[0]), id_of(&long));
    let snippet = hits[0]["snippet"].as_str().unwrap();
    assert!(snippet.contains('…'), "{snippet}");
    assert!(snippet.split_whitespace().count() <= 22, "{snippet}");
    assert_eq!(marked(&hits[0]), ["needle"]);
    assert!(search(s, &room, "absent", "").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equal_ranks_go_newest_first_and_pages_follow_the_cursor() {
    let s = server();
    let room = uniq("pages");
    let (mut a, _) = enter(s, &room, "Alice", None).await;
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(id_of(&post(&mut a, "same words here").await));
    }
    let newest_first: Vec<u64> = ids.iter().rev().copied().collect();
    assert_eq!(found(s, &room, "words").await, newest_first);
    for sort in ["", "&sort=relevance", "&sort=recent"] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (st, v) = search_raw(s, &room, "same", &format!("&limit=3{sort}{cursor}")).await;
            assert_eq!(st, 200, "{v}");
            let page = v["messages"].as_array().unwrap();
            assert!(page.len() <= 3);
            seen.extend(page.iter().map(id_of));
            match v["cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, newest_first, "sort {sort}");
    }
    // sort=recent: newest first whatever the rank.
    let (mut b, _) = enter(s, &room, "Bob", None).await;
    let newer = post(&mut b, "here").await;
    let hits = search(s, &room, "here", "&sort=recent").await;
    assert_eq!(id_of(&hits[0]), id_of(&newer));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phrases_prefixes_and_from() {
    let s = server();
    let room = uniq("syntax");
    let (mut a, _) = enter(s, &room, "Alice Smith", None).await;
    let (mut b, _) = enter(s, &room, "Bob", None).await;
    let red = post(&mut a, "a big red dog").await;
    let big = post(&mut b, "a red big doghouse").await;
    let other = post(&mut b, "e-mail me at 12:30").await;
    assert_eq!(found(s, &room, "\"big red\"").await, [id_of(&red)]);
    assert_eq!(found(s, &room, "\"red big\"").await, [id_of(&big)]);
    assert_eq!(found(s, &room, "big red").await.len(), 2);
    assert_eq!(found(s, &room, "doghouse").await, [id_of(&big)]);
    assert_eq!(found(s, &room, "dog").await, [id_of(&red)]);
    let mut prefix = found(s, &room, "dog*").await;
    prefix.sort_unstable();
    assert_eq!(prefix, [id_of(&red), id_of(&big)]);
    // `from:` by name key: case and width fold.
    assert_eq!(found(s, &room, "big from:bob").await, [id_of(&big)]);
    assert_eq!(
        found(s, &room, "big FROM:\"alice smith\"").await,
        [id_of(&red)]
    );
    assert_eq!(
        found(s, &room, "red from:\"Ａｌｉｃｅ Smith\"").await,
        [id_of(&red)]
    );
    assert_eq!(
        found(s, &room, "from:Bob").await,
        [id_of(&other), id_of(&big)],
        "from: alone lists the member's messages, newest first"
    );
    let hits = search(s, &room, "from:alice smith", "").await;
    assert!(
        hits.is_empty(),
        "from:alice is Alice, not Alice Smith: {hits:?}"
    );
    assert!(found(s, &room, "from:carol").await.is_empty());
    let hits = search(s, &room, "from:bob", "&limit=1").await;
    assert_eq!(hits[0]["snippet"], "e-mail me at 12:30");
    assert_eq!(hits[0]["marks"], json!([]));
    // Punctuation splits words as the index does; quoted FTS5 syntax is text.
    assert_eq!(found(s, &room, "e-mail").await, [id_of(&other)]);
    assert_eq!(found(s, &room, "12:30").await, [id_of(&other)]);
    assert!(found(s, &room, "\"red OR NEAR(big) text:dog\"")
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cjk_text_is_one_word_per_run_between_punctuation() {
    let s = server();
    let room = uniq("cjk");
    let (mut a, _) = enter(s, &room, "Aiko", None).await;
    let m = post(&mut a, "東京タワーに行きました。とても高い").await;
    // unicode61 splits at punctuation and spaces only: a run of Han and kana is one token.
    assert!(found(s, &room, "東京").await.is_empty());
    assert!(found(s, &room, "タワー").await.is_empty());
    assert_eq!(found(s, &room, "東京*").await, [id_of(&m)]);
    assert_eq!(found(s, &room, "とても高い").await, [id_of(&m)]);
    let hits = search(s, &room, "東京*", "").await;
    assert_eq!(marked(&hits[0]), ["東京タワーに行きました"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_query_is_a_400() {
    let s = server();
    let room = uniq("bad");
    let (mut a, _) = enter(s, &room, "Alice", None).await;
    post(&mut a, "something to find").await;
    let long = "x".repeat(201);
    for q in [
        "",
        " ",
        "\"unbalanced",
        "*",
        "a*b",
        "*a",
        "\"phrase\"*",
        "text:secret",
        "-text:x",
        "{text}:x",
        "NEAR(a b, 5)",
        "a OR b",
        "NOT a",
        "a AND b",
        "^a",
        "(a)",
        "-a",
        "from:",
        "from:a from:b",
        "!!!",
        "\u{1}",
        long.as_str(),
    ] {
        let (st, v) = search_raw(s, &room, q, "").await;
        assert_http_error(st, &v, 400, "bad_request");
        assert!(
            v["error"]["message"].as_str().is_some_and(|m| m.len() > 5),
            "{q:?}: {v}"
        );
    }
    for extra in [
        "&limit=0",
        "&limit=51",
        "&limit=abc",
        "&cursor=zzz",
        "&cursor=o99999",
        "&sort=best",
        "&sort=recent&cursor=o3",
    ] {
        let (st, v) = search_raw(s, &room, "find", extra).await;
        assert_http_error(st, &v, 400, "bad_request");
    }
    // No q at all; bad escapes.
    for path in ["", "?limit=5", "?q=%FF", "?q=%zz"] {
        let (st, v) = get_json(s, &format!("/api/rooms/{room}/search{path}")).await;
        assert_http_error(st, &v, 400, "bad_request");
    }
    assert_eq!(search(s, &room, &"x".repeat(200), "").await.len(), 0);
    assert_eq!(search(s, &room, "find", "&limit=50").await.len(), 1);
    let (st, _) = get_json(s, "/api/rooms/a%20b/search?q=x").await;
    assert_eq!(st, 400);
    s.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_edited_texts_leave_the_index() {
    let s = server();
    let room = uniq("gone");
    let sess = session("a");
    let (mut a, _) = enter(s, &room, "Alice", Some(&sess)).await;
    // Some other words first, so that the secret ones are not alone in the index.
    for i in 0..30 {
        post(&mut a, &format!("filler message number {i} about zebras")).await;
    }
    let secret = post(&mut a, "my password is qq7hiddenpayload").await;
    let edited = post(&mut a, "first draft qq8draftword").await;
    assert_eq!(found(s, &room, "qq7hiddenpayload").await, [id_of(&secret)]);
    let scan = index_scan(&mut a, "hiddenpayload").await;
    // Contentless: the index holds the terms, never a copy of the text.
    assert_eq!(scan["search_content"], json!(null), "{scan}");
    assert_eq!(scan["current"], true, "{scan}");
    assert!(scan["search_data"].as_u64() > Some(0), "{scan}");

    a.send_json(&json!({"type":"delete","id":id_of(&secret)}))
        .await;
    skip_to(&mut a, "delete").await;
    a.send_json(&json!({"type":"edit","id":id_of(&edited),"text":"final qq9finalword"}))
        .await;
    skip_to(&mut a, "edit").await;
    settle(&mut a).await;
    assert!(found(s, &room, "qq7hiddenpayload").await.is_empty());
    assert!(found(s, &room, "qq7*").await.is_empty());
    assert!(found(s, &room, "password").await.is_empty());
    assert!(found(s, &room, "qq8draftword").await.is_empty());
    assert_eq!(found(s, &room, "qq9finalword").await, [id_of(&edited)]);
    for gone in ["hiddenpayload", "draftword", "password"] {
        let scan = index_scan(&mut a, gone).await;
        assert_eq!(
            (
                &scan["messages"],
                &scan["search_content"],
                &scan["search_data"],
                &scan["search_idx"]
            ),
            (&json!(0), &json!(null), &json!(0), &json!(0)),
            "{gone} is still stored: {scan}"
        );
    }
    let scan = index_scan(&mut a, "finalword").await;
    assert!(scan["search_data"].as_u64() > Some(0), "{scan}");
    assert_eq!(scan["indexed"], 31, "{scan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trimmed_messages_leave_the_index() {
    let s = capped();
    let room = uniq("trim");
    let (mut a, _) = enter(s, &room, "Alice", None).await;
    let first = post(&mut a, "oldest qq6trimmedword").await;
    assert_eq!(found(s, &room, "qq6trimmedword").await, [id_of(&first)]);
    for i in 0..HISTORY_CAP {
        post(&mut a, &format!("newer {i}")).await;
    }
    settle(&mut a).await;
    assert!(found(s, &room, "qq6trimmedword").await.is_empty());
    assert!(found(s, &room, "oldest").await.is_empty());
    // The text leaves the log at once (the index holds no copy); its terms leave the b-tree at
    // the next merge (the trim does not pay for secure-delete: docs/protocol.md, Search).
    let scan = index_scan(&mut a, "trimmedword").await;
    assert_eq!(
        (&scan["messages"], &scan["search_content"]),
        (&json!(0), &json!(null)),
        "{scan}"
    );
    assert_eq!(scan["indexed"], HISTORY_CAP, "{scan}");
    assert_eq!(found(s, &room, "newer").await.len(), HISTORY_CAP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_are_messages_in_their_current_state() {
    let s = server();
    let room = uniq("state");
    let (mut a, _) = enter(s, &room, "Alice", Some(&session("a"))).await;
    let m = post(&mut a, "react to this thing").await;
    a.send_json(&json!({"type":"react","id":id_of(&m),"emoji":"👍"}))
        .await;
    skip_to(&mut a, "react").await;
    let reply = json!({"type":"message","text":"a reply thing","reply_to":id_of(&m)});
    a.send_json(&reply).await;
    skip_to(&mut a, "message").await;
    settle(&mut a).await;
    let hits = search(s, &room, "react", "").await;
    assert_eq!(hits[0]["reactions"][0]["emoji"], "👍", "{hits:?}");
    let hits = search(s, &room, "reply", "").await;
    assert_eq!(hits[0]["reply"]["text"], "react to this thing");
    // A private room is searched by its id; an id no room has is refused.
    let (st, v) = post_json(s, "/api/rooms").await;
    assert_eq!(st, 201);
    let private = v["room"].as_str().unwrap();
    assert!(search(s, private, "x", "").await.is_empty());
    let (st, _) = search_raw(s, &"ab".repeat(32), "x", "").await;
    assert_eq!(st, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_index_0_keeps_no_index() {
    let s = Server::start(&[("SEARCH_INDEX", "0"), ("TEST_HOOKS", "1")]);
    let room = uniq("off");
    let (mut a, _) = enter(&s, &room, "Alice", None).await;
    post(&mut a, "unindexed qq5word").await;
    let (st, v) = search_raw(&s, &room, "qq5word", "").await;
    assert_http_error(st, &v, 404, "not_found");
    let scan = index_scan(&mut a, "qq5word").await;
    assert_eq!(
        scan["messages"],
        json!(null),
        "no index tables to scan: {scan}"
    );
    assert_eq!(history_page(&s, &room, "").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_indexed_by_the_old_schema_is_rebuilt() {
    let s = server();
    let room = uniq("migrate");
    let (mut a, _) = enter(s, &room, "Alice", Some(&session("a"))).await;
    let kept = post(&mut a, "kept qq4keptword café").await;
    let edited = post(&mut a, "before qq4draftword").await;
    let gone = post(&mut a, "secret qq4goneword").await;
    settle(&mut a).await;
    // The build before this one: an internal-content table (a copy of every text).
    let scan = index_scan(&mut a, "debug:old-schema").await;
    assert_eq!(
        (&scan["current"], &scan["indexed"]),
        (&json!(false), &json!(3)),
        "{scan}"
    );
    assert_eq!(index_scan(&mut a, "qq4goneword").await["search_content"], 1);
    // The next search finds the old schema and rebuilds the index from the log.
    assert_eq!(found(s, &room, "cafe").await, [id_of(&kept)]);
    let scan = index_scan(&mut a, "qq4goneword").await;
    assert_eq!(
        (&scan["current"], &scan["search_content"], &scan["indexed"]),
        (&json!(true), &json!(null), &json!(3)),
        "{scan}"
    );
    // And it is kept in step from then on, secure deletes included.
    a.send_json(&json!({"type":"delete","id":id_of(&gone)}))
        .await;
    skip_to(&mut a, "delete").await;
    a.send_json(&json!({"type":"edit","id":id_of(&edited),"text":"after qq4finalword"}))
        .await;
    skip_to(&mut a, "edit").await;
    settle(&mut a).await;
    assert!(found(s, &room, "qq4goneword").await.is_empty());
    assert!(found(s, &room, "qq4draftword").await.is_empty());
    assert_eq!(found(s, &room, "qq4finalword").await, [id_of(&edited)]);
    for word in ["goneword", "draftword"] {
        let scan = index_scan(&mut a, word).await;
        assert_eq!(
            (&scan["search_data"], &scan["search_idx"]),
            (&json!(0), &json!(0)),
            "{word}: {scan}"
        );
    }
    let hits = search(s, &room, "qq4final*", "").await;
    assert_eq!(hits[0]["snippet"], "after qq4finalword");
    assert_eq!(hits[0]["marks"], json!([[6, 18]]));
}

/// A search from `address` (as Cloudflare's edge would send it).
async fn search_from(s: &Server, room: &str, address: &str) -> HttpResponse {
    let url = s.url(&format!("/api/rooms/{room}/search?q=limited"));
    let address = address.to_string();
    tokio::task::spawn_blocking(move || {
        http_blocking("GET", &url, &[("CF-Connecting-IP", &address)])
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_searches_from_one_address_is_refused_and_another_address_is_not() {
    let s = Server::start(&[("ADDRESS_SEARCHES_PER_MIN", "3")]);
    let room = uniq("limited");
    let (mut a, _) = enter(&s, &room, "Alice", None).await;
    let m = post(&mut a, "limited edition").await;
    for _ in 0..3 {
        let r = search_from(&s, &room, "203.0.113.9").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(id_of(&r.json()["messages"][0]), id_of(&m));
    }
    let r = search_from(&s, &room, "203.0.113.9").await;
    assert_http_error(r.status, &r.json(), 429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in seconds: {:?}", r.header("retry-after")));
    assert!(
        (1..=20).contains(&retry),
        "Retry-After {retry}: 3 per minute refill in 20 s"
    );
    // Other addresses have their own allowance.
    assert_eq!(search_from(&s, &room, "203.0.113.10").await.status, 200);
    assert_eq!(search_from(&s, &room, "2001:db8:1:3::1").await.status, 200);
    s.assert_no_panic();
}
