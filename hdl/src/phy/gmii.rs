//! GMII adapters for an external 1000BASE-T PHY chip (IEEE 802.3 clause 35).
//!
//! * [`GmiiRx`]: the PHY drives `rxd`, `rx_dv`, `rx_er` with its own 125 MHz RX_CLK
//!   (`phy_clock`). The pins are registered in that domain and every byte with `rx_dv` is
//!   carried into the core `clock` domain by [`RxCross`], which presents the PHY byte
//!   stream of `lib.rs`: everything the PHY received while `rx_dv` was high (preamble as
//!   the PHY delivered it, SFD, frame, FCS), `error` on the bytes that came with `rx_er`,
//!   and one `end` when `rx_dv` fell. `rx_er` with `rx_dv` low is carrier extension or a
//!   false carrier (IEEE 802.3 table 35-2): no frame is in progress, so it is ignored.
//! * [`GmiiTx`]: in GMII the MAC sources the transmit clock (GTX_CLK), so the core clock
//!   *is* the transmit clock and no crossing is needed: `ready` is high every clock, and
//!   `txd`, `tx_en`, `tx_er` are registered so they leave the FPGA from flip-flops (put them
//!   in IOB registers and forward the clock with an ODDR, outside this block).
use crate::phy::rx_cross::RxCross;
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct GmiiRx {
    // PHY pins, RX_CLK domain.
    pub phy_clock: Signal<In, Clock>,
    pub rxd: Signal<In, Bits<8>>,
    pub rx_dv: Signal<In, Bit>,
    pub rx_er: Signal<In, Bit>,
    // PHY byte stream, core clock domain.
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub error: Signal<Out, Bit>,
    /// The `end` of the PHY byte stream in lib.rs, renamed: `end` is a Verilog keyword
    /// and Rust-HDL does not escape it, so a port called `end` breaks the export.
    pub frame_end: Signal<Out, Bit>,
    /// Frames cut short or lost because the core clock did not keep up (see `RxCross`).
    pub overflows: Signal<Out, Bits<32>>,
    rxd_r: DFF<Bits<8>>,
    dv_r: DFF<Bit>,
    er_r: DFF<Bit>,
    dv_prev: DFF<Bit>,
    crossing: RxCross,
}

impl Logic for GmiiRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, phy_clock, rxd_r, dv_r, er_r, dv_prev);
        self.crossing.phy_clock.next = self.phy_clock.val();
        self.crossing.clock.next = self.clock.val();
        self.crossing.reset.next = self.reset.val();
        self.rxd_r.d.next = self.rxd.val();
        self.dv_r.d.next = self.rx_dv.val();
        self.er_r.d.next = self.rx_er.val();
        self.dv_prev.d.next = self.dv_r.q.val();
        self.crossing.push.next = self.dv_r.q.val();
        self.crossing.push_data.next = self.rxd_r.q.val();
        self.crossing.push_error.next = self.er_r.q.val() & self.dv_r.q.val();
        self.crossing.push_end.next = !self.dv_r.q.val() & self.dv_prev.q.val();
        self.valid.next = self.crossing.valid.val();
        self.data.next = self.crossing.data.val();
        self.error.next = self.crossing.error.val();
        self.frame_end.next = self.crossing.frame_end.val();
        self.overflows.next = self.crossing.overflows.val();
    }
}

crate::model::pins::impl_pin_receiver!(GmiiRx);

#[derive(LogicBlock, Default)]
pub struct GmiiTx {
    /// The core clock, also sent to the PHY as GTX_CLK.
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // PHY TX byte stream from `mac::tx`.
    pub ready: Signal<Out, Bit>,
    pub data: Signal<In, Bits<8>>,
    pub en: Signal<In, Bit>,
    pub er: Signal<In, Bit>,
    // Pins.
    pub txd: Signal<Out, Bits<8>>,
    pub tx_en: Signal<Out, Bit>,
    pub tx_er: Signal<Out, Bit>,
    txd_r: DFF<Bits<8>>,
    en_r: DFF<Bit>,
    er_r: DFF<Bit>,
}

