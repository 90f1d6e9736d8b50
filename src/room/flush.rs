//! The flush: once per burst of events, store the burst's messages in one write, then send each
//! recipient everything it has waiting as one batch.
//!
//! Why per burst: the runtime's cost is per send and per commit, not per byte. A room that sends
//! one frame per event per member and commits once per message is as slow as any other; one that
//! sends one batch per member and commits once per burst does a fraction of the work under load,
//! and in an idle room the burst is a single frame, sent as it is.

use super::history::{Trim, WriteBatch};
use super::outbox::{pack, Audience, Outbox, Queued};
use super::{ConnId, Effects, Room, Store};
use crate::config::LogLevel;
use crate::protocol::{to_json, ErrorCode, ErrorFrame, ServerFrame};
use std::collections::{BTreeSet, HashMap};

/// An outbox entry resolved for delivery.
enum View<'a> {
    /// For every member from before the burst, but `except`. `log`: a message or a change (an
    /// entry of the room's log), which a member welcomed in this burst hears too.
    All {
        except: Option<ConnId>,
        text: &'a str,
        log: bool,
    },
    /// For one socket.
    One { conn: ConnId, text: &'a str },
}

impl Room {
    /// Stores the burst's entries, then packs everything queued since the last flush into
    /// batches. Call once the current burst of events is handled.
    ///
    /// Presence for members already here (a crowd's joins, typing) may wait up to
    /// `PRESENCE_BATCH_MS` to go out together; welcomes, errors and messages never wait.
    pub fn flush(&mut self, store: &mut dyn Store, now: u64) -> Effects {
        let mut fx = Effects::default();
        self.summarize_crowd();
        let mut outbox = self.outbox.take();
        let due = self
            .presence_sent_at
            .saturating_add(self.limits.presence_batch_ms);
        let hold = outbox.only_presence() && now < due;
        if hold {
            let (held, private) = outbox
                .entries
                .into_iter()
                .partition(|e| matches!(e.to, Audience::Members { .. }));
            self.outbox.entries = held;
            outbox.entries = private;
            fx.flush_in = Some(due - now);
        } else {
            // Logged with the presence it counts: while presence is held (a crowd arriving, a
            // welcome per flush) the count waits too, so a storm writes a line per
            // `PRESENCE_BATCH_MS`, not one per flush (a line costs ~1 ms of CPU under
            // `wrangler dev`: bench/README.md).
            self.log_presence(&mut fx);
        }
        // Read positions due for writing go with this burst; the others wait for a later flush.
        let (reads, next_read) = self.reads.due(now, self.limits.read_write_ms);
        if let Some(ms) = next_read {
            fx.flush_in = Some(fx.flush_in.map_or(ms, |f| f.min(ms)));
        }
        // A joiner's read position is in memory before its welcome is built.
        for conn in outbox.welcomed() {
            self.welcome_read(conn, store);
        }
        // Welcomes are the room as it was before the burst (built before its write lands in
        // memory): everything of the burst, a joiner's own message included, follows them, so a
        // client that sent right behind its join hears its message like everyone else does.
        let welcomes = self.welcomes(&outbox);
        let stored = self.store(&mut outbox, reads, store, &mut fx);
        if self.deliver(&outbox, welcomes, stored, &mut fx) {
            self.presence_sent_at = now;
        }
        // The room changed its memory when it decided (a reaction, a topic); storage refused
        // those changes, so memory is rebuilt from storage and the sockets' attachments.
        fx.reload = !stored;
        fx
    }

    /// The joins and leaves since the last `presence` line, if any.
    fn log_presence(&mut self, fx: &mut Effects) {
        let (joined, left) = std::mem::take(&mut self.presence_log);
        if joined + left > 0 {
            fx.log(
                LogLevel::Info,
                "presence",
                serde_json::json!({"joined": joined, "left": left, "members": self.members.len()}),
            );
        }
    }

