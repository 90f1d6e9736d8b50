//! Files in R2 (`crate::files` decides): the room's `files` table as the core's [`FileStore`],
//! the room object's check of a ticket and record of an upload, and the Worker streaming bytes
//! between a client and the `FILES` bucket. The bytes never reach the room object, and never
//! sit whole in memory: only the first [`HEAD_BYTES`] are read before the stream goes on to R2.

use super::answers::{internal, json_ok, json_response};
use super::random_hex;
use super::storage::{self, int, raw_rows, text, SqlStore};
use crate::api::{query_param, HttpError};
use crate::files::range::{self, Ranged};
use crate::files::sniff::{dimensions, sniff, HEAD_BYTES};
use crate::files::{rules, FileRow, FileState, FileStore, Kind, HOUR_MS};
use crate::room::StoreError;
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::FixedLengthStream as FixedLengthStreamSys;
use worker::{
    js_sys, web_sys, Env, Headers, Request, Response, ResponseBody, SqlStorage, SqlStorageValue,
    Stub,
};

/// The R2 bucket binding (`[[r2_buckets]]` in `wrangler.toml`).
pub const BUCKET: &str = "FILES";

/// The room's `files` table: one column per field of a [`FileRow`], read by position.
pub fn init(sql: &SqlStorage) -> worker::Result<()> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS files (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            state TEXT NOT NULL,
            message INTEGER,
            created_at INTEGER NOT NULL,
            stale_at INTEGER NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            kind TEXT,
            width INTEGER,
            height INTEGER,
            expires_at INTEGER NOT NULL
        )",
        None,
    )?;
    sql.exec(
        "CREATE INDEX IF NOT EXISTS files_owner ON files (owner, created_at)",
        None,
    )?;
    Ok(())
}

const ROW: &str =
    "id, owner, state, message, created_at, name, size, kind, width, height, expires_at";

fn row_of(r: &[SqlStorageValue]) -> Option<FileRow> {
    let opt = |i: usize| match r.get(i) {
        Some(SqlStorageValue::Integer(_) | SqlStorageValue::Float(_)) => Some(int(r, i)),
        _ => None,
    };
    Some(FileRow {
        id: text(r, 0)?,
        owner: text(r, 1)?,
        state: FileState::parse(&text(r, 2)?)?,
        message: opt(3),
        created_at: int(r, 4),
        name: text(r, 5)?,
        size: int(r, 6),
        kind: text(r, 7),
        width: opt(8).map(|w| w as u32),
        height: opt(9).map(|h| h as u32),
        expires_at: int(r, 10),
    })
}

fn n(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(v.min(i64::MAX as u64) as i64)
}

