//! Manchester receive: clock/data recovery from an oversampled line, decoding, byte
//! alignment on the SFD, end of frame, code violations, and link pulse recognition.
//!
//! # Input
//! `samples` carries W line samples per core clock, bit 0 the earliest (what an ISERDES
//! delivers); the line is sampled R times per bit (R = `samples_per_bit`, at least 8, so at
//! least 4 samples per half-bit), with W <= R/2. The project default is R = 16, W = 8: two
//! core clocks per bit, a 20 MHz core clock for 10 Mb/s.
//!
//! # Clock/data recovery
//! Manchester has a transition in the middle of every bit; a transition at the bit boundary
//! only happens between equal bits. The CDR keeps `h`, the time of this word's first sample
//! since the *reference* (its estimate of the last mid-bit transition), in quarter-samples and
//! offset by R/2 samples so it never goes negative. Each clock it looks at every sample edge in
//! the word (including the one between the previous word's last sample and this word's first):
//! * the first edge between 3/4 and 5/4 of a bit after the reference is the next mid-bit
//!   transition; bit-boundary transitions come at 1/2 bit and are ignored by that window.
//!   The bit is the new line level (a 1 is low-to-high, IEEE 802.3).
//! * The reference then moves a quarter of the way from where the transition was expected to
//!   where it was seen: a first-order digital PLL with gain 1/4. Re-anchoring fully on every
//!   edge would let one edge's jitter shift the next window by as much. With gain g the
//!   reference error follows e' = (1−g)e + g·j: it never exceeds the peak jitter, and its
//!   spread is that of the jitter times √(g/(2−g)) (0.38 for g = 1/4, 0.58 for g = 1/2).
//!   The window is missed when a boundary edge comes later than 3/4 bit: 1/2 + j + e + one
//!   sample of quantisation. Measured (`jitter_margin` test, R = 16, ±200 ppm): error-free up
//!   to 0.13 bit of peak jitter with g = 1/4, up to 0.12 with g = 1/2; first errors at 0.14
//!   and 0.13. 1/4 is also a shift, and still pulls an initial anchor error down to 10 %
//!   within the 8 transitions of the lock. Frequency offsets of ±200 ppm move an edge by
//!   1/5000 bit per bit, which the loop follows with a negligible static error.
//! * No transition in the window: "missed". The reference moves on by one bit (flywheel).
//!   If the next window has its transition, the line is still active and the missing one was
//!   a code violation. If it has none either, the frame has ended: 10BASE-T ends a frame with
//!   TP_IDL, the line held high for 2 bits and then idle, so there is no transition in either
//!   window after the last bit. The end is seen about 2.25–2.75 bits after the last bit.
//!
//! Acquisition: from idle the line is low, and a frame (preamble or SFD) starts with a 1, so
//! the first rising edge is a mid-bit transition and anchors the reference. Falling edges on an
//! idle line (the end of TP_IDL or of a link pulse) are ignored. `locked` rises after
//! `lock_transitions` mid-bit transitions in a row after the anchor (default 8, i.e. after 9
//! bits of preamble); only then is the SFD searched (the last 8 bits equal 1,0,1,0,1,0,1,1),
//! and only while the bits since the anchor have alternated: the first repeated bit of a
//! burst is either the end of the SFD or proof that the burst is not a frame, so 0xD5 inside
//! the data of a frame whose preamble was too short is never taken for an SFD.
//! The SFD check looks at the last 8 bits, so the SFD may be the bits that complete the lock:
//! with the default, 1 preamble byte before the SFD is enough (see the tests).
//!
//! # Output
//! The PHY byte stream of `lib.rs`: the SFD byte 0xD5 and every byte after it (no preamble
//! bytes), `error` on a byte in which a code violation was seen, `end` (port `frame_end`:
//! `end` is a Verilog keyword) once when the frame ends (with `error` if a violation fell in the discarded last partial byte). Bits after the
//! last whole byte (dribble bits) are dropped and counted in `dribble` (frames, not bits).
//!
//! A code violation is detected one bit late and the missing bit is not replaced, so the rest
//! of that frame is shifted by one bit: the frame is bad anyway, the error is flagged on the
//! byte where the violation was, and the frame ends with dribble bits.
//!
//! # Link pulses
//! A normal link pulse is a single positive pulse one bit wide on an idle line. To this
//! receiver it looks like a burst of two bits (the anchoring rise, a mid-bit fall one bit
//! later) that then ends; such a burst pulses `link_pulse`. Pulses and received frames feed
//! a [`LinkMonitor`] that drives `link_up`.
use crate::counter::SatCounter32;
use rust_hdl::prelude::*;

use super::link_pulse::{LinkMonitor, DEFAULT_EVENTS_FOR_LINK_UP, DEFAULT_LINK_FAIL_CYCLES};

/// Width of the CDR's time counter `h` (quarter-samples): R up to 75 (`h` stays below 9R
/// and the loop update forms 3h). Short, because the loop's carry chains are this long.
const H_BITS: usize = 11;

