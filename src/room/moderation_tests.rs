//! Tests of issue #12's room-level features: the owner (key, kick and ban, lock, topic, logs
//! without secrets), gapless resume over every kind of change, the history cap counting changes,
//! and quiet reconnects within the presence grace (also across rebuilds and restarts).

use super::harness::{unlimited, Harness, OWNER_KEY};
use super::*;
use crate::digest::digest;
use serde_json::{json, Value};

const OLIVE: &str = "olive-session-0123456789";
const BOB: &str = "bob-session-0123456789ab";
const CAROL: &str = "carol-session-0123456789";

/// An owned room: Olive (conn 1) joined with the owner key, Bob (conn 2, from 10.0.0.2) and
/// Carol (conn 3) without; nothing is waiting.
fn owned_room(limits: Limits) -> Harness {
    let mut h = Harness::owned(limits);
    let w = h.join_keys(1, "Olive", Some(OLIVE), Some(OWNER_KEY));
    assert_eq!(w["owner"], true, "{w}");
    h.connect_from(2, Some("10.0.0.2"));
    h.send(2, json!({"type":"join","name":"Bob","session":BOB}));
    let w = h.one(2);
    assert!(w.get("owner").is_none(), "{w}");
    h.join_keys(3, "Carol", Some(CAROL), None);
    h.clear();
    h
}

fn code(frame: &Value) -> &str {
    assert_eq!(frame["type"], "error", "{frame}");
    frame["code"].as_str().unwrap_or_default()
}

fn types(frames: &[Value]) -> Vec<String> {
    Harness::frame_types(frames)
}

// --- the owner ---

#[test]
fn the_owner_key_makes_an_owner_and_a_wrong_key_is_refused() {
    let mut h = owned_room(unlimited());
    let e = h.join_keys(4, "Mallory", None, Some("not-the-key"));
    assert_eq!(code(&e), "forbidden");
    // The refused socket may join as an ordinary member.
    h.send(4, json!({"type":"join","name":"Mallory"}));
    assert!(h.one(4).get("owner").is_none());
    // A room's own key is not the operator's, and no room key works without an owner digest.
    let mut public = Harness::new(unlimited());
    assert_eq!(
        code(&public.join_keys(1, "Olive", None, Some(OWNER_KEY))),
        "forbidden"
    );
    // Public rooms have an owner through the operator's MODERATOR_KEY.
    let mut public = Harness::new(Limits {
        moderator_hash: Some(digest("operator-key-0123456789")),
        ..unlimited()
    });
    let w = public.join_keys(1, "Mod", None, Some(" operator-key-0123456789 "));
    assert_eq!(w["owner"], true);
    assert_eq!(w["room"], "lobby");
    // The owner key is kept nowhere but as the room's digest.
    let kept = format!("{:?}{:?}{:?}", h.attachments, h.store.meta, h.logs);
    assert!(!kept.contains(OWNER_KEY));
}

#[test]
fn the_owner_stays_owner_across_a_takeover_with_the_same_session() {
    let mut h = owned_room(unlimited());
    let w = h.join_keys(5, "Olive", Some(OLIVE), None);
    assert_eq!(w["owner"], true);
    assert_eq!(h.closed.last().map(|c| c.conn), Some(1));
    h.send(5, json!({"type":"topic","text":"still in charge"}));
    assert_eq!(h.one(5)["type"], "topic");
    // After leaving for good, the key is needed again.
    h.gone(5);
    let w = h.join_keys(6, "Olive", Some(OLIVE), None);
    assert!(w.get("owner").is_none());
}

#[test]
fn non_owners_cannot_moderate() {
    let mut h = owned_room(unlimited());
    let id = h.say(1, "the owner's words")["id"].as_u64().unwrap();
    h.clear();
    for frame in [
        json!({"type":"kick","name":"Carol"}),
        json!({"type":"lock","locked":true}),
        json!({"type":"topic","text":"mine"}),
        json!({"type":"delete","id":id}),
    ] {
        h.send(2, frame.clone());
        assert_eq!(code(&h.one(2)), "forbidden", "{frame}");
    }
    h.connect(9);
    h.send(9, json!({"type":"lock","locked":true}));
    assert_eq!(code(&h.one(9)), "not_joined");
    assert!(h.take(1).is_empty() && h.take(3).is_empty());
    assert!(h.store.changes.is_empty() && !h.store.meta.contains_key("locked"));
    assert!(h.closed.is_empty());
}

