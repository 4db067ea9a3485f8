//! The buffer pool: `count` fixed-size DMA buffers carved out of one region, a free stack
//! (O(1) allocate and free), and the state of every buffer, so that a buffer is always in
//! exactly one place and a double free or a leak is caught instead of becoming a corrupted
//! frame.
//!
//! ```text
//!            alloc              post (nic.rs)            completion
//!   Free ───────────► Lent ─────────────────► RxPosted / TxPosted ─────────► Lent / Free
//!     ▲                 │ free / recycle                                       │
//!     └─────────────────┴──────────────────────────────────────────────────────┘
//! ```
//!
//! Only a buffer in state `Lent` (the host owns it, the device does not) may be seen as a
//! Rust slice; `slice`/`slice_mut` check that.
use std::sync::atomic::{AtomicU32, Ordering};

use crate::backend::DmaRegion;
use crate::Error;

/// Where a buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BufState {
    /// On the free stack.
    Free,
    /// In the RX descriptor ring: the device may write it.
    RxPosted,
    /// In the TX descriptor ring: the device may read it.
    TxPosted,
    /// Owned by the host outside the pool: a received frame being parsed, a frame being built.
    Lent,
}

const STATES: usize = 4;

/// Buffers per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolCounts {
    pub free: u32,
    pub rx_posted: u32,
    pub tx_posted: u32,
    pub lent: u32,
}

/// A distinct tag per pool, so a handle from another NIC's pool is refused.
static NEXT_TAG: AtomicU32 = AtomicU32::new(1);

pub struct Pool {
    mem: DmaRegion,
    buf_size: usize,
    free: Vec<u32>,
    state: Vec<BufState>,
    counts: [u32; STATES],
    tag: u32,
}

impl Pool {
    /// `count` buffers of `buf_size` bytes (a multiple of 64, so every buffer starts on a
    /// cache line) in `mem`.
    pub fn new(mem: DmaRegion, count: u32, buf_size: usize) -> Result<Self, Error> {
        if buf_size == 0 || !buf_size.is_multiple_of(64) || buf_size > u16::MAX as usize {
            return Err(Error::Config(format!("buffer size {buf_size} must be a non-zero multiple of 64 below 65536")));
        }
        if count == 0 || (count as usize).checked_mul(buf_size).is_none_or(|n| n > mem.len()) {
            return Err(Error::Config(format!("{count} buffers of {buf_size} bytes do not fit {} bytes", mem.len())));
        }
        let mut counts = [0; STATES];
        counts[BufState::Free as usize] = count;
        Ok(Pool {
            mem,
            buf_size,
            // Popped from the end: buffer 0 first, which keeps early use in few pages.
            free: (0..count).rev().collect(),
            state: vec![BufState::Free; count as usize],
            counts,
            tag: NEXT_TAG.fetch_add(1, Ordering::Relaxed),
        })
    }

    pub fn tag(&self) -> u32 {
        self.tag
    }

    pub fn buf_size(&self) -> usize {
        self.buf_size
    }

