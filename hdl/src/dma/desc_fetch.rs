//! Descriptor fetch: one block for both DMA engines. It reads the descriptors the host posts
//! into a 16-entry prefetch buffer, a batch per read, and shows the engine the next unused
//! one (the head).
//!
//! ```text
//!  producer ─► sizing pipeline (4 stages) ─► req/req_addr/req_len ─► the engine's AR register
//!  beat/beat_data (R beats of these reads, in order) ─► prefetch buffer (16) ─► head_* ◄─ pop
//! ```
//!
//! # The prefetch rule (the same for RX and TX)
//! A read of `n` descriptors (`2n` beats) is offered (`req`; the engine issues it only while
//! its queue runs: enabled, no bus error) when the host has posted descriptors not yet requested and the buffer has room for all the read
//! asks for: `n` = the least of the posted and not requested, [`DESC_BATCH`], the entries to
//! the ring's end and the entries to the end of the 4 KiB page (an AXI burst must not cross
//! one). The engine issues it when its AR channel is free and says so with `req_take`;
//! several reads may be in flight. Ring bases are used with bits 3:0 cleared (the ABI asks
//! for multiples of 16).
//!
//! # Indices (all mod 2^16, as the ring ABI counts)
//! * `requested`: descriptors asked for.
//! * `fetched`: descriptors whose two beats have arrived (the host's `*_CONSUMER`: the host
//!   may rewrite ring slots before it; the buffers they name stay the device's until their
//!   completions, like an NVMe submission queue's head).
//! * `used`: descriptors the engine has popped. `head_valid` is high while `used` is behind
//!   `fetched` (from one clock after a descriptor's second beat, and one clock after a pop:
//!   the buffer is a RAM read a clock late), and `head_addr`/`head_len` are descriptor
//!   `used`.
//!
//! # Timing
//! Sizing a read is a shifter, a mask, two subtractions, a 64-bit add and three minimums.
//! Here it is a pipeline of four register stages, each an adder or a compare deep: the
//! posted count and the buffer's room; the wanted count, the room to the ring's end and the
//! address; the room to the page's end; the count and the burst length. The ring's size and
//! mask are registered from `log2_size` (written while the engine is off). After a read is
//! taken no other is offered for [`SETTLE`] clocks, until the pipeline has seen the new
//! `requested`; a later `producer` or `pop` only makes the sizing conservative for a few
//! clocks (fewer posted, less room), never wrong.
use crate::ram::Ram;
use rust_hdl::prelude::*;

/// Descriptors the prefetch buffer holds (log2).
pub const DESC_FIFO_BITS: usize = 4;
pub const DESC_FIFO_ENTRIES: usize = 1 << DESC_FIFO_BITS;
/// Most descriptors one read fetches.
pub const DESC_BATCH: usize = 8;
/// Clocks after a taken read before the next is offered (the sizing pipeline's depth).
pub const SETTLE: usize = 4;

const _: () = assert!(DESC_FIFO_ENTRIES == 16 && DESC_BATCH == 8 && SETTLE == 4);

#[derive(LogicBlock)]
pub struct DescFetch {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The ring: 2^`log2_size` descriptors of 16 bytes at `base`; the host's producer index.
    pub base: Signal<In, Bits<64>>,
    pub log2_size: Signal<In, Bits<4>>,
    pub producer: Signal<In, Bits<16>>,
    /// A read to issue: its address and AXI burst length (`2n - 1`).
    pub req: Signal<Out, Bit>,
    pub req_addr: Signal<Out, Bits<64>>,
    pub req_len: Signal<Out, Bits<8>>,
    /// The engine takes the offered read on this edge (only while `req`).
    pub req_take: Signal<In, Bit>,
    /// One R beat of these reads on this edge (in order: a descriptor's ADDR, then its LEN).
    pub beat: Signal<In, Bit>,
    pub beat_data: Signal<In, Bits<64>>,
    /// Beats are counted but not stored (after a bus error: nothing fetched then is used).
    pub drop_beats: Signal<In, Bit>,
    /// The next unused descriptor.
    pub head_valid: Signal<Out, Bit>,
    pub head_addr: Signal<Out, Bits<64>>,
    pub head_len: Signal<Out, Bits<16>>,
    /// The engine uses the head on this edge (only while `head_valid`).
    pub pop: Signal<In, Bit>,
    pub requested: Signal<Out, Bits<16>>,
    pub fetched: Signal<Out, Bits<16>>,
    pub used: Signal<Out, Bits<16>>,
    /// Beats of issued reads not yet arrived.
    pub reading: Signal<Out, Bit>,

