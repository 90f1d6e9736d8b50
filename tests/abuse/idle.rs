//! Liveness (IDLE_TIMEOUT_MS 3000): a member whose client sends nothing, not even `ping`, is
//! closed with 4002 and the others see a normal leave; a member that pings every second stays.

use std::time::{Duration, Instant};

use crate::common::*;

use super::{idle, IDLE_TIMEOUT_MS, QUIET};

/// Sends `ping` and reads until its `pong`, collecting the JSON frames that came before it.
async fn ping(c: &mut Client, seen: &mut Vec<serde_json::Value>) {
    c.send_text("ping").await;
    loop {
        match c.recv().await {
            Frame::Text(t) if t == "pong" => return,
            Frame::Text(t) => seen.push(serde_json::from_str(&t).unwrap()),
            other => panic!("a pinging member got {}", other.describe()),
        }
    }
}

#[tokio::test]
async fn a_silent_member_is_closed_4002_and_a_pinging_one_stays() {
    let s = idle();
    let room = uniq("idle");
    let (mut pinger, _) = join(s, &room, "Pinger").await;
    let (mut silent, _) = join(s, &room, "Silent").await;
    let joined = Instant::now();
    let mut seen = Vec::new();

    // Silent never sends anything; Pinger pings every second while we watch Silent's socket.
    let closed_after = loop {
        ping(&mut pinger, &mut seen).await;
        match silent.recv_timeout(Duration::from_secs(1)).await {
            None => {}
            Some(Frame::Close(code, _)) => {
                assert_eq!(code, Some(4002), "close code for a silent member");
                break joined.elapsed();
            }
            Some(Frame::Text(_)) => {}
            Some(other) => panic!("silent member: {}", other.describe()),
        }
        assert!(
            joined.elapsed() < Duration::from_millis(IDLE_TIMEOUT_MS + 10_000),
            "a silent member was not closed within IDLE_TIMEOUT_MS + 10 s"
        );
    };
    assert!(
        closed_after >= Duration::from_millis(IDLE_TIMEOUT_MS - 500),
        "closed after {closed_after:?}, before IDLE_TIMEOUT_MS {IDLE_TIMEOUT_MS}"
    );
    // The others saw a normal leave.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.iter().any(|v| v["type"] == "leave") && Instant::now() < deadline {
        ping(&mut pinger, &mut seen).await;
    }
    let leaves: Vec<_> = seen.iter().filter(|v| v["type"] == "leave").collect();
    assert_eq!(leaves.len(), 1, "frames the pinger saw: {seen:?}");
    assert_leave_frame(leaves[0], "Silent");

    // Pinger, pinging all along, is still a member well past the timeout.
    while joined.elapsed() < Duration::from_millis(2 * IDLE_TIMEOUT_MS) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ping(&mut pinger, &mut seen).await;
    }
    pinger.say("still here").await;
    pinger.expect_silence(QUIET).await;
    let st = stats(s, &room).await;
    assert_eq!(
        (st["members"].clone(), st["connections"].clone()),
        (1.into(), 1.into()),
        "{st}"
    );
}
