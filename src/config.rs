//! The room's limits, read from wrangler `[vars]` (see the table in `docs/protocol.md`).
//!
//! Parsing is pure: the shell hands in a lookup function, so defaults and bad values are host-tested.
//! A malformed value falls back to the default rather than failing every request of the room.

/// Tunable limits of a room.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Token refill per second per member name (kept across reconnects); 0 disables it.
    pub rate_per_sec: f64,
    /// Token bucket capacity.
    pub rate_burst: f64,
    /// Joined members per room.
    pub max_members: usize,
    /// A socket that has not joined after this long is closed with 1008.
    pub join_timeout_ms: u64,
    /// Messages kept per room; older ones are deleted oldest first.
    pub history_cap: u64,
    /// Joins per client address per minute in this room; 0 disables the limit.
    pub address_joins_per_min: u32,
    /// Members from one client address in this room; 0 disables the limit.
    pub address_max_members: usize,
    /// A member silent this long (no frame, no answered ping) is dropped; 0 disables it.
    pub idle_timeout_ms: u64,
    /// How long after sending its author may edit or delete a message.
    pub edit_window_ms: u64,
    /// How long a kicked member's name and address may not rejoin.
    pub kick_ban_ms: u64,
    /// A member whose socket dropped keeps their seat this long, quietly; 0 turns it off.
    pub presence_grace_ms: u64,
    /// Distinct emoji on one message.
    pub reactions_per_message: usize,
    /// Reactions of one member on one message.
    pub reactions_per_member: usize,
    /// SHA-256 of the operator's `MODERATOR_KEY` secret: it makes its holder owner of any room.
    pub moderator_hash: Option<String>,
    /// Presence frames (join, leave, typing) for members already in the room wait up to this
    /// long to be sent together, so a crowd arriving costs each member a few sends, not one per
    /// arrival; 0 sends them with every flush.
    pub presence_batch_ms: u64,
    /// Past this many members presence is a count and the latest names (`crate::room::crowd`);
    /// 0 always lists everyone.
    pub presence_list_max: usize,
    /// Past this many connections in all, new sockets go to relay objects (`crate::relay`);
    /// 0 keeps every socket on the room object.
    pub relay_threshold: usize,
    /// Sockets per relay object.
    pub relay_members: usize,
    /// Text frames larger than this (UTF-8 bytes) are refused unparsed, and never copied into
    /// the Wasm memory when the runtime's string already says so (`crate::protocol::too_large_unread`).
    pub max_frame_bytes: usize,
    /// Sockets from one client address (`crate::address`) that may wait in a room without
    /// having joined; 0 disables the limit.
    pub address_unjoined_max: usize,
    /// A relay with no socket closes its link to the room after this long, so an empty room
    /// object can hibernate (`crate::relay`).
    pub relay_idle_ms: u64,
    /// Private rooms one client address may make per hour (`POST /api/rooms`); 0 disables it.
    pub address_rooms_per_hour: u32,
    /// Change entries (edits, deletes, reactions, topics, locks, kicks) kept for resumes;
    /// messages have their own cap, `history_cap`, which only messages count against.
    pub changes_cap: u64,
    /// A member's read position is written at most once per this many ms (the latest wins);
    /// 0 writes every forward move.
    pub read_write_ms: u64,
    /// The room keeps a full-text index of its messages and answers searches; off, it keeps none.
    pub search_index: bool,
    /// Searches per client address per room per minute (`crate::search::SearchLimit`); 0: no
    /// limit.
    pub address_searches_per_min: u32,
    pub log_level: LogLevel,
    /// Join tokens: `JOIN_TOKENS`, `JOIN_TOKEN_SECRET`, `JOIN_TOKEN_PUBLIC_KEYS`,
    /// `JOIN_TOKEN_MAX_TTL_S` (`crate::token`).
    pub tokens: crate::token::Settings,
    /// Sockets one verified member may hold at once (devices); past it the oldest is closed with
    /// 4001. 0 turns the cap off.
    pub member_sockets_max: usize,
    /// Enables the `debug_reset` frame used by integration tests.
    pub test_hooks: bool,
    /// Pictures and files: `MAX_FILE_BYTES`, `FILE_TYPES`, `FILE_BYTES_PER_HOUR`,
    /// `FILES_PER_MESSAGE` (`crate::files`).
    pub files: crate::files::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_sec: 5.0,
            rate_burst: 20.0,
            // Past RELAY_THRESHOLD a room spreads over relays (`crate::relay`); the cap is what
            // one room object still orders and stores for (bench/README.md's capacity model).
            max_members: 20_000,
            join_timeout_ms: 10_000,
            history_cap: 10_000,
            // A classroom or an office behind one NAT fits; a script holding hundreds of seats
            // from one machine does not.
            address_joins_per_min: 30,
            address_max_members: 50,
            // The client pings every 25 s: three missed pings and a margin.
            idle_timeout_ms: 90_000,
            edit_window_ms: 15 * 60 * 1000,
            kick_ban_ms: 10 * 60 * 1000,
            // Long enough for a reload or a deploy's restart, short enough that a member who
            // really left is announced soon.
            presence_grace_ms: 10_000,
            reactions_per_message: 20,
            reactions_per_member: 3,
            moderator_hash: None,
            presence_batch_ms: 100,
            // A list a person can still scan; a welcome of 1,000 names is ~15 KB.
            presence_list_max: 1000,
            // bench/README.md's capacity model: ~120 messages/s per room at one message per flush
            // from 1,000 to 10,000 members (the room's own 100 sends plus a link per relay, each
            // relay's 250 sends), where keeping 1,000 sockets on the room object allowed 30.
            relay_threshold: 100,
            relay_members: 250,
            max_frame_bytes: crate::protocol::MAX_FRAME_BYTES,
            // More than a tab or two reconnecting; far fewer than a script's hundred.
            address_unjoined_max: 10,
            relay_idle_ms: 10_000,
            address_rooms_per_hour: 20,
            changes_cap: 10_000,
            read_write_ms: 1000,
            search_index: true,
            address_searches_per_min: 60,
            log_level: LogLevel::Info,
            tokens: crate::token::Settings::default(),
            // A phone, a laptop, a tablet and a couple of tabs.
            member_sockets_max: 5,
            test_hooks: false,
            files: crate::files::Limits::default(),
        }
    }
}

