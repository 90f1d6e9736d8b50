//! What was said: the [`Store`] the room writes through, and the newest messages and log entries
//! it keeps in memory for welcomes.
//!
//! The room's log is one strictly increasing id sequence of entries: messages, and changes to
//! them or to the room (edit, delete, react, topic, lock, kick). Storage keeps every message in
//! its current state and every change as it happened, so:
//! - a fresh joiner gets the newest messages in their current state;
//! - a member who resumes with `since` gets every entry after `since`, in order: messages in their
//!   current state and the changes, which are harmless to apply twice. That is exact however long
//!   they were away, and costs one indexed range read.
//!
//! The store is a trait so the room decides storage too: SQLite implements it in the shell, a
//! `Vec` in the tests (so a storage failure is a host unit test).

use super::members::MemberRow;
use crate::protocol::{Change, ChatMessage, EntryRef};
use std::collections::VecDeque;

/// The most history a `welcome` carries.
pub const WELCOME_HISTORY: usize = 100;

/// A message and who may change it: the digest of its author's session (never sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub message: ChatMessage,
    pub author: Option<String>,
}

/// The room's durable state, as the room uses it.
pub trait Store {
    /// Everything one burst changed, in one write: all of it, or none and an error.
    fn write(&mut self, batch: &WriteBatch) -> Result<(), StoreError>;
    /// A stored message by id (for changes to messages older than the ones in memory).
    fn posted(&mut self, id: u64) -> Result<Option<Posted>, StoreError>;
    /// Deletes the `count` oldest entries of one kind (the caps); returns the highest id
    /// deleted (0 for none). Deleting changes also records that id durably as the room's changes
    /// floor ([`StoredHistory::changes_floor`]) before anything is deleted.
    fn delete_oldest(&mut self, kind: Trim, count: u64) -> Result<u64, StoreError>;
    /// An identity's stored read position (`read.rs`).
    fn read_position(&mut self, _identity: &str) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    /// The room's files (`crate::files`); `None` where the store keeps none.
    fn files(&mut self) -> Option<&mut dyn crate::files::FileStore> {
        None
    }
}

/// What a cap trims: messages (`HISTORY_CAP`) or changes (`CHANGES_CAP`). Each kind is bounded
/// on its own terms, so no sequence of changes can push a message out of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    Messages,
    Changes,
}

/// What one flush writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteBatch {
    /// New messages, ids increasing.
    pub messages: Vec<Posted>,
    /// Each new message's frame as members get it, in `messages`' order (or none): a store may
    /// take a plain message's columns from it instead of serializing the message again.
    pub frames: Vec<String>,
    /// New changes, ids increasing.
    pub changes: Vec<Change>,
    /// Stored messages whose current state changed (edited, deleted, reacted to).
    pub updates: Vec<ChatMessage>,
    /// Edited messages and the start of their new text: replies quoting them quote that now.
    pub requoted: Vec<(u64, String)>,
    /// Deleted messages: their text goes from earlier edits and from replies quoting them too.
    pub erased: Vec<u64>,
    /// Room state by key (`topic`, `locked`, `bans`), as JSON.
    pub meta: Vec<(&'static str, String)>,
    /// Members to remember (for presence across restarts) or to forget, by name key.
    pub members: Vec<(String, Option<MemberRow>)>,
    /// Read positions by identity; storage keeps the larger of the stored and the new one.
    pub reads: Vec<(String, u64)>,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        *self == WriteBatch::default()
    }

    /// Whether the batch holds new messages and nothing else (the shell's fast path).
    pub fn only_messages(&self) -> bool {
        self.changes.is_empty()
            && self.updates.is_empty()
            && self.requoted.is_empty()
            && self.erased.is_empty()
            && self.meta.is_empty()
            && self.members.is_empty()
            && self.reads.is_empty()
    }
}

/// A storage failure. Its text is for the log only: clients get a generic `storage_failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

