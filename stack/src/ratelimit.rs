//! A token bucket on injected time, for ICMP errors (RFC 1812 4.3.2.8 asks for a limit so
//! a flood of bad packets cannot turn us into a flood of errors).

#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Tokens are kept in thousandths so a rate below one per millisecond still refills.
    milli_tokens: u64,
    capacity_milli: u64,
    per_second: u64,
    last_refill: u64,
}

impl TokenBucket {
    /// Up to `burst` at once, `per_second` on average. Starts full.
    pub fn new(burst: u32, per_second: u32) -> Self {
        let capacity_milli = u64::from(burst) * 1000;
        TokenBucket { milli_tokens: capacity_milli, capacity_milli, per_second: u64::from(per_second), last_refill: 0 }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: u64) -> bool {
        let elapsed = now.saturating_sub(self.last_refill);
        // A token per second is 1000 milli-tokens per 1000 ms: `per_second` per ms.
        self.milli_tokens = (self.milli_tokens + elapsed.saturating_mul(self.per_second)).min(self.capacity_milli);
        self.last_refill = self.last_refill.max(now);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(3, 10); // one token per 100 ms
        assert_eq!((0..5).filter(|_| b.try_take(0)).count(), 3);
        assert!(!b.try_take(99));
        assert!(b.try_take(100));
        assert!(!b.try_take(150));
        assert_eq!((0..5).filter(|_| b.try_take(10_000)).count(), 3, "refill stops at the burst");
    }

    #[test]
    fn time_going_backwards_does_not_refill() {
        let mut b = TokenBucket::new(1, 1000);
        assert!(b.try_take(500));
        assert!(!b.try_take(400));
    }
}
