#!/usr/bin/env node
// Wake from hibernation (issue 23): one room of N members goes idle until the runtime evicts the
// room object (its sockets stay open, hibernated); then one member sends one message, and the
// time from that send to its delivery to every member is measured. Chatterly against the
// JavaScript room (baseline-js), fresh server per run, alternating, state on the RAM disk.
//
//   node bench/wake.mjs [--members 500] [--idle 25] [--repeats 3] [--servers chatterly,baseline]
//                       [--before DIR] [--wakes 1] [--resets 0] [--cpu-profile] [--interval 100]
//                       [--perf PREFIX] [--no-deflate]
//
// Before the idle, one message goes through the room in memory (`warm`): what a wake adds is the
// difference. --wakes N idles and wakes the same server N times: the first wake of a fresh server
// also runs the rebuild's code for the first time (V8 compiles it then), the later ones do not.
// --before DIR adds `before`: Chatterly as built in the work tree DIR (bench/run's --before).
// --cpu-profile takes a V8 CPU profile of the Worker's isolate (through wrangler's inspector, as
// bench/run --cpu-profile does) from just before the message until all have it, saves it to
// bench/results/ and prints the top functions by self and by inclusive time. workerd's clocks do
// not move inside one event, so timestamps cannot tell where a wake's time goes; samples can.
// --interval is the sampling interval in µs.
//
// Local workerd evicts an object ~10 s after its last event, and Chatterly's join-deadline alarm
// rings JOIN_TIMEOUT_MS (10 s) after the last connect: --idle must cover both. Chatterly logs
// `room_loaded` when it rebuilds, which tells whether the message really woke it.
import { execSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { RESULTS, ROOT } from './lib/paths.mjs';
import { inclusiveProfile, openProfiler } from './lib/profiler.mjs';
import { addBefore, serverVars, startServer, stopServer } from './lib/servers.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : d;
};
const MEMBERS = Number(opt('members', 500));
const IDLE_S = Number(opt('idle', 25));
const REPEATS = Number(opt('repeats', 3));
const BEFORE = opt('before', null);
const SERVERS = opt('servers', BEFORE ? 'chatterly,before,baseline' : 'chatterly,baseline').split(',');
const CPU_PROFILE = args.includes('--cpu-profile');
const INTERVAL_US = Number(opt('interval', 100));
const WAKES = Math.max(0, Number(opt('wakes', 1)));
const PERF = opt('perf', null);
const RESETS = Math.max(0, Number(opt('resets', 0)));
// `ws` offers permessage-deflate by default, as browsers do: workerd then compresses every frame
// for every socket. --no-deflate measures without it.
const DEFLATE = !args.includes('--no-deflate');
const profile0 = (wakes) => wakes[0]?.profile;
if (BEFORE) addBefore(BEFORE);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function member(url, name, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: DEFLATE });
    const timer = setTimeout(() => reject(new Error(`${name}: no welcome in 60 s`)), 60000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', name })));
    ws.on('error', reject);
    ws.on('message', (data) => {
      const v = JSON.parse(String(data));
      for (const f of Array.isArray(v) ? v : [v]) {
        if (f.type === 'welcome') {
          clearTimeout(timer);
          resolve(ws);
        }
        onFrame(f);
      }
    });
  });
}

// `--perf PREFIX`: `perf record` of the server's workerd processes (native code: the runtime, V8's
// compilers, zlib) for 1.2 s around one timed message, into PREFIX-<tag>. Needs Linux perf.
async function perfStart(server, tag) {
  if (!PERF) return async () => {};
  const pids = execSync(`pgrep -g ${server.pid} workerd`).toString().trim().split(/\s+/).join(',');
  const args = ['record', '-F', '20000', '-g', '-p', pids, '-o', `${PERF}-${tag}`, '--', 'sleep', '1.2'];
  const perf = spawn('perf', args, { stdio: 'ignore' });
  const exited = new Promise((r) => {
    perf.once('exit', r);
    perf.once('error', r);
  });
  await sleep(400);
  return () => exited;
}

// Chatterly's builds have the `debug_reset` hook; the JavaScript room has no rebuild to force.
const hooks = (key) => RESETS > 0 && (key === 'chatterly' || key === 'before');

