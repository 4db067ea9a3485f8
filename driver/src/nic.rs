//! The NIC above any backend: bring-up, the RX and TX queues, bursts, interrupts (NAPI
//! style or pure polling), link status and counters.
//!
//! # Fast path
//! `rx_burst` reads completions by their phase bit (no register read), moves the buffers to
//! the caller, refills the RX ring from the free stack, and writes at most two registers per
//! burst: the RX completion `CONSUMER` (slots given back) and the RX descriptor `PRODUCER`
//! (new buffers). `tx_burst` reaps TX completions the same way, posts up to
//! [`MAX_BURST`] frames and rings the TX doorbell once.
//!
//! # Buffers
//! Every buffer is [`BUF_SIZE`] bytes by default. The device writes a received frame
//! [`RX_HEADROOM`] bytes in, so the stack can push a header in front when it answers in
//! place; a transmit buffer starts its frame `nic_stack::device::TX_HEADROOM` bytes in, room
//! for every header the stack pushes. A [`Buf`] is a handle to a buffer the host owns; the
//! pool (see `pool.rs`) knows where every buffer is.
use std::sync::Arc;
use std::time::Duration;

use nic_regs::{self as regs, ring as ring_regs, Counter, Descriptor, Ring};
use tracing::{debug, info, trace, warn};

use crate::backend::{Backend, IRQ_VECTORS, VECTOR_CAUSES, VEC_RX};
use crate::device::Returns;
use crate::interrupts::IrqWait;
use crate::pool::{BufState, Pool, PoolCounts};
use crate::ring::{CplRing, DescRing};
use crate::Error;

/// Most frames one `rx_burst` / `tx_burst` call moves.
pub const MAX_BURST: usize = 64;
/// Default buffer size.
pub const BUF_SIZE: usize = 2048;
/// Where the device writes a received frame in its buffer.
pub const RX_HEADROOM: usize = 64;
/// Where a transmit frame starts in a buffer from [`Nic::alloc`].
pub const TX_HEADROOM: usize = nic_stack::device::TX_HEADROOM;

/// How to bring the card up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NicConfig {
    pub mac: [u8; 6],
    /// Ring sizes, log2 of the entry count (1..=15).
    pub rx_ring_log2: u32,
    pub tx_ring_log2: u32,
    /// Buffers in the pool (RX ring, TX ring and frames the host holds share them).
    pub buffers: u32,
    pub buf_size: usize,
    pub promisc: bool,
    pub all_multicast: bool,
    /// Multicast groups to receive (their hash bins are set).
    pub multicast: Vec<[u8; 6]>,
    /// Longest frame accepted or sent, FCS included.
    pub max_len: u32,
    /// Interrupt moderation: an RX/TX interrupt after this many frames...
    pub irq_mod_frames: u16,
    /// ... or this many µs after the first (0: the count alone decides).
    pub irq_mod_time_us: u16,
}

impl NicConfig {
    /// DMA memory the NIC will allocate (pool and four rings), for the VFIO memlock check.
    pub fn dma_bytes(&self) -> u64 {
        let rings = 2 * (nic_regs::ENTRY_BYTES << self.rx_ring_log2.min(15))
            + 2 * (nic_regs::ENTRY_BYTES << self.tx_ring_log2.min(15));
        self.buffers as u64 * self.buf_size as u64 + rings as u64
    }
}

impl Default for NicConfig {
    fn default() -> Self {
        NicConfig {
            mac: regs::DEFAULT_MAC,
            rx_ring_log2: 9,
            tx_ring_log2: 9,
            buffers: 2048,
            buf_size: BUF_SIZE,
            promisc: false,
            all_multicast: false,
            multicast: Vec::new(),
            max_len: regs::DEFAULT_MAX_LEN,
            irq_mod_frames: 1,
            irq_mod_time_us: 0,
        }
    }
}

/// A buffer the host owns: a received frame or a frame being built. Not `Clone`: one
/// handle per buffer. Give it back with [`Nic::recycle`] or send it with [`Nic::tx_burst`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a Buf is a DMA buffer: recycle or transmit it"]
pub struct Buf {
    id: u32,
    tag: u32,
    start: u16,
    len: u16,
    csum: u16,
    verdict: u8,
}

