//! ICMPv4 (RFC 792): the 8-byte header and the messages the stack acts on.

use super::{be16, checksum, WireError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpRepr {
    EchoRequest {
        ident: u16,
        seq: u16,
    },
    EchoReply {
        ident: u16,
        seq: u16,
    },
    /// Type 3. The body carries the offending IP header and 8 bytes of its payload.
    DstUnreachable {
        code: u8,
        next_hop_mtu: u16,
    },
    /// A type we parse but do not act on (time exceeded, redirects, ...).
    Other {
        kind: u8,
        code: u8,
    },
}

pub mod unreachable {
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    pub const FRAG_NEEDED: u8 = 4;
}

impl IcmpRepr {
    pub const HEADER_LEN: usize = 8;

    /// `msg` is the whole ICMP message. `sum_hint` is its ones'-complement sum if the
    /// device already computed it (the checksum assist), so the body need not be read.
    pub fn parse(msg: &[u8], sum_hint: Option<u16>) -> Result<Self, WireError> {
        if msg.len() < Self::HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let total = sum_hint.unwrap_or_else(|| checksum::sum(msg));
        if total != 0xffff {
            return Err(WireError::BadChecksum);
        }
        let (kind, code) = (msg[0], msg[1]);
        let (ident, seq) = (be16(msg, 4), be16(msg, 6));
        Ok(match kind {
            0 => IcmpRepr::EchoReply { ident, seq },
            8 => IcmpRepr::EchoRequest { ident, seq },
            3 => IcmpRepr::DstUnreachable { code, next_hop_mtu: be16(msg, 6) },
            _ => IcmpRepr::Other { kind, code },
        })
    }

    /// Writes the header into `msg[..8]` and the checksum over all of `msg`, so the body
    /// must already be in place behind it.
    pub fn emit(&self, msg: &mut [u8]) {
        let (kind, code, rest): (u8, u8, [u8; 4]) = match *self {
            IcmpRepr::EchoReply { ident, seq } => (0, 0, words(ident, seq)),
            IcmpRepr::EchoRequest { ident, seq } => (8, 0, words(ident, seq)),
            IcmpRepr::DstUnreachable { code, next_hop_mtu } => (3, code, words(0, next_hop_mtu)),
            IcmpRepr::Other { kind, code } => (kind, code, [0; 4]),
        };
        msg[0] = kind;
        msg[1] = code;
        msg[2..4].copy_from_slice(&[0, 0]);
        msg[4..8].copy_from_slice(&rest);
        let c = checksum::checksum(msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
    }
}

fn words(a: u16, b: u16) -> [u8; 4] {
    let (a, b) = (a.to_be_bytes(), b.to_be_bytes());
    [a[0], a[1], b[0], b[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_round_trips_and_the_checksum_covers_the_body() {
        let mut msg = vec![0u8; 8];
        msg.extend_from_slice(b"ping body");
        IcmpRepr::EchoRequest { ident: 7, seq: 9 }.emit(&mut msg);
        assert_eq!(IcmpRepr::parse(&msg, None), Ok(IcmpRepr::EchoRequest { ident: 7, seq: 9 }));
        msg[10] ^= 1;
        assert_eq!(IcmpRepr::parse(&msg, None), Err(WireError::BadChecksum));
        assert_eq!(IcmpRepr::parse(&msg[..7], None), Err(WireError::Truncated));
    }

    #[test]
    fn frag_needed_carries_the_next_hop_mtu() {
        let mut msg = vec![0u8; 8 + 28];
        let repr = IcmpRepr::DstUnreachable { code: unreachable::FRAG_NEEDED, next_hop_mtu: 1280 };
        repr.emit(&mut msg);
        assert_eq!(&msg[6..8], &1280u16.to_be_bytes());
        assert_eq!(IcmpRepr::parse(&msg, None), Ok(repr));
    }

    #[test]
    fn a_wrong_sum_hint_is_trusted_as_the_device_reported_it() {
        let mut msg = vec![0u8; 8];
        IcmpRepr::EchoReply { ident: 1, seq: 1 }.emit(&mut msg);
        assert_eq!(IcmpRepr::parse(&msg, Some(0x1234)), Err(WireError::BadChecksum));
        assert!(IcmpRepr::parse(&msg, Some(0xffff)).is_ok());
    }
}
