//! IPv4 fragment reassembly (RFC 791), hardened:
//! * every datagram has a deadline (`timeout_ms` from its first fragment);
//! * a global memory cap over all stored fragment bytes: when a new fragment would pass
//!   it, the datagrams closest to their deadline are evicted first (an attacker's
//!   never-completing fragments are the oldest, so they go before live traffic);
//! * overlapping fragments drop the whole datagram, and later fragments of it are dropped
//!   until its deadline (the RFC 5722 rule, applied to IPv4 as Linux does); an exact
//!   duplicate (same offset and length, as a duplicating link produces) is only ignored.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::buf::PacketBuf;
use crate::device::TX_HEADROOM;
use crate::wire::ipv4::Ipv4Repr;

#[derive(Clone, Debug)]
pub struct ReassemblyConfig {
    pub timeout_ms: u64,
    /// Bytes of fragment payload held over all datagrams.
    pub mem_cap: usize,
    /// Datagrams under reassembly at once.
    pub max_datagrams: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig { timeout_ms: 30_000, mem_cap: 256 * 1024, max_datagrams: 64 }
    }
}

/// The largest IPv4 payload: total length is 16 bits and the header at least 20 bytes.
const MAX_PAYLOAD: usize = 65_535 - Ipv4Repr::MIN_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ident: u16,
}

struct Fragment {
    offset: usize,
    data: Vec<u8>,
}

impl Fragment {
    fn end(&self) -> usize {
        self.offset + self.data.len()
    }
}

struct Datagram {
    deadline: u64,
    /// Sorted by offset, never overlapping.
    fragments: Vec<Fragment>,
    /// Known once the last fragment (MF clear) arrived.
    total_len: Option<usize>,
    received: usize,
    /// Set after an overlap: the datagram is dead, later fragments are dropped.
    poisoned: bool,
    /// The header of the first fragment seen, for the reassembled datagram.
    header: Ipv4Repr,
}

/// Why a fragment was not (or no longer) useful; each is a counter in `Stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentDrop {
    /// Offset/length impossible (past 64 KiB, a non-final fragment not a multiple of 8,
    /// contradicting last-fragment lengths); the datagram is dropped too.
    Invalid,
    /// Overlaps an earlier fragment: the datagram is dropped (RFC 5722).
    Overlap,
    /// Same offset and length as one already held.
    Duplicate,
    /// Belongs to a datagram already dropped for an overlap.
    Poisoned,
    /// Would not fit under the memory cap even after evicting every other datagram; the
    /// datagram it belongs to is dropped.
    MemoryCap,
}

#[derive(Debug)]
pub enum Reassembled {
    /// Stored; more fragments needed.
    Incomplete,
    /// The whole datagram: its header (fragment fields cleared, lengths of the whole) and
    /// its payload. The buffer also holds the emitted header in its headroom, so an ICMP
    /// error can quote it by pushing `header.header_len` bytes back.
    Complete(Ipv4Repr, PacketBuf),
    Dropped(FragmentDrop),
}

pub struct Reassembler {
    cfg: ReassemblyConfig,
    /// Ordered: timeouts and evictions go in key order, so a run does not depend on a
    /// hasher's random key (the table is bounded by `max_datagrams`).
    datagrams: BTreeMap<Key, Datagram>,
    mem_used: usize,
    /// Datagrams dropped for passing their deadline, and evicted for the memory cap.
    pub timeouts: u64,
    pub evictions: u64,
}

impl Reassembler {
    pub fn new(cfg: ReassemblyConfig) -> Self {
        Reassembler { cfg, datagrams: BTreeMap::new(), mem_used: 0, timeouts: 0, evictions: 0 }
    }

    pub fn mem_used(&self) -> usize {
        self.mem_used
    }

    pub fn datagrams_in_progress(&self) -> usize {
        self.datagrams.len()
    }

