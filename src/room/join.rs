//! `join`: the first frame of every socket. Check the name and the limits, take the name over
//! from an older socket of the same session (or back from being away), then queue the welcome and
//! what the others hear.

use super::members::{digest_hex, Member};
use super::{ConnId, Effects, Room};
use crate::config::LogLevel;
use crate::protocol::{close, to_json, ErrorCode, ErrorFrame, ServerFrame};
use crate::validate;

/// The secrets a join may carry.
pub(super) struct Keys<'a> {
    pub session: Option<&'a str>,
    pub owner: Option<&'a str>,
}

/// Whose seat a join takes, if the name is held.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seat {
    New,
    /// A newer socket of the same session: the old one is closed, quietly.
    Replace(ConnId),
    /// A member who was away (their socket dropped) is back within the presence grace.
    Return,
}

struct Admitted {
    name: String,
    key: String,
    session: Option<String>,
    owner: bool,
    seat: Seat,
}

impl Room {
    pub(super) fn join(
        &mut self,
        conn: ConnId,
        raw_name: &str,
        since: Option<u64>,
        keys: Keys<'_>,
        now: u64,
        fx: &mut Effects,
    ) {
        match self.admit(conn, raw_name, keys, now) {
            Ok(admitted) => self.seat(conn, admitted, since, now, fx),
            Err(error) => self.reject(conn, error, now, fx),
        }
    }

    /// Decides whether `conn` may join under `raw_name`, changing nothing but the join quota.
    fn admit(
        &mut self,
        conn: ConnId,
        raw_name: &str,
        keys: Keys<'_>,
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
        let session = keys
            .session
            .map(validate::session)
            .transpose()
            .map_err(|why| error(ErrorCode::BadRequest, why))?
            .map(|secret| digest_hex(secret, 64));
        let key = validate::name_key(&name);
        let address = c.address.clone();
        if let Some(left_ms) = self.state.banned(&key, address.as_deref(), now) {
            let mut e = error(
                ErrorCode::Banned,
                "the room's owner removed this name; try again later",
            );
            e.retry_after_ms = Some(left_ms);
            return Err(e);
        }

        // Who holds the name now, and may this join take it?
        let same =
            |theirs: Option<&String>| matches!((&session, theirs), (Some(a), Some(b)) if a == b);
        let (seat, was_owner) = if let Some(&holder) = self.by_key.get(&key) {
            let held = self.member(holder);
            if !same(held.and_then(|m| m.session.as_ref())) {
                return Err(error(
                    ErrorCode::NameTaken,
                    "that name is taken in this room",
                ));
            }
            (Seat::Replace(holder), held.is_some_and(|m| m.owner))
        } else if let Some(away) = self.away.get(&key) {
            if !same(away.member.session.as_ref()) {
                return Err(error(
                    ErrorCode::NameTaken,
                    "that name is taken in this room",
                ));
            }
            (Seat::Return, away.member.owner)
        } else {
            (Seat::New, false)
        };

        let owner = match keys.owner.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => {
                let hash = digest_hex(key, 64);
                let room_key = self.state.owner_hash.as_ref() == Some(&hash);
                if !room_key && self.limits.moderator_hash.as_ref() != Some(&hash) {
                    return Err(error(
                        ErrorCode::Forbidden,
                        "that is not this room's owner key",
                    ));
                }
                true
            }
            // The session proves it is the same person: an owner stays owner across reconnects.
            None => was_owner,
        };
        if seat == Seat::New {
            if self.members.len() + self.away.len() >= self.limits.max_members {
                return Err(error(ErrorCode::RoomFull, "this room is full"));
            }
            if self.state.locked && !owner {
                return Err(error(
                    ErrorCode::RoomLocked,
                    "this room is locked to new members",
                ));
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
            owner,
            seat,
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
            owner,
            seat,
        } = admitted;
        // A takeover or a return keeps the member's place in the list and is quiet: nobody saw
        // them leave.
        let order = match seat {
            Seat::Replace(old) => self.member(old).map_or(self.next_order, |m| m.order),
            Seat::Return => self
                .away
                .remove(&key)
                .map_or(self.next_order, |a| a.member.order),
            Seat::New => self.next_order,
        };
        self.next_order = self.next_order.max(order.saturating_add(1));
        match seat {
            Seat::Replace(old) => {
                self.close_conn(old, close::REPLACED, "session taken over", fx);
            }
            Seat::Return => self.outbox.presence(
                to_json(&ServerFrame::Back {
                    name: &name,
                    at: now,
                }),
                Some(conn),
            ),
            Seat::New if self.crowded() => self.crowd_joined(&name),
            Seat::New => self.outbox.presence(
                to_json(&ServerFrame::Join {
                    name: &name,
                    at: now,
                }),
                Some(conn),
            ),
        }
        // In join order: a takeover or a return slots in where the member was.
        let conns = &self.conns;
        let at = self.members.partition_point(|c| {
            conns
                .get(c)
                .and_then(|c| c.member.as_ref())
                .is_some_and(|m| m.order < order)
        });
        self.members.insert(at, conn);
        self.by_key.insert(key.clone(), conn);
        let member = Member {
            name,
            key,
            order,
            session,
            owner,
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            self.outbox.remember_member(member.row(c.address.clone()));
            c.member = Some(member);
            c.last_heard = now;
            self.quota.unjoined_done(c);
            self.quota.member_joined(c);
            fx.attach.push((conn, c.attachment(conn)));
        }
        self.outbox.welcome(conn, since);
        let event = match seat {
            Seat::New => {
                self.presence_log.0 += 1;
                "join"
            }
            Seat::Replace(_) => "takeover",
            Seat::Return => "back",
        };
        // One line per join is a third of a join's cost in a crowd (bench/README.md): the
        // flush logs the sum at info, each join is a debug line.
        fx.log(
            LogLevel::Debug,
            event,
            serde_json::json!({"members": self.members.len(), "owner": owner}),
        );
        if self.limits.idle_timeout_ms > 0 {
            self.want_alarm(now.saturating_add(self.limits.idle_timeout_ms), fx);
        }
    }
}
