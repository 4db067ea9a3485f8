//! The whole card, one top per PHY: PHY + MAC + filter + FIFO + DMA + registers + MSI.
//!
//! ```text
//!  PHY pins ─► PHY RX ─► MAC RX + filter ─► RX frame FIFO ─► RX DMA ─┐
//!                                                                     ├─► AXI arbiter ─► m_axi_* (AXI4, 64-bit, 4-bit IDs)
//!  PHY pins ◄─ PHY TX ◄─ MAC TX (preamble, pad, FCS, IFG) ◄─ TX DMA ─┘
//!  s_axil_* (AXI4-Lite, 32-bit) ─► CSR (nic-regs map) ─► configuration of every block above
//!  RX/TX DMA events, link changes ─► IRQ (moderation) ─► usr_irq_req/ack[2:0] (XDMA-style MSI)
//! ```
//!
//! These are the ports a PCIe–AXI bridge (Xilinx XDMA/QDMA in bridge mode) connects to:
//! its AXI master drives `s_axil_*` (BAR0, 4 KiB), its AXI slave takes `m_axi_*` (host
//! memory), and its user-interrupt ports pair with `usr_irq_req`/`usr_irq_ack`.
//!
//! # Resets and clocks
//! `reset` is synchronous and active high. `CONTROL.SOFT_RESET` resets everything after the
//! PHY (MAC, FIFO, DMA, interrupts, and the CSR itself) one clock after the write that asks
//! for it; the PHYs keep their lock. Everything runs on `clock` (125 MHz for GMII and MII,
//! 20 MHz for the Manchester PHY's 8:1 sampling of a 10 Mb/s line) except the pins of an
//! external PHY chip, which the PHY blocks cross over from `rx_clk` (and `tx_clk` for MII).
//!
//! # Counters
//! The frame and byte counters are 64-bit and count from pulses here: `RX_FRAMES` one per
//! RX completion written, `RX_BYTES` the bytes the RX DMA wrote into buffers, `TX_FRAMES`
//! and `TX_BYTES` the frames and bytes the TX DMA handed the MAC whole (the TX DMA sends only
//! whole, well-sized frames, so the MAC never cuts one). The error counters come from the
//! blocks' 32-bit saturating counters (a 32-bit count of errors sticks at all ones rather
//! than wrap); `DMA_ERRORS` is the sum of the RX and TX DMA's.
use crate::csr::Csr;
use crate::dma::axi_arbiter::AxiArbiter;
use crate::dma::rx::RxDma;
use crate::dma::tx::TxDma;
use crate::fifo::skid::Skid;
use crate::irq::Irq;
use crate::mac::tx::MacTx;
use crate::phy::gmii::{GmiiRx, GmiiTx};
use crate::phy::manchester_rx::{ManchesterRx, RxConfig};
use crate::phy::manchester_tx::ManchesterTx;
use crate::phy::mii::{MiiRx, MiiTx};
use crate::stats::Stats;
use crate::top::rx_path::{RxMacPath, MANCHESTER_W};
use rust_hdl::prelude::*;

/// Inter-frame gap the MAC keeps, in byte times (96 bit times).
pub const IFG_BYTES: u64 = 12;

// The statistics table's entries are `nic_regs::Counter`'s order (the tops' `events` bits).
const _: () = {
    use nic_regs::Counter::*;
    assert!(RxFrames as u8 == 0 && RxBytes as u8 == 1 && RxFcsErrors as u8 == 2 && RxRunts as u8 == 3);
    assert!(RxGiants as u8 == 4 && RxPhyErrors as u8 == 5 && RxFiltered as u8 == 6 && RxFifoOverflow as u8 == 7);
    assert!(RxNoBuffer as u8 == 8 && DmaErrors as u8 == 9 && TxFrames as u8 == 10 && TxBytes as u8 == 11);
};

