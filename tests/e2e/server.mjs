// Starts the real `wrangler dev` (prebuilt Worker, SKIP_WORKER_BUILD=1) on a free loopback port,
// in its own process group, and stops it by killing that group. Only processes started here are
// ever signalled, by process-group id.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = path.join(REPO_ROOT, 'node_modules', '.bin', 'wrangler');
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

const running = new Set();
process.once('exit', () => {
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fail early, with a useful message, when the Worker was not built. */
export function assertBuilt() {
  // worker-build 0.8 writes build/index.js + build/index_bg.wasm and a build/worker/shim.mjs
  // re-exporting them (older versions put index.wasm next to the shim).
  const has = (f) => fs.existsSync(path.join(REPO_ROOT, f));
  const wasm = ['build/index_bg.wasm', 'build/worker/index.wasm'].some(has);
  if (!has('build/worker/shim.mjs') || !wasm) {
    throw new Error('the Worker is not built (build/worker/shim.mjs and its .wasm): run `make build` before the e2e tests');
  }
}

export class WranglerDev {
  /**
   * @param {object} [o]
   * @param {number} [o.port]        fixed port (default: a free one, kept across restarts)
   * @param {string} [o.persistDir]  Durable Object storage (default: a new temp dir, removed by cleanup())
   * @param {Record<string,string>} [o.vars]  extra `--var NAME:VALUE` bindings
   */
  constructor({ port, persistDir, vars = {} } = {}) {
    this.port = port;
    this.ownsPersistDir = !persistDir;
    this.persistDir = persistDir;
    this.vars = vars;
    this.child = null;
    this.output = '';
    this.exited = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    assertBuilt();
    if (this.child) throw new Error('wrangler dev is already running');
    if (!this.port) this.port = await freePort();
    if (!this.persistDir) this.persistDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatterly-e2e-'));
    // On a restart the previous instance may hold the port for a moment.
    for (let i = 0; i < 50 && !(await portIsFree(this.port)); i += 1) await sleep(100);
    const inspectorPort = await freePort();
    const args = [
      'dev', '--local', '--ip', '127.0.0.1', '--port', String(this.port),
      '--inspector-port', String(inspectorPort), '--persist-to', this.persistDir,
      '--show-interactive-dev-session=false',
    ];
    for (const [k, v] of Object.entries(this.vars)) args.push('--var', `${k}:${v}`);
    this.output = '';
    const child = spawn(WRANGLER, args, {
      cwd: REPO_ROOT,
      detached: true, // its own process group: node, esbuild and workerd go down together
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CI: 'true',
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        SKIP_WORKER_BUILD: '1',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
    });
    this.child = child;
    running.add(child.pid);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      running.delete(child.pid);
      resolve({ code, signal });
    }));
    const onData = (buf) => {
      this.output += buf.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
      if (process.env.E2E_VERBOSE) process.stderr.write(buf);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exitInfo = null;
    this.exited.then((info) => { exitInfo = info; });
    while (Date.now() < deadline) {
      if (exitInfo) throw new Error(`wrangler dev exited early (${JSON.stringify(exitInfo)}):\n${this.tail()}`);
      if (this.output.includes('Ready on http')) {
        try {
          const res = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(3000) });
          await res.arrayBuffer();
          if (res.status === 200) return this;
        } catch { /* not yet */ }
      }
      await sleep(100);
    }
    await this.stop();
    throw new Error(`wrangler dev not ready after ${READY_TIMEOUT_MS} ms:\n${this.tail()}`);
  }

  /** SIGTERM to the process group, SIGKILL after 5 s. */
  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const pid = child.pid;
    const signalGroup = (sig) => {
      try { process.kill(-pid, sig); } catch { /* group gone */ }
    };
    signalGroup('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!done) {
      signalGroup('SIGKILL');
      await this.exited;
    }
    // workerd children may outlive the wrangler process by a moment: make sure the group is gone.
    signalGroup('SIGKILL');
  }

  /** Stop, then start again on the same port and persist dir. */
  async restart() {
    await this.stop();
    return this.start();
  }

  /** Stop and remove the persist dir if this instance made it. */
  async cleanup() {
    await this.stop();
    if (this.ownsPersistDir && this.persistDir) {
      fs.rmSync(this.persistDir, { recursive: true, force: true });
    }
  }

  tail(n = 4000) {
    return this.output.slice(-n);
  }
}

/** Start a wrangler dev; the caller must `await server.cleanup()`. */
export async function startServer(opts) {
  const server = new WranglerDev(opts);
  await server.start();
  return server;
}
