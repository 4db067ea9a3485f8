//! Receive coalescing in software, after Linux's GRO: within one receive batch, a TCP
//! segment that continues the previous one of the same flow is recognised by comparing
//! its headers with that segment's, so the Ethernet and IPv4 layers, the TCP header
//! parser and the demultiplexer run once per run of segments instead of once per frame.
//!
//! Nothing is merged away. Each frame that joins a run has its IPv4 checksum verified
//! here and its TCP checksum verified by the engine, and the engine still takes every
//! segment one by one (sequence number, ACK, window, the ACK it owes): a run changes what
//! a segment costs, not what the stack does with it. A test compares the traffic of whole
//! transfers with coalescing on and off, byte for byte (`InterfaceConfig::rx_coalescing`).
//!
//! A run starts at a TCP segment that carries data and only the ACK flag, in an IPv4
//! datagram without options. A frame joins when its Ethernet header, its IPv4 header but
//! for the total length, ident and checksum, and its TCP header (options included) but for
//! the sequence number and checksum are the first segment's, its sequence number follows
//! the previous segment's, and it is no longer than the first (a shorter one ends the
//! run). Any other frame ends the run and takes the ordinary path.

use crate::buf::PacketBuf;
use crate::tcp::MAX_HEADER_LEN as MAX_TCP_HEADER;
use crate::wire::checksum;

/// Ethernet (14) and IPv4 without options (20) in front of the TCP header.
const LOWER: usize = 34;
const IP: usize = 14;
const TCP: usize = LOWER;
/// The TCP flags of a segment that may start or join a run: ACK alone.
const ACK_ONLY: u8 = 0x10;

/// Bytes compared at once: the longest headers, in 8-byte words.
const WORDS: usize = (LOWER + MAX_TCP_HEADER).div_ceil(8);

/// The run being built: the headers its frames repeat, and where it has got to.
#[derive(Debug)]
pub struct Run {
    /// The first segment's Ethernet, IPv4 and TCP headers, as 8-byte words.
    headers: [u64; WORDS],
    /// Ones where a header byte must be the first segment's: everything but the fields
    /// that differ from segment to segment, and nothing past the headers.
    same: [u64; WORDS],
    tcp_len: usize,
    /// The sequence number the next segment must have.
    next_seq: u32,
    /// The first segment's payload length: every segment but the last has it.
    segment_len: usize,
    /// A shorter segment joined: it is the last.
    ended: bool,
}

impl Run {
    /// The run `segment` starts, if it can start one. `segment` is as the IPv4 layer
    /// hands it on: its window at the TCP header, its Ethernet and IPv4 headers (checked)
    /// right in front of it.
    pub fn start(segment: &PacketBuf) -> Option<Run> {
        let tcp = segment.data();
        // Most segments that cannot start a run say so in their flags.
        if tcp.get(13) != Some(&ACK_ONLY) {
            return None;
        }
        let before = segment.headroom_bytes();
        if before.len() < LOWER || tcp.len() < 20 {
            return None;
        }
        let tcp_len = usize::from(tcp[12] >> 4) * 4;
        if !(20..=tcp.len()).contains(&tcp_len) || tcp[13] != ACK_ONLY || tcp.len() == tcp_len {
            return None;
        }
        let lower = &before[before.len() - LOWER..];
        if lower[IP] != 0x45 {
            return None; // IPv4 options: not this fast path
        }
        let mut bytes = [0u8; WORDS * 8];
        bytes[..LOWER].copy_from_slice(lower);
        bytes[LOWER..LOWER + tcp_len].copy_from_slice(&tcp[..tcp_len]);
        let mut mask = [0u8; WORDS * 8];
        mask[..LOWER + tcp_len].fill(0xff);
        // IPv4 total length, ident and checksum; TCP sequence number and checksum.
        for field in [IP + 2..IP + 6, IP + 10..IP + 12, TCP + 4..TCP + 8, TCP + 16..TCP + 18] {
            mask[field].fill(0);
        }
        let segment_len = tcp.len() - tcp_len;
        let next_seq = be32(&tcp[4..8]).wrapping_add(segment_len as u32);
        Some(Run { headers: words(&bytes), same: words(&mask), tcp_len, next_seq, segment_len, ended: false })
    }

    /// Whether `frame` (a whole frame, as the device gave it) is the run's next segment.
    /// If it is, its IPv4 checksum verified and its window narrowed to the TCP segment, as
    /// the IPv4 layer would leave it; if not, it is untouched.
    pub fn join(&mut self, frame: &mut PacketBuf) -> bool {
        let bytes = frame.data();
        // Frames too short to compare whole words (a payload of a few bytes) take the
        // ordinary path.
        let Some(h) = bytes.first_chunk::<{ WORDS * 8 }>() else { return false };
        if self.ended || bytes.len() <= LOWER + self.tcp_len {
            return false;
        }
        let differ = words(h).iter().zip(&self.headers).zip(&self.same).fold(0, |acc, ((w, r), m)| acc | ((w ^ r) & m));
        if differ != 0 || be32(&h[TCP + 4..TCP + 8]) != self.next_seq {
            return false;
        }
        let total = usize::from(u16::from_be_bytes([h[IP + 2], h[IP + 3]]));
        let len = total.saturating_sub(20 + self.tcp_len);
        if len == 0 || len > self.segment_len || IP + total > bytes.len() {
            return false;
        }
        let ip_header: &[u8; 20] = h[IP..IP + 20].try_into().expect("20 bytes");
        if checksum::sum_fixed(ip_header) != 0xffff {
            return false; // the ordinary path counts it
        }
        self.ended = len < self.segment_len;
        self.next_seq = self.next_seq.wrapping_add(len as u32);
        frame.truncate(IP + total);
        frame.pull(LOWER).expect("longer than its headers");
        true
    }
}

