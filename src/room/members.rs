//! Who is in the room: each socket ([`Conn`]) and, once it joined, its [`Member`]. What the
//! runtime keeps per socket across hibernation is an [`Attachment`]; the room is rebuilt from them.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// What the runtime keeps with each socket across hibernation: enough to rebuild the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub conn: ConnId,
    /// Unix ms; the join deadline counts from here.
    pub accepted_at: u64,
    /// A digest of the client's address (never the address itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The room closed or replaced this socket: whatever it still sends is ignored, also after a
    /// rebuild.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberRecord>,
    /// When the socket's join token runs out (unix ms, `exp` plus the skew): closed with 4004
    /// unless renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
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
    /// Joined with the room's owner key (or the operator's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub owner: bool,
    /// Joined with a join token: `session` is then the digest of the token's `sub`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    /// The name key the room gave the member ([`crate::validate::name_key`]), so that a rebuild
    /// takes it as it was instead of computing it again: a call into the name module per member
    /// on every wake. Attachments from before it was kept have none: computed from the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Attachment {
    /// Reads an attachment back as its derived `Deserialize` would ([`crate::fields`]).
    pub fn read(value: &serde_json::Value) -> Option<Attachment> {
        let f = crate::fields::Fields::of(value)?;
        let member = match f.0.get("member") {
            None | Some(serde_json::Value::Null) => None,
            Some(m) => Some(MemberRecord::read(m)?),
        };
        Some(Attachment {
            conn: ConnId::try_from(f.u64("conn")?).ok()?,
            accepted_at: f.u64("accepted_at")?,
            address: f.opt_string("address")?,
            closed: f.flag("closed")?,
            member,
            expires_at: f.opt_u64("expires_at")?,
        })
    }
}

impl MemberRecord {
    /// Reads a member record back as its derived `Deserialize` would ([`crate::fields`]).
    pub fn read(value: &serde_json::Value) -> Option<MemberRecord> {
        let f = crate::fields::Fields::of(value)?;
        Some(MemberRecord {
            name: f.string("name")?,
            order: f.u64("order")?,
            session: f.opt_string("session")?,
            owner: f.flag("owner")?,
            verified: f.flag("verified")?,
            key: f.opt_string("key")?,
        })
    }
}

impl MemberRow {
    /// Reads a stored row back as its derived `Deserialize` would ([`crate::fields`]).
    pub fn read(value: &serde_json::Value) -> Option<MemberRow> {
        let f = crate::fields::Fields::of(value)?;
        Some(MemberRow {
            key: f.string("key")?,
            name: f.string("name")?,
            order: f.u64("order")?,
            session: f.opt_string("session")?,
            owner: f.flag("owner")?,
            address: f.opt_string("address")?,
            verified: f.flag("verified")?,
            away_until: f.opt_u64("away_until")?,
        })
    }
}

/// A member as the room remembers them in storage, so presence survives a restart of the room
/// object (when every socket drops at once and no attachment is left).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub key: String,
    pub name: String,
    pub order: u64,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub owner: bool,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    /// Set while the member is away: when their presence grace ends (unix ms). A rebuilt room
    /// keeps that deadline instead of granting a new grace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_until: Option<u64>,
}

/// A member whose socket dropped, keeping their seat until `until` (the presence grace).
#[derive(Debug, Clone)]
pub(super) struct Away {
    pub member: Member,
    pub address: Option<String>,
    pub until: u64,
}

