//! `auth`: a verified member renews their join token in place, before it runs out (the room
//! closes a socket whose token expired with 4004, `deadline.rs`).

use super::{ConnId, Effects, Room};
use crate::protocol::{to_json, ErrorCode, ErrorFrame, ServerFrame};
use crate::token;

impl Room {
    pub(super) fn auth(&mut self, conn: ConnId, raw: &str, now: u64, fx: &mut Effects) {
        match self.renew(conn, raw, now) {
            Ok((expires_at, exp)) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.expires_at = Some(expires_at);
                    fx.attach.push((conn, c.attachment(conn)));
                }
                self.outbox.only(conn, to_json(&ServerFrame::Auth { exp }));
                self.want_alarm(expires_at, fx);
            }
            // The old token stays.
            Err(error) => self.reject(conn, error, now, fx),
        }
    }

    /// The new token's expiry (unix ms for the room, seconds for the answer), if it may replace
    /// the socket's token: same `sub`, good for this room, valid now.
    fn renew(&mut self, conn: ConnId, raw: &str, now: u64) -> Result<(u64, u64), ErrorFrame> {
        let unauthorized = |why: &'static str| ErrorFrame::new(ErrorCode::Unauthorized, why);
        let Some(member) = self.member(conn) else {
            return Err(ErrorFrame::new(ErrorCode::NotJoined, "join the room first"));
        };
        if !member.verified {
            return Err(unauthorized(
                "only a member who joined with a token can renew it",
            ));
        }
        let identity = member.session.clone();
        let address = self.conns.get(&conn).and_then(|c| c.address.clone());
        let claims = self
            .vouched(address.as_deref(), Some(raw), now)?
            .ok_or_else(|| unauthorized("join tokens are off in this room"))?;
        if identity.as_deref() != Some(token::identity(&claims.sub).as_str()) {
            return Err(unauthorized("the new token is for another sub"));
        }
        Ok((claims.expires_at_ms(), claims.exp))
    }
}