    /// Stored before sent: writes everything the burst changed in one write. Returns whether it
    /// is durable; if not, nothing of it is ever sent.
    fn store(
        &mut self,
        outbox: &mut Outbox,
        reads: Vec<(String, u64)>,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) -> bool {
        // Serialized now, so that a change later in the same burst (an edit) is in the frame.
        for (pending, posted) in outbox.sent.iter_mut().zip(&outbox.messages) {
            pending.text = to_json(&posted.message.out(None));
        }
        let updates = outbox
            .touched
            .iter()
            .filter_map(|id| match outbox.fetched.get(id) {
                Some(posted) => Some(posted.message.clone()),
                None => self.history.message_mut(*id).map(|p| p.message.clone()),
            })
            .collect();
        let batch = WriteBatch {
            messages: std::mem::take(&mut outbox.messages),
            frames: outbox.sent.iter().map(|p| p.text.clone()).collect(),
            changes: outbox.changes.iter().map(|(c, _)| c.clone()).collect(),
            updates,
            requoted: std::mem::take(&mut outbox.requoted),
            erased: std::mem::take(&mut outbox.erased),
            meta: std::mem::take(&mut outbox.meta),
            members: std::mem::take(&mut outbox.members),
            reads,
        };
        if batch.is_empty() {
            return true;
        }
        if let Err(error) = store.write(&batch) {
            fx.log(
                LogLevel::Warn,
                "storage_failure",
                serde_json::json!({"operation": "write", "error": error.0,
                    "messages": batch.messages.len(), "changes": batch.changes.len()}),
            );
            return false;
        }
        let cap = self.limits.history_cap;
        let caps = (cap, self.limits.changes_cap);
        self.history.stored(batch.messages, batch.changes, caps);
        // Each kind within its own cap: only newer messages push older ones out, and changes
        // (reaction toggles, edits, topics) only push out older changes.
        for (kind, cap) in [
            (Trim::Messages, cap),
            (Trim::Changes, self.limits.changes_cap),
        ] {
            let excess = self.history.excess(kind, cap);
            if excess == 0 {
                continue;
            }
            match store.delete_oldest(kind, excess) {
                Ok(upto) => {
                    self.history.deleted(kind, excess, upto);
                    // Trimmed messages take their files with them (no sweep here: `now` 0).
                    if kind == Trim::Messages {
                        self.trim_files(upto, store, fx);
                    }
                }
                Err(error) => fx.log(
                    LogLevel::Warn,
                    "storage_failure",
                    serde_json::json!({"operation": "trim", "error": error.0}),
                ),
            }
        }
        true
    }

    /// Turns the outbox into batches: one shared text for every member who has nothing of its
    /// own waiting, one text each for the others. Returns whether frames went to the members.
    fn deliver(
        &mut self,
        outbox: &Outbox,
        welcomes: HashMap<usize, String>,
        stored: bool,
        fx: &mut Effects,
    ) -> bool {
        // Texts made here (welcomes, storage errors) live as long as the views that borrow them.
        let mut made: HashMap<usize, String> = HashMap::new();
        // Members welcomed in this flush, with their welcome's sequence number.
        let mut welcomed_now: HashMap<ConnId, u64> = HashMap::new();
        for (i, entry) in outbox.entries.iter().enumerate() {
            match (&entry.frame, entry.to) {
                (Queued::Welcome { .. }, Audience::Only(conn)) => {
                    if let Some(text) = welcomes.get(&i) {
                        made.insert(i, text.clone());
                        welcomed_now.insert(conn, entry.seq);
                        // The welcome's members hold every presence frame queued so far (some
                        // may still wait in the outbox): the member hears only later ones. The
                        // burst's messages and changes it hears all of (see `deliver_own`).
                        if let Some(c) = self.conns.get_mut(&conn) {
                            c.welcomed_seq = self.outbox.next_seq;
                        }
                    }
                }
                (Queued::Message(m), _) if !stored => {
                    let sent = &outbox.sent[*m];
                    let error = ErrorFrame::new(
                        ErrorCode::StorageFailed,
                        "the message could not be stored; it was not sent",
                    )
                    .with_nonce(sent.nonce.as_deref());
                    made.insert(i, to_json(&error));
                }
                (Queued::Change(c), _) => {
                    let (change, _) = &outbox.changes[*c];
                    let text = if stored {
                        to_json(change)
                    } else {
                        let error = ErrorFrame::new(
                            ErrorCode::StorageFailed,
                            "the change could not be stored; it was not made",
                        );
                        let error = match change.target() {
                            Some(target) => error.with_target(target),
                            None => error,
                        };
                        to_json(&error)
                    };
                    made.insert(i, text);
                }
                _ => {}
            }
        }

        let mut views = Vec::with_capacity(outbox.entries.len());
        // Sockets that get something of their own, or miss something others get.
        let mut special = BTreeSet::new();
        for (i, entry) in outbox.entries.iter().enumerate() {
            let view = match (&entry.frame, entry.to) {
                (Queued::Text(text), Audience::Members { except }) => View::All {
                    except,
                    text,
                    log: false,
                },
                (Queued::Text(text), Audience::Only(conn)) => View::One { conn, text },
                (Queued::Message(m), _) if stored => View::All {
                    except: None,
                    text: &outbox.sent[*m].text,
                    log: true,
                },
                (Queued::Change(c), _) => match made.get(&i) {
                    Some(text) if stored => View::All {
                        except: None,
                        text,
                        log: true,
                    },
                    Some(text) => View::One {
                        conn: outbox.changes[*c].1,
                        text,
                    },
                    None => continue,
                },
                (Queued::Message(m), _) => match made.get(&i) {
                    Some(text) => View::One {
                        conn: outbox.sent[*m].sender,
                        text,
                    },
                    None => continue,
                },
                (Queued::Welcome { .. }, Audience::Only(conn)) => match made.get(&i) {
                    Some(text) => View::One { conn, text },
                    None => continue,
                },
                (Queued::Welcome { .. }, Audience::Members { .. }) => continue,
            };
            match view {
                View::All {
                    except: Some(conn), ..
                }
                | View::One { conn, .. } => {
                    special.insert(conn);
                }
                View::All { except: None, .. } => {}
            }
            views.push((entry.seq, view));
        }
        // Members welcomed after the first of these entries hear only what came after theirs.
        let first = views
            .iter()
            .find(|(_, v)| matches!(v, View::All { .. }))
            .map(|(seq, _)| *seq);
        let Some(first) = first else {
            return self.deliver_own(&views, special, &welcomed_now, fx);
        };
        for &conn in &self.members {
            if self
                .conns
                .get(&conn)
                .is_some_and(|c| c.welcomed_seq > first)
            {
                special.insert(conn);
            }
        }
        let common: Vec<&str> = views
            .iter()
            .filter_map(|(_, v)| match v {
                View::All { text, .. } => Some(*text),
                View::One { .. } => None,
            })
            .collect();
        let to: Vec<ConnId> = self
            .members
            .iter()
            .copied()
            .filter(|c| !special.contains(c))
            .collect();
        let mut heard = false;
        if !to.is_empty() {
            for text in pack(common) {
                heard = true;
                fx.send.push(super::Batch {
                    to: to.clone(),
                    text,
                });
            }
        }
        heard |= self.deliver_own(&views, special, &welcomed_now, fx);
        if !outbox.sent.is_empty() || !outbox.changes.is_empty() {
            fx.log(
                LogLevel::Debug,
                "flush",
                serde_json::json!({"messages": outbox.sent.len(), "changes": outbox.changes.len(),
                    "stored": stored, "members": self.members.len()}),
            );
        }
        heard
    }

