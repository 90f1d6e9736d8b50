//! Rooms bigger than one object: which object holds a new member's socket, and what the room
//! object and its relays say to each other.
//!
//! A room starts on its own object. Once it has `RELAY_THRESHOLD` joined members, each new socket
//! goes to a relay object of at most `RELAY_MEMBERS` sockets instead ([`Relays::route`]). A relay
//! holds its members' sockets and keeps one WebSocket, the *link*, to the room object: it forwards
//! its members' frames up the link in one [`Up`] batch per burst, and the room sends each flush
//! down it as one [`Down`] batch per relay. The room object stays the single writer: it parses,
//! checks, stores and orders everything as before, and a relayed member is just a connection
//! whose frames arrive over a link. Its sends per message are then one per relay plus one per
//! member it holds itself, and each relay's are its share of the members.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A socket sent to a relay that has not arrived there after this long is not counted any more
/// (its client gave up).
pub const ROUTED_TTL_MS: u64 = 10_000;

/// A socket the room object kept counts towards the threshold for this long before it joins (a
/// crowd arriving at once has not joined yet); one that has not joined by then stops counting.
pub const ARRIVING_MS: u64 = 2_000;

/// Where a new socket goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The room object holds it, as for any room below the threshold.
    Room,
    /// Relay number `k` of this room.
    Relay(u32),
}

/// What the room object knows of its relays' load, to route new sockets.
#[derive(Debug, Default)]
pub struct Relays {
    loads: Vec<Load>,
}

#[derive(Debug, Default, Clone)]
struct Load {
    /// Sockets open at the relay, as its link reported them.
    open: usize,
    /// When sockets were routed to it that it has not reported yet (a crowd arrives faster than
    /// the relays' reports, and each relay must still stay within its size).
    routed: VecDeque<u64>,
    /// Frames the room object sent down this relay's link.
    sent: u64,
}

impl Relays {
    /// Where a new socket goes: the room itself while the room has fewer than `threshold`
    /// members in all (`0` turns relays off), else a relay with room for it. `members` counts
    /// the joined members (on the room object and at its relays) and the sockets that arrived in
    /// the last [`ARRIVING_MS`] and are still joining (`crate::room::Room::joining`: a crowd
    /// arriving at once must not all land here). A socket that has not joined after that does
    /// not count: idle sockets (limited per address, `ADDRESS_UNJOINED_MAX`) must not open
    /// relays, whose links would keep the room in memory. The relay is
    /// picked by a hash of `tag` (the client's session tag or its address) so that a member who
    /// reconnects lands on the same relay while the number of relays stays the same; a full relay
    /// passes the socket on to the next one, and when all are full a new relay is opened.
    pub fn route(
        &mut self,
        members: usize,
        threshold: usize,
        per_relay: usize,
        tag: &str,
        now: u64,
    ) -> Route {
        for load in &mut self.loads {
            while load
                .routed
                .front()
                .is_some_and(|&at| now.saturating_sub(at) > ROUTED_TTL_MS)
            {
                load.routed.pop_front();
            }
        }
        if threshold == 0 || members < threshold {
            return Route::Room;
        }
        let per_relay = per_relay.max(1);
        let n = self.loads.len();
        let start = if n == 0 {
            0
        } else {
            (fnv1a(tag) % n as u64) as usize
        };
        let k = (0..n)
            .map(|i| (start + i) % n)
            .find(|&k| self.loads[k].open + self.loads[k].routed.len() < per_relay)
            .unwrap_or_else(|| {
                self.loads.push(Load::default());
                n
            });
        self.loads[k].routed.push_back(now);
        Route::Relay(k as u32)
    }

    /// A socket arrived at relay `k`: it is open there, no longer on its way.
    pub fn opened(&mut self, k: u32) {
        let load = self.load(k);
        load.routed.pop_front();
        load.open += 1;
    }

    /// A socket at relay `k` went away.
    pub fn closed(&mut self, k: u32) {
        let load = self.load(k);
        load.open = load.open.saturating_sub(1);
    }

    /// Relay `k`'s link went away, and with it every socket it held.
    pub fn detached(&mut self, k: u32) {
        let load = self.load(k);
        load.open = 0;
    }

    /// One batch went down relay `k`'s link.
    pub fn sent(&mut self, k: u32) {
        self.load(k).sent += 1;
    }

    /// `(relay, sockets open there, batches sent down its link)` for every relay this room used.
    pub fn loads(&self) -> impl Iterator<Item = (u32, usize, u64)> + '_ {
        self.loads
            .iter()
            .enumerate()
            .map(|(k, l)| (k as u32, l.open, l.sent))
    }

    fn load(&mut self, k: u32) -> &mut Load {
        let k = k as usize;
        if self.loads.len() <= k {
            self.loads.resize(k + 1, Load::default());
        }
        &mut self.loads[k]
    }
}