    pub fn len(&self) -> u32 {
        self.state.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    pub fn region(&self) -> &DmaRegion {
        &self.mem
    }

    pub fn state(&self, id: u32) -> Option<BufState> {
        self.state.get(id as usize).copied()
    }

    pub fn counts(&self) -> PoolCounts {
        let c = &self.counts;
        PoolCounts { free: c[0], rx_posted: c[1], tx_posted: c[2], lent: c[3] }
    }

    /// Takes a free buffer into state `to`. O(1).
    #[inline]
    pub fn alloc(&mut self, to: BufState) -> Option<u32> {
        let id = self.free.pop()?;
        debug_assert_eq!(self.state[id as usize], BufState::Free);
        self.set(id, BufState::Free, to);
        Some(id)
    }

    /// Moves buffer `id` from state `from` to `to`; an error (and no change) if it is not in
    /// `from` (a double free, a stale handle, a completion for a buffer never posted).
    #[inline]
    pub fn transition(&mut self, id: u32, from: BufState, to: BufState) -> Result<(), Error> {
        if self.state.get(id as usize) != Some(&from) {
            return Err(Error::ForeignBuffer);
        }
        if to == BufState::Free {
            self.free.push(id);
        }
        self.set(id, from, to);
        Ok(())
    }

    #[inline]
    fn set(&mut self, id: u32, from: BufState, to: BufState) {
        self.state[id as usize] = to;
        self.counts[from as usize] -= 1;
        self.counts[to as usize] += 1;
    }

    /// Byte offset of buffer `id` in the region.
    #[inline]
    pub fn offset(&self, id: u32) -> usize {
        id as usize * self.buf_size
    }

    /// The device's address of byte `off` of buffer `id`.
    #[inline]
    pub fn iova(&self, id: u32, off: usize) -> u64 {
        self.mem.iova() + (self.offset(id) + off) as u64
    }

    /// A raw pointer to buffer `id` (for `DmaStorage`, which holds it while lent).
    pub fn ptr(&self, id: u32) -> *mut u8 {
        assert!((id as usize) < self.state.len());
        // SAFETY: `id < count` and `count * buf_size <= region length` (checked in `new`).
        unsafe { self.mem.virt().add(self.offset(id)) }
    }

    /// Buffer `id` as a slice, if the host owns it (state `Lent`).
    pub fn slice(&self, id: u32) -> Option<&[u8]> {
        (self.state(id)? == BufState::Lent).then(|| {
            // SAFETY: the buffer is inside the region (`ptr`), and in state `Lent` the device
            // holds no descriptor for it, so nothing writes it while this shared borrow of
            // the pool lives (posting it needs `&mut Pool`).
            unsafe { std::slice::from_raw_parts(self.ptr(id), self.buf_size) }
        })
    }

    /// Buffer `id` as a mutable slice, if the host owns it (state `Lent`).
    pub fn slice_mut(&mut self, id: u32) -> Option<&mut [u8]> {
        (self.state(id)? == BufState::Lent).then(|| {
            // SAFETY: as in `slice`; the `&mut Pool` borrow makes this the only slice.
            unsafe { std::slice::from_raw_parts_mut(self.ptr(id), self.buf_size) }
        })
    }

    /// Checks the bookkeeping: the free stack holds exactly the free buffers, each once,
    /// and the per-state counts match the states. The NIC adds the ring checks on top.
    pub fn check(&self) -> Result<PoolCounts, String> {
        let mut on_stack = vec![false; self.state.len()];
        for &id in &self.free {
            let i = id as usize;
            if i >= self.state.len() {
                return Err(format!("free stack holds buffer {id}, outside the pool"));
            }
            if std::mem::replace(&mut on_stack[i], true) {
                return Err(format!("buffer {id} is on the free stack twice"));
            }
            if self.state[i] != BufState::Free {
                return Err(format!("buffer {id} is on the free stack but {:?}", self.state[i]));
            }
        }
        let mut counts = [0u32; STATES];
        for s in &self.state {
            counts[*s as usize] += 1;
        }
        if counts != self.counts {
            return Err(format!("state counts {:?} but the pool recorded {:?}", counts, self.counts));
        }
        if counts[BufState::Free as usize] as usize != self.free.len() {
            return Err(format!("{} free buffers but {} on the free stack", counts[0], self.free.len()));
        }
        Ok(self.counts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::anon_region;

    fn pool(count: u32) -> Pool {
        Pool::new(anon_region(count as usize * 2048, 0x1000_0000).unwrap(), count, 2048).unwrap()
    }

    #[test]
    fn alloc_free_is_lifo_and_tracks_every_buffer() {
        let mut p = pool(4);
        let a = p.alloc(BufState::Lent).unwrap();
        let b = p.alloc(BufState::RxPosted).unwrap();
        assert_eq!((a, b), (0, 1));
        assert_eq!(p.counts(), PoolCounts { free: 2, rx_posted: 1, tx_posted: 0, lent: 1 });
        assert_eq!(p.iova(b, 64), 0x1000_0000 + 2048 + 64);
        p.transition(a, BufState::Lent, BufState::Free).unwrap();
        assert_eq!(p.transition(a, BufState::Lent, BufState::Free), Err(Error::ForeignBuffer), "double free");
        assert_eq!(p.transition(b, BufState::TxPosted, BufState::Free), Err(Error::ForeignBuffer), "wrong state");
        assert_eq!(p.transition(99, BufState::Lent, BufState::Free), Err(Error::ForeignBuffer));
        assert_eq!(p.alloc(BufState::Lent), Some(a), "LIFO: the warm buffer again");
        assert_eq!(p.check().unwrap(), PoolCounts { free: 2, rx_posted: 1, tx_posted: 0, lent: 1 });
        while p.alloc(BufState::TxPosted).is_some() {}
        assert_eq!(p.counts().free, 0);
        p.check().unwrap();
    }

    #[test]
    fn slices_only_while_lent() {
        let mut p = pool(2);
        let id = p.alloc(BufState::Lent).unwrap();
        p.slice_mut(id).unwrap()[..3].copy_from_slice(b"abc");
        assert_eq!(&p.slice(id).unwrap()[..3], b"abc");
        p.transition(id, BufState::Lent, BufState::RxPosted).unwrap();
        assert!(p.slice(id).is_none(), "the device owns it");
        assert!(p.slice_mut(id).is_none());
        assert!(p.slice(1).is_none(), "free");
        p.check().unwrap();
    }

    #[test]
    fn bad_geometry_is_an_error() {
        let mem = anon_region(4096, 0).unwrap();
        assert!(Pool::new(mem.clone(), 3, 2048).is_err());
        assert!(Pool::new(mem.clone(), 1, 100).is_err());
        assert!(Pool::new(mem.clone(), 0, 2048).is_err());
        assert!(Pool::new(mem, 2, 2048).is_ok());
    }
}
