// The FTS5 write-cost probe (run.sh): a Durable Object with a log table shaped like the room's
// (`messages`) and one search index variant kept in step by triggers, as src/shell/search.rs
// does. `fill` writes the history; `run` writes `n` more in flushes of `batch` (one multi-row
// insert, as a room's burst), each flush trimming as many of the oldest when `trim` is 1.
import { DurableObject } from 'cloudflare:workers';

const TEXT = (row) => `COALESCE(json_extract(${row}body, '$.text'), ${row}text)`;
const TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'";
const SECURE = (on) => `INSERT INTO search (search, rank) VALUES ('secure-delete', ${on})`;
const INSERT = `INSERT INTO search (rowid, text) VALUES (new.id, ${TEXT('new.')})`;
const REINSERT = `INSERT INTO search (rowid, text) SELECT new.id, ${TEXT('new.')} WHERE ${TEXT('new.')} <> ''`;
const FORGET = `INSERT INTO search (search, rowid, text) SELECT 'delete', old.id, ${TEXT('old.')} WHERE ${TEXT('old.')} <> ''`;

const VARIANTS = {
  none: {},
  // The first design: internal content (a copy of each text), delete by rowid.
  old: {
    create: `CREATE VIRTUAL TABLE search USING fts5(text, ${TOKENIZE})`,
    update: `${SECURE(1)}; DELETE FROM search WHERE rowid = old.id; ${SECURE(0)}; ${REINSERT}`,
    delete: 'DELETE FROM search WHERE rowid = old.id',
  },
  // This design: no copy; a delete repeats the indexed text.
  contentless: {
    create: `CREATE VIRTUAL TABLE search USING fts5(text, content = '', ${TOKENIZE})`,
    update: `${SECURE(1)}; ${FORGET}; ${SECURE(0)}; ${REINSERT}`,
    delete: FORGET,
  },
  // Delete by rowid without the text: a tombstone (the terms stay until a merge).
  'contentless-delete': {
    create: `CREATE VIRTUAL TABLE search USING fts5(text, content = '', contentless_delete = 1, ${TOKENIZE})`,
    update: `DELETE FROM search WHERE rowid = old.id; ${REINSERT}`,
    delete: 'DELETE FROM search WHERE rowid = old.id',
  },
};

// A variant with its options: `contentless+automerge=16+detailcolumn`.
function variant(name) {
  const [base, ...options] = name.split('+');
  const v = { ...VARIANTS[base], settings: [] };
  if (!v.create) return v;
  for (const o of options) {
    if (o === 'detailcolumn' || o === 'detailnone') {
      v.create = v.create.replace('tokenize', `detail = ${o.slice(6)}, tokenize`);
    } else if (o === 'nosize') {
      v.create = v.create.replace('tokenize', 'columnsize = 0, tokenize');
    } else {
      const [key, value] = o.split('=');
      v.settings.push(`INSERT INTO search (search, rank) VALUES ('${key}', ${Number(value)})`);
    }
  }
  return v;
}

// The load generator's text: unique numbers, padded to 64 characters.
const text = (i) => {
  const t = `s0:${i}:${1733456789012 + i * 37}:`;
  return t + 'x'.repeat(64 - t.length);
};

export class Probe extends DurableObject {
  async fetch(req) {
    const { bench } = await req.json();
    const sql = this.ctx.storage.sql;
    const v = variant(bench.name);
    if (bench.phase === 'fill') {
      sql.exec(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, nonce TEXT, kind TEXT NOT NULL DEFAULT 'message', body TEXT, author TEXT, target INTEGER)",
      );
      sql.exec('CREATE INDEX messages_target ON messages (target) WHERE target IS NOT NULL');
      sql.exec("CREATE INDEX messages_changes ON messages (id) WHERE kind <> 'message'");
      if (v.create) {
        sql.exec(v.create);
        for (const s of v.settings) sql.exec(s);
        const when = (row) => `${row}.kind = 'message' AND ${TEXT(`${row}.`)} <> ''`;
        sql.exec(`CREATE TRIGGER search_insert AFTER INSERT ON messages WHEN ${when('new')} BEGIN ${INSERT}; END`);
        sql.exec(
          `CREATE TRIGGER search_update AFTER UPDATE OF text, body ON messages WHEN new.kind = 'message' AND ${TEXT('new.')} IS NOT ${TEXT('old.')} BEGIN ${v.update}; END`,
        );
        sql.exec(`CREATE TRIGGER search_delete AFTER DELETE ON messages WHEN ${when('old')} BEGIN ${v.delete}; END`);
      }
      for (let id = 1; id <= bench.fill; id += 500) {
        this.ctx.storage.transactionSync(() => {
          for (let k = id; k < id + 500 && k <= bench.fill; k++) {
            sql.exec(
              "INSERT INTO messages (id, name, text, at, kind, author) VALUES (?, 'm0', ?, ?, 'message', 'a')",
              k,
              text(k),
              k,
            );
          }
        });
      }
      return Response.json({ filled: bench.fill });
    }
    let id = sql.exec('SELECT max(id) AS m FROM messages').one().m;
    for (let i = 0; i < bench.n; i += bench.batch) {
      this.ctx.storage.transactionSync(() => {
        const rows = [];
        for (let k = 0; k < bench.batch; k++) {
          id++;
          rows.push({ id, text: text(id) });
        }
        sql.exec(
          "INSERT INTO messages (id, name, text, at, kind, author) SELECT json_extract(value, '$.id'), 'm0', json_extract(value, '$.text'), json_extract(value, '$.id'), 'message', 'a' FROM json_each(?)",
          JSON.stringify(rows),
        );
        if (bench.trim) {
          sql.exec(
            "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE kind = 'message' ORDER BY id LIMIT ?)",
            bench.batch,
          );
        }
      });
    }
    return Response.json({ written: bench.n });
  }
}

export default {
  async fetch(req, env) {
    if (req.method !== 'POST') return new Response('ready');
    const name = new URL(req.url).searchParams.get('o') || 'probe';
    return env.P.get(env.P.idFromName(name)).fetch(req);
  },
};
