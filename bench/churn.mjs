#!/usr/bin/env node
// Memory under room churn (issue 13, "Memory you can trust"): many short-lived room instances
// through ONE isolate, and the `memory_bytes` (the isolate's Wasm linear memory, shared by every
// room object in it) that a quiet probe room reports as they come and go.
//
// One churn step: a fresh room, one or two members join, the first sends 5 messages and waits for
// their echoes, everyone leaves. With no socket left and no request in flight, local workerd evicts
// the room object 10 s later (server.c++ `handleShutdown`: `timer.afterDelay(10 * kj::SECONDS)`,
// cancelled by any new request); the room's join-deadline alarm rings 10 s after the connect and
// restarts that wait, so a churned room stays ~20 s after its leave (checked at the start of each
// run). `--concurrency` steps run at once, so at ~N steps/s about 20·N rooms are in memory.
//
//   node bench/churn.mjs [--instances 100000] [--minutes 25] [--concurrency 32] [--sample-every N]
//     [--gc] [--csv FILE] [--chart FILE] [--storage DIR] [--settle 30]
//   node bench/churn.mjs --redraw FILE.csv [--chart FILE.svg] [--title TEXT]
//
// --gc forces a full V8 GC through the inspector before each sample: evicted rooms' Rust state is
// freed only when V8 collects their JS wrappers (wasm-bindgen's FinalizationRegistry), so this
// separates "not collected yet" from "never freed". Load goes to 127.0.0.1 only; every wait is
// bounded, the run stops at --minutes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { REPO_ROOT, startDevServer } from '../tests/support/devserver.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// How long a churned room stays in memory after its leave: workerd drops an object 10 s after its
// last request, but the join-deadline alarm (JOIN_TIMEOUT_MS after the connect) wakes it first,
// which restarts those 10 s (measured: same instance 18 s after the leave, rebuilt after 22 s).
const RESIDENT_MS = 20_000;
const STEP_TIMEOUT_MS = 20_000;
const MESSAGES = 5;
const EVICTION_DELAYS_S = [5, 9, 12, 15, 18, 22, 26];
const WITNESS_AFTER_MS = 30_000; // a churned room is checked for eviction this long after its leave

const { values: o } = parseArgs({
  options: {
    instances: { type: 'string', default: '100000' },
    minutes: { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '32' },
    'sample-every': { type: 'string' },
    gc: { type: 'boolean', default: false },
    csv: { type: 'string' },
    chart: { type: 'string' },
    storage: { type: 'string', default: fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir() },
    settle: { type: 'string', default: '30' },
    redraw: { type: 'string' },
    title: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  process.stdout.write(`${fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0]}\n`);
  process.exit(0);
}
const TARGET = Number(o.instances);
const DEADLINE = Date.now() + Number(o.minutes) * 60_000;
const CONCURRENCY = Number(o.concurrency);
const SAMPLE_EVERY = Number(o['sample-every'] ?? Math.max(100, Math.round(TARGET / 200)));
const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------- plumbing

function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error(`${url}: ${res.statusCode} ${body.slice(0, 200)} (${e.message})`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });
}

// Resident memory of the server's workerd (all of its isolates, not just the Wasm memory).
function workerdRss(groupPid) {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const pgrp = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[2]);
      if (pgrp !== groupPid || !comm.startsWith('workerd')) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

// A DevTools session on the Worker (wrangler's inspector proxy), for HeapProfiler.collectGarbage.
async function openInspector(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { Origin: 'http://localhost' } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    setTimeout(() => reject(new Error('inspector connect timeout')), 10_000);
  });
  let next = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
      ws.send(JSON.stringify({ id, method, params }));
      setTimeout(() => pending.delete(id) && reject(new Error(`${method} timed out`)), 30_000);
    });
  return { call, close: () => ws.close() };
}

