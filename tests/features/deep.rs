//! Changes to messages the room no longer holds in memory, changes in the same burst as the
//! message they change, and moderation of members who are away or in a second tab.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

use super::*;

#[tokio::test]
async fn old_messages_beyond_the_welcome_can_still_be_changed_and_resumed() {
    let s = server();
    let room = uniq("deep");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let m1 = a.say("the very first message").await;
    let fill = fill_room(s, &room, 110, "filler").await;
    let target = id_of(&m1);
    // m1 is older than the newest 100 entries: the room reads it back from storage.
    a.send_json(&json!({"type":"edit","id":target,"text":"first, edited late"}))
        .await;
    let e = skip_to(&mut a, "edit").await;
    assert_eq!(e["target"], target, "{e}");
    a.send_json(&json!({"type":"react","id":target,"emoji":"🔥"}))
        .await;
    assert_eq!(skip_to(&mut a, "react").await["target"], target);
    a.send_json(&json!({"type":"message","text":"re: first","reply_to":target}))
        .await;
    let r = skip_to(&mut a, "message").await;
    assert_eq!(
        r["reply"],
        json!({"name":"Alice","text":"first, edited late"}),
        "{r}"
    );
    let page = history_page(s, &room, &format!("?after={}&limit=1", target - 1)).await;
    assert_eq!(page[0]["text"], "first, edited late", "{}", page[0]);
    assert_eq!(
        page[0]["reactions"],
        json!([{"emoji":"🔥","count":1,"names":["Alice"]}])
    );

    a.send_json(&json!({"type":"delete","id":target})).await;
    let d = skip_to(&mut a, "delete").await;
    // Everything after the first message: more than a welcome holds, so the resume says it is
    // truncated and the HTTP log fills the gap, with every entry once.
    let (_b, w) = enter(s, &room, json!({"type":"join","name":"Bea","since":target})).await;
    assert_eq!(w["truncated"], true, "{}", clip(&w.to_string()));
    assert_eq!(w["last_id"], d["id"]);
    let h = history(&w);
    assert!(h.len() <= 100, "{}", h.len());
    let all = log_after(s, &room, target, 50).await;
    let ids: Vec<i64> = all.iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert_strictly_increasing(&ids);
    assert_eq!(
        all.len(),
        fill.len() + 4,
        "110 messages, edit, react, reply, delete"
    );
    assert_eq!(
        &all[all.len() - h.len()..],
        &h[..],
        "the welcome is the log's tail"
    );
    let head = history_page(s, &room, "?after=0&limit=1").await;
    assert_eq!(
        (&head[0]["deleted"], &head[0]["text"]),
        (&json!(true), &json!(""))
    );
    assert!(head[0].get("reactions").is_none(), "{}", head[0]);
    let body = http(
        "GET",
        s.url(&format!("/api/rooms/{room}/messages?after=0&limit=100")),
    )
    .await;
    assert!(
        !body.body.contains("first, edited late"),
        "erased from the edit and the quote too"
    );
    let last = history_page(s, &room, "?limit=1").await;
    assert_eq!(last[0]["id"], r["id"]);
    assert_eq!(
        last[0]["reply"],
        json!({"name":"Alice","text":"","deleted":true})
    );
}

#[tokio::test]
async fn a_message_edited_and_deleted_in_one_burst_leaves_no_text() {
    let s = server();
    let room = uniq("burst");
    let (mut a, w, _) = join_session(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let next = w["last_id"].as_u64().unwrap() + 1;
    // One TCP write: the room handles the three frames as one burst.
    a.write_texts(&[
        json!({"type":"message","text":"burst secret","nonce":"n1"}).to_string(),
        json!({"type":"edit","id":next,"text":"burst secret, edited"}).to_string(),
        json!({"type":"react","id":next,"emoji":"👍"}).to_string(),
        json!({"type":"delete","id":next}).to_string(),
    ])
    .await;
    let m = next_of(&mut b, "message").await;
    assert_eq!(m["id"], next, "{m}");
    // One burst: the message goes out in its final state, a tombstone.
    assert_eq!(
        (&m["deleted"], &m["text"]),
        (&json!(true), &json!("")),
        "{m}"
    );
    for ty in ["edit", "react", "delete"] {
        assert_eq!(next_of(&mut b, ty).await["target"], next);
    }
    assert_eq!(skip_to(&mut a, "delete").await["target"], next);
    let body = http("GET", s.url(&format!("/api/rooms/{room}/messages?after=0"))).await;
    assert!(!body.body.contains("burst secret"), "{}", body.body);
    // Nor in what the room holds in memory for a resume.
    let (_c, w) = enter(s, &room, json!({"type":"join","name":"Cy","since":0})).await;
    assert_eq!(history(&w).len(), 4, "{w}");
    assert_eq!(history(&w)[0]["deleted"], true, "{w}");
    assert!(!w.to_string().contains("burst secret"), "{w}");
    assert_join_frame(&b.expect("join").await, "Cy");
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn the_owner_stays_owner_in_a_second_tab_and_can_kick_an_away_member() {
    let s = grace();
    let (room, key) = create_room(s).await;
    let o_sess = session("owner");
    let (o, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","session":o_sess,"owner_key":key}),
    )
    .await;
    assert_eq!(w["owner"], true);
    // The same session in a new tab, without the key: still the owner.
    let (mut o, w) = {
        let old = o;
        let r = enter(
            s,
            &room,
            json!({"type":"join","name":"Olga","session":o_sess}),
        )
        .await;
        drop(old);
        r
    };
    assert_eq!(w["owner"], true, "{w}");
    let (mut obs, _) = join(s, &room, "Obs").await;
    let (v, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Vic","session":session("vic")}),
        &[("CF-Connecting-IP", "203.0.113.61")],
    )
    .await;
    skip_to(&mut obs, "join").await;
    v.drop_abruptly();
    assert_eq!(next_of_any(&mut obs, "away").await["name"], "Vic");
    // Vic is away (within the grace): a kick still removes and bans him.
    o.send_json(&json!({"type":"kick","name":"Vic"})).await;
    let k = skip_to(&mut obs, "kick").await;
    assert_eq!(k["target"], "Vic");
    assert_leave_frame(&obs.expect("leave").await, "Vic");
    let (_v, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Vicky"}),
        &[("CF-Connecting-IP", "203.0.113.61")],
    )
    .await;
    assert!(e["type"] == "error" && e["code"] == "banned", "{e}");
    // And the grace running out later announces nothing more.
    obs.expect_silence(Duration::from_millis(GRACE_MS + 700))
        .await;
    let st = stats(s, &room).await;
    assert_eq!(st["members"], 2, "{st}");
}

/// The next frame of type `ty`, skipping presence of other types.
async fn next_of_any(c: &mut Client, ty: &str) -> serde_json::Value {
    loop {
        let v = c.recv_json().await;
        if v["type"] == ty {
            return v;
        }
        assert!(is_presence(&v), "expected {ty}, got {v}");
    }
}
