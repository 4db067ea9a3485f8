//! RX DMA (issue 3, item 3): frames from the RX frame FIFO into posted host buffers, one
//! 16-byte completion per frame, through a 64-bit AXI4 master.
//!
//! [`RxDma`] takes the frame stream of `top::rx_path::RxMacPath` (`out_*`: FCS already
//! stripped, `in_len`/`in_verdict` valid with `in_valid` for the whole frame) and the RX
//! descriptor and completion rings of `nic_regs::ring`. One clock = one rising edge.
//!
//! # Per frame
//! While the block is idle and `in_valid` is high, on one edge it decides, in this order:
//! 1. **stopped** (a bus error was seen): nothing; the frame stays in the FIFO (which then
//!    fills, and the MAC counts `RX_FIFO_OVERFLOW`) until `reset`.
//! 2. **`enable` low** (`CONTROL.RX_EN` clear: the host gave the card no ring): the frame is
//!    *dropped*.
//! 3. **A descriptor is prefetched** (the next unused one, index `d`):
//!    * frame longer than the descriptor's `LEN`: the frame is *dropped*; the descriptor is
//!      not consumed and waits for the next frame (so a too-small buffer does not leak, and
//!      a host that posts only small buffers sees every big frame counted);
//!    * else, when the completion ring has room (`d - rxc_consumer < 2^rxc_log2_size`; else
//!      wait, the FIFO absorbs) and the previous frame's write addresses are all issued: the
//!      frame is *accepted* into descriptor `d`.
//! 4. **No descriptor posted beyond those used** (`rxd_producer` = next index to fetch =
//!    next index to use): the frame is *dropped*.
//! 5. Otherwise (posted, read still in flight or about to be issued): wait.
//!
//! A *dropped* frame is drained from the FIFO (one byte per clock), counted in
//! `no_buffer_drops` and `no_buffer` pulses; drops never consume a descriptor or a
//! completion slot. An *accepted* frame's bytes (one per clock, as long as the 8-beat write
//! queue has room) are written to `ADDR .. ADDR+len` of its buffer, then its completion
//! (`LEN` = frame length, `CSUM` = `nic_regs::net::rx_sum` of the frame computed as the
//! bytes pass, `DESC_INDEX` = `d`, `VERDICT` = `in_verdict`, `STATUS` = 0, `PHASE` =
//! `phase_for_index(d, rxc_log2_size)`) to slot `d mod 2^rxc_log2_size` of the completion
//! ring. Completion `i` always reports descriptor `i` (both count accepted frames since
//! reset), so the two rings may differ in size but their indices stay equal.
//! The FIFO's `in_last` is redundant with `in_len` and not used: a frame ends after `in_len`
//! bytes (`in_len` ≥ 1, as the FIFO guarantees).
//!
//! # Host memory writes
//! * Bursts of 8-byte beats (`awsize` 3, INCR), split at every 2 KiB boundary (so at most
//!   256 beats and never across 4 KiB). **Any buffer alignment** is handled: the first and
//!   last beats carry only the frame's bytes in `wstrb`; no byte outside `ADDR .. ADDR+len`
//!   is written. Ring bases are taken with bits 3:0 cleared (the ABI asks for multiples of
//!   16).
//! * Write addresses go out as soon as a frame is accepted (all its data bursts), the
//!   completion's address when its last byte has passed; at most 16 writes are outstanding
//!   (address issued, response not yet seen). Beats never go out before their address, and
//!   no transaction waits for an earlier response, with one exception:
//! * **A completion is written only after every earlier write was answered OKAY**: its two
//!   beats wait until the responses of all earlier bursts (its frame's data) are in. Later
//!   frames' bytes queue meanwhile (8 beats), so this costs latency (about one write round
//!   trip per completion), not throughput. So the host never sees a completion for a frame
//!   whose data did not land, and the completion is behind its data whatever the
//!   interconnect's ordering.
//! * `rxc_producer` advances, `frames_written` counts and `rx_event` pulses when a
//!   completion's write is answered OKAY.
//!
//! # Descriptor prefetch
//! Descriptors are read ahead into a 16-entry buffer: whenever `enable` is high, no bus error
//! was seen, no read address is waiting, at least 8 entries are free and the host has posted
//! descriptors not yet requested, one read of `n` descriptors (`2n` beats) is issued, `n` =
//! the least of: posted and not requested, 8, entries to the end of the ring, entries to the
//! end of the 4 KiB page. Several reads may be in flight. `rxd_consumer` is the number of
//! descriptors *fetched* (both beats arrived OKAY): the host may rewrite ring slots before
//! it, while the buffers they name stay the device's until their completions (as an NVMe
//! submission queue's head). Prefetched descriptors stay when `enable` falls and are used
//! when it rises again; to change a ring's base or size, the host pulses `SOFT_RESET`.
//!
//! # Bus errors
//! Any `bresp` or `rresp` ≠ OKAY stops the queue: no new descriptor read, no new frame (the
//! frame being written is read to its end from the FIFO), `dma_error` pulses once and
//! `dma_errors` counts once. Every write beat presented after the error carries `wstrb` = 0,
//! so nothing more lands in host memory; a completion not yet issued is not issued, one whose
//! address is out goes with `wstrb` = 0. Outstanding transactions are drained (responses and
//! read data taken and discarded). `stopped` is high once the error was seen and nothing is
//! outstanding any more. Only `reset` restarts the queue.
//!
//! # Pulses and counters
//! `rx_event`, `no_buffer` and `dma_error` are registered: each is high for the one clock
//! after the edge that counted its event, one pulse per event. The counters are
//! [`SatCounter32`]s, updated on that edge. `reset` (synchronous, active high) empties
//! everything: indices, prefetched descriptors, queued beats, error state.
use crate::counter::SatCounter32;
use nic_regs::ring::{CPL_CSUM, CPL_DESC_INDEX, CPL_LEN, CPL_PHASE, CPL_STATUS, CPL_VERDICT, DESC_ADDR, DESC_LEN};
use rust_hdl::prelude::*;

