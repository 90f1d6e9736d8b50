//! Tests of issue #12's message features, driven through the shell's path (handle, then flush):
//! edit and delete (own messages, session-bound, within the window; a delete is for real), reactions
//! (toggle, one emoji, caps), replies (quote, tombstone), and their cost against the rate limit.

use super::harness::{unlimited, Harness};
use super::*;
use serde_json::{json, Value};

const ALICE: &str = "alice-session-0123456789";
const BOB: &str = "bob-session-0123456789ab";

/// Alice (conn 1, with a session) and Bob (conn 2, with a session) are in the room; Alice said
/// "hello" (id 1) at t=1000; nothing is waiting.
fn alice_said_hello() -> Harness {
    let mut h = Harness::new(unlimited());
    h.join_keys(1, "Alice", Some(ALICE), None);
    h.join_keys(2, "Bob", Some(BOB), None);
    h.clear();
    assert_eq!(h.say(1, "hello")["id"], 1);
    h.clear();
    h
}

/// Everything storage holds (messages, changes, room state), as one text to search.
fn stored_text(h: &Harness) -> String {
    let messages: Vec<Value> = h
        .store
        .messages
        .iter()
        .map(|p| serde_json::to_value(&p.message).unwrap())
        .collect();
    let changes: Vec<Value> = h
        .store
        .changes
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    json!([messages, changes, h.store.meta]).to_string()
}

fn stored(h: &Harness, id: u64) -> &crate::protocol::ChatMessage {
    &h.store
        .messages
        .iter()
        .find(|p| p.message.id == id)
        .expect("stored")
        .message
}

/// The error `conn` got, as (code, target).
fn refused(h: &mut Harness, conn: ConnId) -> (String, Option<u64>) {
    let e = h.one(conn);
    assert_eq!(e["type"], "error", "{e}");
    (
        e["code"].as_str().unwrap().to_string(),
        e["target"].as_u64(),
    )
}

// --- edit ---

#[test]
fn an_author_edits_their_message_and_everyone_gets_the_change_in_the_id_sequence() {
    let mut h = alice_said_hello();
    h.now += 5_000;
    h.send(1, json!({"type":"edit","id":1,"text":"  hello there  "}));
    let change =
        json!({"type":"edit","id":2,"target":1,"text":"hello there","name":"Alice","at":6000});
    assert_eq!(h.one(1), change);
    assert_eq!(h.one(2), change);
    assert_eq!(stored(&h, 1).text, "hello there");
    assert_eq!(stored(&h, 1).edited_at, Some(6000));
    assert_eq!(
        h.store.ids(),
        vec![1, 2],
        "the change is stored in the same sequence"
    );
    assert_eq!(h.say(2, "next")["id"], 3);
    // A newcomer sees the message as it is now.
    let w = h.join(3, "Carol");
    assert_eq!(w["history"][0]["text"], "hello there");
    assert_eq!(w["history"][0]["edited_at"], 6000);
    assert_eq!(w["last_id"], 3);
}

#[test]
fn edits_of_others_unknown_ids_and_bad_texts_are_refused_and_the_socket_stays_usable() {
    let mut h = alice_said_hello();
    h.send(2, json!({"type":"edit","id":1,"text":"mine now"}));
    assert_eq!(refused(&mut h, 2), ("forbidden".into(), Some(1)));
    for id in [0, 2, 99, u64::MAX] {
        h.send(1, json!({"type":"edit","id":id,"text":"x"}));
        assert_eq!(refused(&mut h, 1), ("not_found".into(), Some(id)));
    }
    h.send(1, json!({"type":"edit","id":1,"text":"   "}));
    assert_eq!(refused(&mut h, 1), ("invalid_message".into(), Some(1)));
    h.send(1, json!({"type":"edit","text":"no id"}));
    assert_eq!(refused(&mut h, 1), ("bad_request".into(), None));
    h.connect(3);
    h.send(3, json!({"type":"edit","id":1,"text":"x"}));
    assert_eq!(refused(&mut h, 3), ("not_joined".into(), Some(1)));
    // A member without a session can never prove authorship.
    h.join(4, "Dave");
    let id = h.say(4, "sessionless")["id"].as_u64().unwrap();
    h.send(4, json!({"type":"edit","id":id,"text":"x"}));
    assert_eq!(refused(&mut h, 4), ("forbidden".into(), Some(id)));
    // Nothing refused changed anything or used an id; every socket still works.
    assert_eq!(stored(&h, 1).text, "hello");
    assert!(h.store.changes.is_empty());
    h.clear();
    assert_eq!(h.say(2, "still here")["id"], id + 1);
}

