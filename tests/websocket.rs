//! The WebSocket half of docs/protocol.md against a real `wrangler dev` with default [vars]:
//! join/welcome, names, messages, errors, ping, typing, leave, history and resume, sessions,
//! stats, room isolation, the default rate limit. One server shared by every test here; each
//! test uses its own rooms.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    shared(&SERVER, &[])
}

const QUIET: Duration = Duration::from_millis(700);

// ----------------------------------------------------------------------------- join / welcome

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

// ----------------------------------------------------------------------------- messages

#[tokio::test]
async fn messages_reach_every_member_including_the_sender() {
    let s = server();
    let room = uniq("msg");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;

    let before = now_ms();
    a.send_json(&json!({"type":"message","text":"hello","nonce":"c1"}))
        .await;
    let echo = a.expect("message").await;
    assert!(echo["id"].as_i64().unwrap() > 0, "{echo}");
    assert_eq!(echo["name"], "Alice");
    assert_eq!(echo["text"], "hello");
    assert_eq!(echo["nonce"], "c1");
    assert_recent(&echo, "at");
    assert!(echo["at"].as_i64().unwrap() >= before - 5000);
    assert_eq!(b.expect("message").await, echo);
    assert_eq!(c.expect("message").await, echo);

    // Without a nonce the frame has none.
    let e2 = b.say("no nonce").await;
    assert!(e2.get("nonce").is_none(), "nonce only when given: {e2}");
    assert_eq!(a.expect("message").await, e2);
    assert_eq!(c.expect("message").await, e2);
}

#[tokio::test]
async fn ids_strictly_increase_and_everyone_sees_one_order() {
    let s = server();
    let room = uniq("order");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut w, _) = join(s, &room, "Watch").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;
    // Interleave two senders without waiting for echoes.
    for i in 0..8 {
        a.send_json(&json!({"type":"message","text":format!("a{i}")}))
            .await;
        b.send_json(&json!({"type":"message","text":format!("b{i}")}))
            .await;
    }
    let mut seen = Vec::new();
    for cl in [&mut a, &mut b, &mut w] {
        let mut v = Vec::new();
        for _ in 0..16 {
            v.push(cl.expect("message").await);
        }
        seen.push(v);
    }
    let order = ids(&seen[0]);
    assert_strictly_increasing(&order);
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    // Per-sender order is kept.
    let a_texts: Vec<_> = seen[0]
        .iter()
        .filter(|m| m["name"] == "Alice")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(a_texts, (0..8).map(|i| format!("a{i}")).collect::<Vec<_>>());
    let h = history_page(s, &room, "").await;
    assert_eq!(
        h.iter().map(msg_core).collect::<Vec<_>>(),
        seen[0].iter().map(msg_core).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn message_text_rules() {
    let s = server();
    let room = uniq("text");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;

    // Trimmed; inner newlines and tabs kept.
    let m = a.say("  \n\t hi there \t\n ").await;
    assert_eq!(m["text"], "hi there");
    b.expect("message").await;
    let m = a.say("line1\nline2\n\tindented").await;
    assert_eq!(m["text"], "line1\nline2\n\tindented");
    b.expect("message").await;

    // Exactly 2000 characters (ASCII and 4-byte scalars) are fine.
    for t in ["x".repeat(2000), "😀".repeat(2000), "é".repeat(2000)] {
        let m = a.say(&t).await;
        assert_eq!(m["text"].as_str().unwrap().chars().count(), 2000);
        b.expect("message").await;
    }
    // Trimming happens before the length check.
    let m = a.say(&format!("   {}   ", "y".repeat(2000))).await;
    assert_eq!(m["text"], "y".repeat(2000));
    b.expect("message").await;

    let bad: Vec<Value> = vec![
        json!({"type":"message","text":"x".repeat(2001)}),
        json!({"type":"message","text":"😀".repeat(2001)}),
        json!({"type":"message","text":""}),
        json!({"type":"message","text":"   \n\t  "}),
        json!({"type":"message"}),
        json!({"type":"message","text":"bell\u{0007}"}),
        json!({"type":"message","text":"nul\u{0000}x"}),
        json!({"type":"message","text":"esc\u{001b}[2J"}),
        json!({"type":"message","text":"del\u{007f}x"}),
        json!({"type":"message","text":"ok","nonce":"n".repeat(65)}),
        json!({"type":"message","text":"ok","nonce":"😀".repeat(65)}),
    ];
    for f in &bad {
        a.send_json(f).await;
        let e = a.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "invalid_message",
            "{} must be invalid_message, got {e}",
            clip(&f.to_string())
        );
    }
    // Nothing of that reached anyone or the history.
    b.expect_silence(QUIET).await;
    let m = a.say_nonce("nonce at the limit", &"n".repeat(64)).await;
    assert_eq!(b.expect("message").await, m);
    // The nonce limit counts characters, not bytes.
    let m = a.say_nonce("unicode nonce", &"😀".repeat(64)).await;
    assert_eq!(b.expect("message").await, m);
    let h = history_page(s, &room, "?limit=100").await;
    assert_eq!(h.len(), 8, "only the valid messages are stored");
}