// --resets N: N times, the room drops its in-memory state (`debug_reset`, as after an eviction)
// and rebuilds it at once (the reset's own flush finds it gone): the same `Inner::load` as a
// wake's, without the runtime's side (no eviction, no new object) and with its code compiled after
// the first few. With --cpu-profile, one profile over all N measures the rebuild's CPU. A message
// to all follows each reset, as a check that every member still gets it; its time is mostly a
// warm message's, since the rebuild is usually done before it arrives.
async function rebuilds(key, repeat, server, sockets, timeToAll) {
  const acked = () =>
    new Promise((resolve) => {
      const on = (data) => {
        if (String(data).includes('"debug_reset"')) {
          sockets[0].off('message', on);
          resolve();
        }
      };
      sockets[0].on('message', on);
    });
  const profiler = CPU_PROFILE ? await openProfiler(server.inspectorPort) : null;
  if (profiler) {
    await profiler.call('Profiler.setSamplingInterval', { interval: INTERVAL_US });
    await profiler.call('Profiler.start');
  }
  const ms = [];
  for (let i = 0; i < RESETS; i++) {
    const ack = acked();
    sockets[0].send(JSON.stringify({ type: 'debug_reset' }));
    await Promise.race([ack, sleep(10000)]);
    ms.push((await timeToAll(i % MEMBERS, `rebuilt ${i}`)).ms);
  }
  const profile = profiler ? await saveProfile(profiler, `resets-${key}-${repeat}`) : null;
  const sorted = ms.filter((x) => x !== null).sort((a, b) => a - b);
  return {
    n: RESETS,
    ok: sorted.length,
    median_ms: sorted[sorted.length >> 1] ?? null,
    min_ms: sorted[0] ?? null,
    max_ms: sorted[sorted.length - 1] ?? null,
    ...(profile ? { profile } : {}),
  };
}