impl Buf {
    /// Frame length in bytes (FCS excluded).
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Where the frame starts in its buffer.
    pub fn start(&self) -> usize {
        self.start as usize
    }
    /// RX: the device's ones'-complement sum of the bytes after the Ethernet header.
    pub fn csum(&self) -> u16 {
        self.csum
    }
    /// RX: the filter verdict (0 station, 1 multicast, 2 broadcast, 3 promiscuous).
    pub fn verdict(&self) -> u8 {
        self.verdict
    }
    /// The buffer's index in the pool.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// What the driver counted (the device's own counters are read with [`Nic::counter`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverStats {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub rx_bursts: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub tx_bursts: u64,
    /// Completions that break the ABI (out of order, too long): dropped, buffer recycled.
    pub bad_completions: u64,
    /// Completions with `STATUS_BUS_ERROR` or `STATUS_TX_ABORTED`.
    pub rx_bus_errors: u64,
    pub tx_errors: u64,
    /// Stack frames dropped because the TX ring or the pool was full.
    pub tx_dropped: u64,
    /// Stack frames copied into a DMA buffer because they were built elsewhere.
    pub tx_copied: u64,
    /// Interrupts taken by `wait_irq`.
    pub irqs: u64,
}

/// `STATUS`, decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStatus {
    pub up: bool,
    pub cdr_lock: bool,
    pub rx_stopped: bool,
    pub tx_stopped: bool,
}

/// One direction: a descriptor ring, its completion ring, and which buffer is in each slot.
struct Queue {
    desc: DescRing,
    cpl: CplRing,
    /// Buffer id per descriptor slot.
    slots: Vec<u32>,
    /// Free-running index of the oldest descriptor not yet completed.
    done: u16,
}

impl Queue {
    fn new<B: Backend>(backend: &mut B, d: Ring, c: Ring, log2: u32) -> Result<Self, Error> {
        let desc = DescRing::new(backend, ring_regs(d), log2)?;
        let cpl = CplRing::new(backend, ring_regs(c), log2)?;
        Ok(Queue { slots: vec![u32::MAX; desc.size()], desc, cpl, done: 0 })
    }

    fn in_flight(&self) -> usize {
        self.desc.producer().wrapping_sub(self.done) as usize
    }

    fn room(&self) -> usize {
        self.desc.size() - self.in_flight()
    }

    fn post(&mut self, id: u32, d: Descriptor) {
        self.slots[self.desc.next_slot()] = id;
        self.desc.push(d);
    }

    /// The buffer of the oldest outstanding descriptor, and counts it done.
    fn complete(&mut self) -> u32 {
        let id = self.slots[regs::slot(self.done, self.desc.log2())];
        self.done = self.done.wrapping_add(1);
        id
    }

    /// The buffers in flight, oldest first.
    fn outstanding(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.in_flight() as u16).map(|k| self.slots[regs::slot(self.done.wrapping_add(k), self.desc.log2())])
    }
}

/// The card, over any [`Backend`].
pub struct Nic<B: Backend> {
    // Field order is drop order: the DMA memory (rings, pool) goes before the backend, so
    // VFIO unmaps it while the device is still open (`Drop` has reset the card first).
    rx: Queue,
    tx: Queue,
    pool: Pool,
    pub(crate) returns: Arc<Returns>,
    irq_mask: u32,
    waiters: [Option<Box<dyn IrqWait>>; IRQ_VECTORS],
    stats: DriverStats,
    cfg: NicConfig,
    /// Scratch for the stack `Device` path (kept to avoid an allocation per call).
    pub(crate) scratch: Vec<Buf>,
    backend: B,
}

