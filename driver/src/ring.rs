//! Descriptor and completion rings (`nic_regs::ring`): 16-byte entries in DMA memory,
//! free-running 16-bit indices, and a phase bit so that the host finds new completions
//! without reading a device register.
//!
//! The host writes a descriptor's two 64-bit words with volatile stores and, before the
//! `PRODUCER` doorbell, a release fence (so the device cannot see the doorbell before the
//! entry). It reads a completion's high word first (it holds the phase bit, the entry's last
//! bit), and only after seeing the expected phase, an acquire fence and the low word (so it
//! never reads a low word older than the phase it saw).
use std::sync::atomic::{fence, Ordering};

use nic_regs::{phase_for_index, slot, Completion, Descriptor, RingRegs, ENTRY_BYTES, MAX_LOG2_SIZE};

use crate::backend::{Backend, DmaRegion};
use crate::Error;

/// Allocates and zeroes a ring of 2^`log2` entries and points the ring's registers at it.
fn new_ring<B: Backend + ?Sized>(backend: &mut B, regs: RingRegs, log2: u32) -> Result<DmaRegion, Error> {
    if !(1..=MAX_LOG2_SIZE).contains(&log2) {
        return Err(Error::Config(format!("ring log2 size {log2} is outside 1..={MAX_LOG2_SIZE}")));
    }
    let mem = backend.alloc_dma(ENTRY_BYTES << log2)?;
    mem.zero();
    backend.write32(regs.base_lo.offset, mem.iova() as u32);
    backend.write32(regs.base_hi.offset, (mem.iova() >> 32) as u32);
    backend.write32(regs.log2_size.offset, log2);
    Ok(mem)
}

/// A descriptor ring the host produces into (RX buffers to fill, TX frames to send).
pub struct DescRing {
    mem: DmaRegion,
    log2: u32,
    /// Free-running index of the next entry to fill.
    producer: u16,
    /// Producer value last written to the doorbell.
    rung: u16,
    doorbell: u32,
}

impl DescRing {
    pub fn new<B: Backend + ?Sized>(backend: &mut B, regs: RingRegs, log2: u32) -> Result<Self, Error> {
        debug_assert!(regs.host_produces);
        let mem = new_ring(backend, regs, log2)?;
        Ok(DescRing { mem, log2, producer: 0, rung: 0, doorbell: regs.producer.offset })
    }

    pub fn size(&self) -> usize {
        1 << self.log2
    }

    pub fn log2(&self) -> u32 {
        self.log2
    }

    pub fn producer(&self) -> u16 {
        self.producer
    }

    /// The slot the next entry goes to.
    pub fn next_slot(&self) -> usize {
        slot(self.producer, self.log2)
    }

    /// Fills the next entry (the caller knows the slot is free: it tracks what is in flight).
    #[inline]
    pub fn push(&mut self, d: Descriptor) {
        let off = self.next_slot() * ENTRY_BYTES;
        let w = d.to_u128();
        self.mem.write_u64(off, w as u64);
        self.mem.write_u64(off + 8, (w >> 64) as u64);
        self.producer = self.producer.wrapping_add(1);
    }

    /// Rings the doorbell if entries were added since the last time: one register write.
    #[inline]
    pub fn ring<B: Backend + ?Sized>(&mut self, backend: &B) {
        if self.rung != self.producer {
            // The entries must be in memory before the device can see the new index.
            fence(Ordering::Release);
            backend.write32(self.doorbell, self.producer as u32);
            self.rung = self.producer;
        }
    }

    /// Reads back entry `index` (for tests and invariant checks).
    pub fn entry(&self, index: u16) -> Descriptor {
        let off = slot(index, self.log2) * ENTRY_BYTES;
        let w = self.mem.read_u64(off) as u128 | (self.mem.read_u64(off + 8) as u128) << 64;
        Descriptor::from_u128(w).unwrap_or_default()
    }

    pub fn region(&self) -> &DmaRegion {
        &self.mem
    }
}

/// A completion ring the device produces into and the host consumes.
pub struct CplRing {
    mem: DmaRegion,
    log2: u32,
    /// Free-running index of the next completion to look at.
    head: u16,
    rung: u16,
    doorbell: u32,
}

impl CplRing {
    pub fn new<B: Backend + ?Sized>(backend: &mut B, regs: RingRegs, log2: u32) -> Result<Self, Error> {
        debug_assert!(!regs.host_produces);
        let mem = new_ring(backend, regs, log2)?;
        Ok(CplRing { mem, log2, head: 0, rung: 0, doorbell: regs.consumer.offset })
    }

    pub fn size(&self) -> usize {
        1 << self.log2
    }

    pub fn head(&self) -> u16 {
        self.head
    }

    /// The completion at the head if the device has written it (phase rule), without
    /// consuming it. Reserved bits are ignored (the device writes them 0).
    #[inline]
    pub fn peek(&self) -> Option<Completion> {
        let off = slot(self.head, self.log2) * ENTRY_BYTES;
        let hi = self.mem.read_u64(off + 8);
        let phase = (hi >> 63) == 1;
        if phase != phase_for_index(self.head, self.log2) {
            return None;
        }
        // Pairs with the device's ordering (low word before the phase word): no read of the
        // entry's other bytes may happen before the phase was seen.
        fence(Ordering::Acquire);
        let lo = self.mem.read_u64(off);
        let w = lo as u128 | (hi as u128) << 64;
        Some(decode_completion(w))
    }

