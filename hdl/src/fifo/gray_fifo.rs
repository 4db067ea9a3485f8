//! A dual-clock FIFO whose pointers cross as Gray code through two flip-flops: the textbook
//! clock-domain crossing (Cummings, "Simulation and Synthesis Techniques for Asynchronous
//! FIFO Design"), in place of Rust-HDL's `AsynchronousFIFO`, which passes pointers with a
//! request/acknowledge handshake (several clocks per update, and a fill compare after it).
//!
//! * Each side keeps its pointer in binary and in Gray code (one more bit than the address,
//!   for full/empty), both registers. The Gray pointer changes one bit per step, so the other
//!   side's two synchronizing flip-flops see either the old or the new value, never a mix.
//! * The far pointer, once synchronized, is turned back to binary into a register. Every
//!   flag is then a compare of two registers (`almost_full` and `write_fill` on the write
//!   side) or a register (`full`; `empty`, computed a clock ahead from the next read pointer
//!   and the far pointer's next binary value, so a read decision has no compare before it). A far pointer seen late only makes the flags
//!   conservative (the FIFO looks fuller to the writer, emptier to the reader), never wrong.
//! * `data_out` shows the head word whenever `empty` is low (first-word fall-through: the
//!   RAM reads the next address as a word is taken). A `write` while `full` or a `read`
//!   while `empty` is ignored.
//!
//! No reset: both pointers start at zero, like the widget it replaces; a side that must
//! restart drains it. A word becomes visible to the reader four of its clocks after it is
//! written at the earliest (two synchronizers, the binary conversion, the RAM read).
use crate::ram::Ram;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct GrayFifo<D: Synth, const N: usize, const NP1: usize> {
    // Write side.
    pub write_clock: Signal<In, Clock>,
    pub write: Signal<In, Bit>,
    pub data_in: Signal<In, D>,
    /// At least 2^`N` - 1 words are in (a register: a clock behind this side's own last write,
    /// so it is raised a word early and a write is never lost).
    pub full: Signal<Out, Bit>,
    /// At least `almost_full_at` words are in the FIFO (as the writer sees it).
    pub almost_full: Signal<Out, Bit>,
    pub write_fill: Signal<Out, Bits<NP1>>,
    // Read side.
    pub read_clock: Signal<In, Clock>,
    pub read: Signal<In, Bit>,
    pub data_out: Signal<Out, D>,
    pub empty: Signal<Out, Bit>,
    /// `!empty`: a word is on `data_out`.
    pub valid: Signal<Out, Bit>,

    ram: Ram<D, N>,
    w_bin: DFF<Bits<NP1>>,
    full_q: DFF<Bit>,
    w_gray: DFF<Bits<NP1>>,
    /// The read pointer in the write domain: two synchronizers, then binary.
    r_gray_s1: DFF<Bits<NP1>>,
    r_gray_s2: DFF<Bits<NP1>>,
    r_bin_w: DFF<Bits<NP1>>,
    r_bin: DFF<Bits<NP1>>,
    r_gray: DFF<Bits<NP1>>,
    /// A word is at the head: the read pointer differs from the far write pointer (as
    /// binary, converted from the synchronized Gray code), as a register.
    has_word: DFF<Bit>,
    /// `r_bin + 1` as a register: a read selects between two registers for the RAM's read
    /// address (as `r_bin + read`, Yosys puts the read on a carry chain before the RAM).
    r_next: DFFWithInit<Bits<NP1>>,
    /// The write pointer in the read domain (Gray, two synchronizers).
    w_gray_s1: DFF<Bits<NP1>>,
    w_gray_s2: DFF<Bits<NP1>>,
    k_size_m1: Constant<Bits<NP1>>,
    k_almost: Constant<Bits<NP1>>,
    fill: Signal<Local, Bits<NP1>>,
    do_write: Signal<Local, Bit>,
    do_read: Signal<Local, Bit>,
    w_next: Signal<Local, Bits<NP1>>,
    r_conv: Signal<Local, Bits<NP1>>,
    w_conv: Signal<Local, Bits<NP1>>,
}