/// Construction parameters of [`ManchesterRx`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RxConfig {
    /// Line samples per bit (R), at least 8 and at least 2 W.
    pub samples_per_bit: u32,
    /// Mid-bit transitions in a row, after the anchoring edge, needed for `locked`.
    pub lock_transitions: u8,
    /// Core clock cycles without a link pulse or frame before `link_up` drops.
    pub link_fail_cycles: u32,
    /// Link pulses or frames in a row needed to bring the link up.
    pub events_for_link_up: u8,
}

impl Default for RxConfig {
    fn default() -> Self {
        Self {
            samples_per_bit: 16,
            lock_transitions: 8,
            link_fail_cycles: DEFAULT_LINK_FAIL_CYCLES,
            events_for_link_up: DEFAULT_EVENTS_FOR_LINK_UP,
        }
    }
}

#[derive(LogicBlock)]
pub struct ManchesterRx<const W: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// W line samples, bit 0 the earliest.
    pub samples: Signal<In, Bits<W>>,
    /// PHY byte stream (see `lib.rs`).
    pub valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub error: Signal<Out, Bit>,
    /// `end` of the PHY byte stream. Not named `end`: that is a Verilog keyword, and the
    /// generated module would not parse.
    pub frame_end: Signal<Out, Bit>,
    /// The CDR has seen `lock_transitions` good mid-bit transitions in this burst.
    pub locked: Signal<Out, Bit>,
    /// The CDR is tracking transitions (a frame or a link pulse is on the line).
    pub carrier: Signal<Out, Bit>,
    /// One clock: a normal link pulse was recognised.
    pub link_pulse: Signal<Out, Bit>,
    pub link_up: Signal<Out, Bit>,
    /// Missing mid-bit transitions while the line was active (saturating).
    pub code_violations: Signal<Out, Bits<32>>,
    /// Frames that ended with 1–7 bits after the last whole byte (saturating).
    pub dribble: Signal<Out, Bits<32>>,
    /// Bits decoded since the burst began (the anchoring bit included), saturating; read it
    /// when `locked` rises to see how much preamble the lock took.
    pub frame_bits: Signal<Out, Bits<16>>,
    link: LinkMonitor,
    // CDR state.
    tracking: DFF<Bit>,
    h: DFF<Bits<H_BITS>>,
    prev: DFF<Bit>,
    missed: DFF<Bit>,
    good: DFF<Bits<8>>,
    lock: DFF<Bit>,
    burst_bits: DFF<Bits<16>>,
    // What the CDR decided last clock, for the byte assembly (timing: a clock of its own):
    // a bit, its value, whether it anchored a burst or followed a violation, the burst's end,
    // and `lock` as it was when the bit came.
    c_bit: DFF<Bit>,
    c_val: DFF<Bit>,
    c_anch: DFF<Bit>,
    c_viol: DFF<Bit>,
    c_end: DFF<Bit>,
    c_lock: DFF<Bit>,
    // Byte assembly.
    in_frame: DFF<Bit>,
    /// Two equal bits before any SFD: this burst is not a frame (noise, or a preamble
    /// too short to lock on); do not search for an SFD in the rest of it.
    no_sfd: DFF<Bit>,
    shift: DFF<Bits<8>>,
    nbits: DFF<Bits<4>>,
    byte_err: DFF<Bit>,
    // Registered outputs and counters.
    o_valid: DFF<Bit>,
    o_data: DFF<Bits<8>>,
    o_error: DFF<Bit>,
    o_end: DFF<Bit>,
    o_nlp: DFF<Bit>,
    cv: SatCounter32,
    drib: SatCounter32,
    // Parameters (times in quarter-samples, offset 2R).
    /// The window for sample i, as bounds on `h` (`win_lo − 4i <= h <= win_hi − 4i`; timing:
    /// a compare against a constant, not an adder and then a compare).
    lo: [Constant<Bits<H_BITS>>; W],
    hi: [Constant<Bits<H_BITS>>; W],
    /// `h + 4W > win_hi`: no sample of the next word can be in this window.
    fly_lim: Constant<Bits<H_BITS>>,
    four_w: Constant<Bits<H_BITS>>,
    four_r: Constant<Bits<H_BITS>>,
    lock_m1: Constant<Bits<8>>,
    msb: Constant<Bits<8>>,
    /// 5R/2 + i: what the loop update subtracts for a transition at sample i.
    sub: [Constant<Bits<H_BITS>>; W],
    /// 4(W − i) + 2R: `h` of the next word after anchoring on a rise at sample i.
    anchor: [Constant<Bits<H_BITS>>; W],
    // Per-sample combinational steps.
    change: [Signal<Local, Bit>; W],
    hit: [Signal<Local, Bit>; W],
    rise: [Signal<Local, Bit>; W],
    hit_before: [Signal<Local, Bit>; W],
    rise_before: [Signal<Local, Bit>; W],
    hit_any: Signal<Local, Bit>,
    hit_level: Signal<Local, Bit>,
    /// The loop update for a transition at each sample, all computed (timing: the first hit
    /// selects a result instead of feeding an adder).
    base: Signal<Local, Bits<H_BITS>>,
    cand: [Signal<Local, Bits<H_BITS>>; W],
    h_hit: Signal<Local, Bits<H_BITS>>,
    rise_any: Signal<Local, Bit>,
    rise_h: Signal<Local, Bits<H_BITS>>,
    bit_valid: Signal<Local, Bit>,
    bit_val: Signal<Local, Bit>,
    anchored: Signal<Local, Bit>,
    violation: Signal<Local, Bit>,
    burst_end: Signal<Local, Bit>,
    nlp: Signal<Local, Bit>,
    sr_next: Signal<Local, Bits<8>>,
}

