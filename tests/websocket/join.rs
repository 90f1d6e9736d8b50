//! Joining: the welcome frame, member names, a second join.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};

use super::{server, QUIET};

#[tokio::test]
async fn welcome_has_every_field_and_members_in_join_order() {
    let s = server();
    let room = uniq("welcome");
    let (mut a, wa) = join(s, &room, "Alice").await;
    assert_eq!(wa["type"], "welcome");
    assert_eq!(wa["room"], room.as_str());
    assert_eq!(wa["name"], "Alice");
    assert_eq!(members(&wa), ["Alice"]);
    assert_eq!(wa["history"], json!([]));
    assert_eq!(wa["truncated"], false);
    assert_eq!(wa["last_id"], 0);

    let (mut b, wb) = join(s, &room, "bob").await;
    assert_eq!(members(&wb), ["Alice", "bob"]);
    assert_join_frame(&a.expect("join").await, "bob");
    b.expect_silence(Duration::from_millis(300)).await; // the joiner gets no join about itself

    let (mut c, wc) = join(s, &room, "Carol").await;
    assert_eq!(members(&wc), ["Alice", "bob", "Carol"]);
    assert_join_frame(&a.expect("join").await, "Carol");
    assert_join_frame(&b.expect("join").await, "Carol");

    let m = b.say("hi").await;
    let wd = {
        let (_d, wd) = join(s, &room, "Dave").await;
        wd
    };
    assert_eq!(members(&wd), ["Alice", "bob", "Carol", "Dave"]);
    assert_eq!(wd["last_id"], m["id"]);
    assert_eq!(wd["truncated"], false);
    let h = wd["history"].as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(msg_core(&h[0]), msg_core(&m));
    for cl in [&mut a, &mut c] {
        cl.expect("message").await;
        assert_join_frame(&cl.expect("join").await, "Dave");
    }
}

#[tokio::test]
async fn names_are_unique_case_insensitively() {
    let s = server();
    let room = uniq("unique");
    let (mut a, _) = join(s, &room, "Alice").await;
    let mut b = connect(s, &room).await;
    for n in ["Alice", "alice", "ALICE", " aLiCe ", "Alice\t"] {
        b.send_json(&json!({"type":"join","name":n})).await;
        b.expect_error("name_taken").await;
    }
    // Nobody saw anything, and the refused socket can still join under a free name.
    a.expect_silence(Duration::from_millis(300)).await;
    let w = b.join("Alice2").await;
    assert_eq!(members(&w), ["Alice", "Alice2"]);
    assert_join_frame(&a.expect("join").await, "Alice2");
}

/// Case-insensitive beyond ASCII (reading: "compared case-insensitively" is not ASCII-only).
#[tokio::test]
async fn names_are_unique_case_insensitively_beyond_ascii() {
    let s = server();
    let room = uniq("unicase");
    let (_a, _) = join(s, &room, "Élodie").await;
    let mut b = connect(s, &room).await;
    b.send_json(&json!({"type":"join","name":"éLODIE"})).await;
    b.expect_error("name_taken").await;
}