    /// Takes one fragment: `repr` is its parsed header, `payload` its payload bytes.
    pub fn push(&mut self, now: u64, repr: &Ipv4Repr, payload: &[u8]) -> Reassembled {
        let key = Key { src: repr.src, dst: repr.dst, protocol: repr.protocol, ident: repr.ident };
        let offset = usize::from(repr.frag_offset);
        let end = offset + payload.len();
        let bad_shape =
            end > MAX_PAYLOAD || (repr.more_fragments && (payload.is_empty() || !payload.len().is_multiple_of(8)));
        if bad_shape {
            self.drop_datagram(&key);
            return Reassembled::Dropped(FragmentDrop::Invalid);
        }
        if payload.len() > self.cfg.mem_cap {
            return Reassembled::Dropped(FragmentDrop::MemoryCap);
        }
        if !self.datagrams.contains_key(&key) {
            while self.datagrams.len() >= self.cfg.max_datagrams.max(1) {
                self.evict_oldest_matching(|_| true);
            }
            let header = Ipv4Repr { frag_offset: 0, more_fragments: false, payload_len: 0, header_len: 20, ..*repr };
            let dgram = Datagram {
                deadline: now + self.cfg.timeout_ms,
                fragments: Vec::new(),
                total_len: None,
                received: 0,
                poisoned: false,
                header,
            };
            self.datagrams.insert(key, dgram);
        }
        let dgram = self.datagrams.get_mut(&key).expect("inserted above");
        if dgram.poisoned {
            return Reassembled::Dropped(FragmentDrop::Poisoned);
        }
        let index = match place(dgram, !repr.more_fragments, offset, end) {
            Ok(Placement::At(index)) => index,
            Ok(Placement::Duplicate) => return Reassembled::Dropped(FragmentDrop::Duplicate),
            Err(reason) => {
                let freed: usize = dgram.fragments.drain(..).map(|f| f.data.len()).sum();
                self.mem_used -= freed;
                if reason == FragmentDrop::Overlap {
                    // Keep the key until its deadline so the rest of the datagram is refused.
                    dgram.poisoned = true;
                    dgram.received = 0;
                } else {
                    self.datagrams.remove(&key);
                }
                return Reassembled::Dropped(reason);
            }
        };
        // Make room by evicting other datagrams (never the current one, so `index` stays
        // valid); if only this datagram is left holding memory, it is the one too big.
        while self.mem_used + payload.len() > self.cfg.mem_cap {
            if !self.evict_oldest_matching(|k| *k != key) {
                self.drop_datagram(&key);
                return Reassembled::Dropped(FragmentDrop::MemoryCap);
            }
        }
        let dgram = self.datagrams.get_mut(&key).expect("the current datagram is never evicted");
        if !repr.more_fragments {
            dgram.total_len = Some(end);
        }
        dgram.fragments.insert(index, Fragment { offset, data: payload.to_vec() });
        dgram.received += payload.len();
        self.mem_used += payload.len();
        if dgram.total_len != Some(dgram.received) {
            return Reassembled::Incomplete;
        }
        let dgram = self.datagrams.remove(&key).expect("present");
        self.mem_used -= dgram.received;
        let (repr, buf) = assemble(dgram);
        Reassembled::Complete(repr, buf)
    }

    /// Drops datagrams past their deadline; returns how many.
    pub fn poll(&mut self, now: u64) -> usize {
        let before = self.datagrams.len();
        let mut freed = 0;
        self.datagrams.retain(|key, d| {
            let keep = d.deadline > now;
            if !keep {
                tracing::debug!(src = %key.src, ident = key.ident, "reassembly timed out");
                freed += d.received;
            }
            keep
        });
        self.mem_used -= freed;
        let expired = before - self.datagrams.len();
        self.timeouts += expired as u64;
        expired
    }

    pub fn next_timer(&self) -> Option<u64> {
        self.datagrams.values().map(|d| d.deadline).min()
    }

