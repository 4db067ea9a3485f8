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
//! * No signal is named `input` or `output` (Rust-HDL panics on those).
//! * **PHY byte stream** (PHY receive → `mac::rx`, core clock domain):
//!   `valid` (a byte this clock), `data: Bits<8>`, `error` (the PHY saw a code violation or
//!   `rx_er` in this byte; may also come with `end`), `end` (the frame ended this clock; no
//!   byte with it). Bytes are what the PHY received from the line: preamble bytes (0x55,
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
//! * Counters are 32-bit and saturate at all ones.
pub mod csr;
pub mod fifo;
pub mod mac;
pub mod model;
pub mod phy;
pub mod sim;
pub mod top;
pub mod verilog;
