// Whether a member name mixes scripts that UTS #39 calls unsafe: the Worker's copy of
// `mixes_unsafe_scripts` in src/validate/names.rs (the same rule, read there), answered from the
// JavaScript engine's Script_Extensions data instead of the unicode-script crate's table, which
// alone is ~10 KB of the Worker's gzipped upload (issue 18). The scripts are the crate's
// (names-data.js); a script newer than the engine has no characters here.

import { RECOMMENDED, SCRIPTS } from './names-data.js';

/** A character every script has (Common, Inherited): no limit on a name's script set. */
const ANY_SCRIPT = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;
const ASCII_LETTER = /^[A-Za-z]$/;
const RECOMMENDED_SET = new Set(RECOMMENDED.split(' '));
let byScript;

/** One test per script the engine knows, made at the first name that needs them. */
function scriptTests() {
  if (!byScript) {
    byScript = [];
    for (const code of SCRIPTS.split(' ')) {
      try {
        byScript.push([code, new RegExp(`^\\p{scx=${code}}$`, 'u')]);
      } catch {
        // A script this engine does not know yet.
      }
    }
  }
  return byScript;
}

/** UTS #39's augmented script set of one character; null for every script. */
function augmented(ch) {
  if (ANY_SCRIPT.test(ch)) return null;
  if (ASCII_LETTER.test(ch)) return new Set(['Latn']);
  const set = new Set();
  for (const [code, test] of scriptTests()) if (test.test(ch)) set.add(code);
  // Han is written with Bopomofo (Hanb), in Japanese (Jpan) and in Korean (Kore).
  if (set.has('Hani')) for (const code of ['Hanb', 'Jpan', 'Kore']) set.add(code);
  if (set.has('Hira') || set.has('Kana')) set.add('Jpan');
  if (set.has('Hang')) set.add('Kore');
  if (set.has('Bopo')) set.add('Hanb');
  return set;
}

function intersect(a, b) {
  if (a === null) return b;
  if (b === null) return a;
  return new Set([...a].filter((code) => b.has(code)));
}

/**
 * Whether a name mixes scripts beyond UTS #39's Moderately Restrictive level: it passes when it is
 * single-script (Han with Hiragana and Katakana, Hangul or Bopomofo counts as one), or Latin plus
 * one other Recommended script that is neither Cyrillic nor Greek.
 */
export function mixesUnsafeScripts(name) {
  let all = null;
  let nonLatin = null;
  for (const ch of String(name)) {
    const set = augmented(ch);
    all = intersect(all, set);
    if (set !== null && !set.has('Latn')) nonLatin = intersect(nonLatin, set);
  }
  if (all === null || all.size > 0 || nonLatin === null) return false;
  if (['Hanb', 'Jpan', 'Kore'].some((code) => nonLatin.has(code))) return false;
  if (nonLatin.size !== 1) return true;
  const [other] = nonLatin;
  return !RECOMMENDED_SET.has(other) || other === 'Cyrl' || other === 'Grek';
}
