//! Chatterly load generator: real WebSocket clients speaking docs/protocol.md.
//!
//! `R` rooms × `N` members join (`join` → wait for `welcome`); `S` members per room send `M`
//! messages each. A message's text is `s<sender>:<seq>:<send-micros>:xxx…`, so every receiver can
//! check, per sender, that each sequence number arrives exactly once and in order, and measure the
//! latency from the send time. A text frame holding a JSON array is a batch: its frames count one
//! by one, in order. Two pacing modes:
//! * closed loop (default): each sender keeps at most `--window` messages in flight, i.e. it waits
//!   for its own echo before exceeding the window;
//! * fixed rate (`--rate D`): the senders together aim at `D` deliveries/s in total; latency is
//!   measured from each message's *scheduled* send time (no coordinated omission).
//!
//! `--join-storm` counts members that fail to join (e.g. closed with 1008 by the join timeout)
//! instead of stopping; `--presence` checks every member's view of who is in the room.
//!
//! Prints a human table, then one JSON line (the last line of stdout) for bench/run.
//!
//! Layout: `args` (options), `frame` (server frames and batches), `check` (sequence and presence
//! checks), `join` (connect + join), `member` (a member's reading side), `sender` (a sender's
//! writing side), `stats` (memory-run samples), `report` (the summary), `shared` (run state).

// The JSON summary in `report` is one large `json!` literal.
#![recursion_limit = "256"]

mod args;
mod check;
mod frame;
mod join;
mod member;
mod report;
mod sender;
mod shared;
mod stats;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{watch, Mutex, Semaphore};
use tokio::task::JoinHandle;

use args::Args;
use join::JoinFailure;
use member::{Member, MemberResult, Own};
use report::{Joins, Outcome};
use sender::Sender;
use shared::{new_hist, Shared, Sink};

