// bench/run: Chatterly vs. a JS baseline vs. the runtime ceiling, side by side (bench/README.md).
//
// Each measurement starts its own `wrangler dev --local` (own process group, free loopback ports,
// fresh --persist-to directory), runs the Rust load generator against it and stops the group by
// its PID. Servers alternate within every repeat of every configuration, so machine noise spreads
// over all three. Raw results go to bench/results/<stamp>.json, a Markdown table to stdout.
//
// node bench/run.mjs [--quick] [--repeats N] [--configs a,b] [--servers chatterly,baseline,ceiling]
//                    [--storage ram|disk] [--via-proxy] [--memory] [--no-size] [--no-build]
import { spawn, spawnSync, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const WRANGLER = path.join(ROOT, "node_modules/.bin/wrangler");
const WORKERD = path.join(ROOT, "node_modules/.bin/workerd");
const LOADGEN_DIR = path.join(BENCH, "loadgen");
const LOADGEN = path.join(LOADGEN_DIR, "target/release/chatterly-loadgen");
const RESULTS = path.join(BENCH, "results");

// ---------------------------------------------------------------- options
const USAGE = `usage: bench/run [options]
  --quick              one repeat, short runs (~3 min)
  --repeats N          repeats per configuration and server (default 3)
  --configs a,b,...    only these configurations (ids below)
  --servers a,b,...    only these servers: chatterly, baseline, ceiling
  --storage ram|disk   where the RAM-disk configurations keep state (default ram = /dev/shm)
  --via-proxy          load through wrangler's local dev proxy instead of the Worker's own socket
  --memory             the memory run instead: 100,000 messages through a 50-member room (Chatterly)
  --profile            the cost model instead: 1 sender, 1/10/50/200 members; fits server CPU per
                       message = fixed + per-recipient × members, for each server
  --ceiling-joins      let the ceiling announce joins to the room (BROADCAST_JOINS=1), as chat does
  --ceiling-store      let the ceiling insert each message into SQLite first (STORE_MESSAGES=1)
  --ceiling-decoded    let the ceiling make each frame with TextDecoder, as wasm-bindgen does (DECODED_STRINGS=1)
  --cpu-profile        record a V8 CPU profile of the Worker while messages flow (through
                       wrangler's inspector) and print where the time goes; saved as .cpuprofile
  --cpu-profile-joins  the same, but while the members connect and join
  --var NAME:VALUE     an extra wrangler var for every server (repeatable; a diagnostic, e.g.
                       JOIN_TIMEOUT_MS:60000)
  --report FILE        print the tables of a saved bench/results/bench-*.json again
  --no-size            skip the wasm bundle size
  --no-build           do not (re)build the load generator
  --help`;
const opts = {
  quick: false,
  repeats: null,
  configs: null,
  servers: ["chatterly", "baseline", "ceiling"],
  storage: "ram",
  viaProxy: false,
  memory: false,
  profile: false,
  vars: [],
  profileJoins: false,
  ceilingJoins: false,
  ceilingStore: false,
  ceilingDecoded: false,
  cpuProfile: false,
  size: true,
  build: true,
};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const next = () => {
      if (i + 1 >= a.length) die(`${a[i]} needs a value\n${USAGE}`);
      return a[++i];
    };
    switch (a[i]) {
      case "--quick": opts.quick = true; break;
      case "--repeats": opts.repeats = Number(next()); break;
      case "--configs": opts.configs = next().split(","); break;
      case "--servers": opts.servers = next().split(","); break;
      case "--storage": opts.storage = next(); break;
      case "--via-proxy": opts.viaProxy = true; break;
      case "--memory": opts.memory = true; break;
      case "--profile": opts.profile = true; break;
      case "--ceiling-joins": opts.ceilingJoins = true; break;
      case "--ceiling-store": opts.ceilingStore = true; break;
      case "--ceiling-decoded": opts.ceilingDecoded = true; break;
      case "--cpu-profile": opts.cpuProfile = true; break;
      case "--cpu-profile-joins": opts.cpuProfile = true; opts.profileJoins = true; break;
      case "--no-size": opts.size = false; break;
      case "--report": opts.report = next(); break;
      case "--var": opts.vars.push(next()); break;
      case "--no-build": opts.build = false; break;
      case "--help": case "-h": console.log(USAGE); process.exit(0);
      default: die(`unknown option ${a[i]}\n${USAGE}`);
    }
  }
  if (!["ram", "disk"].includes(opts.storage)) die("--storage is ram or disk");
  if (opts.repeats !== null && !(Number.isInteger(opts.repeats) && opts.repeats >= 1 && opts.repeats <= 20)) {
    die("--repeats is 1..20");
  }
  for (const s of opts.servers) if (!["chatterly", "baseline", "ceiling"].includes(s)) die(`unknown server ${s}`);
}
const REPEATS = opts.repeats ?? (opts.quick ? 1 : 3);
const Q = opts.quick;