/// Declares a NIC top: the shared host-side ports and blocks, the PHY pair's own pins and
/// clocks, and all the wiring. Written once here so the three tops cannot drift apart.
macro_rules! nic_top {
    (
        $(#[$doc:meta])* $name:ident, engine: $engine:ident,
        clocks_per_us: $cpu:expr,
        rx_phy: $rx_ty:ty = $rx_new:expr, tx_phy: $tx_ty:ty = $tx_new:expr,
        rx_pins { $($rpin:ident : $rpin_ty:ty = $rpin_dst:ident),* $(,)? },
        tx_pins { $($tpin:ident : $tpin_ty:ty = $tpin_src:ident),* $(,)? },
        status_in { $($sin:ident),* },
        rx_clock: $($rxclk:ident)?, tx_clock: $($txclk:ident)?,
        link_up: $($link:ident).+, cdr_lock: $($lock:ident).+
    ) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name {
            pub clock: Signal<In, Clock>,
            pub reset: Signal<In, Bit>,
            $(pub $rxclk: Signal<In, Clock>,)?
            $(pub $txclk: Signal<In, Clock>,)?
            $(pub $rpin: Signal<In, $rpin_ty>,)*
            $(pub $tpin: Signal<Out, $tpin_ty>,)*
            $(pub $sin: Signal<In, Bit>,)*
            // AXI4-Lite slave: BAR0 (docs/registers.md).
            pub s_axil_awaddr: Signal<In, Bits<{ crate::csr::ADDR_BITS }>>,
            pub s_axil_awvalid: Signal<In, Bit>,
            pub s_axil_awready: Signal<Out, Bit>,
            pub s_axil_wdata: Signal<In, Bits<32>>,
            pub s_axil_wstrb: Signal<In, Bits<4>>,
            pub s_axil_wvalid: Signal<In, Bit>,
            pub s_axil_wready: Signal<Out, Bit>,
            pub s_axil_bresp: Signal<Out, Bits<2>>,
            pub s_axil_bvalid: Signal<Out, Bit>,
            pub s_axil_bready: Signal<In, Bit>,
            pub s_axil_araddr: Signal<In, Bits<{ crate::csr::ADDR_BITS }>>,
            pub s_axil_arvalid: Signal<In, Bit>,
            pub s_axil_arready: Signal<Out, Bit>,
            pub s_axil_rdata: Signal<Out, Bits<32>>,
            pub s_axil_rresp: Signal<Out, Bits<2>>,
            pub s_axil_rvalid: Signal<Out, Bit>,
            pub s_axil_rready: Signal<In, Bit>,
            // AXI4 master: host memory (64-bit data; ID 0 RX DMA, 1 TX DMA).
            pub m_axi_awid: Signal<Out, Bits<4>>,
            pub m_axi_awaddr: Signal<Out, Bits<64>>,
            pub m_axi_awlen: Signal<Out, Bits<8>>,
            pub m_axi_awsize: Signal<Out, Bits<3>>,
            pub m_axi_awburst: Signal<Out, Bits<2>>,
            pub m_axi_awvalid: Signal<Out, Bit>,
            pub m_axi_awready: Signal<In, Bit>,
            pub m_axi_wdata: Signal<Out, Bits<64>>,
            pub m_axi_wstrb: Signal<Out, Bits<8>>,
            pub m_axi_wlast: Signal<Out, Bit>,
            pub m_axi_wvalid: Signal<Out, Bit>,
            pub m_axi_wready: Signal<In, Bit>,
            pub m_axi_bid: Signal<In, Bits<4>>,
            pub m_axi_bresp: Signal<In, Bits<2>>,
            pub m_axi_bvalid: Signal<In, Bit>,
            pub m_axi_bready: Signal<Out, Bit>,
            pub m_axi_arid: Signal<Out, Bits<4>>,
            pub m_axi_araddr: Signal<Out, Bits<64>>,
            pub m_axi_arlen: Signal<Out, Bits<8>>,
            pub m_axi_arsize: Signal<Out, Bits<3>>,
            pub m_axi_arburst: Signal<Out, Bits<2>>,
            pub m_axi_arvalid: Signal<Out, Bit>,
            pub m_axi_arready: Signal<In, Bit>,
            pub m_axi_rid: Signal<In, Bits<4>>,
            pub m_axi_rdata: Signal<In, Bits<64>>,
            pub m_axi_rresp: Signal<In, Bits<2>>,
            pub m_axi_rlast: Signal<In, Bit>,
            pub m_axi_rvalid: Signal<In, Bit>,
            pub m_axi_rready: Signal<Out, Bit>,
            // MSI, XDMA user-interrupt style: vector 0 RX, 1 TX, 2 error/link.
            pub usr_irq_req: Signal<Out, Bits<3>>,
            pub usr_irq_ack: Signal<In, Bits<3>>,
            pub rx_phy: $rx_ty,
            pub tx_phy: $tx_ty,
            rx_path: RxMacPath,
            mac_tx: MacTx,
            csr: Csr,
            irq: Irq,
            rx_dma: RxDma,
            tx_dma: TxDma,
            /// The TX byte stream, {last, byte}, through a register slice: the MAC's
            /// `in_ready` stops there instead of reaching the DMA's take.
            tx_slice: Skid<Bits<9>>,
            arbiter: AxiArbiter,
            /// The host-visible counters (`nic_regs::Counter`), one table read by the CSR.
            stats: Stats,
            /// System reset or the soft reset asked for on the previous clock.
            core_reset: DFF<Bit>,
            link_seen: DFF<Bit>,
            k_ifg: Constant<Bits<8>>,
            rx_byte_taken: Signal<Local, Bit>,
            /// The statistics table's events, built bit by bit here: a child's input reads
            /// back its last settled value in Rust-HDL, so it cannot be built in place.
            stat_events: Signal<Local, Bits<16>>,
            stat_events2: Signal<Local, Bits<16>>,
            tx_byte_taken: Signal<Local, Bit>,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
                    $($rxclk: Default::default(),)?
                    $($txclk: Default::default(),)?
                    $($rpin: Default::default(),)*
                    $($tpin: Default::default(),)*
                    $($sin: Default::default(),)*
                    s_axil_awaddr: Default::default(),
                    s_axil_awvalid: Default::default(),
                    s_axil_awready: Default::default(),
                    s_axil_wdata: Default::default(),
                    s_axil_wstrb: Default::default(),
                    s_axil_wvalid: Default::default(),
                    s_axil_wready: Default::default(),
                    s_axil_bresp: Default::default(),
                    s_axil_bvalid: Default::default(),
                    s_axil_bready: Default::default(),
                    s_axil_araddr: Default::default(),
                    s_axil_arvalid: Default::default(),
                    s_axil_arready: Default::default(),
                    s_axil_rdata: Default::default(),
                    s_axil_rresp: Default::default(),
                    s_axil_rvalid: Default::default(),
                    s_axil_rready: Default::default(),
                    m_axi_awid: Default::default(),
                    m_axi_awaddr: Default::default(),
                    m_axi_awlen: Default::default(),
                    m_axi_awsize: Default::default(),
                    m_axi_awburst: Default::default(),
                    m_axi_awvalid: Default::default(),
                    m_axi_awready: Default::default(),
                    m_axi_wdata: Default::default(),
                    m_axi_wstrb: Default::default(),
                    m_axi_wlast: Default::default(),
                    m_axi_wvalid: Default::default(),
                    m_axi_wready: Default::default(),
                    m_axi_bid: Default::default(),
                    m_axi_bresp: Default::default(),
                    m_axi_bvalid: Default::default(),
                    m_axi_bready: Default::default(),
                    m_axi_arid: Default::default(),
                    m_axi_araddr: Default::default(),
                    m_axi_arlen: Default::default(),
                    m_axi_arsize: Default::default(),
                    m_axi_arburst: Default::default(),
                    m_axi_arvalid: Default::default(),
                    m_axi_arready: Default::default(),
                    m_axi_rid: Default::default(),
                    m_axi_rdata: Default::default(),
                    m_axi_rresp: Default::default(),
                    m_axi_rlast: Default::default(),
                    m_axi_rvalid: Default::default(),
                    m_axi_rready: Default::default(),
                    usr_irq_req: Default::default(),
                    usr_irq_ack: Default::default(),
                    rx_phy: $rx_new,
                    tx_phy: $tx_new,
                    rx_path: Default::default(),
                    mac_tx: Default::default(),
                    csr: Default::default(),
                    irq: Irq::new($cpu),
                    rx_dma: Default::default(),
                    tx_dma: Default::default(),
                    tx_slice: Default::default(),
                    arbiter: Default::default(),
                    stats: Default::default(),
                    core_reset: Default::default(),
                    link_seen: Default::default(),
                    k_ifg: Constant::new(IFG_BYTES.to_bits()),
                    rx_byte_taken: Default::default(),
                    stat_events: Default::default(),
                    stat_events2: Default::default(),
                    tx_byte_taken: Default::default(),
                }
            }
        }

        impl Logic for $name {
            #[hdl_gen]
            fn update(&mut self) {
                dff_setup!(self, clock, core_reset, link_seen);
                self.core_reset.d.next = self.reset.val() | self.csr.soft_reset.val();

                // Clocks and resets.
                self.rx_phy.clock.next = self.clock.val();
                self.rx_phy.reset.next = self.reset.val();
                $(self.rx_phy.phy_clock.next = self.$rxclk.val();)?
                self.tx_phy.clock.next = self.clock.val();
                self.tx_phy.reset.next = self.reset.val();
                $(self.tx_phy.phy_clock.next = self.$txclk.val();)?
                self.rx_path.clock.next = self.clock.val();
                self.rx_path.reset.next = self.core_reset.q.val();
                self.mac_tx.clock.next = self.clock.val();
                self.mac_tx.reset.next = self.core_reset.q.val();
                self.csr.clock.next = self.clock.val();
                self.csr.reset.next = self.reset.val();
                self.irq.clock.next = self.clock.val();
                self.irq.reset.next = self.core_reset.q.val();
                self.rx_dma.clock.next = self.clock.val();
                self.rx_dma.reset.next = self.core_reset.q.val();
                self.tx_dma.clock.next = self.clock.val();
                self.tx_dma.reset.next = self.core_reset.q.val();
                self.tx_slice.clock.next = self.clock.val();
                self.tx_slice.reset.next = self.core_reset.q.val();
                self.arbiter.clock.next = self.clock.val();
                self.arbiter.reset.next = self.core_reset.q.val();
                self.stats.clock.next = self.clock.val();
                self.stats.reset.next = self.core_reset.q.val();

                // Pins.
                $(self.rx_phy.$rpin_dst.next = self.$rpin.val();)*
                $(self.$tpin.next = self.tx_phy.$tpin_src.val();)*

                // Receive: PHY ─► MAC + filter + FIFO ─► RX DMA.
                self.rx_path.phy_valid.next = self.rx_phy.valid.val();
                self.rx_path.phy_data.next = self.rx_phy.data.val();
                self.rx_path.phy_error.next = self.rx_phy.error.val();
                self.rx_path.phy_end.next = self.rx_phy.frame_end.val();
                self.rx_path.max_len.next = self.csr.max_len.val();
                self.rx_path.station_mac.next = self.csr.station_mac.val();
                self.rx_path.mcast_hash.next = self.csr.mcast_hash.val();
                self.rx_path.all_multicast.next = self.csr.all_multicast.val();
                self.rx_path.promisc.next = self.csr.promisc.val();
                self.rx_dma.enable.next = self.csr.rx_enable.val();
                self.rx_dma.in_valid.next = self.rx_path.out_valid.val();
                self.rx_dma.in_data.next = self.rx_path.out_data.val();
                self.rx_dma.in_last.next = self.rx_path.out_last.val();
                self.rx_dma.in_len.next = self.rx_path.out_len.val();
                self.rx_dma.in_verdict.next = self.rx_path.out_verdict.val();
                self.rx_path.out_ready.next = self.rx_dma.in_ready.val();
                self.rx_dma.rxd_base.next = self.csr.rxd_base.val();
                self.rx_dma.rxd_log2_size.next = self.csr.rxd_log2_size.val();
                self.rx_dma.rxd_producer.next = self.csr.rxd_producer.val();
                self.csr.rxd_consumer.next = self.rx_dma.rxd_consumer.val();
                self.rx_dma.rxc_base.next = self.csr.rxc_base.val();
                self.rx_dma.rxc_log2_size.next = self.csr.rxc_log2_size.val();
                self.rx_dma.rxc_consumer.next = self.csr.rxc_consumer.val();
                self.csr.rxc_producer.next = self.rx_dma.rxc_producer.val();

                // Transmit: TX DMA ─► MAC ─► PHY.
                self.tx_dma.enable.next = self.csr.tx_enable.val();
                self.tx_dma.max_len.next = self.csr.max_len.val();
                self.tx_dma.txd_base.next = self.csr.txd_base.val();
                self.tx_dma.txd_log2_size.next = self.csr.txd_log2_size.val();
                self.tx_dma.txd_producer.next = self.csr.txd_producer.val();
                self.csr.txd_consumer.next = self.tx_dma.txd_consumer.val();
                self.tx_dma.txc_base.next = self.csr.txc_base.val();
                self.tx_dma.txc_log2_size.next = self.csr.txc_log2_size.val();
                self.tx_dma.txc_consumer.next = self.csr.txc_consumer.val();
                self.csr.txc_producer.next = self.tx_dma.txc_producer.val();
                self.tx_slice.in_valid.next = self.tx_dma.out_valid.val();
                self.tx_slice.in_data.next =
                    bit_cast::<9, 8>(self.tx_dma.out_data.val()) | (bit_cast::<9, 1>(self.tx_dma.out_last.val().into()) << 8);
                self.tx_dma.out_ready.next = self.tx_slice.in_ready.val();
                self.mac_tx.in_valid.next = self.tx_slice.out_valid.val();
                self.mac_tx.in_data.next = self.tx_slice.out_data.val().get_bits::<8>(0);
                self.mac_tx.in_last.next = self.tx_slice.out_data.val().get_bit(8);
                self.tx_slice.out_ready.next = self.mac_tx.in_ready.val();
                self.mac_tx.ifg_bytes.next = self.k_ifg.val();
                self.mac_tx.max_len.next = self.csr.max_len.val();
                self.mac_tx.phy_ready.next = self.tx_phy.ready.val();
                self.tx_phy.data.next = self.mac_tx.phy_data.val();
                self.tx_phy.en.next = self.mac_tx.phy_en.val();
                self.tx_phy.er.next = self.mac_tx.phy_er.val();

                // Both DMA masters share the one AXI4 master.
                self.arbiter.s0_awvalid.next = self.rx_dma.axi_awvalid.val();
                self.arbiter.s0_awaddr.next = self.rx_dma.axi_awaddr.val();
                self.arbiter.s0_awlen.next = self.rx_dma.axi_awlen.val();
                self.arbiter.s0_awsize.next = self.rx_dma.axi_awsize.val();
                self.arbiter.s0_awburst.next = self.rx_dma.axi_awburst.val();
                self.rx_dma.axi_awready.next = self.arbiter.s0_awready.val();
                self.arbiter.s0_wvalid.next = self.rx_dma.axi_wvalid.val();
                self.arbiter.s0_wdata.next = self.rx_dma.axi_wdata.val();
                self.arbiter.s0_wstrb.next = self.rx_dma.axi_wstrb.val();
                self.arbiter.s0_wlast.next = self.rx_dma.axi_wlast.val();
                self.rx_dma.axi_wready.next = self.arbiter.s0_wready.val();
                self.rx_dma.axi_bvalid.next = self.arbiter.s0_bvalid.val();
                self.rx_dma.axi_bresp.next = self.arbiter.s0_bresp.val();
                self.arbiter.s0_bready.next = self.rx_dma.axi_bready.val();
                self.arbiter.s0_arvalid.next = self.rx_dma.axi_arvalid.val();
                self.arbiter.s0_araddr.next = self.rx_dma.axi_araddr.val();
                self.arbiter.s0_arlen.next = self.rx_dma.axi_arlen.val();
                self.arbiter.s0_arsize.next = self.rx_dma.axi_arsize.val();
                self.arbiter.s0_arburst.next = self.rx_dma.axi_arburst.val();
                self.rx_dma.axi_arready.next = self.arbiter.s0_arready.val();
                self.rx_dma.axi_rvalid.next = self.arbiter.s0_rvalid.val();
                self.rx_dma.axi_rdata.next = self.arbiter.s0_rdata.val();
                self.rx_dma.axi_rresp.next = self.arbiter.s0_rresp.val();
                self.rx_dma.axi_rlast.next = self.arbiter.s0_rlast.val();
                self.arbiter.s0_rready.next = self.rx_dma.axi_rready.val();
                self.arbiter.s1_awvalid.next = self.tx_dma.axi_awvalid.val();
                self.arbiter.s1_awaddr.next = self.tx_dma.axi_awaddr.val();
                self.arbiter.s1_awlen.next = self.tx_dma.axi_awlen.val();
                self.arbiter.s1_awsize.next = self.tx_dma.axi_awsize.val();
                self.arbiter.s1_awburst.next = self.tx_dma.axi_awburst.val();
                self.tx_dma.axi_awready.next = self.arbiter.s1_awready.val();
                self.arbiter.s1_wvalid.next = self.tx_dma.axi_wvalid.val();
                self.arbiter.s1_wdata.next = self.tx_dma.axi_wdata.val();
                self.arbiter.s1_wstrb.next = self.tx_dma.axi_wstrb.val();
                self.arbiter.s1_wlast.next = self.tx_dma.axi_wlast.val();
                self.tx_dma.axi_wready.next = self.arbiter.s1_wready.val();
                self.tx_dma.axi_bvalid.next = self.arbiter.s1_bvalid.val();
                self.tx_dma.axi_bresp.next = self.arbiter.s1_bresp.val();
                self.arbiter.s1_bready.next = self.tx_dma.axi_bready.val();
                self.arbiter.s1_arvalid.next = self.tx_dma.axi_arvalid.val();
                self.arbiter.s1_araddr.next = self.tx_dma.axi_araddr.val();
                self.arbiter.s1_arlen.next = self.tx_dma.axi_arlen.val();
                self.arbiter.s1_arsize.next = self.tx_dma.axi_arsize.val();
                self.arbiter.s1_arburst.next = self.tx_dma.axi_arburst.val();
                self.tx_dma.axi_arready.next = self.arbiter.s1_arready.val();
                self.tx_dma.axi_rvalid.next = self.arbiter.s1_rvalid.val();
                self.tx_dma.axi_rdata.next = self.arbiter.s1_rdata.val();
                self.tx_dma.axi_rresp.next = self.arbiter.s1_rresp.val();
                self.tx_dma.axi_rlast.next = self.arbiter.s1_rlast.val();
                self.arbiter.s1_rready.next = self.tx_dma.axi_rready.val();
                self.m_axi_awid.next = self.arbiter.m_axi_awid.val();
                self.m_axi_awaddr.next = self.arbiter.m_axi_awaddr.val();
                self.m_axi_awlen.next = self.arbiter.m_axi_awlen.val();
                self.m_axi_awsize.next = self.arbiter.m_axi_awsize.val();
                self.m_axi_awburst.next = self.arbiter.m_axi_awburst.val();
                self.m_axi_awvalid.next = self.arbiter.m_axi_awvalid.val();
                self.arbiter.m_axi_awready.next = self.m_axi_awready.val();
                self.m_axi_wdata.next = self.arbiter.m_axi_wdata.val();
                self.m_axi_wstrb.next = self.arbiter.m_axi_wstrb.val();
                self.m_axi_wlast.next = self.arbiter.m_axi_wlast.val();
                self.m_axi_wvalid.next = self.arbiter.m_axi_wvalid.val();
                self.arbiter.m_axi_wready.next = self.m_axi_wready.val();
                self.arbiter.m_axi_bid.next = self.m_axi_bid.val();
                self.arbiter.m_axi_bresp.next = self.m_axi_bresp.val();
                self.arbiter.m_axi_bvalid.next = self.m_axi_bvalid.val();
                self.m_axi_bready.next = self.arbiter.m_axi_bready.val();
                self.m_axi_arid.next = self.arbiter.m_axi_arid.val();
                self.m_axi_araddr.next = self.arbiter.m_axi_araddr.val();
                self.m_axi_arlen.next = self.arbiter.m_axi_arlen.val();
                self.m_axi_arsize.next = self.arbiter.m_axi_arsize.val();
                self.m_axi_arburst.next = self.arbiter.m_axi_arburst.val();
                self.m_axi_arvalid.next = self.arbiter.m_axi_arvalid.val();
                self.arbiter.m_axi_arready.next = self.m_axi_arready.val();
                self.arbiter.m_axi_rid.next = self.m_axi_rid.val();
                self.arbiter.m_axi_rdata.next = self.m_axi_rdata.val();
                self.arbiter.m_axi_rresp.next = self.m_axi_rresp.val();
                self.arbiter.m_axi_rlast.next = self.m_axi_rlast.val();
                self.arbiter.m_axi_rvalid.next = self.m_axi_rvalid.val();
                self.m_axi_rready.next = self.arbiter.m_axi_rready.val();

                // Registers.
                self.csr.axil_awaddr.next = self.s_axil_awaddr.val();
                self.csr.axil_awvalid.next = self.s_axil_awvalid.val();
                self.s_axil_awready.next = self.csr.axil_awready.val();
                self.csr.axil_wdata.next = self.s_axil_wdata.val();
                self.csr.axil_wstrb.next = self.s_axil_wstrb.val();
                self.csr.axil_wvalid.next = self.s_axil_wvalid.val();
                self.s_axil_wready.next = self.csr.axil_wready.val();
                self.s_axil_bresp.next = self.csr.axil_bresp.val();
                self.s_axil_bvalid.next = self.csr.axil_bvalid.val();
                self.csr.axil_bready.next = self.s_axil_bready.val();
                self.csr.axil_araddr.next = self.s_axil_araddr.val();
                self.csr.axil_arvalid.next = self.s_axil_arvalid.val();
                self.s_axil_arready.next = self.csr.axil_arready.val();
                self.s_axil_rdata.next = self.csr.axil_rdata.val();
                self.s_axil_rresp.next = self.csr.axil_rresp.val();
                self.s_axil_rvalid.next = self.csr.axil_rvalid.val();
                self.csr.axil_rready.next = self.s_axil_rready.val();
                self.csr.link_up.next = self.$($link).+.val();
                self.csr.cdr_lock.next = self.$($lock).+.val();
                self.csr.rx_stopped.next = self.rx_dma.stopped.val();
                self.csr.tx_stopped.next = self.tx_dma.stopped.val();

                // Interrupts.
                self.link_seen.d.next = self.$($link).+.val();
                self.irq.rx_event.next = self.rx_dma.rx_event.val();
                self.irq.tx_event.next = self.tx_dma.tx_event.val();
                self.irq.rx_no_buffer.next = self.rx_dma.no_buffer.val();
                self.irq.dma_error.next = self.rx_dma.dma_error.val() | self.tx_dma.dma_error.val();
                self.irq.link_change.next = self.link_seen.q.val() != self.$($link).+.val();
                self.irq.irq_mask.next = self.csr.irq_mask.val();
                self.irq.irq_mod_frames.next = self.csr.irq_mod_frames.val();
                self.irq.irq_mod_time_us.next = self.csr.irq_mod_time_us.val();
                self.csr.irq_set.next = self.irq.irq_set.val();
                self.usr_irq_req.next = self.irq.usr_irq_req.val();
                self.irq.usr_irq_ack.next = self.usr_irq_ack.val();

                // Counters.
                self.rx_byte_taken.next = self.rx_path.out_valid.val() & self.rx_dma.in_ready.val();
                self.tx_byte_taken.next = self.tx_slice.out_valid.val() & self.mac_tx.in_ready.val();
                // `writing`: the bytes the RX DMA takes go to a buffer (not dropped).
                // Bit i of `events` counts for `nic_regs::Counter` i (the order is pinned by a
                // const assertion above); DMA errors come from both engines.
                self.stat_events.next = 0.into();
                self.stat_events.next = self.stat_events.val().replace_bit(0, self.rx_dma.rx_event.val());
                self.stat_events.next = self.stat_events.val().replace_bit(1, self.rx_byte_taken.val() & self.rx_dma.writing.val());
                self.stat_events.next = self.stat_events.val().replace_bit(2, self.rx_path.events.val().get_bit(1));
                self.stat_events.next = self.stat_events.val().replace_bit(3, self.rx_path.events.val().get_bit(2));
                self.stat_events.next = self.stat_events.val().replace_bit(4, self.rx_path.events.val().get_bit(3));
                self.stat_events.next = self.stat_events.val().replace_bit(5, self.rx_path.events.val().get_bit(4));
                self.stat_events.next = self.stat_events.val().replace_bit(6, self.rx_path.events.val().get_bit(6));
                self.stat_events.next = self.stat_events.val().replace_bit(7, self.rx_path.events.val().get_bit(7));
                self.stat_events.next = self.stat_events.val().replace_bit(8, self.rx_dma.no_buffer.val());
                self.stat_events.next = self.stat_events.val().replace_bit(9, self.rx_dma.dma_error.val());
                self.stat_events.next = self.stat_events.val().replace_bit(10, self.tx_byte_taken.val() & self.tx_slice.out_data.val().get_bit(8));
                self.stat_events.next = self.stat_events.val().replace_bit(11, self.tx_byte_taken.val());
                self.stat_events2.next = 0.into();
                self.stat_events2.next = self.stat_events2.val().replace_bit(9, self.tx_dma.error_event.val());
                self.stats.read_index.next = self.csr.cnt_index.val();
                self.stats.events.next = self.stat_events.val();
                self.stats.events2.next = self.stat_events2.val();
                self.csr.cnt_value.next = self.stats.read_value.val();
            }
        }

        $crate::hdl_engine!(
            #[doc = concat!("[`", stringify!($name), "`] on the Rust-HDL engine.")]
            pub $engine for $name {
                inputs {
                    clock, reset, $($rxclk,)? $($txclk,)? $($rpin,)* $($sin,)*
                    s_axil_awaddr, s_axil_awvalid, s_axil_wdata, s_axil_wstrb, s_axil_wvalid, s_axil_bready,
                    s_axil_araddr, s_axil_arvalid, s_axil_rready,
                    m_axi_awready, m_axi_wready, m_axi_bid, m_axi_bresp, m_axi_bvalid, m_axi_arready, m_axi_rid,
                    m_axi_rdata, m_axi_rresp, m_axi_rlast, m_axi_rvalid, usr_irq_ack,
                }
                outputs {
                    $($tpin,)*
                    s_axil_awready, s_axil_wready, s_axil_bresp, s_axil_bvalid, s_axil_arready, s_axil_rdata,
                    s_axil_rresp, s_axil_rvalid,
                    m_axi_awid, m_axi_awaddr, m_axi_awlen, m_axi_awsize, m_axi_awburst, m_axi_awvalid, m_axi_wdata,
                    m_axi_wstrb, m_axi_wlast, m_axi_wvalid, m_axi_bready, m_axi_arid, m_axi_araddr, m_axi_arlen,
                    m_axi_arsize, m_axi_arburst, m_axi_arvalid, m_axi_rready, usr_irq_req,
                }
            }
        );
    };
}