fn main() {
    let args = Args::parse();
    if let Err(e) = args.check() {
        eprintln!("loadgen: {e}");
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
            Ok(Ok(true)) => 0,
            Ok(Ok(false)) => 1,
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

/// A member that got in: its reader runs from the welcome on.
struct Joined {
    room: usize,
    index: usize,
    sink: Sink,
    reader: JoinHandle<MemberResult>,
    /// Senders only: the window.
    permits: Option<Arc<Semaphore>>,
    welcome_us: u64,
    join_us: u64,
}

/// Messages per sender and, in fixed-rate mode, the interval between one sender's messages.
fn pacing(args: &Args) -> (u64, u64) {
    let senders_total = (args.rooms * args.senders).max(1);
    match args.rate {
        Some(rate) => {
            // Each message is delivered to the members of its room.
            let per_sender_rate = rate / args.members as f64 / senders_total as f64;
            let per_sender = (per_sender_rate * args.duration).round().max(1.0) as u64;
            (per_sender, (1e6 / per_sender_rate) as u64)
        }
        None => (args.messages, 0),
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let (per_sender, interval_us) = pacing(&args);
    let shared = Arc::new(Shared::new(args.clone()));
    let (go_tx, go_rx) = watch::channel(false);
    let (stop_tx, stop_rx) = watch::channel(false);

    let (joined, joins) = join_members(&shared, per_sender, &stop_rx).await?;

    // Every member expects every message of its room's senders that got in.
    let mut senders_in = vec![0u64; args.rooms];
    let mut members_in = vec![0usize; args.rooms];
    for j in &joined {
        members_in[j.room] += 1;
        senders_in[j.room] += u64::from(j.permits.is_some());
    }
    for (r, n) in senders_in.iter().enumerate() {
        shared.expected[r].store(n * per_sender, Ordering::Relaxed);
    }
    let senders_total = args.rooms * args.senders;
    let mut sender_tasks = Vec::new();
    let mut readers = Vec::with_capacity(joined.len());
    for j in joined {
        if let Some(permits) = j.permits {
            let s = Sender {
                shared: shared.clone(),
                sink: j.sink,
                permits,
                id: j.room * args.senders + j.index,
                count: per_sender,
                interval_us,
                senders_total,
            };
            let mut go = go_rx.clone();
            sender_tasks.push(tokio::spawn(async move {
                let _ = go.wait_for(|g| *g).await;
                s.run().await
            }));
        }
        readers.push(j.reader);
    }

    let sampler = if args.stats_every > 0 {
        // The first sample is taken before any message is sent.
        let first = stats::sample(&shared, false).await;
        let total = senders_total as u64 * per_sender;
        Some(tokio::spawn(stats::sampler(
            shared.clone(),
            first,
            total,
            go_rx.clone(),
            stop_rx.clone(),
        )))
    } else {
        None
    };

    // ---- go ----
    let warm_us = shared.now_us() + (args.warmup * 1e6) as u64;
    shared.measure_from_us.store(warm_us, Ordering::Relaxed);
    let _ = go_tx.send(true);
    // Phase markers on stderr: bench/run samples the server's CPU time at them.
    eprintln!("loadgen-phase: send");

    let (mut sent, mut first_send_us, mut last_send_us) = (0u64, u64::MAX, 0u64);
    for t in sender_tasks {
        let r = t.await.map_err(|e| e.to_string())??;
        sent += r.sent;
        first_send_us = first_send_us.min(r.first_send_us);
        last_send_us = last_send_us.max(r.last_send_us);
    }
    let drained = if senders_in.iter().any(|&n| n > 0) {
        let all_done = || {
            (0..args.rooms).all(|r| {
                senders_in[r] == 0
                    || shared.receivers_done[r].load(Ordering::Acquire) >= members_in[r]
            })
        };
        let wait_all = async {
            loop {
                let notified = shared.all_done.notified();
                if all_done() {
                    break;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs_f64(args.drain_timeout), wait_all)
            .await
            .is_ok()
    } else {
        // Joins only: let the last presence frames arrive.
        tokio::time::sleep(Duration::from_secs(1)).await;
        true
    };
    eprintln!("loadgen-phase: delivered");
    let mut samples = Vec::new();
    if let Some(h) = sampler {
        if !drained {
            let _ = stop_tx.send(true);
        }
        samples = h.await.unwrap_or_default();
        samples.push(stats::sample(&shared, true).await);
    }
    let _ = stop_tx.send(true);

    let mut members = Vec::with_capacity(readers.len());
    for t in readers {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(r)) => members.push(r),
            _ => return Err("a member task did not finish".into()),
        }
    }
    let outcome = Outcome {
        members,
        joins,
        sent,
        first_send_us,
        last_send_us,
        per_sender,
        drained,
        samples,
    };
    Ok(report::report(&args, &shared, outcome))
}

/// Connects and joins every member (`--connect-concurrency` at a time). Without `--join-storm`
/// the first failure ends the run.
async fn join_members(
    shared: &Arc<Shared>,
    per_sender: u64,
    stop: &watch::Receiver<bool>,
) -> Result<(Vec<Joined>, Joins), String> {
    let args = &shared.args;
    let total = args.rooms * args.members;
    let limit = if args.connect_concurrency == 0 {
        total
    } else {
        args.connect_concurrency
    };
    let gate = Arc::new(Semaphore::new(limit));
    let first_connect_us = shared.now_us();
    let mut tasks = Vec::with_capacity(total);
    // Interleave rooms so that "10 rooms × 50 members" really loads all rooms at once.
    for i in 0..args.members {
        for r in 0..args.rooms {
            let (gate, shared, stop) = (gate.clone(), shared.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let _p = gate
                    .acquire()
                    .await
                    .map_err(|e| JoinFailure::Other(e.to_string()))?;
                let t0 = shared.now_us();
                let name = format!("m{i}");
                let a = &shared.args;
                let token = a
                    .token_secret
                    .as_deref()
                    .map(|secret| join::token(secret, &name, &a.room_name(r)));
                let (ws, view) = join::connect_and_join(&a.ws_url(r), &name, token).await?;
                let welcome_us = shared.now_us();
                let (sink, stream) = ws.split();
                let sink = Arc::new(Mutex::new(sink));
                let a = &shared.args;
                // Fixed rate: the window is only a safety bound; pacing comes from the schedule.
                let window = if a.rate.is_some() {
                    a.window.max(4096)
                } else {
                    a.window.max(1)
                };
                let permits = (i < a.senders).then(|| Arc::new(Semaphore::new(window)));
                let own = permits.clone().map(|permits| Own {
                    sender: r * a.senders + i,
                    permits,
                });
                let member = Member {
                    shared: shared.clone(),
                    room: r,
                    name,
                    own,
                    per_sender,
                };
                // Read from the welcome on, so that presence frames never pile up unread.
                let reader = tokio::spawn(member.receive(stream, sink.clone(), stop, view));
                Ok(Joined {
                    room: r,
                    index: i,
                    sink,
                    reader,
                    permits,
                    welcome_us,
                    join_us: welcome_us - t0,
                })
            }));
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(args.join_timeout);
    let mut joined = Vec::with_capacity(total);
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_failure = None;
    for mut t in tasks {
        let failure = match tokio::time::timeout_at(deadline, &mut t).await {
            Ok(Ok(Ok(j))) => {
                joined.push(j);
                continue;
            }
            Ok(Ok(Err(f))) => f,
            Ok(Err(e)) => JoinFailure::Other(e.to_string()),
            Err(_) => {
                t.abort();
                JoinFailure::TimedOut
            }
        };
        *failures.entry(failure.key()).or_default() += 1;
        first_failure.get_or_insert_with(|| failure.describe());
    }
    if let (Some(e), false) = (&first_failure, args.join_storm) {
        return Err(format!(
            "{} of {total} members joined; first failure: {e}",
            joined.len()
        ));
    }
    let mut hist = new_hist();
    for j in &joined {
        let _ = hist.record(j.join_us.max(1));
    }
    let last_welcome_us = joined
        .iter()
        .map(|j| j.welcome_us)
        .max()
        .unwrap_or(first_connect_us);
    let joins = Joins {
        hist,
        total_us: last_welcome_us - first_connect_us,
        joined: joined.len(),
        failures,
    };
    Ok((joined, joins))
}
