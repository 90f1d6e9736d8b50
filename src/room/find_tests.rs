//! Tests of issue #21 in the room, driven through the shell's path (handle, then flush): mentions
//! resolved when a message is stored and when it is edited; read positions (monotonic, shared by
//! the connections of one identity, written at most once per interval, kept across a restart).

use super::harness::{unlimited, Harness, OWNER_KEY};
use super::*;
use serde_json::{json, Value};

const ALICE: &str = "alice-session-0123456789";
const BOB: &str = "bob-session-0123456789ab";

fn room() -> Harness {
    let mut h = Harness::owned(unlimited());
    assert_eq!(
        h.join_keys(1, "Alice", Some(ALICE), Some(OWNER_KEY))["type"],
        "welcome"
    );
    assert_eq!(h.join_keys(2, "Bob", Some(BOB), None)["type"], "welcome");
    h.clear();
    h
}

fn mentions(v: &Value) -> Vec<String> {
    serde_json::from_value(v["mentions"].clone()).unwrap_or_default()
}

// --- mentions ---

#[test]
fn a_message_carries_its_mentions_live_and_in_storage() {
    let mut h = room();
    let m = h.say(2, "hey @alice and @BOB, not @carol");
    assert_eq!(mentions(&m), ["Alice", "Bob"]);
    assert_eq!(mentions(&h.one(1)), ["Alice", "Bob"]);
    assert_eq!(h.store.messages[0].message.mentions, ["Alice", "Bob"]);
    // No mentions, no field.
    let m = h.say(2, "plain");
    assert!(m.get("mentions").is_none());
}

#[test]
fn everyone_and_here_only_from_the_owner() {
    let mut h = room();
    assert_eq!(mentions(&h.say(1, "@everyone look")), ["@everyone"]);
    assert!(mentions(&h.say(2, "@everyone @here look")).is_empty());
}

#[test]
fn an_away_member_is_mentioned_and_hears_it_on_resume() {
    let mut limits = unlimited();
    limits.presence_grace_ms = 60_000;
    let mut h = Harness::new(limits);
    h.join_keys(1, "Alice", Some(ALICE), None);
    assert_eq!(h.join_keys(2, "Bob", Some(BOB), None)["type"], "welcome");
    h.clear();
    h.gone(2);
    h.clear();
    let m = h.say(1, "@bob are you there?");
    assert_eq!(mentions(&m), ["Bob"]);
    h.connect(3);
    h.send(
        3,
        json!({"type":"join","name":"Bob","session":BOB,"since":0}),
    );
    let welcome = h.one(3);
    let history = welcome["history"].as_array().unwrap();
    let last = history.last().unwrap();
    assert_eq!(mentions(last), ["Bob"], "{welcome}");
}

#[test]
fn an_edit_recomputes_and_a_delete_clears_mentions() {
    let mut h = room();
    let id = h.say(1, "hi @bob")["id"].as_u64().unwrap();
    h.clear();
    h.send(1, json!({"type":"edit","id":id,"text":"hi @alice"}));
    let edit = h.take(2).pop().unwrap();
    assert_eq!(edit["type"], "edit");
    assert_eq!(mentions(&edit), ["Alice"]);
    assert_eq!(h.store.messages[0].message.mentions, ["Alice"]);
    // A welcome shows the message as it is now.
    let welcome = h.join_keys(3, "Carol", None, None);
    assert_eq!(mentions(&welcome["history"][0]), ["Alice"]);
    h.send(1, json!({"type":"delete","id":id}));
    assert!(h.store.messages[0].message.mentions.is_empty());
}

#[test]
fn code_spans_mention_no_one() {
    let mut h = room();
    assert!(mentions(&h.say(2, "run `ping @alice` now")).is_empty());
}

// --- read positions ---

fn read(h: &mut Harness, conn: ConnId, id: u64) {
    h.send(conn, json!({"type":"read","id":id}));
}

