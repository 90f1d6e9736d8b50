//! Chatterly load generator: real WebSocket clients speaking docs/protocol.md.
//!
//! `R` rooms × `N` members join (`join` → wait for `welcome`); `S` members per room send `M`
//! messages each. A message's text is `s<sender>:<seq>:<send-micros>:xxx…`, so every receiver can
//! check, per sender, that each sequence number arrives exactly once and in order, and measure the
//! latency from the send time. Two pacing modes:
//! * closed loop (default): each sender keeps at most `--window` messages in flight, i.e. it waits
//!   for its own echo before exceeding the window;
//! * fixed rate (`--rate D`): the senders together aim at `D` deliveries/s in total; latency is
//!   measured from each message's *scheduled* send time (no coordinated omission).
//!
//! Prints a human table, then one JSON line (the last line of stdout) for bench/run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{watch, Notify, Semaphore};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug, Clone)]
#[command(about = "Chatterly benchmark load generator (see bench/README.md)")]
struct Args {
    /// Base URL of the server (http://127.0.0.1:PORT). Only loopback addresses are accepted.
    #[arg(long, default_value = "http://127.0.0.1:8787")]
    url: String,
    /// Number of rooms, all loaded at once.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Members per room.
    #[arg(long, default_value_t = 10)]
    members: usize,
    /// Senders per room (the first S members of each room).
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Messages per sender (closed-loop mode; ignored with --rate, which uses --duration).
    #[arg(long, default_value_t = 1000)]
    messages: u64,
    /// Messages in flight per sender (a sender waits for its own echo before exceeding it).
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// Fixed-rate mode: target total deliveries per second over all rooms.
    #[arg(long)]
    rate: Option<f64>,
    /// Fixed-rate mode: how long to send, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds from the first send during which deliveries count for loss checks but not for
    /// throughput or latency (JIT and cache warm-up).
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Length of each message text (padded with 'x'; at least the header fits).
    #[arg(long, default_value_t = 64)]
    text_len: usize,
    /// Room name prefix; rooms are `<prefix>-<i>`.
    #[arg(long, default_value = "bench")]
    room_prefix: String,
    /// WebSocket handshakes (connect + join) in flight at once. 0 = all at once.
    #[arg(long, default_value_t = 0)]
    connect_concurrency: usize,
    /// Seconds allowed for all members to connect and join.
    #[arg(long, default_value_t = 60.0)]
    join_timeout: f64,
    /// Seconds to wait for outstanding deliveries after the last send.
    #[arg(long, default_value_t = 15.0)]
    drain_timeout: f64,
    /// Hard limit on the whole run, seconds.
    #[arg(long, default_value_t = 600.0)]
    max_time: f64,
    /// Memory run: sample GET /api/rooms/<room 0>/stats every K messages echoed (0 = never).
    #[arg(long, default_value_t = 0)]
    stats_every: u64,
    /// Memory run: sample while the senders keep going (by default they pause for each sample).
    #[arg(long)]
    stats_no_pause: bool,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Free-form label copied into the JSON line.
    #[arg(long, default_value = "")]
    label: String,
    /// Print only the JSON line.
    #[arg(long)]
    json_only: bool,
}

/// The fields of a server frame the load generator looks at; everything else is skipped.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    code: Option<Cow<'a, str>>,
}

