//! One chat room as plain Rust: connections and members in, frames to send out.
//!
//! The Durable Object adapter feeds [`Room`] every event (a socket connected, a frame arrived, a
//! socket went away, the clock passed a deadline) and carries out the [`Outcome`]: store this
//! message, send that frame to these sockets. Nothing here touches the runtime, so every rule of
//! the protocol is a host unit test.
//!
//! The room's memory is only a cache of two durable sources, so a room object that hibernates or
//! is rebuilt by the runtime loses nothing:
//! - who is here: each socket's [`Attachment`] (kept by the runtime across hibernation), replayed
//!   with [`Room::restore`];
//! - what was said: the SQLite history, whose newest rows seed [`Room::new`].

use crate::config::Limits;
use crate::protocol::{to_json, ChatMessage, ClientFrame, ErrorCode, ErrorFrame, ServerFrame};
use crate::rate::TokenBucket;
use crate::validate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};

/// Identifies one socket within one room object. Stored in the socket's attachment.
pub type ConnId = u32;

/// The most history a `welcome` carries.
pub const WELCOME_HISTORY: usize = 100;

/// Minimum gap between two relayed typing frames of one member.
pub const TYPING_INTERVAL_MS: u64 = 1000;

/// What the runtime keeps with each socket across hibernation: enough to rebuild the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub conn: ConnId,
    /// Unix ms; the join deadline counts from here.
    pub accepted_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberRecord>,
}

/// A joined member, as kept in its socket's attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub name: String,
    /// Position in join order (members are listed in this order).
    pub order: u64,
    /// SHA-256 of the session secret (never the secret itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// What the room kept durably, loaded when the room object starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredHistory {
    /// Highest message id ever assigned (0 for none).
    pub last_id: u64,
    /// Rows in storage.
    pub stored: u64,
    /// The newest rows (at most [`WELCOME_HISTORY`]), oldest first.
    pub recent: Vec<ChatMessage>,
}

/// What the adapter must do after a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Send this error to the sender only; the socket stays open.
    Reject(ErrorFrame),
    /// The sender joined.
    Joined(Joined),
    /// Store `message`, then (only if that worked) send `frame` to every member, the sender
    /// included, and report back with [`Room::message_stored`].
    Message { message: ChatMessage, frame: String },
    /// Send `frame` to every member except the sender.
    Typing { frame: String },
    /// Nothing to send (a throttled typing frame).
    Ignored,
    /// Test hook: forget all in-memory state and reply `frame`.
    DebugReset { frame: String },
}

/// A successful join.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub name: String,
    /// The `welcome` frame for the joiner.
    pub welcome: String,
    /// The `join` frame for everyone else; `None` for a quiet session takeover.
    pub announce: Option<String>,
    /// The joiner's new attachment, to persist on its socket.
    pub attachment: Attachment,
    /// A socket this join took the name over from: persist its attachment (no longer a member)
    /// and close it with 4001.
    pub replaced: Option<(ConnId, Attachment)>,
}

/// A member who left, and the frame telling the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    pub name: String,
    pub frame: String,
}

#[derive(Debug)]
struct Conn {
    accepted_at: u64,
    member: Option<Member>,
    bucket: TokenBucket,
    last_typing: Option<u64>,
}

#[derive(Debug, Clone)]
struct Member {
    name: String,
    key: String,
    order: u64,
    session: Option<String>,
}

impl Member {
    fn record(&self) -> MemberRecord {
        MemberRecord {
            name: self.name.clone(),
            order: self.order,
            session: self.session.clone(),
        }
    }
}

/// A room's live state. See the module docs.
#[derive(Debug)]
pub struct Room {
    limits: Limits,
    conns: HashMap<ConnId, Conn>,
    /// Name key (see [`validate::name_key`]) → the member's connection.
    by_key: HashMap<String, ConnId>,
    /// Members' connections in join order: the broadcast list and the `members` list.
    members: Vec<ConnId>,
    next_order: u64,
    last_id: u64,
    stored: u64,
    recent: VecDeque<ChatMessage>,
}

