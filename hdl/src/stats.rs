//! The card's statistics: the host-visible counters (`nic_regs::Counter`) as one table of
//! 64-bit words in LUT RAM, updated by one shared adder.
//!
//! # Why a table
//! Twelve 64-bit counters built from flip-flops cost twelve carry chains, 768 flip-flops and
//! a 12-way read multiplexer of 64 bits in the register block. Here they cost one 64-bit
//! adder, a 16-word LUT RAM and a small pending count per counter; the register block reads
//! the RAM like any other word. Corundum's and taxi's statistics collectors are built the
//! same way.
//!
//! # Behaviour
//! * `events` bit `i` counts one event for counter `i` on this clock edge; `events2` bit `i`
//!   counts a second one (two engines that report the same counter on the same clock).
//! * Events are registered on arrival, then added to their counter's pending count: the
//!   events not yet in the table. A scan visits one counter per clock, in turn over all 16
//!   entries: it reads that counter's table word and takes its pending count (starting it
//!   again from that clock's events), adds the two on the next clock and writes the sum on
//!   the clock after.
//! * A scan round is 16 clocks, so a pending count holds at most 32 events (its
//!   [`PENDING_BITS`] hold 63).
//! * `read_value` is entry `read_index` of the last clock, read from a second copy of the RAM
//!   (written with the first) into a register, so a reader never waits for the scan nor the
//!   scan for it.
//! * A read therefore includes every event counted at least [`LAG_CLOCKS`] clocks before it,
//!   and a counter never goes backwards; once events stop, reads are exact after
//!   [`LAG_CLOCKS`] clocks.
//! * `reset` (synchronous) zeroes every counter: the pending counts clear and an entry reads
//!   0 until the scan first writes it (LUT RAM has no reset).
use crate::ram::LutRam;
use rust_hdl::prelude::*;

/// Entries in the table (counters `0..NCNT` are used; the rest read 0).
pub const ENTRIES: usize = 16;
/// Width of a counter's pending count.
pub const PENDING_BITS: usize = 6;
/// A read includes every event counted at least this many clocks before it: a scan round
/// (16 clocks) plus the events', the read's and the sum's registers and the write. The
/// host's contract (`nic_regs`).
pub const LAG_CLOCKS: u64 = nic_regs::COUNTER_LAG_CLOCKS;
const _: () = assert!(LAG_CLOCKS >= 16 + 4);

// Two events per clock over one round (16 clocks) fit the pending count.
// (The kernel spells PENDING_BITS as 6: Rust-HDL's Verilog generator takes no named constants.)
const _: () = assert!(PENDING_BITS == 6 && ENTRIES == 16 && nic_regs::COUNTERS.len() <= ENTRIES);

#[derive(LogicBlock)]
pub struct Stats {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// One event for counter `i` (bit `i`) on this clock edge.
    pub events: Signal<In, Bits<16>>,
    /// A second event for counter `i` on the same edge.
    pub events2: Signal<In, Bits<16>>,
    pub read_index: Signal<In, Bits<4>>,
    /// Entry `read_index` as it was on the last clock (a register: no path from the reader's
    /// index back to the reader within a clock).
    pub read_value: Signal<Out, Bits<64>>,
    /// The table, read by the scan; `words_read` is its copy for the reader.
    words: LutRam<Bits<64>, 4>,
    words_read: LutRam<Bits<64>, 4>,
    /// The reader's entry and whether it was written since reset, registered (timing: the
    /// RAM's word goes straight to its flip-flops; the mask comes after).
    read_out: DFF<Bits<64>>,
    read_written: DFF<Bit>,
    /// The events, registered (timing: the blocks' event logic does not reach the adders).
    events_q: DFF<Bits<16>>,
    events2_q: DFF<Bits<16>>,
    /// Entry `i` was written since reset (until then it reads 0).
    written: DFF<Bits<16>>,
    pending: [DFF<Bits<PENDING_BITS>>; ENTRIES],
    scan: DFF<Bits<4>>,
    /// The scanned entry as read and its pending count taken, added on the next clock
    /// (timing: the RAM read and the 64-bit carry chain are a clock each).
    read_valid: DFF<Bit>,
    read_entry: DFF<Bits<4>>,
    read_word: DFF<Bits<64>>,
    read_taken: DFF<Bits<PENDING_BITS>>,
    /// Their sum, written on the clock after.
    sum_valid: DFF<Bit>,
    sum_index: DFF<Bits<4>>,
    sum: DFF<Bits<64>>,
    word: Signal<Local, Bits<64>>,
    taken: Signal<Local, Bits<PENDING_BITS>>,
    add: [Signal<Local, Bits<PENDING_BITS>>; ENTRIES],
    k_index: [Constant<Bits<4>>; ENTRIES],
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            events: Default::default(),
            events2: Default::default(),
            read_index: Default::default(),
            read_value: Default::default(),
            words: Default::default(),
            words_read: Default::default(),
            read_out: Default::default(),
            read_written: Default::default(),
            events_q: Default::default(),
            events2_q: Default::default(),
            written: Default::default(),
            pending: Default::default(),
            scan: Default::default(),
            read_valid: Default::default(),
            read_entry: Default::default(),
            read_word: Default::default(),
            read_taken: Default::default(),
            sum_valid: Default::default(),
            sum_index: Default::default(),
            sum: Default::default(),
            word: Default::default(),
            taken: Default::default(),
            add: Default::default(),
            k_index: std::array::from_fn(|i| Constant::new((i as u64).to_bits())),
        }
    }
}