impl Logic for GmiiTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, txd_r, en_r, er_r);
        // One byte per GTX_CLK: the MAC's pace is the line's.
        self.ready.next = !self.reset.val();
        self.txd_r.d.next = self.data.val();
        self.en_r.d.next = self.en.val();
        self.er_r.d.next = self.er.val();
        if self.reset.val() {
            self.txd_r.d.next = 0.into();
            self.en_r.d.next = false;
            self.er_r.d.next = false;
        }
        self.txd.next = self.txd_r.q.val();
        self.tx_en.next = self.en_r.q.val();
        self.tx_er.next = self.er_r.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::tx::tests::{drive_host, new_mac, Host, HostFrame};
    use crate::mac::tx::MacTx;
    use crate::model::pins::{drive_rx_pins, gmii_rx_expected, gmii_rx_pins, gmii_tx_bytes, PinSample, RxFrameSpec};
    use crate::model::tx_reference::{check_transmission, DEFAULT_IFG, DEFAULT_MAX_LEN};
    use crate::phy::rx_cross::tests::receive_and_replay;
    use crate::phy::rx_cross::tests::{
        assert_overflow_cuts_frames, assert_receives_at_0_and_200_ppm, pins_and_expected, run_rx, rx_test_frames,
    };
    use crate::sim::{cycle, ppm_period_ps, settle, Domain, TwoClocks};
    use crate::verilog::assert_lints_and_checks;

    fn test_frames(seed: u64) -> Vec<(Vec<u8>, RxFrameSpec)> {
        rx_test_frames(seed, RxFrameSpec::gmii(), &[0, 3])
    }

    #[test]
    fn rx_delivers_what_was_sent_at_0_and_200_ppm() {
        let (pins, expected) = pins_and_expected(&test_frames(1), gmii_rx_pins, gmii_rx_expected);
        assert_receives_at_0_and_200_ppm::<GmiiRx>(&pins, &expected.concat(), 8000.0, 8000.0);
    }

    #[test]
    fn rx_er_without_rx_dv_is_ignored() {
        let (mut pins, expected) = pins_and_expected(&test_frames(7)[..3], gmii_rx_pins, gmii_rx_expected);
        // Carrier extension / false carrier between frames: rx_er with rx_dv low.
        let mut marked = 0;
        for p in pins.iter_mut().filter(|p| !p.dv) {
            p.er = true;
            p.data = 0x0E;
            marked += 1;
        }
        assert!(marked > 20);
        let (got, _) = run_rx::<GmiiRx>(&pins, TwoClocks::new(8000.0, 8000.0));
        assert_eq!(got, expected.concat());
    }

    /// Core clocks from the PHY clock edge that samples the first `rx_dv` to the first
    /// `valid`, over offsets and phases. Prints the range (run with `--nocapture`).
    #[test]
    fn rx_latency_is_a_few_clocks() {
        let frame = [0x42u8; 20];
        let lead = 10usize;
        let mut pins = vec![PinSample::IDLE; lead];
        pins.extend(gmii_rx_pins(&frame, &RxFrameSpec::gmii()));
        let mut range = (usize::MAX, 0usize);
        for ppm in [0.0, 200.0, -200.0] {
            for quarter in 0..4 {
                let mut uut = GmiiRx::default();
                uut.connect_all();
                let clocks =
                    TwoClocks::new(8000.0, ppm_period_ps(8000.0, ppm)).delayed(Domain::B, 2000.0 * quarter as f64);
                // Both callbacks read the core clock count.
                let core = std::cell::Cell::new(0usize);
                let (mut phy_edge_core, mut first) = (None, None);
                drive_rx_pins(
                    &mut uut,
                    clocks,
                    |u| &mut u.clock,
                    |u| &mut u.phy_clock,
                    &pins,
                    50,
                    |u, p| {
                        // The edge after this call samples the first rx_dv.
                        if p.dv && phy_edge_core.is_none() {
                            phy_edge_core = Some(core.get());
                        }
                        u.rxd.next = p.data.to_bits();
                        u.rx_dv.next = p.dv;
                        u.rx_er.next = p.er;
                    },
                    |u| {
                        core.set(core.get() + 1);
                        if u.valid.val() && first.is_none() {
                            first = Some(core.get());
                        }
                    },
                );
                let latency = first.unwrap() - phy_edge_core.unwrap();
                range = (range.0.min(latency), range.1.max(latency));
            }
        }
        println!("GmiiRx latency, rx_dv sampled to first valid: {}..={} core clocks", range.0, range.1);
        assert!(range.1 <= 16, "{range:?}");
    }

    #[test]
    fn rx_overflow_is_counted_and_cuts_the_frame_with_error() {
        let mut frames = test_frames(2);
        // Long gaps at the end let the FIFO drain: the last frames must come out intact.
        frames.last_mut().unwrap().1.gap = 400;
        for k in 0..2 {
            let f = (0..80).map(|i| (i * 7 + k) as u8).collect();
            frames.push((f, RxFrameSpec { gap: 400, ..RxFrameSpec::gmii() }));
        }
        let (pins, expected) = pins_and_expected(&frames, gmii_rx_pins, gmii_rx_expected);
        // A core clock at 45% of the PHY's cannot keep up: long frames overflow the FIFO.
        assert_overflow_cuts_frames::<GmiiRx>(&pins, &expected, TwoClocks::new(8000.0 / 0.45, 8000.0));
    }

    /// MacTx feeding GmiiTx, as in the card.
    #[derive(LogicBlock, Default)]
    struct MacGmii {
        clock: Signal<In, Clock>,
        mac: MacTx,
        gmii: GmiiTx,
    }

    impl Logic for MacGmii {
        fn update(&mut self) {
            self.mac.clock.next = self.clock.val();
            self.gmii.clock.next = self.clock.val();
            self.mac.phy_ready.next = self.gmii.ready.val();
            self.gmii.data.next = self.mac.phy_data.val();
            self.gmii.en.next = self.mac.phy_en.val();
            self.gmii.er.next = self.mac.phy_er.val();
        }
    }

    #[test]
    fn tx_pins_carry_reference_wire_bytes_and_exact_gap() {
        let frames: Vec<Vec<u8>> =
            [1usize, 60, 61, 1514, 200].iter().map(|&n| (0..n).map(|i| (i * 3 + n) as u8).collect()).collect();
        for ifg in [DEFAULT_IFG, 7] {
            let mut uut = MacGmii { mac: new_mac(ifg, DEFAULT_MAX_LEN), ..Default::default() };
            uut.connect_all();
            let mut host = Host::new(frames.iter().cloned().map(HostFrame::new).collect());
            let mut pins = vec![];
            for _ in 0..(frames.iter().map(|f| f.len() + 100).sum::<usize>()) {
                drive_host(&mut host, &mut uut.mac);
                settle(&mut uut);
                host.advance(uut.mac.in_valid.val() && uut.mac.in_ready.val());
                cycle(&mut uut, |u| &mut u.clock);
                pins.push(PinSample {
                    data: uut.gmii.txd.val().to_u8(),
                    dv: uut.gmii.tx_en.val(),
                    er: uut.gmii.tx_er.val(),
                });
            }
            assert!(host.done());
            check_transmission(&gmii_tx_bytes(&pins), &frames, ifg as usize).unwrap();
        }
    }

    /// The exported Verilog, in Icarus Verilog with the same two clocks at +-200 ppm,
    /// gives the same outputs on every step as the simulation, which delivers the expected
    /// PHY byte stream.
    #[test]
    fn generated_verilog_receives_like_the_simulation() {
        let (pins, expected) = pins_and_expected(&test_frames(5), gmii_rx_pins, gmii_rx_expected);
        for ppm in [200.0, -200.0] {
            let clocks = TwoClocks::new(8000.0, ppm_period_ps(8000.0, ppm));
            let got = receive_and_replay::<GmiiRx>("nic_gmii_rx", &pins, clocks);
            assert_eq!(got, expected.concat(), "ppm {ppm}");
        }
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        assert_lints_and_checks("nic_gmii_rx", &mut GmiiRx::default());
        assert_lints_and_checks("nic_gmii_tx", &mut GmiiTx::default());
        assert_lints_and_checks("nic_rx_cross", &mut crate::phy::rx_cross::RxCross::default());
    }
}
