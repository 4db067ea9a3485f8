//! IPv4 header (RFC 791). Parsing validates everything a receiver must check before
//! trusting the header; emitting writes a 20-byte header (we never send options).

use std::net::Ipv4Addr;

use super::{be16, checksum, ipv4_at, WireError};

pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub tos: u8,
    pub ident: u16,
    pub dont_fragment: bool,
    pub more_fragments: bool,
    /// Fragment offset in bytes (the header field times 8).
    pub frag_offset: u16,
    /// Header length in bytes (20..=60; options are skipped, not interpreted).
    pub header_len: usize,
    /// Payload length in bytes (total length minus header length).
    pub payload_len: usize,
}

impl Ipv4Repr {
    pub const MIN_LEN: usize = 20;

    /// Validates version, IHL, total length against the bytes present and the header
    /// checksum. TTL is not judged here: a datagram addressed to us is delivered whatever
    /// its TTL (we do not forward), the interface decides what TTL 0 means.
    #[inline]
    pub fn parse(b: &[u8]) -> Result<Self, WireError> {
        if b.len() < Self::MIN_LEN {
            return Err(WireError::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(WireError::Unsupported);
        }
        let header_len = usize::from(b[0] & 0x0f) * 4;
        let total_len = usize::from(be16(b, 2));
        if header_len < Self::MIN_LEN || total_len < header_len {
            return Err(WireError::BadLength);
        }
        if b.len() < header_len || b.len() < total_len {
            return Err(WireError::Truncated);
        }
        let sum = match b.first_chunk::<{ Self::MIN_LEN }>() {
            Some(fixed) if header_len == Self::MIN_LEN => checksum::sum_fixed(fixed),
            _ => checksum::sum(&b[..header_len]),
        };
        if sum != 0xffff {
            return Err(WireError::BadChecksum);
        }
        let flags_frag = be16(b, 6);
        Ok(Ipv4Repr {
            tos: b[1],
            ident: be16(b, 4),
            dont_fragment: flags_frag & 0x4000 != 0,
            more_fragments: flags_frag & 0x2000 != 0,
            frag_offset: (flags_frag & 0x1fff) * 8,
            ttl: b[8],
            protocol: b[9],
            src: ipv4_at(b, 12),
            dst: ipv4_at(b, 16),
            header_len,
            payload_len: total_len - header_len,
        })
    }

    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.frag_offset != 0
    }

    /// Writes a 20-byte header (options are never emitted) with its checksum into `b[..20]`.
    /// The checksum is summed from the field values, not read back from the bytes just
    /// written (a load right after narrower stores to the same bytes stalls the CPU).
    pub fn emit(&self, b: &mut [u8]) {
        let total = (Self::MIN_LEN + self.payload_len) as u16;
        let flags_frag =
            (u16::from(self.dont_fragment) << 14) | (u16::from(self.more_fragments) << 13) | (self.frag_offset / 8);
        let (src, dst) = (u32::from(self.src), u32::from(self.dst));
        let words = [
            0x4500 | u32::from(self.tos),
            u32::from(total),
            u32::from(self.ident),
            u32::from(flags_frag),
            u32::from(self.ttl) << 8 | u32::from(self.protocol),
            src >> 16,
            src & 0xffff,
            dst >> 16,
            dst & 0xffff,
        ];
        let c = !checksum::fold(words.iter().sum());
        b[0] = 0x45;
        b[1] = self.tos;
        b[2..4].copy_from_slice(&total.to_be_bytes());
        b[4..6].copy_from_slice(&self.ident.to_be_bytes());
        b[6..8].copy_from_slice(&flags_frag.to_be_bytes());
        b[8] = self.ttl;
        b[9] = self.protocol;
        b[10..12].copy_from_slice(&c.to_be_bytes());
        b[12..16].copy_from_slice(&self.src.octets());
        b[16..20].copy_from_slice(&self.dst.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr() -> Ipv4Repr {
        Ipv4Repr {
            src: Ipv4Addr::new(198, 18, 0, 1),
            dst: Ipv4Addr::new(198, 18, 0, 2),
            protocol: protocol::UDP,
            ttl: 64,
            tos: 0,
            ident: 0x1234,
            dont_fragment: false,
            more_fragments: true,
            frag_offset: 1480,
            header_len: 20,
            payload_len: 8,
        }
    }

    fn packet() -> Vec<u8> {
        let mut b = vec![0u8; 28];
        repr().emit(&mut b);
        b
    }

    #[test]
    fn emit_then_parse_round_trips_with_fragment_fields() {
        let b = packet();
        assert_eq!(&b[6..8], &[0x20, 185], "MF set, offset 1480/8 = 185");
        assert_eq!(Ipv4Repr::parse(&b), Ok(repr()));
        assert!(repr().is_fragment());
    }

    #[test]
    fn every_malformed_header_is_rejected_with_its_reason() {
        assert_eq!(Ipv4Repr::parse(&packet()[..19]), Err(WireError::Truncated));
        let mut v6 = packet();
        v6[0] = 0x65;
        assert_eq!(Ipv4Repr::parse(&v6), Err(WireError::Unsupported));
        let mut small_ihl = packet();
        small_ihl[0] = 0x44;
        assert_eq!(Ipv4Repr::parse(&small_ihl), Err(WireError::BadLength));
        let mut long_total = packet();
        long_total[3] = 29; // claims one byte more than the frame holds
        assert_eq!(Ipv4Repr::parse(&long_total), Err(WireError::Truncated));
        let mut total_below_ihl = packet();
        total_below_ihl[3] = 19;
        assert_eq!(Ipv4Repr::parse(&total_below_ihl), Err(WireError::BadLength));
        let mut big_ihl = packet();
        big_ihl[0] = 0x48; // 32-byte header, frame has 28 and total length says 28
        big_ihl[3] = 28;
        assert!(Ipv4Repr::parse(&big_ihl).is_err());
        let mut bad_sum = packet();
        bad_sum[8] = 1; // TTL changed without fixing the checksum
        assert_eq!(Ipv4Repr::parse(&bad_sum), Err(WireError::BadChecksum));
    }

    #[test]
    fn the_checksum_from_the_fields_is_the_checksum_of_the_bytes() {
        for (i, ttl) in [0u8, 1, 64, 255].into_iter().enumerate() {
            let ip = Ipv4Repr {
                tos: 0xff >> i,
                ttl,
                ident: 0xffff - i as u16,
                src: Ipv4Addr::new(255, 255, 255 - i as u8, 255),
                payload_len: 1480 - i,
                ..repr()
            };
            let mut b = [0xa5u8; 20];
            ip.emit(&mut b);
            assert_eq!(checksum::sum(&b), 0xffff, "{ip:?}");
        }
    }

    #[test]
    fn trailing_padding_is_not_part_of_the_payload() {
        let mut b = packet();
        b.extend_from_slice(&[0; 18]); // Ethernet minimum-size padding
        assert_eq!(Ipv4Repr::parse(&b).unwrap().payload_len, 8);
    }
}
