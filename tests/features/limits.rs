//! The new frames under the room's other limits: the message rate limit (edits and reactions
//! count), the history cap (changes are log entries too), the lock against members coming back
//! within the presence grace, and an away member's deadline across a restart.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

use super::restart::drain_until_gone;
use super::*;

#[tokio::test]
async fn reactions_count_against_the_rate_limit_and_the_state_stays_consistent() {
    let s = server();
    let room = uniq("react-rate");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let m = a.say("toggle me").await;
    b.expect("message").await;
    let target = id_of(&m);
    // 31 toggles in one write: the burst (20 tokens, less the message) runs out.
    let frame = json!({"type":"react","id":target,"emoji":"👍"}).to_string();
    b.write_texts(&vec![frame; 31]).await;
    let (mut on, mut limited) = (0, 0);
    for _ in 0..31 {
        let v = next_of_types(&mut b, &["react", "error"]).await;
        if v["type"] == "react" {
            on += 1;
            assert_eq!(v["on"], on % 2 == 1, "toggles alternate: {v}");
        } else {
            assert_eq!(v["code"], "rate_limited", "{v}");
            assert_eq!(v["target"], target, "{v}");
            assert!(v["retry_after_ms"].as_u64().is_some_and(|r| r > 0), "{v}");
            limited += 1;
        }
    }
    assert!(limited > 0 && on > 0, "{on} accepted, {limited} limited");
    // Alice saw exactly the accepted ones; the stored state is their sum.
    for i in 0..on {
        assert_eq!(next_of(&mut a, "react").await["on"], i % 2 == 0);
    }
    a.expect_silence(QUIET).await;
    let page = history_page(s, &room, "").await;
    let want = if on % 2 == 1 {
        json!([{"emoji":"👍","count":1,"names":["Bob"]}])
    } else {
        Value::Null
    };
    assert_eq!(page[0]["reactions"], want, "{}", page[0]);
}

/// The next frame of one of `types`, skipping presence.
async fn next_of_types(c: &mut Client, types: &[&str]) -> Value {
    loop {
        let v = c.recv_json().await;
        if is_presence(&v) {
            continue;
        }
        assert!(
            types.iter().any(|t| v["type"] == *t),
            "want {types:?}, got {v}"
        );
        return v;
    }
}

#[tokio::test]
async fn only_messages_count_toward_the_history_cap_and_capped_messages_are_gone() {
    let s = short();
    let room = uniq("cap");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let m1 = a.say("soon beyond the cap").await;
    let m2 = a.say("react target").await;
    // 2 messages + 19 reactions (three members, below the rate limit): the cap is 20 messages,
    // and changes do not count towards it (they have CHANGES_CAP), so nothing goes.
    let emoji = ["😀", "😃", "😄"];
    for (who, n) in [("B", 7), ("C", 6), ("D", 6)] {
        let (mut c, _) = join(s, &room, who).await;
        for i in 0..n {
            let f = json!({"type":"react","id":id_of(&m2),"emoji":emoji[i % 3]});
            c.send_json(&f).await;
            c.expect("react").await;
        }
    }
    let st = stats(s, &room).await;
    assert_eq!(st["messages_stored"], 21, "{st}");
    // 19 newer messages: 21 in all, so the first message goes (and only it).
    for who in ["X", "Y"] {
        let (mut c, _) = join(s, &room, who).await;
        for i in 0..if who == "X" { 10 } else { 9 } {
            c.say(&format!("{who}{i}")).await;
        }
    }
    let all = log_after(s, &room, 0, 100).await;
    assert_eq!(all.len() as u64, HISTORY_CAP + 19);
    assert_eq!(all[0]["id"], m2["id"], "the oldest message went");
    assert!(all.iter().all(|e| e["id"] != m1["id"]));
    // The capped message is no more: nothing can change or quote it.
    let (mut a, _) = join(s, &room, "Zed").await;
    for f in [
        json!({"type":"edit","id":id_of(&m1),"text":"x"}),
        json!({"type":"react","id":id_of(&m1),"emoji":"👍"}),
    ] {
        refused(&mut a, f, "not_found").await;
    }
    let f = json!({"type":"message","text":"re","reply_to":id_of(&m1)});
    refused(&mut a, f, "not_found").await;
    // A resume from the first message gets every entry the room still has: nothing stored after
    // it was left out.
    for since in [0, id_of(&m1)] {
        let (_b, w) = enter(
            s,
            &room,
            json!({"type":"join","name":format!("Bea{since}"),"since":since}),
        )
        .await;
        assert_eq!(w["truncated"], false, "since {since}");
        assert_eq!(history(&w), all, "the welcome holds what is left");
    }
}

