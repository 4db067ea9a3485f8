//! The BAR0 register map: 32-bit registers at byte offsets, little-endian.
//!
//! Accesses are 32-bit and aligned; the device decodes address bits 11:2 (BAR0 is
//! [`BAR0_SIZE`] bytes) and ignores bits 1:0. Byte write strobes are honoured. An offset not
//! in [`REGISTERS`] answers SLVERR (reads return 0) and changes nothing. Bits outside a
//! register's fields read as 0 and ignore writes.
use crate::{fields_mask, str_eq, Access, Field};

/// Size of BAR0 in bytes; the register slave decodes `log2(BAR0_SIZE)` address bits.
pub const BAR0_SIZE: u32 = 4096;
/// Address bits the register slave looks at.
pub const ADDR_BITS: u32 = 12;

/// One 32-bit register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    pub name: &'static str,
    /// Byte offset in BAR0 (a multiple of 4).
    pub offset: u32,
    pub access: Access,
    /// Value after reset (power-on or `CONTROL.SOFT_RESET`).
    pub reset: u32,
    pub doc: &'static str,
    pub fields: &'static [Field],
}

impl Register {
    /// The bits that belong to some field.
    pub const fn defined_bits(&self) -> u32 {
        fields_mask(self.fields) as u32
    }

    /// The bits a host write can change (fields with a writable access).
    pub const fn writable_bits(&self) -> u32 {
        let mut m = 0u32;
        let mut i = 0;
        while i < self.fields.len() {
            if matches!(self.fields[i].access, Access::Rw) {
                m |= self.fields[i].mask() as u32;
            }
            i += 1;
        }
        m
    }

    /// The field called `name`, if any.
    pub const fn field(&self, name: &str) -> Option<Field> {
        let mut i = 0;
        while i < self.fields.len() {
            if str_eq(self.fields[i].name, name) {
                return Some(self.fields[i]);
            }
            i += 1;
        }
        None
    }

    /// The register's word index (offset / 4), what the decoder compares.
    pub const fn word(&self) -> u32 {
        self.offset / 4
    }
}

const fn reg(
    name: &'static str,
    offset: u32,
    access: Access,
    reset: u32,
    doc: &'static str,
    fields: &'static [Field],
) -> Register {
    Register { name, offset, access, reset, doc, fields }
}

// ---------------------------------------------------------------- identity, control, status

/// `ID` reads this magic: ASCII "NIC1" with 'N' in bits 31:24.
pub const ID_MAGIC: u32 = 0x4E49_4331;
/// Register map / ring ABI version: major in 31:16, minor in 15:0.
pub const ABI_VERSION: u32 = 0x0000_0001;

pub const ID_MAGIC_FIELD: Field = Field::new("MAGIC", 0, 32, Access::Ro, "0x4E494331 (\"NIC1\")");
pub const VERSION_MINOR: Field = Field::new("MINOR", 0, 16, Access::Ro, "compatible additions");
pub const VERSION_MAJOR: Field = Field::new("MAJOR", 16, 16, Access::Ro, "incompatible changes");

pub const CONTROL_RX_EN: Field = Field::new(
    "RX_EN",
    0,
    1,
    Access::Rw,
    "receive DMA runs: frames are written to posted RX buffers; while 0, received frames are dropped and counted in RX_NO_BUFFER",
);
pub const CONTROL_TX_EN: Field =
    Field::new("TX_EN", 1, 1, Access::Rw, "transmit DMA runs: posted TX descriptors are fetched and sent");
pub const CONTROL_SOFT_RESET: Field = Field::new(
    "SOFT_RESET",
    2,
    1,
    Access::W1p,
    "write 1: reset the whole device for one clock, every register included (as at power-on); the write itself is answered normally",
);

pub const STATUS_LINK_UP: Field = Field::new("LINK_UP", 0, 1, Access::Ro, "the PHY reports link");
pub const STATUS_CDR_LOCK: Field =
    Field::new("CDR_LOCK", 1, 1, Access::Ro, "clock recovery is locked (integrated PHY; 1 on GMII/MII)");
