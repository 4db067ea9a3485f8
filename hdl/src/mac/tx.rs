//! MAC transmit: host-side byte stream in, PHY TX byte stream out (see `lib.rs`).
//!
//! For each frame the MAC sends 7 preamble bytes (0x55), the SFD (0xD5), the frame bytes,
//! zeros up to 60 bytes, the FCS (`!crc` of everything after the SFD, least significant
//! byte first) and then `ifg_bytes` idle byte times. Every step is paced by the PHY's
//! `phy_ready` pulses, so the gap is exact in byte times whatever the PHY's rate.
//!
//! The byte on `phy_data`/`phy_en`/`phy_er` always comes from registers: on the clock
//! edge where `phy_ready` is high the PHY takes it and the MAC loads the next one. A host
//! byte is therefore taken (`in_ready`) on the same edge the PHY takes the byte before it,
//! and `in_ready` is combinational from `phy_ready` and this block's registers, never from
//! `in_valid` (and the host's `in_valid` must not depend on `in_ready`, the usual
//! valid/ready rule). Mid-frame it is high whether or not a byte is offered.
//!
//! Aborts. The MAC has no frame buffer, so if the host has no byte when one is needed
//! mid-frame (**underflow**) the frame cannot be finished. It is cut short on the line:
//! the next four bytes are the *complement* of the correct FCS of what was sent, with `er`
//! high on all four, so the frame fails at the receiver even through a PHY that ignores
//! `er`. The rest of the frame is then read from the host and dropped up to `in_last`
//! (while the FCS and the gap go out), and the next frame starts only after that.
//! **Oversize** frames are handled the same way: when `max_len - 4` frame bytes have been
//! sent and the host has not ended the frame, the MAC aborts instead of sending byte
//! `max_len - 3`, so the line never carries more than `max_len` bytes after the SFD.
//! An aborted frame counts in `underflows` or `oversize`, not in `frames_sent`/`bytes_sent`.
use crate::counter::SatCounter32;
use crate::mac::crc::Crc32Byte;
use rust_hdl::prelude::*;

/// What the registers on the PHY side currently present.
#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
pub enum TxState {
    /// Idle byte (en low), no frame waiting when it was loaded.
    Idle,
    /// Preamble byte number `count` (1..=7).
    Preamble,
    /// The SFD (`count` = 0) or frame byte number `count`; `cur_last` if it was the last.
    Data,
    /// A padding zero; `count` bytes of frame + padding so far.
    Pad,
    /// FCS byte number `fcs_idx` (0..=3), complemented and with er when `aborting`.
    Fcs,
    /// Gap byte number `count` (1..=ifg).
    Gap,
}

/// What happens to `count` on the coming edge; the flags kept beside it follow it in one place.
#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
pub enum CountOp {
    Hold,
    /// `count + 1`.
    Step,
    /// 0 (the SFD, reset).
    Zero,
    /// 1 (the first preamble or gap byte).
    One,
}

