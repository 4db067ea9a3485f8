//! TX DMA (issue 3, item 4): TX descriptor ring → frame bytes read from host memory →
//! `mac::tx` → TX completion ring. An AXI4 master (`axi_*`, no IDs; see `dma`).
//!
//! ```text
//!  txd ring ──AR (batches)──► R ─► DescFetch (16) ───────► fetcher: check LEN, reserve
//!                                                            buffer beats, AR frame bursts
//!  frame bytes ──────AR──────► R ─► TX buffer (512 × 64-bit beats = 4 KiB, store and forward)
//!                                     │  frame FIFO (16): {bad, ADDR mod 8, LEN}
//!                                     ▼
//!                       sender: whole frame in buffer? ─► out_* (1 byte/clock) ─► mac::tx
//!                                     │ {bad, LEN}
//!                                     ▼
//!                       CplWrite (8) ──AW+W (2 beats)──► txc ring; B ─► txc_producer, tx_event
//! ```
//!
//! # Ring ABI (`nic_regs::ring`)
//! Descriptor `i` (16 bytes at `txd_base + 16 × (i mod 2^txd_log2_size)`): ADDR = frame IOVA
//! (any byte alignment), LEN = frame length without FCS, FLAGS ignored. Completion `i`
//! (at `txc_base + 16 × (i mod 2^txc_log2_size)`) reports descriptor `i`: LEN = the
//! descriptor's LEN, CSUM 0, DESC_INDEX = `i`, VERDICT 0, STATUS = `STATUS_TX_ABORTED` for a
//! bad descriptor (frame not sent) else 0, PHASE = `phase_for_index(i, txc_log2_size)`.
//! Every descriptor gets exactly one completion, in descriptor order.
//!
//! # Behaviour
//! * **Descriptor prefetch.** [`DescFetch`] (the same block and rule as the RX DMA's) reads
//!   posted descriptors into a 16-entry buffer, a batch of up to 8 per read, whenever they fit
//!   in it; its reads go out through this block's AR register ahead of any frame read.
//!   Several reads may be in flight. `txd_consumer` counts descriptors whose 16 bytes have
//!   arrived (none after a bus error).
//! * **Bad descriptors.** LEN = 0, LEN > `max_len` − 4 (`max_len` counts the FCS, as in
//!   `mac::tx`; below 4 the subtraction wraps and only the buffer limit applies), or
//!   LEN > [`MAX_TX_LEN`] (= 4 KiB − 8, so a frame fits the buffer whatever its alignment):
//!   nothing is read, the frame is not sent, its completion has `STATUS_TX_ABORTED`, and
//!   `bad_descriptors` counts it. A frame that passes these checks is always handed to the
//!   MAC whole (no underflow, never longer than `max_len`), so `STATUS_TX_ABORTED` marks
//!   exactly the bad descriptors (as long as `mac::tx` gets the same `max_len`).
//! * **Frame reads.** For a good descriptor the fetcher reserves `⌈(ADDR mod 8 + LEN)/8⌉`
//!   beats of the TX buffer (waiting for room) and reads the aligned beats that hold the frame,
//!   `ADDR & !7` onward, in INCR bursts of at most [`MAX_READ_BEATS`] beats that never cross a
//!   4 KiB boundary. It reserves and issues reads for the next frames without waiting for
//!   data, so frame reads overlap each other and the frame on the line. Unaligned bytes are
//!   not shifted: each frame starts on a beat of the buffer and the sender starts at byte
//!   `ADDR mod 8` of it. At most 16 reads are outstanding; `rready` is always high (room was
//!   reserved before the read was issued).
//! * **Store and forward.** `mac::tx` aborts a frame if a byte is missing mid-frame, so the
//!   sender starts a frame only when all its beats are in the buffer. It then offers one byte
//!   on every clock (`out_valid` never drops inside a frame, `out_last` on byte LEN − 1); a
//!   byte is taken on an edge with `out_valid && out_ready`. `out_*` come from registers
//!   (never combinationally from `out_ready`), in kernel statements that read only registers,
//!   so a parent wiring them to `mac::tx` (whose `in_ready` depends on `in_valid`) lints
//!   without Verilator's UNOPTFLAT (`tx_dma_into_mac_verilog_passes_yosys_and_verilator`).
//!   Between frames it spends six clocks (four idle while the registered frame-FIFO head
//!   settles and is checked, two loading the buffer's first beats through its output
//!   register), far less than the 16 byte times of FCS and gap `mac::tx` spends before it
//!   asks for the next frame, so back-to-back frames leave with the minimum
//!   gap. `frames_fetched` counts good frames found whole in the buffer (on the clock the
//!   sender starts handing them out).
//! * **Completion.** A good frame's completion is queued on the edge its last byte
//!   (`out_last`) is taken by the MAC; a bad descriptor's when the sender reaches it in
//!   order, into [`CplWrite`] (the same block and completion rule as the RX DMA's). Each is
//!   written as one 2-beat burst (AW with its first W beat) as soon as the writer has it
//!   ready (the completion ring has a free slot: `issued − txc_consumer < 2^txc_log2_size`)
//!   and fewer than 15 writes await their B response; no write waits for a B before it. On
//!   each OKAY B response (in order) `txc_producer` advances and `tx_event` pulses (one
//!   clock, the clock after the edge that took the B), so the host is told only about
//!   completions that are in its memory. A sender that finds the writer's 8-entry queue
//!   full does not start a frame.
//! * **Enable.** `enable` low: no descriptor read is issued, no descriptor is taken from
//!   the prefetch FIFO and no frame (or bad-descriptor completion) is started; a frame being
//!   handed out is finished, reads of an accepted frame are still issued, and queued
//!   completions are written. Raising `enable` resumes where it stopped.
//! * **Bus errors.** Any `rresp` or `bresp` ≠ 0 stops the queue: from the next clock
//!   `stopped` is high, `dma_error` pulses for that one clock, and no new AR or AW is issued
//!   (an AR or AW already presented stays until taken, and a burst's W beats are finished);
//!   R beats and B responses still outstanding are taken and dropped (an OKAY B still
//!   advances `txc_producer`). A frame being handed to the MAC is finished (its bytes are all
//!   in the buffer) but no other frame starts, and no completion is written after the error,
//!   so no completion ever carries `STATUS_BUS_ERROR`. `dma_errors` counts error responses
//!   (R beats and B responses with resp ≠ 0; an R and a B error on the same clock count once).
//!   Only `reset` restarts the queue.
//! * `reset` (synchronous, active high) empties every FIFO, zeroes the indices and counters
//!   and clears `stopped`. It does not wait for outstanding AXI transactions: assert it only
//!   when the bus is idle (e.g. `stopped` and drained) or is reset with it.
use super::cpl_write::CplWrite;
use super::desc_fetch::DescFetch;
use crate::counter::SatCounter32;
use crate::ram::Ram;
use nic_regs::ring::{DESC_ADDR, DESC_LEN, ENTRY_BYTES, STATUS_TX_ABORTED};
use rust_hdl::prelude::*;

