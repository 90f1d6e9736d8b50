// The runs besides the table: the memory curve (--memory) and the cost model (--profile).
import fs from 'node:fs';
import path from 'node:path';
import { PROFILE_MEMBERS } from './configs.mjs';
import { checkPrereqs, environment } from './environment.mjs';
import { buildLoadgen } from './loadgen.mjs';
import { measure } from './measure.mjs';
import { die } from './options.mjs';
import { RESULTS, ROOT } from './paths.mjs';
import { printProfile } from './profiler.mjs';
import { fmtN } from './report.mjs';
import { SERVER_KEYS, SERVERS } from './servers.mjs';
import { fit, median } from './stats.mjs';

const log = (...a) => console.error(...a);
const stamp = (env) => env.date.replace(/[:.]/g, '-');

export async function memoryRun(opts) {
  checkPrereqs(['chatterly']);
  buildLoadgen(opts);
  const env = environment(opts);
  const Q = opts.quick;
  const args = { members: 50, senders: 5, messages: Q ? 4000 : 20000, window: 16, 'stats-every': Q ? 2000 : 5000 };
  const cfg = { id: 'memory', args: { ...args, 'max-time': 900, 'drain-timeout': 30 } };
  log(`bench: memory run, ${args.senders * args.messages} messages through a 50-member room (Chatterly, RAM disk)`);
  const r = await measure('chatterly', cfg, 0, opts);
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `memory-${stamp(env)}.json`);
  fs.writeFileSync(file, JSON.stringify({ env, run: r }, null, 1));
  if (!r.result || r.result.error) die(`memory run failed: ${r.error || r.result?.error || r.stderr}`);
  const res = r.result;
  console.log(
    `\nMemory run: ${res.sent} messages, 50 members, ${fmtN(res.deliveries_per_s)} deliveries/s, lost ${res.lost}, ok ${res.ok}\n`,
  );
  console.log('| messages echoed | memory_bytes | MiB | messages_stored | at s | stats request ms |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of res.stats_samples) {
    const mb = s.stats?.memory_bytes;
    const n = `${s.messages.toLocaleString('en-US')}${s.after_drain ? ' (after drain)' : ''}`;
    console.log(
      `| ${n} | ${mb ?? '–'} | ${mb ? (mb / 2 ** 20).toFixed(2) : '–'} | ${s.stats?.messages_stored ?? '–'} | ${s.t_s.toFixed(1)} | ${s.request_ms?.toFixed(0) ?? '–'} |`,
    );
  }
  console.log(`\nraw: ${path.relative(ROOT, file)}`);
}

// Cost model: server CPU per message as a function of the room size, one sender, closed loop.
export async function profileRun(opts) {
  const servers = SERVER_KEYS.filter((s) => opts.servers.includes(s));
  checkPrereqs(servers);
  buildLoadgen(opts);
  const env = environment(opts);
  const configs = PROFILE_MEMBERS.map((m) => ({
    id: `profile-${m}m`,
    args: { members: m, senders: 1, messages: Math.round((opts.quick ? 40000 : 120000) / Math.max(m, 4)), window: 32 },
  }));
  log(`bench: cost model, ${servers.join(', ')}, members ${PROFILE_MEMBERS.join('/')}, ${opts.repeats} repeat(s)`);
  const runs = [];
  for (const cfg of configs) {
    for (let rep = 0; rep < opts.repeats; rep++) {
      for (const key of servers.map((_, i) => servers[(i + rep) % servers.length])) {
        const r = await measure(key, cfg, rep, opts);
        runs.push(r);
        const perMsg = r.cpu?.server_us_per_message ?? NaN;
        const what =
          r.error ||
          r.result?.error ||
          `${fmtN(r.result.deliveries_per_s)} deliveries/s, server ${fmtN(perMsg)} µs CPU/message, others' CPU ${r.cpu.other_s} s`;
        log(`${cfg.id.padEnd(14)} #${rep + 1} ${SERVERS[key].name.padEnd(18)} ${what}`);
        if (r.profile) printProfile(r.profile);
      }
    }
  }
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `profile-${stamp(env)}.json`);
  const model = {};
  console.log(
    `\n### Cost model: server CPU µs per message while messages flow, by room size (1 sender, ${opts.repeats} repeat(s), medians)\n`,
  );
  console.log(
    `| server | ${PROFILE_MEMBERS.map((m) => `${m} member${m > 1 ? 's' : ''}`).join(' | ')} | µs per extra recipient, 10→50 | 50→200 |`,
  );
  console.log(`| --- | ${PROFILE_MEMBERS.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const s of servers) {
    const pts = PROFILE_MEMBERS.map((m) => [
      m,
      median(
        runs
          .filter((r) => r.server === s && r.config === `profile-${m}m`)
          .map((r) => r.cpu?.server_us_per_message)
          .filter(Number.isFinite),
      ),
    ]);
    const c = Object.fromEntries(pts);
    const marg = [(c[50] - c[10]) / 40, (c[200] - c[50]) / 150];
    model[s] = {
      points: pts,
      marginal_10_50: marg[0],
      marginal_50_200: marg[1],
      fit: fit(pts.filter((p) => Number.isFinite(p[1]))),
    };
    console.log(
      `| ${SERVERS[s].name} | ${pts.map((p) => fmtN(p[1])).join(' | ')} | ${fmtN(marg[0])} | ${fmtN(marg[1])} |`,
    );
  }
  fs.writeFileSync(file, JSON.stringify({ env, opts, runs, model }, null, 1));
  console.log(`\nraw: ${path.relative(ROOT, file)}`);
}
