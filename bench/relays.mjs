#!/usr/bin/env node
// Rooms bigger than one object (issue 10): one big room on Chatterly with relays off (the room
// object holds every socket) and on (past RELAY_THRESHOLD, sockets go to ChatRelay objects of at
// most RELAY_MEMBERS each), alternating, each run on a fresh `wrangler dev` (bench/lib/measure).
//
// Reports deliveries/s (median and spread), server CPU per message, the loss/duplicate/order
// checks of the load generator, and from `GET /api/rooms/<room>/stats` (sampled by the load
// generator once all members joined and again after the last delivery) the room object's and
// each relay's sends per message, over the whole run and over the message phase alone.
//
// All objects run in one workerd process on one core here, so relays cannot be faster in wall
// clock locally: what this shows is the room object's sends per message and that nothing is lost.
//
// Two kinds of traffic per setting: `burst` (10 senders, 16 messages in flight each: throughput;
// the room batches ~tens of messages per flush, so sends per message are far below the member
// count) and `single` (1 sender, one message in flight: every message is its own flush, so the
// room object's sends per message are exactly its direct sockets + its relays).
//
//   node bench/relays.mjs                     # 2000 members, off / 200 / 1/200, both modes, 3 repeats
//   node bench/relays.mjs --members 1000 --repeats 1 --settings off,200 --modes burst
//   node bench/relays.mjs --help
import fs from 'node:fs';
import path from 'node:path';
import { checkPrereqs, environment } from './lib/environment.mjs';
import { buildLoadgen } from './lib/loadgen.mjs';
import { measure } from './lib/measure.mjs';
import { RESULTS, ROOT } from './lib/paths.mjs';
import { fmtN } from './lib/report.mjs';
import { stopCurrent } from './lib/servers.mjs';
import { median } from './lib/stats.mjs';

const USAGE = `usage: node bench/relays.mjs [options]
  --members N        members in the room (default 2000)
  --senders S        senders (default 10)
  --messages M       messages per sender (default 60)
  --window W         messages in flight per sender (default 16)
  --single-messages M  messages of the one sender in the single mode (default 100)
  --modes a,b        burst (the senders above), single (1 sender, window 1); default both
  --settings a,b     relay settings: off, or T (RELAY_THRESHOLD = RELAY_MEMBERS = T), or T/R
                     (RELAY_THRESHOLD = T, RELAY_MEMBERS = R; 1/R puts all but one socket on
                     relays); default off,200,1/200
  --repeats N        repeats, configurations alternating (default 3)
  --presence         also check every member's view of the room (only up to PRESENCE_LIST_MAX
                     members: past it the room sends counts, which the load generator does not read)
  --no-build         do not (re)build the load generator
  --help`;

function die(msg) {
  console.error(`bench/relays: ${msg}`);
  process.exit(2);
}

