//! The outbox: frames the room decided to send during a burst of events, waiting for the flush.
//!
//! Each frame is queued once with its audience; the flush ([`super::Room::flush`]) turns the queue
//! into one batch per recipient. Most members receive exactly the same frames, so they share one
//! text; only a member with frames of its own (an error, its welcome, a typing it sent) gets a
//! text of its own.

use super::history::Posted;
use super::members::MemberRow;
use super::ConnId;
use crate::protocol::Change;
use std::collections::{BTreeMap, BTreeSet};

/// A batch holds at most this many frames...
pub const MAX_BATCH_FRAMES: usize = 256;
/// ...and at most this many bytes, well under the runtime's 1 MiB per WebSocket message. A single
/// larger frame (a big welcome) goes alone.
pub const MAX_BATCH_BYTES: usize = 128 * 1024;

#[derive(Debug, Default)]
pub(super) struct Outbox {
    pub entries: Vec<Entry>,
    /// The next entry's sequence number.
    pub next_seq: u64,
    /// The burst's messages, in id order, waiting to be stored...
    pub messages: Vec<Posted>,
    /// ...and, for each, its frame and sender.
    pub sent: Vec<Pending>,
    /// The burst's changes, in id order, waiting to be stored, each with who made it.
    pub changes: Vec<(Change, ConnId)>,
    /// Stored messages read for a change in this burst (older than the ones in memory).
    pub fetched: BTreeMap<u64, Posted>,
    /// Stored messages whose current state this burst changed.
    pub touched: BTreeSet<u64>,
    /// Messages edited in this burst, with the start of their new text for replies' quotes.
    pub requoted: Vec<(u64, String)>,
    /// Messages deleted in this burst.
    pub erased: Vec<u64>,
    pub meta: Vec<(&'static str, String)>,
    pub members: Vec<(String, Option<MemberRow>)>,
}

#[derive(Debug)]
pub(super) struct Entry {
    /// Strictly increasing across the room's life: a member hears the entries queued after its
    /// welcome, which already holds the effect of every earlier one.
    pub seq: u64,
    pub to: Audience,
    pub frame: Queued,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    /// Every member whose welcome came before this entry (and still is one at the flush), but
    /// `except`. Later joiners get the room's state in their welcome instead.
    Members { except: Option<ConnId> },
    /// One socket.
    Only(ConnId),
}

#[derive(Debug)]
pub(super) enum Queued {
    /// A serialized frame: presence (join, leave, typing) for members, or a private frame.
    Text(String),
    /// `messages[i]`: sent only if it was stored, else its sender gets `storage_failed`.
    Message(usize),
    /// `changes[i]`: likewise.
    Change(usize),
    /// The joiner's welcome, built at the flush so it holds the room as it is then.
    Welcome { since: Option<u64> },
}

#[derive(Debug)]
pub(super) struct Pending {
    /// The message frame, serialized once for every recipient.
    pub text: String,
    pub sender: ConnId,
    pub nonce: Option<String>,
}

impl Outbox {
    /// Everything queued so far, leaving an empty outbox that goes on with the same sequence.
    pub fn take(&mut self) -> Outbox {
        let next_seq = self.next_seq;
        let queued = std::mem::take(self);
        self.next_seq = next_seq;
        queued
    }

