//! `message`: check the text and the sender's quota, assign the next id, and queue it. It is
//! stored and sent by the flush ([`super::flush`]), stored first.

use super::history::Posted;
use super::{ConnId, Effects, Room, Store};
use crate::protocol::{ChatMessage, ErrorCode, ErrorFrame, Quote};
use crate::validate;

/// How much of the answered message a reply quotes.
pub const QUOTE_CHARS: usize = 100;

/// A `message` frame's fields.
pub(super) struct New<'f> {
    pub text: &'f str,
    pub nonce: Option<&'f str>,
    pub reply_to: Option<u64>,
    /// Uploaded files to attach (`upload.rs`).
    pub files: &'f [String],
}

impl Room {
    /// The members `text` mentions (`mentions.rs`): the room's members and those away, by key.
    pub(super) fn mentions(&self, text: &str, owner: bool) -> Vec<String> {
        super::mentions::mentions(text, owner, |key| {
            let here = self.by_key.get(key).and_then(|c| self.member(*c));
            let away = || self.away.get(key).map(|a| &a.member);
            here.or_else(away).map(|m| m.name.clone())
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn message(
        &mut self,
        conn: ConnId,
        new: New<'_>,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        match self.accept_message(conn, new, now, store) {
            Ok(posted) => self.outbox.message(conn, posted),
            Err(error) => self.reject(conn, error, now, fx),
        }
    }

    fn accept_message(
        &mut self,
        conn: ConnId,
        new: New<'_>,
        now: u64,
        store: &mut dyn Store,
    ) -> Result<Posted, ErrorFrame> {
        let New {
            text,
            nonce,
            reply_to,
            files,
        } = new;
        // Errors about a message carry its nonce, so the client knows which one failed; a nonce
        // that is itself invalid is not echoed.
        let nonce = nonce.map(validate::nonce).transpose();
        let echo = nonce.as_ref().ok().copied().flatten();
        let error = |code, why| ErrorFrame::new(code, why).with_nonce(echo);
        let Some(member) = self.conns.get(&conn).and_then(|c| c.member.as_ref()) else {
            return Err(error(ErrorCode::NotJoined, "join the room first"));
        };
        // A message with files may have no text.
        let text = match (text.trim().is_empty(), files.is_empty()) {
            (true, false) => "",
            _ => {
                validate::message_text(text).map_err(|why| error(ErrorCode::InvalidMessage, why))?
            }
        };
        let nonce = nonce.map_err(|why| ErrorFrame::new(ErrorCode::InvalidMessage, why))?;
        let (name, key, author, owner) = (
            member.name.clone(),
            // A verified member's bucket is their sub's, on every device.
            member.bucket().to_string(),
            member.session.clone(),
            member.owner,
        );
        // A reply quotes the start of what it answers, so every client can show it.
        let reply = match reply_to {
            None => None,
            Some(target) => {
                let quoted = self
                    .posted_mut(target, store)
                    .map_err(|e| e.with_nonce(echo))?
                    .filter(|p| !p.message.deleted)
                    .map(|p| Quote {
                        name: p.message.name.clone(),
                        text: p.message.text.chars().take(QUOTE_CHARS).collect(),
                        deleted: false,
                    });
                Some(quoted.ok_or_else(|| {
                    error(
                        ErrorCode::NotFound,
                        "the message to reply to does not exist",
                    )
                })?)
            }
        };
        self.check_files(conn, files, store)
            .map_err(|e| e.with_nonce(echo))?;
        // The bucket is the member's name's (or sub's), not the socket's: reconnecting does not
        // refill it.
        if let Err(retry_after_ms) = self.quota.message(&key, now, &self.limits) {
            let mut e = error(
                ErrorCode::RateLimited,
                "too many messages; this one was dropped",
            );
            e.retry_after_ms = Some(retry_after_ms);
            return Err(e);
        }
        let mut message = ChatMessage::new(
            self.history.next_id(),
            name,
            text.to_string(),
            now,
            nonce.map(str::to_string),
        );
        message.reply_to = reply_to;
        message.reply = reply;
        message.mentions = self.mentions(&message.text, owner);
        message.files = self
            .attach_files(conn, files, message.id, store)
            .map_err(|e| e.with_nonce(echo))?;
        Ok(Posted { message, author })
    }
}
