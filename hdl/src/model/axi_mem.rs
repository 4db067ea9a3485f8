//! Host memory behind an AXI4 slave, clock by clock: the far side of the card's DMA master.
//!
//! The model answers the card's 64-bit AXI4 master the way a PCIe–AXI bridge (XDMA in
//! bridge mode) in front of host memory would: reads return after a latency, beats are paced
//! by a bandwidth, writes land in memory as their beats are taken and are answered after a
//! latency. It also checks the master: every AXI rule the card could break is recorded in
//! [`AxiMem::violations`], so a DMA test asserts that list is empty.
//!
//! # Timing (one call to [`AxiMem::clock`] = one rising edge)
//! * Outputs ([`AxiMem::outputs`]) depend only on the model's state, never combinationally
//!   on the master's signals in the same clock: present them, let the design settle, read
//!   the master's signals, then call `clock` with them, then clock the design.
//! * `arready`/`awready` are high while fewer than `max_reads`/`max_writes` transactions are
//!   outstanding (and no stall is drawn for this clock). A read taken on edge `t` shows its
//!   first beat on `rvalid` from edge `t + read_latency` on; beats follow at the read
//!   bandwidth. Reads are answered in the order they were taken, whatever their ID.
//! * `wready` is high while a write address is waiting for data (the model takes W after its
//!   AW, which a slave may require) and the write bandwidth allows a beat. Bytes are stored
//!   (by `wstrb`) on the edge their beat is taken, so a later write is never seen before an
//!   earlier one. The B response for a burst comes `write_latency` edges after its last beat,
//!   in order.
//! * Bandwidth is a token bucket of bytes per clock, one bucket per direction (PCIe is full
//!   duplex); a beat costs 8 bytes; the bucket holds at most two beats.
//! * `stall_percent` > 0 drops each ready and valid the model drives for a random clock
//!   (seeded), to shake out masters that assume a fast slave.
//!
//! # Errors
//! A beat whose address is outside [`HostMemory`] or inside one of `error_ranges` answers
//! DECERR (3) or SLVERR (2) respectively; a write beat with an error is not stored. A burst's
//! response is the worst of its beats.
//!
//! # Rules checked
//! `*size` = 3 (8-byte beats), `*burst` = INCR, no burst crossing a 4 KiB boundary,
//! `wlast` exactly on the last beat, address aligned to 8 bytes, and valid/payload held
//! steady from the clock valid rises until it is taken.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::ops::Range;

pub const RESP_OKAY: u8 = 0;
pub const RESP_SLVERR: u8 = 2;
pub const RESP_DECERR: u8 = 3;
/// Bytes per beat (64-bit data).
pub const BEAT_BYTES: u64 = 8;
const BURST_INCR: u8 = 1;
const SIZE_8: u8 = 3;

/// What the model reads and writes. `Err` means "no memory here" (DECERR).
pub trait HostMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ()>;
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), ()>;

    /// Store the bytes of one beat at 8-aligned `addr` selected by `strb` (bit k = byte k).
    fn write_beat(&mut self, addr: u64, data: u64, strb: u8) -> Result<(), ()> {
        let bytes = data.to_le_bytes();
        for (i, byte) in bytes.iter().enumerate() {
            if strb >> i & 1 == 1 {
                self.write(addr + i as u64, std::slice::from_ref(byte))?;
            }
        }
        Ok(())
    }
}

/// Plain memory: `len` bytes starting at bus address `base`.
#[derive(Clone, Debug)]
pub struct VecMemory {
    pub base: u64,
    pub bytes: Vec<u8>,
}

impl VecMemory {
    pub fn new(base: u64, len: usize) -> Self {
        VecMemory { base, bytes: vec![0; len] }
    }

    fn range(&self, addr: u64, len: usize) -> Option<Range<usize>> {
        let off = addr.checked_sub(self.base)? as usize;
        let end = off.checked_add(len)?;
        (end <= self.bytes.len()).then_some(off..end)
    }

    /// The bytes at `addr..addr+len`; panics when out of range (a test helper).
    pub fn slice(&self, addr: u64, len: usize) -> &[u8] {
        let r = self.range(addr, len).expect("address outside VecMemory");
        &self.bytes[r]
    }

    /// Write `data` at `addr`; panics when out of range (a test helper).
    pub fn fill(&mut self, addr: u64, data: &[u8]) {
        let r = self.range(addr, data.len()).expect("address outside VecMemory");
        self.bytes[r].copy_from_slice(data);
    }
}

