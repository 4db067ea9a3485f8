//! A zero-latency functional model of the card, in plain Rust (no HDL): it interprets
//! register writes per the `nic_regs` map and completes descriptors at once, inside the
//! register write (doorbell) or the test call (`inject`) that made them completable.
//!
//! * Receive: a frame given to [`ModelNic::inject`] (or arriving from a connected peer) goes
//!   through the MAC checks and the address filter as the gateware's do (`mac::filter`:
//!   broadcast, station, multicast hash bin `crc32(dst) >> 26`, all-multicast, promiscuous),
//!   then into the next posted RX buffer, with a completion carrying its length, CSUM
//!   (`nic_regs::rx_sum`), descriptor index, verdict and phase. No posted buffer (or RX off,
//!   or a buffer too short): dropped, `RX_NO_BUFFER` counted and its cause raised.
//! * Transmit: on the TX doorbell every posted descriptor is read, its frame captured (or
//!   put on the wire to the connected peer, padded to 60 bytes as the MAC does), and a
//!   completion written.
//! * Counters with the LO-latches-HI rule, `IRQ_CAUSE`/`IRQ_MASK`, per-vector eventfds,
//!   moderation by frame count (the µs timer has no clock here: tests expire it with
//!   [`ModelNic::expire_moderation_timers`]), soft reset, DMA errors for addresses outside
//!   every region.
//!
//! The model is the device side of the DMA contract: it writes buffers the host has posted
//! and completions with the phase word last, like the gateware.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use nic_regs::{self as regs, phase_for_index, ring as ring_regs, Completion, Counter, Ring};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::backend::{anon_region, Backend, DmaRegion, IRQ_VECTORS, VECTOR_CAUSES};
use crate::ring::{read_descriptor, write_completion};
use crate::Error;

/// What happened to a frame given to the model's receive side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxOutcome {
    /// Written to a posted buffer, with this filter verdict.
    Delivered {
        verdict: u8,
    },
    Filtered,
    NoBuffer,
    Runt,
    Giant,
    /// The RX queue is stopped by an earlier DMA error.
    Stopped,
}

/// The test handle of one model card. Clone it freely; [`ModelNic::backend`] gives the
/// driver's side.
#[derive(Clone)]
pub struct ModelNic {
    shared: Arc<Shared>,
}

/// The driver's side of a model card.
pub struct ModelBackend {
    shared: Arc<Shared>,
    writes: AtomicU64,
    reads: AtomicU64,
}

struct Shared {
    state: Mutex<State>,
    irq: [EventFd; IRQ_VECTORS],
    peer: Mutex<Option<Weak<Shared>>>,
}

struct State {
    regs: [u32; (regs::BAR0_SIZE / 4) as usize],
    counters: [u64; regs::COUNTERS.len()],
    shadow: u32,
    regions: Vec<DmaRegion>,
    next_iova: u64,
    /// Device-side indices: RX descriptors taken, RX completions written, same for TX.
    rxd: u16,
    rxc: u16,
    txd: u16,
    txc: u16,
    rx_stopped: bool,
    tx_stopped: bool,
    link_up: bool,
    /// Causes fired and not yet signalled (masked when they fired).
    owed: u32,
    /// Events pending in the RX and TX moderators.
    pending_rx: u32,
    pending_tx: u32,
    generator: Option<(Vec<u8>, u16)>,
    sent: Vec<Vec<u8>>,
    bad_accesses: u64,
}

fn word(offset: u32) -> usize {
    ((offset & (regs::BAR0_SIZE - 1)) / 4) as usize
}

impl State {
    fn new() -> Self {
        let mut s = State {
            regs: [0; (regs::BAR0_SIZE / 4) as usize],
            counters: [0; regs::COUNTERS.len()],
            shadow: 0,
            regions: Vec::new(),
            // Far from any host virtual address, so a driver that puts a virtual address in
            // a descriptor gets a DMA error rather than a lucky hit.
            next_iova: 0x1_0000_0000,
            rxd: 0,
            rxc: 0,
            txd: 0,
            txc: 0,
            rx_stopped: false,
            tx_stopped: false,
            link_up: true,
            owed: 0,
            pending_rx: 0,
            pending_tx: 0,
            generator: None,
            sent: Vec::new(),
            bad_accesses: 0,
        };
        s.reset();
        s
    }

