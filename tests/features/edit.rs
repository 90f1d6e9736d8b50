//! Edit and delete: own messages only (same name and session), within EDIT_WINDOW_MS; everyone
//! gets the change; a delete leaves a tombstone and erases the text for real.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

use super::*;

#[tokio::test]
async fn the_author_edits_then_deletes_and_everyone_sees_it() {
    let s = server();
    let room = uniq("edit");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    assert_join_frame(&a.expect("join").await, "Bob");
    let m = a.say("first draft of a secret plan").await;
    assert_eq!(b.expect("message").await, m);
    let target = id_of(&m);

    let e = change(
        &mut a,
        &mut [&mut b],
        json!({"type":"edit","id":target,"text":"  second draft of a secret plan  "}),
        "edit",
    )
    .await;
    assert_eq!(e["target"], target, "{e}");
    assert_eq!(e["text"], "second draft of a secret plan", "trimmed: {e}");
    assert_eq!(e["name"], "Alice", "{e}");
    assert!(id_of(&e) > target, "a change takes the next id: {e}");

    // A later joiner sees the message as it is now.
    let (mut c, w) = join(s, &room, "Cy").await;
    a.expect("join").await;
    b.expect("join").await;
    let h = history(&w);
    assert_eq!(h.len(), 1, "a fresh welcome holds messages only: {w}");
    assert_eq!(h[0]["id"], target);
    assert_eq!(h[0]["text"], "second draft of a secret plan");
    assert!(h[0]["edited_at"].as_u64().is_some(), "edited_at: {}", h[0]);
    assert_eq!(w["last_id"], e["id"], "{w}");

    let d = change(
        &mut a,
        &mut [&mut b, &mut c],
        json!({"type":"delete","id":target}),
        "delete",
    )
    .await;
    assert_eq!(d["target"], target, "{d}");
    assert_eq!(d["name"], "Alice", "{d}");
    assert!(id_of(&d) > id_of(&e), "{d}");

    // A tombstone, in welcomes and in the HTTP history.
    let (_d, w) = join(s, &room, "Dee").await;
    let h = history(&w);
    assert_eq!(h.len(), 1, "{w}");
    assert_eq!(h[0]["deleted"], true, "{}", h[0]);
    assert_eq!(h[0]["text"], "", "{}", h[0]);
    assert!(h[0].get("edited_at").is_none(), "{}", h[0]);
    let page = history_page(s, &room, "").await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["deleted"], true);
    // The text is gone from every copy: the message, the edit change, the log.
    let all = http("GET", s.url(&format!("/api/rooms/{room}/messages?after=0"))).await;
    assert_eq!(all.status, 200);
    assert!(!all.body.contains("secret plan"), "{}", all.body);
    assert!(
        all.body.contains("\"type\":\"edit\""),
        "the edit stays in the log: {}",
        all.body
    );

    // Nothing to change any more: not_found, for the author and anyone else.
    for f in [
        json!({"type":"edit","id":target,"text":"again"}),
        json!({"type":"delete","id":target}),
        json!({"type":"react","id":target,"emoji":"👍"}),
    ] {
        let e = refused(&mut a, f, "not_found").await;
        assert_eq!(e["target"], target, "{e}");
    }
    let m2 = post(&mut a, "still here").await;
    assert_eq!(next_of(&mut b, "message").await, m2);
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn only_the_author_with_the_same_session_may_change_a_message() {
    let s = server();
    let room = uniq("forbid");
    let (mut a, _, sess) = join_session(s, &room, "Alice").await;
    let (mut b, _, _) = join_session(s, &room, "Bob").await;
    a.expect("join").await;
    let m = a.say("mine").await;
    b.expect("message").await;
    let target = id_of(&m);

    for f in [
        json!({"type":"edit","id":target,"text":"hijacked"}),
        json!({"type":"delete","id":target}),
    ] {
        let e = refused(&mut b, f, "forbidden").await;
        assert_eq!(e["target"], target, "{e}");
    }
    // The author reconnects with the same session and keeps the right.
    assert_eq!(a.close(Some(1000)).await, Some(1000));
    assert_leave_frame(&b.expect("leave").await, "Alice");
    let (mut a, _) = enter(
        s,
        &room,
        json!({"type":"join","name":"Alice","session":sess}),
    )
    .await;
    b.expect("join").await;
    let e = change(
        &mut a,
        &mut [&mut b],
        json!({"type":"edit","id":target,"text":"mine, edited after a reconnect"}),
        "edit",
    )
    .await;
    assert_eq!(e["target"], target);

    // The same name with another session (or none) is someone else.
    assert_eq!(a.close(Some(1000)).await, Some(1000));
    b.expect("leave").await;
    for join_frame in [
        json!({"type":"join","name":"Alice","session":session("other")}),
        json!({"type":"join","name":"alice"}),
    ] {
        let (mut imp, _) = enter(s, &room, join_frame).await;
        b.expect("join").await;
        let e = refused(&mut imp, json!({"type":"delete","id":target}), "forbidden").await;
        assert_eq!(e["target"], target);
        assert_eq!(imp.close(Some(1000)).await, Some(1000));
        b.expect("leave").await;
    }
    // A member without a session can never change even their own messages (session-bound).
    let (mut n, _) = join(s, &room, "Nosess").await;
    b.expect("join").await;
    let mine = n.say("no session").await;
    b.expect("message").await;
    refused(
        &mut n,
        json!({"type":"edit","id":id_of(&mine),"text":"x"}),
        "forbidden",
    )
    .await;
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let s = server();
    let room = uniq("notfound");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let m = a.say("hello").await;
    for id in [id_of(&m) + 1, 999_999, 9_007_199_254_740_991, u64::MAX] {
        for f in [
            json!({"type":"edit","id":id,"text":"x"}),
            json!({"type":"delete","id":id}),
            json!({"type":"react","id":id,"emoji":"👍"}),
        ] {
            let e = refused(&mut a, f, "not_found").await;
            assert_eq!(e["target"], id, "{e}");
        }
    }
    a.say("the socket is fine").await;
}

#[tokio::test]
async fn the_edit_window_closes_for_the_author_not_the_owner() {
    let s = short();
    let (room, key) = create_room(s).await;
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let (mut o, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    assert_eq!(w["owner"], true, "{w}");
    a.expect("join").await;
    let m = a.say("quick, edit me").await;
    o.expect("message").await;
    let target = id_of(&m);
    // Within the window: fine.
    change(
        &mut a,
        &mut [&mut o],
        json!({"type":"edit","id":target,"text":"edited in time"}),
        "edit",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(EDIT_WINDOW_MS + 300)).await;
    for f in [
        json!({"type":"edit","id":target,"text":"too late"}),
        json!({"type":"delete","id":target}),
    ] {
        let e = refused(&mut a, f, "edit_window").await;
        assert_eq!(e["target"], target, "{e}");
    }
    // The owner may still take it down.
    let d = change(
        &mut o,
        &mut [&mut a],
        json!({"type":"delete","id":target}),
        "delete",
    )
    .await;
    assert_eq!(d["name"], "Olga");
    assert_eq!(d["target"], target);
    a.say("socket still usable").await;
    o.expect("message").await;
}