    /// {LEN[79:64], ADDR[63:0]}, slot = index mod 16.
    ram: Ram<Bits<80>, DESC_FIFO_BITS>,
    req_idx: DFF<Bits<16>>,
    arrived: DFF<Bits<16>>,
    used_idx: DFF<Bits<16>>,
    /// `head_valid` as a register, decided a clock ahead: a descriptor arrived before last
    /// clock is readable from the RAM, and after a pop the RAM reads the new head a clock late.
    has_head: DFF<Bit>,
    /// The first beat of the descriptor arriving, and whether the next beat is its second.
    first: DFF<Bits<64>>,
    odd: DFF<Bit>,
    beats_due: DFF<Bits<8>>,
    /// Clocks left before a new sizing is trusted.
    settle: DFF<Bits<3>>,
    /// `d_ok` and no settling left, as a register: `req` reaches the engine from a flip-flop.
    offer: DFF<Bit>,
    ring: DFF<Bits<16>>,
    mask: DFF<Bits<16>>,
    // Stage A.
    a_slot: DFF<Bits<16>>,
    a_avail: DFF<Bits<16>>,
    a_free: DFF<Bits<5>>,
    // Stage B.
    b_want: DFF<Bits<4>>,
    b_may: DFF<Bit>,
    b_ring_room: DFF<Bits<4>>,
    b_page_off: DFF<Bits<8>>,
    b_addr: DFF<Bits<64>>,
    // Stage C.
    c_want: DFF<Bits<4>>,
    c_may: DFF<Bit>,
    c_room: DFF<Bits<4>>,
    c_page_room: DFF<Bits<4>>,
    c_addr: DFF<Bits<64>>,
    // Stage D: the read offered.
    d_ok: DFF<Bit>,
    d_count: DFF<Bits<4>>,
    d_len: DFF<Bits<8>>,
    d_addr: DFF<Bits<64>>,

    k_align16: Constant<Bits<64>>,
    size: Signal<Local, Bits<16>>,
    ring_room: Signal<Local, Bits<16>>,
    page_off: Signal<Local, Bits<12>>,
    page_left: Signal<Local, Bits<9>>,
    c_min: Signal<Local, Bits<4>>,
    count: Signal<Local, Bits<4>>,
    used_inc: Signal<Local, Bits<16>>,
    take: Signal<Local, Bit>,
}

impl Default for DescFetch {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            base: Default::default(),
            log2_size: Default::default(),
            producer: Default::default(),
            req: Default::default(),
            req_addr: Default::default(),
            req_len: Default::default(),
            req_take: Default::default(),
            beat: Default::default(),
            beat_data: Default::default(),
            drop_beats: Default::default(),
            head_valid: Default::default(),
            head_addr: Default::default(),
            head_len: Default::default(),
            pop: Default::default(),
            requested: Default::default(),
            fetched: Default::default(),
            used: Default::default(),
            reading: Default::default(),
            ram: Default::default(),
            req_idx: Default::default(),
            arrived: Default::default(),
            used_idx: Default::default(),
            has_head: Default::default(),
            first: Default::default(),
            odd: Default::default(),
            beats_due: Default::default(),
            settle: Default::default(),
            offer: Default::default(),
            ring: Default::default(),
            mask: Default::default(),
            a_slot: Default::default(),
            a_avail: Default::default(),
            a_free: Default::default(),
            b_want: Default::default(),
            b_may: Default::default(),
            b_ring_room: Default::default(),
            b_page_off: Default::default(),
            b_addr: Default::default(),
            c_want: Default::default(),
            c_may: Default::default(),
            c_room: Default::default(),
            c_page_room: Default::default(),
            c_addr: Default::default(),
            d_ok: Default::default(),
            d_count: Default::default(),
            d_len: Default::default(),
            d_addr: Default::default(),
            k_align16: Constant::new((!15_u64).to_bits()),
            size: Default::default(),
            ring_room: Default::default(),
            page_off: Default::default(),
            page_left: Default::default(),
            c_min: Default::default(),
            count: Default::default(),
            used_inc: Default::default(),
            take: Default::default(),
        }
    }
}

