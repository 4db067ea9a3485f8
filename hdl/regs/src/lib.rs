//! nic-regs: the ONE register map and ring ABI of the NIC.
//!
//! Everything the host and the gateware must agree on lives here, as `const` data:
//! * [`map`]: the 32-bit registers of BAR0 (byte offsets, access, reset value, fields);
//! * [`ring`]: the 16-byte descriptors and completions, their encode/decode, the phase rule;
//! * [`net`]: the two computations both sides must do identically (the multicast hash bin
//!   and the receive checksum), as `const fn` reference implementations;
//! * [`docs`]: `docs/registers.md`, generated from the tables above
//!   (`cargo run -p nic-regs --bin gen-docs > docs/registers.md`; a test fails when stale).
//!
//! The gateware's address decoder (`nic_hdl::csr`) takes its offsets and reset values from
//! these tables, the driver's register accessors use them, and the docs print them, so none
//! of the three can drift from the others. This crate has no dependencies.
pub mod docs;
pub mod map;
pub mod net;
pub mod ring;

pub use map::*;
pub use net::*;
pub use ring::*;

/// Access kind of a register or a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read-only; writes are ignored (and answered OKAY).
    Ro,
    /// Read/write storage.
    Rw,
    /// Read; writing 1 to a bit clears it, writing 0 leaves it.
    W1c,
    /// Write 1 to pulse an action for one clock; reads as 0.
    W1p,
    /// Read-only low half of a 64-bit counter; reading it also copies the counter's high
    /// half, at the same instant, into the counter shadow.
    RoLatch,
    /// Read-only high half of a 64-bit counter: returns the counter shadow.
    RoShadow,
}

impl Access {
    pub const fn name(self) -> &'static str {
        match self {
            Access::Ro => "RO",
            Access::Rw => "RW",
            Access::W1c => "W1C",
            Access::W1p => "W1P",
            Access::RoLatch => "RO-latch",
            Access::RoShadow => "RO-shadow",
        }
    }

    pub const fn meaning(self) -> &'static str {
        match self {
            Access::Ro => "read-only; writes are ignored (response OKAY)",
            Access::Rw => "read/write",
            Access::W1c => "read; write 1 to a bit to clear it, 0 leaves it",
            Access::W1p => "write 1 to pulse the action for one clock; reads as 0",
            Access::RoLatch => {
                "read-only low half of a 64-bit counter; the read also latches the high half into the counter shadow"
            }
            Access::RoShadow => "read-only high half of a 64-bit counter: returns the counter shadow",
        }
    }

    /// Whether a host write can change state through this access kind.
    pub const fn writable(self) -> bool {
        matches!(self, Access::Rw | Access::W1c | Access::W1p)
    }
}

/// A bit field of a register (bits of a 32-bit word) or of a ring entry (bits of the
/// 128-bit little-endian entry: byte `k` of the entry is bits `8k+7 .. 8k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub lsb: u32,
    pub width: u32,
    pub access: Access,
    pub doc: &'static str,
}

/// Why an encode or decode failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbiError {
    /// A value does not fit its field.
    FieldTooWide { field: &'static str, value: u128 },
    /// Bits outside every defined field are not zero.
    ReservedNotZero { bits: u128 },
}

impl std::fmt::Display for AbiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AbiError::FieldTooWide { field, value } => {
                write!(f, "value {value:#x} does not fit field {field}")
            }
            AbiError::ReservedNotZero { bits } => write!(f, "reserved bits set: {bits:#x}"),
        }
    }
}

impl std::error::Error for AbiError {}

impl Field {
    pub const fn new(name: &'static str, lsb: u32, width: u32, access: Access, doc: &'static str) -> Self {
        Self { name, lsb, width, access, doc }
    }

    pub const fn msb(&self) -> u32 {
        self.lsb + self.width - 1
    }

    /// The field's bits, unshifted (`width` ones).
    pub const fn max(&self) -> u128 {
        if self.width >= 128 {
            u128::MAX
        } else {
            (1u128 << self.width) - 1
        }
    }

    /// The field's bits in place.
    pub const fn mask(&self) -> u128 {
        self.max() << self.lsb
    }

    /// The field's value in `word`.
    pub const fn get(&self, word: u128) -> u128 {
        (word >> self.lsb) & self.max()
    }

    /// `word` with the field replaced by `value`; an error if `value` does not fit.
    pub const fn put(&self, word: u128, value: u128) -> Result<u128, AbiError> {
        if value > self.max() {
            return Err(AbiError::FieldTooWide { field: self.name, value });
        }
        Ok((word & !self.mask()) | (value << self.lsb))
    }

    /// The field's value in a 32-bit register word.
    pub const fn get32(&self, word: u32) -> u32 {
        self.get(word as u128) as u32
    }

    /// A 32-bit register word with the field set to `value` (truncated to the field).
    pub const fn put32(&self, word: u32, value: u32) -> u32 {
        ((word as u128 & !self.mask()) | ((value as u128 & self.max()) << self.lsb)) as u32
    }
}

/// The union of the masks of `fields`.
pub const fn fields_mask(fields: &[Field]) -> u128 {
    let mut m = 0u128;
    let mut i = 0;
    while i < fields.len() {
        m |= fields[i].mask();
        i += 1;
    }
    m
}

/// Byte-wise string equality usable in `const fn`.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
