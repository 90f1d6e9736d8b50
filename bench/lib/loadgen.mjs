// The Rust load generator (bench/loadgen): build it, run it, read its JSON line.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { die } from './options.mjs';
import { LOADGEN, LOADGEN_DIR } from './paths.mjs';

export function buildLoadgen(opts) {
  if (!opts.build && fs.existsSync(LOADGEN)) return;
  console.error('bench: building the load generator (cargo build --release)…');
  const r = spawnSync('cargo', ['build', '--release', '--quiet'], {
    cwd: LOADGEN_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) die('cargo build of bench/loadgen failed');
}

// A configuration's `args` as flags: `true` is a bare flag, `false` leaves it out.
export function loadgenArgs(url, cfg, room) {
  const a = ['--url', url, '--room-prefix', room, '--json-only'];
  for (const [k, v] of Object.entries(cfg.args)) {
    if (v === true) a.push(`--${k}`);
    else if (v !== false) a.push(`--${k}`, String(v));
  }
  return a;
}

// Runs the load generator; onPhase(name) is called at its phase markers ("send", "delivered").
export function runLoadgen(args, timeoutMs, onPhase = () => {}) {
  return new Promise((resolve) => {
    const child = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      for (const m of String(d).matchAll(/^loadgen-phase: (\w+)$/gm)) onPhase(m[1]);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      let json = null;
      try {
        json = JSON.parse(line);
      } catch {
        // no JSON line: the error is in stderr
      }
      resolve({ code, json, stderr: err.trim() });
    });
  });
}
