//! Ephemeral port selection per RFC 6056, algorithm 3 ("simple hash-based").
//!
//! port = min + (F(local IP, remote IP, remote port, secret) + next) mod range.
//! The hash spreads the starting point per destination so an attacker who sees our ports
//! towards one host cannot guess them towards another; the shared counter makes
//! consecutive connections to one destination take consecutive ports, which keeps
//! reuse of a port (and thus of a 4-tuple still in TIME-WAIT elsewhere) as late as possible.

use super::hash::sip_hash;
use std::net::Ipv4Addr;

/// IANA's dynamic range (RFC 6335), what RFC 6056 recommends.
pub const EPHEMERAL_MIN: u16 = 49152;
pub const EPHEMERAL_MAX: u16 = 65535;

pub struct PortAllocator {
    secret: (u64, u64),
    next: u32,
}

impl PortAllocator {
    pub fn new(secret: (u64, u64)) -> Self {
        PortAllocator { secret, next: 0 }
    }

    /// The first port in the hashed sequence for which `in_use` says no, or `None`
    /// when all of the range is taken towards this destination.
    pub fn pick(
        &mut self,
        local_ip: Ipv4Addr,
        remote: (Ipv4Addr, u16),
        mut in_use: impl FnMut(u16) -> bool,
    ) -> Option<u16> {
        let mut key = [0u8; 10];
        key[..4].copy_from_slice(&local_ip.octets());
        key[4..8].copy_from_slice(&remote.0.octets());
        key[8..].copy_from_slice(&remote.1.to_be_bytes());
        let offset = sip_hash(self.secret, &key) as u32;
        let range = u32::from(EPHEMERAL_MAX - EPHEMERAL_MIN) + 1;
        for _ in 0..range {
            let port = EPHEMERAL_MIN + (offset.wrapping_add(self.next) % range) as u16;
            self.next = self.next.wrapping_add(1);
            if !in_use(port) {
                return Some(port);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const REMOTE: (Ipv4Addr, u16) = (Ipv4Addr::new(198, 18, 0, 2), 80);

    #[test]
    fn consecutive_picks_are_consecutive_ports_in_range() {
        let mut ports = PortAllocator::new((5, 6));
        let a = ports.pick(LOCAL, REMOTE, |_| false).unwrap();
        let b = ports.pick(LOCAL, REMOTE, |_| false).unwrap();
        assert!(a >= EPHEMERAL_MIN && b >= EPHEMERAL_MIN);
        assert!(b == a + 1 || (a == EPHEMERAL_MAX && b == EPHEMERAL_MIN));
    }

    #[test]
    fn skips_ports_in_use_and_gives_up_when_all_are() {
        let mut ports = PortAllocator::new((5, 6));
        let first = ports.pick(LOCAL, REMOTE, |_| false).unwrap();
        let mut fresh = PortAllocator::new((5, 6));
        let second = fresh.pick(LOCAL, REMOTE, |p| p == first).unwrap();
        assert_ne!(first, second);
        assert_eq!(fresh.pick(LOCAL, REMOTE, |_| true), None);
    }

    #[test]
    fn the_secret_changes_the_sequence() {
        let a = PortAllocator::new((5, 6)).pick(LOCAL, REMOTE, |_| false);
        let b = PortAllocator::new((7, 8)).pick(LOCAL, REMOTE, |_| false);
        assert_ne!(a, b);
    }
}
