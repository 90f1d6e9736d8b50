//! The room's SQLite storage and [`SqlStore`], the room's [`Store`]: the `messages` table is the
//! room's log (messages in their current state and changes, one id sequence), `meta` its own
//! state (topic, lock, owner key digest, bans), `members` who is in it (for presence across a
//! restart).
//!
//! The SQL API is synchronous, and everything written during one flush is committed together.
//! The runtime's output gate holds every frame sent after a write until that write is durable,
//! which is what makes "stored before broadcast" hold without an `await`.

use crate::protocol::{to_json, Change, ChatMessage, Entry};
use crate::room::{
    Posted, RoomState, Store, StoreError, StoredHistory, StoredMember, Trim, WriteBatch,
    WELCOME_HISTORY,
};
use crate::validate::PageQuery;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use worker::{SqlStorage, SqlStorageValue};

/// New plain messages and nothing else, the most common write of all (a quiet room flushes each
/// message alone), from the frames the members get (`WriteBatch::frames`): their columns are all
/// in the frame, so the rows are not serialized a second time, and one statement is atomic
/// without a transaction. No `body`: plain rows are read back from their columns. `?2` is the
/// authors' array, or `NULL` when no message has one (guests). It replaced an insert of one
/// message with typed arguments: no difference at 10k deliveries/s (bench/README.md).
const INSERT_FRAMES: &str = "INSERT INTO messages (id, name, text, at, nonce, author)
    SELECT value ->> 'id', value ->> 'name', value ->> 'text', value ->> 'at', value ->> 'nonce',
           ?2 ->> ('$[' || key || ']')
    FROM json_each(?1)";

/// Several entries in one statement, passed as one JSON array: the number of bound parameters
/// stays one however large the burst. Each change's frame is kept whole in `body`, and so is a
/// message's unless it is plain (its columns say it all, as for [`INSERT_FRAMES`]).
const INSERT_MANY: &str = "INSERT INTO messages (id, kind, name, text, at, nonce, body, author, target)
    SELECT json_extract(value, '$.id'), json_extract(value, '$.kind'),
           json_extract(value, '$.name'), json_extract(value, '$.text'), json_extract(value, '$.at'),
           json_extract(value, '$.nonce'), json_extract(value, '$.body'),
           json_extract(value, '$.author'), json_extract(value, '$.target')
    FROM json_each(?)";

/// Every column a log row has; `body` is the entry's frame as JSON (rows older than the log
/// design have none and are read from the other columns).
pub(super) const COLUMNS: &str = "id, kind, name, text, at, nonce, body, author";

/// Creates (or upgrades) the log's tables (the files' are `super::files::init`'s). Called when
/// a socket connects: reading a room never creates it.
pub fn init(sql: &SqlStorage) -> worker::Result<()> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS messages (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            text TEXT NOT NULL,
            at INTEGER NOT NULL,
            nonce TEXT
        )",
        None,
    )?;
    // Rooms made before the log design get its columns; the old rows stay valid as they are.
    // `PRAGMA table_info` rows: cid, name, type, notnull, dflt_value, pk.
    let columns: Vec<String> = raw_rows(sql, "PRAGMA table_info(messages)", vec![])?
        .iter()
        .map(|row| text(row, 1).unwrap_or_default())
        .collect();
    for (name, ddl) in [
        (
            "kind",
            "ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'message'",
        ),
        ("body", "ALTER TABLE messages ADD COLUMN body TEXT"),
        ("author", "ALTER TABLE messages ADD COLUMN author TEXT"),
    ] {
        if !columns.iter().any(|c| c == name) {
            sql.exec(ddl, None)?;
        }
    }
    // The message a row points at, indexed: a reply's `reply_to`, an edit's, delete's or
    // reaction's `target`. An edit or a delete finds the replies it requotes or erases (and a
    // delete the edits it erases) through the index, so its cost does not grow with the room's
    // history; without it each was a scan of every row (94 ms instead of 2 ms with 9,000
    // replies stored). Rows from before the column are filled in once, here.
    if !columns.iter().any(|c| c == "target") {
        sql.exec("ALTER TABLE messages ADD COLUMN target INTEGER", None)?;
        sql.exec(
            "UPDATE messages SET target = CASE kind
                WHEN 'message' THEN json_extract(body, '$.reply_to')
                WHEN 'edit' THEN json_extract(body, '$.target')
                WHEN 'delete' THEN json_extract(body, '$.target')
                WHEN 'react' THEN json_extract(body, '$.target') END
             WHERE body IS NOT NULL",
            None,
        )?;
    }
    sql.exec(
        "CREATE INDEX IF NOT EXISTS messages_target ON messages (target) WHERE target IS NOT NULL",
        None,
    )?;
    // The changes in id order, for `CHANGES_CAP` to trim the oldest without reading the
    // messages between them (changes are the rarer rows: messages pay nothing for it).
    sql.exec(
        "CREATE INDEX IF NOT EXISTS messages_changes ON messages (id) WHERE kind <> 'message'",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS members (key TEXT PRIMARY KEY, row TEXT NOT NULL)",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS reads (identity TEXT PRIMARY KEY, id INTEGER NOT NULL)",
        None,
    )?;
    Ok(())
}

