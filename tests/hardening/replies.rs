//! Item 2: an edit's cost must not grow with the room's history. Replies are found through an
//! index, so editing a message in a room of 10,000 replies (to another message) costs what it
//! costs in an empty room.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

const REPLIES: usize = 10_000;

fn replies() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    shared(
        &SERVER,
        &[("RATE_LIMIT_PER_SEC", "0"), ("HISTORY_CAP", "20000")],
    )
}

/// Median edit round trip (edit sent → its `edit` frame back) of `n` edits of message `id`.
async fn edit_round_trips(c: &mut Client, id: &serde_json::Value, n: usize) -> Duration {
    let mut times = Vec::new();
    for i in 0..n {
        let start = Instant::now();
        c.send_json(&json!({"type":"edit","id":id,"text":format!("edit {i}")}))
            .await;
        let e = c.expect("edit").await;
        times.push(start.elapsed());
        assert_eq!(e["target"], *id);
    }
    times.sort();
    times[n / 2]
}

#[tokio::test]
async fn an_edit_costs_the_same_in_a_room_of_ten_thousand_replies() {
    let s = replies();
    let (empty, full) = (uniq("edit-empty"), uniq("edit-full"));
    let mut a = connect(s, &empty).await;
    a.join_with(json!({"type":"join","name":"Ann","session":"session-of-ann-0001"}))
        .await;
    let mine = a.say("mine").await;

    let mut b = connect(s, &full).await;
    b.join_with(json!({"type":"join","name":"Bob","session":"session-of-bob-0001"}))
        .await;
    let asked = b.say("the question").await;
    let mine_there = b.say("mine").await;
    let texts: Vec<String> = (0..REPLIES)
        .map(|i| {
            json!({"type":"message","text":format!("reply {i}"),"reply_to":asked["id"]}).to_string()
        })
        .collect();
    for chunk in texts.chunks(500) {
        b.write_texts(chunk).await;
        for _ in 0..chunk.len() {
            b.expect("message").await;
        }
    }
    assert_eq!(stats(s, &full).await["messages_stored"], REPLIES + 2);

    // Warm both rooms' statement caches, then measure.
    edit_round_trips(&mut a, &mine["id"], 3).await;
    edit_round_trips(&mut b, &mine_there["id"], 3).await;
    // Interleaved, so that the machine's load moves both alike.
    let (mut empty_times, mut full_times) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        empty_times.push(edit_round_trips(&mut a, &mine["id"], 1).await);
        full_times.push(edit_round_trips(&mut b, &mine_there["id"], 1).await);
    }
    empty_times.sort();
    full_times.sort();
    let (t_empty, t_full) = (empty_times[7], full_times[7]);
    println!(
        "edit round trip (median of 15): empty room {t_empty:?}, {REPLIES} replies {t_full:?}"
    );
    // Before the index: 2.8 ms against 12 ms here (every row's body parsed per edit).
    assert!(
        t_full < t_empty * 2 + Duration::from_millis(4),
        "an edit in a room of {REPLIES} replies took {t_full:?}, in an empty room {t_empty:?}"
    );

    // The replies still follow the message they answer: an edit of it requotes all of them.
    b.send_json(&json!({"type":"edit","id":asked["id"],"text":"the question, edited"}))
        .await;
    b.expect("edit").await;
    let page = history_page(s, &full, "?limit=3").await;
    assert!(
        page.iter()
            .all(|m| m["reply"]["text"] == "the question, edited"),
        "{page:?}"
    );
}
