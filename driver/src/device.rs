//! `nic_stack::Device` for [`Nic`]: frames go up and down in their DMA buffers.
//!
//! * Receive: each frame becomes a `PacketBuf` over a [`DmaStorage`], the whole DMA buffer,
//!   with the data window where the device wrote the frame; `RxMeta::l3_sum` is the
//!   completion's CSUM (the card's checksum assist).
//! * Recycle, or dropping the `PacketBuf`: the buffer goes back to the pool (dropped ones
//!   through a small return queue the NIC drains at its next burst, since a `PacketBuf` can
//!   be dropped anywhere, on any thread).
//! * Transmit: a `PacketBuf` over one of our DMA buffers (built in place in a buffer from
//!   [`Nic::alloc_packet`], or a received buffer the stack answered in place) is posted as
//!   it is; any other is copied into a DMA buffer first (counted in `DriverStats::tx_copied`).
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use nic_stack::buf::{ExternalStorage, RxMeta};
use nic_stack::{Device, DeviceCaps, PacketBuf};

use crate::backend::{Backend, DmaRegion};
use crate::nic::{Buf, Nic, MAX_BURST, TX_HEADROOM};
use crate::Error;

/// Buffers given back by dropped `DmaStorage`s, waiting for the NIC to free them.
pub(crate) struct Returns {
    tag: u32,
    pending: AtomicBool,
    ids: Mutex<Vec<u32>>,
}

impl Returns {
    pub(crate) fn new(tag: u32) -> Self {
        Returns { tag, pending: AtomicBool::new(false), ids: Mutex::new(Vec::new()) }
    }

    fn push(&self, id: u32) {
        self.ids.lock().unwrap_or_else(|p| p.into_inner()).push(id);
        self.pending.store(true, Ordering::Release);
    }

