// The one launcher for `wrangler dev --local`: the Rust integration tests use its CLI, the browser
// tests and the benchmark import startDevServer. The Worker must already be built: wrangler runs
// with SKIP_WORKER_BUILD=1, so the `[build]` command is skipped.
//
// Module
//   import { startDevServer } from './tests/support/devserver.mjs';
//   const server = await startDevServer({
//     config = 'wrangler.toml',  // --config, relative to cwd
//     cwd = <repo root>,
//     vars = {},                 // { NAME: 'value' }, each passed as --var NAME:value
//     persistTo,                 // --persist-to DIR (Durable Object storage); default: wrangler's own
//     logLevel,                  // --log-level (debug|info|log|warn|error|none); default: wrangler's
//     ip = '127.0.0.1',          // the socket to serve on...
//     port = 0,                  // ...0 picks a free port
//     inspectorPort = 0,         // 0 picks a free port, so several servers can run at once
//     readyTimeoutMs = 90000,    // the one timeout for the whole start
//     logFile,                   // also append wrangler's output to this file (as it arrives)
//     env = {},                  // extra environment for wrangler (e.g. { WRANGLER_LOG: 'debug' })
//     echo = false,              // also copy wrangler's output to this process's stderr
//   });
//   server = { port, url, pid, inspectorPort, logs(), reloaded(), exited, stop() }
//     url          'http://127.0.0.1:<port>'
//     pid          leader of the process group that holds wrangler, node, esbuild and workerd
//     logs()       wrangler's output so far (stdout and stderr, as text)
//     reloaded()   true when wrangler reloaded the Worker after it was ready (someone edited
//                  src/ in this work tree): a measurement taken across a reload is void
//     exited       a Promise of { code, signal } once the group's leader has exited
//     stop()       a Promise: SIGTERM to the group, SIGKILL after 5 s, resolved once the group is gone
//   Ready means "Ready on http" in the log AND an HTTP response below 500 from a probe of `/`.
//   It rejects (after stopping what it started) when wrangler exits early or the timeout passes.
//
// CLI
//   node tests/support/devserver.mjs [--config F] [--var K:V]... [--persist-to DIR]
//     [--log-level L] [--ip IP] [--port P] [--inspector-port P] [--log FILE] [--ready-timeout MS]
//   prints the port (the number alone, one line) on stdout once ready; wrangler's output goes to
//   --log FILE (appended), else to stderr. It then runs until SIGTERM, SIGINT or SIGHUP, until its
//   stdin closes (when stdin is a pipe: a parent that holds the write end and dies, even by SIGKILL,
//   stops it), or until its parent process dies; then it stops wrangler and exits 0. It exits 1
//   when wrangler does not become ready or exits on its own (the reason and log tail on stderr).
//
// Nothing outlives us: wrangler runs under a small bash watchdog that leads its process group and
// tears the whole group down if this node process disappears, even by SIGKILL; an exit hook kills
// what is still running when node exits normally. Only groups started here are ever signalled.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STOP_GRACE_MS = 5_000;
const LOG_CAP = 32 * 1024 * 1024;
// Wrangler's lines when it reloads the Worker: 4.86 at info level, at WRANGLER_LOG=debug, and
// older wranglers.
const RELOAD = /Reloading local server|"type":"reloadStart"|Detected changes, restarted server/;

// Runs "$@" (wrangler) in the background of a shell that leads the process group. If $1 (our node
// process) disappears, the shell kills the whole group. A parent that was SIGKILLed stays a zombie
// until its own parent reaps it, and `kill -0` still succeeds on a zombie: hence /proc (when there
// is one). The shell ignores SIGTERM only after wrangler has been forked, so wrangler keeps the
// default disposition; the shell exits with wrangler.
const WATCHDOG = `
alive() {
  if [ -d /proc/self ]; then
    local s
    read -r s 2>/dev/null < "/proc/$1/stat" || return 1
    s=\${s##*) }
    [ "\${s%% *}" != Z ]
  else
    kill -0 "$1" 2>/dev/null
  fi
}
parent="$1"; shift
"$@" &
child=$!
trap '' TERM
while kill -0 "$child" 2>/dev/null; do
  if ! alive "$parent"; then
    kill -TERM -- -$$ 2>/dev/null
    sleep 5
    kill -KILL -- -$$ 2>/dev/null
    exit 1
  fi
  sleep 0.5
done
wait "$child"
`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Every group this process started and has not stopped yet: pid -> stop().
const running = new Map();
process.once('exit', () => {
  for (const pid of running.keys()) signalGroup(pid, 'SIGKILL');
});