    /// Power-on / `SOFT_RESET`: every register to its reset value, queues and counters
    /// cleared. The "PHY" (link) and the host memory are not part of the reset.
    fn reset(&mut self) {
        self.regs = [0; (regs::BAR0_SIZE / 4) as usize];
        for r in regs::REGISTERS {
            self.regs[word(r.offset)] = r.reset;
        }
        self.counters = [0; regs::COUNTERS.len()];
        self.shadow = 0;
        (self.rxd, self.rxc, self.txd, self.txc) = (0, 0, 0, 0);
        (self.rx_stopped, self.tx_stopped) = (false, false);
        (self.owed, self.pending_rx, self.pending_tx) = (0, 0, 0);
    }

    fn reg(&self, r: regs::Register) -> u32 {
        self.regs[word(r.offset)]
    }

    fn control(&self, f: regs::Field) -> bool {
        f.get32(self.reg(regs::CONTROL)) == 1
    }

    fn count(&mut self, c: Counter, by: u64) {
        self.counters[c as usize] = self.counters[c as usize].wrapping_add(by);
    }

    fn read(&mut self, offset: u32) -> u32 {
        let Some(r) = regs::register_at(offset) else {
            self.bad_accesses += 1;
            return 0; // SLVERR reads 0
        };
        match r.access {
            regs::Access::RoLatch => {
                let v = self.counters[((r.offset - regs::COUNTER_BASE) / 8) as usize];
                self.shadow = (v >> 32) as u32;
                v as u32
            }
            regs::Access::RoShadow => self.shadow,
            _ if r.offset == regs::STATUS.offset => {
                let mut s = 0;
                s = regs::STATUS_LINK_UP.put32(s, self.link_up as u32);
                s = regs::STATUS_CDR_LOCK.put32(s, self.link_up as u32);
                s = regs::STATUS_RX_STOPPED.put32(s, self.rx_stopped as u32);
                regs::STATUS_TX_STOPPED.put32(s, self.tx_stopped as u32)
            }
            _ => match self.device_index(r.offset) {
                Some(i) => i as u32,
                None => self.regs[word(r.offset)],
            },
        }
    }

    /// The device-side index register at `offset`, if it is one.
    fn device_index(&self, offset: u32) -> Option<u16> {
        [(Ring::RxDesc, self.rxd), (Ring::RxCpl, self.rxc), (Ring::TxDesc, self.txd), (Ring::TxCpl, self.txc)]
            .into_iter()
            .find(|(r, _)| ring_regs(*r).device_index().offset == offset)
            .map(|(_, i)| i)
    }

    /// A register write and its side effects; returns frames put on the wire.
    fn write(&mut self, offset: u32, value: u32) -> Vec<Vec<u8>> {
        let Some(r) = regs::register_at(offset) else {
            self.bad_accesses += 1;
            return Vec::new();
        };
        match r.access {
            regs::Access::W1c => self.regs[word(r.offset)] &= !value,
            regs::Access::Rw if r.offset == regs::CONTROL.offset && regs::CONTROL_SOFT_RESET.get32(value) == 1 => {
                self.reset();
                return Vec::new();
            }
            regs::Access::Rw => self.regs[word(r.offset)] = value & r.writable_bits(),
            _ => return Vec::new(), // read-only: ignored
        }
        // (An IRQ_MASK write signals owed causes: `Shared::with` signals after every access.)
        if r.offset == regs::CONTROL.offset
            || r.offset == ring_regs(Ring::RxDesc).producer.offset
            || r.offset == ring_regs(Ring::RxCpl).consumer.offset
        {
            self.generate();
        }
        if r.offset == regs::CONTROL.offset
            || r.offset == ring_regs(Ring::TxDesc).producer.offset
            || r.offset == ring_regs(Ring::TxCpl).consumer.offset
        {
            return self.transmit();
        }
        Vec::new()
    }

    // ------------------------------------------------------------------ memory

    fn translate(&self, iova: u64, len: usize) -> Option<(&DmaRegion, usize)> {
        self.regions.iter().find_map(|m| m.offset_of(iova, len).map(|off| (m, off)))
    }

    /// A ring's region, offset and log2 size, from its registers.
    fn ring(&self, which: Ring) -> Option<(DmaRegion, usize, u32)> {
        let rr = ring_regs(which);
        let base = (self.reg(rr.base_hi) as u64) << 32 | (self.reg(rr.base_lo) & !15) as u64;
        let log2 = self.reg(rr.log2_size);
        if log2 == 0 || log2 > regs::MAX_LOG2_SIZE {
            return None;
        }
        let (m, off) = self.translate(base, regs::ENTRY_BYTES << log2)?;
        Some((m.clone(), off, log2))
    }

    fn host_index(&self, which: Ring) -> u16 {
        self.reg(ring_regs(which).host_index()) as u16
    }