fn defaults<T: Default, const N: usize>() -> [T; N] {
    std::array::from_fn(|_| T::default())
}

fn constants<const N: usize, const B: usize>(f: impl Fn(usize) -> u64) -> [Constant<Bits<B>>; N] {
    std::array::from_fn(|i| Constant::new(f(i).to_bits()))
}

impl<const W: usize> ManchesterRx<W> {
    pub fn new(cfg: &RxConfig) -> Self {
        let r = cfg.samples_per_bit as u64;
        assert!(r >= 8, "need at least 4 samples per half-bit");
        assert!(W >= 1 && W as u64 <= r / 2, "need W <= R/2 (one mid-bit window per word)");
        // `h` stays below 9R (the window ends at 7R, plus a word of 4W <= 2R); the loop
        // update forms 3h.
        assert!(27 * r < (1 << H_BITS), "R too large for the {H_BITS}-bit time counter");
        assert!(cfg.lock_transitions >= 1);
        let w = W as u64;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            samples: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            error: Default::default(),
            frame_end: Default::default(),
            locked: Default::default(),
            carrier: Default::default(),
            link_pulse: Default::default(),
            link_up: Default::default(),
            code_violations: Default::default(),
            dribble: Default::default(),
            frame_bits: Default::default(),
            link: LinkMonitor::new(cfg.link_fail_cycles, cfg.events_for_link_up),
            tracking: Default::default(),
            h: Default::default(),
            prev: Default::default(),
            missed: Default::default(),
            good: Default::default(),
            lock: Default::default(),
            burst_bits: Default::default(),
            c_bit: Default::default(),
            c_val: Default::default(),
            c_anch: Default::default(),
            c_viol: Default::default(),
            c_end: Default::default(),
            c_lock: Default::default(),
            in_frame: Default::default(),
            no_sfd: Default::default(),
            shift: Default::default(),
            nbits: Default::default(),
            byte_err: Default::default(),
            o_valid: Default::default(),
            o_data: Default::default(),
            o_error: Default::default(),
            o_end: Default::default(),
            o_nlp: Default::default(),
            cv: Default::default(),
            drib: Default::default(),
            // 3/4 and 5/4 of a bit after the reference: 4·(3R/4) + 2R and 4·(5R/4) + 2R.
            lo: constants(|i| 5 * r - 4 * i as u64),
            hi: constants(|i| 7 * r - 4 * i as u64),
            fly_lim: Constant::new((7 * r - 4 * w).to_bits()),
            four_w: Constant::new((4 * w).to_bits()),
            four_r: Constant::new((4 * r).to_bits()),
            lock_m1: Constant::new((cfg.lock_transitions as u64 - 1).to_bits()),
            msb: Constant::new(0x80_u64.to_bits()),
            sub: constants(|i| 5 * r / 2 + i as u64),
            anchor: constants(|i| 4 * (w - i as u64) + 2 * r),
            change: defaults(),
            hit: defaults(),
            rise: defaults(),
            hit_before: defaults(),
            rise_before: defaults(),
            hit_any: Default::default(),
            hit_level: Default::default(),
            base: Default::default(),
            cand: defaults(),
            h_hit: Default::default(),
            rise_any: Default::default(),
            rise_h: Default::default(),
            bit_valid: Default::default(),
            bit_val: Default::default(),
            anchored: Default::default(),
            violation: Default::default(),
            burst_end: Default::default(),
            nlp: Default::default(),
            sr_next: Default::default(),
        }
    }
}

