//! What was said: the [`Store`] the room writes through, and the newest messages it keeps in
//! memory for welcomes.
//!
//! The store is a trait so the room decides storage too: SQLite implements it in the shell, a
//! `Vec` in the tests (so a storage failure is a host unit test).

use crate::protocol::ChatMessage;
use std::collections::VecDeque;

/// The most history a `welcome` carries.
pub const WELCOME_HISTORY: usize = 100;

/// The room's durable history, as the room uses it.
pub trait Store {
    /// Stores `messages` (ids increasing) in one write: all of them, or none and an error.
    fn append(&mut self, messages: &[ChatMessage]) -> Result<(), StoreError>;
    /// Deletes the `count` oldest messages (the history cap).
    fn delete_oldest(&mut self, count: u64) -> Result<(), StoreError>;
}

/// A storage failure. Its text is for the log only: clients get a generic `storage_failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

/// What the room kept durably, loaded when the room object starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredHistory {
    /// Highest message id ever stored (0 for none).
    pub last_id: u64,
    /// Rows in storage.
    pub stored: u64,
    /// The newest rows (at most [`WELCOME_HISTORY`]), oldest first.
    pub recent: Vec<ChatMessage>,
    /// The highest stored id older than `recent` (0 if `recent` is all there is).
    pub older_max: u64,
}

/// The in-memory side of the history: id assignment and the newest messages.
#[derive(Debug)]
pub(super) struct History {
    /// The last id handed out. Ids of a failed write are never reused in this instance; after a
    /// restart the sequence resumes from the stored maximum, so ids nobody saw may come again.
    assigned: u64,
    last_id: u64,
    stored: u64,
    recent: VecDeque<ChatMessage>,
    older_max: u64,
}

impl History {
    pub fn new(stored: StoredHistory) -> Self {
        let mut history = History {
            assigned: stored.last_id,
            last_id: stored.last_id,
            stored: stored.stored,
            // Grows with the messages: most rooms never hold a full welcome's worth, and a
            // preallocated one was most of an idle room's memory (bench/churn.mjs).
            recent: VecDeque::new(),
            older_max: stored.older_max,
        };
        history.push(stored.recent, u64::MAX);
        history
    }

    pub fn next_id(&mut self) -> u64 {
        self.assigned = self.assigned.saturating_add(1);
        self.assigned
    }

    /// Records messages that are now durably stored. `cap` is the history cap.
    pub fn stored(&mut self, messages: Vec<ChatMessage>, cap: u64) {
        self.stored += messages.len() as u64;
        if let Some(last) = messages.last() {
            self.last_id = self.last_id.max(last.id);
        }
        self.push(messages, cap);
    }

    fn push(&mut self, messages: Vec<ChatMessage>, cap: u64) {
        self.recent.extend(messages);
        let keep = WELCOME_HISTORY.min(usize::try_from(cap).unwrap_or(usize::MAX));
        while self.recent.len() > keep {
            if let Some(old) = self.recent.pop_front() {
                self.older_max = self.older_max.max(old.id);
            }
        }
        // One slice, so welcomes borrow the history without copying it.
        self.recent.make_contiguous();
    }

    /// How many of the oldest stored messages exceed the cap.
    pub fn excess(&self, cap: u64) -> u64 {
        self.stored.saturating_sub(cap)
    }

    /// Records that the `count` oldest messages were deleted.
    pub fn deleted(&mut self, count: u64) {
        self.stored = self.stored.saturating_sub(count);
        if self.stored <= self.recent.len() as u64 {
            self.older_max = 0;
        }
    }

    /// A welcome's history: the messages after `since` (or the newest ones), oldest first, at most
    /// [`WELCOME_HISTORY`], and whether stored messages after `since` were left out.
    pub fn since(&self, since: Option<u64>) -> (&[ChatMessage], bool) {
        let recent = self.recent.as_slices().0;
        match since {
            None => (recent, false),
            Some(since) => {
                let start = recent.partition_point(|m| m.id <= since);
                // Exact, with gaps in the id sequence: only a stored message newer than `since`
                // that is not in memory makes the welcome incomplete.
                let truncated = self.stored > recent.len() as u64 && since < self.older_max;
                (&recent[start..], truncated)
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

/// A store in memory, for tests: a `Vec`, and a switch that makes writes fail.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct VecStore {
    pub messages: Vec<ChatMessage>,
    pub fail: bool,
}

#[cfg(test)]
impl Store for VecStore {
    fn append(&mut self, messages: &[ChatMessage]) -> Result<(), StoreError> {
        if self.fail {
            return Err(StoreError("injected fault".into()));
        }
        self.messages.extend_from_slice(messages);
        Ok(())
    }

    fn delete_oldest(&mut self, count: u64) -> Result<(), StoreError> {
        let n = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .min(self.messages.len());
        self.messages.drain(..n);
        Ok(())
    }
}