/// FNV-1a: a stable hash (the standard library's is seeded per process).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The largest link message: the runtime refuses a received WebSocket message over 1 MiB (which
/// would close the link and make every member of the relay rejoin), and a burst can hold more than
/// that (65 frames of 16 KiB). Up the link one item holds at most one frame of `MAX_FRAME_BYTES`
/// (at most `crate::config::MAX_FRAME_CEILING`, 64 KiB), at most sixfold escaped: always fits.
/// Down the link an item is a batch of at most 128 KiB, or one larger frame (a big welcome).
pub const MAX_LINK_BYTES: usize = 512 * 1024;

/// Link items as JSON arrays of at most `max` bytes each (an item larger than `max` alone), in
/// order.
pub fn pack_link<T: Serialize>(items: &[T], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from("[");
    for item in items {
        let Ok(text) = serde_json::to_string(item) else {
            continue;
        };
        if current.len() > 1 && current.len() + text.len() + 2 > max {
            current.push(']');
            out.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&text);
    }
    if current.len() > 1 {
        current.push(']');
        out.push(current);
    }
    out
}

/// A relay's socket, as numbered by the relay (the same kind of number as a room's connection).
pub type RelayConn = crate::room::ConnId;

/// One item of a batch a relay sends up its link (the batch is a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Up {
    /// A member's socket opened at the relay, from this client address.
    Open {
        conn: RelayConn,
        address: Option<String>,
    },
    /// A text frame from the member, as it came.
    Frame { conn: RelayConn, text: String },
    /// A binary frame (refused by the room, as from any socket).
    Binary { conn: RelayConn },
    /// The member's keepalive (`ping`), answered `pong` by the relay: the room only hears that
    /// the member is there (its idle timeout).
    Heard { conn: RelayConn },
    /// A text frame over `MAX_FRAME_BYTES`, not forwarded: the room refuses it as `too_large`.
    /// A relay never forwards more than the room would accept.
    TooLarge { conn: RelayConn },
    /// The member's socket closed or failed.
    Gone { conn: RelayConn, why: String },
}

/// One item of a batch the room sends down a link (the batch is a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Down {
    /// Send `text` (a frame or a batch of frames, as the room packed it) to each of `to`.
    Send { to: Vec<RelayConn>, text: String },
    /// Close one member's socket.
    Close {
        conn: RelayConn,
        code: u16,
        reason: String,
    },
    /// The start of the next `send`'s text, sent ahead in pieces of at most [`PIECE_BYTES`]:
    /// a text too large for one link message (a big welcome) is never sent whole.
    Piece { text: String },
}

/// The largest piece of a text on the link. Escaped into an item (at most doubled: the text is
/// JSON already, so only its quotes and backslashes grow) it stays within [`MAX_LINK_BYTES`].
pub const PIECE_BYTES: usize = 192 * 1024;

/// The link items that send `text` to `to`: one `send`, preceded by `piece`s when the text is
/// larger than [`PIECE_BYTES`]. With [`pack_link`], no link message exceeds [`MAX_LINK_BYTES`]
/// whatever the text.
pub fn send_items(to: Vec<RelayConn>, text: &str) -> Vec<Down> {
    let mut items = Vec::new();
    let mut rest = text;
    while rest.len() > PIECE_BYTES {
        let mut cut = PIECE_BYTES;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        items.push(Down::Piece {
            text: piece.to_string(),
        });
        rest = tail;
    }
    items.push(Down::Send {
        to,
        text: rest.to_string(),
    });
    items
}

/// The relay's side of [`send_items`]: pieces wait until their `send` completes them.
#[derive(Debug, Default)]
pub struct Pieces {
    start: String,
}

