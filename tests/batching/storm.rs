//! A join storm under the DEFAULT join timeout: many members arrive at once (32 connects in
//! flight), every one gets in, no socket is closed 1008, and then one message reaches them all.
//! The time is printed, never asserted (the benchmark measures it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;

use crate::common::*;

use super::{serial, server};

/// Members in the storm (issue 11 asks for 1000 when CI time allows).
const MEMBERS: usize = 1000;
const IN_FLIGHT: usize = 32;
/// A guard against a hung run, far above the time the storm takes.
const GIVE_UP: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_storm_under_the_default_join_timeout_gets_everyone_in() {
    let _serial = serial().await;
    let s = server();
    let room = uniq("joinstorm");
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let (joined_tx, mut joined_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(), String>>();
    let start = Instant::now();

    // The first member says the final message once everyone is in.
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let mut go_rx = Some(go_rx);
    let mut tasks = Vec::new();
    for i in 0..MEMBERS {
        let go = go_rx.take();
        let gate = gate.clone();
        let joined_tx = joined_tx.clone();
        let room = room.clone();
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let mut c = connect(s, &room).await;
            c.send_json(&json!({"type":"join","name":format!("u{i:04}")}))
                .await;
            // The welcome, unless the socket is closed first (a 1008 is the failure we look for).
            let welcomed = loop {
                match c.recv_timeout(GIVE_UP).await {
                    Some(Frame::Text(t)) if t.contains(r#""type":"welcome""#) => break Ok(()),
                    Some(Frame::Text(_)) => continue,
                    other => break Err(format!("u{i:04} before its welcome: {other:?}")),
                }
            };
            drop(permit);
            let failed = welcomed.is_err();
            joined_tx.send(welcomed).unwrap();
            if failed {
                return (c, Err("no welcome".to_string()));
            }
            if let Some(go) = go {
                let _ = go.await;
                c.send_json(&json!({"type":"message","text":"the storm is over"}))
                    .await;
            }
            // Then it reads everything until the final message.
            loop {
                match c.recv_timeout(GIVE_UP).await {
                    Some(Frame::Text(t)) if t.contains("storm is over") => return (c, Ok(())),
                    Some(Frame::Text(_)) => continue,
                    other => return (c, Err(format!("u{i:04}: {other:?}"))),
                }
            }
        }));
    }
    drop(joined_tx);

    let mut failures = Vec::new();
    for _ in 0..MEMBERS {
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
        "{} of {MEMBERS} members did not get in (first: {:?})",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let st = wait_stats(s, &room, "every member", |v| v["members"] == MEMBERS).await;
    assert_eq!(st["connections"], MEMBERS, "{st}");

    // One message reaches all of them.
    go_tx.send(()).unwrap();
    let mut outcomes = Vec::new();
    for t in tasks {
        let (c, outcome) = tokio::time::timeout(GIVE_UP, t)
            .await
            .expect("a member never got the message")
            .unwrap();
        outcomes.push(outcome);
        drop(c);
    }
    let delivered_in = start.elapsed();
    let closed: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        closed.is_empty(),
        "{} of {MEMBERS} members missed the message (first: {:?})",
        closed.len(),
        &closed[..closed.len().min(5)]
    );
    eprintln!(
        "join storm: {MEMBERS} members ({IN_FLIGHT} connects in flight) all joined in {:.1} s, \
         the message reached all by {:.1} s; zero 1008 closes",
        joined_in.as_secs_f64(),
        delivered_in.as_secs_f64()
    );
}
