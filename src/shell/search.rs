//! The room's search index: an FTS5 table, `search`, over the text of the room's live messages,
//! kept in step with the `messages` table by triggers, so that every write of the log (the
//! message path's single insert, a burst's transaction, an edit, a delete, the history cap's trim)
//! updates the index in the same statement and the same commit, whoever writes it.
//!
//! - One column, `text`: the message's current text (an edit replaces it; a deleted message,
//!   whose text is erased, leaves the index). Names are not indexed: `from:` filters on the
//!   `messages` table by the authors whose name key matches (`crate::search::authors`).
//! - `rowid` is the message id.
//! - Tokenizer `unicode61 remove_diacritics 2`: words are runs of letters and digits, folded to
//!   lower case without diacritics (`cafe` finds `café`). Scripts written without spaces (Chinese,
//!   Japanese) become one token per run between punctuation: `東京*` finds `東京タワーに…`,
//!   `タワー` does not (a trigram index would, at about three times the size).
//! - Contentless (`content=''`): FTS5 keeps no copy of the texts, the log holds them. A hit's
//!   snippet is cut from the message's text in the core (`crate::search::snippet`). A delete
//!   must then give FTS5 the text it indexed, to find its terms: the triggers take it from the
//!   old row with the same expression that indexed it ([`text_of`]), so the two always agree.
//!   Measured against the internal-content table it replaced (bench/README.md): no copy of each
//!   text written, and a trim no longer reads one back. `contentless_delete=1` was measured too:
//!   it deletes by rowid without the text but only leaves a tombstone, so a taken-back text
//!   would stay in the b-tree until a merge (and it cost more per trim here).
//! - `secure-delete` for what people take back: an edit or a delete removes the old text's terms
//!   from the index's b-tree (`search_data`, `search_idx`) at once. Without it FTS5 only appends a
//!   delete marker, which itself holds the term, and the text stays readable in the shadow tables
//!   until a merge. The trigger turns the option on around that one delete only: the history
//!   cap's trim, one old message per new one in a full room, would pay it on every message
//!   (measured: twice the CPU per message at 10 members, 1 sender), for text nobody took back.
//!   Trimmed texts leave the b-tree at FTS5's next merge, and are never found before (a hit
//!   joins the log).
//! - Rooms indexed by an older schema (the internal-content table) are rebuilt when the room
//!   next opens or is searched: [`init`] compares the stored `CREATE` with [`CREATE`].

use super::storage::{self, Row, COLUMNS};
use crate::protocol::{to_json, Entry};
use crate::search::{self, SearchRequest, Sort};
use worker::{SqlStorage, SqlStorageValue};

/// A live message's text in an expression over a `messages` row (`new.`/`old.` in triggers):
/// plain rows hold it in `text`, the others in their body.
macro_rules! text_of {
    ($row:literal) => {
        concat!(
            "COALESCE(json_extract(",
            $row,
            "body, '$.text'), ",
            $row,
            "text)"
        )
    };
}

const CREATE: &str = "CREATE VIRTUAL TABLE search USING fts5(text, content = '',
    tokenize = 'unicode61 remove_diacritics 2')";

/// FTS5 merges its segments (one per commit) once this many share a level, not 4: each message
/// is written to the index once and, when the history cap trims it, again as a delete marker,
/// and every merge copies both until they meet. Fewer, larger merges cost a full room ~3-6 µs
/// less CPU per message (bench/README.md); a search reads a few more segments. Stored in
/// `search_config` with the table.
const AUTOMERGE: &str = "INSERT INTO search (search, rank) VALUES ('automerge', 16)";

/// Rooms from before the index: their live messages, indexed once.
const BACKFILL: &str = concat!(
    "INSERT INTO search (rowid, text) SELECT id, t FROM (SELECT id, ",
    text_of!(""),
    " AS t FROM messages WHERE kind = 'message') WHERE t <> ''"
);

const DROP: [&str; 4] = [
    "DROP TRIGGER IF EXISTS search_insert",
    "DROP TRIGGER IF EXISTS search_update",
    "DROP TRIGGER IF EXISTS search_delete",
    "DROP TABLE IF EXISTS search",
];

