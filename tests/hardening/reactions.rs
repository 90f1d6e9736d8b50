//! Item 4: a message's reactions take at most 2 KiB in any frame or page: per emoji a count,
//! the first names and, in a welcome, whether the member reacted; every name is on request.

use serde_json::{json, Value};

use super::history;
use crate::common::*;

const EMOJI: [&str; 3] = ["👍", "🎉", "🔥"];
const REACTORS: usize = 40;

fn long_name(i: usize) -> String {
    format!("reactor-{i:02}-{}", "x".repeat(20))
}

#[tokio::test]
async fn reactions_in_a_welcome_are_a_bounded_summary() {
    let s = history();
    let room = uniq("reactions");
    let (mut ann, _) = join(s, &room, "Ann").await;
    let m = ann.say("react to me").await;
    for i in 0..REACTORS {
        let name = long_name(i);
        let (mut c, _) = join(s, &room, &name).await;
        for emoji in EMOJI {
            c.send_json(&json!({"type":"react","id":m["id"],"emoji":emoji}))
                .await;
            let r = loop {
                let f = c.recv_json().await;
                if f["type"] == "react" && f["name"] == name {
                    break f;
                }
            };
            assert_eq!(r["count"], i + 1, "a react carries the count after it: {r}");
        }
        // Reactions stay after their members leave.
        c.close(Some(1000)).await;
    }

    // A newcomer's welcome: the message's reactions within 2 KiB, each emoji counted.
    let (_n, w) = join(s, &room, "Newcomer").await;
    let msg = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == m["id"])
        .cloned()
        .expect("the message");
    let size = msg["reactions"].to_string().len();
    println!("reactions of one message in a welcome: {size} bytes");
    assert!(size <= 2048, "{size} bytes: {}", msg["reactions"]);
    for (r, emoji) in msg["reactions"].as_array().unwrap().iter().zip(EMOJI) {
        assert_eq!(r["emoji"], emoji);
        assert_eq!(r["count"], REACTORS, "{r}");
        let names = r["names"].as_array().unwrap();
        assert!(!names.is_empty() && names.len() <= 5, "{r}");
        assert_eq!(names[0], long_name(0), "first reactors first");
        assert!(r.get("me").is_none(), "the newcomer did not react: {r}");
    }
    // A page too.
    let page = history_page(s, &room, "?limit=5").await;
    let in_page = page.iter().find(|e| e["id"] == m["id"]).unwrap();
    assert!(in_page["reactions"].to_string().len() <= 2048);

    // A reactor who comes back sees their own reaction, though not among the names shown.
    let (_back, w) = join(s, &room, &long_name(REACTORS - 1)).await;
    let mine: Vec<Value> = w["history"][0]["reactions"].as_array().unwrap().clone();
    assert!(mine.iter().all(|r| r["me"] == true), "{mine:?}");

    // The full list is on request.
    let (status, body) = get_json(
        s,
        &format!("/api/rooms/{room}/messages/{}/reactions", m["id"]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let all = body["reactions"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["names"].as_array().unwrap().len(), REACTORS);
    let (status, body) = get_json(s, &format!("/api/rooms/{room}/messages/999999/reactions")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
}