#[test]
fn the_owner_deletes_anyones_message_even_after_the_window() {
    let mut h = owned_room(unlimited());
    let id = h.say(2, "spam")["id"].as_u64().unwrap();
    h.clear();
    h.now += h.limits.edit_window_ms + 1;
    h.send(1, json!({"type":"delete","id":id}));
    let change = h.one(2);
    assert_eq!(
        (change["type"].as_str(), change["name"].as_str()),
        (Some("delete"), Some("Olive"))
    );
    assert!(h.store.messages[0].message.deleted);
    assert_eq!(h.store.messages[0].message.text, "");
    // Editing stays the author's alone.
    let id = h.say(2, "mine")["id"].as_u64().unwrap();
    h.send(1, json!({"type":"edit","id":id,"text":"the owner's"}));
    assert_eq!(code(&h.take(1).pop().unwrap()), "forbidden");
}

// --- kick and ban ---

#[test]
fn a_kick_closes_4003_announces_the_leave_and_bans_name_and_address() {
    let mut h = owned_room(unlimited());
    h.now += 50;
    h.send(1, json!({"type":"kick","name":" bob "}));
    let last = h.closed.first().and_then(|c| c.last.clone());
    let last: Value = serde_json::from_str(&last.unwrap_or_default()).unwrap();
    let room = h.room.name().to_string();
    assert_eq!(
        last,
        json!({"type":"kicked","room":room,"title":"","name":"Olive","at":1050,"retry_after_ms":600_000}),
        "the kicked member hears who, where and for how long, then the close"
    );
    let closed: Vec<_> = h
        .closed
        .iter()
        .map(|c| (c.conn, c.code, c.reason))
        .collect();
    assert_eq!(closed, vec![(2, 4003, "kicked")]);
    let heard = vec![
        json!({"type":"kick","id":1,"target":"Bob","name":"Olive","at":1050}),
        json!({"type":"leave","name":"Bob","at":1050}),
    ];
    assert_eq!(h.take(3), heard);
    assert_eq!(h.take(1), heard);
    assert!(h.take(2).is_empty(), "the kicked socket hears nothing more");
    assert!(h.attachments[&2].closed);
    assert_eq!(
        h.room.member_names().collect::<Vec<_>>(),
        vec!["Olive", "Carol"]
    );
    // Its close is silent, and whatever it still sends is ignored.
    h.send(2, json!({"type":"message","text":"let me back"}));
    h.gone(2);
    assert!(h.take(1).is_empty() && h.take(3).is_empty());

    // Banned by name (any address) and by address (any name), for KICK_BAN_MS.
    let ban = h.limits.kick_ban_ms;
    assert_eq!(ban, 10 * 60 * 1000);
    for (conn, address, name) in [
        (10, Some("10.0.0.2"), "Bob"),
        (11, Some("10.0.0.2"), "Robert"),
        (12, Some("10.9.9.9"), "BOB"),
        (13, None, "bob"),
    ] {
        h.connect_from(conn, address);
        h.send(conn, json!({"type":"join","name":name,"session":BOB}));
        let e = h.one(conn);
        assert_eq!(code(&e), "banned", "{name} from {address:?}");
        assert_eq!(e["retry_after_ms"], ban);
    }
    h.connect_from(14, Some("10.9.9.9"));
    h.send(14, json!({"type":"join","name":"Dora"}));
    assert_eq!(
        h.one(14)["type"],
        "welcome",
        "others from elsewhere are welcome"
    );
    // The ban is stored: it outlives a restart, and ends on time.
    h.restart();
    h.now += ban - 1;
    h.connect_from(20, Some("10.0.0.2"));
    h.send(20, json!({"type":"join","name":"Bob"}));
    assert_eq!(h.one(20)["retry_after_ms"], 1);
    h.now += 1;
    h.send(20, json!({"type":"join","name":"Bob"}));
    assert_eq!(h.one(20)["type"], "welcome");
}