nic_top!(
    /// The NIC with the integrated 10BASE-T-style PHY: line samples in and out, 8 per clock
    /// and 16 per bit (a 20 MHz core clock for 10 Mb/s).
    NicManchesterTop, engine: NicManchesterEngine,
    clocks_per_us: 20,
    rx_phy: ManchesterRx<MANCHESTER_W> = ManchesterRx::new(&RxConfig::default()),
    tx_phy: ManchesterTx<MANCHESTER_W> = ManchesterTx::default(),
    rx_pins { rx_samples: Bits<MANCHESTER_W> = samples },
    tx_pins { tx_samples: Bits<MANCHESTER_W> = samples, line_idle: Bit = idle },
    status_in { },
    rx_clock:, tx_clock:,
    link_up: rx_phy.link_up, cdr_lock: rx_phy.locked
);

nic_top!(
    /// The NIC behind a GMII PHY chip (1 Gb/s): `rx_clk` is the PHY's 125 MHz receive clock;
    /// transmit runs on `clock` (the GTX clock). `phy_link_up` comes from the PHY's link
    /// status (its LED pin, or an MDIO poller).
    NicGmiiTop, engine: NicGmiiEngine,
    clocks_per_us: 125,
    rx_phy: GmiiRx = GmiiRx::default(), tx_phy: GmiiTx = GmiiTx::default(),
    rx_pins { rxd: Bits<8> = rxd, rx_dv: Bit = rx_dv, rx_er: Bit = rx_er },
    tx_pins { txd: Bits<8> = txd, tx_en: Bit = tx_en, tx_er: Bit = tx_er },
    status_in { phy_link_up },
    rx_clock: rx_clk, tx_clock:,
    link_up: phy_link_up, cdr_lock: phy_link_up
);

nic_top!(
    /// The NIC behind an MII PHY chip (100 Mb/s): `rx_clk` and `tx_clk` are the PHY's 25 MHz
    /// clocks; the core runs at 125 MHz. `phy_link_up` as for GMII.
    NicMiiTop, engine: NicMiiEngine,
    clocks_per_us: 125,
    rx_phy: MiiRx = MiiRx::default(), tx_phy: MiiTx = MiiTx::default(),
    rx_pins { rxd: Bits<4> = rxd, rx_dv: Bit = rx_dv, rx_er: Bit = rx_er },
    tx_pins { txd: Bits<4> = txd, tx_en: Bit = tx_en, tx_er: Bit = tx_er },
    status_in { phy_link_up },
    rx_clock: rx_clk, tx_clock: tx_clk,
    link_up: phy_link_up, cdr_lock: phy_link_up
);
