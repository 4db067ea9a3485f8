//! Ethernet II header: destination, source, EtherType (no VLAN tags: the card strips none,
//! and a tagged frame's EtherType 0x8100 is counted as unknown).

use super::{be16, WireError};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Group bit (includes broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl std::fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl std::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtherType {
    Ipv4,
    Arp,
    Other(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            other => EtherType::Other(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Other(v) => v,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetRepr {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub ethertype: EtherType,
}

impl EthernetRepr {
    pub const LEN: usize = 14;

    #[inline]
    pub fn parse(frame: &[u8]) -> Result<Self, WireError> {
        if frame.len() < Self::LEN {
            return Err(WireError::Truncated);
        }
        let mac = |at: usize| MacAddr(frame[at..at + 6].try_into().expect("6 bytes"));
        Ok(EthernetRepr { dst: mac(0), src: mac(6), ethertype: be16(frame, 12).into() })
    }

    /// Writes the header into `buf[..14]`.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[0..6].copy_from_slice(&self.dst.0);
        buf[6..12].copy_from_slice(&self.src.0);
        buf[12..14].copy_from_slice(&u16::from(self.ethertype).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse_round_trips() {
        let repr =
            EthernetRepr { dst: MacAddr::BROADCAST, src: MacAddr([2, 0, 0, 0, 0, 1]), ethertype: EtherType::Arp };
        let mut buf = [0u8; 14];
        repr.emit(&mut buf);
        assert_eq!(&buf[12..], &[0x08, 0x06]);
        assert_eq!(EthernetRepr::parse(&buf), Ok(repr));
    }

    #[test]
    fn short_frames_and_unknown_types() {
        assert_eq!(EthernetRepr::parse(&[0u8; 13]), Err(WireError::Truncated));
        let mut buf = [0u8; 14];
        buf[12..].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(EthernetRepr::parse(&buf).unwrap().ethertype, EtherType::Other(0x86dd));
    }
}