pub mod reference;

/// Descriptors the prefetch buffer holds (log2).
pub const DESC_FIFO_BITS: usize = 4;
pub const DESC_FIFO_ENTRIES: usize = 1 << DESC_FIFO_BITS;
/// Most descriptors one read fetches; a read is issued only with this many entries free.
pub const DESC_BATCH: usize = 8;
/// Write beats queued between the byte packer and the W channel (log2).
pub const WQ_BITS: usize = 3;
pub const WQ_ENTRIES: usize = 1 << WQ_BITS;
/// Writes (address issued, response not seen) allowed at once.
pub const MAX_WRITES: usize = 16;
/// Bytes of a data burst's span: bursts are split where an address is a multiple of this.
pub const BURST_SPAN: u64 = 2048;

// The layouts the kernel builds with literal shifts.
const _: () = assert!(DESC_ADDR.lsb == 0 && DESC_ADDR.width == 64);
const _: () = assert!(DESC_LEN.lsb == 64 && DESC_LEN.width == 16);
const _: () = assert!(CPL_LEN.lsb == 0 && CPL_LEN.width == 16);
const _: () = assert!(CPL_CSUM.lsb == 16 && CPL_CSUM.width == 16);
const _: () = assert!(CPL_DESC_INDEX.lsb == 32 && CPL_DESC_INDEX.width == 16);
const _: () = assert!(CPL_VERDICT.lsb == 64 + 32 && CPL_VERDICT.width == 2);
const _: () = assert!(CPL_STATUS.lsb == 64 + 40 && CPL_STATUS.width == 8);
const _: () = assert!(CPL_PHASE.lsb == 64 + 63 && CPL_PHASE.width == 1);
const _: () = assert!(nic_regs::net::ETH_HEADER_LEN == 14);
const _: () = assert!(BURST_SPAN == 256 * 8 && 4096 % BURST_SPAN == 0);
const _: () = assert!(MAX_WRITES == 16 && DESC_FIFO_ENTRIES == 16 && DESC_BATCH == 8 && WQ_ENTRIES == 8);

/// The frame side.
#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
pub enum RxPState {
    /// Between frames: deciding on the frame offered.
    Idle,
    /// Taking the accepted frame's bytes into the write queue.
    Stream,
    /// Draining a dropped frame.
    Drain,
    /// Queueing completion beat 0 (and issuing the completion's address).
    Cpl0,
    /// Queueing completion beat 1.
    Cpl1,
}

/// The write-address side.
#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
pub enum RxAwState {
    Idle,
    /// Issuing the accepted frame's data bursts.
    Data,
    /// Data bursts issued; waiting for the frame's end.
    Done,
    /// Issuing the completion's burst.
    Cpl,
}

#[derive(LogicBlock)]
pub struct RxDma {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// `CONTROL.RX_EN`.
    pub enable: Signal<In, Bit>,
    // Frame stream from the RX frame FIFO.
    pub in_valid: Signal<In, Bit>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_last: Signal<In, Bit>,
    pub in_len: Signal<In, Bits<16>>,
    pub in_verdict: Signal<In, Bits<2>>,
    pub in_ready: Signal<Out, Bit>,
    // Rings (from/to the CSR).
    pub rxd_base: Signal<In, Bits<64>>,
    pub rxd_log2_size: Signal<In, Bits<4>>,
    pub rxd_producer: Signal<In, Bits<16>>,
    pub rxd_consumer: Signal<Out, Bits<16>>,
    pub rxc_base: Signal<In, Bits<64>>,
    pub rxc_log2_size: Signal<In, Bits<4>>,
    pub rxc_consumer: Signal<In, Bits<16>>,
    pub rxc_producer: Signal<Out, Bits<16>>,
    // To the interrupt block and STATUS.
    pub rx_event: Signal<Out, Bit>,
    pub no_buffer: Signal<Out, Bit>,
    pub dma_error: Signal<Out, Bit>,
    pub stopped: Signal<Out, Bit>,
    pub frames_written: Signal<Out, Bits<32>>,
    pub no_buffer_drops: Signal<Out, Bits<32>>,
    pub dma_errors: Signal<Out, Bits<32>>,
    // AXI4 master.
    pub axi_awvalid: Signal<Out, Bit>,
    pub axi_awready: Signal<In, Bit>,
    pub axi_awaddr: Signal<Out, Bits<64>>,
    pub axi_awlen: Signal<Out, Bits<8>>,
    pub axi_awsize: Signal<Out, Bits<3>>,
    pub axi_awburst: Signal<Out, Bits<2>>,
    pub axi_wvalid: Signal<Out, Bit>,
    pub axi_wready: Signal<In, Bit>,
    pub axi_wdata: Signal<Out, Bits<64>>,
    pub axi_wstrb: Signal<Out, Bits<8>>,
    pub axi_wlast: Signal<Out, Bit>,
    pub axi_bvalid: Signal<In, Bit>,
    pub axi_bready: Signal<Out, Bit>,
    pub axi_bresp: Signal<In, Bits<2>>,
    pub axi_arvalid: Signal<Out, Bit>,
    pub axi_arready: Signal<In, Bit>,
    pub axi_araddr: Signal<Out, Bits<64>>,
    pub axi_arlen: Signal<Out, Bits<8>>,
    pub axi_arsize: Signal<Out, Bits<3>>,
    pub axi_arburst: Signal<Out, Bits<2>>,
    pub axi_rvalid: Signal<In, Bit>,
    pub axi_rready: Signal<Out, Bit>,
    pub axi_rdata: Signal<In, Bits<64>>,
    pub axi_rresp: Signal<In, Bits<2>>,
    pub axi_rlast: Signal<In, Bit>,

