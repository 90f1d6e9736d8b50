// V8 CPU profiles of the Worker (--cpu-profile): a DevTools session through wrangler's
// inspector proxy (ws://127.0.0.1:<inspector-port>/ws), and where the time went.
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './paths.mjs';

const log = (...a) => console.error(...a);

export async function openProfiler(inspectorPort) {
  const WebSocket = createRequire(path.join(ROOT, 'package.json'))('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { Origin: 'http://localhost' } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    setTimeout(() => reject(new Error('inspector connect timeout')), 10000);
  });
  let next = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    let m;
    try {
      m = JSON.parse(String(data));
    } catch {
      return;
    }
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
      ws.send(JSON.stringify({ id, method, params }));
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error(`${method} timed out`));
      }, 30000);
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 200 });
  return { call, close: () => ws.close() };
}

function kindOf(name, url) {
  if (url.startsWith('wasm://') || /wasm-function|^\$/.test(name)) return 'wasm';
  if (name === '(garbage collector)') return 'gc';
  if (name === '(idle)') return 'idle';
  if (name === '(program)' || name === '(root)') return 'runtime (native, outside JS)';
  return 'js';
}

// Self time by function, and by kind (Wasm, JS glue, runtime/native, GC, idle).
export function summarizeProfile(profile) {
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
    const f = byId.get(id).callFrame;
    const name = f.functionName || '(anonymous)';
    const url = f.url || '';
    const kind = kindOf(name, url);
    const key = `${name} ${url.split('/').pop()}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) || 0) + t);
    byKind.set(kind, (byKind.get(kind) || 0) + t);
  }
  const busy = total - (byKind.get('idle') || 0);
  const pct = (t) => +((100 * t) / busy).toFixed(1);
  const top = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([k, t]) => ({ fn: k, ms: +(t / 1000).toFixed(1), pct_busy: pct(t) }));
  const kinds = Object.fromEntries(
    [...byKind].map(([k, t]) => [k, { ms: +(t / 1000).toFixed(1), pct_busy: k === 'idle' ? null : pct(t) }]),
  );
  return { total_ms: +(total / 1000).toFixed(1), busy_ms: +(busy / 1000).toFixed(1), kinds, top };
}

export function printProfile(p) {
  if (p.error) return log(`  cpu profile: ${p.error}`);
  const kinds = Object.entries(p.kinds)
    .filter(([k]) => k !== 'idle')
    .map(([k, v]) => `${k} ${v.pct_busy}%`)
    .join(', ');
  log(`  cpu profile (${p.file}): busy ${p.busy_ms} ms; ${kinds}`);
  for (const t of p.top.slice(0, 15)) log(`    ${String(t.pct_busy).padStart(5)}%  ${t.fn}`);
}

// Inclusive time by function (each sample counts once for every distinct function on its stack),
// next to self time: where a short burst of work (one wake, bench/wake.mjs) goes, callers included.
export function inclusiveProfile(profile, limit = 40) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const keyOf = (n) => {
    const f = n.callFrame;
    return `${f.functionName || '(anonymous)'} ${(f.url || '').split('/').pop()}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map();
  const incl = new Map();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    busy += dt;
    const k = keyOf(leaf);
    self.set(k, (self.get(k) || 0) + dt);
    const seen = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const key = keyOf(byId.get(id));
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) || 0) + dt);
    }
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([fn, t]) => ({ fn, ms: +(t / 1000).toFixed(2), pct_busy: +((100 * t) / busy).toFixed(1) }));
  return { busy_ms: +(busy / 1000).toFixed(2), self: rows(self), inclusive: rows(incl) };
}
