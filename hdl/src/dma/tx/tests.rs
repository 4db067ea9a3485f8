//! Tests of [`super::TxDma`]: a plain-Rust host (descriptor and completion rings in
//! [`AxiMem`]'s memory) and either a byte sink with random `out_ready` or `mac::tx` itself,
//! checked against the reference of what must come out.
use super::*;
use crate::dma::testbench::axi_port_fns;
use crate::mac::tx::MacTx;
use crate::model::axi_mem::{AxiMasterSignals, AxiMem, AxiMemConfig, AxiSlaveSignals, VecMemory};
use crate::model::tx_reference::{
    check_transmission, split_frames, wire_bytes, WireByte, DEFAULT_IFG, DEFAULT_MAX_LEN,
};
use crate::sim::{cycle, cycle_traced, settle};
use crate::verilog::vectors::{Qualified, VectorRecorder};
use nic_regs::ring::{phase_for_index, slot, Completion, Descriptor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

axi_port_fns!(master present_axi, sample_axi, TxDma, [axi_awvalid, axi_awready, axi_awaddr, axi_awlen,
    axi_awsize, axi_awburst, axi_wvalid, axi_wready, axi_wdata, axi_wstrb, axi_wlast, axi_bvalid,
    axi_bready, axi_bresp, axi_arvalid, axi_arready, axi_araddr, axi_arlen, axi_arsize, axi_arburst,
    axi_rvalid, axi_rready, axi_rdata, axi_rresp, axi_rlast]);

// Ring bases are only 16-byte aligned: rings of 8 or more entries cross a 4 KiB boundary.
const TXD_BASE: u64 = 0x1_0FC0;
const TXC_BASE: u64 = 0x3_0FE0;
const FRAMES_BASE: u64 = 0x5_0000;

/// What the test posts: one descriptor per frame (LEN may be bad on purpose).
#[derive(Clone, Debug)]
struct Frame {
    addr: u64,
    len: u16,
    bytes: Vec<u8>,
}

/// The reference: which descriptors are bad for `max_len`.
fn is_bad(len: u16, max_len: u16) -> bool {
    len == 0 || u32::from(len) > u32::from(max_len.wrapping_sub(4)) || usize::from(len) > MAX_TX_LEN
}

/// Frames at random byte alignments, spread over memory (some crossing 4 KiB), and their
/// host memory.
fn make_frames(rng: &mut ChaCha8Rng, lens: &[u16]) -> (Vec<Frame>, VecMemory) {
    let mut frames = Vec::new();
    let mut at = FRAMES_BASE;
    for &len in lens {
        at += rng.gen_range(0..64u64);
        let real = usize::from(len).min(MAX_TX_LEN + 16);
        let bytes: Vec<u8> = (0..real).map(|_| rng.gen()).collect();
        frames.push(Frame { addr: at, len, bytes });
        at += real as u64 + 8;
    }
    let mut mem = VecMemory::new(0, (at + 4096) as usize);
    for f in &frames {
        mem.fill(f.addr, &f.bytes);
    }
    (frames, mem)
}

/// The host side: posts descriptors when the ring has room, reaps completions with the
/// phase rule and gives slots back in batches.
struct Host {
    rng: ChaCha8Rng,
    frames: Vec<Frame>,
    log2_d: u32,
    log2_c: u32,
    max_len: u16,
    /// Descriptors posted (= txd_producer).
    posted: u16,
    /// Completions reaped; completions given back (= txc_consumer).
    reaped: u16,
    given_back: u16,
    completions: Vec<Completion>,
    /// Chance per clock of posting (%) / of giving slots back (‰).
    post_percent: u32,
    give_permille: u32,
}

impl Host {
    /// One clock of host activity, between device clocks.
    fn step(&mut self, mem: &mut VecMemory, txd_consumer: u16) {
        let size = 1u16 << self.log2_d;
        while usize::from(self.posted) < self.frames.len()
            && self.posted.wrapping_sub(txd_consumer) < size
            && self.rng.gen_range(0..100) < self.post_percent
        {
            let f = &self.frames[usize::from(self.posted)];
            let d = Descriptor { addr: f.addr, len: f.len, flags: 0 };
            mem.fill(TXD_BASE + 16 * slot(self.posted, self.log2_d) as u64, &d.encode());
            self.posted += 1;
        }
        loop {
            let at = TXC_BASE + 16 * slot(self.reaped, self.log2_c) as u64;
            let c = Completion::decode(mem.slice(at, 16).try_into().unwrap()).expect("reserved bits set");
            if !c.is_new(self.reaped, self.log2_c) {
                break;
            }
            self.completions.push(c);
            self.reaped = self.reaped.wrapping_add(1);
        }
        if self.rng.gen_range(0..1000) < self.give_permille {
            self.given_back = self.reaped;
        }
    }

    fn expected_completions(&self) -> Vec<Completion> {
        self.frames
            .iter()
            .enumerate()
            .map(|(i, f)| Completion {
                len: f.len,
                csum: 0,
                desc_index: i as u16,
                verdict: 0,
                status: if is_bad(f.len, self.max_len) { STATUS_TX_ABORTED } else { 0 },
                phase: phase_for_index(i as u16, self.log2_c),
            })
            .collect()
    }

    fn good_frames(&self) -> Vec<Vec<u8>> {
        self.frames.iter().filter(|f| !is_bad(f.len, self.max_len)).map(|f| f.bytes.clone()).collect()
    }
}

/// Where the bytes go: a sink with random `out_ready`, or `mac::tx` with a PHY that takes a
/// byte every clock (GMII).
enum Sink {
    Bytes { ready_percent: u32, frames: Vec<Vec<u8>>, cur: Vec<u8>, in_frame: bool },
    Mac { mac: Box<MacTx>, line: Vec<WireByte> },
}

struct Bench {
    uut: TxDma,
    mem: AxiMem<VecMemory>,
    host: Host,
    sink: Sink,
    rng: ChaCha8Rng,
    enable: bool,
    /// Completion writes seen (AWs taken): the index of the next one.
    cpl_writes: u16,
    /// Descriptor reads seen (ARs into the descriptor ring) and descriptors they carried.
    desc_reads: u64,
    descs_read: u64,
    tx_events: u32,
    dma_error_pulses: u32,
    clocks: u64,
    rec: Option<VectorRecorder>,
}

struct Setup {
    seed: u64,
    lens: Vec<u16>,
    log2_d: u32,
    log2_c: u32,
    max_len: u16,
    cfg: AxiMemConfig,
    /// `None`: `mac::tx` as the sink; `Some(p)`: a byte sink ready p% of clocks.
    ready_percent: Option<u32>,
    post_percent: u32,
    give_permille: u32,
}

impl Setup {
    fn new(seed: u64, lens: Vec<u16>) -> Self {
        Setup {
            seed,
            lens,
            log2_d: 4,
            log2_c: 4,
            max_len: DEFAULT_MAX_LEN,
            cfg: AxiMemConfig::fast(),
            ready_percent: Some(100),
            post_percent: 100,
            give_permille: 1000,
        }
    }

    fn bench(self) -> Bench {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (frames, mem) = make_frames(&mut rng, &self.lens);
        let mut uut = TxDma::default();
        uut.connect_all();
        let sink = match self.ready_percent {
            Some(p) => Sink::Bytes { ready_percent: p, frames: Vec::new(), cur: Vec::new(), in_frame: false },
            None => {
                let mut mac = Box::<MacTx>::default();
                mac.connect_all();
                mac.ifg_bytes.next = DEFAULT_IFG.to_bits();
                mac.max_len.next = u64::from(self.max_len).to_bits();
                mac.phy_ready.next = true;
                mac.reset.next = true;
                cycle(&mut *mac, |u| &mut u.clock);
                mac.reset.next = false;
                Sink::Mac { mac, line: Vec::new() }
            }
        };
        let host = Host {
            rng: ChaCha8Rng::seed_from_u64(self.seed ^ 0x55),
            frames,
            log2_d: self.log2_d,
            log2_c: self.log2_c,
            max_len: self.max_len,
            posted: 0,
            reaped: 0,
            given_back: 0,
            completions: Vec::new(),
            post_percent: self.post_percent,
            give_permille: self.give_permille,
        };
        let mut b = Bench {
            uut,
            mem: AxiMem::new(mem, self.cfg),
            host,
            sink,
            rng,
            enable: true,
            cpl_writes: 0,
            desc_reads: 0,
            descs_read: 0,
            tx_events: 0,
            dma_error_pulses: 0,
            clocks: 0,
            rec: None,
        };
        b.reset();
        b
    }
}

impl Bench {
    fn drive_config(&mut self) {
        let u = &mut self.uut;
        u.enable.next = self.enable;
        u.max_len.next = u64::from(self.host.max_len).to_bits();
        u.txd_base.next = TXD_BASE.to_bits();
        u.txd_log2_size.next = u64::from(self.host.log2_d).to_bits();
        u.txd_producer.next = u64::from(self.host.posted).to_bits();
        u.txc_base.next = TXC_BASE.to_bits();
        u.txc_log2_size.next = u64::from(self.host.log2_c).to_bits();
        u.txc_consumer.next = u64::from(self.host.given_back).to_bits();
    }

    fn reset(&mut self) {
        self.drive_config();
        present_axi(&mut self.uut, &AxiSlaveSignals::default());
        self.uut.out_ready.next = false;
        self.uut.reset.next = true;
        cycle_traced(&mut self.uut, |u| &mut u.clock, self.rec.as_mut());
        self.uut.reset.next = false;
    }

    fn step(&mut self) {
        self.host.step(&mut self.mem.mem, self.uut.txd_consumer.val().to_u64() as u16);
        self.drive_config();
        let o = self.mem.outputs();
        present_axi(&mut self.uut, &o);
        // out_valid/data/last come from registers: read them, then present out_ready.
        settle(&mut self.uut);
        let valid = self.uut.out_valid.val();
        let data = self.uut.out_data.val().to_u64() as u8;
        let last = self.uut.out_last.val();
        let ready = match &mut self.sink {
            Sink::Bytes { ready_percent, in_frame, .. } => {
                assert!(!*in_frame || valid, "clock {}: out_valid dropped inside a frame", self.clocks);
                self.rng.gen_range(0..100) < *ready_percent
            }
            Sink::Mac { mac, .. } => {
                mac.in_valid.next = valid;
                mac.in_data.next = u64::from(data).to_bits();
                mac.in_last.next = last;
                settle(&mut **mac);
                mac.in_ready.val()
            }
        };
        self.uut.out_ready.next = ready;
        settle(&mut self.uut);
        let m = self.uut_master();
        if m.awvalid && o.awready {
            // Completion k goes to slot k only when the host has given that slot back.
            let size = 1u16 << self.host.log2_c;
            assert!(
                self.cpl_writes.wrapping_sub(self.host.given_back) < size,
                "completion {} written with only {} given back",
                self.cpl_writes,
                self.host.given_back
            );
            assert_eq!(m.awaddr, TXC_BASE + 16 * slot(self.cpl_writes, self.host.log2_c) as u64);
            self.cpl_writes = self.cpl_writes.wrapping_add(1);
        }
        if m.arvalid && o.arready && (TXD_BASE..TXD_BASE + (16 << self.host.log2_d)).contains(&m.araddr) {
            assert_eq!(m.arlen % 2, 1, "whole descriptors");
            self.desc_reads += 1;
            self.descs_read += u64::from(m.arlen / 2 + 1);
        }
        self.mem.clock(&m);
        match &mut self.sink {
            Sink::Bytes { frames, cur, in_frame, .. } => {
                if valid && ready {
                    cur.push(data);
                    *in_frame = !last;
                    if last {
                        frames.push(std::mem::take(cur));
                    }
                }
            }
            Sink::Mac { mac, line } => {
                line.push(WireByte {
                    en: mac.phy_en.val(),
                    er: mac.phy_er.val(),
                    data: mac.phy_data.val().to_u64() as u8,
                });
                cycle(&mut **mac, |u| &mut u.clock);
            }
        }
        cycle_traced(&mut self.uut, |u| &mut u.clock, self.rec.as_mut());
        self.tx_events += u32::from(self.uut.tx_event.val());
        self.dma_error_pulses += u32::from(self.uut.dma_error.val());
        self.clocks += 1;
    }

    fn uut_master(&self) -> AxiMasterSignals {
        sample_axi(&self.uut)
    }

    fn all_done(&self) -> bool {
        self.host.completions.len() == self.host.frames.len() && self.mem.idle()
    }

    fn run(&mut self, max_clocks: u64) {
        while !self.all_done() {
            assert!(
                self.clocks < max_clocks,
                "not done after {max_clocks} clocks: {} completions",
                self.host.completions.len()
            );
            self.step();
        }
        // Let the last tx_event pulse and a trailing gap go by.
        for _ in 0..20 {
            self.step();
        }
    }

    fn sent_frames(&self) -> Vec<Vec<u8>> {
        match &self.sink {
            Sink::Bytes { frames, .. } => frames.clone(),
            Sink::Mac { line, .. } => {
                let cap = split_frames(line);
                cap.frames
                    .iter()
                    .map(|f| crate::model::tx_reference::decode_frame(f).expect("frame on the line"))
                    .collect()
            }
        }
    }

    /// Everything the host posted came out and was completed exactly.
    fn check(&self) {
        assert!(self.mem.violations.is_empty(), "{:?}", self.mem.violations);
        let good = self.host.good_frames();
        match &self.sink {
            Sink::Bytes { .. } => assert_eq!(self.sent_frames(), good, "bytes handed out"),
            Sink::Mac { line, .. } => check_transmission(line, &good, usize::from(DEFAULT_IFG))
                .or_else(|e| {
                    // Gaps may be longer than the minimum while the pipeline fills; bytes
                    // must be exact anyway.
                    let cap = split_frames(line);
                    if cap.frames.len() == good.len()
                        && cap.frames.iter().zip(&good).all(|(f, g)| f.bytes == wire_bytes(g))
                        && cap.frames.iter().skip(1).all(|f| f.gap_before >= usize::from(DEFAULT_IFG))
                    {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .unwrap(),
        }
        assert_eq!(self.host.completions, self.host.expected_completions(), "completions");
        let n = self.host.frames.len() as u64;
        let u = &self.uut;
        assert_eq!(u.txd_consumer.val().to_u64(), n % 65536);
        assert_eq!(u.txc_producer.val().to_u64(), n % 65536);
        assert_eq!(u.frames_fetched.val().to_u64(), good.len() as u64);
        assert_eq!(u.bad_descriptors.val().to_u64(), n - good.len() as u64);
        assert_eq!(u.dma_errors.val().to_u64(), 0);
        assert!(!u.stopped.val());
        assert_eq!(self.tx_events as u64, n, "one tx_event per completion");
        assert_eq!(self.dma_error_pulses, 0);
    }
}

fn random_lens(rng: &mut ChaCha8Rng, n: usize, max: u16) -> Vec<u16> {
    (0..n)
        .map(|_| match rng.gen_range(0..10) {
            0 => rng.gen_range(1..=16),
            1..=5 => rng.gen_range(1..=200),
            _ => rng.gen_range(1..=max),
        })
        .collect()
}

/// A few frames of many lengths and alignments, fast memory, sink always ready.
#[test]
fn tx_directed_lengths_and_alignments() {
    let lens = vec![1, 7, 8, 9, 15, 16, 17, 59, 60, 61, 64, 100, 1514, 255, 3];
    let mut b = Setup::new(1, lens).bench();
    b.run(50_000);
    b.check();
}

/// Bad descriptors (LEN 0, over max_len - 4, over the buffer) get TX_ABORTED completions in
/// order with the good ones and are counted; nothing is read for them.
#[test]
fn tx_bad_descriptors() {
    let mut s = Setup::new(2, vec![60, 0, 1514, 1515, 61, 0, 2000, 100]);
    s.max_len = DEFAULT_MAX_LEN;
    let mut b = s.bench();
    b.run(50_000);
    b.check();
    assert_eq!(b.uut.bad_descriptors.val().to_u64(), 4);
    // A jumbo max_len: only the buffer limits LEN.
    let mut s = Setup::new(3, vec![4000, MAX_TX_LEN as u16, MAX_TX_LEN as u16 + 1, 9000, 70]);
    s.max_len = 9018;
    let mut b = s.bench();
    b.run(100_000);
    b.check();
    assert_eq!(b.uut.bad_descriptors.val().to_u64(), 2);
}

/// Random lengths, ring sizes (completion ring down to one entry), memory stalls and
/// latencies, sink pacing and host batching; every ring wraps at least three times.
#[test]
fn tx_random_rings_and_stalls() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x7D);
    for round in 0..8u64 {
        let log2_d = rng.gen_range(1..=4);
        let log2_c = if round == 3 { 0 } else { rng.gen_range(1..=4) };
        let wraps = 4 * (1usize << log2_d.max(log2_c));
        let n = wraps.max(12);
        let mut s = Setup::new(100 + round, random_lens(&mut rng, n, 1514));
        if round % 3 == 2 {
            // Some bad ones too.
            s.lens[1] = 0;
            s.lens[n / 2] = 1515;
        }
        s.log2_d = log2_d;
        s.log2_c = log2_c;
        s.cfg = AxiMemConfig {
            read_latency: rng.gen_range(1..60),
            write_latency: rng.gen_range(1..30),
            bytes_per_clock: [8.0, 3.0, 12.8][round as usize % 3],
            max_reads: rng.gen_range(1..16),
            max_writes: rng.gen_range(1..8),
            stall_percent: [0, 25, 50][round as usize % 3],
            seed: round,
            ..AxiMemConfig::fast()
        };
        s.ready_percent = Some([100, 60, 20][(round as usize / 2) % 3]);
        s.post_percent = [100, 30, 5][round as usize % 3];
        // Down to a host that gives slots back every ~500 clocks: the device must wait.
        s.give_permille = [1000, 200, 2][(round as usize + 1) % 3];
        let mut b = s.bench();
        b.run(2_000_000);
        b.check();
        assert!(b.host.frames.len() >= 3 << log2_c && b.host.frames.len() >= 3 << log2_d);
    }
}

/// Enable low: nothing is read or sent; raising it resumes.
#[test]
fn tx_enable_gates_new_work() {
    let mut b = Setup::new(4, vec![100, 200, 60]).bench();
    b.enable = false;
    for _ in 0..300 {
        b.step();
    }
    assert_eq!(b.mem.stats.read_bursts, 0);
    assert_eq!(b.sent_frames().len(), 0);
    b.enable = true;
    b.run(50_000);
    b.check();
}

/// A host that does not give completion slots back: the device writes exactly 2^log2 of
/// them, keeps sending until the completion writer's queue is full, then waits; giving slots back
/// resumes it.
#[test]
fn tx_waits_for_completion_slots() {
    let mut s = Setup::new(5, vec![70; 12]);
    s.log2_c = 1;
    s.give_permille = 0;
    let mut b = s.bench();
    for _ in 0..5_000 {
        b.step();
    }
    assert_eq!(b.host.completions.len(), 2);
    assert_eq!(b.cpl_writes, 2);
    let queued = crate::dma::cpl_write::CPL_QUEUE_ENTRIES;
    assert_eq!(b.sent_frames().len(), 2 + queued, "2 written + the completion queue's {queued}");
    b.host.give_permille = 1000;
    b.run(50_000);
    b.check();
}

/// Bus errors stop the queue: on a frame read, on a descriptor read, on a completion write.
#[test]
fn tx_bus_error_stops_the_queue() {
    // (what fails, frames before it that still go out whole and are completed)
    for case in 0..3 {
        let mut s = Setup::new(10 + case, vec![100, 80, 90, 70, 60, 120]);
        s.cfg.read_latency = 20;
        let mut b = s.bench();
        let bad = &b.host.frames[2];
        let range = match case {
            // AxiMem checks the beat address.
            0 => bad.addr & !7..bad.addr + 1,
            1 => TXD_BASE + 16 * 3..TXD_BASE + 16 * 4,
            _ => TXC_BASE + 16..TXC_BASE + 32,
        };
        b.mem.cfg.error_ranges = vec![range];
        for _ in 0..5_000 {
            b.step();
        }
        let u = &b.uut;
        assert!(u.stopped.val(), "case {case}");
        assert_eq!(b.dma_error_pulses, 1, "case {case}");
        assert!(u.dma_errors.val().to_u64() >= 1);
        assert!(b.mem.idle(), "case {case}: outstanding transactions drained");
        assert!(b.mem.violations.is_empty(), "{:?}", b.mem.violations);
        // No completion carries BUS_ERROR; the ones written are exact and in order.
        let want = b.host.expected_completions();
        assert_eq!(b.host.completions[..], want[..b.host.completions.len()], "case {case}");
        let sent = b.sent_frames();
        assert_eq!(sent[..], b.host.good_frames()[..sent.len()], "case {case}");
        match case {
            // Frame 2 never goes out (at most the frames before it, if already started),
            // and no completion is written after the error.
            0 => assert!(sent.len() <= 2 && b.host.completions.len() <= sent.len()),
            // Descriptor 3 failed: frames 0..=2 may go out (they were fetched before), not 3.
            1 => assert!(sent.len() <= 3 && b.host.completions.len() <= 3),
            // The write of completion 1 failed: nothing after it is written.
            _ => assert_eq!(b.host.completions.len(), 1),
        }
        // Nothing moves any more.
        let before = (b.mem.stats, b.sent_frames().len());
        for _ in 0..500 {
            b.step();
        }
        assert_eq!((b.mem.stats, b.sent_frames().len()), before);
        // Reset restarts it (counters cleared). The host zeroes its completion ring and
        // posts everything again from index 0, as a driver does after a reset.
        b.mem.cfg.error_ranges.clear();
        let ring = (TXC_BASE as usize)..(TXC_BASE as usize + (16 << b.host.log2_c));
        b.mem.mem.bytes[ring].fill(0);
        (b.host.posted, b.host.reaped, b.host.given_back) = (0, 0, 0);
        b.host.completions.clear();
        (b.cpl_writes, b.tx_events, b.dma_error_pulses, b.clocks) = (0, 0, 0, 0);
        if let Sink::Bytes { frames, cur, in_frame, .. } = &mut b.sink {
            assert!(!*in_frame && cur.is_empty());
            frames.clear();
        }
        b.reset();
        assert!(!b.uut.stopped.val());
        assert_eq!(b.uut.dma_errors.val().to_u64(), 0);
        b.run(50_000);
        b.check();
    }
}

/// With `mac::tx`: frames on the PHY byte interface are exactly the reference wire bytes.
#[test]
fn tx_with_mac_random_frames_exact_on_the_line() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x3AC);
    let lens = random_lens(&mut rng, 40, 1514);
    let mut s = Setup::new(20, lens);
    s.ready_percent = None;
    s.cfg = AxiMemConfig { stall_percent: 20, seed: 3, ..AxiMemConfig::pcie_gen2_x4(125) };
    s.log2_d = 3;
    s.log2_c = 3;
    let mut b = s.bench();
    b.run(500_000);
    b.check();
}

