// The results as an SVG chart, drawn here (no external service): deliveries/s per configuration
// for the four servers, the server's CPU per message against the room size, and the join storm.
import { median } from './stats.mjs';

const SERIES = [
  { key: 'chatterly', name: 'Chatterly', color: '#e8590c' },
  { key: 'baseline', name: 'baseline-js', color: '#1c7ed6' },
  { key: 'ceiling', name: 'ceiling-js (per frame)', color: '#868e96' },
  { key: 'batched', name: 'ceiling-js batched', color: '#2b8a3e' },
];
const W = 960;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const short = (x) =>
  x >= 1e6
    ? `${+(x / 1e6).toFixed(1)}M`
    : x >= 1e3
      ? `${+(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)}k`
      : `${+x.toFixed(x >= 10 ? 0 : 1)}`;
const text = (x, y, s, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((m) => m >= v);
}

function legend(y) {
  let x = 70;
  const out = [];
  for (const s of SERIES) {
    out.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${s.color}"/>`,
      text(x + 17, y, s.name, 'font-size="13"'),
    );
    x += 40 + s.name.length * 7.2;
  }
  return out.join('\n');
}

// Grouped bars: median deliveries/s, with a whisker from min to max.
function throughputPanel(rows, top) {
  const h = 330;
  const [x0, x1, y0, y1] = [70, W - 20, top + 40, top + h - 60];
  const groups = rows.filter((r) => r.config.target.metric === 'dps');
  const max = niceMax(Math.max(1, ...groups.flatMap((g) => SERIES.flatMap((s) => g.per[s.key]?.dps ?? []))));
  const y = (v) => y1 - ((y1 - y0) * v) / max;
  const out = [
    text(
      x0,
      top + 18,
      'Deliveries per second (median of the repeats; whiskers: min–max)',
      'font-size="15" font-weight="600"',
    ),
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (max * i) / 5;
    out.push(`<line x1="${x0}" x2="${x1}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e9ecef"/>`);
    out.push(text(x0 - 6, y(v) + 4, short(v), 'font-size="11" text-anchor="end" fill="#495057"'));
  }
  const gw = (x1 - x0) / Math.max(1, groups.length);
  const bw = Math.min(34, (gw - 24) / SERIES.length);
  groups.forEach((g, gi) => {
    const gx = x0 + gi * gw + (gw - bw * SERIES.length) / 2;
    SERIES.forEach((s, si) => {
      const xs = g.per[s.key]?.dps ?? [];
      if (!xs.length) return;
      const m = median(xs);
      const bx = gx + si * bw;
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${y(m).toFixed(1)}" width="${(bw - 3).toFixed(1)}" height="${(y1 - y(m)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name}: ${Math.round(m)} deliveries/s`)}</title></rect>`,
      );
      const cx = bx + (bw - 3) / 2;
      if (xs.length > 1) {
        out.push(
          `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(Math.min(...xs)).toFixed(1)}" y2="${y(Math.max(...xs)).toFixed(1)}" stroke="#212529" stroke-width="1.2"/>`,
        );
      }
      out.push(text(cx, y(Math.max(...xs)) - 4, short(m), 'font-size="10" text-anchor="middle" fill="#212529"'));
    });
    const lines = g.config.chartLabel ?? [g.config.id];
    for (const [li, w] of lines.entries()) {
      out.push(text(x0 + gi * gw + gw / 2, y1 + 16 + li * 14, w, 'font-size="12" text-anchor="middle" fill="#343a40"'));
    }
  });
  out.push(`<line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#495057"/>`);
  return { svg: out.join('\n'), height: h };
}