#[test]
fn kicking_nobody_or_oneself_is_refused_and_an_away_member_can_be_kicked() {
    let mut h = owned_room(Limits {
        presence_grace_ms: 10_000,
        ..unlimited()
    });
    h.send(1, json!({"type":"kick","name":"Zed"}));
    assert_eq!(code(&h.one(1)), "not_found");
    h.send(1, json!({"type":"kick","name":"olive"}));
    assert_eq!(code(&h.one(1)), "forbidden");
    h.send(1, json!({"type":"kick"}));
    assert_eq!(code(&h.one(1)), "bad_request");
    // Bob's socket dropped; he is away, and kicked all the same.
    h.gone(2);
    h.clear();
    h.send(1, json!({"type":"kick","name":"Bob"}));
    assert_eq!(types(&h.take(3)), vec!["kick", "leave"]);
    assert!(h.closed.is_empty(), "no socket to close");
    h.connect_from(5, Some("10.0.0.2"));
    h.send(5, json!({"type":"join","name":"Bob","session":BOB}));
    assert_eq!(code(&h.one(5)), "banned", "not even back within the grace");
    // No leave comes for him when the grace ends: he was announced gone once.
    h.now += 10_000;
    h.ring(vec![]);
    assert!(h.take(3).is_empty());
}

// --- lock and topic ---

#[test]
fn a_locked_room_refuses_new_members_but_not_its_members_or_the_owner() {
    let mut h = owned_room(unlimited());
    h.send(1, json!({"type":"lock","locked":true}));
    assert_eq!(
        h.one(2),
        json!({"type":"lock","id":1,"locked":true,"name":"Olive","at":1000})
    );
    h.clear();
    let e = h.join_keys(4, "Dora", None, None);
    assert_eq!(code(&e), "room_locked");
    // Members go on; one taking over their own name is not new.
    assert_eq!(h.say(2, "still talking")["id"], 2);
    let w = h.join_keys(5, "Bob", Some(BOB), None);
    assert_eq!(w["locked"], true);
    // The owner's key opens a locked room.
    h.gone(1);
    assert_eq!(
        h.join_keys(6, "Olive", Some(OLIVE), Some(OWNER_KEY))["owner"],
        true
    );
    // The lock is stored.
    h.restart();
    assert_eq!(code(&h.join_keys(7, "Dora", None, None)), "room_locked");
    assert_eq!(
        h.join_keys(8, "Olive", Some(OLIVE), Some(OWNER_KEY))["locked"],
        true
    );
    h.send(8, json!({"type":"lock","locked":false}));
    assert_eq!(h.one(8)["locked"], false);
    h.send(7, json!({"type":"join","name":"Dora"}));
    assert_eq!(h.one(7)["locked"], false);
}

#[test]
fn the_topic_is_announced_checked_stored_and_in_the_welcome() {
    let mut h = owned_room(unlimited());
    h.send(1, json!({"type":"topic","text":"  Friday plans  "}));
    let change = json!({"type":"topic","id":1,"text":"Friday plans","name":"Olive","at":1000});
    assert_eq!(h.one(2), change);
    assert_eq!(h.one(3), change);
    assert_eq!(h.join(4, "Dora")["topic"], "Friday plans");
    h.clear();
    for bad in [
        "x".repeat(MAX_TOPIC + 1),
        "a\u{7}b".to_string(),
        "two\nlines".to_string(),
    ] {
        h.send(1, json!({"type":"topic","text":bad}));
        assert_eq!(code(&h.one(1)), "invalid_message");
    }
    let longest = "é".repeat(MAX_TOPIC);
    h.send(1, json!({"type":"topic","text":longest}));
    assert_eq!(h.one(4)["text"], longest);
    h.restart();
    assert_eq!(h.join(5, "Eve")["topic"], longest);
    // An empty topic clears it.
    h.join_keys(6, "Olive", None, Some(OWNER_KEY));
    h.send(6, json!({"type":"topic"}));
    assert_eq!(h.one(6)["text"], "");
    assert_eq!(h.join(7, "Fay")["topic"], "");
}

