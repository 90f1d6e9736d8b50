//! Property tests: arbitrary frames and event sequences never panic the room, and its invariants
//! hold after every step, across flushes, failed writes and rebuilds (hibernation or restart).

use super::harness::Harness;
use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone)]
enum Step {
    Connect(ConnId),
    Gone(ConnId),
    Frame(ConnId, String),
    Binary(ConnId),
    /// The end of a burst.
    Flush,
    /// The clock moves on and the alarm rings.
    Alarm(u64),
    /// Storage starts or stops failing.
    Storage(bool),
    /// The runtime rebuilt the object: only attachments and storage survive.
    Rebuild,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Alice",
            "alice",
            "ALICE ",
            "Bob",
            "b\u{200B}ob",
            "Zoë",
            "Zoe\u{308}",
            "名前",
            " ",
            "",
            "\u{202E}x",
            "ΟΔΟΣ",
            "οδος"
        ])
        .prop_map(String::from),
        ".{0,40}",
    ]
}

fn frame() -> impl Strategy<Value = String> {
    let session = prop::sample::select(vec!["0123456789abcdefXX", "fedcba9876543210YY", "short"]);
    prop_oneof![
        2 => (name(), prop::option::of(prop_oneof![0u64..200, Just(u64::MAX)]), prop::option::of(session))
            .prop_map(|(name, since, session)| {
                serde_json::json!({"type":"join","name":name,"since":since,"session":session})
                    .to_string()
            }),
        4 => (".{0,30}", prop::option::of(".{0,70}")).prop_map(|(text, nonce)| {
            serde_json::json!({"type":"message","text":text,"nonce":nonce}).to_string()
        }),
        1 => Just(r#"{"type":"typing"}"#.to_string()),
        1 => Just(r#"{"type":"debug_reset"}"#.to_string()),
        1 => Just(r#"{"__proto__":{"type":"join"},"type":"join","name":{"x":1}}"#.to_string()),
        1 => (1usize..3000).prop_map(|n| "[".repeat(n)),
        1 => any::<String>(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let conn = 0u32..6;
    prop_oneof![
        3 => conn.clone().prop_map(Step::Connect),
        2 => conn.clone().prop_map(Step::Gone),
        8 => (conn.clone(), frame()).prop_map(|(c, f)| Step::Frame(c, f)),
        1 => conn.prop_map(Step::Binary),
        4 => Just(Step::Flush),
        1 => (0u64..120_000).prop_map(Step::Alarm),
        1 => any::<bool>().prop_map(Step::Storage),
        1 => Just(Step::Rebuild),
    ]
}

struct World {
    h: Harness,
    /// Open sockets (as the runtime sees them).
    open: HashSet<ConnId>,
    /// The last message id each socket received.
    last_seen: BTreeMap<ConnId, u64>,
}

impl World {
    fn limits() -> Limits {
        Limits {
            max_members: 4,
            rate_burst: 5.0,
            join_timeout_ms: 5_000,
            idle_timeout_ms: 60_000,
            presence_grace_ms: 3_000,
            history_cap: 120,
            address_joins_per_min: 0,
            address_max_members: 0,
            ..Limits::default()
        }
    }

    fn step(&mut self, step: Step) {
        self.h.now += 7;
        match step {
            Step::Connect(c) if !self.open.contains(&c) && !self.h.attachments.contains_key(&c) => {
                self.open.insert(c);
                self.h.connect(c);
            }
            Step::Connect(_) => {}
            Step::Gone(c) => {
                self.open.remove(&c);
                self.h.event(Event::Gone {
                    conn: c,
                    why: "close",
                });
            }
            Step::Frame(c, text) if self.open.contains(&c) => {
                self.h.event(Event::Frame {
                    conn: c,
                    text: &text,
                });
            }
            Step::Binary(c) if self.open.contains(&c) => self.h.event(Event::Binary { conn: c }),
            Step::Frame(..) | Step::Binary(_) => {}
            Step::Flush => self.h.flush(),
            Step::Alarm(dt) => {
                self.h.now += dt;
                self.h.event(Event::Alarm { heard: vec![] });
            }
            Step::Storage(fail) => self.h.store.fail = fail,
            Step::Rebuild => {
                self.h.flush();
                let present = |room: &Room| -> Vec<String> {
                    let conns = room.member_conns().to_vec();
                    conns
                        .iter()
                        .filter_map(|c| room.member_name(*c))
                        .map(String::from)
                        .collect()
                };
                let before = present(&self.h.room);
                self.h.rebuild();
                // Away members come back from storage, unless a write failed meanwhile.
                assert_eq!(
                    before,
                    present(&self.h.room),
                    "a rebuild keeps every member, in order"
                );
            }
        }
    }

    fn check_invariants(&mut self) {
        let room = &self.h.room;
        let members = room.member_conns();
        let names: Vec<&str> = room.member_names().collect();
        let keys: HashSet<String> = names.iter().map(|n| crate::validate::name_key(n)).collect();
        assert_eq!(keys.len(), names.len(), "names are unique by their key");
        assert!(names.len() >= members.len(), "away members are members too");
        assert!(members.len() <= Self::limits().max_members);
        for conn in members {
            assert!(self.open.contains(conn), "members hold open sockets");
            let attachment = &self.h.attachments[conn];
            assert!(!attachment.closed);
            assert_eq!(
                attachment.member.as_ref().map(|m| m.name.as_str()),
                room.member_name(*conn),
                "attachments mirror membership"
            );
        }
        assert_eq!(room.stored_count(), self.h.store.messages.len() as u64);
        let stored: HashSet<u64> = self.h.store.ids().into_iter().collect();
        let ids: Vec<u64> = self.h.store.ids();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "stored ids strictly increase"
        );
        let closed: HashSet<ConnId> = self.h.closed.iter().map(|c| c.conn).collect();
        for conn in 0..6 {
            for frame in self.h.take(conn) {
                assert!(
                    !closed.contains(&conn)
                        || frame["type"] == "error"
                        || frame["type"] == "welcome",
                    "a closed socket gets nothing new: {frame}"
                );
                if frame["type"] == "message" {
                    let id = frame["id"].as_u64().unwrap_or(0);
                    // Stored before sent (unless the cap already trimmed it).
                    assert!(stored.contains(&id) || ids.first().is_some_and(|f| id < *f));
                    let last = self.last_seen.entry(conn).or_default();
                    assert!(
                        id > *last,
                        "each socket sees ids strictly increasing, no duplicate"
                    );
                    *last = id;
                }
                if frame["type"] == "welcome" {
                    if let Some(last) = frame["history"].as_array().and_then(|h| h.last()) {
                        let id = last["id"].as_u64().unwrap_or(0);
                        let seen = self.last_seen.entry(conn).or_default();
                        *seen = (*seen).max(id);
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_event_sequence_keeps_the_invariants(steps in prop::collection::vec(step(), 1..120)) {
        let limits = Limits { test_hooks: true, ..World::limits() };
        let mut world = World {
            h: Harness::new(limits),
            open: HashSet::new(),
            last_seen: BTreeMap::new(),
        };
        for step in steps {
            world.step(step);
            world.check_invariants();
        }
    }

    #[test]
    fn any_text_frame_parses_without_panicking(text in any::<String>()) {
        let _ = crate::protocol::ClientFrame::parse(&text);
    }
}
