//! The ring ABI: 16-byte descriptors posted by the host, 16-byte completions written by the
//! device.
//!
//! Every ring has 2^LOG2_SIZE entries at its base address (a multiple of 16, so an entry
//! never crosses a 4 KiB page). Indices are free-running 16-bit counters: entry `i` lives in
//! slot `i mod 2^LOG2_SIZE`, and the ring holds `producer - consumer (mod 2^16)` entries.
//!
//! * **Descriptor rings** (RX and TX): the host fills slots, then writes the ring's
//!   `PRODUCER` register; the device reads them in order and advances `CONSUMER`.
//! * **Completion rings** (RX and TX): the device writes completion `i` with the phase bit
//!   [`phase_for_index`]`(i, log2_size)`; the first pass over a zeroed ring writes phase 1,
//!   the next 0, and so on. The host keeps its own free-running consumer index `c`: the slot
//!   of `c` holds a new completion exactly when its phase equals `phase_for_index(c, ..)`, so
//!   the host never reads a device register on the fast path. It writes `CONSUMER` (in
//!   batches) to give slots back; the device never writes a completion into a slot the host
//!   has not given back.
//!
//! An entry is the little-endian 128-bit number of its 16 bytes: byte `k` is bits
//! `8k+7..8k`. The field tables below give the bit ranges; encode and decode use only them.
use crate::{fields_mask, AbiError, Access, Field};

/// Size of a descriptor and of a completion, bytes.
pub const ENTRY_BYTES: usize = 16;

pub const DESC_ADDR: Field = Field::new("ADDR", 0, 64, Access::Rw, "buffer IOVA (bytes 0..7)");
pub const DESC_LEN: Field = Field::new(
    "LEN",
    64,
    16,
    Access::Rw,
    "RX: buffer size in bytes (a frame longer than this is dropped and counted in RX_NO_BUFFER); TX: frame length without FCS",
);
pub const DESC_FLAGS: Field =
    Field::new("FLAGS", 80, 16, Access::Rw, "no flag defined yet: write 0 (the device ignores them)");
/// Descriptor fields; bits 127:96 are reserved (write 0).
pub const DESCRIPTOR_FIELDS: [Field; 3] = [DESC_ADDR, DESC_LEN, DESC_FLAGS];

pub const CPL_LEN: Field = Field::new(
    "LEN",
    0,
    16,
    Access::Ro,
    "RX: frame length written to the buffer (FCS stripped); TX: the descriptor's LEN",
);
pub const CPL_CSUM: Field = Field::new(
    "CSUM",
    16,
    16,
    Access::Ro,
    "RX: ones'-complement sum of the frame bytes after the 14-byte Ethernet header (see `net::rx_sum`); TX: 0",
);
pub const CPL_DESC_INDEX: Field = Field::new(
    "DESC_INDEX",
    32,
    16,
    Access::Ro,
    "free-running index of the descriptor whose buffer this completion reports",
);
pub const CPL_VERDICT: Field = Field::new(
    "VERDICT",
    96,
    2,
    Access::Ro,
    "RX filter verdict: 0 station, 1 multicast, 2 broadcast, 3 promiscuous; TX: 0",
);
pub const CPL_STATUS: Field = Field::new(
    "STATUS",
    104,
    8,
    Access::Ro,
    "status flags: bit 0 TX_ABORTED (TX: the frame was not sent, its descriptor was bad), bit 1 BUS_ERROR (reserved: today's gateware never sets it; after a bus error the queue stops instead, with STATUS.RX_STOPPED/TX_STOPPED and the DMA_ERROR interrupt); others 0",
);
pub const CPL_PHASE: Field = Field::new(
    "PHASE",
    127,
    1,
    Access::Ro,
    "phase: 1 on the first pass over the ring, flips on each wrap; the last bit of the entry",
);
/// Completion fields; every other bit is reserved and written 0.
pub const COMPLETION_FIELDS: [Field; 6] = [CPL_LEN, CPL_CSUM, CPL_DESC_INDEX, CPL_VERDICT, CPL_STATUS, CPL_PHASE];

/// `CPL_STATUS` flag (TX): the frame was not sent (LEN 0, longer than `MAX_LEN` - 4 or than
/// the TX buffer).
pub const STATUS_TX_ABORTED: u8 = 1 << 0;
/// `CPL_STATUS` flag, reserved: a DMA access for this entry got a bus error. The gateware
/// stops the queue instead (see `CPL_STATUS`); a driver still treats it as an error.
pub const STATUS_BUS_ERROR: u8 = 1 << 1;

/// The phase bit the device writes into the completion with free-running index `index` of
/// a ring of 2^`log2_size` entries: 1 on the first pass (index 0 .. 2^log2_size - 1), then
/// flipping on every wrap. `log2_size` is at most 15, so a 16-bit index always tells the
/// passes apart.
pub const fn phase_for_index(index: u16, log2_size: u32) -> bool {
    (index >> log2_size) & 1 == 0
}

/// The slot of free-running index `index`.
pub const fn slot(index: u16, log2_size: u32) -> usize {
    (index as usize) & ((1usize << log2_size) - 1)
}

