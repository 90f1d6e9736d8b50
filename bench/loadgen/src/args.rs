//! Command-line options.

use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(about = "Chatterly benchmark load generator (see bench/README.md)")]
pub struct Args {
    /// Base URL of the server (http://127.0.0.1:PORT). Only loopback addresses are accepted.
    #[arg(long, default_value = "http://127.0.0.1:8787")]
    pub url: String,
    /// Number of rooms, all loaded at once.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Members per room.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Senders per room (the first S members of each room). 0 = joins only.
    #[arg(long, default_value_t = 1)]
    pub senders: usize,
    /// Messages per sender (closed-loop mode; ignored with --rate, which uses --duration).
    #[arg(long, default_value_t = 1000)]
    pub messages: u64,
    /// Messages in flight per sender (a sender waits for its own echo before exceeding it).
    #[arg(long, default_value_t = 16)]
    pub window: usize,
    /// Fixed-rate mode: target total deliveries per second over all rooms.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Fixed-rate mode: how long to send, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds from the first send during which deliveries count for loss checks but not for
    /// throughput or latency (JIT and cache warm-up).
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Length of each message text (padded with 'x'; at least the header fits).
    #[arg(long, default_value_t = 64)]
    pub text_len: usize,
    /// Room name prefix; rooms are `<prefix>-<i>`.
    #[arg(long, default_value = "bench")]
    pub room_prefix: String,
    /// WebSocket handshakes (connect + join) in flight at once. 0 = all at once.
    #[arg(long, default_value_t = 0)]
    pub connect_concurrency: usize,
    /// Join storm: a member that fails to join (closed, refused, timed out) is counted instead of
    /// ending the run, and the run goes on with the members that joined.
    #[arg(long)]
    pub join_storm: bool,
    /// Check presence: at the end, every member's view (`welcome.members`, then `join` and
    /// `leave` frames) must be exactly the members still connected in its room, and no member may
    /// be announced twice. Needs a server that announces joins.
    #[arg(long)]
    pub presence: bool,
    /// Seconds allowed for all members to connect and join.
    #[arg(long, default_value_t = 60.0)]
    pub join_timeout: f64,
    /// Seconds to wait for outstanding deliveries after the last send.
    #[arg(long, default_value_t = 15.0)]
    pub drain_timeout: f64,
    /// Hard limit on the whole run, seconds.
    #[arg(long, default_value_t = 600.0)]
    pub max_time: f64,
    /// Memory run: sample GET /api/rooms/<room 0>/stats every K messages echoed (0 = never).
    #[arg(long, default_value_t = 0)]
    pub stats_every: u64,
    /// Memory run: sample while the senders keep going (by default they pause for each sample).
    #[arg(long)]
    pub stats_no_pause: bool,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Free-form label copied into the JSON line.
    #[arg(long, default_value = "")]
    pub label: String,
    /// Print only the JSON line.
    #[arg(long)]
    pub json_only: bool,
    /// Join with HS256 join tokens signed with this secret (the server's `JOIN_TOKEN_SECRET`)
    /// instead of plain names: every member is verified (docs/embedding.md).
    #[arg(long)]
    pub token_secret: Option<String>,
}

impl Args {
    pub fn room_name(&self, room: usize) -> String {
        format!("{}-{}", self.room_prefix, room)
    }

    pub fn ws_url(&self, room: usize) -> String {
        let base = self
            .url
            .trim_end_matches('/')
            .replacen("http://", "ws://", 1);
        format!("{base}/api/rooms/{}/websocket", self.room_name(room))
    }

    pub fn stats_url(&self, room: usize) -> String {
        format!(
            "{}/api/rooms/{}/stats",
            self.url.trim_end_matches('/'),
            self.room_name(room)
        )
    }

    /// Load goes to this machine only.
    pub fn check(&self) -> Result<(), String> {
        let rest = self.url.strip_prefix("http://").ok_or_else(|| {
            format!(
                "--url must be http://127.x.x.x:PORT or http://localhost:PORT, got {}",
                self.url
            )
        })?;
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if host != "localhost" && !host.starts_with("127.") {
            return Err(format!(
                "refusing non-loopback host {host:?}: load goes to 127.0.0.1 only"
            ));
        }
        if self.senders > self.members || self.members == 0 || self.rooms == 0 {
            return Err("need rooms ≥ 1, members ≥ 1, senders ≤ members".into());
        }
        Ok(())
    }
}
