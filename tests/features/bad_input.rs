//! Bad input for the new frames: wrong types, huge ids, missing fields. Each gets one clear error
//! frame and the socket stays usable.

use serde_json::json;

use crate::common::*;

use super::*;

#[tokio::test]
async fn malformed_new_frames_get_an_error_and_the_socket_stays_usable() {
    let s = server();
    let room = uniq("badinput");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let m = a.say("target").await;
    b.expect("message").await;
    let id = id_of(&m);
    let cases = [
        // Wrong types.
        (
            json!({"type":"edit","id":id.to_string(),"text":"x"}),
            "bad_request",
        ),
        (json!({"type":"edit","id":id,"text":5}), "bad_request"),
        (json!({"type":"delete","id":-1}), "bad_request"),
        (json!({"type":"delete","id":1.5}), "bad_request"),
        (json!({"type":"delete","id":null}), "bad_request"),
        (
            json!({"type":"react","id":id,"emoji":["👍"]}),
            "bad_request",
        ),
        (
            json!({"type":"react","id":[id],"emoji":"👍"}),
            "bad_request",
        ),
        (json!({"type":"lock","locked":"yes"}), "bad_request"),
        (json!({"type":"lock","locked":1}), "bad_request"),
        (json!({"type":"kick","name":{"n":"Bob"}}), "bad_request"),
        (json!({"type":"topic","text":false}), "bad_request"),
        (
            json!({"type":"message","text":"hi","reply_to":"1"}),
            "bad_request",
        ),
        (
            json!({"type":"join","name":"Alice","owner_key":7}),
            "bad_request",
        ),
        // Ids beyond any u64.
        (json!({"type":"delete","id":1e30}), "bad_request"),
        // Missing fields.
        (json!({"type":"edit","text":"x"}), "bad_request"),
        (json!({"type":"edit","id":id}), "invalid_message"),
        (json!({"type":"delete"}), "bad_request"),
        (json!({"type":"react","emoji":"👍"}), "bad_request"),
        (json!({"type":"react","id":id}), "invalid_emoji"),
        (json!({"type":"lock"}), "bad_request"),
        (json!({"type":"kick"}), "bad_request"),
        // Content.
        (
            json!({"type":"edit","id":id,"text":"   "}),
            "invalid_message",
        ),
        (
            json!({"type":"edit","id":id,"text":"x".repeat(2001)}),
            "invalid_message",
        ),
    ];
    for (frame, code) in cases {
        a.send_json(&frame).await;
        let e = a.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == code,
            "{frame}: want {code}, got {e}"
        );
        let text = e["message"].as_str().unwrap_or("");
        assert!(
            !text.is_empty() && text.len() <= 200,
            "{frame}: message {e}"
        );
    }
    // A huge id that fits a u64 is just no message.
    let e = refused(
        &mut a,
        json!({"type":"edit","id":u64::MAX,"text":"x"}),
        "not_found",
    )
    .await;
    assert_eq!(e["target"], json!(u64::MAX));
    // Nobody else heard any of it, and everything still works.
    let m2 = a.say("still fine").await;
    assert_eq!(b.expect("message").await, m2);
    let e = change(
        &mut a,
        &mut [&mut b],
        json!({"type":"edit","id":id,"text":"edited"}),
        "edit",
    )
    .await;
    assert_eq!(e["target"], id);
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn the_new_frames_need_a_join_first() {
    let s = server();
    let room = uniq("unjoined");
    let (mut a, _) = join(s, &room, "Alice").await;
    let m = a.say("hello").await;
    let mut c = connect(s, &room).await;
    for f in [
        json!({"type":"edit","id":id_of(&m),"text":"x"}),
        json!({"type":"delete","id":id_of(&m)}),
        json!({"type":"react","id":id_of(&m),"emoji":"👍"}),
        json!({"type":"kick","name":"Alice"}),
        json!({"type":"lock","locked":true}),
        json!({"type":"topic","text":"t"}),
    ] {
        refused(&mut c, f, "not_joined").await;
    }
    c.join("Late").await;
    a.expect("join").await;
    a.expect_silence(QUIET).await;
}
