//! Tests of [`super::RxDma`] against host memory behind [`AxiMem`]: every frame's fate is
//! decided by [`Reference`] at the edge the device decides it, every completion the host
//! reaps is compared with the reference's, the buffer is checked when its completion is
//! reaped, and at the end host memory is compared byte for byte with the reference's.
//!
//! The bench plays the RX frame FIFO (frames presented in order, one byte per clock while
//! `in_ready`) and a host driver (posts descriptors, reaps completions by the phase rule,
//! gives completion slots back in batches, at random moments). It keeps every frame's fate
//! deterministic by construction: a frame planned as delivered (or as too big for the next
//! buffer) is presented only once its descriptor is posted; no descriptor is posted that a
//! frame planned as "no buffer" could see; `enable` is set for the next undecided frame.
use super::reference::{Drop, Outcome, Reference, Rings};
use super::*;
use crate::model::axi_mem::{AxiMasterSignals, AxiMem, AxiMemConfig, HostMemory, VecMemory};
use crate::sim::{cycle_traced, settle};
use crate::verilog::vectors::{Qualified, VectorRecorder};
use nic_regs::net::rx_sum;
use nic_regs::ring::{Completion, Descriptor, ENTRY_BYTES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MEM_BASE: u64 = 0x10_0000;
const MEM_LEN: usize = 1 << 20;
/// Buffers: descriptor `i` uses pool slot `i % POOL`, 8 KiB each, from here.
const BUF_REGION: u64 = MEM_BASE + 0x2_0000;
const POOL: usize = 64;
const BUF_STRIDE: u64 = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Deliver,
    NoBuffer,
    TooBig,
    Disabled,
}

#[derive(Clone, Debug)]
struct Frame {
    bytes: Vec<u8>,
    verdict: u8,
    kind: Kind,
    /// First clock the FIFO may present it.
    arrival: u64,
}

/// How the simulated host behaves.
#[derive(Clone, Debug)]
struct Host {
    /// Chance per clock to post one descriptor (when allowed).
    post: f64,
    /// Chance per clock to look at the completion ring.
    reap: f64,
    /// Give slots back after this many reaped completions (or when nothing more is new).
    give_back: u16,
    /// Never give completion slots back (to test a full completion ring).
    hold_completions: bool,
}

impl Host {
    fn eager() -> Self {
        Host { post: 1.0, reap: 1.0, give_back: 1, hold_completions: false }
    }
}

struct Bench {
    uut: RxDma,
    mem: AxiMem<VecMemory>,
    reference: Reference,
    rings: Rings,
    frames: Vec<Frame>,
    /// Descriptor `i` (the buffer of the i-th delivered frame, plus spares).
    descs: Vec<Descriptor>,
    /// Delivered frames before frame k.
    deliver_before: Vec<usize>,
    host: Host,
    rng: ChaCha8Rng,
    /// Frames passed to the reference (an error test stops the reference early).
    reference_upto: usize,
    // FIFO side.
    head: usize,
    byte: usize,
    presented: bool,
    /// Clock on which each frame's first byte was taken.
    first_byte: Vec<u64>,
    // Host side.
    posted: usize,
    reaped: usize,
    given_back: usize,
    enable_override: Option<bool>,
    expected: Vec<(usize, Completion)>,
    now: u64,
    // What the block said.
    rx_events: u32,
    no_buffers: u32,
    dma_error_pulses: u32,
    rec: Option<VectorRecorder>,
    /// Write bursts whose address was taken (address, bytes), responses seen, bursts whose
    /// last beat was taken: to check that beats follow their address and that a completion
    /// goes only after its frame's data was answered.
    aws: Vec<(u64, u64)>,
    b_seen: usize,
    w_bursts: usize,
    w_beat: usize,
}

fn random_frame(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.gen()).collect()
}

impl Bench {
    /// `descs`: buffer sizes and alignments are chosen per plan by [`plan_descriptors`].
    fn new(rings: Rings, cfg: AxiMemConfig, frames: Vec<Frame>, descs: Vec<Descriptor>, host: Host, seed: u64) -> Self {
        let mut uut = RxDma::default();
        uut.connect_all();
        let mut deliver_before = Vec::new();
        let mut n = 0;
        for f in &frames {
            deliver_before.push(n);
            n += (f.kind == Kind::Deliver) as usize;
        }
        assert!(descs.len() >= n, "a descriptor per delivered frame");
        let mem = VecMemory::new(MEM_BASE, MEM_LEN);
        let reference = Reference::new(mem.clone(), rings);
        let reference_upto = frames.len();
        Bench {
            uut,
            mem: AxiMem::new(mem, cfg),
            reference,
            rings,
            frames,
            descs,
            deliver_before,
            host,
            rng: ChaCha8Rng::seed_from_u64(seed),
            reference_upto,
            head: 0,
            byte: 0,
            presented: false,
            first_byte: Vec::new(),
            posted: 0,
            reaped: 0,
            given_back: 0,
            enable_override: None,
            expected: Vec::new(),
            now: 0,
            rx_events: 0,
            no_buffers: 0,
            dma_error_pulses: 0,
            rec: None,
            aws: Vec::new(),
            b_seen: 0,
            w_bursts: 0,
            w_beat: 0,
        }
    }

