//! Item 3: no sequence of changes may remove a message. Messages are capped by `HISTORY_CAP`
//! (30 here) and changes on their own by `CHANGES_CAP` (20 here); a resume from before the
//! changes kept says `truncated` and gets the current state.

use serde_json::{json, Value};

use super::history;
use crate::common::*;

#[tokio::test]
async fn a_toggle_storm_erases_no_message() {
    let s = history();
    let room = uniq("toggles");
    let (mut ann, _) = join(s, &room, "Ann").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(ann.say(&format!("message {i}")).await["id"].clone());
    }
    let since = ids[19].as_u64().unwrap();
    // Five members toggle 👍 on Ann's last message, 100 times in all.
    let mut togglers = Vec::new();
    for i in 0..5 {
        togglers.push(join(s, &room, &format!("t{i}")).await.0);
    }
    for round in 0..20 {
        for (i, t) in togglers.iter_mut().enumerate() {
            t.send_json(&json!({"type":"react","id":ids[19],"emoji":"👍"}))
                .await;
            // Everyone hears every toggle: read on to one's own.
            let r = loop {
                let f = t.recv_json().await;
                if f["type"] == "react" && f["name"] == format!("t{i}") {
                    break f;
                }
                assert!(f["type"] != "error", "{f}");
            };
            assert_eq!(r["on"], round % 2 == 0, "{r}");
        }
    }
    let st = stats(s, &room).await;
    assert_eq!(
        st["messages_stored"],
        20 + 20,
        "20 messages and 20 changes: {st}"
    );

    // Every message is still there: in a welcome, and in a page.
    let (_n, w) = join(s, &room, "Newcomer").await;
    let history: Vec<Value> = w["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 20, "{w}");
    assert_eq!(history[0]["text"], "message 0");
    let page = history_page(s, &room, "?limit=100").await;
    assert_eq!(page.len(), 20);

    // A resume from just before the storm reaches further back than the changes kept: it says
    // so, and gets the messages in their current state (no reaction left: 20 toggles each).
    let mut back = connect(s, &room).await;
    let w = back
        .join_with(json!({"type":"join","name":"Back","since":since}))
        .await;
    assert_eq!(w["truncated"], true, "{w}");
    let last = w["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], ids[19]);
    assert!(last.get("reactions").is_none(), "{last}");
    // The log after it says so too.
    let (status, body) = get_json(s, &format!("/api/rooms/{room}/messages?after={since}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["truncated"], true, "{body}");
}
