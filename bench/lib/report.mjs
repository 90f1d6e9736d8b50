// The Markdown results table: medians (min–max) of every server, both ratios, targets.
import { median, ratio } from './stats.mjs';

const COLUMNS = ['chatterly', 'baseline', 'ceiling', 'batched'];

export const fmtN = (x) =>
  Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x >= 10 ? 1 : 2)) : '–';
const fmtR = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

function cell(xs) {
  if (!xs?.length) return '–';
  if (xs.length === 1) return fmtN(xs[0]);
  return `${fmtN(median(xs))} (${fmtN(Math.min(...xs))}–${fmtN(Math.max(...xs))})`;
}

const verdict = (met, goal) => (met === null ? '–' : met ? (goal ? 'yes (goal too)' : 'yes') : '**no**');
const clean = (v) => v && v.n > 0 && v.failed === 0 && v.notOk === 0 && v.lost === 0;

// One table row: a metric for every server, Chatterly / baseline and Chatterly / batched ceiling.
function row(title, metric, per, pick, { ratios = false, target = '', met = '' } = {}) {
  const vals = COLUMNS.map((s) => (per[s] ? cell(pick(per[s])) : '–'));
  const m = (s) => (per[s] ? median(pick(per[s]) || []) : NaN);
  const rs = ratios
    ? [fmtR(ratio(m('chatterly'), m('baseline'))), fmtR(ratio(m('chatterly'), m('batched')))]
    : ['', ''];
  return `| ${title} | ${metric} | ${vals.join(' | ')} | ${rs.join(' | ')} | ${target} | ${met} |`;
}

function lossCell(v) {
  if (!v) return '–';
  if (clean(v)) return '0';
  return `${v.lost} (${v.notOk + v.failed} bad run${v.notOk + v.failed === 1 ? '' : 's'})`;
}

function lossRow(title, per) {
  return `| ${title} | lost + duplicated + out-of-order | ${COLUMNS.map((s) => lossCell(per[s])).join(' | ')} | | | 0 | |`;
}

function dpsRows(cfg, per) {
  const t = cfg.target;
  const c = per.chatterly;
  const rb = c && per.baseline ? ratio(median(c.dps), median(per.baseline.dps)) : NaN;
  const met = Number.isFinite(rb) && clean(c) ? rb >= t.baseline : Number.isFinite(rb) ? false : null;
  const target = `≥ ${t.baseline}× baseline (goal ${t.goal}×), zero loss`;
  return [
    row(cfg.title, 'deliveries/s, median (min–max)', per, (v) => v.dps, {
      ratios: true,
      target,
      met: verdict(met, met && rb >= t.goal),
    }),
    row(cfg.title, 'deliveries per server CPU-second', per, (v) => v.dpcs, { ratios: true }),
    row(cfg.title, 'server CPU µs per message', per, (v) => v.usPerMessage, { ratios: true }),
    lossRow(cfg.title, per),
  ];
}

function latencyRows(cfg, per) {
  const c = per.chatterly;
  const b = per.baseline;
  const has = c?.p99.length && b?.p99.length;
  const p99 = has ? ratio(median(c.p99), median(b.p99)) : NaN;
  const p50met = has ? median(c.p50) <= median(b.p50) + 1 : null;
  return [
    row(cfg.title, 'p99 latency ms, median (min–max)', per, (v) => v.p99, {
      ratios: true,
      target: "≤ baseline's (goal half)",
      met: has ? verdict(p99 <= 1, p99 <= 0.5) : '–',
    }),
    row(cfg.title, 'p50 latency ms', per, (v) => v.p50, {
      ratios: true,
      target: "≤ baseline's + 1 ms",
      met: verdict(p50met),
    }),
    row(cfg.title, 'achieved deliveries/s', per, (v) => v.dps, { target: '10,000' }),
    lossRow(cfg.title, per),
  ];
}

