//! Carries a received byte stream from an external PHY's clock domain into the core clock
//! domain: the half that `phy::gmii::GmiiRx` and `phy::mii::MiiRx` share.
//!
//! The PHY side pushes bytes and frame ends; they cross through a 64-entry
//! [`GrayFifo`] (dual-clock RAM, Gray-coded pointers through two flip-flops, every flag a
//! compare of registers) and come out as the PHY byte stream of `lib.rs`, one registered
//! stage after the FIFO. Each FIFO word is 10 bits: the byte, its error flag (bit 8) and an end
//! marker (bit 9; an end word carries no byte).
//!
//! The core clock is meant to be at least as fast as the PHY's (minus the ppm tolerance):
//! the FIFO then only absorbs the phase and burstiness of the pointer crossing and never
//! fills. If it does fill (a core clock too slow, or stopped), nothing is silently lost:
//! the frame being received is cut short, its remaining bytes are dropped, an end word
//! **with error** is written as soon as there is room, and `overflows` counts it. A frame
//! that starts while that end word is still waiting is dropped whole and counted too.
//! So downstream sees either a frame exactly as received or a prefix of it ending with
//! an error, never bytes of two frames glued together.
//!
//! Measured (tests `fifo_fill_stays_low_at_full_rate`, `gmii::tests::rx_latency_*`): with
//! maximum-length frames back to back and the core 200 ppm slower, the FIFO holds a few of
//! its 64 words (7 at most: the Gray pointers cross in four clocks); pin to stream latency is 6
//! core clocks on GMII.
//!
//! Lint note: Rust-HDL emits each block's logic as one always-block, and the FIFO
//! computes `empty`/`full` in the same block that uses `read`/`write`. Driving `read` from
//! `empty` or `write` from `full` combinationally is no real loop, but `verilator -Wall`
//! reports it as UNOPTFLAT ("circular combinational logic"). So `read` is held high and
//! `write` depends on a *registered* "almost full": the exported Verilog lints without it,
//! and `verilog::synth::check` (flattened, `check -assert`) confirms no cell-level loop.
use crate::counter::SatCounter32;
use crate::fifo::gray_fifo::GrayFifo;
use rust_hdl::prelude::*;

/// FIFO word: byte in bits 7..0, error in bit 8, end marker in bit 9. 64 words, "almost
/// full" from 60.
pub type RxWordFifo = GrayFifo<Bits<10>, 6, 7>;
/// Fill from which the PHY side stops writing.
pub const ALMOST_FULL_AT: usize = 60;

#[derive(LogicBlock)]
pub struct RxCross {
    // PHY clock domain.
    pub phy_clock: Signal<In, Clock>,
    /// A received byte this PHY clock.
    pub push: Signal<In, Bit>,
    pub push_data: Signal<In, Bits<8>>,
    /// With `push`: the byte had a receive error. With `push_end`: the frame had an error
    /// that belongs to no byte.
    pub push_error: Signal<In, Bit>,
    /// The frame ended this PHY clock (never together with `push`).
    pub push_end: Signal<In, Bit>,
    // Core clock domain.
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub error: Signal<Out, Bit>,
    /// The `end` of the PHY byte stream in lib.rs, renamed: `end` is a Verilog keyword
    /// and Rust-HDL does not escape it, so a port called `end` breaks the export.
    pub frame_end: Signal<Out, Bit>,
    /// Frames cut short or lost because the FIFO was full (saturating, crossed from the
    /// PHY domain, so it lags the event by a few clocks).
    pub overflows: Signal<Out, Bits<32>>,

    fifo: RxWordFifo,
    /// `reset` brought into the PHY domain.
    phy_reset: BitSynchronizer,
    /// Dropping the rest of the current frame after an overflow.
    skip: DFF<Bit>,
    /// An end-with-error word is owed to the reader.
    end_pending: DFF<Bit>,
    /// The FIFO's "almost full" one PHY clock ago: no room for the PHY side. Registered so
    /// that `write` does not depend combinationally on the FIFO (see the lint note); the
    /// 4-word margin covers the clock of delay and the write pointer's own delay.
    no_room: DFF<Bit>,
    overflow_count: SatCounter32,
    count_cross: VectorSynchronizer<Bits<32>>,
    word: Signal<Local, Bits<10>>,
    write: Signal<Local, Bit>,
    out_valid: DFF<Bit>,
    out_data: DFF<Bits<8>>,
    out_error: DFF<Bit>,
    out_end: DFF<Bit>,
    err_bit: Constant<Bits<10>>,
    end_bit: Constant<Bits<10>>,
}