// Server CPU µs per message against room size, log–log, one line per server.
function costPanel(rows, top) {
  const h = 350;
  const [x0, x1, y0, y1] = [70, W - 200, top + 40, top + h - 65];
  const pts = SERIES.map((s) => ({
    ...s,
    points: rows
      .filter((r) => r.config.members && r.per[s.key]?.usPerMessage.length)
      .map((r) => [r.config.members, median(r.per[s.key].usPerMessage), r.config.id])
      .sort((a, b) => a[0] - b[0]),
  }));
  const all = pts.flatMap((s) => s.points);
  const out = [
    text(x0, top + 18, 'Server CPU per message (µs, median) against room size', 'font-size="15" font-weight="600"'),
  ];
  if (!all.length) return { svg: out.join('\n'), height: 60 };
  const lx = [Math.log10(Math.min(...all.map((p) => p[0]))), Math.log10(Math.max(...all.map((p) => p[0])))];
  const ly = [
    Math.floor(Math.log10(Math.min(...all.map((p) => p[1])))),
    Math.ceil(Math.log10(Math.max(...all.map((p) => p[1])))),
  ];
  if (lx[1] - lx[0] < 0.5) lx[1] = lx[0] + 1;
  if (ly[1] - ly[0] < 1) ly[1] = ly[0] + 1;
  const x = (v) => x0 + ((x1 - x0) * (Math.log10(v) - lx[0])) / (lx[1] - lx[0]);
  const y = (v) => y1 - ((y1 - y0) * (Math.log10(v) - ly[0])) / (ly[1] - ly[0]);
  for (let e = ly[0]; e <= ly[1]; e++) {
    for (const m of e < ly[1] ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      out.push(
        `<line x1="${x0}" x2="${x1}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${m === 1 ? '#dee2e6' : '#f1f3f5'}"/>`,
      );
      out.push(text(x0 - 6, y(v) + 4, short(v), 'font-size="11" text-anchor="end" fill="#495057"'));
    }
  }
  for (const m of [...new Set(all.map((p) => p[0]))]) {
    out.push(`<line x1="${x(m).toFixed(1)}" x2="${x(m).toFixed(1)}" y1="${y0}" y2="${y1}" stroke="#f1f3f5"/>`);
    out.push(text(x(m), y1 + 16, `${m}`, 'font-size="11" text-anchor="middle" fill="#495057"'));
  }
  out.push(
    text(
      (x0 + x1) / 2,
      y1 + 34,
      'members in the room (log scale)',
      'font-size="12" text-anchor="middle" fill="#343a40"',
    ),
  );
  for (const s of pts) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of s.points) {
      out.push(
        `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${s.name}, ${p[2]}: ${p[1].toFixed(1)} µs per message`)}</title></circle>`,
      );
    }
  }
  // End-of-line labels, moved apart where lines end close together.
  const labels = pts
    .filter((s) => s.points.length)
    .map((s) => ({ s, last: s.points.at(-1), at: y(s.points.at(-1)[1]) + 4 }))
    .sort((a, b) => a.at - b.at);
  for (let i = 1; i < labels.length; i++) labels[i].at = Math.max(labels[i].at, labels[i - 1].at + 13);
  for (const { s, last, at } of labels) {
    out.push(text(x(last[0]) + 8, at, `${s.name} ${short(last[1])} µs`, `font-size="11" fill="${s.color}"`));
  }
  const sources = [...new Map(all.map((p) => [p[0], p[2]])).entries()].sort((a, b) => a[0] - b[0]);
  const note = `points: ${sources.map(([m, id]) => `${m} = ${id}`).join(', ')}`;
  out.push(text((x0 + x1) / 2, y1 + 48, note, 'font-size="11" text-anchor="middle" fill="#868e96"'));
  out.push(`<line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#495057"/>`);
  return { svg: out.join('\n'), height: h };
}

// Horizontal bars: seconds from the first connect to the last welcome in the join storm.
function joinPanel(rows, top) {
  const storm = rows.find((r) => r.config.target.metric === 'join');
  const series = SERIES.filter((s) => storm?.per[s.key]?.join.length);
  if (!series.length) return { svg: '', height: 0 };
  const h = 50 + series.length * 24;
  const [x0, x1] = [200, W - 120];
  const max = niceMax(Math.max(...series.flatMap((s) => storm.per[s.key].join)) / 1000);
  const x = (v) => x0 + ((x1 - x0) * v) / max;
  const out = [
    text(
      70,
      top + 18,
      `${storm.config.args.members} members join at once (${storm.config.args['connect-concurrency']} connects in flight): seconds until the last welcome`,
      'font-size="15" font-weight="600"',
    ),
  ];
  series.forEach((s, i) => {
    const xs = storm.per[s.key].join.map((ms) => ms / 1000);
    const m = median(xs);
    const y = top + 34 + i * 24;
    out.push(text(x0 - 8, y + 13, s.name, 'font-size="12" text-anchor="end" fill="#343a40"'));
    out.push(`<rect x="${x0}" y="${y}" width="${(x(m) - x0).toFixed(1)}" height="17" fill="${s.color}"/>`);
    if (xs.length > 1) {
      const [lo, hi] = [x(Math.min(...xs)).toFixed(1), x(Math.max(...xs)).toFixed(1)];
      out.push(`<line x1="${lo}" x2="${hi}" y1="${y + 8.5}" y2="${y + 8.5}" stroke="#212529" stroke-width="1.2"/>`);
    }
    out.push(text(x(Math.max(...xs)) + 6, y + 13, `${m.toFixed(1)} s`, 'font-size="11" fill="#212529"'));
  });
  return { svg: out.join('\n'), height: h };
}

export function chartSvg(rows, caption) {
  const a = throughputPanel(rows, 40);
  const b = costPanel(rows, 40 + a.height);
  const c = joinPanel(rows, 40 + a.height + b.height);
  const h = 40 + a.height + b.height + c.height + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" ${FONT}>
<rect width="${W}" height="${h}" fill="#ffffff"/>
${legend(24)}
${a.svg}
${b.svg}
${c.svg}
${text(70, h - 10, caption, 'font-size="11" fill="#868e96"')}
</svg>
`;
}
