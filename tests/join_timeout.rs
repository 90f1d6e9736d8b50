//! JOIN_TIMEOUT_MS, on a server started with `--var JOIN_TIMEOUT_MS:1500`: a socket that has not
//! joined by then is closed with 1008; a joined one is left alone.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[("JOIN_TIMEOUT_MS", "1500")])
}

#[tokio::test]
async fn unjoined_sockets_are_closed_1008_after_the_join_timeout() {
    let s = server();
    let room = uniq("timeout");
    let start = Instant::now();
    let (mut j, _) = join(s, &room, "Joined").await;
    let mut idle = connect(s, &room).await;
    let mut pinger = connect(s, &room).await;
    let mut failed = connect(s, &room).await;
    let mut chatty = connect(s, &room).await;
    failed
        .send_json(&json!({"type":"join","name":"bad\u{200B}name"}))
        .await;
    failed.expect_error("invalid_name").await;
    chatty
        .send_json(&json!({"type":"message","text":"hi"}))
        .await;
    chatty.expect_error("not_joined").await;
    pinger.send_text("ping").await;
    assert_eq!(pinger.recv().await, Frame::Text("pong".into()));

    // Not closed early…
    idle.expect_silence(Duration::from_millis(900)).await;
    let connected_at = start.elapsed();
    // …but closed with 1008 once the timeout has passed.
    for (what, c) in [
        ("idle", &mut idle),
        ("ping-only", &mut pinger),
        ("invalid_name", &mut failed),
        ("not_joined", &mut chatty),
    ] {
        match c.recv_timeout(Duration::from_secs(8)).await {
            Some(Frame::Close(code, _)) => assert_eq!(code, Some(1008), "{what} socket"),
            other => panic!(
                "{what} socket: expected close 1008 after the join timeout, got {other:?} \
                 ({:?} after start)",
                start.elapsed()
            ),
        }
    }
    let closed_at = start.elapsed();
    assert!(
        closed_at >= Duration::from_millis(1400),
        "closed after {closed_at:?} (connected by {connected_at:?}), before JOIN_TIMEOUT_MS 1500"
    );
    // The joined socket is untouched, and heard nothing about the unjoined ones.
    j.expect_silence(Duration::from_millis(1500)).await;
    j.say("still here").await;
    wait_stats(s, &room, "1 connection", |v| {
        v["connections"] == 1 && v["members"] == 1
    })
    .await;
}

#[tokio::test]
async fn a_socket_that_joins_in_time_is_never_timed_out() {
    let s = server();
    let room = uniq("intime");
    let mut c = connect(s, &room).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    c.join("Slowpoke").await;
    c.expect_silence(Duration::from_millis(2500)).await;
    c.say("alive").await;
}

/// Each socket has its own deadline: one that connected later is not closed with the first.
#[tokio::test]
async fn each_socket_gets_its_own_join_deadline() {
    let s = server();
    let room = uniq("deadlines");
    let start = Instant::now();
    let mut first = connect(s, &room).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut second = connect(s, &room).await;
    let second_at = start.elapsed();
    match first.recv_timeout(Duration::from_secs(8)).await {
        Some(Frame::Close(code, _)) => assert_eq!(code, Some(1008)),
        other => panic!("first socket: expected close 1008, got {other:?}"),
    }
    let first_closed = start.elapsed();
    assert!(
        first_closed >= Duration::from_millis(1400),
        "{first_closed:?}"
    );
    match second.recv_timeout(Duration::from_secs(8)).await {
        Some(Frame::Close(code, _)) => assert_eq!(code, Some(1008)),
        other => panic!("second socket: expected close 1008, got {other:?}"),
    }
    let second_closed = start.elapsed();
    assert!(
        second_closed >= second_at + Duration::from_millis(1400),
        "second socket (connected at {second_at:?}) closed at {second_closed:?}"
    );
}