/// TX buffer size: 512 beats of 8 bytes (4 KiB of block RAM): two maximum frames.
pub const BUF_BEAT_BITS: usize = 9;
pub const BUF_BEATS: usize = 1 << BUF_BEAT_BITS;
pub const BUF_BYTES: usize = BUF_BEATS * 8;
/// Longest LEN accepted (a frame at any byte alignment fits the buffer).
pub const MAX_TX_LEN: usize = BUF_BYTES - 8;
/// Longest frame read burst, beats (512 bytes, a usual PCIe maximum read request).
pub const MAX_READ_BEATS: usize = 64;
/// Descriptor prefetch FIFO entries, and the batch the prefetcher aims for.
pub use super::desc_fetch::{DESC_BATCH, DESC_FIFO_BITS};
/// Frames accepted by the fetcher and not yet reached by the sender.
pub const FRAME_FIFO_BITS: usize = 4;
/// Reads outstanding at most (R bursts not yet ended).
pub const MAX_READS: usize = 16;
/// Writes awaiting their B response at most.
pub const MAX_WRITES: usize = 15;

// The descriptor is read as ADDR = beat 0, LEN = beat 1 bits 15..0; a bad descriptor's
// completion carries STATUS_TX_ABORTED (written as the literal 1).
const _: () = {
    assert!(ENTRY_BYTES == 16);
    assert!(DESC_ADDR.lsb == 0 && DESC_ADDR.width == 64);
    assert!(DESC_LEN.lsb == 64 && DESC_LEN.width == 16);
    assert!(STATUS_TX_ABORTED == 1);
    assert!(MAX_TX_LEN + 7 < BUF_BYTES && DESC_BATCH * 2 <= 256 && MAX_READ_BEATS <= 256);
};

/// The sender's state.
#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
pub enum SendState {
    /// Between frames: looking at the head of the frame FIFO.
    Idle,
    /// One clock: the frame's first beat (read while idle) is loaded; the second is addressed.
    Load,
    /// Two clocks: the second beat's read goes through the buffer's two output registers.
    Load2,
    Load3,
    /// Handing out bytes.
    Send,
}

#[derive(LogicBlock, Default)]
pub struct TxDma {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub enable: Signal<In, Bit>,
    /// Longest frame including FCS (`MAX_LEN`), as given to `mac::tx`.
    pub max_len: Signal<In, Bits<16>>,
    pub txd_base: Signal<In, Bits<64>>,
    pub txd_log2_size: Signal<In, Bits<4>>,
    pub txd_producer: Signal<In, Bits<16>>,
    pub txd_consumer: Signal<Out, Bits<16>>,
    pub txc_base: Signal<In, Bits<64>>,
    pub txc_log2_size: Signal<In, Bits<4>>,
    pub txc_consumer: Signal<In, Bits<16>>,
    pub txc_producer: Signal<Out, Bits<16>>,
    // To mac::tx (in_valid/in_data/in_last/in_ready).
    pub out_valid: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_last: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    // To the interrupt block and the status register.
    pub tx_event: Signal<Out, Bit>,
    pub dma_error: Signal<Out, Bit>,
    pub stopped: Signal<Out, Bit>,
    // Counters, 32-bit saturating.
    pub frames_fetched: Signal<Out, Bits<32>>,
    pub bad_descriptors: Signal<Out, Bits<32>>,
    pub dma_errors: Signal<Out, Bits<32>>,
    /// High on each clock `dma_errors` counts: every error response, also those after the
    /// queue stopped (`dma_error` pulses for the first only). For the statistics table.
    pub error_event: Signal<Out, Bit>,
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

