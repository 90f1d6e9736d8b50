//! Someone in charge of the room: the owner (who joined with the room's owner key, or the
//! operator's `MODERATOR_KEY`) can delete any message, kick a member, lock the room to new joins
//! and set its topic and display name (its title). Every action is a change in the room's log, so it is announced to everyone
//! and replayed to members who resume.

use super::{ConnId, Effects, Room};
use crate::config::LogLevel;
use crate::protocol::{close, to_json, Change, ErrorCode, ErrorFrame, ServerFrame};
use crate::validate;
use serde::{Deserialize, Serialize};

/// The most characters a topic has.
pub const MAX_TOPIC: usize = 200;

/// The most characters a room's display name (its title) has.
pub const MAX_TITLE: usize = 64;

/// The room's own state, kept in storage beside the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomState {
    pub topic: String,
    /// The display name the owner gave the room (`""`: none; clients show the id).
    pub title: String,
    pub locked: bool,
    /// SHA-256 of the owner key `POST /api/rooms` handed out (private rooms only).
    pub owner_hash: Option<String>,
    /// The identity (digest of the `sub`) whose bearer token made the room: its first owner.
    pub owner_identity: Option<String>,
    pub bans: Vec<Ban>,
}

/// A kicked member's name key and address may not join again until `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub key: String,
    #[serde(default)]
    pub address: Option<String>,
    /// A verified member's identity (the digest of their `sub`): banned whatever name or
    /// address they come back with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub until: u64,
}

impl Ban {
    /// Reads a stored ban back as its derived `Deserialize` would ([`crate::fields`]).
    pub fn read(value: &serde_json::Value) -> Option<Ban> {
        let f = crate::fields::Fields::of(value)?;
        Some(Ban {
            key: f.string("key")?,
            address: f.opt_string("address")?,
            identity: f.opt_string("identity")?,
            until: f.u64("until")?,
        })
    }

    /// A stored list of bans; `None` when any of them does not read.
    pub fn read_list(text: &str) -> Option<Vec<Ban>> {
        let list = serde_json::from_str::<serde_json::Value>(text).ok()?;
        list.as_array()?.iter().map(Ban::read).collect()
    }
}

impl RoomState {
    /// Reads the state from storage's key-value lookup (`topic`, `locked`, `owner`, `bans`).
    pub fn load(get: impl Fn(&str) -> Option<String>) -> Self {
        RoomState {
            topic: get("topic").unwrap_or_default(),
            title: get("title").unwrap_or_default(),
            locked: get("locked").is_some_and(|v| v == "true"),
            owner_hash: get("owner"),
            owner_identity: get("owner_sub"),
            bans: get("bans")
                .and_then(|v| Ban::read_list(&v))
                .unwrap_or_default(),
        }
    }

    /// The ban that keeps this join out, if one is running: how long it has left.
    ///
    /// A ban follows the kicked person: their name key, and a verified member's identity. The
    /// address only stands for a guest who may come back under a new name, so it is checked only
    /// for a `new_guest` (a guest taking a new seat): never for a verified member (their `sub`
    /// is banned instead), nor for members here or away, who share the address but were not
    /// kicked. The room's owner is never kept out (the caller does not ask).
    pub fn banned(
        &self,
        key: &str,
        identity: Option<&str>,
        address: Option<&str>,
        new_guest: bool,
        now: u64,
    ) -> Option<u64> {
        let same = |theirs: Option<&str>, ours: Option<&str>| ours.is_some() && theirs == ours;
        let address = address.filter(|_| new_guest);
        self.bans
            .iter()
            .filter(|b| b.until > now)
            .filter(|b| {
                b.key == key
                    || same(b.address.as_deref(), address)
                    || same(b.identity.as_deref(), identity)
            })
            .map(|b| b.until - now)
            .max()
    }
}

impl Room {
    /// Whether `conn` may act as the owner; the error to send if not.
    fn owner_of(&self, conn: ConnId) -> Result<String, ErrorFrame> {
        match self.member(conn) {
            Some(m) if m.owner => Ok(m.name.clone()),
            Some(_) => Err(ErrorFrame::new(
                ErrorCode::Forbidden,
                "only the room's owner can do that",
            )),
            None => Err(ErrorFrame::new(ErrorCode::NotJoined, "join the room first")),
        }
    }