fn err(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

fn ids(rows: Vec<Vec<SqlStorageValue>>) -> Vec<String> {
    rows.iter().filter_map(|r| text(r, 0)).collect()
}

const UNATTACHED: &str = "state IN ('ticket', 'uploading', 'uploaded')";

impl FileStore for SqlStore<'_> {
    fn secret(&mut self) -> Result<String, StoreError> {
        if let Some(secret) = storage::get_meta(self.sql, "files_secret").map_err(err)? {
            return Ok(secret);
        }
        // Made once, from the runtime's CSPRNG; never leaves the room's storage.
        let secret = random_hex(32).map_err(err)?;
        storage::set_meta(self.sql, "files_secret", &secret).map_err(err)?;
        Ok(secret)
    }

    fn get(&mut self, id: &str) -> Result<Option<FileRow>, StoreError> {
        let query = format!("SELECT {ROW} FROM files WHERE id = ?");
        let rows = raw_rows(self.sql, &query, vec![id.into()]).map_err(err)?;
        Ok(rows.first().and_then(|r| row_of(r)))
    }

    fn put(&mut self, row: &FileRow) -> Result<(), StoreError> {
        let opt = |v: Option<u64>| v.map_or(SqlStorageValue::Null, n);
        self.sql
            .exec(
                &format!(
                    "INSERT OR REPLACE INTO files ({ROW}, stale_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                vec![
                    row.id.as_str().into(),
                    row.owner.as_str().into(),
                    row.state.as_str().into(),
                    opt(row.message),
                    n(row.created_at),
                    row.name.as_str().into(),
                    n(row.size),
                    row.kind
                        .as_deref()
                        .map_or(SqlStorageValue::Null, Into::into),
                    opt(row.width.map(u64::from)),
                    opt(row.height.map(u64::from)),
                    n(row.expires_at),
                    n(row.stale_at()),
                ],
            )
            .map(drop)
            .map_err(err)
    }

    fn bytes_since(&mut self, owner: &str, since: u64) -> Result<u64, StoreError> {
        let rows = raw_rows(
            self.sql,
            "SELECT COALESCE(SUM(size), 0) FROM files
             WHERE owner = ? AND created_at >= ?",
            vec![owner.into(), n(since)],
        )
        .map_err(err)?;
        Ok(rows.first().map_or(0, |r| int(r, 0)))
    }

    fn attached_upto(&mut self, upto: u64) -> Result<Vec<String>, StoreError> {
        raw_rows(
            self.sql,
            "SELECT id FROM files WHERE state = 'attached' AND message <= ?",
            vec![n(upto)],
        )
        .map(ids)
        .map_err(err)
    }

    fn attached_floor(&mut self) -> Result<Option<u64>, StoreError> {
        let rows = raw_rows(
            self.sql,
            "SELECT MIN(message) FROM files WHERE state = 'attached'",
            vec![],
        )
        .map_err(err)?;
        Ok(rows
            .first()
            .filter(|r| !matches!(r.first(), Some(SqlStorageValue::Null) | None))
            .map(|r| int(r, 0)))
    }

    fn stale(&mut self, now: u64) -> Result<Vec<String>, StoreError> {
        let query = format!("SELECT id FROM files WHERE {UNATTACHED} AND stale_at <= ?");
        raw_rows(self.sql, &query, vec![n(now)])
            .map(ids)
            .map_err(err)
    }

    fn next_stale(&mut self) -> Result<Option<u64>, StoreError> {
        let query = format!("SELECT MIN(stale_at) FROM files WHERE {UNATTACHED}");
        let rows = raw_rows(self.sql, &query, vec![]).map_err(err)?;
        Ok(rows
            .first()
            .filter(|r| !matches!(r.first(), Some(SqlStorageValue::Null) | None))
            .map(|r| int(r, 0)))
    }

    fn gone(&mut self, ids: &[String], now: u64) -> Result<(), StoreError> {
        for id in ids {
            self.sql
                .exec(
                    "UPDATE files SET state = 'gone' WHERE id = ?",
                    vec![id.as_str().into()],
                )
                .map_err(err)?;
        }
        // Kept an hour for `FILE_BYTES_PER_HOUR`, then forgotten.
        self.sql
            .exec(
                "DELETE FROM files WHERE state = 'gone' AND created_at < ?",
                vec![n(now.saturating_sub(HOUR_MS))],
            )
            .map(drop)
            .map_err(err)
    }
}

/// The room object: checks and uses up the ticket of a `PUT` (`file`, `ticket`, `size`).
pub fn claim(
    store: &mut SqlStore<'_>,
    room: &str,
    query: &str,
    now: u64,
) -> worker::Result<Response> {
    let param = |k| query_param(query, k).unwrap_or_default().into_owned();
    let size = param("size").parse::<u64>().unwrap_or(0);
    match rules::claim(store, room, &param("file"), &param("ticket"), size, now) {
        Ok(row) => json_ok(&format!(r#"{{"name":{}}}"#, super::json_string(&row.name))),
        Err(r) => super::answers::json_error(r.status, r.code, &r.message),
    }
}

/// The room object: the Worker stored the bytes (`file`, `type`, `stored`, `width`, `height`).
pub fn complete(store: &mut SqlStore<'_>, query: &str) -> worker::Result<Response> {
    let param = |k| query_param(query, k).unwrap_or_default().into_owned();
    let kind = Kind::from_name(&param("type")).unwrap_or(Kind::Text);
    let stored = param("stored").parse::<u64>().unwrap_or(0);
    let dims = param("width")
        .parse::<u32>()
        .ok()
        .zip(param("height").parse::<u32>().ok());
    match rules::complete(store, &param("file"), kind, stored, dims) {
        Ok(row) => {
            json_ok(&serde_json::json!({ "width": row.width, "height": row.height }).to_string())
        }
        Err(r) => super::answers::json_error(r.status, r.code, &r.message),
    }
}

/// The room object's delete effects: the objects of files the room doomed.
pub fn delete_objects(env: &Env, room_id: String, ids: Vec<String>) {
    let Ok(bucket) = bucket(env) else {
        return;
    };
    worker::wasm_bindgen_futures::spawn_local(async move {
        for id in ids {
            let key = JsValue::from(crate::files::object_key(&room_id, &id));
            if let Err(e) = r2(&bucket, "delete", &[&key]).await {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"level": "warn", "event": "storage_failure",
                        "operation": "file_delete", "error": e.to_string()})
                );
            }
        }
    });
}

