//! Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret).
//!
//! M is a clock ticking every 4 microseconds (RFC 9293 section 3.4.1); with a millisecond
//! clock that is 250 ticks per millisecond. F is SipHash keyed by a secret drawn from the
//! engine's seed, so an off-path attacker cannot predict the ISN of another connection,
//! while a new incarnation of the same 4-tuple still starts above the old one.

use super::hash::sip_hash;
use super::seq::Seq;
use super::{FourTuple, Instant};

const TICKS_PER_MS: u64 = 250;

pub struct IsnGenerator {
    secret: (u64, u64),
}

impl IsnGenerator {
    pub fn new(secret: (u64, u64)) -> Self {
        IsnGenerator { secret }
    }

    pub fn isn(&self, now: Instant, tuple: &FourTuple) -> Seq {
        let offset = sip_hash(self.secret, &tuple.to_bytes()) as u32;
        let clock = now.wrapping_mul(TICKS_PER_MS) as u32;
        Seq(clock.wrapping_add(offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn tuple(remote_port: u16) -> FourTuple {
        FourTuple::new((Ipv4Addr::new(198, 18, 0, 1), 80), (Ipv4Addr::new(198, 18, 0, 2), remote_port))
    }

    #[test]
    fn same_tuple_advances_with_the_clock() {
        let isn = IsnGenerator::new((1, 2));
        let a = isn.isn(1_000, &tuple(40_000));
        let b = isn.isn(1_004, &tuple(40_000));
        assert_eq!(b - a, 4 * 250);
    }

    #[test]
    fn different_tuples_and_secrets_give_unrelated_isns() {
        let isn = IsnGenerator::new((1, 2));
        let a = isn.isn(0, &tuple(40_000));
        let b = isn.isn(0, &tuple(40_001));
        assert_ne!(a, b);
        let other = IsnGenerator::new((3, 4));
        assert_ne!(a, other.isn(0, &tuple(40_000)));
    }
}
