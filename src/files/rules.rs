//! Every rule of a file's life, over its row: issuing a ticket, claiming it for an upload,
//! completing the upload, attaching the file to a message, and which files die.

use super::{ticket, Kind, Limits, HOUR_MS};
use crate::room::StoreError;
use serde::{Deserialize, Serialize};

/// Where a file is in its life. (No serde here, nor on [`FileRow`]: the store keeps a row as
/// columns, and every derived deserializer costs the Worker's Wasm.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// A ticket was given; no bytes yet.
    Ticket,
    /// The ticket was used: the bytes are on their way to R2.
    Uploading,
    /// In R2, checked, waiting for its message.
    Uploaded,
    /// Part of a message.
    Attached,
    /// Deleted (its row stays an hour for `FILE_BYTES_PER_HOUR`).
    Gone,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Ticket => "ticket",
            FileState::Uploading => "uploading",
            FileState::Uploaded => "uploaded",
            FileState::Attached => "attached",
            FileState::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> Option<FileState> {
        Some(match s {
            "ticket" => FileState::Ticket,
            "uploading" => FileState::Uploading,
            "uploaded" => FileState::Uploaded,
            "attached" => FileState::Attached,
            "gone" => FileState::Gone,
            _ => return None,
        })
    }
}

/// A file as the room keeps it (one row of its `files` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: String,
    /// The member's bucket: a verified member's `sub` digest, a guest's session digest (or name).
    pub owner: String,
    pub name: String,
    pub size: u64,
    pub state: FileState,
    /// The checked type, once uploaded.
    pub kind: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub message: Option<u64>,
    pub created_at: u64,
    pub expires_at: u64,
}

impl FileRow {
    /// When an unattached file is deleted: its ticket's life again after the ticket expired (an
    /// upload that began just before the ticket ran out, then its message, fit in that margin).
    pub fn stale_at(&self) -> u64 {
        let ttl = self.expires_at.saturating_sub(self.created_at);
        self.expires_at.saturating_add(ttl)
    }
}

/// The room's files, in its storage. Every call is one statement: the rules decide, the store
/// only keeps.
pub trait FileStore {
    /// The room's secret for ids and tickets (made once by the shell).
    fn secret(&mut self) -> Result<String, StoreError>;
    fn get(&mut self, id: &str) -> Result<Option<FileRow>, StoreError>;
    /// Inserts or replaces the row.
    fn put(&mut self, row: &FileRow) -> Result<(), StoreError>;
    /// Bytes `owner` was given tickets for since `since` (gone files included).
    fn bytes_since(&mut self, owner: &str, since: u64) -> Result<u64, StoreError>;
    /// Files attached to messages with ids up to `upto` (what `HISTORY_CAP` trimmed).
    fn attached_upto(&mut self, upto: u64) -> Result<Vec<String>, StoreError>;
    /// The lowest message id with a file attached, if any: a trim below it has no file to take.
    fn attached_floor(&mut self) -> Result<Option<u64>, StoreError>;
    /// Files not attached (and not gone) whose [`FileRow::stale_at`] is at or before `now`.
    fn stale(&mut self, now: u64) -> Result<Vec<String>, StoreError>;
    /// The earliest `stale_at` of a file not attached, if any.
    fn next_stale(&mut self) -> Result<Option<u64>, StoreError>;
    /// Marks the files gone, and forgets rows gone for more than an hour.
    fn gone(&mut self, ids: &[String], now: u64) -> Result<(), StoreError>;
}

/// Why a file is refused; `code` is the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Refusal {
            code,
            status,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(_: StoreError) -> Self {
        Refusal::new("storage_failed", 500, "storage failed; try again")
    }
}

/// A ticket given: the file's id, its URL's ticket and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub id: String,
    pub ticket: String,
    pub expires_at: u64,
}