    /// Prefetched descriptors, {LEN[79:64], ADDR[63:0]}, slot = index mod 16.
    desc_ram: RAM<Bits<80>, DESC_FIFO_BITS>,
    /// Write beats: {cpl[73], last[72], strb[71:64], data[63:0]}.
    wq_ram: RAM<Bits<74>, WQ_BITS>,
    cnt_frames: SatCounter32,
    cnt_nobuf: SatCounter32,
    cnt_err: SatCounter32,

    /// A bus error was seen (sticky until reset).
    err: DFF<Bit>,
    p_state: DFF<RxPState>,
    /// Frame being written: bytes left, offset of the next byte, its byte lane, bits 10:3
    /// of its beat's address, the beat being packed, the running sum, the verdict, the
    /// descriptor (= completion) index.
    f_left: DFF<Bits<16>>,
    f_off: DFF<Bits<16>>,
    f_len: DFF<Bits<16>>,
    f_lane: DFF<Bits<3>>,
    f_beat: DFF<Bits<8>>,
    f_acc: DFF<Bits<64>>,
    f_strb: DFF<Bits<8>>,
    f_sum: DFF<Bits<16>>,
    f_verdict: DFF<Bits<2>>,
    f_idx: DFF<Bits<16>>,
    /// Descriptor indices: next to use, next to arrive, arrived one clock ago (readable
    /// from the RAM), next to request.
    d_use: DFF<Bits<16>>,
    d_arrive: DFF<Bits<16>>,
    d_seen: DFF<Bits<16>>,
    d_fetch: DFF<Bits<16>>,
    /// Read side: the next beat is a descriptor's second; its first beat; beats in flight.
    r_odd: DFF<Bit>,
    r_addr: DFF<Bits<64>>,
    r_pending: DFF<Bits<8>>,
    ar_busy: DFF<Bit>,
    ar_addr: DFF<Bits<64>>,
    ar_len: DFF<Bits<8>>,
    /// Write-address side: state, next burst's address, the frame's last beat address.
    aw_state: DFF<RxAwState>,
    aw_addr: DFF<Bits<64>>,
    aw_final: DFF<Bits<64>>,
    /// Bursts: addresses issued, responses seen, last beats sent (mod 32).
    aw_cnt: DFF<Bits<5>>,
    b_cnt: DFF<Bits<5>>,
    w_cnt: DFF<Bits<5>>,
    /// Per outstanding burst (index mod 16): it wrote a completion with strobes on.
    cpl_written: DFF<Bits<16>>,
    wq_wr: DFF<Bits<4>>,
    wq_seen: DFF<Bits<4>>,
    wq_rd: DFF<Bits<4>>,
    /// Strobes forced to 0 (the error as of the current beat's first clock).
    w_zero: DFF<Bit>,
    cpl_done: DFF<Bits<16>>,
    rx_event_q: DFF<Bit>,
    no_buffer_q: DFF<Bit>,
    dma_error_q: DFF<Bit>,

    k_one16: Constant<Bits<16>>,
    k_one8: Constant<Bits<8>>,
    k_span_m1: Constant<Bits<64>>,
    k_wq_strb: Constant<Bits<74>>,
    k_batch: Constant<Bits<16>>,
    k_fifo: Constant<Bits<16>>,
    k_page: Constant<Bits<16>>,
    k_max_writes: Constant<Bits<5>>,
    k_wq: Constant<Bits<4>>,
    k_align8: Constant<Bits<64>>,
    k_align16: Constant<Bits<64>>,
    k_wq_last: Constant<Bits<74>>,
    k_wq_cpl: Constant<Bits<74>>,
    k_phase: Constant<Bits<64>>,

