//! Manchester transmit: PHY TX byte stream in, W line samples per clock out (R per bit).
//!
//! The transmitter runs a free bit clock of R samples per bit slot and fetches one byte every
//! 8 slots by pulsing `ready` (the PHY TX byte stream of `lib.rs`), so the MAC is paced
//! whether or not it has a frame. The fetched byte waits one byte time in a second register:
//! that way the next slot's levels are always known a whole byte in advance, which TP_IDL and
//! link pulses need.
//!
//! Each bit slot is two half-bit levels, chosen when the slot starts:
//! * a data bit b (IEEE 802.3 Manchester, LSB first): `!b` then `b`;
//! * the first bit of a byte sent with `er`: `!b` then `!b` — no mid-bit transition, a code
//!   violation, so a receiver flags the frame and it can never pass as a good frame;
//! * TP_IDL, the first 2 slots after the last byte of a frame: high, high; the line is then
//!   held high 2 bit times after the last bit (2.5 after a final 1's mid-bit) and falls to idle;
//! * a normal link pulse: high, high in one slot of an idle byte, when [`LinkPulseGen`] asks
//!   for one and the following byte is idle too (so a pulse is never glued to a preamble);
//! * idle: low.
//!
//! Samples are produced W at a time from the position within the current slot; since
//! W <= R/2, a word spans at most the current slot and the start of the following one.
use rust_hdl::prelude::*;

use super::link_pulse::{LinkPulseGen, DEFAULT_NLP_PERIOD_CYCLES};

#[derive(LogicBlock)]
pub struct ManchesterTx<const W: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// PHY TX byte stream: the PHY takes `data`/`en`/`er` on a clock where `ready` is high.
    pub ready: Signal<Out, Bit>,
    pub data: Signal<In, Bits<8>>,
    pub en: Signal<In, Bit>,
    pub er: Signal<In, Bit>,
    /// W line samples, bit 0 first on the line.
    pub samples: Signal<Out, Bits<W>>,
    /// Nothing but idle (and link pulses) is on the line or queued.
    pub idle: Signal<Out, Bit>,
    nlp: LinkPulseGen,
    /// Position of the next word's first sample in the current slot, 0..R-1.
    pos: DFF<Bits<16>>,
    /// Bit index of the current slot in its byte.
    slot_bit: DFF<Bits<4>>,
    /// Current byte, shifted right as its bits go out (bit 0 = current slot's bit).
    cur: DFF<Bits<8>>,
    cur_en: DFF<Bit>,
    cur_tp_idl: DFF<Bit>,
    /// The byte fetched for the next byte time.
    nxt: DFF<Bits<8>>,
    nxt_en: DFF<Bit>,
    nxt_er: DFF<Bit>,
    /// Levels of the current slot's two halves.
    h1: DFF<Bit>,
    h2: DFF<Bit>,
    nlp_pending: DFF<Bit>,
    out: DFF<Bits<W>>,
    /// This word ends the slot (`pos + W >= R`), a register computed with `pos` (timing: the
    /// MAC's `ready` comes from flip-flops).
    boundary: DFF<Bit>,
    r: Constant<Bits<16>>,
    w: Constant<Bits<16>>,
    /// `R − W`: `pos` at or above it ends the slot.
    bound_at: Constant<Bits<16>>,
    /// Sample i is in the slot's first half while `pos < R/2 − i`, in its second while
    /// `pos < R − i`, in the next slot's first half while `pos < 3R/2 − i` (compares against
    /// constants, not an adder and then a compare; 0 where the difference is negative).
    lt_half: [Constant<Bits<16>>; W],
    lt_r: [Constant<Bits<16>>; W],
    lt_r_half: [Constant<Bits<16>>; W],
    onehot: [Constant<Bits<W>>; W],
    zero: Constant<Bits<W>>,
    // Combinational.
    pos_nx: Signal<Local, Bits<16>>,
    /// Levels of the following slot's two halves.
    f1: Signal<Local, Bit>,
    f2: Signal<Local, Bit>,
    take_nlp: Signal<Local, Bit>,
    level: [Signal<Local, Bit>; W],
    word: [Signal<Local, Bits<W>>; W],
}

