//! The members storage remembers, as a rebuild of the room loads them ([`Room::restore`]).
//!
//! A wake from hibernation finds every member's socket still open, so their rows (one per member,
//! written at the join) are needed only for a member no socket holds: away across a restart of the
//! room object. Each row therefore comes with its key (the table's primary key), and its JSON is
//! parsed only for a key no socket holds. Parsing all 500 rows of a room of 500 on every
//! wake was a fifth of the rebuild's CPU, spent for nothing (bench/README.md, issue 23).

use super::MemberRow;

/// One row of the `members` table, read lazily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMember {
    /// The row's name key (the table's primary key).
    pub key: String,
    /// The row as stored: a [`MemberRow`] as JSON.
    pub json: String,
}

impl StoredMember {
    /// A row as storage holds it (the in-memory store of the tests).
    pub fn of(row: &MemberRow) -> Self {
        StoredMember {
            key: row.key.clone(),
            json: serde_json::to_string(row).unwrap_or_default(),
        }
    }

    /// The row, read as its derived `Deserialize` would; `None` if it does not read (such a row
    /// is skipped, as it always was).
    pub fn row(&self) -> Option<MemberRow> {
        MemberRow::read(&serde_json::from_str(&self.json).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, name: &str) -> MemberRow {
        MemberRow {
            key: key.into(),
            name: name.into(),
            order: 0,
            session: None,
            owner: false,
            address: None,
            verified: false,
            away_until: None,
        }
    }

    #[test]
    fn a_row_reads_back_as_written() {
        let r = MemberRow {
            session: Some("s".into()),
            away_until: Some(9),
            verified: true,
            ..row("alice", "Alice")
        };
        assert_eq!(StoredMember::of(&r).row(), Some(r));
        let broken = StoredMember {
            json: "{\"key\":1}".into(),
            ..StoredMember::of(&row("k", "n"))
        };
        assert_eq!(broken.row(), None);
    }

    #[test]
    fn a_rebuild_reads_only_the_rows_no_socket_holds() {
        use crate::room::{Attachment, Room, StoredHistory};
        use crate::validate::name_key;
        let limits = crate::config::Limits {
            presence_grace_ms: 10_000,
            ..crate::room::harness::unlimited()
        };
        let members = vec![
            // Alice has a socket: her row is not read, so even an unreadable one does no harm.
            StoredMember {
                key: name_key("Alice"),
                json: "not json".into(),
            },
            // Bob has none: away for the grace, as before.
            StoredMember::of(&MemberRow {
                order: 1,
                ..row(&name_key("Bob"), "Bob")
            }),
            // Nor has Cy, whose row does not read: skipped, as before.
            StoredMember {
                key: name_key("Cy"),
                json: "{".into(),
            },
        ];
        let history = StoredHistory {
            members,
            ..StoredHistory::default()
        };
        let mut room = Room::new(limits, "room", history);
        let alice = Attachment::member_for_test("Alice", None);
        room.restore([alice], 1_000);
        assert_eq!(room.member_names().collect::<Vec<_>>(), ["Alice", "Bob"]);
        assert_eq!(room.away_names(), ["Bob"]);
        assert_eq!(room.member_name(1), Some("Alice"));
    }
}