    /// The next frame whose fate is not decided yet.
    fn undecided(&self) -> usize {
        if self.byte > 0 {
            self.head + 1
        } else {
            self.head
        }
    }

    /// How many descriptors the host may have posted now without changing any plan.
    fn post_bound(&self) -> usize {
        let mut bound = self.descs.len();
        for k in self.undecided()..self.frames.len() {
            if self.frames[k].kind == Kind::NoBuffer {
                bound = bound.min(self.deliver_before[k]);
                break;
            }
        }
        let d_size = 1usize << self.rings.rxd_log2;
        bound.min(self.reaped + d_size)
    }

    fn enable(&self) -> bool {
        self.enable_override
            .unwrap_or_else(|| self.frames.get(self.undecided()).is_none_or(|f| f.kind != Kind::Disabled))
    }

    fn post_one(&mut self) {
        let i = self.posted;
        let d = self.descs[i];
        let a = self.rings.desc_addr(i as u16);
        self.mem.mem.fill(a, &d.encode());
        self.reference.mem.fill(a, &d.encode());
        self.posted += 1;
    }

    fn ready_to_present(&self, k: usize) -> bool {
        let f = &self.frames[k];
        if f.arrival > self.now {
            return false;
        }
        match f.kind {
            Kind::Deliver | Kind::TooBig => self.posted > self.deliver_before[k],
            Kind::NoBuffer => {
                assert_eq!(self.posted, self.deliver_before[k], "posting bound broken");
                true
            }
            Kind::Disabled => true,
        }
    }

    /// One clock.
    fn step(&mut self) {
        if !self.presented && self.head < self.frames.len() && self.ready_to_present(self.head) {
            self.presented = true;
        }
        let enable = self.enable();
        let o = self.mem.outputs();
        let u = &mut self.uut;
        u.reset.next = false;
        u.enable.next = enable;
        let (valid, data, last, len, verdict) = match self.frames.get(self.head) {
            Some(f) if self.presented => {
                (true, f.bytes[self.byte], self.byte + 1 == f.bytes.len(), f.bytes.len(), f.verdict)
            }
            _ => (false, 0, false, 0, 0),
        };
        u.in_valid.next = valid;
        u.in_data.next = (data as u64).to_bits();
        u.in_last.next = last;
        u.in_len.next = (len as u64).to_bits();
        u.in_verdict.next = (verdict as u64).to_bits();
        u.rxd_base.next = self.rings.rxd_base.to_bits();
        u.rxd_log2_size.next = (self.rings.rxd_log2 as u64).to_bits();
        u.rxd_producer.next = (self.posted as u64 & 0xFFFF).to_bits();
        u.rxc_base.next = self.rings.rxc_base.to_bits();
        u.rxc_log2_size.next = (self.rings.rxc_log2 as u64).to_bits();
        u.rxc_consumer.next = (self.given_back as u64 & 0xFFFF).to_bits();
        u.axi_awready.next = o.awready;
        u.axi_wready.next = o.wready;
        u.axi_bvalid.next = o.bvalid;
        u.axi_bresp.next = (o.bresp as u64).to_bits();
        u.axi_arready.next = o.arready;
        u.axi_rvalid.next = o.rvalid;
        u.axi_rdata.next = o.rdata.to_bits();
        u.axi_rresp.next = (o.rresp as u64).to_bits();
        u.axi_rlast.next = o.rlast;
        settle(u);
        let m = AxiMasterSignals {
            awvalid: u.axi_awvalid.val(),
            awaddr: u.axi_awaddr.val().to_u64(),
            awlen: u.axi_awlen.val().to_u32() as u8,
            awsize: u.axi_awsize.val().to_u32() as u8,
            awburst: u.axi_awburst.val().to_u32() as u8,
            wvalid: u.axi_wvalid.val(),
            wdata: u.axi_wdata.val().to_u64(),
            wstrb: u.axi_wstrb.val().to_u32() as u8,
            wlast: u.axi_wlast.val(),
            bready: u.axi_bready.val(),
            arvalid: u.axi_arvalid.val(),
            araddr: u.axi_araddr.val().to_u64(),
            arlen: u.axi_arlen.val().to_u32() as u8,
            arsize: u.axi_arsize.val().to_u32() as u8,
            arburst: u.axi_arburst.val().to_u32() as u8,
            rready: u.axi_rready.val(),
            ..Default::default()
        };
        let taken = valid && u.in_ready.val();
        self.rx_events += u.rx_event.val() as u32;
        self.no_buffers += u.no_buffer.val() as u32;
        self.dma_error_pulses += u.dma_error.val() as u32;
        self.check_write_order(&m, &o);
        self.mem.clock(&m);
        cycle_traced(&mut self.uut, |u| &mut u.clock, self.rec.as_mut());
        if taken {
            if self.byte == 0 {
                self.decide(enable);
            }
            self.byte += 1;
            if self.byte == len {
                self.head += 1;
                self.byte = 0;
                self.presented = false;
            }
        }
        self.host_actions();
        self.now += 1;
    }