impl HostMemory for VecMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ()> {
        let r = self.range(addr, buf.len()).ok_or(())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), ()> {
        let r = self.range(addr, data.len()).ok_or(())?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct AxiMemConfig {
    /// Edges from a read address taken to its first data beat.
    pub read_latency: u32,
    /// Edges from a burst's last write beat to its response.
    pub write_latency: u32,
    /// Bytes per clock each direction may move (a beat is 8 bytes).
    pub bytes_per_clock: f64,
    pub max_reads: usize,
    pub max_writes: usize,
    /// Addresses that answer SLVERR.
    pub error_ranges: Vec<Range<u64>>,
    /// Chance (0..=100) that each ready/valid the model drives is held low for a clock.
    pub stall_percent: u32,
    pub seed: u64,
}

impl AxiMemConfig {
    /// No latency, a beat every clock: for unit tests of the master's logic.
    pub fn fast() -> Self {
        AxiMemConfig {
            read_latency: 1,
            write_latency: 1,
            bytes_per_clock: 8.0,
            max_reads: 16,
            max_writes: 16,
            error_ranges: Vec::new(),
            stall_percent: 0,
            seed: 0,
        }
    }

    /// Like a PCIe Gen2 x4 link behind a bridge: about 1 µs read round trip, writes posted
    /// (answered after 0.25 µs), about 1.6 GB/s each way after packet overheads.
    pub fn pcie_gen2_x4(clocks_per_us: u32) -> Self {
        AxiMemConfig {
            read_latency: clocks_per_us,
            write_latency: (clocks_per_us / 4).max(1),
            bytes_per_clock: 1600.0 / clocks_per_us as f64,
            max_reads: 32,
            max_writes: 32,
            ..Self::fast()
        }
    }
}

/// The signals the card's AXI4 master drives (sampled by the model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxiMasterSignals {
    pub awvalid: bool,
    pub awid: u8,
    pub awaddr: u64,
    pub awlen: u8,
    pub awsize: u8,
    pub awburst: u8,
    pub wvalid: bool,
    pub wdata: u64,
    pub wstrb: u8,
    pub wlast: bool,
    pub bready: bool,
    pub arvalid: bool,
    pub arid: u8,
    pub araddr: u64,
    pub arlen: u8,
    pub arsize: u8,
    pub arburst: u8,
    pub rready: bool,
}

/// The signals the model drives back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxiSlaveSignals {
    pub awready: bool,
    pub wready: bool,
    pub bvalid: bool,
    pub bid: u8,
    pub bresp: u8,
    pub arready: bool,
    pub rvalid: bool,
    pub rid: u8,
    pub rdata: u64,
    pub rresp: u8,
    pub rlast: bool,
}

#[derive(Clone, Copy, Debug)]
struct Burst {
    id: u8,
    addr: u64,
    beats: u32,
    /// Beats done so far.
    done: u32,
    /// Worst response so far.
    resp: u8,
    /// Edge from which the first beat may go (reads) or the response (writes).
    due: u64,
}

/// Counts of what went through, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxiMemStats {
    pub read_bursts: u64,
    pub read_beats: u64,
    pub write_bursts: u64,
    pub write_beats: u64,
    pub error_responses: u64,
}

pub struct AxiMem<M: HostMemory> {
    pub mem: M,
    pub cfg: AxiMemConfig,
    pub stats: AxiMemStats,
    /// Every AXI rule the master broke, in order, with the edge it happened on.
    pub violations: Vec<String>,
    now: u64,
    rng: ChaCha8Rng,
    reads: VecDeque<Burst>,
    /// Write bursts whose address was taken, waiting for (or receiving) data.
    writes: VecDeque<Burst>,
    /// Write bursts whose data is all in, waiting for their response.
    responses: VecDeque<Burst>,
    rd_tokens: f64,
    wr_tokens: f64,
    stall: [bool; 4],
    /// The master's signals on the previous edge, to check valid/payload stability.
    prev: AxiMasterSignals,
    prev_taken: [bool; 3],
}

const STALL_AW: usize = 0;
const STALL_W: usize = 1;
const STALL_AR: usize = 2;
const STALL_RB: usize = 3;