/// `upload`: a ticket for `size` bytes named `name`, for `owner`, if the limits allow it.
pub fn issue(
    files: &mut dyn FileStore,
    limits: &Limits,
    room: &str,
    owner: &str,
    name: &str,
    size: u64,
    now: u64,
) -> Result<Issued, Refusal> {
    if !limits.enabled() {
        return Err(Refusal::new("files_off", 403, "this room takes no files"));
    }
    if size == 0 {
        return Err(Refusal::new(
            "bad_request",
            400,
            "a file has at least one byte",
        ));
    }
    if size > limits.max_file_bytes {
        return Err(Refusal::new(
            "file_too_large",
            413,
            format!("files are limited to {} bytes", limits.max_file_bytes),
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(Refusal::new(
            "bad_request",
            400,
            "a file name is 1 to 200 characters without control characters",
        ));
    }
    if limits.bytes_per_hour > 0 {
        let used = files.bytes_since(owner, now.saturating_sub(HOUR_MS))?;
        if used.saturating_add(size) > limits.bytes_per_hour {
            return Err(Refusal::new(
                "file_quota",
                429,
                format!(
                    "you may upload {} bytes per hour; try again later",
                    limits.bytes_per_hour
                ),
            ));
        }
    }
    let secret = files.secret()?;
    let mut attempt = 0;
    let id = loop {
        let id = ticket::file_id(&secret, owner, now, attempt);
        if files.get(&id)?.is_none() {
            break id;
        }
        attempt += 1;
    };
    let expires_at = now.saturating_add(limits.ticket_ttl_ms);
    files.put(&FileRow {
        id: id.clone(),
        owner: owner.to_string(),
        name: name.to_string(),
        size,
        state: FileState::Ticket,
        kind: None,
        width: None,
        height: None,
        message: None,
        created_at: now,
        expires_at,
    })?;
    let ticket = ticket::ticket(&secret, room, &id, owner, size, expires_at);
    Ok(Issued {
        id,
        ticket,
        expires_at,
    })
}

/// `PUT`: checks the ticket for this file, this room and this length, and uses it up.
pub fn claim(
    files: &mut dyn FileStore,
    room: &str,
    id: &str,
    presented: &str,
    length: u64,
    now: u64,
) -> Result<FileRow, Refusal> {
    let refused = || Refusal::new("bad_ticket", 403, "this ticket is not valid for this file");
    let mut row = files.get(id)?.ok_or_else(refused)?;
    let secret = files.secret()?;
    let expected = ticket::ticket(&secret, room, id, &row.owner, row.size, row.expires_at);
    if !ticket::same(&expected, presented) {
        return Err(refused());
    }
    if row.state != FileState::Ticket {
        return Err(Refusal::new(
            "bad_ticket",
            403,
            "this ticket was already used",
        ));
    }
    if now > row.expires_at {
        return Err(Refusal::new("bad_ticket", 403, "this ticket has expired"));
    }
    if length != row.size {
        return Err(Refusal::new(
            "wrong_size",
            400,
            format!("the ticket is for {} bytes", row.size),
        ));
    }
    row.state = FileState::Uploading;
    files.put(&row)?;
    Ok(row)
}

/// The Worker stored the bytes (`stored` as R2 reports them, `kind` and size as sniffed).
pub fn complete(
    files: &mut dyn FileStore,
    id: &str,
    kind: Kind,
    stored: u64,
    dims: Option<(u32, u32)>,
) -> Result<FileRow, Refusal> {
    let mut row = files
        .get(id)?
        .filter(|r| r.state == FileState::Uploading)
        .ok_or_else(|| Refusal::new("not_found", 404, "no upload of this file is under way"))?;
    if stored != row.size {
        return Err(Refusal::new(
            "wrong_size",
            400,
            "the stored size is not the ticket's",
        ));
    }
    row.state = FileState::Uploaded;
    row.kind = Some(kind.name().to_string());
    row.width = dims.map(|d| d.0);
    row.height = dims.map(|d| d.1);
    files.put(&row)?;
    Ok(row)
}

/// A file as a message carries it. Read back from storage with [`FileRef::list_from`], not a
/// derived `Deserialize` (Wasm size, as for [`crate::protocol::Change::from_value`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRef {
    pub id: String,
    pub name: String,
    /// The MIME type it is served with.
    #[serde(rename = "type")]
    pub kind: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl FileRef {
    pub fn from_value(v: &serde_json::Value) -> Option<FileRef> {
        let dim = |k: &str| v.get(k).and_then(|d| d.as_u64()).map(|d| d as u32);
        Some(FileRef {
            id: v.get("id")?.as_str()?.to_string(),
            name: v.get("name")?.as_str()?.to_string(),
            kind: v.get("type")?.as_str()?.to_string(),
            size: v.get("size")?.as_u64()?,
            width: dim("width"),
            height: dim("height"),
        })
    }

    /// A stored message's `files`, skipping anything malformed.
    pub fn list_from<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<FileRef>, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let list = v.as_array().map(Vec::as_slice).unwrap_or_default();
        Ok(list.iter().filter_map(FileRef::from_value).collect())
    }
}

/// Checks that every file is `owner`'s, uploaded and not yet attached, without changing anything.
pub fn check_attach(
    files: &mut dyn FileStore,
    limits: &Limits,
    owner: &str,
    ids: &[String],
) -> Result<Vec<FileRow>, Refusal> {
    if ids.len() > limits.per_message {
        return Err(Refusal::new(
            "invalid_message",
            400,
            format!("a message carries at most {} files", limits.per_message),
        ));
    }
    let mut rows = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(Refusal::new(
                "invalid_message",
                400,
                "a file is listed twice",
            ));
        }
        let row = files
            .get(id)?
            .filter(|r| r.owner == owner)
            .ok_or_else(|| Refusal::new("not_found", 404, "no file of yours has this id"))?;
        match row.state {
            FileState::Uploaded => rows.push(row),
            FileState::Attached => {
                return Err(Refusal::new(
                    "invalid_message",
                    400,
                    "this file is already in a message",
                ))
            }
            _ => {
                return Err(Refusal::new(
                    "invalid_message",
                    400,
                    "this file is not uploaded yet",
                ))
            }
        }
    }
    Ok(rows)
}