    // ---- Descriptor reads and the prefetched descriptors.
    fetch: DescFetch,

    // ---- Read address register and the kind of each outstanding read (1 = descriptors).
    ar_valid: DFF<Bit>,
    ar_addr: DFF<Bits<64>>,
    ar_len: DFF<Bits<8>>,
    tag_bits: DFF<Bits<16>>,
    tag_wr: DFF<Bits<5>>,
    tag_rd: DFF<Bits<5>>,
    tag_rd1: DFF<Bits<5>>,
    /// The R channel, registered (`rready` is always high, so this costs a clock of latency
    /// and no rate), with the kind of read each beat belongs to.
    r_valid: DFF<Bit>,
    r_data: DFF<Bits<64>>,
    r_last: DFF<Bit>,
    r_bad: DFF<Bit>,
    r_tag: DFF<Bit>,

    // ---- Frame fetcher.
    /// Issuing the read bursts of an accepted frame.
    f_busy: DFF<Bit>,
    /// The head descriptor's checks, a clock after it shows (timing: the head is a RAM
    /// read): bad, the buffer beats it needs, and that they are of the current head. And the
    /// buffer's free beats as of the last clock (an accepted frame is followed by at least
    /// three clocks of `f_busy`, so it is never stale when used).
    /// Another read may be issued: fewer than `MAX_READS - 1` were outstanding a clock ago
    /// (registered; with the one it may have issued since, never more than `MAX_READS`).
    tags_room: DFF<Bit>,
    /// Fewer than 15 writes await their response, as of the last clock (an issue is
    /// followed by two clocks of W beats, so it is not stale when the next may go).
    wr_room_q: DFF<Bit>,
    h_bad_q: DFF<Bit>,
    /// `max_len - 4` (the longest frame before its FCS), registered from the setting.
    h_limit: DFF<Bits<16>>,
    h_beats_q: DFF<Bits<16>>,
    h_ready: DFF<Bit>,
    buf_free_q: DFF<Bits<16>>,
    f_addr: DFF<Bits<64>>,
    f_left: DFF<Bits<16>>,
    /// The next burst, sized in two register stages from `f_addr`/`f_left` (timing: two
    /// minimums and a subtraction are a clock each): beats to the page's end and left, each
    /// up to `MAX_READ_BEATS`; their least. `f_settle` counts the clocks until they are of
    /// the current `f_addr`/`f_left`.
    f_page: DFF<Bits<7>>,
    f_b1: DFF<Bits<7>>,
    f_burst: DFF<Bits<7>>,
    f_settle: DFF<Bits<2>>,
    /// A frame read was issued last clock: `f_addr` and `f_left` step past it now, from a
    /// flip-flop (the issue decision does not reach the enables of their 80 flip-flops).
    f_go_q: DFF<Bit>,
    /// Next buffer beat to reserve.
    buf_alloc: DFF<Bits<16>>,
    /// Frame FIFO: {bad[19], ADDR mod 8 [18:16], LEN[15:0]}.
    frame_ram: Ram<Bits<20>, FRAME_FIFO_BITS>,
    frame_wr: DFF<Bits<5>>,
    frame_wr_seen: DFF<Bits<5>>,
    frame_rd: DFF<Bits<5>>,
    /// The frame FIFO holds 15 or more (a register, a clock late: at most one more is pushed
    /// after it rises, so the FIFO never holds more than 16).
    frame_full: DFF<Bit>,
    /// The frame FIFO's head, registered: `fm_beats` = ⌈(off + LEN)/8⌉ a stage after the RAM
    /// output, `fm_fits` (all its beats in the buffer) a stage after that. `fm_has` delays
    /// "not empty" to match; `fm_wait` counts the clocks after a pop or a sent frame until the
    /// stages hold the new head and the new `s_beat`.
    fm_bad: DFF<Bit>,
    fm_off: DFF<Bits<3>>,
    fm_len: DFF<Bits<16>>,
    fm_beats: DFF<Bits<16>>,
    fm_written: DFF<Bits<16>>,
    fm_fits: DFF<Bit>,
    fm_has1: DFF<Bit>,
    fm_has2: DFF<Bit>,
    fm_wait: DFF<Bits<2>>,

    // ---- TX buffer: beats written in order as frame reads return.
    buf_ram: Ram<Bits<64>, BUF_BEAT_BITS>,
    buf_wr: DFF<Bits<16>>,
    buf_wr_seen: DFF<Bits<16>>,

