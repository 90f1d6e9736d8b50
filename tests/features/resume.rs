//! Gapless resume: every change is an entry in the same strictly increasing id sequence as the
//! messages; a join with `since` replays every entry after it, once; `GET /messages?after=` pages
//! the same log.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::*;

use super::*;

#[tokio::test]
async fn resume_with_since_replays_every_kind_of_change_once() {
    let s = server();
    let (room, key) = create_room(s).await;
    let (mut o, _) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let (mut obs, _) = join(s, &room, "Obs").await;
    // Kim has an address of her own: a kick bans the kicked member's address too.
    let (_k, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Kim"}),
        &[("CF-Connecting-IP", "203.0.113.31")],
    )
    .await;
    let (mut r, _, r_sess) = join_session(s, &room, "Rae").await;
    let m1 = post(&mut a, "one").await;
    assert_eq!(next_of(&mut r, "message").await, m1);
    assert_eq!(next_of(&mut obs, "message").await, m1);
    let since = id_of(&m1);
    assert_eq!(r.close(Some(1000)).await, Some(1000));

    // While Rae is gone: one of each kind of change, and messages between them. `live` is what a
    // member who stayed saw, in order; each step waits for it, so the two senders' order is fixed.
    let mut live: Vec<Value> = Vec::new();
    let m2 = post(&mut a, "two, soon deleted").await;
    live.push(next_of(&mut obs, "message").await);
    let m3 = post(&mut a, "three").await;
    live.push(next_of(&mut obs, "message").await);
    let steps = [
        (true, json!({"type":"edit","id":since,"text":"one, edited"})),
        (false, json!({"type":"react","id":since,"emoji":"👍"})),
        (true, json!({"type":"delete","id":id_of(&m2)})),
        (false, json!({"type":"topic","text":"new topic"})),
        (false, json!({"type":"lock","locked":true})),
        (false, json!({"type":"lock","locked":false})),
        (false, json!({"type":"kick","name":"Kim"})),
        (
            true,
            json!({"type":"message","text":"four","reply_to":id_of(&m3)}),
        ),
    ];
    for (by_alice, frame) in steps {
        let ty = frame["type"].as_str().unwrap().to_string();
        let actor = if by_alice { &mut a } else { &mut o };
        actor.send_json(&frame).await;
        live.push(next_of(&mut obs, &ty).await);
    }
    let kinds = [
        "message", "message", "edit", "react", "delete", "topic", "lock", "lock", "kick", "message",
    ];
    let got: Vec<&str> = live.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(got, kinds, "{live:?}");
    let live_ids: Vec<u64> = live.iter().map(id_of).collect();
    assert!(live_ids.windows(2).all(|w| w[0] < w[1]), "{live_ids:?}");
    assert!(live_ids[0] > since);

    // Rae comes back: every entry after `since`, in order, each once.
    let (mut r, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Rae","session":r_sess,"since":since}),
    )
    .await;
    let h = history(&w);
    let ids: Vec<u64> = h.iter().map(id_of).collect();
    assert_eq!(ids, live_ids, "replay ids: {w}");
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "nothing twice"
    );
    assert_eq!(w["truncated"], false);
    assert_eq!(w["last_id"], *live_ids.last().unwrap());
    assert_eq!(
        (&w["topic"], &w["locked"]),
        (&json!("new topic"), &json!(false))
    );
    for (entry, seen) in h.iter().zip(&live) {
        assert_eq!(entry["type"], seen["type"], "{entry} vs {seen}");
        if entry["type"] != "message" {
            assert_eq!(entry, seen, "a change replays as it was sent");
        }
    }
    // Messages replay in their current state: m2 is a tombstone.
    assert_eq!(h[0]["id"], m2["id"]);
    assert_eq!(
        (&h[0]["deleted"], &h[0]["text"]),
        (&json!(true), &json!("")),
        "{}",
        h[0]
    );
    assert_eq!(h[1], m3);
    assert_eq!(h[9]["reply"]["text"], "three");

    // The HTTP log holds the same entries, page by page.
    for limit in [3, 100] {
        assert_eq!(
            log_after(s, &room, since, limit).await,
            h,
            "?after={since}&limit={limit}"
        );
    }
    let whole = log_after(s, &room, 0, 4).await;
    assert_eq!(whole[0]["id"], m1["id"]);
    assert_eq!(whole[0]["text"], "one, edited", "{}", whole[0]);
    assert_eq!(
        whole[0]["reactions"],
        json!([{"emoji":"👍","count":1,"names":["Olga"]}])
    );
    assert_eq!(&whole[1..], &h[..]);
    assert!(log_after(s, &room, *live_ids.last().unwrap(), 5)
        .await
        .is_empty());
    // A resume from the middle gets exactly the rest.
    let mid = live_ids[4];
    let (_late, w2) = enter(s, &room, json!({"type":"join","name":"Mid","since":mid})).await;
    assert_eq!(history(&w2), h[5..].to_vec());

    // From now on Rae hears each new change once, live.
    o.send_json(&json!({"type":"topic","text":"later"})).await;
    let t = next_of(&mut r, "topic").await;
    assert_eq!(t["text"], "later");
    assert!(id_of(&t) > *live_ids.last().unwrap());
    r.expect_silence(QUIET).await;
}

#[tokio::test]
async fn the_after_query_is_checked_and_before_pages_hold_messages_only() {
    let s = server();
    let room = uniq("after-http");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let m = a.say("one").await;
    a.send_json(&json!({"type":"edit","id":id_of(&m),"text":"one!"}))
        .await;
    let e = a.expect("edit").await;
    let m2 = a.say("two").await;
    // `before` pages (and the default page) are messages in their current state...
    let page = history_page(s, &room, "").await;
    assert_eq!(ids(&page), [id_of(&m) as i64, id_of(&m2) as i64]);
    assert_eq!(page[0]["text"], "one!");
    // ...`after` pages are the whole log.
    let log = history_page(s, &room, "?after=0").await;
    assert_eq!(
        ids(&log),
        [id_of(&m) as i64, id_of(&e) as i64, id_of(&m2) as i64]
    );
    assert_eq!(log[1], e);
    let far = history_page(s, &room, "?after=9007199254740991").await;
    assert!(far.is_empty());
    for q in [
        "?after=abc",
        "?after=-1",
        "?after=1.5",
        "?after=99999999999999999999999",
        "?after=1&before=5",
        "?after=0&limit=0",
        "?after=0&limit=101",
    ] {
        let (st, body) = get_json(s, &format!("/api/rooms/{room}/messages{q}")).await;
        assert_http_error(st, &body, 400, "bad_request");
    }
}