#[derive(LogicBlock)]
pub struct MacTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Host side.
    pub in_valid: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_last: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    // PHY TX byte stream.
    pub phy_ready: Signal<In, Bit>,
    pub phy_data: Signal<Out, Bits<8>>,
    pub phy_en: Signal<Out, Bit>,
    pub phy_er: Signal<Out, Bit>,
    // Configuration (tie to `DEFAULT_IFG` / `DEFAULT_MAX_LEN` of `model::tx_reference`).
    /// Idle byte times after each frame (12 = 96 bit times). 0 is allowed.
    pub ifg_bytes: Signal<In, Bits<8>>,
    /// Longest frame, FCS included, that is sent; longer ones are aborted. Below 64 it still
    /// applies to the host's bytes (`max_len - 4` at most) but not to padding; below 4 the
    /// subtraction wraps and there is no limit.
    pub max_len: Signal<In, Bits<16>>,
    // Counters, 32-bit saturating.
    pub frames_sent: Signal<Out, Bits<32>>,
    /// Bytes after the SFD (frame, padding, FCS) of the frames counted in `frames_sent`.
    pub bytes_sent: Signal<Out, Bits<32>>,
    pub underflows: Signal<Out, Bits<32>>,
    pub oversize: Signal<Out, Bits<32>>,

    state: DFF<TxState>,
    /// Preamble index, then frame length (data + padding), then gap index.
    count: DFF<Bits<16>>,
    /// `count + 1`, kept as a register so the oversize test compares flip-flops.
    count_p1: DFFWithInit<Bits<16>>,
    /// `count >= max_len - 4` in the data state (where `count` starts at 0 and steps by 1):
    /// the frame may not take another host byte. Updated with `count` from registers.
    full: DFF<Bit>,
    /// `count < 60` (padding still needed) and `count >= ifg_bytes` (the gap is over), kept
    /// the same way.
    short: DFF<Bit>,
    gap_done: DFF<Bit>,
    /// `count == 7`: the preamble's last byte is out (kept like the three above).
    pre_done: DFF<Bit>,
    /// `max_len - 4` (wrapping, as before), and whether it is 0, as of the last edge.
    limit: DFF<Bits<16>>,
    limit_zero: DFF<Bit>,
    out_data: DFF<Bits<8>>,
    out_en: DFF<Bit>,
    out_er: DFF<Bit>,
    cur_last: DFF<Bit>,
    fcs_idx: DFF<Bits<2>>,
    /// FCS bytes still to send, next one in the low byte.
    fcs_shift: DFF<Bits<32>>,
    /// The frame being finished was aborted (FCS complemented, er high).
    aborting: DFF<Bit>,
    /// Reading and dropping host bytes up to `in_last` after an abort.
    draining: DFF<Bit>,
    /// In the data state and the last byte not yet taken: with `phy_ready` and not `full`,
    /// a host byte is taken. A register computed from the next state (timing: `in_ready` is an AND
    /// of flip-flops and `phy_ready`, not a decode of the state machine).
    in_open: DFF<Bit>,
    frames: SatCounter32,
    bytes: DFF<Bits<32>>,
    underflow_count: SatCounter32,
    oversize_count: SatCounter32,
    fcs_crc: Crc32Byte,

    // Combinational steps of one PHY byte time.
    do_pad: Signal<Local, Bit>,
    do_fcs: Signal<Local, Bit>,
    do_abort: Signal<Local, Bit>,
    go_idle: Signal<Local, Bit>,
    frame_done: Signal<Local, Bit>,
    next_count: Signal<Local, Bits<16>>,
    count_op: Signal<Local, CountOp>,
    fcs_good: Signal<Local, Bits<32>>,
    bytes_sum: Signal<Local, Bits<33>>,
    ones: Constant<Bits<32>>,
    min_len: Constant<Bits<16>>,
    preamble_len: Constant<Bits<16>>,
    preamble_byte: Constant<Bits<8>>,
    sfd: Constant<Bits<8>>,
}

impl Default for MacTx {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_data: Default::default(),
            in_last: Default::default(),
            in_ready: Default::default(),
            phy_ready: Default::default(),
            phy_data: Default::default(),
            phy_en: Default::default(),
            phy_er: Default::default(),
            ifg_bytes: Default::default(),
            max_len: Default::default(),
            frames_sent: Default::default(),
            bytes_sent: Default::default(),
            underflows: Default::default(),
            oversize: Default::default(),
            state: Default::default(),
            count: Default::default(),
            count_p1: DFFWithInit::new(1_u64.to_bits()),
            full: Default::default(),
            short: Default::default(),
            gap_done: Default::default(),
            pre_done: Default::default(),
            limit: Default::default(),
            limit_zero: Default::default(),
            out_data: Default::default(),
            out_en: Default::default(),
            out_er: Default::default(),
            cur_last: Default::default(),
            fcs_idx: Default::default(),
            fcs_shift: Default::default(),
            aborting: Default::default(),
            draining: Default::default(),
            in_open: Default::default(),
            frames: Default::default(),
            bytes: Default::default(),
            underflow_count: Default::default(),
            oversize_count: Default::default(),
            fcs_crc: Default::default(),
            do_pad: Default::default(),
            do_fcs: Default::default(),
            do_abort: Default::default(),
            go_idle: Default::default(),
            frame_done: Default::default(),
            next_count: Default::default(),
            count_op: Default::default(),
            fcs_good: Default::default(),
            bytes_sum: Default::default(),
            ones: Constant::new(0xFFFF_FFFF_u64.to_bits()),
            min_len: Constant::new(60_u64.to_bits()),
            preamble_len: Constant::new(7_u64.to_bits()),
            preamble_byte: Constant::new(0x55_u64.to_bits()),
            sfd: Constant::new(0xD5_u64.to_bits()),
        }
    }
}