    // Locals.
    err_now: Signal<Local, Bit>,
    err_next: Signal<Local, Bit>,
    d_size: Signal<Local, Bits<16>>,
    c_size: Signal<Local, Bits<16>>,
    have_desc: Signal<Local, Bit>,
    none_posted: Signal<Local, Bit>,
    cpl_room: Signal<Local, Bit>,
    head_addr: Signal<Local, Bits<64>>,
    head_len: Signal<Local, Bits<16>>,
    pop: Signal<Local, Bit>,
    drop_now: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    avail: Signal<Local, Bits<16>>,
    f_slot: Signal<Local, Bits<16>>,
    f_addr: Signal<Local, Bits<64>>,
    room_ring: Signal<Local, Bits<16>>,
    room_page: Signal<Local, Bits<16>>,
    n: Signal<Local, Bits<16>>,
    fetch: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    last_byte: Signal<Local, Bit>,
    lane_sh: Signal<Local, Bits<7>>,
    beat_data: Signal<Local, Bits<64>>,
    beat_strb: Signal<Local, Bits<8>>,
    addend: Signal<Local, Bits<17>>,
    sum17: Signal<Local, Bits<17>>,
    wq_full: Signal<Local, Bit>,
    push: Signal<Local, Bit>,
    push_data: Signal<Local, Bits<74>>,
    c_slot: Signal<Local, Bits<16>>,
    phase: Signal<Local, Bit>,
    cpl_go: Signal<Local, Bit>,
    cpl_abort: Signal<Local, Bit>,
    aw_room: Signal<Local, Bit>,
    aw_valid: Signal<Local, Bit>,
    aw_len: Signal<Local, Bits<8>>,
    aw_last_burst: Signal<Local, Bit>,
    aw_take: Signal<Local, Bit>,
    head_vis: Signal<Local, Bit>,
    head: Signal<Local, Bits<74>>,
    w_valid: Signal<Local, Bit>,
    w_take: Signal<Local, Bit>,
    b_take: Signal<Local, Bit>,
    b_cpl: Signal<Local, Bit>,
    r_take: Signal<Local, Bit>,
    r_pend_n: Signal<Local, Bits<8>>,
    pass: Signal<Local, Bits<16>>,
    d_use_inc: Signal<Local, Bits<16>>,
    wq_rd_inc: Signal<Local, Bits<4>>,
    w_strb: Signal<Local, Bits<8>>,
}

impl Default for RxDma {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            enable: Default::default(),
            in_valid: Default::default(),
            in_data: Default::default(),
            in_last: Default::default(),
            in_len: Default::default(),
            in_verdict: Default::default(),
            in_ready: Default::default(),
            rxd_base: Default::default(),
            rxd_log2_size: Default::default(),
            rxd_producer: Default::default(),
            rxd_consumer: Default::default(),
            rxc_base: Default::default(),
            rxc_log2_size: Default::default(),
            rxc_consumer: Default::default(),
            rxc_producer: Default::default(),
            rx_event: Default::default(),
            no_buffer: Default::default(),
            dma_error: Default::default(),
            stopped: Default::default(),
            frames_written: Default::default(),
            no_buffer_drops: Default::default(),
            dma_errors: Default::default(),
            axi_awvalid: Default::default(),
            axi_awready: Default::default(),
            axi_awaddr: Default::default(),
            axi_awlen: Default::default(),
            axi_awsize: Default::default(),
            axi_awburst: Default::default(),
            axi_wvalid: Default::default(),
            axi_wready: Default::default(),
            axi_wdata: Default::default(),
            axi_wstrb: Default::default(),
            axi_wlast: Default::default(),
            axi_bvalid: Default::default(),
            axi_bready: Default::default(),
            axi_bresp: Default::default(),
            axi_arvalid: Default::default(),
            axi_arready: Default::default(),
            axi_araddr: Default::default(),
            axi_arlen: Default::default(),
            axi_arsize: Default::default(),
            axi_arburst: Default::default(),
            axi_rvalid: Default::default(),
            axi_rready: Default::default(),
            axi_rdata: Default::default(),
            axi_rresp: Default::default(),
            axi_rlast: Default::default(),
            desc_ram: Default::default(),
            wq_ram: Default::default(),
            cnt_frames: Default::default(),
            cnt_nobuf: Default::default(),
            cnt_err: Default::default(),
            err: Default::default(),
            p_state: Default::default(),
            f_left: Default::default(),
            f_off: Default::default(),
            f_len: Default::default(),
            f_lane: Default::default(),
            f_beat: Default::default(),
            f_acc: Default::default(),
            f_strb: Default::default(),
            f_sum: Default::default(),
            f_verdict: Default::default(),
            f_idx: Default::default(),
            d_use: Default::default(),
            d_arrive: Default::default(),
            d_seen: Default::default(),
            d_fetch: Default::default(),
            r_odd: Default::default(),
            r_addr: Default::default(),
            r_pending: Default::default(),
            ar_busy: Default::default(),
            ar_addr: Default::default(),
            ar_len: Default::default(),
            aw_state: Default::default(),
            aw_addr: Default::default(),
            aw_final: Default::default(),
            aw_cnt: Default::default(),
            b_cnt: Default::default(),
            w_cnt: Default::default(),
            cpl_written: Default::default(),
            wq_wr: Default::default(),
            wq_seen: Default::default(),
            wq_rd: Default::default(),
            w_zero: Default::default(),
            cpl_done: Default::default(),
            rx_event_q: Default::default(),
            no_buffer_q: Default::default(),
            dma_error_q: Default::default(),
            k_one16: Constant::new(1_u64.to_bits()),
            k_one8: Constant::new(1_u64.to_bits()),
            k_span_m1: Constant::new((BURST_SPAN - 1).to_bits()),
            k_wq_strb: Constant::new(bit_cast::<74, 8>(0xFF_u64.to_bits()) << 64),
            k_batch: Constant::new((DESC_BATCH as u64).to_bits()),
            k_fifo: Constant::new((DESC_FIFO_ENTRIES as u64).to_bits()),
            k_page: Constant::new(256_u64.to_bits()),
            k_max_writes: Constant::new((MAX_WRITES as u64).to_bits()),
            k_wq: Constant::new((WQ_ENTRIES as u64).to_bits()),
            k_align8: Constant::new((!7_u64).to_bits()),
            k_align16: Constant::new((!15_u64).to_bits()),
            k_wq_last: Constant::new(Bits::<74>::default().replace_bit(72, true)),
            k_wq_cpl: Constant::new(Bits::<74>::default().replace_bit(73, true)),
            k_phase: Constant::new((1_u64 << 63).to_bits()),
            err_now: Default::default(),
            err_next: Default::default(),
            d_size: Default::default(),
            c_size: Default::default(),
            have_desc: Default::default(),
            none_posted: Default::default(),
            cpl_room: Default::default(),
            head_addr: Default::default(),
            head_len: Default::default(),
            pop: Default::default(),
            drop_now: Default::default(),
            accept: Default::default(),
            avail: Default::default(),
            f_slot: Default::default(),
            f_addr: Default::default(),
            room_ring: Default::default(),
            room_page: Default::default(),
            n: Default::default(),
            fetch: Default::default(),
            take: Default::default(),
            last_byte: Default::default(),
            lane_sh: Default::default(),
            beat_data: Default::default(),
            beat_strb: Default::default(),
            addend: Default::default(),
            sum17: Default::default(),
            wq_full: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            c_slot: Default::default(),
            phase: Default::default(),
            cpl_go: Default::default(),
            cpl_abort: Default::default(),
            aw_room: Default::default(),
            aw_valid: Default::default(),
            aw_len: Default::default(),
            aw_last_burst: Default::default(),
            aw_take: Default::default(),
            head_vis: Default::default(),
            head: Default::default(),
            w_valid: Default::default(),
            w_take: Default::default(),
            b_take: Default::default(),
            b_cpl: Default::default(),
            r_take: Default::default(),
            r_pend_n: Default::default(),
            pass: Default::default(),
            d_use_inc: Default::default(),
            wq_rd_inc: Default::default(),
            w_strb: Default::default(),
        }
    }
}

