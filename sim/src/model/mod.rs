//! The simulation model of the card: the gateware stepped clock by clock behind an
//! [`nic_hdl::engine::Engine`], with the host around it (memory, register bus, MSI) and the
//! line at its pins.
//!
//! | file | what |
//! |---|---|
//! | `nic.rs` | [`nic::NicModel`]: one card; the order of a clock's steps |
//! | `memory.rs` | [`memory::SharedMemory`]: host memory the software and the card's DMA share |
//! | `axil.rs` | the host's register accesses (AXI4-Lite master) |
//! | `msi.rs` | the bridge's side of the MSI handshake; eventfds |
//! | `world.rs` | cards on a wire (or a TAP), stepped edge by edge: by the simulated runtime (`crate::runtime`) or freely on a thread of their own; the host's handle on a card |
//! | `engines.rs` | building a NIC top on the Rust-HDL or the Verilator engine |
//! | `clocks.rs` | the core and PHY clocks of a run |
//! | `host_rx.rs` | a minimal polling RX host (for `replay` and `bench`) |
//! | `rx_run.rs` | one card receiving a prepared line, start to drain |
pub mod axil;
pub mod clocks;
pub mod engines;
pub mod host_rx;
pub mod memory;
pub mod msi;
pub mod nic;
pub mod rx_run;
pub mod world;

/// The PHY variant of a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phy {
    /// The integrated 10 Mb/s PHY: oversampled line samples, 20 MHz core clock.
    Manchester,
    /// An external 1 Gb/s GMII PHY chip, 125 MHz.
    Gmii,
    /// An external 100 Mb/s MII PHY chip (25 MHz PHY clocks, 125 MHz core).
    Mii,
}

impl Phy {
    pub fn parse(s: &str) -> Option<Phy> {
        match s {
            "manchester" => Some(Phy::Manchester),
            "gmii" => Some(Phy::Gmii),
            "mii" => Some(Phy::Mii),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Phy::Manchester => "integrated 10BASE-T-style PHY: 10 Mb/s Manchester, 16 samples/bit, 20 MHz core",
            Phy::Gmii => "GMII to an external PHY chip: 1 Gb/s, 125 MHz PHY clock, 125 MHz core",
            Phy::Mii => "MII to an external PHY chip: 100 Mb/s, 25 MHz PHY clock, 125 MHz core",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Phy::Manchester => "manchester",
            Phy::Gmii => "gmii",
            Phy::Mii => "mii",
        }
    }

    /// Core clock period in ps.
    pub fn core_period_ps(self) -> f64 {
        match self {
            Phy::Manchester => 50_000.0,
            Phy::Gmii | Phy::Mii => 8_000.0,
        }
    }

    /// Nominal PHY clock period in ps (the integrated PHY has none: its line is sampled on
    /// the core clock).
    pub fn phy_period_ps(self) -> Option<f64> {
        match self {
            Phy::Manchester => None,
            Phy::Gmii => Some(8_000.0),
            Phy::Mii => Some(40_000.0),
        }
    }

    /// Core clocks per µs (the interrupt moderator's and the bus model's time base).
    pub fn clocks_per_us(self) -> u32 {
        (1_000_000.0 / self.core_period_ps()) as u32
    }

    /// Line rate in bits per second.
    pub fn bit_rate(self) -> u64 {
        match self {
            Phy::Manchester => 10_000_000,
            Phy::Gmii => 1_000_000_000,
            Phy::Mii => 100_000_000,
        }
    }
}
