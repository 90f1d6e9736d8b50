//! `upload` and the room's side of a file's life (`crate::files` holds the rules): a ticket for
//! a joined member, files attached to a message, and the files that die with their message or
//! unattached past their life. The bytes never come here: the Worker streams them to R2.

use super::members::Member;
use super::{ConnId, Effects, Room, Store};
use crate::config::LogLevel;
use crate::files::{rules, FileStore, Refusal};
use crate::protocol::{to_json, ErrorCode, ErrorFrame, ServerFrame};

impl Room {
    pub(super) fn upload(
        &mut self,
        conn: ConnId,
        name: &str,
        size: u64,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        let Some(owner) = self.member(conn).map(owner_of) else {
            let error = ErrorFrame::new(ErrorCode::NotJoined, "join the room first");
            return self.reject(conn, error, now, fx);
        };
        // Abandoned uploads go here too, not only at the alarm: a room whose last member left
        // cancels its alarm.
        self.sweep_files(now, store, fx);
        let Some(files) = store.files() else {
            let error = ErrorFrame::new(ErrorCode::FilesOff, "this room takes no files");
            return self.reject(conn, error, now, fx);
        };
        match rules::issue(
            files,
            &self.limits.files,
            &self.name,
            &owner,
            name,
            size,
            now,
        ) {
            Ok(issued) => {
                let url = format!(
                    "/api/rooms/{}/files/{}?ticket={}",
                    self.name, issued.id, issued.ticket
                );
                let frame = ServerFrame::UploadTicket {
                    id: &issued.id,
                    url: &url,
                    expires_at: issued.expires_at,
                };
                self.outbox.only(conn, to_json(&frame));
                let stale_at = issued
                    .expires_at
                    .saturating_add(self.limits.files.ticket_ttl_ms);
                self.files_due = Some(self.files_due.map_or(stale_at, |d| d.min(stale_at)));
                self.want_alarm(stale_at, fx);
            }
            Err(refusal) => self.reject(conn, error_frame(&refusal), now, fx),
        }
    }

    /// Checks a message's files and marks them attached to message `id`: what the message
    /// carries.
    pub(super) fn attach_files(
        &mut self,
        conn: ConnId,
        ids: &[String],
        id: u64,
        store: &mut dyn Store,
    ) -> Result<Vec<rules::FileRef>, ErrorFrame> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let owner = self.member(conn).map(owner_of).unwrap_or_default();
        let files = store
            .files()
            .ok_or_else(|| ErrorFrame::new(ErrorCode::FilesOff, "this room takes no files"))?;
        let rows = rules::check_attach(files, &self.limits.files, &owner, ids)
            .map_err(|r| error_frame(&r))?;
        let attached = rules::attach(files, rows, id).map_err(|r| error_frame(&r))?;
        if let Some(floor) = &mut self.attached_floor {
            *floor = Some(floor.map_or(id, |f| f.min(id)));
        }
        Ok(attached)
    }

    /// Messages up to `upto` were trimmed: their files go too. Asks storage only when a file may
    /// be attached that low, so that a full room's trims without files cost no query.
    pub(super) fn trim_files(&mut self, upto: u64, store: &mut dyn Store, fx: &mut Effects) {
        let Some(files) = store.files() else {
            return;
        };
        let floor = match self.attached_floor {
            Some(floor) => Ok(floor),
            None => files.attached_floor(),
        };
        if let Ok(floor) = floor {
            self.attached_floor = Some(floor);
            if floor.is_none_or(|f| f > upto) {
                return;
            }
        }
        // Not known (storage failed) or some to take: take them, and ask again next time.
        self.attached_floor = None;
        self.doom_files(Vec::new(), Some(upto), 0, store, fx);
    }

    /// The files checked by [`Room::attach_files`] without attaching them (a message that may
    /// still be refused for its rate).
    pub(super) fn check_files(
        &mut self,
        conn: ConnId,
        ids: &[String],
        store: &mut dyn Store,
    ) -> Result<(), ErrorFrame> {
        if ids.is_empty() {
            return Ok(());
        }
        let owner = self.member(conn).map(owner_of).unwrap_or_default();
        let files = store
            .files()
            .ok_or_else(|| ErrorFrame::new(ErrorCode::FilesOff, "this room takes no files"))?;
        rules::check_attach(files, &self.limits.files, &owner, ids)
            .map(|_| ())
            .map_err(|r| error_frame(&r))
    }

    /// Files of deleted messages, of messages trimmed up to `trimmed` and unattached ones past
    /// their life: marked gone, and their objects for the shell to delete.
    pub(super) fn doom_files(
        &mut self,
        of_messages: Vec<String>,
        trimmed: Option<u64>,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        let Some(files) = store.files() else {
            return;
        };
        match rules::doomed(files, of_messages, trimmed, now) {
            Ok(ids) => fx.delete_files.extend(ids),
            Err(error) => fx.log(
                LogLevel::Warn,
                "storage_failure",
                serde_json::json!({"operation": "files", "error": error.0}),
            ),
        }
    }

    /// The alarm (and each upload): deletes abandoned uploads, and asks for the alarm again by
    /// the next one's deadline.
    pub(super) fn sweep_files(&mut self, now: u64, store: &mut dyn Store, fx: &mut Effects) {
        if store.files().is_none() {
            return;
        }
        self.doom_files(Vec::new(), None, now, store, fx);
        let next = store.files().and_then(next_stale);
        self.files_due = next;
        if let Some(at) = next {
            self.want_alarm(at, fx);
        }
    }
}

fn next_stale(files: &mut dyn FileStore) -> Option<u64> {
    files.next_stale().ok().flatten()
}

/// Whose a file is: a verified member's `sub` digest (every device), a guest's session digest
/// (the same person after a reconnect), else their name.
fn owner_of(member: &Member) -> String {
    match (&member.session, member.verified) {
        (Some(sub), true) => format!("sub:{sub}"),
        (Some(session), false) => format!("session:{session}"),
        (None, _) => format!("name:{}", member.key),
    }
}

/// A refusal as the error frame of the socket.
fn error_frame(refusal: &Refusal) -> ErrorFrame {
    let code = match refusal.code {
        "file_too_large" => ErrorCode::FileTooLarge,
        "file_quota" => ErrorCode::FileQuota,
        "files_off" => ErrorCode::FilesOff,
        "not_found" => ErrorCode::NotFound,
        "invalid_message" => ErrorCode::InvalidMessage,
        "storage_failed" => ErrorCode::StorageFailed,
        _ => ErrorCode::BadRequest,
    };
    ErrorFrame::new(code, refusal.message.clone())
}
