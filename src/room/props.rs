//! Property tests: arbitrary frames and event sequences never panic the room, and its invariants
//! hold after every step, across flushes, failed writes and rebuilds (hibernation or restart).
//!
//! The frames mix messages, replies, edits, deletes, reactions and the owner's kick, lock and
//! topic, with ids and keys valid or not. After every burst the room's memory equals what storage
//! would give a rebuilt room, every member who joined without `since` sees the room as a fresh
//! welcome shows it, and a resume with `since` from an earlier burst, applied to what was shown
//! then, gives the same. A deleted message's text is in no stored row and nothing kept for resumes.
//!
//! And the same events flushed one frame at a time and in bursts (any interleaving) give the
//! same stored log, the same room, the same errors to every socket and the same views.

use super::harness::{Harness, OWNER_KEY};
use super::history::History;
use super::*;
use crate::digest::digest;
use crate::protocol::REACTION_NAMES;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// The operator's key in these rooms (`MODERATOR_KEY`).
const MODERATOR_KEY: &str = "operator-key-0123456789";

#[derive(Debug, Clone)]
enum Step {
    /// A new socket in a slot whose socket is gone (slots let sockets come and go forever).
    Connect(usize),
    Gone(usize),
    Frame(usize, String),
    Binary(usize),
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
        4 => prop::sample::select(vec![
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
        1 => ".{0,40}",
    ]
}

/// Ids of messages that exist, do not exist yet, or never will.
fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (1u64..8).prop_map(Value::from),
        2 => (0u64..40).prop_map(Value::from),
        1 => Just(Value::from(u64::MAX)),
        // The id of the last message the sending socket saw from its own member...
        3 => Just(json!(OWN)),
        // ...or from anyone.
        3 => Just(json!(SEEN)),
    ]
}

/// Stand for ids in a generated frame; `World::act` puts the real ones in.
const OWN: &str = "<own>";
const SEEN: &str = "<seen>";
/// Stand for the sending slot's own name and session (a person per slot, mostly).
const SLOT_NAME: &str = "<slot-name>";
const SLOT_SESSION: &str = "<slot-session>";

fn emoji() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["👍", "🎉", "😂", "❤️", "🔥", "👍🏽"]).prop_map(String::from),
        1 => prop::sample::select(vec!["", "x", "👍👍", " 👍", ":)"]).prop_map(String::from),
        1 => ".{0,3}",
    ]
}

/// Texts: mostly valid ones, some anything.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["hi", "hello there", " padded ", "名前", "a\nb"]).prop_map(String::from),
        1 => prop::string::string_regex(&format!(".{{0,{max}}}")).expect("a regex"),
    ]
}