/// What the room kept durably, loaded when the room object starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredHistory {
    /// Highest id ever stored (0 for none).
    pub last_id: u64,
    /// Log entries in storage.
    pub stored: u64,
    /// Of them, messages.
    pub stored_messages: u64,
    /// The highest id of a change `CHANGES_CAP` deleted (0 for none): a resume from before it
    /// cannot be exact, and gets the current state instead.
    pub changes_floor: u64,
    /// The newest messages (at most [`WELCOME_HISTORY`]), oldest first, in their current state.
    pub recent: Vec<Posted>,
    /// The changes among the newest [`WELCOME_HISTORY`] log entries, oldest first.
    pub changes: Vec<Change>,
    /// The highest stored id older than the newest [`WELCOME_HISTORY`] entries (0 if none).
    pub older_max: u64,
    pub state: super::moderation::RoomState,
    /// Members as last written (those without an open socket are away after a restart).
    pub members: Vec<super::StoredMember>,
}

#[derive(Debug, Clone)]
enum Item {
    Message(u64),
    Change(Change),
}

impl Item {
    fn id(&self) -> u64 {
        match self {
            Item::Message(id) => *id,
            Item::Change(c) => c.id(),
        }
    }
}

/// The in-memory side of the log: id assignment, the newest messages, the newest entries.
#[derive(Debug)]
pub(super) struct History {
    /// The last id handed out. Ids of a failed write are never reused in this instance; after a
    /// restart the sequence resumes from the stored maximum, so ids nobody saw may come again.
    assigned: u64,
    last_id: u64,
    stored: u64,
    stored_messages: u64,
    changes_floor: u64,
    recent: VecDeque<Posted>,
    log: VecDeque<Item>,
    older_max: u64,
}

impl History {
    pub fn new(stored: StoredHistory) -> Self {
        let mut history = History {
            assigned: stored.last_id,
            last_id: stored.last_id,
            stored: stored.stored,
            stored_messages: stored.stored_messages,
            changes_floor: stored.changes_floor,
            // Grow with the messages: most rooms never hold a full welcome's worth, and a
            // preallocated one was most of an idle room's memory (bench/churn.mjs).
            recent: VecDeque::new(),
            log: VecDeque::new(),
            older_max: stored.older_max,
        };
        history.push(stored.recent, stored.changes, (u64::MAX, u64::MAX));
        history
    }

    pub fn next_id(&mut self) -> u64 {
        self.assigned = self.assigned.saturating_add(1);
        self.assigned
    }

    /// Records entries that are now durably stored. `caps` are the message and change caps.
    pub fn stored(&mut self, messages: Vec<Posted>, changes: Vec<Change>, caps: (u64, u64)) {
        self.stored += (messages.len() + changes.len()) as u64;
        self.stored_messages += messages.len() as u64;
        let newest = messages.iter().map(|p| p.message.id);
        let newest = newest.chain(changes.iter().map(Change::id)).max();
        self.last_id = self.last_id.max(newest.unwrap_or(0));
        self.push(messages, changes, caps);
    }

    fn push(&mut self, messages: Vec<Posted>, changes: Vec<Change>, caps: (u64, u64)) {
        let mut items: Vec<Item> = messages
            .iter()
            .map(|p| Item::Message(p.message.id))
            .collect();
        items.extend(changes.into_iter().map(Item::Change));
        items.sort_by_key(Item::id);
        self.recent.extend(messages);
        self.log.extend(items);
        let within = |cap: u64| WELCOME_HISTORY.min(usize::try_from(cap).unwrap_or(usize::MAX));
        while self.recent.len() > within(caps.0) {
            self.recent.pop_front();
        }
        // Storage holds at most both caps' worth of entries.
        while self.log.len() > within(caps.0.saturating_add(caps.1)) {
            if let Some(old) = self.log.pop_front() {
                self.older_max = self.older_max.max(old.id());
            }
        }
    }

    /// Whether stored messages may answer message `id`. Replies are newer than what they answer,
    /// and memory holds every stored message newer than its oldest: for a message from there on,
    /// memory knows for sure, and an edit of a message nobody answered touches no storage.
    pub fn may_have_replies(&self, id: u64) -> bool {
        match self.recent.front() {
            Some(oldest) if oldest.message.id <= id => {
                self.recent.iter().any(|p| p.message.reply_to == Some(id))
            }
            _ => true,
        }
    }

    /// A message in memory, by id.
    pub fn message_mut(&mut self, id: u64) -> Option<&mut Posted> {
        let i = self
            .recent
            .binary_search_by_key(&id, |p| p.message.id)
            .ok()?;
        self.recent.get_mut(i)
    }