/// Rows as arrays of values, read by position: the cursor's `to_array`/`one` decode each row
/// type through `serde_wasm_bindgen`, a decoder per type in the Wasm.
pub(super) fn raw_rows(
    sql: &SqlStorage,
    query: &str,
    args: Vec<SqlStorageValue>,
) -> worker::Result<Vec<Vec<SqlStorageValue>>> {
    sql.exec(query, args)?.raw().collect()
}

/// Column `i` of a row as text (`None` for NULL or a non-text value).
pub(super) fn text(row: &[SqlStorageValue], i: usize) -> Option<String> {
    match row.get(i) {
        Some(SqlStorageValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Column `i` of a row as a non-negative integer (0 for NULL or a non-number).
pub(super) fn int(row: &[SqlStorageValue], i: usize) -> u64 {
    match row.get(i) {
        Some(SqlStorageValue::Integer(n)) => (*n).max(0) as u64,
        Some(SqlStorageValue::Float(f)) => *f as u64,
        _ => 0,
    }
}

/// Whether this room ever created its tables (a read-only question).
pub fn exists(sql: &SqlStorage) -> worker::Result<bool> {
    let rows = raw_rows(
        sql,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
        vec![],
    )?;
    Ok(rows.first().is_some_and(|row| int(row, 0) > 0))
}

/// One row of the log, as read (the columns of [`COLUMNS`]).
pub(super) struct Row {
    id: u64,
    kind: Option<String>,
    name: String,
    text: String,
    at: u64,
    nonce: Option<String>,
    body: Option<String>,
    author: Option<String>,
}

impl Row {
    pub(super) fn read(row: &[SqlStorageValue]) -> Row {
        Row {
            id: int(row, 0),
            kind: text(row, 1),
            name: text(row, 2).unwrap_or_default(),
            text: text(row, 3).unwrap_or_default(),
            at: int(row, 4),
            nonce: text(row, 5),
            body: text(row, 6),
            author: text(row, 7),
        }
    }

    pub(super) fn entry(self) -> Option<(Entry, Option<String>)> {
        let entry = match self.body {
            Some(body) if self.kind.as_deref().is_none_or(|k| k == "message") => {
                Entry::Message(ChatMessage::read(&serde_json::from_str(&body).ok()?)?)
            }
            Some(body) => Entry::Change(Change::from_value(&serde_json::from_str(&body).ok()?)?),
            // A row from before the log design: a plain message.
            None => Entry::Message(ChatMessage::new(
                self.id, self.name, self.text, self.at, self.nonce,
            )),
        };
        Some((entry, self.author))
    }
}

fn rows(sql: &SqlStorage, query: &str, args: Vec<SqlStorageValue>) -> worker::Result<Vec<Row>> {
    Ok(raw_rows(sql, query, args)?
        .iter()
        .map(|row| Row::read(row))
        .collect())
}

fn messages_of(rows: Vec<Row>) -> Vec<Posted> {
    rows.into_iter()
        .filter_map(Row::entry)
        .filter_map(|(entry, author)| match entry {
            Entry::Message(message) => Some(Posted { message, author }),
            Entry::Change(_) => None,
        })
        .collect()
}

/// Everything a room needs to start: the id sequence, the newest messages and entries, the
/// room's own state and the members it remembers. Empty for a room that never stored anything.
pub fn load_history(sql: &SqlStorage) -> worker::Result<StoredHistory> {
    if !exists(sql)? {
        return Ok(StoredHistory::default());
    }
    let counts = raw_rows(
        sql,
        "SELECT COALESCE(MAX(id), 0), COUNT(*), COALESCE(SUM(kind = 'message'), 0) FROM messages",
        vec![],
    )?;
    let (last_id, stored, stored_messages) = counts
        .first()
        .map_or((0, 0, 0), |row| (int(row, 0), int(row, 1), int(row, 2)));
    let mut recent = messages_of(rows(
        sql,
        &format!("SELECT {COLUMNS} FROM messages WHERE kind = 'message' ORDER BY id DESC LIMIT ?"),
        vec![(WELCOME_HISTORY as i64).into()],
    )?);
    recent.reverse();
    // One more than a welcome holds, to know the newest id it leaves out.
    let mut window = rows(
        sql,
        &format!("SELECT {COLUMNS} FROM messages ORDER BY id DESC LIMIT ?"),
        vec![(WELCOME_HISTORY as i64 + 1).into()],
    )?;
    let older_max = if window.len() > WELCOME_HISTORY {
        window.pop().map_or(0, |r| r.id)
    } else {
        0
    };
    let mut changes: Vec<Change> = window
        .into_iter()
        .filter_map(Row::entry)
        .filter_map(|(entry, _)| match entry {
            Entry::Change(change) => Some(change),
            Entry::Message(_) => None,
        })
        .collect();
    changes.reverse();
    let meta = |key: &str| get_meta(sql, key).ok().flatten();
    // Read as text: the core parses a row only if no socket holds its key (`StoredMember`).
    let members = raw_rows(sql, "SELECT key, row FROM members", vec![])?
        .iter()
        .filter_map(|row| {
            Some(StoredMember {
                key: text(row, 0)?,
                json: text(row, 1)?,
            })
        })
        .collect();
    Ok(StoredHistory {
        last_id,
        stored,
        stored_messages,
        changes_floor: get_meta(sql, CHANGES_FLOOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        recent,
        changes,
        older_max,
        state: RoomState::load(meta),
        members,
    })
}

/// A page of history for `GET /api/rooms/{room}/messages`, oldest first: the messages before
/// `before` in their current state, or (with `after`) every entry after it.
pub fn page(sql: &SqlStorage, query: &PageQuery) -> worker::Result<Vec<Entry>> {
    if !exists(sql)? {
        return Ok(Vec::new());
    }
    let limit = i64::from(query.limit);
    let found = match query.after {
        Some(after) => rows(
            sql,
            &format!("SELECT {COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?"),
            vec![(after.min(crate::api::MAX_ID) as i64).into(), limit.into()],
        )?,
        None => {
            // The largest id JavaScript numbers (and so the SQL API) carry exactly; the API
            // checks `before` against it.
            let before = query
                .before
                .map_or(crate::api::MAX_ID, |b| b.min(crate::api::MAX_ID));
            let mut newest = rows(
                sql,
                &format!(
                    "SELECT {COLUMNS} FROM messages WHERE kind = 'message' AND id < ?
                     ORDER BY id DESC LIMIT ?"
                ),
                vec![(before as i64).into(), limit.into()],
            )?;
            newest.reverse();
            newest
        }
    };
    Ok(found
        .into_iter()
        .filter_map(Row::entry)
        .map(|(e, _)| e)
        .collect())
}

/// The room's [`Store`]: SQLite, each flush in one transaction.
pub struct SqlStore<'a> {
    pub sql: &'a SqlStorage,
    pub storage: &'a RawStorage,
}

#[wasm_bindgen]
extern "C" {
    /// `ctx.storage`, for `transactionSync`, which the `worker` crate does not wrap.
    pub type RawStorage;
    #[wasm_bindgen(method, catch, js_name = transactionSync)]
    fn transaction_sync(this: &RawStorage, run: &js_sys::Function) -> Result<JsValue, JsValue>;
}

/// A row to insert, as `INSERT_MANY` reads it.
#[derive(Serialize)]
struct NewRow<'a> {
    id: u64,
    kind: &'a str,
    name: &'a str,
    at: u64,
    nonce: Option<&'a str>,
    /// A plain message's text; empty when the body holds it.
    text: &'a str,
    body: Option<String>,
    author: Option<&'a str>,
    /// The message it points at (a reply's `reply_to`, a change's `target`), for the index.
    target: Option<u64>,
}

impl SqlStore<'_> {
    /// The statements of one flush, in order.
    fn statements(batch: &WriteBatch) -> Vec<(String, Vec<SqlStorageValue>)> {
        let mut out: Vec<(String, Vec<SqlStorageValue>)> = Vec::new();
        let mut rows: Vec<NewRow> = Vec::new();
        for p in &batch.messages {
            let m = &p.message;
            rows.push(NewRow {
                id: m.id,
                kind: "message",
                name: &m.name,
                at: m.at,
                nonce: m.nonce.as_deref(),
                text: if plain(m) { &m.text } else { "" },
                body: (!plain(m)).then(|| to_json(m)),
                author: p.author.as_deref(),
                target: m.reply_to,
            });
        }
        for c in &batch.changes {
            let (name, at) = change_actor(c);
            rows.push(NewRow {
                id: c.id(),
                kind: c.kind(),
                name,
                at,
                nonce: None,
                text: "",
                body: Some(to_json(c)),
                author: None,
                target: c.target(),
            });
        }
        if !rows.is_empty() {
            out.push((INSERT_MANY.to_string(), vec![to_json(&rows).into()]));
        }
        for m in &batch.updates {
            out.push((
                // A tombstone answers nothing any more: out of the index too.
                "UPDATE messages SET body = ?, text = '', target = ? WHERE id = ?".to_string(),
                vec![
                    to_json(m).into(),
                    m.reply_to
                        .map_or(SqlStorageValue::Null, |t| (t as i64).into()),
                    (m.id as i64).into(),
                ],
            ));
        }
        for (target, quote) in &batch.requoted {
            out.push((
                "UPDATE messages SET body = json_set(body, '$.reply.text', ?)
                 WHERE target = ? AND kind = 'message'
                   AND json_extract(body, '$.reply.deleted') IS NOT 1"
                    .to_string(),
                vec![quote.as_str().into(), (*target as i64).into()],
            ));
        }
        for &target in &batch.erased {
            let target = target as i64;
            // Deleted for real: the text of earlier edits and of quotes in replies goes too.
            out.push((
                "UPDATE messages SET body = json_remove(json_set(body, '$.text', ''), '$.mentions')
                 WHERE target = ? AND kind = 'edit'"
                    .to_string(),
                vec![target.into()],
            ));
            out.push((
                "UPDATE messages SET body = json_set(body, '$.reply.text', '', '$.reply.deleted', json('true'))
                 WHERE target = ? AND kind = 'message'"
                    .to_string(),
                vec![target.into()],
            ));
        }
        for (key, value) in &batch.meta {
            out.push((
                UPSERT_META.to_string(),
                vec![(*key).into(), value.as_str().into()],
            ));
        }
        for (identity, id) in &batch.reads {
            // Monotonic in storage too, whatever order writes come in.
            out.push((
                "INSERT INTO reads (identity, id) VALUES (?, ?)
                 ON CONFLICT (identity) DO UPDATE SET id = MAX(id, excluded.id)"
                    .to_string(),
                vec![identity.as_str().into(), (*id as i64).into()],
            ));
        }
        for (key, row) in &batch.members {
            match row {
                Some(row) => out.push((
                    "INSERT INTO members (key, row) VALUES (?, ?)
                     ON CONFLICT (key) DO UPDATE SET row = excluded.row"
                        .to_string(),
                    vec![key.as_str().into(), to_json(row).into()],
                )),
                None => out.push((
                    "DELETE FROM members WHERE key = ?".to_string(),
                    vec![key.as_str().into()],
                )),
            }
        }
        out
    }

    /// A burst of new plain messages and nothing else, in one statement ([`INSERT_FRAMES`]).
    fn insert_frames(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let size = batch.frames.iter().map(|f| f.len() + 1).sum::<usize>() + 1;
        let mut frames = String::with_capacity(size);
        for frame in &batch.frames {
            frames.push(if frames.is_empty() { '[' } else { ',' });
            frames.push_str(frame);
        }
        frames.push(']');
        let authors = if batch.messages.iter().any(|p| p.author.is_some()) {
            let authors: Vec<_> = batch.messages.iter().map(|p| p.author.as_deref()).collect();
            to_json(&authors).into()
        } else {
            SqlStorageValue::Null
        };
        self.sql
            .exec(INSERT_FRAMES, vec![frames.into(), authors])
            .map(drop)
            .map_err(|e| StoreError(e.to_string()))
    }
}

fn change_actor(change: &Change) -> (&str, u64) {
    match change {
        Change::Edit { name, at, .. }
        | Change::Delete { name, at, .. }
        | Change::React { name, at, .. }
        | Change::Topic { name, at, .. }
        | Change::Lock { name, at, .. }
        | Change::Title { name, at, .. }
        | Change::Kick { name, at, .. } => (name, *at),
    }
}

/// Whether a new message is what its columns say, with nothing only its body could hold.
fn plain(m: &ChatMessage) -> bool {
    m.reply_to.is_none()
        && m.reply.is_none()
        && m.edited_at.is_none()
        && !m.deleted
        && m.reactions.is_empty()
        && m.mentions.is_empty()
        && m.files.is_empty()
}

impl Store for SqlStore<'_> {
    fn write(&mut self, batch: &WriteBatch) -> Result<(), StoreError> {
        let plain_only = batch.only_messages() && batch.messages.iter().all(|p| plain(&p.message));
        if plain_only && !batch.messages.is_empty() && batch.frames.len() == batch.messages.len() {
            return self.insert_frames(batch);
        }
        let mut statements = Self::statements(batch);
        // One statement is atomic by itself: no transaction around it.
        if statements.len() == 1 {
            if let Some((query, args)) = statements.pop() {
                return self
                    .sql
                    .exec(&query, args)
                    .map(drop)
                    .map_err(|e| StoreError(e.to_string()));
            }
        }
        let sql = self.sql.clone();
        // All of the flush or none of it: transactionSync rolls back if a statement throws.
        let run = Closure::once(move || -> Result<(), JsValue> {
            for (query, args) in statements {
                sql.exec(&query, args).map_err(JsValue::from)?;
            }
            Ok(())
        });
        self.storage
            .transaction_sync(run.as_ref().unchecked_ref())
            .map(drop)
            .map_err(|e| StoreError(js_error_text(&e)))
    }

    fn posted(&mut self, id: u64) -> Result<Option<Posted>, StoreError> {
        let found = rows(
            self.sql,
            &format!("SELECT {COLUMNS} FROM messages WHERE id = ? AND kind = 'message'"),
            vec![(id as i64).into()],
        )
        .map_err(|e| StoreError(e.to_string()))?;
        Ok(messages_of(found).into_iter().next())
    }

    fn read_position(&mut self, identity: &str) -> Result<Option<u64>, StoreError> {
        // Only members ask, and a member's socket made the tables (`init`).
        let found = raw_rows(
            self.sql,
            "SELECT id FROM reads WHERE identity = ?",
            vec![identity.into()],
        )
        .map_err(|e| StoreError(e.to_string()))?;
        Ok(found.first().map(|row| int(row, 0)))
    }

    fn files(&mut self) -> Option<&mut dyn crate::files::FileStore> {
        Some(self)
    }

    fn delete_oldest(&mut self, kind: Trim, count: u64) -> Result<u64, StoreError> {
        let err = |e: worker::Error| StoreError(e.to_string());
        let count_i64 = count as i64;
        let count = SqlStorageValue::Integer(count_i64);
        match kind {
            Trim::Messages => {
                // The highest id deleted: the files of messages up to it go too (`crate::files`).
                // Found first, so that the delete hands no rows back to JS and Wasm.
                let upto = raw_rows(
                    self.sql,
                    "SELECT id FROM messages WHERE kind = 'message' ORDER BY id LIMIT 1 OFFSET ?",
                    vec![SqlStorageValue::Integer((count_i64 - 1).max(0))],
                )
                .map_err(err)?
                .first()
                .map_or(0, |row| int(row, 0));
                self.sql
                    .exec(
                        "DELETE FROM messages WHERE kind = 'message' AND id <= ?",
                        vec![(upto as i64).into()],
                    )
                    .map_err(err)?;
                Ok(upto)
            }
            Trim::Changes => {
                let upto = raw_rows(
                    self.sql,
                    "SELECT MAX(id) FROM
                     (SELECT id FROM messages WHERE kind <> 'message' ORDER BY id LIMIT ?)",
                    vec![count],
                )
                .map_err(err)?
                .first()
                .map_or(0, |row| int(row, 0));
                // The floor first: if the delete then fails, resumes from before it are only
                // told `truncated` needlessly; the other way round they would miss changes.
                set_meta(self.sql, CHANGES_FLOOR, &upto.to_string()).map_err(err)?;
                self.sql
                    .exec(
                        "DELETE FROM messages WHERE kind <> 'message' AND id <= ?",
                        vec![(upto as i64).into()],
                    )
                    .map_err(err)?;
                Ok(upto)
            }
        }
    }
}

