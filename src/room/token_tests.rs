//! Issue 18 in the room: joins with tokens, renewal and expiry, identity (edit, react, kick and
//! ban by `sub`), one member on many devices and the socket cap.

use super::harness::{unlimited, Harness};
use super::*;
use crate::token::{mint, Keys, Mode, Settings, SKEW_S};
use serde_json::{json, Value};

const SECRET: &[u8] = b"room-test-secret-0123456789abcdef";
/// Unix seconds the tests start at.
const T0: u64 = 1_767_225_600;

fn limits(mode: Mode) -> Limits {
    Limits {
        tokens: Settings {
            mode,
            keys: Keys::new(Some(SECRET), &[]),
            max_ttl_s: 86_400,
        },
        ..unlimited()
    }
}

fn harness(mode: Mode) -> Harness {
    let mut h = Harness::new(limits(mode));
    h.now = T0 * 1000;
    h
}

fn token(sub: &str, name: &str, extra: Value) -> String {
    let mut claims = json!({"sub": sub, "name": name, "room": "lobby", "exp": T0 + 600});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    mint::hs256(SECRET, &claims)
}

/// Connects `conn` and joins with `token`; returns the one frame it got.
fn join_token(h: &mut Harness, conn: ConnId, token: &str) -> Value {
    h.connect(conn);
    h.send(conn, json!({"type":"join","token":token}));
    h.one(conn)
}

fn closes(h: &Harness, conn: ConnId) -> Vec<u16> {
    h.closed
        .iter()
        .filter(|c| c.conn == conn)
        .map(|c| c.code)
        .collect()
}

#[test]
fn a_token_names_the_member_and_marks_them_verified() {
    let mut h = harness(Mode::Optional);
    h.join(1, "Guest");
    h.clear();
    // The join's own name is ignored when a token is given.
    let w = h.join_with(
        2,
        json!({"type":"join","name":"Mallory","token": token("u1", "Alice", json!({}))}),
    );
    assert_eq!(w["name"], "Alice");
    assert_eq!(w["verified"], json!(["Alice"]));
    let join = h.one(1);
    assert_eq!(
        (join["type"].as_str(), join["verified"].as_bool()),
        (Some("join"), Some(true))
    );
    // The sub is never sent to others.
    assert!(!h.texts.values().flatten().any(|t| t.contains("u1")));
    // A guest is not marked.
    let w = h.join(3, "Bob");
    assert_eq!(w["verified"], json!(["Alice"]));
    assert!(h.one(1).get("verified").is_none());
}

#[test]
fn modes_off_optional_required() {
    let mut h = harness(Mode::Off);
    // Off: the token is ignored, the typed name counts.
    let w = h.join_with(1, json!({"type":"join","name":"Bob","token":"garbage"}));
    assert_eq!(w["name"], "Bob");
    assert!(w.get("verified").is_none());

    let mut h = harness(Mode::Required);
    h.connect(1);
    h.send(1, json!({"type":"join","name":"Bob"}));
    let e = h.one(1);
    assert_eq!(e["code"], "unauthorized");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("needs a join token"));
    // The socket stays usable: a corrected join works.
    h.send(
        1,
        json!({"type":"join","token": token("u1", "Bob", json!({}))}),
    );
    assert_eq!(h.one(1)["type"], "welcome");
    assert!(closes(&h, 1).is_empty());
}

