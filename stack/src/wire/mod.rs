//! Wire formats: for each protocol a `*Repr` (the header's fields as plain values) with
//! `parse` (validate bytes, never panic on any input) and `emit` (write the header into a
//! slice the caller pushed). Payloads are never copied here: the caller pulls or pushes
//! header bytes on a `PacketBuf` around these calls.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod udp;

/// Why a header was rejected; each maps to a drop counter in `Stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the fixed header (or than a length field claims).
    Truncated,
    /// A length field that contradicts itself or the frame (e.g. IHL < 5, UDP length < 8).
    BadLength,
    /// A version, hardware type or similar field we do not speak.
    Unsupported,
    BadChecksum,
}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn ipv4_at(b: &[u8], at: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}
