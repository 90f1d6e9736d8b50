//! `join`: the first frame of every socket. Check the name and the limits, take the name over
//! from an older socket of the same session (or back from being away), then queue the welcome and
//! what the others hear.

use super::members::Member;
use super::{ConnId, Effects, Room};
use crate::config::LogLevel;
use crate::digest::digest_hex;
use crate::protocol::{close, to_json, ErrorCode, ErrorFrame, ServerFrame};
use crate::token::{self, Mode};
use crate::validate;

/// The secrets a join may carry.
pub(super) struct Keys<'a> {
    pub session: Option<&'a str>,
    pub owner: Option<&'a str>,
    /// A signed join token (`crate::token`).
    pub token: Option<&'a str>,
}

/// Whose seat a join takes, if the name is held.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seat {
    New,
    /// A newer socket of the same session: the old one is closed, quietly.
    Replace(ConnId),
    /// A member who was away (their socket dropped) is back within the presence grace.
    Return,
    /// Another socket (device) of a verified member who is here: the same member, quietly.
    Device(ConnId),
}

struct Admitted {
    name: String,
    key: String,
    session: Option<String>,
    owner: bool,
    verified: bool,
    /// When the join token runs out (unix ms).
    expires_at: Option<u64>,
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
        let address = c.address.clone();
        let claims = self.vouched(address.as_deref(), keys.token, now)?;
        let (name, session) = match &claims {
            // The token says who this is: the join's name and session are not asked.
            Some(claims) => (claims.name.clone(), Some(token::identity(&claims.sub))),
            None => (
                validate::member_name(raw_name)
                    .map_err(|why| error(ErrorCode::InvalidName, why))?
                    .to_string(),
                keys.session
                    .map(validate::session)
                    .transpose()
                    .map_err(|why| error(ErrorCode::BadRequest, why))?
                    .map(|secret| digest_hex(secret, 64)),
            ),
        };
        let verified = claims.is_some();
        let mut key = validate::name_key(&name);
        let identity = session.as_deref().filter(|_| verified);
        // Who holds the name now, and may this join take it? A guest's session and a verified
        // member's sub are both `session`, but a guest never matches a verified member's seat.
        let same = |theirs: &super::members::Member| {
            theirs.verified == verified
                && matches!((&session, &theirs.session), (Some(a), Some(b)) if a == b)
        };
        // A verified member who is here already, maybe under another name: one more device.
        let device = identity.and_then(|id| self.holder_of(id));
        // Or away, maybe under another name: they come back as who they were.
        if let (None, Some(id)) = (device, identity) {
            let away = self
                .away
                .iter()
                .find(|(_, a)| a.member.verified && a.member.session.as_deref() == Some(id));
            if let Some((away_key, _)) = away {
                key.clone_from(away_key);
            }
        }
        let (seat, was_owner) = if let Some(primary) = device {
            let held = self.member(primary);
            // The member keeps the name they joined with first.
            if let Some(m) = held {
                key.clone_from(&m.key);
            }
            (Seat::Device(primary), held.is_some_and(|m| m.owner))
        } else if let Some(&holder) = self.by_key.get(&key) {
            let held = self.member(holder);
            if !held.is_some_and(same) {
                return Err(error(
                    ErrorCode::NameTaken,
                    "that name is taken in this room",
                ));
            }
            (Seat::Replace(holder), held.is_some_and(|m| m.owner))
        } else if let Some(away) = self.away.get(&key) {
            if !same(&away.member) {
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
            None => {
                was_owner
                    || claims.as_ref().is_some_and(|c| c.owner)
                    || (identity.is_some() && self.state.owner_identity.as_deref() == identity)
            }
        };
        // Checked once the seat and the owner are known: the owner is never kept out, and an
        // address ban keeps out only new guests (`RoomState::banned`).
        let new_guest = seat == Seat::New && !verified;
        let ban = self
            .state
            .banned(&key, identity, address.as_deref(), new_guest, now);
        if let (false, Some(left_ms)) = (owner, ban) {
            let mut e = error(
                ErrorCode::Banned,
                "the room's owner removed this name; try again later",
            );
            e.retry_after_ms = Some(left_ms);
            return Err(e);
        }
        if seat == Seat::New {
            if self.by_key.len() + self.away.len() >= self.limits.max_members {
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
        // (A join with a token was counted before its check.)
        let taken = match claims {
            Some(_) => Ok(()),
            None => self.quota.join(address.as_deref(), now, &self.limits),
        };
        if let Err(retry_after_ms) = taken {
            let mut e = error(
                ErrorCode::RateLimited,
                "too many joins from your network; try again later",
            );
            e.retry_after_ms = Some(retry_after_ms);
            return Err(e);
        }
        let name = match seat {
            Seat::Device(primary) => self.member(primary).map_or(name, |m| m.name.clone()),
            Seat::Return if verified => self.away.get(&key).map_or(name, |a| a.member.name.clone()),
            _ => name,
        };
        Ok(Admitted {
            name,
            key,
            session,
            owner,
            verified,
            expires_at: claims.as_ref().map(token::Claims::expires_at_ms),
            seat,
        })
    }

    /// The join's token, checked: `None` for a guest. Refusals are `unauthorized`, naming the
    /// rule, and change nothing (the socket may send a corrected join). Each check takes a join
    /// token from the client's `address` first: a signature check costs CPU, and a flood of
    /// forged tokens is a flood of joins.
    pub(super) fn vouched(
        &mut self,
        address: Option<&str>,
        token: Option<&str>,
        now: u64,
    ) -> Result<Option<token::Claims>, ErrorFrame> {
        let unauthorized = |why: &'static str| ErrorFrame::new(ErrorCode::Unauthorized, why);
        let settings = &self.limits.tokens;
        match (settings.mode, token) {
            // Tokens are off: names as typed, a token is ignored.
            (Mode::Off, _) | (Mode::Optional, None) => Ok(None),
            (Mode::Required, None) => Err(unauthorized(
                "this room needs a join token (JOIN_TOKENS is required)",
            )),
            (Mode::Optional | Mode::Required, Some(t)) => {
                if let Err(retry_after_ms) = self.quota.join(address, now, &self.limits) {
                    let mut e = ErrorFrame::new(
                        ErrorCode::RateLimited,
                        "too many joins from your network; try again later",
                    );
                    e.retry_after_ms = Some(retry_after_ms);
                    return Err(e);
                }
                let settings = &self.limits.tokens;
                let claims = token::verify(t, settings, now).map_err(|r| unauthorized(r.0))?;
                claims.for_room(&self.name).map_err(|r| unauthorized(r.0))?;
                Ok(Some(claims))
            }
        }
    }

    /// A socket of the verified member `identity`, if they are here.
    fn holder_of(&self, identity: &str) -> Option<ConnId> {
        self.identities.get(identity)?.first().copied()
    }

    /// The sockets (devices) of the member whose socket `conn` is: a verified member's, in join
    /// order, or a guest's one.
    pub(super) fn devices(&self, conn: ConnId) -> Vec<ConnId> {
        match self.member(conn) {
            Some(m) if m.verified => m
                .session
                .as_ref()
                .and_then(|id| self.identities.get(id))
                .cloned()
                .unwrap_or_default(),
            Some(_) => vec![conn],
            None => Vec::new(),
        }
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
            verified,
            expires_at,
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
            Seat::Device(primary) => self.member(primary).map_or(self.next_order, |m| m.order),
            Seat::New => self.next_order,
        };
        self.next_order = self.next_order.max(order.saturating_add(1));
        match seat {
            Seat::Replace(old) => {
                self.close_conn(old, close::REPLACED, "session taken over", fx);
            }
            Seat::Device(primary) => {
                // Past the cap, the member's oldest socket goes (a device left logged in).
                let cap = self.limits.member_sockets_max;
                let mut devices = self.devices(primary);
                while cap > 0 && devices.len() >= cap {
                    // The oldest socket by when it connected (no sort: a handful of devices).
                    let conns = &self.conns;
                    let oldest = devices
                        .iter()
                        .copied()
                        .min_by_key(|c| conns.get(c).map_or(0, |c| c.accepted_at));
                    let Some(oldest) = oldest else { break };
                    self.close_conn(oldest, close::REPLACED, "too many devices", fx);
                    devices.retain(|c| *c != oldest);
                }
            }
            Seat::Return => self.outbox.presence(
                to_json(&ServerFrame::Back {
                    name: &name,
                    at: now,
                    verified,
                    owner,
                }),
                Some(conn),
            ),
            Seat::New if self.crowded() => self.crowd_joined(&name, verified),
            Seat::New => self.outbox.presence(
                to_json(&ServerFrame::Join {
                    name: &name,
                    at: now,
                    verified,
                    owner,
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
        // A device joins the member whose name another socket holds (unless the cap just closed
        // every other one).
        if !matches!(seat, Seat::Device(_)) || !self.by_key.contains_key(&key) {
            self.by_key.insert(key.clone(), conn);
        }
        if let (true, Some(id)) = (verified, &session) {
            self.identities.entry(id.clone()).or_default().push(conn);
        }
        let member = Member {
            name,
            key,
            order,
            session,
            owner,
            verified,
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.expires_at = expires_at;
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
            Seat::Device(_) => "device",
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
        if let Some(at) = expires_at {
            self.want_alarm(at, fx);
        }
    }
}
