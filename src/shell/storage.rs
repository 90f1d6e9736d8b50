//! The room's SQLite storage: one `messages` table (the history) and a `meta` table, and
//! [`SqlStore`], the room's [`Store`].
//!
//! The SQL API is synchronous, and everything written during one flush is committed together.
//! The runtime's output gate holds every frame sent after a write until that write is durable,
//! which is what makes "stored before broadcast" hold without an `await`.

use crate::protocol::ChatMessage;
use crate::room::{Store, StoreError, StoredHistory, WELCOME_HISTORY};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use worker::{SqlStorage, SqlStorageValue};

#[wasm_bindgen]
extern "C" {
    /// `ctx.storage.sql`, for the one query on the hot path: binding a lone message's fields as
    /// direct arguments skips building an argument array and copying each string twice.
    type RawSql;
    #[wasm_bindgen(method, catch, js_name = exec)]
    fn exec_insert(
        this: &RawSql,
        query: &JsValue,
        id: f64,
        name: &str,
        text: &str,
        at: f64,
        nonce: Option<String>,
    ) -> Result<JsValue, JsValue>;
}

const INSERT_ONE: &str = "INSERT INTO messages (id, name, text, at, nonce) VALUES (?, ?, ?, ?, ?)";

/// Several messages in one statement (so all or none), passed as one JSON array: the number of
/// bound parameters stays one however large the burst.
const INSERT_MANY: &str = "INSERT INTO messages (id, name, text, at, nonce)
    SELECT json_extract(value, '$.id'), json_extract(value, '$.name'),
           json_extract(value, '$.text'), json_extract(value, '$.at'),
           json_extract(value, '$.nonce')
    FROM json_each(?)";

thread_local! {
    /// The insert statement as a JS string, made once (the SQL API caches statements by text).
    static INSERT_ONE_QUERY: JsValue = JsValue::from_str(INSERT_ONE);
}

/// Creates the tables. Called when a socket connects: reading a room never creates it.
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
    sql.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        None,
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct Count {
    n: f64,
}

/// Whether this room ever created its tables (a read-only question).
pub fn exists(sql: &SqlStorage) -> worker::Result<bool> {
    let count: Count = sql
        .exec(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
            None,
        )?
        .one()?;
    Ok(count.n > 0.0)
}

#[derive(Deserialize)]
struct Counts {
    last_id: f64,
    stored: f64,
}

/// The id sequence, the row count and the newest rows, to seed a room after a (re)start. An
/// empty history for a room that never stored anything.
pub fn load_history(sql: &SqlStorage) -> worker::Result<StoredHistory> {
    if !exists(sql)? {
        return Ok(StoredHistory::default());
    }
    let counts: Counts = sql
        .exec(
            "SELECT COALESCE(MAX(id), 0) AS last_id, COUNT(*) AS stored FROM messages",
            None,
        )?
        .one()?;
    // One more than a welcome holds, to know the newest id it leaves out.
    let mut recent = newest(sql, None, WELCOME_HISTORY as u32 + 1)?;
    let older_max = if recent.len() > WELCOME_HISTORY {
        recent.pop().map_or(0, |m| m.id)
    } else {
        0
    };
    recent.reverse();
    Ok(StoredHistory {
        last_id: counts.last_id as u64,
        stored: counts.stored as u64,
        recent,
        older_max,
    })
}

/// Up to `limit` messages with `id < before`, newest first.
fn newest(sql: &SqlStorage, before: Option<u64>, limit: u32) -> worker::Result<Vec<ChatMessage>> {
    // The largest id JavaScript numbers (and so the SQL API) carry exactly; the API checks
    // `before` against it.
    let before = before.map_or(crate::api::MAX_ID, |b| b.min(crate::api::MAX_ID)) as i64;
    sql.exec(
        "SELECT 'message' AS type, id, name, text, at, nonce FROM messages
         WHERE id < ? ORDER BY id DESC LIMIT ?",
        vec![before.into(), i64::from(limit).into()],
    )?
    .to_array()
}

/// A page of history for `GET /api/rooms/{room}/messages`, oldest first.
pub fn page(sql: &SqlStorage, before: Option<u64>, limit: u32) -> worker::Result<Vec<ChatMessage>> {
    if !exists(sql)? {
        return Ok(Vec::new());
    }
    let mut page = newest(sql, before, limit)?;
    page.reverse();
    Ok(page)
}

/// The room's [`Store`]: SQLite.
pub struct SqlStore<'a> {
    pub sql: &'a SqlStorage,
}

impl Store for SqlStore<'_> {
    fn append(&mut self, messages: &[ChatMessage]) -> Result<(), StoreError> {
        let result = match messages {
            [] => Ok(()),
            [m] => {
                let raw: &RawSql = self.sql.as_ref().unchecked_ref();
                INSERT_ONE_QUERY
                    .with(|query| {
                        raw.exec_insert(
                            query,
                            m.id as f64,
                            &m.name,
                            &m.text,
                            m.at as f64,
                            m.nonce.clone(),
                        )
                    })
                    .map(drop)
                    .map_err(worker::Error::from)
            }
            many => {
                let json = crate::protocol::to_json(&many);
                self.sql.exec(INSERT_MANY, vec![json.into()]).map(drop)
            }
        };
        result.map_err(|e| StoreError(e.to_string()))
    }

    fn delete_oldest(&mut self, count: u64) -> Result<(), StoreError> {
        self.sql
            .exec(
                "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?)",
                vec![SqlStorageValue::Integer(count as i64)],
            )
            .map(drop)
            .map_err(|e| StoreError(e.to_string()))
    }
}

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

#[derive(Deserialize)]
struct Value {
    value: String,
}

pub fn get_meta(sql: &SqlStorage, key: &str) -> worker::Result<Option<String>> {
    if !exists(sql)? {
        return Ok(None);
    }
    let rows: Vec<Value> = sql
        .exec("SELECT value FROM meta WHERE key = ?", vec![key.into()])?
        .to_array()?;
    Ok(rows.into_iter().next().map(|v| v.value))
}

pub fn set_meta(sql: &SqlStorage, key: &str, value: &str) -> worker::Result<()> {
    sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![key.into(), value.into()],
    )?;
    Ok(())
}
