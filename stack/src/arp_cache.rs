//! The ARP cache (IPv4 → MAC) and the queue of packets waiting for an address.
//!
//! Both are bounded: the cache evicts the entry closest to expiry when full, and the
//! pending queue refuses packets past `pending_max` (the caller counts the drop). A
//! resolution that gets no reply after `request_attempts` requests drops its packets.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use crate::buf::PacketBuf;
use crate::wire::ethernet::MacAddr;

const SWEEP_INTERVAL_MS: u64 = 1000;

#[derive(Clone, Debug)]
pub struct ArpConfig {
    pub cache_size: usize,
    /// How long a learned address is trusted.
    pub entry_ttl_ms: u64,
    /// Time between requests for an unanswered address.
    pub request_interval_ms: u64,
    /// Requests sent before the waiting packets are dropped.
    pub request_attempts: u32,
    /// Packets waiting for resolution, over all destinations.
    pub pending_max: usize,
}

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig {
            cache_size: 256,
            entry_ttl_ms: 60_000,
            request_interval_ms: 1000,
            request_attempts: 3,
            pending_max: 64,
        }
    }
}

struct Neighbor {
    mac: MacAddr,
    expires_at: u64,
}

struct Resolution {
    packets: VecDeque<PacketBuf>,
    next_request_at: u64,
    requests_left: u32,
}

/// What `enqueue` did with a packet whose next hop has no cache entry.
#[derive(Debug)]
pub enum Enqueued {
    /// First packet for this address: the caller sends an ARP request now.
    SendRequest,
    /// A request is already outstanding.
    Waiting,
    /// The pending queue is full; the packet is handed back to be dropped and counted.
    Full(PacketBuf),
}

pub struct ArpCache {
    cfg: ArpConfig,
    // Ordered maps: requests and evictions go in address order, so a run does not depend
    // on a hasher's random key (the tables are small and bounded).
    entries: BTreeMap<Ipv4Addr, Neighbor>,
    pending: BTreeMap<Ipv4Addr, Resolution>,
    pending_count: usize,
    /// When `poll` next sweeps expired entries (a sweep walks the whole cache, so it runs
    /// at most once per `SWEEP_INTERVAL_MS`, not on every poll).
    next_sweep_at: u64,
    /// Cache entries evicted to make room (for `Stats`).
    pub evictions: u64,
}

impl ArpCache {
    pub fn new(cfg: ArpConfig) -> Self {
        ArpCache {
            cfg,
            entries: BTreeMap::new(),
            pending: BTreeMap::new(),
            pending_count: 0,
            next_sweep_at: 0,
            evictions: 0,
        }
    }

    pub fn lookup(&self, now: u64, ip: Ipv4Addr) -> Option<MacAddr> {
        self.entries.get(&ip).filter(|n| n.expires_at > now).map(|n| n.mac)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.entries.contains_key(&ip)
    }

    /// Learns or refreshes `ip`. Returns the packets that were waiting for it, now ready
    /// to be sent.
    pub fn insert(&mut self, now: u64, ip: Ipv4Addr, mac: MacAddr) -> VecDeque<PacketBuf> {
        if !self.entries.contains_key(&ip) && self.entries.len() >= self.cfg.cache_size {
            self.evict_soonest_expiring();
        }
        self.entries.insert(ip, Neighbor { mac, expires_at: now + self.cfg.entry_ttl_ms });
        match self.pending.remove(&ip) {
            Some(res) => {
                self.pending_count -= res.packets.len();
                res.packets
            }
            None => VecDeque::new(),
        }
    }

    fn evict_soonest_expiring(&mut self) {
        // The cache is small and bounded, so a scan on the rare full insert is cheaper than
        // keeping a second ordered index on every refresh.
        if let Some(victim) = self.entries.iter().min_by_key(|(_, n)| n.expires_at).map(|(ip, _)| *ip) {
            self.entries.remove(&victim);
            self.evictions += 1;
            tracing::debug!(%victim, "arp cache full, evicted");
        }
    }