pub const STATUS_RX_STOPPED: Field =
    Field::new("RX_STOPPED", 2, 1, Access::Ro, "a bus error stopped the RX queue; cleared by SOFT_RESET");
pub const STATUS_TX_STOPPED: Field =
    Field::new("TX_STOPPED", 3, 1, Access::Ro, "a bus error stopped the TX queue; cleared by SOFT_RESET");

pub const ID: Register = reg("ID", 0x000, Access::Ro, ID_MAGIC, "identifies the device", &[ID_MAGIC_FIELD]);
pub const VERSION: Register = reg(
    "VERSION",
    0x004,
    Access::Ro,
    ABI_VERSION,
    "version of this register map and ring ABI",
    &[VERSION_MINOR, VERSION_MAJOR],
);
pub const CONTROL: Register = reg(
    "CONTROL",
    0x008,
    Access::Rw,
    0,
    "datapath enables and soft reset",
    &[CONTROL_RX_EN, CONTROL_TX_EN, CONTROL_SOFT_RESET],
);
pub const STATUS: Register = reg(
    "STATUS",
    0x00C,
    Access::Ro,
    0,
    "live state of the PHY and the queues",
    &[STATUS_LINK_UP, STATUS_CDR_LOCK, STATUS_RX_STOPPED, STATUS_TX_STOPPED],
);

// ---------------------------------------------------------------- station and filter

/// The station address after reset, 02:00:00:00:00:01 (locally administered).
pub const DEFAULT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// The `MAC_LO`/`MAC_HI` words of an address: the first byte on the wire in bits 7:0 of
/// `MAC_LO`, the fifth in bits 7:0 of `MAC_HI` (the gateware's 48-bit `station_mac` is
/// `MAC_HI:MAC_LO`).
pub const fn mac_to_words(mac: [u8; 6]) -> (u32, u32) {
    (u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]), u16::from_le_bytes([mac[4], mac[5]]) as u32)
}

/// The address held by `MAC_LO`/`MAC_HI` words.
pub const fn words_to_mac(lo: u32, hi: u32) -> [u8; 6] {
    let l = lo.to_le_bytes();
    let h = hi.to_le_bytes();
    [l[0], l[1], l[2], l[3], h[0], h[1]]
}

pub const MAC_LO_ADDR: Field =
    Field::new("ADDR_LO", 0, 32, Access::Rw, "address bytes 0..3, byte 0 (first on the wire) in bits 7:0");
pub const MAC_HI_ADDR: Field = Field::new("ADDR_HI", 0, 16, Access::Rw, "address bytes 4..5, byte 4 in bits 7:0");
pub const FILTER_PROMISC: Field =
    Field::new("PROMISC", 0, 1, Access::Rw, "accept every good frame (verdict 3 when no other rule matched)");
pub const FILTER_ALL_MULTICAST: Field =
    Field::new("ALL_MULTICAST", 1, 1, Access::Rw, "accept every multicast frame (verdict 1)");
pub const MAX_LEN_BYTES: Field = Field::new(
    "BYTES",
    0,
    16,
    Access::Rw,
    "longest accepted frame in bytes, FCS included; longer frames are giants (received) or cut (sent)",
);
pub const MCAST_HASH_LO_BINS: Field =
    Field::new("BINS_0_31", 0, 32, Access::Rw, "bit b = hash bin b joined (see multicast hash)");
pub const MCAST_HASH_HI_BINS: Field = Field::new("BINS_32_63", 0, 32, Access::Rw, "bit b = hash bin 32+b joined");

pub const MAC_LO: Register =
    reg("MAC_LO", 0x010, Access::Rw, mac_to_words(DEFAULT_MAC).0, "station MAC address, low 4 bytes", &[MAC_LO_ADDR]);
