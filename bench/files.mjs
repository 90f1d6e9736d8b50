#!/usr/bin/env node
// Issue 22: upload and download throughput of one file through `wrangler dev` and its local R2
// (bench/README.md, "Files"). A fresh server, one member who asks for a ticket on the socket,
// then PUTs the file (streamed by the Worker to R2) and GETs it back; MiB/s per direction,
// median of the repeats. Loopback only.
//
//   node bench/files.mjs                 # 10 MiB × 5
//   node bench/files.mjs --mib 5 --repeats 3
import WebSocket from 'ws';
import { startDevServer } from '../tests/support/devserver.mjs';

function parse(argv) {
  const o = { mib: 10, repeats: 5 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in o)) throw new Error(`unknown option ${argv[i]}`);
    o[key] = Number(argv[++i]);
  }
  return o;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(o) {
  const size = o.mib * 1024 * 1024;
  const body = Buffer.alloc(size, 0x61); // plain text
  const server = await startDevServer({ vars: { MAX_FILE_BYTES: String(size), FILE_BYTES_PER_HOUR: '0' } });
  try {
    const room = `bench-files-${process.pid}`;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/rooms/${room}/websocket`);
    const frames = [];
    const waiters = [];
    ws.on('message', (d) => {
      for (const f of [JSON.parse(String(d))].flat()) {
        const w = waiters.findIndex((x) => x.type === f.type || f.type === 'error');
        if (w >= 0) waiters.splice(w, 1)[0].resolve(f);
        else frames.push(f);
      }
    });
    const next = (type) => new Promise((resolve) => waiters.push({ type, resolve }));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'join', name: 'bench' }));
    await next('welcome');
    const up = [];
    const down = [];
    for (let i = 0; i < o.repeats; i++) {
      ws.send(JSON.stringify({ type: 'upload', name: 'bench.txt', size }));
      const t = await next('upload_ticket');
      if (t.type !== 'upload_ticket') throw new Error(JSON.stringify(t));
      let t0 = performance.now();
      const put = await fetch(server.url + t.url, { method: 'PUT', body });
      if (put.status !== 201) throw new Error(`PUT ${put.status}: ${await put.text()}`);
      up.push(o.mib / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      const got = Buffer.from(await (await fetch(`${server.url}/api/rooms/${room}/files/${t.id}`)).arrayBuffer());
      down.push(o.mib / ((performance.now() - t0) / 1000));
      if (!got.equals(body)) throw new Error('the download differs from the upload');
      console.error(`#${i + 1}: up ${up.at(-1).toFixed(1)} MiB/s, down ${down.at(-1).toFixed(1)} MiB/s`);
    }
    ws.close();
    console.log(
      `| ${o.mib} MiB × ${o.repeats} | ${median(up).toFixed(1)} (${Math.min(...up).toFixed(1)}–${Math.max(...up).toFixed(1)}) | ${median(down).toFixed(1)} (${Math.min(...down).toFixed(1)}–${Math.max(...down).toFixed(1)}) |`,
    );
  } finally {
    await server.stop();
  }
}

main(parse(process.argv.slice(2))).catch((e) => {
  console.error(e);
  process.exit(1);
});