/// The runtime's R2 bucket object behind `FILES`, called directly: the `worker` crate's R2
/// wrappers (builders, metadata decoding) cost more Wasm than the five calls made here.
fn bucket(env: &Env) -> worker::Result<JsValue> {
    let bucket = js_sys::Reflect::get(env.as_ref(), &BUCKET.into())?;
    if bucket.is_undefined() {
        return Err(worker::Error::RustError("no FILES binding".into()));
    }
    Ok(bucket)
}

/// `bucket.method(...args)`, awaited.
async fn r2(bucket: &JsValue, method: &str, args: &[&JsValue]) -> worker::Result<JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(bucket, &method.into())?.dyn_into()?;
    let list: js_sys::Array = args.iter().copied().collect();
    let promise = js_sys::Promise::resolve(&f.apply(bucket, &list)?);
    Ok(JsFuture::from(promise).await?)
}

/// A field of a JS object.
fn field(v: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(v, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `{name: value, …}` as a JS object.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

fn refused(status: u16, code: &'static str, message: impl Into<String>) -> HttpError {
    HttpError::new(status, code, message)
}

/// `PUT /api/rooms/{room}/files/{id}?ticket=`: the room checks and uses up the ticket; the
/// Worker sniffs the first bytes, then streams the body to R2 with its known length.
pub async fn put(
    req: &Request,
    env: &Env,
    stub: &Stub,
    room_query: impl Fn(&str, &str) -> Result<Request, HttpError>,
    room_id: &str,
    id: &str,
    query: &str,
) -> Result<Response, HttpError> {
    let limits =
        crate::files::Limits::from_vars(&|name: &str| env.var(name).ok().map(|v| v.to_string()));
    if !limits.enabled() {
        return Err(refused(403, "files_off", "this room takes no files"));
    }
    let ticket = query_param(query, "ticket").unwrap_or_default();
    if ticket.len() != 64 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refused(
            403,
            "bad_ticket",
            "this ticket is not valid for this file",
        ));
    }
    let length = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| refused(411, "length_required", "send the file with Content-Length"))?;
    if length > limits.max_file_bytes {
        return Err(refused(
            413,
            "file_too_large",
            format!("files are limited to {} bytes", limits.max_file_bytes),
        ));
    }
    // Check and use up the ticket first: a refused ticket costs no byte of the body.
    let claim = room_query(
        "file_claim",
        &format!("&file={id}&ticket={ticket}&size={length}"),
    )?;
    let claimed = stub.fetch_with_request(claim).await.map_err(internal)?;
    if claimed.status_code() != 200 {
        return Ok(claimed);
    }
    let claimed = super::body_json(claimed).await.map_err(internal)?;
    let name = claimed["name"].as_str().unwrap_or("file").to_string();
    // The first bytes decide the type: read them, then hand R2 a stream that sends them again.
    let body = req
        .inner()
        .body()
        .ok_or_else(|| refused(400, "wrong_size", "the request has no body"))?;
    let want = (HEAD_BYTES as u64).min(length) as usize;
    let (head, chunks) = read_head(&body, want)
        .await
        .map_err(|_| refused(400, "bad_request", "the upload broke off"))?;
    let kind = sniff(&head)
        .filter(|k| limits.types.contains(k))
        .ok_or_else(|| {
            let allowed: Vec<&str> = limits.types.iter().map(|k| k.name()).collect();
            refused(
                415,
                "file_type",
                format!("this room takes {} files only", allowed.join(", ")),
            )
        })?;
    let dims = dimensions(kind, &head);
    drop(head);
    let readable = replay(body, chunks, length).map_err(|e| internal(e.into()))?;
    let bucket = bucket(env).map_err(internal)?;
    let key = JsValue::from(crate::files::object_key(room_id, id));
    let metadata = object(&[("type", kind.name().into()), ("name", name.as_str().into())]);
    let options = object(&[("customMetadata", metadata)]);
    // The stream's length is known, so R2 takes it without buffering; a body longer or shorter
    // than Content-Length fails the put.
    let stored = r2(&bucket, "put", &[&key, &readable.into(), &options])
        .await
        .map_err(|_| {
            refused(
                400,
                "wrong_size",
                "the body's length is not its Content-Length",
            )
        })?;
    let size = field(&stored, "size").as_f64().unwrap_or(0.0) as u64;
    let (w, h) = dims.map_or((String::new(), String::new()), |(w, h)| {
        (w.to_string(), h.to_string())
    });
    let done = room_query(
        "file_done",
        &format!(
            "&file={id}&type={}&stored={size}&width={w}&height={h}",
            kind.name()
        ),
    )?;
    let done = stub.fetch_with_request(done).await.map_err(internal)?;
    if done.status_code() != 200 {
        let _ = r2(&bucket, "delete", &[&key]).await;
        return Ok(done);
    }
    let row = super::body_json(done).await.map_err(internal)?;
    let body = serde_json::json!({
        "id": id,
        "type": kind.mime().split(';').next().unwrap_or_default(),
        "size": size,
        "width": row.get("width"),
        "height": row.get("height"),
    });
    json_response(201, &body.to_string())
}