    /// An edited message's replies in memory quote its new text.
    pub fn requote(&mut self, target: u64, quote: &str) {
        for posted in &mut self.recent {
            requote(&mut posted.message, target, quote);
        }
    }

    /// Erases a deleted message's text from the edits and quotes held in memory.
    pub fn erase(&mut self, target: u64) {
        for item in &mut self.log {
            if let Item::Change(Change::Edit {
                target: t,
                text,
                mentions,
                ..
            }) = item
            {
                if *t == target {
                    text.clear();
                    mentions.clear();
                }
            }
        }
        for posted in &mut self.recent {
            erase_quote(&mut posted.message, target);
        }
    }

    /// How many of the oldest stored entries of `kind` exceed its cap.
    pub fn excess(&self, kind: Trim, cap: u64) -> u64 {
        match kind {
            Trim::Messages => self.stored_messages.saturating_sub(cap),
            Trim::Changes => (self.stored.saturating_sub(self.stored_messages)).saturating_sub(cap),
        }
    }

    /// Records that the `count` oldest entries of `kind` were deleted, the newest of them `upto`.
    /// Messages in memory are the newest (at most the cap's worth), so none of them went.
    pub fn deleted(&mut self, kind: Trim, count: u64, upto: u64) {
        self.stored = self.stored.saturating_sub(count);
        match kind {
            Trim::Messages => self.stored_messages = self.stored_messages.saturating_sub(count),
            Trim::Changes => self.changes_floor = self.changes_floor.max(upto),
        }
        if self.stored <= self.log.len() as u64 {
            self.older_max = 0;
        }
    }

    /// A welcome's history. Without `since`: the newest messages in their current state. With
    /// `since`: every entry after it, oldest first, at most [`WELCOME_HISTORY`], and whether stored
    /// entries after `since` were left out. A `since` from before the changes floor (changes
    /// after it were deleted by `CHANGES_CAP`) cannot be resumed exactly: it gets the newest
    /// messages in their current state, as without `since`, and `truncated`.
    pub fn since(&self, since: Option<u64>) -> (Vec<EntryRef<'_>>, bool) {
        if since.is_some_and(|since| since < self.changes_floor) {
            let (current, _) = self.since(None);
            return (current, true);
        }
        match since {
            None => (
                self.recent
                    .iter()
                    .map(|p| EntryRef::Message(&p.message))
                    .collect(),
                false,
            ),
            Some(since) => {
                let entries = self
                    .log
                    .iter()
                    .filter(|item| item.id() > since)
                    .filter_map(|item| match item {
                        Item::Message(id) => {
                            let i = self
                                .recent
                                .binary_search_by_key(id, |p| p.message.id)
                                .ok()?;
                            Some(EntryRef::Message(&self.recent[i].message))
                        }
                        Item::Change(change) => Some(EntryRef::Change(change)),
                    })
                    .collect();
                // Exact, with gaps in the id sequence: only a stored entry newer than `since`
                // that is not in memory makes the welcome incomplete.
                let truncated = self.stored > self.log.len() as u64 && since < self.older_max;
                (entries, truncated)
            }
        }
    }

    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    pub fn stored_count(&self) -> u64 {
        self.stored
    }
}

/// A reply quotes what its message says now: an edit that takes something back takes it back
/// from the quotes too.
pub fn requote(message: &mut ChatMessage, target: u64, quote: &str) {
    if message.reply_to == Some(target) {
        if let Some(q) = &mut message.reply {
            if !q.deleted {
                q.text = quote.to_string();
            }
        }
    }
}

/// A reply's quote of a deleted message becomes a tombstone too.
pub fn erase_quote(message: &mut ChatMessage, target: u64) {
    if message.reply_to == Some(target) {
        if let Some(quote) = &mut message.reply {
            quote.text.clear();
            quote.deleted = true;
        }
    }
}