/// Back-to-back frames of one size through `mac::tx` with PCIe-like memory: once the
/// pipeline is primed every frame starts exactly preamble + frame + 12-byte gap after the
/// previous one. Returns clocks per frame after priming.
fn line_rate(len: u16, frames: usize) -> f64 {
    let mut s = Setup::new(30 + u64::from(len), vec![len; frames]);
    s.ready_percent = None;
    s.cfg = AxiMemConfig::pcie_gen2_x4(125);
    s.log2_d = 6;
    s.log2_c = 6;
    let mut b = s.bench();
    b.run(10_000_000);
    b.check();
    let Sink::Mac { line, .. } = &b.sink else { unreachable!() };
    let starts: Vec<usize> = (1..line.len()).filter(|&i| line[i].en && !line[i - 1].en).collect();
    assert_eq!(starts.len(), frames);
    let wire = 8 + usize::from(len).max(60) + 4 + usize::from(DEFAULT_IFG);
    let primed = 3;
    let per: Vec<usize> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(per[primed..].iter().all(|&p| p == wire), "len {len}: clocks between frame starts {per:?}");
    let cpf = (starts[frames - 1] - starts[primed]) as f64 / (frames - 1 - primed) as f64;
    println!(
        "TX DMA + MAC, {} B frames on the wire, pcie_gen2_x4(125): {cpf:.2} clocks per frame (line rate {wire}), \
         first frame starts at clock {}; {} descriptors in {} reads",
        usize::from(len).max(60) + 4,
        starts[0],
        b.descs_read,
        b.desc_reads
    );
    assert_eq!(b.descs_read, frames as u64);
    cpf
}

