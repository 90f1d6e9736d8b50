//! A token bucket: `rate` tokens per second up to `burst`, one token per message (or join).
//! Time is passed in (unix ms), so the bucket is deterministic under test.

/// Serializable: the room-creation allowance (`crate::creation`) is stored between requests.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenBucket {
    tokens: f64,
    last_ms: u64,
}

impl TokenBucket {
    /// Reads a stored bucket back as its derived `Deserialize` would ([`crate::fields`]).
    pub fn read(value: &serde_json::Value) -> Option<TokenBucket> {
        let f = crate::fields::Fields::of(value)?;
        Some(TokenBucket {
            tokens: f.f64("tokens")?,
            last_ms: f.u64("last_ms")?,
        })
    }

    /// A full bucket: a new connection may send a burst straight away.
    pub fn full(burst: f64, now_ms: u64) -> Self {
        TokenBucket {
            tokens: burst,
            last_ms: now_ms,
        }
    }

    /// Whether the bucket would be full at `now`: then it is no different from a new one.
    pub fn is_full_at(&self, now_ms: u64, rate: f64, burst: f64) -> bool {
        rate <= 0.0
            || self.tokens + now_ms.saturating_sub(self.last_ms) as f64 / 1000.0 * rate >= burst
    }

    /// Takes one token, or says how many milliseconds until one is available.
    /// A `rate` of 0 disables the limit.
    pub fn take(&mut self, now_ms: u64, rate: f64, burst: f64) -> Result<(), u64> {
        if rate <= 0.0 {
            return Ok(());
        }
        // Clocks in a Durable Object only move forward, but never trust that with arithmetic.
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.last_ms = self.last_ms.max(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait_secs = (1.0 - self.tokens) / rate;
            Err((wait_secs * 1000.0).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let mut b = TokenBucket::full(3.0, 0);
        assert!(b.take(0, 1.0, 3.0).is_ok());
        assert!(b.take(0, 1.0, 3.0).is_ok());
        assert!(b.take(0, 1.0, 3.0).is_ok());
        assert_eq!(b.take(0, 1.0, 3.0), Err(1000));
        assert_eq!(b.take(400, 1.0, 3.0), Err(600));
        assert!(b.take(1000, 1.0, 3.0).is_ok());
        // Refill never exceeds the burst.
        assert!(b.take(1_000_000, 1.0, 3.0).is_ok());
        assert!(b.take(1_000_000, 1.0, 3.0).is_ok());
        assert!(b.take(1_000_000, 1.0, 3.0).is_ok());
        assert!(b.take(1_000_000, 1.0, 3.0).is_err());
    }

    #[test]
    fn zero_rate_disables() {
        let mut b = TokenBucket::full(1.0, 0);
        for _ in 0..1000 {
            assert!(b.take(0, 0.0, 1.0).is_ok());
        }
    }

    #[test]
    fn clock_going_backwards_is_harmless() {
        let mut b = TokenBucket::full(1.0, 5000);
        assert!(b.take(5000, 5.0, 1.0).is_ok());
        assert!(b.take(10, 5.0, 1.0).is_err());
        assert!(b.take(5200, 5.0, 1.0).is_ok());
    }
}
