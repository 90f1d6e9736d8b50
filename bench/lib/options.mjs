// bench/run's command line.
import { addBefore, SERVER_KEYS } from './servers.mjs';

export const USAGE = `usage: bench/run [options]
  --quick              one repeat, short runs (a smoke run, ~4 min)
  --repeats N          repeats per configuration and server (default 3)
  --configs a,b,...    only these configurations (ids in bench/README.md)
  --servers a,b,...    only these servers: ${SERVER_KEYS.join(', ')}
  --storage ram|disk   where the RAM-disk configurations keep state (default ram = /dev/shm)
  --via-proxy          load through wrangler's local dev proxy instead of the Worker's own socket
  --chart FILE         also write the SVG chart there (it always goes to bench/results/)
  --memory             the memory run instead: 100,000 messages through a 50-member room (Chatterly)
  --profile            the cost model instead: 1 sender, 1/10/50/200 members; fits server CPU per
                       message = fixed + per-recipient × members, for each server
  --ceiling-joins      let the ceilings announce joins to the room (BROADCAST_JOINS=1), as chat does
  --ceiling-store      let the ceilings insert each message into SQLite first (STORE_MESSAGES=1)
  --ceiling-index      with --ceiling-store: and index each text in FTS5 (INDEX_MESSAGES=1)
  --ceiling-decoded    let the ceilings make each frame with TextDecoder, as wasm-bindgen does
  --cpu-profile        record a V8 CPU profile of the Worker while messages flow (through
                       wrangler's inspector) and print where the time goes; saved as .cpuprofile
  --cpu-profile-joins  the same, but while the members connect and join
  --var NAME:VALUE     an extra wrangler var for every server (repeatable; a diagnostic)
  --before DIR         also run Chatterly as built in DIR (a work tree of an older commit, with
                       its own \`make build\`) and print Chatterly ÷ that build: a change's cost
  --report FILE        print the tables of a saved bench/results/bench-*.json again (and its chart)
  --no-size            skip the wasm bundle size
  --no-build           do not (re)build the load generator
  --help`;

export function die(msg) {
  console.error(`bench/run: ${msg}`);
  process.exit(2);
}

export function parseOptions(argv) {
  const opts = {
    quick: false,
    repeats: null,
    configs: null,
    servers: [...SERVER_KEYS],
    storage: 'ram',
    viaProxy: false,
    chart: null,
    memory: false,
    profile: false,
    vars: [],
    profileJoins: false,
    ceilingJoins: false,
    ceilingStore: false,
    ceilingIndex: false,
    ceilingDecoded: false,
    cpuProfile: false,
    report: null,
    size: true,
    build: true,
    before: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      if (i + 1 >= argv.length) die(`${argv[i]} needs a value\n${USAGE}`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--quick':
        opts.quick = true;
        break;
      case '--repeats':
        opts.repeats = Number(next());
        break;
      case '--configs':
        opts.configs = next().split(',');
        break;
      case '--servers':
        opts.servers = next().split(',');
        break;
      case '--storage':
        opts.storage = next();
        break;
      case '--via-proxy':
        opts.viaProxy = true;
        break;
      case '--chart':
        opts.chart = next();
        break;
      case '--memory':
        opts.memory = true;
        break;
      case '--profile':
        opts.profile = true;
        break;
      case '--ceiling-joins':
        opts.ceilingJoins = true;
        break;
      case '--ceiling-store':
        opts.ceilingStore = true;
        break;
      case '--ceiling-index':
        opts.ceilingIndex = true;
        break;
      case '--ceiling-decoded':
        opts.ceilingDecoded = true;
        break;
      case '--cpu-profile':
        opts.cpuProfile = true;
        break;
      case '--cpu-profile-joins':
        opts.cpuProfile = true;
        opts.profileJoins = true;
        break;
      case '--no-size':
        opts.size = false;
        break;
      case '--report':
        opts.report = next();
        break;
      case '--var':
        opts.vars.push(next());
        break;
      case '--before':
        opts.before = next();
        break;
      case '--no-build':
        opts.build = false;
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
  if (!['ram', 'disk'].includes(opts.storage)) die('--storage is ram or disk');
  if (opts.repeats !== null && !(Number.isInteger(opts.repeats) && opts.repeats >= 1 && opts.repeats <= 20)) {
    die('--repeats is 1..20');
  }
  if (opts.before) {
    try {
      addBefore(opts.before);
    } catch (e) {
      die(e.message);
    }
    opts.servers.push('before');
  }
  for (const s of opts.servers) if (!SERVER_KEYS.includes(s)) die(`unknown server ${s}`);
  for (const v of opts.vars) if (!/^[A-Z0-9_]+:/.test(v)) die(`--var takes NAME:VALUE, got ${v}`);
  opts.repeats ??= opts.quick ? 1 : 3;
  return opts;
}