#[tokio::test]
async fn message_and_typing_before_join_are_not_joined() {
    let s = server();
    let room = uniq("early");
    let (mut a, _) = join(s, &room, "Alice").await;
    let mut c = connect(s, &room).await;
    c.send_json(&json!({"type":"message","text":"sneaky"}))
        .await;
    c.expect_error("not_joined").await;
    c.send_json(&json!({"type":"typing"})).await;
    c.expect_error("not_joined").await;
    a.expect_silence(QUIET).await;
    assert!(history_page(s, &room, "").await.is_empty());
    c.join("Late").await;
    assert_join_frame(&a.expect("join").await, "Late");
    c.say("now it works").await;
}

// ----------------------------------------------------------------------------- errors

#[tokio::test]
async fn malformed_frames_are_bad_request_and_the_socket_stays_usable() {
    let s = server();
    let room = uniq("errors");
    let (mut obs, _) = join(s, &room, "Observer").await;
    // Three offenders take turns so the valid follow-up messages stay under the default burst.
    let mut offenders = Vec::new();
    for n in ["A1", "A2", "A3"] {
        let (c, _) = join(s, &room, n).await;
        assert_join_frame(&obs.expect("join").await, n);
        offenders.push(c);
    }
    for (i, c) in offenders.iter_mut().enumerate() {
        for _ in i + 1..3 {
            c.expect("join").await;
        }
    }
    let bad_text: Vec<String> = vec![
        "not json".into(),
        "{".into(),
        "{\"type\":\"message\",\"text\":\"hi\"".into(),
        "".into(),
        "pong".into(),
        "PING".into(),
        "null".into(),
        "42".into(),
        "\"message\"".into(),
        "[]".into(),
        "[{\"type\":\"message\",\"text\":\"hi\"}]".into(),
        "true".into(),
        "{}".into(),
        r#"{"text":"no type"}"#.into(),
        r#"{"type":"shout","text":"hi"}"#.into(),
        r#"{"type":"Message","text":"hi"}"#.into(),
        r#"{"type":"welcome"}"#.into(),
        r#"{"type":"error"}"#.into(),
        r#"{"type":"debug_reset"}"#.into(),
        r#"{"type":null}"#.into(),
        r#"{"type":7}"#.into(),
        r#"{"type":["message"]}"#.into(),
        r#"{"type":"message","text":5}"#.into(),
        r#"{"type":"message","text":["hi"]}"#.into(),
        r#"{"type":"message","text":"hi","nonce":5}"#.into(),
        r#"{"type":"message","text":"hi","nonce":{}}"#.into(),
        "[".repeat(8000),
        format!("{}{}", "{\"a\":".repeat(2000), "1"),
    ];
    for (i, t) in bad_text.iter().enumerate() {
        let k = i % offenders.len();
        let a = &mut offenders[k];
        a.send_text(t.clone()).await;
        let e = a.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "bad_request",
            "{:?} must be bad_request, got {e}",
            clip(t)
        );
        // The socket stays usable.
        let m = a.say("still here").await;
        assert_eq!(obs.expect("message").await, m);
        for (j, o) in offenders.iter_mut().enumerate() {
            if j != k {
                assert_eq!(o.expect("message").await, m);
            }
        }
    }
    // A binary frame is bad_request, even when it holds a valid frame.
    for bin in [
        br#"{"type":"message","text":"hi"}"#.to_vec(),
        vec![0, 159, 146, 150],
        Vec::new(),
    ] {
        let a = &mut offenders[0];
        a.send_binary(bin).await;
        a.expect_error("bad_request").await;
    }
    let m = offenders[0].say("after binary").await;
    assert_eq!(obs.expect("message").await, m);
    obs.expect_silence(Duration::from_millis(300)).await;
    s.assert_no_panic();
}