struct Shared {
    epoch: Instant,
    args: Args,
    /// Send-time (µs since epoch) from which latency and throughput are measured.
    measure_from_us: AtomicU64,
    /// Own echoes seen by all senders (progress for the memory sampler).
    echoed: AtomicU64,
    /// Messages handed to the sockets by all senders.
    sent: AtomicU64,
    /// Memory run: senders hold off while a stats sample is taken on a quiet room.
    paused: watch::Sender<bool>,
    receivers_done: AtomicUsize,
    all_done: Notify,
    members_total: usize,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// What one member saw.
struct MemberResult {
    hist: Histogram<u32>,
    deliveries: u64,
    deliveries_measured: u64,
    unique: u64,
    expected: u64,
    duplicated: u64,
    out_of_order: u64,
    id_violations: u64,
    unparsable: u64,
    foreign: u64,
    first_measured_us: u64,
    last_delivery_us: u64,
    errors: BTreeMap<String, u64>,
    closed_early: bool,
}

struct SenderResult {
    sent: u64,
    first_send_us: u64,
    last_send_us: u64,
}

fn new_hist() -> Histogram<u32> {
    // 1 µs .. 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

/// Bitset of seen sequence numbers for one sender at one receiver.
struct Seen {
    bits: Vec<u64>,
    max_seq: i64,
}

impl Seen {
    fn new(n: u64) -> Self {
        Seen { bits: vec![0; n.div_ceil(64) as usize], max_seq: -1 }
    }
    /// Returns (is_new, in_order).
    fn mark(&mut self, seq: u64) -> Option<(bool, bool)> {
        let w = (seq / 64) as usize;
        let b = 1u64 << (seq % 64);
        let word = self.bits.get_mut(w)?;
        let new = *word & b == 0;
        *word |= b;
        let in_order = seq as i64 > self.max_seq;
        if in_order {
            self.max_seq = seq as i64;
        }
        Some((new, in_order))
    }
}

/// Parses `s<global sender>:<seq>:<micros>:...`.
fn parse_text(t: &str) -> Option<(usize, u64, u64)> {
    let t = t.strip_prefix('s')?;
    let mut it = t.splitn(4, ':');
    let s = it.next()?.parse().ok()?;
    let q = it.next()?.parse().ok()?;
    let us = it.next()?.parse().ok()?;
    Some((s, q, us))
}

fn ws_url(base: &str, room: &str) -> String {
    let b = base.trim_end_matches('/');
    let b = b.replacen("http://", "ws://", 1);
    format!("{b}/api/rooms/{room}/websocket")
}

fn room_name(args: &Args, r: usize) -> String {
    format!("{}-{}", args.room_prefix, r)
}

fn check_loopback(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--url must be http://127.x.x.x:PORT or http://localhost:PORT, got {url}"))?;
    let host = rest.split(['/', ':']).next().unwrap_or("");
    if host == "localhost" || host.starts_with("127.") {
        Ok(())
    } else {
        Err(format!("refusing non-loopback host {host:?}: load goes to 127.0.0.1 only"))
    }
}

fn main() {
    let args = Args::parse();
    if let Err(e) = check_loopback(&args.url) {
        eprintln!("loadgen: {e}");
        std::process::exit(2);
    }
    if args.senders > args.members || args.members == 0 || args.rooms == 0 {
        eprintln!("loadgen: need rooms ≥ 1, 1 ≤ members, senders ≤ members");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let max_time = Duration::from_secs_f64(args.max_time);
    let code = rt.block_on(async move {
        match tokio::time::timeout(max_time, run(args)).await {
            Ok(Ok(ok)) => {
                if ok {
                    0
                } else {
                    1
                }
            }
            Ok(Err(e)) => {
                eprintln!("loadgen: {e}");
                println!("{}", json!({"error": e}));
                2
            }
            Err(_) => {
                eprintln!("loadgen: --max-time exceeded");
                println!("{}", json!({"error": "max-time exceeded"}));
                3
            }
        }
    });
    // Do not wait for lingering socket tasks.
    rt.shutdown_timeout(Duration::from_millis(200));
    std::process::exit(code);
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and joins; returns the socket once `welcome` arrived.
async fn connect_and_join(url: &str, name: &str) -> Result<Ws, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    // Written by hand, "type" first (the ceiling object only looks at the prefix). Names are
    // `m<digits>`: nothing to escape.
    let join = format!(r#"{{"type":"join","name":"{name}"}}"#);
    ws.send(Message::Text(join)).await.map_err(|e| format!("send join: {e}"))?;
    while let Some(m) = ws.next().await {
        match m.map_err(|e| format!("read welcome: {e}"))? {
            Message::Text(t) => {
                if let Ok(f) = serde_json::from_str::<Frame>(&t) {
                    match f.ty.as_ref() {
                        "welcome" => return Ok(ws),
                        "error" => return Err(format!("join {name}: error {}", t)),
                        _ => {}
                    }
                }
            }
            Message::Close(c) => return Err(format!("closed before welcome: {c:?}")),
            _ => {}
        }
    }
    Err("socket ended before welcome".into())
}

async fn run(args: Args) -> Result<bool, String> {
    let rooms = args.rooms;
    let n = args.members;
    let s = args.senders;
    let rate_mode = args.rate.is_some();
    let senders_total = rooms * s;
    // Messages per sender and, in fixed-rate mode, the interval between one sender's messages.
    let (per_sender, interval_us) = match args.rate {
        Some(rate) => {
            // Each message is delivered to the n members of its room.
            let msgs_per_s = rate / n as f64;
            let per_sender_rate = msgs_per_s / senders_total as f64;
            let per_sender = (per_sender_rate * args.duration).round().max(1.0) as u64;
            (per_sender, (1e6 / per_sender_rate) as u64)
        }
        None => (args.messages, 0),
    };
    let expected_per_member = s as u64 * per_sender;
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        args: args.clone(),
        measure_from_us: AtomicU64::new(u64::MAX),
        echoed: AtomicU64::new(0),
        sent: AtomicU64::new(0),
        paused: watch::channel(false).0,
        receivers_done: AtomicUsize::new(0),
        all_done: Notify::new(),
        members_total: rooms * n,
    });

    // ---- connect + join, all rooms at once ----
    let join_start = Instant::now();
    let limit = if args.connect_concurrency == 0 { rooms * n } else { args.connect_concurrency };
    let gate = Arc::new(Semaphore::new(limit));
    let (go_tx, go_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut joins = Vec::with_capacity(rooms * n);
    // Interleave rooms so that "10 rooms × 50 members" really loads all rooms at once.
    for i in 0..n {
        for r in 0..rooms {
            let url = ws_url(&args.url, &room_name(&args, r));
            let gate = gate.clone();
            joins.push(tokio::spawn(async move {
                let _p = gate.acquire().await.map_err(|e| e.to_string())?;
                let t0 = Instant::now();
                let ws = connect_and_join(&url, &format!("m{i}")).await?;
                Ok::<_, String>((r, i, ws, t0.elapsed().as_micros() as u64))
            }));
        }
    }
    let join_deadline = Duration::from_secs_f64(args.join_timeout);
    let mut sockets = Vec::with_capacity(rooms * n);
    let mut first_err = None;
    for j in joins {
        match tokio::time::timeout_at(tokio::time::Instant::from_std(join_start + join_deadline), j).await {
            Ok(Ok(Ok(x))) => sockets.push(x),
            Ok(Ok(Err(e))) => {
                first_err.get_or_insert(e);
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(e.to_string());
            }
            Err(_) => {
                first_err.get_or_insert(format!("join timeout after {} s", args.join_timeout));
            }
        }
    }
    let join_total_us = join_start.elapsed().as_micros() as u64;
    if let Some(e) = first_err {
        return Err(format!("{} of {} members joined; first failure: {e}", sockets.len(), rooms * n));
    }
    let mut join_hist = new_hist();
    for (_, _, _, us) in &sockets {
        let _ = join_hist.record((*us).max(1));
    }

    // ---- start members: readers for all, writers for senders ----
    let mut member_tasks = Vec::with_capacity(sockets.len());
    let mut sender_tasks = Vec::new();
    for (r, i, ws, _join_us) in sockets {
        let (sink, stream) = ws.split();
        let sink = Arc::new(tokio::sync::Mutex::new(sink));
        let is_sender = i < s;
        let global_sender = r * s + i;
        // Fixed rate: the window is only a safety bound; pacing comes from the schedule.
        let window = if rate_mode { args.window.max(4096) } else { args.window };
        let permits = Arc::new(Semaphore::new(window.max(1)));
        if is_sender {
            let sink = sink.clone();
            let permits = permits.clone();
            let shared = shared.clone();
            let mut go = go_rx.clone();
            sender_tasks.push(tokio::spawn(async move {
                let _ = go.wait_for(|g| *g).await;
                sender(shared, sink, permits, global_sender, per_sender, interval_us, senders_total).await
            }));
        }
        let shared = shared.clone();
        let stop = stop_rx.clone();
        member_tasks.push(tokio::spawn(receiver(
            shared,
            stream,
            sink,
            stop,
            r,
            if is_sender { Some((global_sender, permits)) } else { None },
            expected_per_member,
            per_sender,
        )));
    }

    // Memory sampler.
    let sampler = if args.stats_every > 0 {
        let shared = shared.clone();
        let url = format!("{}/api/rooms/{}/stats", args.url.trim_end_matches('/'), room_name(&args, 0));
        let total = senders_total as u64 * per_sender;
        let mut stop = stop_rx.clone();
        let mut go = go_rx.clone();
        let (first_tx, first_rx) = tokio::sync::oneshot::channel::<serde_json::Value>();
        {
            // The first sample is taken before any message is sent.
            let u = url.clone();
            let shared = shared.clone();
            tokio::spawn(async move {
                let t = shared.now_us();
                let body = tokio::task::spawn_blocking(move || fetch_stats(&u)).await.ok().flatten();
                let took_ms = (shared.now_us() - t) as f64 / 1e3;
                let _ = first_tx.send(json!({"messages": 0, "t_s": t as f64 / 1e6, "stats": body, "request_ms": took_ms}));
            });
        }
        let first = first_rx.await.ok();
        Some(tokio::spawn(async move {
            let _ = go.wait_for(|g| *g).await;
            let mut samples: Vec<serde_json::Value> = first.into_iter().collect();
            let mut next = shared.args.stats_every;
            loop {
                let done = shared.echoed.load(Ordering::Relaxed);
                if done >= next {
                    // Pause the senders and let the room go quiet (every message echoed, bounded
                    // wait), so the stats request is not queued behind a backlog of frames.
                    shared.paused.send_replace(!shared.args.stats_no_pause);
                    let quiet_by = Instant::now() + Duration::from_secs(10);
                    while !shared.args.stats_no_pause
                        && shared.echoed.load(Ordering::Relaxed) < shared.sent.load(Ordering::Relaxed)
                        && Instant::now() < quiet_by
                    {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    let done = shared.echoed.load(Ordering::Relaxed);
                    let u = url.clone();
                    let t = shared.now_us();
                    let body = tokio::task::spawn_blocking(move || fetch_stats(&u)).await.ok().flatten();
                    let took_ms = (shared.now_us() - t) as f64 / 1e3;
                    samples.push(json!({"messages": done, "t_s": t as f64 / 1e6, "stats": body, "request_ms": took_ms}));
                    shared.paused.send_replace(false);
                    next = (done / shared.args.stats_every + 1) * shared.args.stats_every;
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
        }))
    } else {
        None
    };

    // ---- go ----
    let go_us = shared.now_us();
    let warm_us = go_us + (args.warmup * 1e6) as u64;
    shared.measure_from_us.store(warm_us, Ordering::Relaxed);
    let _ = go_tx.send(true);
    // Phase markers on stderr: bench/run samples the server's CPU time at them.
    eprintln!("loadgen-phase: send");

    // Wait for all senders, then for every receiver to complete or the drain timeout.
    let mut sent = 0u64;
    let mut first_send = u64::MAX;
    let mut last_send = 0u64;
    for t in sender_tasks {
        let r = t.await.map_err(|e| e.to_string())??;
        sent += r.sent;
        first_send = first_send.min(r.first_send_us);
        last_send = last_send.max(r.last_send_us);
    }
    let drain = Duration::from_secs_f64(args.drain_timeout);
    let wait_all = async {
        loop {
            let notified = shared.all_done.notified();
            if shared.receivers_done.load(Ordering::Acquire) >= shared.members_total {
                break;
            }
            notified.await;
        }
    };
    let drained = tokio::time::timeout(drain, wait_all).await.is_ok();
    eprintln!("loadgen-phase: delivered");
    let samples = match sampler {
        Some(h) => {
            // A final sample after the drain.
            let mut v = if drained { h.await.unwrap_or_default() } else {
                let _ = stop_tx.send(true);
                h.await.unwrap_or_default()
            };
            let u = format!("{}/api/rooms/{}/stats", args.url.trim_end_matches('/'), room_name(&args, 0));
            let t = shared.now_us();
            let done = shared.echoed.load(Ordering::Relaxed);
            let body = tokio::task::spawn_blocking(move || fetch_stats(&u)).await.ok().flatten();
            let took_ms = (shared.now_us() - t) as f64 / 1e3;
            v.push(json!({"messages": done, "t_s": t as f64 / 1e6, "stats": body, "request_ms": took_ms, "after_drain": true}));
            v
        }
        None => Vec::new(),
    };
    let _ = stop_tx.send(true);

    let mut results = Vec::with_capacity(member_tasks.len());
    for t in member_tasks {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(r)) => results.push(r),
            _ => return Err("a member task did not finish".into()),
        }
    }

    Ok(report(&args, &shared, results, join_hist, join_total_us, sent, first_send, last_send, per_sender, expected_per_member, drained, samples))
}

fn fetch_stats(url: &str) -> Option<serde_json::Value> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let body = match agent.get(url).call() {
        Ok(r) => r.into_string().map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match body {
        Ok(b) => Some(serde_json::from_str(&b).unwrap_or_else(|_| json!({"error": b}))),
        Err(e) => Some(json!({"error": e})),
    }
}

type Sink = Arc<tokio::sync::Mutex<futures_util::stream::SplitSink<Ws, Message>>>;

async fn sender(
    shared: Arc<Shared>,
    sink: Sink,
    permits: Arc<Semaphore>,
    gs: usize,
    count: u64,
    interval_us: u64,
    senders_total: usize,
) -> Result<SenderResult, String> {
    let text_len = shared.args.text_len;
    let start_us = shared.now_us();
    // Fixed rate: stagger senders evenly over one interval.
    let offset_us = if interval_us > 0 { interval_us * gs as u64 / senders_total as u64 } else { 0 };
    let mut first = u64::MAX;
    let mut last = 0;
    let mut text = String::with_capacity(text_len + 64);
    let mut paused = shared.paused.subscribe();
    for seq in 0..count {
        if *paused.borrow() {
            let _ = paused.wait_for(|p| !*p).await;
        }
        permits.acquire().await.map_err(|e| e.to_string())?.forget();
        let stamp = if interval_us > 0 {
            let due = start_us + offset_us + seq * interval_us;
            let now = shared.now_us();
            if due > now {
                tokio::time::sleep(Duration::from_micros(due - now)).await;
            }
            due // latency from the scheduled time
        } else {
            shared.now_us()
        };
        text.clear();
        use std::fmt::Write;
        let _ = write!(text, "s{gs}:{seq}:{stamp}:");
        while text.len() < text_len {
            text.push('x');
        }
        // `text` is `s<digits>:<digits>:<digits>:xxx`: nothing to escape.
        let frame = format!(r#"{{"type":"message","text":"{text}"}}"#);
        let now = shared.now_us();
        first = first.min(now);
        last = now;
        shared.sent.fetch_add(1, Ordering::Relaxed);
        sink.lock().await.send(Message::Text(frame)).await.map_err(|e| format!("send: {e}"))?;
    }
    Ok(SenderResult { sent: count, first_send_us: first, last_send_us: last })
}

#[allow(clippy::too_many_arguments)]
async fn receiver(
    shared: Arc<Shared>,
    mut stream: futures_util::stream::SplitStream<Ws>,
    sink: Sink,
    mut stop: watch::Receiver<bool>,
    room: usize,
    own: Option<(usize, Arc<Semaphore>)>,
    expected: u64,
    per_sender: u64,
) -> MemberResult {
    let s = shared.args.senders;
    let mut seen: Vec<Seen> = (0..s).map(|_| Seen::new(per_sender)).collect();
    let mut res = MemberResult {
        hist: new_hist(),
        deliveries: 0,
        deliveries_measured: 0,
        unique: 0,
        expected,
        duplicated: 0,
        out_of_order: 0,
        id_violations: 0,
        unparsable: 0,
        foreign: 0,
        first_measured_us: u64::MAX,
        last_delivery_us: 0,
        errors: BTreeMap::new(),
        closed_early: false,
    };
    let mut last_id = 0u64;
    let mut done = expected == 0;
    if done {
        shared.receivers_done.fetch_add(1, Ordering::AcqRel);
        shared.all_done.notify_waiters();
    }
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = stop.wait_for(|v| *v) => break,
        };
        let Some(Ok(msg)) = msg else {
            res.closed_early = true;
            break;
        };
        let Message::Text(t) = msg else { continue };
        let Ok(f) = serde_json::from_str::<Frame>(&t) else {
            res.unparsable += 1;
            continue;
        };
        match f.ty.as_ref() {
            "message" => {}
            "error" => {
                *res.errors.entry(f.code.map(|c| c.into_owned()).unwrap_or_default()).or_default() += 1;
                continue;
            }
            _ => continue, // join / leave / typing / unknown: ignored
        }
        let now = shared.now_us();
        res.deliveries += 1;
        if let Some(id) = f.id {
            if id <= last_id {
                res.id_violations += 1;
            }
            last_id = id;
        }
        let Some((gs, seq, sent_us)) = f.text.as_deref().and_then(parse_text) else {
            res.foreign += 1;
            continue;
        };
        if gs / s != room || gs % s >= s {
            res.foreign += 1;
            continue;
        }
        let Some((new, in_order)) = seen[gs % s].mark(seq) else {
            res.foreign += 1;
            continue;
        };
        if !new {
            res.duplicated += 1;
            continue;
        }
        if !in_order {
            res.out_of_order += 1;
        }
        res.unique += 1;
        res.last_delivery_us = now;
        if sent_us >= shared.measure_from_us.load(Ordering::Relaxed) {
            res.deliveries_measured += 1;
            res.first_measured_us = res.first_measured_us.min(now);
            let _ = res.hist.record(now.saturating_sub(sent_us).max(1));
        }
        if let Some((own_gs, permits)) = &own {
            if *own_gs == gs {
                permits.add_permits(1);
                shared.echoed.fetch_add(1, Ordering::Relaxed);
            }
        }
        if !done && res.unique >= expected {
            done = true;
            shared.receivers_done.fetch_add(1, Ordering::AcqRel);
            shared.all_done.notify_waiters();
        }
    }
    // Close politely; ignore failures (the server may be gone already).
    let mut sink = sink.lock().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
    res
}

/// This process's CPU time (user + system), seconds, from /proc/self/stat (Linux; 0 elsewhere).
fn own_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after "(comm)": state is 0, utime 11, stime 12; USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    shared: &Shared,
    results: Vec<MemberResult>,
    join_hist: Histogram<u32>,
    join_total_us: u64,
    sent: u64,
    first_send: u64,
    last_send: u64,
    per_sender: u64,
    expected_per_member: u64,
    drained: bool,
    samples: Vec<serde_json::Value>,
) -> bool {
    let mut hist = new_hist();
    let (mut deliveries, mut measured, mut unique, mut expected, mut dup, mut ooo, mut idv, mut unp, mut foreign) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut first_measured = u64::MAX;
    let mut last_delivery = 0u64;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut closed_early = 0;
    for r in &results {
        hist.add(&r.hist).ok();
        deliveries += r.deliveries;
        measured += r.deliveries_measured;
        unique += r.unique;
        expected += r.expected;
        dup += r.duplicated;
        ooo += r.out_of_order;
        idv += r.id_violations;
        unp += r.unparsable;
        foreign += r.foreign;
        first_measured = first_measured.min(r.first_measured_us);
        last_delivery = last_delivery.max(r.last_delivery_us);
        for (k, v) in &r.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
        closed_early += r.closed_early as usize;
    }
    let _ = per_sender;
    let _ = expected_per_member;
    let lost = expected.saturating_sub(unique);
    // Throughput window: from the first measured send (the end of warm-up) to the last delivery.
    let from = shared.measure_from_us.load(Ordering::Relaxed).max(first_send);
    let dur_s = (last_delivery.saturating_sub(from)) as f64 / 1e6;
    let dps = if dur_s > 0.0 { measured as f64 / dur_s } else { 0.0 };
    let members = args.members as f64;
    let mps = dps / members;
    let send_s = last_send.saturating_sub(first_send) as f64 / 1e6;
    let q = |p: f64| if hist.is_empty() { 0.0 } else { ms(hist.value_at_quantile(p)) };
    let ok = lost == 0 && dup == 0 && ooo == 0 && idv == 0 && errors.is_empty() && closed_early == 0 && drained;
    let out = json!({
        "label": args.label,
        "mode": if args.rate.is_some() { "rate" } else { "window" },
        "rooms": args.rooms, "members": args.members, "senders": args.senders,
        "messages_per_sender": per_sender, "window": args.window, "rate_target": args.rate,
        "text_len": args.text_len, "warmup_s": args.warmup,
        "join_total_ms": ms(join_total_us),
        "join_ms": {"p50": ms(join_hist.value_at_quantile(0.5)), "p99": ms(join_hist.value_at_quantile(0.99)), "max": ms(join_hist.max())},
        "sent": sent, "send_s": send_s,
        "deliveries": deliveries, "deliveries_measured": measured, "expected": expected, "unique": unique,
        "lost": lost, "duplicated": dup, "out_of_order": ooo, "id_order_violations": idv,
        "unparsable": unp, "foreign": foreign, "errors": errors, "closed_early": closed_early, "drained": drained,
        "duration_s": dur_s, "deliveries_per_s": dps.round(), "messages_per_s": (mps * 10.0).round() / 10.0,
        "latency_ms": {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": if hist.is_empty() {0.0} else {ms(hist.max())}, "mean": (hist.mean() / 10.0).round() / 100.0},
        "stats_samples": samples,
        "loadgen_cpu_s": own_cpu_s(),
        "ok": ok,
    });
    if !args.json_only {
        println!("{:<28} {}", "configuration", format!("{} room(s) × {} members, {} sender(s)/room, {} msgs/sender, {}",
            args.rooms, args.members, args.senders, per_sender,
            match args.rate { Some(r) => format!("fixed {r} deliveries/s"), None => format!("window {}", args.window) }));
        println!("{:<28} {:.1} ms total (per member p50 {:.1} / p99 {:.1} / max {:.1} ms)", "connect+join",
            ms(join_total_us), ms(join_hist.value_at_quantile(0.5)), ms(join_hist.value_at_quantile(0.99)), ms(join_hist.max()));
        println!("{:<28} {:.0}", "deliveries/s", dps);
        println!("{:<28} {:.1}", "inbound messages/s", mps);
        println!("{:<28} p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}", "latency ms", q(0.5), q(0.9), q(0.99),
            if hist.is_empty() { 0.0 } else { ms(hist.max()) });
        println!("{:<28} sent {sent}, delivered {deliveries} (expected {expected})", "messages");
        println!("{:<28} lost {lost}, duplicated {dup}, out-of-order {ooo}, id-order {idv}", "integrity");
        if !errors.is_empty() || closed_early > 0 || unp > 0 || foreign > 0 {
            println!("{:<28} errors {:?}, closed early {closed_early}, unparsable {unp}, foreign {foreign}", "anomalies", errors);
        }
        for smp in &samples {
            let st = &smp["stats"];
            println!("{:<28} messages {:>7}  memory_bytes {:>10}  stored {:>6}", "stats sample",
                smp["messages"], st["memory_bytes"], st["messages_stored"]);
        }
        println!("{:<28} {}", "result", if ok { "OK" } else { "FAILED (integrity)" });
    }
    println!("{out}");
    ok
}
