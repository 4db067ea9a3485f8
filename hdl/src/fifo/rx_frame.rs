//! Store-and-forward receive FIFO: frame stream in (from `mac::rx`), host-side stream out.
//!
//! ```text
//!  in_valid/in_data ──► data RAM (2^ADDR_BITS bytes, written speculatively at wr_ptr)
//!  in_commit ──► publish: wr_start = wr_ptr - 4 (FCS dropped), {verdict, length} ──► meta RAM (32)
//!  in_abort  ──► rewind:  wr_ptr = wr_start
//!  host side: out_valid while a published frame waits; bytes from rd_ptr, out_len/out_verdict
//!             from the oldest metadata entry; out_last on byte out_len-1
//! ```
//!
//! Why store and forward: the MAC knows a frame is good only at its end (FCS, length,
//! filter), and the host must never see a bad one. Frames are therefore written at once and
//! only published on `in_commit`; `in_abort` makes the bytes disappear by moving the write
//! pointer back. The 4 FCS bytes are written too (the MAC cannot tell which bytes are the
//! last four until `end`) and are given back on commit: the next frame overwrites them.
//!
//! Overflow: a byte that finds the data RAM full marks the frame as dropped and nothing more
//! of it is written; a commit of a dropped frame, or a commit with all 32 metadata entries
//! taken, rewinds and counts `overflow_drops`. So a frame is kept whole or not at all, and
//! the frames after it start from a clean write pointer. A frame fits when its length
//! including FCS is at most the free space (`model::rx_reference::FifoModel` is the twin).
//! A commit of fewer than 5 bytes (nothing left after the FCS) is treated as an abort; the
//! MAC never sends one.
//!
//! Pointers are 16 bits and wrap; the RAM uses their low ADDR_BITS, so ADDR_BITS ≤ 15.
//! The data RAM has a registered read: its address is `rd_ptr`, or `rd_ptr + 1` on the
//! clock a byte is taken, so the next byte is on `out_data` one clock later, with no bubble.
//! Metadata becomes visible two clocks after it is written (`meta_wr_seen`, then the
//! registered `has_frame`): one for the same registered read, one to load the frame's byte
//! count (`rd_left`, with `left1`/`left2` flags so `out_last` is a register). For the same reason
//! the next frame shows two clocks after the last byte of a frame is taken (the metadata RAM
//! is read at the registered `meta_rd`).
use crate::counter::SatCounter32;
use crate::model::rx_reference::FCS_LEN;
use crate::ram::Ram;
use rust_hdl::prelude::*;

/// Frames that can wait for the host at once (size of the metadata RAM).
pub const META_ENTRIES: usize = 32;
const META_BITS: usize = 5;
const NO_BYTES_LEN: u64 = 0x1_0000 - FCS_LEN as u64;