/// Entries between a consumer and a producer index.
pub const fn ring_used(producer: u16, consumer: u16) -> u16 {
    producer.wrapping_sub(consumer)
}

const fn reserved_check(word: u128, fields: &[Field]) -> Result<(), AbiError> {
    let bits = word & !fields_mask(fields);
    if bits != 0 {
        Err(AbiError::ReservedNotZero { bits })
    } else {
        Ok(())
    }
}

/// An RX or TX descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    pub addr: u64,
    pub len: u16,
    pub flags: u16,
}

impl Descriptor {
    pub const fn to_u128(&self) -> u128 {
        (self.addr as u128) << DESC_ADDR.lsb
            | (self.len as u128) << DESC_LEN.lsb
            | (self.flags as u128) << DESC_FLAGS.lsb
    }

    /// Decode; an error when reserved bits are set.
    pub const fn from_u128(word: u128) -> Result<Self, AbiError> {
        if let Err(e) = reserved_check(word, &DESCRIPTOR_FIELDS) {
            return Err(e);
        }
        Ok(Self {
            addr: DESC_ADDR.get(word) as u64,
            len: DESC_LEN.get(word) as u16,
            flags: DESC_FLAGS.get(word) as u16,
        })
    }

    pub const fn encode(&self) -> [u8; ENTRY_BYTES] {
        self.to_u128().to_le_bytes()
    }

    pub const fn decode(bytes: &[u8; ENTRY_BYTES]) -> Result<Self, AbiError> {
        Self::from_u128(u128::from_le_bytes(*bytes))
    }
}

/// An RX or TX completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub len: u16,
    pub csum: u16,
    pub desc_index: u16,
    /// Filter verdict, 0..=3 (2 bits).
    pub verdict: u8,
    /// `STATUS_*` flags.
    pub status: u8,
    pub phase: bool,
}

impl Completion {
    /// Encode; an error when `verdict` does not fit its 2 bits.
    pub const fn to_u128(&self) -> Result<u128, AbiError> {
        let mut w = 0u128;
        let vals: [(Field, u128); 6] = [
            (CPL_LEN, self.len as u128),
            (CPL_CSUM, self.csum as u128),
            (CPL_DESC_INDEX, self.desc_index as u128),
            (CPL_VERDICT, self.verdict as u128),
            (CPL_STATUS, self.status as u128),
            (CPL_PHASE, self.phase as u128),
        ];
        let mut i = 0;
        while i < vals.len() {
            w = match vals[i].0.put(w, vals[i].1) {
                Ok(w) => w,
                Err(e) => return Err(e),
            };
            i += 1;
        }
        Ok(w)
    }

    /// Decode; an error when reserved bits are set.
    pub const fn from_u128(word: u128) -> Result<Self, AbiError> {
        if let Err(e) = reserved_check(word, &COMPLETION_FIELDS) {
            return Err(e);
        }
        Ok(Self {
            len: CPL_LEN.get(word) as u16,
            csum: CPL_CSUM.get(word) as u16,
            desc_index: CPL_DESC_INDEX.get(word) as u16,
            verdict: CPL_VERDICT.get(word) as u8,
            status: CPL_STATUS.get(word) as u8,
            phase: CPL_PHASE.get(word) == 1,
        })
    }

    pub const fn encode(&self) -> Result<[u8; ENTRY_BYTES], AbiError> {
        match self.to_u128() {
            Ok(w) => Ok(w.to_le_bytes()),
            Err(e) => Err(e),
        }
    }

    pub const fn decode(bytes: &[u8; ENTRY_BYTES]) -> Result<Self, AbiError> {
        Self::from_u128(u128::from_le_bytes(*bytes))
    }

