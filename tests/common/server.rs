//! One `wrangler dev` per `Server`, started through the shared launcher's CLI
//! (`node tests/support/devserver.mjs`), which prints the port once the server is ready.
//!
//! Process hygiene: the launcher puts wrangler (and the node/esbuild/workerd processes it spawns)
//! in a process group of its own and never leaves it running after it exits. It stops when we
//! SIGTERM it or when its stdin closes: we hold the write end of that pipe, so even a test binary
//! killed by SIGKILL stops its servers. Normal cleanup is `Drop` (owned servers) or an `atexit`
//! hook (the shared per-binary servers kept in statics, which are never dropped), both of which
//! wait until the launcher is gone. Only processes this harness started are signalled, by PID.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use super::util::now_ms;

const LAUNCHER: &str = "tests/support/devserver.mjs";
/// The launcher's own ready timeout is 90 s; this covers node's start on a loaded machine too.
const READY_WAIT: Duration = Duration::from_secs(120);

// Every live launcher and scratch dir, for the atexit hook.
static LIVE: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static SCRATCH_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static ATEXIT: Once = Once::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

extern "C" fn cleanup_at_exit() {
    let pids: Vec<i32> = std::mem::take(&mut *lock(&LIVE));
    for pid in &pids {
        unsafe {
            libc::kill(*pid, libc::SIGTERM);
        }
    }
    for pid in pids {
        stop_launcher(pid);
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

/// Whether our child `pid` still runs (reaping it if it has exited).
fn running(pid: i32) -> bool {
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) == 0 }
}

fn wait_gone(pid: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while running(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// SIGTERM the launcher, which stops wrangler's group and exits (~2-5 s); SIGKILL its own group if
/// it hangs (wrangler's watchdog then tears wrangler's group down by itself).
fn stop_launcher(pid: i32) {
    if pid <= 1 {
        return;
    }
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    if !wait_gone(pid, Duration::from_secs(15)) {
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        wait_gone(pid, Duration::from_secs(5));
    }
}

/// Removes scratch dirs left by test binaries that died without cleaning up (their launchers
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

pub struct Server {
    /// 0 until the first start; kept across restarts.
    pub port: u16,
    pub dir: PathBuf,
    pub persist: PathBuf,
    pub log_path: PathBuf,
    vars: Vec<(String, String)>,
    /// The launcher (node) and the write end of its stdin, whose closing also stops it.
    launcher: Option<(i32, ChildStdin)>,
    /// Unix ms when the current run was started (before spawning).
    pub started_ms: i64,
}

/// Every test client connects from one loopback address, so the per-address limits are off
/// unless a test sets them (their own tests do, with a `CF-Connecting-IP` per client). The
/// presence grace is off too: most tests expect a closed socket to be a leave at once; the
/// grace's own tests turn it on.
fn with_loopback_defaults(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for name in [
        "ADDRESS_JOINS_PER_MIN",
        "ADDRESS_MAX_MEMBERS",
        "ADDRESS_UNJOINED_MAX",
        "ADDRESS_ROOMS_PER_HOUR",
        "PRESENCE_GRACE_MS",
    ] {
        if !all.iter().any(|(k, _)| k == name) {
            all.push((name.to_string(), "0".to_string()));
        }
    }
    all
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
            port: 0,
            persist: dir.join("state"),
            dir,
            log_path,
            vars: with_loopback_defaults(vars),
            launcher: None,
            started_ms: 0,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        assert!(self.launcher.is_none(), "server already running");
        let root = env!("CARGO_MANIFEST_DIR");
        assert!(
            Path::new(root).join("build/worker/shim.mjs").exists(),
            "build/worker/shim.mjs missing: run `make build` first"
        );
        // The launcher appends wrangler's output to the log; its own complaints go there too.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap();
        let mut cmd = Command::new("node");
        cmd.arg(LAUNCHER)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--persist-to")
            .arg(&self.persist)
            .arg("--log")
            .arg(&self.log_path);
        for (k, v) in &self.vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        cmd.current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .process_group(0);
        self.started_ms = now_ms();
        let mut child = cmd.spawn().expect("spawn node (the wrangler dev launcher)");
        let pid = child.id() as i32;
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // The child is reaped with waitpid in `running`; dropping `Child` does not wait.
        drop(child);
        self.launcher = Some((pid, stdin));
        lock(&LIVE).push(pid);

        // The launcher prints the port once ready, or exits (closing stdout) if it cannot start.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(READY_WAIT).map(|l| l.trim().parse::<u16>()) {
            Ok(Ok(port)) => self.port = port,
            Ok(Err(_)) => {
                self.stop();
                panic!(
                    "wrangler dev did not start; log tail ({}):\n{}",
                    self.log_path.display(),
                    self.log_tail(4000)
                );
            }
            Err(_) => {
                self.stop();
                panic!(
                    "wrangler dev not ready within {READY_WAIT:?}; log tail:\n{}",
                    self.log_tail(4000)
                );
            }
        }
    }

    /// Stops the server and waits until every process of it is gone.
    pub fn stop(&mut self) {
        if let Some((pid, stdin)) = self.launcher.take() {
            stop_launcher(pid);
            drop(stdin);
            lock(&LIVE).retain(|p| *p != pid);
        }
    }

    /// Stops, then starts again on the same port with the same persisted state and vars.
    pub fn restart(&mut self) {
        self.stop();
        // The launcher waits for the port to be free again.
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
        let mut b = Vec::new();
        if let Ok(mut f) = File::open(&self.log_path) {
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

/// Restarts `srv` (same port, same persisted state) off the async runtime: the launcher blocks
/// until the new server is ready.
pub async fn restart_blocking(srv: Server) -> Server {
    tokio::task::spawn_blocking(move || {
        let mut srv = srv;
        srv.restart();
        srv
    })
    .await
    .unwrap()
}