#[tokio::test]
async fn invalid_names_are_rejected_and_the_socket_stays_usable() {
    let s = server();
    let room = uniq("badname");
    let (mut watcher, _) = join(s, &room, "Watcher").await;
    let mut c = connect(s, &room).await;
    let long = "a".repeat(33);
    let long_emoji = "😀".repeat(33);
    let invalid: Vec<Value> = vec![
        json!({"type":"join"}),
        json!({"type":"join","name":""}),
        json!({"type":"join","name":"   "}),
        json!({"type":"join","name":"\t\n "}),
        json!({"type":"join","name":long}),
        json!({"type":"join","name":long_emoji}),
        json!({"type":"join","name":"a\u{0007}b"}),
        json!({"type":"join","name":"a\u{0000}b"}),
        json!({"type":"join","name":"a\u{001b}[31mb"}),
        json!({"type":"join","name":"a\u{007f}b"}),
        json!({"type":"join","name":"a\u{0085}b"}),
        json!({"type":"join","name":"a\nb"}),
        json!({"type":"join","name":"a\u{200B}b"}),
        json!({"type":"join","name":"a\u{200C}b"}),
        json!({"type":"join","name":"a\u{200D}b"}),
        json!({"type":"join","name":"\u{200B}"}),
        json!({"type":"join","name":"a\u{202E}b"}),
        json!({"type":"join","name":"a\u{202D}b"}),
        json!({"type":"join","name":"a\u{2066}b"}),
        json!({"type":"join","name":"a\u{2069}b"}),
        json!({"type":"join","name":"a\u{00AD}b"}),
        json!({"type":"join","name":"a\u{FEFF}b"}),
        json!({"type":"join","name":"\u{FEFF}Other"}),
        json!({"type":"join","name":"a\u{2028}b"}),
        json!({"type":"join","name":"a\u{2029}b"}),
    ];
    for f in &invalid {
        c.send_json(f).await;
        let e = c.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "invalid_name",
            "join {f} must be invalid_name, got {e}"
        );
    }
    // A non-string name is a field of the wrong type.
    for name in [json!(123), json!(["a"]), json!({"a":1}), json!(true)] {
        c.send_json(&json!({"type":"join","name":name})).await;
        let e = c.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "bad_request",
            "join with name {name} must be bad_request, got {e}"
        );
    }
    watcher.expect_silence(QUIET).await;
    let w = c.join("Fine").await;
    assert_eq!(members(&w), ["Watcher", "Fine"]);
}

#[tokio::test]
async fn unicode_names_up_to_32_chars_are_shown_as_typed_and_trimmed() {
    let s = server();
    let room = uniq("uniname");
    let emoji = "😀".repeat(32);
    let cjk = "漢".repeat(32);
    let mixed = "Zoë Ångström-Ñandú ÄÖÜ çà 😀";
    let (mut a, wa) = join(s, &room, &format!("  {emoji}  ")).await;
    assert_eq!(wa["name"], emoji.as_str());
    let (mut b, wb) = join(s, &room, &format!("\t{cjk}\n")).await;
    assert_eq!(wb["name"], cjk.as_str());
    assert_join_frame(&a.expect("join").await, &cjk);
    let padded = format!("   {}   ", "x".repeat(32));
    let (mut c, wc) = join(s, &room, &padded).await;
    assert_eq!(wc["name"], "x".repeat(32));
    let (_d, wd) = join(s, &room, mixed).await;
    assert_eq!(
        members(&wd),
        [
            emoji.clone(),
            cjk.clone(),
            "x".repeat(32),
            mixed.to_string()
        ]
    );
    assert_join_frame(&a.expect("join").await, &"x".repeat(32));
    assert_join_frame(&a.expect("join").await, mixed);
    assert_join_frame(&b.expect("join").await, &"x".repeat(32));
    assert_join_frame(&b.expect("join").await, mixed);
    assert_join_frame(&c.expect("join").await, mixed);
    let m = a.say("from emoji").await;
    assert_eq!(m["name"], emoji.as_str());
    assert_eq!(b.expect("message").await, m);
}

#[tokio::test]
async fn second_join_is_bad_request_and_changes_nothing() {
    let s = server();
    let room = uniq("twice");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    b.send_json(&json!({"type":"join","name":"Bob"})).await;
    b.expect_error("bad_request").await;
    b.send_json(&json!({"type":"join","name":"Robert"})).await;
    b.expect_error("bad_request").await;
    a.expect_silence(QUIET).await;
    let m = b.say("still Bob").await;
    assert_eq!(m["name"], "Bob");
    a.expect("message").await;
    let (_c, wc) = join(s, &room, "Carol").await;
    assert_eq!(members(&wc), ["Alice", "Bob", "Carol"]);
}