function signalGroup(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone
  }
}

// Whether any process of the group still runs. A zombie (exited, waiting for init to reap it, which
// can take seconds here) holds no port and no file: it does not count.
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
  } catch (e) {
    if (e.code === 'ESRCH') return false;
  }
  if (!fs.existsSync('/proc/self/stat')) return true;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After "pid (comm) ": state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    if (Number(pgrp) === pid && state !== 'Z') return true;
  }
  return false;
}

/** A TCP port that is free on `ip` right now. */
export function freePort(ip = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, ip, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(ip, port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, ip, () => srv.close(() => resolve(true)));
  });
}

/** Stops every server this process started (e.g. from a Ctrl-C handler). */
export async function stopAll() {
  await Promise.all([...running.values()].map((stop) => stop()));
}

// One GET with its own connection, closed as soon as the status is known: wrangler's dev proxy
// keeps connections open ~5 s, so never wait for the socket to end.
function probe(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 3000, headers: { connection: 'close' } }, (res) => {
      resolve(res.statusCode);
      res.destroy();
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

export async function startDevServer({
  config = 'wrangler.toml',
  cwd = REPO_ROOT,
  vars = {},
  persistTo,
  logLevel,
  ip = '127.0.0.1',
  port = 0,
  inspectorPort = 0,
  readyTimeoutMs = 90_000,
  logFile,
  env = {},
  echo = false,
} = {}) {
  const wrangler = path.join(REPO_ROOT, 'node_modules', '.bin', 'wrangler');
  if (!fs.existsSync(wrangler)) throw new Error(`${wrangler} is missing: run \`make setup\` (npm ci) first`);
  const deadline = Date.now() + readyTimeoutMs;
  if (!port) {
    port = await freePort(ip);
  } else {
    // A restart on the same port: the previous server may hold it for a moment after it stopped.
    for (let i = 0; i < 100 && !(await portIsFree(ip, port)); i += 1) await sleep(100);
  }
  if (!inspectorPort) inspectorPort = await freePort('127.0.0.1');
  const args = ['dev', '--config', config, '--local', '--ip', ip, '--port', String(port)];
  args.push('--inspector-port', String(inspectorPort), '--show-interactive-dev-session=false');
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  if (persistTo) args.push('--persist-to', persistTo);
  if (logLevel) args.push('--log-level', logLevel);

  const child = spawn('bash', ['-c', WATCHDOG, 'devserver-watchdog', String(process.pid), wrangler, ...args], {
    cwd,
    detached: true, // its own process group: wrangler, node, esbuild and workerd go down together
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: `${path.join(REPO_ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`,
      CI: 'true',
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      SKIP_WORKER_BUILD: '1',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      ...env,
    },
  });
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (e) => resolve({ code: null, signal: null, error: e.code || String(e) }));
  }).then((info) => {
    exitInfo = info;
    return info;
  });
  const { pid } = child;

  let text = '';
  let readyAt = -1; // where the log stood once ready; reloads are looked for after it
  const logFd = logFile ? fs.openSync(logFile, 'a') : null;
  const onData = (chunk) => {
    text += chunk;
    if (text.length > LOG_CAP) {
      const cut = text.length - LOG_CAP / 2;
      text = text.slice(cut);
      readyAt = Math.max(0, readyAt - cut);
    }
    if (logFd !== null) fs.writeSync(logFd, chunk);
    if (echo) process.stderr.write(chunk);
  };
  let open = 2;
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', onData);
    // The log file is closed once both pipes have drained (they can outlive the leader).
    stream.once('close', () => {
      open -= 1;
      if (open === 0 && logFd !== null) fs.closeSync(logFd);
    });
  }
  // A group that ended by itself needs no kill at exit (and its pid may be reused later).
  exited.then(() => pid && !groupAlive(pid) && running.delete(pid));

  let stopping = null;
  const stop = () => {
    stopping ??= (async () => {
      if (!pid) return;
      signalGroup(pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (!done) signalGroup(pid, 'SIGKILL');
      await exited;
      // workerd children may outlive the leader by a moment: make sure the group is gone.
      for (let i = 0; groupAlive(pid); i += 1) {
        if (i === 25) signalGroup(pid, 'SIGKILL');
        if (i === 50) break;
        await sleep(100);
      }
      running.delete(pid);
    })();
    return stopping;
  };
  if (pid) running.set(pid, stop);

  const host = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const server = {
    port,
    url,
    pid,
    inspectorPort,
    logs: () => text,
    reloaded: () => readyAt >= 0 && RELOAD.test(text.slice(readyAt)),
    exited,
    stop,
  };

  const tail = () => text.slice(-4000);
  let lastProbe = null;
  for (;;) {
    if (exitInfo) throw new Error(`wrangler dev exited before it was ready (${JSON.stringify(exitInfo)}):\n${tail()}`);
    if (text.includes('Ready on http')) {
      lastProbe = await probe(`${url}/`);
      if (lastProbe !== null && lastProbe < 500) break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `wrangler dev not ready within ${readyTimeoutMs} ms on ${url} (last probe: ${lastProbe}):\n${tail()}`,
      );
    }
    await sleep(100);
  }
  readyAt = text.length;
  return server;
}