    // ------------------------------------------------------------------ interrupts

    fn fire(&mut self, bit: u32) {
        self.regs[word(regs::IRQ_CAUSE.offset)] |= 1 << bit;
        self.owed |= 1 << bit;
    }

    /// Moderated event on the RX (`tx == false`) or TX moderator.
    fn moderated(&mut self, tx: bool) {
        let threshold = self.reg(regs::IRQ_MOD_FRAMES).max(1);
        let (pending, bit) =
            if tx { (&mut self.pending_tx, regs::IRQ_BIT_TX) } else { (&mut self.pending_rx, regs::IRQ_BIT_RX) };
        *pending += 1;
        if *pending >= threshold {
            *pending = 0;
            self.fire(bit);
        }
    }

    /// Signals each vector with an owed, unmasked cause (the eventfd write is the MSI).
    fn signal_with(&mut self, irq: &[EventFd; IRQ_VECTORS]) {
        let mask = self.reg(regs::IRQ_MASK);
        for (v, causes) in VECTOR_CAUSES.iter().enumerate() {
            let due = self.owed & causes & !mask;
            if due != 0 {
                self.owed &= !due;
                let _ = irq[v].write(1);
            }
        }
    }

    fn dma_error(&mut self, tx: bool) {
        if tx {
            self.tx_stopped = true;
        } else {
            self.rx_stopped = true;
        }
        self.count(Counter::DmaErrors, 1);
        self.fire(regs::IRQ_BIT_DMA_ERROR);
    }

    // ------------------------------------------------------------------ receive

    fn filter(&self, dst: &[u8; 6]) -> Option<u8> {
        let station = regs::words_to_mac(self.reg(regs::MAC_LO), self.reg(regs::MAC_HI));
        let f = self.reg(regs::FILTER);
        let promisc = regs::FILTER_PROMISC.get32(f) == 1;
        if dst == &[0xFF; 6] {
            return Some(2);
        }
        if dst[0] & 1 == 1 {
            let hash = (self.reg(regs::MCAST_HASH_HI) as u64) << 32 | self.reg(regs::MCAST_HASH_LO) as u64;
            if regs::FILTER_ALL_MULTICAST.get32(f) == 1 || hash >> regs::multicast_bin(dst) & 1 == 1 {
                return Some(1);
            }
        } else if dst == &station {
            return Some(0);
        }
        promisc.then_some(3)
    }

    fn no_buffer(&mut self) -> RxOutcome {
        self.count(Counter::RxNoBuffer, 1);
        self.fire(regs::IRQ_BIT_RX_NO_BUFFER);
        RxOutcome::NoBuffer
    }

    /// A frame (FCS excluded) arriving from the line.
    fn receive(&mut self, frame: &[u8]) -> RxOutcome {
        let with_fcs = frame.len() + 4;
        if with_fcs > self.reg(regs::MAX_LEN) as usize {
            self.count(Counter::RxGiants, 1);
            return RxOutcome::Giant;
        }
        if with_fcs < 64 {
            self.count(Counter::RxRunts, 1);
            return RxOutcome::Runt;
        }
        let dst: [u8; 6] = frame[..6].try_into().expect("at least 60 bytes");
        let Some(verdict) = self.filter(&dst) else {
            self.count(Counter::RxFiltered, 1);
            return RxOutcome::Filtered;
        };
        if self.rx_stopped {
            return RxOutcome::Stopped;
        }
        if !self.control(regs::CONTROL_RX_EN) {
            return self.no_buffer();
        }
        let Some(rings) = self.rx_rings() else { return self.no_buffer() };
        if !self.rx_room(&rings) {
            return self.no_buffer();
        }
        self.place(&rings, frame, regs::rx_sum(frame), verdict)
    }

    /// The RX descriptor and completion rings, from their registers.
    fn rx_rings(&self) -> Option<RxRings> {
        let (d, doff, dlog2) = self.ring(Ring::RxDesc)?;
        let (c, coff, clog2) = self.ring(Ring::RxCpl)?;
        Some(RxRings { desc: ring_at(&d, doff), dlog2, cpl: ring_at(&c, coff), clog2 })
    }

    /// Whether a frame can be placed now: a buffer posted and a completion slot free.
    fn rx_room(&self, r: &RxRings) -> bool {
        regs::ring_used(self.host_index(Ring::RxDesc), self.rxd) > 0
            && (regs::ring_used(self.rxc, self.host_index(Ring::RxCpl)) as usize) < 1 << r.clog2
    }