#[test]
fn read_positions_only_move_forward_and_reach_the_other_connections() {
    let mut limits = unlimited();
    limits.read_write_ms = 0;
    let mut h = Harness::new(limits);
    // One person on two devices (one session), and Bob.
    h.join_keys(1, "Alice", Some(ALICE), None);
    h.join_keys(2, "Alice phone", Some(ALICE), None);
    h.join_keys(3, "Bob", Some(BOB), None);
    for i in 0..5 {
        h.say(3, &format!("m{i}"));
    }
    h.clear();
    read(&mut h, 1, 3);
    assert_eq!(h.one(2), json!({"type":"read","id":3}));
    assert!(h.take(1).is_empty(), "the sender hears nothing back");
    assert!(h.take(3).is_empty(), "other people hear nothing");
    assert_eq!(h.store.reads.values().copied().collect::<Vec<_>>(), [3]);
    // Smaller or equal: ignored, not sent, not stored.
    read(&mut h, 2, 2);
    read(&mut h, 2, 3);
    assert!(h.take(1).is_empty());
    assert_eq!(h.store.reads.values().copied().collect::<Vec<_>>(), [3]);
    // Past the newest entry: the newest entry.
    read(&mut h, 2, 1_000);
    assert_eq!(h.one(1), json!({"type":"read","id":5}));
}

#[test]
fn a_welcome_carries_the_read_position_also_after_a_restart() {
    let mut limits = unlimited();
    limits.read_write_ms = 0;
    let mut h = Harness::new(limits);
    h.join_keys(1, "Alice", Some(ALICE), None);
    for i in 0..3 {
        h.say(1, &format!("m{i}"));
    }
    read(&mut h, 1, 2);
    h.restart();
    h.clear();
    let welcome = h.join_keys(5, "Alice", Some(ALICE), None);
    assert_eq!(welcome["read_id"], 2, "{welcome}");
    // Someone else's session has its own position; none is 0.
    assert_eq!(h.join_keys(6, "Bob", Some(BOB), None)["read_id"], 0);
    assert_eq!(h.join_keys(7, "Carol", None, None)["read_id"], 0);
    // Without a session a read is refused (nothing to keep it by).
    h.clear();
    read(&mut h, 7, 1);
    assert_eq!(h.error_code(7), "bad_request");
}

#[test]
fn a_guest_rejoining_with_the_same_session_gets_the_position_back() {
    let mut limits = unlimited();
    limits.read_write_ms = 0;
    let mut h = Harness::new(limits);
    h.join_keys(1, "Alice", Some(ALICE), None);
    h.say(1, "one");
    h.say(1, "two");
    read(&mut h, 1, 2);
    h.gone(1);
    assert_eq!(h.join_keys(2, "Alice", Some(ALICE), None)["read_id"], 2);
}

#[test]
fn read_writes_are_rate_limited_and_the_latest_wins() {
    let mut h = Harness::new(unlimited());
    assert_eq!(h.limits.read_write_ms, 1000);
    h.join_keys(1, "Alice", Some(ALICE), None);
    for i in 0..10 {
        h.say(1, &format!("m{i}"));
    }
    read(&mut h, 1, 1);
    assert_eq!(h.store.reads.values().copied().collect::<Vec<_>>(), [1]);
    // Within the second: held back, however many.
    h.now += 100;
    read(&mut h, 1, 4);
    h.now += 100;
    read(&mut h, 1, 6);
    assert_eq!(h.store.reads.values().copied().collect::<Vec<_>>(), [1]);
    // The flush that asked to be run later writes the latest.
    let fx = h.room.flush(&mut h.store, h.now);
    assert_eq!(fx.flush_in, Some(800));
    h.now += 800;
    h.flush();
    assert_eq!(h.store.reads.values().copied().collect::<Vec<_>>(), [6]);
    // Yet a welcome knows the newest position before it is written.
    h.now += 10;
    read(&mut h, 1, 9);
    h.join_keys(2, "Alice 2", Some(ALICE), None);
    assert_eq!(h.store.reads.values().copied().collect::<Vec<_>>(), [6]);
}

#[test]
fn a_failed_read_of_storage_is_an_error_not_a_guess() {
    let mut h = Harness::new(unlimited());
    h.join_keys(1, "Alice", Some(ALICE), None);
    h.say(1, "m");
    h.restart();
    h.join_keys(2, "Alice", Some(ALICE), None);
    h.clear();
    // A new instance, a store that fails: the position cannot be compared, so nothing moves.
    h.rebuild();
    h.store.fail = true;
    read(&mut h, 2, 1);
    assert_eq!(h.error_code(2), "storage_failed");
}
