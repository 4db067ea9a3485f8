//! Completion writer: one block for both DMA engines. It queues the engine's completions,
//! builds each one's 16 bytes and its slot's address, and keeps the ring's producer index.
//! The engine owns the AXI write channels and says when it has written the head (`take`)
//! and when a completion's write was answered OKAY (`done`).
//!
//! ```text
//!  push/push_* ─► queue (8) ─► head: slot address, two beats, ready ─► the engine's AW/W
//!                                     ▲ ring room, allow              take ◄─┘
//!  done (an OKAY B of a completion) ─► producer, answered
//! ```
//!
//! # The completion rule (the same for RX and TX)
//! Completion `i` (free-running, counted by `take`s since reset: `issued`) reports
//! descriptor `i`: `DESC_INDEX` = `i`, `PHASE` = `phase_for_index(i, log2_size)`, and the
//! engine's `LEN`, `CSUM`, `VERDICT` and `STATUS`. It goes to slot `i mod 2^log2_size` of
//! the ring at `base` (bits 3:0 cleared). The head is `ready` once it is in the queue, the
//! ring has room for it (`i - consumer < 2^log2_size`) and the engine `allow`s it (RX: its
//! frame's data was answered OKAY; TX: always). `producer` counts `done`s: the host is told
//! of a completion only once it is in its memory; `answered` pulses the clock after each (`event` is a Verilog keyword).
//!
//! # Timing
//! Everything the engine reads is a register: `ready`, `addr`, `beat0`, `beat1`. The queue
//! is a RAM read at its registered index, so after a `take` the next head is ready two
//! clocks later at the earliest (the RAM's output, the room and the slot address catch up);
//! a push is ready two clocks after it. Between a `take` and the next, `ready`, `addr` and
//! the beats stay as they are (room and `allow` only grow), so an engine may hold them on
//! the bus until it takes.
//!
//! # Discard
//! While `discard` is high (the engine stopped on a bus error) nothing is ready and every
//! queued completion is dropped (`empty` a clock later); `issued` does not move.
use crate::ram::Ram;
use nic_regs::ring::{CPL_CSUM, CPL_DESC_INDEX, CPL_LEN, CPL_PHASE, CPL_STATUS, CPL_VERDICT};
use rust_hdl::prelude::*;

/// Completions the queue holds (log2).
pub const CPL_QUEUE_BITS: usize = 3;
pub const CPL_QUEUE_ENTRIES: usize = 1 << CPL_QUEUE_BITS;

// The layout the kernel builds with literal shifts: beat 0 is bytes 0..7, beat 1 bytes 8..15.
const _: () = assert!(CPL_LEN.lsb == 0 && CPL_LEN.width == 16);
const _: () = assert!(CPL_CSUM.lsb == 16 && CPL_CSUM.width == 16);
const _: () = assert!(CPL_DESC_INDEX.lsb == 32 && CPL_DESC_INDEX.width == 16);
const _: () = assert!(CPL_VERDICT.lsb == 64 + 32 && CPL_VERDICT.width == 2);
const _: () = assert!(CPL_STATUS.lsb == 64 + 40 && CPL_STATUS.width == 8);
const _: () = assert!(CPL_PHASE.lsb == 64 + 63 && CPL_PHASE.width == 1);
const _: () = assert!(CPL_QUEUE_ENTRIES == 8);