function joinRows(cfg, per) {
  const t = cfg.target;
  const c = per.chatterly;
  const b = per.baseline;
  const r = c?.join.length && b?.join.length ? ratio(median(c.join), median(b.join)) : NaN;
  const allIn = c && c.n > 0 && c.joinFailed === 0 && c.closed1008 === 0 && c.presence === 0;
  const met = Number.isFinite(r) ? r <= t.baseline && allIn && clean(c) : null;
  const counts = (v) => `${v.joinFailed} / ${v.closed1008} / ${v.presence}`;
  return [
    row(cfg.title, 'all joined, ms (first connect to last welcome)', per, (v) => v.join, {
      ratios: true,
      target: `≤ ${t.baseline}× baseline's (goal < ${t.goalMs / 1000} s), zero 1008 closes, zero loss`,
      met: verdict(met, met && median(c.join) < t.goalMs),
    }),
    `| ${cfg.title} | not joined / 1008 closes / presence errors, all runs | ${COLUMNS.map((s) => (per[s] ? counts(per[s]) : '–')).join(' | ')} | | | 0 / 0 / 0 | |`,
    row(cfg.title, 'server CPU s during the joins', per, (v) => v.joinCpu, { ratios: true }),
    row(cfg.title, 'deliveries/s once joined', per, (v) => v.dps, { ratios: true }),
    lossRow(cfg.title, per),
  ];
}

export function markdown(rows, size) {
  const lines = [
    '| configuration | metric | Chatterly | baseline-js | ceiling-js | ceiling-js batched | Chatterly / baseline | Chatterly / batched ceiling | target | met? |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { config: cfg, per } of rows) {
    const kind = { dps: dpsRows, latency: latencyRows, join: joinRows }[cfg.target.metric];
    lines.push(...kind(cfg, per));
  }
  if (size?.error) lines.push(`| wasm bundle | gzip | ${size.error} | | | | | | ≤ 250 KiB gzip | – |`);
  else if (size) {
    const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
    const met = size.gzip <= 250 * 1024 ? 'yes' : '**no**';
    lines.push(
      `| wasm bundle (\`wrangler deploy --dry-run\`) | raw / gzip -9 | ${kib(size.raw)} / ${kib(size.gzip)} | | | | | | ≤ 250 KiB gzip | ${met} |`,
    );
  }
  return lines.join('\n');
}

// Runs that failed or broke an integrity check, one line each.
export function failures(runs, names) {
  return runs
    .filter((r) => r.error || r.result?.error || (r.result && !r.result.ok))
    .map((r) => {
      const res = r.result;
      const why =
        r.error ||
        res?.error ||
        `lost ${res.lost}, id-order violations ${res.id_order_violations}, drained ${res.drained}, errors ${JSON.stringify(res.errors)}, join failures ${JSON.stringify(res.join_failures)}, closes ${JSON.stringify(res.closes)}, presence ${JSON.stringify(res.presence)}`;
      return `- ${r.config} #${r.repeat + 1} ${names[r.server]}: ${why}`;
    });
}

// `--before DIR`: Chatterly against the older build, per configuration, on the figures a change
// moves (deliveries/s and server CPU per message; for a join storm, the time to join).
export function beforeTable(rows, name) {
  const lines = [
    `| configuration | metric | Chatterly | ${name} | Chatterly ÷ before |`,
    '| --- | --- | --- | --- | --- |',
  ];
  for (const { config: cfg, per } of rows) {
    const metrics =
      cfg.target.metric === 'join'
        ? [['all joined, ms', (v) => v.join]]
        : [
            ['deliveries/s, median (min–max)', (v) => v.dps],
            ['server CPU µs per message', (v) => v.usPerMessage],
          ];
    for (const [metric, pick] of metrics) {
      const m = (s) => (per[s] ? median(pick(per[s]) || []) : NaN);
      const cells = ['chatterly', 'before'].map((s) => (per[s] ? cell(pick(per[s])) : '–'));
      lines.push(`| ${cfg.title} | ${metric} | ${cells.join(' | ')} | ${fmtR(ratio(m('chatterly'), m('before')))} |`);
    }
    lines.push(
      `| ${cfg.title} | lost + duplicated + out-of-order | ${lossCell(per.chatterly)} | ${lossCell(per.before)} | |`,
    );
  }
  return lines.join('\n');
}