/// A contentless table forgets a row by being told its old text: each delete repeats the
/// indexed expression on the old row, under the insert's condition (`<> ''`), exactly.
const TRIGGERS: [&str; 3] = [
    concat!(
        "CREATE TRIGGER search_insert AFTER INSERT ON messages
         WHEN new.kind = 'message' AND ",
        text_of!("new."),
        " <> '' BEGIN INSERT INTO search (rowid, text) VALUES (new.id, ",
        text_of!("new."),
        "); END"
    ),
    // An edit or a delete: the old text goes for good (secure-delete for this one delete). A
    // reaction or a requoted reply rewrites the body but not the text: no re-indexing.
    concat!(
        "CREATE TRIGGER search_update AFTER UPDATE OF text, body ON messages
         WHEN new.kind = 'message' AND ",
        text_of!("new."),
        " IS NOT ",
        text_of!("old."),
        " BEGIN INSERT INTO search (search, rank) VALUES ('secure-delete', 1);
         INSERT INTO search (search, rowid, text) SELECT 'delete', old.id, ",
        text_of!("old."),
        " WHERE ",
        text_of!("old."),
        " <> '';
         INSERT INTO search (search, rank) VALUES ('secure-delete', 0);
         INSERT INTO search (rowid, text) SELECT new.id, ",
        text_of!("new."),
        " WHERE ",
        text_of!("new."),
        " <> ''; END"
    ),
    concat!(
        "CREATE TRIGGER search_delete AFTER DELETE ON messages
         WHEN old.kind = 'message' AND ",
        text_of!("old."),
        " <> '' BEGIN INSERT INTO search (search, rowid, text) VALUES ('delete', old.id, ",
        text_of!("old."),
        "); END"
    ),
];

/// With `on`: creates the index (and indexes what the room already holds) unless it exists in
/// this schema; an index in an older schema is dropped and rebuilt. Without (`SEARCH_INDEX=0`):
/// drops it, triggers and every indexed text, so that no text outlives its message in an index
/// nobody keeps in step. Needs the `messages` table.
pub fn init(sql: &SqlStorage, on: bool) -> worker::Result<()> {
    let schema = schema(sql)?;
    if on && schema.as_deref() == Some(CREATE) {
        return Ok(());
    }
    if schema.is_some() || !on {
        for statement in DROP {
            sql.exec(statement, None)?;
        }
    }
    if !on {
        return Ok(());
    }
    sql.exec(CREATE, None)?;
    sql.exec(AUTOMERGE, None)?;
    sql.exec(BACKFILL, None)?;
    for trigger in TRIGGERS {
        sql.exec(trigger, None)?;
    }
    Ok(())
}

/// The `CREATE` statement of the room's index, if it has one.
fn schema(sql: &SqlStorage) -> worker::Result<Option<String>> {
    let rows = storage::raw_rows(
        sql,
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'search'",
        vec![],
    )?;
    Ok(rows.first().and_then(|row| storage::text(row, 0)))
}

