//! Issue 20: a kick is precise (the owner and the members who were not kicked stay in; an address
//! ban keeps out only new guests) and explained (a `kicked` frame before the 4003 close); the
//! owner is named to everyone; the room's title.

use serde_json::json;

use crate::common::*;

use super::*;

const OFFICE: &str = "198.51.100.20";

#[tokio::test]
async fn a_kick_leaves_the_owner_and_bystanders_at_the_same_address_in() {
    let s = server();
    let (room, key) = create_room(s).await;
    let here = [("CF-Connecting-IP", OFFICE)];
    let olga = session("olga");
    let (mut o, w) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","session":olga,"owner_key":key}),
        &here,
    )
    .await;
    assert_eq!(w["owner"], true, "{w}");
    let yv = session("yvonne");
    let (mut y, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Yvonne","session":yv}),
        &here,
    )
    .await;
    let (mut x, wx) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Xavier","session":session("x")}),
        &here,
    )
    .await;
    assert_eq!(
        wx["owners"],
        json!(["Olga"]),
        "everyone sees the owner: {wx}"
    );
    o.expect("join").await;
    o.expect("join").await;
    y.expect("join").await;

    // The owner names the room; the kicked member hears the title with the kick.
    change(
        &mut o,
        &mut [&mut y, &mut x],
        json!({"type":"title","text":"Q3 planning"}),
        "title",
    )
    .await;
    o.send_json(&json!({"type":"kick","name":"Xavier"})).await;
    let k = x.expect("kicked").await;
    assert_eq!(
        (&k["name"], &k["room"], &k["title"]),
        (&json!("Olga"), &json!(room), &json!("Q3 planning")),
        "{k}"
    );
    assert!(k["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0), "{k}");
    match x.recv().await {
        Frame::Close(code, _) => assert_eq!(code, Some(4003)),
        other => panic!("expected the close, got {}", other.describe()),
    }
    y.expect("kick").await;
    y.expect("leave").await;

    // Yvonne, at the same address, is still here: she talks, and a new tab takes her seat over
    // (this server has no presence grace: a member away is the core tests' case).
    y.say("still here").await;
    let (_y, wy) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Yvonne","session":yv}),
        &here,
    )
    .await;
    assert_eq!(wy["type"], "welcome", "a bystander is not banned: {wy}");
    assert_eq!(wy["title"], "Q3 planning");
    drop(y);

    // The owner reloads from the banned address: in.
    drop(o);
    let (_o, wo) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","session":olga,"owner_key":key}),
        &here,
    )
    .await;
    assert_eq!(wo["type"], "welcome", "the owner is never banned: {wo}");
    // The operator's moderator key is an owner too, whatever the address.
    let (_m, wm) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Xavier","owner_key":MOD_KEY}),
        &here,
    )
    .await;
    assert_eq!(wm["type"], "welcome", "the moderator is never banned: {wm}");

    // A new guest at the address (the kicked one under a new name) is kept out.
    let (_n, e) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Definitely Not X","session":session("n")}),
        &here,
    )
    .await;
    assert_eq!(e["code"], "banned", "{e}");
    assert!(e["retry_after_ms"].as_u64().is_some(), "{e}");
}

/// A title from someone who is not the owner is `forbidden`; one over 64 characters or with a
/// control character is `invalid_message`; neither changes the room, on the wire or after a join.
#[tokio::test]
async fn a_title_is_the_owners_and_within_its_rules() {
    let s = server();
    let (room, key) = create_room(s).await;
    let (mut o, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Olga","session":session("olga-t"),"owner_key":key}),
        &[],
    )
    .await;
    let (mut m, _) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Mallory","session":session("mallory-t")}),
        &[],
    )
    .await;
    o.expect("join").await;
    m.send_json(&json!({"type":"title","text":"Mallory's room"}))
        .await;
    m.expect_error("forbidden").await;
    for bad in [
        "x".repeat(65),
        "line\nbreak".to_string(),
        "bell\u{7}".to_string(),
    ] {
        o.send_json(&json!({"type":"title","text":bad})).await;
        o.expect_error("invalid_message").await;
    }
    // Exactly 64 characters (not bytes) is fine.
    let long = "é".repeat(64);
    change(
        &mut o,
        &mut [&mut m],
        json!({"type":"title","text":long}),
        "title",
    )
    .await;
    let (_late, w) = try_enter(
        s,
        &room,
        json!({"type":"join","name":"Late","session":session("late-t")}),
        &[],
    )
    .await;
    assert_eq!(w["title"], long.as_str(), "{w}");
    s.assert_no_panic();
}
