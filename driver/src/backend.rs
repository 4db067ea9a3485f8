//! The backend trait: everything the driver needs from "a card", and nothing more.
//!
//! * 32-bit reads and writes of BAR0 (offsets from `nic_regs`);
//! * DMA-able memory: a region has a host virtual address and the IOVA the device uses;
//! * one eventfd per MSI vector (0 RX, 1 TX, 2 error/link; see `nic_hdl::irq`).
//!
//! Three implementations: [`crate::vfio::VfioBackend`] (a board through the kernel's VFIO),
//! [`crate::model::ModelBackend`] (a zero-latency functional model, for tests and the bench)
//! and, in `nic-sim`, the cycle-accurate model of the gateware. The driver above is one code
//! path for all of them.
//!
//! # DMA memory rules
//! The device may read or write a region at any time, so the driver never makes a Rust
//! reference (`&`/`&mut`) into memory the device owns: ring entries are accessed with
//! volatile reads and writes through raw pointers ([`DmaRegion::read_u64`] and friends),
//! and a slice over a frame buffer exists only while the host owns that buffer (see
//! `pool.rs`). This module is one of the two places with `unsafe` (the other is `vfio.rs`).
use std::ptr::NonNull;
use std::sync::Arc;

use nic_stack::runtime::Runtime;
use vmm_sys_util::eventfd::EventFd;

use crate::interrupts::{EventFdWaiter, IrqWait};
use crate::Error;

/// Number of MSI vectors.
pub const IRQ_VECTORS: usize = 3;
/// Vector of the `RX` and `RX_NO_BUFFER` causes.
pub const VEC_RX: usize = 0;
/// Vector of the `TX` cause.
pub const VEC_TX: usize = 1;
/// Vector of the `DMA_ERROR` and `LINK` causes.
pub const VEC_ERR: usize = 2;
/// The `IRQ_CAUSE` bits each vector carries (the same table as `nic_hdl::irq::VECTOR_CAUSES`,
/// which this crate cannot depend on).
pub const VECTOR_CAUSES: [u32; IRQ_VECTORS] = [
    (1 << nic_regs::IRQ_BIT_RX) | (1 << nic_regs::IRQ_BIT_RX_NO_BUFFER),
    1 << nic_regs::IRQ_BIT_TX,
    (1 << nic_regs::IRQ_BIT_DMA_ERROR) | (1 << nic_regs::IRQ_BIT_LINK),
];

/// What the driver needs from a card. `Send`, so a NIC can be moved to its own thread.
///
/// Register accesses take `&self`: a backend with state behind them (a model) uses
/// interior mutability, and the driver calls them in program order from one thread.
/// A register access may block until the device answers (a simulated bus does).
pub trait Backend: Send {
    /// Reads the 32-bit register at byte `offset` of BAR0.
    fn read32(&self, offset: u32) -> u32;
    /// Writes the 32-bit register at byte `offset` of BAR0.
    fn write32(&self, offset: u32, value: u32);
    /// Allocates `len` bytes (rounded up to the backend's page size) of zeroed memory the
    /// device can reach by DMA, aligned to at least 4096 bytes.
    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion, Error>;
    /// The eventfd the backend signals for MSI vector `vector` (< [`IRQ_VECTORS`]).
    fn irq_eventfd(&self, vector: usize) -> &EventFd;
    /// A short description for logs ("vfio:0000:03:00.0", "model").
    fn describe(&self) -> String;
    /// A waiter for the interrupts of `vectors`, for any thread. By default epoll on the
    /// vectors' eventfds.
    fn irq_waiter(&self, vectors: &[usize]) -> Result<Box<dyn IrqWait>, Error> {
        if let Some(&v) = vectors.iter().find(|&&v| v >= IRQ_VECTORS) {
            return Err(Error::Irq(format!("no MSI vector {v}")));
        }
        let fds: Vec<(usize, &EventFd)> = vectors.iter().map(|&v| (v, self.irq_eventfd(v))).collect();
        Ok(Box::new(EventFdWaiter::new(&fds)?))
    }
    /// The clock, waits and threads of the host software on this card: the OS runtime for a
    /// board (the default), the simulated cards' runtime for a simulated card.
    fn runtime(&self) -> Runtime {
        Runtime::os()
    }
}