impl Default for RxCross {
    fn default() -> Self {
        Self {
            phy_clock: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            push_error: Default::default(),
            push_end: Default::default(),
            clock: Default::default(),
            reset: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            error: Default::default(),
            frame_end: Default::default(),
            overflows: Default::default(),
            fifo: RxWordFifo::new(ALMOST_FULL_AT),
            phy_reset: Default::default(),
            skip: Default::default(),
            end_pending: Default::default(),
            no_room: Default::default(),
            overflow_count: Default::default(),
            count_cross: Default::default(),
            word: Default::default(),
            write: Default::default(),
            out_valid: Default::default(),
            out_data: Default::default(),
            out_error: Default::default(),
            out_end: Default::default(),
            err_bit: Constant::new(0x100_u64.to_bits()),
            end_bit: Constant::new(0x200_u64.to_bits()),
        }
    }
}

impl Logic for RxCross {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, phy_clock, skip, end_pending, no_room);
        dff_setup!(self, clock, out_valid, out_data, out_error, out_end);
        clock!(self, phy_clock, phy_reset, overflow_count);
        self.phy_reset.sig_in.next = self.reset.val();
        self.fifo.write_clock.next = self.phy_clock.val();
        self.fifo.read_clock.next = self.clock.val();
        self.count_cross.clock_in.next = self.phy_clock.val();
        self.count_cross.clock_out.next = self.clock.val();
        self.overflow_count.reset.next = self.phy_reset.sig_out.val();
        self.overflow_count.inc.next = false;
        self.count_cross.sig_in.next = self.overflow_count.count.val();
        self.count_cross.send.next = !self.count_cross.busy.val();
        self.overflows.next = self.count_cross.sig_out.val();

        // PHY side.
        self.write.next = false;
        self.word.next = bit_cast::<10, 8>(self.push_data.val());
        if self.push_error.val() {
            self.word.next = bit_cast::<10, 8>(self.push_data.val()) | self.err_bit.val();
        }
        if self.push.val() {
            if self.skip.q.val() {
                // Rest of a frame already cut short: drop.
            } else if self.end_pending.q.val() | self.no_room.q.val() {
                // No room (or the previous frame's end is still owed): cut this frame.
                self.skip.d.next = true;
                self.end_pending.d.next = true;
                self.overflow_count.inc.next = true;
            } else {
                self.write.next = true;
            }
        } else if self.push_end.val() {
            self.skip.d.next = false;
            if self.skip.q.val() | self.end_pending.q.val() {
                // The end word owed for this frame goes out below when there is room.
            } else if self.no_room.q.val() {
                self.end_pending.d.next = true;
                self.overflow_count.inc.next = true;
            } else {
                self.write.next = true;
                self.word.next = self.end_bit.val();
                if self.push_error.val() {
                    self.word.next = self.end_bit.val() | self.err_bit.val();
                }
            }
        }
        if self.end_pending.q.val() & !self.write.val() & !self.no_room.q.val() {
            self.write.next = true;
            self.word.next = self.end_bit.val() | self.err_bit.val();
            self.end_pending.d.next = false;
        }
        if self.phy_reset.sig_out.val() {
            self.write.next = false;
            self.skip.d.next = false;
            self.end_pending.d.next = false;
        }
        self.no_room.d.next = self.fifo.almost_full.val();
        self.fifo.write.next = self.write.val();
        self.fifo.data_in.next = self.word.val();

        // Core side: drain every word as soon as it is visible. `read` is held high: the
        // FIFO ignores it while empty, and it then needs no path from `empty`.
        self.fifo.read.next = true;
        self.out_valid.d.next = !self.fifo.empty.val() & !self.fifo.data_out.val().get_bit(9);
        self.out_end.d.next = !self.fifo.empty.val() & self.fifo.data_out.val().get_bit(9);
        self.out_error.d.next = !self.fifo.empty.val() & self.fifo.data_out.val().get_bit(8);
        self.out_data.d.next = self.fifo.data_out.val().get_bits::<8>(0);
        if self.reset.val() {
            self.out_valid.d.next = false;
            self.out_end.d.next = false;
            self.out_error.d.next = false;
        }
        self.valid.next = self.out_valid.q.val();
        self.data.next = self.out_data.q.val();
        self.error.next = self.out_error.q.val();
        self.frame_end.next = self.out_end.q.val();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::model::pins::{receive, receive_traced, PinReceiver, PinSample, RxEvent, RxFrameSpec};
    use crate::sim::{ppm_period_ps, Domain, TwoClocks};
    use crate::verilog::vectors::{Qualified, VectorRecorder};
    use crate::verilog::{assert_replays, export::export, tools::tool_for_test};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The receive test set: random frames up to maximum length, back to back at the
    /// gap of `spec`, with each of `short_preambles` (bytes on GMII, nibbles on MII, 0 =
    /// SFD only), rx_er on the last and on the first byte, and gaps shrunk to 2 and 1.
    pub(crate) fn rx_test_frames(
        seed: u64,
        spec: RxFrameSpec,
        short_preambles: &[usize],
    ) -> Vec<(Vec<u8>, RxFrameSpec)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut frame = |n: usize| (0..n).map(|_| rng.gen::<u8>()).collect::<Vec<u8>>();
        let mut v = vec![(frame(64), spec.clone()), (frame(1518), spec.clone())];
        for (i, &preamble) in short_preambles.iter().enumerate() {
            v.push((frame(64 + i), RxFrameSpec { preamble, ..spec.clone() }));
        }
        v.push((frame(100), RxFrameSpec { error_at: Some(99), ..spec.clone() }));
        v.push((frame(64), RxFrameSpec { error_at: Some(0), ..spec.clone() }));
        v.push((frame(65), RxFrameSpec { gap: 2, ..spec.clone() }));
        v.push((frame(66), RxFrameSpec { gap: 1, ..spec.clone() }));
        v.push((frame(64), spec));
        v
    }

    /// The pins for `frames` (after a few idle clocks) and, per frame, the PHY byte
    /// stream expected for it.
    pub(crate) fn pins_and_expected(
        frames: &[(Vec<u8>, RxFrameSpec)],
        pins: fn(&[u8], &RxFrameSpec) -> Vec<PinSample>,
        expected: fn(&[u8], &RxFrameSpec) -> Vec<RxEvent>,
    ) -> (Vec<PinSample>, Vec<Vec<RxEvent>>) {
        let mut p = vec![PinSample::IDLE; 5];
        let mut e = vec![];
        for (f, spec) in frames {
            p.extend(pins(f, spec));
            e.push(expected(f, spec));
        }
        (p, e)
    }

    /// A fresh adapter fed `pins`: its PHY byte stream and overflow counter.
    pub(crate) fn run_rx<B: PinReceiver + Default>(pins: &[PinSample], clocks: TwoClocks) -> (Vec<RxEvent>, u32) {
        let mut uut = B::default();
        uut.connect_all();
        let got = receive(&mut uut, clocks, pins, 200);
        (got, uut.overflow_count())
    }

    /// At 0, +200 and -200 ppm, each from four starting phases of the PHY clock (200 ppm
    /// slips the phase by less than a clock over a test run, so the phases make the edges
    /// cross in every order), the adapter delivers exactly `expected` and no overflow.
    pub(crate) fn assert_receives_at_0_and_200_ppm<B: PinReceiver + Default>(
        pins: &[PinSample],
        expected: &[RxEvent],
        core_ps: f64,
        phy_ps: f64,
    ) {
        for ppm in [0.0, 200.0, -200.0] {
            for quarter in 0..4 {
                let clocks = TwoClocks::new(core_ps, ppm_period_ps(phy_ps, ppm))
                    .delayed(Domain::B, core_ps / 4.0 * quarter as f64);
                let (got, overflows) = run_rx::<B>(pins, clocks);
                assert_eq!(got, expected, "ppm {ppm}, phase {quarter}/4");
                assert_eq!(overflows, 0, "ppm {ppm}, phase {quarter}/4");
            }
        }
    }

    /// With a core clock too slow for the line, frames are cut with an error and counted,
    /// never corrupted; frames after a long idle (the last two of `frames` should follow
    /// long gaps) come out intact.
    pub(crate) fn assert_overflow_cuts_frames<B: PinReceiver + Default>(
        pins: &[PinSample],
        expected: &[Vec<RxEvent>],
        clocks: TwoClocks,
    ) {
        let (got, overflows) = run_rx::<B>(pins, clocks);
        assert!(overflows > 0);
        let intact = assert_intact_or_cut(&got, expected);
        assert!(intact >= 2 && intact < expected.len(), "{intact} intact");
        assert!(got.ends_with(&expected[expected.len() - 2..].concat()));
    }

    /// Split a PHY byte stream into frames (the events up to and including each end).
    pub(crate) fn frames_of(events: &[RxEvent]) -> Vec<Vec<RxEvent>> {
        let mut out = vec![];
        let mut cur = vec![];
        for &e in events {
            cur.push(e);
            if let RxEvent::End { .. } = e {
                out.push(std::mem::take(&mut cur));
            }
        }
        assert!(cur.is_empty(), "bytes after the last end: {cur:?}");
        out
    }

    /// Check the no-silent-corruption rule of an overflowing crossing: every frame that
    /// came out is either exactly one that was sent, or a prefix of one (in sending order,
    /// frames may be missing) that ends with an error. Returns how many came out intact.
    pub(crate) fn assert_intact_or_cut(got: &[RxEvent], sent: &[Vec<RxEvent>]) -> usize {
        let mut next = 0usize;
        let mut intact = 0usize;
        for (k, f) in frames_of(got).iter().enumerate() {
            let (body, end) = f.split_at(f.len() - 1);
            let cut = end[0] == RxEvent::End { error: true };
            let j = (next..sent.len())
                .find(|&j| {
                    let s = &sent[j];
                    if cut {
                        s.len() > body.len() && s[..body.len()] == *body
                    } else {
                        s[..] == f[..]
                    }
                })
                .unwrap_or_else(|| panic!("output frame {k} matches no sent frame: {f:?}"));
            intact += !cut as usize;
            next = j + 1;
        }
        intact
    }

    /// The FIFO's fill, seen from the PHY side, with maximum-length frames back to back at
    /// the minimum gap and the core clock 200 ppm slower than the PHY's: the margin left
    /// before an overflow. Prints it (run with `--nocapture`).
    #[test]
    fn fifo_fill_stays_low_at_full_rate() {
        use crate::phy::rx_cross::RxCross;
        use rust_hdl::prelude::*;
        let mut uut = RxCross::default();
        uut.connect_all();
        // 4 frames of 8 + 1518 bytes, 12 idle clocks after each.
        let frame_clocks = 8 + 1518 + 12;
        let mut clocks = TwoClocks::new(ppm_period_ps(8000.0, 200.0), 8000.0);
        let (mut max_fill, mut bytes_out) = (0u32, 0usize);
        crate::model::pins::run_two_clocks(
            &mut uut,
            &mut clocks,
            |u| &mut u.clock,
            |u| &mut u.phy_clock,
            4 * frame_clocks + 200,
            |u, n| {
                let in_frame = n < 4 * frame_clocks && n % frame_clocks < 8 + 1518;
                u.push.next = in_frame;
                u.push_data.next = (n as u8).to_bits();
                u.push_end.next = n > 0 && n <= 4 * frame_clocks && n % frame_clocks == 8 + 1518;
                max_fill = max_fill.max(u.fifo.write_fill.val().to_u32());
            },
            |u| bytes_out += u.valid.val() as usize,
        );
        println!("RxCross: max FIFO fill {max_fill} of 64 at -200 ppm, full rate");
        assert_eq!(bytes_out, 4 * (8 + 1518));
        assert_eq!(uut.overflows.val().to_u32(), 0);
        assert!(max_fill <= 32, "{max_fill}");
    }

    /// A fresh adapter, exported as module `name`, fed `pins` (then 300 idle PHY clocks)
    /// with `clocks`: returns its PHY byte stream, and checks that the exported Verilog,
    /// replayed in Icarus Verilog with the same clock edges, gives the same outputs on every
    /// step (`data` compared while `valid`: the FIFO's RAM reads as x before it is written).
    pub(crate) fn receive_and_replay<B: PinReceiver + Default>(
        name: &str,
        pins: &[PinSample],
        clocks: TwoClocks,
    ) -> Vec<RxEvent> {
        let mut uut = B::default();
        let module = export(name, &mut uut);
        let mut rec = VectorRecorder::new(&module);
        let got = receive_traced(&mut uut, clocks, pins, 300, Some(&mut rec));
        if tool_for_test("iverilog") {
            assert_replays(&module, &rec, &[Qualified { output: "data", when: "valid" }]);
        }
        got
    }
}