#[test]
fn edits_and_deletes_by_the_author_end_with_the_edit_window() {
    let mut h = alice_said_hello();
    let window = h.limits.edit_window_ms;
    assert_eq!(window, 15 * 60 * 1000);
    h.now = 1_000 + window;
    h.send(1, json!({"type":"edit","id":1,"text":"last moment"}));
    assert_eq!(h.one(1)["type"], "edit");
    h.clear();
    h.now += 1;
    h.send(1, json!({"type":"edit","id":1,"text":"too late"}));
    assert_eq!(refused(&mut h, 1), ("edit_window".into(), Some(1)));
    h.send(1, json!({"type":"delete","id":1}));
    assert_eq!(refused(&mut h, 1), ("edit_window".into(), Some(1)));
    assert_eq!(stored(&h, 1).text, "last moment");
    // The window counts from sending, not from the last edit.
    assert_eq!(stored(&h, 1).at, 1_000);
}

#[test]
fn the_author_keeps_the_right_across_reconnects_with_the_same_session_only() {
    let mut h = alice_said_hello();
    h.gone(1);
    h.join_keys(3, "alice", Some(ALICE), None);
    h.clear();
    h.send(3, json!({"type":"edit","id":1,"text":"back again"}));
    assert_eq!(h.one(2)["name"], "alice");
    h.clear();
    // The same name with another session is someone else.
    h.gone(3);
    h.join_keys(4, "Alice", Some("another-session-0123456"), None);
    h.send(4, json!({"type":"edit","id":1,"text":"impostor"}));
    assert_eq!(refused(&mut h, 4), ("forbidden".into(), Some(1)));
    h.send(4, json!({"type":"delete","id":1}));
    assert_eq!(refused(&mut h, 4), ("forbidden".into(), Some(1)));
    // The same session under another name is someone else too.
    h.gone(4);
    h.join_keys(5, "Alicia", Some(ALICE), None);
    h.send(5, json!({"type":"edit","id":1,"text":"renamed"}));
    assert_eq!(refused(&mut h, 5), ("forbidden".into(), Some(1)));
    // Authorship is stored: it survives a restart of the room object.
    h.restart();
    h.join_keys(6, "Alice", Some(ALICE), None);
    h.send(6, json!({"type":"delete","id":1}));
    assert_eq!(h.one(6)["type"], "delete");
    assert_eq!(stored(&h, 1).text, "");
}

#[test]
fn messages_older_than_the_ones_in_memory_are_changed_in_storage() {
    let mut h = alice_said_hello();
    for i in 0..150 {
        h.say(2, &format!("filler {i}"));
    }
    h.clear();
    h.send(1, json!({"type":"edit","id":1,"text":"old but edited"}));
    assert_eq!(h.one(2)["target"], 1);
    assert_eq!(stored(&h, 1).text, "old but edited");
    h.clear();
    h.send(2, json!({"type":"react","id":1,"emoji":"👍"}));
    assert_eq!(h.one(1)["on"], true);
    assert_eq!(stored(&h, 1).reactions[0].names, vec!["Bob".to_string()]);
    h.clear();
    h.send(1, json!({"type":"delete","id":1}));
    assert_eq!(h.one(2)["type"], "delete");
    assert!(stored(&h, 1).deleted);
    assert!(!stored_text(&h).contains("old but edited"));
}

// --- delete ---

#[test]
fn a_delete_leaves_a_tombstone_and_takes_the_text_out_of_storage() {
    let mut h = alice_said_hello();
    h.send(1, json!({"type":"edit","id":1,"text":"secret plan"}));
    h.send(
        2,
        json!({"type":"message","text":"what plan?","reply_to":1}),
    );
    h.send(2, json!({"type":"react","id":1,"emoji":"👍"}));
    h.clear();
    h.now += 1_000;
    h.send(1, json!({"type":"delete","id":1}));
    let change = json!({"type":"delete","id":5,"target":1,"name":"Alice","at":2000});
    assert_eq!(h.one(1), change);
    assert_eq!(h.one(2), change);
    let tombstone =
        json!({"type":"message","id":1,"name":"Alice","text":"","at":1000,"deleted":true});
    assert_eq!(serde_json::to_value(stored(&h, 1)).unwrap(), tombstone);
    // The text is gone from the earlier edit and from the reply's quote too.
    assert_eq!(
        serde_json::to_value(&stored(&h, 3).reply).unwrap(),
        json!({"name":"Alice","text":"","deleted":true})
    );
    let all = stored_text(&h);
    assert!(!all.contains("secret") && !all.contains("hello"), "{all}");
    // Nor is it in anything a newcomer or a resuming member gets, before or after a restart.
    for restart in [false, true] {
        if restart {
            h.restart();
        }
        let w = h.join(10 + u32::from(restart), "Carol");
        assert_eq!(w["history"][0], tombstone);
        assert_eq!(w["history"][1]["reply"]["deleted"], true);
        let w = h.join_with(
            20 + u32::from(restart),
            json!({"type":"join","name":"Dan","since":0}),
        );
        let text = w.to_string();
        assert!(
            !text.contains("secret") && !text.contains("hello"),
            "{text}"
        );
        h.gone(10 + u32::from(restart));
        h.gone(20 + u32::from(restart));
    }
}