#[test]
fn tx_line_rate_64_byte_frames() {
    assert_eq!(line_rate(60, 200), 84.0);
}

#[test]
fn tx_line_rate_1518_byte_frames() {
    assert_eq!(line_rate(1514, 24), 1538.0);
}

#[test]
fn tx_verilog_passes_yosys_and_verilator() {
    crate::verilog::assert_lints_and_checks("nic_tx_dma", &mut TxDma::default());
}

/// The generated Verilog, replayed in Icarus, gives the same outputs as Rust-HDL on every
/// step of a run with stalls, unaligned frames and ring wraps.
#[test]
fn tx_generated_verilog_simulates_like_rust_hdl() {
    if !crate::verilog::tools::tool_for_test("iverilog") {
        return;
    }
    let mut s = Setup::new(40, vec![61, 3, 17, 130, 0, 64, 9]);
    s.log2_d = 1;
    s.log2_c = 1;
    s.ready_percent = Some(70);
    s.cfg.stall_percent = 20;
    s.cfg.read_latency = 9;
    let mut uut = TxDma::default();
    let module = crate::verilog::export::export("nic_tx_dma", &mut uut);
    let mut b = s.bench();
    b.rec = Some(VectorRecorder::new(&module));
    b.reset();
    b.run(50_000);
    b.check();
    let rec = b.rec.take().unwrap();
    crate::verilog::assert_replays(&module, &rec, &[Qualified { output: "out_data", when: "out_valid" }]);
}

