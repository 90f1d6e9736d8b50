//! One member's reading side: every frame it receives, checked.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::check::{Mark, Seen, View};
use crate::frame::{self, Frame};
use crate::shared::{new_hist, Shared, Sink, Stream};

/// What one member saw.
pub struct MemberResult {
    pub room: usize,
    pub name: String,
    pub hist: Histogram<u32>,
    pub deliveries: u64,
    pub deliveries_measured: u64,
    pub unique: u64,
    pub expected: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub id_violations: u64,
    pub unparsable: u64,
    pub foreign: u64,
    pub first_measured_us: u64,
    pub last_delivery_us: u64,
    pub errors: BTreeMap<String, u64>,
    /// The socket ended before the run did; with the close code the server gave, if any.
    pub closed_early: bool,
    pub close_code: Option<u16>,
    pub view: View,
}

/// A sender's own messages free its window when they come back.
pub struct Own {
    pub sender: usize,
    pub permits: Arc<Semaphore>,
}

pub struct Member {
    pub shared: Arc<Shared>,
    pub room: usize,
    pub name: String,
    pub own: Option<Own>,
    pub per_sender: u64,
}

impl Member {
    /// Reads until `stop` (or the socket ends), then closes the socket.
    pub async fn receive(
        self,
        mut stream: Stream,
        sink: Sink,
        mut stop: watch::Receiver<bool>,
        view: View,
    ) -> MemberResult {
        let senders = self.shared.args.senders;
        let mut seen: Vec<Seen> = (0..senders).map(|_| Seen::new(self.per_sender)).collect();
        let mut res = MemberResult {
            room: self.room,
            name: self.name.clone(),
            hist: new_hist(),
            deliveries: 0,
            deliveries_measured: 0,
            unique: 0,
            expected: 0,
            duplicated: 0,
            out_of_order: 0,
            id_violations: 0,
            unparsable: 0,
            foreign: 0,
            first_measured_us: u64::MAX,
            last_delivery_us: 0,
            errors: BTreeMap::new(),
            closed_early: false,
            close_code: None,
            view,
        };
        let mut last_id = 0u64;
        let mut done = false;
        loop {
            // `stop` first: once it is set, other members start closing, and the leaves the
            // server then announces must not count against this member's view of the room.
            let msg = tokio::select! {
                biased;
                _ = stop.wait_for(|v| *v) => break,
                m = stream.next() => m,
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(c))) => {
                    res.close_code = c.map(|c| c.code.into());
                    res.closed_early = true;
                    break;
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => {
                    res.closed_early = true;
                    break;
                }
            };
            let Ok(frames) = frame::parse(&text) else {
                res.unparsable += 1;
                continue;
            };
            let now = self.shared.now_us();
            for f in &frames {
                self.frame(f, now, &mut res, &mut seen, &mut last_id);
            }
            let expected = self.shared.expected[self.room].load(Ordering::Relaxed);
            if !done && expected > 0 && res.unique >= expected {
                done = true;
                self.shared.receiver_done(self.room);
            }
        }
        if !done {
            // Closed early: nothing more will come, do not make the run wait for it.
            self.shared.receiver_done(self.room);
        }
        res.expected = self.shared.expected[self.room].load(Ordering::Relaxed);
        // Close politely; ignore failures (the server may be gone already).
        let mut sink = sink.lock().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
        res
    }

    fn frame(
        &self,
        f: &Frame,
        now: u64,
        res: &mut MemberResult,
        seen: &mut [Seen],
        last_id: &mut u64,
    ) {
        match f.ty.as_ref() {
            "message" => {}
            "error" => {
                let code = f.code.as_deref().unwrap_or_default().to_owned();
                *res.errors.entry(code).or_default() += 1;
                return;
            }
            _ => {
                // join / leave; typing and unknown types are ignored there.
                res.view.apply(f);
                return;
            }
        }
        res.deliveries += 1;
        if let Some(id) = f.id {
            if id <= *last_id {
                res.id_violations += 1;
            }
            *last_id = id;
        }
        let senders = self.shared.args.senders;
        let Some(stamp) = f.text.as_deref().and_then(frame::parse_text) else {
            res.foreign += 1;
            return;
        };
        if senders == 0 || stamp.sender / senders != self.room {
            res.foreign += 1;
            return;
        }
        match seen[stamp.sender % senders].mark(stamp.seq) {
            Mark::OutOfRange => {
                res.foreign += 1;
                return;
            }
            Mark::Duplicate => {
                res.duplicated += 1;
                return;
            }
            Mark::New { in_order } => res.out_of_order += u64::from(!in_order),
        }
        res.unique += 1;
        res.last_delivery_us = now;
        if stamp.sent_us >= self.shared.measure_from_us.load(Ordering::Relaxed) {
            res.deliveries_measured += 1;
            res.first_measured_us = res.first_measured_us.min(now);
            let _ = res.hist.record(now.saturating_sub(stamp.sent_us).max(1));
        }
        if let Some(own) = &self.own {
            if own.sender == stamp.sender {
                own.permits.add_permits(1);
                self.shared.echoed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