impl<T: Backend + ?Sized> Backend for Box<T> {
    fn read32(&self, offset: u32) -> u32 {
        (**self).read32(offset)
    }
    fn write32(&self, offset: u32, value: u32) {
        (**self).write32(offset, value)
    }
    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion, Error> {
        (**self).alloc_dma(len)
    }
    fn irq_eventfd(&self, vector: usize) -> &EventFd {
        (**self).irq_eventfd(vector)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn irq_waiter(&self, vectors: &[usize]) -> Result<Box<dyn IrqWait>, Error> {
        (**self).irq_waiter(vectors)
    }
    fn runtime(&self) -> Runtime {
        (**self).runtime()
    }
}

/// A region of DMA-able memory: `len` bytes at host address `virt`, seen by the device at
/// `iova`. Cloning shares it; the memory is released (and, for VFIO, unmapped from the
/// IOMMU) when the last clone goes, so a buffer lent to the stack keeps its memory alive.
#[derive(Clone)]
pub struct DmaRegion(Arc<RegionInner>);

struct RegionInner {
    virt: NonNull<u8>,
    iova: u64,
    len: usize,
    /// Whatever keeps the memory mapped; dropped last.
    _owner: Box<dyn Send + Sync>,
}

// SAFETY: the region is plain memory kept alive by `_owner` (itself Send + Sync); the
// pointer is never dereferenced into a reference that outlives a host-owned window, and
// concurrent access from the device (or a model thread) goes through volatile operations.
unsafe impl Send for RegionInner {}
// SAFETY: as above; `&DmaRegion` only gives raw pointers and volatile accessors.
unsafe impl Sync for RegionInner {}

impl DmaRegion {
    /// Wraps memory a backend has made DMA-able.
    ///
    /// # Safety
    /// `virt .. virt + len` must be readable and writable by this process, 16-byte aligned,
    /// and stay valid until `owner` is dropped; no Rust reference to it may exist while the
    /// device can access it; `iova` must be the address at which the device reaches `virt`.
    pub unsafe fn new(virt: *mut u8, iova: u64, len: usize, owner: Box<dyn Send + Sync>) -> Result<Self, Error> {
        let virt = NonNull::new(virt).ok_or_else(|| Error::Dma("null DMA address".into()))?;
        if !(virt.as_ptr() as usize).is_multiple_of(16) || !iova.is_multiple_of(16) {
            return Err(Error::Dma(format!("DMA region {:p} / IOVA {iova:#x} is not 16-byte aligned", virt)));
        }
        Ok(DmaRegion(Arc::new(RegionInner { virt, iova, len, _owner: owner })))
    }

    pub fn virt(&self) -> *mut u8 {
        self.0.virt.as_ptr()
    }

