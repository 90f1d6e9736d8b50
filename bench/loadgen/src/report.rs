//! The summary of a run: a human table, then one JSON line (the last line of stdout).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::args::Args;
use crate::member::MemberResult;
use crate::shared::{new_hist, Shared};

/// How the members got in.
pub struct Joins {
    pub hist: Histogram<u32>,
    /// From the first connect to the last welcome.
    pub total_us: u64,
    pub joined: usize,
    /// Members that did not get in, by kind (`closed 1008`, `error rate_limited`, `timeout`, …).
    pub failures: BTreeMap<String, u64>,
}

pub struct Outcome {
    pub members: Vec<MemberResult>,
    pub joins: Joins,
    pub sent: u64,
    pub first_send_us: u64,
    pub last_send_us: u64,
    pub per_sender: u64,
    pub drained: bool,
    pub samples: Vec<Value>,
}

/// This process's CPU time (user + system), seconds, from /proc/self/stat (Linux; 0 elsewhere).
fn own_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after "(comm)": state is 0, utime 11, stime 12; USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Members whose view of the room is not exactly the members still connected in it, and the
/// first such member with what its view lacked and what it had too many.
fn incomplete_views(members: &[MemberResult]) -> (u64, Value) {
    let mut alive: BTreeMap<usize, HashSet<&str>> = BTreeMap::new();
    for m in members.iter().filter(|m| !m.closed_early) {
        alive.entry(m.room).or_default().insert(&m.name);
    }
    let empty = HashSet::new();
    let want = |m: &MemberResult| alive.get(&m.room).unwrap_or(&empty);
    let wrong = |m: &&MemberResult| {
        let want = want(m);
        m.view.names.len() != want.len() || !m.view.names.iter().all(|n| want.contains(n.as_str()))
    };
    let bad: Vec<&MemberResult> = members
        .iter()
        .filter(|m| !m.closed_early)
        .filter(wrong)
        .collect();
    let example = bad.first().map_or(Value::Null, |m| {
        let mut missing: Vec<&str> = want(m)
            .iter()
            .copied()
            .filter(|n| !m.view.names.contains(*n))
            .collect();
        let mut extra: Vec<&str> = m
            .view
            .names
            .iter()
            .map(String::as_str)
            .filter(|n| !want(m).contains(n))
            .collect();
        missing.sort_unstable();
        extra.sort_unstable();
        json!({"member": m.name, "room": m.room, "missing": missing, "extra": extra})
    });
    (bad.len() as u64, example)
}