async function once(key, repeat) {
  const root = fs.mkdtempSync(path.join('/dev/shm', `chatterly-wake-${key}-`));
  fs.mkdirSync(path.join(root, 'state'));
  const logFile = path.join(root, 'wrangler.log');
  const server = await startServer(key, {
    persistTo: path.join(root, 'state'),
    logFile,
    // TEST_HOOKS for --resets' `debug_reset` (a var the JavaScript room does not know is harmless).
    vars: serverVars(key, {}, { vars: RESETS ? ['TEST_HOOKS:1'] : [] }),
    viaProxy: false,
  });
  const room = `wake-${repeat}-${Date.now()}`;
  const url = `${server.url.replace('http', 'ws')}/api/rooms/${room}/websocket`;
  const sockets = [];
  try {
    // Deliveries of the text being timed, and when the last member got it.
    const arrivals = new Map();
    let lastFrameAt = performance.now();
    const onFrame = (f) => {
      lastFrameAt = performance.now();
      if (f.type !== 'message') return;
      const a = arrivals.get(f.text);
      if (a && ++a.count === MEMBERS) a.done(performance.now());
    };
    const expect = (text) => {
      const a = { count: 0 };
      a.all = new Promise((r) => {
        a.done = r;
      });
      arrivals.set(text, a);
      return a;
    };
    // One member sends `text`; ms until all have it, or null after 30 s.
    const timeToAll = async (from, text) => {
      const a = expect(text);
      const t0 = performance.now();
      sockets[from].send(JSON.stringify({ type: 'message', text }));
      const t1 = await Promise.race([a.all, sleep(30000).then(() => null)]);
      return { ms: t1 === null ? null : +(t1 - t0).toFixed(1), delivered: a.count };
    };
    for (let i = 0; i < MEMBERS; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(MEMBERS, i + 25); j++) batch.push(member(url, `w${j}`, onFrame));
      sockets.push(...(await Promise.all(batch)));
    }
    // The same message path with the object in memory: what a wake adds is the difference.
    // Once the joins' presence frames have drained (a second without frames, at most 30 s).
    for (let i = 0; i < 300 && performance.now() - lastFrameAt < 1000; i++) await sleep(100);
    const perfWarm = await perfStart(server, `warm-${key}-${repeat}`);
    const warm = await timeToAll(1 % MEMBERS, 'warm');
    await perfWarm();
    const loaded = () => fs.readFileSync(logFile, 'utf8').split('room_loaded').length - 1;
    const wakes = [];
    for (let w = 0; w < WAKES; w++) {
      const loadedBefore = loaded();
      await sleep(IDLE_S * 1000);
      // Attached after the idle, so that the session cannot keep the object in memory.
      const profiler = CPU_PROFILE ? await openProfiler(server.inspectorPort) : null;
      if (profiler) {
        await profiler.call('Profiler.setSamplingInterval', { interval: INTERVAL_US });
        await profiler.call('Profiler.start');
      }
      const perf = await perfStart(server, `wake-${key}-${repeat}-${w}`);
      const load = os.loadavg()[0];
      const wake = await timeToAll(w % MEMBERS, `wake up ${w}`);
      await perf();
      const profile = profiler ? await saveProfile(profiler, `wake-${key}-${repeat}-${w}`) : null;
      await sleep(500);
      wakes.push({
        load1: +load.toFixed(2),
        ms: wake.ms,
        delivered: wake.delivered,
        // Chatterly only: whether the message found the room object evicted (it rebuilt).
        rebuilt: key === 'chatterly' || key === 'before' ? loaded() > loadedBefore : null,
        ...(profile ? { profile } : {}),
      });
    }
    const resets = hooks(key) ? await rebuilds(key, repeat, server, sockets, timeToAll) : null;
    return {
      server: key,
      repeat,
      members: MEMBERS,
      load1: wakes[0]?.load1 ?? +os.loadavg()[0].toFixed(2),
      warm_to_all_ms: warm.ms,
      wake_to_all_ms: wakes[0]?.ms ?? null,
      delivered: wakes[0]?.delivered ?? null,
      rebuilt: wakes[0]?.rebuilt ?? null,
      ...(profile0(wakes) ? { profile: profile0(wakes) } : {}),
      // Later wakes of the same server: its Wasm code compiled by the first.
      ...(WAKES > 1 ? { later_wakes: wakes.slice(1) } : {}),
      ...(resets ? { resets } : {}),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stopServer(server);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function saveProfile(profiler, tag) {
  try {
    const { profile } = await profiler.call('Profiler.stop');
    fs.mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `${tag}-${Date.now()}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    const p = inclusiveProfile(profile);
    console.error(`cpu profile ${path.relative(ROOT, file)}: busy ${p.busy_ms} ms`);
    const show = (title, rows) => {
      console.error(`  ${title}`);
      for (const r of rows.slice(0, 25))
        console.error(`    ${String(r.ms).padStart(7)} ms ${String(r.pct_busy).padStart(5)}%  ${r.fn}`);
    };
    show('self', p.self);
    show('inclusive', p.inclusive);
    return { file: path.relative(ROOT, file), busy_ms: p.busy_ms };
  } catch (e) {
    return { error: String(e.message || e) };
  } finally {
    profiler.close();
  }
}

const results = [];
for (let r = 0; r < REPEATS; r++) {
  const order = r % 2 ? [...SERVERS].reverse() : SERVERS;
  for (const key of order) {
    const res = await once(key, r);
    console.log(JSON.stringify(res));
    results.push(res);
  }
}
function warmOf(key) {
  const w = results
    .filter((x) => x.server === key && x.warm_to_all_ms !== null)
    .map((x) => x.warm_to_all_ms)
    .sort((a, b) => a - b);
  const later = results
    .filter((x) => x.server === key)
    .flatMap((x) => (x.later_wakes || []).map((l) => l.ms))
    .filter((ms) => ms !== null)
    .sort((a, b) => a - b);
  const laterText = later.length
    ? `; later wakes: median ${later[later.length >> 1]} (${later[0]}–${later[later.length - 1]})`
    : '';
  const resets = results.filter((x) => x.server === key && x.resets).map((x) => x.resets.median_ms);
  const resetsText = resets.length ? `; a message after each debug_reset, medians per run: ${resets.join(', ')}` : '';
  return `${w.length ? `; not hibernated: median ${w[w.length >> 1]} (${w[0]}–${w[w.length - 1]})` : ''}${laterText}${resetsText}`;
}
for (const key of SERVERS) {
  const ms = results
    .filter((x) => x.server === key && x.wake_to_all_ms !== null)
    .map((x) => x.wake_to_all_ms)
    .sort((a, b) => a - b);
  const wake = ms.length ? `median ${ms[ms.length >> 1]} (${ms[0]}–${ms[ms.length - 1]})` : 'none measured';
  console.log(`${key}: wake to all ${MEMBERS} members, ms: ${wake}${warmOf(key)}`);
}
process.exit(0);
