//! UDP header (RFC 768) and its checksum over the IPv4 pseudo-header.

use std::net::Ipv4Addr;

use super::ipv4::protocol;
use super::{be16, checksum, WireError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload_len: usize,
}

impl UdpRepr {
    pub const HEADER_LEN: usize = 8;

    /// `dgram` is the IP payload. `sum_hint` is the ones'-complement sum of all of
    /// `dgram` if the device computed it. A zero checksum field means "not computed"
    /// (allowed over IPv4) and is accepted. Bytes past the UDP length are ignored.
    pub fn parse(dgram: &[u8], src: Ipv4Addr, dst: Ipv4Addr, sum_hint: Option<u16>) -> Result<Self, WireError> {
        if dgram.len() < Self::HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = usize::from(be16(dgram, 4));
        if len < Self::HEADER_LEN {
            return Err(WireError::BadLength);
        }
        if len > dgram.len() {
            return Err(WireError::Truncated);
        }
        if be16(dgram, 6) != 0 {
            let body = match sum_hint {
                // The hint covers the whole IP payload; take out what lies past `len`.
                Some(all) => checksum::sub(all, checksum::sum_at_offset(&dgram[len..], len)),
                None => checksum::sum(&dgram[..len]),
            };
            let pseudo = checksum::pseudo_header(src, dst, protocol::UDP, len as u16);
            if checksum::add(pseudo, body) != 0xffff {
                return Err(WireError::BadChecksum);
            }
        }
        Ok(UdpRepr { src_port: be16(dgram, 0), dst_port: be16(dgram, 2), payload_len: len - Self::HEADER_LEN })
    }

    /// Writes the header into `dgram[..8]` and the checksum over all of `dgram` (header
    /// and payload, which must already be in place).
    pub fn emit(&self, dgram: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
        let len = (Self::HEADER_LEN + self.payload_len) as u16;
        dgram[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        dgram[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        dgram[4..6].copy_from_slice(&len.to_be_bytes());
        dgram[6..8].copy_from_slice(&[0, 0]);
        let pseudo = checksum::pseudo_header(src, dst, protocol::UDP, len);
        let mut c = !checksum::add(pseudo, checksum::sum(&dgram[..usize::from(len)]));
        if c == 0 {
            c = 0xffff; // zero on the wire would mean "no checksum"
        }
        dgram[6..8].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn datagram(payload: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; 8];
        d.extend_from_slice(payload);
        UdpRepr { src_port: 1000, dst_port: 7, payload_len: payload.len() }.emit(&mut d, A, B);
        d
    }

    #[test]
    fn emit_then_parse_round_trips() {
        let d = datagram(b"hello");
        let r = UdpRepr::parse(&d, A, B, None).unwrap();
        assert_eq!(r, UdpRepr { src_port: 1000, dst_port: 7, payload_len: 5 });
    }

    #[test]
    fn the_checksum_covers_the_pseudo_header() {
        let d = datagram(b"hello");
        assert_eq!(UdpRepr::parse(&d, A, Ipv4Addr::new(198, 18, 0, 3), None), Err(WireError::BadChecksum));
        let mut flipped = d.clone();
        flipped[9] ^= 0x40;
        assert_eq!(UdpRepr::parse(&flipped, A, B, None), Err(WireError::BadChecksum));
        let mut unchecked = flipped;
        unchecked[6..8].copy_from_slice(&[0, 0]);
        assert!(UdpRepr::parse(&unchecked, A, B, None).is_ok(), "checksum 0 = not computed");
    }

    #[test]
    fn the_device_sum_is_used_and_trailing_bytes_are_taken_out_of_it() {
        let mut d = datagram(b"odd");
        d.extend_from_slice(&[0xab, 0xcd]); // bytes past the UDP length
        let hint = checksum::sum(&d);
        assert_eq!(UdpRepr::parse(&d, A, B, Some(hint)).unwrap().payload_len, 3);
        assert_eq!(UdpRepr::parse(&d, A, B, Some(hint ^ 1)), Err(WireError::BadChecksum));
    }

    #[test]
    fn bad_lengths_are_rejected() {
        let d = datagram(b"hello");
        assert_eq!(UdpRepr::parse(&d[..7], A, B, None), Err(WireError::Truncated));
        let mut short = d.clone();
        short[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(UdpRepr::parse(&short, A, B, None), Err(WireError::BadLength));
        let mut long = d;
        long[4..6].copy_from_slice(&14u16.to_be_bytes());
        assert_eq!(UdpRepr::parse(&long, A, B, None), Err(WireError::Truncated));
    }
}