impl<const W: usize> ManchesterTx<W> {
    /// `samples_per_bit` R (>= 8, >= 2 W); `nlp_period_cycles` between link pulses while idle.
    pub fn new(samples_per_bit: u32, nlp_period_cycles: u32) -> Self {
        let r = samples_per_bit as u64;
        assert!(r >= 8 && r.is_multiple_of(2), "need an even R of at least 8");
        assert!(W >= 1 && W as u64 <= r / 2, "need W <= R/2");
        assert!(r <= 4096);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            ready: Default::default(),
            data: Default::default(),
            en: Default::default(),
            er: Default::default(),
            samples: Default::default(),
            idle: Default::default(),
            nlp: LinkPulseGen::new(nlp_period_cycles),
            pos: Default::default(),
            slot_bit: Default::default(),
            cur: Default::default(),
            cur_en: Default::default(),
            cur_tp_idl: Default::default(),
            nxt: Default::default(),
            nxt_en: Default::default(),
            nxt_er: Default::default(),
            h1: Default::default(),
            h2: Default::default(),
            nlp_pending: Default::default(),
            out: Default::default(),
            boundary: Default::default(),
            r: Constant::new(r.to_bits()),
            w: Constant::new((W as u64).to_bits()),
            bound_at: Constant::new((r - W as u64).to_bits()),
            lt_half: std::array::from_fn(|i| Constant::new((r / 2).saturating_sub(i as u64).to_bits())),
            lt_r: std::array::from_fn(|i| Constant::new((r - i as u64).to_bits())),
            lt_r_half: std::array::from_fn(|i| Constant::new((r + r / 2 - i as u64).to_bits())),
            onehot: std::array::from_fn(|i| Constant::new((1u64 << i).to_bits())),
            zero: Constant::new(0u64.to_bits()),
            pos_nx: Default::default(),
            f1: Default::default(),
            f2: Default::default(),
            take_nlp: Default::default(),
            level: std::array::from_fn(|_| Default::default()),
            word: std::array::from_fn(|_| Default::default()),
        }
    }
}

impl<const W: usize> Default for ManchesterTx<W> {
    /// R = 16 and the 16 ms NLP period of the 20 MHz core clock.
    fn default() -> Self {
        Self::new(16, DEFAULT_NLP_PERIOD_CYCLES)
    }
}

