//! Closed sockets stay closed: a socket the server closed (4001 takeover, 1008 join timeout) that
//! still sends a join gets no answer, and nobody sees a join, even after the room object was
//! rebuilt (`debug_reset`). The ghost writes its join as raw bytes without reading the server's
//! close frame, as a raw-socket client that ignores closes would.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

use super::{limits, JOIN_TIMEOUT_MS, QUIET};

const SESSION: &str = "ghost-session-0123456789abcdef";

fn ghost_join() -> Vec<String> {
    vec![json!({"type":"join","name":"Ghost"}).to_string()]
}

/// The ghost's socket shows its close `code` and then no frame at all (no welcome, no error).
async fn assert_only_closed(ghost: &mut Client, code: u16) {
    loop {
        match ghost.recv_timeout(QUIET).await {
            Some(Frame::Close(c, _)) => {
                assert_eq!(c, Some(code), "the server's close");
                break;
            }
            Some(Frame::Text(t)) if !t.contains("Ghost") => continue,
            other => panic!("a closed socket sent a join and got {other:?}"),
        }
    }
    if let Some(Frame::Text(t)) = ghost.recv_timeout(QUIET).await {
        panic!("after its close, the ghost got {}", clip(&t));
    }
}

/// Nobody sees the ghost: `obs` hears nothing, and a later joiner's members are `want`.
async fn assert_no_ghost(s: &Server, room: &str, obs: &mut Client, want: &[&str]) {
    obs.expect_silence(QUIET).await;
    let (_late, w) = join(s, room, "Late").await;
    let mut want: Vec<&str> = want.to_vec();
    want.push("Late");
    assert_eq!(members(&w), want, "welcome after the ghost's join: {w}");
    assert_join_frame(&obs.expect("join").await, "Late");
    let st = stats(s, room).await;
    assert_eq!(st["members"], want.len(), "{st}");
}

/// Observer and Sam (with a session) join; a new socket takes Sam over. Returns the observer,
/// the old socket (closed 4001 by the server, its close frame unread) and the new one.
async fn takeover(s: &Server, room: &str) -> (Client, Client, Client) {
    let (mut obs, _) = join(s, room, "Observer").await;
    let mut old = connect(s, room).await;
    old.join_with(json!({"type":"join","name":"Sam","session":SESSION}))
        .await;
    assert_join_frame(&obs.expect("join").await, "Sam");
    let mut new = connect(s, room).await;
    new.join_with(json!({"type":"join","name":"Sam","session":SESSION}))
        .await;
    // The server has closed the old socket by the time the new one is welcomed.
    wait_stats(s, room, "the old socket closed", |v| v["connections"] == 2).await;
    (obs, old, new)
}

#[tokio::test]
async fn a_socket_closed_by_a_takeover_cannot_join_again() {
    let s = limits();
    let room = uniq("ghost-4001");
    let (mut obs, mut old, _new) = takeover(s, &room).await;
    old.write_texts(&ghost_join()).await;
    assert_no_ghost(s, &room, &mut obs, &["Observer", "Sam"]).await;
    assert_only_closed(&mut old, 4001).await;
}

#[tokio::test]
async fn a_socket_closed_by_the_join_timeout_cannot_join() {
    let s = limits();
    let room = uniq("ghost-1008");
    let (mut obs, _) = join(s, &room, "Observer").await;
    let mut late = connect(s, &room).await;
    // Past the join timeout, without reading the 1008 close.
    tokio::time::sleep(Duration::from_millis(JOIN_TIMEOUT_MS + 1500)).await;
    wait_stats(s, &room, "the unjoined socket closed", |v| {
        v["connections"] == 1
    })
    .await;
    late.write_texts(&ghost_join()).await;
    assert_no_ghost(s, &room, &mut obs, &["Observer"]).await;
    assert_only_closed(&mut late, 1008).await;
}

#[tokio::test]
async fn a_closed_socket_stays_closed_after_the_room_is_rebuilt() {
    let s = limits();
    let room = uniq("ghost-reset");
    let (mut obs, mut old, _new) = takeover(s, &room).await;
    obs.send_json(&json!({"type":"debug_reset"})).await;
    let v: Value = obs.recv_json().await;
    assert!(v["type"] == "debug_reset" && v["ok"] == true, "{v}");
    old.write_texts(&ghost_join()).await;
    assert_no_ghost(s, &room, &mut obs, &["Observer", "Sam"]).await;
    assert_only_closed(&mut old, 4001).await;
}
