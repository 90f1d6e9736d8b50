//! The room's alarm: sockets that never joined, members who went silent, and join tokens that
//! ran out.
//!
//! One alarm per room (the runtime keeps one), set for the earliest deadline. An idle room keeps
//! hibernating between alarms: the runtime answers pings without waking it and tells the alarm
//! when it last did ([`super::Event::Alarm`]'s `heard`).

use super::{ConnId, Effects, Room};
use crate::protocol::close;

impl Room {
    pub(super) fn alarm(&mut self, heard: &[(ConnId, u64)], now: u64, fx: &mut Effects) {
        self.alarm = None;
        for &(conn, at) in heard {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.last_heard = c.last_heard.max(at);
            }
        }
        let (join_timeout, idle_timeout) =
            (self.limits.join_timeout_ms, self.limits.idle_timeout_ms);
        let mut unjoined = Vec::new();
        let mut idle = Vec::new();
        let mut expired = Vec::new();
        for (&conn, c) in &self.conns {
            if c.closed {
                continue;
            }
            if c.member.is_some() && c.expires_at.is_some_and(|at| at <= now) {
                expired.push(conn);
            } else if c.member.is_none() && c.accepted_at.saturating_add(join_timeout) <= now {
                unjoined.push(conn);
            } else if c.member.is_some()
                && idle_timeout > 0
                && c.last_heard.saturating_add(idle_timeout) <= now
            {
                idle.push(conn);
            }
        }
        // Deterministic order: the same events give the same frames.
        unjoined.sort_unstable();
        idle.sort_unstable();
        expired.sort_unstable();
        // A token that ran out unrenewed: the member gets a new one and rejoins with `since`,
        // within the presence grace as quietly as any reconnect.
        for conn in expired {
            let address = self.conns.get(&conn).and_then(|c| c.address.clone());
            if let Some(member) = self.close_conn(conn, close::TOKEN_EXPIRED, "token expired", fx) {
                self.away_or_leave(member, address, "token expired", now, fx);
            }
        }
        for conn in unjoined {
            self.close_conn(conn, close::JOIN_TIMEOUT, "join timeout", fx);
        }
        for conn in idle {
            if let Some(member) = self.close_conn(conn, close::IDLE, "idle", fx) {
                self.announce_leave(&member, "idle", now, fx);
            }
        }
        // Away members who did not come back within the presence grace have left.
        let mut gone: Vec<_> = self
            .away
            .iter()
            .filter(|(_, a)| a.until <= now)
            .map(|(key, a)| (a.member.order, key.clone()))
            .collect();
        gone.sort_unstable();
        for (_, key) in gone {
            if let Some(away) = self.away.remove(&key) {
                self.outbox.forget_member(&key);
                self.announce_leave(&away.member, "away", now, fx);
            }
        }
        self.quota.prune(now, &self.limits);
        if let Some(at) = self.next_deadline() {
            self.want_alarm(at, fx);
        }
    }

    /// When the next socket's join deadline or member's idle deadline passes, if any.
    pub(super) fn next_deadline(&self) -> Option<u64> {
        let (join_timeout, idle_timeout) =
            (self.limits.join_timeout_ms, self.limits.idle_timeout_ms);
        let sockets = self.conns.values().filter(|c| !c.closed).filter_map(|c| {
            let idle = match &c.member {
                None => return Some(c.accepted_at.saturating_add(join_timeout)),
                Some(_) if idle_timeout > 0 => Some(c.last_heard.saturating_add(idle_timeout)),
                Some(_) => None,
            };
            idle.into_iter().chain(c.expires_at).min()
        });
        sockets.chain(self.away.values().map(|a| a.until)).min()
    }
}
