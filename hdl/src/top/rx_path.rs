//! The receive path as exported: a PHY, then the MAC (checks and filter) and the
//! store-and-forward frame FIFO. One top per PHY; [`RxMacPath`] is the part they share.
use crate::fifo::rx_frame::RxFrameFifo;
use crate::mac::rx::MacRx;
use crate::phy::gmii::GmiiRx;
use crate::phy::manchester_rx::{ManchesterRx, RxConfig};
use crate::phy::mii::MiiRx;
use rust_hdl::prelude::*;

/// log2 of the RX frame FIFO size: 4 KiB holds two maximum-size frames, so one can be read
/// out while the next arrives.
pub const RX_FIFO_ADDR_BITS: usize = 12;

/// Samples per core clock of the Manchester tops (an 8:1 ISERDES).
pub const MANCHESTER_W: usize = 8;

/// MAC receive + RX frame FIFO, fed by any PHY's byte stream.
#[derive(LogicBlock, Default)]
pub struct RxMacPath {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub phy_valid: Signal<In, Bit>,
    pub phy_data: Signal<In, Bits<8>>,
    pub phy_error: Signal<In, Bit>,
    pub phy_end: Signal<In, Bit>,
    pub max_len: Signal<In, Bits<16>>,
    pub station_mac: Signal<In, Bits<48>>,
    pub mcast_hash: Signal<In, Bits<64>>,
    pub all_multicast: Signal<In, Bit>,
    pub promisc: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_last: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_len: Signal<Out, Bits<16>>,
    pub out_verdict: Signal<Out, Bits<2>>,
    pub frames_ok: Signal<Out, Bits<32>>,
    pub fcs_errors: Signal<Out, Bits<32>>,
    pub runts: Signal<Out, Bits<32>>,
    pub giants: Signal<Out, Bits<32>>,
    pub phy_errors: Signal<Out, Bits<32>>,
    pub bad_preamble: Signal<Out, Bits<32>>,
    pub filtered: Signal<Out, Bits<32>>,
    pub fifo_overflows: Signal<Out, Bits<32>>,
    /// The counters' events as they count: bits 0-6 the MAC's (`MacRx::events`), bit 7 a
    /// FIFO overflow drop.
    pub events: Signal<Out, Bits<8>>,
    mac: MacRx,
    fifo: RxFrameFifo<RX_FIFO_ADDR_BITS>,
}

impl Logic for RxMacPath {
    #[hdl_gen]
    fn update(&mut self) {
        self.mac.clock.next = self.clock.val();
        self.fifo.clock.next = self.clock.val();
        self.mac.reset.next = self.reset.val();
        self.fifo.reset.next = self.reset.val();
        self.mac.phy_valid.next = self.phy_valid.val();
        self.mac.phy_data.next = self.phy_data.val();
        self.mac.phy_error.next = self.phy_error.val();
        self.mac.phy_end.next = self.phy_end.val();
        self.mac.max_len.next = self.max_len.val();
        self.mac.station_mac.next = self.station_mac.val();
        self.mac.mcast_hash.next = self.mcast_hash.val();
        self.mac.all_multicast.next = self.all_multicast.val();
        self.mac.promisc.next = self.promisc.val();
        self.fifo.in_valid.next = self.mac.frame_valid.val();
        self.fifo.in_data.next = self.mac.frame_data.val();
        self.fifo.in_commit.next = self.mac.frame_commit.val();
        self.fifo.in_abort.next = self.mac.frame_abort.val();
        self.fifo.in_verdict.next = self.mac.frame_verdict.val();
        self.out_valid.next = self.fifo.out_valid.val();
        self.out_data.next = self.fifo.out_data.val();
        self.out_last.next = self.fifo.out_last.val();
        self.fifo.out_ready.next = self.out_ready.val();
        self.out_len.next = self.fifo.out_len.val();
        self.out_verdict.next = self.fifo.out_verdict.val();
        self.frames_ok.next = self.fifo.frames_committed.val();
        self.fcs_errors.next = self.mac.fcs_errors.val();
        self.runts.next = self.mac.runts.val();
        self.giants.next = self.mac.giants.val();
        self.phy_errors.next = self.mac.phy_errors.val();
        self.bad_preamble.next = self.mac.bad_preamble.val();
        self.filtered.next = self.mac.filtered.val();
        self.fifo_overflows.next = self.fifo.overflow_drops.val();
        self.events.next = bit_cast::<8, 7>(self.mac.events.val());
        self.events.next = self.events.val().replace_bit(7, self.fifo.overflow_event.val());
    }
}

