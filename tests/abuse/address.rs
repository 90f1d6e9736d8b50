//! ADDRESS_JOINS_PER_MIN (4) and ADDRESS_MAX_MEMBERS (2), each client with its own address in
//! `CF-Connecting-IP`: `wrangler dev` passes a client's header through to the Worker, which
//! forwards the upgrade request to the room. Every test uses its own addresses (TEST-NET-2).

use serde_json::{json, Value};

use crate::common::*;

use super::{addresses, ADDRESS_JOINS_PER_MIN, ADDRESS_MAX_MEMBERS, QUIET};

/// Connects from `address` and sends a join as `name`: the welcome, or the error frame.
async fn join_from(room: &str, name: &str, address: &str) -> (Client, Value) {
    let s = addresses();
    let mut c = match try_connect_with(s.port, room, &[("CF-Connecting-IP", address)]).await {
        Ok(c) => c,
        Err(r) => panic!("upgrade from {address} refused: {} {}", r.status, r.body),
    };
    c.send_json(&json!({"type":"join","name":name})).await;
    let v = c.recv_json().await;
    if v["type"] == "welcome" {
        c.name = Some(name.to_string());
    }
    (c, v)
}

#[tokio::test]
async fn joins_per_address_per_minute_are_limited() {
    let room = uniq("addr-joins");
    let (a, b) = ("198.51.100.11", "198.51.100.12");
    for i in 0..ADDRESS_JOINS_PER_MIN {
        let (c, w) = join_from(&room, &format!("a{i}"), a).await;
        assert_eq!(w["type"], "welcome", "join {i} from {a}: {w}");
        assert_eq!(c.close(Some(1000)).await, Some(1000));
    }
    // One join too many from the same address, though nobody from it is in the room.
    let (mut c, e) = join_from(&room, "a-extra", a).await;
    assert!(
        e["type"] == "error" && e["code"] == "rate_limited",
        "join {} from {a} within a minute: want rate_limited, got {e}",
        ADDRESS_JOINS_PER_MIN + 1
    );
    let retry = e["retry_after_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("retry_after_ms must be an integer: {e}"));
    assert!((1..=60_000).contains(&retry), "retry_after_ms {retry}: {e}");
    c.expect_silence(QUIET).await;

    // Another address is not affected.
    let (_b, w) = join_from(&room, "b0", b).await;
    assert_eq!(w["type"], "welcome", "join from {b}: {w}");
    assert_eq!(members(&w), ["b0"], "the refused join is nobody: {w}");
}

#[tokio::test]
async fn members_per_address_are_capped() {
    let room = uniq("addr-members");
    let (a, b) = ("198.51.100.21", "198.51.100.22");
    let mut held = Vec::new();
    for i in 0..ADDRESS_MAX_MEMBERS {
        let (c, w) = join_from(&room, &format!("x{i}"), a).await;
        assert_eq!(w["type"], "welcome", "member {i} from {a}: {w}");
        held.push(c);
    }
    let (mut extra, e) = join_from(&room, "x-extra", a).await;
    assert!(
        e["type"] == "error" && e["code"] == "address_limit",
        "member {} from {a}: want address_limit, got {e}",
        ADDRESS_MAX_MEMBERS + 1
    );
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");

    // Another address joins, and sees only the members that got in.
    let (_b, w) = join_from(&room, "y0", b).await;
    assert_eq!(w["type"], "welcome", "join from {b}: {w}");
    assert_eq!(members(&w), ["x0", "x1", "y0"]);
    assert_join_frame(&held[0].expect("join").await, "x1");
    for c in held.iter_mut() {
        assert_join_frame(&c.expect("join").await, "y0");
    }

    // Once one of them leaves, the address has a seat again, on the same socket.
    let gone = held.remove(0);
    assert_eq!(gone.close(Some(1000)).await, Some(1000));
    assert_leave_frame(&held[0].expect("leave").await, "x0");
    extra
        .send_json(&json!({"type":"join","name":"x-extra"}))
        .await;
    let w = extra.expect("welcome").await;
    assert_eq!(members(&w), ["x1", "y0", "x-extra"]);
}