    /// The messages this burst holds that storage does not have in their current state yet: the
    /// new ones and the stored ones it read for a change.
    pub fn held_messages(&mut self) -> impl Iterator<Item = &mut Posted> {
        self.messages.iter_mut().chain(self.fetched.values_mut())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A presence frame (join, leave, typing) for the members (but `except`).
    pub fn presence(&mut self, text: String, except: Option<ConnId>) {
        self.push(Audience::Members { except }, Queued::Text(text));
    }

    pub fn only(&mut self, conn: ConnId, text: String) {
        self.push(Audience::Only(conn), Queued::Text(text));
    }

    /// The connections this outbox holds a welcome for.
    pub fn welcomed(&self) -> Vec<ConnId> {
        self.entries
            .iter()
            .filter_map(|e| match (&e.frame, e.to) {
                (Queued::Welcome { .. }, Audience::Only(conn)) => Some(conn),
                _ => None,
            })
            .collect()
    }

    pub fn welcome(&mut self, conn: ConnId, since: Option<u64>) {
        self.push(Audience::Only(conn), Queued::Welcome { since });
    }

    /// A new message. Its frame is serialized at the flush, so that changes later in the same
    /// burst (an edit right after sending) are in it.
    pub fn message(&mut self, sender: ConnId, posted: Posted) {
        self.sent.push(Pending {
            text: String::new(),
            sender,
            nonce: posted.message.nonce.clone(),
        });
        self.messages.push(posted);
        let index = self.messages.len() - 1;
        self.push(Audience::Members { except: None }, Queued::Message(index));
    }

    /// A new change, made by `actor`.
    pub fn change(&mut self, actor: ConnId, change: Change) {
        self.changes.push((change, actor));
        let index = self.changes.len() - 1;
        self.push(Audience::Members { except: None }, Queued::Change(index));
    }

    /// A message of this burst, not stored yet.
    pub fn pending_mut(&mut self, id: u64) -> Option<&mut Posted> {
        let i = self
            .messages
            .binary_search_by_key(&id, |p| p.message.id)
            .ok()?;
        self.messages.get_mut(i)
    }

    pub fn meta(&mut self, key: &'static str, value: String) {
        self.meta.retain(|(k, _)| *k != key);
        self.meta.push((key, value));
    }

    pub fn remember_member(&mut self, row: MemberRow) {
        self.members.push((row.key.clone(), Some(row)));
    }

    pub fn forget_member(&mut self, key: &str) {
        self.members.push((key.to_string(), None));
    }

    fn push(&mut self, to: Audience, frame: Queued) {
        self.entries.push(Entry {
            seq: self.next_seq,
            to,
            frame,
        });
        self.next_seq += 1;
    }

    /// Whether every frame waiting for the members is presence (nothing that must go at once).
    pub fn only_presence(&self) -> bool {
        let mut any = false;
        for entry in &self.entries {
            match (&entry.to, &entry.frame) {
                (Audience::Members { .. }, Queued::Text(_)) => any = true,
                (Audience::Members { .. }, _) => return false,
                (Audience::Only(_), _) => {}
            }
        }
        any
    }
}

/// Packs frames into batch texts: a lone frame as itself, several as a JSON array, split by
/// [`MAX_BATCH_FRAMES`] and [`MAX_BATCH_BYTES`] (never dropped).
pub fn pack<'a>(frames: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut batches = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut bytes = 0;
    for frame in frames {
        if !current.is_empty()
            && (current.len() == MAX_BATCH_FRAMES || bytes + frame.len() + 1 > MAX_BATCH_BYTES)
        {
            batches.push(join(&current, bytes));
            current.clear();
            bytes = 0;
        }
        bytes += frame.len() + 1;
        current.push(frame);
    }
    if !current.is_empty() {
        batches.push(join(&current, bytes));
    }
    batches
}

fn join(frames: &[&str], bytes: usize) -> String {
    if let [one] = frames {
        return (*one).to_string();
    }
    let mut text = String::with_capacity(bytes + 2);
    text.push('[');
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(frame);
    }
    text.push(']');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_frame_is_itself_and_several_are_an_array() {
        assert_eq!(pack(["{\"a\":1}"]), vec!["{\"a\":1}"]);
        assert_eq!(pack(["{}", "{\"b\":2}"]), vec!["[{},{\"b\":2}]"]);
        assert!(pack(Vec::<&str>::new()).is_empty());
    }

    #[test]
    fn big_bursts_are_split_never_dropped() {
        let frames: Vec<String> = (0..600).map(|i| format!("{{\"i\":{i}}}")).collect();
        let batches = pack(frames.iter().map(String::as_str));
        assert_eq!(batches.len(), 3);
        let mut seen = Vec::new();
        for b in &batches {
            let v: Vec<serde_json::Value> = serde_json::from_str(b).unwrap();
            assert!(v.len() <= MAX_BATCH_FRAMES);
            seen.extend(v.into_iter().map(|f| f["i"].as_u64().unwrap()));
        }
        assert_eq!(seen, (0..600).collect::<Vec<_>>());

        let big = format!("\"{}\"", "x".repeat(MAX_BATCH_BYTES));
        let batches = pack(["1", big.as_str(), "2", "3"]);
        assert_eq!(
            batches,
            vec!["1".to_string(), big.clone(), "[2,3]".to_string()]
        );
        for b in pack(vec!["\"aaaa\""; 40_000]) {
            assert!(b.len() <= MAX_BATCH_BYTES);
        }
    }
}
