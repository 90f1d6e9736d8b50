//! `join`: the first frame of every socket. Check the name and the limits, take over the name
//! from an older socket of the same session, then queue the welcome and the announcement.

use super::members::{digest_hex, Member};
use super::{ConnId, Effects, Room};
use crate::config::LogLevel;
use crate::protocol::{close, to_json, ErrorCode, ErrorFrame, ServerFrame};
use crate::validate;

impl Room {
    pub(super) fn join(
        &mut self,
        conn: ConnId,
        raw_name: &str,
        since: Option<u64>,
        session: Option<&str>,
        now: u64,
        fx: &mut Effects,
    ) {
        match self.admit(conn, raw_name, session, now) {
            Ok(admitted) => self.seat(conn, admitted, since, now, fx),
            Err(error) => self.reject(conn, error, now, fx),
        }
    }

    /// Decides whether `conn` may join under `raw_name`, changing nothing but the join quota.
    fn admit(
        &mut self,
        conn: ConnId,
        raw_name: &str,
        session: Option<&str>,
        now: u64,
    ) -> Result<Admitted, ErrorFrame> {
        let error = ErrorFrame::new;
        let Some(c) = self.conns.get(&conn) else {
            return Err(error(ErrorCode::BadRequest, "unknown connection"));
        };
        if c.member.is_some() {
            return Err(error(ErrorCode::BadRequest, "already joined"));
        }
        let name = validate::member_name(raw_name)
            .map_err(|why| error(ErrorCode::InvalidName, why))?
            .to_string();
        let session = session
            .map(validate::session)
            .transpose()
            .map_err(|why| error(ErrorCode::BadRequest, why))?
            .map(|secret| digest_hex(secret, 64));
        let key = validate::name_key(&name);

        // Who holds the name now, and may this join take it over?
        let mut replaces = None;
        if let Some(&holder) = self.by_key.get(&key) {
            match (
                &session,
                self.member(holder).and_then(|m| m.session.as_ref()),
            ) {
                (Some(mine), Some(theirs)) if mine == theirs => replaces = Some(holder),
                _ => {
                    return Err(error(
                        ErrorCode::NameTaken,
                        "that name is taken in this room",
                    ))
                }
            }
        }
        let address = c.address.clone();
        if replaces.is_none() {
            if self.members.len() >= self.limits.max_members {
                return Err(error(ErrorCode::RoomFull, "this room is full"));
            }
            if self.quota.address_full(address.as_deref(), &self.limits) {
                return Err(error(
                    ErrorCode::AddressLimit,
                    "too many members from your network are in this room",
                ));
            }
        }
        // Counted for takeovers too: reconnecting in a loop is how a flood would get round it.
        if let Err(retry_after_ms) = self.quota.join(address.as_deref(), now, &self.limits) {
            let mut e = error(
                ErrorCode::RateLimited,
                "too many joins from your network; try again later",
            );
            e.retry_after_ms = Some(retry_after_ms);
            return Err(e);
        }
        Ok(Admitted {
            name,
            key,
            session,
            replaces,
        })
    }

    /// Makes `conn` a member and queues what everyone hears of it.
    fn seat(
        &mut self,
        conn: ConnId,
        admitted: Admitted,
        since: Option<u64>,
        now: u64,
        fx: &mut Effects,
    ) {
        let Admitted {
            name,
            key,
            session,
            replaces,
        } = admitted;
        // A takeover keeps the member's place in the list and is quiet: nobody saw them leave.
        let order = match replaces.and_then(|old| self.member(old)) {
            Some(old) => old.order,
            None => self.next_order,
        };
        self.next_order = self.next_order.max(order.saturating_add(1));
        if let Some(old) = replaces {
            let slot = self.members.iter().position(|c| *c == old);
            self.close_conn(old, close::REPLACED, "session taken over", fx);
            match slot {
                Some(i) => self.members.insert(i, conn),
                None => self.members.push(conn),
            }
        } else {
            self.members.push(conn);
            self.outbox.presence(
                to_json(&ServerFrame::Join {
                    name: &name,
                    at: now,
                }),
                Some(conn),
            );
        }
        self.by_key.insert(key.clone(), conn);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.member = Some(Member {
                name,
                key,
                order,
                session,
            });
            c.last_heard = now;
            self.quota.member_joined(c);
            fx.attach.push((conn, c.attachment(conn)));
        }
        self.outbox.welcome(conn, since);
        if replaces.is_none() {
            self.presence_log.0 += 1;
        }
        // One line per join is a third of a join's cost in a crowd (bench/README.md): the
        // flush logs the sum at info, each join is a debug line.
        fx.log(
            LogLevel::Debug,
            if replaces.is_some() {
                "takeover"
            } else {
                "join"
            },
            serde_json::json!({"members": self.members.len()}),
        );
        if self.limits.idle_timeout_ms > 0 {
            self.want_alarm(now.saturating_add(self.limits.idle_timeout_ms), fx);
        }
    }
}

struct Admitted {
    name: String,
    key: String,
    session: Option<String>,
    replaces: Option<ConnId>,
}
