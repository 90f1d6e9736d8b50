//! The room's owner: `POST /api/rooms` hands out `owner_key` once; joining with it (or with the
//! operator's MODERATOR_KEY) makes a member owner: delete any message, kick (close 4003 and a
//! ban on the name and the address for KICK_BAN_MS), lock, topic. Everyone else: forbidden.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

use super::*;

#[tokio::test]
async fn creating_a_room_hands_out_its_owner_key_once() {
    let s = server();
    let (room, key) = create_room(s).await;
    assert!(
        key.len() >= 32 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "owner_key {key:?}"
    );
    let (room2, key2) = create_room(s).await;
    assert_ne!((&room, &key), (&room2, &key2));
    // Another room's key is not this room's.
    let (mut x, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Mallory","owner_key":key2}),
        &[],
    )
    .await;
    assert!(e["type"] == "error" && e["code"] == "forbidden", "{e}");
    // The socket stays usable: a plain join works, and is no owner.
    let w = x.join("Mallory").await;
    assert!(w.get("owner").is_none() || w["owner"] == false, "{w}");

    let (mut o, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    assert_eq!(w["owner"], true, "{w}");
    x.expect("join").await;
    o.say("owned").await;
    // The key is nowhere anyone can read it, nor in clear in storage.
    for path in ["stats", "messages", "messages?after=0"] {
        let r = http("GET", s.url(&format!("/api/rooms/{room}/{path}"))).await;
        assert_eq!(r.status, 200);
        assert!(!r.body.contains(&key), "{path}: {}", r.body);
    }
    assert!(!w.to_string().contains(&key));
    for f in files_under(&s.persist) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&key),
            "owner key in clear in {}",
            f.display()
        );
    }
}

/// Reads `c` until its close frame, returning the code (frames before it are ignored).
async fn close_code(c: &mut Client) -> Option<u16> {
    loop {
        match c.recv().await {
            Frame::Text(_) => continue,
            Frame::Close(code, _) => return code,
            other => panic!("expected a close frame, got {}", other.describe()),
        }
    }
}

async fn ban_check(s: &Server, room: &str, name: &str, ip: &str) -> (Client, Value) {
    try_enter(
        s,
        room,
        json!({"type":"join","name":name,"session":session("ban")}),
        &[("CF-Connecting-IP", ip)],
    )
    .await
}

#[tokio::test]
async fn a_kick_closes_with_4003_and_bans_the_name_and_the_address_for_a_while() {
    let s = short();
    let (room, key) = create_room(s).await;
    let (mut o, _) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    let (mut v, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Victor","session":session("v")}),
        &[("CF-Connecting-IP", "203.0.113.77")],
    )
    .await;
    let (mut w, _) = join(s, &room, "Wendy").await;
    o.expect("join").await;
    o.expect("join").await;
    v.expect("join").await;

    // Errors first: nobody of that name, yourself, not the owner.
    refused(&mut o, json!({"type":"kick","name":"Nobody"}), "not_found").await;
    refused(&mut o, json!({"type":"kick","name":"olga"}), "forbidden").await;
    refused(&mut w, json!({"type":"kick","name":"Victor"}), "forbidden").await;

    let kicked_at = Instant::now();
    o.send_json(&json!({"type":"kick","name":"victor"})).await;
    assert_eq!(close_code(&mut v).await, Some(4003));
    for c in [&mut o, &mut w] {
        let k = c.expect("kick").await;
        assert_eq!(
            (&k["target"], &k["name"]),
            (&json!("Victor"), &json!("Olga")),
            "{k}"
        );
        assert_recent(&k, "at");
        assert_leave_frame(&c.expect("leave").await, "Victor");
    }
    wait_stats(s, &room, "2 members", |v| v["members"] == 2).await;

    // The ban sticks: the name with a new session, any name from the same address.
    for (name, ip) in [
        ("Victor", "203.0.113.77"),
        ("Victor", "203.0.113.78"),
        ("Vicky", "203.0.113.77"),
    ] {
        let (mut c, e) = ban_check(s, &room, name, ip).await;
        assert!(
            e["type"] == "error" && e["code"] == "banned",
            "{name} from {ip}: {e}"
        );
        let left = e["retry_after_ms"]
            .as_u64()
            .unwrap_or_else(|| panic!("{e}"));
        assert!(left <= KICK_BAN_MS, "{e}");
        c.expect_silence(Duration::from_millis(200)).await;
    }
    // Someone else from elsewhere is welcome.
    let (_x, wx) = ban_check(s, &room, "Xavier", "203.0.113.90").await;
    assert_eq!(wx["type"], "welcome", "{wx}");
    assert!(!members(&wx).contains(&"Victor".to_string()));

    // After KICK_BAN_MS the name and the address may come back.
    let wait = Duration::from_millis(KICK_BAN_MS + 300).saturating_sub(kicked_at.elapsed());
    tokio::time::sleep(wait).await;
    let (_v, wv) = ban_check(s, &room, "Victor", "203.0.113.77").await;
    assert_eq!(wv["type"], "welcome", "after the ban: {wv}");
}

