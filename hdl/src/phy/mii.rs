//! MII adapters for an external 10/100 PHY chip (IEEE 802.3 clause 22): 4-bit nibbles,
//! least significant nibble first, on clocks the PHY drives (25 MHz at 100 Mb/s,
//! 2.5 MHz at 10 Mb/s), both named `phy_clock` here (RX_CLK and TX_CLK on the pins).
//!
//! * [`MiiRx`]: pins registered in RX_CLK, nibbles paired into bytes, bytes carried into
//!   the core clock by [`RxCross`] as the PHY byte stream of `lib.rs`. A PHY may deliver
//!   any number of preamble nibbles, odd included, so byte alignment is only known at the
//!   SFD: the adapter waits for the nibble pair 0x5, 0xD and pairs nibbles from there.
//!   It therefore delivers no preamble bytes, only the SFD (0xD5) and what follows
//!   (`lib.rs` allows any number of preamble bytes, none included). `rx_er` anywhere in
//!   the preamble marks the SFD byte with `error`. A burst of `rx_dv` without an SFD
//!   delivers nothing. A lone nibble at the end of the frame (a "dribble" nibble, which
//!   802.3 tells the MAC to ignore) is dropped; `rx_er` on it marks the end with `error`.
//! * [`MiiTx`]: the PHY owns TX_CLK, so the MAC's PHY TX byte stream crosses from the core
//!   clock through a 16-entry asynchronous FIFO. `ready` pulses whenever the FIFO holds
//!   fewer than 8 bytes, and *every* byte the MAC presents is pushed, idle ones (`en` low)
//!   included: the gap on the wire is then exactly the MAC's, in byte times, and the FIFO
//!   stays near half full so it cannot run dry in the middle of a frame. The TX_CLK side
//!   sends each byte as two nibbles, low first, from registers. If the FIFO is ever empty
//!   right after a byte with `en`, the frame is broken on the wire: that is counted in
//!   `underruns` (it cannot happen while the core clock runs and the MAC is fed).
//!   Measured at 0 and +-200 ppm (`tx_pins_carry_reference_wire_bytes_and_exact_gap`): the
//!   TX_CLK side never saw fewer than 5 bytes in the FIFO during a frame. As in `rx_cross`,
//!   `read` and `ready`/`write` have no combinational path from the FIFO's flags, so the
//!   exported Verilog is free of Verilator's UNOPTFLAT.
use crate::counter::SatCounter32;
use crate::phy::rx_cross::RxCross;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct MiiRx {
    // PHY pins, RX_CLK domain.
    pub phy_clock: Signal<In, Clock>,
    pub rxd: Signal<In, Bits<4>>,
    pub rx_dv: Signal<In, Bit>,
    pub rx_er: Signal<In, Bit>,
    // PHY byte stream, core clock domain.
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub error: Signal<Out, Bit>,
    /// The `end` of the PHY byte stream in lib.rs (`end` is a Verilog keyword).
    pub frame_end: Signal<Out, Bit>,
    /// Frames cut short or lost because the core clock did not keep up (see `RxCross`).
    pub overflows: Signal<Out, Bits<32>>,
    rxd_r: DFF<Bits<4>>,
    dv_r: DFF<Bit>,
    er_r: DFF<Bit>,
    /// The nibble before `rxd_r` in this burst of `rx_dv` (0 at its start).
    prev_nibble: DFF<Bits<4>>,
    /// The SFD has been seen: nibbles now pair into bytes.
    in_frame: DFF<Bit>,
    /// `low` holds the first nibble of the next byte.
    have_low: DFF<Bit>,
    low: DFF<Bits<4>>,
    low_er: DFF<Bit>,
    /// `rx_er` was seen in the preamble of this burst.
    preamble_er: DFF<Bit>,
    crossing: RxCross,
    nibble_5: Constant<Bits<4>>,
    nibble_d: Constant<Bits<4>>,
    sfd: Constant<Bits<8>>,
}