    fn drop_datagram(&mut self, key: &Key) {
        if let Some(d) = self.datagrams.remove(key) {
            self.mem_used -= d.received;
        }
    }

    /// Evicts the eligible datagram closest to its deadline; false if there is none.
    fn evict_oldest_matching(&mut self, eligible: impl Fn(&Key) -> bool) -> bool {
        let victim =
            self.datagrams.iter().filter(|(k, _)| eligible(k)).min_by_key(|(_, d)| d.deadline).map(|(k, _)| *k);
        if let Some(key) = victim {
            tracing::debug!(src = %key.src, ident = key.ident, "reassembly evicted for memory");
            self.drop_datagram(&key);
            self.evictions += 1;
            return true;
        }
        false
    }
}

enum Placement {
    At(usize),
    Duplicate,
}

/// Where a fragment `[offset, end)` goes in the sorted list, or why it cannot.
fn place(d: &Datagram, last: bool, offset: usize, end: usize) -> Result<Placement, FragmentDrop> {
    if let Some(total) = d.total_len {
        let contradicts = if last { end != total } else { end > total };
        if contradicts {
            return Err(FragmentDrop::Invalid);
        }
    } else if last && d.fragments.last().is_some_and(|f| f.end() > end) {
        return Err(FragmentDrop::Invalid);
    }
    let index = d.fragments.partition_point(|f| f.offset < offset);
    if let Some(next) = d.fragments.get(index) {
        if next.offset == offset && next.end() == end {
            return Ok(Placement::Duplicate);
        }
        if next.offset < end {
            return Err(FragmentDrop::Overlap);
        }
    }
    if index > 0 && d.fragments[index - 1].end() > offset {
        return Err(FragmentDrop::Overlap);
    }
    Ok(Placement::At(index))
}

