// Medians, spreads, a least-squares line, and the per-configuration summary of a run's results.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Least squares y = a + b x.
export function fit(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

// Per configuration and server: the numbers of every good run, and what went wrong.
export function summarize(runs, configs, servers) {
  return configs.map((cfg) => {
    const per = {};
    for (const s of servers) {
      const rs = runs.filter((r) => r.config === cfg.id && r.server === s);
      const good = rs.filter((r) => r.result && !r.result.error);
      const pick = (f) => good.map(f).filter((x) => Number.isFinite(x));
      const sum = (f) => good.reduce((a, r) => a + (f(r) || 0), 0);
      per[s] = {
        n: rs.length,
        failed: rs.length - good.length,
        dps: pick((r) => r.result.deliveries_per_s),
        p99: pick((r) => r.result.latency_ms.p99),
        p50: pick((r) => r.result.latency_ms.p50),
        join: pick((r) => r.result.join_total_ms),
        usPerMessage: pick((r) => r.cpu?.server_us_per_message),
        dpcs: pick((r) => (r.cpu?.server_us_per_delivery ? 1e6 / r.cpu.server_us_per_delivery : NaN)),
        other: pick((r) => r.cpu?.other_s),
        joinCpu: pick((r) => r.cpu?.join_phase_server_s),
        lost: sum((r) => r.result.lost + r.result.duplicated + r.result.out_of_order + r.result.id_order_violations),
        joinFailed: sum((r) => Object.values(r.result.join_failures || {}).reduce((a, b) => a + b, 0)),
        closed1008: sum((r) => r.result.closed_1008),
        presence: sum((r) => {
          const p = r.result.presence;
          return p?.checked ? p.incomplete_views + p.announced_twice + p.unknown_leaves : 0;
        }),
        notOk: good.filter((r) => !r.result.ok).length,
        errors: rs.filter((r) => r.error || r.result?.error).map((r) => r.error || r.result.error),
      };
    }
    return { config: cfg, per };
  });
}