// ---------------------------------------------------------------- configurations
// Message counts are sized so the slowest server needs a few seconds per run; --quick shrinks them.
const CONFIGS = [
  {
    id: "10m-1s",
    title: "10 members, 1 sender, RAM-disk state",
    storage: "default",
    args: { members: 10, senders: 1, messages: Q ? 8000 : 30000, window: 32 },
    target: { metric: "dps", baseline: 1.2, ceiling: 0.85 },
  },
  {
    id: "100m-10s",
    title: "100 members, 10 senders",
    storage: "default",
    args: { members: 100, senders: 10, messages: Q ? 150 : 500, window: 16 },
    target: { metric: "dps", baseline: 1.1, ceiling: 0.95 },
  },
  {
    id: "500m-10s",
    title: "500 members, 10 senders",
    storage: "default",
    args: { members: 500, senders: 10, messages: Q ? 30 : 60, window: 16 },
    target: { metric: "dps", baseline: 1.0, zeroLoss: true },
  },
  {
    id: "10r-50m",
    title: "10 rooms × 50 members (5 senders each), all at once",
    storage: "default",
    args: { rooms: 10, members: 50, senders: 5, messages: Q ? 40 : 100, window: 16 },
    target: { metric: "dps", baseline: 1.0, zeroLoss: true },
  },
  {
    id: "10m-1s-disk",
    title: "10 members, 1 sender, state on disk",
    storage: "disk",
    args: { members: 10, senders: 1, messages: Q ? 3000 : 10000, window: 32 },
    target: { metric: "dps", baseline: 2.0 },
  },
  {
    id: "p99-10k",
    title: "p99 latency at a fixed 10k deliveries/s, 100 members (10 senders)",
    storage: "default",
    args: { members: 100, senders: 10, rate: 10000, duration: Q ? 6 : 15, warmup: 2 },
    target: { metric: "p99", baseline: 1.0 },
  },
  {
    id: "1000m",
    title: "1000 members in one room (5 senders)",
    storage: "default",
    args: { members: 1000, senders: 5, messages: Q ? 10 : 30, window: 16, "join-timeout": 30 },
    target: { metric: "join", joinMs: 5000, zeroLoss: true },
  },
];

// ---------------------------------------------------------------- helpers
function die(msg) {
  console.error(`bench/run: ${msg}`);
  process.exit(2);
}
const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function cmdOut(cmd, args, cwd = ROOT) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60000 }).trim();
  } catch (e) {
    return `unavailable (${e.message.split("\n")[0]})`;
  }
}

// ---------------------------------------------------------------- CPU profiles (--cpu-profile)
// A DevTools session through wrangler's inspector proxy (ws://127.0.0.1:<inspector-port>/ws).
async function openProfiler(inspectorPort) {
  const WebSocket = createRequire(path.join(ROOT, "package.json"))("ws");
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    setTimeout(() => reject(new Error("inspector connect timeout")), 10000);
  });
  let next = 1;
  const pending = new Map();
  ws.on("message", (data) => {
    let m;
    try { m = JSON.parse(String(data)); } catch { return; }
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  const call = (method, params = {}) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
    ws.send(JSON.stringify({ id, method, params }));
    setTimeout(() => { if (pending.delete(id)) reject(new Error(`${method} timed out`)); }, 30000);
  });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  return { call, close: () => ws.close() };
}

// Self time by function, and by kind (Wasm, JS glue, runtime/native, GC, idle).
function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] || 0;
    total += dt;
    self.set(profile.samples[i], (self.get(profile.samples[i]) || 0) + dt);
  }
  const byFn = new Map();
  const byKind = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    const f = n.callFrame;
    const name = f.functionName || "(anonymous)";
    const url = f.url || "";
    const kind = url.startsWith("wasm://") || /wasm-function|^\$/.test(name) ? "wasm"
      : name === "(garbage collector)" ? "gc"
      : name === "(idle)" ? "idle"
      : name === "(program)" || name === "(root)" ? "runtime (native, outside JS)"
      : "js";
    const key = `${name} ${url.split("/").pop()}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ""}`;
    byFn.set(key, (byFn.get(key) || 0) + t);
    byKind.set(kind, (byKind.get(kind) || 0) + t);
  }
  const busy = total - (byKind.get("idle") || 0);
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, t]) => ({ fn: k, ms: +(t / 1000).toFixed(1), pct_busy: +((100 * t) / busy).toFixed(1) }));
  const kinds = Object.fromEntries([...byKind].map(([k, t]) => [k, { ms: +(t / 1000).toFixed(1), pct_busy: k === "idle" ? null : +((100 * t) / busy).toFixed(1) }]));
  return { total_ms: +(total / 1000).toFixed(1), busy_ms: +(busy / 1000).toFixed(1), kinds, top };
}

function printProfile(p) {
  if (p.error) return log(`  cpu profile: ${p.error}`);
  log(`  cpu profile (${p.file}): busy ${p.busy_ms} ms; ${Object.entries(p.kinds).filter(([k]) => k !== "idle").map(([k, v]) => `${k} ${v.pct_busy}%`).join(", ")}`);
  for (const t of p.top.slice(0, 15)) log(`    ${String(t.pct_busy).padStart(5)}%  ${t.fn}`);
}

