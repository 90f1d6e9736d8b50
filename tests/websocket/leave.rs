//! Leaving: clean closes, abrupt TCP drops, sockets that never joined.

use std::time::Duration;

use crate::common::*;
use serde_json::json;

use super::{server, QUIET};

#[tokio::test]
async fn clean_close_broadcasts_leave_and_is_answered_1000() {
    let s = server();
    let room = uniq("leave");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (b, _) = join(s, &room, "Bob").await;
    let (c, _) = join(s, &room, "Carol").await;
    let (d, _) = join(s, &room, "Dave").await;
    for n in ["Bob", "Carol", "Dave"] {
        assert_join_frame(&a.expect("join").await, n);
    }
    // A close with no status code (1005 on the server) is answered 1000.
    assert_eq!(b.close(None).await, Some(1000));
    assert_leave_frame(&a.expect("leave").await, "Bob");
    assert_eq!(c.close(Some(1000)).await, Some(1000));
    assert_leave_frame(&a.expect("leave").await, "Carol");
    // Any other close code is answered too.
    let code = d.close(Some(4000)).await;
    assert!(
        code.is_some(),
        "the server answers a close with a close frame"
    );
    assert_leave_frame(&a.expect("leave").await, "Dave");
    a.expect_silence(QUIET).await;
    let (_e, we) = join(s, &room, "Eve").await;
    assert_eq!(members(&we), ["Alice", "Eve"]);
    // The name is free again.
    let (_b2, wb2) = join(s, &room, "bob").await;
    assert_eq!(members(&wb2), ["Alice", "Eve", "bob"]);
}

#[tokio::test]
async fn abrupt_tcp_drops_broadcast_leave() {
    let s = server();
    let room = uniq("drop");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (b, _) = join(s, &room, "Bob").await;
    let (c, _) = join(s, &room, "Carol").await;
    a.expect("join").await;
    a.expect("join").await;
    b.drop_abruptly(); // RST, no close frame
    assert_leave_frame(&a.expect("leave").await, "Bob");
    c.drop_silently(); // FIN, no close frame
    assert_leave_frame(&a.expect("leave").await, "Carol");
    // Dropped in the middle of a frame.
    let (mut d, _) = join(s, &room, "Dave").await;
    a.expect("join").await;
    d.write_raw(&[0x81, 0xFE, 0x01]).await; // masked text frame header, cut short
    d.drop_abruptly();
    assert_leave_frame(&a.expect("leave").await, "Dave");
    a.expect_silence(QUIET).await;
    let st = wait_stats(s, &room, "1 member, 1 connection", |v| {
        v["members"] == 1 && v["connections"] == 1
    })
    .await;
    assert_eq!(st["members"], 1);
    let (_e, we) = join(s, &room, "Eve").await;
    assert_eq!(members(&we), ["Alice", "Eve"]);
    s.assert_no_panic();
}

#[tokio::test]
async fn sockets_that_never_joined_leave_silently() {
    let s = server();
    let room = uniq("silent");
    let (mut a, _) = join(s, &room, "Alice").await;
    let u1 = connect(s, &room).await;
    let u2 = connect(s, &room).await;
    let mut u3 = connect(s, &room).await;
    let u4 = connect(s, &room).await;
    assert_eq!(u1.close(None).await, Some(1000));
    u2.drop_abruptly();
    u3.send_json(&json!({"type":"join","name":"Alice"})).await;
    u3.expect_error("name_taken").await;
    u3.drop_silently();
    u4.drop_silently();
    a.expect_silence(Duration::from_millis(1500)).await;
    wait_stats(s, &room, "1 connection", |v| {
        v["connections"] == 1 && v["members"] == 1
    })
    .await;
}
