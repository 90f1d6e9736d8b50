// bench/run: Chatterly vs. an idiomatic JS room vs. the runtime's ceilings (per frame and
// batched), side by side (bench/README.md).
//
// Each measurement starts its own `wrangler dev` through tests/support/devserver.mjs (free
// loopback ports, fresh --persist-to directory), runs the Rust load generator against it and
// stops it. Servers alternate within every repeat of every configuration, so machine noise
// spreads over all four. Raw results and the SVG chart go to bench/results/, a Markdown table
// to stdout.
//
// Layout of lib/: options (command line), configs (what is measured, targets), servers (the
// four servers, starting one), measure (one run: server + load generator + CPU), loadgen,
// cpu, profiler (V8 profiles), environment (versions, build, bundle size), stats (medians,
// summary), report (the table), chart (the SVG), diagnostics (--memory, --profile).
import fs from 'node:fs';
import path from 'node:path';
import { chartSvg } from './lib/chart.mjs';
import { configs as allConfigs } from './lib/configs.mjs';
import { memoryRun, profileRun } from './lib/diagnostics.mjs';
import { bundleSize, checkPrereqs, environment } from './lib/environment.mjs';
import { buildLoadgen } from './lib/loadgen.mjs';
import { measure } from './lib/measure.mjs';
import { die, parseOptions } from './lib/options.mjs';
import { RESULTS, ROOT } from './lib/paths.mjs';
import { printProfile } from './lib/profiler.mjs';
import { beforeTable, failures, fmtN, markdown } from './lib/report.mjs';
import { SERVER_KEYS, SERVERS, stopCurrent } from './lib/servers.mjs';
import { summarize } from './lib/stats.mjs';

const log = (...a) => console.error(...a);
// Read when used: `--before` adds a server while the options are parsed.
const names = () => Object.fromEntries(SERVER_KEYS.map((k) => [k, SERVERS[k].name]));

function heading(env, repeats, quick, storage) {
  const where = storage === 'ram' ? 'on /dev/shm' : 'on disk';
  return [
    `### Results: ${env.date.slice(0, 10)}, ${env.nproc} × ${env.cpu}, ${repeats} repeat(s)${quick ? ' (--quick)' : ''}\n`,
    `wrangler ${env.wrangler}, ${env.workerd}, ${env.rustc}, Node.js ${env.node}; commit ${env.commit}${env.dirty ? ' (+ uncommitted changes)' : ''}; state ${where} unless noted; load via ${env.transport}.\n`,
  ].join('\n');
}

function writeChart(file, rows, env, opts) {
  const caption = `bench/run, ${env.date.slice(0, 16).replace('T', ' ')} UTC, commit ${env.commit}, ${env.nproc} cores; medians of ${opts.repeats} repeat(s)${opts.quick ? ' (--quick: short runs)' : ''}`;
  const svg = chartSvg(rows, caption);
  fs.writeFileSync(file, svg);
  if (opts.chart) fs.writeFileSync(opts.chart, svg);
  return file;
}

function printReport(file, opts) {
  const d = JSON.parse(fs.readFileSync(file, 'utf8'));
  const servers = SERVER_KEYS.filter((s) => d.runs.some((r) => r.server === s));
  // Chart labels and room sizes as defined today, for runs saved before they existed.
  const today = new Map(allConfigs(false).map((c) => [c.id, c]));
  const configs = d.configs
    .filter((c) => d.runs.some((r) => r.config === c.id))
    .map((c) => ({ chartLabel: today.get(c.id)?.chartLabel, members: today.get(c.id)?.members, ...c }));
  const rows = summarize(d.runs, configs, servers);
  console.log(heading(d.env, d.repeats, d.opts?.quick, d.opts?.storage ?? 'ram'));
  // A file that joins runs: a configuration measured again replaces the earlier run's rows.
  if (d.merged)
    console.log(`Joined runs: ${d.merged.parts.map((p) => `${p.configs.join(', ')} from ${p.date}`).join('; ')}.\n`);
  console.log(markdown(rows, d.size));
  const svg = writeChart(file.replace(/\.json$/, '.svg'), rows, d.env, {
    ...opts,
    repeats: d.repeats,
    quick: d.opts?.quick,
  });
  console.log(`\nchart: ${path.relative(ROOT, svg)}${opts.chart ? ` and ${opts.chart}` : ''}`);
}