    /// The returned ids (empty, after one atomic load, when there are none).
    pub(crate) fn take(&self) -> Vec<u32> {
        if !self.pending.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        std::mem::take(&mut *self.ids.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// One DMA buffer lent to the stack as a `PacketBuf`'s storage. While it exists the buffer
/// is in state `Lent`: no descriptor points at it, so the device neither reads nor writes
/// it, and this storage is its only user.
pub struct DmaStorage {
    ptr: *mut u8,
    len: usize,
    id: u32,
    /// `None` once the NIC has taken the buffer back (so `Drop` does not return it twice).
    returns: Option<Arc<Returns>>,
    /// Keeps the memory mapped even if the NIC is gone before this buffer.
    _mem: DmaRegion,
}

// SAFETY: the storage owns its buffer exclusively (state `Lent`), and the memory stays
// valid as long as `_mem` lives; moving it to another thread moves that ownership.
unsafe impl Send for DmaStorage {}

impl ExternalStorage for DmaStorage {
    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr .. ptr + len` is one pool buffer inside `_mem`, lent to this storage
        // alone: the device has no descriptor for it (state `Lent`) until the NIC takes the
        // storage back (`recycle`/`transmit` consume it), so nothing writes it meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes this the only slice.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for DmaStorage {
    fn drop(&mut self) {
        if let Some(r) = self.returns.take() {
            r.push(self.id);
        }
    }
}

impl DmaStorage {
    /// The pool buffer index.
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl<B: Backend> Nic<B> {
    /// Wraps a lent buffer as a `PacketBuf` (zero copy).
    pub fn into_packet(&mut self, b: Buf) -> Result<PacketBuf, Error> {
        self.data(&b)?; // checks that the handle is ours and lent
        let storage = Box::new(DmaStorage {
            ptr: self.pool_ptr(b.id()),
            len: self.pool_buf_size(),
            id: b.id(),
            returns: Some(self.returns.clone()),
            _mem: self.pool_region().clone(),
        });
        let (start, end) = (b.start(), b.start() + b.len());
        let csum = b.csum();
        drop(b); // the handle is spent: the storage now stands for the buffer
        let mut p = PacketBuf::from_external(storage, start, end).map_err(|_| Error::ForeignBuffer)?;
        p.set_meta(RxMeta { l3_sum: Some(csum) });
        Ok(p)
    }

    /// An empty `PacketBuf` in a DMA buffer with `TX_HEADROOM` in front, for a frame to be
    /// built in place and sent without a copy.
    pub fn alloc_packet(&mut self) -> Result<PacketBuf, Error> {
        let b = self.alloc()?;
        self.into_packet(b).map(|mut p| {
            p.set_meta(RxMeta::default());
            p
        })
    }

    /// Takes a `PacketBuf` back as a `Buf` if its storage is one of our DMA buffers; the
    /// `PacketBuf` itself otherwise.
    pub fn from_packet(&mut self, p: PacketBuf) -> Result<Buf, PacketBuf> {
        let (storage, start, end) = p.into_external()?;
        let tag = self.pool_tag();
        let any: &dyn Any = &*storage;
        let ours = match any.downcast_ref::<DmaStorage>() {
            Some(s) => s.returns.as_ref().is_some_and(|r| r.tag == tag),
            // Someone else's external storage: give the PacketBuf back as it was.
            None => {
                return Err(
                    PacketBuf::from_external(storage, start, end).unwrap_or_else(|_| PacketBuf::from_frame(Vec::new()))
                )
            }
        };
        let any: Box<dyn Any> = storage;
        match any.downcast::<DmaStorage>() {
            Ok(mut s) if ours => {
                s.returns = None; // disarm: the NIC has the buffer back
                Ok(self.buf_handle(s.id, start, end - start))
            }
            // Another NIC's buffer: hand back a copy; dropping `s` returns it to its owner.
            Ok(s) => Err(PacketBuf::from_frame(s.bytes()[start..end].to_vec())),
            Err(_) => Err(PacketBuf::from_frame(Vec::new())), // not reached: checked above
        }
    }
}

impl<B: Backend> Device for Nic<B> {
    fn caps(&self) -> DeviceCaps {
        // Ethernet header + FCS + a VLAN tag are outside the IP MTU.
        let mtu = (self.config().max_len as usize).saturating_sub(22).min(1500);
        // Transmitted frames are copied into DMA buffers: the stack's own are not kept.
        DeviceCaps { mtu, rx_l3_sum: true, pools_tx_buffers: false }
    }

    fn receive(&mut self, batch: &mut Vec<PacketBuf>, max: usize) -> usize {
        let mut bufs = std::mem::take(&mut self.scratch);
        let n = self.rx_burst(&mut bufs, max.min(MAX_BURST));
        for b in bufs.drain(..) {
            match self.into_packet(b) {
                Ok(p) => batch.push(p),
                Err(e) => tracing::warn!(%e, "receive: buffer lost"),
            }
        }
        self.scratch = bufs;
        n
    }

    fn transmit(&mut self, batch: &mut Vec<PacketBuf>) {
        let mut bufs = std::mem::take(&mut self.scratch);
        for p in batch.drain(..) {
            match self.from_packet(p) {
                Ok(b) => bufs.push(b),
                Err(p) if p.is_empty() => self.count_tx_drop(),
                Err(p) => match self.alloc_copy(p.data()) {
                    Ok(b) => {
                        self.count_tx_copy();
                        bufs.push(b)
                    }
                    Err(_) => self.count_tx_drop(),
                },
            }
            if bufs.len() == MAX_BURST {
                self.send_or_drop(&mut bufs);
            }
        }
        self.send_or_drop(&mut bufs);
        self.scratch = bufs;
    }

    fn recycle(&mut self, p: PacketBuf) {
        if let Ok(b) = self.from_packet(p) {
            let _ = self.recycle(b);
        }
    }
}

impl<B: Backend> Nic<B> {
    /// Posts `bufs`; what the ring cannot take is dropped and counted.
    fn send_or_drop(&mut self, bufs: &mut Vec<Buf>) {
        while !bufs.is_empty() {
            if self.tx_burst(bufs) == 0 {
                break;
            }
        }
        for b in bufs.drain(..) {
            self.count_tx_drop();
            let _ = self.recycle(b);
        }
    }
}

/// `TX_HEADROOM` is the stack's; the driver's transmit buffers must honour it.
const _: () = assert!(TX_HEADROOM == nic_stack::device::TX_HEADROOM);