impl<D: Synth, const N: usize, const NP1: usize> GrayFifo<D, N, NP1> {
    /// A FIFO of 2^`N` words (`NP1` = `N` + 1) whose `almost_full` rises at `almost_full_at`.
    pub fn new(almost_full_at: usize) -> Self {
        assert_eq!(NP1, N + 1, "NP1 must be N + 1");
        assert!(NP1 <= 8, "pointers of up to 8 bits (the Gray-to-binary steps)");
        assert!((1..=1 << N).contains(&almost_full_at), "almost_full_at must be 1..=2^N");
        Self {
            write_clock: Default::default(),
            write: Default::default(),
            data_in: Default::default(),
            full: Default::default(),
            almost_full: Default::default(),
            write_fill: Default::default(),
            read_clock: Default::default(),
            read: Default::default(),
            data_out: Default::default(),
            empty: Default::default(),
            valid: Default::default(),
            ram: Default::default(),
            w_bin: Default::default(),
            full_q: Default::default(),
            w_gray: Default::default(),
            r_gray_s1: Default::default(),
            r_gray_s2: Default::default(),
            r_bin_w: Default::default(),
            r_bin: Default::default(),
            r_gray: Default::default(),
            has_word: Default::default(),
            r_next: DFFWithInit::new(1_u64.to_bits()),
            w_gray_s1: Default::default(),
            w_gray_s2: Default::default(),
            k_size_m1: Constant::new(((1_u64 << N) - 1).to_bits()),
            k_almost: Constant::new((almost_full_at as u64).to_bits()),
            fill: Default::default(),
            do_write: Default::default(),
            do_read: Default::default(),
            w_next: Default::default(),
            r_conv: Default::default(),
            w_conv: Default::default(),
        }
    }
}

impl<D: Synth, const N: usize, const NP1: usize> Logic for GrayFifo<D, N, NP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, write_clock, w_bin, full_q, w_gray, r_gray_s1, r_gray_s2, r_bin_w);
        dff_setup!(self, read_clock, r_bin, r_gray, r_next, has_word, w_gray_s1, w_gray_s2);
        self.ram.write_clock.next = self.write_clock.val();
        self.ram.read_clock.next = self.read_clock.val();

        // ---- Write side.
        self.r_gray_s1.d.next = self.r_gray.q.val();
        self.r_gray_s2.d.next = self.r_gray_s1.q.val();
        // Gray to binary: bit i is the XOR of the Gray bits i and above (a prefix XOR in
        // three doubling steps, enough for pointers of up to 8 bits).
        self.r_conv.next = self.r_gray_s2.q.val() ^ (self.r_gray_s2.q.val() >> 1);
        self.r_conv.next = self.r_conv.val() ^ (self.r_conv.val() >> 2);
        self.r_conv.next = self.r_conv.val() ^ (self.r_conv.val() >> 4);
        self.r_bin_w.d.next = self.r_conv.val();
        self.fill.next = self.w_bin.q.val() - self.r_bin_w.q.val();
        self.full_q.d.next = self.fill.val() >= self.k_size_m1.val();
        self.full.next = self.full_q.q.val();
        self.almost_full.next = self.fill.val() >= self.k_almost.val();
        self.write_fill.next = self.fill.val();
        self.do_write.next = self.write.val() & !self.full_q.q.val();
        self.w_next.next = self.w_bin.q.val() + 1;
        self.ram.write_enable.next = self.do_write.val();
        self.ram.write_address.next = self.w_bin.q.val().get_bits::<N>(0);
        self.ram.write_data.next = self.data_in.val();
        if self.do_write.val() {
            self.w_bin.d.next = self.w_next.val();
            self.w_gray.d.next = self.w_next.val() ^ (self.w_next.val() >> 1);
        }

        // ---- Read side.
        self.w_gray_s1.d.next = self.w_gray.q.val();
        self.w_gray_s2.d.next = self.w_gray_s1.q.val();
        self.w_conv.next = self.w_gray_s2.q.val() ^ (self.w_gray_s2.q.val() >> 1);
        self.w_conv.next = self.w_conv.val() ^ (self.w_conv.val() >> 2);
        self.w_conv.next = self.w_conv.val() ^ (self.w_conv.val() >> 4);
        self.empty.next = !self.has_word.q.val();
        self.valid.next = self.has_word.q.val();
        self.do_read.next = self.read.val() & self.has_word.q.val();
        self.has_word.d.next = self.r_bin.q.val() != self.w_conv.val();
        self.ram.read_address.next = self.r_bin.q.val().get_bits::<N>(0);
        if self.do_read.val() {
            self.r_bin.d.next = self.r_next.q.val();
            self.has_word.d.next = self.r_next.q.val() != self.w_conv.val();
            self.r_next.d.next = self.r_next.q.val() + 1;
            self.r_gray.d.next = self.r_next.q.val() ^ (self.r_next.q.val() >> 1);
            self.ram.read_address.next = self.r_next.q.val().get_bits::<N>(0);
        }
        self.data_out.next = self.ram.read_data.val();
    }
}

#[cfg(test)]
mod tests;