pub const MAC_HI: Register =
    reg("MAC_HI", 0x014, Access::Rw, mac_to_words(DEFAULT_MAC).1, "station MAC address, high 2 bytes", &[MAC_HI_ADDR]);
pub const FILTER: Register = reg(
    "FILTER",
    0x018,
    Access::Rw,
    0,
    "receive filter mode (station unicast and broadcast are always accepted)",
    &[FILTER_PROMISC, FILTER_ALL_MULTICAST],
);
/// Default `MAX_LEN`: 1518 + a VLAN tag.
pub const DEFAULT_MAX_LEN: u32 = 1522;
pub const MAX_LEN: Register =
    reg("MAX_LEN", 0x01C, Access::Rw, DEFAULT_MAX_LEN, "maximum frame length", &[MAX_LEN_BYTES]);
pub const MCAST_HASH_LO: Register =
    reg("MCAST_HASH_LO", 0x020, Access::Rw, 0, "multicast hash table, bins 0..31", &[MCAST_HASH_LO_BINS]);
pub const MCAST_HASH_HI: Register =
    reg("MCAST_HASH_HI", 0x024, Access::Rw, 0, "multicast hash table, bins 32..63", &[MCAST_HASH_HI_BINS]);

// ---------------------------------------------------------------- interrupts

/// Number of interrupt causes (bits of `IRQ_CAUSE` and `IRQ_MASK`).
pub const IRQ_CAUSES: u32 = 5;
pub const IRQ_BIT_RX: u32 = 0;
pub const IRQ_BIT_TX: u32 = 1;
pub const IRQ_BIT_DMA_ERROR: u32 = 2;
pub const IRQ_BIT_LINK: u32 = 3;
pub const IRQ_BIT_RX_NO_BUFFER: u32 = 4;

const fn irq_fields(access: Access) -> [Field; IRQ_CAUSES as usize] {
    [
        Field::new("RX", IRQ_BIT_RX, 1, access, "RX completions written (after moderation); MSI vector 0"),
        Field::new("TX", IRQ_BIT_TX, 1, access, "TX completions written (after moderation); MSI vector 1"),
        Field::new(
            "DMA_ERROR",
            IRQ_BIT_DMA_ERROR,
            1,
            access,
            "a bus error response stopped a queue (see STATUS); MSI vector 2",
        ),
        Field::new("LINK", IRQ_BIT_LINK, 1, access, "STATUS.LINK_UP changed; MSI vector 2"),
        Field::new(
            "RX_NO_BUFFER",
            IRQ_BIT_RX_NO_BUFFER,
            1,
            access,
            "a frame was dropped for want of a posted RX buffer; MSI vector 0",
        ),
    ]
}
pub const IRQ_CAUSE_FIELDS: [Field; IRQ_CAUSES as usize] = irq_fields(Access::W1c);
pub const IRQ_MASK_FIELDS: [Field; IRQ_CAUSES as usize] = irq_fields(Access::Rw);
pub const IRQ_MOD_FRAMES_COUNT: Field = Field::new(
    "COUNT",
    0,
    16,
    Access::Rw,
    "raise the vector once this many completions are pending (0 and 1 both mean every completion)",
);
pub const IRQ_MOD_TIME_US: Field = Field::new(
    "MICROSECONDS",
    0,
    16,
    Access::Rw,
    "or this many µs after the first pending completion, whichever comes first (0: no timer, the count alone decides)",
);

