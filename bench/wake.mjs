#!/usr/bin/env node
// Wake from hibernation (issue 23): one room of N members goes idle until the runtime evicts the
// room object (its sockets stay open, hibernated); then one member sends one message, and the
// time from that send to its delivery to every member is measured. Chatterly against the
// JavaScript room (baseline-js), fresh server per run, alternating, state on the RAM disk.
//
//   node bench/wake.mjs [--members 500] [--idle 25] [--repeats 3] [--servers chatterly,baseline]
//
// Local workerd evicts an object ~10 s after its last event, and Chatterly's join-deadline alarm
// rings JOIN_TIMEOUT_MS (10 s) after the last connect: --idle must cover both. Chatterly logs
// `room_loaded` when it rebuilds, which tells whether the message really woke it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { serverVars, startServer, stopServer } from './lib/servers.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : d;
};
const MEMBERS = Number(opt('members', 500));
const IDLE_S = Number(opt('idle', 25));
const REPEATS = Number(opt('repeats', 3));
const SERVERS = opt('servers', 'chatterly,baseline').split(',');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function member(url, name, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
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

async function once(key, repeat) {
  const root = fs.mkdtempSync(path.join('/dev/shm', `chatterly-wake-${key}-`));
  fs.mkdirSync(path.join(root, 'state'));
  const logFile = path.join(root, 'wrangler.log');
  const server = await startServer(key, {
    persistTo: path.join(root, 'state'),
    logFile,
    vars: serverVars(key, {}, { vars: [] }),
    viaProxy: false,
  });
  const room = `wake-${repeat}-${Date.now()}`;
  const url = `${server.url.replace('http', 'ws')}/api/rooms/${room}/websocket`;
  const sockets = [];
  try {
    let delivered = 0;
    let done = null;
    const all = new Promise((r) => {
      done = r;
    });
    const onFrame = (f) => {
      if (f.type === 'message' && f.text === 'wake up' && ++delivered === MEMBERS) done(performance.now());
    };
    for (let i = 0; i < MEMBERS; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(MEMBERS, i + 25); j++) batch.push(member(url, `w${j}`, onFrame));
      sockets.push(...(await Promise.all(batch)));
    }
    const loadedBefore = fs.readFileSync(logFile, 'utf8').split('room_loaded').length - 1;
    await sleep(IDLE_S * 1000);
    const load = os.loadavg()[0];
    const t0 = performance.now();
    sockets[0].send(JSON.stringify({ type: 'message', text: 'wake up' }));
    const t1 = await Promise.race([all, sleep(30000).then(() => null)]);
    await sleep(500);
    const loadedAfter = fs.readFileSync(logFile, 'utf8').split('room_loaded').length - 1;
    return {
      server: key,
      repeat,
      members: MEMBERS,
      load1: +load.toFixed(2),
      wake_to_all_ms: t1 === null ? null : +(t1 - t0).toFixed(1),
      delivered,
      // Chatterly only: whether the message found the room object evicted (it rebuilt).
      rebuilt: key === 'chatterly' ? loadedAfter > loadedBefore : null,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stopServer(server);
    fs.rmSync(root, { recursive: true, force: true });
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
for (const key of SERVERS) {
  const ms = results
    .filter((x) => x.server === key && x.wake_to_all_ms !== null)
    .map((x) => x.wake_to_all_ms)
    .sort((a, b) => a - b);
  console.log(
    `${key}: wake to all ${MEMBERS} members, ms: median ${ms[ms.length >> 1]} (${ms[0]}–${ms[ms.length - 1]})`,
  );
}
process.exit(0);