impl<M: HostMemory> AxiMem<M> {
    pub fn new(mem: M, cfg: AxiMemConfig) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        AxiMem {
            mem,
            cfg,
            stats: AxiMemStats::default(),
            violations: Vec::new(),
            now: 0,
            rng,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
            responses: VecDeque::new(),
            rd_tokens: 0.0,
            wr_tokens: 0.0,
            stall: [false; 4],
            prev: AxiMasterSignals::default(),
            prev_taken: [true; 3],
        }
    }

    /// Edges seen so far.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// No transaction outstanding.
    pub fn idle(&self) -> bool {
        self.reads.is_empty() && self.writes.is_empty() && self.responses.is_empty()
    }

    fn beat_resp(&self, addr: u64) -> u8 {
        if self.cfg.error_ranges.iter().any(|r| r.contains(&addr)) {
            RESP_SLVERR
        } else {
            RESP_OKAY
        }
    }

    fn read_beat(&self, b: &Burst) -> (u64, u8) {
        let addr = b.addr + u64::from(b.done) * BEAT_BYTES;
        let resp = self.beat_resp(addr);
        if resp != RESP_OKAY {
            return (0, resp);
        }
        let mut buf = [0u8; 8];
        match self.mem.read(addr, &mut buf) {
            Ok(()) => (u64::from_le_bytes(buf), RESP_OKAY),
            Err(()) => (0, RESP_DECERR),
        }
    }

    /// What the model drives during the coming clock.
    pub fn outputs(&self) -> AxiSlaveSignals {
        let mut o = AxiSlaveSignals {
            awready: self.writes.len() + self.responses.len() < self.cfg.max_writes && !self.stall[STALL_AW],
            arready: self.reads.len() < self.cfg.max_reads && !self.stall[STALL_AR],
            wready: self.writes.front().is_some() && self.wr_tokens >= BEAT_BYTES as f64 && !self.stall[STALL_W],
            ..Default::default()
        };
        if let Some(b) = self.responses.front() {
            if b.due <= self.now && !self.stall[STALL_RB] {
                o.bvalid = true;
                o.bid = b.id;
                o.bresp = b.resp;
            }
        }
        if let Some(b) = self.reads.front() {
            if b.due <= self.now && self.rd_tokens >= BEAT_BYTES as f64 && !self.stall[STALL_RB] {
                let (data, resp) = self.read_beat(b);
                o.rvalid = true;
                o.rid = b.id;
                o.rdata = data;
                o.rresp = resp;
                o.rlast = b.done + 1 == b.beats;
            }
        }
        o
    }

    fn violation(&mut self, what: String) {
        if self.violations.len() < 100 {
            self.violations.push(format!("edge {}: {what}", self.now));
        }
    }

    fn check_burst(&mut self, ch: &str, addr: u64, len: u8, size: u8, burst: u8) {
        let bytes = (u64::from(len) + 1) * BEAT_BYTES;
        if size != SIZE_8 {
            self.violation(format!("{ch}size {size}, expected 3 (8-byte beats)"));
        }
        if burst != BURST_INCR {
            self.violation(format!("{ch}burst {burst}, expected INCR (1)"));
        }
        if addr % BEAT_BYTES != 0 {
            self.violation(format!("{ch}addr {addr:#x} not 8-byte aligned"));
        }
        if addr / 4096 != (addr + bytes - 1) / 4096 {
            self.violation(format!("{ch} burst {addr:#x}+{bytes} crosses a 4 KiB boundary"));
        }
    }

    /// Valid must stay high with a steady payload until taken.
    fn check_stable(&mut self, m: &AxiMasterSignals) {
        let p = self.prev;
        if !self.prev_taken[0]
            && p.awvalid
            && (!m.awvalid
                || (m.awid, m.awaddr, m.awlen, m.awsize, m.awburst) != (p.awid, p.awaddr, p.awlen, p.awsize, p.awburst))
        {
            self.violation("AW changed or dropped before awready".into());
        }
        if !self.prev_taken[1] && p.wvalid && (!m.wvalid || (m.wdata, m.wstrb, m.wlast) != (p.wdata, p.wstrb, p.wlast))
        {
            self.violation("W changed or dropped before wready".into());
        }
        if !self.prev_taken[2]
            && p.arvalid
            && (!m.arvalid
                || (m.arid, m.araddr, m.arlen, m.arsize, m.arburst) != (p.arid, p.araddr, p.arlen, p.arsize, p.arburst))
        {
            self.violation("AR changed or dropped before arready".into());
        }
    }

    /// One rising edge: take what the master offers against [`Self::outputs`].
    pub fn clock(&mut self, m: &AxiMasterSignals) {
        let o = self.outputs();
        self.clock_presented(&o, m);
    }

    /// [`Self::clock`] for a caller that kept what [`Self::outputs`] returned for this clock
    /// (`o` must be exactly that), so the outputs, an R beat's memory read included, are not
    /// computed twice per clock.
    pub fn clock_presented(&mut self, o: &AxiSlaveSignals, m: &AxiMasterSignals) {
        debug_assert_eq!(*o, self.outputs(), "clock_presented with outputs of another clock");
        self.check_stable(m);
        let aw_taken = m.awvalid && o.awready;
        let w_taken = m.wvalid && o.wready;
        let ar_taken = m.arvalid && o.arready;
        self.prev = *m;
        self.prev_taken = [aw_taken || !m.awvalid, w_taken || !m.wvalid, ar_taken || !m.arvalid];

        if o.rvalid && m.rready {
            self.rd_tokens -= BEAT_BYTES as f64;
            self.stats.read_beats += 1;
            if o.rresp != RESP_OKAY {
                self.stats.error_responses += 1;
            }
            let b = self.reads.front_mut().expect("rvalid without a read");
            b.done += 1;
            if b.done == b.beats {
                self.reads.pop_front();
            }
        }
        if o.bvalid && m.bready {
            self.responses.pop_front();
        }
        if w_taken {
            self.wr_tokens -= BEAT_BYTES as f64;
            self.stats.write_beats += 1;
            let now = self.now;
            let latency = u64::from(self.cfg.write_latency);
            let (addr, last_expected) = {
                let b = self.writes.front().expect("wready without a write");
                (b.addr + u64::from(b.done) * BEAT_BYTES, b.done + 1 == b.beats)
            };
            let mut resp = self.beat_resp(addr);
            if resp == RESP_OKAY && self.mem.write_beat(addr, m.wdata, m.wstrb).is_err() {
                resp = RESP_DECERR;
            }
            if m.wlast != last_expected {
                self.violation(format!("wlast {} on beat for {addr:#x}, expected {}", m.wlast, last_expected));
            }
            let b = self.writes.front_mut().expect("checked above");
            b.resp = b.resp.max(resp);
            b.done += 1;
            if b.done == b.beats {
                let mut b = self.writes.pop_front().expect("checked above");
                b.due = now + latency;
                if b.resp != RESP_OKAY {
                    self.stats.error_responses += 1;
                }
                self.responses.push_back(b);
            }
        }
        if aw_taken {
            self.check_burst("aw", m.awaddr, m.awlen, m.awsize, m.awburst);
            self.stats.write_bursts += 1;
            self.writes.push_back(Burst {
                id: m.awid,
                addr: m.awaddr,
                beats: u32::from(m.awlen) + 1,
                done: 0,
                resp: RESP_OKAY,
                due: 0,
            });
        }
        if ar_taken {
            self.check_burst("ar", m.araddr, m.arlen, m.arsize, m.arburst);
            self.stats.read_bursts += 1;
            let due = self.now + u64::from(self.cfg.read_latency.max(1));
            self.reads.push_back(Burst {
                id: m.arid,
                addr: m.araddr,
                beats: u32::from(m.arlen) + 1,
                done: 0,
                resp: RESP_OKAY,
                due,
            });
        }
        let cap = 2.0 * BEAT_BYTES as f64;
        self.rd_tokens = (self.rd_tokens + self.cfg.bytes_per_clock).min(cap);
        self.wr_tokens = (self.wr_tokens + self.cfg.bytes_per_clock).min(cap);
        if self.cfg.stall_percent > 0 {
            for s in self.stall.iter_mut() {
                *s = self.rng.gen_range(0..100) < self.cfg.stall_percent;
            }
        }
        self.now += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master_read(addr: u64, len: u8) -> AxiMasterSignals {
        AxiMasterSignals {
            arvalid: true,
            arid: 1,
            araddr: addr,
            arlen: len,
            arsize: 3,
            arburst: 1,
            rready: true,
            ..Default::default()
        }
    }

    /// Runs a master that issues one read and collects beats; returns (beats, edge of first beat).
    fn read_burst(mem: &mut AxiMem<VecMemory>, addr: u64, len: u8) -> (Vec<(u64, u8, bool)>, u64) {
        let mut beats = Vec::new();
        let mut first = None;
        let mut req = Some(master_read(addr, len));
        for _ in 0..10_000 {
            let o = mem.outputs();
            let m = req.unwrap_or(AxiMasterSignals { rready: true, ..Default::default() });
            if o.rvalid {
                first.get_or_insert(mem.now());
                beats.push((o.rdata, o.rresp, o.rlast));
            }
            if m.arvalid && o.arready {
                req = None;
            }
            mem.clock(&m);
            if beats.last().is_some_and(|b| b.2) {
                break;
            }
        }
        (beats, first.unwrap())
    }

    #[test]
    fn read_latency_data_and_errors() {
        let mut m = VecMemory::new(0x1000, 0x2000);
        for i in 0..0x2000 {
            m.bytes[i] = i as u8;
        }
        let cfg = AxiMemConfig { read_latency: 50, error_ranges: vec![0x2010..0x2018], ..AxiMemConfig::fast() };
        let mut mem = AxiMem::new(m, cfg);
        let (beats, first) = read_burst(&mut mem, 0x1008, 3);
        assert_eq!(first, 50, "first beat 50 edges after the address was taken on edge 0");
        assert_eq!(beats.len(), 4);
        assert_eq!(beats[0].0, u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]));
        assert!(beats[3].2 && !beats[2].2);
        let (beats, _) = read_burst(&mut mem, 0x2008, 1);
        assert_eq!(beats.iter().map(|b| b.1).collect::<Vec<_>>(), vec![RESP_OKAY, RESP_SLVERR]);
        let (beats, _) = read_burst(&mut mem, 0x3000, 0);
        assert_eq!(beats[0].1, RESP_DECERR, "outside memory");
        assert!(mem.violations.is_empty(), "{:?}", mem.violations);
        let (_, _) = read_burst(&mut mem, 0x1FF8, 1);
        assert!(mem.violations[0].contains("crosses a 4 KiB boundary"), "{:?}", mem.violations);
    }

    #[test]
    fn write_strobes_response_and_bandwidth() {
        let cfg = AxiMemConfig { write_latency: 7, bytes_per_clock: 2.0, ..AxiMemConfig::fast() };
        let mut mem = AxiMem::new(VecMemory::new(0, 4096), cfg);
        let mut aw = true;
        let mut beat = 0u8;
        let mut b_at = None;
        let mut w_edges = Vec::new();
        for _ in 0..200 {
            let o = mem.outputs();
            let m = AxiMasterSignals {
                awvalid: aw,
                awaddr: 0x100,
                awlen: 3,
                awsize: 3,
                awburst: 1,
                wvalid: beat < 4,
                wdata: 0x1111_1111_1111_1111 * (u64::from(beat) + 1),
                wstrb: if beat == 3 { 0x0F } else { 0xFF },
                wlast: beat == 3,
                bready: true,
                ..Default::default()
            };
            if aw && o.awready {
                aw = false;
            }
            if m.wvalid && o.wready {
                w_edges.push(mem.now());
                beat += 1;
            }
            if o.bvalid {
                assert_eq!(o.bresp, RESP_OKAY);
                b_at = Some(mem.now());
            }
            mem.clock(&m);
            if b_at.is_some() {
                break;
            }
        }
        assert_eq!(mem.mem.slice(0x100, 8), &[0x11; 8]);
        assert_eq!(mem.mem.slice(0x118, 8), &[0x44, 0x44, 0x44, 0x44, 0, 0, 0, 0]);
        // 2 bytes per clock: a beat every 4 clocks once the bucket is drained.
        let gaps: Vec<u64> = w_edges.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().skip(1).all(|&g| g == 4), "{w_edges:?}");
        assert_eq!(b_at.unwrap(), w_edges[3] + 7);
        assert!(mem.violations.is_empty(), "{:?}", mem.violations);
        assert!(mem.idle());
    }

    #[test]
    fn dropped_valid_is_a_violation() {
        let cfg = AxiMemConfig { max_reads: 0, ..AxiMemConfig::fast() };
        let mut mem = AxiMem::new(VecMemory::new(0, 4096), cfg);
        mem.clock(&master_read(0, 0));
        mem.clock(&AxiMasterSignals::default());
        assert!(mem.violations[0].contains("AR changed or dropped"), "{:?}", mem.violations);
    }
}
