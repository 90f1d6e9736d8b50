//! A hostile storm, bounded in count and time: many sockets sending random bytes, truncated and
//! deeply nested JSON, wrong types, huge strings, look-alike names, prototype keys, duplicate and
//! racing joins, messages before join, rapid connect/disconnect and abrupt TCP drops. Afterwards the
//! room must still work, hold no ghost member, and the wrangler log must show no panic or trap.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

static SERVER: OnceLock<Server> = OnceLock::new();
static RELAYED: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[])
}

/// Past one joined member every socket goes to a relay: the storm goes through relays' links.
fn relayed() -> &'static Server {
    shared(
        &RELAYED,
        &[("RELAY_THRESHOLD", "1"), ("RELAY_MEMBERS", "8")],
    )
}
const WORKERS: u64 = 16;
const STEPS: u64 = 60;

fn is_broadcast(v: &Value) -> bool {
    matches!(
        v["type"].as_str(),
        Some("join") | Some("leave") | Some("message") | Some("typing")
    )
}

/// The reply to what a socket just sent: the next frame that is not a room broadcast.
/// `Err(code)` when the socket was closed instead (e.g. 1008 by the join timeout).
async fn reply(c: &mut Client) -> Result<Value, Option<u16>> {
    loop {
        match c.recv_timeout(Duration::from_secs(10)).await {
            Some(Frame::Text(t)) => {
                let v: Value = serde_json::from_str(&t)
                    .unwrap_or_else(|e| panic!("server sent non-JSON ({e}): {}", clip(&t)));
                if !is_broadcast(&v) {
                    return Ok(v);
                }
            }
            Some(Frame::Close(code, _)) => return Err(code),
            Some(Frame::Ended) | Some(Frame::Error(_)) => return Err(None),
            Some(Frame::Binary(b)) => panic!("server sent a binary frame: {b:?}"),
            None => panic!("no reply within 10 s"),
        }
    }
}

fn garbage_text(rng: &mut Rng, max_chars: u64) -> String {
    const NASTY: &[char] = &[
        '\u{0000}', '\u{0007}', '\u{001b}', '\u{007f}', '\u{0085}', '\u{00ad}', '\u{200b}',
        '\u{200d}', '\u{202e}', '\u{2066}', '\u{2028}', '\u{feff}', '\u{fffd}', '"', '\\', '{',
        '}', '[', ']', ':', ',', '😀', '漢', 'a', ' ', '\n',
    ];
    let n = 1 + rng.below(max_chars);
    let mut s = String::from("x");
    for _ in 0..n {
        if rng.below(3) == 0 {
            s.push(*rng.pick(NASTY));
        } else {
            s.push(char::from_u32(rng.below(0xD7FF) as u32).unwrap_or('?'));
        }
    }
    s
}

fn hostile_name(rng: &mut Rng) -> String {
    let bad = [
        "\u{0000}", "\u{0007}", "\u{001b}", "\u{007f}", "\u{200b}", "\u{200d}", "\u{202e}",
        "\u{2066}", "\u{00ad}", "\u{feff}", "\u{2028}", "\n",
    ];
    format!("ev{}{}il", rng.below(1000), rng.pick(&bad))
}

#[derive(Default, Debug)]
struct Tally {
    errors: BTreeMap<String, u64>,
    joined: u64,
    timeouts: u64,
}

