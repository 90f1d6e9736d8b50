//! The default rate limit.

use crate::common::*;
use serde_json::json;

use super::server;

/// Default [vars]: a burst of 20 messages, then `rate_limited` (bucket refills 5/s).
#[tokio::test]
async fn default_rate_limit_allows_a_burst_of_20() {
    let s = server();
    let room = uniq("burst");
    let (mut a, _) = join(s, &room, "Alice").await;
    for i in 0..30 {
        a.send_json(&json!({"type":"message","text":format!("b{i}")}))
            .await;
    }
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..30 {
        let v = a.recv_json().await;
        match v["type"].as_str() {
            Some("message") => ok += 1,
            Some("error") if v["code"] == "rate_limited" => {
                assert!(v["retry_after_ms"].as_u64().is_some_and(|r| r > 0), "{v}");
                limited += 1
            }
            _ => panic!("unexpected {v}"),
        }
    }
    assert!((20..30).contains(&ok), "{ok} accepted, {limited} limited");
    assert_eq!(stats(s, &room).await["messages_stored"], ok);
}
