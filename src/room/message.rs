//! `message`: check the text and the sender's quota, assign the next id, and queue it. It is
//! stored and sent by the flush ([`super::flush`]), stored first.

use super::{ConnId, Effects, Room};
use crate::protocol::{ChatMessage, ErrorCode, ErrorFrame};
use crate::validate;

impl Room {
    pub(super) fn message(
        &mut self,
        conn: ConnId,
        text: &str,
        nonce: Option<&str>,
        now: u64,
        fx: &mut Effects,
    ) {
        match self.accept_message(conn, text, nonce, now) {
            Ok(message) => self.outbox.message(conn, message),
            Err(error) => self.reject(conn, error, now, fx),
        }
    }

    fn accept_message(
        &mut self,
        conn: ConnId,
        text: &str,
        nonce: Option<&str>,
        now: u64,
    ) -> Result<ChatMessage, ErrorFrame> {
        // Errors about a message carry its nonce, so the client knows which one failed; a nonce
        // that is itself invalid is not echoed.
        let nonce = nonce.map(validate::nonce).transpose();
        let echo = nonce.as_ref().ok().copied().flatten();
        let error = |code, why| ErrorFrame::new(code, why).with_nonce(echo);
        let Some(member) = self.conns.get(&conn).and_then(|c| c.member.as_ref()) else {
            return Err(error(ErrorCode::NotJoined, "join the room first"));
        };
        let text =
            validate::message_text(text).map_err(|why| error(ErrorCode::InvalidMessage, why))?;
        let nonce = nonce.map_err(|why| ErrorFrame::new(ErrorCode::InvalidMessage, why))?;
        // The bucket is the member's name's, not the socket's: reconnecting does not refill it.
        if let Err(retry_after_ms) = self.quota.message(&member.key, now, &self.limits) {
            let mut e = error(
                ErrorCode::RateLimited,
                "too many messages; this one was dropped",
            );
            e.retry_after_ms = Some(retry_after_ms);
            return Err(e);
        }
        Ok(ChatMessage {
            id: self.history.next_id(),
            name: member.name.clone(),
            text: text.to_string(),
            at: now,
            nonce: nonce.map(str::to_string),
        })
    }
}
