//! The transmit path as exported: the MAC (preamble, SFD, padding, FCS, gap) and a PHY.
use crate::mac::tx::MacTx;
use crate::phy::gmii::GmiiTx;
use crate::phy::manchester_tx::ManchesterTx;
use crate::phy::mii::MiiTx;
use crate::top::rx_path::MANCHESTER_W;
use rust_hdl::prelude::*;

/// Declares a TX top: the host-side stream and MAC ports, the PHY's own pins, and the
/// wiring of the MAC to the PHY through the PHY TX byte stream (lib.rs).
macro_rules! tx_top {
    (
        $(#[$doc:meta])* $name:ident, phy: $phy_ty:ty = $phy_new:expr,
        pins { $($pin:ident : $pin_ty:ty = $pin_src:ident),* $(,)? },
        extra_clock: $($xclk:ident)?
    ) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name {
            pub clock: Signal<In, Clock>,
            pub reset: Signal<In, Bit>,
            $(pub $xclk: Signal<In, Clock>,)?
            /// Host-side stream: the frame without FCS, `in_last` on its last byte.
            pub in_valid: Signal<In, Bit>,
            pub in_data: Signal<In, Bits<8>>,
            pub in_last: Signal<In, Bit>,
            pub in_ready: Signal<Out, Bit>,
            /// Inter-frame gap in byte times (12 = 96 bit times).
            pub ifg_bytes: Signal<In, Bits<8>>,
            /// Longest frame in bytes, FCS included; longer ones are aborted on the line.
            pub max_len: Signal<In, Bits<16>>,
            pub frames_sent: Signal<Out, Bits<32>>,
            pub bytes_sent: Signal<Out, Bits<32>>,
            pub underflows: Signal<Out, Bits<32>>,
            pub oversize: Signal<Out, Bits<32>>,
            $(pub $pin: Signal<Out, $pin_ty>,)*
            pub phy: $phy_ty,
            mac: MacTx,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
                    $($xclk: Default::default(),)?
                    in_valid: Default::default(),
                    in_data: Default::default(),
                    in_last: Default::default(),
                    in_ready: Default::default(),
                    ifg_bytes: Default::default(),
                    max_len: Default::default(),
                    frames_sent: Default::default(),
                    bytes_sent: Default::default(),
                    underflows: Default::default(),
                    oversize: Default::default(),
                    $($pin: Default::default(),)*
                    phy: $phy_new,
                    mac: Default::default(),
                }
            }
        }

        impl Logic for $name {
            #[hdl_gen]
            fn update(&mut self) {
                self.mac.clock.next = self.clock.val();
                self.mac.reset.next = self.reset.val();
                self.phy.clock.next = self.clock.val();
                self.phy.reset.next = self.reset.val();
                $(self.phy.$xclk.next = self.$xclk.val();)?
                self.mac.in_valid.next = self.in_valid.val();
                self.mac.in_data.next = self.in_data.val();
                self.mac.in_last.next = self.in_last.val();
                self.in_ready.next = self.mac.in_ready.val();
                self.mac.ifg_bytes.next = self.ifg_bytes.val();
                self.mac.max_len.next = self.max_len.val();
                self.mac.phy_ready.next = self.phy.ready.val();
                self.phy.data.next = self.mac.phy_data.val();
                self.phy.en.next = self.mac.phy_en.val();
                self.phy.er.next = self.mac.phy_er.val();
                self.frames_sent.next = self.mac.frames_sent.val();
                self.bytes_sent.next = self.mac.bytes_sent.val();
                self.underflows.next = self.mac.underflows.val();
                self.oversize.next = self.mac.oversize.val();
                $(self.$pin.next = self.phy.$pin_src.val();)*
            }
        }
    };
}

tx_top!(
    /// Transmit path with the integrated 10BASE-T-style PHY: 8 line samples per clock,
    /// TP_IDL after each frame and normal link pulses while idle.
    TxManchesterTop, phy: ManchesterTx<MANCHESTER_W> = ManchesterTx::default(),
    pins { samples: Bits<MANCHESTER_W> = samples, line_idle: Bit = idle },
    extra_clock:
);

tx_top!(
    /// Transmit path to a GMII PHY chip; the core clock is the GTX clock.
    TxGmiiTop, phy: GmiiTx = GmiiTx::default(),
    pins { txd: Bits<8> = txd, tx_en: Bit = tx_en, tx_er: Bit = tx_er },
    extra_clock:
);

tx_top!(
    /// Transmit path to an MII PHY chip; the PHY's 25 MHz TX_CLK is `phy_clock`.
    TxMiiTop, phy: MiiTx = MiiTx::default(),
    pins { txd: Bits<4> = txd, tx_en: Bit = tx_en, tx_er: Bit = tx_er, cdc_underruns: Bits<32> = underruns },
    extra_clock: phy_clock
);