    /// Writes a frame that passed the filter into the next posted buffer (`rx_room` holds).
    fn place(&mut self, r: &RxRings, frame: &[u8], csum: u16, verdict: u8) -> RxOutcome {
        let d = read_descriptor(&r.desc, r.dlog2, self.rxd);
        if (d.len as usize) < frame.len() {
            return self.no_buffer();
        }
        let Some((m, off)) = self.translate(d.addr, frame.len()) else {
            self.dma_error(false);
            return RxOutcome::Stopped;
        };
        m.copy_in(off, frame);
        let c = Completion {
            len: frame.len() as u16,
            csum,
            desc_index: self.rxd,
            verdict,
            status: 0,
            phase: phase_for_index(self.rxc, r.clog2),
        };
        write_completion(&r.cpl, r.clog2, self.rxc, &c);
        self.rxd = self.rxd.wrapping_add(1);
        self.rxc = self.rxc.wrapping_add(1);
        self.count(Counter::RxFrames, 1);
        self.count(Counter::RxBytes, frame.len() as u64);
        self.moderated(false);
        RxOutcome::Delivered { verdict }
    }

    /// The bench's source: fills every posted buffer with the template frame.
    fn generate(&mut self) {
        let Some((frame, csum)) = self.generator.take() else { return };
        if let Some(rings) = self.rx_rings() {
            while self.control(regs::CONTROL_RX_EN) && !self.rx_stopped && self.rx_room(&rings) {
                if !matches!(self.place(&rings, &frame, csum, 0), RxOutcome::Delivered { .. }) {
                    break;
                }
            }
        }
        self.generator = Some((frame, csum));
    }

    // ------------------------------------------------------------------ transmit

    fn transmit(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if !self.control(regs::CONTROL_TX_EN) || self.tx_stopped {
            return out;
        }
        let (Some((dring, doff, dlog2)), Some((cring, coff, clog2))) =
            (self.ring(Ring::TxDesc), self.ring(Ring::TxCpl))
        else {
            return out;
        };
        let (dring, cring) = (ring_at(&dring, doff), ring_at(&cring, coff));
        while self.txd != self.host_index(Ring::TxDesc) {
            if regs::ring_used(self.txc, self.host_index(Ring::TxCpl)) as usize >= 1 << clog2 {
                break; // completion ring full: wait for the host's CONSUMER write
            }
            let d = read_descriptor(&dring, dlog2, self.txd);
            let len = d.len as usize;
            let Some((m, off)) = self.translate(d.addr, len) else {
                self.dma_error(true);
                break;
            };
            let mut status = 0;
            if len + 4 > self.reg(regs::MAX_LEN) as usize {
                status = regs::STATUS_TX_ABORTED; // cut on the line: nobody receives it
            } else {
                let mut frame = vec![0; len.max(60)]; // the MAC pads to 60 bytes
                m.copy_out(off, &mut frame[..len]);
                self.count(Counter::TxFrames, 1);
                self.count(Counter::TxBytes, len as u64);
                out.push(frame);
            }
            let c = Completion {
                len: d.len,
                csum: 0,
                desc_index: self.txd,
                verdict: 0,
                status,
                phase: phase_for_index(self.txc, clog2),
            };
            write_completion(&cring, clog2, self.txc, &c);
            self.txd = self.txd.wrapping_add(1);
            self.txc = self.txc.wrapping_add(1);
            self.moderated(true);
        }
        out
    }
}

/// The RX rings as the device sees them.
struct RxRings {
    desc: DmaRegion,
    dlog2: u32,
    cpl: DmaRegion,
    clog2: u32,
}

/// A view of a ring that starts `off` bytes into `m` (rings are whole regions for this
/// driver, but another host may place them anywhere).
fn ring_at(m: &DmaRegion, off: usize) -> DmaRegion {
    if off == 0 {
        return m.clone();
    }
    // SAFETY: `off` and the ring length were checked by `translate` to lie inside `m`, and
    // the view keeps `m` (its memory owner) alive.
    unsafe { DmaRegion::new(m.virt().add(off), m.iova() + off as u64, m.len() - off, Box::new(m.clone())) }
        .unwrap_or_else(|_| m.clone())
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the state, signals the due interrupts, then puts the frames `f` sent on
    /// the wire (after the lock is released, so two connected models never hold both locks).
    fn with<R>(&self, f: impl FnOnce(&mut State) -> (R, Vec<Vec<u8>>)) -> R {
        let (r, out) = {
            let mut s = self.lock();
            let r = f(&mut s);
            s.signal_with(&self.irq);
            r
        };
        if !out.is_empty() {
            let peer = self.peer.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(Weak::upgrade);
            match peer {
                Some(p) => out.iter().for_each(|f| {
                    p.arrive(f);
                }),
                None => self.lock().sent.extend(out),
            }
        }
        r
    }
}

