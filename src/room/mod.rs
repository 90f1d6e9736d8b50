//! One chat room as plain Rust: the room decides everything, the shell carries it out.
//!
//! Every runtime event takes the same path:
//! 1. [`Room::handle`] takes an [`Event`] (a socket connected, a frame arrived, a socket went away,
//!    the alarm rang) and decides: it changes membership, assigns message ids, and queues the
//!    frames it wants sent in its outbox (`outbox.rs`). It returns the [`Effects`] that cannot wait
//!    (attachments to persist, sockets to close) and asks for a flush.
//! 2. [`Room::flush`] runs once per burst of events: it stores the burst's messages through the
//!    [`Store`] in one write and then, and only for what was stored, packs the outbox into one
//!    batch per recipient.
//!
//! Each client frame has its own module with the same shape (check, decide, queue): `join.rs`,
//! `message.rs`, `typing.rs`, `edit.rs` (edit and delete), `react.rs`, `moderation.rs` (kick,
//! lock, topic), `auth.rs` (a join token's renewal), `read.rs` (read positions), `upload.rs`
//! (upload tickets, a message's files); `mentions.rs` resolves a text's `@name`s; `leave.rs` and
//! `deadline.rs` handle sockets that go away (away, then leave) or time out; `quota.rs` holds the
//! limits that survive reconnects; `crowd.rs` turns presence into a count in a very large room;
//! `remembered.rs` holds the stored member rows, read at a rebuild only for members no socket holds.
//!
//! The room's memory is only a cache of two durable sources, so a room object that hibernates or
//! is rebuilt by the runtime loses nothing:
//! - who is here: each socket's [`Attachment`] (kept by the runtime across hibernation), replayed
//!   with [`Room::restore`];
//! - what was said: the stored history, whose newest rows seed [`Room::new`].

mod auth;
mod crowd;
mod deadline;
mod edit;
mod effects;
mod flush;
mod history;
mod join;
mod leave;
mod members;
pub mod mentions;
mod message;
mod moderation;
mod outbox;
mod quota;
mod react;
mod read;
mod remembered;
mod typing;
mod upload;

pub use effects::{Batch, Close, Debug, Effects, Event, LogLine};
pub use history::{Posted, Store, StoreError, StoredHistory, Trim, WriteBatch, WELCOME_HISTORY};
pub use leave::LEFT;
pub use members::{Attachment, MemberRecord, MemberRow};
pub use moderation::{Ban, RoomState, MAX_TITLE, MAX_TOPIC};
pub use outbox::{MAX_BATCH_BYTES, MAX_BATCH_FRAMES};
pub use remembered::StoredMember;

use crate::config::{Limits, LogLevel};
use crate::protocol::{close, to_json, ClientFrame, ErrorCode, ErrorFrame, ServerFrame};
use history::History;
use members::{Away, Conn, Member};
use outbox::Outbox;
use quota::Quota;
use std::collections::HashMap;

/// Identifies one socket within one room object. Stored in the socket's attachment.
pub type ConnId = u32;

/// Rejected frames are logged at most once per connection per this interval, with a count.
const REJECTION_LOG_INTERVAL_MS: u64 = 60_000;