// One member's socket: frames (a JSON array is its elements in order) go to `onFrame`.
function connect(base, room, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}/api/rooms/${room}/websocket`, { perMessageDeflate: false });
    ws.on('message', (data) => {
      const text = String(data);
      if (text === 'pong') return;
      const v = JSON.parse(text);
      for (const f of Array.isArray(v) ? v : [v]) onFrame(f);
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws) {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => ws.once('close', resolve));
}

// --------------------------------------------------------------------------------- churn steps

// Joins `names`, sends MESSAGES from the first and waits for their echoes, leaves. Returns the
// room's stats taken just before the leave when `witness` is set (to check its eviction later).
async function churnStep(base, room, names, witness) {
  const sockets = [];
  let timer;
  let fail;
  const failed = new Promise((_, reject) => {
    fail = reject;
  });
  const work = (async () => {
    for (const name of names) {
      let welcomed;
      const welcome = new Promise((r) => {
        welcomed = r;
      });
      let echoes = 0;
      let echoed;
      const allEchoed = new Promise((r) => {
        echoed = r;
      });
      const ws = await connect(base, room, (f) => {
        if (f.type === 'welcome') welcomed();
        else if (f.type === 'message' && f.name === name && String(f.nonce).startsWith('n') && ++echoes === MESSAGES)
          echoed();
        else if (f.type === 'error') fail(new Error(`${room}: ${JSON.stringify(f)}`));
      });
      sockets.push({ ws, allEchoed });
      ws.send(JSON.stringify({ type: 'join', name }));
      await welcome;
    }
    const sender = sockets[0];
    for (let k = 0; k < MESSAGES; k++)
      sender.ws.send(JSON.stringify({ type: 'message', text: `hello ${k}`, nonce: `n${k}` }));
    await sender.allEchoed;
    const stats = witness ? await getJson(`${base.replace('ws:', 'http:')}/api/rooms/${room}/stats`) : null;
    for (const { ws } of sockets) ws.close(1000, 'bye');
    await Promise.all(sockets.map(({ ws }) => closed(ws)));
    return stats;
  })();
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${room}: step timed out`)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout, failed]);
  } finally {
    clearTimeout(timer);
    for (const { ws } of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }
}

// ------------------------------------------------------------------------------------------ chart