/// A store in memory, for tests: a `Vec` of entries, and a switch that makes writes fail.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct VecStore {
    pub messages: Vec<Posted>,
    pub changes: Vec<Change>,
    pub meta: std::collections::BTreeMap<&'static str, String>,
    pub members: std::collections::BTreeMap<String, MemberRow>,
    pub reads: std::collections::BTreeMap<String, u64>,
    pub fail: bool,
    pub changes_floor: u64,
    /// How many requotes writes asked for (an edit of a message nobody answered asks none).
    pub requotes: usize,
    /// The room's files, when a test uses them.
    pub files: Option<crate::files::tests::MemFiles>,
}

#[cfg(test)]
impl VecStore {
    /// Every stored id, in order.
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.messages.iter().map(|p| p.message.id).collect();
        ids.extend(self.changes.iter().map(Change::id));
        ids.sort_unstable();
        ids
    }

    /// What a restarted room would load.
    pub fn load(&self) -> StoredHistory {
        let ids = self.ids();
        let window: Vec<u64> = ids.iter().rev().take(WELCOME_HISTORY).copied().collect();
        let from = self.messages.len().saturating_sub(WELCOME_HISTORY);
        StoredHistory {
            last_id: ids.last().copied().unwrap_or(0),
            stored: ids.len() as u64,
            stored_messages: self.messages.len() as u64,
            changes_floor: self.changes_floor,
            recent: self.messages[from..].to_vec(),
            changes: self
                .changes
                .iter()
                .filter(|c| window.contains(&c.id()))
                .cloned()
                .collect(),
            older_max: ids.iter().rev().nth(WELCOME_HISTORY).copied().unwrap_or(0),
            state: super::moderation::RoomState::load(|key| self.meta.get(key).cloned()),
            members: self.members.values().map(super::StoredMember::of).collect(),
        }
    }
}

#[cfg(test)]
impl Store for VecStore {
    fn write(&mut self, batch: &WriteBatch) -> Result<(), StoreError> {
        if self.fail {
            return Err(StoreError("injected fault".into()));
        }
        self.messages.extend(batch.messages.iter().cloned());
        self.changes.extend(batch.changes.iter().cloned());
        for update in &batch.updates {
            if let Some(p) = self.messages.iter_mut().find(|p| p.message.id == update.id) {
                p.message = update.clone();
            }
        }
        self.requotes += batch.requoted.len();
        for (target, quote) in &batch.requoted {
            for p in &mut self.messages {
                requote(&mut p.message, *target, quote);
            }
        }
        for &target in &batch.erased {
            for change in &mut self.changes {
                if let Change::Edit {
                    target: t,
                    text,
                    mentions,
                    ..
                } = change
                {
                    if *t == target {
                        text.clear();
                        mentions.clear();
                    }
                }
            }
            for p in &mut self.messages {
                erase_quote(&mut p.message, target);
            }
        }
        for (key, value) in &batch.meta {
            self.meta.insert(key, value.clone());
        }
        for (key, row) in &batch.members {
            match row {
                Some(row) => self.members.insert(key.clone(), row.clone()),
                None => self.members.remove(key),
            };
        }
        for (identity, id) in &batch.reads {
            let read = self.reads.entry(identity.clone()).or_default();
            *read = (*read).max(*id);
        }
        Ok(())
    }

    fn read_position(&mut self, identity: &str) -> Result<Option<u64>, StoreError> {
        if self.fail {
            return Err(StoreError("injected fault".into()));
        }
        Ok(self.reads.get(identity).copied())
    }

    fn posted(&mut self, id: u64) -> Result<Option<Posted>, StoreError> {
        Ok(self.messages.iter().find(|p| p.message.id == id).cloned())
    }

    fn files(&mut self) -> Option<&mut dyn crate::files::FileStore> {
        self.files
            .as_mut()
            .map(|f| f as &mut dyn crate::files::FileStore)
    }

    fn delete_oldest(&mut self, kind: Trim, count: u64) -> Result<u64, StoreError> {
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        let upto = match kind {
            Trim::Messages => {
                let n = n.min(self.messages.len());
                let gone: Vec<Posted> = self.messages.drain(..n).collect();
                gone.last().map_or(0, |p| p.message.id)
            }
            Trim::Changes => {
                let n = n.min(self.changes.len());
                let gone: Vec<Change> = self.changes.drain(..n).collect();
                let upto = gone.last().map_or(0, Change::id);
                self.changes_floor = self.changes_floor.max(upto);
                upto
            }
        };
        Ok(upto)
    }
}
