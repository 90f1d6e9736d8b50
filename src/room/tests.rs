//! State-transition tests of the room: each protocol rule, driven event by event through the
//! same path the shell takes (handle, then flush).

use super::harness::{unlimited, Harness, ROOM};
use super::history::VecStore;
use super::*;
use serde_json::json;

fn room() -> Harness {
    Harness::new(unlimited())
}

#[test]
fn welcome_lists_members_in_join_order_and_others_hear_the_join() {
    let mut r = room();
    let w = r.join(1, "Alice");
    assert_eq!(w["type"], "welcome");
    assert_eq!(w["room"], ROOM);
    assert_eq!(w["name"], "Alice");
    assert_eq!(w["members"], json!(["Alice"]));
    assert_eq!(w["history"], json!([]));
    assert_eq!(w["truncated"], false);
    assert_eq!(w["last_id"], 0);

    let w = r.join(2, "  Bob ");
    assert_eq!(w["members"], json!(["Alice", "Bob"]));
    assert_eq!(r.one(1), json!({"type":"join","name":"Bob","at":1000}));
    assert_eq!(
        r.attachments[&2].member.as_ref().map(|m| m.name.as_str()),
        Some("Bob")
    );
    assert_eq!(r.room.member_conns(), &[1, 2]);
}

#[test]
fn names_are_unique_case_insensitively() {
    let mut r = room();
    r.join(1, "Alice");
    r.connect(2);
    r.send(2, json!({"type":"join","name":"ALICE"}));
    assert_eq!(r.error_code(2), "name_taken");
    r.send(2, json!({"type":"join","name":" alice "}));
    assert_eq!(r.error_code(2), "name_taken");
    // The refused socket can still join under another name.
    r.send(2, json!({"type":"join","name":"Alicia"}));
    assert_eq!(r.one(2)["type"], "welcome");
}

#[test]
fn invalid_names_and_second_joins_are_refused() {
    let mut r = room();
    r.connect(1);
    for bad in ["", "  ", "a\u{200B}b", "\u{202E}x", &"x".repeat(33)] {
        r.send(1, json!({"type":"join","name":bad}));
        assert_eq!(r.error_code(1), "invalid_name", "{bad:?}");
    }
    r.send(1, json!({"type":"join","name":"Ann"}));
    assert_eq!(r.one(1)["type"], "welcome");
    r.send(1, json!({"type":"join","name":"Ann2"}));
    assert_eq!(r.error_code(1), "bad_request");
}

#[test]
fn messages_and_typing_need_a_join() {
    let mut r = room();
    r.connect(1);
    r.send(1, json!({"type":"message","text":"hi","nonce":"n1"}));
    let e = r.one(1);
    assert_eq!(
        (e["code"].as_str(), e["nonce"].as_str()),
        (Some("not_joined"), Some("n1"))
    );
    r.send(1, json!({"type":"typing"}));
    assert_eq!(r.error_code(1), "not_joined");
}

#[test]
fn message_ids_strictly_increase_and_carry_the_nonce() {
    let mut r = room();
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.clear();
    r.send(1, json!({"type":"message","text":"  hi  ","nonce":"c1"}));
    let m = r.one(1);
    assert_eq!(
        m,
        json!({"type":"message","id":1,"name":"Alice","text":"hi","at":1000,"nonce":"c1"})
    );
    assert_eq!(r.one(2), m);
    assert_eq!(r.say(2, "yo")["id"], 2);
    assert!(r.take(1)[0].get("nonce").is_none());
    assert_eq!(r.store.messages.len(), 2);
}

#[test]
fn invalid_messages_are_refused_without_using_an_id() {
    let mut r = room();
    r.join(1, "Alice");
    for bad in [
        json!(""),
        json!("   "),
        json!("x".repeat(2001)),
        json!("a\u{7}b"),
    ] {
        r.send(1, json!({"type":"message","text":bad,"nonce":"k"}));
        let e = r.one(1);
        assert_eq!(
            (e["code"].as_str(), e["nonce"].as_str()),
            (Some("invalid_message"), Some("k"))
        );
    }
    // A nonce that is itself invalid is refused and not echoed.
    r.send(
        1,
        json!({"type":"message","text":"hi","nonce":"n".repeat(65)}),
    );
    let e = r.one(1);
    assert_eq!(e["code"], "invalid_message");
    assert!(e.get("nonce").is_none());
    assert_eq!(r.say(1, "ok")["id"], 1);
}

