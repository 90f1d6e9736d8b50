//! A join storm under the DEFAULT join timeout: many members arrive at once, every one gets in, no
//! socket is closed 1008, and then one message reaches them all. Twice:
//! - 1000 members with 32 connects in flight (the benchmark's configuration);
//! - members connecting all at once, so that the last joins wait behind the room's backlog (the
//!   per-frame core closed some of them 1008; its benchmark had to raise the join timeout to 60 s
//!   for this).
//!
//! The times are printed, never asserted (the benchmark measures them).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;

use crate::common::*;

use super::{serial, server};

/// A guard against a hung run, far above the time the storm takes.
const GIVE_UP: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_storm_under_the_default_join_timeout_gets_everyone_in() {
    storm(1000, 32).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_storm_with_every_socket_connecting_at_once_gets_everyone_in() {
    storm(500, 500).await;
}

/// Connects and joins as `name`: the client once welcomed, or what happened instead.
async fn arrive(
    s: &'static Server,
    room: String,
    name: String,
    start: Instant,
) -> Result<Client, String> {
    let asked = start.elapsed().as_secs_f64();
    let mut c = match try_connect(s, &room).await {
        Ok(c) => c,
        Err(r) => return Err(format!("{name}: upgrade refused: {} {}", r.status, r.body)),
    };
    let sent = start.elapsed().as_secs_f64();
    c.send_json(&json!({"type":"join","name":name})).await;
    // The welcome, unless the socket is closed first (a 1008 is the failure we look for).
    loop {
        match c.recv_timeout(GIVE_UP).await {
            Some(Frame::Text(t)) if t.contains(r#""type":"welcome""#) => return Ok(c),
            Some(Frame::Text(_)) => continue,
            other => {
                return Err(format!(
                    "{name} before its welcome: {other:?} (connect asked at {asked:.1} s, \
                     upgraded and join sent at {sent:.1} s, closed at {:.1} s)",
                    start.elapsed().as_secs_f64()
                ))
            }
        }
    }
}

/// `members` members join one room, at most `in_flight` of them between connect and welcome.
async fn storm(members: usize, in_flight: usize) {
    let _serial = serial().await;
    let s = server();
    let room = uniq("joinstorm");
    let gate = Arc::new(Semaphore::new(in_flight));
    let (joined_tx, mut joined_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(), String>>();
    let start = Instant::now();

    // The first member says the final message once everyone is in.
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let mut go_rx = Some(go_rx);
    let mut tasks = Vec::new();
    for i in 0..members {
        let go = go_rx.take();
        let gate = gate.clone();
        let joined_tx = joined_tx.clone();
        let room = room.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("u{i:04}");
            let permit = gate.acquire_owned().await.unwrap();
            // In a task of its own, so that a panic in the harness (a handshake timeout) is
            // reported as this member's failure instead of hanging the count.
            let arrived = tokio::spawn(arrive(s, room, name.clone(), start)).await;
            drop(permit);
            let mut c = match arrived {
                Ok(Ok(c)) => {
                    joined_tx.send(Ok(())).unwrap();
                    c
                }
                Ok(Err(e)) => {
                    joined_tx.send(Err(e)).unwrap();
                    return Err("no welcome".to_string());
                }
                Err(panic) => {
                    joined_tx.send(Err(format!("{name}: {panic}"))).unwrap();
                    return Err("no welcome".to_string());
                }
            };
            if let Some(go) = go {
                let _ = go.await;
                c.send_json(&json!({"type":"message","text":"the storm is over"}))
                    .await;
            }
            // Then it reads everything until the final message.
            loop {
                match c.recv_timeout(GIVE_UP).await {
                    Some(Frame::Text(t)) if t.contains("storm is over") => return Ok(()),
                    Some(Frame::Text(_)) => continue,
                    other => return Err(format!("{name}: {other:?}")),
                }
            }
        }));
    }
    drop(joined_tx);

    let mut failures = Vec::new();
    for _ in 0..members {
        match tokio::time::timeout(GIVE_UP, joined_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => failures.push(e),
            Ok(None) => break,
            Err(_) => panic!("the storm did not finish within {GIVE_UP:?}"),
        }
    }
    let joined_in = start.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {members} members ({in_flight} connects in flight) did not get in within {:.1} s \
         (first: {:?})",
        failures.len(),
        joined_in.as_secs_f64(),
        &failures[..failures.len().min(5)]
    );
    let st = wait_stats(s, &room, "every member", |v| v["members"] == members).await;
    assert_eq!(st["connections"], members, "{st}");

    // One message reaches all of them.
    go_tx.send(()).unwrap();
    let mut missed = Vec::new();
    for t in tasks {
        let outcome = tokio::time::timeout(GIVE_UP, t)
            .await
            .expect("a member never got the message")
            .unwrap();
        if let Err(e) = outcome {
            missed.push(e);
        }
    }
    let delivered_in = start.elapsed();
    assert!(
        missed.is_empty(),
        "{} of {members} members missed the message (first: {:?})",
        missed.len(),
        &missed[..missed.len().min(5)]
    );
    eprintln!(
        "join storm: {members} members ({in_flight} connects in flight) all joined in {:.1} s, \
         the message reached all by {:.1} s; zero 1008 closes",
        joined_in.as_secs_f64(),
        delivered_in.as_secs_f64()
    );
}
