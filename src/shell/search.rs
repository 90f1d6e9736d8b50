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
//! - Internal content (FTS5 keeps its own copy of each indexed text in `search_content`):
//!   snippets come from it, and a delete by rowid needs no old values. An external-content table
//!   would save the copy but corrupt the index whenever a delete did not repeat the old text
//!   exactly; a contentless one has no snippets.
//! - `secure-delete` for what people take back: an edit or a delete removes the old text's terms
//!   from the index's b-tree (`search_data`, `search_idx`) at once. Without it FTS5 only appends a
//!   delete marker, which itself holds the term, and the text stays readable in the shadow tables
//!   until a merge. The trigger turns the option on around that one delete only: the history
//!   cap's trim, one old message per new one in a full room, would pay it on every message
//!   (measured: twice the CPU per message at 10 members, 1 sender), for text nobody took back.
//!   Trimmed texts leave the content table at once and the b-tree at FTS5's next merge.

use super::storage::{self, Row, COLUMNS};
use crate::protocol::{to_json, Entry};
use crate::search::{self, SearchRequest, Sort, MARK_CLOSE, MARK_OPEN, SNIPPET_WORDS};
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

const CREATE: &str = "CREATE VIRTUAL TABLE search USING fts5(text,
    tokenize = 'unicode61 remove_diacritics 2')";

/// Rooms from before the index: their live messages, indexed once.
const BACKFILL: &str = concat!(
    "INSERT INTO search (rowid, text) SELECT id, t FROM (SELECT id, ",
    text_of!(""),
    " AS t FROM messages WHERE kind = 'message') WHERE t <> ''"
);

const TRIGGERS: [&str; 3] = [
    concat!(
        "CREATE TRIGGER IF NOT EXISTS search_insert AFTER INSERT ON messages
         WHEN new.kind = 'message' AND ",
        text_of!("new."),
        " <> '' BEGIN INSERT INTO search (rowid, text) VALUES (new.id, ",
        text_of!("new."),
        "); END"
    ),
    // An edit or a delete: the old text goes for good (secure-delete for this one delete). A
    // reaction or a requoted reply rewrites the body but not the text: no re-indexing.
    concat!(
        "CREATE TRIGGER IF NOT EXISTS search_update AFTER UPDATE OF text, body ON messages
         WHEN new.kind = 'message' AND ",
        text_of!("new."),
        " IS NOT ",
        text_of!("old."),
        " BEGIN INSERT INTO search (search, rank) VALUES ('secure-delete', 1);
         DELETE FROM search WHERE rowid = old.id;
         INSERT INTO search (search, rank) VALUES ('secure-delete', 0);
         INSERT INTO search (rowid, text) SELECT new.id, ",
        text_of!("new."),
        " WHERE ",
        text_of!("new."),
        " <> ''; END"
    ),
    "CREATE TRIGGER IF NOT EXISTS search_delete AFTER DELETE ON messages
     WHEN old.kind = 'message' BEGIN DELETE FROM search WHERE rowid = old.id; END",
];

/// With `on`: creates the index (and indexes what the room already holds) unless it exists.
/// Without (`SEARCH_INDEX=0`): drops it, triggers and every indexed text, so that no text outlives
/// its message in an index nobody keeps in step. Needs the `messages` table.
pub fn init(sql: &SqlStorage, on: bool) -> worker::Result<()> {
    if !on {
        for name in ["search_insert", "search_update", "search_delete"] {
            sql.exec(&format!("DROP TRIGGER IF EXISTS {name}"), None)?;
        }
        sql.exec("DROP TABLE IF EXISTS search", None)?;
        return Ok(());
    }
    if indexed(sql)? {
        return Ok(());
    }
    sql.exec(CREATE, None)?;
    sql.exec(BACKFILL, None)?;
    for trigger in TRIGGERS {
        sql.exec(trigger, None)?;
    }
    Ok(())
}

/// Whether the room has its index.
fn indexed(sql: &SqlStorage) -> worker::Result<bool> {
    let rows = storage::raw_rows(
        sql,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'search'",
        vec![],
    )?;
    Ok(rows.first().is_some_and(|row| storage::int(row, 0) > 0))
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
                    "SELECT {columns}, snippet(search, 0, char({}), char({}), '…', {SNIPPET_WORDS})
                     FROM search JOIN messages m ON m.id = search.rowid
                     WHERE search MATCH ? {by} AND search.rowid < ?
                     ORDER BY {order} LIMIT ? OFFSET ?",
                    MARK_OPEN as u32, MARK_CLOSE as u32
                ),
                vec![fts.into()],
            )
        }
        None => (
            format!(
                "SELECT {COLUMNS}, NULL FROM messages
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
        let raw_snippet = storage::text(row, 8);
        let Some((Entry::Message(message), _)) = Row::read(row).entry() else {
            continue;
        };
        last_id = message.id;
        let snippet = match raw_snippet {
            Some(raw) => search::marked(&raw),
            None => search::lead(&message.text),
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

/// Test hook (`debug_index`): in how many rows of each table that could hold a message's text
/// `text` occurs: the log itself, FTS5's copy of the texts, its b-tree leaves and its index of
/// leaves (terms are stored lower-cased and prefix-compressed: look for a distinctive tail).
pub fn scan(sql: &SqlStorage, text: &str) -> worker::Result<String> {
    if !storage::exists(sql)? || !indexed(sql)? {
        return Ok(to_json(
            &serde_json::json!({"type": "debug_index", "text": text}),
        ));
    }
    let rows = storage::raw_rows(
        sql,
        "SELECT
           (SELECT COUNT(*) FROM messages WHERE instr(COALESCE(body, '') || text, ?) > 0),
           (SELECT COUNT(*) FROM search_content WHERE instr(c0, ?) > 0),
           (SELECT COUNT(*) FROM search_data WHERE instr(block, CAST(? AS BLOB)) > 0),
           (SELECT COUNT(*) FROM search_idx WHERE instr(term, CAST(? AS BLOB)) > 0),
           (SELECT COUNT(*) FROM search)",
        vec![text.into(), text.into(), text.into(), text.into()],
    )?;
    let n = |i| rows.first().map_or(0, |row| storage::int(row, i));
    Ok(to_json(&serde_json::json!({
        "type": "debug_index",
        "text": text,
        "messages": n(0),
        "search_content": n(1),
        "search_data": n(2),
        "search_idx": n(3),
        "indexed": n(4),
    })))
}