impl<B: Backend> Nic<B> {
    /// Brings the card up: identity check, soft reset, station and filters, moderation,
    /// rings, RX buffers posted, datapath on.
    pub fn new(mut backend: B, cfg: NicConfig) -> Result<Self, Error> {
        let span = tracing::info_span!("nic_up", dev = %backend.describe());
        let _g = span.enter();
        let id = backend.read32(regs::ID.offset);
        if id != regs::ID_MAGIC {
            return Err(Error::NotOurDevice { id });
        }
        let version = backend.read32(regs::VERSION.offset);
        if regs::VERSION_MAJOR.get32(version) != regs::VERSION_MAJOR.get32(regs::ABI_VERSION) {
            return Err(Error::VersionMismatch { device: version, driver: regs::ABI_VERSION });
        }
        validate(&cfg)?;
        backend.write32(regs::CONTROL.offset, regs::CONTROL_SOFT_RESET.put32(0, 1));
        // A read after the (posted) reset write: it completes after the reset did.
        let control = backend.read32(regs::CONTROL.offset);
        if control != 0 {
            return Err(Error::Config(format!("CONTROL reads {control:#x} after a soft reset, expected 0")));
        }
        let (lo, hi) = regs::mac_to_words(cfg.mac);
        backend.write32(regs::MAC_LO.offset, lo);
        backend.write32(regs::MAC_HI.offset, hi);
        let filter = regs::FILTER_PROMISC.put32(0, cfg.promisc as u32)
            | regs::FILTER_ALL_MULTICAST.put32(0, cfg.all_multicast as u32);
        backend.write32(regs::FILTER.offset, filter);
        let hash = regs::multicast_hash(&cfg.multicast);
        backend.write32(regs::MCAST_HASH_LO.offset, hash as u32);
        backend.write32(regs::MCAST_HASH_HI.offset, (hash >> 32) as u32);
        backend.write32(regs::MAX_LEN.offset, cfg.max_len);
        backend.write32(regs::IRQ_MOD_FRAMES.offset, cfg.irq_mod_frames as u32);
        backend.write32(regs::IRQ_MOD_TIME.offset, cfg.irq_mod_time_us as u32);
        let all = (1 << regs::IRQ_CAUSES) - 1;
        backend.write32(regs::IRQ_MASK.offset, all);
        backend.write32(regs::IRQ_CAUSE.offset, all);

        let rx = Queue::new(&mut backend, Ring::RxDesc, Ring::RxCpl, cfg.rx_ring_log2)?;
        let tx = Queue::new(&mut backend, Ring::TxDesc, Ring::TxCpl, cfg.tx_ring_log2)?;
        let mem = backend.alloc_dma(cfg.buffers as usize * cfg.buf_size)?;
        let pool = Pool::new(mem, cfg.buffers, cfg.buf_size)?;
        let returns = Arc::new(Returns::new(pool.tag()));
        let mut nic = Nic {
            rx,
            tx,
            pool,
            returns,
            irq_mask: all,
            waiters: [None, None, None],
            stats: DriverStats::default(),
            cfg,
            scratch: Vec::with_capacity(MAX_BURST),
            backend,
        };
        nic.refill_rx();
        let on = regs::CONTROL_RX_EN.put32(0, 1) | regs::CONTROL_TX_EN.put32(0, 1);
        nic.backend.write32(regs::CONTROL.offset, on);
        info!(
            mac = ?nic.cfg.mac,
            rx_ring = nic.rx.desc.size(),
            tx_ring = nic.tx.desc.size(),
            buffers = nic.cfg.buffers,
            posted = nic.rx.in_flight(),
            "card up"
        );
        Ok(nic)
    }

