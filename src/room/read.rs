//! `read`: where a member has read the room up to, kept per identity so every device of one
//! person agrees. A `{"type":"read","id":N}` frame moves the position forward (never back), the
//! member's other connections hear the new position at once, and storage gets it at most once
//! per `READ_WRITE_MS` per identity (the latest position wins; a burst of reads is one write).
//! A welcome carries the position as `read_id`.
//!
//! The identity is what the member proves across connections: today the digest of their session.
//! [`identity`] and [`Room::other_connections`] are the two places that know it.

use super::members::Member;
use super::{ConnId, Effects, Room, Store};
use crate::protocol::{to_json, ErrorCode, ErrorFrame, ServerFrame};
use std::collections::{BTreeSet, HashMap};

/// Positions of identities with no connection left are forgotten past this many (storage keeps
/// them): the cache of a room that many people passed through stays small.
const CACHED: usize = 4096;

/// Whose read position a member's is, if anyone's: a verified member's `sub` (all their devices
/// share it), else the guest's session. A member without a session cannot be told apart from the
/// next one to take their name, so their position is not kept.
pub(super) fn identity(member: &Member) -> Option<String> {
    let kind = if member.verified { "sub" } else { "session" };
    member.session.as_ref().map(|s| format!("{kind}:{s}"))
}

#[derive(Debug, Default)]
struct Position {
    /// What storage holds, as far as this instance knows.
    stored: u64,
    /// The newest position heard (at least `stored`).
    latest: u64,
    /// When it was last written (unix ms).
    written_at: Option<u64>,
    /// Connections that joined with this identity since it was loaded.
    conns: Vec<ConnId>,
}

/// The read positions this instance knows: loaded from storage on first use, written back at
/// most once per interval.
#[derive(Debug, Default)]
pub(super) struct Reads {
    by_identity: HashMap<String, Position>,
    /// Identities whose latest position is not written yet: the flush looks at these only.
    unwritten: BTreeSet<String>,
}

impl Reads {
    pub fn latest(&self, identity: &str) -> u64 {
        self.by_identity.get(identity).map_or(0, |p| p.latest)
    }

    /// Whether a position waits to be written.
    pub fn dirty(&self) -> bool {
        !self.unwritten.is_empty()
    }

    /// The positions due for writing now (marked written), and in how many ms the next one is.
    pub fn due(&mut self, now: u64, interval: u64) -> (Vec<(String, u64)>, Option<u64>) {
        let mut due = Vec::new();
        let mut next: Option<u64> = None;
        let by_identity = &mut self.by_identity;
        self.unwritten.retain(|identity| {
            let Some(p) = by_identity
                .get_mut(identity)
                .filter(|p| p.latest > p.stored)
            else {
                return false;
            };
            let at = p.written_at.map_or(now, |w| w.saturating_add(interval));
            if at > now {
                next = Some(next.map_or(at - now, |n| n.min(at - now)));
                return true;
            }
            due.push((identity.clone(), p.latest));
            p.stored = p.latest;
            p.written_at = Some(now);
            false
        });
        (due, next)
    }
}

impl Room {
    pub(super) fn read(
        &mut self,
        conn: ConnId,
        id: u64,
        store: &mut dyn Store,
        now: u64,
        fx: &mut Effects,
    ) {
        if let Err(error) = self.apply_read(conn, id, store) {
            self.reject(conn, error, now, fx);
        }
    }

    fn apply_read(
        &mut self,
        conn: ConnId,
        id: u64,
        store: &mut dyn Store,
    ) -> Result<(), ErrorFrame> {
        let member = self
            .member(conn)
            .ok_or_else(|| ErrorFrame::new(ErrorCode::NotJoined, "join the room first"))?;
        let identity = identity(member).ok_or_else(|| {
            ErrorFrame::new(
                ErrorCode::BadRequest,
                "read positions are kept per session: join with a session",
            )
        })?;
        // Nobody has read past the newest entry.
        let id = id.min(self.history.last_id());
        self.load_read(&identity, store).map_err(|_| {
            ErrorFrame::new(
                ErrorCode::StorageFailed,
                "the read position could not be read; try again",
            )
        })?;
        let Some(position) = self.reads.by_identity.get_mut(&identity) else {
            return Ok(());
        };
        if id <= position.latest {
            return Ok(());
        }
        position.latest = id;
        self.reads.unwritten.insert(identity.clone());
        let frame = to_json(&ServerFrame::Read { id });
        for peer in self.other_connections(&identity, conn) {
            self.outbox.only(peer, frame.clone());
        }
        Ok(())
    }

    /// The member's other connections: where a new read position goes live, so reading on the
    /// phone clears the badge on the laptop. Today these are the connections that joined with the
    /// same session (under another name; a second socket under the same name takes the first
    /// one's place).
    fn other_connections(&mut self, identity: &str, except: ConnId) -> Vec<ConnId> {
        let Some(position) = self.reads.by_identity.get_mut(identity) else {
            return Vec::new();
        };
        let conns = &self.conns;
        let same = |c: &ConnId| {
            conns
                .get(c)
                .filter(|c| !c.closed)
                .and_then(|c| c.member.as_ref())
                .and_then(self::identity)
                .is_some_and(|i| i == identity)
        };
        position.conns.retain(same);
        position
            .conns
            .iter()
            .copied()
            .filter(|&c| c != except)
            .collect()
    }

    /// Makes sure `identity`'s position is in memory (read from storage the first time).
    fn load_read(&mut self, identity: &str, store: &mut dyn Store) -> Result<(), ()> {
        if self.reads.by_identity.contains_key(identity) {
            return Ok(());
        }
        let stored = store.read_position(identity).map_err(drop)?.unwrap_or(0);
        if self.reads.by_identity.len() >= CACHED {
            self.reads
                .by_identity
                .retain(|_, p| p.latest > p.stored || !p.conns.is_empty());
        }
        // Connections that joined before this instance loaded the position (after a restart).
        let conns = self
            .members
            .iter()
            .copied()
            .filter(|c| {
                self.member(*c)
                    .and_then(self::identity)
                    .is_some_and(|i| i == identity)
            })
            .collect();
        self.reads.by_identity.insert(
            identity.to_string(),
            Position {
                stored,
                latest: stored,
                written_at: None,
                conns,
            },
        );
        Ok(())
    }

    /// Before welcomes are built: the joiner's read position is loaded, and the joiner is one of
    /// its identity's connections.
    pub(super) fn welcome_read(&mut self, conn: ConnId, store: &mut dyn Store) {
        let Some(identity) = self.member(conn).and_then(identity) else {
            return;
        };
        if self.load_read(&identity, store).is_err() {
            return;
        }
        if let Some(p) = self.reads.by_identity.get_mut(&identity) {
            if !p.conns.contains(&conn) {
                p.conns.push(conn);
            }
        }
    }

    /// The `read_id` of `conn`'s welcome.
    pub(super) fn read_id(&self, conn: ConnId) -> u64 {
        self.member(conn)
            .and_then(identity)
            .map_or(0, |i| self.reads.latest(&i))
    }
}