impl Default for MiiRx {
    fn default() -> Self {
        Self {
            phy_clock: Default::default(),
            rxd: Default::default(),
            rx_dv: Default::default(),
            rx_er: Default::default(),
            clock: Default::default(),
            reset: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            error: Default::default(),
            frame_end: Default::default(),
            overflows: Default::default(),
            rxd_r: Default::default(),
            dv_r: Default::default(),
            er_r: Default::default(),
            prev_nibble: Default::default(),
            in_frame: Default::default(),
            have_low: Default::default(),
            low: Default::default(),
            low_er: Default::default(),
            preamble_er: Default::default(),
            crossing: Default::default(),
            nibble_5: Constant::new(0x5_u64.to_bits()),
            nibble_d: Constant::new(0xD_u64.to_bits()),
            sfd: Constant::new(0xD5_u64.to_bits()),
        }
    }
}

impl Logic for MiiRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, phy_clock, rxd_r, dv_r, er_r, prev_nibble, in_frame, have_low, low, low_er, preamble_er);
        self.crossing.phy_clock.next = self.phy_clock.val();
        self.crossing.clock.next = self.clock.val();
        self.crossing.reset.next = self.reset.val();
        self.rxd_r.d.next = self.rxd.val();
        self.dv_r.d.next = self.rx_dv.val();
        self.er_r.d.next = self.rx_er.val();

        self.crossing.push.next = false;
        self.crossing.push_end.next = false;
        self.crossing.push_data.next = (bit_cast::<8, 4>(self.rxd_r.q.val()) << 4) | bit_cast::<8, 4>(self.low.q.val());
        self.crossing.push_error.next = self.er_r.q.val() | self.low_er.q.val();
        if self.dv_r.q.val() {
            self.prev_nibble.d.next = self.rxd_r.q.val();
            if !self.in_frame.q.val() {
                if self.er_r.q.val() {
                    self.preamble_er.d.next = true;
                }
                if (self.prev_nibble.q.val() == self.nibble_5.val()) & (self.rxd_r.q.val() == self.nibble_d.val()) {
                    self.crossing.push.next = true;
                    self.crossing.push_data.next = self.sfd.val();
                    self.crossing.push_error.next = self.preamble_er.q.val() | self.er_r.q.val();
                    self.in_frame.d.next = true;
                    self.have_low.d.next = false;
                }
            } else if self.have_low.q.val() {
                self.crossing.push.next = true;
                self.have_low.d.next = false;
            } else {
                self.low.d.next = self.rxd_r.q.val();
                self.low_er.d.next = self.er_r.q.val();
                self.have_low.d.next = true;
            }
        } else {
            if self.in_frame.q.val() {
                self.crossing.push_end.next = true;
                self.crossing.push_error.next = self.have_low.q.val() & self.low_er.q.val();
            }
            self.prev_nibble.d.next = 0.into();
            self.in_frame.d.next = false;
            self.have_low.d.next = false;
            self.preamble_er.d.next = false;
        }

        self.valid.next = self.crossing.valid.val();
        self.data.next = self.crossing.data.val();
        self.error.next = self.crossing.error.val();
        self.frame_end.next = self.crossing.frame_end.val();
        self.overflows.next = self.crossing.overflows.val();
    }
}

crate::model::pins::impl_pin_receiver!(MiiRx);

/// TX FIFO word: byte in bits 7..0, `en` in bit 8, `er` in bit 9. 16 entries, "almost
/// full" from 8.
pub type TxByteFifo = AsynchronousFIFO<Bits<10>, 4, 5, 8>;

#[derive(LogicBlock)]
pub struct MiiTx {
    // PHY TX byte stream from `mac::tx`, core clock domain.
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub ready: Signal<Out, Bit>,
    pub data: Signal<In, Bits<8>>,
    pub en: Signal<In, Bit>,
    pub er: Signal<In, Bit>,
    /// Frames broken on the wire because the FIFO ran dry (saturating; crossed from
    /// TX_CLK, so it lags by a few clocks).
    pub underruns: Signal<Out, Bits<32>>,
    // PHY pins, TX_CLK domain.
    pub phy_clock: Signal<In, Clock>,
    pub txd: Signal<Out, Bits<4>>,
    pub tx_en: Signal<Out, Bit>,
    pub tx_er: Signal<Out, Bit>,