impl Logic for RxDma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, err, p_state, f_left, f_off, f_len, f_lane, f_beat, f_acc, f_strb, f_sum,
            f_verdict, f_idx, d_use, d_arrive, d_seen, d_fetch, r_odd, r_addr, r_pending, ar_busy,
            ar_addr, ar_len, aw_state, aw_addr, aw_final, aw_cnt, b_cnt, w_cnt, cpl_written, wq_wr,
            wq_seen, wq_rd, w_zero, cpl_done, rx_event_q, no_buffer_q, dma_error_q
        );
        clock!(self, clock, cnt_frames, cnt_nobuf, cnt_err);
        self.desc_ram.read_clock.next = self.clock.val();
        self.desc_ram.write_clock.next = self.clock.val();
        self.wq_ram.read_clock.next = self.clock.val();
        self.wq_ram.write_clock.next = self.clock.val();
        self.cnt_frames.reset.next = self.reset.val();
        self.cnt_nobuf.reset.next = self.reset.val();
        self.cnt_err.reset.next = self.reset.val();

        // ---- Defaults of every local.
        self.d_size.next = self.k_one16.val() << self.rxd_log2_size.val();
        self.c_size.next = self.k_one16.val() << self.rxc_log2_size.val();
        self.r_take.next = self.axi_rvalid.val();
        self.b_take.next = self.axi_bvalid.val();
        self.err_now.next = (self.r_take.val() & self.axi_rresp.val().any())
            | (self.b_take.val() & self.axi_bresp.val().any());
        self.err_next.next = self.err.q.val() | self.err_now.val();
        self.have_desc.next = self.d_use.q.val() != self.d_seen.q.val();
        self.none_posted.next =
            (self.rxd_producer.val() == self.d_fetch.q.val()) & (self.d_fetch.q.val() == self.d_use.q.val());
        self.cpl_room.next = (self.d_use.q.val() - self.rxc_consumer.val()) < self.c_size.val();
        self.head_addr.next = self.desc_ram.read_data.val().get_bits::<64>(0);
        self.head_len.next = self.desc_ram.read_data.val().get_bits::<16>(64);
        self.pop.next = false;
        self.drop_now.next = false;
        self.accept.next = false;
        self.take.next = false;
        self.last_byte.next = self.f_left.q.val() == 1;
        self.lane_sh.next = bit_cast::<7, 3>(self.f_lane.q.val()) << 3;
        self.beat_data.next = self.f_acc.q.val() | (bit_cast::<64, 8>(self.in_data.val()) << self.lane_sh.val());
        self.beat_strb.next = self.f_strb.q.val() | (self.k_one8.val() << self.f_lane.q.val());
        self.addend.next = bit_cast::<17, 8>(self.in_data.val()) << 8;
        if self.f_off.q.val().get_bit(0) {
            self.addend.next = bit_cast::<17, 8>(self.in_data.val());
        }
        if self.f_off.q.val() < 14 {
            self.addend.next = 0.into();
        }
        self.sum17.next = bit_cast::<17, 16>(self.f_sum.q.val()) + self.addend.val();
        self.wq_full.next = (self.wq_wr.q.val() - self.wq_rd.q.val()) == self.k_wq.val();
        self.push.next = false;
        self.push_data.next = bit_cast::<74, 64>(self.beat_data.val()) | (bit_cast::<74, 8>(self.beat_strb.val()) << 64);
        self.c_slot.next = self.f_idx.q.val() & (self.c_size.val() - 1);
        self.pass.next = self.f_idx.q.val() >> self.rxc_log2_size.val();
        self.phase.next = !self.pass.val().get_bit(0);
        self.d_use_inc.next = self.d_use.q.val() + 1;
        self.wq_rd_inc.next = self.wq_rd.q.val() + 1;
        self.cpl_go.next = false;
        self.cpl_abort.next = false;

        // ---- Frame side.
        self.in_ready.next = false;
        match self.p_state.q.val() {
            RxPState::Idle => {
                if self.in_valid.val() & !self.err.q.val() {
                    if !self.enable.val() {
                        self.drop_now.next = true;
                    } else if self.have_desc.val() {
                        if self.in_len.val() > self.head_len.val() {
                            self.drop_now.next = true;
                        } else if self.cpl_room.val() & (self.aw_state.q.val() == RxAwState::Idle) {
                            self.accept.next = true;
                        }
                    } else if self.none_posted.val() {
                        self.drop_now.next = true;
                    }
                }
                self.f_left.d.next = self.in_len.val();
                if self.drop_now.val() {
                    self.p_state.d.next = RxPState::Drain;
                }
                if self.accept.val() {
                    self.pop.next = true;
                    self.p_state.d.next = RxPState::Stream;
                    self.f_off.d.next = 0.into();
                    self.f_len.d.next = self.in_len.val();
                    self.f_lane.d.next = self.head_addr.val().get_bits::<3>(0);
                    self.f_beat.d.next = self.head_addr.val().get_bits::<8>(3);
                    self.f_acc.d.next = 0.into();
                    self.f_strb.d.next = 0.into();
                    self.f_sum.d.next = 0.into();
                    self.f_verdict.d.next = self.in_verdict.val();
                    self.f_idx.d.next = self.d_use.q.val();
                }
            }
            RxPState::Stream => {
                self.in_ready.next = !self.wq_full.val();
                self.take.next = self.in_valid.val() & !self.wq_full.val();
                if self.take.val() {
                    self.f_left.d.next = self.f_left.q.val() - 1;
                    self.f_off.d.next = self.f_off.q.val() + 1;
                    self.f_lane.d.next = self.f_lane.q.val() + 1;
                    self.f_sum.d.next = self.sum17.val().get_bits::<16>(0) + bit_cast::<16, 1>(self.sum17.val().get_bits::<1>(16));
                    if (self.f_lane.q.val() == 7) | self.last_byte.val() {
                        self.push.next = true;
                        if self.last_byte.val() | (self.f_beat.q.val() == 0xFF) {
                            self.push_data.next = self.push_data.val() | self.k_wq_last.val();
                        }
                        self.f_acc.d.next = 0.into();
                        self.f_strb.d.next = 0.into();
                        self.f_beat.d.next = self.f_beat.q.val() + 1;
                    } else {
                        self.f_acc.d.next = self.beat_data.val();
                        self.f_strb.d.next = self.beat_strb.val();
                    }
                    if self.last_byte.val() {
                        self.p_state.d.next = RxPState::Cpl0;
                    }
                }
            }
            RxPState::Drain => {
                self.in_ready.next = true;
                if self.in_valid.val() {
                    self.f_left.d.next = self.f_left.q.val() - 1;
                    if self.last_byte.val() {
                        self.p_state.d.next = RxPState::Idle;
                    }
                }
            }
            RxPState::Cpl0 => {
                // The frame's data addresses must all be out before the completion's.
                if self.aw_state.q.val() == RxAwState::Done {
                    if self.err.q.val() {
                        self.cpl_abort.next = true;
                        self.p_state.d.next = RxPState::Idle;
                    } else if !self.wq_full.val() {
                        self.cpl_go.next = true;
                        self.push.next = true;
                        self.push_data.next = bit_cast::<74, 16>(self.f_len.q.val())
                            | (bit_cast::<74, 16>(self.f_sum.q.val()) << 16)
                            | (bit_cast::<74, 16>(self.f_idx.q.val()) << 32)
                            | self.k_wq_strb.val()
                            | self.k_wq_cpl.val();
                        self.p_state.d.next = RxPState::Cpl1;
                    }
                }
            }
            RxPState::Cpl1 => {
                if !self.wq_full.val() {
                    self.push.next = true;
                    self.push_data.next = (bit_cast::<74, 2>(self.f_verdict.q.val()) << 32)
                        | self.k_wq_strb.val()
                        | self.k_wq_cpl.val()
                        | self.k_wq_last.val();
                    if self.phase.val() {
                        self.push_data.next = self.push_data.val() | bit_cast::<74, 64>(self.k_phase.val());
                    }
                    self.p_state.d.next = RxPState::Idle;
                }
            }
        }

        // ---- Prefetched descriptors: pop on accept (the RAM reads the next slot at once).
        self.desc_ram.read_address.next = self.d_use.q.val().get_bits::<4>(0);
        if self.pop.val() {
            self.d_use.d.next = self.d_use_inc.val();
            self.desc_ram.read_address.next = self.d_use_inc.val().get_bits::<4>(0);
        }
        self.d_seen.d.next = self.d_arrive.q.val();

        // ---- Descriptor reads.
        self.avail.next = self.rxd_producer.val() - self.d_fetch.q.val();
        self.f_slot.next = self.d_fetch.q.val() & (self.d_size.val() - 1);
        self.f_addr.next = (self.rxd_base.val() & self.k_align16.val()) + (bit_cast::<64, 16>(self.f_slot.val()) << 4);
        self.room_ring.next = self.d_size.val() - self.f_slot.val();
        self.room_page.next = self.k_page.val() - bit_cast::<16, 8>(self.f_addr.val().get_bits::<8>(4));
        self.n.next = self.avail.val();
        if self.room_ring.val() < self.n.val() {
            self.n.next = self.room_ring.val();
        }
        if self.room_page.val() < self.n.val() {
            self.n.next = self.room_page.val();
        }
        if self.k_batch.val() < self.n.val() {
            self.n.next = self.k_batch.val();
        }
        self.fetch.next = !self.ar_busy.q.val()
            & self.enable.val()
            & !self.err.q.val()
            & self.avail.val().any()
            & ((self.k_fifo.val() - (self.d_fetch.q.val() - self.d_use.q.val())) >= self.k_batch.val());
        if self.fetch.val() {
            self.ar_busy.d.next = true;
            self.ar_addr.d.next = self.f_addr.val();
            self.ar_len.d.next = bit_cast::<8, 16>((self.n.val() << 1) - 1);
            self.d_fetch.d.next = self.d_fetch.q.val() + self.n.val();
        }
        if self.ar_busy.q.val() & self.axi_arready.val() {
            self.ar_busy.d.next = false;
        }
        self.r_pend_n.next = self.r_pending.q.val();
        if self.fetch.val() {
            self.r_pend_n.next = self.r_pending.q.val() + bit_cast::<8, 16>(self.n.val() << 1);
        }
        self.desc_ram.write_enable.next = false;
        self.desc_ram.write_address.next = self.d_arrive.q.val().get_bits::<4>(0);
        self.desc_ram.write_data.next = bit_cast::<80, 64>(self.r_addr.q.val()) | (bit_cast::<80, 16>(self.axi_rdata.val().get_bits::<16>(0)) << 64);
        if self.r_take.val() {
            self.r_pend_n.next = self.r_pend_n.val() - 1;
            self.r_odd.d.next = !self.r_odd.q.val();
            if !self.r_odd.q.val() {
                self.r_addr.d.next = self.axi_rdata.val();
            } else if !self.err_next.val() {
                self.desc_ram.write_enable.next = true;
                self.d_arrive.d.next = self.d_arrive.q.val() + 1;
            }
        }

        self.r_pending.d.next = self.r_pend_n.val();

        // ---- Write addresses.
        self.aw_room.next = (self.aw_cnt.q.val() - self.b_cnt.q.val()) != self.k_max_writes.val();
        self.aw_valid.next = false;
        self.aw_last_burst.next = self.aw_addr.q.val().get_bits::<53>(11) == self.aw_final.q.val().get_bits::<53>(11);
        self.aw_len.next = !self.aw_addr.q.val().get_bits::<8>(3);
        if self.aw_last_burst.val() {
            self.aw_len.next = self.aw_final.q.val().get_bits::<8>(3) - self.aw_addr.q.val().get_bits::<8>(3);
        }
        match self.aw_state.q.val() {
            RxAwState::Idle => {
                if self.accept.val() {
                    self.aw_state.d.next = RxAwState::Data;
                    self.aw_addr.d.next = self.head_addr.val() & self.k_align8.val();
                    self.aw_final.d.next =
                        (self.head_addr.val() + bit_cast::<64, 16>(self.in_len.val()) - 1) & self.k_align8.val();
                }
            }
            RxAwState::Data => {
                self.aw_valid.next = self.aw_room.val();
                if self.aw_valid.val() & self.axi_awready.val() {
                    if self.aw_last_burst.val() {
                        self.aw_state.d.next = RxAwState::Done;
                    } else {
                        self.aw_addr.d.next = (self.aw_addr.q.val() | self.k_span_m1.val()) + 1;
                    }
                }
            }
            RxAwState::Done => {
                if self.cpl_go.val() {
                    self.aw_state.d.next = RxAwState::Cpl;
                    self.aw_addr.d.next =
                        (self.rxc_base.val() & self.k_align16.val()) + (bit_cast::<64, 16>(self.c_slot.val()) << 4);
                }
                if self.cpl_abort.val() {
                    self.aw_state.d.next = RxAwState::Idle;
                }
            }
            RxAwState::Cpl => {
                self.aw_valid.next = self.aw_room.val();
                self.aw_len.next = 1.into();
                if self.aw_valid.val() & self.axi_awready.val() {
                    self.aw_state.d.next = RxAwState::Idle;
                }
            }
        }
        self.aw_take.next = self.aw_valid.val() & self.axi_awready.val();
        if self.aw_take.val() {
            self.aw_cnt.d.next = self.aw_cnt.q.val() + 1;
        }

        // ---- Write queue and W channel.
        self.wq_ram.write_enable.next = self.push.val();
        self.wq_ram.write_address.next = self.wq_wr.q.val().get_bits::<3>(0);
        self.wq_ram.write_data.next = self.push_data.val();
        if self.push.val() {
            self.wq_wr.d.next = self.wq_wr.q.val() + 1;
        }
        self.wq_seen.d.next = self.wq_wr.q.val();
        self.head_vis.next = self.wq_rd.q.val() != self.wq_seen.q.val();
        self.head.next = self.wq_ram.read_data.val();
        // A beat goes only after its burst's address; a completion beat only once every
        // earlier burst was answered.
        self.w_valid.next = self.head_vis.val()
            & (self.aw_cnt.q.val() != self.w_cnt.q.val())
            & (!self.head.val().get_bit(73) | (self.b_cnt.q.val() == self.w_cnt.q.val()));
        self.w_take.next = self.w_valid.val() & self.axi_wready.val();
        self.wq_ram.read_address.next = self.wq_rd.q.val().get_bits::<3>(0);
        if !self.w_valid.val() | self.axi_wready.val() {
            self.w_zero.d.next = self.err_next.val();
        }
        self.cpl_written.d.next = self.cpl_written.q.val();
        self.w_strb.next = self.head.val().get_bits::<8>(64);
        if self.w_zero.q.val() {
            self.w_strb.next = 0.into();
        }
        if self.w_take.val() {
            self.wq_rd.d.next = self.wq_rd_inc.val();
            self.wq_ram.read_address.next = self.wq_rd_inc.val().get_bits::<3>(0);
            if self.head.val().get_bit(72) {
                self.w_cnt.d.next = self.w_cnt.q.val() + 1;
                self.cpl_written.d.next = self.cpl_written.q.val().replace_bit(
                    self.w_cnt.q.val().get_bits::<4>(0).index(),
                    self.head.val().get_bit(73) & !self.w_zero.q.val(),
                );
            }
        }

        // ---- Responses.
        self.b_cpl.next = false;
        if self.b_take.val() {
            self.b_cnt.d.next = self.b_cnt.q.val() + 1;
            self.b_cpl.next = !self.axi_bresp.val().any()
                & self.cpl_written.q.val().get_bit(self.b_cnt.q.val().get_bits::<4>(0).index());
        }
        if self.b_cpl.val() {
            self.cpl_done.d.next = self.cpl_done.q.val() + 1;
        }
        self.err.d.next = self.err_next.val();
        self.rx_event_q.d.next = self.b_cpl.val();
        self.no_buffer_q.d.next = self.drop_now.val();
        self.dma_error_q.d.next = self.err_now.val() & !self.err.q.val();
        self.cnt_frames.inc.next = self.b_cpl.val();
        self.cnt_nobuf.inc.next = self.drop_now.val();
        self.cnt_err.inc.next = self.err_now.val() & !self.err.q.val();

        if self.reset.val() {
            self.err.d.next = false;
            self.p_state.d.next = RxPState::Idle;
            self.d_use.d.next = 0.into();
            self.d_arrive.d.next = 0.into();
            self.d_seen.d.next = 0.into();
            self.d_fetch.d.next = 0.into();
            self.r_odd.d.next = false;
            self.r_pending.d.next = 0.into();
            self.ar_busy.d.next = false;
            self.aw_state.d.next = RxAwState::Idle;
            self.aw_cnt.d.next = 0.into();
            self.b_cnt.d.next = 0.into();
            self.w_cnt.d.next = 0.into();
            self.cpl_written.d.next = 0.into();
            self.wq_wr.d.next = 0.into();
            self.wq_seen.d.next = 0.into();
            self.wq_rd.d.next = 0.into();
            self.w_zero.d.next = false;
            self.cpl_done.d.next = 0.into();
            self.rx_event_q.d.next = false;
            self.no_buffer_q.d.next = false;
            self.dma_error_q.d.next = false;
            self.cnt_frames.inc.next = false;
            self.cnt_nobuf.inc.next = false;
            self.cnt_err.inc.next = false;
        }

        // ---- Outputs, each assigned once.
        self.rxd_consumer.next = self.d_arrive.q.val();
        self.rxc_producer.next = self.cpl_done.q.val();
        self.rx_event.next = self.rx_event_q.q.val();
        self.no_buffer.next = self.no_buffer_q.q.val();
        self.dma_error.next = self.dma_error_q.q.val();
        self.stopped.next = self.err.q.val()
            & (self.p_state.q.val() == RxPState::Idle)
            & (self.aw_state.q.val() == RxAwState::Idle)
            & !self.ar_busy.q.val()
            & !self.r_pending.q.val().any()
            & (self.wq_rd.q.val() == self.wq_wr.q.val())
            & (self.aw_cnt.q.val() == self.b_cnt.q.val());
        self.frames_written.next = self.cnt_frames.count.val();
        self.no_buffer_drops.next = self.cnt_nobuf.count.val();
        self.dma_errors.next = self.cnt_err.count.val();
        self.axi_awvalid.next = self.aw_valid.val();
        self.axi_awaddr.next = self.aw_addr.q.val();
        self.axi_awlen.next = self.aw_len.val();
        self.axi_awsize.next = 3.into();
        self.axi_awburst.next = 1.into();
        self.axi_wvalid.next = self.w_valid.val();
        self.axi_wdata.next = self.head.val().get_bits::<64>(0);
        self.axi_wstrb.next = self.w_strb.val();
        self.axi_wlast.next = self.head.val().get_bit(72);
        self.axi_bready.next = true;
        self.axi_arvalid.next = self.ar_busy.q.val();
        self.axi_araddr.next = self.ar_addr.q.val();
        self.axi_arlen.next = self.ar_len.q.val();
        self.axi_arsize.next = 3.into();
        self.axi_arburst.next = 1.into();
        self.axi_rready.next = true;
    }
}

#[cfg(test)]
mod tests;