    pub fn iova(&self) -> u64 {
        self.0.iova
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// The offset of `len` bytes at `iova` inside this region, if they are all inside it.
    pub fn offset_of(&self, iova: u64, len: usize) -> Option<usize> {
        let off = iova.checked_sub(self.0.iova)?;
        let end = off.checked_add(len as u64)?;
        (end <= self.0.len as u64).then_some(off as usize)
    }

    /// Whether two handles share one region.
    pub fn same(&self, other: &DmaRegion) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A pointer to byte `off`, after checking that `n` bytes from there are inside.
    #[inline]
    fn at(&self, off: usize, n: usize) -> *mut u8 {
        assert!(
            off.checked_add(n).is_some_and(|e| e <= self.0.len),
            "DMA access {off}+{n} outside a {}-byte region",
            self.0.len
        );
        // SAFETY: `off + n <= len` was just checked, so the result stays inside the region.
        unsafe { self.virt().add(off) }
    }

    /// Volatile read of the little-endian `u64` at `off` (8-byte aligned): the device may be
    /// writing the region concurrently, so no reference is made and the compiler may not
    /// cache or elide the load.
    #[inline]
    pub fn read_u64(&self, off: usize) -> u64 {
        debug_assert_eq!(off % 8, 0);
        let p = self.at(off, 8) as *const u64;
        // SAFETY: in bounds (checked by `at`) and 8-byte aligned (the region is 16-byte
        // aligned and `off` a multiple of 8); volatile, so a concurrent device write is
        // seen as some value of the word rather than undefined behaviour of a reference.
        u64::from_le(unsafe { p.read_volatile() })
    }

    /// Volatile write of the little-endian `u64` at `off` (8-byte aligned).
    #[inline]
    pub fn write_u64(&self, off: usize, value: u64) {
        debug_assert_eq!(off % 8, 0);
        let p = self.at(off, 8) as *mut u64;
        // SAFETY: as in `read_u64`.
        unsafe { p.write_volatile(value.to_le()) }
    }

    /// Copies `src` into the region at `off` (the writer must own those bytes: a device
    /// model filling a posted buffer, or the host a buffer it has not posted).
    pub fn copy_in(&self, off: usize, src: &[u8]) {
        let p = self.at(off, src.len());
        // SAFETY: in bounds (checked); `src` is a Rust slice, which cannot overlap DMA
        // memory since nobody makes a reference into memory the other side may access.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len()) }
    }

    /// Copies `dst.len()` bytes from the region at `off` into `dst`.
    pub fn copy_out(&self, off: usize, dst: &mut [u8]) {
        let p = self.at(off, dst.len());
        // SAFETY: in bounds (checked); non-overlapping as in `copy_in`.
        unsafe { std::ptr::copy_nonoverlapping(p, dst.as_mut_ptr(), dst.len()) }
    }

    /// Zeroes the whole region (used before a ring is given to the device).
    pub fn zero(&self) {
        let p = self.at(0, self.0.len);
        // SAFETY: the whole region, in bounds; called only while the device does not own it
        // (before the ring registers point at it, or after a soft reset).
        unsafe { std::ptr::write_bytes(p, 0, self.0.len) }
    }
}

impl std::fmt::Debug for DmaRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DmaRegion({:p}, iova {:#x}, {} bytes)", self.virt(), self.iova(), self.len())
    }
}

/// Anonymous memory for a DMA region: 2 MiB huge pages when the system has some free and
/// `len` is at least one, else 4 KiB pages. Used by the VFIO backend (which then maps it in
/// the IOMMU) and by the model backend. Returns the mapping and whether it is huge.
pub fn anon_memory(len: usize) -> Result<(memmap2::MmapMut, bool), Error> {
    const HUGE: usize = 2 << 20;
    if len >= HUGE {
        let rounded = len.div_ceil(HUGE) * HUGE;
        if let Ok(m) = memmap2::MmapOptions::new().len(rounded).huge(Some(21)).populate().map_anon() {
            return Ok((m, true));
        }
    }
    let rounded = len.max(1).div_ceil(4096) * 4096;
    let m = memmap2::MmapOptions::new()
        .len(rounded)
        .populate()
        .map_anon()
        .map_err(|e| Error::Dma(format!("cannot allocate {rounded} bytes of DMA memory: {e}")))?;
    Ok((m, false))
}

/// A DMA region over fresh anonymous memory at `iova` (the memory is kept by the region).
pub fn anon_region(len: usize, iova: u64) -> Result<DmaRegion, Error> {
    let (mut mem, _) = anon_memory(len)?;
    let virt = mem.as_mut_ptr();
    let len = mem.len();
    // SAFETY: `mem` is a fresh private mapping of `len` bytes, page aligned, owned by the
    // region from now on and referenced by nothing else.
    unsafe { DmaRegion::new(virt, iova, len, Box::new(mem)) }
}