    /// Parks `packet` (an IP packet, Ethernet header not yet pushed) until `ip` resolves.
    pub fn enqueue(&mut self, now: u64, ip: Ipv4Addr, packet: PacketBuf) -> Enqueued {
        if self.pending_count >= self.cfg.pending_max {
            return Enqueued::Full(packet);
        }
        self.pending_count += 1;
        match self.pending.get_mut(&ip) {
            Some(res) => {
                res.packets.push_back(packet);
                Enqueued::Waiting
            }
            None => {
                let res = Resolution {
                    packets: VecDeque::from([packet]),
                    next_request_at: now + self.cfg.request_interval_ms,
                    requests_left: self.cfg.request_attempts.saturating_sub(1),
                };
                self.pending.insert(ip, res);
                Enqueued::SendRequest
            }
        }
    }

    /// Runs the timers: `request(ip)` for each address due for another request; returns
    /// the number of packets dropped because their address never answered.
    pub fn poll(&mut self, now: u64, mut request: impl FnMut(Ipv4Addr)) -> usize {
        let mut dropped = 0;
        self.pending.retain(|ip, res| {
            if res.next_request_at > now {
                return true;
            }
            if res.requests_left == 0 {
                tracing::debug!(%ip, packets = res.packets.len(), "arp resolution timed out");
                dropped += res.packets.len();
                return false;
            }
            res.requests_left -= 1;
            res.next_request_at = now + self.cfg.request_interval_ms;
            request(*ip);
            true
        });
        self.pending_count -= dropped;
        if now >= self.next_sweep_at {
            self.next_sweep_at = now + SWEEP_INTERVAL_MS;
            self.entries.retain(|_, n| n.expires_at > now);
        }
        dropped
    }

    /// The next time `poll` has work: a request retry or a resolution timeout. (Expired
    /// entries need no timer: `lookup` already ignores them and `poll` sweeps them.)
    pub fn next_timer(&self) -> Option<u64> {
        self.pending.values().map(|r| r.next_request_at).min()
    }

    pub fn pending_count(&self) -> usize {
        self.pending_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, n)
    }

    fn cfg() -> ArpConfig {
        ArpConfig { cache_size: 2, entry_ttl_ms: 100, request_interval_ms: 10, request_attempts: 3, pending_max: 3 }
    }

    #[test]
    fn entries_expire_and_the_soonest_expiring_is_evicted_when_full() {
        let mut c = ArpCache::new(cfg());
        c.insert(0, ip(1), MacAddr([1; 6]));
        c.insert(5, ip(2), MacAddr([2; 6]));
        c.insert(6, ip(3), MacAddr([3; 6]));
        assert_eq!(c.lookup(6, ip(1)), None, "oldest entry evicted");
        assert_eq!(c.lookup(6, ip(2)), Some(MacAddr([2; 6])));
        assert_eq!(c.evictions, 1);
        assert_eq!(c.lookup(105, ip(2)), None, "expired at 5 + 100");
        assert_eq!(c.lookup(105, ip(3)), Some(MacAddr([3; 6])));
    }

    #[test]
    fn pending_packets_are_released_on_reply_and_bounded() {
        let mut c = ArpCache::new(cfg());
        let p = || PacketBuf::from_frame(vec![0; 4]);
        assert!(matches!(c.enqueue(0, ip(1), p()), Enqueued::SendRequest));
        assert!(matches!(c.enqueue(0, ip(1), p()), Enqueued::Waiting));
        assert!(matches!(c.enqueue(0, ip(2), p()), Enqueued::SendRequest));
        assert!(matches!(c.enqueue(0, ip(2), p()), Enqueued::Full(_)));
        assert_eq!(c.insert(1, ip(1), MacAddr([1; 6])).len(), 2);
        assert_eq!(c.pending_count(), 1);
    }

    #[test]
    fn unanswered_resolution_retries_then_drops_its_packets() {
        let mut c = ArpCache::new(cfg());
        c.enqueue(0, ip(1), PacketBuf::from_frame(vec![0; 4]));
        c.enqueue(0, ip(1), PacketBuf::from_frame(vec![0; 4]));
        let mut requests = 0;
        assert_eq!(c.poll(9, |_| requests += 1), 0);
        assert_eq!(requests, 0, "not due before the interval");
        assert_eq!(c.next_timer(), Some(10));
        assert_eq!(c.poll(10, |_| requests += 1), 0);
        assert_eq!(c.poll(20, |_| requests += 1), 0);
        assert_eq!(requests, 2, "3 attempts = the first request + 2 retries");
        assert_eq!(c.poll(30, |_| requests += 1), 2);
        assert_eq!((c.pending_count(), c.next_timer()), (0, None));
    }
}