pub const IRQ_CAUSE: Register = reg(
    "IRQ_CAUSE",
    0x040,
    Access::W1c,
    0,
    "interrupt causes; a cause bit is set by the device and stays set until written with 1 (a set in the same clock as the clear wins)",
    &IRQ_CAUSE_FIELDS,
);
pub const IRQ_MASK: Register = reg(
    "IRQ_MASK",
    0x044,
    Access::Rw,
    (1 << IRQ_CAUSES) - 1,
    "1 = the cause is masked: it still sets IRQ_CAUSE but requests no MSI; all masked after reset",
    &IRQ_MASK_FIELDS,
);
pub const IRQ_MOD_FRAMES: Register = reg(
    "IRQ_MOD_FRAMES",
    0x048,
    Access::Rw,
    1,
    "interrupt moderation, frame count (RX and TX vectors each)",
    &[IRQ_MOD_FRAMES_COUNT],
);
pub const IRQ_MOD_TIME: Register = reg(
    "IRQ_MOD_TIME",
    0x04C,
    Access::Rw,
    0,
    "interrupt moderation, time (RX and TX vectors each)",
    &[IRQ_MOD_TIME_US],
);

// ---------------------------------------------------------------- rings

/// The four rings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ring {
    RxDesc,
    RxCpl,
    TxDesc,
    TxCpl,
}

/// Largest `LOG2_SIZE`: 2^15 entries, so that a 16-bit free-running index still tells the
/// passes apart (see `ring::phase_for_index`).
pub const MAX_LOG2_SIZE: u32 = 15;

/// The five registers of one ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingRegs {
    pub ring: Ring,
    pub base_lo: Register,
    pub base_hi: Register,
    pub log2_size: Register,
    pub producer: Register,
    pub consumer: Register,
    /// Whether the host writes the producer index (descriptor rings) or the consumer index
    /// (completion rings); the other one is the device's, read-only.
    pub host_produces: bool,
}

impl RingRegs {
    pub const fn registers(&self) -> [Register; 5] {
        [self.base_lo, self.base_hi, self.log2_size, self.producer, self.consumer]
    }
    /// The index register the host writes.
    pub const fn host_index(&self) -> Register {
        if self.host_produces {
            self.producer
        } else {
            self.consumer
        }
    }
    /// The index register the device updates.
    pub const fn device_index(&self) -> Register {
        if self.host_produces {
            self.consumer
        } else {
            self.producer
        }
    }
}

pub const RING_BASE_LO: Field =
    Field::new("ADDR_LO", 0, 32, Access::Rw, "IOVA bits 31:0; must be a multiple of 16 (bits 3:0 are ignored)");
pub const RING_BASE_HI: Field = Field::new("ADDR_HI", 0, 32, Access::Rw, "IOVA bits 63:32");
pub const RING_LOG2_SIZE: Field =
    Field::new("LOG2", 0, 4, Access::Rw, "the ring has 2^LOG2 16-byte entries, 1..=32768");
pub const RING_INDEX_HOST: Field =
    Field::new("INDEX", 0, 16, Access::Rw, "free-running index, written by the host (wraps at 2^16)");
pub const RING_INDEX_DEVICE: Field =
    Field::new("INDEX", 0, 16, Access::Ro, "free-running index, advanced by the device (wraps at 2^16)");

macro_rules! ring_regs {
    ($ring:expr, $p:literal, $base:literal, $what:literal, host_produces: $hp:literal) => {
        RingRegs {
            ring: $ring,
            base_lo: reg(
                concat!($p, "_BASE_LO"),
                $base,
                Access::Rw,
                0,
                concat!($what, " ring base address, low word"),
                &[RING_BASE_LO],
            ),
            base_hi: reg(
                concat!($p, "_BASE_HI"),
                $base + 4,
                Access::Rw,
                0,
                concat!($what, " ring base address, high word"),
                &[RING_BASE_HI],
            ),
            log2_size: reg(
                concat!($p, "_LOG2_SIZE"),
                $base + 8,
                Access::Rw,
                0,
                concat!($what, " ring size"),
                &[RING_LOG2_SIZE],
            ),
            producer: if $hp {
                reg(
                    concat!($p, "_PRODUCER"),
                    $base + 12,
                    Access::Rw,
                    0,
                    concat!($what, " ring producer index: entries up to here are posted by the host"),
                    &[RING_INDEX_HOST],
                )
            } else {
                reg(
                    concat!($p, "_PRODUCER"),
                    $base + 12,
                    Access::Ro,
                    0,
                    concat!($what, " ring producer index: entries written by the device (informative; the phase bit is authoritative)"),
                    &[RING_INDEX_DEVICE],
                )
            },
            consumer: if $hp {
                reg(
                    concat!($p, "_CONSUMER"),
                    $base + 16,
                    Access::Ro,
                    0,
                    concat!($what, " ring consumer index: entries the device has taken"),
                    &[RING_INDEX_DEVICE],
                )
            } else {
                reg(
                    concat!($p, "_CONSUMER"),
                    $base + 16,
                    Access::Rw,
                    0,
                    concat!($what, " ring consumer index: entries up to here are reaped by the host and may be overwritten"),
                    &[RING_INDEX_HOST],
                )
            },
            host_produces: $hp,
        }
    };
}