impl<const W: usize> Logic for ManchesterTx<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            pos,
            slot_bit,
            cur,
            cur_en,
            cur_tp_idl,
            nxt,
            nxt_en,
            nxt_er,
            h1,
            h2,
            nlp_pending,
            out,
            boundary
        );
        clock!(self, clock, nlp);

        // The following slot.
        self.f1.next = false;
        self.f2.next = false;
        self.take_nlp.next = false;
        if self.slot_bit.q.val() != 7 {
            if self.cur_en.q.val() {
                self.f1.next = !self.cur.q.val().get_bit(1);
                self.f2.next = self.cur.q.val().get_bit(1);
            } else if self.cur_tp_idl.q.val() & (self.slot_bit.q.val() == 0) {
                // Second TP_IDL slot.
                self.f1.next = true;
                self.f2.next = true;
            } else if self.nlp_pending.q.val()
                & !self.cur_tp_idl.q.val()
                & !self.nxt_en.q.val()
                & (self.slot_bit.q.val() < 6)
            {
                self.f1.next = true;
                self.f2.next = true;
                self.take_nlp.next = true;
            }
        } else if self.nxt_en.q.val() {
            self.f1.next = !self.nxt.q.val().get_bit(0);
            if self.nxt_er.q.val() {
                self.f2.next = !self.nxt.q.val().get_bit(0);
            } else {
                self.f2.next = self.nxt.q.val().get_bit(0);
            }
        } else if self.cur_en.q.val() {
            // First TP_IDL slot: the frame's last byte is ending.
            self.f1.next = true;
            self.f2.next = true;
        }

        // This word's samples.
        for i in 0..W {
            if self.pos.q.val() < self.lt_half[i].val() {
                self.level[i].next = self.h1.q.val();
            } else if self.pos.q.val() < self.lt_r[i].val() {
                self.level[i].next = self.h2.q.val();
            } else if self.pos.q.val() < self.lt_r_half[i].val() {
                self.level[i].next = self.f1.val();
            } else {
                self.level[i].next = self.f2.val();
            }
        }
        if self.level[0].val() {
            self.word[0].next = self.onehot[0].val();
        } else {
            self.word[0].next = self.zero.val();
        }
        for i in 1..W {
            if self.level[i].val() {
                self.word[i].next = self.word[i - 1].val() | self.onehot[i].val();
            } else {
                self.word[i].next = self.word[i - 1].val();
            }
        }
        for i in 0..W {
            // The last assignment wins: the word with all W samples.
            self.out.d.next = self.word[i].val();
        }

        // Advance the slot clock; fetch a byte when a byte time starts.
        self.ready.next = false;
        self.pos_nx.next = self.pos.q.val() + self.w.val();
        if self.boundary.q.val() {
            self.pos_nx.next = (self.pos.q.val() + self.w.val()) - self.r.val();
            self.h1.d.next = self.f1.val();
            self.h2.d.next = self.f2.val();
            if self.take_nlp.val() {
                self.nlp_pending.d.next = false;
            }
            if self.slot_bit.q.val() == 7 {
                self.slot_bit.d.next = 0.into();
                self.cur.d.next = self.nxt.q.val();
                self.cur_en.d.next = self.nxt_en.q.val();
                self.cur_tp_idl.d.next = self.cur_en.q.val() & !self.nxt_en.q.val();
                self.ready.next = true;
                self.nxt.d.next = self.data.val();
                self.nxt_en.d.next = self.en.val();
                self.nxt_er.d.next = self.er.val() & self.en.val();
            } else {
                self.slot_bit.d.next = self.slot_bit.q.val() + 1;
                self.cur.d.next = self.cur.q.val() >> 1;
            }
        }
        self.pos.d.next = self.pos_nx.val();
        self.boundary.d.next = self.pos_nx.val() >= self.bound_at.val();

        self.idle.next = !self.cur_en.q.val() & !self.nxt_en.q.val() & !self.cur_tp_idl.q.val();
        self.nlp.idle.next = self.idle.val();
        self.nlp.reset.next = self.reset.val();
        if self.nlp.request.val() {
            self.nlp_pending.d.next = true;
        }

        if self.reset.val() {
            self.pos.d.next = 0.into();
            self.boundary.d.next = false;
            self.slot_bit.d.next = 7.into();
            self.cur_en.d.next = false;
            self.cur_tp_idl.d.next = false;
            self.nxt_en.d.next = false;
            self.nxt_er.d.next = false;
            self.h1.d.next = false;
            self.h2.d.next = false;
            self.nlp_pending.d.next = false;
            self.out.d.next = self.zero.val();
            self.ready.next = false;
        }
        self.samples.next = self.out.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::line::{decode_samples, words_to_samples, LineError, PREAMBLE_BYTE, SFD};
    use crate::model::rx_reference::random_frame_with_fcs;
    use crate::phy::manchester_rx::{ManchesterRx, RxConfig};
    use crate::sim::{cycle, settle};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::VecDeque;

    /// Plays the MAC: one (data, en, er) per `ready`, idle when it has nothing.
    struct MacFeed {
        queue: VecDeque<(u8, bool, bool)>,
    }

    impl MacFeed {
        /// Each frame as the MAC sends it: 7 preamble bytes, SFD, frame, then 12 idle bytes
        /// (the inter-frame gap). `er_at`: (frame, byte index) sent with `er`.
        fn new(frames: &[Vec<u8>], er_at: Option<(usize, usize)>) -> Self {
            let mut queue = VecDeque::new();
            for (n, f) in frames.iter().enumerate() {
                queue.extend([(PREAMBLE_BYTE, true, false); 7]);
                queue.push_back((SFD, true, false));
                for (i, &b) in f.iter().enumerate() {
                    queue.push_back((b, true, er_at == Some((n, i))));
                }
                queue.extend([(0, false, false); 12]);
            }
            Self { queue }
        }
    }

    fn new_tx<const W: usize>(r: u32, nlp_period: u32) -> ManchesterTx<W> {
        let mut uut = ManchesterTx::<W>::new(r, nlp_period);
        uut.connect_all();
        uut.reset.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        uut
    }

    /// One clock: present the MAC's current byte, take it if `ready`. Returns the samples.
    fn step<const W: usize>(uut: &mut ManchesterTx<W>, mac: &mut MacFeed) -> u64 {
        let (d, en, er) = mac.queue.front().copied().unwrap_or((0, false, false));
        uut.data.next = d.to_bits();
        uut.en.next = en;
        uut.er.next = er;
        settle(uut);
        let take = uut.ready.val();
        cycle(uut, |u| &mut u.clock);
        if take {
            mac.queue.pop_front();
        }
        uut.samples.val().to_u64()
    }

    /// Run until the MAC is empty and the line has been idle for `tail` clocks.
    fn transmit<const W: usize>(uut: &mut ManchesterTx<W>, mac: &mut MacFeed, tail: usize) -> Vec<u64> {
        let mut words = vec![];
        while !mac.queue.is_empty() {
            words.push(step(uut, mac));
        }
        for _ in 0..tail {
            words.push(step(uut, mac));
        }
        words
    }

    fn random_frames(seed: u64, lens: &[usize]) -> Vec<Vec<u8>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        lens.iter().map(|&len| random_frame_with_fcs(&mut rng, len)).collect()
    }

    #[test]
    fn bytes_in_decode_back_with_tp_idl_and_gap() {
        let frames = random_frames(1, &[64, 200, 1518]);
        let mut uut = new_tx::<8>(16, 1_000_000);
        let mut mac = MacFeed::new(&frames, None);
        let words = transmit(&mut uut, &mut mac, 200);
        let line = decode_samples(&words_to_samples(&words, 8), 16).unwrap();
        assert_eq!(line.frames.len(), frames.len());
        assert!(line.link_pulses.is_empty(), "no link pulse with a 1,000,000-cycle period");
        for (n, (d, f)) in line.frames.iter().zip(&frames).enumerate() {
            assert_eq!(&d.bytes, f, "frame {n}");
            assert_eq!(d.preamble_bits, 56, "frame {n}");
            // TP_IDL: exactly 2 bit times high after the last bit.
            assert_eq!(d.tp_idl_samples, 2 * 16, "frame {n}");
            if n > 0 {
                // 12 idle bytes = 96 bit times from the last bit to the next preamble, of which
                // TP_IDL is 2; the next frame's first mid-bit transition is half a bit in.
                assert_eq!(d.gap_before_samples, (96 - 2) * 16 + 8, "frame {n}");
            }
        }
    }

    #[test]
    fn loopback_into_the_receiver() {
        fn check<const W: usize>(r: u32, frames: &[Vec<u8>]) {
            let mut tx = new_tx::<W>(r, 1_000_000);
            let mut rx = ManchesterRx::<W>::new(&RxConfig { samples_per_bit: r, ..Default::default() });
            rx.connect_all();
            rx.reset.next = true;
            cycle(&mut rx, |u| &mut u.clock);
            rx.reset.next = false;
            let mut mac = MacFeed::new(frames, None);
            let mut got: Vec<Vec<u8>> = vec![vec![]];
            for w in transmit(&mut tx, &mut mac, 100) {
                rx.samples.next = w.to_bits();
                cycle(&mut rx, |u| &mut u.clock);
                assert!(!rx.error.val());
                if rx.valid.val() {
                    got.last_mut().unwrap().push(rx.data.val().to_u8());
                }
                if rx.frame_end.val() {
                    got.push(vec![]);
                }
            }
            assert_eq!(got.pop(), Some(vec![]), "W={W}: nothing after the last end");
            assert_eq!(got.len(), frames.len(), "W={W}");
            for (g, f) in got.iter().zip(frames) {
                assert_eq!(g[0], SFD);
                assert_eq!(&g[1..], &f[..], "W={W}");
            }
            assert_eq!(rx.code_violations.val().to_u32(), 0);
        }
        let frames = random_frames(2, &[64, 777, 64]);
        check::<8>(16, &frames);
        check::<4>(8, &frames);
        check::<6>(20, &frames);
    }

    #[test]
    fn er_makes_a_code_violation() {
        let frames = random_frames(3, &[100, 100]);
        let mut uut = new_tx::<8>(16, 1_000_000);
        // Byte 40 of the second frame is sent with er.
        let mut mac = MacFeed::new(&frames, Some((1, 40)));
        let words = transmit(&mut uut, &mut mac, 100);
        match decode_samples(&words_to_samples(&words, 8), 16) {
            Err(LineError::CodeViolation { .. }) => {}
            other => panic!("expected a code violation, got {other:?}"),
        }
        // The receiver delivers the first frame clean and flags the second.
        let mut rx = ManchesterRx::<8>::new(&RxConfig::default());
        rx.connect_all();
        let mut errors = vec![0usize; 2];
        let mut n = 0;
        for w in words {
            rx.samples.next = w.to_bits();
            cycle(&mut rx, |u| &mut u.clock);
            if rx.valid.val() && rx.error.val() {
                errors[n] += 1;
            }
            n += rx.frame_end.val() as usize;
        }
        assert_eq!(n, 2);
        assert_eq!(errors, vec![0, 1]);
        assert_eq!(rx.code_violations.val().to_u32(), 1);
    }

    #[test]
    fn link_pulses_while_idle_only() {
        // Scaled: a pulse every 1000 clocks (500 bit times).
        let period = 1000;
        let mut uut = new_tx::<8>(16, period);
        let mut mac = MacFeed::new(&[], None);
        let mut words: Vec<u64> = (0..5200).map(|_| step(&mut uut, &mut mac)).collect();
        let line = decode_samples(&words_to_samples(&words, 8), 16).unwrap();
        assert_eq!(line.link_pulses.len(), 5);
        for p in &line.link_pulses {
            assert_eq!(p.width_samples, 16, "one bit time wide");
        }
        for pair in line.link_pulses.windows(2) {
            let spacing = pair[1].start_sample - pair[0].start_sample;
            // Period × 8 samples per clock, ± the wait for a free slot (< 1 byte time).
            assert!(spacing.abs_diff(period as usize * 8) < 8 * 16, "spacing {spacing}");
        }
        // A long frame: no pulse inside it, and the far end's receiver keeps the link up.
        let frames = random_frames(4, &[1518]);
        let mut mac = MacFeed::new(&frames, None);
        words.extend(transmit(&mut uut, &mut mac, 3000));
        let line = decode_samples(&words_to_samples(&words, 8), 16).unwrap();
        assert_eq!(line.frames.len(), 1);
        assert_eq!(line.frames[0].bytes, frames[0]);
        let f = &line.frames[0];
        let frame_span = f.start_sample..f.start_sample + (f.bytes.len() + 8) * 8 * 16 + 3 * 16;
        assert!(line.link_pulses.iter().all(|p| !frame_span.contains(&p.start_sample)));
        // Link fail scaled like the pulses, but still longer than the longest frame (~24,600
        // clocks), as 100 ms is much longer than 1.2 ms.
        let mut rx = ManchesterRx::<8>::new(&RxConfig { link_fail_cycles: 30 * period, ..Default::default() });
        rx.connect_all();
        let mut up = vec![];
        for w in &words {
            rx.samples.next = w.to_bits();
            cycle(&mut rx, |u| &mut u.clock);
            up.push(rx.link_up.val());
        }
        let first_up = up.iter().position(|&u| u).expect("link up from TX pulses");
        assert!(first_up < 2 * period as usize + 200, "up at {first_up}");
        assert!(up[first_up..].iter().all(|&u| u), "link stays up across the frame");
    }

    /// Simulation speed of the transmitter, hand-stepped. Run with
    /// `cargo test -p nic-hdl --lib manchester_tx::tests::cycles_per_second -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn cycles_per_second() {
        let frames = random_frames(5, &[1518; 10]);
        let mut uut = new_tx::<8>(16, 1_000_000);
        let mut mac = MacFeed::new(&frames, None);
        let t = std::time::Instant::now();
        let words = transmit(&mut uut, &mut mac, 100);
        let s = t.elapsed().as_secs_f64();
        let line = decode_samples(&words_to_samples(&words, 8), 16).unwrap();
        assert_eq!(line.frames.len(), frames.len());
        println!(
            "{{\"block\":\"manchester_tx<8>\",\"cycles\":{},\"seconds\":{s:.3},\"cycles_per_second\":{:.0}}}",
            words.len(),
            words.len() as f64 / s
        );
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        crate::verilog::assert_lints_and_checks("manchester_tx", &mut ManchesterTx::<8>::default());
    }
}
