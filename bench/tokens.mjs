#!/usr/bin/env node
// Issue 18's promise on the message path: a verified member (joined with a token) costs no more
// per message than a guest, since tokens are checked at join and renewal only. One room, the
// same server settings for both (JOIN_TOKENS=optional with a secret), members joining as guests
// or with HS256 tokens the load generator signs (`--token-secret`), alternating, each run on a
// fresh `wrangler dev` (bench/lib/measure). Reports the server's CPU per message while messages
// flowed (not the joins) and deliveries/s.
//
//   node bench/tokens.mjs                    # 10 members, 1 sender, 3000 messages, 3 repeats
//   node bench/tokens.mjs --members 100 --senders 10 --messages 300 --repeats 3
import { checkPrereqs, environment } from './lib/environment.mjs';
import { buildLoadgen } from './lib/loadgen.mjs';
import { measure } from './lib/measure.mjs';
import { fmtN } from './lib/report.mjs';
import { stopCurrent } from './lib/servers.mjs';
import { median } from './lib/stats.mjs';

const SECRET = 'bench-join-token-secret-0123456789';

function parse(argv) {
  const o = { members: 10, senders: 1, messages: 3000, repeats: 3, build: true };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'no-build') o.build = false;
    else if (key in o) o[key] = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

async function main(o) {
  checkPrereqs(['chatterly']);
  buildLoadgen(o);
  const env = environment({});
  const base = { members: o.members, senders: o.senders, messages: o.messages, window: 16 };
  const vars = { JOIN_TOKENS: 'optional', JOIN_TOKEN_SECRET: SECRET };
  const configs = [
    { id: 'guests', args: base, vars },
    { id: 'verified', args: { ...base, 'token-secret': SECRET }, vars },
  ];
  const opts = { storage: 'ram', vars: [] };
  const runs = [];
  for (let rep = 0; rep < o.repeats; rep++) {
    for (const cfg of configs.map((_, i) => configs[(i + rep) % configs.length])) {
      const r = await measure('chatterly', cfg, rep, opts);
      runs.push(r);
      const res = r.result;
      console.error(
        `${cfg.id.padEnd(9)} #${rep + 1}: ${r.error ?? `${fmtN(res?.deliveries_per_s)} deliveries/s, ${r.cpu?.server_us_per_message} µs CPU/message, lost ${res?.lost ?? '?'}`}`,
      );
    }
  }
  console.log(
    `\n${env.date.slice(0, 16)} UTC, commit ${env.commit}; ${o.members} members, ${o.senders} sender(s), ${o.messages} messages each, ${o.repeats} alternating repeats\n`,
  );
  console.log('| members joined as | server CPU µs per message, median (min–max) | deliveries/s, median | lost |');
  console.log('| --- | --- | --- | --- |');
  for (const cfg of configs) {
    const mine = runs.filter((r) => r.config === cfg.id && !r.error);
    const us = mine.map((r) => r.cpu.server_us_per_message).filter(Number.isFinite);
    const dps = mine.map((r) => r.result?.deliveries_per_s).filter(Number.isFinite);
    const lost = mine.reduce((n, r) => n + (r.result?.lost ?? 0), 0);
    console.log(
      `| ${cfg.id} | ${median(us)} (${Math.min(...us)}–${Math.max(...us)}) | ${fmtN(median(dps))} | ${lost} |`,
    );
  }
}

main(parse(process.argv.slice(2))).catch(async (e) => {
  await stopCurrent();
  console.error(e.stack || String(e));
  process.exit(1);
});
