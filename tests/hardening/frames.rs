//! Item 1: one oversized frame must not grow the isolate's memory for good. The room object and
//! the relay check a frame's length from the runtime's string before anything is copied into
//! the Wasm memory, and a relay never forwards what the room would refuse.

use serde_json::json;

use crate::common::*;

const MIB: u64 = 1024 * 1024;

async fn memory(s: &Server, room: &str) -> u64 {
    stats(s, room).await["memory_bytes"]
        .as_u64()
        .expect("memory_bytes")
}

/// A message frame of about `bytes` bytes.
fn big_frame(bytes: usize) -> String {
    format!(r#"{{"type":"message","text":"{}"}}"#, "a".repeat(bytes))
}

#[tokio::test]
async fn oversized_frames_do_not_grow_memory_direct_or_through_a_relay() {
    // Its own server: memory_bytes is the isolate's, which other tests' traffic would move.
    let s = Server::start(&[("RELAY_THRESHOLD", "1"), ("RELAY_MEMBERS", "10")]);
    let room = uniq("bigframe");
    let (mut a, _) = join(&s, &room, "Ann").await;
    let before = memory(&s, &room).await;

    // 8 MiB straight to the room object.
    a.send_text(big_frame(8 * MIB as usize)).await;
    let e = a.expect_error("too_large").await;
    let direct = memory(&s, &room).await;
    println!("memory_bytes: {before} before, {direct} after an 8 MiB frame (direct)");
    let limit_named = e["message"].as_str().is_some_and(|m| m.contains("16384"));
    // The socket still works, and nothing was stored.
    a.say("still here").await;

    // Past the threshold of one member, Bob is held by a relay: 5 MB through it.
    let (mut b, _) = join(&s, &room, "Bob").await;
    let st = stats(&s, &room).await;
    assert_eq!(st["relays"][0]["connections"], 1, "Bob is on a relay: {st}");
    b.send_text(big_frame(5_000_000)).await;
    let e = b.expect_error("too_large").await;
    assert_eq!(e["code"], "too_large");
    let relayed = memory(&s, &room).await;
    println!("memory_bytes: {direct} before, {relayed} after a 5 MB frame (relayed)");
    // Both measured before either is asserted, so a failure reports both numbers.
    assert!(
        direct < before + MIB,
        "an 8 MiB frame grew the memory from {before} to {direct}"
    );
    assert!(
        relayed < direct + MIB,
        "a relayed 5 MB frame grew the memory from {direct} to {relayed}"
    );
    assert!(limit_named, "the error names MAX_FRAME_BYTES: {e}");
    // A frame just over the limit in bytes (but not in UTF-16 units) is refused too, exactly.
    let over = format!(r#"{{"type":"message","text":"{}"}}"#, "é".repeat(8200));
    b.send_text(over).await;
    b.expect_error("too_large").await;
    b.send_json(&json!({"type":"message","text":"fits","nonce":"n1"}))
        .await;
    let m = b.expect("message").await;
    assert_eq!(m["text"], "fits");
    s.assert_no_panic();
}