#[test]
fn each_refusal_is_unauthorized_names_the_rule_and_keeps_the_socket() {
    let mut h = harness(Mode::Required);
    let good = token("u1", "Alice", json!({}));
    let cases = [
        (format!("{good}x"), "does not verify"),
        (
            token("u1", "Alice", json!({"room": "kitchen"})),
            "another room",
        ),
        (
            token("u1", "Alice", json!({"exp": T0 - SKEW_S - 1})),
            "expired",
        ),
        (
            token("u1", "Alice", json!({"nbf": T0 + SKEW_S + 1})),
            "not valid yet",
        ),
        ("x".repeat(5000), "over 4 KiB"),
        (
            mint::eddsa([1; 32], Some("k"), &json!({})),
            "EdDSA tokens are not accepted",
        ),
    ];
    h.connect(1);
    for (t, why) in &cases {
        h.send(1, json!({"type":"join","token": t}));
        let e = h.one(1);
        assert_eq!(e["code"], "unauthorized", "{why}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(why), "{why}: {message}");
        assert!(!message.contains(&t[..20]), "never echoes the token");
    }
    h.send(1, json!({"type":"join","token": good}));
    assert_eq!(h.one(1)["type"], "welcome");
}

#[test]
fn renewal_replaces_the_token_and_expiry_closes_with_4004() {
    let mut h = harness(Mode::Required);
    h.limits.presence_grace_ms = 10_000;
    h.rebuild();
    join_token(&mut h, 1, &token("u1", "Alice", json!({"exp": T0 + 100})));
    join_token(&mut h, 2, &token("u2", "Bob", json!({})));
    h.clear();
    assert_eq!(
        h.attachments[&1].expires_at,
        Some((T0 + 100 + SKEW_S) * 1000)
    );
    assert!(h.alarm.is_some_and(|a| a <= (T0 + 100 + SKEW_S) * 1000));

    // Another sub's token, or another room's, is refused and the old one stays.
    let theirs = token("u2", "Bob", json!({"exp": T0 + 500}));
    h.send(1, json!({"type":"auth","token": theirs}));
    let e = h.one(1);
    assert_eq!(e["code"], "unauthorized");
    assert!(e["message"].as_str().unwrap().contains("another sub"));
    let other_room = token("u1", "Alice", json!({"room": "kitchen"}));
    h.send(1, json!({"type":"auth","token": other_room}));
    assert_eq!(h.error_code(1), "unauthorized");
    assert_eq!(h.attachments[&1].expires_at, Some((T0 + 160) * 1000));

    // Renewed: a later expiry, answered with the new exp; the name in the new token is ignored.
    h.now = (T0 + 50) * 1000;
    h.send(
        1,
        json!({"type":"auth","token": token("u1", "Alicia", json!({"exp": T0 + 400}))}),
    );
    assert_eq!(h.one(1), json!({"type":"auth","exp": T0 + 400}));
    h.now = (T0 + 200) * 1000;
    h.ring(vec![(1, h.now), (2, h.now)]);
    assert!(closes(&h, 1).is_empty(), "renewed in time");

    // Not renewed again: closed with 4004 once exp + skew passes; the others see them away.
    h.now = (T0 + 400 + SKEW_S) * 1000;
    h.ring(vec![(1, h.now), (2, h.now)]);
    assert_eq!(closes(&h, 1), vec![close::TOKEN_EXPIRED]);
    assert_eq!(h.one(2)["type"], "away");
    // A rejoin with a fresh token within the grace is quiet: "back", not "join".
    h.gone(1);
    h.now += 1_000;
    let w = join_token(&mut h, 3, &token("u1", "Alice", json!({"exp": T0 + 900})));
    assert_eq!(w["type"], "welcome");
    assert_eq!(Harness::frame_types(&h.take(2)), vec!["back"]);
}

#[test]
fn auth_needs_a_verified_member() {
    let mut h = harness(Mode::Optional);
    h.connect(1);
    h.send(
        1,
        json!({"type":"auth","token": token("u1", "A", json!({}))}),
    );
    assert_eq!(h.error_code(1), "not_joined");
    h.join(2, "Guest");
    h.send(
        2,
        json!({"type":"auth","token": token("u1", "A", json!({}))}),
    );
    assert_eq!(h.error_code(2), "unauthorized");
    h.send(2, json!({"type":"auth"}));
    assert_eq!(h.error_code(2), "unauthorized");
}

#[test]
fn a_name_held_by_a_sub_cannot_be_taken() {
    let mut h = harness(Mode::Optional);
    join_token(&mut h, 1, &token("u1", "Alice", json!({})));
    // Not by a guest, even one with the same session string...
    let e = h.join_keys(2, "alice", Some(&crate::token::identity("u1")), None);
    assert_eq!(e["code"], "name_taken");
    // ...nor by another sub.
    assert_eq!(
        join_token(&mut h, 3, &token("u2", "ALICE", json!({})))["code"],
        "name_taken"
    );
    // And a sub cannot take a guest's name.
    h.join(4, "Bob");
    assert_eq!(
        join_token(&mut h, 5, &token("u3", "Bob", json!({})))["code"],
        "name_taken"
    );
}

#[test]
fn one_member_on_many_devices() {
    let mut h = harness(Mode::Required);
    h.limits.presence_grace_ms = 10_000;
    h.rebuild();
    join_token(&mut h, 1, &token("u1", "Alice", json!({})));
    join_token(&mut h, 2, &token("u2", "Bob", json!({})));
    h.clear();
    // Alice's phone: the same member, a quiet join, listed once.
    let w = join_token(&mut h, 3, &token("u1", "Alice", json!({})));
    assert_eq!(w["name"], "Alice");
    assert_eq!(w["members"], json!(["Alice", "Bob"]));
    assert!(h.take(2).is_empty(), "joined is announced once");
    assert!(h.take(1).is_empty());
    assert!(closes(&h, 1).is_empty(), "not a takeover");
    assert_eq!(h.room.member_count(), 2);
    // Both devices get every frame, their own messages included.
    h.say(2, "hi");
    assert_eq!(h.one(1)["text"], "hi");
    assert_eq!(h.one(3)["text"], "hi");
    h.send(3, json!({"type":"message","text":"from the phone"}));
    assert_eq!(h.one(1)["name"], "Alice");
    assert_eq!(h.one(3)["text"], "from the phone");
    assert_eq!(h.one(2)["text"], "from the phone");
    // A device leaving is not noticed; the last one going is, after the grace.
    h.gone(1);
    assert!(h.take(2).is_empty());
    h.say(2, "still there?");
    assert_eq!(h.one(3)["text"], "still there?");
    h.gone(3);
    assert_eq!(h.one(2)["type"], "away");
    h.now += 10_000;
    h.ring(vec![(2, h.now)]);
    let leave = h.one(2);
    assert_eq!(
        (leave["type"].as_str(), leave["name"].as_str()),
        (Some("leave"), Some("Alice"))
    );
}

#[test]
fn a_device_under_another_name_joins_the_member_it_is() {
    let mut h = harness(Mode::Required);
    join_token(&mut h, 1, &token("u1", "Alice", json!({})));
    let w = join_token(&mut h, 2, &token("u1", "Alicia", json!({})));
    assert_eq!(w["name"], "Alice", "the member keeps the name they have");
    assert_eq!(w["members"], json!(["Alice"]));
}

#[test]
fn devices_survive_a_rebuild() {
    let mut h = harness(Mode::Required);
    join_token(&mut h, 1, &token("u1", "Alice", json!({})));
    join_token(&mut h, 2, &token("u1", "Alice", json!({})));
    join_token(&mut h, 3, &token("u2", "Bob", json!({})));
    h.clear();
    h.rebuild();
    assert_eq!(h.room.member_count(), 2);
    h.say(3, "after");
    assert_eq!(h.one(1)["text"], "after");
    assert_eq!(h.one(2)["text"], "after");
    assert_eq!(
        h.attachments[&1].expires_at,
        Some((T0 + 600 + SKEW_S) * 1000)
    );
}

#[test]
fn the_socket_cap_closes_the_oldest_with_4001() {
    let mut h = harness(Mode::Required);
    h.limits.member_sockets_max = 2;
    h.rebuild();
    let t = token("u1", "Alice", json!({}));
    join_token(&mut h, 1, &t);
    h.now += 1;
    join_token(&mut h, 2, &t);
    h.now += 1;
    join_token(&mut h, 3, &t);
    assert_eq!(closes(&h, 1), vec![close::REPLACED]);
    assert!(closes(&h, 2).is_empty() && closes(&h, 3).is_empty());
    join_token(&mut h, 4, &token("u2", "Bob", json!({})));
    assert_eq!(h.room.member_count(), 2);
    h.clear();
    h.say(4, "x");
    assert_eq!(h.one(2)["text"], "x");
    assert_eq!(h.one(3)["text"], "x");
    assert!(h.take(1).is_empty());
    // A cap of 1 moves the member to the new socket, quietly.
    h.limits.member_sockets_max = 1;
    h.rebuild();
    h.clear();
    join_token(&mut h, 5, &t);
    assert_eq!(closes(&h, 2), vec![close::REPLACED]);
    assert_eq!(closes(&h, 3), vec![close::REPLACED]);
    assert!(h.take(4).is_empty());
    h.say(4, "y");
    assert_eq!(h.one(5)["text"], "y");
}

#[test]
fn guests_keep_session_takeover() {
    let mut h = harness(Mode::Optional);
    h.join_keys(1, "Bob", Some("bob-session-0123456789ab"), None);
    h.join_keys(2, "Bob", Some("bob-session-0123456789ab"), None);
    assert_eq!(closes(&h, 1), vec![close::REPLACED]);
}

#[test]
fn identity_edit_react_and_rate_by_sub() {
    let mut h = harness(Mode::Required);
    h.limits.rate_per_sec = 0.001;
    h.limits.rate_burst = 6.0;
    h.rebuild();
    join_token(&mut h, 1, &token("u1", "Alice", json!({})));
    join_token(&mut h, 2, &token("u1", "Alice", json!({})));
    assert_eq!(
        join_token(&mut h, 3, &token("u2", "Bob", json!({})))["type"],
        "welcome"
    );
    h.clear();
    let id = h.say(1, "typo")["id"].as_u64().unwrap();
    h.clear();
    // The phone edits what the laptop sent: the author is the sub.
    h.send(2, json!({"type":"edit","id":id,"text":"fixed"}));
    assert_eq!(h.one(3)["type"], "edit");
    h.clear();
    h.send(3, json!({"type":"edit","id":id,"text":"mine now"}));
    assert_eq!(h.error_code(3), "forbidden");
    // A reaction from one device is taken back from the other.
    h.send(1, json!({"type":"react","id":id,"emoji":"👍"}));
    h.clear();
    h.send(2, json!({"type":"react","id":id,"emoji":"👍"}));
    let r = h.one(3);
    assert_eq!(
        (r["type"].as_str(), r["on"].as_bool()),
        (Some("react"), Some(false)),
        "{r}"
    );
    // The rate bucket is the sub's, shared by its devices: the burst of 6 is spent by both.
    h.clear();
    let mut sent = 0;
    for conn in [1, 2, 1, 2, 1, 2] {
        h.send(conn, json!({"type":"message","text":"more"}));
        match h.take(conn).pop() {
            Some(f) if f["type"] == "message" => sent += 1,
            Some(f) => assert_eq!(f["code"], "rate_limited"),
            None => panic!("no answer"),
        }
    }
    assert!(sent < 6, "both devices drew from one bucket: {sent}");
    // Bob's bucket is his own.
    h.clear();
    assert_eq!(h.say(3, "bob")["type"], "message");
    // After an edit and a rebuild (the author kept as the sub's digest), still theirs.
    h.rebuild();
    h.clear();
    h.send(2, json!({"type":"delete","id":id}));
    assert_eq!(h.one(3)["type"], "delete");
}

#[test]
fn a_kick_closes_every_device_and_bans_the_sub() {
    let mut h = harness(Mode::Required);
    join_token(&mut h, 1, &token("owner", "Olga", json!({"owner": true})));
    join_token(&mut h, 2, &token("u1", "Alice", json!({})));
    h.connect_from(3, Some("10.0.0.9"));
    h.send(
        3,
        json!({"type":"join","token": token("u1", "Alice", json!({}))}),
    );
    h.clear();
    // Her own other device cannot kick her.
    h.send(1, json!({"type":"kick","name":"Alice"}));
    assert_eq!(closes(&h, 2), vec![close::KICKED]);
    assert_eq!(closes(&h, 3), vec![close::KICKED]);
    let kinds = Harness::frame_types(&h.take(1));
    assert_eq!(
        kinds.iter().filter(|k| *k == "leave").count(),
        1,
        "{kinds:?}"
    );
    // The sub is banned under any name, from any address, with a fresh token.
    let e = join_token(&mut h, 4, &token("u1", "Another Name", json!({})));
    assert_eq!(e["code"], "banned");
    // Another sub is not.
    assert_eq!(
        join_token(&mut h, 5, &token("u9", "Zed", json!({})))["type"],
        "welcome"
    );
}

#[test]
fn an_owner_claim_makes_the_owner_and_no_claim_does_not() {
    let mut h = harness(Mode::Required);
    let w = join_token(&mut h, 1, &token("boss", "Boss", json!({"owner": true})));
    assert_eq!(w["owner"], true);
    let w = join_token(&mut h, 2, &token("u2", "Bea", json!({})));
    assert!(w.get("owner").is_none());
    h.clear();
    h.send(2, json!({"type":"lock","locked":true}));
    assert_eq!(h.error_code(2), "forbidden");
    h.send(1, json!({"type":"kick","name":"Boss"}));
    assert_eq!(h.error_code(1), "forbidden");
}

#[test]
fn the_sub_that_made_the_room_is_its_owner() {
    let mut store = super::history::VecStore::default();
    store
        .meta
        .insert("owner_sub", crate::token::identity("maker"));
    let mut h = Harness::with_history(limits(Mode::Required), store.load(), store);
    h.now = T0 * 1000;
    let w = join_token(&mut h, 1, &token("maker", "Maker", json!({})));
    assert_eq!(w["owner"], true);
    let w = join_token(&mut h, 2, &token("other", "Other", json!({})));
    assert!(w.get("owner").is_none());
}

#[test]
fn a_member_away_returns_as_who_they_were_whatever_the_new_token_calls_them() {
    let mut h = harness(Mode::Required);
    h.limits.presence_grace_ms = 10_000;
    h.rebuild();
    join_token(&mut h, 1, &token("u1", "Alice", json!({})));
    join_token(&mut h, 2, &token("u2", "Bob", json!({})));
    h.gone(1);
    h.clear();
    let w = join_token(&mut h, 3, &token("u1", "Alicia", json!({})));
    assert_eq!(w["name"], "Alice");
    assert_eq!(w["members"], json!(["Alice", "Bob"]));
    let back = h.one(2);
    assert_eq!(
        (back["type"].as_str(), back["name"].as_str()),
        (Some("back"), Some("Alice"))
    );
    assert_eq!(back["verified"], true);
}

#[test]
fn a_crowd_s_presence_names_the_verified() {
    let mut h = harness(Mode::Optional);
    h.limits.presence_list_max = 2;
    h.rebuild();
    h.join(1, "Ann");
    h.join(2, "Bob");
    h.clear();
    h.join(3, "Cy");
    h.join(4, "Dee");
    join_token(&mut h, 5, &token("u5", "Eve", json!({})));
    let frames = h.take(1);
    let presence: Vec<&Value> = frames.iter().filter(|f| f["type"] == "presence").collect();
    assert!(!presence.is_empty(), "{frames:?}");
    let eve = presence
        .iter()
        .find(|p| p["joined"] == json!(["Eve"]))
        .unwrap();
    assert_eq!(eve["verified"], json!(["Eve"]), "{presence:?}");
    let dee = presence
        .iter()
        .find(|p| p["joined"] == json!(["Dee"]))
        .unwrap();
    assert!(dee.get("verified").is_none());
}

#[test]
fn token_checks_count_as_joins_from_the_address() {
    let mut h = harness(Mode::Required);
    h.limits.address_joins_per_min = 3;
    h.rebuild();
    h.connect_from(1, Some("10.0.0.1"));
    for _ in 0..3 {
        h.send(1, json!({"type":"join","token":"forged.token.here"}));
        assert_eq!(h.error_code(1), "unauthorized");
    }
    // The fourth signature check from that network waits.
    h.send(
        1,
        json!({"type":"join","token": token("u1", "Alice", json!({}))}),
    );
    assert_eq!(h.error_code(1), "rate_limited");
    // Another network is not affected, and a good token counts once.
    h.connect_from(2, Some("10.0.0.2"));
    h.send(
        2,
        json!({"type":"join","token": token("u2", "Bob", json!({}))}),
    );
    assert_eq!(h.one(2)["type"], "welcome");
    for _ in 0..2 {
        h.send(
            2,
            json!({"type":"auth","token": token("u2", "Bob", json!({}))}),
        );
        assert_eq!(h.one(2)["type"], "auth");
    }
    h.send(
        2,
        json!({"type":"auth","token": token("u2", "Bob", json!({}))}),
    );
    assert_eq!(h.error_code(2), "rate_limited");
}

#[test]
fn a_crowd_s_welcome_names_only_the_verified_it_lists() {
    let mut h = harness(Mode::Optional);
    h.limits.presence_list_max = 2;
    h.rebuild();
    join_token(&mut h, 1, &token("u1", "Ann", json!({})));
    for (conn, name) in (2..30).zip((0..).map(|i| format!("g{i}"))) {
        h.join(conn, &name);
    }
    let w = join_token(&mut h, 40, &token("u40", "Zed", json!({})));
    assert!(w["count"].is_number(), "{w}");
    assert_eq!(
        w["verified"],
        json!(["Zed"]),
        "Ann is not among the latest 20"
    );
}

/// Devices come and go in any order, with rebuilds between: the index of a member's sockets
/// always matches the sockets that are members, and each member is listed once.
#[test]
fn devices_index_stays_true_through_any_sequence() {
    let mut h = harness(Mode::Optional);
    h.limits.member_sockets_max = 3;
    h.limits.presence_grace_ms = 0;
    h.rebuild();
    let mut seed: u64 = 42;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut open: Vec<ConnId> = Vec::new();
    let mut most = 0;
    for step in 0..600u32 {
        let conn = step + 1;
        match next(5) {
            0 | 1 => {
                let sub = next(4);
                let t = token(&format!("s{sub}"), &format!("Sub{sub}"), json!({}));
                h.connect(conn);
                h.send(conn, json!({"type":"join","token": t}));
                open.push(conn);
            }
            2 => {
                h.connect(conn);
                h.send(conn, json!({"type":"join","name": format!("g{}", next(3))}));
                open.push(conn);
            }
            3 if !open.is_empty() => {
                let gone = open.swap_remove(next(open.len() as u64) as usize);
                h.gone(gone);
            }
            _ => h.rebuild(),
        }
        // Sockets the room closed (the cap) are gone for the harness too.
        for c in h.closed.drain(..).map(|c| c.conn).collect::<Vec<_>>() {
            if let Some(i) = open.iter().position(|o| *o == c) {
                open.swap_remove(i);
                h.gone(c);
            }
        }
        let room = &h.room;
        for (id, devices) in &room.identities {
            assert!(!devices.is_empty(), "step {step}");
            assert!(devices.len() <= 3, "the cap holds at step {step}");
            for d in devices {
                assert!(room.members.contains(d), "step {step}");
                assert_eq!(room.member(*d).and_then(|m| m.session.as_ref()), Some(id));
            }
        }
        let listed: Vec<&str> = room.member_names().collect();
        let mut unique = listed.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), listed.len(), "listed once at step {step}");
        assert_eq!(room.member_count(), listed.len(), "step {step}");
        let verified: usize = room.identities.values().map(Vec::len).sum();
        let verified_members = room
            .members
            .iter()
            .filter(|c| room.member(**c).is_some_and(|m| m.verified))
            .count();
        assert_eq!(verified, verified_members, "step {step}");
        most = most.max(room.identities.values().map(Vec::len).max().unwrap_or(0));
    }
    assert_eq!(most, 3, "members reached the cap of devices");
}