    fifo: TxByteFifo,
    phy_reset: BitSynchronizer,
    /// Sending the high nibble of `hold` this TX_CLK.
    high_phase: DFF<Bit>,
    hold: DFF<Bits<10>>,
    txd_r: DFF<Bits<4>>,
    en_r: DFF<Bit>,
    er_r: DFF<Bit>,
    underrun_count: SatCounter32,
    count_cross: VectorSynchronizer<Bits<32>>,
    /// The FIFO was below half full one core clock ago. Registered so that `ready` (and
    /// so `write`) does not depend combinationally on the FIFO (see the lint note in
    /// `rx_cross`); 8 free words cover the clock of delay many times over.
    room: DFF<Bit>,
    push_word: Signal<Local, Bits<10>>,
    en_bit: Constant<Bits<10>>,
    er_bit: Constant<Bits<10>>,
}

impl Default for MiiTx {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            ready: Default::default(),
            data: Default::default(),
            en: Default::default(),
            er: Default::default(),
            underruns: Default::default(),
            phy_clock: Default::default(),
            txd: Default::default(),
            tx_en: Default::default(),
            tx_er: Default::default(),
            fifo: Default::default(),
            phy_reset: Default::default(),
            high_phase: Default::default(),
            hold: Default::default(),
            txd_r: Default::default(),
            en_r: Default::default(),
            er_r: Default::default(),
            underrun_count: Default::default(),
            count_cross: Default::default(),
            room: Default::default(),
            push_word: Default::default(),
            en_bit: Constant::new(0x100_u64.to_bits()),
            er_bit: Constant::new(0x200_u64.to_bits()),
        }
    }
}

