//! Host memory: real memory the host software and the model share.
//!
//! The card's DMA (through [`nic_hdl::model::axi_mem::AxiMem`]) and the host software (a
//! driver on another thread, or the small host loops of `nic replay` and `nic bench`) read
//! and write the same words, at bus addresses (IOVAs) from `base`. The words are atomics, so
//! the two sides never race in the Rust sense; the protocol between them (descriptors before
//! the doorbell, frame bytes before the completion) is the ring ABI's, exactly as with a board.
use nic_hdl::model::axi_mem::HostMemory;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Default bus address of host memory: above 4 GiB, so 64-bit addressing is exercised.
pub const DEFAULT_BASE: u64 = 0x1_0000_0000;

pub struct MemoryRegion {
    base: u64,
    /// Allocated with one spare page, so the region can start on a 4 KiB boundary.
    words: Box<[AtomicU64]>,
    /// Index of the region's first word (4 KiB aligned in the process).
    start: usize,
    /// Words in the region.
    count: usize,
}

/// A handle on the shared region; clones see the same memory.
#[derive(Clone)]
pub struct SharedMemory(Arc<MemoryRegion>);

impl SharedMemory {
    /// `len` bytes (rounded up to 8) of zeroed memory at bus address `base` (8-aligned).
    pub fn new(base: u64, len: usize) -> Self {
        assert!(base.is_multiple_of(8), "host memory base must be 8-byte aligned");
        let count = len.div_ceil(8);
        let words: Box<[AtomicU64]> = (0..count + 512).map(|_| AtomicU64::new(0)).collect();
        let start = (4096 - words.as_ptr() as usize % 4096) % 4096 / 8;
        SharedMemory(Arc::new(MemoryRegion { base, words, start, count }))
    }

    pub fn base(&self) -> u64 {
        self.0.base
    }

    pub fn len(&self) -> usize {
        self.0.count * 8
    }

    pub fn is_empty(&self) -> bool {
        self.0.count == 0
    }

    /// Pointer to the first byte (4 KiB aligned), for a backend that hands the driver raw DMA
    /// memory. The memory lives as long as any clone of this handle.
    pub fn as_ptr(&self) -> *mut u8 {
        self.0.words[self.0.start..].as_ptr() as *mut u8
    }

    /// Index of the word holding `addr`, when `addr..addr+len` is inside the region.
    fn word_index(&self, addr: u64, len: usize) -> Option<usize> {
        let off = addr.checked_sub(self.0.base)?;
        let end = off.checked_add(len as u64)?;
        (end <= self.len() as u64).then_some(self.0.start + (off / 8) as usize)
    }

    /// One 64-bit word at an 8-aligned address (acquire: what was written before it is visible).
    pub fn load64(&self, addr: u64) -> Option<u64> {
        debug_assert!(addr.is_multiple_of(8));
        self.word_index(addr, 8).map(|i| self.0.words[i].load(Ordering::Acquire))
    }

    /// Store one 64-bit word at an 8-aligned address (release).
    pub fn store64(&self, addr: u64, value: u64) -> Option<()> {
        debug_assert!(addr.is_multiple_of(8));
        self.word_index(addr, 8).map(|i| self.0.words[i].store(value, Ordering::Release))
    }

    /// Merge the bytes of `value` selected by `strb` into the word at 8-aligned `addr`.
    pub fn store64_masked(&self, addr: u64, value: u64, strb: u8) -> Option<()> {
        let i = self.word_index(addr, 8)?;
        let mask = (0..8).filter(|b| strb >> b & 1 == 1).fold(0u64, |m, b| m | 0xFF << (8 * b));
        let w = &self.0.words[i];
        // Host and device never write the same word at once (the ring ABI gives each word to
        // one side at a time), so load + store is enough; the loop is for safety only.
        let mut old = w.load(Ordering::Relaxed);
        loop {
            let new = (old & !mask) | (value & mask);
            match w.compare_exchange_weak(old, new, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return Some(()),
                Err(seen) => old = seen,
            }
        }
    }

    /// Copy bytes out, any alignment.
    pub fn read_bytes(&self, addr: u64, buf: &mut [u8]) -> Option<()> {
        self.word_index(addr, buf.len())?;
        let mut a = addr;
        let mut done = 0;
        while done < buf.len() {
            let w = (self.load64(a & !7)?).to_le_bytes();
            let off = (a & 7) as usize;
            let n = (8 - off).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&w[off..off + n]);
            done += n;
            a += n as u64;
        }
        Some(())
    }

    /// Copy bytes in, any alignment.
    pub fn write_bytes(&self, addr: u64, data: &[u8]) -> Option<()> {
        self.word_index(addr, data.len())?;
        let mut a = addr;
        let mut done = 0;
        while done < data.len() {
            let off = (a & 7) as usize;
            let n = (8 - off).min(data.len() - done);
            let mut w = [0u8; 8];
            w[off..off + n].copy_from_slice(&data[done..done + n]);
            let strb = (((1u16 << n) - 1) << off) as u8;
            self.store64_masked(a & !7, u64::from_le_bytes(w), strb)?;
            done += n;
            a += n as u64;
        }
        Some(())
    }
}

impl HostMemory for SharedMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ()> {
        self.read_bytes(addr, buf).ok_or(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), ()> {
        self.write_bytes(addr, data).ok_or(())
    }

    fn write_beat(&mut self, addr: u64, data: u64, strb: u8) -> Result<(), ()> {
        self.store64_masked(addr, data, strb).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_any_alignment_and_bounds() {
        let m = SharedMemory::new(0x1000, 64);
        m.write_bytes(0x1003, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).unwrap();
        let mut b = [0u8; 12];
        m.read_bytes(0x1002, &mut b).unwrap();
        assert_eq!(b, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
        assert_eq!(m.load64(0x1000).unwrap(), u64::from_le_bytes([0, 0, 0, 1, 2, 3, 4, 5]));
        assert!(m.read_bytes(0x1039, &mut b).is_none(), "past the end");
        assert!(m.load64(0xFF8).is_none(), "before the base");
        let mut h = m.clone();
        h.write_beat(0x1008, u64::MAX, 0b1000_0001).unwrap();
        assert_eq!(m.load64(0x1008).unwrap().to_le_bytes(), [0xFF, 7, 8, 9, 10, 0, 0, 0xFF]);
        assert_eq!(m.as_ptr() as usize % 4096, 0);
    }
}