/// Resource counts after Yosys synthesis (run by hand: `-- --ignored tx_dma_resources`).
/// Measured: xilinx7 853 FF, 953 LUT, 21 LUT RAM, 2 block RAM; ice40 1137 FF, 1944 LUT, 15 RAM4K.
#[test]
#[ignore]
fn tx_dma_resources() {
    use crate::verilog::synth::{synthesize, Family};
    let module = crate::verilog::export::export("nic_tx_dma", &mut TxDma::default());
    for f in Family::ALL {
        let dir = crate::verilog::workdir(&format!("synth-tx-dma-{}", f.name()));
        let r = synthesize(&module, f, &dir).unwrap();
        println!("{} {}", f.name(), r.to_json());
    }
}

/// `TxDma` feeding `mac::tx` as a NIC top wires them (the other inputs tied to two top
/// inputs): the valid/ready loop between the two blocks must not upset Verilator or Yosys.
#[derive(LogicBlock, Default)]
struct DmaIntoMac {
    clock: Signal<In, Clock>,
    reset: Signal<In, Bit>,
    bus_bit: Signal<In, Bit>,
    bus_word: Signal<In, Bits<64>>,
    phy_ready: Signal<In, Bit>,
    phy_data: Signal<Out, Bits<8>>,
    phy_en: Signal<Out, Bit>,
    phy_er: Signal<Out, Bit>,
    dma: TxDma,
    mac: MacTx,
}