/// Attaches checked rows to message `message`; returns what the message carries.
pub fn attach(
    files: &mut dyn FileStore,
    rows: Vec<FileRow>,
    message: u64,
) -> Result<Vec<FileRef>, Refusal> {
    let mut refs = Vec::with_capacity(rows.len());
    for mut row in rows {
        row.state = FileState::Attached;
        row.message = Some(message);
        files.put(&row)?;
        let kind = row
            .kind
            .as_deref()
            .and_then(Kind::from_name)
            .unwrap_or(Kind::Text);
        refs.push(FileRef {
            id: row.id,
            name: row.name,
            kind: kind
                .mime()
                .split(';')
                .next()
                .unwrap_or_default()
                .to_string(),
            size: row.size,
            width: row.width,
            height: row.height,
        });
    }
    Ok(refs)
}

/// Files to delete now: the given ones (a deleted message's), those of messages trimmed up to
/// `trimmed_upto`, and unattached ones past their life. They are marked gone; the caller deletes
/// the objects.
pub fn doomed(
    files: &mut dyn FileStore,
    of_messages: Vec<String>,
    trimmed_upto: Option<u64>,
    now: u64,
) -> Result<Vec<String>, StoreError> {
    let mut ids = of_messages;
    if let Some(upto) = trimmed_upto {
        ids.extend(files.attached_upto(upto)?);
    }
    ids.extend(files.stale(now)?);
    ids.sort();
    ids.dedup();
    files.gone(&ids, now)?;
    Ok(ids)
}