#[test]
fn every_moderation_action_is_logged_without_secrets() {
    let mut h = owned_room(unlimited());
    h.logs.clear();
    let id = h.say(2, "x")["id"].as_u64().unwrap();
    h.send(1, json!({"type":"delete","id":id}));
    h.send(1, json!({"type":"topic","text":"the topic text"}));
    h.send(1, json!({"type":"lock","locked":true}));
    h.send(1, json!({"type":"kick","name":"Bob"}));
    // The owner's own messages are theirs to delete: only deleting others' is moderation.
    let own = h.say(1, "mine")["id"].as_u64().unwrap();
    h.send(1, json!({"type":"delete","id":own}));
    let events: Vec<&str> = h.logs.iter().map(|l| l.event).collect();
    for event in ["delete", "topic", "lock", "kick"] {
        assert_eq!(
            events.iter().filter(|e| **e == event).count(),
            1,
            "{event}: {events:?}"
        );
    }
    let logs = format!("{:?}", h.logs);
    for secret in [
        OWNER_KEY.to_string(),
        digest(OWNER_KEY),
        OLIVE.to_string(),
        digest(OLIVE),
        BOB.to_string(),
        "10.0.0.2".to_string(),
        h.attachments[&2].address.clone().unwrap(),
    ] {
        assert!(!logs.contains(&secret), "{secret} in {logs}");
    }
}

// --- resume and welcome ---

/// Olive, Bob and Carol make one of every kind of change after message 2 (Carol is kicked).
/// Returns the ids and types of the entries, in order.
fn every_kind_of_change(h: &mut Harness) -> Vec<(u64, String)> {
    h.say(2, "one");
    h.say(2, "two");
    h.clear();
    let frames = [
        (2, json!({"type":"edit","id":2,"text":"two, edited"})),
        (3, json!({"type":"react","id":2,"emoji":"👍"})),
        (2, json!({"type":"delete","id":1})),
        (1, json!({"type":"topic","text":"news"})),
        (1, json!({"type":"lock","locked":true})),
        (1, json!({"type":"kick","name":"Carol"})),
        (2, json!({"type":"message","text":"three","reply_to":2})),
        (1, json!({"type":"lock","locked":false})),
    ];
    let mut ids = Vec::new();
    for (conn, frame) in frames {
        h.send(conn, frame);
        let heard = h.take(1);
        let entry = heard.iter().find(|f| f.get("id").is_some()).unwrap();
        ids.push((
            entry["id"].as_u64().unwrap(),
            entry["type"].as_str().unwrap().to_string(),
        ));
    }
    h.clear();
    ids
}