/// What a search answers: the JSON body, or the `400 bad_request` message for a query the index
/// refused (the grammar should leave none; this keeps it a 400 rather than a 500 if one slips by).
pub fn run(sql: &SqlStorage, request: &SearchRequest) -> worker::Result<Result<String, String>> {
    if !storage::exists(sql)? {
        return Ok(Ok(page(Vec::new(), None)));
    }
    init(sql, true)?;
    // `from:` means the authors whose name key matches, read from the log.
    let authors = match &request.from {
        None => None,
        Some(from) => {
            let names: Vec<String> = storage::raw_rows(
                sql,
                "SELECT DISTINCT name FROM messages WHERE kind = 'message'",
                vec![],
            )?
            .iter()
            .filter_map(|row| storage::text(row, 0))
            .collect();
            let authors = search::authors(from, names.iter().map(String::as_str));
            if authors.is_empty() {
                return Ok(Ok(page(Vec::new(), None)));
            }
            Some(to_json(&authors))
        }
    };
    let fetch = i64::from(request.limit) + 1;
    let offset = request.offset() as i64;
    let before = request.before() as i64;
    let (query, mut args): (String, Vec<SqlStorageValue>) = match request.fts() {
        Some(fts) => {
            let order = match request.sort {
                Sort::Relevance => "bm25(search), search.rowid DESC",
                Sort::Recent => "search.rowid DESC",
            };
            let by = if authors.is_some() {
                "AND m.name IN (SELECT value FROM json_each(?))"
            } else {
                ""
            };
            let columns = COLUMNS
                .split(", ")
                .map(|c| format!("m.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!(
                    "SELECT {columns} FROM search JOIN messages m ON m.id = search.rowid
                     WHERE search MATCH ? {by} AND search.rowid < ?
                     ORDER BY {order} LIMIT ? OFFSET ?"
                ),
                vec![fts.into()],
            )
        }
        None => (
            format!(
                "SELECT {COLUMNS} FROM messages
                 WHERE kind = 'message' AND name IN (SELECT value FROM json_each(?))
                   AND {} <> '' AND id < ?
                 ORDER BY id DESC LIMIT ? OFFSET ?",
                text_of!("")
            ),
            vec![],
        ),
    };
    if let Some(authors) = authors {
        args.push(authors.into());
    }
    args.extend([before.into(), fetch.into(), offset.into()]);
    let rows = match storage::raw_rows(sql, &query, args) {
        Ok(rows) => rows,
        Err(e) => return Ok(Err(format!("the index could not run this query: {e}"))),
    };
    let more = rows.len() > request.limit as usize;
    let mut hits = Vec::new();
    let mut last_id = 0;
    for row in rows.iter().take(request.limit as usize) {
        let Some((Entry::Message(message), _)) = Row::read(row).entry() else {
            continue;
        };
        last_id = message.id;
        // Marks for the words of the query; a `from:`-only query has none.
        let snippet = match request.terms.is_empty() {
            false => search::snippet(&message.text, &request.terms),
            true => search::lead(&message.text),
        };
        let mut hit = serde_json::to_value(&message).unwrap_or_default();
        hit["snippet"] = snippet.snippet.into();
        hit["marks"] = serde_json::json!(snippet.marks);
        hits.push(hit);
    }
    let cursor = more.then(|| request.next_cursor(hits.len(), last_id).encode());
    Ok(Ok(page(hits, cursor)))
}

fn page(hits: Vec<serde_json::Value>, cursor: Option<String>) -> String {
    to_json(&serde_json::json!({ "messages": hits, "cursor": cursor }))
}

/// `debug_index`'s text that puts back the index of the build before the contentless one (its
/// internal-content table, indexed from the log, no triggers), so that a test sees an old room
/// migrated. Reachable only with `TEST_HOOKS`.
pub const OLD_SCHEMA_HOOK: &str = "debug:old-schema";

/// Test hook (`debug_index`): in how many rows of each table that could hold a message's text
/// `text` occurs: the log itself, FTS5's copy of the texts (`null`: there is none, as there
/// should not be), its b-tree leaves and its index of leaves (terms are stored lower-cased and
/// prefix-compressed: look for a distinctive tail); whether the index has this build's schema.
pub fn scan(sql: &SqlStorage, text: &str) -> worker::Result<String> {
    if !storage::exists(sql)? || schema(sql)?.is_none() {
        return Ok(to_json(
            &serde_json::json!({"type": "debug_index", "text": text}),
        ));
    }
    if text == OLD_SCHEMA_HOOK {
        init(sql, false)?;
        sql.exec(
            "CREATE VIRTUAL TABLE search USING fts5(text,
    tokenize = 'unicode61 remove_diacritics 2')",
            None,
        )?;
        sql.exec(BACKFILL, None)?;
    }
    let copies = storage::raw_rows(
        sql,
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'search_content'",
        vec![],
    )?
    .first()
    .is_some_and(|row| storage::int(row, 0) > 0);
    let content = if copies {
        "(SELECT COUNT(*) FROM search_content WHERE instr(c0, ?1) > 0)"
    } else {
        "NULL"
    };
    let rows = storage::raw_rows(
        sql,
        &format!(
            "SELECT
           (SELECT COUNT(*) FROM messages WHERE instr(COALESCE(body, '') || text, ?1) > 0),
           {content},
           (SELECT COUNT(*) FROM search_data WHERE instr(block, CAST(?1 AS BLOB)) > 0),
           (SELECT COUNT(*) FROM search_idx WHERE instr(term, CAST(?1 AS BLOB)) > 0),
           (SELECT COUNT(*) FROM search)"
        ),
        vec![text.into()],
    )?;
    let n = |i| rows.first().map_or(0, |row| storage::int(row, i));
    Ok(to_json(&serde_json::json!({
        "type": "debug_index",
        "text": text,
        "messages": n(0),
        "search_content": copies.then(|| n(1)),
        "search_data": n(2),
        "search_idx": n(3),
        "indexed": n(4),
        "current": schema(sql)?.as_deref() == Some(CREATE),
    })))
}