#[tokio::test]
async fn a_locked_room_lets_an_away_member_back_within_the_grace_only() {
    let s = grace();
    let (room, key) = create_room(s).await;
    let (mut o, _) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    let (a, _, sess) = join_session(s, &room, "Alice").await;
    o.expect("join").await;
    change(
        &mut o,
        &mut [],
        json!({"type":"lock","locked":true}),
        "lock",
    )
    .await;
    a.drop_abruptly();
    o.expect("away").await;
    let (a, w) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Alice","session":sess}),
        &[],
    )
    .await;
    assert_eq!(w["type"], "welcome", "back within the grace: {w}");
    assert_eq!(w["locked"], true);
    assert_eq!(o.expect("back").await["name"], "Alice");
    a.drop_abruptly();
    o.expect("away").await;
    assert_leave_frame(&o.expect("leave").await, "Alice");
    let (_a, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Alice","session":sess}),
        &[],
    )
    .await;
    assert!(
        e["type"] == "error" && e["code"] == "room_locked",
        "after the grace: {e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_away_member_keeps_their_deadline_across_a_restart() {
    const GRACE: u64 = 12_000;
    let srv = Server::start(&[("PRESENCE_GRACE_MS", "12000")]);
    let room = "away-restart";
    let (mut a, _, a_sess) = join_session(&srv, room, "Alice").await;
    let (b, _, _) = join_session(&srv, room, "Bob").await;
    a.expect("join").await;
    b.drop_abruptly();
    a.expect("away").await;
    let dropped = Instant::now();
    let srv = restart_blocking(srv).await;
    let restarted = Instant::now();
    drain_until_gone(&mut a).await;
    let (mut a, w) = enter(
        &srv,
        room,
        json!({"type":"join","name":"Alice","session":a_sess}),
    )
    .await;
    let welcomed = dropped.elapsed();
    // On a loaded machine the restart alone can outlast the grace: then Bob must already be gone
    // (a grace restarted with the room would still hold him).
    // (A welcome right at the deadline may go either way.)
    if welcomed >= Duration::from_millis(GRACE) {
        if welcomed > Duration::from_millis(GRACE + 2500) {
            assert_eq!(members(&w), ["Alice"], "{welcomed:?} after the drop: {w}");
        }
        srv.assert_no_panic();
        return;
    }
    assert_eq!(
        members(&w),
        ["Alice", "Bob"],
        "{welcomed:?} after the drop: {w}"
    );
    assert_eq!(w["away"], json!(["Bob"]), "{w}");
    // Bob leaves once, when his grace from the drop runs out (not a new grace from the restart).
    let leave = next_of_types_timeout(&mut a, "leave", Duration::from_millis(GRACE + 10_000)).await;
    assert_leave_frame(&leave, "Bob");
    let at = dropped.elapsed();
    let restart_took = restarted - dropped;
    assert!(
        at < Duration::from_millis(GRACE + 2500).max(restart_took + Duration::from_millis(2500)),
        "Bob left {at:?} after his drop (the restart took {restart_took:?})"
    );
    a.expect_silence(QUIET).await;
    srv.assert_no_panic();
}

async fn next_of_types_timeout(c: &mut Client, ty: &str, d: Duration) -> Value {
    let deadline = Instant::now() + d;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.recv_timeout(left).await {
            Some(Frame::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == ty {
                    return v;
                }
                assert!(is_presence(&v), "want {ty}, got {v}");
            }
            other => panic!("no {ty} within {d:?}: {other:?}"),
        }
    }
}