    pub(super) fn kick(&mut self, conn: ConnId, raw_name: &str, now: u64, fx: &mut Effects) {
        let by = match self.owner_of(conn) {
            Ok(by) => by,
            Err(e) => return self.reject(conn, e, now, fx),
        };
        let key = validate::name_key(raw_name.trim());
        let present = self.by_key.get(&key).copied();
        let target = match present {
            Some(target) => self.member(target).map(|m| m.name.clone()),
            None => self.away.get(&key).map(|a| a.member.name.clone()),
        };
        let Some(target_name) = target else {
            let error = ErrorFrame::new(ErrorCode::NotFound, "no member has that name");
            return self.reject(conn, error, now, fx);
        };
        if self.member(conn).is_some_and(|m| m.key == key) {
            let error = ErrorFrame::new(ErrorCode::Forbidden, "you cannot kick yourself");
            return self.reject(conn, error, now, fx);
        }
        let identity = match present {
            Some(target) => self.member(target),
            None => self.away.get(&key).map(|a| &a.member),
        }
        .filter(|m| m.verified)
        .and_then(|m| m.session.clone());
        let until = now.saturating_add(self.limits.kick_ban_ms);
        // What the kicked client shows: who, from which room, until when.
        let kicked = to_json(&ServerFrame::Kicked {
            room: &self.name,
            title: &self.state.title,
            name: &by,
            at: now,
            retry_after_ms: self.limits.kick_ban_ms,
        });
        let address = match present {
            Some(target) => {
                let address = self.conns.get(&target).and_then(|c| c.address.clone());
                // Every device of the member goes.
                for device in self.devices(target) {
                    self.close_conn(device, close::KICKED, "kicked", fx);
                }
                for c in fx.close.iter_mut().filter(|c| c.code == close::KICKED) {
                    c.last = Some(kicked.clone());
                }
                address
            }
            None => self.away.remove(&key).and_then(|a| a.address),
        };
        self.state.bans.retain(|b| b.until > now);
        self.state.bans.push(Ban {
            key: key.clone(),
            address,
            identity,
            until,
        });
        self.outbox.meta("bans", to_json(&self.state.bans));
        self.outbox.forget_member(&key);
        let id = self.history.next_id();
        self.outbox.change(
            conn,
            Change::Kick {
                id,
                target: target_name.clone(),
                name: by,
                at: now,
            },
        );
        self.outbox.presence(
            to_json(&ServerFrame::Leave {
                name: &target_name,
                at: now,
            }),
            None,
        );
        fx.log(
            LogLevel::Info,
            "kick",
            serde_json::json!({"members": self.member_count(), "ban_ms": self.limits.kick_ban_ms}),
        );
    }

    pub(super) fn lock(&mut self, conn: ConnId, locked: bool, now: u64, fx: &mut Effects) {
        let by = match self.owner_of(conn) {
            Ok(by) => by,
            Err(e) => return self.reject(conn, e, now, fx),
        };
        self.state.locked = locked;
        self.outbox.meta("locked", locked.to_string());
        let id = self.history.next_id();
        self.outbox.change(
            conn,
            Change::Lock {
                id,
                locked,
                name: by,
                at: now,
            },
        );
        fx.log(
            LogLevel::Info,
            "lock",
            serde_json::json!({ "locked": locked }),
        );
    }

    pub(super) fn topic(&mut self, conn: ConnId, text: &str, now: u64, fx: &mut Effects) {
        let by = match self.owner_of(conn) {
            Ok(by) => by,
            Err(e) => return self.reject(conn, e, now, fx),
        };
        let text = text.trim();
        if text.chars().count() > MAX_TOPIC || text.chars().any(char::is_control) {
            let error = ErrorFrame::new(
                ErrorCode::InvalidMessage,
                "a topic is at most 200 characters, without control characters",
            );
            return self.reject(conn, error, now, fx);
        }
        self.state.topic = text.to_string();
        self.outbox.meta("topic", text.to_string());
        let id = self.history.next_id();
        self.outbox.change(
            conn,
            Change::Topic {
                id,
                text: text.to_string(),
                name: by,
                at: now,
            },
        );
        fx.log(LogLevel::Info, "topic", serde_json::json!({}));
    }
}

impl Room {
    /// The room's display name: shown instead of its id (a private room's is 64 hex digits).
    /// The same text rules as a topic, at most [`MAX_TITLE`] characters.
    pub(super) fn title(&mut self, conn: ConnId, text: &str, now: u64, fx: &mut Effects) {
        let by = match self.owner_of(conn) {
            Ok(by) => by,
            Err(e) => return self.reject(conn, e, now, fx),
        };
        let text = text.trim();
        if text.chars().count() > MAX_TITLE || text.chars().any(char::is_control) {
            let error = ErrorFrame::new(
                ErrorCode::InvalidMessage,
                "a title is at most 64 characters, without control characters",
            );
            return self.reject(conn, error, now, fx);
        }
        self.state.title = text.to_string();
        self.outbox.meta("title", text.to_string());
        let id = self.history.next_id();
        self.outbox.change(
            conn,
            Change::Title {
                id,
                text: text.to_string(),
                name: by,
                at: now,
            },
        );
        fx.log(LogLevel::Info, "title", serde_json::json!({}));
    }
}
