//! Batching tests of the room: what a burst of events sends, and what a failed write does.

use super::harness::{unlimited, Harness, ROOM};
use super::history::VecStore;
use super::*;
use serde_json::{json, Value};

fn room() -> Harness {
    Harness::new(unlimited())
}

fn types(frames: &[serde_json::Value]) -> Vec<String> {
    Harness::frame_types(frames)
}

#[test]
fn a_lone_message_in_an_idle_room_is_a_plain_frame() {
    let mut r = room();
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.clear();
    r.say(1, "hi");
    assert!(r.texts[&2][0].starts_with('{'));
    assert_eq!(r.texts[&2].len(), 1);
}

#[test]
fn a_burst_goes_out_as_one_batch_per_member_in_one_order() {
    let mut r = room();
    for conn in 1..=5 {
        r.join(conn, &format!("m{conn}"));
    }
    r.clear();
    for i in 0..3 {
        for conn in [2, 4, 5] {
            r.queue(
                conn,
                &json!({"type":"message","text":format!("{conn}-{i}")}),
            );
        }
    }
    r.queue(3, &json!({"type":"typing"}));
    r.flush();
    let expected: Vec<u64> = (1..=9).collect();
    for conn in 1..=5 {
        assert_eq!(r.texts[&conn].len(), 1, "one send for {conn}");
        assert!(r.texts[&conn][0].starts_with('['));
        let frames = r.take(conn);
        let ids: Vec<u64> = frames.iter().filter_map(|f| f["id"].as_u64()).collect();
        assert_eq!(ids, expected, "every member sees the same order");
        let typing = frames.iter().filter(|f| f["type"] == "typing").count();
        assert_eq!(
            typing,
            usize::from(conn != 3),
            "the typist does not hear itself"
        );
    }
    // One write for the burst.
    assert_eq!(r.store.messages.len(), 9);
}

#[test]
fn a_failed_write_sends_nothing_of_the_burst_and_tells_every_sender() {
    let mut r = room();
    for conn in 1..=3 {
        r.join(conn, &format!("m{conn}"));
    }
    r.say(1, "before");
    r.clear();
    r.store.fail = true;
    r.queue(1, &json!({"type":"message","text":"a","nonce":"a1"}));
    r.queue(2, &json!({"type":"message","text":"b","nonce":"b1"}));
    r.queue(2, &json!({"type":"message","text":"c"}));
    r.queue(1, &json!({"type":"typing"}));
    r.flush();
    let errors = |frames: Vec<serde_json::Value>| -> Vec<(String, Option<String>)> {
        frames
            .into_iter()
            .filter(|f| f["type"] == "error")
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["nonce"].as_str().map(String::from),
                )
            })
            .collect()
    };
    let to1 = r.take(1);
    assert!(to1.iter().all(|f| f["type"] != "message"));
    assert_eq!(
        errors(to1),
        vec![("storage_failed".to_string(), Some("a1".to_string()))]
    );
    let to2 = r.take(2);
    assert_eq!(types(&to2), vec!["error", "error", "typing"]);
    assert_eq!(errors(to2)[0].1.as_deref(), Some("b1"));
    assert_eq!(types(&r.take(3)), vec!["typing"]);
    assert!(r.logs.iter().any(|l| l.event == "storage_failure"));
    // Nothing stored was lost, and the room goes on once storage works again.
    r.store.fail = false;
    let m = r.say(3, "after");
    assert!(m["id"].as_u64().unwrap() > 1);
    let texts: Vec<&str> = r
        .store
        .messages
        .iter()
        .map(|p| p.message.text.as_str())
        .collect();
    assert_eq!(texts, vec!["before", "after"]);
    let w = r.join(4, "late");
    assert_eq!(w["history"].as_array().unwrap().len(), 2);
}

