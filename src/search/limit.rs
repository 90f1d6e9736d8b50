//! `ADDRESS_SEARCHES_PER_MIN`: how many searches one client address may make in one room per
//! minute, a token bucket per address (keyed as every address limit is: `crate::address`, kept
//! as a digest) that refills over the minute. A search is a query over the whole index (bm25
//! over every match of a common word), the costliest read a room serves, and it needs no
//! socket: without a limit, one address could keep a room's object busy answering it.
//!
//! Per room, in the room object's memory, like the join buckets (`room::quota`): the work being
//! limited is that object's, and it hibernates only after every bucket has refilled.

use crate::rate::TokenBucket;
use std::collections::HashMap;

/// Above this many buckets, full ones (indistinguishable from new ones) are dropped.
const PRUNE_ABOVE: usize = 256;

#[derive(Debug, Default)]
pub struct SearchLimit {
    buckets: HashMap<String, TokenBucket>,
}

impl SearchLimit {
    /// Takes a search from `address` (a `CF-Connecting-IP` value) at `now` (unix ms): `Ok`, or
    /// how many ms until it may search again. `per_min` 0, or a request without an address (not
    /// through Cloudflare's edge), is not limited.
    pub fn take(&mut self, address: Option<&str>, now: u64, per_min: u32) -> Result<(), u64> {
        let Some(address) = address.filter(|_| per_min > 0) else {
            return Ok(());
        };
        let burst = f64::from(per_min);
        let rate = burst / 60.0;
        if self.buckets.len() > PRUNE_ABOVE {
            self.buckets.retain(|_, b| !b.is_full_at(now, rate, burst));
        }
        let key = crate::digest::digest(&crate::address::key(address));
        self.buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::full(burst, now))
            .take(now, rate, burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_from_one_address_is_refused_and_another_is_not() {
        let mut limit = SearchLimit::default();
        for _ in 0..3 {
            assert_eq!(limit.take(Some("203.0.113.9"), 1000, 3), Ok(()));
        }
        // A fourth within the minute waits for one token: 20 s at 3 per minute.
        assert_eq!(limit.take(Some("203.0.113.9"), 1000, 3), Err(20_000));
        assert_eq!(limit.take(Some("203.0.113.10"), 1000, 3), Ok(()));
        // An IPv6 /64 is one client.
        for _ in 0..3 {
            assert_eq!(limit.take(Some("2001:db8:1:2::1"), 1000, 3), Ok(()));
        }
        assert!(limit.take(Some("2001:db8:1:2:ffff::9"), 1000, 3).is_err());
        // Refilled after its wait; off with 0; no address, no limit.
        assert_eq!(limit.take(Some("203.0.113.9"), 21_000, 3), Ok(()));
        for _ in 0..10 {
            assert_eq!(limit.take(Some("203.0.113.9"), 21_000, 0), Ok(()));
            assert_eq!(limit.take(None, 21_000, 3), Ok(()));
        }
    }

    #[test]
    fn full_buckets_are_pruned() {
        let mut limit = SearchLimit::default();
        for i in 0..=PRUNE_ABOVE {
            let _ = limit.take(Some(&format!("198.51.{}.{}", i / 256, i % 256)), 0, 60);
        }
        // A minute later every bucket has refilled: the next take drops them.
        let _ = limit.take(Some("192.0.2.1"), 60_000, 60);
        assert_eq!(limit.buckets.len(), 1);
    }
}