/// Ring registers, in [`Ring`] order: RX descriptors at 0x100, RX completions at 0x120,
/// TX descriptors at 0x140, TX completions at 0x160.
pub const RINGS: [RingRegs; 4] = [
    ring_regs!(Ring::RxDesc, "RXD", 0x100, "RX descriptor", host_produces: true),
    ring_regs!(Ring::RxCpl, "RXC", 0x120, "RX completion", host_produces: false),
    ring_regs!(Ring::TxDesc, "TXD", 0x140, "TX descriptor", host_produces: true),
    ring_regs!(Ring::TxCpl, "TXC", 0x160, "TX completion", host_produces: false),
];

pub const fn ring(r: Ring) -> RingRegs {
    RINGS[r as usize]
}

// ---------------------------------------------------------------- counters

/// The 64-bit statistics counters, in register order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    RxFrames,
    RxBytes,
    RxFcsErrors,
    RxRunts,
    RxGiants,
    RxPhyErrors,
    RxFiltered,
    RxFifoOverflow,
    RxNoBuffer,
    DmaErrors,
    TxFrames,
    TxBytes,
}

/// A counter read includes every event counted at least this many core clocks before it
/// (the card keeps its counters in one table updated in turn: `nic_hdl::stats`).
pub const COUNTER_LAG_CLOCKS: u64 = 20;

/// Offset of the first counter; counter `i` has `LO` at `COUNTER_BASE + 8i`, `HI` at `+4`.
pub const COUNTER_BASE: u32 = 0x200;

/// One 64-bit counter: its `LO` and `HI` registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterRegs {
    pub counter: Counter,
    pub lo: Register,
    pub hi: Register,
}

pub const COUNTER_LO: Field = Field::new("LO", 0, 32, Access::RoLatch, "counter bits 31:0");
pub const COUNTER_HI: Field =
    Field::new("HI", 0, 32, Access::RoShadow, "counter bits 63:32, as latched by the last LO read");

macro_rules! counter {
    ($c:expr, $name:literal, $what:literal) => {
        CounterRegs {
            counter: $c,
            lo: reg(concat!($name, "_LO"), COUNTER_BASE + 8 * ($c as u32), Access::RoLatch, 0, $what, &[COUNTER_LO]),
            hi: reg(
                concat!($name, "_HI"),
                COUNTER_BASE + 8 * ($c as u32) + 4,
                Access::RoShadow,
                0,
                $what,
                &[COUNTER_HI],
            ),
        }
    };
}

