//! A restart of the server keeps the whole room: messages, edits, tombstones, reactions, the
//! owner, the topic, the lock and the bans.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

use super::*;

/// Reads until the socket is gone (close frame, end or reset).
pub async fn drain_until_gone(c: &mut Client) {
    loop {
        match c.recv_timeout(Duration::from_secs(20)).await {
            Some(Frame::Text(_)) => continue,
            Some(Frame::Close(..)) | Some(Frame::Ended) | Some(Frame::Error(_)) => return,
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("socket still open 20 s after the server stopped"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_changes_owner_topic_lock_and_bans() {
    let srv = Server::start(&[]);
    let (room, key) = create_room(&srv).await;
    let (mut o, _) = enter(
        &srv,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    let (mut a, _, a_sess) = join_session(&srv, &room, "Alice").await;
    let (_k, _) = try_enter(
        &srv,
        &room,
        json!({"type":"join","name":"Kim","session":session("k")}),
        &[("CF-Connecting-IP", "203.0.113.55")],
    )
    .await;
    let m1 = post(&mut a, "one").await;
    let m2 = post(&mut a, "two").await;
    a.send_json(&json!({"type":"message","text":"three","reply_to":id_of(&m2)}))
        .await;
    let m3 = skip_to(&mut a, "message").await;
    for f in [
        json!({"type":"edit","id":id_of(&m1),"text":"one, edited"}),
        json!({"type":"delete","id":id_of(&m2)}),
    ] {
        a.send_json(&f).await;
    }
    skip_to(&mut a, "edit").await;
    skip_to(&mut a, "delete").await;
    for f in [
        json!({"type":"react","id":id_of(&m3),"emoji":"🎉"}),
        json!({"type":"topic","text":"kept"}),
        json!({"type":"kick","name":"Kim"}),
        json!({"type":"lock","locked":true}),
    ] {
        o.send_json(&f).await;
    }
    let lock = skip_to(&mut o, "lock").await;
    let last = id_of(&lock);
    let before = log_after(&srv, &room, 0, 100).await;
    assert_eq!(before.len(), 9, "{before:?}");

    let srv = restart_blocking(srv).await;
    drain_until_gone(&mut o).await;
    drain_until_gone(&mut a).await;

    assert_eq!(
        log_after(&srv, &room, 0, 100).await,
        before,
        "the log is unchanged"
    );
    let st = stats(&srv, &room).await;
    assert_eq!(
        (&st["messages_stored"], &st["last_message_id"]),
        (&json!(9), &json!(last))
    );

    // Still locked, still banned.
    let (_n, e) = try_enter(&srv, &room, json!({"type":"join","name":"Newbie"}), &[]).await;
    assert!(e["type"] == "error" && e["code"] == "room_locked", "{e}");
    let (_k, e) = try_enter(
        &srv,
        &room,
        json!({"type":"join","name":"Kim","session":session("k2")}),
        &[],
    )
    .await;
    assert!(e["type"] == "error" && e["code"] == "banned", "{e}");
    let (_k, e) = try_enter(
        &srv,
        &room,
        json!({"type":"join","name":"Kit"}),
        &[("CF-Connecting-IP", "203.0.113.55")],
    )
    .await;
    assert!(
        e["type"] == "error" && e["code"] == "banned",
        "by address: {e}"
    );

    // The key still makes its holder owner, and the room is as it was.
    let (mut o, w) = enter(
        &srv,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    assert_eq!(
        (&w["owner"], &w["topic"], &w["locked"]),
        (&json!(true), &json!("kept"), &json!(true))
    );
    assert_eq!(w["last_id"], last);
    let h: Vec<Value> = history(&w);
    assert_eq!(h.len(), 3, "{w}");
    assert_eq!(
        (&h[0]["text"], h[0]["edited_at"].is_u64()),
        (&json!("one, edited"), true)
    );
    assert_eq!(
        (&h[1]["deleted"], &h[1]["text"]),
        (&json!(true), &json!(""))
    );
    assert_eq!(
        h[2]["reply"],
        json!({"name":"Alice","text":"","deleted":true})
    );
    assert_eq!(
        h[2]["reactions"],
        json!([{"emoji":"🎉","count":1,"names":["Olga"],"me":true}]),
    );
    change(
        &mut o,
        &mut [],
        json!({"type":"lock","locked":false}),
        "lock",
    )
    .await;

    // Alice's session still owns her messages; ids go on from the stored maximum.
    let (mut a, _) = enter(
        &srv,
        &room,
        json!({"type":"join","name":"Alice","session":a_sess}),
    )
    .await;
    o.expect("join").await;
    let e = change(
        &mut a,
        &mut [&mut o],
        json!({"type":"edit","id":id_of(&m3),"text":"three, edited after the restart"}),
        "edit",
    )
    .await;
    assert!(id_of(&e) > last + 1, "{e}");
    srv.assert_no_panic();
}