// ---------------------------------------------------------------------------------------------- CLI

async function main() {
  const { values: o } = parseArgs({
    options: {
      config: { type: 'string' },
      var: { type: 'string', multiple: true, default: [] },
      'persist-to': { type: 'string' },
      'log-level': { type: 'string' },
      ip: { type: 'string' },
      port: { type: 'string' },
      'inspector-port': { type: 'string' },
      log: { type: 'string' },
      'ready-timeout': { type: 'string' },
    },
  });
  const vars = {};
  for (const kv of o.var) {
    const i = kv.indexOf(':');
    if (i < 1) throw new Error(`--var wants NAME:VALUE, got ${JSON.stringify(kv)}`);
    vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const num = (s) => (s === undefined ? undefined : Number(s));

  // Stop on any of these, also while wrangler is still starting.
  let quitting = false;
  const quit = async (code) => {
    if (quitting) return;
    quitting = true;
    await stopAll();
    process.exit(code);
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => quit(0));
  const stdin = fs.fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => quit(0));
    process.stdin.on('error', () => quit(0));
  }
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && quit(0), 500);

  let server;
  try {
    server = await startDevServer({
      config: o.config,
      vars,
      persistTo: o['persist-to'],
      logLevel: o['log-level'],
      ip: o.ip,
      port: num(o.port),
      inspectorPort: num(o['inspector-port']),
      readyTimeoutMs: num(o['ready-timeout']),
      logFile: o.log,
      echo: !o.log,
    });
  } catch (e) {
    // Without --log, wrangler's output (the tail in the message) is already on stderr.
    process.stderr.write(`devserver: ${o.log ? e.message : e.message.split('\n')[0]}\n`);
    return quit(1);
  }
  process.stdout.write(`${server.port}\n`);
  const info = await server.exited;
  if (!quitting) {
    process.stderr.write(`devserver: wrangler dev exited on its own (${JSON.stringify(info)})\n`);
    await quit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => {
    process.stderr.write(`devserver: ${e.stack || e}\n`);
    stopAll().finally(() => process.exit(2));
  });
}
