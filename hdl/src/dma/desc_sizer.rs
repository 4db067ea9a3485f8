//! The size of a DMA engine's next descriptor read, worked out a clock ahead: one block
//! shared by the RX and TX engines.
//!
//! A read fetches descriptors `index ..` from the ring at `base`: as many as the engine
//! `want`s, but not past the ring's end (the index wraps) nor past a 4 KiB page's end (an
//! AXI burst must not cross one). Worked out in one clock from the ring-size register, that
//! is a shifter, a mask, two subtractions and three compares in a row. Here the ring's size
//! and mask are registered (the size is written while the engine is off), the room to the
//! nearer end and the wanted count are registered, and only their one compare is left for
//! the clock that issues the read.
//!
//! The outputs describe a read sized from the inputs of the clock before. The engine may
//! issue from them only if `index` has not moved since: both engines hold their read address
//! valid for at least a clock after issuing, so the following read always sees a sizing of
//! the new `index`.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct DescSizer {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// The ring holds 2^`log2_size` descriptors of 16 bytes at `base`.
    pub log2_size: Signal<In, Bits<4>>,
    pub base: Signal<In, Bits<64>>,
    /// The index of the next descriptor to read.
    pub index: Signal<In, Bits<16>>,
    /// How many the engine wants to read (at least 1 when `may`). With a 16-byte aligned
    /// `base` the room is at least 1 too.
    pub want: Signal<In, Bits<16>>,
    /// Whether the engine has a read to make at all.
    pub may: Signal<In, Bit>,
    /// A clock later: how many to read (≥ 1 when `ok`), from where, and whether to.
    pub count: Signal<Out, Bits<16>>,
    pub addr: Signal<Out, Bits<64>>,
    pub ok: Signal<Out, Bit>,

    ring: DFF<Bits<16>>,
    mask: DFF<Bits<16>>,
    s_want: DFF<Bits<16>>,
    s_room: DFF<Bits<16>>,
    s_addr: DFF<Bits<64>>,
    s_ok: DFF<Bit>,

    size: Signal<Local, Bits<16>>,
    slot: Signal<Local, Bits<16>>,
    page_off: Signal<Local, Bits<12>>,
    room_ring: Signal<Local, Bits<16>>,
    room_page: Signal<Local, Bits<16>>,
    room: Signal<Local, Bits<16>>,
}

impl Logic for DescSizer {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ring, mask, s_want, s_room, s_addr, s_ok);
        self.size.next = bit_cast::<16, 1>(1.into()) << self.log2_size.val();
        self.ring.d.next = self.size.val();
        self.mask.d.next = self.size.val() - 1;
        self.slot.next = self.index.val() & self.mask.q.val();
        self.room_ring.next = self.ring.q.val() - self.slot.val();
        // The slot's offset in its page from a 12-bit sum, not the 64-bit address. The sum
        // is a signal of its own: Verilog widens an expression to its context, so only an
        // assignment to 12 bits wraps it as Rust-HDL does.
        self.page_off.next =
            self.base.val().get_bits::<12>(0) + (bit_cast::<12, 8>(self.slot.val().get_bits::<8>(0)) << 4);
        self.room_page.next = (4096 - bit_cast::<16, 12>(self.page_off.val())) >> 4;
        self.room.next = self.room_ring.val();
        if self.room_page.val() < self.room_ring.val() {
            self.room.next = self.room_page.val();
        }
        self.s_want.d.next = self.want.val();
        self.s_room.d.next = self.room.val();
        self.s_addr.d.next = self.base.val() + (bit_cast::<64, 16>(self.slot.val()) << 4);
        self.s_ok.d.next = self.may.val();
        self.count.next = self.s_want.q.val();
        if self.s_room.q.val() < self.s_want.q.val() {
            self.count.next = self.s_room.q.val();
        }
        self.addr.next = self.s_addr.q.val();
        self.ok.next = self.s_ok.q.val();
        if self.reset.val() {
            self.s_ok.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::cycle_traced;
    use crate::verilog::export::export;
    use crate::verilog::tools::tool_for_test;
    use crate::verilog::vectors::VectorRecorder;
    use crate::verilog::{assert_lints_and_checks, assert_replays};
    use rand::{Rng, SeedableRng};

    /// The plain-Rust rule: as many as wanted, up to the ring's end and the page's end.
    fn reference(log2: u32, base: u64, next: u16, want: u16) -> (u16, u64) {
        let size = 1u32 << log2;
        let slot = u32::from(next) & (size - 1);
        let addr = base.wrapping_add(u64::from(slot) << 4);
        let room_ring = size - slot;
        let room_page = (4096 - (addr & 0xFFF) as u32) >> 4;
        (u32::from(want).min(room_ring).min(room_page) as u16, addr)
    }

    /// Random rings, indices and wants (unaligned bases too): a clock after the size
    /// registers, the sizing equals the reference; the exported Verilog, replayed in Icarus
    /// Verilog on the same steps, gives the same outputs.
    #[test]
    fn sizes_reads_a_clock_ahead_like_the_reference_in_rust_hdl_and_verilog() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xD5);
        let mut uut = DescSizer::default();
        let module = export("nic_desc_sizer", &mut uut);
        let mut rec = VectorRecorder::new(&module);
        uut.reset.next = true;
        cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
        assert!(!uut.ok.val(), "nothing to read after reset");
        uut.reset.next = false;
        for i in 0..600 {
            let log2 = rng.gen_range(1..=12u32);
            let base = if i % 4 == 0 { rng.gen::<u64>() } else { rng.gen::<u64>() & !0xF };
            let next = rng.gen::<u16>();
            let want = rng.gen_range(1..=16u16);
            uut.log2_size.next = u64::from(log2).to_bits();
            uut.base.next = base.to_bits();
            uut.index.next = u64::from(next).to_bits();
            uut.want.next = u64::from(want).to_bits();
            uut.may.next = i % 5 != 0;
            // Two clocks: the size registers, then the sizing.
            cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
            cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
            let (n, addr) = reference(log2, base, next, want);
            assert_eq!(uut.count.val().to_u64(), u64::from(n), "log2 {log2} base {base:#x} next {next} want {want}");
            assert_eq!(uut.addr.val().to_u64(), addr);
            assert_eq!(uut.ok.val(), i % 5 != 0);
            if base & 0xF == 0 {
                assert!(n >= 1, "an aligned ring always has room for one");
            }
        }
        if tool_for_test("iverilog") {
            assert_replays(&module, &rec, &[]);
        }
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        assert_lints_and_checks("nic_desc_sizer", &mut DescSizer::default());
    }
}