#[derive(LogicBlock)]
pub struct CplWrite {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The ring: 2^`log2_size` completions of 16 bytes at `base`; the host's consumer index.
    pub base: Signal<In, Bits<64>>,
    pub log2_size: Signal<In, Bits<4>>,
    pub consumer: Signal<In, Bits<16>>,
    /// 2^`log2_size`, registered (for an engine that checks room before it accepts work).
    pub size: Signal<Out, Bits<16>>,
    /// Queue a completion on this edge (only while not `full`).
    pub push: Signal<In, Bit>,
    pub push_len: Signal<In, Bits<16>>,
    pub push_csum: Signal<In, Bits<16>>,
    pub push_verdict: Signal<In, Bits<2>>,
    pub push_status: Signal<In, Bits<8>>,
    pub full: Signal<Out, Bit>,
    pub empty: Signal<Out, Bit>,
    /// The engine lets the head go (RX: its frame's data was answered).
    pub allow: Signal<In, Bit>,
    /// Drop every queued completion (after a bus error).
    pub discard: Signal<In, Bit>,
    /// The head, ready to write: its slot's address and its two 8-byte beats.
    pub ready: Signal<Out, Bit>,
    pub addr: Signal<Out, Bits<64>>,
    pub beat0: Signal<Out, Bits<64>>,
    pub beat1: Signal<Out, Bits<64>>,
    /// The engine has written the head (only while `ready`).
    pub take: Signal<In, Bit>,
    /// A completion's write was answered OKAY.
    pub done: Signal<In, Bit>,
    pub issued: Signal<Out, Bits<16>>,
    pub producer: Signal<Out, Bits<16>>,
    pub answered: Signal<Out, Bit>,

    /// {STATUS[41:34], VERDICT[33:32], CSUM[31:16], LEN[15:0]}.
    ram: Ram<Bits<42>, CPL_QUEUE_BITS>,
    /// Queue pointers (one bit wider than the address): write, written a clock ago, read.
    wr: DFF<Bits<4>>,
    wr_seen: DFF<Bits<4>>,
    rd: DFF<Bits<4>>,
    count: DFF<Bits<16>>,
    prod: DFF<Bits<16>>,
    answered_q: DFF<Bit>,
    /// The ring's size and index mask, a stage each from `log2_size`.
    size_q: DFF<Bits<16>>,
    mask_q: DFF<Bits<16>>,
    /// The ring has a slot for completion `count` (a clock behind `consumer` and `count`).
    room_q: DFF<Bit>,
    /// A take was last clock: the RAM's output and `room_q` are of the old head.
    settle: DFF<Bit>,
    ready_q: DFF<Bit>,
    addr_q: DFF<Bits<64>>,
    beat0_q: DFF<Bits<64>>,
    beat1_q: DFF<Bits<64>>,

    k_one16: Constant<Bits<16>>,
    k_align16: Constant<Bits<64>>,
    used: Signal<Local, Bits<16>>,
    queued: Signal<Local, Bits<4>>,
    head: Signal<Local, Bits<42>>,
    pass: Signal<Local, Bits<16>>,
}

impl Default for CplWrite {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            base: Default::default(),
            log2_size: Default::default(),
            consumer: Default::default(),
            size: Default::default(),
            push: Default::default(),
            push_len: Default::default(),
            push_csum: Default::default(),
            push_verdict: Default::default(),
            push_status: Default::default(),
            full: Default::default(),
            empty: Default::default(),
            allow: Default::default(),
            discard: Default::default(),
            ready: Default::default(),
            addr: Default::default(),
            beat0: Default::default(),
            beat1: Default::default(),
            take: Default::default(),
            done: Default::default(),
            issued: Default::default(),
            producer: Default::default(),
            answered: Default::default(),
            ram: Default::default(),
            wr: Default::default(),
            wr_seen: Default::default(),
            rd: Default::default(),
            count: Default::default(),
            prod: Default::default(),
            answered_q: Default::default(),
            size_q: Default::default(),
            mask_q: Default::default(),
            room_q: Default::default(),
            settle: Default::default(),
            ready_q: Default::default(),
            addr_q: Default::default(),
            beat0_q: Default::default(),
            beat1_q: Default::default(),
            k_one16: Constant::new(1.into()),
            k_align16: Constant::new((!15_u64).to_bits()),
            used: Default::default(),
            queued: Default::default(),
            head: Default::default(),
            pass: Default::default(),
        }
    }
}

