//! How many rooms one client may make: `POST /api/rooms` is limited per client address
//! (`ADDRESS_ROOMS_PER_HOUR`), keyed as every per-address limit is ([`crate::address::key`]).
//!
//! Each room made costs the operator a Durable Object and its storage, and making one took a
//! script 17 ms. The allowance is a token bucket of `per_hour` rooms that refills over the hour,
//! so a person making a few rooms never meets it and a script meets it after `per_hour`.
//!
//! The bucket has to be the same for every request of an address, whichever Worker isolate takes
//! it, and has to outlive an isolate: it lives in a small Durable Object per address key
//! (`AddressQuota`, `src/shell/address_object.rs`), which stores it as the JSON this module reads
//! and writes. Not in a room's object: the room is new on every request, by definition.

use crate::rate::TokenBucket;

/// Takes one room from the allowance stored as `stored` (`None` for an address never seen, or an
/// unreadable value: a full bucket). Returns the state to store, or how many milliseconds until
/// the address may make a room again. `per_hour` is at least 1 (`0`, no limit, never asks).
pub fn take(stored: Option<&str>, now: u64, per_hour: u32) -> Result<String, u64> {
    let burst = f64::from(per_hour.max(1));
    let rate = burst / 3600.0;
    let mut bucket = stored
        .and_then(|s| TokenBucket::read(&serde_json::from_str(s).ok()?))
        .unwrap_or_else(|| TokenBucket::full(burst, now));
    bucket.take(now, rate, burst)?;
    Ok(serde_json::to_string(&bucket).unwrap_or_default())
}

/// The `Retry-After` header's value (whole seconds, rounded up) for a wait of `ms`.
pub fn retry_after_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_makes_per_hour_rooms_then_waits() {
        let mut state: Option<String> = None;
        for i in 0..20 {
            state = Some(take(state.as_deref(), 1_000 + i, 20).expect("within the allowance"));
        }
        let wait = take(state.as_deref(), 1_020, 20).unwrap_err();
        // One room refills in 3600 s / 20 = 180 s.
        assert!((179_000..=180_000).contains(&wait), "{wait}");
        assert_eq!(retry_after_secs(wait), 180);
        // ...and after that wait one more is allowed.
        assert!(take(state.as_deref(), 1_020 + wait, 20).is_ok());
    }

    #[test]
    fn an_unreadable_state_is_a_full_allowance() {
        assert!(take(Some("garbage"), 5, 1).is_ok());
        let one = take(None, 5, 1).unwrap();
        assert!(take(Some(&one), 6, 1).is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
    }
}