impl<const W: usize> Logic for ManchesterRx<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, tracking, h, prev, missed, good, lock, burst_bits, c_bit, c_val, c_anch, c_viol, c_end,
            c_lock, in_frame, no_sfd, shift, nbits, byte_err, o_valid, o_data, o_error, o_end, o_nlp
        );
        clock!(self, clock, link, cv, drib);
        self.cv.reset.next = self.reset.val();
        self.drib.reset.next = self.reset.val();
        // Edges: sample i differs from the sample before it.
        self.change[0].next = self.samples.val().get_bit(0) ^ self.prev.q.val();
        for i in 1..W {
            self.change[i].next = self.samples.val().get_bit(i) ^ self.samples.val().get_bit(i - 1);
        }
        for i in 0..W {
            // The last assignment wins: prev gets sample W-1.
            self.prev.d.next = self.samples.val().get_bit(i);
            self.hit[i].next =
                self.change[i].val() & (self.h.q.val() >= self.lo[i].val()) & (self.h.q.val() <= self.hi[i].val());
            self.rise[i].next = self.change[i].val() & self.samples.val().get_bit(i);
        }
        self.hit_before[0].next = false;
        self.rise_before[0].next = false;
        for i in 1..W {
            self.hit_before[i].next = self.hit_before[i - 1].val() | self.hit[i - 1].val();
            self.rise_before[i].next = self.rise_before[i - 1].val() | self.rise[i - 1].val();
        }
        // The first hit and the first rise of the word.
        self.hit_any.next = false;
        self.hit_level.next = false;
        self.h_hit.next = 0.into();
        // h' = 3h/4 + 4W − (p + 5R/2) for a transition at sample p (see the module comment).
        self.base.next = ((self.h.q.val() + (self.h.q.val() << 1)) >> 2) + self.four_w.val();
        for i in 0..W {
            self.cand[i].next = self.base.val() - self.sub[i].val();
        }
        self.rise_any.next = false;
        self.rise_h.next = 0.into();
        for i in 0..W {
            if self.hit[i].val() & !self.hit_before[i].val() {
                self.hit_any.next = true;
                self.hit_level.next = self.samples.val().get_bit(i);
                self.h_hit.next = self.cand[i].val();
            }
            if self.rise[i].val() & !self.rise_before[i].val() {
                self.rise_any.next = true;
                self.rise_h.next = self.anchor[i].val();
            }
        }

        // CDR state machine.
        self.bit_valid.next = false;
        self.bit_val.next = false;
        self.anchored.next = false;
        self.violation.next = false;
        self.burst_end.next = false;
        if !self.tracking.q.val() {
            if self.rise_any.val() {
                self.tracking.d.next = true;
                self.h.d.next = self.rise_h.val();
                self.bit_valid.next = true;
                self.bit_val.next = true;
                self.anchored.next = true;
                self.missed.d.next = false;
                self.good.d.next = 0.into();
            }
        } else if self.hit_any.val() {
            // Move the reference a quarter of the way towards the transition.
            self.h.d.next = self.h_hit.val();
            self.bit_valid.next = true;
            self.bit_val.next = self.hit_level.val();
            self.missed.d.next = false;
            if self.missed.q.val() {
                self.violation.next = true;
                self.good.d.next = 0.into();
            } else if self.good.q.val() == self.lock_m1.val() {
                self.lock.d.next = true;
            } else {
                self.good.d.next = self.good.q.val() + 1;
            }
        } else if self.h.q.val() > self.fly_lim.val() {
            if self.missed.q.val() {
                self.burst_end.next = true;
                self.tracking.d.next = false;
            } else {
                self.missed.d.next = true;
                self.h.d.next = (self.h.q.val() + self.four_w.val()) - self.four_r.val();
            }
        } else {
            self.h.d.next = self.h.q.val() + self.four_w.val();
        }

        if self.burst_end.val() {
            self.lock.d.next = false;
            self.good.d.next = 0.into();
            self.missed.d.next = false;
        }
        self.c_bit.d.next = self.bit_valid.val();
        self.c_val.d.next = self.bit_val.val();
        self.c_anch.d.next = self.anchored.val();
        self.c_viol.d.next = self.violation.val();
        self.c_end.d.next = self.burst_end.val();
        self.c_lock.d.next = self.lock.q.val();

        // Bits into bytes, a clock after the CDR. Bits arrive LSB first: shift in at the top.
        if self.c_val.q.val() {
            self.sr_next.next = (self.shift.q.val() >> 1) | self.msb.val();
        } else {
            self.sr_next.next = self.shift.q.val() >> 1;
        }
        self.o_valid.d.next = false;
        self.o_error.d.next = false;
        self.o_end.d.next = false;
        self.o_nlp.d.next = false;
        self.nlp.next = false;
        if self.c_bit.q.val() {
            self.shift.d.next = self.sr_next.val();
            if self.c_anch.q.val() {
                self.burst_bits.d.next = 1.into();
            } else if self.burst_bits.q.val() != 0xFFFF {
                self.burst_bits.d.next = self.burst_bits.q.val() + 1;
            }
            if self.in_frame.q.val() {
                if self.nbits.q.val() == 7 {
                    self.o_valid.d.next = true;
                    self.o_data.d.next = self.sr_next.val();
                    self.o_error.d.next = self.byte_err.q.val() | self.c_viol.q.val();
                    self.nbits.d.next = 0.into();
                    self.byte_err.d.next = false;
                } else {
                    self.nbits.d.next = self.nbits.q.val() + 1;
                    self.byte_err.d.next = self.byte_err.q.val() | self.c_viol.q.val();
                }
            } else if self.c_lock.q.val() & !self.no_sfd.q.val() & (self.sr_next.val() == 0xD5) {
                self.in_frame.d.next = true;
                self.o_valid.d.next = true;
                self.o_data.d.next = self.sr_next.val();
                self.o_error.d.next = self.c_viol.q.val();
                self.nbits.d.next = 0.into();
                self.byte_err.d.next = false;
            } else if !self.c_anch.q.val() & (self.c_val.q.val() == self.shift.q.val().get_bit(7)) {
                // The preamble alternates; the first repeated bit must be the SFD's last.
                self.no_sfd.d.next = true;
            }
            if self.c_anch.q.val() {
                self.no_sfd.d.next = false;
            }
        }
        self.cv.inc.next = self.c_viol.q.val();
        self.drib.inc.next = false;
        if self.c_end.q.val() {
            if self.in_frame.q.val() {
                self.o_end.d.next = true;
                self.o_error.d.next = self.byte_err.q.val();
                self.drib.inc.next = self.nbits.q.val() != 0;
            } else if self.burst_bits.q.val() == 2 {
                // Rise, fall one bit later, then nothing: a normal link pulse.
                self.nlp.next = true;
                self.o_nlp.d.next = true;
            }
            self.in_frame.d.next = false;
            self.no_sfd.d.next = false;
            self.nbits.d.next = 0.into();
            self.byte_err.d.next = false;
        }
        self.link.activity.next = self.nlp.val() | (self.c_end.q.val() & self.in_frame.q.val());
        self.link.reset.next = self.reset.val();

        if self.reset.val() {
            self.tracking.d.next = false;
            self.missed.d.next = false;
            self.good.d.next = 0.into();
            self.lock.d.next = false;
            self.in_frame.d.next = false;
            self.nbits.d.next = 0.into();
            self.byte_err.d.next = false;
            self.o_valid.d.next = false;
            self.o_end.d.next = false;
            self.o_nlp.d.next = false;
            self.burst_bits.d.next = 0.into();
            self.c_bit.d.next = false;
            self.c_end.d.next = false;
            self.c_viol.d.next = false;
        }

        self.valid.next = self.o_valid.q.val();
        self.data.next = self.o_data.q.val();
        self.error.next = self.o_error.q.val();
        self.frame_end.next = self.o_end.q.val();
        // `lock` a clock late, in step with the bytes and `frame_bits`.
        self.locked.next = self.c_lock.q.val();
        self.carrier.next = self.tracking.q.val();
        self.link_pulse.next = self.o_nlp.q.val();
        self.link_up.next = self.link.link_up.val();
        self.code_violations.next = self.cv.count.val();
        self.dribble.next = self.drib.count.val();
        self.frame_bits.next = self.burst_bits.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::line::{encode_frames, LineConfig, LineEncoder, SFD};
    use crate::model::rx_reference::random_frame_with_fcs;
    use crate::sim::{cycle, cycle_traced};
    use crate::verilog::{assert_replays, export::export, tools::tool_for_test, vectors::VectorRecorder};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// What the receiver put out, split into frames at `end`.
    #[derive(Default, Debug)]
    struct Capture {
        /// Bytes of each frame, with the error flag of each byte.
        frames: Vec<Vec<(u8, bool)>>,
        /// `error` seen together with `end`, per frame.
        end_error: Vec<bool>,
        /// `frame_bits` on each clock where `locked` rose.
        lock_bits: Vec<u16>,
        link_pulses: usize,
        /// `link_up` after each clock.
        link_up: Vec<bool>,
        code_violations: u32,
        dribble: u32,
        cycles: usize,
    }

    fn new_rx<const W: usize>(cfg: &RxConfig) -> ManchesterRx<W> {
        let mut uut = ManchesterRx::<W>::new(cfg);
        uut.connect_all();
        uut.reset.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        uut
    }

    fn run<const W: usize>(uut: &mut ManchesterRx<W>, words: &[u64], cap: &mut Capture) {
        let mut current: Vec<(u8, bool)> = vec![];
        let mut was_locked = uut.locked.val();
        for &w in words {
            uut.samples.next = w.to_bits();
            cycle(uut, |u| &mut u.clock);
            cap.cycles += 1;
            if uut.valid.val() {
                current.push((uut.data.val().to_u8(), uut.error.val()));
            }
            if uut.frame_end.val() {
                assert!(!uut.valid.val(), "end never comes with a byte");
                cap.frames.push(std::mem::take(&mut current));
                cap.end_error.push(uut.error.val());
            }
            if uut.locked.val() && !was_locked {
                cap.lock_bits.push(uut.frame_bits.val().to_u16());
            }
            was_locked = uut.locked.val();
            cap.link_pulses += uut.link_pulse.val() as usize;
            cap.link_up.push(uut.link_up.val());
        }
        assert!(current.is_empty(), "bytes after the last end: {current:?}");
        cap.code_violations = uut.code_violations.val().to_u32();
        cap.dribble = uut.dribble.val().to_u32();
    }

    fn random_frames(seed: u64, n: usize) -> Vec<Vec<u8>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                // Always include the extremes; the rest random.
                let len = match i {
                    0 => 64,
                    1 => 1518,
                    _ => rng.gen_range(64..=1518),
                };
                random_frame_with_fcs(&mut rng, len)
            })
            .collect()
    }

    /// Every frame arrives exactly: SFD + bytes, no error flags, one `end` each.
    fn assert_delivered(cap: &Capture, frames: &[Vec<u8>], what: &str) {
        assert_eq!(cap.frames.len(), frames.len(), "{what}: frame count");
        for (n, (got, sent)) in cap.frames.iter().zip(frames).enumerate() {
            let bytes: Vec<u8> = got.iter().map(|b| b.0).collect();
            assert_eq!(bytes[0], SFD, "{what}: frame {n} starts with the SFD");
            assert_eq!(&bytes[1..], &sent[..], "{what}: frame {n} bytes");
            assert!(got.iter().all(|b| !b.1), "{what}: frame {n} error flag");
        }
        assert!(cap.end_error.iter().all(|e| !e), "{what}: error with end");
        assert_eq!(cap.code_violations, 0, "{what}: code violations");
        assert_eq!(cap.dribble, 0, "{what}: dribble");
    }

    fn check_line<const W: usize>(rx: &RxConfig, line: &LineConfig, frames: &[Vec<u8>]) -> Capture {
        let (words, _) = encode_frames(line, frames, W);
        let mut uut = new_rx::<W>(rx);
        let mut cap = Capture::default();
        run(&mut uut, &words, &mut cap);
        let what = format!("W={W} {line:?}");
        assert_delivered(&cap, frames, &what);
        // Locked once per frame, after exactly the anchor + lock_transitions bits, which is
        // inside the preamble (+ SFD).
        assert_eq!(cap.lock_bits.len(), frames.len(), "{what}: lock count");
        let bits_before_data = 8 * (line.preamble_bytes + 1);
        for &b in &cap.lock_bits {
            assert_eq!(b as u32, rx.lock_transitions as u32 + 1, "{what}: bits to lock");
            assert!((b as usize) < bits_before_data, "{what}: lock after the preamble");
        }
        cap
    }

    #[test]
    fn frames_arrive_exactly_at_200ppm_with_10_percent_jitter() {
        let frames = random_frames(1, 3);
        for (i, ppm) in [0.0, 200.0, -200.0].into_iter().enumerate() {
            let line = LineConfig { ppm, jitter_peak_ui: 0.1, seed: 10 + i as u64, ..Default::default() };
            check_line::<8>(&RxConfig::default(), &line, &frames);
        }
    }

    #[test]
    fn one_preamble_byte_is_enough_and_none_is_not() {
        let frames = random_frames(2, 3);
        let short = LineConfig { preamble_bytes: 1, jitter_peak_ui: 0.1, ppm: -200.0, seed: 5, ..Default::default() };
        check_line::<8>(&RxConfig::default(), &short, &frames);
        // With only the SFD the lock (9 bits) is not complete when the SFD ends: nothing is
        // delivered, and nothing is counted as a violation.
        let none = LineConfig { preamble_bytes: 0, ..short };
        let (words, _) = encode_frames(&none, &frames, 8);
        let mut uut = new_rx::<8>(&RxConfig::default());
        let mut cap = Capture::default();
        run(&mut uut, &words, &mut cap);
        assert!(cap.frames.is_empty());
        assert_eq!(cap.code_violations, 0);
        // A lock of 6 transitions completes on the SFD's last bit: then no preamble works.
        let quick = RxConfig { lock_transitions: 6, ..Default::default() };
        check_line::<8>(&quick, &none, &frames);
    }

    #[test]
    fn other_word_widths_and_ratios() {
        let frames = random_frames(3, 3);
        let line = LineConfig { samples_per_bit: 12, jitter_peak_ui: 0.1, ppm: 200.0, seed: 1, ..Default::default() };
        check_line::<5>(&RxConfig { samples_per_bit: 12, ..Default::default() }, &line, &frames);
        let line = LineConfig { samples_per_bit: 8, ppm: -200.0, jitter_peak_ui: 0.05, seed: 2, ..Default::default() };
        check_line::<4>(&RxConfig { samples_per_bit: 8, ..Default::default() }, &line, &frames);
        let line = LineConfig { samples_per_bit: 32, jitter_peak_ui: 0.12, seed: 3, ..Default::default() };
        check_line::<16>(&RxConfig { samples_per_bit: 32, ..Default::default() }, &line, &frames);
    }

    #[test]
    fn code_violations_are_counted_and_flagged() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let cfg = LineConfig { jitter_peak_ui: 0.1, ppm: 150.0, seed: 4, ..Default::default() };
        let mut enc = LineEncoder::new(cfg, 8);
        enc.idle(96);
        // (frame, data bit index of the missing transition or none)
        let mut sent = vec![];
        for i in 0..6 {
            let len = rng.gen_range(64..200);
            let f = random_frame_with_fcs(&mut rng, len);
            let at = (i % 2 == 0).then(|| rng.gen_range(0..(f.len() - 1) * 8));
            match at {
                Some(k) => enc.frame_with_violations(&f, &[k]),
                None => enc.frame(&f),
            };
            sent.push((f, at));
        }
        let words = enc.finish();
        let mut uut = new_rx::<8>(&RxConfig::default());
        let mut cap = Capture::default();
        run(&mut uut, &words, &mut cap);
        assert_eq!(cap.frames.len(), sent.len());
        let injected = sent.iter().filter(|s| s.1.is_some()).count() as u32;
        assert_eq!(cap.code_violations, injected);
        // The shifted frame ends with 7 dribble bits.
        assert_eq!(cap.dribble, injected);
        for ((got, (f, at)), end_err) in cap.frames.iter().zip(&sent).zip(&cap.end_error) {
            let flagged: Vec<usize> = got.iter().enumerate().filter(|b| b.1 .1).map(|b| b.0).collect();
            match at {
                // Output index 0 is the SFD; data byte k/8 is output index 1 + k/8.
                Some(k) => {
                    assert_eq!(flagged, vec![1 + k / 8], "violation at bit {k}");
                    assert!(!end_err);
                    // Bytes before the violation are intact.
                    let good: Vec<u8> = got[1..1 + k / 8].iter().map(|b| b.0).collect();
                    assert_eq!(&good[..], &f[..k / 8]);
                }
                None => {
                    assert!(flagged.is_empty());
                    let bytes: Vec<u8> = got[1..].iter().map(|b| b.0).collect();
                    assert_eq!(&bytes, f);
                }
            }
        }
    }

    #[test]
    fn link_pulses_bring_the_link_up_and_silence_takes_it_down() {
        // Scaled timings: a pulse every 300 bits (600 clocks), link fail after 2000 clocks.
        let rx = RxConfig { link_fail_cycles: 2000, ..Default::default() };
        let line = LineConfig {
            link_pulses: true,
            link_pulse_interval_bits: 300,
            jitter_peak_ui: 0.1,
            seed: 8,
            ..Default::default()
        };
        let mut enc = LineEncoder::new(line, 8);
        enc.idle(1000);
        let pulses_words = enc.finish();
        let mut uut = new_rx::<8>(&rx);
        let mut cap = Capture::default();
        run(&mut uut, &pulses_words, &mut cap);
        // 1000 idle bits with a pulse every 300: 3 pulses, all recognised, nothing decoded.
        assert_eq!(cap.link_pulses, 3);
        assert!(cap.frames.is_empty());
        assert_eq!(cap.code_violations, 0);
        // Up after the second pulse (bit ~600 = clock ~1200), not after the first.
        let first_up = cap.link_up.iter().position(|&u| u).expect("link came up");
        assert!((1200..1300).contains(&first_up), "up at {first_up}");
        assert!(cap.link_up[first_up..].iter().all(|&u| u));
        // Now silence: down 2000 clocks after the last pulse (bit 900 = clock 1800).
        let quiet = vec![0u64; 3000];
        let before = cap.link_up.len();
        run(&mut uut, &quiet, &mut cap);
        let down = cap.link_up.iter().rposition(|&u| u).unwrap() + 1;
        assert!((1800 + 2000..1800 + 2000 + 40).contains(&down), "down at {down}, quiet from {before}");
        // Frames bring it up as well (events_for_link_up = 2: two frames, short ones so that
        // both ends fall within the scaled link-fail time).
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let frames = vec![random_frame_with_fcs(&mut rng, 64), random_frame_with_fcs(&mut rng, 64)];
        let (words, _) = encode_frames(&LineConfig::default(), &frames, 8);
        run(&mut uut, &words, &mut cap);
        assert!(*cap.link_up.last().unwrap());
        assert_eq!(cap.frames.len(), 2);
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        let mut uut = ManchesterRx::<8>::new(&RxConfig::default());
        crate::verilog::assert_lints_and_checks("manchester_rx", &mut uut);
        // A non-default shape generates clean Verilog too.
        let mut odd = ManchesterRx::<5>::new(&RxConfig { samples_per_bit: 12, ..Default::default() });
        crate::verilog::assert_lints_and_checks("manchester_rx_w5", &mut odd);
    }

    #[test]
    fn joining_in_the_middle_of_a_frame_recovers_on_the_next() {
        // Start listening at several points inside a frame: the receiver may anchor on a
        // bit-boundary edge and decode garbage, but must deliver nothing from the broken
        // frame and the next frame exactly.
        let frames = random_frames(14, 2);
        let line = LineConfig { jitter_peak_ui: 0.1, ppm: 200.0, seed: 14, ..Default::default() };
        let (words, _) = encode_frames(&line, &frames, 8);
        // Frame 0 (64 bytes) occupies roughly words 192..1400.
        for start in [300usize, 555, 801, 1000, 1333] {
            let mut uut = new_rx::<8>(&RxConfig::default());
            let mut cap = Capture::default();
            run(&mut uut, &words[start..], &mut cap);
            let last = cap.frames.last().expect("the second frame arrives");
            let bytes: Vec<u8> = last.iter().map(|b| b.0).collect();
            assert_eq!(bytes[0], SFD, "start {start}");
            assert_eq!(&bytes[1..], &frames[1][..], "start {start}");
            assert!(last.iter().all(|b| !b.1), "start {start}");
            assert!(cap.frames.len() <= 2, "start {start}: at most a broken first frame");
        }
    }

    #[test]
    fn bit_errors_fail_the_fcs_of_exactly_the_corrupted_frames() {
        let frames = random_frames(11, 12);
        let line =
            LineConfig { bit_error_rate: 2e-4, jitter_peak_ui: 0.1, ppm: -100.0, seed: 11, ..Default::default() };
        let (words, reports) = encode_frames(&line, &frames, 8);
        let mut uut = new_rx::<8>(&RxConfig::default());
        let mut cap = Capture::default();
        run(&mut uut, &words, &mut cap);
        // A flipped bit is still valid Manchester: every frame arrives, with no violation,
        // and the FCS (checked here with crc32fast) fails exactly for the corrupted ones.
        assert_eq!(cap.frames.len(), frames.len());
        assert_eq!(cap.code_violations, 0);
        let mut bad_fcs = 0;
        for ((got, sent), report) in cap.frames.iter().zip(&frames).zip(&reports) {
            let bytes: Vec<u8> = got[1..].iter().map(|b| b.0).collect();
            assert_eq!(bytes.len(), sent.len());
            let (body, fcs) = bytes.split_at(bytes.len() - 4);
            let fcs_ok = crc32fast::hash(body).to_le_bytes() == fcs;
            assert_eq!(fcs_ok, !report.corrupted);
            bad_fcs += !fcs_ok as usize;
        }
        let corrupted = reports.iter().filter(|r| r.corrupted).count();
        assert_eq!(bad_fcs, corrupted);
        assert!(corrupted > 0, "the seed should corrupt some frames");
    }

    /// The generated Verilog, simulated by Icarus Verilog on the same samples, must produce
    /// the same outputs on every clock as the Rust-HDL simulation (`verilog::vectors`).
    #[test]
    fn verilog_simulation_matches_rust_hdl() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let cfg = LineConfig {
            jitter_peak_ui: 0.1,
            ppm: 200.0,
            seed: 12,
            link_pulses: true,
            link_pulse_interval_bits: 150,
            ..Default::default()
        };
        let mut enc = LineEncoder::new(cfg, 8);
        enc.idle(200);
        enc.frame(&random_frame_with_fcs(&mut rng, 64));
        enc.frame_with_violations(&random_frame_with_fcs(&mut rng, 80), &[77]);
        enc.frame(&random_frame_with_fcs(&mut rng, 64));
        enc.idle(300);
        let words = enc.finish();

        let rx_cfg = RxConfig { link_fail_cycles: 5000, ..Default::default() };
        let mut uut = ManchesterRx::<8>::new(&rx_cfg);
        let module = export("manchester_rx", &mut uut);
        let mut rec = VectorRecorder::new(&module);
        uut.reset.next = true;
        cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
        uut.reset.next = false;
        let mut sfd_delivered = false;
        for &w in &words {
            uut.samples.next = w.to_bits();
            cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
            sfd_delivered |= uut.valid.val() && uut.data.val().to_u8() == SFD && !uut.error.val();
        }
        assert!(sfd_delivered, "the run should deliver an SFD");
        if tool_for_test("iverilog") {
            assert_replays(&module, &rec, &[]);
        }
    }

    /// How much jitter the CDR really takes (see the module comment). Run with
    /// `cargo test -p nic-hdl --lib manchester_rx::tests::jitter_margin -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn jitter_margin() {
        let frames = random_frames(13, 20);
        for j in [0.10, 0.11, 0.12, 0.13, 0.14, 0.16] {
            for ppm in [-200.0, 200.0] {
                let line = LineConfig { ppm, jitter_peak_ui: j, seed: 13, ..Default::default() };
                let (words, _) = encode_frames(&line, &frames, 8);
                let mut uut = new_rx::<8>(&RxConfig::default());
                let mut cap = Capture::default();
                run(&mut uut, &words, &mut cap);
                let good = cap
                    .frames
                    .iter()
                    .zip(&frames)
                    .filter(|(g, f)| g.len() == f.len() + 1 && g[1..].iter().map(|b| b.0).eq(f.iter().copied()))
                    .count();
                println!(
                    "jitter {j:.2} UI, {ppm:+} ppm: {good}/{} frames exact, {} violations",
                    frames.len(),
                    cap.code_violations
                );
            }
        }
    }

    /// Many random frames through impaired lines. Run with
    /// `cargo test -p nic-hdl --lib manchester_rx::tests::long_random_run -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn long_random_run() {
        for (i, ppm) in [0.0, 200.0, -200.0].into_iter().enumerate() {
            let frames = random_frames(100 + i as u64, 300);
            let line = LineConfig { ppm, jitter_peak_ui: 0.1, seed: 20 + i as u64, ..Default::default() };
            let cap = check_line::<8>(&RxConfig::default(), &line, &frames);
            println!("ppm {ppm}: {} frames, {} cycles", frames.len(), cap.cycles);
        }
    }

    /// Simulation speed of the receiver, hand-stepped. Run with
    /// `cargo test -p nic-hdl --lib manchester_rx::tests::cycles_per_second -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn cycles_per_second() {
        let frames = random_frames(7, 20);
        let (words, _) = encode_frames(&LineConfig { jitter_peak_ui: 0.1, ..Default::default() }, &frames, 8);
        let mut uut = new_rx::<8>(&RxConfig::default());
        let mut cap = Capture::default();
        let t = std::time::Instant::now();
        run(&mut uut, &words, &mut cap);
        let s = t.elapsed().as_secs_f64();
        assert_delivered(&cap, &frames, "speed run");
        println!(
            "{{\"block\":\"manchester_rx<8>\",\"cycles\":{},\"seconds\":{s:.3},\"cycles_per_second\":{:.0}}}",
            cap.cycles,
            cap.cycles as f64 / s
        );
    }
}
