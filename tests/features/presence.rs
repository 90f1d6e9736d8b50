//! Quiet reconnects (PRESENCE_GRACE_MS): a member whose socket drops and who rejoins with the
//! same session within the grace causes no leave or join at the others (they may see `away` and
//! `back`); after the grace, one leave; and across a restart of the server within the grace, no
//! join either.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

use super::restart::drain_until_gone;
use super::*;

/// Every frame `c` gets within `d`.
async fn frames_within(c: &mut Client, d: Duration) -> Vec<Value> {
    let deadline = Instant::now() + d;
    let mut out = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match c.recv_timeout(left).await {
            Some(Frame::Text(t)) => out.push(serde_json::from_str(&t).unwrap()),
            Some(other) => panic!("unexpected {}", other.describe()),
            None => break,
        }
    }
    out
}

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().filter_map(|f| f["type"].as_str()).collect()
}

#[tokio::test]
async fn a_drop_and_a_rejoin_within_the_grace_is_no_leave_and_no_join() {
    let s = grace();
    let room = uniq("grace-back");
    let (mut obs, _) = join(s, &room, "Obs").await;
    let (a, _, sess) = join_session(s, &room, "Alice").await;
    assert_join_frame(&obs.expect("join").await, "Alice");
    a.drop_abruptly();
    let away = obs.expect("away").await;
    assert_eq!(away["name"], "Alice", "{away}");
    // Someone joining meanwhile sees Alice as a member who is away.
    let (mut c, w) = join(s, &room, "Cy").await;
    assert_eq!(members(&w), ["Obs", "Alice", "Cy"], "{w}");
    assert_eq!(w["away"], json!(["Alice"]), "{w}");
    let (mut a, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Alice","session":sess}),
    )
    .await;
    assert_eq!(members(&w), ["Obs", "Alice", "Cy"], "{w}");
    assert!(w.get("away").is_none(), "{w}");
    // Beyond the grace: Obs saw Cy join and Alice come back, nothing else.
    let seen = frames_within(&mut obs, Duration::from_millis(GRACE_MS + 1000)).await;
    assert_eq!(types(&seen), ["join", "back"], "{seen:?}");
    assert_eq!(
        (&seen[0]["name"], &seen[1]["name"]),
        (&json!("Cy"), &json!("Alice"))
    );
    assert_eq!(types(&frames_within(&mut c, QUIET).await), ["back"]);
    // Alice is a member as before.
    let m = a.say("back again").await;
    assert_eq!(obs.expect("message").await, m);
    assert_eq!(stats(s, &room).await["members"], 3);
}

#[tokio::test]
async fn after_the_grace_the_member_leaves_once() {
    let s = grace();
    let room = uniq("grace-gone");
    let (mut obs, _) = join(s, &room, "Obs").await;
    let (a, _, sess) = join_session(s, &room, "Alice").await;
    obs.expect("join").await;
    let dropped = Instant::now();
    a.drop_abruptly();
    obs.expect("away").await;
    // Within the grace the name is still held for Alice's session.
    let (mut thief, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Alice","session":session("thief")}),
        &[],
    )
    .await;
    assert!(e["type"] == "error" && e["code"] == "name_taken", "{e}");
    let leave = obs.expect("leave").await;
    assert_leave_frame(&leave, "Alice");
    assert!(
        dropped.elapsed() >= Duration::from_millis(GRACE_MS - 200),
        "the leave came before the grace ran out: {:?}",
        dropped.elapsed()
    );
    obs.expect_silence(Duration::from_millis(GRACE_MS)).await;
    // Gone for good: the name is free, and a rejoin is a join.
    thief.join("Alice").await;
    assert_join_frame(&obs.expect("join").await, "Alice");
    let (_a, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Alice","session":sess}),
        &[],
    )
    .await;
    obs.expect_silence(QUIET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_within_the_grace_is_no_join_for_the_others() {
    let srv = Server::start(&[("PRESENCE_GRACE_MS", "60000")]);
    let room = "grace-restart";
    let (mut a, _, a_sess) = join_session(&srv, room, "Alice").await;
    let (mut b, _, b_sess) = join_session(&srv, room, "Bob").await;
    a.expect("join").await;
    let m = a.say("before the restart").await;
    b.expect("message").await;

    let srv = restart_blocking(srv).await;
    drain_until_gone(&mut a).await;
    drain_until_gone(&mut b).await;

    // Bob comes back first: Alice is still in the room, away.
    let (mut b, w) = enter(
        &srv,
        room,
        json!({"type":"join","name":"Bob","session":b_sess,"since":m["id"]}),
    )
    .await;
    assert_eq!(members(&w), ["Alice", "Bob"], "{w}");
    assert_eq!(w["away"], json!(["Alice"]), "{w}");
    assert_eq!(history(&w), Vec::<Value>::new());
    // Alice comes back: Bob hears she is back, never a join or a leave.
    let (mut a, w) = enter(
        &srv,
        room,
        json!({"type":"join","name":"Alice","session":a_sess}),
    )
    .await;
    assert_eq!(members(&w), ["Alice", "Bob"], "{w}");
    let seen = frames_within(&mut b, Duration::from_millis(1500)).await;
    assert_eq!(types(&seen), ["back"], "{seen:?}");
    let m2 = a.say("after the restart").await;
    assert_eq!(b.expect("message").await, m2);
    assert!(id_of(&m2) > id_of(&m));
    srv.assert_no_panic();
}