function parse(argv) {
  const o = {
    members: 2000,
    senders: 10,
    messages: 60,
    window: 16,
    singleMessages: 100,
    modes: ['burst', 'single'],
    settings: ['off', '200', '1/200'],
    repeats: 3,
    presence: false,
    build: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => (i + 1 < argv.length ? argv[++i] : die(`${argv[i]} needs a value`));
    const int = () => {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 1) die(`${argv[i - 1]} takes a positive integer`);
      return n;
    };
    switch (argv[i]) {
      case '--members':
        o.members = int();
        break;
      case '--senders':
        o.senders = int();
        break;
      case '--messages':
        o.messages = int();
        break;
      case '--window':
        o.window = int();
        break;
      case '--repeats':
        o.repeats = int();
        break;
      case '--single-messages':
        o.singleMessages = int();
        break;
      case '--modes':
        o.modes = next().split(',');
        break;
      case '--settings':
        o.settings = next().split(',');
        break;
      case '--presence':
        o.presence = true;
        break;
      case '--no-build':
        o.build = false;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        die(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  if (o.senders > o.members) die('senders ≤ members');
  if (o.repeats > 20) die('--repeats is 1..20');
  for (const s of o.settings) if (!/^(off|\d+(\/\d+)?)$/.test(s)) die(`bad setting ${s}`);
  for (const m of o.modes) if (!['burst', 'single'].includes(m)) die(`bad mode ${m}`);
  return o;
}

// One relay setting and traffic mode as a configuration for bench/lib/measure.
function config(setting, mode, o) {
  const [threshold, per] = setting === 'off' ? [0, 0] : setting.split('/').map(Number);
  const relayMembers = setting === 'off' ? 0 : (per ?? threshold);
  const relays = setting === 'off' ? 0 : Math.max(0, Math.ceil((o.members - threshold) / relayMembers));
  const vars = {
    RELAY_THRESHOLD: String(threshold),
    // The room's size limit (default 1000) and the join timeout (default 10 s: a 2000-member
    // crowd joining at once is not what is measured here) out of the way.
    MAX_MEMBERS: String(o.members + 100),
    JOIN_TIMEOUT_MS: '120000',
  };
  if (setting !== 'off') vars.RELAY_MEMBERS = String(relayMembers);
  const [senders, messages, window] = mode === 'burst' ? [o.senders, o.messages, o.window] : [1, o.singleMessages, 1];
  return {
    id: `${mode}-${setting === 'off' ? 'off' : `${threshold}-${relayMembers}`}`,
    mode,
    title:
      setting === 'off'
        ? 'relays off (RELAY_THRESHOLD=0)'
        : `RELAY_THRESHOLD=${threshold}, RELAY_MEMBERS=${relayMembers}`,
    traffic: `${senders} sender${senders > 1 ? 's' : ''} × ${messages} messages, window ${window}`,
    expectedRelays: relays,
    vars,
    args: {
      members: o.members,
      senders,
      messages,
      window,
      'connect-concurrency': 32,
      'join-timeout': 240,
      'drain-timeout': 60,
      'max-time': 280,
      presence: o.presence,
      // The load generator samples the room's stats once all members joined (before the first
      // message), once every sender has its own messages back, and once after the last delivery.
      'stats-every': senders * messages,
    },
  };
}

// The two stats samples: whole run (since the room object started) and the message phase.
function relayStats(res) {
  const samples = res?.stats_samples ?? [];
  const before = samples.find((s) => !s.after_drain)?.stats;
  const after = samples.find((s) => s.after_drain)?.stats;
  if (!after || after.error) return { error: after?.error ?? 'no stats after the run' };
  const ids = (s) => s?.last_message_id ?? 0;
  const msgIds = ids(after) - ids(before);
  const delta = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && msgIds > 0 ? (a - b) / msgIds : null);
  const relaysBefore = new Map((before?.relays ?? []).map((r) => [r.relay, r]));
  const nRelays = (after.relays ?? []).length;
  const direct = after.connections - (after.relays ?? []).reduce((a, r) => a + r.connections, 0);
  // While messages flow, every flush sends one frame (or batch) to each direct socket and one
  // batch down each link: flushes = the room's sends in the phase / (direct + relays).
  const phaseSends = after.sends - (before?.sends ?? 0);
  const flushes = direct + nRelays > 0 ? phaseSends / (direct + nRelays) : NaN;
  return {
    members: after.members,
    connections: after.connections,
    ids: msgIds,
    room: {
      sends: after.sends,
      sends_per_message: after.sends_per_message,
      phase_sends_per_message: delta(after.sends, before?.sends ?? 0),
      direct,
      flushes,
      messages_per_flush: flushes > 0 ? msgIds / flushes : null,
    },
    relays: (after.relays ?? []).map((r) => ({
      relay: r.relay,
      connections: r.connections,
      batches: r.batches,
      sends: r.sends,
      sends_per_message: r.sends_per_message,
      phase_sends_per_message: delta(r.sends, relaysBefore.get(r.relay)?.sends ?? 0),
      phase_batches_per_message: delta(r.batches, relaysBefore.get(r.relay)?.batches ?? 0),
    })),
  };
}

const cell = (xs) => {
  const v = xs.filter(Number.isFinite);
  if (!v.length) return '–';
  if (v.length === 1) return fmtN(v[0]);
  return `${fmtN(median(v))} (${fmtN(Math.min(...v))}–${fmtN(Math.max(...v))})`;
};

function describe(r) {
  if (r.error || r.result?.error) return `ERROR ${r.error || r.result.error}`;
  const res = r.result;
  const s = r.relayStats;
  const rel = s.relays?.length
    ? `; ${s.relays.length} relays, ${s.relays.map((x) => x.connections).join('/')} sockets, relay sends/msg ${s.relays.map((x) => fmtN(x.phase_sends_per_message)).join('/')}`
    : '';
  return `${fmtN(res.deliveries_per_s)} deliveries/s, join ${Math.round(res.join_total_ms)} ms, lost ${res.lost} dup ${res.duplicated} ooo ${res.out_of_order} ids ${res.id_order_violations}${res.ok ? '' : ' NOT OK'}; server ${r.cpu.server_us_per_message} µs CPU/message, others' CPU ${r.cpu.other_s} s; room ${s.room?.direct} direct, room sends/msg ${fmtN(s.room?.phase_sends_per_message)} (whole run ${fmtN(s.room?.sends_per_message)})${rel}`;
}

function table(configs, runs, o) {
  const out = [];
  out.push(
    "| traffic | setting | room object holds | deliveries/s, median (min–max) | server CPU µs per message | messages per flush | room object sends per message | room object sends per message, whole run (`/stats`) | each relay's sends per message | lost + dup + out of order + id order, all runs | runs ok |",
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | ---: | ---: |');
  for (const c of configs) {
    const rs = runs.filter((r) => r.config === c.id);
    const good = rs.filter((r) => r.result && !r.result.error);
    const pick = (f) => good.map(f).filter(Number.isFinite);
    const holds = [
      ...new Set(good.map((r) => `${r.relayStats?.room?.direct} sockets + ${r.relayStats?.relays?.length ?? 0} links`)),
    ].join(' / ');
    const relaySpm = good
      .flatMap((r) => (r.relayStats?.relays ?? []).map((x) => x.phase_sends_per_message))
      .filter(Number.isFinite);
    const bad = good.reduce(
      (a, r) => a + r.result.lost + r.result.duplicated + r.result.out_of_order + r.result.id_order_violations,
      0,
    );
    const range = relaySpm.length
      ? Math.min(...relaySpm) === Math.max(...relaySpm)
        ? fmtN(relaySpm[0])
        : `${fmtN(Math.min(...relaySpm))}–${fmtN(Math.max(...relaySpm))}`
      : '–';
    out.push(
      `| ${c.traffic} | ${c.title} | ${holds} | ${cell(pick((r) => r.result.deliveries_per_s))} | ${cell(pick((r) => r.cpu?.server_us_per_message))} | ${cell(pick((r) => r.relayStats?.room?.messages_per_flush))} | ${cell(pick((r) => r.relayStats?.room?.phase_sends_per_message))} | ${cell(pick((r) => r.relayStats?.room?.sends_per_message))} | ${range} | ${bad} | ${good.filter((r) => r.result.ok).length} of ${rs.length} |`,
    );
  }
  out.push(
    `\n${o.members} members in one room, ${o.repeats} repeat(s), configurations alternating; medians (min–max). Sends per message are over the message phase (stats sampled once all members joined and again after the last delivery) unless marked whole run; each relay's is the range over all relays and runs.`,
  );
  const joins = configs
    .map((c) => {
      const good = runs.filter((r) => r.config === c.id && r.result && !r.result.error);
      return `${c.id}: all joined in ${cell(good.map((r) => r.result.join_total_ms))} ms, server CPU during the joins ${cell(good.map((r) => r.cpu?.join_phase_server_s))} s`;
    })
    .join('; ');
  out.push(`\nJoins (${o.members} members, 32 connects in flight): ${joins}.`);
  return out.join('\n');
}

async function main(o) {
  checkPrereqs(['chatterly']);
  buildLoadgen({ build: o.build });
  const env = environment({ viaProxy: false });
  const configs = o.modes.flatMap((m) => o.settings.map((s) => config(s, m, o)));
  const opts = { storage: 'ram', vars: [], viaProxy: false };
  console.error(
    `bench/relays: ${env.date}, ${env.nproc} cores, build ${env.build?.sha256} (${env.build?.mtime}), commit ${env.commit}; ${o.members} members, ${configs.map((c) => c.id).join(', ')}, ${o.repeats} repeat(s)`,
  );
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `relays-${env.date.replace(/[:.]/g, '-')}.json`);
  const runs = [];
  const t0 = Date.now();
  const save = (extra = {}) => fs.writeFileSync(file, JSON.stringify({ env, o, configs, runs, ...extra }, null, 1));
  for (let rep = 0; rep < o.repeats; rep++) {
    for (const cfg of configs.map((_, i) => configs[(i + rep) % configs.length])) {
      const r = await measure('chatterly', cfg, rep, opts);
      r.relayStats = r.result && !r.result.error ? relayStats(r.result) : null;
      runs.push(r);
      save();
      const at = ((Date.now() - t0) / 1000).toFixed(0).padStart(4);
      console.error(`[${at} s] ${cfg.id.padEnd(16)} #${rep + 1} ${describe(r)}`);
    }
  }
  const md = table(configs, runs, o);
  const builds = [...new Set(runs.filter((r) => r.build).map((r) => r.build.sha256))];
  save({ markdown: md, totalSeconds: (Date.now() - t0) / 1000 });
  console.log(
    `\n### Relays: ${env.date.slice(0, 16).replace('T', ' ')} UTC, commit ${env.commit}${env.dirty ? ' (+ uncommitted changes)' : ''}\n`,
  );
  console.log(md);
  if (builds.length > 1) console.log(`\nWARNING: the Chatterly build changed during the run (${builds.join(', ')}).`);
  else
    console.log(
      `\nChatterly build: ${env.build?.wasm} sha256 ${builds[0]}… (${env.build?.bytes} bytes, built ${env.build?.mtime}).`,
    );
  console.log(`raw: ${path.relative(ROOT, file)}  (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
}

main(parse(process.argv.slice(2))).catch(async (e) => {
  await stopCurrent();
  die(e.stack || String(e));
});