// CPU seconds (user + system) of every live process in a process group, and of the machine.
const HZ = 100; // USER_HZ on Linux
function groupCpu(pgid) {
  let ticks = 0;
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${d}/stat`, "utf8"); } catch { continue; }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / HZ;
}
function machineBusy() {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / HZ;
}

// Which Chatterly build a run used: the work tree is shared, and others rebuild while we measure.
function buildId() {
  for (const f of ["build/worker/index.wasm", "build/index_bg.wasm"]) {
    const p = path.join(ROOT, f);
    if (fs.existsSync(p)) {
      const st = fs.statSync(p);
      const h = crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex").slice(0, 12);
      return { wasm: f, sha256: h, bytes: st.size, mtime: st.mtime.toISOString() };
    }
  }
  return null;
}

function compatDate(tomlPath) {
  const m = fs.readFileSync(tomlPath, "utf8").match(/^compatibility_date\s*=\s*"([^"]+)"/m);
  return m ? m[1] : null;
}

const SERVERS = {
  chatterly: { name: "Chatterly", cwd: ROOT, config: path.join(ROOT, "wrangler.toml") },
  baseline: { name: "baseline-js", cwd: path.join(BENCH, "baseline-js"), config: path.join(BENCH, "baseline-js/wrangler.toml") },
  ceiling: { name: "ceiling-js", cwd: path.join(BENCH, "ceiling-js"), config: path.join(BENCH, "ceiling-js/wrangler.toml") },
};

// The process group of the wrangler currently running, so Ctrl-C can stop it.
let current = null;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (current) {
      try { process.kill(-current.pid, "SIGKILL"); } catch {}
    }
    process.exit(130);
  });
}

// Starts `wrangler dev` for a server in its own process group; resolves once it is ready.
async function startServer(key, persistDir) {
  const s = SERVERS[key];
  const port = await freePort();
  const inspector = await freePort();
  const logPath = path.join(path.dirname(persistDir), "wrangler.log");
  const fd = fs.openSync(logPath, "w");
  const env = {
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    SKIP_WORKER_BUILD: "1",
    // Debug logging prints the Worker's own address (`userWorkerUrl`); it logs per request,
    // not per WebSocket message.
    WRANGLER_LOG: "debug",
    PATH: `${path.join(ROOT, "node_modules/.bin")}:${process.env.PATH}`,
  };
  const args = [
    "dev", "--config", s.config, "--local", "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspector), "--show-interactive-dev-session=false",
    "--persist-to", persistDir, "--var", "RATE_LIMIT_PER_SEC:0",
  ];
  for (const v of opts.vars) args.push("--var", v);
  if (key === "ceiling" && opts.ceilingJoins) args.push("--var", "BROADCAST_JOINS:1");
  if (key === "ceiling" && opts.ceilingStore) args.push("--var", "STORE_MESSAGES:1");
  if (key === "ceiling" && opts.ceilingDecoded) args.push("--var", "DECODED_STRINGS:1");
  const child = spawn(WRANGLER, args, { cwd: s.cwd, env, detached: true, stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  let exited = null;
  child.on("exit", (code, signal) => { exited = { code, signal }; });
  child.on("error", (e) => { exited = { error: e.code || String(e) }; });
  current = child;
  const server = { key, child, port, inspector, logPath, url: `http://127.0.0.1:${port}`, directUrl: null };
  const t0 = Date.now();
  while (Date.now() - t0 < 90000) {
    if (exited) break;
    const text = fs.readFileSync(logPath, "utf8");
    if (!server.directUrl) {
      const m = text.match(/"userWorkerUrl":\{"protocol":"http:","hostname":"([0-9.]+)","port":"(\d+)"\}/);
      if (m) server.directUrl = `http://${m[1]}:${m[2]}`;
    }
    if (/Ready on http/.test(text) && (opts.viaProxy || server.directUrl)) {
      const probes = [server.url];
      if (!opts.viaProxy) probes.push(server.directUrl);
      let ok = true;
      for (const u of probes) {
        try {
          const r = await fetch(`${u}/`, { signal: AbortSignal.timeout(3000) });
          await r.arrayBuffer();
          if (r.status >= 500) ok = false;
        } catch {
          ok = false;
        }
      }
      if (ok) {
        server.startMs = Date.now() - t0;
        return server;
      }
    }
    await sleep(200);
  }
  await stopServer(server);
  throw new Error(`${key} did not become ready (exit ${JSON.stringify(exited)}); log: ${logPath}`);
}

async function stopServer(server) {
  const { child } = server;
  if (child.pid === undefined) return; // never started (spawn failed)
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once("exit", r));
    try { process.kill(-child.pid, "SIGTERM"); } catch {}
    const t = await Promise.race([gone.then(() => true), sleep(8000).then(() => false)]);
    if (!t) {
      try { process.kill(-child.pid, "SIGKILL"); } catch {}
      await Promise.race([gone, sleep(3000)]);
    }
  }
  // The group may outlive its leader by a moment (workerd children).
  for (let i = 0; i < 20; i++) {
    try { process.kill(-child.pid, 0); } catch { break; }
    if (i === 10) { try { process.kill(-child.pid, "SIGKILL"); } catch {} }
    await sleep(200);
  }
  if (current === child) current = null;
}

function loadgenArgs(url, cfg, room) {
  const a = ["--url", url, "--room-prefix", room, "--json-only"];
  for (const [k, v] of Object.entries(cfg.args)) a.push(`--${k}`, String(v));
  return a;
}