impl Room {
    pub fn new(limits: Limits, history: StoredHistory) -> Self {
        let mut recent: VecDeque<ChatMessage> = history.recent.into();
        while recent.len() > WELCOME_HISTORY {
            recent.pop_front();
        }
        recent.make_contiguous();
        Room {
            limits,
            conns: HashMap::new(),
            by_key: HashMap::new(),
            members: Vec::new(),
            next_order: 0,
            last_id: history.last_id,
            stored: history.stored,
            recent,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A new socket. Returns its attachment, to persist on the socket.
    pub fn connect(&mut self, conn: ConnId, now: u64) -> Attachment {
        self.conns.insert(conn, self.new_conn(now));
        Attachment {
            conn,
            accepted_at: now,
            member: None,
        }
    }

    fn new_conn(&self, accepted_at: u64) -> Conn {
        Conn {
            accepted_at,
            member: None,
            // Start full at the accept time: a reconnecting client may flush its queue at once.
            bucket: TokenBucket::full(self.limits.rate_burst, accepted_at),
            last_typing: None,
        }
    }

    /// Re-registers a socket from its attachment after the room object was (re)created. Call for
    /// every open socket, then [`Room::finish_restore`]. A member whose name is already held (only
    /// possible if a takeover's attachment update was lost) keeps its socket but not the name.
    pub fn restore(&mut self, attachment: &Attachment) {
        let mut conn = self.new_conn(attachment.accepted_at);
        if let Some(record) = &attachment.member {
            let key = validate::name_key(&record.name);
            if !self.by_key.contains_key(&key) {
                self.by_key.insert(key.clone(), attachment.conn);
                self.members.push(attachment.conn);
                self.next_order = self.next_order.max(record.order + 1);
                conn.member = Some(Member {
                    name: record.name.clone(),
                    key,
                    order: record.order,
                    session: record.session.clone(),
                });
            }
        }
        self.conns.insert(attachment.conn, conn);
    }

    /// Puts restored members back in join order.
    pub fn finish_restore(&mut self) {
        let conns = &self.conns;
        self.members.sort_by_key(|c| {
            conns
                .get(c)
                .and_then(|conn| conn.member.as_ref())
                .map_or(u64::MAX, |m| m.order)
        });
    }

    /// Handles one text frame from `conn`.
    pub fn handle(&mut self, conn: ConnId, frame: &str, room_name: &str, now: u64) -> Outcome {
        if !self.conns.contains_key(&conn) {
            // The adapter registers every socket first; tolerate a miss rather than panic.
            self.conns.insert(conn, self.new_conn(now));
        }
        let parsed = match ClientFrame::parse(frame) {
            Ok(parsed) => parsed,
            Err(error) => return Outcome::Reject(error),
        };
        match parsed {
            ClientFrame::Join {
                name,
                since,
                session,
            } => self.join(conn, &name, since, session.as_deref(), room_name, now),
            ClientFrame::Message { text, nonce } => self.message(conn, &text, nonce, now),
            ClientFrame::Typing => self.typing(conn, now),
            ClientFrame::DebugReset if self.limits.test_hooks => Outcome::DebugReset {
                frame: to_json(&ServerFrame::DebugReset { ok: true }),
            },
            ClientFrame::DebugReset => Outcome::Reject(ErrorFrame::new(
                ErrorCode::BadRequest,
                "unknown frame type: expected join, message or typing",
            )),
        }
    }

    /// A binary frame: the protocol is JSON text only.
    pub fn binary_frame() -> Outcome {
        Outcome::Reject(ErrorFrame::new(
            ErrorCode::BadRequest,
            "binary frames are not supported; send JSON text",
        ))
    }

    fn join(
        &mut self,
        conn: ConnId,
        raw_name: &str,
        since: Option<u64>,
        session: Option<&str>,
        room_name: &str,
        now: u64,
    ) -> Outcome {
        if self.member(conn).is_some() {
            return reject(ErrorCode::BadRequest, "already joined");
        }
        let name = match validate::member_name(raw_name) {
            Ok(name) => name.to_string(),
            Err(why) => return reject(ErrorCode::InvalidName, why),
        };
        let session = match session.map(validate::session).transpose() {
            Ok(session) => session.map(session_digest),
            Err(why) => return reject(ErrorCode::BadRequest, why),
        };
        let key = validate::name_key(&name);

        // Who holds the name now, and may this join take it over?
        let mut replaced = None;
        if let Some(&holder) = self.by_key.get(&key) {
            let holder_session = self.member(holder).and_then(|m| m.session.as_ref());
            match (&session, holder_session) {
                (Some(mine), Some(theirs)) if mine == theirs => replaced = Some(holder),
                _ => return reject(ErrorCode::NameTaken, "that name is taken in this room"),
            }
        }
        if replaced.is_none() && self.members.len() >= self.limits.max_members {
            return reject(ErrorCode::RoomFull, "this room is full");
        }

        // A takeover keeps the member's place in the list; a new member goes last.
        let order = match replaced {
            Some(old) => self.member(old).map_or(self.next_order, |m| m.order),
            None => self.next_order,
        };
        self.next_order = self.next_order.max(order + 1);
        let member = Member {
            name: name.clone(),
            key: key.clone(),
            order,
            session,
        };
        let replaced = replaced.map(|old| {
            if let Some(c) = self.conns.get_mut(&old) {
                c.member = None;
            }
            if let Some(slot) = self.members.iter_mut().find(|c| **c == old) {
                *slot = conn;
            }
            let accepted_at = self.conns.get(&old).map_or(now, |c| c.accepted_at);
            (
                old,
                Attachment {
                    conn: old,
                    accepted_at,
                    member: None,
                },
            )
        });
        if replaced.is_none() {
            self.members.push(conn);
        }
        self.by_key.insert(key, conn);
        let record = member.record();
        let accepted_at = match self.conns.get_mut(&conn) {
            Some(c) => {
                c.member = Some(member);
                c.accepted_at
            }
            None => now,
        };

        let (history, truncated) = self.history_since(since);
        let welcome = to_json(&ServerFrame::Welcome {
            room: room_name,
            name: &name,
            members: self.member_names().collect(),
            history,
            truncated,
            last_id: self.last_id,
        });
        let announce = replaced.is_none().then(|| {
            to_json(&ServerFrame::Join {
                name: &name,
                at: now,
            })
        });
        Outcome::Joined(Joined {
            name,
            welcome,
            announce,
            attachment: Attachment {
                conn,
                accepted_at,
                member: Some(record),
            },
            replaced,
        })
    }

    fn message(
        &mut self,
        conn: ConnId,
        text: &str,
        nonce: Option<std::borrow::Cow<'_, str>>,
        now: u64,
    ) -> Outcome {
        let (rate, burst) = (self.limits.rate_per_sec, self.limits.rate_burst);
        let Some(c) = self.conns.get_mut(&conn) else {
            return reject(ErrorCode::NotJoined, "join the room first");
        };
        let Some(member) = &c.member else {
            return reject(ErrorCode::NotJoined, "join the room first");
        };
        let text = match validate::message_text(text) {
            Ok(text) => text,
            Err(why) => return reject(ErrorCode::InvalidMessage, why),
        };
        let nonce = match nonce.as_deref().map(validate::nonce).transpose() {
            Ok(nonce) => nonce.map(str::to_string),
            Err(why) => return reject(ErrorCode::InvalidMessage, why),
        };
        if let Err(retry_after_ms) = c.bucket.take(now, rate, burst) {
            let mut error = ErrorFrame::new(
                ErrorCode::RateLimited,
                "too many messages; this one was dropped",
            );
            error.retry_after_ms = Some(retry_after_ms);
            return Outcome::Reject(error);
        }
        let name = member.name.clone();
        self.last_id += 1;
        let message = ChatMessage {
            id: self.last_id,
            name,
            text: text.to_string(),
            at: now,
            nonce,
        };
        let frame = to_json(&message);
        Outcome::Message { message, frame }
    }

    fn typing(&mut self, conn: ConnId, now: u64) -> Outcome {
        let Some(c) = self.conns.get_mut(&conn) else {
            return reject(ErrorCode::NotJoined, "join the room first");
        };
        let Some(member) = &c.member else {
            return reject(ErrorCode::NotJoined, "join the room first");
        };
        if c.last_typing
            .is_some_and(|last| now.saturating_sub(last) < TYPING_INTERVAL_MS)
        {
            return Outcome::Ignored;
        }
        c.last_typing = Some(now);
        Outcome::Typing {
            frame: to_json(&ServerFrame::Typing { name: &member.name }),
        }
    }

    /// Records that `message` (from [`Outcome::Message`]) is durably stored. Returns how many of
    /// the oldest stored messages to delete to respect the history cap.
    pub fn message_stored(&mut self, message: ChatMessage) -> u64 {
        self.stored += 1;
        self.recent.push_back(message);
        let keep = (self.limits.history_cap as usize).min(WELCOME_HISTORY);
        while self.recent.len() > keep {
            self.recent.pop_front();
        }
        // Keep one slice so welcomes can borrow the history without copying it.
        self.recent.make_contiguous();
        let excess = self.stored.saturating_sub(self.limits.history_cap);
        self.stored -= excess;
        excess
    }

    /// A socket closed, errored or dropped. Returns the leave to broadcast if it was a member.
    pub fn disconnect(&mut self, conn: ConnId, now: u64) -> Option<Left> {
        let member = self.conns.remove(&conn)?.member?;
        self.by_key.remove(&member.key);
        self.members.retain(|c| *c != conn);
        let frame = to_json(&ServerFrame::Leave {
            name: &member.name,
            at: now,
        });
        Some(Left {
            name: member.name,
            frame,
        })
    }

    /// Sockets that did not join within the join timeout, as of `now`. They should be closed
    /// (1008) and then [`Room::disconnect`]ed.
    pub fn join_expired(&self, now: u64) -> Vec<ConnId> {
        let timeout = self.limits.join_timeout_ms;
        self.conns
            .iter()
            .filter(|(_, c)| c.member.is_none() && c.accepted_at.saturating_add(timeout) <= now)
            .map(|(id, _)| *id)
            .collect()
    }

    /// When the next unjoined socket's join deadline passes, if any is waiting.
    pub fn next_join_deadline(&self) -> Option<u64> {
        let timeout = self.limits.join_timeout_ms;
        self.conns
            .values()
            .filter(|c| c.member.is_none())
            .map(|c| c.accepted_at.saturating_add(timeout))
            .min()
    }

    /// The welcome's history: messages after `since` (or the newest ones), oldest first, at most
    /// [`WELCOME_HISTORY`], and whether older missed messages were left out.
    fn history_since(&self, since: Option<u64>) -> (&[ChatMessage], bool) {
        let older_exist = self.stored > self.recent.len() as u64;
        // Contiguous by construction (see `message_stored`).
        let recent = self.recent.as_slices().0;
        match since {
            None => (recent, false),
            Some(since) => {
                let start = recent.partition_point(|m| m.id <= since);
                let truncated = older_exist && recent.first().is_some_and(|m| since + 1 < m.id);
                (&recent[start..], truncated)
            }
        }
    }

    fn member(&self, conn: ConnId) -> Option<&Member> {
        self.conns.get(&conn)?.member.as_ref()
    }

    /// The name `conn` joined as, if it joined.
    pub fn member_name(&self, conn: ConnId) -> Option<&str> {
        self.member(conn).map(|m| m.name.as_str())
    }

    /// Members' names in join order.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        self.members.iter().filter_map(|c| self.member_name(*c))
    }

    /// Members' connections in join order: who receives broadcasts.
    pub fn member_conns(&self) -> &[ConnId] {
        &self.members
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    pub fn stored_count(&self) -> u64 {
        self.stored
    }
}

fn reject(code: ErrorCode, message: &'static str) -> Outcome {
    Outcome::Reject(ErrorFrame::new(code, message))
}

/// The session secret is kept only as a digest: attachments are storage, and storage is not a
/// place for secrets.
fn session_digest(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
