//! A room with hundreds of members: 300 clients join concurrently, everyone sees a consistent
//! member list in join order, one message reaches all of them, and when they all leave the room
//! is empty again.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[])
}

const N: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_members_join_chat_and_leave() {
    let s = server();
    let room = "crowd";
    let started = Instant::now();
    let names: Vec<String> = (0..N).map(|i| format!("user{i:03}")).collect();

    // All join at once.
    let mut handles = Vec::new();
    for n in names.clone() {
        handles.push(tokio::spawn(async move { join(s, room, &n).await }));
    }
    let mut clients: Vec<(Client, Value)> = Vec::new();
    for h in handles {
        clients.push(h.await.unwrap());
    }
    eprintln!("{N} joined in {:?}", started.elapsed());

    // The observer's list is everyone, once, in some join order, the observer last.
    let (mut obs, w) = join(s, room, "Observer").await;
    let order = members(&w);
    assert_eq!(order.len(), N + 1, "member count");
    assert_eq!(order.last().unwrap(), "Observer");
    let set: BTreeSet<&String> = order[..N].iter().collect();
    assert_eq!(set.len(), N, "duplicate member names: {order:?}");
    assert_eq!(set, names.iter().collect::<BTreeSet<_>>());
    // Each joiner's welcome listed the members up to the end of its burst, in that same order,
    // itself among them (a welcome is built when the burst it joined in is sent).
    for (c, w) in &clients {
        let m = members(w);
        let me = c.name.as_ref().unwrap();
        assert!(m.contains(me), "{me} is in its own welcome");
        assert_eq!(
            m[..],
            order[..m.len()],
            "{me}'s welcome disagrees with the join order"
        );
    }
    let st = stats(s, room).await;
    assert_eq!(st["members"], N + 1);
    assert_eq!(st["connections"], N + 1);

    // One message reaches all 301 members; before it, each client sees exactly the joins of
    // those who came after it.
    let sender = order[N / 2].clone();
    let idx = clients
        .iter()
        .position(|(c, _)| c.name.as_ref() == Some(&sender))
        .unwrap();
    clients[idx]
        .0
        .send_json(&json!({"type":"message","text":"hello, crowd","nonce":"big"}))
        .await;
    let mut readers = Vec::new();
    for (mut c, w) in clients {
        let order = order.clone();
        readers.push(tokio::spawn(async move {
            let (m, before) = recv_until_message(&mut c).await;
            let known = members(&w).len();
            let later: Vec<String> = before
                .iter()
                .map(|f| {
                    assert_eq!(f["type"], "join", "only joins before the message: {f}");
                    f["name"].as_str().unwrap().to_string()
                })
                .collect();
            assert_eq!(later[..], order[known..], "joins seen by {:?}", c.name);
            (c, m)
        }));
    }
    let (m_obs, before) = recv_until_message(&mut obs).await;
    assert!(before.is_empty(), "{before:?}");
    assert_eq!(m_obs["name"], sender.as_str());
    assert_eq!(m_obs["nonce"], "big");
    let mut clients = Vec::new();
    for r in readers {
        let (c, m) = r.await.unwrap();
        assert_eq!(m, m_obs);
        clients.push(c);
    }
    eprintln!("message delivered to all by {:?}", started.elapsed());

    // Everyone leaves at once; the observer sees each leave exactly once.
    let mut closers = Vec::new();
    for c in clients {
        closers.push(tokio::spawn(async move { c.close(Some(1000)).await }));
    }
    let mut left = BTreeSet::new();
    for _ in 0..N {
        let v = obs.expect("leave").await;
        let n = v["name"].as_str().unwrap().to_string();
        assert!(left.insert(n.clone()), "{n} left twice");
    }
    assert_eq!(left, names.iter().cloned().collect::<BTreeSet<_>>());
    for c in closers {
        assert_eq!(c.await.unwrap(), Some(1000));
    }
    obs.expect_silence(Duration::from_millis(500)).await;
    wait_stats(s, room, "1 member", |v| {
        v["members"] == 1 && v["connections"] == 1
    })
    .await;
    let (late, w) = join(s, room, "Late").await;
    assert_eq!(members(&w), ["Observer", "Late"]);
    drop(late);
    obs.expect("join").await;
    obs.close(Some(1000)).await;
    let st = wait_stats(s, room, "empty", |v| {
        v["members"] == 0 && v["connections"] == 0
    })
    .await;
    assert_eq!(st["messages_stored"], 1);
    s.assert_no_panic();
    eprintln!("done in {:?}", started.elapsed());
}
