//! `typing`: relayed to the other members, at most once per [`TYPING_RELAY_INTERVAL_MS`] per
//! member. Never stored.

use super::{ConnId, Effects, Room};
use crate::protocol::{to_json, ErrorCode, ErrorFrame, ServerFrame};

/// The least time between two relayed typing frames of one member. (Clients send one at most
/// every `TYPING_SEND_INTERVAL_MS`, 2000 ms, in `public/js/protocol.js`.)
pub const TYPING_RELAY_INTERVAL_MS: u64 = 1000;

impl Room {
    pub(super) fn typing(&mut self, conn: ConnId, now: u64, fx: &mut Effects) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let Some(member) = &c.member else {
            let error = ErrorFrame::new(ErrorCode::NotJoined, "join the room first");
            return self.reject(conn, error, now, fx);
        };
        if c.last_typing
            .is_some_and(|last| now.saturating_sub(last) < TYPING_RELAY_INTERVAL_MS)
        {
            return;
        }
        c.last_typing = Some(now);
        let frame = to_json(&ServerFrame::Typing { name: &member.name });
        self.outbox.presence(frame, Some(conn));
    }
}