#[test]
fn welcome_history_is_the_newest_hundred_oldest_first() {
    let mut r = room();
    r.join(1, "Alice");
    for i in 0..130 {
        r.say(1, &format!("m{i}"));
    }
    let w = r.join(2, "Bob");
    let history = w["history"].as_array().unwrap();
    assert_eq!(history.len(), WELCOME_HISTORY);
    assert_eq!(history[0]["text"], "m30");
    assert_eq!(history[99]["text"], "m129");
    assert_eq!(w["last_id"], 130);
    assert_eq!(w["truncated"], false);
}

fn welcome_since(r: &mut Harness, conn: ConnId, since: u64) -> serde_json::Value {
    r.join_with(
        conn,
        json!({"type":"join","name":format!("p{conn}"),"since":since}),
    )
}

#[test]
fn resume_since_gives_exactly_the_missed_messages() {
    let mut r = room();
    r.join(1, "Alice");
    for i in 0..150 {
        r.say(1, &format!("m{i}"));
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
    // Missed more than a welcome holds: the newest 100 and truncated.
    let w = welcome_since(&mut r, 3, 10);
    assert_eq!(w["history"].as_array().unwrap().len(), 100);
    assert_eq!(w["history"][0]["id"], 51);
    assert_eq!(w["truncated"], true);
    // Missed exactly what a welcome holds: not truncated.
    let w = welcome_since(&mut r, 4, 50);
    assert_eq!(w["history"][0]["id"], 51);
    assert_eq!(w["truncated"], false);
    // Nothing missed, whatever the number (no overflow either).
    for (conn, since) in [(5, 150), (6, 151), (7, u64::MAX)] {
        let w = welcome_since(&mut r, conn, since);
        assert_eq!(w["history"], json!([]), "{since}");
        assert_eq!(w["truncated"], false, "{since}");
    }
}

#[test]
fn leaving_members_are_announced_and_unjoined_sockets_leave_silently() {
    let mut r = room();
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.connect(3);
    r.clear();
    r.gone(3);
    assert!(r.take(1).is_empty());
    r.gone(2);
    assert_eq!(r.one(1), json!({"type":"leave","name":"Bob","at":1000}));
    // A second close event for the same socket is a no-op.
    r.gone(2);
    assert!(r.take(1).is_empty());
    assert_eq!(r.room.member_names().collect::<Vec<_>>(), vec!["Alice"]);
    // The name is free again.
    r.join(4, "bob");
    assert_eq!(r.room.connection_count(), 2);
}

fn join_session(r: &mut Harness, conn: ConnId, name: &str, session: &str) {
    r.connect(conn);
    r.send(conn, json!({"type":"join","name":name,"session":session}));
}

#[test]
fn same_session_takes_the_name_over_quietly() {
    let mut r = room();
    let secret = "0123456789abcdef-secret";
    join_session(&mut r, 1, "Alice", secret);
    r.join(2, "Bob");
    r.clear();
    join_session(&mut r, 3, "alice", secret);
    let w = r.one(3);
    assert_eq!(w["members"], json!(["alice", "Bob"]));
    assert!(r.take(2).is_empty(), "a takeover is not announced");
    assert_eq!(
        r.closed,
        vec![Close {
            conn: 1,
            code: 4001,
            reason: "session taken over",
            last: None,
        }]
    );
    assert!(r.attachments[&1].closed);
    assert_eq!(r.attachments[&1].member, None);
    assert_eq!(r.room.member_conns(), &[3, 2]);
    // The replaced socket's close is silent, and nothing it sends counts any more.
    r.send(1, json!({"type":"join","name":"Ghost"}));
    assert!(r.take(1).is_empty() && r.take(2).is_empty());
    r.gone(1);
    assert!(r.take(2).is_empty());
    assert_eq!(r.room.member_count(), 2);
    // The secret is not in anything sent or stored.
    assert!(!w.to_string().contains(secret));
    let stored = r.attachments[&3].member.clone().unwrap().session.unwrap();
    assert_ne!(stored, secret);
    assert_eq!(stored.len(), 64);
}

#[test]
fn another_session_or_none_cannot_take_a_name() {
    let mut r = room();
    join_session(&mut r, 1, "Alice", "aaaaaaaaaaaaaaaa");
    r.clear();
    join_session(&mut r, 2, "Alice", "bbbbbbbbbbbbbbbb");
    assert_eq!(r.error_code(2), "name_taken");
    r.connect(3);
    r.send(3, json!({"type":"join","name":"Alice"}));
    assert_eq!(r.error_code(3), "name_taken");
    // A holder without a session can never be taken over.
    r.join(4, "Bob");
    join_session(&mut r, 5, "Bob", "bbbbbbbbbbbbbbbb");
    assert_eq!(r.error_code(5), "name_taken");
    // A malformed session is a bad request, not a silent downgrade.
    join_session(&mut r, 6, "Carol", "short");
    assert_eq!(r.error_code(6), "bad_request");
}

#[test]
fn a_full_room_refuses_joins_but_allows_takeovers() {
    let mut r = Harness::new(Limits {
        max_members: 2,
        ..unlimited()
    });
    join_session(&mut r, 1, "A", "ssssssssssssssss");
    r.join(2, "B");
    r.connect(3);
    r.send(3, json!({"type":"join","name":"C"}));
    assert_eq!(r.error_code(3), "room_full");
    join_session(&mut r, 4, "A", "ssssssssssssssss");
    assert_eq!(r.one(4)["type"], "welcome");
    r.gone(2);
    r.send(3, json!({"type":"join","name":"C"}));
    assert_eq!(r.one(3)["type"], "welcome");
}

#[test]
fn the_rate_limit_is_the_members_and_survives_reconnects() {
    let mut r = Harness::new(Limits {
        rate_per_sec: 2.0,
        rate_burst: 3.0,
        ..unlimited()
    });
    let secret = "0123456789abcdef-secret";
    join_session(&mut r, 1, "Alice", secret);
    r.take(1);
    for _ in 0..3 {
        r.say(1, "ok");
    }
    r.send(1, json!({"type":"message","text":"no","nonce":"n4"}));
    let e = r.one(1);
    assert_eq!(e["code"], "rate_limited");
    assert_eq!(e["retry_after_ms"], 500);
    assert_eq!(e["nonce"], "n4");
    // A takeover does not refill the bucket...
    join_session(&mut r, 2, "Alice", secret);
    r.take(2);
    r.send(2, json!({"type":"message","text":"no"}));
    assert_eq!(r.error_code(2), "rate_limited");
    // ...nor does leaving and joining again under the same name (in any spelling).
    r.gone(2);
    r.join(3, "ALICE");
    r.send(3, json!({"type":"message","text":"no"}));
    assert_eq!(r.error_code(3), "rate_limited");
    // Another member has a bucket of their own, and time refills.
    r.join(4, "Bob");
    r.take(3);
    assert_eq!(r.say(4, "hi")["id"], 4);
    r.take(3);
    r.now += 500;
    assert_eq!(r.say(3, "later")["id"], 5);
}

#[test]
fn joins_per_address_are_limited_across_reconnects() {
    let mut r = Harness::new(Limits {
        address_joins_per_min: 3,
        ..unlimited()
    });
    for conn in 1..=3 {
        r.connect_from(conn, Some("203.0.113.9"));
        r.send(conn, json!({"type":"join","name":format!("n{conn}")}));
        assert_eq!(r.take(conn).last().unwrap()["type"], "welcome");
        r.gone(conn);
    }
    r.connect_from(4, Some("203.0.113.9"));
    r.send(4, json!({"type":"join","name":"n4"}));
    let e = r.one(4);
    assert_eq!(e["code"], "rate_limited");
    assert_eq!(e["retry_after_ms"], 20_000);
    // Another address is not affected.
    r.connect_from(5, Some("198.51.100.1"));
    r.send(5, json!({"type":"join","name":"n5"}));
    assert_eq!(r.one(5)["type"], "welcome");
    // The address is kept only as a digest.
    assert!(!serde_json::to_string(&r.attachments[&5])
        .unwrap()
        .contains("198.51"));
}

#[test]
fn members_per_address_are_capped() {
    let mut r = Harness::new(Limits {
        address_max_members: 2,
        ..unlimited()
    });
    for conn in 1..=3 {
        r.connect_from(conn, Some("203.0.113.9"));
        r.send(conn, json!({"type":"join","name":format!("n{conn}")}));
    }
    assert_eq!(r.error_code(3), "address_limit");
    r.gone(1);
    r.send(3, json!({"type":"join","name":"n3"}));
    assert_eq!(r.take(3).last().unwrap()["type"], "welcome");
}

#[test]
fn one_network_holds_only_a_few_sockets_that_have_not_joined() {
    let mut r = Harness::new(Limits {
        address_unjoined_max: 2,
        ..unlimited()
    });
    // Two addresses of one IPv6 /64 are one network.
    r.connect_from(1, Some("2001:db8:1:2::1"));
    r.connect_from(2, Some("2001:db8:1:2::2"));
    r.connect_from(3, Some("2001:db8:1:2::3"));
    assert_eq!(
        r.closed
            .iter()
            .map(|c| (c.conn, c.code))
            .collect::<Vec<_>>(),
        vec![(3, close::JOIN_TIMEOUT)]
    );
    // Joining (or going) frees a place.
    r.send(1, json!({"type":"join","name":"Ann"}));
    r.connect_from(4, Some("2001:db8:1:2::4"));
    r.gone(2);
    r.connect_from(5, Some("2001:db8:1:2::5"));
    assert_eq!(r.closed.len(), 1, "{:?}", r.closed);
    r.connect_from(6, Some("2001:db8:1:2::6"));
    assert_eq!(r.closed.len(), 2);
    // Another network is not affected.
    r.connect_from(7, Some("2001:db8:1:3::1"));
    assert_eq!(r.closed.len(), 2);
}

#[test]
fn sockets_still_joining_count_for_a_while_and_idle_ones_do_not() {
    let mut r = room();
    r.connect(1);
    r.connect(2);
    r.join(3, "Ann");
    let arriving = |now: u64| now.saturating_sub(crate::relay::ARRIVING_MS);
    assert_eq!(
        r.room.joining(arriving(r.now)),
        2,
        "two on their way in; Ann joined"
    );
    r.send(1, json!({"type":"join","name":"Bob"}));
    assert_eq!(r.room.joining(arriving(r.now)), 1);
    r.now += crate::relay::ARRIVING_MS + 1;
    assert_eq!(
        r.room.joining(arriving(r.now)),
        0,
        "a socket that never joins stops counting"
    );
}

#[test]
fn oversized_frames_are_too_large_and_keepalives_keep_members() {
    let mut r = room();
    r.join(1, "Alice");
    r.clear();
    r.event(Event::Oversized { conn: 1 });
    r.flush();
    assert_eq!(r.error_code(1), "too_large");
    // Exactly the limit in bytes: é is two bytes, so 8,200 of them are over 16 KiB.
    let over = format!(r#"{{"type":"message","text":"{}"}}"#, "é".repeat(8200));
    r.send_raw(1, &over);
    assert_eq!(r.error_code(1), "too_large");
    let before = r.room.conns[&1].last_heard;
    r.now += 1000;
    r.event(Event::Heard { conn: 1 });
    assert_eq!(r.room.conns[&1].last_heard, before + 1000);
    assert!(
        r.take(1).is_empty(),
        "a keepalive is answered by whoever holds the socket"
    );
}

#[test]
fn typing_is_relayed_to_the_others_at_most_once_a_second() {
    let mut r = room();
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.clear();
    r.send(1, json!({"type":"typing"}));
    assert_eq!(r.one(2), json!({"type":"typing","name":"Alice"}));
    assert!(r.take(1).is_empty());
    r.now += 500;
    r.send(1, json!({"type":"typing"}));
    assert!(r.take(2).is_empty());
    r.now += 500;
    r.send(1, json!({"type":"typing"}));
    assert_eq!(r.one(2)["type"], "typing");
}

#[test]
fn unjoined_sockets_are_closed_after_the_join_timeout_and_stay_closed() {
    let mut r = room();
    r.connect(1);
    assert_eq!(r.alarm, Some(11_000));
    r.now = 3_000;
    r.connect(2);
    r.join(3, "Alice");
    r.now = 10_999;
    r.ring(vec![]);
    assert!(r.closed.is_empty());
    r.now = 11_000;
    r.ring(vec![]);
    assert_eq!(
        r.closed,
        vec![Close {
            conn: 1,
            code: 1008,
            reason: "join timeout",
            last: None,
        }]
    );
    assert_eq!(r.alarm, Some(13_000));
    // A closed socket cannot come back as a ghost, not even after a rebuild.
    r.send(1, json!({"type":"join","name":"Ghost"}));
    r.rebuild();
    r.send(1, json!({"type":"join","name":"Ghost"}));
    assert!(r.take(1).is_empty());
    assert_eq!(r.room.member_names().collect::<Vec<_>>(), vec!["Alice"]);
    r.send(2, json!({"type":"join","name":"Bob"}));
    assert_eq!(r.one(2)["type"], "welcome");
}

#[test]
fn silent_members_are_dropped_with_a_leave() {
    let mut r = Harness::new(Limits {
        idle_timeout_ms: 60_000,
        ..unlimited()
    });
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.clear();
    // The first alarm is the join deadline; it finds nothing to do and moves on to idleness.
    assert_eq!(r.alarm, Some(11_000));
    r.now = 11_000;
    r.ring(vec![]);
    assert_eq!(r.alarm, Some(61_000));
    r.now = 40_000;
    r.say(1, "still here");
    r.clear();
    // Bob's pings were answered by the runtime (without waking the room) until 30 s.
    r.now = 61_000;
    r.ring(vec![(2, 30_000)]);
    assert!(r.closed.is_empty());
    assert_eq!(r.alarm, Some(90_000));
    r.now = 90_000;
    r.ring(vec![(2, 30_000)]);
    assert_eq!(
        r.closed,
        vec![Close {
            conn: 2,
            code: 4002,
            reason: "idle",
            last: None,
        }]
    );
    assert_eq!(r.one(1), json!({"type":"leave","name":"Bob","at":90_000}));
    assert_eq!(r.room.member_names().collect::<Vec<_>>(), vec!["Alice"]);
    // Turned off with 0.
    let mut off = Harness::new(Limits {
        idle_timeout_ms: 0,
        ..unlimited()
    });
    off.join(1, "Alice");
    off.now = 10_000_000;
    off.ring(vec![]);
    assert!(off.closed.is_empty());
}

#[test]
fn a_rebuilt_room_keeps_members_order_names_and_ids() {
    let mut r = room();
    let secret = "0123456789abcdef0";
    join_session(&mut r, 7, "Alice", secret);
    r.join(3, "Bob");
    r.connect(9);
    r.say(7, "before");
    r.clear();
    r.rebuild();
    assert_eq!(
        r.room.member_names().collect::<Vec<_>>(),
        vec!["Alice", "Bob"]
    );
    assert_eq!(r.room.connection_count(), 3);
    r.connect(10);
    r.send(10, json!({"type":"join","name":"BOB"}));
    assert_eq!(r.error_code(10), "name_taken");
    r.send(10, json!({"type":"join","name":"Carol"}));
    let w = r.one(10);
    assert_eq!(w["members"], json!(["Alice", "Bob", "Carol"]));
    assert_eq!(w["history"][0]["text"], "before");
    assert_eq!(r.say(3, "after")["id"], 2);
    join_session(&mut r, 11, "alice", secret);
    assert_eq!(r.take(11).last().unwrap()["type"], "welcome");
    r.clear();
    r.gone(3);
    assert_eq!(r.one(10), json!({"type":"leave","name":"Bob","at":1000}));
}

#[test]
fn restore_never_admits_two_holders_of_one_name() {
    let mut room = Room::new(unlimited(), ROOM, StoredHistory::default());
    let member = |name: &str, order| {
        Some(MemberRecord {
            name: name.into(),
            order,
            session: None,
            owner: false,
            verified: false,
            key: None,
        })
    };
    let attachment = |conn, member| Attachment {
        conn,
        accepted_at: 0,
        address: None,
        closed: false,
        expires_at: None,
        member,
    };
    room.restore(
        [
            attachment(1, member("Alice", 0)),
            attachment(2, member("alice", 1)),
        ],
        0,
    );
    assert_eq!(room.member_names().collect::<Vec<_>>(), vec!["Alice"]);
    assert_eq!(room.connection_count(), 2);
    assert_eq!(room.member_name(2), None);
}

#[test]
fn history_cap_trims_the_oldest() {
    let mut r = Harness::new(Limits {
        history_cap: 150,
        ..unlimited()
    });
    r.join(1, "Alice");
    for _ in 0..200 {
        r.say(1, "x");
    }
    assert_eq!(r.store.messages.len(), 150);
    assert_eq!(r.room.stored_count(), 150);
    assert_eq!(r.store.messages[0].message.id, 51);
    // A cap below the welcome size also bounds the welcome.
    let mut small = Harness::new(Limits {
        history_cap: 3,
        ..unlimited()
    });
    small.join(1, "A");
    for _ in 0..5 {
        small.say(1, "x");
    }
    let w = small.join(2, "B");
    assert_eq!(w["history"].as_array().unwrap().len(), 3);
    assert_eq!(small.store.messages.len(), 3);
}

#[test]
fn binary_and_malformed_frames_are_bad_requests_and_logged_sparingly() {
    let mut r = room();
    r.connect(1);
    r.event(Event::Binary { conn: 1 });
    r.flush();
    assert_eq!(r.error_code(1), "bad_request");
    for _ in 0..30 {
        r.send_raw(1, "not json");
        assert_eq!(r.error_code(1), "bad_request");
    }
    r.send(1, json!({"type":"debug_reset"}));
    assert_eq!(r.error_code(1), "bad_request");
    let rejected = r.logs.iter().filter(|l| l.event == "rejected").count();
    assert_eq!(rejected, 1, "one line per connection per interval");
    r.now += 60_000;
    r.send_raw(1, "not json");
    let last = r.logs.last().unwrap();
    assert_eq!(
        (last.event, last.fields["count"].as_u64()),
        ("rejected", Some(32))
    );

    let mut hooks = Harness::new(Limits {
        test_hooks: true,
        ..unlimited()
    });
    hooks.connect(1);
    let fx = hooks.room.handle(
        Event::Frame {
            conn: 1,
            text: r#"{"type":"debug_reset"}"#,
        },
        0,
        &mut VecStore::default(),
    );
    assert_eq!(fx.debug, Some(Debug::Reset));
}

#[test]
fn the_last_socket_leaving_cancels_the_alarm() {
    let mut r = room();
    r.connect(1);
    r.join(2, "Alice");
    assert!(r.alarm.is_some());
    let fx = r.room.handle(
        Event::Gone {
            conn: 1,
            why: "close",
        },
        r.now,
        &mut r.store,
    );
    assert!(!fx.cancel_alarm, "a socket is still open");
    let fx = r.room.handle(
        Event::Gone {
            conn: 2,
            why: "close",
        },
        r.now,
        &mut r.store,
    );
    assert!(fx.cancel_alarm);
    // A new socket asks for the alarm again.
    let fx = r.room.handle(
        Event::Connect {
            conn: 3,
            address: None,
        },
        r.now,
        &mut r.store,
    );
    assert_eq!(fx.alarm, Some(r.now + 10_000));
}