/// Declares an RX top: the shared ports of [`RxMacPath`] plus the PHY's own, and the wiring
/// between them. Written once here so the three tops cannot drift apart.
macro_rules! rx_top {
    (
        $(#[$doc:meta])* $name:ident, phy: $phy_ty:ty = $phy_new:expr,
        pins { $($pin:ident : $pin_ty:ty),* $(,)? },
        status { $($st:ident : $st_ty:ty = $st_src:ident),* $(,)? },
        extra_clock: $($xclk:ident)?
    ) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name {
            pub clock: Signal<In, Clock>,
            pub reset: Signal<In, Bit>,
            $(pub $xclk: Signal<In, Clock>,)?
            $(pub $pin: Signal<In, $pin_ty>,)*
            /// Longest accepted frame in bytes, FCS included.
            pub max_len: Signal<In, Bits<16>>,
            /// Station address; the first byte on the wire is bits 7:0.
            pub station_mac: Signal<In, Bits<48>>,
            /// Multicast hash filter: bin = crc32(destination) >> 26.
            pub mcast_hash: Signal<In, Bits<64>>,
            pub all_multicast: Signal<In, Bit>,
            pub promisc: Signal<In, Bit>,
            /// Host-side stream: one byte per clock while `out_valid && out_ready`.
            pub out_valid: Signal<Out, Bit>,
            pub out_data: Signal<Out, Bits<8>>,
            pub out_last: Signal<Out, Bit>,
            pub out_ready: Signal<In, Bit>,
            /// Length (FCS stripped) and filter verdict of the frame being read.
            pub out_len: Signal<Out, Bits<16>>,
            pub out_verdict: Signal<Out, Bits<2>>,
            pub frames_ok: Signal<Out, Bits<32>>,
            pub fcs_errors: Signal<Out, Bits<32>>,
            pub runts: Signal<Out, Bits<32>>,
            pub giants: Signal<Out, Bits<32>>,
            pub phy_errors: Signal<Out, Bits<32>>,
            pub bad_preamble: Signal<Out, Bits<32>>,
            pub filtered: Signal<Out, Bits<32>>,
            pub fifo_overflows: Signal<Out, Bits<32>>,
            $(pub $st: Signal<Out, $st_ty>,)*
            pub phy: $phy_ty,
            path: RxMacPath,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
                    $($xclk: Default::default(),)?
                    $($pin: Default::default(),)*
                    max_len: Default::default(),
                    station_mac: Default::default(),
                    mcast_hash: Default::default(),
                    all_multicast: Default::default(),
                    promisc: Default::default(),
                    out_valid: Default::default(),
                    out_data: Default::default(),
                    out_last: Default::default(),
                    out_ready: Default::default(),
                    out_len: Default::default(),
                    out_verdict: Default::default(),
                    frames_ok: Default::default(),
                    fcs_errors: Default::default(),
                    runts: Default::default(),
                    giants: Default::default(),
                    phy_errors: Default::default(),
                    bad_preamble: Default::default(),
                    filtered: Default::default(),
                    fifo_overflows: Default::default(),
                    $($st: Default::default(),)*
                    phy: $phy_new,
                    path: Default::default(),
                }
            }
        }

        impl Logic for $name {
            #[hdl_gen]
            fn update(&mut self) {
                self.phy.clock.next = self.clock.val();
                self.phy.reset.next = self.reset.val();
                $(self.phy.$xclk.next = self.$xclk.val();)?
                $(self.phy.$pin.next = self.$pin.val();)*
                $(self.$st.next = self.phy.$st_src.val();)*
                self.path.clock.next = self.clock.val();
                self.path.reset.next = self.reset.val();
                self.path.phy_valid.next = self.phy.valid.val();
                self.path.phy_data.next = self.phy.data.val();
                self.path.phy_error.next = self.phy.error.val();
                self.path.phy_end.next = self.phy.frame_end.val();
                self.path.max_len.next = self.max_len.val();
                self.path.station_mac.next = self.station_mac.val();
                self.path.mcast_hash.next = self.mcast_hash.val();
                self.path.all_multicast.next = self.all_multicast.val();
                self.path.promisc.next = self.promisc.val();
                self.out_valid.next = self.path.out_valid.val();
                self.out_data.next = self.path.out_data.val();
                self.out_last.next = self.path.out_last.val();
                self.path.out_ready.next = self.out_ready.val();
                self.out_len.next = self.path.out_len.val();
                self.out_verdict.next = self.path.out_verdict.val();
                self.frames_ok.next = self.path.frames_ok.val();
                self.fcs_errors.next = self.path.fcs_errors.val();
                self.runts.next = self.path.runts.val();
                self.giants.next = self.path.giants.val();
                self.phy_errors.next = self.path.phy_errors.val();
                self.bad_preamble.next = self.path.bad_preamble.val();
                self.filtered.next = self.path.filtered.val();
                self.fifo_overflows.next = self.path.fifo_overflows.val();
            }
        }
    };
}

rx_top!(
    /// Receive path with the integrated 10BASE-T-style PHY: line samples in (8 per clock,
    /// 16 per bit: a 20 MHz core clock for 10 Mb/s).
    RxManchesterTop, phy: ManchesterRx<MANCHESTER_W> = ManchesterRx::new(&RxConfig::default()),
    pins { samples: Bits<MANCHESTER_W> },
    status { link_up: Bit = link_up, locked: Bit = locked, code_violations: Bits<32> = code_violations },
    extra_clock:
);

rx_top!(
    /// Receive path behind a GMII PHY chip: pins in the PHY's 125 MHz `phy_clock` domain.
    RxGmiiTop, phy: GmiiRx = GmiiRx::default(),
    pins { rxd: Bits<8>, rx_dv: Bit, rx_er: Bit },
    status { cdc_overflows: Bits<32> = overflows },
    extra_clock: phy_clock
);

rx_top!(
    /// Receive path behind an MII PHY chip: nibbles in the PHY's 25 MHz `phy_clock` domain.
    RxMiiTop, phy: MiiRx = MiiRx::default(),
    pins { rxd: Bits<4>, rx_dv: Bit, rx_er: Bit },
    status { cdc_overflows: Bits<32> = overflows },
    extra_clock: phy_clock
);