impl Pieces {
    /// Takes one item from the link: the whole text of a `send` (with the pieces before it),
    /// `None` for a piece.
    pub fn take(&mut self, item: Down) -> Option<Down> {
        match item {
            Down::Piece { text } => {
                self.start.push_str(&text);
                None
            }
            Down::Send { to, text } if !self.start.is_empty() => {
                let mut whole = std::mem::take(&mut self.start);
                whole.push_str(&text);
                Some(Down::Send { to, text: whole })
            }
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_below_the_threshold_keeps_its_sockets() {
        let mut r = Relays::default();
        assert_eq!(r.route(24, 25, 10, "a", 0), Route::Room);
        assert_eq!(
            r.route(1000, 0, 10, "a", 0),
            Route::Room,
            "0 turns relays off"
        );
    }

    #[test]
    fn past_the_threshold_relays_fill_up_to_their_size_then_a_new_one_opens() {
        let mut r = Relays::default();
        let mut per = std::collections::BTreeMap::<u32, usize>::new();
        for i in 0..100 {
            match r.route(25, 25, 10, &format!("s{i}"), 0) {
                Route::Relay(k) => *per.entry(k).or_default() += 1,
                Route::Room => panic!("past the threshold"),
            }
        }
        assert_eq!(per.len(), 10);
        assert!(per.values().all(|&n| n == 10), "{per:?}");
    }

    #[test]
    fn the_same_tag_lands_on_the_same_relay_while_their_number_stays() {
        let mut r = Relays::default();
        for i in 0..40 {
            if let Route::Relay(k) = r.route(25, 25, 10, &format!("s{i}"), 0) {
                r.opened(k);
            }
        }
        // Room on every relay again: the members who went away come back.
        for k in 0..4 {
            for _ in 0..5 {
                r.closed(k);
            }
        }
        let first = r.route(25, 25, 10, "alice", 1);
        let Route::Relay(k) = first else {
            panic!("relayed")
        };
        r.opened(k);
        r.closed(k);
        assert_eq!(r.route(25, 25, 10, "alice", 2), first);
    }

    #[test]
    fn sockets_that_never_arrive_stop_counting() {
        let mut r = Relays::default();
        for i in 0..10 {
            r.route(25, 25, 10, &format!("s{i}"), 0);
        }
        // Relay 0 is full of sockets on their way, so the next goes to a new relay...
        assert_eq!(r.route(25, 25, 10, "x", 1), Route::Relay(1));
        // ...until they are given up on: then no new relay is needed.
        assert!(matches!(
            r.route(25, 25, 10, "y", ROUTED_TTL_MS + 2),
            Route::Relay(0 | 1)
        ));
    }

    #[test]
    fn below_the_threshold_of_members_no_relay_opens() {
        let mut r = Relays::default();
        for i in 0..200 {
            assert_eq!(r.route(24, 25, 10, &format!("u{i}"), 0), Route::Room);
        }
        assert!(r.loads().next().is_none(), "no relay was opened");
        assert!(matches!(r.route(25, 25, 10, "b", 0), Route::Relay(0)));
    }

    #[test]
    fn link_batches_are_split_below_the_size_and_keep_their_order() {
        let items: Vec<Up> = (0..100)
            .map(|conn| Up::Frame {
                conn,
                text: "x".repeat(16 * 1024),
            })
            .collect();
        let packed = pack_link(&items, MAX_LINK_BYTES);
        assert!(packed.len() > 1);
        assert!(packed.iter().all(|p| p.len() <= MAX_LINK_BYTES));
        let back: Vec<Up> = packed
            .iter()
            .flat_map(|p| serde_json::from_str::<Vec<Up>>(p).unwrap())
            .collect();
        assert_eq!(back, items);
        assert!(pack_link::<Up>(&[], MAX_LINK_BYTES).is_empty());
    }

    #[test]
    fn a_text_too_large_for_a_link_message_goes_in_pieces() {
        // A welcome of 2 MB whose every character doubles when escaped.
        let text = format!("[{}]", "\"é".repeat(700_000));
        let items = send_items(vec![3, 4], &text);
        assert!(items.len() > 1);
        let packed = pack_link(&items, MAX_LINK_BYTES);
        assert!(packed.iter().all(|p| p.len() <= MAX_LINK_BYTES));
        let mut pieces = Pieces::default();
        let out: Vec<Down> = packed
            .iter()
            .flat_map(|p| serde_json::from_str::<Vec<Down>>(p).unwrap())
            .filter_map(|item| pieces.take(item))
            .collect();
        assert_eq!(
            out,
            vec![Down::Send {
                to: vec![3, 4],
                text
            }]
        );
        // A small text is one send, as before.
        assert_eq!(
            send_items(vec![1], "{}"),
            vec![Down::Send {
                to: vec![1],
                text: "{}".into()
            }]
        );
    }

    #[test]
    fn link_items_round_trip() {
        let up = vec![
            Up::Open {
                conn: 1,
                address: Some("203.0.113.9".into()),
            },
            Up::Frame {
                conn: 1,
                text: r#"{"type":"join","name":"Ann"}"#.into(),
            },
            Up::Binary { conn: 1 },
            Up::Gone {
                conn: 1,
                why: "close".into(),
            },
        ];
        let text = serde_json::to_string(&up).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Up>>(&text).unwrap(), up);
        let down = vec![
            Down::Send {
                to: vec![1, 2],
                text: "[]".into(),
            },
            Down::Close {
                conn: 2,
                code: 4003,
                reason: "kicked".into(),
            },
        ];
        let text = serde_json::to_string(&down).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Down>>(&text).unwrap(), down);
    }
}