fn js_error_text(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "storage error".to_string())
}

/// The `meta` key of the highest change id `CHANGES_CAP` deleted.
pub const CHANGES_FLOOR: &str = "changes_floor";

const UPSERT_META: &str = "INSERT INTO meta (key, value) VALUES (?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// Test hook: a trigger that makes every message insert fail for real, or its removal.
pub fn fail_writes(sql: &SqlStorage, on: bool) -> worker::Result<()> {
    let query = if on {
        "CREATE TRIGGER IF NOT EXISTS debug_fail_writes BEFORE INSERT ON messages
         BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    } else {
        "DROP TRIGGER IF EXISTS debug_fail_writes"
    };
    sql.exec(query, None).map(drop)
}

pub fn get_meta(sql: &SqlStorage, key: &str) -> worker::Result<Option<String>> {
    if !exists(sql)? {
        return Ok(None);
    }
    let rows = raw_rows(
        sql,
        "SELECT value FROM meta WHERE key = ?",
        vec![key.into()],
    )?;
    Ok(rows.first().and_then(|row| text(row, 0)))
}

pub fn set_meta(sql: &SqlStorage, key: &str, value: &str) -> worker::Result<()> {
    sql.exec(UPSERT_META, vec![key.into(), value.into()])?;
    Ok(())
}