function describe(r) {
  const res = r.result;
  if (r.error || res?.error) return `ERROR ${r.error || res.error}`;
  const joins =
    res.join_failures && Object.keys(res.join_failures).length
      ? ` join failures ${JSON.stringify(res.join_failures)}`
      : '';
  return `${fmtN(res.deliveries_per_s)} deliveries/s, p50 ${res.latency_ms.p50} ms, p99 ${res.latency_ms.p99} ms, join ${Math.round(res.join_total_ms)} ms${joins}, lost ${res.lost} dup ${res.duplicated} ooo ${res.out_of_order}${res.ok ? '' : ' NOT OK'}; server ${r.cpu.server_us_per_message} µs CPU/message, others' CPU ${r.cpu.other_s} s`;
}

async function main(opts) {
  if (opts.report) return printReport(opts.report, opts);
  if (opts.memory) return memoryRun(opts);
  if (opts.profile) return profileRun(opts);
  const servers = SERVER_KEYS.filter((s) => opts.servers.includes(s));
  const known = allConfigs(opts.quick);
  for (const id of opts.configs ?? []) {
    if (!known.some((c) => c.id === id))
      die(`unknown configuration ${id}; known: ${known.map((c) => c.id).join(', ')}`);
  }
  const configs = opts.configs ? known.filter((c) => opts.configs.includes(c.id)) : known;
  checkPrereqs(servers);
  buildLoadgen(opts);
  const env = environment(opts);
  log(`bench: ${env.date}, ${env.nproc} × ${env.cpu}, wrangler ${env.wrangler}, ${env.workerd}, ${env.rustc}`);
  log(
    `bench: ${configs.length} configurations × ${servers.length} servers × ${opts.repeats} repeats, transport: ${env.transport}`,
  );
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `bench-${env.date.replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`);
  const runs = [];
  const t0 = Date.now();
  const save = (extra = {}) =>
    fs.writeFileSync(file, JSON.stringify({ env, opts, repeats: opts.repeats, configs, runs, ...extra }, null, 1));
  for (const cfg of configs) {
    for (let rep = 0; rep < opts.repeats; rep++) {
      // Alternate: rotate the server order every repeat.
      for (const key of servers.map((_, i) => servers[(i + rep) % servers.length])) {
        const r = await measure(key, cfg, rep, opts);
        runs.push(r);
        save();
        const at = ((Date.now() - t0) / 1000).toFixed(0).padStart(4);
        log(`[${at} s] ${cfg.id.padEnd(12)} #${rep + 1} ${SERVERS[key].name.padEnd(18)} ${describe(r)}`);
        if (r.profile) printProfile(r.profile);
      }
    }
  }
  let size = null;
  if (opts.size && servers.includes('chatterly')) {
    log('bench: wasm bundle size (wrangler deploy --dry-run)…');
    size = bundleSize();
  }
  const rows = summarize(runs, configs, servers);
  const md = markdown(rows, size);
  const svg = writeChart(file.replace(/\.json$/, '.svg'), rows, env, opts);
  save({ size, totalSeconds: (Date.now() - t0) / 1000, markdown: md });
  console.log(`\n${heading(env, opts.repeats, opts.quick, opts.storage)}`);
  console.log(md);
  if (servers.includes('before')) console.log(`\n${beforeTable(rows, SERVERS.before.name)}`);
  const bad = failures(runs, names());
  if (bad.length) console.log(`\nFailed or not-ok runs (${bad.length}):\n${bad.join('\n')}`);
  const builds = [...new Set(runs.filter((r) => r.build).map((r) => r.build.sha256))];
  if (builds.length > 1)
    console.log(`\nWARNING: the Chatterly build changed during the run (${builds.join(', ')}): someone rebuilt it.`);
  else if (builds.length === 1)
    console.log(
      `\nChatterly build: ${env.build?.wasm} sha256 ${builds[0]}… (${env.build?.bytes} bytes, built ${env.build?.mtime}).`,
    );
  console.log(`\nchart: ${path.relative(ROOT, svg)}${opts.chart ? ` and ${opts.chart}` : ''}`);
  console.log(`raw: ${path.relative(ROOT, file)}  (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
}

main(parseOptions(process.argv.slice(2))).catch(async (e) => {
  await stopCurrent();
  die(e.stack || String(e));
});
