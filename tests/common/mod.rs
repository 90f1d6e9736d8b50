//! Test harness for the integration tests: runs the real `wrangler dev` (prebuilt Worker in
//! `build/worker/`, so `SKIP_WORKER_BUILD=1`) on a free loopback port and talks to it over HTTP
//! and WebSocket, exactly as a browser would.
//!
//! Process hygiene: wrangler (and the node/esbuild/workerd processes it spawns) runs in its own
//! process group, under a tiny bash watchdog that kills the whole group if this test binary dies
//! without cleaning up. Normal cleanup is `Drop` (owned servers) or an `atexit` hook (the shared
//! per-binary servers kept in statics, which are never dropped). Only process groups this harness
//! started are ever signalled, by their PID.
#![allow(dead_code)]

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

/// How long a test waits for a frame it expects.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);
/// The protocol's frame limit: frames strictly larger are `too_large`.
pub const MAX_FRAME: usize = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: every live wrangler process group and its scratch dir, for the atexit hook.

static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static SCRATCH_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static ATEXIT: Once = Once::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

extern "C" fn cleanup_at_exit() {
    let groups: Vec<i32> = std::mem::take(&mut *lock(&LIVE_GROUPS));
    for pgid in groups {
        stop_group(pgid);
    }
    let dirs: Vec<PathBuf> = std::mem::take(&mut *lock(&SCRATCH_DIRS));
    for d in dirs {
        let _ = fs::remove_dir_all(d);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn register_atexit() {
    ATEXIT.call_once(|| unsafe {
        libc::atexit(cleanup_at_exit);
    });
}

/// Reaps `pid` if it has exited (it is our direct child: the watchdog shell).
fn reap(pid: i32) -> bool {
    let mut status = 0;
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    r == pid || r == -1
}

fn group_alive(pgid: i32) -> bool {
    reap(pgid);
    let r = unsafe { libc::kill(-pgid, 0) };
    !(r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH))
}

fn wait_group_gone(pgid: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !group_alive(pgid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !group_alive(pgid)
}

/// SIGTERM the process group we started, SIGKILL it if anything is left after ~5 s.
fn stop_group(pgid: i32) {
    if pgid <= 1 {
        return;
    }
    unsafe {
        libc::kill(-pgid, libc::SIGTERM);
    }
    if !wait_group_gone(pgid, Duration::from_secs(5)) {
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        wait_group_gone(pgid, Duration::from_secs(5));
    }
}

/// Runs `"$@"` (wrangler) in the background of a shell that leads the process group. If the test
/// binary (`$1`) disappears, the shell tears the whole group down. The shell ignores SIGTERM only
/// after wrangler has been forked, so wrangler keeps the default disposition.
const WATCHDOG: &str = r#"
parent="$1"; shift
"$@" &
child=$!
trap '' TERM
while kill -0 "$child" 2>/dev/null; do
  if ! kill -0 "$parent" 2>/dev/null; then
    kill -TERM -- -$$ 2>/dev/null
    sleep 5
    kill -KILL -- -$$ 2>/dev/null
    exit 1
  fi
  sleep 0.5
done
wait "$child"
"#;

/// Removes scratch dirs left by test binaries that died without cleaning up (their watchdog
/// already stopped their servers): `chatterly-<bin>-<pid>-<n>` whose pid is gone.
fn remove_stale_dirs() {
    let Ok(entries) = fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix("chatterly-") else {
            continue;
        };
        let parts: Vec<&str> = rest.rsplitn(3, '-').collect();
        if parts.len() != 3 {
            continue;
        }
        let Ok(pid) = parts[1].parse::<i32>() else {
            continue;
        };
        let gone = unsafe { libc::kill(pid, 0) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Every file under `dir` (recursively), for checks on what the server persisted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A unique suffix for room and member names (rooms must be `[a-z0-9_-]{1,32}`).
pub fn uniq(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id() % 100_000)
}

// ---------------------------------------------------------------------------------------------
// The server.

pub struct Server {
    pub port: u16,
    inspector_port: u16,
    pub dir: PathBuf,
    pub persist: PathBuf,
    pub log_path: PathBuf,
    vars: Vec<(String, String)>,
    pgid: Option<i32>,
    /// Unix ms when the current run was started (before spawning).
    pub started_ms: i64,
    log_offset: u64,
}

impl Server {
    /// Starts `wrangler dev` with the given `--var NAME:VALUE` overrides and waits until ready.
    pub fn start(vars: &[(&str, &str)]) -> Server {
        register_atexit();
        let exe = std::env::current_exe().unwrap();
        let stem = exe.file_stem().unwrap().to_string_lossy().to_string();
        let bin = stem
            .rsplit_once('-')
            .map(|(a, _)| a.to_string())
            .unwrap_or(stem);
        remove_stale_dirs();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("chatterly-{bin}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        lock(&SCRATCH_DIRS).push(dir.clone());
        // Logs outlive the run (overwritten by the next run of the same binary) for debugging.
        let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chatterly-logs");
        fs::create_dir_all(&log_dir).unwrap();
        let log_path = log_dir.join(format!("{bin}-{n}.log"));
        let _ = fs::remove_file(&log_path);
        let mut s = Server {
            port: free_port(),
            inspector_port: free_port(),
            persist: dir.join("state"),
            dir,
            log_path,
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pgid: None,
            started_ms: 0,
            log_offset: 0,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        assert!(self.pgid.is_none(), "server already running");
        let root = env!("CARGO_MANIFEST_DIR");
        let wrangler = Path::new(root).join("node_modules/.bin/wrangler");
        assert!(
            wrangler.exists(),
            "{} missing: run `make setup` (npm ci) first",
            wrangler.display()
        );
        assert!(
            Path::new(root).join("build/worker/shim.mjs").exists(),
            "build/worker/shim.mjs missing: run `make build` first"
        );
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap();
        self.log_offset = log.metadata().unwrap().len();
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("chatterly-watchdog")
            .arg(std::process::id().to_string())
            .arg(&wrangler)
            .args(["dev", "--local", "--ip", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .arg("--inspector-port")
            .arg(self.inspector_port.to_string())
            .arg("--persist-to")
            .arg(&self.persist)
            .arg("--show-interactive-dev-session=false");
        for (k, v) in &self.vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        cmd.current_dir(root)
            .env("CI", "true")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("SKIP_WORKER_BUILD", "1")
            .env("FORCE_COLOR", "0")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .process_group(0);
        self.started_ms = now_ms();
        let child = cmd.spawn().expect("spawn wrangler dev");
        let pid = child.id() as i32;
        // The child is reaped with waitpid in stop_group/reap; dropping `Child` does not wait.
        drop(child);
        self.pgid = Some(pid);
        lock(&LIVE_GROUPS).push(pid);
        self.wait_ready(pid);
    }

    fn wait_ready(&self, pid: i32) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut said_ready = false;
        loop {
            if Instant::now() > deadline {
                panic!(
                    "wrangler dev not ready within 120 s on port {}; log tail:\n{}",
                    self.port,
                    self.log_tail(4000)
                );
            }
            if !group_alive(pid) {
                panic!(
                    "wrangler dev exited before it was ready; log tail:\n{}",
                    self.log_tail(4000)
                );
            }
            if !said_ready {
                said_ready = self.log_since_start().contains("Ready on http");
            }
            if said_ready {
                if let Ok(r) = minreq::get(self.url("/")).with_timeout(5).send() {
                    if r.status_code == 200 {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the whole process group (SIGTERM, then SIGKILL after ~5 s).
    pub fn stop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            stop_group(pgid);
            lock(&LIVE_GROUPS).retain(|p| *p != pgid);
        }
    }

    /// Stops, then starts again on the same port with the same persisted state and vars.
    pub fn restart(&mut self) {
        self.stop();
        // The port must be free again before wrangler can bind it.
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpListener::bind(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "port {} still busy after stop",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.spawn();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn ws_url(&self, room: &str) -> String {
        format!("ws://127.0.0.1:{}/api/rooms/{}/websocket", self.port, room)
    }

    /// The whole log of this server (all runs).
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(&self.log_path) {
            let mut b = Vec::new();
            let _ = f.read_to_end(&mut b);
            s = String::from_utf8_lossy(&b).into_owned();
        }
        s
    }

    fn log_since_start(&self) -> String {
        let mut b = Vec::new();
        if let Ok(mut f) = File::open(&self.log_path) {
            let _ = f.seek(SeekFrom::Start(self.log_offset));
            let _ = f.read_to_end(&mut b);
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    pub fn log_tail(&self, n: usize) -> String {
        let l = self.log();
        let start = l.len().saturating_sub(n);
        let start = (start..l.len())
            .find(|i| l.is_char_boundary(*i))
            .unwrap_or(l.len());
        l[start..].to_string()
    }

    /// Panics if the wrangler log shows a Rust panic or a Wasm trap.
    pub fn assert_no_panic(&self) {
        let log = self.log();
        for needle in ["panicked", "RuntimeError", "unreachable"] {
            if let Some(i) = log.find(needle) {
                let a = i.saturating_sub(600);
                let a = (a..i).find(|j| log.is_char_boundary(*j)).unwrap_or(i);
                let b = (i + 600).min(log.len());
                let b = (b..log.len())
                    .find(|j| log.is_char_boundary(*j))
                    .unwrap_or(log.len());
                panic!(
                    "wrangler log ({}) contains {needle:?}:\n{}",
                    self.log_path.display(),
                    &log[a..b]
                );
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
        lock(&SCRATCH_DIRS).retain(|d| d != &self.dir);
    }
}

/// One server shared by all tests of a binary (tests use distinct rooms). Stopped at exit.
pub fn shared(cell: &'static OnceLock<Server>, vars: &[(&str, &str)]) -> &'static Server {
    cell.get_or_init(|| Server::start(vars))
}

// ---------------------------------------------------------------------------------------------
// HTTP (blocking, dependency-free client; call from async tests through `spawn_blocking` helpers).

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                clip(&self.body)
            )
        })
    }
}

pub fn http_blocking(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let m = match method {
        "GET" => minreq::Method::Get,
        "POST" => minreq::Method::Post,
        "PUT" => minreq::Method::Put,
        "DELETE" => minreq::Method::Delete,
        "PATCH" => minreq::Method::Patch,
        other => minreq::Method::Custom(other.to_string()),
    };
    let mut req = minreq::Request::new(m, url)
        .with_timeout(30)
        .with_follow_redirects(false);
    for (k, v) in headers {
        req = req.with_header(*k, *v);
    }
    if method == "POST" || method == "PUT" || method == "PATCH" {
        req = req.with_body(Vec::new());
    }
    let r = req
        .send()
        .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
    HttpResponse {
        status: r.status_code,
        headers: r.headers.clone(),
        body: String::from_utf8_lossy(r.as_bytes()).into_owned(),
    }
}

pub async fn http(method: &str, url: String) -> HttpResponse {
    let method = method.to_string();
    tokio::task::spawn_blocking(move || http_blocking(&method, &url, &[]))
        .await
        .unwrap()
}

/// A WebSocket upgrade request sent with a plain HTTP client, for refusals: unlike the WebSocket
/// client, it reads the whole error body. (Never use it on a route that upgrades.)
pub async fn upgrade_request(server: &Server, room: &str) -> HttpResponse {
    let url = server.url(&format!("/api/rooms/{room}/websocket"));
    tokio::task::spawn_blocking(move || {
        http_blocking(
            "GET",
            &url,
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ],
        )
    })
    .await
    .unwrap()
}

/// GET a path, returning status and the JSON body.
pub async fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let r = http("GET", server.url(path)).await;
    (r.status, r.json())
}

/// POST a path (empty body), returning status and the JSON body.
pub async fn post_json(server: &Server, path: &str) -> (u16, Value) {
    let r = http("POST", server.url(path)).await;
    (r.status, r.json())
}

/// Asserts the documented error body shape and code.
pub fn assert_http_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(
        status, want_status,
        "want HTTP {want_status} {want_code}, got {status} {body}"
    );
    assert_eq!(
        body["error"]["code"], want_code,
        "want error code {want_code}, got {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error.message must be a non-empty string: {body}"
    );
}

pub async fn stats(server: &Server, room: &str) -> Value {
    let (st, v) = get_json(server, &format!("/api/rooms/{room}/stats")).await;
    assert_eq!(st, 200, "stats for {room}: {v}");
    v
}

/// Polls stats until `pred` holds (sockets close asynchronously); panics with the last stats.
pub async fn wait_stats(
    server: &Server,
    room: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = stats(server, room).await;
        if pred(&s) {
            return s;
        }
        if Instant::now() > deadline {
            panic!("stats of {room} never reached {what}: {s}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GET /messages with a raw query string, returning the messages (asserting 200).
pub async fn history_page(server: &Server, room: &str, query: &str) -> Vec<Value> {
    let (st, v) = get_json(server, &format!("/api/rooms/{room}/messages{query}")).await;
    assert_eq!(st, 200, "messages{query}: {v}");
    v["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages must be an array: {v}"))
        .clone()
}

// ---------------------------------------------------------------------------------------------
// WebSocket client.

pub fn clip(s: &str) -> String {
    if s.len() <= 400 {
        return s.to_string();
    }
    let mut end = 400;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes)", &s[..end], s.len())
}

/// What arrived on a socket. WebSocket-level Ping/Pong control frames are transport noise that
/// tungstenite answers itself; everything else is reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    /// A close frame: code (None when the frame had no status) and reason.
    Close(Option<u16>, String),
    /// The stream ended (after a close handshake, or the TCP connection closed).
    Ended,
    /// A transport error (e.g. connection reset without a close frame).
    Error(String),
}

impl Frame {
    pub fn describe(&self) -> String {
        match self {
            Frame::Text(t) => format!("text {}", clip(t)),
            other => format!("{other:?}"),
        }
    }
}

pub type Ws = WebSocketStream<TcpStream>;

pub struct Client {
    pub ws: Ws,
    pub room: String,
    pub name: Option<String>,
    pub port: u16,
}

/// A refused upgrade: the HTTP status and body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

pub async fn try_connect_port(port: u16, room: &str) -> Result<Client, Refused> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(10),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .expect("TCP connect timed out")
    .expect("TCP connect failed");
    tcp.set_nodelay(true).unwrap();
    let url = format!("ws://127.0.0.1:{port}/api/rooms/{room}/websocket");
    let Ok(res) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::client_async(url.as_str(), tcp),
    )
    .await
    else {
        panic!("WebSocket handshake to {url} timed out");
    };
    match res {
        Ok((ws, _resp)) => Ok(Client {
            ws,
            room: room.to_string(),
            name: None,
            port,
        }),
        Err(tungstenite::Error::Http(resp)) => Err(Refused {
            status: resp.status().as_u16(),
            body: resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        }),
        Err(e) => panic!("WebSocket handshake to {url} failed: {e}"),
    }
}

pub async fn try_connect(server: &Server, room: &str) -> Result<Client, Refused> {
    try_connect_port(server.port, room).await
}

pub async fn connect(server: &Server, room: &str) -> Client {
    match try_connect(server, room).await {
        Ok(c) => c,
        Err(r) => panic!(
            "upgrade to room {room:?} refused: {} {}",
            r.status,
            clip(&r.body)
        ),
    }
}

/// Connects and joins as `name`; returns the client and its welcome frame.
pub async fn join(server: &Server, room: &str, name: &str) -> (Client, Value) {
    let mut c = connect(server, room).await;
    let w = c.join(name).await;
    (c, w)
}

impl Client {
    pub async fn send_text(&mut self, text: impl Into<String>) {
        let t: String = text.into();
        tokio::time::timeout(RECV_TIMEOUT, self.ws.send(Message::Text(t)))
            .await
            .expect("send timed out")
            .expect("send failed");
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_binary(&mut self, b: Vec<u8>) {
        tokio::time::timeout(RECV_TIMEOUT, self.ws.send(Message::Binary(b)))
            .await
            .expect("send timed out")
            .expect("send failed");
    }

    /// Sends without panicking (for hostile tests where the socket may already be gone).
    pub async fn try_send(&mut self, m: Message) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.ws.send(m)).await,
            Ok(Ok(()))
        )
    }

    /// The next frame within `d`, or None if nothing arrived.
    pub async fn recv_timeout(&mut self, d: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            return match next {
                Err(_) => None,
                Ok(None) => Some(Frame::Ended),
                Ok(Some(Err(tungstenite::Error::ConnectionClosed)))
                | Ok(Some(Err(tungstenite::Error::AlreadyClosed))) => Some(Frame::Ended),
                Ok(Some(Err(e))) => Some(Frame::Error(e.to_string())),
                Ok(Some(Ok(m))) => match m {
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                    Message::Text(t) => Some(Frame::Text(t)),
                    Message::Binary(b) => Some(Frame::Binary(b)),
                    Message::Close(cf) => Some(match cf {
                        Some(cf) => Frame::Close(Some(u16::from(cf.code)), cf.reason.into_owned()),
                        None => Frame::Close(None, String::new()),
                    }),
                },
            };
        }
    }

    /// The next frame; panics if none arrives within RECV_TIMEOUT.
    pub async fn recv(&mut self) -> Frame {
        match self.recv_timeout(RECV_TIMEOUT).await {
            Some(f) => f,
            None => panic!(
                "{}: no frame within {RECV_TIMEOUT:?} (room {})",
                self.who(),
                self.room
            ),
        }
    }

    fn who(&self) -> String {
        self.name.clone().unwrap_or_else(|| "<unjoined>".into())
    }

    /// The next frame, which must be a JSON text frame.
    pub async fn recv_json(&mut self) -> Value {
        let f = self.recv().await;
        match &f {
            Frame::Text(t) => serde_json::from_str(t)
                .unwrap_or_else(|e| panic!("{}: frame is not JSON ({e}): {}", self.who(), clip(t))),
            other => panic!(
                "{}: expected a JSON text frame, got {}",
                self.who(),
                other.describe()
            ),
        }
    }

    /// The next frame must be a JSON frame of this `type`.
    pub async fn expect(&mut self, ty: &str) -> Value {
        let v = self.recv_json().await;
        assert_eq!(
            v["type"],
            ty,
            "{}: expected a {ty:?} frame, got {v}",
            self.who()
        );
        v
    }

    /// The next frame must be `{"type":"error","code":code,"message":"…"}`.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let v = self.recv_json().await;
        assert!(
            v["type"] == "error" && v["code"] == code,
            "{}: expected error {code:?}, got {v}",
            self.who()
        );
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error frames carry a non-empty message: {v}"
        );
        v
    }

    /// Nothing may arrive within `d`.
    pub async fn expect_silence(&mut self, d: Duration) {
        if let Some(f) = self.recv_timeout(d).await {
            panic!(
                "{}: expected no frame within {d:?}, got {}",
                self.who(),
                f.describe()
            );
        }
    }

    /// The next frame must be a close frame; returns its code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        match self.recv().await {
            Frame::Close(code, _) => code,
            other => panic!(
                "{}: expected a close frame, got {}",
                self.who(),
                other.describe()
            ),
        }
    }

    pub async fn join_with(&mut self, frame: Value) -> Value {
        self.send_json(&frame).await;
        let w = self.expect("welcome").await;
        self.name = w["name"].as_str().map(String::from);
        w
    }

    /// Sends a join and expects the welcome.
    pub async fn join(&mut self, name: &str) -> Value {
        self.join_with(json!({"type":"join","name":name})).await
    }

    /// Sends a message and returns the echo (which must carry our name and the trimmed text).
    pub async fn say(&mut self, text: &str) -> Value {
        self.send_json(&json!({"type":"message","text":text})).await;
        let m = self.expect("message").await;
        assert_eq!(m["text"], text.trim(), "echo text: {m}");
        if let Some(n) = &self.name {
            assert_eq!(m["name"], n.as_str(), "echo name: {m}");
        }
        m
    }

    /// Sends a message with a nonce and returns the echo.
    pub async fn say_nonce(&mut self, text: &str, nonce: &str) -> Value {
        self.send_json(&json!({"type":"message","text":text,"nonce":nonce}))
            .await;
        let m = self.expect("message").await;
        assert_eq!(m["nonce"], nonce, "echo nonce: {m}");
        m
    }

    /// Starts the close handshake (`None`: a close frame with no status code) and returns the
    /// code of the server's answering close frame.
    pub async fn close(mut self, code: Option<u16>) -> Option<u16> {
        let frame = code.map(|c| CloseFrame {
            code: CloseCode::from(c),
            reason: "".into(),
        });
        tokio::time::timeout(RECV_TIMEOUT, self.ws.close(frame))
            .await
            .expect("close timed out")
            .expect("close failed");
        loop {
            match self.recv().await {
                Frame::Close(c, _) => return c,
                Frame::Text(t) => {
                    // Frames already in flight before our close may still arrive.
                    let _ = t;
                }
                other => panic!(
                    "{}: expected the server's close frame, got {}",
                    self.who(),
                    other.describe()
                ),
            }
        }
    }

    /// Drops the TCP connection without a close frame, with a RST (SO_LINGER 0).
    pub fn drop_abruptly(self) {
        let _ = self.ws.get_ref().set_zero_linger();
        drop(self);
    }

    /// Drops the TCP connection without a close frame (FIN).
    pub fn drop_silently(self) {
        drop(self);
    }

    /// Writes raw bytes to the TCP stream under the WebSocket (e.g. half a frame).
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        let _ = self.ws.get_mut().write_all(bytes).await;
        let _ = self.ws.get_mut().flush().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions on frames.

