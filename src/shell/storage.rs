//! The room's SQLite storage: one `messages` table (the history) and a `meta` table.
//!
//! The SQL API is synchronous; the runtime's output gate holds every frame sent after a write until
//! that write is durable, which is what makes "stored before broadcast" hold without an `await`.

use crate::protocol::ChatMessage;
use crate::room::{StoredHistory, WELCOME_HISTORY};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use worker::{SqlStorage, SqlStorageValue};

#[wasm_bindgen]
extern "C" {
    /// `ctx.storage.sql`, for the one query on the hot path: binding the message's fields as
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

const INSERT: &str = "INSERT INTO messages (id, name, text, at, nonce) VALUES (?, ?, ?, ?, ?)";

thread_local! {
    /// The insert statement as a JS string, made once (the SQL API caches statements by text).
    static INSERT_QUERY: JsValue = JsValue::from_str(INSERT);
}

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
struct Counts {
    last_id: f64,
    stored: f64,
}

/// The id sequence, the row count and the newest rows, to seed a room after a (re)start.
pub fn load_history(sql: &SqlStorage) -> worker::Result<StoredHistory> {
    let counts: Counts = sql
        .exec(
            "SELECT COALESCE(MAX(id), 0) AS last_id, COUNT(*) AS stored FROM messages",
            None,
        )?
        .one()?;
    let mut recent = newest(sql, None, WELCOME_HISTORY as u32)?;
    recent.reverse();
    Ok(StoredHistory {
        last_id: counts.last_id as u64,
        stored: counts.stored as u64,
        recent,
    })
}

/// Up to `limit` messages with `id < before`, newest first.
fn newest(sql: &SqlStorage, before: Option<u64>, limit: u32) -> worker::Result<Vec<ChatMessage>> {
    // The largest id JavaScript numbers (and so the SQL API) carry exactly.
    let before = before.map_or(9_007_199_254_740_991, |b| b as i64);
    sql.exec(
        "SELECT 'message' AS type, id, name, text, at, nonce FROM messages
         WHERE id < ? ORDER BY id DESC LIMIT ?",
        vec![before.into(), i64::from(limit).into()],
    )?
    .to_array()
}

/// A page of history for `GET /api/rooms/{room}/messages`, oldest first.
pub fn page(sql: &SqlStorage, before: Option<u64>, limit: u32) -> worker::Result<Vec<ChatMessage>> {
    let mut page = newest(sql, before, limit)?;
    page.reverse();
    Ok(page)
}

pub fn insert(sql: &SqlStorage, m: &ChatMessage) -> worker::Result<()> {
    let raw: &RawSql = sql.as_ref().unchecked_ref();
    INSERT_QUERY
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

/// Deletes the `count` oldest messages (the history cap).
pub fn delete_oldest(sql: &SqlStorage, count: u64) -> worker::Result<()> {
    sql.exec(
        "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?)",
        vec![SqlStorageValue::Integer(count as i64)],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct Value {
    value: String,
}

pub fn get_meta(sql: &SqlStorage, key: &str) -> worker::Result<Option<String>> {
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