    fn check_write_order(&mut self, m: &AxiMasterSignals, o: &crate::model::axi_mem::AxiSlaveSignals) {
        if m.wvalid {
            assert!(self.aws.len() > self.w_bursts, "clock {}: a W beat before its burst's address", self.now);
            let (addr, _) = self.aws[self.w_bursts];
            let ring = self.rings.cpl_addr(0)..self.rings.cpl_addr(0) + (16 << self.rings.rxc_log2);
            if ring.contains(&addr) && self.w_beat == 0 && m.wstrb != 0 {
                let d = self.descs[(m.wdata >> 32) as u16 as usize];
                let len = (m.wdata & 0xFFFF) as u64;
                let last_data =
                    self.aws[..self.w_bursts].iter().rposition(|&(a, n)| a < d.addr + len && d.addr < a + n);
                let last_data = last_data.expect("a completion before any of its data");
                assert!(
                    self.b_seen > last_data,
                    "clock {}: completion for {:#x} before its data was answered",
                    self.now,
                    d.addr
                );
            }
        }
        if m.wvalid && o.wready {
            self.w_beat += 1;
            if m.wlast {
                self.w_bursts += 1;
                self.w_beat = 0;
            }
        }
        if m.awvalid && o.awready {
            self.aws.push((m.awaddr, (m.awlen as u64 + 1) * 8));
        }
        self.b_seen += (o.bvalid && m.bready) as usize;
    }

    /// Frame `head` was decided by the device on an earlier edge, with this `enable`.
    fn decide(&mut self, enable: bool) {
        let k = self.head;
        self.first_byte.push(self.now);
        if k >= self.reference_upto {
            return;
        }
        let f = &self.frames[k];
        let out = self.reference.frame(&f.bytes, f.verdict, enable, self.posted as u16);
        match (f.kind, out) {
            (Kind::Deliver, Outcome::Written(c)) => self.expected.push((k, c)),
            (Kind::NoBuffer, Outcome::Dropped(Drop::NoBuffer))
            | (Kind::TooBig, Outcome::Dropped(Drop::TooBig))
            | (Kind::Disabled, Outcome::Dropped(Drop::Disabled)) => {}
            (kind, out) => panic!("frame {k}: planned {kind:?}, reference says {out:?}"),
        }
    }

    fn host_actions(&mut self) {
        // Reap.
        if self.rng.gen_bool(self.host.reap) {
            loop {
                let idx = self.reaped as u16;
                let mut b = [0u8; ENTRY_BYTES];
                self.mem.mem.read(self.rings.cpl_addr(idx), &mut b).unwrap();
                let c = Completion::decode(&b).expect("completion with reserved bits clear");
                if !c.is_new(idx, self.rings.rxc_log2) {
                    break;
                }
                let Some(&(k, want)) = self.expected.get(self.reaped) else {
                    panic!("completion {} that the reference did not write: {c:?}", self.reaped)
                };
                assert_eq!(c, want, "completion {} (frame {k})", self.reaped);
                let d = self.descs[self.reaped];
                assert_eq!(
                    self.mem.mem.slice(d.addr, c.len as usize),
                    &self.frames[k].bytes[..],
                    "frame {k} in its buffer when its completion is seen"
                );
                self.reaped += 1;
            }
        }
        if !self.host.hold_completions
            && self.reaped != self.given_back
            && (self.reaped - self.given_back >= self.host.give_back as usize || self.rng.gen_bool(0.05))
        {
            self.given_back = self.reaped;
        }
        // Post.
        while self.posted < self.post_bound() && self.rng.gen_bool(self.host.post) {
            self.post_one();
            if self.host.post < 1.0 {
                break;
            }
        }
    }

    /// Run until every frame is decided and every expected completion reaped (and `extra`
    /// clocks more), or panic after `limit` clocks.
    fn run(&mut self, limit: u64, extra: u64) {
        let start = self.now;
        while self.head < self.frames.len() || self.reaped < self.expected.len() || !self.mem.idle() {
            assert!(
                self.now - start < limit,
                "stuck at frame {} byte {} (reaped {}/{}, posted {}, bound {}, kind {:?}, presented {}, {} frames, {} descriptors)",
                self.head,
                self.byte,
                self.reaped,
                self.expected.len(),
                self.posted,
                self.post_bound(),
                self.frames.get(self.head).map(|f| f.kind),
                self.presented,
                self.frames.len(),
                self.descs.len()
            );
            self.step();
        }
        // The pulses are registered: one more clock shows the last one.
        for _ in 0..extra.max(2) {
            self.step();
        }
    }