#[test]
fn a_deleted_message_cannot_be_changed_or_answered() {
    let mut h = alice_said_hello();
    h.send(1, json!({"type":"delete","id":1}));
    h.clear();
    for frame in [
        json!({"type":"delete","id":1}),
        json!({"type":"edit","id":1,"text":"revive"}),
        json!({"type":"react","id":1,"emoji":"👍"}),
    ] {
        h.send(1, frame);
        assert_eq!(refused(&mut h, 1), ("not_found".into(), Some(1)));
    }
    h.send(
        2,
        json!({"type":"message","text":"re","reply_to":1,"nonce":"r1"}),
    );
    let e = h.one(2);
    assert_eq!(
        (e["code"].as_str(), e["nonce"].as_str()),
        (Some("not_found"), Some("r1"))
    );
    assert!(h.take(1).is_empty());
}

#[test]
fn an_edit_and_a_delete_in_one_burst_leave_the_text_nowhere() {
    let mut h = alice_said_hello();
    h.queue(1, &json!({"type":"edit","id":1,"text":"oops, a password"}));
    h.queue(1, &json!({"type":"delete","id":1}));
    h.flush();
    let frames = h.take(2);
    assert_eq!(Harness::frame_types(&frames), vec!["edit", "delete"]);
    assert!(!stored_text(&h).contains("password"));
    // What the room keeps in memory for resumes holds no more than storage does.
    let w = h.join_with(3, json!({"type":"join","name":"Carol","since":0}));
    assert_eq!(
        Harness::frame_types(w["history"].as_array().unwrap()),
        vec!["message", "edit", "delete"]
    );
    assert!(!w.to_string().contains("password"), "{w}");
}

// --- react ---

#[test]
fn a_reaction_toggles_and_lists_who_reacted() {
    let mut h = alice_said_hello();
    h.now += 10;
    h.send(2, json!({"type":"react","id":1,"emoji":"👍"}));
    let on = json!({"type":"react","id":2,"target":1,"emoji":"👍","on":true,"count":1,"name":"Bob","at":1010});
    assert_eq!(h.one(1), on);
    assert_eq!(h.one(2), on);
    h.send(1, json!({"type":"react","id":1,"emoji":"👍"}));
    h.send(1, json!({"type":"react","id":1,"emoji":"🎉"}));
    h.clear();
    let reactions = |h: &Harness| serde_json::to_value(&stored(h, 1).reactions).unwrap();
    assert_eq!(
        reactions(&h),
        json!([{"emoji":"👍","names":["Bob","Alice"]},{"emoji":"🎉","names":["Alice"]}])
    );
    // Frames carry a summary: per emoji the count, the first names, and in a welcome whether
    // the member reacted.
    let w = h.join(3, "Carol");
    assert_eq!(
        w["history"][0]["reactions"],
        json!([{"emoji":"👍","count":2,"names":["Bob","Alice"]},
               {"emoji":"🎉","count":1,"names":["Alice"]}])
    );
    h.clear();
    // The same emoji again takes it back.
    h.send(2, json!({"type":"react","id":1,"emoji":"👍"}));
    let off = h.one(3);
    assert_eq!((&off["on"], &off["count"]), (&json!(false), &json!(1)));
    h.send(1, json!({"type":"react","id":1,"emoji":"👍"}));
    h.send(1, json!({"type":"react","id":1,"emoji":"🎉"}));
    assert_eq!(reactions(&h), json!([]));
    assert!(stored(&h, 1).reactions.is_empty());
    assert_eq!(h.store.changes.len(), 6, "every toggle is a change");
}

