//! State-transition tests of the room: each protocol rule, driven event by event.

use super::*;
use serde_json::Value;

const ROOM: &str = "lobby";

/// Rate limiting off: these tests send bursts; its own test turns it on.
fn unlimited() -> Limits {
    Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    }
}

fn room() -> Room {
    Room::new(unlimited(), StoredHistory::default())
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("valid JSON")
}

fn join_frame(name: &str) -> String {
    serde_json::json!({"type":"join","name":name}).to_string()
}

fn join(room: &mut Room, conn: ConnId, name: &str) -> Joined {
    room.connect(conn, 0);
    match room.handle(conn, &join_frame(name), ROOM, 10) {
        Outcome::Joined(j) => j,
        other => panic!("expected a join, got {other:?}"),
    }
}

fn error_code(outcome: Outcome) -> ErrorCode {
    match outcome {
        Outcome::Reject(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Sends a message and reports it stored, as the adapter does.
fn say(room: &mut Room, conn: ConnId, text: &str, now: u64) -> ChatMessage {
    let frame = serde_json::json!({"type":"message","text":text}).to_string();
    match room.handle(conn, &frame, ROOM, now) {
        Outcome::Message { message, frame } => {
            assert_eq!(json(&frame)["id"], message.id);
            room.message_stored(message.clone());
            message
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn welcome_lists_members_in_join_order_and_others_hear_the_join() {
    let mut r = room();
    let a = join(&mut r, 1, "Alice");
    let w = json(&a.welcome);
    assert_eq!(w["type"], "welcome");
    assert_eq!(w["room"], ROOM);
    assert_eq!(w["name"], "Alice");
    assert_eq!(w["members"], serde_json::json!(["Alice"]));
    assert_eq!(w["history"], serde_json::json!([]));
    assert_eq!(w["truncated"], false);
    assert_eq!(w["last_id"], 0);

    let b = join(&mut r, 2, "  Bob ");
    assert_eq!(
        json(&b.welcome)["members"],
        serde_json::json!(["Alice", "Bob"])
    );
    let announce = json(b.announce.as_deref().expect("a join is announced"));
    assert_eq!(
        announce,
        serde_json::json!({"type":"join","name":"Bob","at":10})
    );
    assert_eq!(
        b.attachment.member.as_ref().map(|m| m.name.as_str()),
        Some("Bob")
    );
    assert_eq!(r.member_conns(), &[1, 2]);
}

#[test]
fn names_are_unique_case_insensitively() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    r.connect(2, 0);
    assert_eq!(
        error_code(r.handle(2, &join_frame("ALICE"), ROOM, 1)),
        ErrorCode::NameTaken
    );
    assert_eq!(
        error_code(r.handle(2, &join_frame(" alice "), ROOM, 1)),
        ErrorCode::NameTaken
    );
    // The refused socket can still join under another name.
    assert!(matches!(
        r.handle(2, &join_frame("Alicia"), ROOM, 1),
        Outcome::Joined(_)
    ));
}

#[test]
fn invalid_names_and_second_joins_are_refused() {
    let mut r = room();
    r.connect(1, 0);
    for bad in ["", "  ", "a\u{200B}b", "\u{202E}x", &"x".repeat(33)] {
        assert_eq!(
            error_code(r.handle(1, &join_frame(bad), ROOM, 1)),
            ErrorCode::InvalidName
        );
    }
    assert!(matches!(
        r.handle(1, &join_frame("Ann"), ROOM, 1),
        Outcome::Joined(_)
    ));
    assert_eq!(
        error_code(r.handle(1, &join_frame("Ann2"), ROOM, 1)),
        ErrorCode::BadRequest
    );
    assert_eq!(r.member_count(), 1);
}

#[test]
fn messages_and_typing_need_a_join() {
    let mut r = room();
    r.connect(1, 0);
    let msg = r#"{"type":"message","text":"hi"}"#;
    assert_eq!(error_code(r.handle(1, msg, ROOM, 1)), ErrorCode::NotJoined);
    assert_eq!(
        error_code(r.handle(1, r#"{"type":"typing"}"#, ROOM, 1)),
        ErrorCode::NotJoined
    );
    assert_eq!(r.last_id(), 0);
}

#[test]
fn message_ids_strictly_increase_and_carry_the_nonce() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    let frame = r#"{"type":"message","text":"  hello  ","nonce":"c1"}"#;
    let Outcome::Message { message, frame } = r.handle(1, frame, ROOM, 42) else {
        panic!("expected a message");
    };
    assert_eq!(
        json(&frame),
        serde_json::json!({"type":"message","id":1,"name":"Alice","text":"hello","at":42,"nonce":"c1"})
    );
    r.message_stored(message);
    let ids: Vec<u64> = (0..5).map(|i| say(&mut r, 1, "x", 50 + i).id).collect();
    assert_eq!(ids, vec![2, 3, 4, 5, 6]);
}

#[test]
fn invalid_messages_are_refused_without_using_an_id() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    for frame in [
        r#"{"type":"message","text":"   "}"#.to_string(),
        format!(r#"{{"type":"message","text":"{}"}}"#, "a".repeat(2001)),
        format!(
            r#"{{"type":"message","text":"ok","nonce":"{}"}}"#,
            "n".repeat(65)
        ),
        r#"{"type":"message","text":"bell\u0007"}"#.to_string(),
    ] {
        assert_eq!(
            error_code(r.handle(1, &frame, ROOM, 1)),
            ErrorCode::InvalidMessage
        );
    }
    assert_eq!(say(&mut r, 1, &"a".repeat(2000), 2).id, 1);
}

#[test]
fn welcome_history_is_the_newest_hundred_oldest_first() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    for i in 0..130 {
        say(&mut r, 1, &format!("m{i}"), i);
    }
    let b = join(&mut r, 2, "Bob");
    let w = json(&b.welcome);
    let history = w["history"].as_array().expect("history");
    assert_eq!(history.len(), 100);
    assert_eq!(history[0]["id"], 31);
    assert_eq!(history[99]["id"], 130);
    assert_eq!(history[99]["text"], "m129");
    assert_eq!(w["last_id"], 130);
    assert_eq!(w["truncated"], false);
}

fn welcome_since(r: &mut Room, conn: ConnId, since: u64) -> Value {
    r.connect(conn, 0);
    let frame =
        serde_json::json!({"type":"join","name":format!("p{conn}"),"since":since}).to_string();
    match r.handle(conn, &frame, ROOM, 1) {
        Outcome::Joined(j) => json(&j.welcome),
        other => panic!("expected a join, got {other:?}"),
    }
}

#[test]
fn resume_since_gives_exactly_the_missed_messages() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    for i in 0..150 {
        say(&mut r, 1, "x", i);
    }
    let w = welcome_since(&mut r, 2, 140);
    let ids: Vec<u64> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (141..=150).collect::<Vec<_>>());
    assert_eq!(w["truncated"], false);

    let w = welcome_since(&mut r, 3, 150);
    assert_eq!(w["history"], serde_json::json!([]));
    assert_eq!(w["truncated"], false);

    // 50 is exactly 100 behind: nothing was lost.
    let w = welcome_since(&mut r, 4, 50);
    assert_eq!(w["history"].as_array().unwrap().len(), 100);
    assert_eq!(w["truncated"], false);

    // 10 is 140 behind: the newest 100, flagged.
    let w = welcome_since(&mut r, 5, 10);
    let history = w["history"].as_array().unwrap();
    assert_eq!(history.len(), 100);
    assert_eq!(history[0]["id"], 51);
    assert_eq!(w["truncated"], true);
}

#[test]
fn leaving_members_are_announced_and_unjoined_sockets_leave_silently() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    join(&mut r, 2, "Bob");
    r.connect(3, 0);
    assert_eq!(r.disconnect(3, 5), None);
    let left = r.disconnect(2, 5).expect("Bob was a member");
    assert_eq!(left.name, "Bob");
    assert_eq!(
        json(&left.frame),
        serde_json::json!({"type":"leave","name":"Bob","at":5})
    );
    // A second close event for the same socket is a no-op.
    assert_eq!(r.disconnect(2, 6), None);
    assert_eq!(r.member_names().collect::<Vec<_>>(), vec!["Alice"]);
    // The name is free again.
    join(&mut r, 4, "bob");
    assert_eq!(r.connection_count(), 2);
}

fn join_with_session(r: &mut Room, conn: ConnId, name: &str, session: &str) -> Outcome {
    r.connect(conn, 0);
    let frame = serde_json::json!({"type":"join","name":name,"session":session}).to_string();
    r.handle(conn, &frame, ROOM, 1)
}

#[test]
fn same_session_takes_the_name_over_quietly() {
    let mut r = room();
    let secret = "0123456789abcdef-secret";
    assert!(matches!(
        join_with_session(&mut r, 1, "Alice", secret),
        Outcome::Joined(_)
    ));
    join(&mut r, 2, "Bob");
    let Outcome::Joined(j) = join_with_session(&mut r, 3, "alice", secret) else {
        panic!("takeover should succeed");
    };
    assert_eq!(j.announce, None, "a takeover is not announced");
    let (old, old_attachment) = j.replaced.expect("socket 1 was replaced");
    assert_eq!(old, 1);
    assert_eq!(old_attachment.member, None);
    // Alice keeps her place in the list, under the new spelling.
    assert_eq!(r.member_names().collect::<Vec<_>>(), vec!["alice", "Bob"]);
    assert_eq!(r.member_conns(), &[3, 2]);
    // The replaced socket's close is silent.
    assert_eq!(r.disconnect(1, 2), None);
    assert_eq!(r.member_count(), 2);
    // The secret is not in anything sent or stored.
    assert!(!j.welcome.contains(secret));
    let stored = j
        .attachment
        .member
        .expect("member")
        .session
        .expect("digest");
    assert_ne!(stored, secret);
    assert_eq!(stored.len(), 64);
}

#[test]
fn another_session_or_none_cannot_take_a_name() {
    let mut r = room();
    assert!(matches!(
        join_with_session(&mut r, 1, "Alice", "aaaaaaaaaaaaaaaa"),
        Outcome::Joined(_)
    ));
    assert_eq!(
        error_code(join_with_session(&mut r, 2, "Alice", "bbbbbbbbbbbbbbbb")),
        ErrorCode::NameTaken
    );
    r.connect(3, 0);
    assert_eq!(
        error_code(r.handle(3, &join_frame("Alice"), ROOM, 1)),
        ErrorCode::NameTaken
    );
    // A holder without a session can never be taken over.
    join(&mut r, 4, "Bob");
    assert_eq!(
        error_code(join_with_session(&mut r, 5, "Bob", "bbbbbbbbbbbbbbbb")),
        ErrorCode::NameTaken
    );
    // A malformed session is a bad request, not a silent downgrade.
    assert_eq!(
        error_code(join_with_session(&mut r, 6, "Carol", "short")),
        ErrorCode::BadRequest
    );
}

#[test]
fn a_full_room_refuses_joins_but_allows_takeovers() {
    let limits = Limits {
        max_members: 2,
        ..Limits::default()
    };
    let mut r = Room::new(limits, StoredHistory::default());
    assert!(matches!(
        join_with_session(&mut r, 1, "A", "ssssssssssssssss"),
        Outcome::Joined(_)
    ));
    join(&mut r, 2, "B");
    r.connect(3, 0);
    assert_eq!(
        error_code(r.handle(3, &join_frame("C"), ROOM, 1)),
        ErrorCode::RoomFull
    );
    assert!(matches!(
        join_with_session(&mut r, 4, "A", "ssssssssssssssss"),
        Outcome::Joined(_)
    ));
    r.disconnect(2, 1);
    assert!(matches!(
        r.handle(3, &join_frame("C"), ROOM, 1),
        Outcome::Joined(_)
    ));
}

#[test]
fn rate_limit_drops_messages_with_a_retry_hint() {
    let limits = Limits {
        rate_per_sec: 2.0,
        rate_burst: 3.0,
        ..Limits::default()
    };
    let mut r = Room::new(limits, StoredHistory::default());
    join(&mut r, 1, "Alice");
    for now in [100, 100, 100] {
        say(&mut r, 1, "ok", now);
    }
    let Outcome::Reject(e) = r.handle(1, r#"{"type":"message","text":"no"}"#, ROOM, 100) else {
        panic!("expected rate limiting");
    };
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after_ms, Some(500));
    assert_eq!(r.last_id(), 3, "a dropped message takes no id");
    assert_eq!(say(&mut r, 1, "later", 600).id, 4);
}

#[test]
fn typing_is_relayed_at_most_once_a_second() {
    let mut r = room();
    join(&mut r, 1, "Alice");
    let typing = r#"{"type":"typing"}"#;
    let Outcome::Typing { frame } = r.handle(1, typing, ROOM, 1000) else {
        panic!("expected typing");
    };
    assert_eq!(
        json(&frame),
        serde_json::json!({"type":"typing","name":"Alice"})
    );
    assert_eq!(r.handle(1, typing, ROOM, 1500), Outcome::Ignored);
    assert!(matches!(
        r.handle(1, typing, ROOM, 2000),
        Outcome::Typing { .. }
    ));
}

#[test]
fn unjoined_sockets_expire_after_the_join_timeout() {
    let mut r = room();
    r.connect(1, 1_000);
    r.connect(2, 3_000);
    join(&mut r, 3, "Alice");
    assert_eq!(r.next_join_deadline(), Some(11_000));
    assert!(r.join_expired(10_999).is_empty());
    assert_eq!(r.join_expired(11_000), vec![1]);
    r.disconnect(1, 11_000);
    assert_eq!(r.next_join_deadline(), Some(13_000));
    let _ = r.handle(2, &join_frame("Bob"), ROOM, 12_000);
    assert_eq!(r.next_join_deadline(), None);
    assert!(r.join_expired(99_000).is_empty());
}

#[test]
fn a_rebuilt_room_keeps_members_order_names_and_ids() {
    let mut r = room();
    let secret = "0123456789abcdef0";
    let Outcome::Joined(a) = join_with_session(&mut r, 7, "Alice", secret) else {
        panic!()
    };
    let b = join(&mut r, 3, "Bob");
    r.connect(9, 0);
    let attachments = [
        b.attachment,
        a.attachment,
        Attachment {
            conn: 9,
            accepted_at: 0,
            member: None,
        },
    ];
    let m = say(&mut r, 7, "before", 1);

    // The runtime rebuilt the object: only attachments and storage survive.
    let history = StoredHistory {
        last_id: m.id,
        stored: 1,
        recent: vec![m],
    };
    let mut rebuilt = Room::new(Limits::default(), history);
    for att in &attachments {
        rebuilt.restore(att);
    }
    rebuilt.finish_restore();
    assert_eq!(
        rebuilt.member_names().collect::<Vec<_>>(),
        vec!["Alice", "Bob"]
    );
    assert_eq!(rebuilt.connection_count(), 3);
    rebuilt.connect(10, 0);
    assert_eq!(
        error_code(rebuilt.handle(10, &join_frame("BOB"), ROOM, 1)),
        ErrorCode::NameTaken
    );
    let c = rebuilt.handle(10, &join_frame("Carol"), ROOM, 1);
    let Outcome::Joined(c) = c else {
        panic!("{c:?}")
    };
    assert_eq!(
        json(&c.welcome)["members"],
        serde_json::json!(["Alice", "Bob", "Carol"])
    );
    assert_eq!(json(&c.welcome)["history"][0]["text"], "before");
    assert_eq!(say(&mut rebuilt, 3, "after", 2).id, 2);
    assert!(matches!(
        join_with_session(&mut rebuilt, 11, "alice", secret),
        Outcome::Joined(_)
    ));
    assert_eq!(
        rebuilt.disconnect(3, 3).map(|l| l.name),
        Some("Bob".to_string())
    );
}

#[test]
fn restore_never_admits_two_holders_of_one_name() {
    let mut r = room();
    let member = |name: &str, order| {
        Some(MemberRecord {
            name: name.into(),
            order,
            session: None,
        })
    };
    r.restore(&Attachment {
        conn: 1,
        accepted_at: 0,
        member: member("Alice", 0),
    });
    r.restore(&Attachment {
        conn: 2,
        accepted_at: 0,
        member: member("alice", 1),
    });
    r.finish_restore();
    assert_eq!(r.member_names().collect::<Vec<_>>(), vec!["Alice"]);
    assert_eq!(r.connection_count(), 2);
    assert_eq!(r.member_name(2), None);
}

#[test]
fn history_cap_trims_the_oldest() {
    let limits = Limits {
        history_cap: 150,
        ..unlimited()
    };
    let mut r = Room::new(limits, StoredHistory::default());
    join(&mut r, 1, "Alice");
    let mut trimmed = 0;
    for i in 0..200 {
        let frame = serde_json::json!({"type":"message","text":"x"}).to_string();
        let Outcome::Message { message, .. } = r.handle(1, &frame, ROOM, i) else {
            panic!()
        };
        trimmed += r.message_stored(message);
    }
    assert_eq!(trimmed, 50);
    assert_eq!(r.stored_count(), 150);
    // A cap below the welcome size also bounds the welcome.
    let limits = Limits {
        history_cap: 3,
        ..Limits::default()
    };
    let mut small = Room::new(limits, StoredHistory::default());
    join(&mut small, 1, "A");
    for i in 0..5 {
        say(&mut small, 1, "x", i);
    }
    let b = join(&mut small, 2, "B");
    assert_eq!(json(&b.welcome)["history"].as_array().unwrap().len(), 3);
}

#[test]
fn binary_and_malformed_frames_are_bad_requests() {
    let mut r = room();
    r.connect(1, 0);
    assert_eq!(error_code(Room::binary_frame()), ErrorCode::BadRequest);
    assert_eq!(
        error_code(r.handle(1, "not json", ROOM, 0)),
        ErrorCode::BadRequest
    );
    assert_eq!(
        error_code(r.handle(1, r#"{"type":"debug_reset"}"#, ROOM, 0)),
        ErrorCode::BadRequest
    );
    let hooks = Limits {
        test_hooks: true,
        ..Limits::default()
    };
    let mut r = Room::new(hooks, StoredHistory::default());
    assert!(matches!(
        r.handle(1, r#"{"type":"debug_reset"}"#, ROOM, 0),
        Outcome::DebugReset { .. }
    ));
}