    /// Everything the device reports equals the reference, and host memory is identical.
    fn check_all(&self) {
        let u = &self.uut;
        let r = &self.reference;
        assert!(self.mem.violations.is_empty(), "{:?}", self.mem.violations);
        assert_eq!(self.reaped, self.expected.len());
        assert_eq!(u.frames_written.val().to_u32(), r.frames_written);
        assert_eq!(u.no_buffer_drops.val().to_u32(), r.no_buffer_drops);
        assert_eq!(u.dma_errors.val().to_u32(), 0);
        assert_eq!(self.rx_events, r.frames_written);
        assert_eq!(self.no_buffers, r.no_buffer_drops);
        assert_eq!(self.dma_error_pulses, 0);
        assert!(!u.stopped.val());
        assert_eq!(u.rxc_producer.val().to_u32(), r.next as u32);
        let fetched = u.rxd_consumer.val().to_u32() as u16;
        assert!(
            (fetched.wrapping_sub(r.next)) <= (self.posted as u16).wrapping_sub(r.next),
            "rxd_consumer {fetched} between used {} and posted {}",
            r.next,
            self.posted
        );
        assert!(
            self.reference.mem.bytes == self.mem.mem.bytes,
            "host memory differs from the reference at {:#x}",
            MEM_BASE
                + self.mem.mem.bytes.iter().zip(&self.reference.mem.bytes).position(|(a, b)| a != b).unwrap() as u64
        );
    }
}

/// Descriptors for `frames`: one per delivered frame (plus one spare), each at a random
/// alignment in its pool slot, long enough for its frame and shorter than every "too big"
/// frame that will see it at the head. Lengths of too-big frames are fixed up here.
fn plan_descriptors(rng: &mut ChaCha8Rng, frames: &mut [Frame], max_len: usize) -> Vec<Descriptor> {
    let mut descs = Vec::new();
    let mut k = 0;
    while descs.len() <= frames.len() {
        // The frames up to and including the next delivered one share descriptor `descs.len()`.
        let start = k;
        while k < frames.len() && frames[k].kind != Kind::Deliver {
            k += 1;
        }
        let too_big = frames[start..k.min(frames.len())].iter().any(|f| f.kind == Kind::TooBig);
        if too_big && k < frames.len() && frames[k].bytes.len() >= max_len {
            frames[k].bytes.truncate(max_len - 1);
        }
        let need = if k < frames.len() { frames[k].bytes.len() } else { 1 };
        let len = if too_big { rng.gen_range(need..max_len) } else { rng.gen_range(need..=max_len.max(need)) };
        let end = k.min(frames.len());
        for f in frames[start..end].iter_mut().filter(|f| f.kind == Kind::TooBig) {
            let n = rng.gen_range(len + 1..=max_len);
            f.bytes.resize(n, 0xA5);
        }
        let i = descs.len();
        let addr = BUF_REGION + (i % POOL) as u64 * BUF_STRIDE + rng.gen_range(0..4096);
        descs.push(Descriptor { addr, len: len as u16, flags: 0 });
        if k >= frames.len() {
            break;
        }
        k += 1;
    }
    descs
}

fn simple_frames(lens: &[usize], seed: u64) -> Vec<Frame> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    lens.iter()
        .map(|&n| Frame {
            bytes: random_frame(&mut rng, n),
            verdict: rng.gen_range(0..4),
            kind: Kind::Deliver,
            arrival: 0,
        })
        .collect()
}

fn rings(rxd_log2: u32, rxc_log2: u32) -> Rings {
    Rings { rxd_base: MEM_BASE, rxd_log2, rxc_base: MEM_BASE + 0x1_0000, rxc_log2 }
}

fn descs_at(frames: &[Frame], addrs: impl Fn(usize) -> u64, slack: usize) -> Vec<Descriptor> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| Descriptor { addr: addrs(i), len: (f.bytes.len() + slack) as u16, flags: 0 })
        .collect()
}

/// The checksum on the fly equals `nic_regs::net::rx_sum` (directed short/odd lengths), and
/// every alignment of the buffer (0..7 and more) writes exactly the frame's bytes.
#[test]
fn rx_dma_delivers_frames_byte_exact_at_any_alignment() {
    let lens = [1, 2, 7, 8, 9, 13, 14, 15, 16, 17, 60, 61, 64, 100, 1514, 1500, 255, 256, 257, 33];
    let frames = simple_frames(&lens, 1);
    // Fill the memory with a pattern so a stray byte written outside a buffer shows.
    let descs = descs_at(
        &frames,
        |i| BUF_REGION + i as u64 * BUF_STRIDE + (i as u64 * 3) % 8 + if i > 10 { 4093 } else { 0 },
        0,
    );
    let mut b = Bench::new(rings(4, 4), AxiMemConfig::fast(), frames.clone(), descs, Host::eager(), 1);
    for i in 0..MEM_LEN {
        b.mem.mem.bytes[i] = (i * 7 + 3) as u8;
    }
    b.reference.mem.bytes.clone_from(&b.mem.mem.bytes);
    // Zero the completion ring so the phase rule starts clean.
    let z = vec![0u8; 16 * 16];
    b.mem.mem.fill(b.rings.rxc_base, &z);
    b.reference.mem.fill(b.rings.rxc_base, &z);
    b.run(100_000, 50);
    b.check_all();
    for (k, c) in &b.expected {
        assert_eq!(c.csum, rx_sum(&frames[*k].bytes));
    }
    assert_eq!(b.reaped, lens.len());
}