#[tokio::test]
async fn errors_before_join_keep_the_socket_usable() {
    let s = server();
    let room = uniq("errjoin");
    let mut c = connect(s, &room).await;
    c.send_text("nope").await;
    c.expect_error("bad_request").await;
    c.send_binary(vec![1, 2, 3]).await;
    c.expect_error("bad_request").await;
    c.send_text("x".repeat(MAX_FRAME + 1)).await;
    c.expect_error("too_large").await;
    c.send_json(&json!({"type":"wave"})).await;
    c.expect_error("bad_request").await;
    c.join("Survivor").await;
    c.say("made it").await;
}

#[tokio::test]
async fn frames_over_16_kib_are_too_large_at_exactly_the_limit() {
    let s = server();
    let room = uniq("large");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;

    // A frame of exactly 16384 bytes is parsed: its text is trimmed down to 2000 characters.
    let head = format!(r#"{{"type":"message","text":"{}"#, "x".repeat(2000));
    let tail = r#""}"#;
    let pad = MAX_FRAME - head.len() - tail.len();
    let exact = format!("{head}{}{tail}", " ".repeat(pad));
    assert_eq!(exact.len(), MAX_FRAME);
    a.send_text(exact).await;
    let m = a.expect("message").await;
    assert_eq!(m["text"], "x".repeat(2000));
    assert_eq!(b.expect("message").await, m);

    // One byte more is too_large, not parsed, not broadcast.
    let over = format!("{head}{}{tail}", " ".repeat(pad + 1));
    assert_eq!(over.len(), MAX_FRAME + 1);
    a.send_text(over).await;
    a.expect_error("too_large").await;
    // Invalid JSON over the limit is too_large too (never parsed).
    a.send_text("{".repeat(MAX_FRAME + 1)).await;
    a.expect_error("too_large").await;
    a.send_text("[".repeat(100_000)).await;
    a.expect_error("too_large").await;
    a.send_text(format!(
        r#"{{"type":"message","text":"{}"}}"#,
        "z".repeat(200_000)
    ))
    .await;
    a.expect_error("too_large").await;
    b.expect_silence(QUIET).await;
    let m = a.say("fine after too_large").await;
    assert_eq!(b.expect("message").await, m);
    assert_eq!(history_page(s, &room, "").await.len(), 2);
    s.assert_no_panic();
}

#[tokio::test]
async fn debug_reset_is_rejected_without_test_hooks() {
    let s = server();
    let room = uniq("nohooks");
    let mut u = connect(s, &room).await;
    u.send_json(&json!({"type":"debug_reset"})).await;
    u.expect_error("bad_request").await;
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let m1 = a.say("before").await;
    b.expect("message").await;
    a.send_json(&json!({"type":"debug_reset"})).await;
    a.expect_error("bad_request").await;
    // Nothing was reset.
    let st = stats(s, &room).await;
    assert_eq!(st["members"], 2);
    let (_c, wc) = join(s, &room, "Carol").await;
    assert_eq!(members(&wc), ["Alice", "Bob", "Carol"]);
    assert_join_frame(&b.expect("join").await, "Carol");
    let m2 = b.say("after").await;
    assert!(m2["id"].as_i64() > m1["id"].as_i64());
}

// ----------------------------------------------------------------------------- ping / typing

#[tokio::test]
async fn ping_is_answered_pong_before_and_after_join() {
    let s = server();
    let room = uniq("ping");
    let mut c = connect(s, &room).await;
    for _ in 0..3 {
        c.send_text("ping").await;
        assert_eq!(c.recv().await, Frame::Text("pong".into()));
    }
    let (mut other, _) = join(s, &room, "Other").await;
    c.join("Pinger").await;
    other.expect("join").await;
    c.send_text("ping").await;
    assert_eq!(c.recv().await, Frame::Text("pong".into()));
    other.expect_silence(Duration::from_millis(300)).await;
    // ping does not count as a message.
    assert!(history_page(s, &room, "").await.is_empty());
}

#[tokio::test]
async fn typing_is_relayed_to_others_and_throttled() {
    let s = server();
    let room = uniq("typing");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;

    a.send_json(&json!({"type":"typing"})).await;
    for cl in [&mut b, &mut c] {
        let t = cl.expect("typing").await;
        assert_eq!(t["name"], "Alice");
    }
    // A second frame within a second is dropped silently (no error to the sender either).
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.send_json(&json!({"type":"typing"})).await;
    a.send_json(&json!({"type":"typing"})).await;
    a.expect_silence(QUIET).await;
    b.expect_silence(Duration::from_millis(100)).await;
    c.expect_silence(Duration::from_millis(100)).await;
    // The throttle is per member: Bob may type meanwhile.
    b.send_json(&json!({"type":"typing"})).await;
    assert_eq!(a.expect("typing").await["name"], "Bob");
    assert_eq!(c.expect("typing").await["name"], "Bob");
    // After the second is over, Alice's typing is relayed again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    a.send_json(&json!({"type":"typing"})).await;
    assert_eq!(b.expect("typing").await["name"], "Alice");
    assert_eq!(c.expect("typing").await["name"], "Alice");
    b.expect_silence(QUIET).await;
    a.expect_silence(Duration::from_millis(100)).await;
    // Never stored.
    assert!(history_page(s, &room, "").await.is_empty());
    assert_eq!(stats(s, &room).await["messages_stored"], 0);
}

// ----------------------------------------------------------------------------- leave / close

#[tokio::test]
async fn clean_close_broadcasts_leave_and_is_answered_1000() {
    let s = server();
    let room = uniq("leave");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (b, _) = join(s, &room, "Bob").await;
    let (c, _) = join(s, &room, "Carol").await;
    let (d, _) = join(s, &room, "Dave").await;
    for n in ["Bob", "Carol", "Dave"] {
        assert_join_frame(&a.expect("join").await, n);
    }
    // A close with no status code (1005 on the server) is answered 1000.
    assert_eq!(b.close(None).await, Some(1000));
    assert_leave_frame(&a.expect("leave").await, "Bob");
    assert_eq!(c.close(Some(1000)).await, Some(1000));
    assert_leave_frame(&a.expect("leave").await, "Carol");
    // Any other close code is answered too.
    let code = d.close(Some(4000)).await;
    assert!(
        code.is_some(),
        "the server answers a close with a close frame"
    );
    assert_leave_frame(&a.expect("leave").await, "Dave");
    a.expect_silence(QUIET).await;
    let (_e, we) = join(s, &room, "Eve").await;
    assert_eq!(members(&we), ["Alice", "Eve"]);
    // The name is free again.
    let (_b2, wb2) = join(s, &room, "bob").await;
    assert_eq!(members(&wb2), ["Alice", "Eve", "bob"]);
}

#[tokio::test]
async fn abrupt_tcp_drops_broadcast_leave() {
    let s = server();
    let room = uniq("drop");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (b, _) = join(s, &room, "Bob").await;
    let (c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    b.drop_abruptly(); // RST, no close frame
    assert_leave_frame(&a.expect("leave").await, "Bob");
    c.drop_silently(); // FIN, no close frame
    assert_leave_frame(&a.expect("leave").await, "Carol");
    // Dropped in the middle of a frame.
    let (mut d, _) = join(s, &room, "Dave").await;
    a.expect("join").await;
    d.write_raw(&[0x81, 0xFE, 0x01]).await; // masked text frame header, cut short
    d.drop_abruptly();
    assert_leave_frame(&a.expect("leave").await, "Dave");
    a.expect_silence(QUIET).await;
    let st = wait_stats(s, &room, "1 member, 1 connection", |v| {
        v["members"] == 1 && v["connections"] == 1
    })
    .await;
    assert_eq!(st["members"], 1);
    let (_e, we) = join(s, &room, "Eve").await;
    assert_eq!(members(&we), ["Alice", "Eve"]);
    s.assert_no_panic();
}

#[tokio::test]
async fn sockets_that_never_joined_leave_silently() {
    let s = server();
    let room = uniq("silent");
    let (mut a, _) = join(s, &room, "Alice").await;
    let u1 = connect(s, &room).await;
    let u2 = connect(s, &room).await;
    let mut u3 = connect(s, &room).await;
    let u4 = connect(s, &room).await;
    assert_eq!(u1.close(None).await, Some(1000));
    u2.drop_abruptly();
    u3.send_json(&json!({"type":"join","name":"Alice"})).await;
    u3.expect_error("name_taken").await;
    u3.drop_silently();
    u4.drop_silently();
    a.expect_silence(Duration::from_millis(1500)).await;
    wait_stats(s, &room, "1 connection", |v| {
        v["connections"] == 1 && v["members"] == 1
    })
    .await;
}

// ----------------------------------------------------------------------------- history / resume

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

// ----------------------------------------------------------------------------- sessions

#[tokio::test]
async fn session_takeover_replaces_the_socket_silently() {
    let s = server();
    let room = uniq("session");
    let secret = "s3cr3t-Session-0123456789abcdef";
    let (mut obs, _) = join(s, &room, "Observer").await;
    let mut old = connect(s, &room).await;
    let w = old
        .join_with(json!({"type":"join","name":"Sam","session":secret}))
        .await;
    assert_eq!(w["name"], "Sam");
    let j = obs.expect("join").await;
    assert_join_frame(&j, "Sam");
    let m1 = old.say("from the old tab").await;
    assert_eq!(obs.expect("message").await, m1);

    // A different session, or none, cannot take the name.
    let mut thief = connect(s, &room).await;
    thief
        .send_json(&json!({"type":"join","name":"Sam","session":"another-session-0123456789"}))
        .await;
    thief.expect_error("name_taken").await;
    thief.send_json(&json!({"type":"join","name":"sam"})).await;
    thief.expect_error("name_taken").await;

    // The same session takes over.
    let mut new = connect(s, &room).await;
    let w = new
        .join_with(json!({"type":"join","name":"Sam","session":secret}))
        .await;
    assert_eq!(w["name"], "Sam");
    assert_eq!(members(&w), ["Observer", "Sam"]);
    assert_eq!(w["last_id"], m1["id"]);
    assert!(
        !w.to_string().contains(secret),
        "the welcome does not echo the secret"
    );
    assert_eq!(old.expect_close().await, Some(4001));
    obs.expect_silence(Duration::from_millis(1500)).await;

    // Observer, the new tab and the (unjoined) thief: the old tab's socket is gone.
    let st = wait_stats(s, &room, "2 members, 3 connections", |v| {
        v["members"] == 2 && v["connections"] == 3
    })
    .await;
    assert_eq!(st["members"], 2);
    let m2 = new.say("from the new tab").await;
    assert_eq!(obs.expect("message").await, m2);
    // The secret is nowhere others can read.
    let page = http("GET", s.url(&format!("/api/rooms/{room}/messages"))).await;
    assert!(!page.body.contains(secret));
    let st = http("GET", s.url(&format!("/api/rooms/{room}/stats"))).await;
    assert!(!st.body.contains(secret));
    // One leave, when the new socket goes.
    assert_eq!(new.close(Some(1000)).await, Some(1000));
    let l = obs.expect("leave").await;
    assert_leave_frame(&l, "Sam");
    obs.expect_silence(QUIET).await;
    for f in [&j, &l, &m1, &m2] {
        assert!(!f.to_string().contains(secret));
    }
}

/// After the takeover the old socket is gone for good: its close produces no leave.
#[tokio::test]
async fn takeover_then_old_socket_activity_is_harmless() {
    let s = server();
    let room = uniq("takeover2");
    let secret = "ABCDEFGHIJKLMNOPqrstuvwx";
    let (mut obs, _) = join(s, &room, "Observer").await;
    let mut t1 = connect(s, &room).await;
    t1.join_with(json!({"type":"join","name":"Kim","session":secret}))
        .await;
    obs.expect("join").await;
    let mut t2 = connect(s, &room).await;
    t2.join_with(json!({"type":"join","name":"Kim","session":secret}))
        .await;
    assert_eq!(t1.expect_close().await, Some(4001));
    // And a third tab takes over again.
    let mut t3 = connect(s, &room).await;
    let w = t3
        .join_with(json!({"type":"join","name":"Kim","session":secret}))
        .await;
    assert_eq!(members(&w), ["Observer", "Kim"]);
    assert_eq!(t2.expect_close().await, Some(4001));
    obs.expect_silence(Duration::from_millis(1000)).await;
    t3.drop_abruptly();
    assert_leave_frame(&obs.expect("leave").await, "Kim");
    wait_stats(s, &room, "1 member", |v| v["members"] == 1).await;
}

/// Session must be 16–128 printable ASCII characters. Reading: a malformed session is a join
/// error (`bad_request`, the field is not of the documented form), never a takeover.
#[tokio::test]
async fn malformed_sessions_are_rejected() {
    let s = server();
    let room = uniq("badsess");
    let mut c = connect(s, &room).await;
    for sess in [
        json!("short"),
        json!("a".repeat(15)),
        json!("a".repeat(129)),
        json!(format!("{}\u{00e9}", "a".repeat(20))),
        json!(format!("{}\n", "a".repeat(20))),
        json!(12345678901234567i64),
    ] {
        c.send_json(&json!({"type":"join","name":"Pat","session":sess}))
            .await;
        let e = c.recv_json().await;
        assert!(
            e["type"] == "error" && e["code"] == "bad_request",
            "session {sess} must be rejected with bad_request, got {e}"
        );
    }
    let w = c
        .join_with(json!({"type":"join","name":"Pat","session":"a".repeat(16)}))
        .await;
    assert_eq!(w["name"], "Pat");
    let mut c2 = connect(s, &room).await;
    c2.join_with(json!({"type":"join","name":"Max","session":"~".repeat(128)}))
        .await;
}

/// "The secret is never sent to anyone else and never stored in clear": it appears in no file the
/// server persisted and in no log line.
#[tokio::test]
async fn session_secret_is_never_stored_in_clear() {
    let s = server();
    let room = uniq("secret");
    let secret = format!("NeverStored-{}-q7Zx9", uniq("s"));
    let mut t1 = connect(s, &room).await;
    t1.join_with(json!({"type":"join","name":"Vault","session":secret}))
        .await;
    t1.say_nonce("a stored message", "vault-nonce").await;
    let mut t2 = connect(s, &room).await;
    t2.join_with(json!({"type":"join","name":"Vault","session":secret}))
        .await;
    assert_eq!(t1.expect_close().await, Some(4001));
    t2.say("another stored message").await;
    // Make sure the writes reached the disk: stats answers after the room's storage work.
    assert_eq!(stats(s, &room).await["messages_stored"], 2);
    let files = files_under(&s.persist);
    assert!(
        !files.is_empty(),
        "nothing persisted under {}",
        s.persist.display()
    );
    let mut found_nonce = false;
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(
            !hay.contains(&secret),
            "the session secret is stored in clear in {}",
            f.display()
        );
        found_nonce |= hay.contains("vault-nonce");
    }
    // (The check would be vacuous if the history were not under this dir at all.)
    assert!(
        found_nonce,
        "the room's storage was not found under the persist dir"
    );
    assert!(
        !s.log().contains(&secret),
        "the session secret is in the log"
    );
}

/// Default JOIN_TIMEOUT_MS is 10 s: an idle socket is left alone for 9 s, then closed with 1008.
#[tokio::test]
async fn default_join_timeout_closes_idle_sockets_after_10_s() {
    let s = server();
    let room = uniq("deftimeout");
    let mut idle = connect(s, &room).await;
    idle.expect_silence(Duration::from_secs(9)).await;
    match idle.recv_timeout(Duration::from_secs(6)).await {
        Some(Frame::Close(code, _)) => assert_eq!(code, Some(1008)),
        other => panic!("expected close 1008 about 10 s after connecting, got {other:?}"),
    }
}

// ----------------------------------------------------------------------------- stats

#[tokio::test]
async fn stats_agree_with_what_clients_did() {
    let s = server();
    let room = uniq("stats");
    let fresh = stats(s, &room).await;
    assert_eq!(fresh["room"], room.as_str());
    assert_eq!(fresh["members"], 0);
    assert_eq!(fresh["connections"], 0);
    assert_eq!(fresh["messages_stored"], 0);
    assert_eq!(fresh["last_message_id"], 0);

    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let u = connect(s, &room).await;
    a.expect("join").await;
    let mut last = Value::Null;
    for i in 0..7 {
        last = b.say(&format!("m{i}")).await;
        a.expect("message").await;
    }
    let st = stats(s, &room).await;
    assert_eq!(st["room"], room.as_str());
    assert_eq!(st["members"], 2, "{st}");
    assert_eq!(st["connections"], 3, "{st}");
    assert_eq!(st["messages_stored"], 7, "{st}");
    assert_eq!(st["last_message_id"], last["id"], "{st}");
    let mem = st["memory_bytes"].as_u64().expect("memory_bytes");
    assert!(
        mem > 0 && mem % 65536 == 0,
        "wasm memory is whole pages: {st}"
    );
    let started = st["started_at"].as_i64().expect("started_at");
    assert!(
        started >= s.started_ms - 1000 && started <= now_ms(),
        "started_at {started} not within this server's life (started {}): {st}",
        s.started_ms
    );

    u.drop_silently();
    wait_stats(s, &room, "2 connections", |v| v["connections"] == 2).await;
    assert_eq!(b.close(Some(1000)).await, Some(1000));
    a.expect("leave").await;
    let st = wait_stats(s, &room, "1 member", |v| {
        v["members"] == 1 && v["connections"] == 1
    })
    .await;
    assert_eq!(st["messages_stored"], 7);
    a.drop_abruptly();
    let st = wait_stats(s, &room, "empty", |v| {
        v["members"] == 0 && v["connections"] == 0
    })
    .await;
    assert_eq!(st["last_message_id"], last["id"]);
}

// ----------------------------------------------------------------------------- isolation

#[tokio::test]
async fn two_rooms_stay_isolated() {
    let s = server();
    let r1 = uniq("iso-one");
    let r2 = uniq("iso-two");
    let (mut a1, _) = join(s, &r1, "Alice").await;
    let (mut a2, w2) = join(s, &r2, "Alice").await; // same name, other room: fine
    assert_eq!(members(&w2), ["Alice"]);
    let (mut b1, _) = join(s, &r1, "Bob").await;
    a1.expect("join").await;
    let m = b1.say("only in one").await;
    a1.expect("message").await;
    a2.expect_silence(QUIET).await;
    let m2 = a2.say("only in two").await;
    a1.expect_silence(Duration::from_millis(200)).await;
    b1.expect_silence(Duration::from_millis(200)).await;
    assert_eq!(
        ids(&history_page(s, &r1, "").await),
        [m["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(&history_page(s, &r2, "").await),
        [m2["id"].as_i64().unwrap()]
    );
    assert_eq!(stats(s, &r1).await["members"], 2);
    assert_eq!(stats(s, &r2).await["members"], 1);
    drop(b1);
    assert_leave_frame(&a1.expect("leave").await, "Bob");
    a2.expect_silence(QUIET).await;
}

// ----------------------------------------------------------------------------- default limits

/// Default [vars]: a burst of 20 messages, then `rate_limited` (bucket refills 5/s).
#[tokio::test]
async fn default_rate_limit_allows_a_burst_of_20() {
    let s = server();
    let room = uniq("burst");
    let (mut a, _) = join(s, &room, "Alice").await;
    for i in 0..30 {
        a.send_json(&json!({"type":"message","text":format!("b{i}")}))
            .await;
    }
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..30 {
        let v = a.recv_json().await;
        match v["type"].as_str() {
            Some("message") => ok += 1,
            Some("error") if v["code"] == "rate_limited" => {
                assert!(v["retry_after_ms"].as_u64().is_some_and(|r| r > 0), "{v}");
                limited += 1
            }
            _ => panic!("unexpected {v}"),
        }
    }
    assert!((20..30).contains(&ok), "{ok} accepted, {limited} limited");
    assert_eq!(stats(s, &room).await["messages_stored"], ok);
}