pub fn report(args: &Args, shared: &Shared, o: Outcome) -> bool {
    let mut hist = new_hist();
    let (mut deliveries, mut measured, mut unique, mut expected) = (0u64, 0u64, 0u64, 0u64);
    let (mut dup, mut ooo, mut idv, mut unp, mut foreign) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut twice, mut unknown_leaves) = (0u64, 0u64);
    let mut last_delivery = 0u64;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut closes: BTreeMap<String, u64> = BTreeMap::new();
    let mut closed_early = 0u64;
    for r in &o.members {
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
        twice += r.view.announced_twice;
        unknown_leaves += r.view.unknown_leaves;
        last_delivery = last_delivery.max(r.last_delivery_us);
        for (k, v) in &r.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
        if r.closed_early {
            closed_early += 1;
            let code = r.close_code.map_or("none".to_string(), |c| c.to_string());
            *closes.entry(code).or_default() += 1;
        }
    }
    let (incomplete, view_example) = if args.presence {
        incomplete_views(&o.members)
    } else {
        (0, Value::Null)
    };
    let join_failed: u64 = o.joins.failures.values().sum();
    // 1008 closes before the welcome (the join timeout) and after it.
    let closed_1008 = o.joins.failures.get("closed 1008").copied().unwrap_or(0)
        + closes.get("1008").copied().unwrap_or(0);
    let lost = expected.saturating_sub(unique);
    // Throughput window: from the first measured send (the end of warm-up) to the last delivery.
    let from = shared
        .measure_from_us
        .load(Ordering::Relaxed)
        .max(o.first_send_us);
    let dur_s = last_delivery.saturating_sub(from) as f64 / 1e6;
    let dps = if dur_s > 0.0 {
        measured as f64 / dur_s
    } else {
        0.0
    };
    let mps = dps / args.members as f64;
    let send_s = o.last_send_us.saturating_sub(o.first_send_us) as f64 / 1e6;
    let q = |p: f64| {
        if hist.is_empty() {
            0.0
        } else {
            ms(hist.value_at_quantile(p))
        }
    };
    let max = if hist.is_empty() { 0.0 } else { ms(hist.max()) };
    let presence_ok = !args.presence || (incomplete == 0 && twice == 0 && unknown_leaves == 0);
    let ok = lost == 0
        && dup == 0
        && ooo == 0
        && idv == 0
        && errors.is_empty()
        && closed_early == 0
        && join_failed == 0
        && o.drained
        && presence_ok;
    let jh = &o.joins.hist;
    let out = json!({
        "label": args.label,
        "mode": if args.rate.is_some() { "rate" } else { "window" },
        "rooms": args.rooms, "members": args.members, "senders": args.senders,
        "messages_per_sender": o.per_sender, "window": args.window, "rate_target": args.rate,
        "text_len": args.text_len, "warmup_s": args.warmup,
        "connect_concurrency": args.connect_concurrency,
        "join_total_ms": ms(o.joins.total_us),
        "join_ms": {"p50": ms(jh.value_at_quantile(0.5)), "p99": ms(jh.value_at_quantile(0.99)), "max": ms(jh.max())},
        "joined": o.joins.joined, "join_failures": o.joins.failures, "closes": closes, "closed_1008": closed_1008,
        "presence": {"checked": args.presence, "incomplete_views": incomplete, "announced_twice": twice, "unknown_leaves": unknown_leaves, "example": view_example},
        "sent": o.sent, "send_s": send_s,
        "deliveries": deliveries, "deliveries_measured": measured, "expected": expected, "unique": unique,
        "lost": lost, "duplicated": dup, "out_of_order": ooo, "id_order_violations": idv,
        "unparsable": unp, "foreign": foreign, "errors": errors, "closed_early": closed_early, "drained": o.drained,
        "duration_s": dur_s, "deliveries_per_s": dps.round(), "messages_per_s": (mps * 10.0).round() / 10.0,
        "latency_ms": {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": max, "mean": (hist.mean() / 10.0).round() / 100.0},
        "stats_samples": o.samples,
        "loadgen_cpu_s": own_cpu_s(),
        "ok": ok,
    });
    if !args.json_only {
        let pacing = match args.rate {
            Some(r) => format!("fixed {r} deliveries/s"),
            None => format!("window {}", args.window),
        };
        let line = |k: &str, v: String| println!("{k:<28} {v}");
        line(
            "configuration",
            format!(
                "{} room(s) × {} members, {} sender(s)/room, {} msgs/sender, {pacing}",
                args.rooms, args.members, args.senders, o.per_sender
            ),
        );
        line("connect+join", format!("{:.1} ms, first connect to last welcome (per member p50 {:.1} / p99 {:.1} / max {:.1} ms)", ms(o.joins.total_us), ms(jh.value_at_quantile(0.5)), ms(jh.value_at_quantile(0.99)), ms(jh.max())));
        line(
            "joined",
            format!(
                "{} of {}; failures {:?}; 1008 closes {closed_1008}",
                o.joins.joined,
                args.rooms * args.members,
                o.joins.failures
            ),
        );
        if args.presence {
            line("presence", format!("incomplete views {incomplete}, announced twice {twice}, unknown leaves {unknown_leaves}; first: {view_example}"));
        }
        line("deliveries/s", format!("{dps:.0}"));
        line("inbound messages/s", format!("{mps:.1}"));
        line(
            "latency ms",
            format!(
                "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {max:.2}",
                q(0.5),
                q(0.9),
                q(0.99)
            ),
        );
        line(
            "messages",
            format!(
                "sent {}, delivered {deliveries} (expected {expected})",
                o.sent
            ),
        );
        line(
            "integrity",
            format!("lost {lost}, duplicated {dup}, out-of-order {ooo}, id-order {idv}"),
        );
        if !errors.is_empty() || closed_early > 0 || unp > 0 || foreign > 0 {
            line("anomalies", format!("errors {errors:?}, closed early {closed_early} {closes:?}, unparsable {unp}, foreign {foreign}"));
        }
        for smp in &o.samples {
            let st = &smp["stats"];
            line(
                "stats sample",
                format!(
                    "messages {:>7}  memory_bytes {:>10}  stored {:>6}",
                    smp["messages"], st["memory_bytes"], st["messages_stored"]
                ),
            );
        }
        line(
            "result",
            (if ok { "OK" } else { "FAILED (integrity)" }).into(),
        );
    }
    println!("{out}");
    ok
}