#[test]
fn a_member_back_under_another_spelling_of_their_name_takes_their_reaction_back() {
    let mut h = alice_said_hello();
    h.send(2, json!({"type":"react","id":1,"emoji":"👍"}));
    h.gone(2);
    h.join(4, "BOB");
    h.clear();
    h.send(4, json!({"type":"react","id":1,"emoji":"👍"}));
    assert_eq!(
        h.one(4)["on"],
        false,
        "the same member, not a second reactor"
    );
    assert!(stored(&h, 1).reactions.is_empty());
}

#[test]
fn a_reaction_is_exactly_one_emoji() {
    let mut h = alice_said_hello();
    for bad in [
        "",
        "x",
        ":)",
        "👍👍",
        " 👍",
        "👍 ",
        "a👍",
        "\u{200D}",
        &"👍".repeat(40),
    ] {
        h.send(2, json!({"type":"react","id":1,"emoji":bad}));
        assert_eq!(
            refused(&mut h, 2),
            ("invalid_emoji".into(), Some(1)),
            "{bad:?}"
        );
    }
    h.send(2, json!({"type":"react","id":1}));
    assert_eq!(refused(&mut h, 2), ("invalid_emoji".into(), None));
    // Skin tones, ZWJ sequences and flags are one emoji each.
    for good in ["👍🏽", "👩‍👩‍👧", "🇫🇷"] {
        h.send(2, json!({"type":"react","id":1,"emoji":good}));
        assert_eq!(h.one(2)["emoji"], good);
        h.clear();
    }
    // An unknown id is checked after the emoji, and is not_found.
    h.send(2, json!({"type":"react","id":42,"emoji":"👍"}));
    assert_eq!(refused(&mut h, 2), ("not_found".into(), Some(42)));
}

#[test]
fn reactions_are_capped_per_message_and_per_member() {
    assert_eq!(
        (
            Limits::default().reactions_per_message,
            Limits::default().reactions_per_member
        ),
        (20, 3)
    );
    let mut h = Harness::new(Limits {
        reactions_per_message: 4,
        ..unlimited()
    });
    h.join(1, "Alice");
    h.join(2, "Bob");
    h.say(1, "react to me");
    h.clear();
    let react = |h: &mut Harness, conn: ConnId, emoji: &str| {
        h.send(conn, json!({"type":"react","id":1,"emoji":emoji}));
        let frame = h.take(conn).pop().unwrap();
        h.clear();
        frame
    };
    for e in ["👍", "🎉", "😂"] {
        assert_eq!(react(&mut h, 1, e)["on"], true);
    }
    let e = react(&mut h, 1, "❤️");
    assert_eq!(
        (e["code"].as_str(), e["target"].as_u64()),
        (Some("too_many_reactions"), Some(1))
    );
    // Taking one back is always allowed, and frees a place.
    assert_eq!(react(&mut h, 1, "😂")["on"], false);
    assert_eq!(react(&mut h, 1, "❤️")["on"], true);
    // A fourth distinct emoji fills the message: Bob may join one but not add a fifth.
    assert_eq!(react(&mut h, 2, "😮")["on"], true);
    assert_eq!(react(&mut h, 2, "🔥")["code"], "too_many_reactions");
    assert_eq!(react(&mut h, 2, "🎉")["on"], true);
    let stored = &h.store.messages[0].message.reactions;
    assert_eq!(stored.len(), 4);
    assert_eq!(stored.iter().map(|r| r.names.len()).sum::<usize>(), 5);
}

// --- reply ---

#[test]
fn an_edit_reaches_the_quotes_of_replies_in_memory_in_storage_and_after_a_restart() {
    let mut h = alice_said_hello();
    h.send(2, json!({"type":"message","text":"what?","reply_to":1}));
    h.clear();
    h.send(
        1,
        json!({"type":"edit","id":1,"text":"hello, with my phone number taken out"}),
    );
    let quote = json!({"name":"Alice","text":"hello, with my phone number taken out"});
    let w = h.join(3, "Carol");
    assert_eq!(w["history"][1]["reply"], quote);
    assert!(
        !stored_text(&h).contains("\"text\":\"hello\""),
        "the old text is quoted nowhere in storage"
    );
    h.restart();
    let w = h.join(4, "Dan");
    assert_eq!(w["history"][1]["reply"], quote);
}