/// A room's live state. See the module docs.
#[derive(Debug)]
pub struct Room {
    limits: Limits,
    /// The room's display name (`lobby`, or a private room's hex id), for welcomes.
    name: String,
    conns: HashMap<ConnId, Conn>,
    /// Name key (see [`crate::validate::name_key`]) → the member's connection (for a member on
    /// several devices, one of them): one entry per member who is here.
    by_key: HashMap<String, ConnId>,
    /// Members' connections in join order, every device of a member: the broadcast list.
    members: Vec<ConnId>,
    /// A verified member's identity (digest of their `sub`) → their sockets, in join order.
    identities: HashMap<String, Vec<ConnId>>,
    next_order: u64,
    history: History,
    quota: Quota,
    outbox: Outbox,
    /// Members whose socket dropped, by name key, keeping their seat for the presence grace.
    away: HashMap<String, Away>,
    state: RoomState,
    /// Members storage remembers, until [`Room::restore`] knows which of them have a socket.
    remembered: Vec<StoredMember>,
    /// The alarm time this instance asked for (the runtime keeps one alarm per room).
    alarm: Option<u64>,
    /// When presence frames last went out to the members (see `PRESENCE_BATCH_MS`).
    presence_sent_at: u64,
    /// Joins and leaves since the last `presence` log line.
    presence_log: (u32, u32),
    /// Presence as a count, past `PRESENCE_LIST_MAX` members.
    crowd: crowd::Crowd,
    /// Sockets that have not joined yet, and when they connected ([`Room::joining`]).
    joining: HashMap<ConnId, u64>,
    /// Members' read positions, by identity.
    reads: read::Reads,
    /// When the next unattached upload is due for deletion, as far as this instance knows: the
    /// alarm stays set for it when the last socket leaves (`upload.rs`).
    files_due: Option<u64>,
    /// The lowest message id with a file attached, once asked (`None`: not known): in a full room
    /// every burst trims, and most trims have no file to take (`upload.rs`).
    attached_floor: Option<Option<u64>>,
}

impl Room {
    pub fn new(limits: Limits, name: &str, mut stored: StoredHistory) -> Self {
        let state = std::mem::take(&mut stored.state);
        let remembered = std::mem::take(&mut stored.members);
        Room {
            limits,
            name: name.to_string(),
            conns: HashMap::new(),
            by_key: HashMap::new(),
            members: Vec::new(),
            identities: HashMap::new(),
            next_order: 0,
            history: History::new(stored),
            quota: Quota::default(),
            outbox: Outbox::default(),
            away: HashMap::new(),
            state,
            remembered,
            alarm: None,
            presence_sent_at: 0,
            presence_log: (0, 0),
            crowd: crowd::Crowd::default(),
            joining: HashMap::new(),
            reads: read::Reads::default(),
            files_due: None,
            attached_floor: None,
        }
    }

    /// Re-registers the open sockets from their attachments after the room object was
    /// (re)created. Sockets the room had closed stay closed; a member whose name is already held
    /// (only possible if a takeover's attachment update was lost) keeps its socket but not the name.
    pub fn restore(
        &mut self,
        attachments: impl IntoIterator<Item = Attachment>,
        now: u64,
    ) -> Effects {
        let mut fx = Effects::default();
        for attachment in attachments {
            let mut conn = Conn::new(attachment.accepted_at, attachment.address.clone());
            // We cannot know when a hibernated socket last spoke: count its idle time from now.
            conn.last_heard = now;
            conn.closed = attachment.closed;
            conn.expires_at = attachment.expires_at;
            if attachment.closed {
                fx.close(attachment.conn, close::REPLACED, "closed");
            } else if attachment.member.is_none() {
                // Counted as when it opened (a restored socket is never refused).
                self.quota.unjoined_opened(&conn, 0);
            } else if let Some(record) = attachment.member {
                let key = match &record.key {
                    Some(key) => key.clone(),
                    None => crate::validate::name_key(&record.name),
                };
                // A verified member's other devices share the name.
                let identity = record.session.clone().filter(|_| record.verified);
                let device = identity.as_ref().is_some_and(|id| {
                    self.by_key.get(&key).is_some_and(|&held| {
                        self.member(held)
                            .is_some_and(|m| m.verified && m.session.as_ref() == Some(id))
                    })
                });
                if device || !self.by_key.contains_key(&key) {
                    self.by_key.entry(key.clone()).or_insert(attachment.conn);
                    self.members.push(attachment.conn);
                    if let Some(id) = identity {
                        self.identities.entry(id).or_default().push(attachment.conn);
                    }
                    self.next_order = self.next_order.max(record.order.saturating_add(1));
                    conn.member = Some(Member {
                        name: record.name,
                        key,
                        order: record.order,
                        session: record.session,
                        owner: record.owner,
                        verified: record.verified,
                    });
                    self.quota.member_joined(&conn);
                }
            }
            self.conns.insert(attachment.conn, conn);
        }
        // Members storage remembers but no socket holds: the room object restarted under them
        // (a deploy). They are away, not gone, for the presence grace.
        for stored in std::mem::take(&mut self.remembered) {
            // Held by a socket (every member, after a wake): the row is not even parsed.
            if self.by_key.contains_key(&stored.key) {
                continue;
            }
            let Some(row) = stored.row() else {
                continue;
            };
            self.next_order = self.next_order.max(row.order.saturating_add(1));
            // Storage may be behind memory (a refused write dropped a leave and the joins that
            // took the seat): the sockets' members come first, and an away member only gets a
            // free seat, or a return would put the room over MAX_MEMBERS.
            let full = self.by_key.len() + self.away.len() >= self.limits.max_members;
            if self.limits.presence_grace_ms == 0 || full {
                self.outbox.forget_member(&row.key);
                continue;
            }
            // Away before the room object went: their grace runs on; else it starts now.
            let until = row
                .away_until
                .unwrap_or_else(|| now.saturating_add(self.limits.presence_grace_ms));
            let member = Member {
                name: row.name,
                key: row.key.clone(),
                order: row.order,
                session: row.session,
                owner: row.owner,
                verified: row.verified,
            };
            self.away.insert(
                row.key,
                Away {
                    member,
                    address: row.address,
                    until,
                },
            );
        }
        let conns = &self.conns;
        self.members.sort_by_key(|c| {
            conns
                .get(c)
                .and_then(|conn| conn.member.as_ref())
                .map_or(u64::MAX, |m| m.order)
        });
        if let Some(at) = self.next_deadline() {
            self.want_alarm(at, &mut fx);
        }
        fx
    }