    /// Consumes the head entry (after `peek` returned it).
    #[inline]
    pub fn advance(&mut self) {
        self.head = self.head.wrapping_add(1);
    }

    /// `peek` then `advance`.
    #[inline]
    pub fn pop(&mut self) -> Option<Completion> {
        let c = self.peek()?;
        self.advance();
        Some(c)
    }

    /// Gives the consumed slots back to the device (`CONSUMER` doorbell), if any.
    #[inline]
    pub fn release<B: Backend + ?Sized>(&mut self, backend: &B) {
        if self.rung != self.head {
            backend.write32(self.doorbell, self.head as u32);
            self.rung = self.head;
        }
    }

    pub fn region(&self) -> &DmaRegion {
        &self.mem
    }
}

/// Decodes a completion with the `nic_regs` field table (each field is a shift and a mask
/// of constants, so this compiles to a few instructions).
#[inline]
fn decode_completion(w: u128) -> Completion {
    use nic_regs::{CPL_CSUM, CPL_DESC_INDEX, CPL_LEN, CPL_PHASE, CPL_STATUS, CPL_VERDICT};
    Completion {
        len: CPL_LEN.get(w) as u16,
        csum: CPL_CSUM.get(w) as u16,
        desc_index: CPL_DESC_INDEX.get(w) as u16,
        verdict: CPL_VERDICT.get(w) as u8,
        status: CPL_STATUS.get(w) as u8,
        phase: CPL_PHASE.get(w) == 1,
    }
}

/// Writes completion `c` into entry `index` of a completion ring in `mem` the way a device
/// must: low word first, then (after a release fence) the word holding the phase bit. For
/// device models (this crate's and `nic-sim`'s).
pub fn write_completion(mem: &DmaRegion, log2: u32, index: u16, c: &Completion) {
    let off = slot(index, log2) * ENTRY_BYTES;
    let w = c.to_u128().unwrap_or(0);
    mem.write_u64(off, w as u64);
    fence(Ordering::Release);
    mem.write_u64(off + 8, (w >> 64) as u64);
}

/// Reads descriptor `index` of a descriptor ring in `mem` (for device models).
pub fn read_descriptor(mem: &DmaRegion, log2: u32, index: u16) -> Descriptor {
    let off = slot(index, log2) * ENTRY_BYTES;
    let w = mem.read_u64(off) as u128 | (mem.read_u64(off + 8) as u128) << 64;
    // Reserved bits set by a buggy host: keep the defined fields, as the gateware does.
    Descriptor {
        addr: nic_regs::DESC_ADDR.get(w) as u64,
        len: nic_regs::DESC_LEN.get(w) as u16,
        flags: nic_regs::DESC_FLAGS.get(w) as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelBackend;
    use nic_regs::{ring as ring_regs, Ring};

    #[test]
    fn completion_ring_wraps_many_times_with_the_phase_bit() {
        // A 4-entry ring, 5 wraps plus the 16-bit index wrap: the host sees every entry
        // once, in order, and never a stale one.
        let mut be = ModelBackend::new_detached();
        let log2 = 2;
        let mut ring = CplRing::new(&mut be, ring_regs(Ring::RxCpl), log2).unwrap();
        assert!(ring.peek().is_none(), "a zeroed ring holds nothing new");
        let mut written: u16 = 0;
        let mut seen = 0u32;
        for round in 0..(70_000u32 / 3) {
            // The device writes up to 3 entries (never more than the free slots), the host reaps.
            for _ in 0..3 {
                let c = Completion {
                    len: written,
                    desc_index: written,
                    phase: phase_for_index(written, log2),
                    ..Default::default()
                };
                write_completion(ring.region(), log2, written, &c);
                written = written.wrapping_add(1);
            }
            for _ in 0..3 {
                let c = ring.pop().unwrap_or_else(|| panic!("round {round}: completion missing"));
                assert_eq!(c.desc_index, ring.head().wrapping_sub(1));
                assert_eq!(c.len, c.desc_index);
                seen += 1;
            }
            assert!(ring.peek().is_none(), "round {round}: stale entry seen as new");
        }
        assert!(seen > 65_536 + 5 * 4, "the 16-bit index wrapped too");
    }

    #[test]
    fn descriptor_ring_round_trips_and_rings_once() {
        let mut be = ModelBackend::new_detached();
        let mut ring = DescRing::new(&mut be, ring_regs(Ring::TxDesc), 3).unwrap();
        let writes = be.register_writes();
        for i in 0..20u16 {
            let d = Descriptor { addr: 0x1000 * i as u64 + 16, len: 60 + i, flags: 0 };
            ring.push(d);
            assert_eq!(ring.entry(i), d);
            assert_eq!(read_descriptor(ring.region(), 3, i), d);
            if i % 4 == 3 {
                ring.ring(&be);
                ring.ring(&be); // nothing new: no second write
            }
        }
        assert_eq!(be.register_writes() - writes, 5, "one doorbell per burst");
        assert_eq!(be.read32(ring_regs(Ring::TxDesc).producer.offset), 20);
        assert!(DescRing::new(&mut be, ring_regs(Ring::TxDesc), 16).is_err());
        assert!(DescRing::new(&mut be, ring_regs(Ring::TxDesc), 0).is_err());
    }
}