#[test]
fn an_edit_of_a_message_nobody_answered_asks_storage_for_no_requote() {
    let mut h = alice_said_hello();
    h.send(1, json!({"type":"edit","id":1,"text":"hello, edited"}));
    h.clear();
    assert_eq!(
        h.store.requotes, 0,
        "nothing answers it: nothing to look for"
    );
    h.send(2, json!({"type":"message","text":"what?","reply_to":1}));
    h.send(1, json!({"type":"edit","id":1,"text":"hello again"}));
    h.clear();
    assert_eq!(
        h.store.requotes, 1,
        "a reply: its quote is rewritten in storage"
    );
    // After a restart memory holds the newest messages only, and knows what answers them.
    h.restart();
    h.join(5, "Alice");
    h.clear();
    assert!(h.room.history.may_have_replies(1));
    // Past what memory holds, storage is asked.
    let mut older = Harness::new(Limits {
        history_cap: 1000,
        ..unlimited()
    });
    older.join(1, "Alice");
    for i in 0..(super::history::WELCOME_HISTORY + 5) {
        older.say(1, &format!("m{i}"));
    }
    assert!(
        older.room.history.may_have_replies(1),
        "not in memory any more"
    );
    assert!(!older.room.history.may_have_replies(50));
}

#[test]
fn a_reply_quotes_the_author_and_the_start_of_the_text() {
    let mut h = alice_said_hello();
    let long: String = "abcdefghij".repeat(15);
    let original = h.say(1, &long)["id"].as_u64().unwrap();
    h.clear();
    h.send(
        2,
        json!({"type":"message","text":"agreed","reply_to":original}),
    );
    let reply = h.one(1);
    assert_eq!(reply["reply_to"], original);
    assert_eq!(
        reply["reply"],
        json!({"name":"Alice","text":long.chars().take(super::message::QUOTE_CHARS).collect::<String>()})
    );
    assert_eq!(h.one(2), reply);
    // A newcomer sees the same quote, and a reply in the same burst as what it answers works.
    let w = h.join(3, "Carol");
    assert_eq!(w["history"][2], reply);
    h.clear();
    h.queue(1, &json!({"type":"message","text":"first"}));
    h.queue(
        3,
        &json!({"type":"message","text":"second","reply_to":original + 2}),
    );
    h.flush();
    let frames = h.take(2);
    assert_eq!(frames[1]["reply"]["text"], "first");
    // Deleting what was answered turns the quote into a tombstone for everyone.
    h.send(1, json!({"type":"delete","id":original}));
    let w = h.join(4, "Dan");
    assert_eq!(
        w["history"][2]["reply"],
        json!({"name":"Alice","text":"","deleted":true})
    );
    // Unknown targets are refused, with the nonce.
    h.send(
        2,
        json!({"type":"message","text":"?","reply_to":999,"nonce":"q"}),
    );
    let e = h.take(2).pop().unwrap();
    assert_eq!(
        (e["code"].as_str(), e["nonce"].as_str()),
        (Some("not_found"), Some("q"))
    );
}

// --- the rate limit ---

#[test]
fn edits_and_reactions_count_against_the_rate_limit() {
    let mut h = Harness::new(Limits {
        rate_per_sec: 1.0,
        rate_burst: 3.0,
        ..unlimited()
    });
    h.join_keys(1, "Alice", Some(ALICE), None);
    h.say(1, "one");
    h.send(1, json!({"type":"edit","id":1,"text":"two"}));
    h.send(1, json!({"type":"react","id":1,"emoji":"👍"}));
    h.clear();
    for frame in [
        json!({"type":"edit","id":1,"text":"three"}),
        json!({"type":"react","id":1,"emoji":"🎉"}),
    ] {
        h.send(1, frame);
        let e = h.one(1);
        assert_eq!(
            (e["code"].as_str(), e["target"].as_u64()),
            (Some("rate_limited"), Some(1))
        );
        assert!(e["retry_after_ms"].as_u64().unwrap() > 0);
    }
    h.send(1, json!({"type":"message","text":"four"}));
    assert_eq!(h.one(1)["code"], "rate_limited");
    assert_eq!(h.store.ids(), vec![1, 2, 3]);
    // Reconnecting does not refill the bucket; time does.
    h.gone(1);
    h.join_keys(2, "Alice", Some(ALICE), None);
    h.send(2, json!({"type":"react","id":1,"emoji":"🎉"}));
    assert_eq!(h.one(2)["code"], "rate_limited");
    h.now += 1_000;
    h.send(2, json!({"type":"react","id":1,"emoji":"🎉"}));
    assert_eq!(h.one(2)["type"], "react");
}