#[test]
fn an_address_ban_keeps_out_new_guests_but_never_a_verified_member_nor_an_owner_claim() {
    let mut h = harness(Mode::Optional);
    join_token(&mut h, 1, &token("boss", "Boss", json!({"owner": true})));
    // A guest at an office address is kicked: the address is banned for new guests.
    h.connect_from(2, Some("10.7.7.7"));
    h.send(2, json!({"type":"join","name":"Gus"}));
    h.clear();
    h.send(1, json!({"type":"kick","name":"Gus"}));
    h.clear();
    h.connect_from(3, Some("10.7.7.7"));
    h.send(3, json!({"type":"join","name":"Gus Two"}));
    assert_eq!(h.error_code(3), "banned", "a new guest at the address");
    // A verified member at the same address is who their sub says: not the kicked guest.
    h.connect_from(4, Some("10.7.7.7"));
    h.send(
        4,
        json!({"type":"join","token": token("u4", "Vera", json!({}))}),
    );
    assert_eq!(
        h.one(4)["type"],
        "welcome",
        "a verified member is not banned by address"
    );
    // Nor is an owner by their token's claim, even as a new seat from the banned address.
    h.gone(1);
    h.connect_from(5, Some("10.7.7.7"));
    h.send(
        5,
        json!({"type":"join","token": token("boss", "Boss", json!({"owner": true}))}),
    );
    let w = h.one(5);
    assert_eq!(
        (w["type"].as_str(), w["owner"].as_bool()),
        (Some("welcome"), Some(true))
    );
}
