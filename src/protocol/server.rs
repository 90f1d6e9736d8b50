//! Frames the server sends: messages (live and in history), change events, presence and the
//! welcome.

use serde::{Deserialize, Serialize};

/// A chat message as stored and as sent: the `message` frame and each `history` entry, always in
/// its current state (edited, deleted, reacted to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "message")]
pub struct ChatMessage {
    pub id: u64,
    pub name: String,
    pub text: String,
    /// Unix milliseconds, server clock.
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    /// The start of the answered message, so every client can quote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Quote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    /// A tombstone: the text is gone from storage too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// In first-use order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Members the text mentions (`@name`), by name; `@everyone`/`@here` from the owner
    /// (`crate::room::mentions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Pictures and files (`crate::files`), in the order the member attached them.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::files::rules::FileRef::list_from"
    )]
    pub files: Vec<crate::files::rules::FileRef>,
}

impl ChatMessage {
    /// Reads a stored message back as its derived `Deserialize` would ([`crate::fields`]): the
    /// history a room loads when it wakes.
    pub fn read(v: &serde_json::Value) -> Option<ChatMessage> {
        use serde_json::Value;
        let f = crate::fields::Fields::of(v)?;
        // The derive ignores the `type` tag when it reads a struct back: so does this.
        // A list that defaults to empty when missing (`null` is mistyped, as serde has it).
        let list = |name: &str| -> Option<Vec<Value>> {
            match f.0.get(name) {
                None => Some(Vec::new()),
                Some(v) => v.as_array().cloned(),
            }
        };
        let strings = |list: Vec<Value>| -> Option<Vec<String>> {
            list.iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let reply = match f.0.get("reply") {
            None | Some(Value::Null) => None,
            Some(q) => {
                let q = crate::fields::Fields::of(q)?;
                Some(Quote {
                    name: q.string("name")?,
                    text: q.string("text")?,
                    deleted: q.flag("deleted")?,
                })
            }
        };
        let mut reactions = Vec::new();
        for r in list("reactions")? {
            let r = crate::fields::Fields::of(&r)?;
            reactions.push(Reaction {
                emoji: r.string("emoji")?,
                names: strings(r.0.get("names")?.as_array()?.clone())?,
            });
        }
        let files = match f.0.get("files") {
            None => Vec::new(),
            Some(v) => v
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(crate::files::rules::FileRef::from_value)
                .collect(),
        };
        Some(ChatMessage {
            id: f.u64("id")?,
            name: f.string("name")?,
            text: f.string("text")?,
            at: f.u64("at")?,
            nonce: f.opt_string("nonce")?,
            reply_to: f.opt_u64("reply_to")?,
            reply,
            edited_at: f.opt_u64("edited_at")?,
            deleted: f.flag("deleted")?,
            reactions,
            mentions: strings(list("mentions")?)?,
            files,
        })
    }

    pub fn new(id: u64, name: String, text: String, at: u64, nonce: Option<String>) -> Self {
        ChatMessage {
            id,
            name,
            text,
            at,
            nonce,
            reply_to: None,
            reply: None,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
            mentions: Vec::new(),
            files: Vec::new(),
        }
    }
}

/// The quoted start of a message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub name: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// One emoji on a message and who put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub names: Vec<String>,
}

/// A change to the room, with its own id in the message sequence: applying one twice is harmless.
///
/// Read back from storage with [`Change::from_value`] rather than a derived `Deserialize`: an
/// internally tagged enum's derive buffers every field through serde's `Content`, which costs
/// more Wasm than the room's whole budget allows for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Edit {
        id: u64,
        target: u64,
        text: String,
        name: String,
        at: u64,
        /// The edited text's mentions (the message's `mentions` from now on).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<String>,
    },
    Delete {
        id: u64,
        target: u64,
        name: String,
        at: u64,
    },
    React {
        id: u64,
        target: u64,
        emoji: String,
        on: bool,
        /// How many members have this emoji on the message after this change: a count to set,
        /// not to step, so applying the change twice is harmless (0 in entries stored before it).
        count: usize,
        name: String,
        at: u64,
    },
    Topic {
        id: u64,
        text: String,
        name: String,
        at: u64,
    },
    Lock {
        id: u64,
        locked: bool,
        name: String,
        at: u64,
    },
    /// The room's display name changed (`""`: none, the id is shown).
    Title {
        id: u64,
        text: String,
        name: String,
        at: u64,
    },
    Kick {
        id: u64,
        /// Who was kicked.
        target: String,
        name: String,
        at: u64,
    },
}

impl Change {
    pub fn id(&self) -> u64 {
        match self {
            Change::Edit { id, .. }
            | Change::Delete { id, .. }
            | Change::React { id, .. }
            | Change::Topic { id, .. }
            | Change::Lock { id, .. }
            | Change::Title { id, .. }
            | Change::Kick { id, .. } => *id,
        }
    }

    /// The message this change is about, if any.
    pub fn target(&self) -> Option<u64> {
        match self {
            Change::Edit { target, .. }
            | Change::Delete { target, .. }
            | Change::React { target, .. } => Some(*target),
            _ => None,
        }
    }