#[test]
fn joiners_of_a_burst_get_the_room_before_it_then_everything_of_it() {
    let mut r = room();
    r.join(1, "Alice");
    r.clear();
    for conn in 2..=4 {
        r.connect(conn);
        r.queue(conn, &json!({"type":"join","name":format!("j{conn}")}));
    }
    r.queue(1, &json!({"type":"message","text":"hello"}));
    r.queue(3, &json!({"type":"message","text":"me too","nonce":"x"}));
    r.flush();
    // Alice, already here, hears each join and both messages, in order.
    assert_eq!(
        types(&r.take(1)),
        vec!["join", "join", "join", "message", "message"]
    );
    for conn in 2..=4 {
        let frames = r.take(conn);
        // No join twice (the welcome's members hold the burst's presence), but both messages
        // after the welcome, j3's own included.
        assert_eq!(
            types(&frames),
            vec!["welcome", "message", "message"],
            "{conn}"
        );
        assert_eq!(frames[0]["members"], json!(["Alice", "j2", "j3", "j4"]));
        assert_eq!(frames[0]["history"].as_array().unwrap().len(), 0);
        assert_eq!(frames[0]["last_id"], 0);
        assert_eq!(frames[2]["nonce"], "x");
    }
}

#[test]
fn a_message_sent_right_behind_the_join_reaches_its_sender_after_the_welcome() {
    let mut r = room();
    r.join(1, "Alice");
    r.say(1, "before");
    // Alice's message and reaction before Carol's join in the same burst, then Carol's join and
    // her own message right behind it, as a bot that does not wait would send it.
    r.connect(2);
    r.clear();
    r.queue(1, &json!({"type":"message","text":"early"}));
    r.queue(1, &json!({"type":"react","id":1,"emoji":"👍"}));
    r.queue(
        2,
        &json!({"type":"join","name":"Carol","session":"carol-session-0001"}),
    );
    r.queue(2, &json!({"type":"message","text":"hi all","nonce":"c1"}));
    r.flush();
    let frames = r.take(2);
    assert_eq!(
        types(&frames),
        vec!["welcome", "message", "react", "message"],
        "{frames:?}"
    );
    let w = &frames[0];
    // The room before the burst: only the message stored before it, and its id as last_id.
    let history = w["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["id"], 1);
    assert_eq!(w["last_id"], 1);
    assert_eq!(frames[1]["text"], "early");
    assert_eq!(frames[3]["nonce"], "c1");
    assert_eq!(frames[3]["name"], "Carol");
    // Every id of the burst is above the welcome's last_id: a resume from it misses nothing.
    for f in &frames[1..] {
        assert!(f["id"].as_u64().unwrap() > 1);
    }
    // Alice hears the same entries, and Carol's join before Carol's message.
    assert_eq!(
        types(&r.take(1)),
        vec!["message", "react", "join", "message"]
    );
    // A resume in the same burst as a message: the welcome from `since`, then the message.
    r.connect(3);
    r.queue(3, &json!({"type":"join","name":"Dan","since":0}));
    r.queue(1, &json!({"type":"message","text":"later"}));
    r.flush();
    let frames = r.take(3);
    assert_eq!(types(&frames), vec!["welcome", "message"]);
    assert_eq!(frames[0]["last_id"], 4);
    let history = frames[0]["history"].as_array().unwrap();
    assert_eq!(history.len(), 4, "every entry up to 4: {history:?}");
    assert_eq!(frames[1]["id"], 5);
}

#[test]
fn a_member_who_leaves_mid_burst_gets_nothing_more() {
    let mut r = room();
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.clear();
    r.queue(1, &json!({"type":"message","text":"one"}));
    r.event(Event::Gone {
        conn: 2,
        why: "close",
    });
    r.queue(1, &json!({"type":"message","text":"two"}));
    r.flush();
    assert!(r.take(2).is_empty());
    assert_eq!(types(&r.take(1)), vec!["message", "leave", "message"]);
}

#[test]
fn storage_in_tests_is_a_vec() {
    let mut store = VecStore::default();
    let mut r = Room::new(unlimited(), ROOM, StoredHistory::default());
    assert_eq!(r.flush(&mut store, 0), Effects::default());
}

#[test]
fn private_rooms_are_logged_by_a_tag_not_their_id() {
    let id = "a".repeat(64);
    let tag = log_tag(&id);
    assert!(tag.starts_with("private-") && !tag.contains(&id[..16]));
    assert_eq!(tag.len(), "private-".len() + 8);
    assert_eq!(log_tag("lobby"), "lobby");
}

#[test]
fn a_crowd_arriving_costs_each_member_one_batch_not_one_send_per_arrival() {
    let mut r = Harness::new(Limits {
        presence_batch_ms: 100,
        ..unlimited()
    });
    r.join(1, "Alice");
    r.clear();
    // Ten arrivals, each in its own burst, within the batching window: each joiner gets its
    // welcome at once, Alice hears of them together.
    for conn in 2..=11 {
        r.now += 5;
        let w = r.join(conn, &format!("j{conn}"));
        assert_eq!(w["members"].as_array().unwrap().len() as u32, conn);
    }
    // The first arrival in a quiet room is told at once; the rest wait for the window.
    assert_eq!(r.take(1).len(), 1);
    r.now = 1_105;
    r.flush();
    assert_eq!(r.texts[&1].len(), 2, "two sends for ten joins");
    assert_eq!(r.take(1).len(), 9);
    // Each joiner hears only the joins after its own welcome.
    for conn in 2..=11u32 {
        let heard = r.take(conn);
        assert_eq!(heard.len() as u32, 11 - conn, "{conn}: {heard:?}");
    }
}

#[test]
fn a_crowd_arriving_is_logged_once_per_presence_batch_not_once_per_flush() {
    let mut r = Harness::new(Limits {
        presence_batch_ms: 100,
        ..unlimited()
    });
    let presence_lines = |r: &Harness| -> Vec<Value> {
        r.logs
            .iter()
            .filter(|l| l.event == "presence")
            .map(|l| l.fields.clone())
            .collect()
    };
    r.join(1, "Alice");
    assert_eq!(
        presence_lines(&r).len(),
        1,
        "a join in a quiet room is logged at once"
    );
    r.logs.clear();
    // Ten arrivals, a flush each, within the window: their presence waits, and so does the line.
    for conn in 2..=11 {
        r.now += 5;
        r.join(conn, &format!("j{conn}"));
    }
    let lines = presence_lines(&r);
    assert!(lines.len() <= 1, "{lines:?}");
    r.now = 1_105;
    r.flush();
    let lines = presence_lines(&r);
    let joined: u64 = lines.iter().map(|l| l["joined"].as_u64().unwrap()).sum();
    assert_eq!(joined, 10, "every join counted once: {lines:?}");
    assert!(lines.len() <= 2, "{lines:?}");
    assert_eq!(lines.last().unwrap()["members"], 11);
}

#[test]
fn a_message_never_waits_and_takes_the_held_presence_with_it_in_order() {
    let mut r = Harness::new(Limits {
        presence_batch_ms: 100,
        ..unlimited()
    });
    r.join(1, "Alice");
    r.join(2, "Bob");
    r.clear();
    r.now += 10;
    r.join(3, "Carol");
    assert!(r.take(1).is_empty());
    r.now += 10;
    r.send(3, json!({"type":"message","text":"hi"}));
    let to_alice = r.take(1);
    assert_eq!(types(&to_alice), vec!["join", "message"], "{to_alice:?}");
    assert_eq!(types(&r.take(3)), vec!["message"]);
    // An idle room sends a lone join at once.
    r.now += 1_000;
    r.join(4, "Dan");
    assert_eq!(r.one(1)["type"], "join");
}

/// A refused write loses the burst's leave and the join that took the seat: the rebuilt room
/// (storage, then the sockets' attachments) must not bring back the member who left as away,
/// or their return puts the room one over MAX_MEMBERS (a seed of the property test, shrunk).
#[test]
fn a_member_who_left_is_not_brought_back_over_max_members_by_a_reload() {
    let limits = Limits {
        max_members: 2,
        presence_grace_ms: 3_000,
        ..unlimited()
    };
    let mut r = Harness::new(limits);
    let bob = json!({"type":"join","name":"Bob","session":"0123456789abcdefXX"});
    r.join(1, "Ann");
    r.join_with(2, bob.clone());
    r.store.fail = true;
    // Bob's socket drops: he is away (the write fails: storage still has him here).
    r.gone(2);
    // His grace ends and Cat takes the seat in the same burst; that write is refused too.
    r.now += 3_001;
    r.event(Event::Alarm { heard: vec![] });
    r.connect(3);
    r.queue(3, &json!({"type":"join","name":"Cat"}));
    r.flush();
    assert!(
        r.room.member_names().count() <= 2,
        "{:?}",
        r.room.member_names().collect::<Vec<_>>()
    );
    // Bob comes back: the room is full, not one over.
    r.store.fail = false;
    r.clear();
    r.connect(4);
    r.send(4, bob);
    assert!(r.room.member_conns().len() <= 2);
    assert!(r.room.member_names().count() <= 2);
    assert_eq!(r.error_code(4), "room_full");
}

mod presence_log_props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        /// Socket `slot` connects and joins in a burst of its own (if its slot is free).
        Join(u8),
        /// Socket `slot` goes away (if it is a member).
        Leave(u8),
        /// A member sends a message (presence never holds a message back).
        Say(u8),
        /// The clock moves on this many ms.
        Wait(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (0u8..12).prop_map(Step::Join),
            2 => (0u8..12).prop_map(Step::Leave),
            1 => (0u8..12).prop_map(Step::Say),
            2 => (0u64..150).prop_map(Step::Wait),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// However joins, leaves, messages and time interleave, the `presence` lines count every
        /// join and every leave exactly once, once the window has passed; no line is empty; and
        /// each line's `members` is the room's size when it was written.
        #[test]
        fn presence_lines_count_every_join_and_leave_once(
            steps in prop::collection::vec(step(), 1..60)
        ) {
            let mut r = Harness::new(Limits {
                presence_batch_ms: 100,
                ..unlimited()
            });
            let mut conn_of: [Option<ConnId>; 12] = [None; 12];
            let mut next: ConnId = 1;
            let (mut joins, mut leaves) = (0u64, 0u64);
            for s in steps {
                match s {
                    Step::Join(slot) if conn_of[slot as usize].is_none() => {
                        r.join(next, &format!("p{slot}"));
                        conn_of[slot as usize] = Some(next);
                        next += 1;
                        joins += 1;
                    }
                    Step::Leave(slot) => {
                        if let Some(conn) = conn_of[slot as usize].take() {
                            r.gone(conn);
                            leaves += 1;
                        }
                    }
                    Step::Say(slot) => {
                        if let Some(conn) = conn_of[slot as usize] {
                            r.say(conn, "hi");
                        }
                    }
                    Step::Wait(ms) => {
                        r.now += ms;
                        r.flush();
                    }
                    Step::Join(_) => {}
                }
            }
            r.now += 101;
            r.flush();
            let lines: Vec<&Value> = r
                .logs
                .iter()
                .filter(|l| l.event == "presence")
                .map(|l| &l.fields)
                .collect();
            let sum = |k: &str| lines.iter().map(|l| l[k].as_u64().unwrap_or(0)).sum::<u64>();
            prop_assert_eq!(sum("joined"), joins, "{:?}", lines);
            prop_assert_eq!(sum("left"), leaves, "{:?}", lines);
            for l in &lines {
                prop_assert!(l["joined"].as_u64().unwrap_or(0) + l["left"].as_u64().unwrap_or(0) > 0);
            }
            if let Some(last) = lines.last() {
                prop_assert_eq!(last["members"].as_u64(), Some(r.room.member_conns().len() as u64));
            }
        }
    }
}