impl Logic for MiiTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, phy_clock, high_phase, hold, txd_r, en_r, er_r);
        clock!(self, phy_clock, phy_reset, underrun_count);
        dff_setup!(self, clock, room);
        self.phy_reset.sig_in.next = self.reset.val();
        self.fifo.write_clock.next = self.clock.val();
        self.fifo.read_clock.next = self.phy_clock.val();
        self.count_cross.clock_in.next = self.phy_clock.val();
        self.count_cross.clock_out.next = self.clock.val();
        self.underrun_count.reset.next = self.phy_reset.sig_out.val();
        self.underrun_count.inc.next = false;
        self.count_cross.sig_in.next = self.underrun_count.count.val();
        self.count_cross.send.next = !self.count_cross.busy.val();
        self.underruns.next = self.count_cross.sig_out.val();

        // Core side: take a byte (idle or not) whenever the FIFO is less than half full.
        self.room.d.next = !self.fifo.almost_full.val();
        self.ready.next = self.room.q.val() & !self.reset.val();
        self.push_word.next = bit_cast::<10, 8>(self.data.val());
        // (A local's val() is the value just assigned: these read like blocking assignments.)
        if self.en.val() {
            self.push_word.next = self.push_word.val() | self.en_bit.val();
        }
        if self.er.val() {
            self.push_word.next = self.push_word.val() | self.er_bit.val();
        }
        self.fifo.data_in.next = self.push_word.val();
        self.fifo.write.next = self.ready.val();

        // TX_CLK side: a byte every two clocks, low nibble first. `read` asks for a byte at
        // every byte boundary whether or not there is one (the FIFO ignores it while empty),
        // so it has no path from `empty`.
        self.fifo.read.next = !self.high_phase.q.val();
        self.high_phase.d.next = !self.high_phase.q.val();
        if self.high_phase.q.val() {
            self.txd_r.d.next = self.hold.q.val().get_bits::<4>(4);
        } else if !self.fifo.empty.val() {
            self.hold.d.next = self.fifo.data_out.val();
            self.txd_r.d.next = self.fifo.data_out.val().get_bits::<4>(0);
            self.en_r.d.next = self.fifo.data_out.val().get_bit(8);
            self.er_r.d.next = self.fifo.data_out.val().get_bit(9);
        } else {
            // Nothing to send: an idle byte, and a broken frame if one was in progress.
            self.hold.d.next = 0.into();
            self.txd_r.d.next = 0.into();
            self.en_r.d.next = false;
            self.er_r.d.next = false;
            self.underrun_count.inc.next = self.en_r.q.val();
        }
        if self.phy_reset.sig_out.val() {
            self.fifo.read.next = false;
            self.high_phase.d.next = false;
            self.hold.d.next = 0.into();
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
    use crate::model::pins::{
        mii_rx_expected, mii_rx_pins, mii_tx_bytes, run_two_clocks, run_two_clocks_traced, PinSample, RxEvent,
        RxFrameSpec,
    };
    use crate::model::tx_reference::{
        check_transmission, decode_frame, split_frames, wire_bytes, WireByte, DEFAULT_IFG, DEFAULT_MAX_LEN,
    };
    use crate::phy::rx_cross::tests::receive_and_replay;
    use crate::phy::rx_cross::tests::{
        assert_overflow_cuts_frames, assert_receives_at_0_and_200_ppm, pins_and_expected, run_rx, rx_test_frames,
    };
    use crate::sim::{ppm_period_ps, settle, TwoClocks};
    use crate::verilog::assert_lints_and_checks;
    use crate::verilog::{assert_replays, export::export, tools::tool_for_test, vectors::VectorRecorder};

    const CORE_PS: f64 = 8000.0;
    /// 25 MHz: 100 Mb/s.
    const MII_PS: f64 = 40000.0;

    /// Even and odd preamble nibble counts, down to the SFD alone.
    fn test_frames(seed: u64) -> Vec<(Vec<u8>, RxFrameSpec)> {
        rx_test_frames(seed, RxFrameSpec::mii(), &[14, 0, 1])
    }

    #[test]
    fn rx_delivers_what_was_sent_at_0_and_200_ppm() {
        let (pins, expected) = pins_and_expected(&test_frames(3), mii_rx_pins, mii_rx_expected);
        assert_receives_at_0_and_200_ppm::<MiiRx>(&pins, &expected.concat(), CORE_PS, MII_PS);
    }

    #[test]
    fn rx_preamble_error_no_sfd_and_dribble_nibble() {
        let spec = RxFrameSpec::mii();
        let frame: Vec<u8> = (0..64u8).collect();
        let mut pins = vec![PinSample::IDLE; 3];
        // A burst of preamble that never reaches an SFD: nothing comes out.
        pins.extend(vec![PinSample { data: 5, dv: true, er: false }; 9]);
        pins.extend(vec![PinSample::IDLE; 4]);
        // rx_er in the preamble marks the SFD byte.
        let mut p = mii_rx_pins(&frame, &spec);
        p[3].er = true;
        pins.extend(p);
        let mut want = mii_rx_expected(&frame, &spec);
        want[0] = RxEvent::Byte { data: 0xD5, error: true };
        // A dribble nibble after the last byte is dropped.
        let mut p = mii_rx_pins(&frame, &spec);
        p.insert(15 + 2 + 128, PinSample { data: 0x3, dv: true, er: false });
        pins.extend(p);
        want.extend(mii_rx_expected(&frame, &spec));
        // ... unless it came with rx_er.
        let mut p = mii_rx_pins(&frame, &spec);
        p.insert(15 + 2 + 128, PinSample { data: 0x3, dv: true, er: true });
        pins.extend(p);
        let mut w = mii_rx_expected(&frame, &spec);
        *w.last_mut().unwrap() = RxEvent::End { error: true };
        want.extend(w);
        let (got, _) = run_rx::<MiiRx>(&pins, TwoClocks::new(CORE_PS, MII_PS));
        assert_eq!(got, want);
    }

    #[test]
    fn rx_overflow_cuts_frames_never_corrupts() {
        let mut frames = test_frames(4);
        frames.last_mut().unwrap().1.gap = 1000;
        for k in 0..2 {
            let f = (0..64).map(|i| (i * 5 + k) as u8).collect();
            frames.push((f, RxFrameSpec { gap: 1000, ..RxFrameSpec::mii() }));
        }
        let (pins, expected) = pins_and_expected(&frames, mii_rx_pins, mii_rx_expected);
        // A core clock slower than the byte rate (one byte per 80 ns at 100 Mb/s).
        let clocks = TwoClocks::new(2.0 * MII_PS * 1.3, MII_PS);
        assert_overflow_cuts_frames::<MiiRx>(&pins, &expected, clocks);
    }

    /// MacTx feeding MiiTx, as in the card.
    #[derive(LogicBlock, Default)]
    struct MacMii {
        clock: Signal<In, Clock>,
        phy_clock: Signal<In, Clock>,
        mac: MacTx,
        mii: MiiTx,
    }

    impl Logic for MacMii {
        fn update(&mut self) {
            self.mac.clock.next = self.clock.val();
            self.mii.clock.next = self.clock.val();
            self.mii.phy_clock.next = self.phy_clock.val();
            self.mac.phy_ready.next = self.mii.ready.val();
            self.mii.data.next = self.mac.phy_data.val();
            self.mii.en.next = self.mac.phy_en.val();
            self.mii.er.next = self.mac.phy_er.val();
        }
    }

    /// What a run of MacTx into MiiTx gave.
    struct TxRun {
        /// The TX pins, one sample per TX_CLK, as the PHY samples them.
        pins: Vec<PinSample>,
        underruns: u32,
        /// The host got rid of every byte.
        host_done: bool,
        /// Lowest FIFO fill the TX_CLK side saw while sending a frame.
        min_fill_in_frame: u32,
    }

    fn run_tx(frames: &[Vec<u8>], ifg: u8, core_ps: f64, phy_ps: f64) -> TxRun {
        let mut uut = MacMii { mac: new_mac(ifg, DEFAULT_MAX_LEN), ..Default::default() };
        uut.connect_all();
        let mut host = Host::new(frames.iter().cloned().map(HostFrame::new).collect());
        let mut pins = vec![];
        let mut min_fill_in_frame = u32::MAX;
        let nibbles: usize = frames.iter().map(|f| 2 * (wire_bytes(f).len() + ifg as usize)).sum();
        let mut clocks = TwoClocks::new(core_ps, phy_ps);
        run_two_clocks(
            &mut uut,
            &mut clocks,
            |u| &mut u.clock,
            |u| &mut u.phy_clock,
            nibbles + 200,
            |u, _| {
                pins.push(PinSample { data: u.mii.txd.val().to_u8(), dv: u.mii.tx_en.val(), er: u.mii.tx_er.val() });
                if u.mii.tx_en.val() {
                    min_fill_in_frame = min_fill_in_frame.min(u.mii.fifo.read_fill.val().to_u32());
                }
            },
            |u| {
                drive_host(&mut host, &mut u.mac);
                settle(u);
                host.advance(u.mac.in_valid.val() && u.mac.in_ready.val());
            },
        );
        TxRun { pins, underruns: uut.mii.underruns.val().to_u32(), host_done: host.done(), min_fill_in_frame }
    }

    #[test]
    fn tx_pins_carry_reference_wire_bytes_and_exact_gap() {
        let frames: Vec<Vec<u8>> =
            [1usize, 60, 61, 1514, 100].iter().map(|&n| (0..n).map(|i| (i * 11 + n) as u8).collect()).collect();
        for (ppm, ifg) in [(0.0, DEFAULT_IFG), (200.0, DEFAULT_IFG), (-200.0, 5)] {
            let run = run_tx(&frames, ifg, CORE_PS, ppm_period_ps(MII_PS, ppm));
            assert!(run.host_done);
            assert_eq!(run.underruns, 0);
            // The FIFO never came near empty in a frame (printed with --nocapture).
            println!("MiiTx at {ppm} ppm: lowest FIFO fill in a frame {} of 16", run.min_fill_in_frame);
            assert!(run.min_fill_in_frame >= 2, "{}", run.min_fill_in_frame);
            let bytes = mii_tx_bytes(&run.pins).expect("whole bytes on the pins");
            if let Err(e) = check_transmission(&bytes, &frames, ifg as usize) {
                panic!("ppm {ppm}: {e}");
            }
        }
    }

    #[test]
    fn tx_underrun_is_counted_when_core_clock_is_too_slow() {
        // A core clock slower than one byte per two TX_CLKs cannot keep the FIFO filled.
        let frames = vec![(0..200u8).collect::<Vec<u8>>()];
        let run = run_tx(&frames, DEFAULT_IFG, 2.5 * MII_PS, MII_PS);
        assert!(run.underruns > 0);
        let cap = split_frames(&mii_tx_bytes(&run.pins).expect("whole bytes on the pins"));
        assert!(cap.frames.iter().all(|f| decode_frame(f).is_err()));
    }

    /// The exported Verilog, in Icarus Verilog with the same two clocks at +-200 ppm, gives
    /// the same outputs on every step as the simulation, which delivers the expected stream.
    #[test]
    fn generated_verilog_receives_like_the_simulation() {
        let (pins, expected) = pins_and_expected(&test_frames(6)[2..], mii_rx_pins, mii_rx_expected);
        for ppm in [200.0, -200.0] {
            let clocks = TwoClocks::new(CORE_PS, ppm_period_ps(MII_PS, ppm));
            let got = receive_and_replay::<MiiRx>("nic_mii_rx", &pins, clocks);
            assert_eq!(got, expected.concat(), "ppm {ppm}");
        }
    }

    /// MiiTx alone, its two clocks 200 ppm apart, fed byte times on `ready` as MacTx would,
    /// puts the reference wire bytes and gaps on the pins; its exported Verilog, replayed in
    /// Icarus Verilog with the same clock edges, gives the same outputs on every step.
    #[test]
    fn generated_verilog_transmits_like_the_simulation() {
        let frames: Vec<Vec<u8>> =
            [1usize, 61, 300].iter().map(|&n| (0..n).map(|i| (i * 13 + n) as u8).collect()).collect();
        let ifg = 12;
        // The MAC-side byte times: frames with exact gaps, then idle.
        let mut bytes = vec![WireByte::IDLE; 4];
        for f in &frames {
            bytes.extend(wire_bytes(f).into_iter().map(WireByte::frame));
            bytes.extend(vec![WireByte::IDLE; ifg]);
        }
        let nibbles = 2 * bytes.len() + 100;
        let mut uut = MiiTx::default();
        let module = export("nic_mii_tx", &mut uut);
        let mut rec = VectorRecorder::new(&module);
        let mut clocks = TwoClocks::new(CORE_PS, ppm_period_ps(MII_PS, 200.0));
        let (mut i, mut pins) = (0usize, vec![]);
        run_two_clocks_traced(
            &mut uut,
            &mut clocks,
            |u| &mut u.clock,
            |u| &mut u.phy_clock,
            nibbles,
            |u, _| pins.push(PinSample { data: u.txd.val().to_u8(), dv: u.tx_en.val(), er: u.tx_er.val() }),
            // MAC side: present byte i; the adapter takes it on a clock edge with ready.
            |u| {
                let b = bytes.get(i).copied().unwrap_or(WireByte::IDLE);
                u.data.next = b.data.to_bits();
                u.en.next = b.en;
                u.er.next = b.er;
                settle(u);
                i += u.ready.val() as usize;
            },
            Some(&mut rec),
        );
        assert_eq!(uut.underruns.val().to_u32(), 0);
        let line = mii_tx_bytes(&pins).expect("whole bytes on the pins");
        check_transmission(&line, &frames, ifg).unwrap();
        if tool_for_test("iverilog") {
            assert_replays(&module, &rec, &[]);
        }
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        assert_lints_and_checks("nic_mii_rx", &mut MiiRx::default());
        assert_lints_and_checks("nic_mii_tx", &mut MiiTx::default());
    }
}
