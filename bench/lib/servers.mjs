// The four servers and how one of them is started: every `wrangler dev` goes through the shared
// launcher (tests/support/devserver.mjs), on free loopback ports, with a fresh --persist-to.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH, DEVSERVER, ROOT } from './paths.mjs';

const ceiling = { cwd: path.join(BENCH, 'ceiling-js'), config: path.join(BENCH, 'ceiling-js/wrangler.toml') };
export const SERVERS = {
  chatterly: { name: 'Chatterly', cwd: ROOT, config: path.join(ROOT, 'wrangler.toml'), vars: {} },
  baseline: {
    name: 'baseline-js',
    cwd: path.join(BENCH, 'baseline-js'),
    config: path.join(BENCH, 'baseline-js/wrangler.toml'),
    vars: {},
  },
  ceiling: { name: 'ceiling-js', ...ceiling, vars: {}, ceiling: true },
  batched: { name: 'ceiling-js batched', ...ceiling, vars: { BATCH_FRAMES: '1' }, ceiling: true },
};
export const SERVER_KEYS = Object.keys(SERVERS);

// `--before DIR`: Chatterly as built in another work tree (an older commit, with its own
// `make build`), run with Chatterly's vars: what a change costs, side by side with the build that
// has it.
export function addBefore(dir) {
  const root = path.resolve(dir);
  if (!fs.existsSync(path.join(root, 'build', 'worker', 'shim.mjs'))) {
    throw new Error(`--before ${dir}: no build/worker/shim.mjs there (run \`make build\` in it)`);
  }
  const name = `Chatterly before (${path.basename(root)})`;
  SERVERS.before = { name, cwd: root, config: path.join(root, 'wrangler.toml'), vars: {} };
  SERVER_KEYS.push('before');
  return root;
}

// Limits off: the benchmark measures throughput, and all its members come from one address.
// The join timeout keeps its default. Vars a server does not know are harmless.
const LIMITS_OFF = {
  RATE_LIMIT_PER_SEC: '0',
  ADDRESS_JOINS_PER_MIN: '0',
  ADDRESS_MAX_MEMBERS: '0',
  ADDRESS_UNJOINED_MAX: '0',
  IDLE_TIMEOUT_MS: '0',
  // Not a limit: the side-by-side rows compare one object with one object. Relays are measured by
  // bench/relays.mjs (locally every object shares one core, so a relay only adds a hop).
  RELAY_THRESHOLD: '0',
};

// The vars one run of a server gets: limits off, the server's own, the configuration's
// (`ceilingJoins`, `vars`), then the command line's diagnostics.
export function serverVars(key, cfg, opts) {
  const s = SERVERS[key];
  const vars = { ...LIMITS_OFF, ...s.vars, ...(cfg.vars || {}) };
  if (s.ceiling && (opts.ceilingJoins || cfg.ceilingJoins)) vars.BROADCAST_JOINS = '1';
  if (s.ceiling && opts.ceilingStore) vars.STORE_MESSAGES = '1';
  if (s.ceiling && opts.ceilingIndex) vars.INDEX_MESSAGES = '1';
  if (s.ceiling && opts.ceilingDecoded) vars.DECODED_STRINGS = '1';
  for (const v of opts.vars) {
    const i = v.indexOf(':');
    vars[v.slice(0, i)] = v.slice(i + 1);
  }
  return vars;
}

let launcher = null;
async function startDevServer(options) {
  if (!fs.existsSync(DEVSERVER)) throw new Error(`${path.relative(ROOT, DEVSERVER)} is missing`);
  launcher ??= await import(pathToFileURL(DEVSERVER).href);
  return launcher.startDevServer(options);
}

// The server currently running, so Ctrl-C can stop it.
let current = null;
export function stopCurrent() {
  const s = current;
  current = null;
  return s ? s.stop().catch(() => {}) : Promise.resolve();
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => stopCurrent().finally(() => process.exit(130)));
}

// Starts a server (wrangler's log level stays at its default: WRANGLER_LOG=debug is what
// prints the Worker's own address); resolves once it answers. `url` is where the load goes: by default the
// user Worker's own socket, which wrangler logs as `userWorkerUrl` at debug level (it logs per
// HTTP request, not per WebSocket message), so the dev proxy's hop is not measured.
export async function startServer(key, { persistTo, logFile, vars, viaProxy }) {
  const s = SERVERS[key];
  const dev = await startDevServer({
    config: s.config,
    cwd: s.cwd,
    vars,
    persistTo,
    ip: '127.0.0.1',
    port: 0,
    inspectorPort: 0,
    readyTimeoutMs: 90000,
    logFile,
    env: { WRANGLER_LOG: 'debug' },
  });
  current = dev;
  // `pid` leads the process group that holds wrangler, node, esbuild and workerd.
  const server = { key, dev, pid: dev.pid, inspectorPort: dev.inspectorPort, proxyUrl: dev.url, url: dev.url };
  if (viaProxy) return server;
  for (let i = 0; i < 100; i++) {
    const m = dev.logs().match(/"userWorkerUrl":\{"protocol":"http:","hostname":"([0-9.]+)","port":"(\d+)"\}/);
    if (m) {
      const direct = `http://${m[1]}:${m[2]}`;
      try {
        const r = await fetch(`${direct}/`, { signal: AbortSignal.timeout(3000) });
        await r.arrayBuffer();
        if (r.status < 500) return { ...server, url: direct };
      } catch {
        // not answering yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopServer(server);
  throw new Error(`${key}: no userWorkerUrl in wrangler's debug log (use --via-proxy)`);
}

export async function stopServer(server) {
  if (current === server.dev) current = null;
  await server.dev.stop();
}

// wrangler watches the root's src/ and reloads the Worker when someone edits it (the work tree
// is shared): such a run is void.
export const reloaded = (server) => server.dev.reloaded();
