//! A re-created room object keeps its members: with `--var TEST_HOOKS:1`, the frame
//! `{"type":"debug_reset"}` makes the room object drop all its in-memory state (as when the
//! runtime rebuilds the instance after eviction, hibernation or a Wasm trap) while the sockets stay
//! open. Everything the room knows about its members must come back from the sockets' attachments
//! and storage. The last test checks the same after a real hibernation.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[("TEST_HOOKS", "1")])
}

async fn reset(c: &mut Client) {
    c.send_json(&json!({"type":"debug_reset"})).await;
    let v = c.recv_json().await;
    assert!(
        v["type"] == "debug_reset" && v["ok"] == true,
        "expected {{\"type\":\"debug_reset\",\"ok\":true}}, got {v}"
    );
}

/// Ann and Bob join `room`, Ann says `text` and Bob receives it. Returns both and the message.
async fn ann_and_bob_talking(s: &Server, room: &str, text: &str) -> (Client, Client, Value) {
    let (mut a, _) = join(s, room, "Ann").await;
    let (mut b, _) = join(s, room, "Bob").await;
    a.expect("join").await;
    let m1 = a.say(text).await;
    assert_eq!(b.expect("message").await, m1);
    (a, b, m1)
}

#[tokio::test]
async fn reset_room_still_knows_every_member() {
    let s = server();
    let room = uniq("reset");
    let (mut a, mut b, m1) = ann_and_bob_talking(s, &room, "before the reset").await;
    let mut unjoined = connect(s, &room).await;
    let st0 = stats(s, &room).await;

    reset(&mut a).await;
    b.expect_silence(Duration::from_millis(300)).await;

    let st = stats(s, &room).await;
    assert_eq!(st["members"], 2, "after reset: {st}");
    assert_eq!(st["connections"], 3, "after reset: {st}");
    assert_eq!(st["messages_stored"], 1, "{st}");
    assert_eq!(st["last_message_id"], m1["id"], "{st}");
    assert!(st["started_at"].as_i64() >= st0["started_at"].as_i64());

    // A newcomer sees both old members, in join order, then itself.
    let (mut c, w) = join(s, &room, "Cat").await;
    assert_eq!(members(&w), ["Ann", "Bob", "Cat"]);
    assert_eq!(w["last_id"], m1["id"]);
    assert_eq!(
        ids(w["history"].as_array().unwrap()),
        ids(std::slice::from_ref(&m1))
    );
    assert_join_frame(&a.expect("join").await, "Cat");
    assert_join_frame(&b.expect("join").await, "Cat");

    // Names are still held, case-insensitively.
    let mut d = connect(s, &room).await;
    for n in ["ann", "BOB", "Ann"] {
        d.send_json(&json!({"type":"join","name":n})).await;
        d.expect_error("name_taken").await;
    }

    // Old members are still joined: they can talk, under their names, and ids continue.
    let m2 = b.say("after the reset").await;
    assert!(
        m2["id"].as_i64().unwrap() > m1["id"].as_i64().unwrap(),
        "id sequence restarted: {m1} then {m2}"
    );
    assert_eq!(a.expect("message").await, m2);
    assert_eq!(c.expect("message").await, m2);
    // A second join on an old member's socket is still a second join.
    a.send_json(&json!({"type":"join","name":"Ann"})).await;
    a.expect_error("bad_request").await;
    // The unjoined socket is still unjoined.
    unjoined
        .send_json(&json!({"type":"message","text":"hi"}))
        .await;
    unjoined.expect_error("not_joined").await;
    // Typing is relayed with the right name.
    a.send_json(&json!({"type":"typing"})).await;
    assert_eq!(b.expect("typing").await["name"], "Ann");
    assert_eq!(c.expect("typing").await["name"], "Ann");

    // An old member's leave is still broadcast, once.
    assert_eq!(a.close(Some(1000)).await, Some(1000));
    assert_leave_frame(&b.expect("leave").await, "Ann");
    assert_leave_frame(&c.expect("leave").await, "Ann");

    // Reset again, then an old member drops abruptly: still a leave.
    reset(&mut c).await;
    b.drop_abruptly();
    assert_leave_frame(&c.expect("leave").await, "Bob");
    c.expect_silence(Duration::from_millis(500)).await;
    let st = wait_stats(s, &room, "1 member", |v| v["members"] == 1).await;
    assert_eq!(st["messages_stored"], 2);
    let (_e, w) = join(s, &room, "Bob").await;
    assert_eq!(members(&w), ["Cat", "Bob"]);
    s.assert_no_panic();
}

