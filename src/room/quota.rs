//! Limits that hold against abuse: a token bucket per member name and per client address.
//!
//! The buckets are keyed by what a client cannot shed by reconnecting: the member's name key
//! (a takeover or a close-and-rejoin under the same name meets the same bucket) and the address
//! digest. They live in memory only. That is enough across hibernation: a room hibernates only
//! after seconds without events, by which time every bucket has refilled.

use super::members::Conn;
use crate::config::Limits;
use crate::rate::TokenBucket;
use std::collections::HashMap;

/// Above this many buckets, full ones (indistinguishable from new ones) are dropped.
const PRUNE_ABOVE: usize = 256;

#[derive(Debug, Default)]
pub(super) struct Quota {
    messages: HashMap<String, TokenBucket>,
    joins: HashMap<String, TokenBucket>,
    /// Members per address digest.
    members: HashMap<String, usize>,
    /// Open sockets that have not joined (yet), per address digest.
    unjoined: HashMap<String, usize>,
}

impl Quota {
    /// Takes a message token from the member with name key `key`.
    pub fn message(&mut self, key: &str, now: u64, limits: &Limits) -> Result<(), u64> {
        let (rate, burst) = (limits.rate_per_sec, limits.rate_burst);
        if rate <= 0.0 {
            return Ok(());
        }
        take(&mut self.messages, key, now, rate, burst)
    }

    /// Takes a join token from `address` (a client without one is not limited).
    pub fn join(&mut self, address: Option<&str>, now: u64, limits: &Limits) -> Result<(), u64> {
        let (Some(address), per_min) = (address, limits.address_joins_per_min) else {
            return Ok(());
        };
        if per_min == 0 {
            return Ok(());
        }
        let burst = f64::from(per_min);
        take(&mut self.joins, address, now, burst / 60.0, burst)
    }

    /// Whether `address` already holds its share of the room's seats.
    pub fn address_full(&self, address: Option<&str>, limits: &Limits) -> bool {
        let cap = limits.address_max_members;
        cap > 0 && address.is_some_and(|a| self.members.get(a).copied().unwrap_or(0) >= cap)
    }

    /// A socket from `conn`'s address opened: whether the address may hold one more socket
    /// that has not joined (`cap`, `ADDRESS_UNJOINED_MAX`; 0: no cap); if so it is counted until
    /// [`Quota::unjoined_done`].
    pub fn unjoined_opened(&mut self, conn: &Conn, cap: usize) -> bool {
        let Some(address) = &conn.address else {
            return true;
        };
        let n = self.unjoined.entry(address.clone()).or_default();
        if cap > 0 && *n >= cap {
            if *n == 0 {
                self.unjoined.remove(address);
            }
            return false;
        }
        *n += 1;
        true
    }

    /// A socket counted by [`Quota::unjoined_opened`] joined, closed or was closed.
    pub fn unjoined_done(&mut self, conn: &Conn) {
        if let Some(address) = &conn.address {
            if let Some(n) = self.unjoined.get_mut(address) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.unjoined.remove(address);
                }
            }
        }
    }

    pub fn member_joined(&mut self, conn: &Conn) {
        if let Some(address) = &conn.address {
            *self.members.entry(address.clone()).or_default() += 1;
        }
    }

    pub fn member_left(&mut self, conn: &Conn) {
        if let Some(address) = &conn.address {
            if let Some(n) = self.members.get_mut(address) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.members.remove(address);
                }
            }
        }
    }

    /// Forgets buckets that have refilled, so the maps stay the size of recent activity.
    pub fn prune(&mut self, now: u64, limits: &Limits) {
        let per_min = f64::from(limits.address_joins_per_min);
        prune(
            &mut self.messages,
            now,
            limits.rate_per_sec,
            limits.rate_burst,
        );
        prune(&mut self.joins, now, per_min / 60.0, per_min);
    }
}

fn take(
    buckets: &mut HashMap<String, TokenBucket>,
    key: &str,
    now: u64,
    rate: f64,
    burst: f64,
) -> Result<(), u64> {
    match buckets.get_mut(key) {
        Some(bucket) => bucket.take(now, rate, burst),
        None => {
            let mut bucket = TokenBucket::full(burst, now);
            let taken = bucket.take(now, rate, burst);
            buckets.insert(key.to_string(), bucket);
            taken
        }
    }
}

fn prune(buckets: &mut HashMap<String, TokenBucket>, now: u64, rate: f64, burst: f64) {
    if buckets.len() > PRUNE_ABOVE {
        buckets.retain(|_, b| !b.is_full_at(now, rate, burst));
    }
}
