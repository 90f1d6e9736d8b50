//! History in the welcome and resuming with `since`.

use crate::common::*;
use serde_json::{json, Value};

use super::server;

#[tokio::test]
async fn welcome_history_is_the_newest_100_oldest_first() {
    let s = server();
    let room = uniq("hist");
    let sent = fill_room(s, &room, 130, "h").await;
    let (_c, w) = join(s, &room, "Reader").await;
    let h: Vec<_> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(msg_core)
        .collect();
    let want: Vec<_> = sent[30..].iter().map(msg_core).collect();
    assert_eq!(h, want);
    assert_eq!(w["last_id"], sent[129]["id"]);
    assert!(w["truncated"].is_boolean(), "{}", w["truncated"]);
}

#[tokio::test]
async fn join_with_since_resumes_exactly() {
    let s = server();
    let room = uniq("since");
    let sent = fill_room(s, &room, 130, "s").await;
    let id = |i: usize| sent[i]["id"].as_i64().unwrap();
    let core = |r: std::ops::Range<usize>| sent[r].iter().map(msg_core).collect::<Vec<_>>();
    let hist = |w: &Value| {
        w["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(msg_core)
            .collect::<Vec<_>>()
    };

    // A few missed: exactly those, not truncated.
    let mut c = connect(s, &room).await;
    let w = c
        .join_with(json!({"type":"join","name":"R1","since":id(119)}))
        .await;
    assert_eq!(hist(&w), core(120..130));
    assert_eq!(w["truncated"], false);
    assert_eq!(w["last_id"], id(129));

    // Exactly 100 missed: all of them, not truncated.
    let mut c2 = connect(s, &room).await;
    let w = c2
        .join_with(json!({"type":"join","name":"R2","since":id(29)}))
        .await;
    assert_eq!(hist(&w), core(30..130));
    assert_eq!(w["truncated"], false);

    // 101 missed: the newest 100 and truncated.
    let mut c3 = connect(s, &room).await;
    let w = c3
        .join_with(json!({"type":"join","name":"R3","since":id(28)}))
        .await;
    assert_eq!(hist(&w), core(30..130));
    assert_eq!(w["truncated"], true);

    // since 0: everything missed, truncated.
    let mut c4 = connect(s, &room).await;
    let w = c4
        .join_with(json!({"type":"join","name":"R4","since":0}))
        .await;
    assert_eq!(hist(&w), core(30..130));
    assert_eq!(w["truncated"], true);

    // since = last id: nothing.
    let mut c5 = connect(s, &room).await;
    let w = c5
        .join_with(json!({"type":"join","name":"R5","since":id(129)}))
        .await;
    assert_eq!(w["history"], json!([]));
    assert_eq!(w["truncated"], false);
    assert_eq!(w["last_id"], id(129));
}

#[tokio::test]
async fn since_zero_on_a_small_room_is_everything() {
    let s = server();
    let room = uniq("since0");
    let sent = fill_room(s, &room, 5, "z").await;
    let mut c = connect(s, &room).await;
    let w = c
        .join_with(json!({"type":"join","name":"R","since":0}))
        .await;
    let h: Vec<_> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(msg_core)
        .collect();
    assert_eq!(h, sent.iter().map(msg_core).collect::<Vec<_>>());
    assert_eq!(w["truncated"], false);
}

/// `since` must be an integer ≥ 0: anything else is a field of the wrong type (bad_request).
#[tokio::test]
async fn invalid_since_is_bad_request() {
    let s = server();
    let room = uniq("badsince");
    let mut c = connect(s, &room).await;
    for since in [json!(-1), json!("5"), json!(1.5), json!([1]), json!({})] {
        c.send_json(&json!({"type":"join","name":"R","since":since}))
            .await;
        let e = c.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "bad_request",
            "since {since} must be bad_request, got {e}"
        );
    }
    c.join("R").await;
}
