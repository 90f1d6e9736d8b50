// One measurement: a fresh server with fresh state, one load-generator run, the server's CPU.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupCpu, machineBusy } from './cpu.mjs';
import { buildId } from './environment.mjs';
import { loadgenArgs, runLoadgen } from './loadgen.mjs';
import { RESULTS, ROOT, WRANGLER } from './paths.mjs';
import { openProfiler, summarizeProfile } from './profiler.mjs';
import { reloaded, serverVars, startServer, stopServer } from './servers.mjs';

const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function stateDir(kind, tag) {
  const base = kind === 'ram' ? '/dev/shm' : os.tmpdir();
  const root = fs.mkdtempSync(path.join(base, `chatterly-bench-${tag}-`));
  const persist = path.join(root, 'state');
  fs.mkdirSync(persist);
  return { root, persist };
}

// If the server could not start (e.g. someone reinstalling node_modules on a shared machine),
// wait for wrangler to be back and try once more.
export async function measure(key, cfg, repeat, opts) {
  const r = await measureOnce(key, cfg, repeat, opts);
  if (!r.error) return r;
  log(`bench: ${key} ${cfg.id}: ${r.error.split('\n')[0]}; retrying once`);
  for (let i = 0; i < 60 && !fs.existsSync(WRANGLER); i++) await sleep(2000);
  await sleep(5000);
  const again = await measureOnce(key, cfg, repeat, opts);
  again.retried = r.error;
  return again;
}

// A V8 profile over the phase asked for: the joins (until "send") or the messages.
function profilePhases(profiler, joins) {
  let stopped = null;
  return {
    start: () => (joins && profiler ? profiler.call('Profiler.start') : null),
    phase(name) {
      if (!profiler) return;
      if (joins && name === 'send') stopped = profiler.call('Profiler.stop');
      if (!joins && name === 'send') stopped = profiler.call('Profiler.start');
      if (!joins && name === 'delivered')
        stopped = (stopped || Promise.resolve()).then(() => profiler.call('Profiler.stop'));
    },
    async save(tag) {
      if (!profiler) return null;
      try {
        const done = await stopped;
        if (!done?.profile) return null;
        fs.mkdirSync(RESULTS, { recursive: true });
        const f = path.join(RESULTS, `${tag}-${Date.now()}.cpuprofile`);
        fs.writeFileSync(f, JSON.stringify(done.profile));
        return { file: path.relative(ROOT, f), ...summarizeProfile(done.profile) };
      } catch (e) {
        return { error: String(e.message || e) };
      } finally {
        profiler.close();
      }
    },
  };
}

async function measureOnce(key, cfg, repeat, opts) {
  const kind = cfg.storage === 'disk' ? 'disk' : opts.storage;
  const dir = stateDir(kind, `${key}-${cfg.id}`);
  const logFile = path.join(dir.root, 'wrangler.log');
  let server;
  let result = null;
  const build = key === 'chatterly' ? buildId() : undefined;
  try {
    const t0 = Date.now();
    server = await startServer(key, {
      persistTo: dir.persist,
      logFile,
      vars: serverVars(key, cfg, opts),
      viaProxy: opts.viaProxy,
    });
    const startMs = Date.now() - t0;
    const room = `b${repeat}-${cfg.id.replace(/[^a-z0-9-]/g, '')}`.slice(0, 24);
    const loadavg = os.loadavg()[0];
    const cpu0 = groupCpu(server.pid);
    const busy0 = machineBusy();
    const t1 = Date.now();
    const phase = {};
    const prof = profilePhases(opts.cpuProfile ? await openProfiler(server.inspectorPort) : null, opts.profileJoins);
    await prof.start();
    const r = await runLoadgen(loadgenArgs(server.url, cfg, room), 300000, (name) => {
      phase[name] = { cpu: groupCpu(server.pid), t: Date.now() };
      prof.phase(name);
    });
    const profile = await prof.save(`${key}-${cfg.id}-${repeat}`);
    const wallMs = Date.now() - t1;
    // Server CPU while messages flowed (after all joins), per delivery and per message: less
    // sensitive to other load on the machine than wall-clock throughput.
    const sendCpu = phase.send && phase.delivered ? phase.delivered.cpu - phase.send.cpu : NaN;
    // The server's process group (its workerd, mostly) and the rest of the machine besides it
    // and the load generator (other people's work).
    const serverCpu = groupCpu(server.pid) - cpu0;
    const busy = machineBusy() - busy0;
    const lgCpu = r.json?.loadgen_cpu_s ?? 0;
    const per = (n, digits) => (n && Number.isFinite(sendCpu) ? +((sendCpu * 1e6) / n).toFixed(digits) : null);
    const cpu = {
      server_s: +serverCpu.toFixed(2),
      loadgen_s: lgCpu,
      other_s: +Math.max(0, busy - serverCpu - lgCpu).toFixed(2),
      wall_s: wallMs / 1000,
      send_phase_server_s: Number.isFinite(sendCpu) ? +sendCpu.toFixed(2) : null,
      join_phase_server_s: phase.send ? +(phase.send.cpu - cpu0).toFixed(2) : null,
      server_us_per_delivery: per(r.json?.deliveries, 2),
      server_us_per_message: per(r.json?.sent, 1),
    };
    result = {
      server: key,
      config: cfg.id,
      repeat,
      storage: kind,
      build,
      startMs,
      wallMs,
      loadavg1: loadavg,
      cpu,
      profile,
    };
    Object.assign(result, { exit: r.code, result: r.json, stderr: r.stderr.slice(0, 2000) });
    if (reloaded(server)) result.error = 'wrangler reloaded the Worker during the run (src/ changed)';
    return result;
  } catch (e) {
    result = { server: key, config: cfg.id, repeat, storage: kind, error: String(e.message || e) };
    return result;
  } finally {
    if (server) await stopServer(server);
    // Keep the wrangler log only when something went wrong.
    if ((!result || result.error || !result.result || result.result.error) && fs.existsSync(logFile)) {
      fs.mkdirSync(RESULTS, { recursive: true });
      const keep = path.join(RESULTS, `failed-${Date.now()}-${key}-${cfg.id}-${repeat}.log`);
      fs.copyFileSync(logFile, keep);
      if (result) result.log = path.relative(ROOT, keep);
    }
    fs.rmSync(dir.root, { recursive: true, force: true });
  }
}