impl Logic for CplWrite {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, wr, wr_seen, rd, count, prod, answered_q, size_q, mask_q, room_q, settle, ready_q, addr_q,
            beat0_q, beat1_q
        );
        self.ram.write_clock.next = self.clock.val();
        self.ram.read_clock.next = self.clock.val();

        // ---- The queue. An entry shows a clock after its push (`wr_seen`); the RAM is read
        // at the registered index only, so no take decision reaches its address.
        self.ram.write_enable.next = self.push.val();
        self.ram.write_address.next = self.wr.q.val().get_bits::<CPL_QUEUE_BITS>(0);
        self.ram.write_data.next = bit_cast::<42, 16>(self.push_len.val())
            | (bit_cast::<42, 16>(self.push_csum.val()) << 16)
            | (bit_cast::<42, 2>(self.push_verdict.val()) << 32)
            | (bit_cast::<42, 8>(self.push_status.val()) << 34);
        if self.push.val() {
            self.wr.d.next = self.wr.q.val() + 1;
        }
        self.wr_seen.d.next = self.wr.q.val();
        self.ram.read_address.next = self.rd.q.val().get_bits::<CPL_QUEUE_BITS>(0);
        self.queued.next = self.wr.q.val() - self.rd.q.val();
        self.full.next = self.queued.val() == 8;
        self.empty.next = self.wr.q.val() == self.rd.q.val();

        // ---- The head: its slot, room and beats, each a register from registers.
        self.size_q.d.next = self.k_one16.val() << self.log2_size.val();
        self.mask_q.d.next = self.size_q.q.val() - 1;
        self.used.next = self.count.q.val() - self.consumer.val();
        self.room_q.d.next = self.used.val() < self.size_q.q.val();
        self.addr_q.d.next = (self.base.val() & self.k_align16.val())
            + (bit_cast::<64, 16>(self.count.q.val() & self.mask_q.q.val()) << 4);
        self.head.next = self.ram.read_data.val();
        self.pass.next = self.count.q.val() >> self.log2_size.val();
        self.beat0_q.d.next =
            bit_cast::<64, 32>(self.head.val().get_bits::<32>(0)) | (bit_cast::<64, 16>(self.count.q.val()) << 32);
        self.beat1_q.d.next = (bit_cast::<64, 2>(self.head.val().get_bits::<2>(32)) << 32)
            | (bit_cast::<64, 8>(self.head.val().get_bits::<8>(34)) << 40)
            | (bit_cast::<64, 16>(!self.pass.val() & 1) << 63);
        self.ready_q.d.next = (self.rd.q.val() != self.wr_seen.q.val())
            & self.room_q.q.val()
            & self.allow.val()
            & !self.settle.q.val()
            & !self.take.val()
            & !self.discard.val();
        self.settle.d.next = self.take.val();
        if self.take.val() {
            self.rd.d.next = self.rd.q.val() + 1;
            self.count.d.next = self.count.q.val() + 1;
        }
        if self.discard.val() {
            self.rd.d.next = self.wr.q.val();
        }

        // ---- Answers.
        self.answered_q.d.next = self.done.val();
        if self.done.val() {
            self.prod.d.next = self.prod.q.val() + 1;
        }

        if self.reset.val() {
            self.wr.d.next = 0.into();
            self.wr_seen.d.next = 0.into();
            self.rd.d.next = 0.into();
            self.count.d.next = 0.into();
            self.prod.d.next = 0.into();
            self.answered_q.d.next = false;
            self.settle.d.next = false;
            self.ready_q.d.next = false;
        }

        self.size.next = self.size_q.q.val();
        self.ready.next = self.ready_q.q.val();
        self.addr.next = self.addr_q.q.val();
        self.beat0.next = self.beat0_q.q.val();
        self.beat1.next = self.beat1_q.q.val();
        self.issued.next = self.count.q.val();
        self.producer.next = self.prod.q.val();
        self.answered.next = self.answered_q.q.val();
    }
}

#[cfg(test)]
mod tests;
