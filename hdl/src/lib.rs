//! nic-hdl: the gateware of the card, in Rust-HDL 0.46.
//!
//! The receive data path, in the order a frame meets it:
//!
//! ```text
//! line samples ─► phy::manchester_rx ─┐                       (or phy::gmii / phy::mii rx
//!                                      ├─► PHY byte stream ─► mac::rx ─► frame stream ─►
//!  GMII/MII pins ─► phy::{gmii,mii} ──┘      (core clock)     (SFD, FCS,   (commit/abort)
//!                                                               lengths,
//!                                                               mac::filter)
//!   ─► fifo::rx_frame ─► host-side stream (8-bit, valid/ready, length and verdict)
//! ```
//!
//! and the transmit path: host-side stream ─► mac::tx (preamble, SFD, pad, FCS, gap)
//! ─► PHY TX byte stream ─► phy::manchester_tx / phy::gmii / phy::mii.
//!
//! # Conventions every block follows
//! * One clock input named `clock` per clock domain (`phy_clock` for a PHY's own clock),
//!   rising-edge, and a synchronous active-high `reset: Signal<In, Bit>`.
//! * **Names.** A signal's or sub-block's field name is used verbatim as a Verilog
//!   identifier (a sub-block's field name is its instance name), so it must not be a Verilog or
//!   SystemVerilog keyword: `end`, `input`, `output` break every tool (Rust-HDL itself panics
//!   on `input`/`output`); `edge`, `event`, `cross`, `bit`, `logic`, `byte`, `int`, `type`,
//!   `final`, `string`, `do`, `break`, `return`, `alias`, `bind`, `priority`, `unique` break
//!   Verilator (SystemVerilog by default) and Icarus `-g2012` (used by `verilog::vectors`)
//!   while Yosys accepts most of them. See `docs/rust-hdl-notes.md`.
//! * **PHY byte stream** (PHY receive → `mac::rx`, core clock domain):
//!   `valid` (a byte this clock), `data: Bits<8>`, `error` (the PHY saw a code violation or
//!   `rx_er` in this byte; may also come with the end strobe), and the end strobe (the frame
//!   ended this clock; no byte with it), named `frame_end` on the PHYs' outputs and `phy_end`
//!   on `mac::rx`'s input (`phy_valid`, `phy_data`, `phy_error`, `phy_end`), never `end`.
//!   Bytes are what the PHY received from the line: preamble bytes (0x55,
//!   possibly fewer than 7 or none), the SFD (0xD5), the frame, the FCS.
//! * **Frame stream** (`mac::rx` → `fifo::rx_frame`): `valid`, `data` for every byte after
//!   the SFD including the 4 FCS bytes; at the end exactly one of `commit` (frame is good and
//!   passed the filter; `verdict` valid with it) or `abort` (drop it).
//! * **Filter verdict** (2 bits): 0 unicast to the station address, 1 multicast,
//!   2 broadcast, 3 accepted only because of promiscuous mode.
//! * **PHY TX byte stream** (`mac::tx` → PHY transmit): the PHY pulses `ready` when it takes
//!   a byte; `mac::tx` presents `data`, `en` (in a frame: preamble, SFD, data or FCS) and
//!   `er` (abort this frame on the line) for the byte taken on that `ready`. Between frames
//!   `en` is low, so a PHY that asks during the inter-frame gap gets idle.
//! * Counters are 32-bit and saturate at all ones: use [`counter::SatCounter32`].
//! * **Kernels.** Rust-HDL reads a `Local` signal's `val()` as the value just assigned in the
//!   same kernel (like a blocking assignment), and so does the generated Verilog. An output
//!   given a default and then overridden in the same kernel changes twice in one evaluation;
//!   if it feeds a parent's combinational logic that drives this block's inputs, Icarus
//!   loops at zero delay. Compute into locals and assign each output once.
pub mod counter;
pub mod csr;
pub mod dma;
pub mod engine;
pub mod fifo;
pub mod irq;
pub mod mac;
pub mod model;
pub mod phy;
pub mod ram;
pub mod sim;
pub mod stats;
pub mod top;
pub mod verilog;