impl Logic for DescFetch {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            req_idx,
            arrived,
            used_idx,
            has_head,
            first,
            odd,
            beats_due,
            settle,
            offer,
            ring,
            mask,
            a_slot,
            a_avail,
            a_free,
            b_want,
            b_may,
            b_ring_room,
            b_page_off,
            b_addr,
            c_want,
            c_may,
            c_room,
            c_page_room,
            c_addr,
            d_ok,
            d_count,
            d_len,
            d_addr
        );
        self.ram.read_clock.next = self.clock.val();
        self.ram.write_clock.next = self.clock.val();

        // ---- The ring's size and mask, registered from the size register.
        self.size.next = bit_cast::<16, 1>(1.into()) << self.log2_size.val();
        self.ring.d.next = self.size.val();
        self.mask.d.next = self.size.val() - 1;

        // ---- Stage A: the slot of the next read, what is posted, the buffer's room.
        self.a_slot.d.next = self.req_idx.q.val() & self.mask.q.val();
        self.a_avail.d.next = self.producer.val() - self.req_idx.q.val();
        self.a_free.d.next = 16 - bit_cast::<5, 16>(self.req_idx.q.val() - self.used_idx.q.val());

        // ---- Stage B: the wanted count (posted, up to a batch) and whether the buffer
        // takes it; the room to the ring's end (up to a batch); the slot's address and its
        // offset in the page (in descriptors).
        self.b_want.d.next = self.a_avail.q.val().get_bits::<4>(0);
        if self.a_avail.q.val() >= 8 {
            self.b_want.d.next = 8.into();
        }
        self.b_may.d.next = self.a_avail.q.val().any()
            & ((self.a_free.q.val() >= 8) | (bit_cast::<16, 5>(self.a_free.q.val()) >= self.a_avail.q.val()));
        self.ring_room.next = self.ring.q.val() - self.a_slot.q.val();
        self.b_ring_room.d.next = self.ring_room.val().get_bits::<4>(0);
        if self.ring_room.val() >= 8 {
            self.b_ring_room.d.next = 8.into();
        }
        // A 12-bit sum of its own: Verilog widens an expression to its context, so only an
        // assignment to 12 bits wraps it as Rust-HDL does.
        self.page_off.next =
            self.base.val().get_bits::<12>(0) + (bit_cast::<12, 8>(self.a_slot.q.val().get_bits::<8>(0)) << 4);
        self.b_page_off.d.next = self.page_off.val().get_bits::<8>(4);
        self.b_addr.d.next = (self.base.val() & self.k_align16.val()) + (bit_cast::<64, 16>(self.a_slot.q.val()) << 4);

        // ---- Stage C: the room to the page's end (up to a batch); the nearer end so far.
        self.page_left.next = 256 - bit_cast::<9, 8>(self.b_page_off.q.val());
        self.c_page_room.d.next = self.page_left.val().get_bits::<4>(0);
        if self.page_left.val() >= 8 {
            self.c_page_room.d.next = 8.into();
        }
        self.c_want.d.next = self.b_want.q.val();
        self.c_may.d.next = self.b_may.q.val();
        self.c_room.d.next = self.b_ring_room.q.val();
        self.c_addr.d.next = self.b_addr.q.val();

        // ---- Stage D: the count (the least of the three) and the burst length.
        self.c_min.next = self.c_want.q.val();
        if self.c_room.q.val() < self.c_min.val() {
            self.c_min.next = self.c_room.q.val();
        }
        self.count.next = self.c_min.val();
        if self.c_page_room.q.val() < self.c_min.val() {
            self.count.next = self.c_page_room.q.val();
        }
        self.d_ok.d.next = self.c_may.q.val();
        self.d_count.d.next = self.count.val();
        self.d_len.d.next = (bit_cast::<8, 4>(self.count.val()) << 1) - 1;
        self.d_addr.d.next = self.c_addr.q.val();

        // ---- The read offered, and taken.
        // From registers only: an engine decides on `req` in the kernel that drives this
        // block's inputs, so a combinational path back would be a loop to Verilator.
        self.req.next = self.offer.q.val();
        self.req_addr.next = self.d_addr.q.val();
        self.req_len.next = self.d_len.q.val();
        self.take.next = self.req_take.val() & self.offer.q.val();
        if self.settle.q.val().any() {
            self.settle.d.next = self.settle.q.val() - 1;
        }
        if self.take.val() {
            self.req_idx.d.next = self.req_idx.q.val() + bit_cast::<16, 4>(self.d_count.q.val());
            self.settle.d.next = 4.into();
        }
        // Next clock's `d_ok` is `c_may` now; `settle` will be 0 unless it is above 1 or reloads.
        self.offer.d.next = self.c_may.q.val() & !self.take.val() & (self.settle.q.val() <= 1);

        // ---- Beats in flight, and the arriving descriptors into the buffer.
        if self.take.val() {
            self.beats_due.d.next = self.beats_due.q.val() + self.d_len.q.val() + 1;
            if self.beat.val() {
                self.beats_due.d.next = self.beats_due.q.val() + self.d_len.q.val();
            }
        } else if self.beat.val() {
            self.beats_due.d.next = self.beats_due.q.val() - 1;
        }
        self.ram.write_enable.next = false;
        self.ram.write_address.next = self.arrived.q.val().get_bits::<DESC_FIFO_BITS>(0);
        self.ram.write_data.next =
            bit_cast::<80, 64>(self.first.q.val()) | (bit_cast::<80, 16>(self.beat_data.val().get_bits::<16>(0)) << 64);
        // `first` follows the R data while no descriptor's first beat is held, so it holds
        // ADDR from that beat to LEN's; its 64 enables are `!odd`, a flip-flop, and not
        // the bus's `rvalid` (timing).
        if !self.odd.q.val() {
            self.first.d.next = self.beat_data.val();
        }
        if self.beat.val() {
            self.odd.d.next = !self.odd.q.val();
            if self.odd.q.val() & !self.drop_beats.val() {
                self.ram.write_enable.next = true;
                self.arrived.d.next = self.arrived.q.val() + 1;
            }
        }

        // ---- The head: the RAM is read at `used` (a register: the engine's decision to pop
        // does not reach the RAM's address in the same clock), so after a pop the new head
        // shows a clock later.
        self.used_inc.next = self.used_idx.q.val() + 1;
        self.ram.read_address.next = self.used_idx.q.val().get_bits::<DESC_FIFO_BITS>(0);
        if self.pop.val() {
            self.used_idx.d.next = self.used_inc.val();
        }
        self.has_head.d.next = (self.used_idx.q.val() != self.arrived.q.val()) & !self.pop.val();
        self.head_valid.next = self.has_head.q.val();
        self.head_addr.next = self.ram.read_data.val().get_bits::<64>(0);
        self.head_len.next = self.ram.read_data.val().get_bits::<16>(64);
        self.requested.next = self.req_idx.q.val();
        self.fetched.next = self.arrived.q.val();
        self.used.next = self.used_idx.q.val();
        self.reading.next = self.beats_due.q.val().any();

        if self.reset.val() {
            self.req_idx.d.next = 0.into();
            self.arrived.d.next = 0.into();
            self.has_head.d.next = false;
            self.used_idx.d.next = 0.into();
            self.odd.d.next = false;
            self.beats_due.d.next = 0.into();
            self.settle.d.next = 4.into();
            self.d_ok.d.next = false;
            self.offer.d.next = false;
            self.c_may.d.next = false;
            self.b_may.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests;
