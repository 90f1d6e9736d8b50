// The browser tests' server: the shared launcher (tests/support/devserver.mjs) with a persist dir
// of its own and a port kept across restarts, so a restarted server keeps its state and address.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, REPO_ROOT, startDevServer } from '../support/devserver.mjs';

export { freePort, REPO_ROOT };

/** Fail early, with a useful message, when the Worker was not built. */
export function assertBuilt() {
  // worker-build 0.8 writes build/index.js + build/index_bg.wasm and a build/worker/shim.mjs
  // re-exporting them (older versions put index.wasm next to the shim).
  const has = (f) => fs.existsSync(path.join(REPO_ROOT, f));
  const wasm = ['build/index_bg.wasm', 'build/worker/index.wasm'].some(has);
  if (!has('build/worker/shim.mjs') || !wasm) {
    throw new Error(
      'the Worker is not built (build/worker/shim.mjs and its .wasm): run `make build` before the e2e tests',
    );
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
    this.server = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    assertBuilt();
    if (this.server) throw new Error('wrangler dev is already running');
    if (!this.persistDir) this.persistDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatterly-e2e-'));
    this.server = await startDevServer({
      port: this.port,
      persistTo: this.persistDir,
      vars: this.vars,
      readyTimeoutMs: 60_000,
      echo: Boolean(process.env.E2E_VERBOSE),
    });
    this.port = this.server.port;
    return this;
  }

  /** SIGTERM to the process group, SIGKILL after 5 s. */
  async stop() {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.lastLogs = server.logs();
    await server.stop();
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
    return (this.server ? this.server.logs() : (this.lastLogs ?? '')).slice(-n);
  }
}

/** Start a wrangler dev; the caller must `await server.cleanup()`. */
export async function startServer(opts) {
  const server = new WranglerDev(opts);
  await server.start();
  return server;
}
