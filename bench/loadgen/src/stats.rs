//! Memory run: samples of `GET /api/rooms/<room 0>/stats` every K messages echoed.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::shared::Shared;

fn fetch(url: &str) -> Value {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let body = agent
        .get(url)
        .call()
        .map_err(|e| e.to_string())
        .and_then(|r| r.into_string().map_err(|e| e.to_string()));
    match body {
        Ok(b) => serde_json::from_str(&b).unwrap_or_else(|_| json!({"error": b})),
        Err(e) => json!({"error": e}),
    }
}

/// One sample: the stats body, when it was asked for and how long it took.
pub async fn sample(shared: &Shared, after_drain: bool) -> Value {
    let url = shared.args.stats_url(0);
    let t = shared.now_us();
    let done = shared.echoed.load(Ordering::Relaxed);
    let body = tokio::task::spawn_blocking(move || fetch(&url))
        .await
        .unwrap_or(Value::Null);
    let took_ms = (shared.now_us() - t) as f64 / 1e3;
    let mut v =
        json!({"messages": done, "t_s": t as f64 / 1e6, "stats": body, "request_ms": took_ms});
    if after_drain {
        v["after_drain"] = json!(true);
    }
    v
}

/// After `go`, samples until every message is echoed or `stop`; `first` was taken before `go`.
pub async fn sampler(
    shared: Arc<Shared>,
    first: Value,
    total: u64,
    mut go: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
) -> Vec<Value> {
    let every = shared.args.stats_every;
    let mut samples = vec![first];
    let _ = go.wait_for(|g| *g).await;
    let mut next = every;
    loop {
        if shared.echoed.load(Ordering::Relaxed) >= next {
            // Pause the senders and let the room go quiet (every message echoed, bounded wait),
            // so the stats request is not queued behind a backlog of frames.
            let pause = !shared.args.stats_no_pause;
            shared.paused.send_replace(pause);
            let quiet_by = Instant::now() + Duration::from_secs(10);
            while pause
                && shared.echoed.load(Ordering::Relaxed) < shared.sent.load(Ordering::Relaxed)
                && Instant::now() < quiet_by
            {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let s = sample(&shared, false).await;
            let done = s["messages"].as_u64().unwrap_or(0);
            samples.push(s);
            shared.paused.send_replace(false);
            next = (done / every + 1) * every;
            if done >= total {
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            _ = stop.changed() => break,
        }
    }
    samples
}
