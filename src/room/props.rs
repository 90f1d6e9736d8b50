//! Property tests: arbitrary frames and event sequences never panic the room, and its invariants
//! hold after every step, including across a rebuild from attachments (hibernation or restart).

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone)]
enum Event {
    Connect(ConnId),
    Disconnect(ConnId),
    Frame(ConnId, String),
    Binary(ConnId),
    /// The clock moves on and the join-timeout alarm runs.
    Alarm(u64),
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
            "名前",
            " ",
            "",
            "\u{202E}x"
        ])
        .prop_map(String::from),
        ".{0,40}",
    ]
}

fn frame() -> impl Strategy<Value = String> {
    let session = prop::sample::select(vec!["0123456789abcdefXX", "fedcba9876543210YY", "short"]);
    prop_oneof![
        (
            name(),
            prop::option::of(0u64..200),
            prop::option::of(session)
        )
            .prop_map(|(name, since, session)| {
                serde_json::json!({"type":"join","name":name,"since":since,"session":session})
                    .to_string()
            }),
        (".{0,30}", prop::option::of(".{0,70}")).prop_map(|(text, nonce)| {
            serde_json::json!({"type":"message","text":text,"nonce":nonce}).to_string()
        }),
        Just(r#"{"type":"typing"}"#.to_string()),
        Just(r#"{"type":"debug_reset"}"#.to_string()),
        Just(r#"{"__proto__":{"type":"join"},"type":"join","name":{"x":1}}"#.to_string()),
        (1usize..3000).prop_map(|n| "[".repeat(n)),
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    let conn = 0u32..6;
    prop_oneof![
        3 => conn.clone().prop_map(Event::Connect),
        2 => conn.clone().prop_map(Event::Disconnect),
        8 => (conn.clone(), frame()).prop_map(|(c, f)| Event::Frame(c, f)),
        1 => conn.prop_map(Event::Binary),
        1 => (0u64..20_000).prop_map(Event::Alarm),
        1 => Just(Event::Rebuild),
    ]
}

/// What the runtime would hold: open sockets with their attachments, and the stored history.
struct World {
    room: Room,
    sockets: BTreeMap<ConnId, Attachment>,
    stored: Vec<ChatMessage>,
    last_seen_id: u64,
    now: u64,
}

impl World {
    fn limits() -> Limits {
        Limits {
            max_members: 4,
            rate_burst: 5.0,
            join_timeout_ms: 5_000,
            history_cap: 120,
            ..Limits::default()
        }
    }

    fn step(&mut self, event: Event) {
        self.now += 7;
        match event {
            Event::Connect(c) => {
                if !self.sockets.contains_key(&c) {
                    let attachment = self.room.connect(c, self.now);
                    self.sockets.insert(c, attachment);
                }
            }
            Event::Disconnect(c) => {
                self.sockets.remove(&c);
                self.room.disconnect(c, self.now);
            }
            Event::Frame(c, text) if self.sockets.contains_key(&c) => {
                let outcome = self.room.handle(c, &text, "room", self.now);
                self.carry_out(c, outcome);
            }
            Event::Binary(c) if self.sockets.contains_key(&c) => {
                assert!(matches!(Room::binary_frame(), Outcome::Reject(_)));
            }
            Event::Frame(..) | Event::Binary(_) => {}
            Event::Alarm(dt) => {
                self.now += dt;
                for c in self.room.join_expired(self.now) {
                    assert!(
                        self.sockets.get(&c).is_some_and(|a| a.member.is_none()),
                        "only unjoined sockets expire"
                    );
                    self.sockets.remove(&c);
                    self.room.disconnect(c, self.now);
                }
            }
            Event::Rebuild => self.rebuild(),
        }
    }

    fn carry_out(&mut self, conn: ConnId, outcome: Outcome) {
        match outcome {
            Outcome::Joined(j) => {
                serde_json::from_str::<serde_json::Value>(&j.welcome).expect("welcome is JSON");
                self.sockets.insert(conn, j.attachment);
                if let Some((old, attachment)) = j.replaced {
                    assert_ne!(old, conn);
                    assert!(j.announce.is_none(), "a takeover is quiet");
                    // The adapter persists the old socket's attachment, closes it, and forgets it.
                    self.sockets.insert(old, attachment);
                    self.sockets.remove(&old);
                    assert!(
                        self.room.disconnect(old, self.now).is_none(),
                        "a replaced socket leaves silently"
                    );
                }
            }
            Outcome::Message { message, frame } => {
                assert!(message.id > self.last_seen_id, "ids strictly increase");
                self.last_seen_id = message.id;
                serde_json::from_str::<serde_json::Value>(&frame).expect("message is JSON");
                self.stored.push(message.clone());
                let excess = self.room.message_stored(message);
                self.stored.drain(..excess as usize);
            }
            Outcome::DebugReset { .. } => self.rebuild(),
            Outcome::Reject(e) => assert!(e.message.chars().count() <= 161),
            Outcome::Typing { .. } | Outcome::Ignored => {}
        }
    }

    fn rebuild(&mut self) {
        let mut recent: Vec<ChatMessage> = self
            .stored
            .iter()
            .rev()
            .take(WELCOME_HISTORY)
            .cloned()
            .collect();
        recent.reverse();
        let history = StoredHistory {
            last_id: self
                .stored
                .last()
                .map_or(0, |m| m.id)
                .max(self.room.last_id()),
            stored: self.stored.len() as u64,
            recent,
        };
        let before: Vec<String> = self.room.member_names().map(String::from).collect();
        self.room = Room::new(Self::limits(), history);
        for attachment in self.sockets.values() {
            self.room.restore(attachment);
        }
        self.room.finish_restore();
        let after: Vec<String> = self.room.member_names().map(String::from).collect();
        assert_eq!(before, after, "a rebuild keeps every member, in order");
    }

    fn check_invariants(&self) {
        let members = self.room.member_conns();
        let keys: HashSet<String> = self.room.member_names().map(validate::name_key).collect();
        assert_eq!(
            keys.len(),
            members.len(),
            "names are unique case-insensitively"
        );
        assert!(members.len() <= Self::limits().max_members);
        let joined: Vec<ConnId> = self
            .sockets
            .iter()
            .filter(|(_, a)| a.member.is_some())
            .map(|(c, _)| *c)
            .collect();
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            sorted, joined,
            "members are exactly the joined open sockets"
        );
        assert_eq!(self.room.connection_count(), self.sockets.len());
        assert_eq!(self.room.stored_count(), self.stored.len() as u64);
        for (conn, attachment) in &self.sockets {
            assert_eq!(
                self.room.member_name(*conn),
                attachment.member.as_ref().map(|m| m.name.as_str()),
                "attachments mirror membership"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_event_sequence_keeps_the_invariants(events in prop::collection::vec(event(), 1..120)) {
        let limits = Limits { test_hooks: true, ..World::limits() };
        let mut world = World {
            room: Room::new(limits, StoredHistory::default()),
            sockets: BTreeMap::new(),
            stored: Vec::new(),
            last_seen_id: 0,
            now: 1_000,
        };
        for event in events {
            world.step(event);
            world.check_invariants();
        }
    }

    #[test]
    fn any_text_frame_parses_without_panicking(text in any::<String>()) {
        let _ = crate::protocol::ClientFrame::parse(&text);
    }
}
