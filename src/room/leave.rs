//! Sockets that go away: closed or dropped by the client ([`Room::leave`]), or ended by the room
//! itself ([`Room::close_conn`]: a takeover, a timeout).

use super::members::{Away, Member, MemberRow};
use super::{ConnId, Effects, Room};
use crate::config::LogLevel;
use crate::protocol::{to_json, ServerFrame};

/// The reason of a close that means the member left on purpose (the client closes with 1000 and
/// the reason `leave`), as opposed to a dropped socket, which gets the presence grace.
pub const LEFT: &str = "leave";

impl Room {
    /// The socket closed, errored or refused a send. A member is away for the presence grace (or
    /// leaves at once without one); a socket that never joined, or that the room had already
    /// closed, leaves silently.
    /// `why` for a socket its client closed on purpose (code 1000, reason `leave`).
    pub(super) fn leave(&mut self, conn: ConnId, why: &'static str, now: u64, fx: &mut Effects) {
        let Some(mut c) = self.conns.remove(&conn) else {
            return;
        };
        if self.conns.is_empty() && self.alarm.is_some() && self.files_due.is_none() {
            self.alarm = None;
            fx.cancel_alarm = true;
        }
        if c.rejections > 0 {
            fx.log(
                LogLevel::Info,
                "rejected",
                serde_json::json!({"count": c.rejections}),
            );
        }
        if c.member.is_none() && !c.closed {
            self.quota.unjoined_done(&c);
        }
        if let Some(member) = c.member.take() {
            let devices_left = self.unseat(conn, &member);
            self.quota.member_left(&c);
            // The member is still here on another device: nobody notices this one go.
            if devices_left {
                return;
            }
            self.away_or_leave(member, c.address, why, now, fx);
        }
    }

    /// The member's last socket went without a goodbye: they are away for the presence grace
    /// (or leave at once without one, or when they said goodbye).
    pub(super) fn away_or_leave(
        &mut self,
        member: Member,
        address: Option<String>,
        why: &'static str,
        now: u64,
        fx: &mut Effects,
    ) {
        let grace = self.limits.presence_grace_ms;
        // A member who said goodbye is not coming back in a moment: no grace.
        if grace == 0 || why == LEFT {
            self.outbox.forget_member(&member.key);
            return self.announce_leave(&member, why, now, fx);
        }
        // A reload, a network blip, a deploy or an expired token: the member may be back in a
        // moment, so the others see them away, not gone.
        let until = now.saturating_add(grace);
        self.outbox.presence(
            to_json(&ServerFrame::Away {
                name: &member.name,
                at: now,
            }),
            None,
        );
        fx.log(
            LogLevel::Info,
            "away",
            serde_json::json!({"members": self.members.len(), "reason": why}),
        );
        self.outbox.remember_member(MemberRow {
            away_until: Some(until),
            ..member.row(address.clone())
        });
        self.away.insert(
            member.key.clone(),
            Away {
                member,
                address,
                until,
            },
        );
        self.want_alarm(until, fx);
    }

    /// The room ends `conn` with `code`: it stops being a member at once, and whatever it still
    /// sends is ignored (its attachment says so too, for a rebuilt room). Returns the member it
    /// was if they are gone with it (not still here on another device), for callers that
    /// announce the leave.
    pub(super) fn close_conn(
        &mut self,
        conn: ConnId,
        code: u16,
        reason: &'static str,
        fx: &mut Effects,
    ) -> Option<Member> {
        let c = self.conns.get_mut(&conn)?;
        if !c.closed && c.member.is_none() {
            self.quota.unjoined_done(c);
        }
        c.closed = true;
        let member = c.member.take();
        if member.is_some() {
            self.quota.member_left(c);
        }
        fx.attach.push((conn, c.attachment(conn)));
        fx.close(conn, code, reason);
        if let Some(member) = &member {
            let devices_left = self.unseat(conn, member);
            if devices_left {
                return None;
            }
            if code != crate::protocol::close::REPLACED {
                self.outbox.forget_member(&member.key);
            }
        }
        member
    }

    pub(super) fn announce_leave(
        &mut self,
        member: &Member,
        why: &str,
        now: u64,
        fx: &mut Effects,
    ) {
        if self.crowded() {
            self.crowd_left(&member.name);
        } else {
            self.outbox.presence(
                to_json(&ServerFrame::Leave {
                    name: &member.name,
                    at: now,
                }),
                None,
            );
        }
        self.presence_log.1 += 1;
        fx.log(
            LogLevel::Debug,
            "leave",
            serde_json::json!({"members": self.members.len(), "reason": why}),
        );
    }

    /// Takes `conn` off the member list. Returns whether the member is still here on another
    /// socket (device), which then holds their name.
    pub(super) fn unseat(&mut self, conn: ConnId, member: &Member) -> bool {
        self.members.retain(|c| *c != conn);
        let mut other = None;
        if let (true, Some(id)) = (member.verified, &member.session) {
            if let Some(devices) = self.identities.get_mut(id) {
                devices.retain(|c| *c != conn);
                other = devices.first().copied();
                if devices.is_empty() {
                    self.identities.remove(id);
                }
            }
        }
        match other {
            Some(other) => {
                if self.by_key.get(&member.key) == Some(&conn) {
                    self.by_key.insert(member.key.clone(), other);
                }
                true
            }
            None => {
                if self.by_key.get(&member.key) == Some(&conn) {
                    self.by_key.remove(&member.key);
                }
                false
            }
        }
    }
}