impl Shared {
    /// A frame from the wire (receiving never sends, so this ends here).
    fn arrive(&self, frame: &[u8]) -> RxOutcome {
        let mut s = self.lock();
        let r = s.receive(frame);
        s.signal_with(&self.irq);
        r
    }
}

impl Default for ModelNic {
    fn default() -> Self {
        Self::new()
    }
}

impl ModelNic {
    pub fn new() -> Self {
        let efd = || EventFd::new(EFD_NONBLOCK).expect("eventfd");
        ModelNic {
            shared: Arc::new(Shared {
                state: Mutex::new(State::new()),
                irq: [efd(), efd(), efd()],
                peer: Mutex::new(None),
            }),
        }
    }

    /// The driver's side (give it to `Nic::new`).
    pub fn backend(&self) -> ModelBackend {
        ModelBackend { shared: self.shared.clone(), writes: AtomicU64::new(0), reads: AtomicU64::new(0) }
    }

    /// Connects two cards back to back: what one sends, the other receives.
    pub fn connect(a: &ModelNic, b: &ModelNic) {
        *a.shared.peer.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::downgrade(&b.shared));
        *b.shared.peer.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::downgrade(&a.shared));
    }

    /// A frame (without FCS) arriving from the line.
    pub fn inject(&self, frame: &[u8]) -> RxOutcome {
        self.shared.arrive(frame)
    }

    /// Frames sent while no peer was connected, oldest first (and forgets them).
    pub fn take_sent(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.shared.lock().sent)
    }

    /// A device counter as the device holds it (not through the registers).
    pub fn counter(&self, c: Counter) -> u64 {
        self.shared.lock().counters[c as usize]
    }

    /// The link as the PHY sees it; a change raises the `LINK` cause.
    pub fn set_link(&self, up: bool) {
        self.shared.with(|s| {
            if s.link_up != up {
                s.link_up = up;
                s.fire(regs::IRQ_BIT_LINK);
            }
            ((), Vec::new())
        })
    }

    /// Bench mode: every posted RX buffer is filled at once with `frame` (or stop, `None`).
    pub fn set_rx_generator(&self, frame: Option<Vec<u8>>) {
        self.shared.with(|s| {
            s.generator = frame.map(|f| {
                let sum = regs::rx_sum(&f);
                (f, sum)
            });
            s.generate();
            ((), Vec::new())
        })
    }

    /// The moderation timers expire (the model has no clock): pending RX/TX events fire if
    /// `IRQ_MOD_TIME` is not 0.
    pub fn expire_moderation_timers(&self) {
        self.shared.with(|s| {
            if s.reg(regs::IRQ_MOD_TIME) != 0 {
                if std::mem::take(&mut s.pending_rx) > 0 {
                    s.fire(regs::IRQ_BIT_RX);
                }
                if std::mem::take(&mut s.pending_tx) > 0 {
                    s.fire(regs::IRQ_BIT_TX);
                }
            }
            ((), Vec::new())
        })
    }

    /// Register accesses to offsets outside the map.
    pub fn bad_accesses(&self) -> u64 {
        self.shared.lock().bad_accesses
    }
}

impl ModelBackend {
    /// A backend on a model nobody else holds (ring and pool unit tests).
    pub fn new_detached() -> Self {
        ModelNic::new().backend()
    }

    /// Register writes made through this backend so far (tests count doorbells with it).
    pub fn register_writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Register reads made through this backend so far (the fast path makes none).
    pub fn register_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
}

impl Backend for ModelBackend {
    fn read32(&self, offset: u32) -> u32 {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.shared.lock().read(offset)
    }

    fn write32(&self, offset: u32, value: u32) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.shared.with(|s| ((), s.write(offset, value)))
    }

    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion, Error> {
        let mut s = self.shared.lock();
        let m = anon_region(len, s.next_iova)?;
        // A 4 KiB hole after each region: an overrun is a DMA error, not another buffer.
        s.next_iova += (m.len() as u64).div_ceil(4096) * 4096 + 4096;
        s.regions.push(m.clone());
        Ok(m)
    }

    fn irq_eventfd(&self, vector: usize) -> &EventFd {
        &self.shared.irq[vector.min(IRQ_VECTORS - 1)]
    }

    fn describe(&self) -> String {
        "model".into()
    }
}