/// One storm worker. `unjoined` is a socket that never joins (reopened when the join timeout or
/// a drop takes it away); joins happen on throwaway sockets that end in one of several ways.
async fn worker(s: &'static Server, room: &'static str, id: u64) -> Tally {
    let mut rng = Rng::new(0xC0FFEE + id);
    let mut t = Tally::default();
    let mut unjoined: Option<Client> = None;
    for step in 0..STEPS {
        let action = rng.below(16);
        if action <= 9 {
            // Frames sent on an unjoined socket, each answered by exactly one error.
            if unjoined.is_none() || rng.below(12) == 0 {
                if let Some(old) = unjoined.take() {
                    old.drop_abruptly();
                }
                unjoined = Some(connect(s, room).await);
            }
            let c = unjoined.as_mut().unwrap();
            let (msg, want): (Message, &[&str]) = match action {
                0 => (
                    Message::Binary({
                        let n = 1 + rng.below(4000) as usize;
                        rng.bytes(n)
                    }),
                    &["bad_request"],
                ),
                1 => (Message::Text(garbage_text(&mut rng, 3000)), &["bad_request"]),
                2 => {
                    let full = json!({"type":"join","name":format!("trunc{id}-{step}")})
                        .to_string();
                    let cut = 1 + rng.below(full.len() as u64 - 1) as usize;
                    (Message::Text(full[..cut].to_string()), &["bad_request"])
                }
                3 => (Message::Text("[".repeat(100_000)), &["too_large"]),
                4 => (Message::Text("[".repeat(15_000)), &["bad_request"]),
                5 => {
                    let frames = [
                        r#"{"type":123}"#,
                        r#"{"type":"join","name":["a"]}"#,
                        r#"{"type":"join","name":{"toString":"x"}}"#,
                        r#"{"type":"message","text":{}}"#,
                        r#"{"type":"message","text":"x","nonce":[]}"#,
                        r#"[{"type":"join","name":"arr"}]"#,
                        r#""join""#,
                        "null",
                        "-0.0e-999",
                        r#"{"type":"nope"}"#,
                    ];
                    // Reading: a wrong-typed message on an unjoined socket may be refused
                    // either as malformed or as not joined.
                    (
                        Message::Text(rng.pick(&frames).to_string()),
                        &["bad_request", "not_joined"],
                    )
                }
                6 => (
                    Message::Text(
                        json!({"type":"message","text":"y".repeat(300_000 + rng.below(100_000) as usize)})
                            .to_string(),
                    ),
                    &["too_large"],
                ),
                7 => (
                    Message::Text(json!({"type":"join","name":hostile_name(&mut rng)}).to_string()),
                    &["invalid_name"],
                ),
                8 => (
                    Message::Text(json!({"type":"message","text":"early"}).to_string()),
                    &["not_joined"],
                ),
                _ => (
                    Message::Text(json!({"type":"typing"}).to_string()),
                    &["not_joined"],
                ),
            };
            if !c.try_send(msg).await {
                unjoined = None;
                continue;
            }
            match reply(c).await {
                Ok(v) => {
                    let code = v["code"].as_str().unwrap_or_default().to_string();
                    assert!(
                        v["type"] == "error" && want.contains(&code.as_str()),
                        "worker {id} step {step} action {action}: want {want:?}, got {v}"
                    );
                    *t.errors.entry(code).or_default() += 1;
                }
                Err(Some(1008)) => {
                    t.timeouts += 1;
                    unjoined = None;
                }
                Err(other) => panic!("worker {id} step {step}: unjoined socket closed: {other:?}"),
            }
            continue;
        }
        match action {
            10 => {
                // Join, chat a little, misbehave, then go away in one of four ways.
                let name = format!("w{id}s{step}");
                let mut c = connect(s, room).await;
                c.send_json(&json!({"type":"join","name":name})).await;
                let w = reply(&mut c).await.expect("welcome");
                assert_eq!(w["type"], "welcome", "{w}");
                t.joined += 1;
                c.send_json(&json!({"type":"join","name":name})).await; // duplicate join
                let e = reply(&mut c).await.expect("second join reply");
                assert_eq!(e["code"], "bad_request", "{e}");
                c.send_json(&json!({"type":"typing"})).await;
                c.send_json(&json!({"type":"message","text":format!("hi from {name}")}))
                    .await;
                c.send_json(&json!({"type":"message","text":"\u{202e}\u{200b} sneaky"}))
                    .await;
                c.send_binary(rng.bytes(64)).await;
                match rng.below(4) {
                    0 => c.drop_abruptly(),
                    1 => c.drop_silently(),
                    2 => {
                        let _ = c.try_send(Message::Close(None)).await;
                        drop(c);
                    }
                    _ => {
                        c.write_raw(&[0x81, 0xFF, 0, 0]).await; // half a frame header
                        c.drop_abruptly();
                    }
                }
            }
            11 => {
                // Two sockets race for one name: exactly one wins.
                let name = format!("race{id}s{step}");
                let mut a = connect(s, room).await;
                let mut b = connect(s, room).await;
                let f = json!({"type":"join","name":name});
                let (_, _) = tokio::join!(a.send_json(&f), b.send_json(&f));
                let (ra, rb) = tokio::join!(reply(&mut a), reply(&mut b));
                let (ra, rb) = (ra.unwrap(), rb.unwrap());
                let wins = [&ra, &rb].iter().filter(|v| v["type"] == "welcome").count();
                let lost = [&ra, &rb]
                    .iter()
                    .filter(|v| v["type"] == "error" && v["code"] == "name_taken")
                    .count();
                assert_eq!((wins, lost), (1, 1), "race for {name}: {ra} / {rb}");
                t.joined += 1;
                a.drop_abruptly();
                b.drop_silently();
            }
            12 => {
                // Rapid connect/disconnect, with and without finishing the upgrade.
                for _ in 0..3 {
                    let c = connect(s, room).await;
                    if rng.below(2) == 0 {
                        c.drop_abruptly();
                    } else {
                        let _ = c.close(None).await;
                    }
                }
                let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
                    .await
                    .unwrap();
                let req = format!(
                    "GET /api/rooms/{room}/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Ver"
                );
                let _ = tcp.write_all(req.as_bytes()).await;
                let _ = tcp.set_zero_linger();
                drop(tcp);
            }
            13 => {
                // Prototype-pollution style keys and duplicate keys: whatever the server makes of
                // them, it answers with one JSON frame and keeps going.
                let frames = [
                    r#"{"__proto__":{"type":"join"},"type":"join","name":"proto"}"#.to_string(),
                    r#"{"constructor":{"prototype":{"joined":true}},"type":"message","text":"x"}"#
                        .to_string(),
                    r#"{"type":"join","type":"message","text":"dup keys"}"#.to_string(),
                    format!(r#"{{"type":"join","name":"dupkey{id}s{step}","name":"other"}}"#),
                    r#"{"__proto__":null}"#.to_string(),
                ];
                let mut c = connect(s, room).await;
                c.send_text(rng.pick(&frames).clone()).await;
                let v = reply(&mut c).await.expect("a reply");
                assert!(
                    v["type"] == "error" || v["type"] == "welcome",
                    "unexpected reply {v}"
                );
                if v["type"] == "welcome" {
                    t.joined += 1;
                }
                c.drop_abruptly();
            }
            14 => {
                // Weird since / session values.
                let since = [
                    json!(-1),
                    json!(1e300),
                    json!("7"),
                    json!(u64::MAX),
                    json!(9007199254740993u64),
                ];
                let session = [
                    json!(""),
                    json!("x"),
                    json!("\u{0000}".repeat(20)),
                    json!(42),
                ];
                let mut c = connect(s, room).await;
                let f = if rng.below(2) == 0 {
                    json!({"type":"join","name":format!("since{id}s{step}"),"since":rng.pick(&since)})
                } else {
                    json!({"type":"join","name":format!("sess{id}s{step}"),"session":rng.pick(&session)})
                };
                c.send_json(&f).await;
                let v = reply(&mut c).await.expect("a reply");
                assert!(
                    v["type"] == "error" || v["type"] == "welcome",
                    "unexpected reply to {f}: {v}"
                );
                if v["type"] == "welcome" {
                    t.joined += 1;
                }
                c.drop_silently();
            }
            _ => {
                // Ping spam on a fresh socket.
                let mut c = connect(s, room).await;
                for _ in 0..20 {
                    c.send_text("ping").await;
                }
                for _ in 0..20 {
                    assert_eq!(c.recv().await, Frame::Text("pong".into()));
                }
                c.drop_abruptly();
            }
        }
    }
    if let Some(c) = unjoined {
        c.drop_abruptly();
    }
    t
}

/// Records everything a legit member receives during the storm.
async fn observe(mut c: Client, stop: Arc<AtomicBool>) -> (Client, Vec<Value>) {
    let mut frames = Vec::new();
    loop {
        match c.recv_timeout(Duration::from_millis(300)).await {
            Some(Frame::Text(t)) => frames.push(
                serde_json::from_str(&t)
                    .unwrap_or_else(|e| panic!("non-JSON broadcast ({e}): {}", clip(&t))),
            ),
            Some(other) => panic!("legit member got {}", other.describe()),
            None if stop.load(Ordering::SeqCst) => return (c, frames),
            None => {}
        }
    }
}

/// Every storm member that joined also left, each exactly once; no error reached a bystander.
fn check_observed(who: &str, frames: &[Value]) {
    let mut balance: BTreeMap<String, i64> = BTreeMap::new();
    for f in frames {
        match f["type"].as_str() {
            Some("join") => {
                let n = f["name"].as_str().unwrap().to_string();
                let b = balance.entry(n.clone()).or_default();
                *b += 1;
                assert_eq!(*b, 1, "{who}: {n} joined twice without leaving");
            }
            Some("leave") => {
                let n = f["name"].as_str().unwrap().to_string();
                let b = balance.entry(n.clone()).or_default();
                *b -= 1;
                assert_eq!(*b, 0, "{who}: leave for {n}, who was not a member");
            }
            Some("message") | Some("typing") => {}
            _ => panic!("{who}: unexpected broadcast {f}"),
        }
    }
    let ghosts: Vec<_> = balance.iter().filter(|(_, b)| **b != 0).collect();
    assert!(
        ghosts.is_empty(),
        "{who}: joined but never left: {ghosts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_storm_leaves_no_ghosts_and_no_panics() {
    storm(server(), "storm").await;
}

/// The same storm where every socket but the first member's is held by a relay, which forwards
/// it over its link (and refuses oversized frames itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_storm_through_relays_leaves_no_ghosts_and_no_panics() {
    let s = relayed();
    storm(s, "storm-relayed").await;
    let st = stats(s, "storm-relayed").await;
    assert!(
        !st["relays"].as_array().unwrap().is_empty(),
        "the storm went through relays: {st}"
    );
}

async fn storm(s: &'static Server, room: &'static str) {
    let (l1, _) = join(s, room, "Legit1").await;
    let (mut l2, _) = join(s, room, "Legit2").await;
    let stop = Arc::new(AtomicBool::new(false));
    let obs = tokio::spawn(observe(l1, stop.clone()));
    // Legit1 gets "join Legit2" first: recorded by the observer and checked below.

    let started = Instant::now();
    let mut handles = Vec::new();
    for id in 0..WORKERS {
        handles.push(tokio::spawn(worker(s, room, id)));
    }
    let mut total = Tally::default();
    for h in handles {
        let t = tokio::time::timeout(Duration::from_secs(240), h)
            .await
            .expect("storm worker did not finish within 240 s")
            .unwrap();
        total.joined += t.joined;
        total.timeouts += t.timeouts;
        for (k, v) in t.errors {
            *total.errors.entry(k).or_default() += v;
        }
    }
    eprintln!("storm: {:?} in {:?}", total, started.elapsed());
    assert!(
        total.joined >= WORKERS,
        "the storm hardly joined: {total:?}"
    );

    // Every storm socket is gone: only the two legit members remain.
    let st = wait_stats(s, room, "2 members, 2 connections", |v| {
        v["members"] == 2 && v["connections"] == 2
    })
    .await;
    assert_eq!(st["members"], 2);
    stop.store(true, Ordering::SeqCst);
    let (mut l1, frames1) = obs.await.unwrap();
    assert_eq!(frames1[0]["type"], "join");
    assert_eq!(frames1[0]["name"], "Legit2");
    check_observed("Legit1", &frames1[1..]);
    let mut frames2 = Vec::new();
    while let Some(f) = l2.recv_timeout(Duration::from_millis(500)).await {
        match f {
            Frame::Text(t) => frames2.push(serde_json::from_str::<Value>(&t).unwrap()),
            other => panic!("Legit2 got {}", other.describe()),
        }
    }
    check_observed("Legit2", &frames2);
    // Both bystanders saw the same broadcasts (after Legit2 joined).
    assert_eq!(frames1[1..], frames2[..]);

    // The room still works, and a fresh joiner sees exactly the live members.
    let (mut fresh, w) = join(s, room, "Fresh").await;
    assert_eq!(members(&w), ["Legit1", "Legit2", "Fresh"]);
    assert_join_frame(&l1.expect("join").await, "Fresh");
    assert_join_frame(&l2.expect("join").await, "Fresh");
    let m = fresh.say("after the storm").await;
    assert_eq!(l1.expect("message").await, m);
    assert_eq!(l2.expect("message").await, m);
    let st = stats(s, room).await;
    assert_eq!(st["members"], 3, "{st}");
    assert_eq!(st["connections"], 3, "{st}");
    // History holds only well-formed messages.
    for h in history_page(s, room, "?limit=100").await {
        let text = h["text"].as_str().unwrap();
        assert!(!text.is_empty() && text.chars().count() <= 2000);
        assert!(!text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'));
    }
    s.assert_no_panic();
}