#[derive(LogicBlock)]
pub struct RxFrameFifo<const ADDR_BITS: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Frame stream from mac::rx (lib.rs).
    pub in_valid: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_commit: Signal<In, Bit>,
    pub in_abort: Signal<In, Bit>,
    pub in_verdict: Signal<In, Bits<2>>,
    // Host-side stream.
    pub out_valid: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_last: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    /// Length of the frame being read (FCS stripped), valid with `out_valid`.
    pub out_len: Signal<Out, Bits<16>>,
    pub out_verdict: Signal<Out, Bits<2>>,
    // Counters, 32-bit saturating.
    pub frames_committed: Signal<Out, Bits<32>>,
    pub overflow_drops: Signal<Out, Bits<32>>,
    /// High for the clock `overflow_drops` counts a drop (for the card's statistics table).
    pub overflow_event: Signal<Out, Bit>,
    data_ram: Ram<Bits<8>, ADDR_BITS>,
    /// {verdict[17:16], length[15:0]} per published frame.
    meta_ram: Ram<Bits<18>, META_BITS>,
    cnt_committed: SatCounter32,
    cnt_overflow: SatCounter32,
    /// Next byte to write.
    wr_ptr: DFF<Bits<16>>,
    /// First byte of the frame being written = end of the published data.
    wr_start: DFF<Bits<16>>,
    /// The frame being written has lost a byte to a full RAM.
    dropping: DFF<Bit>,
    /// Bytes of the frame being written less the FCS (`wr_ptr - wr_start - 4`, counted as
    /// bytes are written: the length published needs no subtraction at the commit), and
    /// whether it is above 0 (more than the FCS was written).
    wr_len: DFFWithInit<Bits<16>>,
    wr_long: DFF<Bit>,
    /// The frame being written has a byte in the RAM.
    wr_any: DFF<Bit>,
    /// The data RAM has room for a byte (`used < depth`), as a register: computed from this
    /// clock's `used` and whether a byte goes in, comes out, or a frame is rewound.
    room: DFFWithInit<Bit>,
    /// Next byte to read.
    rd_ptr: DFF<Bits<16>>,
    /// Bytes of the head frame not yet taken, loaded from its length while none is; and
    /// whether that is 1 (`out_last`) or 2.
    rd_left: DFF<Bits<16>>,
    left1: DFF<Bit>,
    left2: DFF<Bit>,
    at_start: DFFWithInit<Bit>,
    /// The last byte of a frame was taken a clock ago: the metadata RAM is read at the
    /// registered `meta_rd`, so the successor's length shows, and loads, a clock later.
    popped: DFF<Bit>,
    /// `rd_ptr + 1`, kept as a register beside it so the data RAM's next address has no
    /// adder in front (timing).
    rd_ptr_p1: DFFWithInit<Bits<16>>,
    meta_wr: DFF<Bits<6>>,
    /// `meta_wr` one clock later: an entry counts as present once the RAM can show it.
    meta_wr_seen: DFF<Bits<6>>,
    meta_rd: DFF<Bits<6>>,
    used: Signal<Local, Bits<16>>,
    depth_less1: Constant<Bits<16>>,
    wrote: Signal<Local, Bit>,
    read_one: Signal<Local, Bit>,
    /// All metadata entries hold frames, as a register updated from this clock's push and
    /// pop: it gates the metadata RAM's write enable, and a subtraction and compare must not
    /// sit in front of that.
    meta_full: DFF<Bit>,
    meta_push: Signal<Local, Bit>,
    meta_pop: Signal<Local, Bit>,
    /// A published frame is at the head (`out_valid`), as a register: the DMA's take fans
    /// out to many enables, and no compare may sit in front of it.
    has_frame: DFF<Bit>,
    len: Signal<Local, Bits<16>>,
    last: Signal<Local, Bit>,
    depth: Constant<Bits<16>>,
    fcs_len: Constant<Bits<16>>,
    /// `wr_len` of a frame with no bytes yet: −FCS_LEN, wrapped.
    no_bytes_len: Constant<Bits<16>>,
    meta_entries_less1: Constant<Bits<6>>,
}

impl<const ADDR_BITS: usize> Default for RxFrameFifo<ADDR_BITS> {
    fn default() -> Self {
        assert!((1..=15).contains(&ADDR_BITS), "RxFrameFifo: ADDR_BITS must be 1..=15");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_data: Default::default(),
            in_commit: Default::default(),
            in_abort: Default::default(),
            in_verdict: Default::default(),
            out_valid: Default::default(),
            out_data: Default::default(),
            out_last: Default::default(),
            out_ready: Default::default(),
            out_len: Default::default(),
            out_verdict: Default::default(),
            frames_committed: Default::default(),
            overflow_drops: Default::default(),
            overflow_event: Default::default(),
            data_ram: Default::default(),
            meta_ram: Default::default(),
            cnt_committed: Default::default(),
            cnt_overflow: Default::default(),
            wr_ptr: Default::default(),
            wr_start: Default::default(),
            wr_len: DFFWithInit::new(NO_BYTES_LEN.to_bits()),
            wr_long: Default::default(),
            wr_any: Default::default(),
            room: DFFWithInit::new(true),
            dropping: Default::default(),
            rd_ptr: Default::default(),
            rd_left: Default::default(),
            left1: Default::default(),
            left2: Default::default(),
            at_start: DFFWithInit::new(true),
            popped: Default::default(),
            rd_ptr_p1: DFFWithInit::new(1_u64.to_bits()),
            meta_wr: Default::default(),
            meta_wr_seen: Default::default(),
            meta_rd: Default::default(),
            used: Default::default(),
            depth_less1: Constant::new(((1u64 << ADDR_BITS) - 1).to_bits()),
            wrote: Default::default(),
            read_one: Default::default(),
            meta_full: Default::default(),
            meta_push: Default::default(),
            meta_pop: Default::default(),
            has_frame: Default::default(),
            len: Default::default(),
            last: Default::default(),
            depth: Constant::new((1u64 << ADDR_BITS).to_bits()),
            fcs_len: Constant::new((FCS_LEN as u64).to_bits()),
            no_bytes_len: Constant::new(NO_BYTES_LEN.to_bits()),
            meta_entries_less1: Constant::new(((META_ENTRIES - 1) as u64).to_bits()),
        }
    }
}

