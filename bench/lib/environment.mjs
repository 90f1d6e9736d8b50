// What a run ran on and against: machine, tool versions, the Chatterly build, the bundle size.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { die } from './options.mjs';
import { ROOT, WORKERD, WRANGLER } from './paths.mjs';
import { SERVERS } from './servers.mjs';

function cmdOut(cmd, args, cwd = ROOT) {
  try {
    const o = { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 };
    return execFileSync(cmd, args, o).trim();
  } catch (e) {
    return `unavailable (${e.message.split('\n')[0]})`;
  }
}

// Which Chatterly build a run used: the work tree is shared, and others rebuild while we measure.
export function buildId() {
  for (const f of ['build/worker/index.wasm', 'build/index_bg.wasm']) {
    const p = path.join(ROOT, f);
    if (fs.existsSync(p)) {
      const st = fs.statSync(p);
      const h = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 12);
      return { wasm: f, sha256: h, bytes: st.size, mtime: st.mtime.toISOString() };
    }
  }
  return null;
}

function compatDate(tomlPath) {
  const m = fs.readFileSync(tomlPath, 'utf8').match(/^compatibility_date\s*=\s*"([^"]+)"/m);
  return m ? m[1] : null;
}

export function checkPrereqs(servers) {
  if (!fs.existsSync(WRANGLER)) die('node_modules/.bin/wrangler is missing: run `make setup` (or npm ci) first');
  const root = compatDate(SERVERS.chatterly.config);
  for (const k of ['baseline', 'ceiling']) {
    const d = compatDate(SERVERS[k].config);
    if (d !== root) console.error(`bench: WARNING ${k} compatibility_date ${d} differs from the root's ${root}`);
  }
  if (servers.includes('chatterly')) {
    // worker-build 0.8 writes build/worker/shim.mjs and the Wasm beside its JS glue.
    const wasm = ['build/worker/index.wasm', 'build/index_bg.wasm'].some((f) => fs.existsSync(path.join(ROOT, f)));
    if (!fs.existsSync(path.join(ROOT, 'build/worker/shim.mjs')) || !wasm) {
      die(
        'the Worker is not built (build/worker/shim.mjs + its .wasm): run `make build` first, or pass --servers baseline,ceiling,batched',
      );
    }
  }
}

export function environment(opts) {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown';
  const dirty = cmdOut('git', ['status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock', 'wrangler.toml']);
  return {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    cpu,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    wrangler: cmdOut(WRANGLER, ['--version']).split('\n').pop(),
    workerd: cmdOut(WORKERD, ['--version']),
    rustc: cmdOut('rustc', ['--version']),
    commit: cmdOut('git', ['rev-parse', '--short', 'HEAD']),
    dirty: dirty !== '',
    build: buildId(),
    transport: opts.viaProxy ? 'wrangler dev proxy' : "Worker's own socket (wrangler's userWorkerUrl)",
    loadavg: os.loadavg().map((x) => x.toFixed(2)),
  };
}

// The Wasm as `wrangler deploy` would upload it: raw and gzip -9.
export function bundleSize() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'chatterly-dryrun-'));
  try {
    const env = {
      ...process.env,
      CI: 'true',
      SKIP_WORKER_BUILD: '1',
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    };
    const o = { cwd: ROOT, env, encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'pipe'] };
    const r = spawnSync(WRANGLER, ['deploy', '--dry-run', '--outdir', out], o);
    const wasm = fs.readdirSync(out).filter((f) => f.endsWith('.wasm'));
    if (r.status !== 0 || !wasm.length)
      return { error: `dry-run failed (exit ${r.status}): ${(r.stderr || '').slice(-500)}` };
    const buf = fs.readFileSync(path.join(out, wasm[0]));
    const gz = zlib.gzipSync(buf, { level: 9 }).length;
    const all = fs.readdirSync(out).map((f) => ({ file: f, bytes: fs.statSync(path.join(out, f)).size }));
    return { file: wasm[0], raw: buf.length, gzip: gz, files: all };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