impl Logic for Stats {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            read_out,
            read_written,
            events_q,
            events2_q,
            written,
            scan,
            read_valid,
            read_entry,
            read_word,
            read_taken,
            sum_valid,
            sum_index,
            sum
        );
        for i in 0..ENTRIES {
            self.pending[i].clock.next = self.clock.val();
        }
        self.words.write_clock.next = self.clock.val();
        self.words_read.write_clock.next = self.clock.val();

        // The reader's copy; an entry not written since reset reads 0.
        self.words_read.read_address.next = self.read_index.val();
        self.read_out.d.next = self.words_read.read_data.val();
        self.read_written.d.next = self.written.q.val().get_bit(self.read_index.val().index());
        self.read_value.next = 0.into();
        if self.read_written.q.val() {
            self.read_value.next = self.read_out.q.val();
        }
        // The scan's.
        self.words.read_address.next = self.scan.q.val();
        self.word.next = 0.into();
        if self.written.q.val().get_bit(self.scan.q.val().index()) {
            self.word.next = self.words.read_data.val();
        }

        // Pending counts: the last clock's events, on top of the count unless the scan takes it.
        self.events_q.d.next = self.events.val();
        self.events2_q.d.next = self.events2.val();
        self.taken.next = 0.into();
        for i in 0..ENTRIES {
            self.add[i].next = 0.into();
            if self.events_q.q.val().get_bit(i) {
                self.add[i].next = 1.into();
            }
            if self.events2_q.q.val().get_bit(i) {
                self.add[i].next = self.add[i].val() + 1;
            }
            self.pending[i].d.next = self.pending[i].q.val() + self.add[i].val();
            if self.scan.q.val() == self.k_index[i].val() {
                self.taken.next = self.pending[i].q.val();
                self.pending[i].d.next = self.add[i].val();
            }
        }

        // The scan: read (registered), add (registered), write.
        self.read_valid.d.next = true;
        self.read_entry.d.next = self.scan.q.val();
        self.read_word.d.next = self.word.val();
        self.read_taken.d.next = self.taken.val();
        self.sum_valid.d.next = self.read_valid.q.val();
        self.sum_index.d.next = self.read_entry.q.val();
        self.sum.d.next = self.read_word.q.val() + bit_cast::<64, 6>(self.read_taken.q.val());
        self.scan.d.next = self.scan.q.val() + 1;
        self.words.write_address.next = self.sum_index.q.val();
        self.words.write_data.next = self.sum.q.val();
        self.words.write_enable.next = self.sum_valid.q.val();
        self.words_read.write_address.next = self.sum_index.q.val();
        self.words_read.write_data.next = self.sum.q.val();
        self.words_read.write_enable.next = self.sum_valid.q.val();
        for i in 0..ENTRIES {
            if self.sum_valid.q.val() & (self.sum_index.q.val() == self.k_index[i].val()) {
                self.written.d.next = self.written.q.val().replace_bit(i, true);
            }
        }

        if self.reset.val() {
            for i in 0..ENTRIES {
                self.pending[i].d.next = 0.into();
            }
            self.written.d.next = 0.into();
            self.events_q.d.next = 0.into();
            self.events2_q.d.next = 0.into();
            self.scan.d.next = 0.into();
            self.read_valid.d.next = false;
            self.sum_valid.d.next = false;
            self.words.write_enable.next = false;
            self.words_read.write_enable.next = false;
        }
    }
}

#[cfg(test)]
mod tests;
