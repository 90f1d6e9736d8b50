//! A burst from several senders arrives as JSON arrays, in one order for everyone; a lone frame
//! in an idle room arrives as a plain object.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

use super::{recv_raw, serial, server, Raw, QUIET};

const MEMBERS: usize = 6;
const SENDERS: usize = 4;
const PER_SENDER: usize = 5;

/// `n` members `m0`… joined to `room`, each having seen every join after its own: the burst
/// that follows is all that is left to read.
async fn members(s: &Server, room: &str, n: usize) -> Vec<Client> {
    let mut clients = Vec::new();
    for i in 0..n {
        let (c, _) = join(s, room, &format!("m{i}")).await;
        clients.push(c);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let mut joins = 0;
        while joins < n - 1 - i {
            joins += c.recv_json().await["type"].eq("join") as usize;
        }
    }
    clients
}

/// The first members each write their frames (`frames[i]` for member `i`), all at once.
async fn burst(clients: &mut [Client], frames: &[Vec<String>]) {
    futures_util::future::join_all(
        clients
            .iter_mut()
            .zip(frames)
            .map(|(c, f)| c.write_texts(f)),
    )
    .await;
}

#[tokio::test]
async fn a_burst_from_several_senders_arrives_as_arrays_in_one_order() {
    let _serial = serial().await;
    let s = server();
    let room = uniq("burst");
    let mut clients = members(s, &room, MEMBERS).await;

    // Each sender writes its messages in one TCP write; all senders at once.
    let frames: Vec<Vec<String>> = (0..SENDERS)
        .map(|i| {
            (0..PER_SENDER)
                .map(|j| {
                    json!({"type":"message","text":format!("s{i} #{j}"),"nonce":format!("s{i}-{j}")})
                        .to_string()
                })
                .collect()
        })
        .collect();
    burst(&mut clients, &frames).await;

    // Every member reads the raw messages until it has all of them.
    let total = SENDERS * PER_SENDER;
    let mut views: Vec<(Vec<Value>, usize)> = Vec::new();
    for (i, c) in clients.iter_mut().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(15);
        let (mut seen, mut batches) = (Vec::new(), 0);
        while seen.len() < total {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(raw) = recv_raw(c, left).await else {
                panic!(
                    "m{i}: {} of {total} messages within 15 s: {seen:?}",
                    seen.len()
                );
            };
            if let Raw::Batch(frames) = &raw {
                assert!(frames.len() >= 2, "m{i}: a one-element batch: {raw:?}");
                batches += 1;
            }
            for f in raw.frames() {
                assert_eq!(f["type"], "message", "m{i}: {f}");
                seen.push(f);
            }
        }
        c.expect_silence(QUIET).await;
        views.push((seen, batches));
    }

    let (first, _) = &views[0];
    let first_ids = ids(first);
    assert_strictly_increasing(&first_ids);
    for (i, (seen, batches)) in views.iter().enumerate() {
        assert!(
            *batches > 0,
            "m{i} got the burst of {total} messages from {SENDERS} senders without one batch"
        );
        assert_eq!(seen, first, "m{i} saw another order than m0");
    }
    // Each sender's messages in its own order, and all of them stored, in the same order.
    for i in 0..SENDERS {
        let nonces: Vec<&str> = first
            .iter()
            .filter(|m| m["name"] == format!("m{i}"))
            .map(|m| m["nonce"].as_str().unwrap())
            .collect();
        let want: Vec<String> = (0..PER_SENDER).map(|j| format!("s{i}-{j}")).collect();
        assert_eq!(nonces, want, "m{i}'s messages");
    }
    let h = history_page(s, &room, "").await;
    assert_eq!(
        h.iter().map(msg_core).collect::<Vec<_>>(),
        first.iter().map(msg_core).collect::<Vec<_>>()
    );
    let batches: Vec<usize> = views.iter().map(|(_, b)| *b).collect();
    eprintln!("batches per member for {total} messages: {batches:?}");
}

#[tokio::test]
async fn a_lone_frame_in_an_idle_room_is_a_plain_object() {
    let _serial = serial().await;
    let s = server();
    let room = uniq("lone");
    let (mut a, _) = join(s, &room, "Ann").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    match recv_raw(&mut a, RECV_TIMEOUT).await {
        Some(Raw::Lone(v)) => assert_join_frame(&v, "Bob"),
        other => panic!("Bob's join in an idle room: {other:?}"),
    }
    tokio::time::sleep(QUIET).await;
    a.send_json(&json!({"type":"message","text":"one","nonce":"n1"}))
        .await;
    for (who, c) in [("Ann", &mut a), ("Bob", &mut b)] {
        match recv_raw(c, RECV_TIMEOUT).await {
            Some(Raw::Lone(v)) => {
                assert_eq!(v["type"], "message", "{who}: {v}");
                assert_eq!(v["nonce"], "n1", "{who}: {v}");
            }
            other => panic!("{who}: one message in an idle room: {other:?}"),
        }
        c.expect_silence(QUIET).await;
    }
}

/// A burst of long messages packs into batches near `MAX_BATCH_BYTES` (128 KiB). Such a batch,
/// shared by several members, used to be made into a JS string by spreading its bytes as
/// arguments of `String.fromCharCode`: past ~88,000 characters that threw "Maximum call stack size
/// exceeded" in the flush, after the write, so the burst was stored and never sent to anyone.
#[tokio::test]
async fn a_burst_of_long_messages_reaches_every_member() {
    let _serial = serial().await;
    // Whether ten senders' writes land in one flush is up to the scheduler: a run whose largest
    // batch stayed small did not make the batch that used to fail, so it is tried again (every
    // attempt must still deliver everything).
    let mut largest = 0;
    for attempt in 1..=3 {
        largest = long_burst_largest_batch().await;
        eprintln!("attempt {attempt}: the largest batch held ~{largest} bytes");
        if largest > 100_000 {
            break;
        }
    }
    assert!(
        largest > 100_000,
        "the largest batch held only ~{largest} bytes in 3 attempts"
    );
}

/// Ten senders each write 15 messages of ~2,000 characters at once (within the default rate
/// burst of 20: ~300 KB, so batches up to the 128 KiB cap); every member gets all of them.
/// Returns the size of the largest batch any member got.
async fn long_burst_largest_batch() -> usize {
    const MEMBERS: usize = 10;
    const SENDERS: usize = 10;
    const PER_SENDER: usize = 15;
    let s = server();
    let room = uniq("long");
    let mut clients = members(s, &room, MEMBERS).await;
    let words = "lorem ipsum dolor sit amet ".repeat(80);
    let frames: Vec<Vec<String>> = (0..SENDERS)
        .map(|i| {
            (0..PER_SENDER)
                .map(|j| {
                    let text = format!("s{i}#{j} {}", &words[..1990]);
                    json!({"type":"message","text":text,"nonce":format!("s{i}-{j}")}).to_string()
                })
                .collect()
        })
        .collect();
    burst(&mut clients, &frames).await;
    let total = SENDERS * PER_SENDER;
    let mut largest = 0;
    for (i, c) in clients.iter_mut().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = 0;
        while seen < total {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(raw) = recv_raw(c, left).await else {
                panic!("m{i}: {seen} of {total} long messages within 15 s");
            };
            let frames = raw.frames();
            largest = largest.max(frames.iter().map(|f| f.to_string().len() + 1).sum());
            for f in frames {
                assert_eq!(f["type"], "message", "m{i}: {}", clip(&f.to_string()));
                seen += 1;
            }
        }
        c.expect_silence(QUIET).await;
    }
    largest
}