fn frame() -> impl Strategy<Value = String> {
    let session = prop::sample::select(vec!["0123456789abcdefXX", "fedcba9876543210YY", "short"]);
    let owner_key = prop::sample::select(vec![OWNER_KEY, MODERATOR_KEY, "not-a-key", ""]);
    prop_oneof![
        // Joins that mostly work, so that members do things.
        8 => (
            prop_oneof![2 => Just(SLOT_NAME), 1 => prop::sample::select(vec!["Alice", "Bob", "Olive"])],
            prop::option::weighted(0.3, 0u64..40),
            prop_oneof![2 => Just(SLOT_SESSION), 1 => Just("0123456789abcdefXX")],
            prop::option::weighted(0.3, Just(OWNER_KEY)),
        )
            .prop_map(|(name, since, session, owner_key)| {
                json!({"type":"join","name":name,"since":since,"session":session,"owner_key":owner_key})
                    .to_string()
            }),
        2 => (name(), prop::option::of(prop_oneof![0u64..200, Just(u64::MAX)]), prop::option::of(session), prop::option::of(owner_key))
            .prop_map(|(name, since, session, owner_key)| {
                json!({"type":"join","name":name,"since":since,"session":session,"owner_key":owner_key})
                    .to_string()
            }),
        6 => (
            text(30),
            prop::option::weighted(0.3, prop_oneof![3 => Just("n1".to_string()), 1 => ".{0,70}"]),
            prop::option::weighted(0.3, id()),
        ).prop_map(|(text, nonce, reply_to)| {
            json!({"type":"message","text":text,"nonce":nonce,"reply_to":reply_to}).to_string()
        }),
        1 => Just(r#"{"type":"typing"}"#.to_string()),
        3 => (id(), text(20)).prop_map(|(id, text)| json!({"type":"edit","id":id,"text":text}).to_string()),
        2 => id().prop_map(|id| json!({"type":"delete","id":id}).to_string()),
        4 => (id(), emoji()).prop_map(|(id, emoji)| json!({"type":"react","id":id,"emoji":emoji}).to_string()),
        2 => name().prop_map(|name| json!({"type":"kick","name":name}).to_string()),
        1 => any::<bool>().prop_map(|locked| json!({"type":"lock","locked":locked}).to_string()),
        1 => prop_oneof![4 => text(30), 1 => Just("x".repeat(MAX_TOPIC + 1))]
            .prop_map(|text| json!({"type":"topic","text":text}).to_string()),
        1 => Just(r#"{"type":"debug_reset"}"#.to_string()),
        1 => Just(r#"{"__proto__":{"type":"join"},"type":"join","name":{"x":1}}"#.to_string()),
        1 => (1usize..3000).prop_map(|n| "[".repeat(n)),
        1 => any::<String>(),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let conn = 0usize..SLOTS;
    prop_oneof![
        5 => conn.clone().prop_map(Step::Connect),
        2 => conn.clone().prop_map(Step::Gone),
        14 => (conn.clone(), frame()).prop_map(|(c, f)| Step::Frame(c, f)),
        1 => conn.prop_map(Step::Binary),
        4 => Just(Step::Flush),
        1 => prop_oneof![6 => 0u64..5_000, 1 => 0u64..120_000].prop_map(Step::Alarm),
        // Failing storage fails every flush until it works again: mostly it works.
        1 => prop::bool::weighted(0.2).prop_map(Step::Storage),
        1 => Just(Step::Rebuild),
    ]
}

/// What a client knows of the room, built from frames the way a client builds it: messages by id
/// in their current state, the topic and the lock.
#[derive(Debug, Clone, Default, PartialEq)]
struct View {
    messages: BTreeMap<u64, Value>,
    topic: String,
    locked: bool,
}

impl View {
    /// A welcome's history (or a resume's), applied in order: its messages are in their state
    /// as of `version` (the welcome's last id).
    fn apply_all(&mut self, entries: &[Value], version: u64) {
        for entry in entries {
            self.apply_at(entry, Some(version));
        }
    }

    /// One live log entry.
    fn apply(&mut self, entry: &Value) {
        self.apply_at(entry, None);
    }

    /// One log entry. Changes are applied as facts (set, not toggle), so applying one to a
    /// message already in its current state changes nothing; a reaction's count moves only for
    /// a change newer than the message's state (`_v`, kept beside it).
    fn apply_at(&mut self, entry: &Value, version: Option<u64>) {
        let target = entry["target"].as_u64().unwrap_or(0);
        match entry["type"].as_str().unwrap_or("") {
            "message" => {
                let id = entry["id"].as_u64().unwrap_or(0);
                let mut m = entry.clone();
                m["_v"] = json!(version.unwrap_or(id));
                self.messages.insert(id, m);
            }
            "edit" => {
                if let Some(m) = self.messages.get_mut(&target) {
                    m["text"] = entry["text"].clone();
                    m["edited_at"] = entry["at"].clone();
                }
                // Replies quote the message as it reads now.
                let text = entry["text"].as_str().unwrap_or("");
                let quote: String = text.chars().take(super::message::QUOTE_CHARS).collect();
                for m in self.messages.values_mut() {
                    let quoting = m["reply_to"].as_u64() == Some(target);
                    if quoting && m.get("reply").is_some() && m["reply"]["deleted"] != true {
                        m["reply"]["text"] = json!(quote);
                    }
                }
            }
            "delete" => {
                if let Some(m) = self.messages.get_mut(&target) {
                    m["text"] = json!("");
                    m["deleted"] = json!(true);
                    if let Some(m) = m.as_object_mut() {
                        for field in ["edited_at", "reactions", "reply", "reply_to"] {
                            m.remove(field);
                        }
                    }
                }
                for m in self.messages.values_mut() {
                    if m["reply_to"].as_u64() == Some(target) && m.get("reply").is_some() {
                        m["reply"]["text"] = json!("");
                        m["reply"]["deleted"] = json!(true);
                    }
                }
            }
            "react" => {
                let Some(m) = self.messages.get_mut(&target) else {
                    return;
                };
                let (emoji, name, on) = (&entry["emoji"], &entry["name"], entry["on"] == true);
                // A change no newer than the message's state is already in it (a resume replays
                // changes onto a message sent in its current state): applying it again would
                // toggle names the summary already settled.
                if entry["id"].as_u64() <= m["_v"].as_u64() {
                    return;
                }
                let newer = true;
                let mut reactions = m["reactions"].as_array().cloned().unwrap_or_default();
                // A summary: the count, and the first names (complete when as many as the count).
                match reactions.iter().position(|r| r["emoji"] == *emoji) {
                    Some(i) => {
                        let r = &mut reactions[i];
                        let count = r["count"].as_u64().unwrap_or(0);
                        let names = r["names"].as_array_mut().unwrap();
                        let complete = names.len() as u64 == count;
                        let listed = names.contains(name);
                        names.retain(|n| n != name);
                        if on && (listed || complete) && names.len() < REACTION_NAMES {
                            names.push(name.clone());
                        }
                        // A change carries the count after it: set, never stepped.
                        let count = if newer {
                            entry["count"].as_u64().unwrap_or(0)
                        } else {
                            count
                        };
                        r["count"] = json!(count);
                        if count == 0 {
                            reactions.remove(i);
                        }
                    }
                    None if on && newer => reactions
                        .push(json!({"emoji":emoji,"count":entry["count"].clone(),"names":[name]})),
                    None => {}
                }
                match m.as_object_mut() {
                    Some(m) if reactions.is_empty() => drop(m.remove("reactions")),
                    Some(m) => drop(m.insert("reactions".into(), Value::Array(reactions))),
                    None => {}
                }
            }
            "topic" => self.topic = entry["text"].as_str().unwrap_or("").to_string(),
            "lock" => self.locked = entry["locked"] == true,
            _ => {}
        }
    }

    /// Whether this view agrees with `fresh` (a fresh welcome's) on everything `fresh` shows.
    /// Reactions are compared as sets: their order is first use, which a replay may not see.
    fn agrees_with(&self, fresh: &View) -> Result<(), String> {
        if (&self.topic, self.locked) != (&fresh.topic, fresh.locked) {
            return Err(format!(
                "room state {:?} != {:?}",
                (&self.topic, self.locked),
                (&fresh.topic, fresh.locked)
            ));
        }
        for (id, want) in &fresh.messages {
            let got = self.messages.get(id).map(canonical);
            if got.as_ref() != Some(&canonical(want)) {
                return Err(format!("message {id}: {got:?} != {want}"));
            }
        }
        Ok(())
    }
}

/// A message as compared: without the model's `_v` and the welcome's `me`; reactions as sets,
/// their names only where the view knows them all (a summary lists the first few: who comes
/// after a listed reactor who left is for the server to say).
fn canonical(message: &Value) -> Value {
    let mut m = message.clone();
    if let Some(m) = m.as_object_mut() {
        m.remove("_v");
    }
    if let Some(reactions) = m.get_mut("reactions").and_then(Value::as_array_mut) {
        for r in reactions.iter_mut() {
            if let Some(r) = r.as_object_mut() {
                r.remove("me");
            }
            let count = r["count"].as_u64().unwrap_or(0);
            if let Some(names) = r["names"].as_array_mut() {
                if names.len() as u64 == count {
                    names.sort_by_key(Value::to_string);
                } else if let Some(r) = r.as_object_mut() {
                    r.remove("names");
                }
            }
        }
        reactions.sort_by_key(|r| r["emoji"].to_string());
    }
    m
}

/// Entries as a page sends them (messages summarized).
fn values(entries: &[crate::protocol::EntryRef<'_>]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| serde_json::to_value(e.out(None)).unwrap_or_default())
        .collect()
}

/// The room as a fresh welcome shows it, and its last id.
fn fresh(room: &Room) -> (View, u64) {
    let mut view = View {
        topic: room.state.topic.clone(),
        locked: room.state.locked,
        ..View::default()
    };
    view.apply_all(&values(&room.history.since(None).0), room.last_id());
    (view, room.last_id())
}

/// Types of the frames that are entries of the room's log.
const ENTRY_TYPES: [&str; 7] = [
    "message", "edit", "delete", "react", "topic", "lock", "kick",
];

/// Sockets open at once, at most.
const SLOTS: usize = 6;

struct World {
    h: Harness,
    /// Each slot's socket, and every socket there ever was.
    slots: [ConnId; SLOTS],
    all: Vec<ConnId>,
    /// Open sockets (as the runtime sees them).
    open: HashSet<ConnId>,
    /// The last log id each socket received.
    last_seen: BTreeMap<ConnId, u64>,
    /// The `since` of each socket's last join frame.
    since: BTreeMap<ConnId, Option<u64>>,
    /// What each socket that joined without `since` knows, from its welcome and what followed.
    views: BTreeMap<ConnId, View>,
    /// Fresh welcomes taken after some flushes, with their last id: later resumes from there.
    snapshots: Vec<(u64, View)>,
    /// The last step ended a burst: memory, storage and every member agree now.
    settled: bool,
    /// Storage refused the last flush's write.
    refused: bool,
    /// The id of the last message each socket saw from its own member, and from anyone.
    own: BTreeMap<ConnId, u64>,
    seen: BTreeMap<ConnId, u64>,
    /// The errors each socket got, in order (code and nonce).
    errors: BTreeMap<ConnId, Vec<Value>>,
}

impl World {
    fn new(limits: Limits) -> Self {
        World {
            h: Harness::owned(limits),
            slots: [0, 1, 2, 3, 4, 5],
            all: Vec::new(),
            open: HashSet::new(),
            last_seen: BTreeMap::new(),
            since: BTreeMap::new(),
            views: BTreeMap::new(),
            snapshots: Vec::new(),
            settled: false,
            refused: false,
            own: BTreeMap::new(),
            seen: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }

    fn limits() -> Limits {
        Limits {
            max_members: 5,
            rate_burst: 5.0,
            join_timeout_ms: 5_000,
            idle_timeout_ms: 60_000,
            presence_grace_ms: 3_000,
            history_cap: 120,
            address_joins_per_min: 0,
            address_max_members: 0,
            edit_window_ms: 60_000,
            kick_ban_ms: 30_000,
            reactions_per_message: 3,
            reactions_per_member: 2,
            moderator_hash: Some(digest(MODERATOR_KEY)),
            ..Limits::default()
        }
    }

    fn step(&mut self, step: Step) {
        self.h.now += 7;
        self.settled = false;
        self.refused = false;
        self.act(step);
        self.close_closed();
    }

    fn act(&mut self, step: Step) {
        match step {
            Step::Connect(slot) if !self.open.contains(&self.slots[slot]) => {
                let c = self.all.iter().max().map_or(0, |c| c + 1);
                self.slots[slot] = c;
                self.all.push(c);
                self.open.insert(c);
                self.h.connect(c);
            }
            Step::Connect(_) => {}
            Step::Gone(slot) => {
                let c = self.slots[slot];
                self.open.remove(&c);
                self.views.remove(&c);
                self.h.event(Event::Gone {
                    conn: c,
                    why: "close",
                });
            }
            Step::Frame(slot, text) => {
                // A frame comes from a socket: the slot's, or a new one.
                if !self.open.contains(&self.slots[slot]) {
                    self.act(Step::Connect(slot));
                }
                let c = self.slots[slot];
                let text = self.resolve(slot, &text);
                let was_member = self.h.room.member_name(c).is_some();
                self.h.event(Event::Frame {
                    conn: c,
                    text: &text,
                });
                // The join that made it a member: its welcome comes at the flush.
                if !was_member && self.h.room.member_name(c).is_some() {
                    let frame = serde_json::from_str::<Value>(&text).unwrap_or_default();
                    self.since.insert(c, frame["since"].as_u64());
                }
            }
            Step::Binary(slot) if self.open.contains(&self.slots[slot]) => {
                self.h.event(Event::Binary {
                    conn: self.slots[slot],
                })
            }
            Step::Binary(_) => {}
            Step::Flush => {
                self.flush();
                self.settled = true;
            }
            Step::Alarm(dt) => {
                self.h.now += dt;
                self.h.event(Event::Alarm { heard: vec![] });
            }
            Step::Storage(fail) => self.h.store.fail = fail,
            Step::Rebuild => {
                self.flush();
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
                self.settled = true;
            }
        }
    }

    /// A generated frame made concrete for the slot's socket: its member's name and session,
    /// and the ids of the last messages it saw (its own, anyone's).
    fn resolve(&self, slot: usize, text: &str) -> String {
        let c = self.slots[slot];
        let seen = self.seen.get(&c).copied().unwrap_or(0);
        let own = self.own.get(&c).copied().unwrap_or(seen);
        text.replace(&format!("\"{OWN}\""), &own.to_string())
            .replace(&format!("\"{SEEN}\""), &seen.to_string())
            .replace(SLOT_NAME, ["Ann", "Ben", "Cat", "Dee", "Eli", "Fay"][slot])
            .replace(SLOT_SESSION, &format!("slot-session-{slot}-0123456789"))
    }

    /// Flushes, noting whether storage refused the burst.
    fn flush(&mut self) {
        let logs = self.h.logs.len();
        self.h.flush();
        self.refused = self.h.logs[logs..]
            .iter()
            .any(|l| l.event == "storage_failure" && l.fields["operation"] == "write");
    }

    /// The runtime closes the sockets the room closed, and tells the room.
    fn close_closed(&mut self) {
        let closed: Vec<ConnId> = self.h.closed.iter().map(|c| c.conn).collect();
        for c in closed {
            if self.open.remove(&c) {
                self.h.event(Event::Gone {
                    conn: c,
                    why: "close",
                });
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
        assert!(members.len() <= self.h.limits.max_members);
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
        let ids: Vec<u64> = self.h.store.ids();
        assert_eq!(
            room.stored_count(),
            ids.len() as u64,
            "messages and changes count"
        );
        // Each kind within its own cap: changes never push a message out.
        assert!(self.h.store.messages.len() as u64 <= self.h.limits.history_cap);
        assert!(self.h.store.changes.len() as u64 <= self.h.limits.changes_cap);
        let stored: HashSet<u64> = ids.iter().copied().collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "stored ids strictly increase"
        );
        self.check_deletes_are_for_real();
        let closed: HashSet<ConnId> = self.h.closed.iter().map(|c| c.conn).collect();
        for conn in self.all.clone() {
            if closed.contains(&conn) {
                self.views.remove(&conn);
            }
            for frame in self.h.take(conn) {
                let kind = frame["type"].as_str().unwrap_or("");
                if kind == "error" {
                    let error = json!([frame["code"], frame["nonce"], frame["target"]]);
                    self.errors.entry(conn).or_default().push(error);
                }
                assert!(
                    !closed.contains(&conn) || kind == "error" || kind == "welcome",
                    "a closed socket gets nothing new: {frame}"
                );
                if ENTRY_TYPES.contains(&kind) {
                    let id = frame["id"].as_u64().unwrap_or(0);
                    // Stored before sent (unless the cap already trimmed it).
                    assert!(
                        stored.contains(&id) || ids.first().is_some_and(|f| id < *f),
                        "{frame} was sent but not stored"
                    );
                    let last = self.last_seen.entry(conn).or_default();
                    assert!(
                        id > *last,
                        "each socket sees ids strictly increasing, no duplicate: {frame}"
                    );
                    *last = id;
                    if let Some(view) = self.views.get_mut(&conn) {
                        view.apply(&frame);
                    }
                    if kind == "message" {
                        self.seen.insert(conn, id);
                        if frame["name"].as_str() == self.h.room.member_name(conn) {
                            self.own.insert(conn, id);
                        }
                    }
                }
                if kind == "welcome" {
                    // Everything after the welcome is newer than what it holds.
                    let id = frame["last_id"].as_u64().unwrap_or(0);
                    let history = frame["history"].as_array().cloned().unwrap_or_default();
                    assert!(history
                        .iter()
                        .all(|e| e["id"].as_u64().is_some_and(|e| e <= id)));
                    let seen = self.last_seen.entry(conn).or_default();
                    *seen = (*seen).max(id);
                    // A welcome of a burst storage refused is built from memory that is
                    // ahead of storage (a known gap, see the report of issue #12's tests): the
                    // changes of that burst show in it though they were never made.
                    if self.since.get(&conn).copied().flatten().is_none() && !self.refused {
                        let mut view = View {
                            topic: frame["topic"].as_str().unwrap_or("").to_string(),
                            locked: frame["locked"] == true,
                            ..View::default()
                        };
                        view.apply_all(&history, id);
                        self.views.insert(conn, view);
                    }
                }
            }
        }
        if self.settled {
            self.check_settled();
        }
    }

    /// A deleted message's text is nowhere: not in storage (the message, edits of it, quotes of
    /// it), not in what the room keeps in memory for resumes.
    fn check_deletes_are_for_real(&self) {
        let deleted: HashSet<u64> = (self.h.store.messages.iter())
            .filter(|p| p.message.deleted)
            .map(|p| p.message.id)
            .collect();
        for p in &self.h.store.messages {
            let m = &p.message;
            if m.deleted {
                assert!(m.text.is_empty() && m.reactions.is_empty() && m.reply.is_none());
            }
            if let (Some(to), Some(quote)) = (m.reply_to, &m.reply) {
                if deleted.contains(&to) {
                    assert!(quote.text.is_empty() && quote.deleted, "{m:?}");
                }
            }
        }
        let edits = self.h.store.changes.iter().map(|c| json!(c));
        let memory = values(&self.h.room.history.since(Some(0)).0);
        for entry in edits.chain(memory) {
            let target = entry["target"].as_u64().unwrap_or(0);
            if entry["type"] == "edit" && deleted.contains(&target) {
                assert_eq!(entry["text"], "", "the edit of a deleted message: {entry}");
            }
            if entry["type"] == "message" && deleted.contains(&entry["id"].as_u64().unwrap_or(0)) {
                assert_eq!(entry["text"], "", "{entry}");
            }
        }
    }

    /// After a burst: the room's memory is what storage would give a rebuilt room; every member
    /// who joined without `since` sees what a fresh welcome shows; and a resume from any earlier
    /// flush, applied to what was shown then, gives it too.
    fn check_settled(&mut self) {
        let room = &self.h.room;
        let loaded = self.h.store.load();
        assert_eq!(
            room.state,
            RoomState::load(|key| self.h.store.meta.get(key).cloned()),
            "the room's state is stored"
        );
        let rebuilt = History::new(loaded);
        let last = room.last_id();
        assert_eq!(rebuilt.last_id(), last);
        for since in [
            None,
            Some(0),
            Some(last / 2),
            Some(last.saturating_sub(3)),
            Some(last),
        ] {
            let (mine, mine_truncated) = room.history.since(since);
            let (theirs, theirs_truncated) = rebuilt.since(since);
            assert_eq!(
                (values(&mine), mine_truncated),
                (values(&theirs), theirs_truncated),
                "memory is a cache of storage (since {since:?})"
            );
        }
        let (now, last_id) = fresh(room);
        for (conn, view) in &self.views {
            if let Err(why) = view.agrees_with(&now) {
                panic!("member {conn} does not see the room as it is: {why}");
            }
        }
        for (since, then) in &self.snapshots {
            let (entries, truncated) = room.history.since(Some(*since));
            if truncated {
                continue;
            }
            let mut resumed = then.clone();
            resumed.apply_all(&values(&entries), room.last_id());
            // The welcome's fields say the topic and the lock, as they are now: the change that
            // set them may be older than what the cap kept.
            resumed.topic = room.state.topic.clone();
            resumed.locked = room.state.locked;
            if let Err(why) = resumed.agrees_with(&now) {
                panic!("a resume since {since} does not give the room as it is: {why}");
            }
        }
        // Keep a few resume points, old and new.
        if self.snapshots.len() == 4 {
            self.snapshots.remove(1);
        }
        self.snapshots.push((last_id, now));
    }
}

/// The same events twice: `each` flushes after every step (one frame at a time), `bursts` only
/// where the steps say (any interleaving of frames in a burst). Frames are made concrete once,
/// from `bursts`' knowledge, so both rooms get the same text.
struct Pair {
    each: World,
    bursts: World,
}

impl Pair {
    fn step(&mut self, step: Step) {
        let step = match step {
            Step::Frame(slot, text) => {
                // The socket first, as `act` would: the text is the new socket's.
                if !self.bursts.open.contains(&self.bursts.slots[slot]) {
                    self.each.act(Step::Connect(slot));
                    self.bursts.act(Step::Connect(slot));
                }
                Step::Frame(slot, self.bursts.resolve(slot, &text))
            }
            step => step,
        };
        self.bursts.step(step.clone());
        self.each.step(step);
        // A flush at the same instant: the clock moves with the steps alone.
        self.each.flush();
        self.each.settled = true;
        self.each.check_invariants();
        self.bursts.check_invariants();
    }

    /// After the last burst: both rooms hold and show the same room, and every socket got the
    /// same errors and sees the room as a fresh welcome shows it (`check_settled`).
    fn finish(mut self) {
        for world in [&mut self.each, &mut self.bursts] {
            world.flush();
            world.settled = true;
            world.check_invariants();
        }
        let (each, bursts) = (&self.each, &self.bursts);
        assert_eq!(
            each.h.store.load(),
            bursts.h.store.load(),
            "the same log is stored"
        );
        assert_eq!(
            each.h.store.meta, bursts.h.store.meta,
            "the same room state"
        );
        assert_eq!(
            fresh(&each.h.room),
            fresh(&bursts.h.room),
            "a welcome shows the same"
        );
        assert_eq!(
            each.h.room.member_names().collect::<Vec<_>>(),
            bursts.h.room.member_names().collect::<Vec<_>>(),
            "the same members"
        );
        // A socket gone before its burst's flush hears nothing of that burst: compare the open.
        let errors = |w: &World| -> BTreeMap<ConnId, Vec<Value>> {
            (w.errors.iter())
                .filter(|(c, _)| w.open.contains(c))
                .map(|(c, e)| (*c, e.clone()))
                .collect()
        };
        assert_eq!(
            errors(each),
            errors(bursts),
            "every open socket got the same errors"
        );
        assert_eq!(
            each.views.keys().collect::<Vec<_>>(),
            bursts.views.keys().collect::<Vec<_>>(),
            "the same sockets follow the room"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// However frames interleave in bursts, each member ends up with what it would have had one
    /// frame at a time. Storage does not fail here (a refused burst refuses all of its frames,
    /// one at a time only one), and the cap does not trim (a frame about a message the cap is
    /// about to trim is decided before the trim in a burst, after it one at a time).
    #[test]
    fn bursts_give_each_member_what_one_frame_at_a_time_gives(
        steps in prop::collection::vec(step(), 1..150),
    ) {
        let limits = Limits { test_hooks: true, history_cap: 10_000, ..World::limits() };
        let mut pair = Pair { each: World::new(limits.clone()), bursts: World::new(limits) };
        for step in steps {
            if !matches!(step, Step::Storage(_)) {
                pair.step(step);
            }
        }
        pair.finish();
    }

    #[test]
    fn any_event_sequence_keeps_the_invariants(
        steps in prop::collection::vec(step(), 1..200),
        // Below and above a welcome's worth of entries.
        history_cap in prop::sample::select(vec![12u64, 120]),
        changes_cap in prop::sample::select(vec![5u64, 120]),
    ) {
        let limits = Limits { test_hooks: true, history_cap, changes_cap, ..World::limits() };
        let mut world = World::new(limits);
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