    // ---- Sender.
    s_state: DFF<SendState>,
    /// Buffer beat in `cur_word` (or, between frames, the next frame's first beat).
    s_beat: DFF<Bits<16>>,
    /// `s_beat + 1` and `s_beat + 2`, kept beside it so the buffer's read address is a choice
    /// between registers, not an adder.
    s_beat1: DFF<Bits<16>>,
    s_beat2: DFF<Bits<16>>,
    s_byte: DFF<Bits<3>>,
    /// Bytes of the frame not yet taken, and its LEN.
    s_left: DFF<Bits<16>>,
    /// `s_left == 1` and `s_left == 2`, kept as registers beside it.
    s_one: DFF<Bit>,
    s_two: DFF<Bit>,
    s_len: DFF<Bits<16>>,
    cur_word: DFF<Bits<64>>,
    /// The buffer's read data, registered twice: a beat is three clocks from its address.
    /// The beat the sender reads: its address is a register (the sender's decisions do not
    /// reach the block RAM's address in the clock they are made), the RAM's read is
    /// registered, and so is its data, in `rd_word`: a beat is three clocks from the decision
    /// that names it. `rd_word` has no other job, so on an ECP5 it becomes the block RAM's
    /// output register (`verilog::ebr_outreg`), whose clock-to-out is short.
    rd_addr: DFF<Bits<BUF_BEAT_BITS>>,
    rd_word: DFF<Bits<64>>,

    // ---- Completions: queued and built by `CplWrite` (the same block and rule as the RX
    // DMA's), written here as one AW and two W beats each.
    cpl: CplWrite,
    aw_valid: DFF<Bit>,
    aw_addr: DFF<Bits<64>>,
    w_valid: DFF<Bit>,
    /// The beat on `wdata` is the second (last) one; `w_next` is it while the first is out.
    w_second: DFF<Bit>,
    w_data: DFF<Bits<64>>,
    w_next: DFF<Bits<64>>,
    /// Writes issued whose B has not come.
    wr_out: DFF<Bits<5>>,

    // ---- Errors.
    stop: DFF<Bit>,
    /// `enable`, registered (timing: the register block's flip-flop is far from the
    /// decisions it gates; taking it a clock later changes nothing a host can see).
    enable_q: DFF<Bit>,
    err_pulse: DFF<Bit>,
    cnt_fetched: SatCounter32,
    cnt_bad: SatCounter32,
    cnt_err: SatCounter32,

    // ---- Combinational.
    d_go: Signal<Local, Bit>,
    ar_free: Signal<Local, Bit>,
    desc_has: Signal<Local, Bit>,
    desc_pop: Signal<Local, Bit>,
    h_addr: Signal<Local, Bits<64>>,
    h_len: Signal<Local, Bits<16>>,
    h_off: Signal<Local, Bits<16>>,
    h_bad: Signal<Local, Bit>,
    h_sum: Signal<Local, Bits<16>>,
    h_beats: Signal<Local, Bits<16>>,
    buf_used: Signal<Local, Bits<16>>,
    buf_free: Signal<Local, Bits<16>>,
    f_page_left: Signal<Local, Bits<10>>,
    f_go: Signal<Local, Bit>,
    r_take: Signal<Local, Bit>,
    frame_has: Signal<Local, Bit>,
    frame_pop: Signal<Local, Bit>,
    m_bad: Signal<Local, Bit>,
    m_off: Signal<Local, Bits<16>>,
    m_len: Signal<Local, Bits<16>>,
    m_sum: Signal<Local, Bits<16>>,
    s_take: Signal<Local, Bit>,
    cpl_push: Signal<Local, Bit>,
    cpl_push_bad: Signal<Local, Bit>,
    b_take: Signal<Local, Bit>,
    w_issue: Signal<Local, Bit>,
    err_now: Signal<Local, Bit>,
    run: Signal<Local, Bit>,
    tag_used: Signal<Local, Bits<5>>,
    frame_used: Signal<Local, Bits<5>>,
    f_arlen: Signal<Local, Bits<16>>,
}