    /// Handles one runtime event. Frames to send wait in the outbox until [`Room::flush`]. The
    /// store is read only for changes to messages older than the ones in memory.
    pub fn handle(&mut self, event: Event<'_>, now: u64, store: &mut dyn Store) -> Effects {
        let mut fx = Effects::default();
        match event {
            Event::Connect { conn, address } => self.connect(conn, address, now, &mut fx),
            Event::Frame { conn, text } => self.frame(conn, text, now, store, &mut fx),
            Event::Binary { conn } => {
                let error = ErrorFrame::new(
                    ErrorCode::BadRequest,
                    "binary frames are not supported; send JSON text",
                );
                if self.is_open(conn) {
                    self.reject(conn, error, now, &mut fx);
                }
            }
            Event::Heard { conn } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.last_heard = c.last_heard.max(now);
                }
            }
            Event::Oversized { conn } => {
                let error = crate::protocol::client::too_large(self.limits.max_frame_bytes);
                if self.is_open(conn) {
                    self.reject(conn, error, now, &mut fx);
                }
            }
            Event::Gone { conn, why } => self.leave(conn, why, now, &mut fx),
            Event::Alarm { heard } => {
                self.alarm(&heard, now, &mut fx);
                self.sweep_files(now, store, &mut fx);
            }
        }
        fx.flush = !self.outbox.is_empty() || self.crowd.pending() || self.reads.dirty();
        fx
    }

    fn connect(&mut self, conn: ConnId, address: Option<&str>, now: u64, fx: &mut Effects) {
        // Limits and bans hold per network, not per address string (`crate::address`).
        let address = address.map(|a| crate::digest::digest_hex(&crate::address::key(a), 16));
        let mut c = Conn::new(now, address);
        // Sockets that never join cost the room memory and keep it awake: one network holds
        // only a few at a time.
        if !self
            .quota
            .unjoined_opened(&c, self.limits.address_unjoined_max)
        {
            c.closed = true;
            fx.close(
                conn,
                close::JOIN_TIMEOUT,
                "too many sockets from your network have not joined",
            );
        }
        if !c.closed {
            self.joining.insert(conn, now);
        }
        fx.attach.push((conn, c.attachment(conn)));
        self.conns.insert(conn, c);
        self.want_alarm(now.saturating_add(self.limits.join_timeout_ms), fx);
    }

    /// Sockets that connected at `since` or later and have not joined: a crowd on its way in,
    /// which the relay threshold counts with the members (`crate::relay::ARRIVING_MS`). Older
    /// ones that still have not joined are idle and count no more.
    pub fn joining(&mut self, since: u64) -> usize {
        let conns = &self.conns;
        self.joining.retain(|conn, at| {
            *at >= since
                && conns
                    .get(conn)
                    .is_some_and(|c| c.member.is_none() && !c.closed)
        });
        self.joining.len()
    }

    /// One text frame: parse it, then hand it to the module of its type.
    fn frame(
        &mut self,
        conn: ConnId,
        text: &str,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        // A socket the room closed or replaced (or never saw) has no say any more.
        let Some(c) = self.conns.get_mut(&conn).filter(|c| !c.closed) else {
            return;
        };
        c.last_heard = now;
        let frame = match ClientFrame::parse_within(text, self.limits.max_frame_bytes) {
            Ok(frame) => frame,
            Err(error) => return self.reject(conn, error, now, fx),
        };
        match frame {
            ClientFrame::Join {
                name,
                since,
                session,
                owner_key,
                token,
            } => {
                let keys = join::Keys {
                    session: session.as_deref(),
                    owner: owner_key.as_deref(),
                    token: token.as_deref(),
                };
                self.join(conn, &name, since, keys, now, fx)
            }
            ClientFrame::Auth { token } => self.auth(conn, &token, now, fx),
            ClientFrame::Message {
                text,
                nonce,
                reply_to,
                files,
            } => {
                let new = message::New {
                    text: &text,
                    nonce: nonce.as_deref(),
                    reply_to,
                    files: &files,
                };
                self.message(conn, new, now, store, fx)
            }
            ClientFrame::Upload { name, size } => self.upload(conn, &name, size, now, store, fx),
            ClientFrame::Typing => self.typing(conn, now, fx),
            ClientFrame::Edit { id, text } => self.edit(conn, id, &text, now, store, fx),
            ClientFrame::Delete { id } => self.delete(conn, id, now, store, fx),
            ClientFrame::React { id, emoji } => self.react(conn, id, &emoji, now, store, fx),
            ClientFrame::Kick { name } => self.kick(conn, &name, now, fx),
            ClientFrame::Lock { locked } => self.lock(conn, locked, now, fx),
            ClientFrame::Topic { text } => self.topic(conn, &text, now, fx),
            ClientFrame::Read { id } => self.read(conn, id, store, now, fx),
            ClientFrame::DebugIndex { text } if self.limits.test_hooks => {
                fx.debug = Some(Debug::Index {
                    conn,
                    text: text.into_owned(),
                });
            }
            ClientFrame::Title { text } => self.title(conn, &text, now, fx),
            ClientFrame::DebugReset if self.limits.test_hooks => {
                self.outbox
                    .only(conn, to_json(&ServerFrame::DebugReset { ok: true }));
                fx.debug = Some(Debug::Reset);
            }
            ClientFrame::DebugFailWrites { on } if self.limits.test_hooks => {
                self.outbox
                    .only(conn, to_json(&ServerFrame::DebugFailWrites { on }));
                fx.debug = Some(Debug::FailWrites(on));
            }
            ClientFrame::DebugReset
            | ClientFrame::DebugFailWrites { .. }
            | ClientFrame::DebugIndex { .. } => {
                let error =
                    ErrorFrame::new(ErrorCode::BadRequest, crate::protocol::client::UNKNOWN_TYPE);
                self.reject(conn, error, now, fx)
            }
        }
    }

    /// Sends `error` to `conn` alone (the socket stays open) and logs it, at most once per
    /// connection per [`REJECTION_LOG_INTERVAL_MS`]: a flood of bad frames is not a flood of logs.
    fn reject(&mut self, conn: ConnId, error: ErrorFrame, now: u64, fx: &mut Effects) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.rejections += 1;
            let due = c
                .rejections_logged_at
                .is_none_or(|at| now.saturating_sub(at) >= REJECTION_LOG_INTERVAL_MS);
            if due {
                fx.log(
                    LogLevel::Info,
                    "rejected",
                    serde_json::json!({"code": error.code.as_str(), "count": c.rejections}),
                );
                c.rejections = 0;
                c.rejections_logged_at = Some(now);
            }
        }
        self.outbox.only(conn, to_json(&error));
    }

    /// Asks for the alarm by `at`, unless an earlier one is already set.
    fn want_alarm(&mut self, at: u64, fx: &mut Effects) {
        if self.alarm.is_none_or(|set| at < set) {
            self.alarm = Some(at);
            fx.alarm = Some(at);
        }
    }

    fn is_open(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| !c.closed)
    }

    fn member(&self, conn: ConnId) -> Option<&Member> {
        self.conns.get(&conn)?.member.as_ref()
    }

    /// The name `conn` joined as, if it is a member.
    pub fn member_name(&self, conn: ConnId) -> Option<&str> {
        self.member(conn).map(|m| m.name.as_str())
    }

    /// The members who are here, once each (not once per device), with those away, in join
    /// order.
    fn all_members(&self) -> Vec<&Member> {
        let mut all: Vec<&Member> = self
            .by_key
            .values()
            .filter_map(|c| self.member(*c))
            .collect();
        all.extend(self.away.values().map(|a| &a.member));
        all.sort_by_key(|m| m.order);
        all
    }

    /// Names of the verified members (joined with a token), those away included, in join order.
    fn verified_names(&self) -> Vec<&str> {
        // Most rooms have none: a scan, not the sort of everyone, for each welcome.
        let here = self.by_key.values().filter_map(|c| self.member(*c));
        let mut everyone = here.chain(self.away.values().map(|a| &a.member));
        if !everyone.any(|m| m.verified) {
            return Vec::new();
        }
        let all = self.all_members().into_iter();
        all.filter(|m| m.verified)
            .map(|m| m.name.as_str())
            .collect()
    }

    /// Names of the room's owners, here or away, in join order.
    fn owner_names(&self) -> Vec<&str> {
        let here = self.by_key.values().filter_map(|c| self.member(*c));
        let mut everyone = here.chain(self.away.values().map(|a| &a.member));
        if !everyone.any(|m| m.owner) {
            return Vec::new();
        }
        let all = self.all_members().into_iter();
        all.filter(|m| m.owner).map(|m| m.name.as_str()).collect()
    }

    /// Members' names in join order, those away included.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        self.all_members().into_iter().map(|m| m.name.as_str())
    }

    /// Names of the members who are away, in join order.
    fn away_names(&self) -> Vec<&str> {
        let mut away: Vec<&Member> = self.away.values().map(|a| &a.member).collect();
        away.sort_by_key(|m| m.order);
        away.into_iter().map(|m| m.name.as_str()).collect()
    }

    /// Members' connections in join order.
    pub fn member_conns(&self) -> &[ConnId] {
        &self.members
    }

    /// Members who are here, once each whatever their number of devices.
    pub fn member_count(&self) -> usize {
        self.by_key.len()
    }

    /// Open sockets, joined or not (not those the room closed and is waiting to see go).
    pub fn connection_count(&self) -> usize {
        self.conns.values().filter(|c| !c.closed).count()
    }

    pub fn last_id(&self) -> u64 {
        self.history.last_id()
    }

    pub fn stored_count(&self) -> u64 {
        self.history.stored_count()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How logs name a room: public rooms by name; private rooms by a short digest, never the id,
/// since the id is the room's only secret.
pub fn log_tag(room: &str) -> String {
    if room.len() == 64 && room.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("private-{}", crate::digest::digest_hex(room, 8))
    } else {
        room.to_string()
    }
}

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod feature_tests;
#[cfg(test)]
mod find_tests;
#[cfg(test)]
mod harness;
#[cfg(test)]
mod moderation_tests;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod token_tests;
#[cfg(test)]
mod upload_tests;