impl<const ADDR_BITS: usize> RxFrameFifo<ADDR_BITS> {
    /// Bytes of frame data the FIFO holds (FCS included while a frame is being written).
    pub const DEPTH: usize = 1 << ADDR_BITS;
}

impl<const ADDR_BITS: usize> Logic for RxFrameFifo<ADDR_BITS> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            wr_ptr,
            wr_start,
            wr_len,
            wr_long,
            wr_any,
            room,
            dropping,
            rd_ptr,
            rd_left,
            left1,
            left2,
            at_start,
            popped,
            rd_ptr_p1,
            meta_wr,
            meta_wr_seen,
            has_frame,
            meta_rd,
            meta_full
        );
        clock!(self, clock, cnt_committed, cnt_overflow);
        self.data_ram.write_clock.next = self.clock.val();
        self.data_ram.read_clock.next = self.clock.val();
        self.meta_ram.write_clock.next = self.clock.val();
        self.meta_ram.read_clock.next = self.clock.val();
        self.cnt_committed.reset.next = self.reset.val();
        self.cnt_overflow.reset.next = self.reset.val();
        self.cnt_committed.inc.next = false;
        self.cnt_overflow.inc.next = false;

        // Write side: speculative bytes, then publish or rewind.
        self.used.next = self.wr_ptr.q.val() - self.rd_ptr.q.val();
        self.meta_push.next = false;
        self.meta_pop.next = false;
        self.data_ram.write_enable.next = false;
        self.data_ram.write_address.next = bit_cast::<ADDR_BITS, 16>(self.wr_ptr.q.val());
        self.data_ram.write_data.next = self.in_data.val();
        self.meta_ram.write_enable.next = false;
        self.meta_ram.write_address.next = bit_cast::<META_BITS, 6>(self.meta_wr.q.val());
        self.meta_ram.write_data.next =
            bit_cast::<18, 16>(self.wr_len.q.val()) | (bit_cast::<18, 2>(self.in_verdict.val()) << 16);
        self.meta_wr_seen.d.next = self.meta_wr.q.val();
        self.wrote.next = false;
        if self.in_commit.val() | self.in_abort.val() {
            self.wr_len.d.next = self.no_bytes_len.val();
            self.wr_long.d.next = false;
            self.wr_any.d.next = false;
        }
        if self.in_commit.val() {
            self.dropping.d.next = false;
            if self.dropping.q.val() | self.meta_full.q.val() {
                self.wr_ptr.d.next = self.wr_start.q.val();
                self.cnt_overflow.inc.next = true;
            } else if !self.wr_long.q.val() {
                self.wr_ptr.d.next = self.wr_start.q.val();
            } else {
                self.wr_ptr.d.next = self.wr_ptr.q.val() - self.fcs_len.val();
                self.wr_start.d.next = self.wr_ptr.q.val() - self.fcs_len.val();
                self.meta_ram.write_enable.next = true;
                self.meta_push.next = true;
                self.meta_wr.d.next = self.meta_wr.q.val() + 1;
                self.cnt_committed.inc.next = true;
            }
        } else if self.in_abort.val() {
            self.dropping.d.next = false;
            self.wr_ptr.d.next = self.wr_start.q.val();
        } else if self.in_valid.val() {
            if self.dropping.q.val() | !self.room.q.val() {
                self.dropping.d.next = true;
            } else {
                self.data_ram.write_enable.next = true;
                self.wr_ptr.d.next = self.wr_ptr.q.val() + 1;
                self.wr_len.d.next = self.wr_len.q.val() + 1;
                self.wr_any.d.next = true;
                self.wrote.next = true;
                if self.wr_len.q.val() == 0 {
                    self.wr_long.d.next = true;
                }
            }
        }

        // Read side: the oldest published frame, byte by byte.
        self.len.next = self.meta_ram.read_data.val().get_bits::<16>(0);
        self.last.next = self.left1.q.val();
        self.data_ram.read_address.next = bit_cast::<ADDR_BITS, 16>(self.rd_ptr.q.val());
        self.meta_ram.read_address.next = bit_cast::<META_BITS, 6>(self.meta_rd.q.val());
        self.popped.d.next = false;
        if self.has_frame.q.val() & self.out_ready.val() {
            self.rd_ptr.d.next = self.rd_ptr_p1.q.val();
            self.rd_ptr_p1.d.next = self.rd_ptr_p1.q.val() + 1;
            self.data_ram.read_address.next = bit_cast::<ADDR_BITS, 16>(self.rd_ptr_p1.q.val());
            self.at_start.d.next = false;
            self.rd_left.d.next = self.rd_left.q.val() - 1;
            self.left1.d.next = self.left2.q.val();
            self.left2.d.next = self.rd_left.q.val() == 3;
            if self.last.val() {
                self.at_start.d.next = true;
                self.popped.d.next = true;
                self.meta_pop.next = true;
                self.meta_rd.d.next = self.meta_rd.q.val() + 1;
            }
        } else if self.at_start.q.val() {
            self.rd_left.d.next = self.len.val();
            self.left1.d.next = self.len.val() == 1;
            self.left2.d.next = self.len.val() == 2;
        }
        // Room after this edge: a byte in takes one, a byte out frees one, and a rewind (a
        // commit or abort of a frame with bytes) frees at least one.
        self.read_one.next = self.has_frame.q.val() & self.out_ready.val();
        if self.wrote.val() {
            self.room.d.next = self.read_one.val() | (self.used.val() < self.depth_less1.val());
        } else if (self.in_commit.val() | self.in_abort.val()) & self.wr_any.q.val() {
            self.room.d.next = true;
        } else {
            self.room.d.next = self.read_one.val() | (self.used.val() < self.depth.val());
        }
        // Next clock's head: the head is unchanged unless this clock pops it, and the frame written
        // a clock ago shows (`meta_wr_seen` is next clock's second-stage view).
        self.has_frame.d.next =
            (self.meta_rd.q.val() != self.meta_wr_seen.q.val()) & !self.popped.q.val() & !self.meta_pop.val();
        // Full after this edge: one more frame into a queue one short of full, none out.
        if self.meta_push.val() & !self.meta_pop.val() {
            self.meta_full.d.next = (self.meta_wr.q.val() - self.meta_rd.q.val()) == self.meta_entries_less1.val();
        } else if self.meta_pop.val() & !self.meta_push.val() {
            self.meta_full.d.next = false;
        }
        self.out_valid.next = self.has_frame.q.val();
        self.out_data.next = self.data_ram.read_data.val();
        self.out_last.next = self.has_frame.q.val() & self.last.val();
        self.out_len.next = self.len.val();
        self.out_verdict.next = self.meta_ram.read_data.val().get_bits::<2>(16);
        self.frames_committed.next = self.cnt_committed.count.val();
        self.overflow_drops.next = self.cnt_overflow.count.val();
        self.overflow_event.next = self.cnt_overflow.inc.val();

        if self.reset.val() {
            self.wr_ptr.d.next = 0.into();
            self.wr_start.d.next = 0.into();
            self.wr_len.d.next = self.no_bytes_len.val();
            self.wr_long.d.next = false;
            self.wr_any.d.next = false;
            self.room.d.next = true;
            self.dropping.d.next = false;
            self.rd_ptr.d.next = 0.into();
            self.rd_left.d.next = 0.into();
            self.left1.d.next = false;
            self.left2.d.next = false;
            self.at_start.d.next = true;
            self.popped.d.next = false;
            self.has_frame.d.next = false;
            self.rd_ptr_p1.d.next = 1.into();
            self.meta_wr.d.next = 0.into();
            self.meta_wr_seen.d.next = 0.into();
            self.meta_rd.d.next = 0.into();
            self.meta_full.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::rx::testbench::{drive_config, drive_phy, schedule};
    use crate::model::rx_reference::*;
    use crate::sim::{cycle, cycle_traced, settle};
    use crate::top::rx_path::{RxMacPath, RX_FIFO_ADDR_BITS};
    use crate::verilog::vectors::{signal_hex, Qualified, VectorRecorder};
    use crate::verilog::{assert_replays, export::export, tools::tool_for_test};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// One clock of frame-stream input.
    #[derive(Copy, Clone, Debug, Default)]
    struct FrameClock {
        valid: bool,
        data: u8,
        commit: bool,
        abort: bool,
        verdict: u8,
    }

    /// The frame stream for `frame` (FCS appended), ended by commit with its verdict or by
    /// abort, then `gap` idle clocks.
    fn frame_clocks(frame: &DeliveredFrame, commit: bool, gap: usize) -> Vec<FrameClock> {
        let mut v: Vec<FrameClock> = with_fcs(&frame.bytes)
            .into_iter()
            .map(|data| FrameClock { valid: true, data, ..Default::default() })
            .collect();
        v.push(FrameClock { commit, abort: !commit, verdict: frame.verdict.code(), ..Default::default() });
        v.extend(std::iter::repeat_n(FrameClock::default(), gap));
        v
    }

    /// The host-side outputs (`out_*`) of the FIFO, or of a path that ends in it, this clock.
    #[derive(Copy, Clone)]
    struct HostPorts {
        valid: bool,
        data: u8,
        last: bool,
        len: usize,
        verdict: u8,
    }

    macro_rules! host_ports {
        ($uut:expr) => {
            HostPorts {
                valid: $uut.out_valid.val(),
                data: $uut.out_data.val().to_u8(),
                last: $uut.out_last.val(),
                len: $uut.out_len.val().index(),
                verdict: $uut.out_verdict.val().to_u8(),
            }
        };
    }

    /// The host side: collects frames and checks the stream's rules on every clock.
    #[derive(Default)]
    struct Host {
        frames: Vec<DeliveredFrame>,
        bytes: Vec<u8>,
        /// (out_len, out_verdict) seen on the first byte of the frame being read.
        header: Option<(usize, u8)>,
    }

    impl Host {
        /// Look at the outputs before the clock edge; `ready` is what out_ready is now.
        fn observe(&mut self, out: HostPorts, ready: bool) {
            if !out.valid {
                assert!(self.bytes.is_empty(), "out_valid dropped in the middle of a frame");
                return;
            }
            let now = (out.len, out.verdict);
            assert_eq!(*self.header.get_or_insert(now), now, "out_len/out_verdict changed within a frame");
            if ready {
                self.bytes.push(out.data);
                assert_eq!(out.last, self.bytes.len() == now.0, "out_last at byte {}", self.bytes.len());
                if out.last {
                    let bytes = std::mem::take(&mut self.bytes);
                    self.frames.push(DeliveredFrame { bytes, verdict: Verdict::from_code(now.1) });
                    self.header = None;
                }
            }
        }
    }

    fn new_fifo<const A: usize>() -> RxFrameFifo<A> {
        let mut fifo = RxFrameFifo::<A>::default();
        fifo.connect_all();
        fifo.reset.next = true;
        cycle(&mut fifo, |u| &mut u.clock);
        fifo.reset.next = false;
        fifo
    }

    /// Feed `input`, then `extra` idle clocks, with out_ready = `ready(clock)`.
    fn run<const A: usize>(
        fifo: &mut RxFrameFifo<A>,
        host: &mut Host,
        input: &[FrameClock],
        extra: usize,
        mut ready: impl FnMut(usize) -> bool,
    ) {
        for i in 0..input.len() + extra {
            let c = input.get(i).copied().unwrap_or_default();
            fifo.in_valid.next = c.valid;
            fifo.in_data.next = c.data.to_bits();
            fifo.in_commit.next = c.commit;
            fifo.in_abort.next = c.abort;
            fifo.in_verdict.next = c.verdict.to_bits();
            let r = ready(i);
            fifo.out_ready.next = r;
            settle(fifo);
            host.observe(host_ports!(fifo), r);
            cycle(fifo, |u| &mut u.clock);
        }
    }

    fn counters<const A: usize>(fifo: &RxFrameFifo<A>) -> (u32, u32) {
        (fifo.frames_committed.val().to_u32(), fifo.overflow_drops.val().to_u32())
    }

    fn frame(rng: &mut ChaCha8Rng, len: usize) -> DeliveredFrame {
        DeliveredFrame {
            bytes: (0..len).map(|_| rng.gen()).collect(),
            verdict: Verdict::from_code(rng.gen_range(0..4)),
        }
    }

    #[test]
    fn exact_fit_is_kept_one_byte_more_is_dropped_whole() {
        const A: usize = 8;
        let depth = RxFrameFifo::<A>::DEPTH;
        let mut rng = ChaCha8Rng::seed_from_u64(20);
        let mut model = FifoModel::new(FifoCapacity { data_bytes: depth, meta_entries: META_ENTRIES });
        let first = frame(&mut rng, 96);
        let free_after_first = depth - 96;
        // Lengths are without FCS: with it, `one_more` needs free+1 bytes, `exact` exactly free.
        let one_more = frame(&mut rng, free_after_first - FCS_LEN + 1);
        let exact = frame(&mut rng, free_after_first - FCS_LEN);
        let tiny = frame(&mut rng, 1); // 5 bytes with FCS: only 4 are left
        let mut input = Vec::new();
        for f in [&first, &one_more, &exact, &tiny] {
            input.extend(frame_clocks(f, true, 0));
            model.commit(f.clone());
        }
        assert_eq!(model.overflow_drops, 2, "the vectors must exercise both drops");
        let mut fifo = new_fifo::<A>();
        let mut host = Host::default();
        // Nothing is read while the FIFO fills up.
        run(&mut fifo, &mut host, &input, 0, |_| false);
        assert!(host.frames.is_empty());
        assert_eq!(counters(&fifo), (model.frames_committed, model.overflow_drops));
        // Drain, then a frame after the drops goes through untouched.
        let after = frame(&mut rng, 200);
        run(&mut fifo, &mut host, &[], 600, |_| true);
        run(&mut fifo, &mut host, &frame_clocks(&after, true, 0), 300, |_| true);
        let mut want: Vec<DeliveredFrame> = std::iter::from_fn(|| model.pop()).collect();
        model.commit(after);
        want.extend(std::iter::from_fn(|| model.pop()));
        assert_eq!(host.frames, want);
        assert_eq!(counters(&fifo), (model.frames_committed, model.overflow_drops));
    }

    #[test]
    fn metadata_full_drops_whole_frame() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let mut model = FifoModel::new(FifoCapacity::default());
        let mut input = Vec::new();
        for _ in 0..META_ENTRIES + 2 {
            let f = frame(&mut rng, 60);
            input.extend(frame_clocks(&f, true, 1));
            model.commit(f);
        }
        assert_eq!(model.overflow_drops, 2);
        let mut fifo = new_fifo::<12>();
        let mut host = Host::default();
        run(&mut fifo, &mut host, &input, 0, |_| false);
        assert_eq!(counters(&fifo), (META_ENTRIES as u32, 2));
        let last = frame(&mut rng, 70);
        run(&mut fifo, &mut host, &frame_clocks(&last, true, 0), 3000, |_| true);
        let mut want: Vec<DeliveredFrame> = std::iter::from_fn(|| model.pop()).collect();
        want.push(last);
        assert_eq!(host.frames, want);
    }

    /// Writes and reads at the same time, aborts among commits, a host that stalls at
    /// random, and a FIFO small enough to overflow now and then. Which frames overflow
    /// depends on timing, so the check is: what arrives is, in order, a subsequence of the
    /// committed frames, never an aborted one, and every committed frame is either
    /// delivered or counted as an overflow drop.
    #[test]
    fn concurrent_read_write_with_aborts_and_stalls() {
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        let mut committed = Vec::new();
        let mut input = Vec::new();
        for _ in 0..150 {
            let len = rng.gen_range(1..300);
            let f = frame(&mut rng, len);
            let commit = rng.gen_bool(0.7);
            input.extend(frame_clocks(&f, commit, rng.gen_range(0..4)));
            if commit && f.bytes.len() + FCS_LEN > 4 {
                committed.push(f);
            }
        }
        let mut fifo = new_fifo::<10>();
        let mut host = Host::default();
        let pattern: Vec<bool> = (0..input.len() + 40_000).map(|_| rng.gen_bool(0.6)).collect();
        run(&mut fifo, &mut host, &input, 40_000, |i| pattern[i]);
        let (n_committed, n_dropped) = counters(&fifo);
        assert!(n_dropped > 0, "the test should overflow the FIFO at least once");
        assert_eq!(n_committed as usize, host.frames.len());
        assert_eq!(host.frames.len() + n_dropped as usize, committed.len());
        let mut rest = committed.iter();
        for (i, got) in host.frames.iter().enumerate() {
            assert!(rest.any(|c| c == got), "delivered frame {i} is not the next committed frame");
        }
    }

    #[test]
    fn reset_empties_the_fifo() {
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        let mut fifo = new_fifo::<12>();
        let mut host = Host::default();
        run(&mut fifo, &mut host, &frame_clocks(&frame(&mut rng, 80), true, 2), 0, |_| false);
        assert!(fifo.out_valid.val());
        fifo.reset.next = true;
        cycle(&mut fifo, |u| &mut u.clock);
        fifo.reset.next = false;
        host = Host::default();
        run(&mut fifo, &mut host, &[], 3, |_| true);
        assert!(!fifo.out_valid.val());
        assert_eq!(counters(&fifo), (0, 0));
        let f = frame(&mut rng, 64);
        run(&mut fifo, &mut host, &frame_clocks(&f, true, 0), 100, |_| true);
        assert_eq!(host.frames, vec![f]);
    }

    /// Every counter of the path in the reference's form. `RxMacPath` exports the FIFO's
    /// commits as `frames_ok`; the MAC's own `frames_ok` is read inside it.
    fn path_counters(uut: &RxMacPath) -> RxCounters {
        let mac_frames_ok = signal_hex(uut, "mac$frames_ok").expect("RxMacPath has mac$frames_ok");
        RxCounters {
            frames_ok: u32::from_str_radix(&mac_frames_ok, 16).unwrap(),
            fcs_errors: uut.fcs_errors.val().to_u32(),
            runts: uut.runts.val().to_u32(),
            giants: uut.giants.val().to_u32(),
            phy_errors: uut.phy_errors.val().to_u32(),
            bad_preamble: uut.bad_preamble.val().to_u32(),
            filtered: uut.filtered.val().to_u32(),
            frames_committed: uut.frames_ok.val().to_u32(),
            overflow_drops: uut.fifo_overflows.val().to_u32(),
        }
    }

    /// Bursts through MacRx and the FIFO (`top::rx_path::RxMacPath`); the host reads when
    /// `ready(clock)`. Returns what the host got, every counter in the reference's form, and
    /// the clocks simulated.
    fn run_path(
        cfg: &MacConfig,
        bursts: &[PhyBurst],
        gap: impl FnMut(usize) -> usize,
        ready: impl FnMut(usize) -> bool,
    ) -> (Vec<DeliveredFrame>, RxCounters, usize) {
        let mut uut = RxMacPath::default();
        uut.connect_all();
        run_path_traced(&mut uut, cfg, bursts, gap, ready, None)
    }

    /// [`run_path`] on a given (connected) path, recording every port per step when `rec`
    /// is given, for a Verilog replay.
    fn run_path_traced(
        uut: &mut RxMacPath,
        cfg: &MacConfig,
        bursts: &[PhyBurst],
        gap: impl FnMut(usize) -> usize,
        mut ready: impl FnMut(usize) -> bool,
        mut rec: Option<&mut VectorRecorder>,
    ) -> (Vec<DeliveredFrame>, RxCounters, usize) {
        drive_config!(uut, cfg);
        uut.reset.next = true;
        cycle_traced(uut, |u| &mut u.clock, rec.as_deref_mut());
        uut.reset.next = false;
        let mut host = Host::default();
        let phy = schedule(bursts, gap, |_| 0);
        // Enough idle clocks at the end for the host to drain a full FIFO.
        let drain = 2 * RxFrameFifo::<RX_FIFO_ADDR_BITS>::DEPTH + 100;
        for i in 0..phy.len() + drain {
            drive_phy!(uut, &phy.get(i).copied().unwrap_or_default());
            let r = ready(i);
            uut.out_ready.next = r;
            settle(uut);
            host.observe(host_ports!(uut), r);
            cycle_traced(uut, |u| &mut u.clock, rec.as_deref_mut());
        }
        assert!(!uut.out_valid.val(), "frames left after draining");
        (host.frames, path_counters(uut), phy.len() + drain)
    }

    fn random_config(rng: &mut ChaCha8Rng) -> MacConfig {
        MacConfig {
            station: {
                let mut s: [u8; 6] = rng.gen();
                s[0] &= !1;
                s
            },
            // About a quarter of the bins joined, so both multicast classes occur.
            mcast_hash: rng.gen::<u64>() & rng.gen::<u64>(),
            ..Default::default()
        }
    }

    fn compare(got: &[DeliveredFrame], want: &[DeliveredFrame]) {
        assert_eq!(got.len(), want.len(), "number of frames delivered");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g, w, "delivered frame {i}");
        }
    }

    /// Returns the clocks simulated.
    fn random_path_run(seed: u64, n: usize) -> usize {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cfg = random_config(&mut rng);
        let bursts: Vec<PhyBurst> = (0..n).map(|_| random_burst(&mut rng, &cfg, 60..=1514, 0.2)).collect();
        let gaps: Vec<usize> = (0..n).map(|_| rng.gen_range(0..3)).collect();
        let (got, counters, clocks) = run_path(&cfg, &bursts, |i| gaps[i], |_| true);
        let (want, want_counters) = expected_rx(&cfg, &bursts);
        compare(&got, &want);
        assert_eq!(counters, want_counters);
        // The vectors cover what they claim to: every verdict but promiscuous, and drops.
        for v in [Verdict::Station, Verdict::Multicast, Verdict::Broadcast] {
            assert!(want.iter().any(|f| f.verdict == v), "no {v:?} frame in the vectors");
        }
        assert!(want_counters.filtered > 0 && want_counters.fcs_errors > 0 && want_counters.phy_errors > 0);
        clocks
    }

    /// A few hundred random bursts (60–1514 bytes + FCS, all destination classes, one in
    /// five corrupted, back to back with 0–2 idle clocks) through MacRx and the FIFO, the
    /// host always ready: exactly the reference's frames, in order, and its counters.
    #[test]
    fn random_bursts_through_mac_and_fifo() {
        random_path_run(30, 300);
    }

    /// The same with 10,000 bursts over ten seeds; prints the simulation speed. Slow (2–3
    /// minutes): `cargo test -p nic-hdl --lib long_random_bursts -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn long_random_bursts_through_mac_and_fifo() {
        let start = std::time::Instant::now();
        let clocks: usize = (100..110).map(|seed| random_path_run(seed, 1000)).sum();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{{\"bench\":\"rx_path_mac_fifo\",\"bursts\":10000,\"clocks\":{clocks},\"seconds\":{secs:.2},\"clocks_per_second\":{:.0}}}",
            clocks as f64 / secs
        );
    }

    /// The host reads nothing until every burst is in: the FIFO fills, frames that do not
    /// fit are dropped whole, and the result matches the capacity-aware reference.
    #[test]
    fn unread_fifo_matches_capacity_model() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let mut cfg = random_config(&mut rng);
        cfg.promisc = true;
        let bursts: Vec<PhyBurst> = (0..40).map(|_| random_burst(&mut rng, &cfg, 60..=400, 0.1)).collect();
        let quiet = bursts.iter().map(|b| b.bytes.len() + 1).sum::<usize>();
        let (got, counters, _) = run_path(&cfg, &bursts, |_| 0, |i| i > quiet);
        let (want, want_counters) = expected_rx_unread(&cfg, &bursts, FifoCapacity::default());
        assert!(want_counters.overflow_drops > 0, "the vectors must overflow the FIFO");
        compare(&got, &want);
        assert_eq!(counters, want_counters);
    }

    /// The whole receive path on vectors with runts, giants, corruption and host stalls
    /// delivers the reference's frames and counters, and its generated Verilog, replayed in
    /// Icarus Verilog, gives the same outputs on every step: what is synthesized behaves as
    /// what was simulated.
    #[test]
    fn generated_verilog_matches_reference_in_iverilog() {
        let mut rng = ChaCha8Rng::seed_from_u64(32);
        let cfg = random_config(&mut rng);
        let mut bursts: Vec<PhyBurst> = (0..30).map(|_| random_burst(&mut rng, &cfg, 50..=1530, 0.2)).collect();
        // Make sure of a runt, a giant and an FCS error among them.
        bursts[3] = burst(&random_frame_to(&mut rng, &cfg.station, 59), 7);
        bursts[10] = burst(&random_frame_to(&mut rng, &cfg.station, 1519), 7);
        bursts[20] = burst(&random_frame_to(&mut rng, &cfg.station, 100), 7);
        bursts[20].bytes[50] ^= 4;
        let mut uut = RxMacPath::default();
        let module = export("nic_rx_mac_path", &mut uut);
        let mut rec = VectorRecorder::new(&module);
        // Idle clocks after each burst so a host ready 90% of the time keeps up: no overflow.
        let (frames, counters, _) = run_path_traced(
            &mut uut,
            &cfg,
            &bursts,
            |i| bursts[i].bytes.len() / 4,
            |_| rng.gen_bool(0.9),
            Some(&mut rec),
        );
        let (want, c) = expected_rx(&cfg, &bursts);
        assert!(c.runts > 0 && c.giants > 0 && c.fcs_errors > 0, "vectors lack corner cases: {c:?}");
        compare(&frames, &want);
        assert_eq!(counters, c);
        if tool_for_test("iverilog") {
            // The stream's payload is don't-care while out_valid is low (unwritten RAM is x).
            let q = |output| Qualified { output, when: "out_valid" };
            assert_replays(&module, &rec, &[q("out_data"), q("out_last"), q("out_len"), q("out_verdict")]);
        }
    }

    #[test]
    fn gateware_sizes_match_the_reference_default() {
        let d = FifoCapacity::default();
        assert_eq!((RxFrameFifo::<12>::DEPTH, META_ENTRIES), (d.data_bytes, d.meta_entries));
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        crate::verilog::assert_lints_and_checks("nic_macrx_rx_frame_fifo", &mut RxFrameFifo::<12>::default());
    }
}