#[test]
fn a_resume_replays_every_kind_of_change_after_since_and_nothing_before() {
    let mut h = owned_room(unlimited());
    let ids = every_kind_of_change(&mut h);
    assert_eq!(
        ids.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        (3..=10).collect::<Vec<_>>()
    );
    for (i, since) in [2, 4, 9, 10].into_iter().enumerate() {
        let conn = 10 + i as ConnId;
        let w = h.join_with(
            conn,
            json!({"type":"join","name":format!("r{conn}"),"since":since}),
        );
        let got: Vec<(u64, String)> = w["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["id"].as_u64().unwrap(),
                    e["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: Vec<(u64, String)> = ids.iter().filter(|(id, _)| *id > since).cloned().collect();
        assert_eq!(got, want, "since {since}");
        assert_eq!(w["truncated"], false);
        assert_eq!(w["last_id"], 10);
    }
    // The replayed changes are the frames members heard live.
    let w = h.join_with(20, json!({"type":"join","name":"r20","since":2}));
    assert_eq!(
        w["history"][0],
        json!({"type":"edit","id":3,"target":2,"text":"two, edited","name":"Bob","at":1000})
    );
    assert_eq!(
        w["history"][3],
        json!({"type":"topic","id":6,"text":"news","name":"Olive","at":1000})
    );
    assert_eq!(
        w["history"][5],
        json!({"type":"kick","id":8,"target":"Carol","name":"Olive","at":1000})
    );
    assert_eq!(w["history"][6]["reply"]["text"], "two, edited");
    // And the same after a restart, from storage.
    h.restart();
    let again = h.join_with(21, json!({"type":"join","name":"r20","since":2}));
    assert_eq!(again["history"], w["history"]);
}

#[test]
fn a_fresh_welcome_carries_the_current_state() {
    let mut h = owned_room(unlimited());
    every_kind_of_change(&mut h);
    h.send(1, json!({"type":"lock","locked":true}));
    h.clear();
    for restart in [false, true] {
        if restart {
            h.restart();
        }
        let w = h.join_keys(30 + u32::from(restart), "Olive2", None, Some(OWNER_KEY));
        assert_eq!(types(w["history"].as_array().unwrap()), vec!["message"; 3]);
        assert_eq!(w["history"][0]["deleted"], true);
        assert_eq!(w["history"][1]["text"], "two, edited");
        assert_eq!(
            w["history"][1]["reactions"],
            json!([{"emoji":"👍","count":1,"names":["Carol"]}])
        );
        assert_eq!(w["history"][2]["reply_to"], 2);
        assert_eq!(
            (w["topic"].as_str(), w["locked"].as_bool()),
            (Some("news"), Some(true))
        );
        assert_eq!(w["last_id"], 11);
        assert!(!w["members"].as_array().unwrap().contains(&json!("Carol")));
        h.gone(30 + u32::from(restart));
    }
}

#[test]
fn changes_never_push_messages_out_and_are_capped_on_their_own() {
    let mut h = Harness::new(Limits {
        history_cap: 10,
        changes_cap: 5,
        ..unlimited()
    });
    h.join(1, "Alice");
    h.join(2, "Bob");
    for i in 0..3 {
        h.say(1, &format!("m{i}"));
    }
    // A toggle storm: eight changes (ids 4..=11) where five are kept.
    for _ in 0..8 {
        h.send(2, json!({"type":"react","id":3,"emoji":"👍"}));
    }
    h.clear();
    assert_eq!(
        h.store.ids(),
        vec![1, 2, 3, 7, 8, 9, 10, 11],
        "every message stays; the oldest changes went"
    );
    assert_eq!(h.room.stored_count(), 8);
    let w = h.join(3, "Carol");
    assert_eq!(ids_of(&w["history"]), vec![1, 2, 3]);
    // A resume from after the changes floor (6) is exact...
    let w = h.join_with(4, json!({"type":"join","name":"Dan","since":6}));
    assert_eq!(w["truncated"], false);
    assert_eq!(ids_of(&w["history"]), vec![7, 8, 9, 10, 11]);
    // ...one from before it cannot be: it gets the messages as they are now, and `truncated`.
    let w = h.join_with(5, json!({"type":"join","name":"Eve","since":2}));
    assert_eq!(w["truncated"], true);
    assert_eq!(ids_of(&w["history"]), vec![1, 2, 3]);
    assert_eq!(
        w["history"][2]["reactions"],
        json!(null),
        "eight toggles: off"
    );

    // Only newer messages push older ones out.
    for i in 0..10 {
        h.say(1, &format!("n{i}"));
    }
    h.clear();
    let messages: Vec<u64> = h.store.messages.iter().map(|p| p.message.id).collect();
    assert_eq!(messages.len(), 10);
    assert_eq!(
        messages[0], 12,
        "the three first messages went, for ten newer ones"
    );
    h.send(2, json!({"type":"react","id":3,"emoji":"👍"}));
    assert_eq!(code(&h.one(2)), "not_found");
    // Restarted, the room still knows the floor.
    h.restart();
    let w = h.join_with(30, json!({"type":"join","name":"Fay","since":2}));
    assert_eq!(w["truncated"], true);
}

fn ids_of(history: &Value) -> Vec<u64> {
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect()
}

// --- presence grace ---

fn grace(ms: u64) -> Limits {
    Limits {
        presence_grace_ms: ms,
        ..unlimited()
    }
}

/// Alice (conn 1) and Bob (conn 2) joined with sessions; nothing is waiting.
fn two_with_sessions(limits: Limits) -> Harness {
    let mut h = Harness::new(limits);
    h.join_keys(1, "Alice", Some(OLIVE), None);
    h.join_keys(2, "Bob", Some(BOB), None);
    h.clear();
    h
}

#[test]
fn a_drop_and_a_return_within_the_grace_is_quiet() {
    assert_eq!(Limits::default().presence_grace_ms, 10_000);
    let mut h = two_with_sessions(grace(10_000));
    h.gone(1);
    assert_eq!(
        h.take(2),
        vec![json!({"type":"away","name":"Alice","at":1000})]
    );
    // Still a member, only away: listed, and her name is hers.
    let w = h.join(3, "Carol");
    assert_eq!(
        (w["members"].clone(), w["away"].clone()),
        (json!(["Alice", "Bob", "Carol"]), json!(["Alice"]))
    );
    assert_eq!(
        code(&h.join_keys(4, "alice", Some(CAROL), None)),
        "name_taken"
    );
    h.clear();
    h.now += 9_999;
    let w = h.join_keys(5, "Alice", Some(OLIVE), None);
    assert_eq!(w["members"], json!(["Alice", "Bob", "Carol"]));
    assert!(w.get("away").is_none());
    let back = vec![json!({"type":"back","name":"Alice","at":10_999})];
    assert_eq!(h.take(2), back);
    assert_eq!(h.take(3), back);
    h.now += 1;
    h.ring(vec![]);
    assert!(h.take(2).is_empty(), "no leave and no join, ever");
}

#[test]
fn a_member_who_leaves_on_purpose_leaves_at_once() {
    let mut h = two_with_sessions(grace(10_000));
    h.event(Event::Gone {
        conn: 1,
        why: crate::room::LEFT,
    });
    h.flush();
    assert_eq!(
        h.take(2),
        vec![json!({"type":"leave","name":"Alice","at":1000})]
    );
    assert_eq!(h.room.member_names().collect::<Vec<_>>(), vec!["Bob"]);
}

#[test]
fn after_the_grace_the_alarm_announces_one_leave() {
    let mut h = two_with_sessions(grace(10_000));
    h.gone(1);
    h.clear();
    h.now += 9_999;
    h.ring(vec![]);
    assert!(h.take(2).is_empty());
    h.now += 1;
    h.ring(vec![]);
    assert_eq!(
        h.take(2),
        vec![json!({"type":"leave","name":"Alice","at":11_000})]
    );
    h.now += 60_000;
    h.ring(vec![]);
    assert!(h.take(2).is_empty());
    assert_eq!(h.room.member_names().collect::<Vec<_>>(), vec!["Bob"]);
    assert!(
        h.store.members.keys().all(|k| k != "alice"),
        "forgotten in storage too"
    );
    // Back after the grace is a new join.
    h.join_keys(3, "Alice", Some(OLIVE), None);
    assert_eq!(types(&h.take(2)), vec!["join"]);
}

#[test]
fn the_grace_holds_across_a_restart_of_the_room_object() {
    let mut h = two_with_sessions(grace(10_000));
    h.restart();
    h.now += 3_000;
    // Both sockets dropped with the object: Alice is back first, Bob is still away.
    let w = h.join_keys(3, "Alice", Some(OLIVE), None);
    assert_eq!(
        (w["members"].clone(), w["away"].clone()),
        (json!(["Alice", "Bob"]), json!(["Bob"]))
    );
    h.join_keys(4, "Bob", Some(BOB), None);
    assert_eq!(
        h.take(3),
        vec![json!({"type":"back","name":"Bob","at":4_000})]
    );
    // A second restart, and only Alice comes back: one leave for Bob, when his grace ends.
    h.restart();
    h.join_keys(5, "Alice", Some(OLIVE), None);
    h.now += 10_000;
    h.ring(vec![]);
    assert_eq!(
        h.take(5),
        vec![json!({"type":"leave","name":"Bob","at":14_000})]
    );
    h.ring(vec![]);
    assert!(h.take(5).is_empty());
}

#[test]
fn a_rebuild_does_not_extend_the_grace() {
    let mut h = two_with_sessions(grace(10_000));
    h.gone(1);
    h.clear();
    // The room hibernates, and is rebuilt from storage and attachments to handle the alarm.
    h.now += 5_000;
    h.rebuild();
    h.now += 5_000;
    h.rebuild();
    h.ring(vec![]);
    assert_eq!(
        h.take(2),
        vec![json!({"type":"leave","name":"Alice","at":11_000})]
    );
    h.rebuild();
    assert_eq!(h.room.member_names().collect::<Vec<_>>(), vec!["Bob"]);
}

#[test]
fn an_address_ban_keeps_out_only_new_guests_never_the_owner_nor_members_here_or_away() {
    let mut h = owned_room(Limits {
        presence_grace_ms: 10_000,
        ..unlimited()
    });
    // Dan shares Bob's address (an office network) and is here; Erin shares it and is away.
    h.connect_from(4, Some("10.0.0.2"));
    h.send(
        4,
        json!({"type":"join","name":"Dan","session":"d".repeat(32)}),
    );
    h.connect_from(5, Some("10.0.0.2"));
    h.send(
        5,
        json!({"type":"join","name":"Erin","session":"e".repeat(32)}),
    );
    h.gone(5);
    h.clear();
    h.send(1, json!({"type":"kick","name":"Bob"}));
    h.clear();
    assert!(
        h.room.member_names().any(|n| n == "Dan"),
        "a bystander stays in"
    );

    // Dan reloads (a takeover of his own seat) and Erin comes back: both members, both in.
    h.connect_from(6, Some("10.0.0.2"));
    h.send(
        6,
        json!({"type":"join","name":"Dan","session":"d".repeat(32)}),
    );
    assert_eq!(
        h.one(6)["type"],
        "welcome",
        "a member here takes his seat back"
    );
    h.connect_from(7, Some("10.0.0.2"));
    h.send(
        7,
        json!({"type":"join","name":"Erin","session":"e".repeat(32)}),
    );
    assert_eq!(h.one(7)["type"], "welcome", "a member away comes back");

    // A new guest at the address is kept out, whatever the name: the kicked guest renamed.
    h.connect_from(8, Some("10.0.0.2"));
    h.send(8, json!({"type":"join","name":"Totally Not Bob"}));
    let e = h.one(8);
    assert_eq!(code(&e), "banned");
    assert!(e["retry_after_ms"].as_u64().is_some());

    // The owner, even from the banned address and even as a new seat, is never kept out: by
    // the room's owner key, or by the operator's moderator key.
    h.gone(1);
    h.connect_from(9, Some("10.0.0.2"));
    h.send(
        9,
        json!({"type":"join","name":"Olive","session":OLIVE,"owner_key":OWNER_KEY}),
    );
    let w = h.one(9);
    assert_eq!(w["type"], "welcome", "{w}");
    assert_eq!(w["owner"], true);
    // The owner is named to everyone: in the welcome's owners.
    assert_eq!(w["owners"], json!(["Olive"]));
}

#[test]
fn a_ban_on_the_name_holds_for_anyone_but_the_owner() {
    let mut h = owned_room(unlimited());
    h.send(1, json!({"type":"kick","name":"Bob"}));
    h.gone(1);
    h.clear();
    // The owner may take the kicked name (say, to speak for the room); a guest may not.
    h.connect_from(10, Some("10.5.5.5"));
    h.send(10, json!({"type":"join","name":"Bob"}));
    assert_eq!(code(&h.one(10)), "banned");
    h.send(
        10,
        json!({"type":"join","name":"Bob","session":OLIVE,"owner_key":OWNER_KEY}),
    );
    assert_eq!(h.one(10)["type"], "welcome");
}

#[test]
fn the_owner_sets_a_title_stored_with_the_room_announced_and_in_the_welcome() {
    let mut h = owned_room(unlimited());
    h.send(2, json!({"type":"title","text":"Q3 planning"}));
    assert_eq!(code(&h.one(2)), "forbidden");
    h.send(1, json!({"type":"title","text":"x".repeat(65)}));
    assert_eq!(code(&h.one(1)), "invalid_message");
    h.send(1, json!({"type":"title","text":"a\nb"}));
    assert_eq!(code(&h.one(1)), "invalid_message");
    // 64 characters (not bytes) is the limit.
    h.send(1, json!({"type":"title","text":"é".repeat(64)}));
    assert_eq!(h.take(3)[0]["type"], "title");
    h.send(1, json!({"type":"title","text":"  Q3 planning  "}));
    let heard = h.take(3);
    assert_eq!(heard[0]["type"], "title");
    assert_eq!(heard[0]["text"], "Q3 planning", "trimmed");
    assert_eq!(heard[0]["name"], "Olive");
    h.restart();
    let w = h.join_keys(20, "Zoe", Some(&"z".repeat(32)), None);
    assert_eq!(w["title"], "Q3 planning", "stored with the room: {w}");
}
