#!/usr/bin/env node
// Builds public/emoji/emoji-table.json, the emoji picker's table, from the `emojibase-data` npm
// package (Unicode's emoji list with CLDR names and search tags, maintained upstream). Each emoji
// kept is one the server accepts as a reaction: exactly one RGI emoji by public/shared/emoji.js,
// the very check the Worker runs. Skin-tone variants and the bare components are left out, to
// keep the table small; the picker loads it on first open only.
//
// Run: node scripts/emoji-table.mjs   (tests/unit/emoji-picker.test.mjs checks the file is current)

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isEmoji } from '../public/shared/emoji.js';

const require = createRequire(import.meta.url);
const OUT = new URL('../public/emoji/emoji-table.json', import.meta.url);

/** The table: `{version, groups: [{name, emoji: [[emoji, name, tags], …]}]}`. */
export function buildTable() {
  const data = require('emojibase-data/en/compact.json');
  const { groups } = require('emojibase-data/en/messages.json');
  const { version } = JSON.parse(readFileSync(require.resolve('emojibase-data/package.json'), 'utf8'));
  const out = groups
    .filter((g) => g.key !== 'component')
    .sort((a, b) => a.order - b.order)
    .map((g) => ({ name: g.message, emoji: [] }));
  const byOrder = new Map(groups.filter((g) => g.key !== 'component').map((g) => [g.order, g.message]));
  const sorted = data.filter((e) => byOrder.has(e.group)).sort((a, b) => a.order - b.order);
  for (const e of sorted) {
    // emojibase writes the presentation selector (U+FE0F) where RGI has none: try both.
    const char = [e.unicode, e.unicode.replaceAll('\uFE0F', '')].find(isEmoji);
    if (!char) continue;
    const group = out.find((g) => g.name === byOrder.get(e.group));
    group.emoji.push([char, e.label, (e.tags ?? []).join(' ')]);
  }
  return { source: `emojibase-data ${version}`, groups: out.filter((g) => g.emoji.length > 0) };
}

export function tableText() {
  return `${JSON.stringify(buildTable())}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OUT, tableText());
  const t = buildTable();
  console.log(`${OUT.pathname}: ${t.groups.reduce((n, g) => n + g.emoji.length, 0)} emoji from ${t.source}`);
}
