//! Rooms bigger than one object (src/relay.rs): with the relay threshold set low, a room of 300
//! members spreads over a dozen relay objects, and every member still sees the same messages with
//! the same ids in the same order, the same presence, and nothing lost when a relay or the room
//! object restarts.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const THRESHOLD: usize = 25;
const PER_RELAY: usize = 25;

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(
        &SERVER,
        &[
            ("RELAY_THRESHOLD", "25"),
            ("RELAY_MEMBERS", "25"),
            ("TEST_HOOKS", "1"),
        ],
    )
}

/// Joins `n` members named `{prefix}{i}` concurrently, 50 at a time (a crowd, not a stampede
/// that would only measure the test machine).
async fn crowd(s: &'static Server, room: &'static str, prefix: &str, n: usize) -> Vec<Client> {
    let mut all = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let mut handles = Vec::new();
        for &i in chunk {
            let name = format!("{prefix}{i:03}");
            handles.push(tokio::spawn(async move {
                let mut c = connect(s, room).await;
                c.join_with(
                    json!({"type":"join","name":name,"session":format!("session-for-{name}")}),
                )
                .await;
                c
            }));
        }
        for h in handles {
            all.push(h.await.unwrap());
        }
    }
    all
}

/// Reads frames until `count` messages have arrived; returns them, and the other frames seen.
async fn messages(c: &mut Client, count: usize) -> (Vec<Value>, Vec<Value>) {
    let (mut got, mut other) = (Vec::new(), Vec::new());
    while got.len() < count {
        let f = c.recv_json().await;
        if f["type"] == "message" {
            got.push(f);
        } else {
            other.push(f);
        }
    }
    (got, other)
}

/// Sends a message and returns its echo, past any presence frames.
async fn say(c: &mut Client, text: &str) -> Value {
    c.send_json(&json!({"type":"message","text":text})).await;
    messages(c, 1).await.0.remove(0)
}

