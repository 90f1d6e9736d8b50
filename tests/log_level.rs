//! LOG_LEVEL: `debug` adds a log line per message, `info` (default) does not, `warn` keeps only
//! failures. The log format is not part of the contract, so this counts the Worker's own lines
//! that mention the room (wrangler's request lines, `[wrangler:…]`, are not the Worker's).

mod common;

use common::*;

/// Joins two members, sends `n` messages, leaves; returns the Worker's log lines about the room.
async fn activity(s: &Server, n: usize) -> Vec<String> {
    let room = uniq("logs");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    for i in 0..n {
        let m = a.say(&format!("log line {i}")).await;
        assert_eq!(b.expect("message").await, m);
    }
    assert_eq!(b.close(Some(1000)).await, Some(1000));
    a.expect("leave").await;
    assert_eq!(a.close(Some(1000)).await, Some(1000));
    wait_stats(s, &room, "empty", |v| v["connections"] == 0).await;
    // Give the log a moment to be flushed by wrangler.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    s.log()
        .lines()
        .filter(|l| l.contains(room.as_str()) && !l.trim_start().starts_with("[wrangler"))
        .map(String::from)
        .collect()
}

const N: usize = 12;

#[tokio::test]
async fn log_level_info_debug_and_warn() {
    // Two servers at a time at most: info and debug first, then warn.
    let (info, debug) = std::thread::scope(|sc| {
        let i = sc.spawn(|| Server::start(&[]));
        let d = sc.spawn(|| Server::start(&[("LOG_LEVEL", "debug")]));
        (i.join().unwrap(), d.join().unwrap())
    });
    let info_lines = activity(&info, N).await;
    let debug_lines = activity(&debug, N).await;
    drop(info);
    drop(debug);
    let warn = Server::start(&[("LOG_LEVEL", "warn")]);
    let warn_lines = activity(&warn, N).await;
    drop(warn);
    eprintln!(
        "worker log lines about the room: info {}, debug {}, warn {}",
        info_lines.len(),
        debug_lines.len(),
        warn_lines.len()
    );

    assert!(
        info_lines.len() < N,
        "info must not log every message: {} lines for {N} messages:\n{}",
        info_lines.len(),
        info_lines.join("\n")
    );
    assert!(
        debug_lines.len() >= info_lines.len() + N,
        "debug must add a line per message: {} lines at debug vs {} at info",
        debug_lines.len(),
        info_lines.len()
    );
    assert!(
        warn_lines.is_empty(),
        "warn keeps only failures, yet normal traffic logged:\n{}",
        warn_lines.join("\n")
    );
}