// Runs the load generator; onPhase(name) is called at its phase markers ("send", "delivered").
function runLoadgen(args, timeoutMs, onPhase = () => {}) {
  return new Promise((resolve) => {
    const child = spawn(LOADGEN, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      for (const m of String(d).matchAll(/^loadgen-phase: (\w+)$/gm)) onPhase(m[1]);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      let json = null;
      try { json = JSON.parse(line); } catch {}
      resolve({ code, json, stderr: err.trim() });
    });
  });
}

function stateDir(kind, tag) {
  const base = kind === "ram" ? "/dev/shm" : path.join(os.tmpdir());
  const d = fs.mkdtempSync(path.join(base, `chatterly-bench-${tag}-`));
  const p = path.join(d, "state");
  fs.mkdirSync(p);
  return { root: d, persist: p };
}

// One measurement; if the server could not start (e.g. someone reinstalling node_modules on a
// shared machine), wait for wrangler to be back and try once more.
async function measure(key, cfg, repeat) {
  const r = await measureOnce(key, cfg, repeat);
  if (r.reloaded) r.error = "wrangler reloaded the Worker during the run (src/ changed)";
  if (!r.error) return r;
  log(`bench: ${key} ${cfg.id}: ${r.error.split("\n")[0]}; retrying once`);
  for (let i = 0; i < 60 && !fs.existsSync(WRANGLER); i++) await sleep(2000);
  await sleep(5000);
  const again = await measureOnce(key, cfg, repeat);
  if (again.reloaded) again.error = "wrangler reloaded the Worker during the run (src/ changed)";
  again.retried = r.error;
  return again;
}