fn assemble(d: Datagram) -> (Ipv4Repr, PacketBuf) {
    let total = d.received;
    let mut buf = PacketBuf::with_headroom(TX_HEADROOM + total, TX_HEADROOM);
    for f in &d.fragments {
        buf.append(&f.data).expect("sized for the whole datagram");
    }
    let repr = Ipv4Repr { payload_len: total, ..d.header };
    // The header goes in front and is pulled again, so ICMP errors can quote it.
    repr.emit(buf.push(Ipv4Repr::MIN_LEN).expect("headroom"));
    buf.pull(Ipv4Repr::MIN_LEN).expect("just pushed");
    (repr, buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::protocol;

    fn frag(ident: u16, offset: u16, len: usize, more: bool) -> (Ipv4Repr, Vec<u8>) {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(198, 18, 0, 1),
            dst: Ipv4Addr::new(198, 18, 0, 2),
            protocol: protocol::UDP,
            ttl: 64,
            tos: 0,
            ident,
            dont_fragment: false,
            more_fragments: more,
            frag_offset: offset,
            header_len: 20,
            payload_len: len,
        };
        let data = (0..len).map(|i| (usize::from(offset) + i) as u8).collect();
        (repr, data)
    }

    fn push(r: &mut Reassembler, now: u64, ident: u16, offset: u16, len: usize, more: bool) -> Reassembled {
        let (repr, data) = frag(ident, offset, len, more);
        r.push(now, &repr, &data)
    }

    fn small() -> Reassembler {
        Reassembler::new(ReassemblyConfig { timeout_ms: 100, mem_cap: 64, max_datagrams: 4 })
    }

    #[test]
    fn fragments_in_any_order_reassemble_byte_exact() {
        let mut r = small();
        assert!(matches!(push(&mut r, 0, 1, 16, 4, false), Reassembled::Incomplete));
        let second = push(&mut r, 0, 1, 0, 8, true);
        assert!(matches!(second, Reassembled::Incomplete), "{second:?}");
        let Reassembled::Complete(repr, buf) = push(&mut r, 0, 1, 8, 8, true) else { panic!("should complete") };
        assert_eq!(buf.data(), (0..20u8).collect::<Vec<_>>().as_slice());
        assert_eq!((repr.payload_len, repr.more_fragments, repr.frag_offset), (20, false, 0));
        assert_eq!((r.mem_used(), r.datagrams_in_progress()), (0, 0));
    }

    #[test]
    fn overlap_drops_the_datagram_and_its_later_fragments() {
        let mut r = small();
        push(&mut r, 0, 1, 0, 16, true);
        assert!(matches!(push(&mut r, 0, 1, 8, 16, true), Reassembled::Dropped(FragmentDrop::Overlap)));
        assert_eq!(r.mem_used(), 0, "the held fragment is freed");
        assert!(matches!(push(&mut r, 1, 1, 16, 8, false), Reassembled::Dropped(FragmentDrop::Poisoned)));
        assert_eq!(r.poll(100), 1, "the tombstone lasts until the deadline");
        assert!(matches!(push(&mut r, 101, 1, 0, 8, true), Reassembled::Incomplete));
    }

    #[test]
    fn exact_duplicates_are_ignored_without_killing_the_datagram() {
        let mut r = small();
        push(&mut r, 0, 1, 0, 8, true);
        assert!(matches!(push(&mut r, 0, 1, 0, 8, true), Reassembled::Dropped(FragmentDrop::Duplicate)));
        assert!(matches!(push(&mut r, 0, 1, 8, 8, false), Reassembled::Complete(..)));
    }

    #[test]
    fn an_incomplete_datagram_times_out_and_frees_its_memory() {
        let mut r = small();
        push(&mut r, 10, 1, 0, 8, true);
        assert_eq!(r.next_timer(), Some(110));
        assert_eq!(r.poll(109), 0);
        assert_eq!(r.poll(110), 1);
        assert_eq!((r.mem_used(), r.timeouts), (0, 1));
    }

    #[test]
    fn the_memory_cap_evicts_the_oldest_datagram_first() {
        let mut r = small(); // cap 64 bytes
        push(&mut r, 0, 1, 0, 32, true);
        push(&mut r, 1, 2, 0, 24, true);
        assert_eq!(r.mem_used(), 56);
        push(&mut r, 2, 3, 0, 16, true); // 72 > 64: datagram 1 (oldest) goes
        assert_eq!((r.mem_used(), r.evictions), (40, 1));
        assert!(matches!(push(&mut r, 3, 1, 32, 8, false), Reassembled::Incomplete), "ident 1 restarted");
        assert!(matches!(push(&mut r, 3, 9, 0, 72, false), Reassembled::Dropped(FragmentDrop::MemoryCap)));
        // A single datagram growing past the cap on its own is dropped, not looped on.
        let mut r = small();
        push(&mut r, 0, 5, 0, 56, true);
        assert!(matches!(push(&mut r, 0, 5, 56, 16, true), Reassembled::Dropped(FragmentDrop::MemoryCap)));
        assert_eq!((r.mem_used(), r.datagrams_in_progress()), (0, 0));
    }

    #[test]
    fn impossible_fragments_are_invalid() {
        let mut r = small();
        assert!(matches!(push(&mut r, 0, 1, 0, 7, true), Reassembled::Dropped(FragmentDrop::Invalid)));
        assert!(matches!(push(&mut r, 0, 2, 65_528, 16, false), Reassembled::Dropped(FragmentDrop::Invalid)));
        push(&mut r, 0, 3, 8, 8, false); // total length 16
        assert!(matches!(push(&mut r, 0, 3, 16, 8, true), Reassembled::Dropped(FragmentDrop::Invalid)));
        assert_eq!((r.mem_used(), r.datagrams_in_progress()), (0, 0));
    }

    #[test]
    fn the_number_of_datagrams_is_bounded() {
        let mut r = small();
        for ident in 0..6 {
            push(&mut r, u64::from(ident), ident, 0, 8, true);
        }
        assert_eq!((r.datagrams_in_progress(), r.evictions), (4, 2));
    }
}