/// The counters, in [`Counter`] order. Each counts from reset and wraps at 2^64 (never in
/// practice).
pub const COUNTERS: [CounterRegs; 12] = [
    counter!(Counter::RxFrames, "RX_FRAMES", "frames written to host memory"),
    counter!(Counter::RxBytes, "RX_BYTES", "bytes of those frames, FCS excluded"),
    counter!(Counter::RxFcsErrors, "RX_FCS_ERRORS", "frames dropped: bad FCS"),
    counter!(Counter::RxRunts, "RX_RUNTS", "frames dropped: shorter than 64 bytes"),
    counter!(Counter::RxGiants, "RX_GIANTS", "frames dropped: longer than MAX_LEN"),
    counter!(
        Counter::RxPhyErrors,
        "RX_PHY_ERRORS",
        "frames dropped: the PHY flagged an error (rx_er, code violation, crossing overflow)"
    ),
    counter!(Counter::RxFiltered, "RX_FILTERED", "good frames dropped by the address filter"),
    counter!(Counter::RxFifoOverflow, "RX_FIFO_OVERFLOW", "good frames dropped: the RX frame FIFO was full"),
    counter!(
        Counter::RxNoBuffer,
        "RX_NO_BUFFER",
        "good frames dropped: no posted RX buffer, a buffer too short, or RX_EN clear"
    ),
    counter!(Counter::DmaErrors, "DMA_ERRORS", "bus error responses on the DMA master"),
    counter!(Counter::TxFrames, "TX_FRAMES", "frames sent on the line"),
    counter!(Counter::TxBytes, "TX_BYTES", "bytes of those frames, FCS and padding excluded"),
];

pub const fn counter(c: Counter) -> CounterRegs {
    COUNTERS[c as usize]
}

/// Read a 64-bit counter race-free: read `LO` (which latches `HI` into the shadow in the
/// same clock), then `HI` (which returns the shadow). There is one shadow for all counters,
/// so the pair must not be interleaved with a read of another counter's `LO` (one reader at
/// a time, as a driver does under its lock).
pub fn read_counter(c: Counter, mut read32: impl FnMut(u32) -> u32) -> u64 {
    let regs = counter(c);
    let lo = read32(regs.lo.offset);
    let hi = read32(regs.hi.offset);
    (hi as u64) << 32 | lo as u64
}

// ---------------------------------------------------------------- the whole map

/// Every register, in offset order.
pub const REGISTERS: [Register; 58] = [
    ID,
    VERSION,
    CONTROL,
    STATUS,
    MAC_LO,
    MAC_HI,
    FILTER,
    MAX_LEN,
    MCAST_HASH_LO,
    MCAST_HASH_HI,
    IRQ_CAUSE,
    IRQ_MASK,
    IRQ_MOD_FRAMES,
    IRQ_MOD_TIME,
    RINGS[0].base_lo,
    RINGS[0].base_hi,
    RINGS[0].log2_size,
    RINGS[0].producer,
    RINGS[0].consumer,
    RINGS[1].base_lo,
    RINGS[1].base_hi,
    RINGS[1].log2_size,
    RINGS[1].producer,
    RINGS[1].consumer,
    RINGS[2].base_lo,
    RINGS[2].base_hi,
    RINGS[2].log2_size,
    RINGS[2].producer,
    RINGS[2].consumer,
    RINGS[3].base_lo,
    RINGS[3].base_hi,
    RINGS[3].log2_size,
    RINGS[3].producer,
    RINGS[3].consumer,
    COUNTERS[0].lo,
    COUNTERS[0].hi,
    COUNTERS[1].lo,
    COUNTERS[1].hi,
    COUNTERS[2].lo,
    COUNTERS[2].hi,
    COUNTERS[3].lo,
    COUNTERS[3].hi,
    COUNTERS[4].lo,
    COUNTERS[4].hi,
    COUNTERS[5].lo,
    COUNTERS[5].hi,
    COUNTERS[6].lo,
    COUNTERS[6].hi,
    COUNTERS[7].lo,
    COUNTERS[7].hi,
    COUNTERS[8].lo,
    COUNTERS[8].hi,
    COUNTERS[9].lo,
    COUNTERS[9].hi,
    COUNTERS[10].lo,
    COUNTERS[10].hi,
    COUNTERS[11].lo,
    COUNTERS[11].hi,
];

/// The register at byte `offset` (bits 1:0 ignored), if any.
pub const fn register_at(offset: u32) -> Option<Register> {
    let mut i = 0;
    while i < REGISTERS.len() {
        if REGISTERS[i].offset == offset & !3 {
            return Some(REGISTERS[i]);
        }
        i += 1;
    }
    None
}