function chart(rows, meta) {
  const W = 960;
  const H = 460;
  const [x0, x1, y0, y1] = [80, W - 60, 70, H - 70];
  const font = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const nice = (v) => {
    const p = 10 ** Math.floor(Math.log10(v));
    return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((m) => m >= v);
  };
  const xMax = nice(Math.max(1, ...rows.map((r) => r.instances)));
  const mib = (b) => b / 1048576;
  const yMax = nice(Math.max(1, ...rows.map((r) => mib(r.memory_bytes))) * 1.1);
  const X = (v) => x0 + ((x1 - x0) * v) / xMax;
  const Y = (v) => y1 - ((y1 - y0) * v) / yMax;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${font}>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${x0}" y="28" font-size="16" font-weight="600">${esc(meta.title)}</text>`,
    `<text x="${x0}" y="48" font-size="12" fill="#495057">${esc(meta.subtitle)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    out.push(`<line x1="${x0}" x2="${x1}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e9ecef"/>`);
    out.push(
      `<text x="${x0 - 6}" y="${(Y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#495057">${+v.toFixed(2)} MiB</text>`,
    );
    const u = (xMax * i) / 5;
    out.push(
      `<text x="${X(u).toFixed(1)}" y="${y1 + 18}" font-size="11" text-anchor="middle" fill="#495057">${u.toLocaleString('en-US')}</text>`,
    );
  }
  out.push(`<line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#868e96"/>`);
  out.push(
    `<text x="${(x0 + x1) / 2}" y="${H - 30}" font-size="12" text-anchor="middle">room instances churned through the isolate</text>`,
  );
  const pts = rows.map((r) => `${X(r.instances).toFixed(1)},${Y(mib(r.memory_bytes)).toFixed(1)}`).join(' ');
  out.push(`<polyline points="${pts}" fill="none" stroke="#e8590c" stroke-width="2"/>`);
  for (const r of rows)
    out.push(
      `<circle cx="${X(r.instances).toFixed(1)}" cy="${Y(mib(r.memory_bytes)).toFixed(1)}" r="2" fill="#e8590c"/>`,
    );
  out.push(
    `<text x="${x0 + 10}" y="${y0 + 14}" font-size="12" fill="#e8590c">memory_bytes of the probe room (the isolate's Wasm linear memory)</text>`,
  );
  // Right axis: rooms in memory (estimate), the driver of the high-water mark.
  const lMax = nice(Math.max(1, ...rows.map((r) => Number(r.rooms_live_est))) * 1.1);
  const L = (v) => y1 - ((y1 - y0) * v) / lMax;
  for (let i = 0; i <= 5; i++) {
    const v = (lMax * i) / 5;
    out.push(
      `<text x="${x1 + 4}" y="${(L(v) + 4).toFixed(1)}" font-size="11" fill="#868e96">${Math.round(v).toLocaleString('en-US')}</text>`,
    );
  }
  const lpts = rows.map((r) => `${X(r.instances).toFixed(1)},${L(Number(r.rooms_live_est)).toFixed(1)}`).join(' ');
  out.push(`<polyline points="${lpts}" fill="none" stroke="#adb5bd" stroke-width="1.2"/>`);
  out.push(
    `<text x="${x0 + 10}" y="${y0 + 30}" font-size="12" fill="#868e96">rooms in memory (estimate: churning now or left less than 20 s ago), right axis</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ------------------------------------------------------------------------------------------- main

// --redraw FILE.csv --chart FILE.svg: the chart of a saved run again.
function redraw() {
  const [head, ...lines] = fs.readFileSync(o.redraw, 'utf8').trim().split('\n');
  const cols = head.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], Number(v)])));
  const n = rows.at(-1).instances;
  fs.writeFileSync(
    o.chart ?? o.redraw.replace(/\.csv$/, '.svg'),
    chart(rows, {
      title: `memory_bytes while ${n.toLocaleString('en-US')} room instances churn through one isolate`,
      subtitle: o.title ?? `from ${path.basename(o.redraw)}; bench/churn.mjs`,
    }),
  );
}

// Removes what a failed run leaves (the server, the state and the Worker copy).
let cleanup = async () => {};

async function main() {
  if (o.redraw) return redraw();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const results = path.join(HERE, 'results');
  fs.mkdirSync(results, { recursive: true });
  const csvFile = o.csv ?? path.join(results, `churn-${stamp}.csv`);
  const svgFile = o.chart ?? path.join(results, `churn-${stamp}.svg`);
  const work = fs.mkdtempSync(path.join(o.storage, 'chatterly-churn-'));
  const removeWork = () => fs.rmSync(work, { recursive: true, force: true });
  cleanup = removeWork;
  const persistTo = path.join(work, 'state');
  // A private copy of the built Worker: a rebuild or an edit in the shared work tree during a long
  // run would make wrangler reload the Worker (a new isolate) and void the curve.
  const app = path.join(work, 'app');
  for (const part of ['build', 'public'])
    fs.cpSync(path.join(REPO_ROOT, part), path.join(app, part), { recursive: true });
  // The copy is already built: its [build] command (and any watch_dir) must not run or watch.
  const toml = fs.readFileSync(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  fs.writeFileSync(
    path.join(app, 'wrangler.toml'),
    toml.replace(/^command\s*=.*$/m, 'command = "true"').replace(/^watch_dir\s*=\s*(\[[^\]]*\]|.*)$/m, ''),
  );
  const wasm = crypto.createHash('sha256').update(fs.readFileSync(path.join(app, 'build', 'index_bg.wasm')));
  log(`churn: Worker build ${wasm.digest('hex').slice(0, 12)} (index_bg.wasm sha256), copied to ${app}`);
  const server = await startDevServer({
    cwd: app,
    vars: {
      RATE_LIMIT_PER_SEC: '0',
      ADDRESS_JOINS_PER_MIN: '0',
      ADDRESS_MAX_MEMBERS: '0',
      ADDRESS_UNJOINED_MAX: '0',
      IDLE_TIMEOUT_MS: '0',
    },
    persistTo,
    logFile: path.join(results, `churn-${stamp}.log`),
  });
  const stop = async () => {
    await server.stop();
    removeWork();
  };
  cleanup = stop;
  process.once('SIGINT', () => stop().then(() => process.exit(130)));
  const base = server.url.replace('http:', 'ws:');
  const run = Date.now().toString(36);
  const probeUrl = `${server.url}/api/rooms/churn-probe-${run}/stats`;
  const inspector = o.gc ? await openInspector(server.inspectorPort) : null;
  log(`churn: ${server.url}, target ${TARGET} instances in ${o.minutes} min, ${CONCURRENCY} at once`);

  // The probe: a real room (it stored a message), quiet from then on but for its stats.
  await churnStep(base, `churn-probe-${run}`, ['probe'], false);
  // Eviction timing: rooms that churn at the same moment, each asked for its stats once, a given
  // time after its last member left (any request restarts the runtime's inactivity timer).
  const eviction = {};
  const p0 = await getJson(probeUrl);
  await Promise.all(
    EVICTION_DELAYS_S.map(async (d) => {
      const room = `churn-evict-${run}-${d}`;
      const before = await churnStep(base, room, ['alice'], true);
      await sleep(d * 1000);
      const after = await getJson(`${server.url}/api/rooms/${room}/stats`);
      eviction[`${d}s`] = after.started_at === before.started_at ? 'same instance' : 'rebuilt';
    }),
  );
  log(`churn: eviction after the last leave ${JSON.stringify(eviction)}`);
  const p13 = await getJson(probeUrl);
  eviction.probe_rebuilt = p13.started_at !== p0.started_at;

  const rows = [];
  let done = 0;
  let started = 0;
  let failures = 0;
  let lastStartedAt = p13.started_at;
  let probeRebuilds = 0;
  const finishedAt = []; // completion times of the last RESIDENT_MS, for the live-room estimate
  const witnesses = []; // { room, started_at, at }
  const witnessResults = { checked: 0, evicted: 0 };
  const t0 = Date.now();

  const sample = async () => {
    // workerd runs the inspector's GC request as a platform task, pumped after the isolate's next
    // event: here the stats request. Its reply comes once the GC ran.
    const gc = inspector?.call('HeapProfiler.collectGarbage').catch((e) => log(`churn: ${e.message}`));
    const s = await getJson(probeUrl);
    await gc;
    if (s.started_at !== lastStartedAt) probeRebuilds += 1;
    lastStartedAt = s.started_at;
    const now = Date.now();
    while (finishedAt.length && finishedAt[0] < now - RESIDENT_MS) finishedAt.shift();
    const row = {
      instances: done,
      elapsed_s: ((now - t0) / 1000).toFixed(1),
      memory_bytes: s.memory_bytes,
      rooms_live_est: finishedAt.length + (started - done),
      workerd_rss_bytes: workerdRss(server.pid),
      probe_rebuilds: probeRebuilds,
      failures,
    };
    rows.push(row);
    log(
      `churn: ${row.instances} instances, ${row.elapsed_s} s, memory_bytes ${row.memory_bytes}, ~${row.rooms_live_est} rooms live, workerd RSS ${(row.workerd_rss_bytes / 1048576).toFixed(0)} MiB`,
    );
  };
  const checkWitnesses = async (all) => {
    while (witnesses.length && (all || witnesses[0].at < Date.now() - WITNESS_AFTER_MS)) {
      const w = witnesses.shift();
      const s = await getJson(`${server.url}/api/rooms/${w.room}/stats`);
      witnessResults.checked += 1;
      if (s.started_at !== w.started_at) witnessResults.evicted += 1;
      else log(`churn: witness ${w.room} not evicted ${((Date.now() - w.at) / 1000).toFixed(1)} s after its leave`);
    }
  };

  await sample();
  let nextSample = SAMPLE_EVERY;
  let sampling = Promise.resolve();
  const worker = async () => {
    while (started < TARGET && Date.now() < DEADLINE && failures <= Math.max(20, done / 100)) {
      const i = started++;
      const room = `c${run}-${i}`;
      const witness = i % SAMPLE_EVERY === SAMPLE_EVERY >> 1;
      try {
        const stats = await churnStep(base, room, i % 2 ? ['alice', 'bob'] : ['alice'], witness);
        if (stats) witnesses.push({ room, started_at: stats.started_at, at: Date.now() });
      } catch (e) {
        failures += 1;
        log(`churn: ${e.message}`);
      }
      done += 1;
      finishedAt.push(Date.now());
      if (done >= nextSample) {
        nextSample += SAMPLE_EVERY;
        sampling = sampling.then(sample).then(() => checkWitnesses(false));
        await sampling;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await sampling;
  const churnS = (Date.now() - t0) / 1000;
  if (rows.at(-1).instances !== done) await sample();
  // Quiet: every churned room gets evicted; memory_bytes can only stay or grow (Wasm memory never
  // shrinks), so a flat tail means nothing more was needed.
  const settleS = Math.max(Number(o.settle), WITNESS_AFTER_MS / 1000);
  for (let t = 0; t < settleS; t += 15) {
    await sleep(Math.min(15, settleS - t) * 1000);
    await sample();
  }
  await checkWitnesses(true);
  if (server.reloaded()) log('churn: WARNING wrangler reloaded the Worker during the run: the curve is void');

  const cols = Object.keys(rows[0]);
  fs.writeFileSync(csvFile, `${cols.join(',')}\n${rows.map((r) => cols.map((c) => r[c]).join(',')).join('\n')}\n`);
  const first = rows[0].memory_bytes;
  const last = rows.at(-1).memory_bytes;
  const summary = {
    instances: done,
    failures,
    churn_s: +churnS.toFixed(1),
    per_s: +(done / churnS).toFixed(1),
    memory_first: first,
    memory_last: last,
    growth_per_instance: +((last - first) / Math.max(1, done)).toFixed(2),
    eviction,
    witnesses: witnessResults,
    probe_rebuilds: probeRebuilds,
    gc_forced: o.gc,
    reached_target: done >= TARGET,
  };
  fs.writeFileSync(
    svgFile,
    chart(rows, {
      title: `memory_bytes while ${done.toLocaleString('en-US')} room instances churn through one isolate`,
      subtitle: `each: 1–2 members join, 5 messages, leave, evicted after 10 s idle; ${CONCURRENCY} at once, ${summary.per_s}/s${o.gc ? '; full GC forced before each sample' : ''}; bench/churn.mjs`,
    }),
  );
  inspector?.close();
  await stop();
  log(`churn: wrote ${csvFile} and ${svgFile}`);
  console.log(JSON.stringify(summary));
}

main().catch(async (e) => {
  log(`churn: ${e.stack || e}`);
  await cleanup();
  process.exit(1);
});