// One measurement: fresh wrangler + fresh state, one loadgen run.
async function measureOnce(key, cfg, repeat) {
  const kind = cfg.storage === "disk" ? "disk" : cfg.storage === "ram" ? "ram" : opts.storage;
  const dir = stateDir(kind, `${key}-${cfg.id}`);
  let server;
  let result = null;
  const buildIdAtStart = key === "chatterly" ? buildId() : undefined;
  try {
    server = await startServer(key, dir.persist);
    const url = opts.viaProxy ? server.url : server.directUrl;
    const room = `b${repeat}-${cfg.id.replace(/[^a-z0-9-]/g, "")}`.slice(0, 24);
    const loadavg = os.loadavg()[0];
    const cpu0 = groupCpu(server.child.pid);
    const busy0 = machineBusy();
    const t0 = Date.now();
    const phase = {};
    let profiler = null;
    let profiling = null;
    if (opts.cpuProfile) profiler = await openProfiler(server.inspector);
    if (profiler && opts.profileJoins) await profiler.call("Profiler.start");
    const r = await runLoadgen(loadgenArgs(url, cfg, room), 300000, (name) => {
      phase[name] = { cpu: groupCpu(server.child.pid), t: Date.now() };
      if (!profiler) return;
      if (opts.profileJoins) {
        if (name === "send") profiling = profiler.call("Profiler.stop");
      } else {
        if (name === "send") profiling = profiler.call("Profiler.start");
        if (name === "delivered") profiling = (profiling || Promise.resolve()).then(() => profiler.call("Profiler.stop"));
      }
    });
    let profileSummary = null;
    if (profiler) {
      try {
        const stopped = await profiling;
        if (stopped?.profile) {
          fs.mkdirSync(RESULTS, { recursive: true });
          const f = path.join(RESULTS, `${key}-${cfg.id}-${repeat}-${Date.now()}.cpuprofile`);
          fs.writeFileSync(f, JSON.stringify(stopped.profile));
          profileSummary = { file: path.relative(ROOT, f), ...summarizeProfile(stopped.profile) };
        }
      } catch (e) {
        profileSummary = { error: String(e.message || e) };
      }
      profiler.close();
    }
    const wallMs = Date.now() - t0;
    // Server CPU while messages flowed (after all joins), per delivery: less sensitive to other
    // load on the machine than wall-clock throughput.
    const sendCpu = phase.send && phase.delivered ? phase.delivered.cpu - phase.send.cpu : NaN;
    // CPU the server's process group used during the load (the Worker's workerd, mostly) and
    // what the rest of the machine used besides it and the load generator (other people's work).
    const serverCpu = groupCpu(server.child.pid) - cpu0;
    const busy = machineBusy() - busy0;
    const lgCpu = r.json?.loadgen_cpu_s ?? 0;
    const cpu = {
      server_s: +serverCpu.toFixed(2),
      loadgen_s: lgCpu,
      other_s: +Math.max(0, busy - serverCpu - lgCpu).toFixed(2),
      wall_s: wallMs / 1000,
      send_phase_server_s: Number.isFinite(sendCpu) ? +sendCpu.toFixed(2) : null,
      join_phase_server_s: phase.send ? +(phase.send.cpu - cpu0).toFixed(2) : null,
      server_us_per_delivery: r.json?.deliveries && Number.isFinite(sendCpu) ? +((sendCpu * 1e6) / r.json.deliveries).toFixed(2) : null,
      server_us_per_message: r.json?.sent && Number.isFinite(sendCpu) ? +((sendCpu * 1e6) / r.json.sent).toFixed(1) : null,
    };
    // wrangler watches the root's src/ and reloads the Worker when someone edits it (this is a
    // shared work tree): such a run is void.
    const reloaded = /Detected changes, restarted server|"type":"reloadStart"/.test(fs.readFileSync(server.logPath, "utf8").split("Ready on http").slice(1).join(""));
    result = { server: key, config: cfg.id, repeat, storage: kind, reloaded, build: key === "chatterly" ? buildIdAtStart : undefined, startMs: server.startMs, wallMs, loadavg1: loadavg, cpu, profile: profileSummary, exit: r.code, result: r.json, stderr: r.stderr.slice(0, 2000) };
    return result;
  } catch (e) {
    result = { server: key, config: cfg.id, repeat, storage: kind, error: String(e.message || e) };
    return result;
  } finally {
    if (server) await stopServer(server);
    // Keep the wrangler log only when something went wrong.
    if (!result || result.error || !result.result || result.result.error) {
      const logPath = path.join(dir.root, "wrangler.log");
      if (fs.existsSync(logPath)) {
        fs.mkdirSync(RESULTS, { recursive: true });
        const keep = path.join(RESULTS, `failed-${Date.now()}-${key}-${cfg.id}-${repeat}.log`);
        fs.copyFileSync(logPath, keep);
        if (result) result.log = path.relative(ROOT, keep);
      }
    }
    fs.rmSync(dir.root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- environment
function environment() {
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) || [])[1] || "unknown";
  return {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    cpu,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    wrangler: cmdOut(WRANGLER, ["--version"]).split("\n").pop(),
    workerd: cmdOut(WORKERD, ["--version"]),
    rustc: cmdOut("rustc", ["--version"]),
    commit: cmdOut("git", ["rev-parse", "--short", "HEAD"]),
    dirty: cmdOut("git", ["status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock", "wrangler.toml"]) !== "",
    build: buildId(),
    transport: opts.viaProxy ? "wrangler dev proxy" : "Worker's own socket (wrangler's userWorkerUrl)",
    loadavg: os.loadavg().map((x) => x.toFixed(2)),
  };
}

function bundleSize() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "chatterly-dryrun-"));
  try {
    const env = { ...process.env, CI: "true", SKIP_WORKER_BUILD: "1", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
    const r = spawnSync(WRANGLER, ["deploy", "--dry-run", "--outdir", out], { cwd: ROOT, env, encoding: "utf8", timeout: 120000, stdio: ["ignore", "pipe", "pipe"] });
    const wasm = fs.readdirSync(out).filter((f) => f.endsWith(".wasm"));
    if (r.status !== 0 || !wasm.length) return { error: `dry-run failed (exit ${r.status}): ${(r.stderr || "").slice(-500)}` };
    const buf = fs.readFileSync(path.join(out, wasm[0]));
    const gz = zlib.gzipSync(buf, { level: 9 }).length;
    const all = fs.readdirSync(out).map((f) => ({ file: f, bytes: fs.statSync(path.join(out, f)).size }));
    return { file: wasm[0], raw: buf.length, gzip: gz, files: all };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- summary
function summarize(runs, configs, servers) {
  const rows = [];
  for (const cfg of configs) {
    const row = { config: cfg, per: {} };
    for (const s of servers) {
      const rs = runs.filter((r) => r.config === cfg.id && r.server === s);
      const good = rs.filter((r) => r.result && !r.result.error);
      const pick = (f) => good.map(f).filter((x) => Number.isFinite(x));
      const v = {
        n: rs.length,
        failed: rs.length - good.length,
        dps: pick((r) => r.result.deliveries_per_s),
        p99: pick((r) => r.result.latency_ms.p99),
        p50: pick((r) => r.result.latency_ms.p50),
        join: pick((r) => r.result.join_total_ms),
        cpu: pick((r) => r.cpu?.server_us_per_delivery),
        dpcs: pick((r) => (r.cpu?.server_us_per_delivery ? 1e6 / r.cpu.server_us_per_delivery : NaN)),
        other: pick((r) => r.cpu?.other_s),
        joinCpu: pick((r) => r.cpu?.join_phase_server_s),
        lost: good.reduce((a, r) => a + r.result.lost + r.result.duplicated + r.result.out_of_order + r.result.id_order_violations, 0),
        notOk: good.filter((r) => !r.result.ok).length,
        errors: rs.filter((r) => r.error || (r.result && r.result.error)).map((r) => r.error || r.result.error),
      };
      row.per[s] = v;
    }
    rows.push(row);
  }
  return rows;
}

const fmtN = (x) => (Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x >= 10 ? 1 : 2)) : "–");
function cell(xs) {
  if (!xs.length) return "–";
  if (xs.length === 1) return fmtN(xs[0]);
  return `${fmtN(median(xs))} (${fmtN(Math.min(...xs))}–${fmtN(Math.max(...xs))})`;
}
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const fmtR = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–");

