// Writes public/sdk/chatterly.min.js: the SDK (public/sdk/chatterly.js) minified, the form an app
// loads. The readable file stays the one source; tests/unit/sdk-types.test.mjs checks that the
// minified one is current and within its size budget. Run: node scripts/sdk-min.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const SOURCE = here('../public/sdk/chatterly.js');
export const TARGET = here('../public/sdk/chatterly.min.js');

/** The minified module for the source's current text. */
export function minify(source = readFileSync(SOURCE, 'utf8')) {
  const { code } = transformSync(source, { minify: true, format: 'esm', target: 'es2022', legalComments: 'none' });
  return `// Chatterly's client, minified from chatterly.js by scripts/sdk-min.mjs (do not edit).\n${code}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(TARGET, minify());
