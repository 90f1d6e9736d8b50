//! A storage fault inside a batch (`debug_fail_writes`): none of the batch is broadcast, every
//! sender gets `storage_failed` with its nonce, and once writes work again messages flow and the
//! history holds nothing of the failed batch and everything else.

use serde_json::{json, Value};

use crate::common::*;

use super::{serial, server, QUIET};

async fn fail_writes(c: &mut Client, on: bool) {
    c.send_json(&json!({"type":"debug_fail_writes","on":on}))
        .await;
    let v = c.recv_json().await;
    assert!(
        v["type"] == "debug_fail_writes" && v["on"] == on,
        "expected the hook's answer, got {v}"
    );
}

/// Sends `nonces` as messages in one write.
async fn burst(c: &mut Client, nonces: &[&str]) {
    let frames: Vec<String> = nonces
        .iter()
        .map(|n| json!({"type":"message","text":format!("text {n}"),"nonce":n}).to_string())
        .collect();
    c.write_texts(&frames).await;
}

#[tokio::test]
async fn a_failed_write_sends_nothing_of_its_batch_and_tells_every_sender() {
    let _serial = serial().await;
    let s = server();
    let room = uniq("fail");
    let (mut a, _) = join(s, &room, "Ann").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    let (mut obs, _) = join(s, &room, "Obs").await;
    a.expect("join").await;
    a.expect("join").await;
    b.expect("join").await;
    let before = a.say_nonce("before", "ok-1").await;
    for c in [&mut b, &mut obs] {
        assert_eq!(c.expect("message").await, before);
    }

    fail_writes(&mut obs, true).await;
    let (fa, fb) = (["a1", "a2", "a3"], ["b1", "b2"]);
    tokio::join!(burst(&mut a, &fa), burst(&mut b, &fb));
    for (who, c, nonces) in [("Ann", &mut a, &fa[..]), ("Bob", &mut b, &fb[..])] {
        for n in nonces {
            let e: Value = c.recv_json().await;
            assert!(
                e["type"] == "error" && e["code"] == "storage_failed" && e["nonce"] == *n,
                "{who}: want storage_failed for {n}, got {e}"
            );
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        }
    }
    for c in [&mut a, &mut b, &mut obs] {
        c.expect_silence(QUIET).await;
    }
    assert_eq!(stats(s, &room).await["messages_stored"], 1);

    // Writes work again: the next messages flow, and only the failed batch is missing.
    fail_writes(&mut obs, false).await;
    let after_a = a.say_nonce("after", "ok-2").await;
    for c in [&mut b, &mut obs] {
        assert_eq!(c.expect("message").await, after_a);
    }
    let after_b = b.say_nonce("again", "ok-3").await;
    for c in [&mut a, &mut obs] {
        assert_eq!(c.expect("message").await, after_b);
    }
    let h = history_page(s, &room, "").await;
    let nonces: Vec<&str> = h.iter().map(|m| m["nonce"].as_str().unwrap()).collect();
    assert_eq!(nonces, ["ok-1", "ok-2", "ok-3"], "history: {h:?}");
    assert_eq!(
        h.iter().map(msg_core).collect::<Vec<_>>(),
        [&before, &after_a, &after_b].map(msg_core)
    );
    assert_strictly_increasing(&ids(&h));
}