function markdown(rows, servers, size) {
  const has = (s) => servers.includes(s);
  const lines = [];
  lines.push("| configuration | metric | Chatterly | baseline-js | ceiling-js | Chatterly / baseline | Chatterly / ceiling | target | met? |");
  lines.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const { config: cfg, per } of rows) {
    const c = per.chatterly, b = per.baseline, k = per.ceiling;
    const t = cfg.target;
    const loss = (v) => (v ? (v.lost === 0 && v.notOk === 0 && v.failed === 0 ? "0" : `${v.lost} (${v.notOk + v.failed} bad runs)`) : "–");
    if (t.metric === "dps" || t.metric === "join") {
      const rb = has("chatterly") && has("baseline") ? ratio(median(c.dps), median(b.dps)) : NaN;
      const rk = has("chatterly") && has("ceiling") ? ratio(median(c.dps), median(k.dps)) : NaN;
      let target = [], met = [];
      if (t.baseline) { target.push(`≥ ${t.baseline} × baseline`); met.push(Number.isFinite(rb) ? rb >= t.baseline : null); }
      if (t.ceiling) { target.push(`≥ ${t.ceiling} × ceiling`); met.push(Number.isFinite(rk) ? rk >= t.ceiling : null); }
      if (t.zeroLoss || t.metric === "join") { target.push("zero loss"); met.push(c ? c.lost === 0 && c.notOk === 0 && c.failed === 0 && c.n > 0 : null); }
      if (t.metric === "join") {
        target.unshift(`join < ${t.joinMs / 1000} s`);
        met.unshift(c && c.n > 0 ? c.failed === 0 && c.join.length > 0 && Math.max(...c.join) < t.joinMs : null);
      }
      const metS = met.includes(null) || !met.length ? "–" : met.every(Boolean) ? "yes" : "**no**";
      lines.push(`| ${cfg.title} | deliveries/s, median (min–max) | ${c ? cell(c.dps) : "–"} | ${b ? cell(b.dps) : "–"} | ${k ? cell(k.dps) : "–"} | ${fmtR(rb)} | ${fmtR(rk)} | ${target.join(", ")} | ${metS} |`);
      const rc = has("chatterly") && has("baseline") ? ratio(median(c.dpcs), median(b.dpcs)) : NaN;
      const rck = has("chatterly") && has("ceiling") ? ratio(median(c.dpcs), median(k.dpcs)) : NaN;
      lines.push(`| ${cfg.title} | deliveries per server CPU-second | ${c ? cell(c.dpcs) : "–"} | ${b ? cell(b.dpcs) : "–"} | ${k ? cell(k.dpcs) : "–"} | ${fmtR(rc)} | ${fmtR(rck)} | | |`);
      if (t.metric === "join") {
        lines.push(`| ${cfg.title} | connect+join of all members, ms | ${c ? cell(c.join) : "–"} | ${b ? cell(b.join) : "–"} | ${k ? cell(k.join) : "–"} | | | < ${t.joinMs} ms | |`);
        lines.push(`| ${cfg.title} | server CPU s during the joins | ${c ? cell(c.joinCpu) : "–"} | ${b ? cell(b.joinCpu) : "–"} | ${k ? cell(k.joinCpu) : "–"} | | | | |`);
      }
      lines.push(`| ${cfg.title} | lost + duplicated + out-of-order | ${loss(c)} | ${loss(b)} | ${loss(k)} | | | 0 | |`);
    } else if (t.metric === "p99") {
      const rb = has("chatterly") && has("baseline") ? ratio(median(c.p99), median(b.p99)) : NaN;
      const rk = has("chatterly") && has("ceiling") ? ratio(median(c.p99), median(k.p99)) : NaN;
      const met = Number.isFinite(rb) ? (rb <= 1 ? "yes" : "**no**") : "–";
      lines.push(`| ${cfg.title} | p99 latency ms, median (min–max) | ${c ? cell(c.p99) : "–"} | ${b ? cell(b.p99) : "–"} | ${k ? cell(k.p99) : "–"} | ${fmtR(rb)} | ${fmtR(rk)} | ≤ baseline's | ${met} |`);
      lines.push(`| ${cfg.title} | p50 latency ms | ${c ? cell(c.p50) : "–"} | ${b ? cell(b.p50) : "–"} | ${k ? cell(k.p50) : "–"} | | | | |`);
      lines.push(`| ${cfg.title} | achieved deliveries/s | ${c ? cell(c.dps) : "–"} | ${b ? cell(b.dps) : "–"} | ${k ? cell(k.dps) : "–"} | | | 10,000 | |`);
      lines.push(`| ${cfg.title} | lost + duplicated + out-of-order | ${loss(c)} | ${loss(b)} | ${loss(k)} | | | 0 | |`);
    }
  }
  if (size) {
    if (size.error) lines.push(`| wasm bundle | gzip | ${size.error} | | | | | ≤ 250 KiB gzip | – |`);
    else {
      const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
      lines.push(`| wasm bundle (\`wrangler deploy --dry-run\`) | raw / gzip -9 | ${kib(size.raw)} / ${kib(size.gzip)} | | | | | ≤ 250 KiB gzip | ${size.gzip <= 250 * 1024 ? "yes" : "**no**"} |`);
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------- main
async function buildLoadgen() {
  if (!opts.build && fs.existsSync(LOADGEN)) return;
  log("bench: building the load generator (cargo build --release)…");
  const r = spawnSync("cargo", ["build", "--release", "--quiet"], { cwd: LOADGEN_DIR, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) die("cargo build of bench/loadgen failed");
}

function checkPrereqs(servers) {
  if (!fs.existsSync(WRANGLER)) die("node_modules/.bin/wrangler is missing: run `make setup` (or npm ci) first");
  const root = compatDate(path.join(ROOT, "wrangler.toml"));
  for (const k of ["baseline", "ceiling"]) {
    const d = compatDate(SERVERS[k].config);
    if (d !== root) log(`bench: WARNING ${k} compatibility_date ${d} differs from the root's ${root}`);
  }
  if (servers.includes("chatterly")) {
    // worker-build 0.8 writes build/worker/shim.mjs and the Wasm beside its JS glue.
    const wasm = ["build/worker/index.wasm", "build/index_bg.wasm"].some((f) => fs.existsSync(path.join(ROOT, f)));
    if (!fs.existsSync(path.join(ROOT, "build/worker/shim.mjs")) || !wasm) {
      die("the Worker is not built (build/worker/shim.mjs + its .wasm): run `make build` first, or pass --servers baseline,ceiling");
    }
  }
}

async function memoryRun() {
  checkPrereqs(["chatterly"]);
  await buildLoadgen();
  const env = environment();
  const cfg = {
    id: "memory",
    storage: "ram",
    args: { members: 50, senders: 5, messages: Q ? 4000 : 20000, window: 16, "stats-every": Q ? 2000 : 5000, "max-time": 900, "drain-timeout": 30 },
  };
  log(`bench: memory run, ${cfg.args.senders * cfg.args.messages} messages through a 50-member room (Chatterly, RAM disk)`);
  const r = await measure("chatterly", cfg, 0);
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `memory-${env.date.replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ env, run: r }, null, 1));
  if (!r.result || r.result.error) die(`memory run failed: ${r.error || r.result?.error || r.stderr}`);
  const res = r.result;
  console.log(`\nMemory run: ${res.sent} messages, 50 members, ${fmtN(res.deliveries_per_s)} deliveries/s, lost ${res.lost}, ok ${res.ok}\n`);
  console.log("| messages echoed | memory_bytes | MiB | messages_stored | at s | stats request ms |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const s of res.stats_samples) {
    const mb = s.stats?.memory_bytes;
    console.log(`| ${s.messages.toLocaleString("en-US")}${s.after_drain ? " (after drain)" : ""} | ${mb ?? "–"} | ${mb ? (mb / 2 ** 20).toFixed(2) : "–"} | ${s.stats?.messages_stored ?? "–"} | ${s.t_s.toFixed(1)} | ${s.request_ms?.toFixed(0) ?? "–"} |`);
  }
  console.log(`\nraw: ${path.relative(ROOT, file)}`);
}

// Cost model: server CPU per message as a function of the room size, one sender, closed loop.
const PROFILE_MEMBERS = [1, 10, 50, 200];
function fit(points) {
  // Least squares y = a + b x.
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

async function profileRun() {
  const servers = ["chatterly", "baseline", "ceiling"].filter((s) => opts.servers.includes(s));
  checkPrereqs(servers);
  await buildLoadgen();
  const env = environment();
  const configs = PROFILE_MEMBERS.map((m) => ({
    id: `profile-${m}m`,
    storage: "default",
    args: { members: m, senders: 1, messages: Math.round((Q ? 40000 : 120000) / Math.max(m, 4)), window: 32 },
  }));
  log(`bench: cost model, ${servers.join(", ")}, members ${PROFILE_MEMBERS.join("/")}, ${REPEATS} repeat(s)`);
  const runs = [];
  for (const cfg of configs) {
    for (let rep = 0; rep < REPEATS; rep++) {
      const order = servers.map((_, i) => servers[(i + rep) % servers.length]);
      for (const key of order) {
        const r = await measure(key, cfg, rep);
        runs.push(r);
        const perMsg = r.cpu?.server_us_per_message ?? NaN;
        r.server_us_per_message = perMsg;
        log(`${cfg.id.padEnd(14)} #${rep + 1} ${SERVERS[key].name.padEnd(11)} ${r.error || r.result?.error || `${fmtN(r.result.deliveries_per_s)} deliveries/s, server ${fmtN(perMsg)} µs CPU/message, others' CPU ${r.cpu.other_s} s`}`);
        if (r.profile) printProfile(r.profile);
      }
    }
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `profile-${env.date.replace(/[:.]/g, "-")}.json`);
  const model = {};
  console.log(`\n### Cost model: server CPU µs per message while messages flow, by room size (1 sender, ${REPEATS} repeat(s), medians)\n`);
  console.log(`| server | ${PROFILE_MEMBERS.map((m) => `${m} member${m > 1 ? "s" : ""}`).join(" | ")} | µs per extra recipient, 10→50 | 50→200 |`);
  console.log(`| --- | ${PROFILE_MEMBERS.map(() => "---:").join(" | ")} | ---: | ---: |`);
  for (const s of servers) {
    const pts = PROFILE_MEMBERS.map((m) => [m, median(runs.filter((r) => r.server === s && r.config === `profile-${m}m`).map((r) => r.server_us_per_message).filter(Number.isFinite))]);
    const c = Object.fromEntries(pts);
    const marg = [(c[50] - c[10]) / 40, (c[200] - c[50]) / 150];
    model[s] = { points: pts, marginal_10_50: marg[0], marginal_50_200: marg[1], fit: fit(pts.filter((p) => Number.isFinite(p[1]))) };
    console.log(`| ${SERVERS[s].name} | ${pts.map((p) => fmtN(p[1])).join(" | ")} | ${fmtN(marg[0])} | ${fmtN(marg[1])} |`);
  }
  fs.writeFileSync(file, JSON.stringify({ env, opts, runs, model }, null, 1));
  console.log(`\nraw: ${path.relative(ROOT, file)}`);
}