    /// Each socket with frames of its own gets its own sequence. Returns whether any member
    /// heard a frame meant for the members.
    ///
    /// A member welcomed in this flush gets its welcome (the room before the burst), then every
    /// message and change of the burst in order, those queued before its join included; the
    /// burst's presence it does not get, since the welcome's members already hold it.
    fn deliver_own(
        &self,
        views: &[(u64, View<'_>)],
        special: BTreeSet<ConnId>,
        welcomed_now: &HashMap<ConnId, u64>,
        fx: &mut Effects,
    ) -> bool {
        let mut heard = false;
        for conn in special {
            let Some(c) = self.conns.get(&conn).filter(|c| !c.closed) else {
                continue;
            };
            let welcomed = c.member.is_some().then_some(c.welcomed_seq);
            let welcome_seq = welcomed_now.get(&conn).copied();
            let mut own: Vec<&str> = Vec::new();
            // The burst's log entries queued before this member's welcome go right after it.
            let mut before_welcome: Vec<&str> = Vec::new();
            for (seq, v) in views {
                match *v {
                    View::All { except, text, log } if except != Some(conn) => {
                        if let Some(w) = welcome_seq {
                            if !log || c.member.is_none() {
                                continue;
                            }
                            heard = true;
                            if *seq < w {
                                before_welcome.push(text);
                            } else {
                                own.push(text);
                            }
                        } else if welcomed.is_some_and(|w| *seq >= w) {
                            heard = true;
                            own.push(text);
                        }
                    }
                    View::One { conn: to, text } if to == conn => {
                        own.push(text);
                        if welcome_seq == Some(*seq) {
                            own.append(&mut before_welcome);
                        }
                    }
                    _ => {}
                }
            }
            for text in pack(own) {
                fx.send.push(super::Batch {
                    to: vec![conn],
                    text,
                });
            }
        }
        heard
    }

    /// The welcome of each member who joined in this burst, by outbox entry, built before the
    /// burst's write lands in memory: its history and `last_id` are the log before the burst.
    /// (Its topic and lock may already show a change of the burst; that change follows it, and
    /// applying a change twice changes nothing.)
    fn welcomes(&self, outbox: &Outbox) -> HashMap<usize, String> {
        let mut made = HashMap::new();
        for (i, entry) in outbox.entries.iter().enumerate() {
            if let (Queued::Welcome { since }, Audience::Only(conn)) = (&entry.frame, entry.to) {
                if let Some(text) = self.welcome(conn, *since) {
                    made.insert(i, text);
                }
            }
        }
        made
    }

    /// The welcome for `conn`, if it is (still) a member: the members and history as they are now.
    fn welcome(&self, conn: ConnId, since: Option<u64>) -> Option<String> {
        let member = self.member(conn)?;
        let (history, truncated) = self.history.since(since);
        let me = Some(member.name.as_str());
        let history = history.into_iter().map(|e| e.out(me)).collect();
        let (members, count) = self.welcome_members();
        // In a crowd, only those of the names the welcome lists (not every verified member).
        let mut verified = self.verified_names();
        if count.is_some() {
            verified.retain(|n| members.contains(n));
        }
        Some(to_json(&ServerFrame::Welcome {
            room: &self.name,
            name: &member.name,
            members,
            count,
            away: self.away_names(),
            history,
            truncated,
            last_id: self.history.last_id(),
            topic: &self.state.topic,
            title: &self.state.title,
            locked: self.state.locked,
            owner: member.owner,
            owners: self.owner_names(),
            verified,
            read_id: self.read_id(conn),
        }))
    }
}
