//! Persistence across a restart of `wrangler dev` (same `--persist-to` dir, same port): history
//! kept, ids never reused, stats coherent, and clients that were connected resume with `since`
//! with no loss and no duplicates. Each test owns its server, since restarts affect every room.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Reads until the socket is gone (close frame, end or reset); returns the message frames seen.
async fn drain_until_gone(c: &mut Client) -> Vec<Value> {
    let mut msgs = Vec::new();
    loop {
        match c.recv_timeout(Duration::from_secs(20)).await {
            Some(Frame::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                assert_eq!(v["type"], "message", "unexpected frame while stopping: {v}");
                msgs.push(v);
            }
            Some(Frame::Close(..)) | Some(Frame::Ended) | Some(Frame::Error(_)) => return msgs,
            Some(other) => panic!("unexpected {other:?}"),
            None => panic!("socket still open 20 s after the server stopped"),
        }
    }
}

async fn all_history(s: &Server, room: &str) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = match before {
            Some(b) => format!("?before={b}&limit=100"),
            None => "?limit=100".to_string(),
        };
        let mut p = history_page(s, room, &q).await;
        if p.is_empty() {
            return all;
        }
        before = p[0]["id"].as_i64();
        p.append(&mut all);
        all = p;
    }
}

/// The room's whole history is `sent`, field for field.
async fn assert_history_is(s: &Server, room: &str, sent: &[Value]) {
    assert_eq!(
        all_history(s, room)
            .await
            .iter()
            .map(msg_core)
            .collect::<Vec<_>>(),
        sent.iter().map(msg_core).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_history_ids_and_lets_clients_resume() {
    let srv = Server::start(&[]);
    let room = "persist";
    let (mut a, _) = join(&srv, room, "Ann").await;
    let (mut b, _) = join(&srv, room, "Ben").await;
    a.expect("join").await;
    let mut sent = Vec::new();
    for i in 0..6 {
        let m = a
            .say_nonce(&format!("before restart {i}"), &format!("n{i}"))
            .await;
        assert_eq!(b.expect("message").await, m);
        sent.push(m);
    }
    let last = sent[5]["id"].as_i64().unwrap();
    let st0 = stats(&srv, room).await;
    assert_eq!(st0["messages_stored"], 6);
    assert_eq!(st0["last_message_id"], last);
    let (st, v) = post_json(&srv, "/api/rooms").await;
    assert_eq!(st, 201);
    let private = v["room"].as_str().unwrap().to_string();
    let (mut p, _) = join(&srv, &private, "Pia").await;
    let pm = p.say("private, persisted").await;

    let srv = restart_blocking(srv).await;

    // Sockets open during the restart are gone, with nothing but an end.
    assert!(drain_until_gone(&mut a).await.is_empty());
    assert!(drain_until_gone(&mut b).await.is_empty());
    assert!(drain_until_gone(&mut p).await.is_empty());

    let st1 = stats(&srv, room).await;
    assert_eq!(st1["room"], room);
    assert_eq!(st1["members"], 0, "{st1}");
    assert_eq!(st1["connections"], 0, "{st1}");
    assert_eq!(st1["messages_stored"], 6, "{st1}");
    assert_eq!(st1["last_message_id"], last, "{st1}");
    assert!(st1["memory_bytes"].as_u64().unwrap() > 0);
    assert!(
        st1["started_at"].as_i64().unwrap() > st0["started_at"].as_i64().unwrap(),
        "a new instance after the restart: {st0} then {st1}"
    );
    assert_history_is(&srv, room, &sent).await;

    // Ben pretends he saw only the first three: he gets exactly the other three.
    let mut b = connect(&srv, room).await;
    let w = b
        .join_with(json!({"type":"join","name":"Ben","since":sent[2]["id"]}))
        .await;
    assert_eq!(
        w["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(msg_core)
            .collect::<Vec<_>>(),
        sent[3..].iter().map(msg_core).collect::<Vec<_>>()
    );
    assert_eq!(w["truncated"], false);
    assert_eq!(w["last_id"], last);
    assert_eq!(members(&w), ["Ben"], "no ghost members after a restart");
    // Ann saw everything: nothing to replay.
    let mut a = connect(&srv, room).await;
    let w = a
        .join_with(json!({"type":"join","name":"Ann","since":last}))
        .await;
    assert_eq!(w["history"], json!([]));
    assert_eq!(members(&w), ["Ben", "Ann"]);
    assert_join_frame(&b.expect("join").await, "Ann");
    // Ids continue: no reuse.
    let m = a.say("after restart").await;
    assert!(m["id"].as_i64().unwrap() > last, "id reused: {m}");
    assert_eq!(b.expect("message").await, m);

    // The private room survived too.
    let ps = stats(&srv, &private).await;
    assert_eq!(ps["messages_stored"], 1);
    let (_p, w) = join(&srv, &private, "Pia").await;
    assert_eq!(ids(w["history"].as_array().unwrap()), ids(&[pm]));

    // And a second restart keeps counting up.
    let srv = restart_blocking(srv).await;
    drain_until_gone(&mut a).await;
    let st2 = stats(&srv, room).await;
    assert_eq!(st2["messages_stored"], 7);
    assert_eq!(st2["last_message_id"], m["id"]);
    assert!(st2["started_at"].as_i64() > st1["started_at"].as_i64());
    let (mut c, _) = join(&srv, room, "Cy").await;
    let m2 = c.say("after the second restart").await;
    assert!(m2["id"].as_i64() > m["id"].as_i64());
    srv.assert_no_panic();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_under_traffic_loses_nothing_and_duplicates_nothing() {
    let srv = Server::start(&[("RATE_LIMIT_PER_SEC", "0")]);
    let room = "traffic";
    let (mut w, _) = join(&srv, room, "Writer").await;
    let (mut r, _) = join(&srv, room, "Reader").await;
    w.expect("join").await;

    // The writer sends steadily and records every id echoed to it, until its socket dies.
    let writer = tokio::spawn(async move {
        let mut echoed = Vec::new();
        for i in 0..400 {
            let f = serde_json::json!({"type":"message","text":format!("t{i}")});
            if !w
                .try_send(tokio_tungstenite::tungstenite::Message::Text(f.to_string()))
                .await
            {
                break;
            }
            match w.recv_timeout(Duration::from_secs(20)).await {
                Some(Frame::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    assert_eq!(v["type"], "message", "{v}");
                    echoed.push(v["id"].as_i64().unwrap());
                }
                _ => break,
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        echoed
    });
    // The reader records every id it sees.
    let reader = tokio::spawn(async move {
        let seen = ids(&drain_until_gone(&mut r).await);
        (r, seen)
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let srv = restart_blocking(srv).await;
    let echoed = writer.await.unwrap();
    let (_old_reader, seen) = reader.await.unwrap();
    assert!(echoed.len() >= 10, "the writer barely wrote: {echoed:?}");
    assert_strictly_increasing(&seen);

    let stored = ids(&all_history(&srv, room).await);
    assert_strictly_increasing(&stored);
    let stored_set: BTreeSet<i64> = stored.iter().copied().collect();
    for id in &echoed {
        assert!(
            stored_set.contains(id),
            "message {id} was echoed before the restart but is not stored"
        );
    }
    let max_seen = *seen.last().unwrap();
    assert_eq!(
        stored
            .iter()
            .copied()
            .filter(|i| *i <= max_seen)
            .collect::<Vec<_>>(),
        seen,
        "the reader saw every stored message up to its last one, in order"
    );

    // The reader resumes from its last id: exactly the rest, no duplicates.
    let mut r = connect(&srv, room).await;
    let wel = r
        .join_with(json!({"type":"join","name":"Reader","since":max_seen}))
        .await;
    let replay = ids(wel["history"].as_array().unwrap());
    assert_eq!(
        replay,
        stored
            .iter()
            .copied()
            .filter(|i| *i > max_seen)
            .collect::<Vec<_>>()
    );
    let got: BTreeSet<i64> = seen.iter().chain(replay.iter()).copied().collect();
    assert_eq!(got.len(), seen.len() + replay.len(), "duplicates");
    for id in &echoed {
        assert!(got.contains(id), "reader never got message {id}");
    }
    let top = *stored.last().unwrap();
    assert_eq!(wel["last_id"], top);
    let (mut w2, _) = join(&srv, room, "Writer").await;
    r.expect("join").await;
    let m = w2.say("fresh").await;
    assert!(m["id"].as_i64().unwrap() > top);
    assert_eq!(r.expect("message").await, m);
    srv.assert_no_panic();
}

/// A burst of plain messages is stored from the frames its members got (`INSERT_FRAMES` in
/// src/shell/storage.rs), not serialized again: after a restart every column is back, texts that
/// JSON escapes included, and each message's author too, whose session may still edit it while
/// another session may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_keeps_its_columns_and_authors_across_a_restart() {
    let srv = Server::start(&[]);
    let room = "burst";
    let session = "a-burst-session-0123456789";
    let mut a = connect(&srv, room).await;
    a.join_with(json!({"type":"join","name":"Ann","session":session}))
        .await;
    let texts = [
        "plain",
        "a \"quote\" and a \\ backslash",
        "a line\nbreak and a\ttab",
        "café, 東京 and 🎉",
        "a \u{2028} separator inside",
        "{\"looks\":[\"like\",\"json\"]}",
        "$.text ->> '$[0]'",
        "last",
    ];
    let frames: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"type":"message","text":t,"nonce":format!("n{i}")}).to_string())
        .collect();
    a.write_texts(&frames).await;
    let mut sent = Vec::new();
    let mut largest_batch = 0;
    while sent.len() < texts.len() {
        let Some(Frame::Text(batch)) = a.recv_raw_timeout(Duration::from_secs(10)).await else {
            panic!("the burst's echoes did not arrive: {sent:?}");
        };
        let batch = split_batch(batch);
        largest_batch = largest_batch.max(batch.len());
        sent.extend(
            batch
                .iter()
                .map(|t| serde_json::from_str::<Value>(t).unwrap()),
        );
    }
    // Several messages in one flush: the path under test, not the one-message insert.
    assert!(largest_batch >= 2, "the burst was flushed one by one");
    for (m, t) in sent.iter().zip(texts) {
        assert_eq!(m["text"], t, "{m}");
    }

    let srv = restart_blocking(srv).await;
    drain_until_gone(&mut a).await;
    assert_history_is(&srv, room, &sent).await;
    // Another session under the same name is someone else; the author's session is not.
    let mut b = connect(&srv, room).await;
    b.join_with(json!({"type":"join","name":"Bo","session":"another-session-0123456789"}))
        .await;
    let target = &sent[3]["id"];
    b.send_json(&json!({"type":"edit","id":target,"text":"hijacked"}))
        .await;
    assert_eq!(b.expect_error("forbidden").await["target"], *target);
    let mut a = connect(&srv, room).await;
    a.join_with(json!({"type":"join","name":"Ann","session":session}))
        .await;
    for m in &sent {
        a.send_json(&json!({"type":"edit","id":m["id"],"text":"edited after a restart"}))
            .await;
        let e = a.expect("edit").await;
        assert_eq!(e["target"], m["id"], "{e}");
    }
    srv.assert_no_panic();
}