impl Logic for TxDma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            ar_valid,
            ar_addr,
            ar_len,
            tag_bits,
            tag_wr,
            tag_rd,
            tag_rd1,
            r_valid,
            r_data,
            r_last,
            r_bad,
            r_tag,
            f_busy,
            tags_room,
            wr_room_q,
            h_bad_q,
            h_limit,
            h_beats_q,
            h_ready,
            buf_free_q,
            f_addr,
            f_left,
            f_page,
            f_b1,
            f_burst,
            f_settle,
            f_go_q,
            buf_alloc,
            frame_wr,
            frame_wr_seen,
            frame_rd,
            frame_full,
            fm_bad,
            fm_off,
            fm_len,
            fm_beats,
            fm_written,
            fm_fits,
            fm_has1,
            fm_has2,
            fm_wait,
            buf_wr,
            buf_wr_seen,
            s_state,
            s_beat,
            s_beat1,
            s_beat2,
            s_byte,
            s_left,
            s_one,
            s_two,
            s_len,
            cur_word,
            rd_addr,
            rd_word,
            aw_valid,
            aw_addr,
            w_valid,
            w_second,
            w_data,
            w_next,
            wr_out,
            stop,
            enable_q,
            err_pulse
        );
        clock!(self, clock, cnt_fetched, cnt_bad, cnt_err);
        self.fetch.clock.next = self.clock.val();
        self.fetch.reset.next = self.reset.val();
        self.frame_ram.write_clock.next = self.clock.val();
        self.frame_ram.read_clock.next = self.clock.val();
        self.buf_ram.write_clock.next = self.clock.val();
        self.buf_ram.read_clock.next = self.clock.val();
        self.cpl.clock.next = self.clock.val();
        self.cpl.reset.next = self.reset.val();
        self.cnt_fetched.reset.next = self.reset.val();
        self.cnt_bad.reset.next = self.reset.val();
        self.cnt_err.reset.next = self.reset.val();
        self.cnt_fetched.inc.next = false;
        self.cnt_bad.inc.next = false;
        self.cnt_err.inc.next = false;
        self.frame_ram.write_enable.next = false;
        self.buf_ram.write_enable.next = false;
        self.enable_q.d.next = self.enable.val();
        self.run.next = self.enable_q.q.val() & !self.stop.q.val();

        // ================= Descriptor reads (`DescFetch`, the same block and rule as the RX
        // DMA's): a batch is offered when posted descriptors fit its buffer, and goes out
        // through the AR register here, before any frame read.
        self.fetch.base.next = self.txd_base.val();
        self.fetch.log2_size.next = self.txd_log2_size.val();
        self.fetch.producer.next = self.txd_producer.val();
        self.tag_used.next = self.tag_wr.q.val() - self.tag_rd.q.val();
        self.tags_room.d.next = self.tag_used.val() < 15;
        self.ar_free.next = !self.ar_valid.q.val() & self.tags_room.q.val();
        self.d_go.next = self.run.val() & self.ar_free.val() & self.fetch.req.val();
        self.fetch.req_take.next = self.d_go.val();

        // ================= Fetcher: accept the head descriptor, then issue its reads.
        self.desc_has.next = self.fetch.head_valid.val() & self.h_ready.q.val();
        self.h_addr.next = self.fetch.head_addr.val();
        self.h_len.next = self.fetch.head_len.val();
        self.h_off.next = bit_cast::<16, 3>(self.h_addr.val().get_bits::<3>(0));
        self.h_limit.d.next = self.max_len.val() - 4;
        self.h_bad.next =
            (self.h_len.val() == 0) | (self.h_len.val() > self.h_limit.q.val()) | (self.h_len.val() > 4088);
        self.h_sum.next = self.h_off.val() + self.h_len.val() + 7;
        self.h_beats.next = self.h_sum.val() >> 3;
        self.buf_used.next = self.buf_alloc.q.val() - self.s_beat.q.val();
        self.buf_free.next = 512 - self.buf_used.val();
        self.h_bad_q.d.next = self.h_bad.val();
        self.h_beats_q.d.next = self.h_beats.val();
        self.buf_free_q.d.next = self.buf_free.val();
        self.frame_used.next = self.frame_wr.q.val() - self.frame_rd.q.val();
        self.frame_full.d.next = self.frame_used.val() >= 15;
        self.desc_pop.next = false;
        self.frame_ram.write_address.next = self.frame_wr.q.val().get_bits::<FRAME_FIFO_BITS>(0);
        // The entry written on a pop: a bad descriptor's is marked (bit 19) from the register
        // that decides it, not from the pop decision.
        self.frame_ram.write_data.next = bit_cast::<20, 16>(self.h_len.val())
            | (bit_cast::<20, 16>(self.h_off.val()) << 16)
            | (bit_cast::<20, 1>(self.h_bad_q.q.val().into()) << 19);
        if self.f_settle.q.val().any() {
            self.f_settle.d.next = self.f_settle.q.val() - 1;
        }
        // The read issued last clock (below, the head descriptor's load overrides: the read
        // was then its frame's last).
        if self.f_go_q.q.val() {
            self.f_addr.d.next = self.f_addr.q.val() + (bit_cast::<64, 7>(self.f_burst.q.val()) << 3);
            self.f_left.d.next = self.f_left.q.val() - bit_cast::<16, 7>(self.f_burst.q.val());
        }
        // While no frame is being read, the read address and length load from the head
        // descriptor on every clock it is there (they matter once `f_busy` rises with an
        // accept): the accept decision does not reach the enables of these 80 flip-flops.
        if !self.f_busy.q.val() & self.desc_has.val() {
            self.f_addr.d.next = (self.h_addr.val() >> 3) << 3;
            self.f_left.d.next = self.h_beats_q.q.val();
        }
        if self.run.val() & !self.f_busy.q.val() & self.desc_has.val() & !self.frame_full.q.val() {
            if self.h_bad_q.q.val() {
                self.desc_pop.next = true;
                self.cnt_bad.inc.next = true;
            } else if self.buf_free_q.q.val() >= self.h_beats_q.q.val() {
                self.desc_pop.next = true;
                self.buf_alloc.d.next = self.buf_alloc.q.val() + self.h_beats_q.q.val();
                self.f_busy.d.next = true;
                self.f_settle.d.next = 2.into();
            }
        }
        self.fetch.pop.next = self.desc_pop.val();
        self.h_ready.d.next = self.fetch.head_valid.val() & !self.desc_pop.val();
        if self.desc_pop.val() {
            self.frame_ram.write_enable.next = true;
            self.frame_wr.d.next = self.frame_wr.q.val() + 1;
        }
        self.f_page_left.next = 512 - bit_cast::<10, 9>(self.f_addr.q.val().get_bits::<9>(3));
        self.f_page.d.next = self.f_page_left.val().get_bits::<7>(0);
        if self.f_page_left.val() >= 64 {
            self.f_page.d.next = 64.into();
        }
        self.f_b1.d.next = self.f_left.q.val().get_bits::<7>(0);
        if self.f_left.q.val() >= 64 {
            self.f_b1.d.next = 64.into();
        }
        self.f_burst.d.next = self.f_b1.q.val();
        if self.f_page.q.val() < self.f_b1.q.val() {
            self.f_burst.d.next = self.f_page.q.val();
        }
        self.f_go.next = self.f_busy.q.val()
            & !self.f_settle.q.val().any()
            & !self.stop.q.val()
            & self.ar_free.val()
            & !self.d_go.val();
        self.f_go_q.d.next = self.f_go.val();

        // ================= Read address register (descriptor batches first).
        self.f_arlen.next = bit_cast::<16, 7>(self.f_burst.q.val()) - 1;
        if self.ar_valid.q.val() & self.axi_arready.val() {
            self.ar_valid.d.next = false;
        }
        // The register loads the read it would issue on every clock it is free, chosen by
        // registers alone: the issue decision only raises `ar_valid`, and does not reach the
        // enables of the 72 address and length flip-flops. (Only while a read is wanted: the
        // register then holds a real read, never the idle fetcher's don't-care length.)
        if !self.ar_valid.q.val() & (self.fetch.req.val() | self.f_busy.q.val()) {
            if self.run.val() & self.fetch.req.val() {
                self.ar_addr.d.next = self.fetch.req_addr.val();
                self.ar_len.d.next = self.fetch.req_len.val();
            } else {
                self.ar_addr.d.next = self.f_addr.q.val();
                self.ar_len.d.next = self.f_arlen.val().get_bits::<8>(0);
            }
        }
        if self.d_go.val() {
            self.ar_valid.d.next = true;
            self.tag_bits.d.next =
                self.tag_bits.q.val().replace_bit(self.tag_wr.q.val().get_bits::<4>(0).index(), true);
            self.tag_wr.d.next = self.tag_wr.q.val() + 1;
        } else if self.f_go.val() {
            self.ar_valid.d.next = true;
            // `f_addr`/`f_left` step next clock, then the burst sizing takes two.
            self.f_settle.d.next = 3.into();
            if self.f_left.q.val() == bit_cast::<16, 7>(self.f_burst.q.val()) {
                self.f_busy.d.next = false;
            }
            self.tag_bits.d.next =
                self.tag_bits.q.val().replace_bit(self.tag_wr.q.val().get_bits::<4>(0).index(), false);
            self.tag_wr.d.next = self.tag_wr.q.val() + 1;
        }

        // ================= Read data: descriptors to their FIFO, frame beats to the buffer.
        // A beat is registered with its read's kind: the read after this clock's beat if that
        // beat ends one.
        self.r_valid.d.next = self.axi_rvalid.val();
        self.r_data.d.next = self.axi_rdata.val();
        self.r_last.d.next = self.axi_rlast.val();
        self.r_bad.d.next = self.axi_rresp.val() != 0;
        self.r_take.next = self.r_valid.q.val();
        if self.r_take.val() & self.r_last.q.val() {
            self.r_tag.d.next = self.tag_bits.q.val().get_bit(self.tag_rd1.q.val().get_bits::<4>(0).index());
        } else {
            self.r_tag.d.next = self.tag_bits.q.val().get_bit(self.tag_rd.q.val().get_bits::<4>(0).index());
        }
        self.fetch.beat.next = self.r_take.val() & self.r_tag.q.val();
        self.fetch.beat_data.next = self.r_data.q.val();
        self.buf_ram.write_address.next = self.buf_wr.q.val().get_bits::<BUF_BEAT_BITS>(0);
        self.buf_ram.write_data.next = self.r_data.q.val();
        self.buf_wr_seen.d.next = self.buf_wr.q.val();
        if self.r_take.val() {
            if !self.r_tag.q.val() {
                self.buf_ram.write_enable.next = true;
                self.buf_wr.d.next = self.buf_wr.q.val() + 1;
            }
            if self.r_last.q.val() {
                self.tag_rd.d.next = self.tag_rd1.q.val();
                self.tag_rd1.d.next = self.tag_rd1.q.val() + 1;
            }
        }

        // ================= Sender.
        self.frame_has.next = self.frame_rd.q.val() != self.frame_wr_seen.q.val();
        self.frame_wr_seen.d.next = self.frame_wr.q.val();
        self.m_bad.next = self.frame_ram.read_data.val().get_bit(19);
        self.m_off.next = bit_cast::<16, 3>(self.frame_ram.read_data.val().get_bits::<3>(16));
        self.m_len.next = self.frame_ram.read_data.val().get_bits::<16>(0);
        self.m_sum.next = self.m_off.val() + self.m_len.val() + 7;
        self.fm_bad.d.next = self.m_bad.val();
        self.fm_off.d.next = self.m_off.val().get_bits::<3>(0);
        self.fm_len.d.next = self.m_len.val();
        self.fm_beats.d.next = self.m_sum.val() >> 3;
        self.fm_written.d.next = self.buf_wr_seen.q.val() - self.s_beat.q.val();
        self.fm_fits.d.next = self.fm_written.q.val() >= self.fm_beats.q.val();
        self.fm_has1.d.next = self.frame_has.val();
        self.fm_has2.d.next = self.fm_has1.q.val();
        if self.fm_wait.q.val().any() {
            self.fm_wait.d.next = self.fm_wait.q.val() - 1;
        }
        self.frame_pop.next = false;
        self.cpl_push.next = false;
        self.cpl_push_bad.next = false;
        self.s_take.next = false;
        self.rd_addr.d.next = self.s_beat.q.val().get_bits::<BUF_BEAT_BITS>(0);
        // The sender's state has been idle for at least three clocks (`fm_wait`) when it
        // decides, so `rd_word` holds the beat at `s_beat` by then.
        self.buf_ram.read_address.next = self.rd_addr.q.val();
        self.rd_word.d.next = self.buf_ram.read_data.val();
        match self.s_state.q.val() {
            SendState::Idle => {
                // The head frame's counters load on every clock in `Idle`, not only when the
                // sender goes (nothing reads them before it does): the go decision (six
                // conditions) then reaches only the state and the pops, and the enables of
                // these 40 flip-flops are the state alone.
                self.s_byte.d.next = self.fm_off.q.val();
                self.s_left.d.next = self.fm_len.q.val();
                self.s_one.d.next = self.fm_len.q.val() == 1;
                self.s_two.d.next = self.fm_len.q.val() == 2;
                self.s_len.d.next = self.fm_len.q.val();
                if self.run.val() & self.fm_has2.q.val() & !self.fm_wait.q.val().any() & !self.cpl.full.val() {
                    if self.fm_bad.q.val() {
                        self.frame_pop.next = true;
                        self.cpl_push.next = true;
                        self.cpl_push_bad.next = true;
                    } else if self.fm_fits.q.val() {
                        self.frame_pop.next = true;
                        self.cnt_fetched.inc.next = true;
                        self.s_state.d.next = SendState::Load;
                    }
                }
            }
            SendState::Load => {
                self.rd_addr.d.next = self.s_beat1.q.val().get_bits::<BUF_BEAT_BITS>(0);
                self.cur_word.d.next = self.rd_word.q.val();
                self.s_state.d.next = SendState::Load2;
            }
            SendState::Load2 => {
                self.rd_addr.d.next = self.s_beat1.q.val().get_bits::<BUF_BEAT_BITS>(0);
                self.s_state.d.next = SendState::Load3;
            }
            SendState::Load3 => {
                self.rd_addr.d.next = self.s_beat1.q.val().get_bits::<BUF_BEAT_BITS>(0);
                self.s_state.d.next = SendState::Send;
            }
            SendState::Send => {
                self.rd_addr.d.next = self.s_beat1.q.val().get_bits::<BUF_BEAT_BITS>(0);
                self.s_take.next = self.out_ready.val();
                if self.out_ready.val() {
                    self.s_left.d.next = self.s_left.q.val() - 1;
                    self.s_one.d.next = self.s_two.q.val();
                    self.s_two.d.next = self.s_left.q.val() == 3;
                    self.s_byte.d.next = self.s_byte.q.val() + 1;
                    if self.s_one.q.val() {
                        self.s_beat.d.next = self.s_beat1.q.val();
                        self.s_beat1.d.next = self.s_beat2.q.val();
                        self.s_beat2.d.next = self.s_beat2.q.val() + 1;
                        self.cpl_push.next = true;
                        self.s_state.d.next = SendState::Idle;
                        self.rd_addr.d.next = self.s_beat1.q.val().get_bits::<BUF_BEAT_BITS>(0);
                    } else if self.s_byte.q.val() == 7 {
                        self.s_beat.d.next = self.s_beat1.q.val();
                        self.s_beat1.d.next = self.s_beat2.q.val();
                        self.s_beat2.d.next = self.s_beat2.q.val() + 1;
                        self.cur_word.d.next = self.rd_word.q.val();
                        self.rd_addr.d.next = self.s_beat2.q.val().get_bits::<BUF_BEAT_BITS>(0);
                    }
                }
            }
            _ => {
                self.s_state.d.next = SendState::Idle;
            }
        }
        // The RAM is read at the registered index: the new head reaches `fm_*` three clocks
        // after a pop, which `fm_wait` covers (a frame takes at least 60 clocks to send).
        self.frame_ram.read_address.next = self.frame_rd.q.val().get_bits::<FRAME_FIFO_BITS>(0);
        if self.frame_pop.val() {
            self.frame_rd.d.next = self.frame_rd.q.val() + 1;
        }
        if self.frame_pop.val() | (self.s_state.q.val() != SendState::Idle) {
            self.fm_wait.d.next = 3.into();
        }
        // Only registers here (no local of this kernel), so Verilator can split these
        // statements from the rest of the kernel, which reads `out_ready` (combinational in
        // the MAC), and sees no UNOPTFLAT loop.
        self.out_valid.next = self.s_state.q.val() == SendState::Send;
        self.out_data.next = self.cur_word.q.val().get_bits::<8>((bit_cast::<6, 3>(self.s_byte.q.val()) << 3).index());
        self.out_last.next = (self.s_state.q.val() == SendState::Send) & self.s_one.q.val();

        // ================= Completions (`CplWrite`): queued as the sender finishes a frame or
        // reaches a bad descriptor; each written as one AW with two W beats.
        self.cpl.base.next = self.txc_base.val();
        self.cpl.log2_size.next = self.txc_log2_size.val();
        self.cpl.consumer.next = self.txc_consumer.val();
        self.cpl.push.next = self.cpl_push.val();
        self.cpl.push_csum.next = 0.into();
        self.cpl.push_verdict.next = 0.into();
        if self.cpl_push_bad.val() {
            self.cpl.push_len.next = self.fm_len.q.val();
            self.cpl.push_status.next = 1.into(); // STATUS_TX_ABORTED
        } else {
            self.cpl.push_len.next = self.s_len.q.val();
            self.cpl.push_status.next = 0.into();
        }
        self.cpl.allow.next = true;
        self.cpl.discard.next = false;
        self.w_issue.next = !self.stop.q.val()
            & !self.aw_valid.q.val()
            & !self.w_valid.q.val()
            & self.cpl.ready.val()
            & self.wr_room_q.q.val();
        self.wr_room_q.d.next = self.wr_out.q.val() < 15;
        self.cpl.take.next = self.w_issue.val();
        if self.aw_valid.q.val() & self.axi_awready.val() {
            self.aw_valid.d.next = false;
        }
        if self.w_valid.q.val() & self.axi_wready.val() {
            if self.w_second.q.val() {
                self.w_valid.d.next = false;
            } else {
                self.w_second.d.next = true;
                self.w_data.d.next = self.w_next.q.val();
            }
        }
        self.b_take.next = self.axi_bvalid.val();
        self.cpl.done.next = self.b_take.val() & (self.axi_bresp.val() == 0);
        if self.w_issue.val() {
            self.aw_valid.d.next = true;
            self.aw_addr.d.next = self.cpl.addr.val();
            self.w_valid.d.next = true;
            self.w_second.d.next = false;
            self.w_data.d.next = self.cpl.beat0.val();
            self.w_next.d.next = self.cpl.beat1.val();
        }
        if self.w_issue.val() & !self.b_take.val() {
            self.wr_out.d.next = self.wr_out.q.val() + 1;
        } else if !self.w_issue.val() & self.b_take.val() {
            self.wr_out.d.next = self.wr_out.q.val() - 1;
        }

        // ================= Errors.
        self.err_now.next =
            (self.r_valid.q.val() & self.r_bad.q.val()) | (self.axi_bvalid.val() & (self.axi_bresp.val() != 0));
        self.err_pulse.d.next = self.err_now.val() & !self.stop.q.val();
        // Descriptors arriving with or after a bus error are not used.
        self.fetch.drop_beats.next = self.err_now.val() | self.stop.q.val();
        self.cnt_err.inc.next = self.err_now.val();
        if self.err_now.val() {
            self.stop.d.next = true;
        }

        // ================= Outputs.
        self.txd_consumer.next = self.fetch.fetched.val();
        self.txc_producer.next = self.cpl.producer.val();
        self.tx_event.next = self.cpl.answered.val();
        self.dma_error.next = self.err_pulse.q.val();
        self.stopped.next = self.stop.q.val();
        self.frames_fetched.next = self.cnt_fetched.count.val();
        self.bad_descriptors.next = self.cnt_bad.count.val();
        self.dma_errors.next = self.cnt_err.count.val();
        self.error_event.next = self.cnt_err.inc.val();
        self.axi_arvalid.next = self.ar_valid.q.val();
        self.axi_araddr.next = self.ar_addr.q.val();
        self.axi_arlen.next = self.ar_len.q.val();
        self.axi_arsize.next = 3.into();
        self.axi_arburst.next = 1.into();
        self.axi_rready.next = true;
        self.axi_awvalid.next = self.aw_valid.q.val();
        self.axi_awaddr.next = self.aw_addr.q.val();
        self.axi_awlen.next = 1.into();
        self.axi_awsize.next = 3.into();
        self.axi_awburst.next = 1.into();
        self.axi_wvalid.next = self.w_valid.q.val();
        self.axi_wdata.next = self.w_data.q.val();
        self.axi_wstrb.next = 0xFF.into();
        self.axi_wlast.next = self.w_second.q.val();
        self.axi_bready.next = true;

        if self.reset.val() {
            self.f_go_q.d.next = false;
            self.ar_valid.d.next = false;
            self.tag_wr.d.next = 0.into();
            self.tag_rd.d.next = 0.into();
            self.tag_rd1.d.next = 1.into();
            self.r_valid.d.next = false;
            self.f_busy.d.next = false;
            self.buf_alloc.d.next = 0.into();
            self.frame_wr.d.next = 0.into();
            self.frame_wr_seen.d.next = 0.into();
            self.frame_rd.d.next = 0.into();
            self.fm_has1.d.next = false;
            self.fm_has2.d.next = false;
            self.fm_wait.d.next = 3.into();
            self.buf_wr.d.next = 0.into();
            self.buf_wr_seen.d.next = 0.into();
            self.s_state.d.next = SendState::Idle;
            self.s_beat.d.next = 0.into();
            self.s_beat1.d.next = 1.into();
            self.s_beat2.d.next = 2.into();
            self.s_left.d.next = 0.into();
            self.s_one.d.next = false;
            self.s_two.d.next = false;
            self.aw_valid.d.next = false;
            self.w_valid.d.next = false;
            self.w_second.d.next = false;
            self.wr_out.d.next = 0.into();
            self.stop.d.next = false;
            self.err_pulse.d.next = false;
            self.enable_q.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests;