#[tokio::test]
async fn the_owner_locks_and_unlocks_and_sets_the_topic() {
    let s = server();
    let (room, key) = create_room(s).await;
    let (mut o, w, _) = join_session(s, &room, "Olga").await;
    assert!(w.get("owner").is_none(), "no key, no owner: {w}");
    // Not the owner: forbidden, for every moderation frame.
    for f in [
        json!({"type":"lock","locked":true}),
        json!({"type":"topic","text":"mine now"}),
        json!({"type":"kick","name":"Olga"}),
    ] {
        refused(&mut o, f, "forbidden").await;
    }
    assert_eq!(o.close(Some(1000)).await, Some(1000));
    let (mut o, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    assert_eq!(
        (&w["owner"], &w["locked"], &w["topic"]),
        (&json!(true), &json!(false), &json!(""))
    );
    let (mut m, _) = join(s, &room, "Mia").await;
    o.expect("join").await;

    let t = change(
        &mut o,
        &mut [&mut m],
        json!({"type":"topic","text":"  Friday: release  "}),
        "topic",
    )
    .await;
    assert_eq!(
        (&t["text"], &t["name"]),
        (&json!("Friday: release"), &json!("Olga")),
        "{t}"
    );
    for bad in ["x".repeat(201), "line\nbreak".to_string()] {
        refused(
            &mut o,
            json!({"type":"topic","text":bad}),
            "invalid_message",
        )
        .await;
    }
    let l = change(
        &mut o,
        &mut [&mut m],
        json!({"type":"lock","locked":true}),
        "lock",
    )
    .await;
    assert_eq!(
        (&l["locked"], &l["name"]),
        (&json!(true), &json!("Olga")),
        "{l}"
    );

    // Locked: a new member cannot join; the refused socket may try again later.
    let (mut late, e) = try_enter(s, &room, json!({"type":"join","name":"Late"}), &[]).await;
    assert!(e["type"] == "error" && e["code"] == "room_locked", "{e}");
    // The owner gets in, and sees the room as it is.
    let (_o2, w2) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga2","owner_key":key}),
    )
    .await;
    assert_eq!(
        (&w2["locked"], &w2["topic"], &w2["owner"]),
        (&json!(true), &json!("Friday: release"), &json!(true))
    );
    let l = change(
        &mut o,
        &mut [&mut m],
        json!({"type":"lock","locked":false}),
        "lock",
    )
    .await;
    assert_eq!(l["locked"], false);
    let w = late.join("Late").await;
    assert_eq!(
        (&w["locked"], &w["topic"]),
        (&json!(false), &json!("Friday: release")),
        "{w}"
    );
    assert!(w.get("owner").is_none(), "{w}");
    // An empty topic clears it.
    let t = change(
        &mut o,
        &mut [&mut m],
        json!({"type":"topic","text":""}),
        "topic",
    )
    .await;
    assert_eq!(t["text"], "");

    // The log has the moderation lines under the room's tag (never its id), and never the key.
    let tag = chatterly::room::log_tag(&room);
    assert!(tag.starts_with("private-"), "{tag}");
    let lines = log_lines(s, &tag, &["lock", "topic"], 4).await;
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events, ["topic", "lock", "lock", "topic"], "{lines:?}");
    assert_eq!(lines[1]["locked"], true, "{lines:?}");
    let log = s.log();
    assert!(!log.contains(&key), "the owner key is in the log");
    assert!(
        !log.contains("Friday: release"),
        "the topic is the owner's words, not a log line"
    );
    let leaks: Vec<&str> = log
        .lines()
        .filter(|l| !l.trim_start().starts_with("[wrangler") && l.contains(&room[..16]))
        .collect();
    assert!(
        leaks.is_empty(),
        "the Worker logged the private room's id: {leaks:?}"
    );
}

