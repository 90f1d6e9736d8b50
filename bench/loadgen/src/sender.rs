//! One sender's writing side: closed loop (a window of messages in flight) or fixed rate.

use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::shared::{Shared, Sink};

pub struct SenderResult {
    pub sent: u64,
    pub first_send_us: u64,
    pub last_send_us: u64,
}

pub struct Sender {
    pub shared: Arc<Shared>,
    pub sink: Sink,
    pub permits: Arc<Semaphore>,
    /// Global sender number: room × senders per room + index in the room.
    pub id: usize,
    pub count: u64,
    /// Fixed rate: µs between this sender's messages (0 = closed loop).
    pub interval_us: u64,
    pub senders_total: usize,
}

impl Sender {
    pub async fn run(self) -> Result<SenderResult, String> {
        let shared = &self.shared;
        let text_len = shared.args.text_len;
        let start_us = shared.now_us();
        // Fixed rate: stagger senders evenly over one interval.
        let offset_us = self.interval_us * self.id as u64 / self.senders_total as u64;
        let mut first = u64::MAX;
        let mut last = 0;
        let mut text = String::with_capacity(text_len + 64);
        let mut paused = shared.paused.subscribe();
        for seq in 0..self.count {
            if *paused.borrow() {
                let _ = paused.wait_for(|p| !*p).await;
            }
            self.permits
                .acquire()
                .await
                .map_err(|e| e.to_string())?
                .forget();
            let stamp = if self.interval_us > 0 {
                let due = start_us + offset_us + seq * self.interval_us;
                let now = shared.now_us();
                if due > now {
                    tokio::time::sleep(Duration::from_micros(due - now)).await;
                }
                due // latency from the scheduled time
            } else {
                shared.now_us()
            };
            text.clear();
            let _ = write!(text, "s{}:{seq}:{stamp}:", self.id);
            while text.len() < text_len {
                text.push('x');
            }
            // `text` is `s<digits>:<digits>:<digits>:xxx`: nothing to escape.
            let frame = format!(r#"{{"type":"message","text":"{text}"}}"#);
            let now = shared.now_us();
            first = first.min(now);
            last = now;
            shared.sent.fetch_add(1, Ordering::Relaxed);
            self.sink
                .lock()
                .await
                .send(Message::Text(frame))
                .await
                .map_err(|e| format!("send: {e}"))?;
        }
        Ok(SenderResult {
            sent: self.count,
            first_send_us: first,
            last_send_us: last,
        })
    }
}