    pub fn config(&self) -> &NicConfig {
        &self.cfg
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    /// Buffers per state.
    pub fn pool_counts(&self) -> PoolCounts {
        self.pool.counts()
    }

    /// Frames the RX ring can still take (posted buffers).
    pub fn rx_posted(&self) -> usize {
        self.rx.in_flight()
    }

    // ------------------------------------------------------------------ receive

    /// Moves up to `max` (at most [`MAX_BURST`]) received frames into `out` and refills the
    /// RX ring. Returns how many were added.
    pub fn rx_burst(&mut self, out: &mut Vec<Buf>, max: usize) -> usize {
        self.drain_returns();
        let max = max.min(MAX_BURST);
        let cap = self.pool.buf_size() - RX_HEADROOM;
        let mut n = 0;
        while n < max {
            let Some(c) = self.rx.cpl.pop() else { break };
            let expected = self.rx.done;
            let id = self.rx.complete();
            if self.pool.transition(id, BufState::RxPosted, BufState::Lent).is_err()
                || c.desc_index != expected
                || c.len as usize > cap
            {
                self.stats.bad_completions += 1;
                warn!(desc_index = c.desc_index, expected, len = c.len, "bad RX completion: frame dropped");
                let _ = self.pool.transition(id, BufState::Lent, BufState::Free);
                continue;
            }
            if c.status & nic_regs::STATUS_BUS_ERROR != 0 {
                self.stats.rx_bus_errors += 1;
                let _ = self.pool.transition(id, BufState::Lent, BufState::Free);
                continue;
            }
            self.stats.rx_bytes += c.len as u64;
            out.push(Buf {
                id,
                tag: self.pool.tag(),
                start: RX_HEADROOM as u16,
                len: c.len,
                csum: c.csum,
                verdict: c.verdict,
            });
            n += 1;
        }
        self.rx.cpl.release(&self.backend);
        self.refill_rx();
        if n > 0 {
            self.stats.rx_frames += n as u64;
            self.stats.rx_bursts += 1;
            trace!(frames = n, "rx burst");
        }
        n
    }

    /// Whether a completion is waiting in the RX ring (no register read).
    pub fn rx_pending(&self) -> bool {
        self.rx.cpl.peek().is_some()
    }

    /// Posts free buffers until the RX ring is full, then rings the doorbell once.
    fn refill_rx(&mut self) {
        let len = (self.pool.buf_size() - RX_HEADROOM) as u16;
        while self.rx.room() > 0 {
            let Some(id) = self.pool.alloc(BufState::RxPosted) else { break };
            let d = Descriptor { addr: self.pool.iova(id, RX_HEADROOM), len, flags: 0 };
            self.rx.post(id, d);
        }
        self.rx.desc.ring(&self.backend);
    }

    /// Gives buffers dropped by their holders (`DmaStorage` in a dropped `PacketBuf`) back
    /// to the free stack. One atomic load when there are none.
    fn drain_returns(&mut self) {
        for id in self.returns.take() {
            if self.pool.transition(id, BufState::Lent, BufState::Free).is_err() {
                warn!(id, "returned buffer was not lent");
            }
        }
    }

    // ------------------------------------------------------------------ buffers

    fn check(&self, b: &Buf) -> Result<(), Error> {
        if b.tag != self.pool.tag() || self.pool.state(b.id) != Some(BufState::Lent) {
            return Err(Error::ForeignBuffer);
        }
        Ok(())
    }

    /// Gives a buffer back to the pool (it is posted to the RX ring at the next burst).
    pub fn recycle(&mut self, b: Buf) -> Result<(), Error> {
        self.check(&b)?;
        self.pool.transition(b.id, BufState::Lent, BufState::Free)
    }

    /// Recycles every buffer in `bufs` (which is left empty).
    pub fn recycle_all(&mut self, bufs: &mut Vec<Buf>) -> Result<(), Error> {
        bufs.drain(..).try_for_each(|b| self.recycle(b))
    }

    /// An empty transmit buffer whose frame starts [`TX_HEADROOM`] bytes in.
    pub fn alloc(&mut self) -> Result<Buf, Error> {
        if self.pool.counts().free == 0 {
            self.drain_returns();
        }
        let id = self.pool.alloc(BufState::Lent).ok_or(Error::NoBuffer)?;
        let start = TX_HEADROOM.min(self.pool.buf_size()) as u16;
        Ok(Buf { id, tag: self.pool.tag(), start, len: 0, csum: 0, verdict: 0 })
    }

    /// A transmit buffer holding a copy of `frame`.
    pub fn alloc_copy(&mut self, frame: &[u8]) -> Result<Buf, Error> {
        let mut b = self.alloc()?;
        if let Err(e) = self.set_len(&mut b, frame.len()) {
            self.recycle(b)?;
            return Err(e);
        }
        self.data_mut(&b)?.copy_from_slice(frame);
        Ok(b)
    }

    /// The frame bytes of a buffer the host owns.
    pub fn data(&self, b: &Buf) -> Result<&[u8], Error> {
        self.check(b)?;
        let s = self.pool.slice(b.id).ok_or(Error::ForeignBuffer)?;
        Ok(&s[b.start()..b.start() + b.len()])
    }

    /// The frame bytes of a buffer the host owns, writable.
    pub fn data_mut(&mut self, b: &Buf) -> Result<&mut [u8], Error> {
        self.check(b)?;
        let s = self.pool.slice_mut(b.id).ok_or(Error::ForeignBuffer)?;
        Ok(&mut s[b.start()..b.start() + b.len()])
    }

    /// Sets a buffer's frame length (bytes after its start).
    pub fn set_len(&mut self, b: &mut Buf, len: usize) -> Result<(), Error> {
        self.check(b)?;
        let max = self.pool.buf_size() - b.start();
        if len > max {
            return Err(Error::FrameTooLong { len, max });
        }
        b.len = len as u16;
        Ok(())
    }

    /// Sets where a buffer's frame starts and how long it is.
    pub fn set_window(&mut self, b: &mut Buf, start: usize, len: usize) -> Result<(), Error> {
        self.check(b)?;
        let size = self.pool.buf_size();
        if start > size || len > size - start {
            return Err(Error::FrameTooLong { len: start + len, max: size });
        }
        b.start = start as u16;
        b.len = len as u16;
        Ok(())
    }

    // ------------------------------------------------------------------ transmit

    /// Posts frames from the front of `frames` (up to [`MAX_BURST`] and the free ring
    /// slots), rings the TX doorbell once, and returns how many were taken (removed from
    /// `frames`). Completed transmissions are reaped first, their buffers freed. A handle not
    /// lent out by this NIC, or an empty frame, stops the burst (it stays in `frames`).
    pub fn tx_burst(&mut self, frames: &mut Vec<Buf>) -> usize {
        self.reap_tx();
        let n = frames.len().min(MAX_BURST).min(self.tx.room());
        let mut taken = 0;
        for b in frames.iter().take(n) {
            if self.check(b).is_err() || b.len == 0 {
                warn!(id = b.id, len = b.len, "tx_burst: not a lent buffer or an empty frame; burst stopped");
                break;
            }
            let d = Descriptor { addr: self.pool.iova(b.id, b.start()), len: b.len, flags: 0 };
            let _ = self.pool.transition(b.id, BufState::Lent, BufState::TxPosted);
            self.tx.post(b.id, d);
            self.stats.tx_bytes += b.len as u64;
            taken += 1;
        }
        frames.drain(..taken);
        self.tx.desc.ring(&self.backend);
        if taken > 0 {
            self.stats.tx_frames += taken as u64;
            self.stats.tx_bursts += 1;
            trace!(frames = taken, "tx burst");
        }
        taken
    }

    /// Reaps TX completions: their buffers go back to the free stack. Returns how many.
    pub fn reap_tx(&mut self) -> usize {
        let mut n = 0;
        while let Some(c) = self.tx.cpl.pop() {
            let expected = self.tx.done;
            let id = self.tx.complete();
            if c.desc_index != expected {
                self.stats.bad_completions += 1;
                warn!(desc_index = c.desc_index, expected, "TX completion out of order");
            }
            if c.status != 0 {
                self.stats.tx_errors += 1;
            }
            if self.pool.transition(id, BufState::TxPosted, BufState::Free).is_err() {
                self.stats.bad_completions += 1;
            }
            n += 1;
        }
        self.tx.cpl.release(&self.backend);
        n
    }

    /// Frames posted to the TX ring and not completed yet.
    pub fn tx_in_flight(&self) -> usize {
        self.tx.in_flight()
    }

    // ------------------------------------------------------------------ interrupts

    fn write_mask(&mut self, mask: u32) {
        if mask != self.irq_mask {
            self.irq_mask = mask;
            self.backend.write32(regs::IRQ_MASK.offset, mask);
        }
    }

    /// Masks the causes of MSI vector `v` (they still set `IRQ_CAUSE`).
    pub fn mask_vector(&mut self, v: usize) {
        self.write_mask(self.irq_mask | VECTOR_CAUSES[v]);
    }

    /// Unmasks the causes of MSI vector `v`; a cause that fired while masked interrupts now.
    pub fn unmask_vector(&mut self, v: usize) {
        self.write_mask(self.irq_mask & !VECTOR_CAUSES[v]);
    }

    /// Clears (W1C) the `IRQ_CAUSE` bits of vector `v` and returns those that were set.
    pub fn ack_vector(&mut self, v: usize) -> u32 {
        let set = self.backend.read32(regs::IRQ_CAUSE.offset) & VECTOR_CAUSES[v];
        if set != 0 {
            self.backend.write32(regs::IRQ_CAUSE.offset, set);
        }
        set
    }

    /// Sets interrupt moderation (RX and TX vectors): after `frames` frames or `time_us` µs.
    pub fn set_moderation(&mut self, frames: u16, time_us: u16) {
        self.cfg.irq_mod_frames = frames;
        self.cfg.irq_mod_time_us = time_us;
        self.backend.write32(regs::IRQ_MOD_FRAMES.offset, frames as u32);
        self.backend.write32(regs::IRQ_MOD_TIME.offset, time_us as u32);
    }

    /// Blocks until MSI vector `v` fires or `timeout` passes; `true` if it fired. Does not
    /// touch the mask (see [`Nic::napi_rx`] for the whole dance).
    pub fn wait_irq(&mut self, v: usize, timeout: Duration) -> Result<bool, Error> {
        if v >= IRQ_VECTORS {
            return Err(Error::Irq(format!("no MSI vector {v}")));
        }
        if self.waiters[v].is_none() {
            self.waiters[v] = Some(self.backend.irq_waiter(&[v])?);
        }
        let waiter = self.waiters[v].as_mut().expect("created above");
        if waiter.wait(timeout)? == 0 {
            return Ok(false);
        }
        self.stats.irqs += 1;
        Ok(true)
    }

    /// NAPI-style receive: poll up to `budget` frames; when the ring is empty, unmask the RX
    /// vector, check once more (a frame may have landed between the poll and the unmask),
    /// sleep on the RX eventfd, and on wake mask and acknowledge it, then poll again. Returns
    /// the frames received (0 after `timeout` with nothing). While frames keep coming the
    /// vector stays masked and no interrupt is taken, as in Linux NAPI.
    pub fn napi_rx(&mut self, out: &mut Vec<Buf>, budget: usize, timeout: Duration) -> Result<usize, Error> {
        let rt = self.backend.runtime();
        let deadline = rt.deadline(timeout);
        loop {
            let n = self.rx_burst(out, budget);
            if n > 0 {
                return Ok(n);
            }
            self.unmask_vector(VEC_RX);
            if self.rx_pending() {
                self.mask_vector(VEC_RX);
                continue;
            }
            let left = rt.until(deadline);
            let fired = self.wait_irq(VEC_RX, left)?;
            self.mask_vector(VEC_RX);
            let causes = self.ack_vector(VEC_RX);
            debug!(fired, causes, "rx interrupt");
            if !fired && !self.rx_pending() && rt.now_ns() >= deadline {
                return Ok(0);
            }
        }
    }

    // ------------------------------------------------------------------ status and counters

    pub fn link(&self) -> LinkStatus {
        let s = self.backend.read32(regs::STATUS.offset);
        LinkStatus {
            up: regs::STATUS_LINK_UP.get32(s) == 1,
            cdr_lock: regs::STATUS_CDR_LOCK.get32(s) == 1,
            rx_stopped: regs::STATUS_RX_STOPPED.get32(s) == 1,
            tx_stopped: regs::STATUS_TX_STOPPED.get32(s) == 1,
        }
    }

    /// A device counter, read race-free (LO latches HI; `&mut self` keeps readers single).
    pub fn counter(&mut self, c: Counter) -> u64 {
        regs::read_counter(c, |off| self.backend.read32(off))
    }

    /// Every device counter, with its register name (without `_LO`).
    pub fn counters(&mut self) -> Vec<(&'static str, u64)> {
        regs::COUNTERS
            .iter()
            .map(|c| (c.lo.name.trim_end_matches("_LO"), regs::read_counter(c.counter, |off| self.backend.read32(off))))
            .collect()
    }

    // ------------------------------------------------------------------ invariants

    /// Checks that every buffer is in exactly one place: the free stack, the RX ring, the
    /// TX ring, or lent out (`lent_expected` handles, counting `PacketBuf`s not yet
    /// returned). Tests call it after every scenario.
    pub fn check_invariants(&mut self, lent_expected: u32) -> Result<PoolCounts, String> {
        self.drain_returns();
        let counts = self.pool.check()?;
        for (name, q, state) in [("RX", &self.rx, BufState::RxPosted), ("TX", &self.tx, BufState::TxPosted)] {
            let mut seen = std::collections::HashSet::new();
            for id in q.outstanding() {
                if self.pool.state(id) != Some(state) {
                    return Err(format!("{name} ring holds buffer {id} in state {:?}", self.pool.state(id)));
                }
                if !seen.insert(id) {
                    return Err(format!("{name} ring holds buffer {id} twice"));
                }
            }
            let in_state = if state == BufState::RxPosted { counts.rx_posted } else { counts.tx_posted };
            if seen.len() as u32 != in_state {
                return Err(format!("{name} ring holds {} buffers, pool says {in_state}", seen.len()));
            }
        }
        if counts.lent != lent_expected {
            return Err(format!("{} buffers lent, expected {lent_expected} (leak or double use)", counts.lent));
        }
        Ok(counts)
    }
}

impl<B: Backend> Drop for Nic<B> {
    fn drop(&mut self) {
        // Stop the card before its rings and buffers are freed or unmapped.
        self.backend.write32(regs::CONTROL.offset, 0);
        self.backend.write32(regs::CONTROL.offset, regs::CONTROL_SOFT_RESET.put32(0, 1));
        let _ = self.backend.read32(regs::CONTROL.offset);
        debug!("card reset on drop");
    }
}

fn validate(cfg: &NicConfig) -> Result<(), Error> {
    let ring_ok = |l: u32| (1..=regs::MAX_LOG2_SIZE).contains(&l);
    if !ring_ok(cfg.rx_ring_log2) || !ring_ok(cfg.tx_ring_log2) {
        return Err(Error::Config(format!(
            "ring sizes 2^{} / 2^{}: log2 must be 1..={}",
            cfg.rx_ring_log2,
            cfg.tx_ring_log2,
            regs::MAX_LOG2_SIZE
        )));
    }
    if cfg.buf_size < RX_HEADROOM + 64 || cfg.buf_size < TX_HEADROOM + 64 {
        return Err(Error::Config(format!(
            "buffer size {} leaves no room for a frame after the headroom",
            cfg.buf_size
        )));
    }
    if cfg.max_len < 64 || cfg.max_len > 0xFFFF {
        return Err(Error::Config(format!("max_len {} must be 64..=65535", cfg.max_len)));
    }
    if cfg.mac[0] & 1 != 0 {
        return Err(Error::Config(format!("station address {:02x?} is a multicast address", cfg.mac)));
    }
    Ok(())
}

/// Accessors for `device.rs` (the stack glue), which lends pool buffers as `PacketBuf`s.
impl<B: Backend> Nic<B> {
    pub(crate) fn pool_ptr(&self, id: u32) -> *mut u8 {
        self.pool.ptr(id)
    }
    pub(crate) fn pool_buf_size(&self) -> usize {
        self.pool.buf_size()
    }
    pub(crate) fn pool_region(&self) -> &crate::backend::DmaRegion {
        self.pool.region()
    }
    pub(crate) fn pool_tag(&self) -> u32 {
        self.pool.tag()
    }
    /// A handle for a buffer that came back from a `DmaStorage` (still `Lent`).
    pub(crate) fn buf_handle(&self, id: u32, start: usize, len: usize) -> Buf {
        Buf { id, tag: self.pool.tag(), start: start as u16, len: len as u16, csum: 0, verdict: 0 }
    }
    pub(crate) fn count_tx_drop(&mut self) {
        self.stats.tx_dropped += 1;
    }
    pub(crate) fn count_tx_copy(&mut self) {
        self.stats.tx_copied += 1;
    }
}