    /// Whether the slot holding this entry is new for a host whose free-running consumer
    /// index is `consumer` (the phase rule; see the module docs).
    pub const fn is_new(&self, consumer: u16, log2_size: u32) -> bool {
        self.phase == phase_for_index(consumer, log2_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dependencies): xorshift64*.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn layouts_are_16_bytes_without_overlap() {
        for fields in [&DESCRIPTOR_FIELDS[..], &COMPLETION_FIELDS[..]] {
            let mut seen = 0u128;
            for f in fields {
                assert!(f.msb() < 128, "{}", f.name);
                assert_eq!(seen & f.mask(), 0, "{} overlaps", f.name);
                seen |= f.mask();
            }
        }
        assert_eq!(CPL_PHASE.msb(), 8 * ENTRY_BYTES as u32 - 1, "phase is the very last bit");
    }

    #[test]
    fn descriptor_round_trip_and_byte_layout() {
        let d = Descriptor { addr: 0x0123_4567_89AB_CDEF, len: 2048, flags: 0 };
        let b = d.encode();
        assert_eq!(&b[0..8], &0x0123_4567_89AB_CDEFu64.to_le_bytes());
        assert_eq!(&b[8..10], &2048u16.to_le_bytes());
        assert_eq!(&b[10..16], &[0; 6]);
        assert_eq!(Descriptor::decode(&b), Ok(d));
        let mut rng = Rng(7);
        for _ in 0..1000 {
            let d = Descriptor { addr: rng.next(), len: rng.next() as u16, flags: rng.next() as u16 };
            assert_eq!(Descriptor::decode(&d.encode()), Ok(d));
        }
        let mut bad = b;
        bad[12] = 1;
        assert_eq!(Descriptor::decode(&bad), Err(AbiError::ReservedNotZero { bits: 1 << 96 }));
    }

    #[test]
    fn completion_round_trip_and_byte_layout() {
        let c = Completion {
            len: 1514,
            csum: 0xBEEF,
            desc_index: 0x1234,
            verdict: 2,
            status: STATUS_BUS_ERROR,
            phase: true,
        };
        let b = c.encode().unwrap();
        assert_eq!(&b[0..2], &1514u16.to_le_bytes());
        assert_eq!(&b[2..4], &0xBEEFu16.to_le_bytes());
        assert_eq!(&b[4..6], &0x1234u16.to_le_bytes());
        assert_eq!(&b[6..12], &[0; 6]);
        assert_eq!(b[12], 2, "verdict in bits 1:0 of byte 12");
        assert_eq!(b[13], STATUS_BUS_ERROR);
        assert_eq!(b[14], 0);
        assert_eq!(b[15], 0x80, "phase is bit 7 of the last byte");
        assert_eq!(Completion::decode(&b), Ok(c));
        let mut rng = Rng(11);
        for _ in 0..1000 {
            let r = rng.next();
            let c = Completion {
                len: r as u16,
                csum: (r >> 16) as u16,
                desc_index: (r >> 32) as u16,
                verdict: (r >> 48) as u8 & 3,
                status: (r >> 50) as u8,
                phase: r >> 63 == 1,
            };
            assert_eq!(Completion::decode(&c.encode().unwrap()), Ok(c));
        }
    }

    #[test]
    fn field_bounds() {
        for verdict in 0..=3 {
            let c = Completion { verdict, ..Default::default() };
            assert_eq!(Completion::decode(&c.encode().unwrap()).unwrap().verdict, verdict);
        }
        for verdict in [4u8, 0x80, 0xFF] {
            let c = Completion { verdict, ..Default::default() };
            assert_eq!(c.encode(), Err(AbiError::FieldTooWide { field: "VERDICT", value: verdict as u128 }));
        }
        let max = Completion {
            len: u16::MAX,
            csum: u16::MAX,
            desc_index: u16::MAX,
            verdict: 3,
            status: u8::MAX,
            phase: true,
        };
        assert_eq!(Completion::decode(&max.encode().unwrap()), Ok(max));
        for bit in 0..128u32 {
            let w = 1u128 << bit;
            let defined = COMPLETION_FIELDS.iter().any(|f| f.mask() & w != 0);
            assert_eq!(Completion::from_u128(w).is_ok(), defined, "bit {bit}");
            let defined = DESCRIPTOR_FIELDS.iter().any(|f| f.mask() & w != 0);
            assert_eq!(Descriptor::from_u128(w).is_ok(), defined, "bit {bit}");
        }
        assert_eq!(DESC_LEN.put(0, 0x1_0000), Err(AbiError::FieldTooWide { field: "LEN", value: 0x1_0000 }));
    }

    #[test]
    fn phase_flips_on_each_wrap() {
        for log2 in 0..=15u32 {
            let size = 1u32 << log2;
            // Three wraps and then the 16-bit index wrap itself.
            for i in 0..(4 * size).min(1 << 17) {
                let idx = i as u16;
                let pass = i / size;
                assert_eq!(phase_for_index(idx, log2), pass.is_multiple_of(2), "log2 {log2} index {i}");
                assert_eq!(slot(idx, log2), (i % size) as usize);
            }
            // Crossing 2^16 keeps alternating: index 0xFFFF then 0x0000.
            // (2^16 is a multiple of two passes for every allowed size.)
            assert_ne!(phase_for_index(u16::MAX, log2), phase_for_index(0, log2), "log2 {log2}");
        }
    }

    #[test]
    fn host_reaps_with_the_phase_rule() {
        // A device writes 3.5 passes of completions into a 4-entry ring; the host, holding
        // only its consumer index, sees every entry exactly once and nothing stale.
        let log2 = 2;
        let mut ring = [[0u8; 16]; 4];
        let mut reaped = Vec::new();
        let mut consumer: u16 = 0;
        for produced in 0u16..14 {
            let c = Completion {
                len: 60 + produced,
                desc_index: produced,
                phase: phase_for_index(produced, log2),
                ..Default::default()
            };
            ring[slot(produced, log2)] = c.encode().unwrap();
            // The host polls after every write and reaps what is new.
            loop {
                let e = Completion::decode(&ring[slot(consumer, log2)]).unwrap();
                if !e.is_new(consumer, log2) {
                    break;
                }
                reaped.push(e.desc_index);
                consumer = consumer.wrapping_add(1);
            }
            assert_eq!(ring_used(produced + 1, consumer), 0);
        }
        assert_eq!(reaped, (0..14).collect::<Vec<_>>());
    }
}