#[tokio::test]
async fn the_owner_deletes_anyones_message() {
    let s = server();
    let (room, key) = create_room(s).await;
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let (mut o, _) = enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","owner_key":key}),
    )
    .await;
    a.expect("join").await;
    let m = a.say("something rude").await;
    o.expect("message").await;
    let d = change(
        &mut o,
        &mut [&mut a],
        json!({"type":"delete","id":id_of(&m)}),
        "delete",
    )
    .await;
    assert_eq!((&d["target"], &d["name"]), (&m["id"], &json!("Olga")));
    // A member may not delete someone else's, not even the owner's.
    let om = o.say("owner's words").await;
    a.expect("message").await;
    refused(
        &mut a,
        json!({"type":"delete","id":id_of(&om)}),
        "forbidden",
    )
    .await;
    // The owner edits only their own messages.
    let m2 = a.say("second").await;
    o.expect("message").await;
    refused(
        &mut o,
        json!({"type":"edit","id":id_of(&m2),"text":"x"}),
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_moderator_key_owns_every_room_and_is_never_logged() {
    let s = server();
    let room = uniq("public-mod");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let m = a.say("hello lobby").await;
    // A wrong key: forbidden, and the socket may join without it.
    let (mut x, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Mod","owner_key":"not-the-key"}),
        &[],
    )
    .await;
    assert!(e["type"] == "error" && e["code"] == "forbidden", "{e}");
    x.join("Plain").await;
    a.expect("join").await;
    refused(&mut x, json!({"type":"lock","locked":true}), "forbidden").await;

    let (mut md, w) = enter(
        s,
        &room,
        json!({"type":"join","name":"Mod","owner_key":MOD_KEY}),
    )
    .await;
    assert_eq!(w["owner"], true, "{w}");
    a.expect("join").await;
    x.expect("join").await;
    change(
        &mut md,
        &mut [&mut a, &mut x],
        json!({"type":"topic","text":"be nice"}),
        "topic",
    )
    .await;
    change(
        &mut md,
        &mut [&mut a, &mut x],
        json!({"type":"delete","id":id_of(&m)}),
        "delete",
    )
    .await;
    md.send_json(&json!({"type":"kick","name":"Plain"})).await;
    assert_eq!(close_code(&mut x).await, Some(4003));
    assert_eq!(next_of(&mut a, "kick").await["target"], "Plain");
    assert_eq!(next_of(&mut md, "kick").await["target"], "Plain");
    change(
        &mut md,
        &mut [&mut a],
        json!({"type":"lock","locked":true}),
        "lock",
    )
    .await;
    change(
        &mut md,
        &mut [&mut a],
        json!({"type":"lock","locked":false}),
        "lock",
    )
    .await;

    // The MODERATOR_KEY also owns private rooms.
    let (private, _) = create_room(s).await;
    let (_p, w) = enter(
        s,
        &private,
        json!({"type":"join","name":"Mod","owner_key":MOD_KEY}),
    )
    .await;
    assert_eq!(w["owner"], true, "{w}");

    let lines = log_lines(s, &room, &["kick", "lock", "topic", "delete"], 5).await;
    for event in ["kick", "lock", "topic", "delete"] {
        assert!(
            lines.iter().any(|l| l["event"] == event),
            "no {event} line for {room}: {lines:?}\n{}",
            s.log_tail(3000)
        );
    }
    let log = s.log();
    assert!(!log.contains(MOD_KEY), "MODERATOR_KEY is in the log");
    // Not the moderation frames' contents either (the topic is the owner's words).
    assert!(
        !lines.iter().any(|l| l.to_string().contains("be nice")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn without_a_moderator_key_nobody_owns_a_public_room() {
    let s = short();
    let room = uniq("public-nomod");
    let (mut x, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Mod","owner_key":MOD_KEY}),
        &[],
    )
    .await;
    assert!(e["type"] == "error" && e["code"] == "forbidden", "{e}");
    let w = x.join("Mod").await;
    assert!(w.get("owner").is_none(), "{w}");
    for f in [
        json!({"type":"lock","locked":true}),
        json!({"type":"topic","text":"t"}),
        json!({"type":"kick","name":"Mod"}),
    ] {
        refused(&mut x, f, "forbidden").await;
    }
    x.say("still usable").await;
}