    /// A change as stored (its frame), or `None` if it is not one.
    pub fn from_value(v: &serde_json::Value) -> Option<Change> {
        let id = v.get("id")?.as_u64()?;
        let name = v.get("name")?.as_str()?.to_string();
        let at = v.get("at")?.as_u64()?;
        let text = || v.get("text").and_then(|t| t.as_str()).map(str::to_string);
        let target = || v.get("target").and_then(|t| t.as_u64());
        Some(match v.get("type")?.as_str()? {
            "edit" => Change::Edit {
                id,
                target: target()?,
                text: text()?,
                name,
                at,
                mentions: v
                    .get("mentions")
                    .and_then(|m| serde_json::from_value(m.clone()).ok())
                    .unwrap_or_default(),
            },
            "delete" => Change::Delete {
                id,
                target: target()?,
                name,
                at,
            },
            "react" => Change::React {
                id,
                target: target()?,
                emoji: v.get("emoji")?.as_str()?.to_string(),
                on: v.get("on")?.as_bool()?,
                count: v.get("count").and_then(|c| c.as_u64()).unwrap_or(0) as usize,
                name,
                at,
            },
            "topic" => Change::Topic {
                id,
                text: text()?,
                name,
                at,
            },
            "lock" => Change::Lock {
                id,
                locked: v.get("locked")?.as_bool()?,
                name,
                at,
            },
            "title" => Change::Title {
                id,
                text: text()?,
                name,
                at,
            },
            "kick" => Change::Kick {
                id,
                target: v.get("target")?.as_str()?.to_string(),
                name,
                at,
            },
            _ => return None,
        })
    }

    /// The frame's `type`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Edit { .. } => "edit",
            Change::Delete { .. } => "delete",
            Change::React { .. } => "react",
            Change::Topic { .. } => "topic",
            Change::Lock { .. } => "lock",
            Change::Title { .. } => "title",
            Change::Kick { .. } => "kick",
        }
    }
}

/// One entry of the room's log: a message (in its current state) or a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Entry {
    Message(ChatMessage),
    Change(Change),
}

impl Entry {
    pub fn id(&self) -> u64 {
        match self {
            Entry::Message(m) => m.id,
            Entry::Change(c) => c.id(),
        }
    }
}

/// A borrowed log entry, for a welcome's history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EntryRef<'a> {
    Message(&'a ChatMessage),
    Change(&'a Change),
}

/// Frames the server sends, other than `message` ([`ChatMessage`]), changes ([`Change`]) and
/// `error` ([`super::ErrorFrame`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome {
        room: &'a str,
        name: &'a str,
        /// Everyone, in join order; past `PRESENCE_LIST_MAX` members only the latest joiners.
        members: Vec<&'a str>,
        /// The number of members, in a room past `PRESENCE_LIST_MAX` only.
        #[serde(skip_serializing_if = "Option::is_none")]
        count: Option<usize>,
        /// Members whose socket dropped, within their presence grace (also in `members`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        away: Vec<&'a str>,
        /// Messages with their reactions summarized for this member (`me`).
        history: Vec<super::EntryOut<'a>>,
        truncated: bool,
        last_id: u64,
        topic: &'a str,
        /// The room's display name, `""` for none.
        title: &'a str,
        locked: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        owner: bool,
        /// The room's owners who are here or away, in join order; absent when none is.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        owners: Vec<&'a str>,
        /// Members who joined with a join token (`crate::token`), in join order, those away
        /// included; absent when there are none.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        verified: Vec<&'a str>,
        /// The member's read position (`crate::room::read`), 0 if none.
        read_id: u64,
    },
    Join {
        name: &'a str,
        at: u64,
        /// The member joined with a join token.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        verified: bool,
        /// The member is one of the room's owners.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        owner: bool,
    },
    Leave {
        name: &'a str,
        at: u64,
    },
    Away {
        name: &'a str,
        at: u64,
    },
    Back {
        name: &'a str,
        at: u64,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        verified: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        owner: bool,
    },
    /// To a kicked member alone, just before its socket closes with 4003: who removed them,
    /// from which room, and how long the ban has left (0: no ban).
    Kicked {
        room: &'a str,
        title: &'a str,
        name: &'a str,
        at: u64,
        retry_after_ms: u64,
    },
    /// The answer to an `auth` frame: the new token's `exp` (unix seconds).
    Auth {
        exp: u64,
    },
    /// Presence in a room past `PRESENCE_LIST_MAX` members (`crate::room::crowd`): the count and
    /// the latest joiners and leavers since the last one; or, when the room shrinks below that
    /// size again, the whole list in `members`.
    Presence {
        count: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        members: Option<Vec<&'a str>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        joined: Vec<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        left: Vec<&'a str>,
        /// Who of `members` (or `joined`) joined with a join token; absent when none did.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        verified: Vec<&'a str>,
    },
    Typing {
        name: &'a str,
    },
    /// The member's read position moved (on another of their connections).
    Read {
        id: u64,
    },
    /// The answer to `upload`: where to `PUT` the bytes, once, before `expires_at`.
    UploadTicket {
        id: &'a str,
        url: &'a str,
        expires_at: u64,
    },
    DebugReset {
        ok: bool,
    },
    DebugFailWrites {
        on: bool,
    },
}