/// Reads the body's first chunks until `want` bytes (or its end): a copy to sniff, and the chunks
/// themselves to send on. The reader's lock is released, so the rest can be piped.
async fn read_head(
    body: &web_sys::ReadableStream,
    want: usize,
) -> Result<(Vec<u8>, Vec<js_sys::Uint8Array>), JsValue> {
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut head = Vec::new();
    let mut chunks = Vec::new();
    while head.len() < want {
        let step = JsFuture::from(reader.read()).await?;
        if js_sys::Reflect::get(&step, &"done".into())?.is_truthy() {
            break;
        }
        let chunk: js_sys::Uint8Array = js_sys::Reflect::get(&step, &"value".into())?.dyn_into()?;
        head.extend(chunk.to_vec());
        chunks.push(chunk);
    }
    reader.release_lock();
    Ok((head, chunks))
}

/// The body again, as a stream of exactly `length` bytes (a `FixedLengthStream`, which R2 needs
/// to take a stream): the chunks already read, then the rest of the body piped in JavaScript, so
/// the bytes never cross into the Wasm memory (measured: bench/README.md, Files).
fn replay(
    body: web_sys::ReadableStream,
    chunks: Vec<js_sys::Uint8Array>,
    length: u64,
) -> Result<web_sys::ReadableStream, JsValue> {
    let fixed = if length < u32::MAX as u64 {
        FixedLengthStreamSys::new(length as u32)?
    } else {
        FixedLengthStreamSys::new_big_int(js_sys::BigInt::from(length))?
    };
    let transform: &web_sys::TransformStream = fixed.unchecked_ref();
    let writable = transform.writable();
    let writer = writable.get_writer()?;
    // Queued in order ahead of the pipe; a write is not awaited (nothing reads yet).
    for chunk in chunks {
        let _ = writer.write_with_chunk(&chunk);
    }
    writer.release_lock();
    // A body that ends short or runs long errors the stream, and with it the put.
    let _ = body.pipe_to(&writable);
    Ok(transform.readable())
}