/// The register called `name`, if any.
pub const fn register(name: &str) -> Option<Register> {
    let mut i = 0;
    while i < REGISTERS.len() {
        if str_eq(REGISTERS[i].name, name) {
            return Some(REGISTERS[i]);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_aligned_sorted_unique_and_inside_bar0() {
        for w in REGISTERS.windows(2) {
            assert!(w[0].offset < w[1].offset, "{} / {}", w[0].name, w[1].name);
        }
        for r in REGISTERS {
            assert_eq!(r.offset % 4, 0, "{}", r.name);
            assert!(r.offset < BAR0_SIZE, "{}", r.name);
            assert_eq!(register_at(r.offset), Some(r));
            assert_eq!(register(r.name), Some(r));
        }
        let mut names: Vec<_> = REGISTERS.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTERS.len(), "register names are unique");
        assert_eq!(register_at(0xFFC), None);
    }

    #[test]
    fn fields_fit_do_not_overlap_and_reset_values_stay_inside_them() {
        for r in REGISTERS {
            let mut seen = 0u32;
            for f in r.fields {
                assert!(f.width >= 1 && f.msb() < 32, "{}.{}", r.name, f.name);
                let m = f.mask() as u32;
                assert_eq!(seen & m, 0, "{}.{} overlaps", r.name, f.name);
                seen |= m;
                if f.access != Access::W1p {
                    // a field's access agrees with its register's
                    assert!(
                        f.access == r.access || r.access == Access::Rw && f.access == Access::Rw,
                        "{}.{}",
                        r.name,
                        f.name
                    );
                }
            }
            assert_eq!(r.reset & !r.defined_bits(), 0, "{} reset outside its fields", r.name);
        }
    }

    #[test]
    fn groups_are_where_the_docs_say() {
        assert_eq!(ring(Ring::TxCpl).base_lo.offset, 0x160);
        assert_eq!(ring(Ring::RxDesc).host_index().name, "RXD_PRODUCER");
        assert_eq!(ring(Ring::RxCpl).host_index().name, "RXC_CONSUMER");
        assert_eq!(ring(Ring::RxCpl).device_index().access, Access::Ro);
        for (i, c) in COUNTERS.iter().enumerate() {
            assert_eq!(c.counter as usize, i);
            assert_eq!(c.lo.offset, COUNTER_BASE + 8 * i as u32);
            assert_eq!(c.hi.offset, c.lo.offset + 4);
        }
        assert_eq!(counter(Counter::TxBytes).lo.name, "TX_BYTES_LO");
        assert_eq!(CONTROL.field("SOFT_RESET"), Some(CONTROL_SOFT_RESET));
        assert_eq!(CONTROL.writable_bits(), 0b11);
        assert_eq!(IRQ_MASK.reset, 0x1F);
    }

    #[test]
    fn mac_words_round_trip_and_put_byte0_low() {
        let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        let (lo, hi) = mac_to_words(mac);
        assert_eq!((lo, hi), (0x3322_1102, 0x5544));
        assert_eq!(words_to_mac(lo, hi), mac);
        assert_eq!(words_to_mac(MAC_LO.reset, MAC_HI.reset), DEFAULT_MAC);
    }

    #[test]
    fn counter_read_rule() {
        // A model of the device: a counter that steps between the two reads, crossing 2^32.
        let mut value: u64 = 0xFFFF_FFFF;
        let mut shadow = 0u32;
        let c = counter(Counter::RxBytes);
        let got = read_counter(Counter::RxBytes, |off| {
            let v = if off == c.lo.offset {
                shadow = (value >> 32) as u32;
                value as u32
            } else {
                assert_eq!(off, c.hi.offset);
                shadow
            };
            value += 1;
            v
        });
        assert_eq!(got, 0xFFFF_FFFF, "LO and HI come from one instant");
    }
}
