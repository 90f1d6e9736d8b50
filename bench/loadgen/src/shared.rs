//! State shared by every task of a run.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::stream::{SplitSink, SplitStream};
use hdrhistogram::Histogram;
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::Message;

use crate::args::Args;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
pub type Sink = std::sync::Arc<tokio::sync::Mutex<SplitSink<Ws, Message>>>;
pub type Stream = SplitStream<Ws>;

pub struct Shared {
    pub epoch: Instant,
    pub args: Args,
    /// Send time (µs since epoch) from which latency and throughput are measured.
    pub measure_from_us: AtomicU64,
    /// Message deliveries each member of a room expects; set before the first send.
    pub expected: Vec<AtomicU64>,
    /// Own echoes seen by all senders (progress for the memory sampler).
    pub echoed: AtomicU64,
    /// Messages handed to the sockets by all senders.
    pub sent: AtomicU64,
    /// Memory run: senders hold off while a stats sample is taken on a quiet room.
    pub paused: watch::Sender<bool>,
    /// Per room: members that have everything they expect, or whose socket closed.
    pub receivers_done: Vec<AtomicUsize>,
    pub all_done: Notify,
}

impl Shared {
    pub fn new(args: Args) -> Self {
        Shared {
            epoch: Instant::now(),
            expected: (0..args.rooms).map(|_| AtomicU64::new(0)).collect(),
            receivers_done: (0..args.rooms).map(|_| AtomicUsize::new(0)).collect(),
            args,
            measure_from_us: AtomicU64::new(u64::MAX),
            echoed: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            paused: watch::channel(false).0,
            all_done: Notify::new(),
        }
    }

    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    pub fn receiver_done(&self, room: usize) {
        self.receivers_done[room].fetch_add(1, Ordering::AcqRel);
        self.all_done.notify_waiters();
    }
}

pub fn new_hist() -> Histogram<u32> {
    // 1 µs .. 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}