/// Asserts `at` is a unix-ms timestamp within 30 s of now.
pub fn assert_recent(v: &Value, field: &str) {
    let at = v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} must be an integer: {v}"));
    let now = now_ms();
    assert!(
        (at - now).abs() < 30_000,
        "{field} = {at} is not close to now ({now}): {v}"
    );
}

pub fn assert_join_frame(v: &Value, name: &str) {
    assert_eq!(v["type"], "join", "expected join: {v}");
    assert_eq!(v["name"], name, "join name: {v}");
    assert_recent(v, "at");
}

pub fn assert_leave_frame(v: &Value, name: &str) {
    assert_eq!(v["type"], "leave", "expected leave: {v}");
    assert_eq!(v["name"], name, "leave name: {v}");
    assert_recent(v, "at");
}

/// The `<message>` fields of a frame or history entry (type, if present, must be "message").
pub fn msg_core(v: &Value) -> Value {
    if let Some(t) = v.get("type") {
        assert_eq!(t, "message", "history entries are message frames: {v}");
    }
    json!({
        "id": v["id"], "name": v["name"], "text": v["text"], "at": v["at"],
        "nonce": v.get("nonce").cloned().unwrap_or(Value::Null),
    })
}

pub fn ids(msgs: &[Value]) -> Vec<i64> {
    msgs.iter()
        .map(|m| {
            m["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("id must be an integer: {m}"))
        })
        .collect()
}

pub fn assert_strictly_increasing(ids: &[i64]) {
    for w in ids.windows(2) {
        assert!(w[0] < w[1], "ids not strictly increasing: {ids:?}");
    }
}

pub fn members(welcome: &Value) -> Vec<String> {
    welcome["members"]
        .as_array()
        .unwrap_or_else(|| panic!("welcome.members must be an array: {welcome}"))
        .iter()
        .map(|m| {
            m.as_str()
                .unwrap_or_else(|| panic!("member names are strings: {welcome}"))
                .to_string()
        })
        .collect()
}

/// Fills a room with `n` messages through throwaway senders (each below the default burst of
/// 20 messages, so the default rate limit never triggers). Returns the echoed frames in order.
/// Each sender joins and leaves, so live members of the room see its join, messages and leave.
pub async fn fill_room(server: &Server, room: &str, n: usize, tag: &str) -> Vec<Value> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let name = uniq("filler");
        let (mut c, _) = join(server, room, &name).await;
        let batch = (n - i).min(18);
        for _ in 0..batch {
            let m = c.say(&format!("{tag} {i}")).await;
            out.push(m);
            i += 1;
        }
        assert_eq!(c.close(Some(1000)).await, Some(1000));
    }
    out
}

/// Reads frames until a `message` frame arrives, returning it and the frames seen before it.
pub async fn recv_until_message(c: &mut Client) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let v = c.recv_json().await;
        if v["type"] == "message" {
            return (v, before);
        }
        before.push(v);
    }
}

/// Small deterministic PRNG (xorshift64*), so hostile tests are reproducible from a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}