fn key(m: &Value) -> (u64, String, String) {
    (
        m["id"].as_u64().unwrap(),
        m["name"].as_str().unwrap().to_string(),
        m["text"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_members_over_a_dozen_relays_see_the_same_room() {
    let s = server();
    let room = "relayed";
    let mut clients = crowd(s, room, "m", 300).await;
    let st = wait_stats(s, room, "300 members", |v| v["members"] == 300).await;
    let relays = st["relays"].as_array().unwrap();
    let relayed: u64 = relays
        .iter()
        .map(|r| r["connections"].as_u64().unwrap())
        .sum();
    assert_eq!(relayed, 300 - THRESHOLD as u64, "{st}");
    assert!(relays.len() >= (300 - THRESHOLD) / PER_RELAY, "{st}");
    for r in relays {
        assert!(
            r["connections"].as_u64().unwrap() <= PER_RELAY as u64,
            "{r}"
        );
    }

    // Presence is the same wherever a member is held: a late joiner (on a relay) lists all.
    let (mut late, w) = join(s, room, "Late").await;
    assert_eq!(members(&w).len(), 301);
    for c in clients.iter_mut() {
        // Joins of the crowd after this member come first.
        loop {
            let f = c.expect("join").await;
            if f["name"] == "Late" {
                break;
            }
        }
    }

    // 30 senders, 5 messages each, spread over the room object and its relays.
    let senders: Vec<usize> = (0..30).map(|i| i * 10).collect();
    for round in 0..5 {
        for &i in &senders {
            clients[i]
                .send_json(&json!({"type":"message","text":format!("r{round} from {i}")}))
                .await;
        }
    }
    let total = senders.len() * 5;
    let (reference, _) = messages(&mut late, total).await;
    let ids: Vec<u64> = reference.iter().map(|m| key(m).0).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    let mut readers = Vec::new();
    for mut c in clients {
        let reference = reference.clone();
        readers.push(tokio::spawn(async move {
            let (got, _) = messages(&mut c, total).await;
            let got: Vec<_> = got.iter().map(key).collect();
            let want: Vec<_> = reference.iter().map(key).collect();
            assert_eq!(got, want, "{:?} saw another room", c.name);
            c.expect_silence(Duration::from_millis(200)).await;
            c
        }));
    }
    let mut clients = Vec::new();
    for r in readers {
        clients.push(r.await.unwrap());
    }

    // The room object's sends grow with its relays, not its members.
    let st = stats(s, room).await;
    let room_sends = st["sends_per_message"].as_f64().unwrap();
    let relays = st["relays"].as_array().unwrap().len() as f64;
    assert!(
        room_sends <= THRESHOLD as f64 + relays + 1.0,
        "room sends per message {room_sends} with {relays} relays: {st}"
    );
    let relay_sends: f64 = st["relays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sends_per_message"].as_f64().unwrap_or(0.0))
        .sum();
    assert!(relay_sends > 0.0, "{st}");

    // A relayed member leaving is a leave for everyone.
    let leaver = clients.pop().unwrap();
    let name = leaver.name.clone().unwrap();
    leaver.close(Some(1000)).await;
    let f = late.expect("leave").await;
    assert_eq!(f["name"], name.as_str());
    s.assert_no_panic();
}

/// A member who reconnects with its session and `since`, as the browser client does.
async fn rejoin(s: &Server, room: &str, name: &str, since: u64) -> (Client, Value) {
    let mut c = connect(s, room).await;
    let w = c
        .join_with(json!({"type":"join","name":name,"session":format!("session-for-{name}"),"since":since}))
        .await;
    (c, w)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_fails_loses_nothing() {
    let s = server();
    let room = "relay-fails";
    let mut clients = crowd(s, room, "f", 60).await;
    // The last joiner is on a relay; make its relay fail.
    let victim = clients.len() - 1;
    let before = say(&mut clients[0], "before the failure").await;
    for c in clients.iter_mut().skip(1) {
        messages(c, 1).await;
    }
    let last_seen = before["id"].as_u64().unwrap();
    clients[victim]
        .send_text(r#"{"type":"debug_relay_abort"}"#)
        .await;
    // Every member of that relay is disconnected; the others keep chatting meanwhile.
    // (An abort resets its sockets without a close frame, as an eviction does.)
    loop {
        match clients[victim].recv_timeout(RECV_TIMEOUT).await {
            Some(Frame::Text(_)) => continue,
            None => panic!("the relay's member was not disconnected"),
            Some(_) => break,
        }
    }
    let during = say(&mut clients[0], "while the relay was down").await;
    // The victim comes back with `since` and sees exactly what it missed, once.
    let name = clients[victim].name.clone().unwrap();
    let (mut back, w) = rejoin(s, room, &name, last_seen).await;
    let history: Vec<u64> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "message")
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(history, [during["id"].as_u64().unwrap()], "{w}");
    let after = say(&mut clients[0], "after").await;
    let (m, _) = messages(&mut back, 1).await;
    assert_eq!(m[0]["id"], after["id"]);
    s.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_per_relay_add_up() {
    let s = server();
    let room = "relay-counts";
    let clients = crowd(s, room, "c", 80).await;
    let st = wait_stats(s, room, "80 members", |v| v["members"] == 80).await;
    let per: BTreeMap<u64, u64> = st["relays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["relay"].as_u64().unwrap(),
                r["connections"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(per.values().sum::<u64>(), 80 - THRESHOLD as u64, "{st}");
    drop(clients);
    let st = wait_stats(s, room, "empty", |v| v["connections"] == 0).await;
    let names: BTreeSet<_> = st["relays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["connections"].as_u64().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from([0]), "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_object_that_restarts_loses_nothing() {
    // Its own server: a restart ends every room of it.
    let srv = Server::start(&[("RELAY_THRESHOLD", "10"), ("RELAY_MEMBERS", "10")]);
    let room = "relay-restart";
    let mut clients = Vec::new();
    for i in 0..40 {
        let name = format!("r{i:03}");
        let mut c = connect(&srv, room).await;
        c.join_with(json!({"type":"join","name":name,"session":format!("session-for-{name}")}))
            .await;
        clients.push(c);
    }
    for i in [0, 15, 39] {
        clients[i]
            .send_json(&json!({"type":"message","text":format!("before, from {i}")}))
            .await;
    }
    let mut seen = Vec::new();
    for c in clients.iter_mut() {
        let (got, _) = messages(c, 3).await;
        seen.push(got.last().unwrap()["id"].as_u64().unwrap());
    }
    let names: Vec<String> = clients.iter().map(|c| c.name.clone().unwrap()).collect();
    for c in clients {
        c.drop_silently();
    }
    let srv = restart_blocking(srv).await;
    let s = &srv;

    // Everyone comes back with `since`: nothing before it again, and the room is whole.
    let mut back = Vec::new();
    for (name, since) in names.iter().zip(&seen) {
        let (c, w) = rejoin(s, room, name, *since).await;
        let replayed = w["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["type"] == "message")
            .count();
        assert_eq!(replayed, 0, "{name} got history again: {w}");
        back.push(c);
    }
    let st = wait_stats(s, room, "40 back", |v| v["members"] == 40).await;
    assert!(!st["relays"].as_array().unwrap().is_empty(), "{st}");
    let after = say(&mut back[39], "after the restart").await;
    for c in back.iter_mut().take(39) {
        let (m, _) = messages(c, 1).await;
        assert_eq!(m[0]["id"], after["id"]);
        assert!(after["id"].as_u64().unwrap() > seen[0]);
    }
    s.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_gets_a_count_wherever_its_sockets_are() {
    let srv = Server::start(&[
        ("RELAY_THRESHOLD", "5"),
        ("RELAY_MEMBERS", "5"),
        ("PRESENCE_LIST_MAX", "10"),
    ]);
    let room = "relay-crowd";
    let (mut first, _) = join(&srv, room, "first").await;
    let mut others = Vec::new();
    for i in 0..14 {
        others.push(join(&srv, room, &format!("c{i:02}")).await.0);
    }
    // A welcome past the size: the count and the latest joiners, not everyone.
    let (mut late, w) = join(&srv, room, "late").await;
    assert_eq!(w["count"], 16, "{w}");
    assert!(members(&w).len() <= 20 && members(&w).contains(&"late".to_string()));
    // The first member saw single joins up to the size, then counts.
    let mut count = 0;
    while count != 16 {
        let f = first.recv_json().await;
        if f["type"] == "presence" {
            count = f["count"].as_u64().unwrap();
        } else {
            assert_eq!(f["type"], "join", "{f}");
        }
    }
    // A leave in a crowd is a count too, on every object.
    others.pop().unwrap().close(Some(1000)).await;
    let f = late.expect("presence").await;
    assert_eq!(f["count"], 15, "{f}");
    assert_eq!(f["left"], json!(["c13"]));
    // Back to the size: the whole list once.
    for c in others.drain(8..) {
        c.close(Some(1000)).await;
    }
    let list = loop {
        let f = late.recv_json().await;
        if f.get("members").is_some() {
            break f;
        }
        assert!(f["type"] == "presence" || f["type"] == "leave", "{f}");
    };
    assert_eq!(list["count"], 10, "{list}");
    assert_eq!(list["members"].as_array().unwrap().len(), 10);
    srv.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_relays() {
    let srv = Server::start(&[
        ("RELAY_THRESHOLD", "2"),
        ("RELAY_MEMBERS", "2"),
        ("RATE_LIMIT_PER_SEC", "0.5"),
        ("RATE_LIMIT_BURST", "2"),
        ("ADDRESS_MAX_MEMBERS", "3"),
    ]);
    let room = "relay-limits";
    // Three seats from one address, spread over the room object and two relays...
    let mut seats = Vec::new();
    for i in 0..3 {
        let mut c = try_connect_with(srv.port, room, &[("CF-Connecting-IP", "198.51.100.7")])
            .await
            .unwrap();
        c.join(&format!("seat{i}")).await;
        seats.push(c);
    }
    let st = stats(&srv, room).await;
    assert!(!st["relays"].as_array().unwrap().is_empty(), "{st}");
    // ...and a fourth, on a relay too, is refused by the room object's count.
    let mut fourth = try_connect_with(srv.port, room, &[("CF-Connecting-IP", "198.51.100.7")])
        .await
        .unwrap();
    fourth
        .send_json(&json!({"type":"join","name":"seat3"}))
        .await;
    fourth.expect_error("address_limit").await;
    // A relayed member's messages draw on the same bucket as anyone's.
    let relayed = seats.last_mut().unwrap();
    for i in 0..2 {
        relayed
            .send_json(&json!({"type":"message","text":format!("m{i}")}))
            .await;
        messages(relayed, 1).await;
    }
    relayed
        .send_json(&json!({"type":"message","text":"one too many","nonce":"x"}))
        .await;
    let e = loop {
        let f = relayed.recv_json().await;
        if f["type"] == "error" {
            break f;
        }
    };
    assert_eq!(e["code"], "rate_limited", "{e}");
    srv.assert_no_panic();
}
