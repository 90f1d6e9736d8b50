//! A message's reactions as sent: per emoji a `count`, the first few names and, in a welcome,
//! whether the member reacted (`me`), within [`MAX_REACTION_BYTES`] however many reacted.
//!
//! Storage keeps every name (the toggle rules and `GET …/messages/{id}/reactions` need them);
//! frames and pages carry this summary. Without it a message's reactions grew with everyone who
//! ever reacted (names stay after members leave), and a newcomer's welcome with them: one
//! address grew welcomes from 0.8 MB to 1.8 MB.

use super::server::{Change, ChatMessage, Entry, EntryRef, Quote, Reaction};
use serde::Serialize;

/// The most a message's `reactions` take in any frame or page, in bytes of JSON.
pub const MAX_REACTION_BYTES: usize = 2048;

/// Names listed per emoji ("Bob, Carol and 58 others"); the rest are counted.
pub const REACTION_NAMES: usize = 5;

/// One emoji on a message, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReactionSummary<'a> {
    pub emoji: &'a str,
    pub count: usize,
    /// The first to react, in order, at most [`REACTION_NAMES`] (fewer when the bytes run out).
    pub names: Vec<&'a str>,
    /// Whether the member this was made for reacted (welcomes only; omitted when not).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub me: bool,
}

/// A message as sent: [`ChatMessage`] with its reactions summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename = "message")]
pub struct MessageOut<'a> {
    pub id: u64,
    pub name: &'a str,
    pub text: &'a str,
    pub at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<&'a Quote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionSummary<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub mentions: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub files: &'a [crate::files::rules::FileRef],
}

impl ChatMessage {
    /// The message as sent. `me`: the name of the member it is made for, if one (a welcome).
    pub fn out<'a>(&'a self, me: Option<&str>) -> MessageOut<'a> {
        MessageOut {
            id: self.id,
            name: &self.name,
            text: &self.text,
            at: self.at,
            nonce: self.nonce.as_deref(),
            reply_to: self.reply_to,
            reply: self.reply.as_ref(),
            edited_at: self.edited_at,
            deleted: self.deleted,
            reactions: summarize(&self.reactions, me),
            mentions: &self.mentions,
            files: &self.files,
        }
    }
}

/// Reactions summarized within [`MAX_REACTION_BYTES`]: every emoji with its count first (in
/// first-use order, as many as fit), then names, first reactors first, while they fit.
pub fn summarize<'a>(reactions: &'a [Reaction], me: Option<&str>) -> Vec<ReactionSummary<'a>> {
    let mut used = 2; // []
    let mut out: Vec<ReactionSummary<'a>> = Vec::new();
    for r in reactions {
        let summary = ReactionSummary {
            emoji: &r.emoji,
            count: r.names.len(),
            names: Vec::new(),
            me: me.is_some_and(|me| r.names.iter().any(|n| n == me)),
        };
        let cost = json_len(&summary) + usize::from(!out.is_empty());
        if used + cost > MAX_REACTION_BYTES {
            break;
        }
        used += cost;
        out.push(summary);
    }
    // Names one round at a time, so that every emoji gets its first reactor before any gets a
    // second.
    for round in 0..REACTION_NAMES {
        for (summary, r) in out.iter_mut().zip(reactions) {
            let Some(name) = r.names.get(round) else {
                continue;
            };
            // A name costs its JSON string and a comma (the first one's comma is already in the
            // empty list's `[]`).
            let cost = json_len(name) + usize::from(round > 0);
            if used + cost > MAX_REACTION_BYTES {
                return out;
            }
            used += cost;
            summary.names.push(name);
        }
    }
    out
}

/// The length of a value's JSON.
fn json_len<T: Serialize + ?Sized>(v: &T) -> usize {
    serde_json::to_string(v).map_or(usize::MAX / 4, |s| s.len())
}

/// A log entry as sent: a message summarized, or a change as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EntryOut<'a> {
    Message(MessageOut<'a>),
    Change(&'a Change),
}

impl<'a> EntryRef<'a> {
    /// The entry as sent, for the member named `me` (a welcome) or anyone (`None`).
    pub fn out(self, me: Option<&str>) -> EntryOut<'a> {
        match self {
            EntryRef::Message(m) => EntryOut::Message(m.out(me)),
            EntryRef::Change(c) => EntryOut::Change(c),
        }
    }
}

impl Entry {
    /// The entry as a page sends it.
    pub fn out(&self) -> EntryOut<'_> {
        match self {
            Entry::Message(m) => EntryOut::Message(m.out(None)),
            Entry::Change(c) => EntryOut::Change(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaction(emoji: &str, n: usize, prefix: &str) -> Reaction {
        Reaction {
            emoji: emoji.into(),
            names: (0..n).map(|i| format!("{prefix}{i}")).collect(),
        }
    }

    #[test]
    fn a_summary_counts_everyone_and_names_the_first_five() {
        let r = [reaction("👍", 60, "Member"), reaction("🎉", 1, "Bob")];
        let s = summarize(&r, Some("Member7"));
        assert_eq!(s[0].count, 60);
        assert_eq!(
            s[0].names,
            ["Member0", "Member1", "Member2", "Member3", "Member4"]
        );
        assert!(s[0].me, "the member reacted, though not named");
        assert_eq!(s[1].names, ["Bob0"]);
        assert!(!s[1].me);
        assert!(!summarize(&r, None)[0].me);
    }

    #[test]
    fn reactions_take_at_most_2_kib_whatever_they_hold() {
        // The worst case: many long emoji, each with thousands of 32-character names of 4-byte
        // characters.
        let long_name = "𝔄".repeat(32);
        let emoji = "👩🏽‍❤️‍💋‍👨🏿";
        let r: Vec<Reaction> = (0..200)
            .map(|i| Reaction {
                emoji: format!("{emoji}{i}"),
                names: vec![long_name.clone(); 5000],
            })
            .collect();
        let m = ChatMessage {
            reactions: r,
            ..ChatMessage::new(1, "A".into(), "hi".into(), 1, None)
        };
        let out = m.out(Some("nobody"));
        let json = serde_json::to_string(&out.reactions).unwrap();
        assert!(json.len() <= MAX_REACTION_BYTES, "{}", json.len());
        assert!(!out.reactions.is_empty());
        // The usual case is whole.
        let r = [reaction("👍", 2, "x")];
        let json = serde_json::to_value(summarize(&r, None)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"emoji":"👍","count":2,"names":["x0","x1"]}])
        );
    }
}