/// A 9000-byte frame into a buffer starting 5 bytes before a 4 KiB boundary, and frames around
/// 2 KiB: data bursts split at each 128-byte boundary (so none crosses 4 KiB).
#[test]
fn rx_dma_jumbo_frame_bursts_split_at_128_bytes() {
    let frames = simple_frames(&[9000, 3000, 2048, 2049], 2);
    let descs = descs_at(&frames, |i| BUF_REGION + 0x1_0000 * i as u64 + 4091, 0);
    let mut b = Bench::new(rings(2, 2), AxiMemConfig::fast(), frames, descs, Host::eager(), 2);
    b.run(100_000, 50);
    b.check_all();
    // One burst per 128-byte span a buffer touches, plus one per completion.
    let spans: u64 =
        b.descs.iter().zip(&b.frames).map(|(d, f)| (d.addr + f.bytes.len() as u64 - 1) / 128 - d.addr / 128 + 1).sum();
    assert_eq!(b.mem.stats.write_bursts, spans + 4, "{:?}", b.mem.stats);
    // 9000 bytes from offset 4091: the first burst is the beat 4088..4095 alone.
    assert_eq!((4091 + 9000 - 1) / 128 - 4091 / 128 + 1, 72);
}

/// No posted buffer: frames are drained and counted, `no_buffer` pulses per frame; after
/// posting, frames are delivered again (the recovery).
#[test]
fn rx_dma_no_buffer_drops_then_recovers() {
    let mut frames = simple_frames(&[60, 100, 60, 70, 80, 1514, 64, 64], 3);
    for k in [0, 1, 4, 5] {
        frames[k].kind = Kind::NoBuffer;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let descs = plan_descriptors(&mut rng, &mut frames, 1514);
    let mut b = Bench::new(rings(3, 3), AxiMemConfig::pcie_gen2_x4(125), frames, descs, Host::eager(), 3);
    b.run(200_000, 100);
    b.check_all();
    assert_eq!(b.reference.no_buffer_drops, 4);
    assert_eq!(b.reference.frames_written, 4);
}

/// A buffer shorter than the frame: the frame is dropped and counted, the descriptor stays
/// and takes the next frame that fits.
#[test]
fn rx_dma_too_small_buffer_drops_and_keeps_the_descriptor() {
    let mut frames = simple_frames(&[60, 100, 60, 70, 80, 1514, 64, 64], 4);
    for k in [1, 2, 5] {
        frames[k].kind = Kind::TooBig;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let descs = plan_descriptors(&mut rng, &mut frames, 1514);
    let mut b = Bench::new(rings(3, 3), AxiMemConfig::pcie_gen2_x4(125), frames, descs, Host::eager(), 4);
    b.run(200_000, 100);
    b.check_all();
    assert_eq!(b.reference.outcomes.iter().filter(|o| **o == Outcome::Dropped(Drop::TooBig)).count(), 3);
    assert_eq!(b.reference.frames_written, 5);
}

/// `enable` low: frames are drained and counted in `no_buffer_drops`, including a frame
/// offered while the previous, accepted one is still streaming (that one completes).
#[test]
fn rx_dma_disabled_drains_and_counts() {
    let mut frames = simple_frames(&[1514, 60, 60, 200, 60, 60], 5);
    for k in [1, 2, 4] {
        frames[k].kind = Kind::Disabled;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let descs = plan_descriptors(&mut rng, &mut frames, 1514);
    let mut b = Bench::new(rings(3, 3), AxiMemConfig::fast(), frames, descs, Host::eager(), 5);
    b.run(100_000, 50);
    b.check_all();
    assert_eq!((b.reference.frames_written, b.reference.no_buffer_drops), (3, 3));
}

/// A full completion ring: the device waits (takes no byte of the next frame) until the
/// host gives slots back, then continues; nothing is lost or dropped.
#[test]
fn rx_dma_waits_for_completion_ring_room() {
    let frames = simple_frames(&[60; 10], 6);
    let descs = descs_at(&frames, |i| BUF_REGION + i as u64 * BUF_STRIDE, 10);
    let host = Host { hold_completions: true, ..Host::eager() };
    let mut b = Bench::new(rings(4, 2), AxiMemConfig::fast(), frames, descs, host, 6);
    for _ in 0..3000 {
        b.step();
    }
    assert_eq!(b.reaped, 4, "4 completions fit the ring");
    assert_eq!(b.head, 4, "the 5th frame waits in the FIFO");
    assert_eq!(b.byte, 0);
    assert!(b.presented);
    assert_eq!(b.uut.no_buffer_drops.val().to_u32(), 0);
    b.host.hold_completions = false;
    b.run(100_000, 50);
    b.check_all();
    assert_eq!(b.reference.frames_written, 10);
}

/// Random frames; a "no buffer" frame never follows a "too big" one without a delivered
/// frame between them (the first needs the descriptor the second must not see posted).
fn random_plan(rng: &mut ChaCha8Rng, n: usize, p_drop: f64) -> Vec<Frame> {
    let mut too_big_pending = false;
    (0..n)
        .map(|_| {
            let len = match rng.gen_range(0..10) {
                0 => rng.gen_range(1..60),
                1..=3 => 60,
                4 => 1514,
                _ => rng.gen_range(60..=1514),
            };
            let mut kind = if rng.gen_bool(p_drop) {
                [Kind::NoBuffer, Kind::TooBig, Kind::Disabled][rng.gen_range(0..3)]
            } else {
                Kind::Deliver
            };
            if kind == Kind::NoBuffer && too_big_pending {
                kind = Kind::Deliver;
            }
            match kind {
                Kind::TooBig => too_big_pending = true,
                Kind::Deliver => too_big_pending = false,
                _ => {}
            }
            Frame { bytes: random_frame(rng, len), verdict: rng.gen_range(0..4), kind, arrival: 0 }
        })
        .collect()
}

/// Seeded random sessions: random ring sizes (at least 3 wraps of each ring), bus stalls,
/// lengths, buffer alignments, drops of every kind, lazy hosts. Every completion, every
/// buffer, every counter and the whole memory equal the reference's.
#[test]
fn rx_dma_random_matches_reference() {
    for seed in 0..8u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let rxd_log2 = rng.gen_range(0..=5);
        let rxc_log2 = rng.gen_range(0..=5);
        let wraps = 3 * (1usize << rxd_log2.max(rxc_log2));
        let n = (wraps * 3 / 2 + 10).max(40);
        let mut frames = random_plan(&mut rng, n, 0.15);
        let descs = plan_descriptors(&mut rng, &mut frames, 1514);
        let mut cfg = if seed % 2 == 0 { AxiMemConfig::pcie_gen2_x4(125) } else { AxiMemConfig::fast() };
        cfg.stall_percent = [0, 10, 30, 50][seed as usize % 4];
        cfg.seed = seed;
        let host = Host {
            post: rng.gen_range(0.02..1.0),
            reap: rng.gen_range(0.01..1.0),
            give_back: rng.gen_range(1..=(1u16 << rxc_log2)),
            hold_completions: false,
        };
        let rings = Rings {
            rxd_base: MEM_BASE + 16 * rng.gen_range(0..200),
            rxd_log2,
            rxc_base: MEM_BASE + 0x1_0000 + 16 * rng.gen_range(0..200),
            rxc_log2,
        };
        let mut b = Bench::new(rings, cfg, frames, descs, host.clone(), seed);
        let t = std::time::Instant::now();
        b.run(5_000_000, 200);
        println!("  {:.0} clocks/s", b.now as f64 / t.elapsed().as_secs_f64());
        b.check_all();
        let w = b.reference.frames_written as usize;
        println!(
            "seed {seed}: rxd 2^{rxd_log2} rxc 2^{rxc_log2}, {w} written, {} dropped, {} clocks, host {host:?}",
            b.reference.no_buffer_drops, b.now
        );
        assert!(w >= wraps, "seed {seed}: {w} frames for 3 wraps of {wraps}");
    }
}

/// Clocks per frame with the FIFO always full (frames back to back), pcie_gen2_x4(125), a
/// 256-entry ring kept full by the host: the goal is ≤ 84 clocks for 60-byte frames (1 Gb/s
/// line rate for 64-byte frames) and ≤ 1538 for 1514-byte frames.
#[test]
fn rx_dma_throughput_pcie_gen2_x4() {
    for (len, bound) in [(60usize, 84.0), (1514, 1538.0)] {
        let n = if len == 60 { 600 } else { 100 };
        let frames = simple_frames(&vec![len; n], 7);
        let descs = descs_at(&frames, |i| BUF_REGION + (i % POOL) as u64 * BUF_STRIDE, 2048 - len);
        let mut b = Bench::new(rings(8, 8), AxiMemConfig::pcie_gen2_x4(125), frames, descs, Host::eager(), 7);
        b.run(2_000_000, 0);
        b.check_all();
        let skip = 20;
        let per = (b.first_byte[n - 1] - b.first_byte[skip]) as f64 / (n - 1 - skip) as f64;
        println!("RX DMA, {len}-byte frames back to back, pcie_gen2_x4(125): {per:.2} clocks/frame (overhead {:.2}); last completion reaped at clock {}", per - len as f64, b.now);
        assert!(per <= bound, "{len}-byte frames: {per} clocks/frame > {bound}");
    }
}

/// The same with slower write responses (1 µs, like the reads): a completion waits for its
/// frame's write responses while the next frame's beats queue, so this shows how much write
/// latency the queue hides.
#[test]
fn rx_dma_throughput_with_slow_write_responses() {
    for write_latency in [31u32, 63, 125, 250] {
        let len = 60;
        let n = 300;
        let frames = simple_frames(&vec![len; n], 7);
        let descs = descs_at(&frames, |i| BUF_REGION + (i % POOL) as u64 * BUF_STRIDE, 0);
        let cfg = AxiMemConfig { write_latency, ..AxiMemConfig::pcie_gen2_x4(125) };
        let mut b = Bench::new(rings(8, 8), cfg, frames, descs, Host::eager(), 7);
        b.run(2_000_000, 0);
        b.check_all();
        let skip = 20;
        let per = (b.first_byte[n - 1] - b.first_byte[skip]) as f64 / (n - 1 - skip) as f64;
        println!("RX DMA, {len}-byte frames back to back, write responses after {write_latency} clocks: {per:.2} clocks/frame");
        if write_latency <= 125 {
            assert!(per <= 84.0, "{per}");
        }
    }
}

/// 60-byte frames arriving every 84 clocks (1 Gb/s, 64-byte frames) with 1 µs host latency:
/// every frame delivered, and the RX FIFO never holds more than a few frames.
#[test]
fn rx_dma_keeps_up_with_1g_line_rate() {
    let n = 800;
    let mut frames = simple_frames(&vec![60; n], 8);
    for (k, f) in frames.iter_mut().enumerate() {
        f.arrival = 84 * k as u64 + 60;
    }
    let descs = descs_at(&frames, |i| BUF_REGION + (i % POOL) as u64 * BUF_STRIDE, 1400);
    let mut b = Bench::new(rings(8, 8), AxiMemConfig::pcie_gen2_x4(125), frames, descs, Host::eager(), 8);
    b.run(2_000_000, 0);
    b.check_all();
    // A frame is in the FIFO from its arrival (its last byte committed) until its first byte
    // is taken plus its length.
    let lag = (0..n).map(|k| b.first_byte[k] - (84 * k as u64 + 60)).max().unwrap();
    println!("RX DMA at 1 Gb/s line rate, 60-byte frames: {n} delivered, longest wait in the FIFO {lag} clocks");
    assert_eq!(b.reference.frames_written as usize, n);
    assert!(lag < 84, "the DMA fell behind: {lag}");
}

/// Error test harness: `n` 200-byte frames planned as delivered, arriving from clock `delay`;
/// `ranges` answer SLVERR; only the first `reference_upto` frames are expected delivered.
/// Returns the bench after 20,000 clocks.
fn error_bench(
    n: usize,
    ranges: impl Fn(&Rings, &[Descriptor]) -> Vec<std::ops::Range<u64>>,
    reference_upto: usize,
    delay: u64,
) -> Bench {
    let mut frames = simple_frames(&vec![200; n], 9);
    for f in frames.iter_mut() {
        f.arrival = delay;
    }
    let descs = descs_at(&frames, |i| BUF_REGION + i as u64 * BUF_STRIDE + 3, 0);
    let r = rings(4, 4);
    let mut cfg = AxiMemConfig::pcie_gen2_x4(125);
    cfg.error_ranges = ranges(&r, &descs);
    let mut b = Bench::new(r, cfg, frames, descs, Host::eager(), 9);
    b.reference_upto = reference_upto;
    for _ in 0..20_000 {
        b.step();
    }
    b
}

/// Checks common to every bus-error test: stopped, one pulse, one count, the reference's
/// completions exactly (and no other), memory equal outside the buffers of frames from
/// `first_lost` on, no frame taken after the stop, no AXI rule broken.
fn check_stopped(b: &Bench, first_lost: usize) {
    let u = &b.uut;
    assert!(b.mem.violations.is_empty(), "{:?}", b.mem.violations);
    assert!(b.mem.idle(), "outstanding transactions drained");
    assert!(u.stopped.val());
    assert_eq!(b.dma_error_pulses, 1);
    assert_eq!(u.dma_errors.val().to_u32(), 1);
    assert_eq!(b.reaped, first_lost, "completions reaped");
    assert_eq!(b.expected.len(), first_lost);
    assert_eq!(u.rxc_producer.val().to_u32() as usize, first_lost);
    assert_eq!(u.frames_written.val().to_u32() as usize, first_lost);
    assert_eq!(b.rx_events as usize, first_lost);
    assert!(b.head < b.frames.len() && b.presented && b.byte == 0, "a frame waits in the FIFO, untaken");
    let mut want = b.reference.mem.bytes.clone();
    for d in &b.descs[first_lost..] {
        let off = (d.addr - MEM_BASE) as usize;
        want[off..off + d.len as usize].copy_from_slice(&b.mem.mem.bytes[off..off + d.len as usize]);
    }
    assert!(want == b.mem.mem.bytes, "memory outside the lost frames' buffers");
    // Whatever landed of a lost frame came before the stop; no later frame's buffer was touched.
    for d in &b.descs[first_lost + 2..] {
        assert!(
            b.mem.mem.slice(d.addr, d.len as usize).iter().all(|&x| x == 0),
            "buffer at {:#x} written after the stop",
            d.addr
        );
    }
}

/// SLVERR on a data write of frame 3: frames 0..2 are delivered, frame 3's completion is
/// never written (nor any later one), the queue stops and stays stopped.
#[test]
fn rx_dma_data_write_error_stops_the_queue() {
    let b = error_bench(8, |_, d| vec![d[3].addr + 64..d[3].addr + 72], 3, 0);
    check_stopped(&b, 3);
}

/// DECERR: frame 2's buffer is outside host memory.
#[test]
fn rx_dma_data_write_decerr_stops_the_queue() {
    let frames = simple_frames(&[200; 6], 10);
    let mut descs = descs_at(&frames, |i| BUF_REGION + i as u64 * BUF_STRIDE, 0);
    descs[2].addr = MEM_BASE + MEM_LEN as u64 + 0x1000;
    let mut b = Bench::new(rings(4, 4), AxiMemConfig::fast(), frames, descs.clone(), Host::eager(), 10);
    b.reference_upto = 2;
    for _ in 0..20_000 {
        b.step();
    }
    let u = &b.uut;
    assert!(b.mem.violations.is_empty(), "{:?}", b.mem.violations);
    assert!(u.stopped.val() && b.dma_error_pulses == 1 && u.dma_errors.val().to_u32() == 1);
    assert_eq!((b.reaped, u.rxc_producer.val().to_u32()), (2, 2));
}

/// SLVERR on completion slot 2: completions 0 and 1 are written, the queue stops.
#[test]
fn rx_dma_completion_write_error_stops_the_queue() {
    let b = error_bench(8, |r, _| vec![r.cpl_addr(2)..r.cpl_addr(2) + 16], 2, 0);
    check_stopped(&b, 2);
}

/// SLVERR on descriptor 8 (the second prefetch read), before any frame arrives: the first
/// batch is fetched, nothing is written, frames stay in the FIFO.
#[test]
fn rx_dma_descriptor_read_error_stops_the_queue() {
    let b = error_bench(12, |r, _| vec![r.desc_addr(8)..r.desc_addr(8) + 16], 0, 2000);
    check_stopped(&b, 0);
    assert_eq!(b.uut.rxd_consumer.val().to_u32(), 8, "the first batch was fetched");
    assert_eq!(b.mem.stats.write_bursts, 0);
}

/// After a stop, `reset` restarts the queue from index 0 (the host re-initialises its rings).
#[test]
fn rx_dma_reset_restarts_after_a_stop() {
    let mut b = error_bench(6, |r, _| vec![r.cpl_addr(1)..r.cpl_addr(1) + 16], 1, 0);
    check_stopped(&b, 1);
    b.uut.reset.next = true;
    crate::sim::cycle(&mut b.uut, |u| &mut u.clock);
    b.mem.cfg.error_ranges.clear();
    let u = &b.uut;
    assert!(!u.stopped.val());
    assert_eq!((u.rxc_producer.val().to_u32(), u.rxd_consumer.val().to_u32(), u.dma_errors.val().to_u32()), (0, 0, 0));
    // A fresh session on the same memory model.
    let frames = simple_frames(&[60, 61, 62], 11);
    let descs = descs_at(&frames, |i| BUF_REGION + 0x8_0000 + i as u64 * BUF_STRIDE, 0);
    let mut fresh = Bench::new(rings(4, 5), AxiMemConfig::fast(), frames, descs, Host::eager(), 11);
    std::mem::swap(&mut fresh.uut, &mut b.uut);
    fresh.run(100_000, 20);
    assert!(fresh.mem.violations.is_empty());
    assert_eq!(fresh.reaped, 3);
    assert_eq!(fresh.uut.frames_written.val().to_u32(), 3);
}

/// Verilator lint and Yosys check; a random session replayed in Icarus, every output equal
/// at every step.
#[test]
fn rx_dma_verilog_lints_and_replays() {
    let Some(module) = crate::verilog::assert_lints_and_checks("nic_rx_dma", &mut RxDma::default()) else {
        return;
    };
    if !crate::verilog::tools::tool_for_test("iverilog") {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut frames = random_plan(&mut rng, 14, 0.3);
    for f in frames.iter_mut() {
        f.bytes.truncate(200);
    }
    let descs = plan_descriptors(&mut rng, &mut frames, 300);
    let mut cfg = AxiMemConfig { read_latency: 20, write_latency: 6, ..AxiMemConfig::fast() };
    cfg.stall_percent = 20;
    let host = Host { post: 0.3, reap: 0.3, give_back: 2, hold_completions: false };
    let mut b = Bench::new(rings(2, 1), cfg, frames, descs, host, 12);
    b.rec = Some(VectorRecorder::new(&module));
    b.run(200_000, 20);
    b.check_all();
    let rec = b.rec.take().unwrap();
    let q = |output| Qualified { output, when: "axi_wvalid" };
    crate::verilog::assert_replays(&module, &rec, &[q("axi_wdata"), q("axi_wstrb"), q("axi_wlast")]);
}

/// Resource counts after Yosys synthesis (run by hand: `-- --ignored rx_dma_resources`).
/// Measured: xilinx7 989 FF, 1056 LUT, 48 LUTRAM; ice40 1280 FF, 1829 LUT, 19 BRAM.
#[test]
#[ignore]
fn rx_dma_resources() {
    use crate::verilog::synth::{synthesize, Family};
    let module = crate::verilog::export::export("nic_rx_dma", &mut RxDma::default());
    for f in Family::ALL {
        let dir = crate::verilog::workdir(&format!("synth-rx-dma-{}", f.name()));
        let r = synthesize(&module, f, &dir).unwrap();
        println!("{} {}", f.name(), r.to_json());
    }
}
