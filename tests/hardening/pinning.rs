//! Item 5: a room must not be pinned in memory. Sockets that never join do not count towards
//! `RELAY_THRESHOLD` and are limited per address (`ADDRESS_UNJOINED_MAX`), and a relay with no
//! socket closes its link after `RELAY_IDLE_MS`, so an empty big room hibernates again.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{connect_from, join_from, limits};
use crate::common::*;

#[tokio::test]
async fn sockets_that_have_not_joined_do_not_open_relays() {
    let s = limits();
    let room = uniq("unjoined-threshold");
    // Two sockets that never join, from two addresses (under the per-address limit), where the
    // threshold is two.
    let mut idle = Vec::new();
    for i in 0..2 {
        idle.push(connect_from(s, &room, &format!("198.51.100.{}", 60 + i)).await);
    }
    // A socket counts as arriving for 2 s (a crowd joins within that); these never join.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_a, w) = join_from(s, &room, "Ann", "198.51.100.70", json!({})).await;
    assert_eq!(w["type"], "welcome", "{w}");
    let st = stats(s, &room).await;
    assert_eq!(st["members"], 1, "{st}");
    assert_eq!(
        st["relays"],
        json!([]),
        "no relay for a room of one member: {st}"
    );
}

#[tokio::test]
async fn one_address_holds_only_a_few_sockets_that_have_not_joined() {
    let s = limits();
    let room = uniq("unjoined-address");
    let address = "198.51.100.80";
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(s, &room, address).await);
    }
    let mut extra = connect_from(s, &room, address).await;
    assert_eq!(
        extra.expect_close().await,
        Some(1008),
        "a fourth socket from one address that has not joined"
    );
    // Another address is not affected, and a socket that joins frees its place.
    let (_b, w) = join_from(s, &room, "Bob", "198.51.100.81", json!({})).await;
    assert_eq!(w["type"], "welcome");
    let mut first = held.remove(0);
    first.join("Ann").await;
    let mut again = connect_from(s, &room, address).await;
    let w = again.join("Cat").await;
    assert_eq!(w["type"], "welcome");
}

#[tokio::test]
async fn an_empty_big_room_hibernates_once_its_relay_is_idle() {
    let s = limits();
    let room = uniq("pinned");
    // Two members on the room object; the third is past the threshold, on a relay.
    let (a, _) = join_from(s, &room, "Ann", "198.51.100.90", json!({})).await;
    let (b, _) = join_from(s, &room, "Bob", "198.51.100.91", json!({})).await;
    let (c, _) = join_from(s, &room, "Cat", "198.51.100.92", json!({})).await;
    let st0 = stats(s, &room).await;
    assert_eq!(
        st0["relays"][0]["connections"], 1,
        "Cat is on a relay: {st0}"
    );
    for m in [c, b, a] {
        m.close(Some(1000)).await;
    }
    // Nobody is left. Stay away from the room (each stats call wakes it) until the runtime
    // evicts it: it cannot while a relay's link is open.
    let deadline = Instant::now() + Duration::from_secs(75);
    let mut st = st0.clone();
    while st["started_at"] == st0["started_at"] {
        assert!(
            Instant::now() < deadline,
            "the empty room stayed in memory (started_at {}): {st}",
            st0["started_at"]
        );
        tokio::time::sleep(Duration::from_secs(13)).await;
        st = stats(s, &room).await;
    }
    assert_eq!(st["members"], 0, "{st}");
    assert_eq!(st["connections"], 0, "{st}");
}