impl Logic for MacTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, count, count_p1, full, short, gap_done, pre_done, limit, limit_zero, out_data, out_en,
            out_er, cur_last, fcs_idx, fcs_shift, aborting, draining, in_open, bytes
        );
        clock!(self, clock, fcs_crc, frames, underflow_count, oversize_count);
        self.phy_data.next = self.out_data.q.val();
        self.phy_en.next = self.out_en.q.val();
        self.phy_er.next = self.out_er.q.val();
        self.frames_sent.next = self.frames.count.val();
        self.bytes_sent.next = self.bytes.q.val();
        self.underflows.next = self.underflow_count.count.val();
        self.oversize.next = self.oversize_count.count.val();
        self.frames.reset.next = self.reset.val();
        self.underflow_count.reset.next = self.reset.val();
        self.oversize_count.reset.next = self.reset.val();
        self.frames.inc.next = false;
        self.underflow_count.inc.next = false;
        self.oversize_count.inc.next = false;
        self.in_ready.next = false;
        self.fcs_crc.init.next = false;
        self.fcs_crc.enable.next = false;
        self.fcs_crc.data.next = self.in_data.val();
        self.do_pad.next = false;
        self.do_fcs.next = false;
        self.do_abort.next = false;
        self.go_idle.next = false;
        self.frame_done.next = false;
        self.limit.d.next = self.max_len.val() - 4;
        self.limit_zero.d.next = self.max_len.val() == 4;
        self.next_count.next = self.count_p1.q.val();
        self.count_op.next = CountOp::Hold;
        self.fcs_good.next = !self.fcs_crc.crc.val();
        // The carry out of bit 31 says the 32-bit count saturates (no compare after the add).
        self.bytes_sum.next = bit_cast::<33, 32>(self.bytes.q.val()) + bit_cast::<33, 16>(self.count.q.val()) + 4;

        // After an abort, swallow the rest of the frame from the host, independently of
        // the PHY's pace (the host must not be stalled by a frame that will never be sent).
        if self.draining.q.val() {
            self.in_ready.next = true;
            if self.in_valid.val() & self.in_last.val() {
                self.draining.d.next = false;
            }
        }

        if self.phy_ready.val() {
            match self.state.q.val() {
                TxState::Idle => {
                    self.go_idle.next = true;
                }
                TxState::Preamble => {
                    if self.pre_done.q.val() {
                        self.out_data.d.next = self.sfd.val();
                        self.count_op.next = CountOp::Zero;
                        self.cur_last.d.next = false;
                        self.state.d.next = TxState::Data;
                    } else {
                        self.count_op.next = CountOp::Step;
                    }
                }
                TxState::Data => {
                    // Ready for a byte whether or not one is offered (none offered is an
                    // underflow): `in_valid` then never reaches `in_ready`, which the host's
                    // take fans out from.
                    if self.in_open.q.val() & !self.full.q.val() {
                        self.in_ready.next = true;
                    }
                    if self.cur_last.q.val() {
                        if self.short.q.val() {
                            self.do_pad.next = true;
                        } else {
                            self.do_fcs.next = true;
                        }
                    } else if self.full.q.val() {
                        self.do_abort.next = true;
                        self.oversize_count.inc.next = true;
                    } else if self.in_valid.val() {
                        self.out_data.d.next = self.in_data.val();
                        self.cur_last.d.next = self.in_last.val();
                        self.count_op.next = CountOp::Step;
                        self.fcs_crc.enable.next = true;
                    } else {
                        self.do_abort.next = true;
                        self.underflow_count.inc.next = true;
                    }
                }
                TxState::Pad => {
                    if self.short.q.val() {
                        self.do_pad.next = true;
                    } else {
                        self.do_fcs.next = true;
                    }
                }
                TxState::Fcs => {
                    if self.fcs_idx.q.val() == 3 {
                        self.frame_done.next = !self.aborting.q.val();
                        if self.ifg_bytes.val() == 0 {
                            self.go_idle.next = true;
                        } else {
                            self.out_en.d.next = false;
                            self.out_er.d.next = false;
                            self.out_data.d.next = 0.into();
                            self.count_op.next = CountOp::One;
                            self.state.d.next = TxState::Gap;
                        }
                    } else {
                        self.out_data.d.next = self.fcs_shift.q.val().get_bits::<8>(0);
                        self.fcs_shift.d.next = self.fcs_shift.q.val() >> 8;
                        self.fcs_idx.d.next = self.fcs_idx.q.val() + 1;
                    }
                }
                TxState::Gap => {
                    if self.gap_done.q.val() {
                        self.go_idle.next = true;
                    } else {
                        self.count_op.next = CountOp::Step;
                    }
                }
                _ => {
                    self.go_idle.next = true;
                }
            }
        }

        if self.do_pad.val() {
            self.out_data.d.next = 0.into();
            self.count_op.next = CountOp::Step;
            self.fcs_crc.data.next = 0.into();
            self.fcs_crc.enable.next = true;
            self.state.d.next = TxState::Pad;
        }
        // The CRC register already holds every byte sent: they are folded in as they are
        // loaded, one byte time ahead of the FCS.
        if self.do_fcs.val() {
            self.out_data.d.next = self.fcs_good.val().get_bits::<8>(0);
            self.fcs_shift.d.next = self.fcs_good.val() >> 8;
            self.fcs_idx.d.next = 0.into();
            self.state.d.next = TxState::Fcs;
        }
        // Complemented FCS (= the raw register) with er on all four bytes.
        if self.do_abort.val() {
            self.out_data.d.next = self.fcs_crc.crc.val().get_bits::<8>(0);
            self.fcs_shift.d.next = self.fcs_crc.crc.val() >> 8;
            self.fcs_idx.d.next = 0.into();
            self.out_er.d.next = true;
            self.aborting.d.next = true;
            self.draining.d.next = true;
            self.state.d.next = TxState::Fcs;
        }
        // The gap is over (or there was none): start the next frame at once if the host
        // has one, so back-to-back frames are exactly `ifg_bytes` apart.
        if self.go_idle.val() {
            self.out_er.d.next = false;
            self.aborting.d.next = false;
            if self.in_valid.val() & !self.draining.q.val() {
                self.fcs_crc.init.next = true;
                self.out_data.d.next = self.preamble_byte.val();
                self.out_en.d.next = true;
                self.count_op.next = CountOp::One;
                self.state.d.next = TxState::Preamble;
            } else {
                self.out_data.d.next = 0.into();
                self.out_en.d.next = false;
                self.state.d.next = TxState::Idle;
            }
        }
        if self.frame_done.val() {
            self.frames.inc.next = true;
            if self.bytes_sum.val().get_bit(32) {
                self.bytes.d.next = self.ones.val();
            } else {
                self.bytes.d.next = self.bytes_sum.val().get_bits::<32>(0);
            }
        }

        // `in_ready` is left as the state says during reset (the host side is reset on the
        // same edge, and the reset net then reaches no combinational output).
        if self.reset.val() {
            self.state.d.next = TxState::Idle;
            self.count_op.next = CountOp::Zero;
            self.out_data.d.next = 0.into();
            self.out_en.d.next = false;
            self.out_er.d.next = false;
            self.cur_last.d.next = false;
            self.aborting.d.next = false;
            self.draining.d.next = false;
            self.bytes.d.next = 0.into();
        }
        // `count`, and what is kept beside it: `count + 1` and the four tests of the next
        // value, each a compare of flip-flops (`full` and `short` matter in the data and pad
        // states, where `count` starts at 0; `gap_done` in the gap, where it starts at 1;
        // `pre_done` in the preamble, where it starts at 1).
        match self.count_op.val() {
            CountOp::Step => {
                self.count.d.next = self.next_count.val();
                self.count_p1.d.next = self.count_p1.q.val() + 1;
                self.full.d.next = self.count_p1.q.val() >= self.limit.q.val();
                self.short.d.next = self.count_p1.q.val() < self.min_len.val();
                self.gap_done.d.next = self.count_p1.q.val() >= bit_cast::<16, 8>(self.ifg_bytes.val());
                self.pre_done.d.next = self.count_p1.q.val() == self.preamble_len.val();
            }
            CountOp::Zero => {
                self.count.d.next = 0.into();
                self.count_p1.d.next = 1.into();
                self.full.d.next = self.limit_zero.q.val();
                self.short.d.next = true;
                self.pre_done.d.next = false;
            }
            CountOp::One => {
                self.count.d.next = 1.into();
                self.count_p1.d.next = 2.into();
                self.full.d.next = false;
                self.short.d.next = true;
                self.gap_done.d.next = self.ifg_bytes.val() <= 1;
                self.pre_done.d.next = false;
            }
            _ => {}
        }
        self.in_open.d.next = (self.state.d.val() == TxState::Data) & !self.cur_last.d.val();
        if self.reset.val() {
            self.in_open.d.next = false;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::tx_reference::{
        check_transmission, decode_frame, is_aborted_frame, split_frames, wire_bytes, WireByte, DEFAULT_IFG,
        DEFAULT_MAX_LEN,
    };
    use crate::sim::{cycle, cycle_traced};
    use crate::verilog::{assert_replays, export::export, tools::tool_for_test, vectors::VectorRecorder};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// One frame offered by the host model, with optional holes in its stream.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct HostFrame {
        pub bytes: Vec<u8>,
        /// Host clocks to wait before offering the first byte.
        pub idle_before: usize,
        /// `(i, n)`: withhold byte `i` for `n` clocks once the MAC has taken byte `i - 1`.
        pub hole: Option<(usize, usize)>,
    }

    impl HostFrame {
        pub fn new(bytes: Vec<u8>) -> Self {
            HostFrame { bytes, ..Default::default() }
        }
    }

    /// The host side of a MacTx: offers frames byte by byte with the valid/ready rule.
    pub(crate) struct Host {
        frames: Vec<HostFrame>,
        f: usize,
        i: usize,
        wait: usize,
        hole_done: bool,
    }

    impl Host {
        pub fn new(frames: Vec<HostFrame>) -> Self {
            let wait = frames.first().map_or(0, |f| f.idle_before);
            Host { frames, f: 0, i: 0, wait, hole_done: false }
        }

        pub fn done(&self) -> bool {
            self.f >= self.frames.len()
        }

        /// The host's outputs for this clock: `(in_valid, in_data, in_last)`.
        pub fn drive(&mut self) -> (bool, u8, bool) {
            let Some(fr) = self.frames.get(self.f) else {
                return (false, 0, false);
            };
            if !self.hole_done && self.wait == 0 {
                if let Some((at, n)) = fr.hole {
                    if at == self.i && n > 0 {
                        self.wait = n;
                        self.hole_done = true;
                    }
                }
            }
            if self.wait > 0 {
                return (false, 0, false);
            }
            (true, fr.bytes[self.i], self.i + 1 == fr.bytes.len())
        }

        /// Before the clock edge: `took` = the MAC's `in_valid && in_ready`.
        pub fn advance(&mut self, took: bool) {
            if self.wait > 0 {
                self.wait -= 1;
                return;
            }
            if self.done() || !took {
                return;
            }
            self.i += 1;
            if self.i == self.frames[self.f].bytes.len() {
                self.f += 1;
                self.i = 0;
                self.hole_done = false;
                self.wait = self.frames.get(self.f).map_or(0, |f| f.idle_before);
            }
        }
    }

    /// Drive a MacTx's host inputs from `host` (the tests of the PHY adapters reuse it).
    pub(crate) fn drive_host(host: &mut Host, mac: &mut MacTx) {
        let (valid, data, last) = host.drive();
        mac.in_valid.next = valid;
        mac.in_data.next = data.to_bits();
        mac.in_last.next = last;
    }

    pub(crate) fn new_mac(ifg: u8, max_len: u16) -> MacTx {
        let mut uut = MacTx::default();
        uut.connect_all();
        configure_and_reset(&mut uut, ifg, max_len, None);
        uut
    }

    fn configure_and_reset(uut: &mut MacTx, ifg: u8, max_len: u16, rec: Option<&mut VectorRecorder>) {
        uut.ifg_bytes.next = ifg.to_bits();
        uut.max_len.next = (max_len as u64).to_bits();
        uut.reset.next = true;
        cycle_traced(uut, |u| &mut u.clock, rec);
        uut.reset.next = false;
    }

    /// Run the MAC with `ready` high one clock in `ready_every` until the host has
    /// nothing left and the line has been idle for a while; return every byte time.
    pub(crate) fn run(uut: &mut MacTx, frames: Vec<HostFrame>, ready_every: usize) -> Vec<WireByte> {
        run_traced(uut, frames, ready_every, None)
    }

    /// [`run`], recording every port per step when `rec` is given (`verilog::vectors`).
    fn run_traced(
        uut: &mut MacTx,
        frames: Vec<HostFrame>,
        ready_every: usize,
        mut rec: Option<&mut VectorRecorder>,
    ) -> Vec<WireByte> {
        let mut host = Host::new(frames);
        let mut line = Vec::new();
        let mut idle_after = 0usize;
        let mut t = 0usize;
        while !(host.done() && idle_after > 100) {
            assert!(t < 1_000_000, "MacTx did not finish");
            let ready = t.is_multiple_of(ready_every);
            uut.phy_ready.next = ready;
            drive_host(&mut host, uut);
            crate::sim::settle(uut);
            if ready {
                let b = WireByte { en: uut.phy_en.val(), er: uut.phy_er.val(), data: uut.phy_data.val().to_u8() };
                idle_after = if b.en { 0 } else { idle_after + 1 };
                line.push(b);
            }
            host.advance(uut.in_valid.val() && uut.in_ready.val());
            cycle_traced(uut, |u| &mut u.clock, rec.as_deref_mut());
            t += 1;
        }
        line
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed)).collect()
    }

    #[test]
    fn frames_padded_fcs_and_gap_match_reference() {
        let lens = [1usize, 59, 60, 61, 1514, 64];
        let frames: Vec<Vec<u8>> = lens.iter().map(|&n| pattern(n, n as u8)).collect();
        let mut uut = new_mac(DEFAULT_IFG, DEFAULT_MAX_LEN);
        let line = run(&mut uut, frames.iter().cloned().map(HostFrame::new).collect(), 1);
        check_transmission(&line, &frames, DEFAULT_IFG as usize).unwrap();
        assert_eq!(uut.frames_sent.val().to_u32(), lens.len() as u32);
        let bytes: usize = lens.iter().map(|&n| n.max(60) + 4).sum();
        assert_eq!(uut.bytes_sent.val().to_u32(), bytes as u32);
        assert_eq!(uut.underflows.val().to_u32(), 0);
        assert_eq!(uut.oversize.val().to_u32(), 0);
    }

    #[test]
    fn gap_counts_phy_byte_times_with_other_ifg_and_slow_phy() {
        let frames: Vec<Vec<u8>> = (0..4).map(|k| pattern(40 + 13 * k, k as u8)).collect();
        for (ifg, ready_every) in [(5u8, 1usize), (20, 3), (1, 1), (1, 2)] {
            let mut uut = new_mac(ifg, DEFAULT_MAX_LEN);
            let line = run(&mut uut, frames.iter().cloned().map(HostFrame::new).collect(), ready_every);
            check_transmission(&line, &frames, ifg as usize).unwrap();
        }
    }

    #[test]
    fn zero_gap_puts_frames_back_to_back() {
        let frames = [pattern(10, 1), pattern(70, 2)];
        let mut uut = new_mac(0, DEFAULT_MAX_LEN);
        let line = run(&mut uut, frames.iter().cloned().map(HostFrame::new).collect(), 1);
        let cap = split_frames(&line);
        // Without a gap the two frames are one burst of en on the wire.
        assert_eq!(cap.frames.len(), 1);
        let mut both = wire_bytes(&frames[0]);
        both.extend(wire_bytes(&frames[1]));
        assert_eq!(cap.frames[0].bytes, both);
        assert_eq!(uut.frames_sent.val().to_u32(), 2);
    }

    #[test]
    fn underflow_aborts_frame_and_next_is_fine() {
        let frames = [pattern(100, 1), pattern(80, 2), pattern(70, 3)];
        let mut host: Vec<HostFrame> = frames.iter().cloned().map(HostFrame::new).collect();
        // The host runs dry after 30 bytes of the second frame for 3 clocks.
        host[1].hole = Some((30, 3));
        let mut uut = new_mac(DEFAULT_IFG, DEFAULT_MAX_LEN);
        let line = run(&mut uut, host, 1);
        let cap = split_frames(&line);
        assert_eq!(cap.frames.len(), 3);
        assert_eq!(cap.frames[0].bytes, wire_bytes(&frames[0]));
        let bad = &cap.frames[1];
        assert!(is_aborted_frame(bad), "{bad:?}");
        // What was sent before the abort is the frame's first 30 bytes, nothing after.
        assert_eq!(bad.bytes.len(), 8 + 30 + 4);
        assert_eq!(&bad.bytes[..8 + 30], &wire_bytes(&frames[1])[..8 + 30]);
        assert_eq!(bad.er_at, (8 + 30..8 + 34).collect::<Vec<_>>());
        assert!(decode_frame(bad).is_err());
        // The rest of frame 1 was dropped from the input; frame 2 follows intact.
        assert_eq!(cap.frames[2].bytes, wire_bytes(&frames[2]));
        assert!(cap.frames[2].gap_before >= DEFAULT_IFG as usize);
        assert_eq!(uut.underflows.val().to_u32(), 1);
        assert_eq!(uut.frames_sent.val().to_u32(), 2);
        assert_eq!(uut.bytes_sent.val().to_u32(), (100 + 4 + 70 + 4) as u32);
    }

    #[test]
    fn underflow_after_first_byte_and_before_last_byte() {
        for at in [1usize, 79] {
            let frames = [pattern(80, 5), pattern(61, 6)];
            let mut host: Vec<HostFrame> = frames.iter().cloned().map(HostFrame::new).collect();
            host[0].hole = Some((at, 50));
            let mut uut = new_mac(DEFAULT_IFG, DEFAULT_MAX_LEN);
            let line = run(&mut uut, host, 1);
            let cap = split_frames(&line);
            assert_eq!(cap.frames.len(), 2, "hole at {at}");
            assert!(is_aborted_frame(&cap.frames[0]));
            assert_eq!(cap.frames[0].bytes.len(), 8 + at + 4);
            assert_eq!(cap.frames[1].bytes, wire_bytes(&frames[1]));
            assert_eq!(uut.underflows.val().to_u32(), 1);
            assert_eq!(uut.frames_sent.val().to_u32(), 1);
        }
    }

    #[test]
    fn oversize_frames_are_cut_at_max_len_and_counted() {
        // (max_len, PHY pace): the default limit, where 1514 data bytes pass and 1515 do
        // not, and a small configured one with a slower PHY.
        for (max_len, ready_every) in [(DEFAULT_MAX_LEN, 1), (100, 2)] {
            let data_max = max_len as usize - 4;
            let frames = [pattern(data_max + 1, 1), pattern(data_max, 2)];
            let mut uut = new_mac(DEFAULT_IFG, max_len);
            let host = frames.iter().cloned().map(HostFrame::new).collect();
            let cap = split_frames(&run(&mut uut, host, ready_every));
            assert_eq!(cap.frames.len(), 2);
            // Cut after max_len - 4 data bytes: exactly max_len bytes after the SFD.
            assert!(is_aborted_frame(&cap.frames[0]));
            assert_eq!(cap.frames[0].bytes.len(), 8 + max_len as usize);
            assert_eq!(&cap.frames[0].bytes[..8 + data_max], &wire_bytes(&frames[0])[..8 + data_max]);
            assert_eq!(cap.frames[1].bytes, wire_bytes(&frames[1]));
            assert_eq!(uut.oversize.val().to_u32(), 1);
            assert_eq!(uut.frames_sent.val().to_u32(), 1);
        }
    }

    #[test]
    fn random_frames_gaps_and_pacing() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x7a);
        for _round in 0..4 {
            let ifg: u8 = rng.gen_range(1..30);
            let ready_every = rng.gen_range(1..4);
            let frames: Vec<Vec<u8>> =
                (0..8).map(|_| (0..rng.gen_range(1..200)).map(|_| rng.gen()).collect()).collect();
            let host: Vec<HostFrame> = frames
                .iter()
                .map(|f| HostFrame {
                    bytes: f.clone(),
                    idle_before: rng.gen_range(0..3) * rng.gen_range(0..200),
                    hole: None,
                })
                .collect();
            let mut uut = new_mac(ifg, DEFAULT_MAX_LEN);
            let line = run(&mut uut, host, ready_every);
            let cap = split_frames(&line);
            assert_eq!(cap.frames.len(), frames.len());
            for (k, (got, want)) in cap.frames.iter().zip(&frames).enumerate() {
                assert_eq!(got.bytes, wire_bytes(want));
                // The first frame's gap is counted from the start of the capture.
                assert!(k == 0 || got.gap_before >= ifg as usize);
            }
            assert_eq!(uut.frames_sent.val().to_u32(), frames.len() as u32);
        }
    }

    #[test]
    fn reset_mid_frame_returns_to_idle_and_clears_counters() {
        let frames = [pattern(100, 1), pattern(70, 2)];
        let mut uut = new_mac(DEFAULT_IFG, DEFAULT_MAX_LEN);
        run(&mut uut, vec![HostFrame::new(frames[0].clone())], 1);
        assert_eq!(uut.frames_sent.val().to_u32(), 1);
        // Start a frame, reset in its middle.
        let mut host = Host::new(vec![HostFrame::new(frames[1].clone())]);
        uut.phy_ready.next = true;
        for _ in 0..30 {
            drive_host(&mut host, &mut uut);
            crate::sim::settle(&mut uut);
            host.advance(uut.in_valid.val() && uut.in_ready.val());
            cycle(&mut uut, |u| &mut u.clock);
        }
        assert!(uut.phy_en.val());
        uut.reset.next = true;
        uut.in_valid.next = false;
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        assert!(!uut.phy_en.val() && !uut.phy_er.val());
        assert_eq!(uut.frames_sent.val().to_u32(), 0);
        assert_eq!(uut.bytes_sent.val().to_u32(), 0);
        // The next frame goes out whole.
        let line = run(&mut uut, vec![HostFrame::new(frames[0].clone())], 1);
        let cap = split_frames(&line);
        assert_eq!(cap.frames.len(), 1);
        assert_eq!(cap.frames[0].bytes, wire_bytes(&frames[0]));
    }

    /// Back-to-back frames put the reference wire bytes and gaps on the line, and the
    /// generated Verilog, replayed in Icarus Verilog, gives the same outputs on every step:
    /// what is exported is what was simulated.
    #[test]
    fn generated_verilog_simulates_like_the_reference() {
        let frames = vec![pattern(1, 1), pattern(61, 2), pattern(130, 3)];
        let mut uut = MacTx::default();
        let module = export("nic_mac_tx", &mut uut);
        let mut rec = VectorRecorder::new(&module);
        configure_and_reset(&mut uut, 12, 1518, Some(&mut rec));
        let host = frames.iter().cloned().map(HostFrame::new).collect();
        let line = run_traced(&mut uut, host, 1, Some(&mut rec));
        check_transmission(&line, &frames, 12).unwrap();
        assert_eq!(uut.frames_sent.val().to_u32(), frames.len() as u32);
        if tool_for_test("iverilog") {
            assert_replays(&module, &rec, &[]);
        }
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        crate::verilog::assert_lints_and_checks("nic_mac_tx", &mut MacTx::default());
    }
}