/// The largest `MAX_FRAME_BYTES` accepted: JSON escaping grows a frame at most sixfold
/// (`\u0000`), and six times this still fits a link message of `crate::relay::MAX_LINK_BYTES`.
pub const MAX_FRAME_CEILING: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

impl Limits {
    /// Reads each var through `var(name)`, keeping the default for missing or malformed values.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        Self::read(&var)
    }

    // One copy in the Wasm for every caller's closure (the upload budget, issue 18).
    fn read(var: &dyn Fn(&str) -> Option<String>) -> Self {
        let d = Limits::default();
        let num = |name: &str| var(name).and_then(|v| crate::vars::number(v.trim()));
        let non_negative = |name: &str| num(name).filter(|n| n.is_finite() && *n >= 0.0);
        let positive = |name: &str| num(name).filter(|n| n.is_finite() && *n >= 1.0);
        Limits {
            rate_per_sec: non_negative("RATE_LIMIT_PER_SEC").unwrap_or(d.rate_per_sec),
            rate_burst: positive("RATE_LIMIT_BURST").unwrap_or(d.rate_burst),
            max_members: positive("MAX_MEMBERS").map_or(d.max_members, |n| n as usize),
            join_timeout_ms: positive("JOIN_TIMEOUT_MS").map_or(d.join_timeout_ms, |n| n as u64),
            history_cap: positive("HISTORY_CAP").map_or(d.history_cap, |n| n as u64),
            address_joins_per_min: non_negative("ADDRESS_JOINS_PER_MIN")
                .map_or(d.address_joins_per_min, |n| n as u32),
            address_max_members: non_negative("ADDRESS_MAX_MEMBERS")
                .map_or(d.address_max_members, |n| n as usize),
            idle_timeout_ms: non_negative("IDLE_TIMEOUT_MS")
                .map_or(d.idle_timeout_ms, |n| n as u64),
            edit_window_ms: non_negative("EDIT_WINDOW_MS").map_or(d.edit_window_ms, |n| n as u64),
            kick_ban_ms: non_negative("KICK_BAN_MS").map_or(d.kick_ban_ms, |n| n as u64),
            presence_grace_ms: non_negative("PRESENCE_GRACE_MS")
                .map_or(d.presence_grace_ms, |n| n as u64),
            reactions_per_message: positive("REACTIONS_PER_MESSAGE")
                .map_or(d.reactions_per_message, |n| n as usize),
            reactions_per_member: positive("REACTIONS_PER_MEMBER")
                .map_or(d.reactions_per_member, |n| n as usize),
            // A secret, not a var: never logged, kept only as a digest.
            moderator_hash: var("MODERATOR_KEY")
                .map(|key| key.trim().to_string())
                .filter(|key| !key.is_empty())
                .map(|key| crate::digest::digest(&key)),
            presence_batch_ms: non_negative("PRESENCE_BATCH_MS")
                .map_or(d.presence_batch_ms, |n| n as u64),
            presence_list_max: non_negative("PRESENCE_LIST_MAX")
                .map_or(d.presence_list_max, |n| n as usize),
            relay_threshold: non_negative("RELAY_THRESHOLD")
                .map_or(d.relay_threshold, |n| n as usize),
            relay_members: positive("RELAY_MEMBERS").map_or(d.relay_members, |n| n as usize),
            // Capped so that a frame escaped into a relay's link item always fits one link
            // message (`crate::relay::MAX_LINK_BYTES`).
            max_frame_bytes: positive("MAX_FRAME_BYTES")
                .map_or(d.max_frame_bytes, |n| (n as usize).min(MAX_FRAME_CEILING)),
            address_unjoined_max: non_negative("ADDRESS_UNJOINED_MAX")
                .map_or(d.address_unjoined_max, |n| n as usize),
            relay_idle_ms: non_negative("RELAY_IDLE_MS").map_or(d.relay_idle_ms, |n| n as u64),
            address_rooms_per_hour: non_negative("ADDRESS_ROOMS_PER_HOUR")
                .map_or(d.address_rooms_per_hour, |n| n as u32),
            changes_cap: positive("CHANGES_CAP").map_or(d.changes_cap, |n| n as u64),
            read_write_ms: non_negative("READ_WRITE_MS").map_or(d.read_write_ms, |n| n as u64),
            search_index: var("SEARCH_INDEX").is_none_or(|v| v.trim() != "0"),
            address_searches_per_min: non_negative("ADDRESS_SEARCHES_PER_MIN")
                .map_or(d.address_searches_per_min, |n| n as u32),
            log_level: match var("LOG_LEVEL").as_deref().map(str::trim) {
                Some("debug") => LogLevel::Debug,
                Some("warn") => LogLevel::Warn,
                _ => d.log_level,
            },
            tokens: crate::token::Settings {
                mode: crate::token::Mode::parse(var("JOIN_TOKENS").as_deref()),
                // Secrets (`wrangler secret put`), or vars for the public key set.
                keys: crate::token::Keys::from_vars(
                    var("JOIN_TOKEN_SECRET").as_deref(),
                    var("JOIN_TOKEN_PUBLIC_KEYS").as_deref(),
                )
                .0,
                max_ttl_s: non_negative("JOIN_TOKEN_MAX_TTL_S")
                    .map_or(d.tokens.max_ttl_s, |n| n as u64),
            },
            member_sockets_max: non_negative("MEMBER_SOCKETS_MAX")
                .map_or(d.member_sockets_max, |n| n as usize),
            test_hooks: var("TEST_HOOKS").is_some_and(|v| v.trim() == "1"),
            files: crate::files::Limits::from_vars(var),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_unset() {
        assert_eq!(Limits::from_vars(|_| None), Limits::default());
    }

    #[test]
    fn reads_and_validates_vars() {
        let l = Limits::from_vars(|name| {
            Some(
                match name {
                    "RATE_LIMIT_PER_SEC" => "0",
                    "RATE_LIMIT_BURST" => "-3",
                    "MAX_MEMBERS" => "3",
                    "JOIN_TIMEOUT_MS" => "nope",
                    "HISTORY_CAP" => " 150 ",
                    "ADDRESS_JOINS_PER_MIN" => "0",
                    "ADDRESS_MAX_MEMBERS" => "7",
                    "IDLE_TIMEOUT_MS" => "-1",
                    "LOG_LEVEL" => "debug",
                    "TEST_HOOKS" => "1",
                    "RELAY_THRESHOLD" => "0",
                    "RELAY_MEMBERS" => "0",
                    "READ_WRITE_MS" => "0",
                    "SEARCH_INDEX" => "0",
                    "ADDRESS_SEARCHES_PER_MIN" => "0",
                    _ => return None,
                }
                .to_string(),
            )
        });
        assert_eq!(l.rate_per_sec, 0.0);
        assert_eq!(l.rate_burst, 20.0);
        assert_eq!(l.max_members, 3);
        assert_eq!(l.join_timeout_ms, 10_000);
        assert_eq!(l.history_cap, 150);
        assert_eq!(l.address_joins_per_min, 0);
        assert_eq!(l.address_max_members, 7);
        assert_eq!(l.idle_timeout_ms, 90_000);
        assert_eq!(l.log_level, LogLevel::Debug);
        assert!(l.test_hooks);
        assert_eq!(l.read_write_ms, 0, "0 writes every read");
        assert!(!l.search_index, "0 turns search off");
        assert_eq!(
            l.address_searches_per_min, 0,
            "0 turns the search limit off"
        );
        assert_eq!(l.relay_threshold, 0, "0 turns relays off");
        assert_eq!(
            l.relay_members,
            Limits::default().relay_members,
            "a relay holds at least one socket"
        );
    }

    #[test]
    fn reads_the_hardening_vars() {
        let d = Limits::default();
        assert_eq!(
            (d.max_frame_bytes, d.address_unjoined_max, d.relay_idle_ms),
            (16 * 1024, 10, 10_000)
        );
        assert_eq!((d.address_rooms_per_hour, d.changes_cap), (20, 10_000));
        let l = Limits::from_vars(|name| {
            Some(
                match name {
                    "MAX_FRAME_BYTES" => "10000000",
                    "ADDRESS_UNJOINED_MAX" => "0",
                    "RELAY_IDLE_MS" => "0",
                    "ADDRESS_ROOMS_PER_HOUR" => "0",
                    "CHANGES_CAP" => "0",
                    _ => return None,
                }
                .to_string(),
            )
        });
        assert_eq!(l.max_frame_bytes, MAX_FRAME_CEILING, "a link item must fit");
        assert_eq!((l.address_unjoined_max, l.relay_idle_ms), (0, 0));
        assert_eq!(l.address_rooms_per_hour, 0, "0 turns the limit off");
        assert_eq!(l.changes_cap, d.changes_cap, "changes are kept for resumes");
    }
}

#[cfg(test)]
mod embedding_tests {
    use super::*;
    use crate::token::Mode;

    #[test]
    fn reads_the_embedding_vars() {
        let l = Limits::from_vars(|name| {
            Some(
                match name {
                    "JOIN_TOKENS" => " optional ",
                    "JOIN_TOKEN_SECRET" => "s3cret-s3cret",
                    "JOIN_TOKEN_MAX_TTL_S" => "0",
                    "MEMBER_SOCKETS_MAX" => "2",
                    _ => return None,
                }
                .to_string(),
            )
        });
        assert_eq!(l.tokens.mode, Mode::Optional);
        assert!(!l.tokens.keys.is_empty());
        assert_eq!(l.tokens.max_ttl_s, 0, "0 lifts the cap");
        assert_eq!(l.member_sockets_max, 2);
        let d = Limits::default();
        assert_eq!(
            (d.tokens.mode, d.tokens.max_ttl_s, d.member_sockets_max),
            (Mode::Off, 86_400, 5)
        );
        assert!(
            !format!("{l:?}").contains("s3cret"),
            "Debug hides the secret"
        );
    }
}