function printReport(file) {
  const d = JSON.parse(fs.readFileSync(file, "utf8"));
  const servers = ["chatterly", "baseline", "ceiling"].filter((s) => d.runs.some((r) => r.server === s));
  const configs = d.configs.filter((c) => d.runs.some((r) => r.config === c.id));
  const md = markdown(summarize(d.runs, configs, servers), servers, d.size);
  const e = d.env;
  console.log(`### Results: ${e.date.slice(0, 10)}, ${e.nproc} × ${e.cpu}, ${d.repeats} repeat(s)\n`);
  console.log(`wrangler ${e.wrangler}, ${e.workerd}, ${e.rustc}, Node.js ${e.node}; commit ${e.commit}; load via ${e.transport}.\n`);
  console.log(md);
}

async function main() {
  if (opts.report) return printReport(opts.report);
  if (opts.memory) return memoryRun();
  if (opts.profile) return profileRun();
  const servers = ["chatterly", "baseline", "ceiling"].filter((s) => opts.servers.includes(s));
  const configs = opts.configs ? CONFIGS.filter((c) => opts.configs.includes(c.id)) : CONFIGS;
  if (opts.configs) for (const id of opts.configs) if (!CONFIGS.some((c) => c.id === id)) die(`unknown configuration ${id}; known: ${CONFIGS.map((c) => c.id).join(", ")}`);
  checkPrereqs(servers);
  await buildLoadgen();
  const env = environment();
  log(`bench: ${env.date}, ${env.nproc} × ${env.cpu}, wrangler ${env.wrangler}, ${env.workerd}, ${env.rustc}`);
  log(`bench: ${configs.length} configurations × ${servers.length} servers × ${REPEATS} repeats, transport: ${env.transport}`);
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `bench-${env.date.replace(/[:.]/g, "-")}${Q ? "-quick" : ""}.json`);
  const runs = [];
  const t0 = Date.now();
  const save = (extra = {}) => fs.writeFileSync(file, JSON.stringify({ env, opts, repeats: REPEATS, configs, runs, ...extra }, null, 1));
  for (const cfg of configs) {
    for (let rep = 0; rep < REPEATS; rep++) {
      // Alternate: rotate the server order every repeat.
      const order = servers.map((_, i) => servers[(i + rep) % servers.length]);
      for (const key of order) {
        const r = await measure(key, cfg, rep);
        runs.push(r);
        save();
        const res = r.result;
        const what = r.error || res?.error
          ? `ERROR ${r.error || res.error}`
          : `${fmtN(res.deliveries_per_s)} deliveries/s, p50 ${res.latency_ms.p50} ms, p99 ${res.latency_ms.p99} ms, join ${Math.round(res.join_total_ms)} ms, lost ${res.lost} dup ${res.duplicated} ooo ${res.out_of_order}${res.ok ? "" : " NOT OK"}; server ${r.cpu.server_us_per_delivery} µs CPU/delivery, others' CPU ${r.cpu.other_s} s`;
        log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${cfg.id.padEnd(12)} #${rep + 1} ${SERVERS[key].name.padEnd(11)} ${what}`);
        if (r.profile) printProfile(r.profile);
      }
    }
  }
  let size = null;
  if (opts.size && servers.includes("chatterly")) {
    log("bench: wasm bundle size (wrangler deploy --dry-run)…");
    size = bundleSize();
  }
  const rows = summarize(runs, configs, servers);
  const md = markdown(rows, servers, size);
  save({ size, totalSeconds: (Date.now() - t0) / 1000, markdown: md });
  console.log(`\n### Results: ${env.date.slice(0, 10)}, ${env.nproc} × ${env.cpu}, ${REPEATS} repeat(s)${Q ? " (--quick)" : ""}\n`);
  console.log(`wrangler ${env.wrangler}, ${env.workerd}, ${env.rustc}, Node.js ${env.node}; commit ${env.commit}${env.dirty ? " (+ uncommitted changes)" : ""}; state ${opts.storage === "ram" ? "on /dev/shm" : "on disk"} unless noted; load via ${env.transport}.\n`);
  console.log(md);
  const bad = runs.filter((r) => r.error || r.result?.error || (r.result && !r.result.ok));
  if (bad.length) {
    console.log(`\nFailed or not-ok runs (${bad.length}):`);
    for (const r of bad) console.log(`- ${r.config} #${r.repeat + 1} ${SERVERS[r.server].name}: ${r.error || r.result?.error || `lost ${r.result.lost}, errors ${JSON.stringify(r.result.errors)}, closed early ${r.result.closed_early}`}`);
  }
  const builds = [...new Set(runs.filter((r) => r.build).map((r) => r.build.sha256))];
  if (builds.length > 1) console.log(`\nWARNING: the Chatterly build changed during the run (${builds.join(", ")}): someone rebuilt it.`);
  else if (builds.length === 1) console.log(`\nChatterly build: ${env.build?.wasm} sha256 ${builds[0]}… (${env.build?.bytes} bytes, built ${env.build?.mtime}).`);
  console.log(`\nraw: ${path.relative(ROOT, file)}  (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
}

main().catch((e) => {
  if (current) { try { process.kill(-current.pid, "SIGKILL"); } catch {} }
  die(e.stack || String(e));
});