#[tokio::test]
async fn reset_keeps_sessions_for_takeover() {
    let s = server();
    let room = uniq("resetsess");
    let secret = "tab-secret-0123456789-abcdef";
    let (mut obs, _) = join(s, &room, "Obs").await;
    let mut t1 = connect(s, &room).await;
    t1.join_with(json!({"type":"join","name":"Sam","session":secret}))
        .await;
    obs.expect("join").await;

    reset(&mut obs).await;

    // A different session still cannot take the name…
    let mut thief = connect(s, &room).await;
    thief
        .send_json(&json!({"type":"join","name":"Sam","session":"not-the-same-session-0000"}))
        .await;
    thief.expect_error("name_taken").await;
    // …the same session still can, silently.
    let mut t2 = connect(s, &room).await;
    let w = t2
        .join_with(json!({"type":"join","name":"Sam","session":secret}))
        .await;
    assert_eq!(members(&w), ["Obs", "Sam"]);
    assert_eq!(t1.expect_close().await, Some(4001));
    obs.expect_silence(Duration::from_millis(1000)).await;
    let m = t2.say("taken over after a reset").await;
    let seen: Value = obs.expect("message").await;
    assert_eq!(seen, m);
    assert!(!seen.to_string().contains(secret));
}

#[tokio::test]
async fn reset_with_many_members_and_an_empty_room() {
    let s = server();
    let room = uniq("resetmany");
    // An empty room can be reset (from a socket that never joined), and still works.
    let mut u = connect(s, &room).await;
    reset(&mut u).await;
    let mut clients = Vec::new();
    let names: Vec<String> = (0..12).map(|i| format!("Member{i:02}")).collect();
    for n in &names {
        let (c, w) = join(s, &room, n).await;
        assert_eq!(members(&w).last().unwrap(), n);
        clients.push(c);
    }
    // From the newest member (the others still have join frames queued).
    reset(&mut clients[11]).await;
    let (_z, w) = join(s, &room, "Zed").await;
    let mut want = names.clone();
    want.push("Zed".into());
    assert_eq!(members(&w), want);
    assert_eq!(stats(s, &room).await["members"], 13);
    u.join("Late").await;
}

/// The real thing, without the hook: wrangler dev hibernates an idle room object (~10 s) and
/// rebuilds it on the next event. `ping` is answered by the runtime without waking the room, so
/// pinging sockets do not keep it awake. After the wake-up the room knows every member.
#[tokio::test]
async fn hibernated_room_wakes_with_every_member() {
    let s = server();
    let room = uniq("hibernate");
    let (mut a, mut b, m1) = ann_and_bob_talking(s, &room, "before hibernation").await;
    let st0 = stats(s, &room).await;

    // Stay idle (but pinging) until the object has been re-created.
    let mut st1 = st0.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // Each stats call wakes the room: stay idle longer than wrangler's ~10 s each round.
    let idle = Duration::from_secs(12);
    while st1["started_at"] == st0["started_at"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the room object never hibernated (started_at stayed {}): cannot test the wake-up",
            st0["started_at"]
        );
        let until = std::time::Instant::now() + idle;
        while std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_secs(2)).await;
            a.send_text("ping").await;
            assert_eq!(a.recv().await, Frame::Text("pong".into()));
        }
        st1 = stats(s, &room).await;
    }
    assert!(st1["started_at"].as_i64() > st0["started_at"].as_i64());
    assert_eq!(st1["members"], 2, "after waking: {st1}");
    assert_eq!(st1["connections"], 2, "after waking: {st1}");
    assert_eq!(st1["last_message_id"], m1["id"], "after waking: {st1}");

    let (mut c, w) = join(s, &room, "Cat").await;
    assert_eq!(members(&w), ["Ann", "Bob", "Cat"]);
    assert_eq!(
        ids(w["history"].as_array().unwrap()),
        ids(std::slice::from_ref(&m1))
    );
    assert_join_frame(&a.expect("join").await, "Cat");
    assert_join_frame(&b.expect("join").await, "Cat");
    let mut d = connect(s, &room).await;
    d.send_json(&json!({"type":"join","name":"BOB"})).await;
    d.expect_error("name_taken").await;
    let m2 = b.say("after waking").await;
    assert!(m2["id"].as_i64().unwrap() > m1["id"].as_i64().unwrap());
    assert_eq!(a.expect("message").await, m2);
    assert_eq!(c.expect("message").await, m2);
    assert_eq!(a.close(None).await, Some(1000));
    assert_leave_frame(&b.expect("leave").await, "Ann");
    assert_leave_frame(&c.expect("leave").await, "Ann");
    s.assert_no_panic();
}