/// One open socket.
#[derive(Debug)]
pub(super) struct Conn {
    pub accepted_at: u64,
    pub address: Option<String>,
    pub closed: bool,
    pub member: Option<Member>,
    /// Last frame from this socket (unix ms): the idle timeout counts from here or from the last
    /// ping the runtime answered, whichever is later.
    pub last_heard: u64,
    pub last_typing: Option<u64>,
    /// The outbox sequence number its welcome covered: it hears only frames queued after it.
    pub welcomed_seq: u64,
    /// Rejected frames not yet logged (logged at most once per interval per connection).
    pub rejections: u32,
    pub rejections_logged_at: Option<u64>,
    /// When the socket's join token runs out (unix ms).
    pub expires_at: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct Member {
    pub name: String,
    /// The name's collision key ([`crate::validate::name_key`]).
    pub key: String,
    pub order: u64,
    /// The digest of the session secret, or for a verified member of the token's `sub`
    /// ([`crate::token::identity`]): who may edit the member's messages and take their seat.
    pub session: Option<String>,
    pub owner: bool,
    /// Joined with a join token: the member *is* their `sub` (`session`).
    pub verified: bool,
}

impl Member {
    /// Whose token bucket this member's messages take from: a verified member's `sub`, else
    /// the name (neither is shed by reconnecting).
    pub fn bucket(&self) -> &str {
        match (&self.session, self.verified) {
            (Some(identity), true) => identity,
            _ => &self.key,
        }
    }

    pub fn row(&self, address: Option<String>) -> MemberRow {
        MemberRow {
            key: self.key.clone(),
            name: self.name.clone(),
            order: self.order,
            session: self.session.clone(),
            owner: self.owner,
            address,
            verified: self.verified,
            away_until: None,
        }
    }
}

impl Conn {
    pub fn new(accepted_at: u64, address: Option<String>) -> Self {
        Conn {
            accepted_at,
            address,
            closed: false,
            member: None,
            last_heard: accepted_at,
            last_typing: None,
            welcomed_seq: 0,
            rejections: 0,
            rejections_logged_at: None,
            expires_at: None,
        }
    }

    pub fn attachment(&self, conn: ConnId) -> Attachment {
        Attachment {
            conn,
            accepted_at: self.accepted_at,
            address: self.address.clone(),
            closed: self.closed,
            member: self.member.as_ref().map(|m| MemberRecord {
                name: m.name.clone(),
                order: m.order,
                session: m.session.clone(),
                owner: m.owner,
                verified: m.verified,
                key: Some(m.key.clone()),
            }),
            expires_at: self.expires_at,
        }
    }
}

#[cfg(test)]
impl Attachment {
    /// A member's attachment on connection 1, the first to join (for tests).
    pub(crate) fn member_for_test(name: &str, key: Option<&str>) -> Attachment {
        Attachment {
            conn: 1,
            accepted_at: 0,
            address: None,
            closed: false,
            expires_at: None,
            member: Some(MemberRecord {
                name: name.into(),
                order: 0,
                session: None,
                owner: false,
                verified: false,
                key: key.map(str::to_string),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::{Room, StoredHistory};
    use crate::validate::name_key;

    fn with(name: &str, key: Option<&str>) -> Attachment {
        Attachment::member_for_test(name, key)
    }

    fn restored(attachment: Attachment) -> Room {
        let limits = crate::room::harness::unlimited();
        let mut room = Room::new(limits, "room", StoredHistory::default());
        room.restore([attachment], 0);
        room
    }

    #[test]
    fn a_rebuild_takes_the_key_the_member_had() {
        // The key the room gave, even where the name alone would give another.
        let room = restored(with("Alice", Some("seat")));
        assert!(room.by_key.contains_key("seat"));
        assert!(!room.by_key.contains_key(&name_key("Alice")));
        // An attachment from before keys were kept: computed from the name, as a join does.
        let room = restored(with("Alice", None));
        assert!(room.by_key.contains_key(&name_key("Alice")));
    }

    #[test]
    fn a_members_attachment_carries_their_key() {
        let mut conn = Conn::new(0, None);
        conn.member = Some(Member {
            name: "Zoë".into(),
            key: name_key("Zoë"),
            order: 3,
            session: None,
            owner: false,
            verified: false,
        });
        let attachment = conn.attachment(7);
        let json = serde_json::to_string(&attachment).unwrap();
        let back = Attachment::read(&serde_json::from_str(&json).unwrap()).unwrap();
        assert_eq!(back.member.unwrap().key, Some(name_key("Zoë")));
    }
}