/// `GET`/`HEAD /api/rooms/{room}/files/{id}`: the object streamed from R2 with the headers of
/// [`range::headers`], one `Range` honoured.
pub async fn get(
    req: &Request,
    env: &Env,
    room_id: &str,
    id: &str,
    head_only: bool,
) -> Result<Response, HttpError> {
    let not_found = || refused(404, "not_found", "no file has this id");
    let bucket = bucket(env).map_err(internal)?;
    let key = JsValue::from(crate::files::object_key(room_id, id));
    let meta = r2(&bucket, "head", &[&key]).await.map_err(internal)?;
    if meta.is_null() || meta.is_undefined() {
        return Err(not_found());
    }
    let size = field(&meta, "size").as_f64().unwrap_or(0.0) as u64;
    let etag = field(&meta, "httpEtag").as_string().unwrap_or_default();
    let custom = field(&meta, "customMetadata");
    // The type the Worker sniffed at upload, never anything the client said.
    let kind = field(&custom, "type")
        .as_string()
        .and_then(|t| Kind::from_name(&t))
        .unwrap_or(Kind::Text);
    let name = field(&custom, "name").as_string();
    let name = name.as_deref().unwrap_or("file");
    let headers = Headers::new();
    for (k, v) in range::headers(kind, name) {
        headers.set(k, &v).map_err(internal)?;
    }
    headers.set("ETag", &etag).map_err(internal)?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    if header("If-None-Match").is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag)) {
        return Ok(Response::empty()
            .map_err(internal)?
            .with_status(304)
            .with_headers(headers));
    }
    let ranged = range::parse(header("Range").as_deref(), size);
    let (status, r2_range, length) = match ranged {
        Ranged::Unsatisfiable => {
            headers
                .set("Content-Range", &format!("bytes */{size}"))
                .map_err(internal)?;
            let error = HttpError::new(
                416,
                "range_not_satisfiable",
                "the range is past the file's end",
            );
            let response = json_response(416, &error.body())?;
            for (k, v) in headers.entries() {
                if k.eq_ignore_ascii_case("content-type") {
                    continue;
                }
                response.headers().set(&k, &v).map_err(internal)?;
            }
            return Ok(response);
        }
        Ranged::Whole => (200, None, size),
        Ranged::Part { start, end } => {
            headers
                .set("Content-Range", &format!("bytes {start}-{end}/{size}"))
                .map_err(internal)?;
            let length = end - start + 1;
            let range = object(&[
                ("offset", (start as f64).into()),
                ("length", (length as f64).into()),
            ]);
            (206, Some(object(&[("range", range)])), length)
        }
    };
    headers
        .set("Content-Length", &length.to_string())
        .map_err(internal)?;
    if head_only {
        return Ok(Response::empty()
            .map_err(internal)?
            .with_status(status)
            .with_headers(headers));
    }
    let options = r2_range.unwrap_or_else(|| object(&[]));
    let found = r2(&bucket, "get", &[&key, &options])
        .await
        .map_err(internal)?;
    let body: web_sys::ReadableStream =
        field(&found, "body").dyn_into().map_err(|_| not_found())?;
    Ok(Response::from_body(ResponseBody::Stream(body))
        .map_err(internal)?
        .with_status(status)
        .with_headers(headers))
}

/// `GET /api/rooms/{room}/files` with `TEST_HOOKS=1`: the keys of the room's objects, so tests
/// can prove that nothing is left behind.
pub async fn list(env: &Env, room_id: &str) -> Result<Response, HttpError> {
    let bucket = bucket(env).map_err(internal)?;
    let options = object(&[("prefix", format!("{room_id}/").into())]);
    let listed = r2(&bucket, "list", &[&options]).await.map_err(internal)?;
    let objects: js_sys::Array = field(&listed, "objects").dyn_into().unwrap_or_default();
    let keys: Vec<String> = objects
        .iter()
        .filter_map(|o| field(&o, "key").as_string())
        .filter_map(|k| k.split('/').nth(1).map(str::to_string))
        .collect();
    json_ok(&serde_json::json!({ "files": keys }).to_string()).map_err(internal)
}