impl Logic for DmaIntoMac {
    #[hdl_gen]
    fn update(&mut self) {
        self.dma.clock.next = self.clock.val();
        self.mac.clock.next = self.clock.val();
        self.dma.reset.next = self.reset.val();
        self.mac.reset.next = self.reset.val();
        self.dma.enable.next = self.bus_bit.val();
        self.dma.max_len.next = self.bus_word.val().get_bits::<16>(0);
        self.dma.txd_base.next = self.bus_word.val();
        self.dma.txd_log2_size.next = self.bus_word.val().get_bits::<4>(0);
        self.dma.txd_producer.next = self.bus_word.val().get_bits::<16>(16);
        self.dma.txc_base.next = self.bus_word.val();
        self.dma.txc_log2_size.next = self.bus_word.val().get_bits::<4>(4);
        self.dma.txc_consumer.next = self.bus_word.val().get_bits::<16>(32);
        self.dma.axi_awready.next = self.bus_bit.val();
        self.dma.axi_wready.next = self.bus_bit.val();
        self.dma.axi_bvalid.next = self.bus_bit.val();
        self.dma.axi_bresp.next = self.bus_word.val().get_bits::<2>(8);
        self.dma.axi_arready.next = self.bus_bit.val();
        self.dma.axi_rvalid.next = self.bus_bit.val();
        self.dma.axi_rdata.next = self.bus_word.val();
        self.dma.axi_rresp.next = self.bus_word.val().get_bits::<2>(10);
        self.dma.axi_rlast.next = self.bus_bit.val();
        self.mac.in_valid.next = self.dma.out_valid.val();
        self.mac.in_data.next = self.dma.out_data.val();
        self.mac.in_last.next = self.dma.out_last.val();
        self.dma.out_ready.next = self.mac.in_ready.val();
        self.mac.ifg_bytes.next = self.bus_word.val().get_bits::<8>(48);
        self.mac.max_len.next = self.bus_word.val().get_bits::<16>(0);
        self.mac.phy_ready.next = self.phy_ready.val();
        self.phy_data.next = self.mac.phy_data.val();
        self.phy_en.next = self.mac.phy_en.val();
        self.phy_er.next = self.mac.phy_er.val();
    }
}

#[test]
fn tx_dma_into_mac_verilog_passes_yosys_and_verilator() {
    crate::verilog::assert_lints_and_checks("nic_tx_dma_into_mac", &mut DmaIntoMac::default());
}