fn words(bytes: &[u8; WORDS * 8]) -> [u64; WORDS] {
    std::array::from_fn(|i| u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes")))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ethernet::{EtherType, EthernetRepr, MacAddr};
    use crate::wire::ipv4::{protocol, Ipv4Repr};
    use std::net::Ipv4Addr;

    const SRC: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    /// A frame carrying a TCP segment with `seq`, `flags` and `len` payload bytes (its TCP
    /// checksum is left zero: the engine checks it, not the run).
    fn frame(seq: u32, flags: u8, len: usize, ident: u16) -> PacketBuf {
        let tcp_len = 32;
        let mut bytes = vec![0u8; LOWER + tcp_len + len];
        EthernetRepr { dst: MacAddr([2, 0, 0, 0, 0, 2]), src: MacAddr([2, 0, 0, 0, 0, 1]), ethertype: EtherType::Ipv4 }
            .emit(&mut bytes[..IP]);
        let ip = Ipv4Repr {
            src: SRC,
            dst: DST,
            protocol: protocol::TCP,
            ttl: 64,
            tos: 0,
            ident,
            dont_fragment: true,
            more_fragments: false,
            frag_offset: 0,
            header_len: 20,
            payload_len: tcp_len + len,
        };
        ip.emit(&mut bytes[IP..LOWER]);
        let tcp = &mut bytes[TCP..TCP + tcp_len];
        tcp[..4].copy_from_slice(&[0x13, 0x89, 0xc0, 0x00]);
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&7u32.to_be_bytes());
        tcp[12] = (tcp_len as u8 / 4) << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&[0x10, 0x00]);
        tcp[20..32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3]);
        PacketBuf::from_frame(bytes)
    }

    /// `frame` as the IPv4 layer hands it to TCP.
    fn first(seq: u32, flags: u8, len: usize) -> PacketBuf {
        let mut f = frame(seq, flags, len, 1);
        f.pull(LOWER).unwrap();
        f
    }

    #[test]
    fn the_next_segments_of_the_flow_join_and_come_out_as_the_ipv4_layer_leaves_them() {
        let mut run = Run::start(&first(1000, ACK_ONLY, 100)).expect("data with only ACK starts a run");
        let mut next = frame(1100, ACK_ONLY, 100, 2);
        assert!(run.join(&mut next));
        assert_eq!(next.len(), 32 + 100, "the TCP segment");
        assert_eq!(&next.data()[4..8], &1100u32.to_be_bytes());
        let mut shorter = frame(1200, ACK_ONLY, 40, 3);
        assert!(run.join(&mut shorter), "a shorter segment joins, and is the last");
        assert!(!run.join(&mut frame(1240, ACK_ONLY, 100, 4)), "nothing after it");
    }

    #[test]
    fn anything_but_the_next_segment_of_the_same_flow_stays_out_untouched() {
        let start = || Run::start(&first(1000, ACK_ONLY, 100)).unwrap();
        let refused = |mut f: PacketBuf| {
            let before = f.clone();
            assert!(!start().join(&mut f));
            assert_eq!(f, before, "left as it was");
        };
        refused(frame(1200, ACK_ONLY, 100, 2)); // a gap
        refused(frame(1000, ACK_ONLY, 100, 2)); // a duplicate
        refused(frame(1100, ACK_ONLY | 0x08, 100, 2)); // PSH
        refused(frame(1100, ACK_ONLY | 0x01, 100, 2)); // FIN
        refused(frame(1100, ACK_ONLY, 0, 2)); // no data
        refused(frame(1100, ACK_ONLY, 101, 2)); // longer than the first
                                                // One bit flipped in a field that must repeat: a port, the ACK, the TSval, the IPv4
                                                // checksum (the header no longer verifies), the source address.
        for at in [TCP + 1, TCP + 11, TCP + 27, IP + 10, IP + 15] {
            let mut other = frame(1100, ACK_ONLY, 100, 2);
            other.data_mut()[at] ^= 1;
            refused(other);
        }
        let mut truncated = frame(1100, ACK_ONLY, 100, 2);
        truncated.truncate(LOWER + 32 + 50);
        refused(truncated);
    }

    #[test]
    fn only_plain_data_segments_start_a_run() {
        assert!(Run::start(&first(1, ACK_ONLY | 0x08, 100)).is_none(), "PSH");
        assert!(Run::start(&first(1, 0x02, 100)).is_none(), "SYN");
        assert!(Run::start(&first(1, ACK_ONLY, 0)).is_none(), "no data");
        assert!(Run::start(&frame(1, ACK_ONLY, 100, 1)).is_none(), "no headers in front");
    }
}
