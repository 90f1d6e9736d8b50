//! The room object's side of its relays' links (see [`crate::relay`]): which connection is which
//! relay's socket, and one batch down each link per flush.

use crate::relay::{pack_link, send_items, Down, RelayConn, MAX_LINK_BYTES};
use crate::room::{Batch, Close, ConnId};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::rc::{Rc, Weak};
use worker::{WebSocket, WebsocketEvent};

/// Reads a link's text frames, handing each to `on_text`, until it closes or fails; then calls
/// `on_lost` once. Both sides of a link use it. `owner` is held weakly: an object the runtime
/// dropped is not kept alive by its link's reader.
pub async fn watch<T>(
    ws: WebSocket,
    owner: Weak<T>,
    on_text: impl Fn(&Rc<T>, &str),
    on_lost: impl Fn(&Rc<T>),
) {
    let Ok(mut events) = ws.events() else {
        if let Some(owner) = owner.upgrade() {
            on_lost(&owner);
        }
        return;
    };
    while let Some(event) = events.next().await {
        let Some(owner) = owner.upgrade() else {
            return;
        };
        match event {
            Ok(WebsocketEvent::Message(message)) => {
                if let Some(text) = message.text() {
                    on_text(&owner, &text);
                }
            }
            _ => return on_lost(&owner),
        }
    }
}

#[derive(Default)]
pub struct Links {
    by_relay: HashMap<u32, Link>,
    /// Each relayed connection's relay and its number there.
    relayed: HashMap<ConnId, (u32, RelayConn)>,
    next_generation: u64,
}

struct Link {
    ws: WebSocket,
    /// Tells this link's events from those of the link it replaced.
    generation: u64,
    conns: HashMap<RelayConn, ConnId>,
}

impl Links {
    /// Relay `k` (re)connected. Returns the generation that names this link in its events, and
    /// the connections of the link it replaces (gone with it).
    pub fn attach(&mut self, k: u32, ws: WebSocket) -> (u64, Vec<ConnId>) {
        self.next_generation += 1;
        let generation = self.next_generation;
        let gone = self.detach(k, None);
        self.by_relay.insert(
            k,
            Link {
                ws,
                generation,
                conns: HashMap::new(),
            },
        );
        (generation, gone)
    }

    /// Relay `k`'s link went away (only if it is still the link of `generation`, when given):
    /// returns the connections it held, in order.
    pub fn detach(&mut self, k: u32, generation: Option<u64>) -> Vec<ConnId> {
        if generation.is_some_and(|g| !self.is_current(k, g)) {
            return Vec::new();
        }
        let Some(link) = self.by_relay.remove(&k) else {
            return Vec::new();
        };
        let mut conns: Vec<ConnId> = link.conns.into_values().collect();
        conns.sort_unstable();
        for conn in &conns {
            self.relayed.remove(conn);
        }
        conns
    }

    pub fn is_current(&self, k: u32, generation: u64) -> bool {
        self.by_relay
            .get(&k)
            .is_some_and(|l| l.generation == generation)
    }

    pub fn add(&mut self, k: u32, remote: RelayConn, conn: ConnId) {
        if let Some(link) = self.by_relay.get_mut(&k) {
            link.conns.insert(remote, conn);
            self.relayed.insert(conn, (k, remote));
        }
    }

    pub fn conn_of(&self, k: u32, remote: RelayConn) -> Option<ConnId> {
        self.by_relay.get(&k)?.conns.get(&remote).copied()
    }

    pub fn remove(&mut self, k: u32, remote: RelayConn) -> Option<ConnId> {
        let conn = self.by_relay.get_mut(&k)?.conns.remove(&remote)?;
        self.relayed.remove(&conn);
        Some(conn)
    }

    /// Every open link, to close them all.
    pub fn sockets(&self) -> impl Iterator<Item = &WebSocket> {
        self.by_relay.values().map(|l| &l.ws)
    }

    /// Sends what the effects hold for relayed connections: one batch down each link that has
    /// anything, closes first as for the room's own sockets. Returns the relays whose link sent
    /// a batch, and those whose link refused it (gone).
    pub fn send(&self, closes: &[Close], batches: &[Batch]) -> (Vec<u32>, Vec<u32>) {
        // A room with no relays pays nothing here (a lookup per recipient otherwise).
        if self.by_relay.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut down: BTreeMap<u32, Vec<Down>> = BTreeMap::new();
        for c in closes {
            if let Some(&(k, conn)) = self.relayed.get(&c.conn) {
                if let Some(last) = &c.last {
                    down.entry(k)
                        .or_default()
                        .extend(send_items(vec![conn], last));
                }
                down.entry(k).or_default().push(Down::Close {
                    conn,
                    code: c.code,
                    reason: c.reason.to_string(),
                });
            }
        }
        for batch in batches {
            let mut to: BTreeMap<u32, Vec<RelayConn>> = BTreeMap::new();
            for conn in &batch.to {
                if let Some(&(k, remote)) = self.relayed.get(conn) {
                    to.entry(k).or_default().push(remote);
                }
            }
            for (k, to) in to {
                down.entry(k)
                    .or_default()
                    .extend(send_items(to, &batch.text));
            }
        }
        let (mut sent, mut failed) = (Vec::new(), Vec::new());
        for (k, items) in down {
            let Some(link) = self.by_relay.get(&k) else {
                continue;
            };
            let ok = pack_link(&items, MAX_LINK_BYTES)
                .into_iter()
                .all(|text| link.ws.send_with_str(text).is_ok());
            if ok {
                sent.push(k);
            } else {
                failed.push(k);
            }
        }
        (sent, failed)
    }
}
