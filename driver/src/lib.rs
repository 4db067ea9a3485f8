//! nic-driver: the userspace host driver of the card.
//!
//! ```text
//!  nic_stack::Interface ─► Device (device.rs: PacketBufs over DMA buffers, zero copy)
//!                            │
//!                           Nic (nic.rs): bring-up, rx_burst / tx_burst, NAPI, counters
//!                            │        ├── ring.rs: descriptor and completion rings (phase bit)
//!                            │        └── pool.rs: fixed-size DMA buffers, ownership tracked
//!                           Backend (backend.rs): read32 / write32, DMA regions, interrupts
//!                            │        (interrupts.rs), the runtime (clock, waits, threads)
//!                            ├── vfio.rs:  a board through Linux VFIO
//!                            ├── model.rs: a zero-latency functional model (tests, bench)
//!                            └── nic-sim:  the cycle-accurate simulation of the gateware
//! ```
//!
//! Everything above `Backend` is one code path, whatever the card is. `unsafe` lives only
//! at the DMA boundary (`backend.rs`, `pool.rs`) and in the VFIO register mapping
//! (`vfio.rs`), each block with a `SAFETY:` comment.
pub mod backend;
pub mod device;
pub mod interrupts;
pub mod irq_device;
pub mod model;
pub mod nic;
pub mod pool;
pub mod ring;
pub mod vfio;

pub use backend::{Backend, DmaRegion, IRQ_VECTORS, VEC_ERR, VEC_RX, VEC_TX};
pub use device::DmaStorage;
pub use interrupts::{EventFdWaiter, IrqWait};
pub use irq_device::IrqDevice;
pub use model::{ModelBackend, ModelNic};
pub use nic::{Buf, DriverStats, LinkStatus, Nic, NicConfig, MAX_BURST};
pub use pool::{BufState, Pool, PoolCounts};
pub use vfio::{VfioBackend, VfioPaths};

/// Everything that can go wrong, each with a message a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The VFIO setup failed; the message says what to do (one line).
    Vfio(String),
    /// DMA memory could not be had or mapped.
    Dma(String),
    /// BAR0 does not identify as this card.
    NotOurDevice { id: u32 },
    /// The card speaks another major version of the register map.
    VersionMismatch { device: u32, driver: u32 },
    /// A configuration value out of range.
    Config(String),
    /// A buffer handle that is not lent out by this NIC (another NIC's, or already given
    /// back).
    ForeignBuffer,
    /// A frame longer than a buffer can hold.
    FrameTooLong { len: usize, max: usize },
    /// The buffer pool is empty.
    NoBuffer,
    /// An interrupt wait failed at the OS level.
    Irq(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Vfio(m) => write!(f, "{m}"),
            Error::Dma(m) => write!(f, "DMA memory: {m}"),
            Error::NotOurDevice { id } => write!(
                f,
                "BAR0 ID reads {id:#010x}, not {:#010x} (\"NIC1\"): wrong device or bitstream not loaded",
                nic_regs::ID_MAGIC
            ),
            Error::VersionMismatch { device, driver } => write!(
                f,
                "the card's register map is version {}.{}, this driver speaks {}.x: update the driver or the bitstream",
                device >> 16,
                device & 0xFFFF,
                driver >> 16
            ),
            Error::Config(m) => write!(f, "configuration: {m}"),
            Error::ForeignBuffer => write!(f, "buffer handle not lent out by this NIC"),
            Error::FrameTooLong { len, max } => write!(f, "frame of {len} bytes does not fit a {max}-byte buffer"),
            Error::NoBuffer => write!(f, "buffer pool empty"),
            Error::Irq(m) => write!(f, "interrupt wait: {m}"),
        }
    }
}

impl std::error::Error for Error {}
