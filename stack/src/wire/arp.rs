//! ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet after the Ethernet header.

use std::net::Ipv4Addr;

use super::ethernet::MacAddr;
use super::{be16, ipv4_at, WireError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArpOp {
    Request,
    Reply,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    pub op: ArpOp,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    pub const LEN: usize = 28;

    /// Accepts only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4), op 1 or 2.
    pub fn parse(b: &[u8]) -> Result<Self, WireError> {
        if b.len() < Self::LEN {
            return Err(WireError::Truncated);
        }
        if be16(b, 0) != 1 || be16(b, 2) != 0x0800 || b[4] != 6 || b[5] != 4 {
            return Err(WireError::Unsupported);
        }
        let op = match be16(b, 6) {
            1 => ArpOp::Request,
            2 => ArpOp::Reply,
            _ => return Err(WireError::Unsupported),
        };
        let mac = |at: usize| MacAddr(b[at..at + 6].try_into().expect("6 bytes"));
        Ok(ArpRepr {
            op,
            sender_mac: mac(8),
            sender_ip: ipv4_at(b, 14),
            target_mac: mac(18),
            target_ip: ipv4_at(b, 24),
        })
    }

    /// Writes the packet into `b[..28]`.
    pub fn emit(&self, b: &mut [u8]) {
        b[0..2].copy_from_slice(&1u16.to_be_bytes());
        b[2..4].copy_from_slice(&0x0800u16.to_be_bytes());
        b[4] = 6;
        b[5] = 4;
        let op: u16 = match self.op {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
        };
        b[6..8].copy_from_slice(&op.to_be_bytes());
        b[8..14].copy_from_slice(&self.sender_mac.0);
        b[14..18].copy_from_slice(&self.sender_ip.octets());
        b[18..24].copy_from_slice(&self.target_mac.0);
        b[24..28].copy_from_slice(&self.target_ip.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ArpRepr {
        ArpRepr {
            op: ArpOp::Request,
            sender_mac: MacAddr([2, 0, 0, 0, 0, 1]),
            sender_ip: Ipv4Addr::new(198, 18, 0, 1),
            target_mac: MacAddr::default(),
            target_ip: Ipv4Addr::new(198, 18, 0, 2),
        }
    }

    #[test]
    fn emit_then_parse_round_trips() {
        let mut b = [0u8; 28];
        request().emit(&mut b);
        assert_eq!(&b[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(ArpRepr::parse(&b), Ok(request()));
    }

    #[test]
    fn malformed_packets_are_rejected() {
        let mut b = [0u8; 28];
        request().emit(&mut b);
        assert_eq!(ArpRepr::parse(&b[..27]), Err(WireError::Truncated));
        let mut bad_hlen = b;
        bad_hlen[4] = 8;
        assert_eq!(ArpRepr::parse(&bad_hlen), Err(WireError::Unsupported));
        let mut bad_op = b;
        bad_op[7] = 3;
        assert_eq!(ArpRepr::parse(&bad_op), Err(WireError::Unsupported));
    }
}
