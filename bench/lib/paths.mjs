// Where things are: the repository, its tools and the benchmark's own parts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const ROOT = path.dirname(BENCH);
export const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
export const WORKERD = path.join(ROOT, 'node_modules/.bin/workerd');
export const LOADGEN_DIR = path.join(BENCH, 'loadgen');
export const LOADGEN = path.join(LOADGEN_DIR, 'target/release/chatterly-loadgen');
export const RESULTS = path.join(BENCH, 'results');
export const DEVSERVER = path.join(ROOT, 'tests/support/devserver.mjs');
