//! Item 7: per-address limits and address bans key an IPv6 client by its /64, so a client cannot
//! step round them by picking the next address of its prefix.

use serde_json::json;

use super::{join_from, limits, MODERATOR_KEY};
use crate::common::*;

#[tokio::test]
async fn one_64_is_one_address_for_the_member_limit() {
    let s = limits();
    let room = uniq("slash64");
    let (_a, w) = join_from(s, &room, "a1", "2001:db8:77:1::1", json!({})).await;
    assert_eq!(w["type"], "welcome", "{w}");
    let (_b, w) = join_from(s, &room, "a2", "2001:db8:77:1::2", json!({})).await;
    assert_eq!(w["type"], "welcome", "{w}");
    // ADDRESS_MAX_MEMBERS is 2: a third address of the same /64 is the same client.
    let (_c, e) = join_from(s, &room, "a3", "2001:db8:77:1:abcd::3", json!({})).await;
    assert_eq!(e["code"], "address_limit", "{e}");
    // The next /64 is another client.
    let (_d, w) = join_from(s, &room, "b1", "2001:db8:77:2::1", json!({})).await;
    assert_eq!(w["type"], "welcome", "{w}");
}

#[tokio::test]
async fn a_kicked_member_cannot_come_back_from_the_next_address_of_the_64() {
    let s = limits();
    let room = uniq("slash64ban");
    let (mut owner, w) = join_from(
        s,
        &room,
        "Olga",
        "203.0.113.77",
        json!({"owner_key": MODERATOR_KEY}),
    )
    .await;
    assert_eq!(w["owner"], true, "{w}");
    let (mut bob, w) = join_from(s, &room, "Bob", "2001:db8:78:1::10", json!({})).await;
    assert_eq!(w["type"], "welcome", "{w}");
    owner.expect("join").await;
    owner.send_json(&json!({"type":"kick","name":"Bob"})).await;
    bob.expect("kicked").await;
    assert_eq!(bob.expect_close().await, Some(4003));
    let (_again, e) = join_from(s, &room, "Robert", "2001:db8:78:1::11", json!({})).await;
    assert_eq!(e["code"], "banned", "another name from Bob's /64: {e}");
}
