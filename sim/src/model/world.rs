//! Cards on a wire: what host software (the driver, the stack, applications) runs against.
//!
//! [`Cards`] steps every card's clocks in simulated-time order, one edge at a time. Two
//! ways drive it:
//! * the simulated runtime ([`crate::runtime::SimRuntime`], `demo`, `host --device sim`,
//!   the system tests): the cards advance only while every host thread waits, and host
//!   time is the cards' time, so a run is reproducible from its seed;
//! * [`World`], a thread that steps them freely, as hardware runs (`nic tap`, where Linux
//!   on the far side lives in real time, and the driver's raw tests).
//!
//! Host threads talk to their card through a [`CardHandle`]: register accesses go to the
//! card's AXI4-Lite master (a read blocks until the modeled bus answers; a write is posted,
//! as on PCIe), DMA memory is the card's [`SharedMemory`], and each MSI wakes the driver's
//! interrupt wait. Nothing the host does is special-cased: it sees the card exactly as a
//! driver sees a board through VFIO.
//!
//! # The wire
//! Two cards are joined back to back, as by a cable between their PHYs: on GMII, card A's
//! `txd`/`tx_en`/`tx_er` (driven on A's core clock, the GTX clock) are card B's receive
//! pins on B's `rx_clk`, which *is* A's core clock; and the other way round. On MII the
//! PHYs' 25 MHz clocks play that part. The integrated PHY's line samples go straight across
//! (both cards at the same nominal rate; the clock-offset tests of that PHY are in
//! `nic-hdl`). A bit error rate flips received data bits, seeded.
use super::axil::RegOp;
use super::engines::{self, EngineChoice};
use super::memory::SharedMemory;
use super::nic::NicModel;
use super::Phy;
use crate::line::frames::{strip_good_fcs, PinDecoder, TxFrame};
use crate::line::tap::{TapLine, TapStats};
use crate::runtime::SimRuntime;
use nic_hdl::model::axi_mem::AxiMemConfig;
use nic_hdl::model::pins::PinSample;
use nic_hdl::sim::ppm_period_ps;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

/// A register access from the host.
enum Request {
    Read { offset: u32, reply: Sender<u32> },
    Write { offset: u32, value: u32 },
}

#[derive(Clone, Debug)]
pub struct WorldConfig {
    pub phy: Phy,
    pub engine: EngineChoice,
    /// Card B's clock offset from card A's, ppm (GMII/MII).
    pub ppm: f64,
    /// Probability that a received data bit is flipped.
    pub ber: f64,
    pub seed: u64,
    /// Host memory per card, bytes.
    pub memory: usize,
    /// Host memory timing; `None`: like PCIe Gen2 x4.
    pub bus: Option<AxiMemConfig>,
    /// Keep every frame seen on the wire (for a pcap), up to this many.
    pub capture: usize,
    /// Record card A's ports into this VCD file, at most this many clock edges.
    pub vcd: Option<(String, u64)>,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            phy: Phy::Gmii,
            engine: EngineChoice::Auto,
            ppm: 0.0,
            ber: 0.0,
            seed: 1,
            memory: 16 << 20,
            bus: None,
            capture: 0,
            vcd: None,
        }
    }
}

/// Register access to one card (cheap to clone: a monitor can read counters while the
/// driver runs).
#[derive(Clone)]
pub struct Registers {
    path: RegPath,
    cycles: Arc<AtomicU64>,
    phy: Phy,
}

/// How register accesses reach the card.
#[derive(Clone)]
enum RegPath {
    /// Over a channel to the free-running [`World`] thread.
    Thread(Sender<Request>),
    /// Straight into card `.1` on the simulated runtime, which steps the cards until a read
    /// is answered.
    Runtime(SimRuntime, usize),
}

impl Registers {
    /// Read a register; blocks until the card's register slave answers. A card that is off
    /// (its world stopped) reads as all ones, as a dead PCIe device does.
    pub fn read32(&self, offset: u32) -> u32 {
        match &self.path {
            RegPath::Thread(requests) => {
                let (tx, rx) = channel();
                if requests.send(Request::Read { offset, reply: tx }).is_err() {
                    return u32::MAX;
                }
                rx.recv().unwrap_or(u32::MAX)
            }
            RegPath::Runtime(rt, card) => rt.read32(*card, offset),
        }
    }

    /// Write a register (posted: returns at once; accesses stay in order).
    pub fn write32(&self, offset: u32, value: u32) {
        match &self.path {
            RegPath::Thread(requests) => {
                let _ = requests.send(Request::Write { offset, value });
            }
            RegPath::Runtime(rt, card) => rt.write32(*card, offset, value),
        }
    }

    /// The simulated runtime this card is on, if it is on one.
    pub fn sim_runtime(&self) -> Option<(&SimRuntime, usize)> {
        match &self.path {
            RegPath::Runtime(rt, card) => Some((rt, *card)),
            RegPath::Thread(_) => None,
        }
    }

    /// Every device counter, by name (`nic_regs` order). Reads LO then HI per counter, the
    /// race-free pair; do not interleave with another reader of counters.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        nic_regs::COUNTERS
            .iter()
            .map(|c| {
                let name = c.lo.name.strip_suffix("_LO").unwrap_or(c.lo.name);
                (name, nic_regs::read_counter(c.counter, |o| self.read32(o)))
            })
            .collect()
    }

    /// Simulated time, ns.
    pub fn now_ns(&self) -> u64 {
        match &self.path {
            RegPath::Runtime(rt, _) => rt.now_ns(),
            RegPath::Thread(_) => {
                (self.cycles.load(Ordering::Relaxed) as f64 * self.phy.core_period_ps() / 1000.0) as u64
            }
        }
    }
}

/// The host's side of one card.
pub struct CardHandle {
    pub regs: Registers,
    pub memory: SharedMemory,
    eventfds: [EventFd; nic_hdl::irq::VECTORS],
}

impl CardHandle {
    pub fn read32(&self, offset: u32) -> u32 {
        self.regs.read32(offset)
    }

    pub fn write32(&self, offset: u32, value: u32) {
        self.regs.write32(offset, value)
    }

    pub fn eventfd(&self, vector: usize) -> &EventFd {
        &self.eventfds[vector]
    }

    pub fn now_ns(&self) -> u64 {
        self.regs.now_ns()
    }
}

/// A frame seen on the wire.
#[derive(Clone, Debug)]
pub struct WireFrame {
    pub time_ns: u64,
    /// The card that sent it (0 = A), or 1 for Linux on a TAP.
    pub from: usize,
    pub frame: TxFrame,
}

/// What the world reports when it stops.
#[derive(Clone, Debug, Default)]
pub struct WorldReport {
    pub cycles: [u64; 2],
    pub msi_sent: [[u64; 3]; 2],
    pub bus_violations: Vec<String>,
    pub register_errors: u64,
    /// Frames on the wire, both ways, in time order (when `WorldConfig::capture` > 0).
    pub wire: Vec<WireFrame>,
    /// The TAP side's counters, when the far end is a TAP.
    pub tap: Option<TapStats>,
}

/// Cards on a wire stepped freely by a thread of their own, until dropped or
/// [`World::stop`].
pub struct World {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<WorldReport>>,
}

/// One card of [`Cards`].
pub(crate) struct Card {
    pub(crate) nic: NicModel,
    cycles: Arc<AtomicU64>,
}

/// A card's host-side channel on the free-running [`World`].
struct Port {
    requests: Receiver<Request>,
    /// Replies owed, in the order the reads were submitted.
    replies: std::collections::VecDeque<Sender<u32>>,
}

impl Port {
    fn service(&mut self, nic: &mut NicModel) {
        while let Ok(r) = self.requests.try_recv() {
            match r {
                Request::Read { offset, reply } => {
                    nic.submit(RegOp::Read { offset });
                    self.replies.push_back(reply);
                }
                Request::Write { offset, value } => {
                    nic.submit(RegOp::Write { offset, value });
                }
            }
        }
        while let Some(done) = nic.take_done() {
            if let Some(reply) = self.replies.pop_front() {
                let _ = reply.send(done.value);
            }
        }
    }
}

/// What a card's host handle is made of, before it knows how its registers are reached.
struct HandleParts {
    memory: SharedMemory,
    eventfds: [EventFd; nic_hdl::irq::VECTORS],
    cycles: Arc<AtomicU64>,
    phy: Phy,
}

impl HandleParts {
    fn into_handle(self, path: RegPath) -> CardHandle {
        CardHandle {
            regs: Registers { path, cycles: self.cycles, phy: self.phy },
            memory: self.memory,
            eventfds: self.eventfds,
        }
    }
}

/// Build card `i`.
fn build_card(cfg: &WorldConfig, i: u64) -> Result<(Card, HandleParts), String> {
    let phy = cfg.phy;
    let bus = cfg.bus.clone().unwrap_or_else(|| AxiMemConfig::pcie_gen2_x4(phy.clocks_per_us()));
    let memory = SharedMemory::new(super::memory::DEFAULT_BASE + (i << 36), cfg.memory);
    let mut engine = engines::build(phy, cfg.engine)?;
    if let (0, Some((path, limit))) = (i, &cfg.vcd) {
        engine = engines::with_vcd(engine, phy, path, Some(*limit))?;
    }
    let mut nic = NicModel::new(engine, phy, memory.clone(), AxiMemConfig { seed: cfg.seed ^ i, ..bus })?;
    let mk = || EventFd::new(EFD_NONBLOCK).map_err(|e| format!("eventfd: {e}"));
    let eventfds = [mk()?, mk()?, mk()?];
    for (v, fd) in eventfds.iter().enumerate() {
        nic.msi.attach_eventfd(v, fd.try_clone().map_err(|e| format!("eventfd: {e}"))?);
    }
    nic.reset(8);
    let cycles = Arc::new(AtomicU64::new(0));
    Ok((Card { nic, cycles: cycles.clone() }, HandleParts { memory, eventfds, cycles, phy }))
}

/// Two cards back to back on the simulated runtime: the runtime that steps them, and the
/// host handles of A and B. Host threads must run on the runtime (see
/// [`SimRuntime::enter`]).
pub fn start_simulated(cfg: &WorldConfig) -> Result<(SimRuntime, [CardHandle; 2]), String> {
    let (a, pa) = build_card(cfg, 0)?;
    let (b, pb) = build_card(cfg, 1)?;
    let rt = SimRuntime::new(Cards::new(vec![a, b], None, cfg));
    let handles = [pa.into_handle(RegPath::Runtime(rt.clone(), 0)), pb.into_handle(RegPath::Runtime(rt.clone(), 1))];
    Ok((rt, handles))
}

impl World {
    /// Two cards back to back; starts the world thread and returns the host handles of A
    /// and B.
    pub fn start(cfg: &WorldConfig) -> Result<(World, [CardHandle; 2]), String> {
        let (a, pa) = build_card(cfg, 0)?;
        let (b, pb) = build_card(cfg, 1)?;
        let (ta, ra) = channel();
        let (tb, rb) = channel();
        let ports = vec![
            Port { requests: ra, replies: Default::default() },
            Port { requests: rb, replies: Default::default() },
        ];
        let world = Self::spawn(Cards::new(vec![a, b], None, cfg), ports)?;
        Ok((world, [pa.into_handle(RegPath::Thread(ta)), pb.into_handle(RegPath::Thread(tb))]))
    }

    /// One card whose line is the TAP interface `tap` (GMII or MII).
    pub fn start_tap(cfg: &WorldConfig, tap: TapLine) -> Result<(World, CardHandle), String> {
        if cfg.phy == Phy::Manchester {
            return Err("the TAP bridge drives an external PHY's pins: use --phy gmii or mii".into());
        }
        let (a, pa) = build_card(cfg, 0)?;
        let (ta, ra) = channel();
        let world =
            Self::spawn(Cards::new(vec![a], Some(tap), cfg), vec![Port { requests: ra, replies: Default::default() }])?;
        Ok((world, pa.into_handle(RegPath::Thread(ta))))
    }

    fn spawn(cards: Cards, ports: Vec<Port>) -> Result<World, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("nic-world".into())
            .spawn(move || run_freely(cards, ports, &stop2))
            .map_err(|e| format!("cannot start the world thread: {e}"))?;
        Ok(World { stop, thread: Some(thread) })
    }

    /// Stop the world and report.
    pub fn stop(mut self) -> WorldReport {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> WorldReport {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// The world thread: the cards' clocks in time order, register requests serviced every
/// few clocks.
fn run_freely(mut cards: Cards, mut ports: Vec<Port>, stop: &AtomicBool) -> WorldReport {
    let mut steps = 0u64;
    while !stop.load(Ordering::Relaxed) {
        cards.step();
        steps += 1;
        if steps.is_multiple_of(8) {
            for (c, port) in cards.cards.iter_mut().zip(ports.iter_mut()) {
                port.service(&mut c.nic);
                c.cycles.store(c.nic.cycles, Ordering::Relaxed);
            }
        }
    }
    cards.finish()
}

/// A line between one card's transmitter and the other's receiver: bit errors on the data.
struct Wire {
    ber: f64,
    rng: ChaCha8Rng,
}

impl Wire {
    fn pass(&mut self, mut s: PinSample, data_bits: u32) -> PinSample {
        if self.ber > 0.0 && s.dv {
            for b in 0..data_bits {
                if self.rng.gen_bool(self.ber) {
                    s.data ^= 1 << b;
                }
            }
        }
        s
    }
}

/// Frames on the wire, decoded from each sender's transmit pins, for the capture.
struct Capture {
    decoders: [PinDecoder; 2],
    frames: Vec<WireFrame>,
    limit: usize,
    /// Integrated PHY: each card's line samples (one word per core clock), decoded at the end.
    words: [Vec<u64>; 2],
}

/// Line words kept per card for a capture of the integrated PHY's line (8 samples each: a
/// 16 M-word cap is 1.6 s of a 10 Mb/s line).
const MAX_CAPTURE_WORDS: usize = 16 << 20;

impl Capture {
    fn see_words(&mut self, from: usize, w: u64) {
        if self.limit > 0 && self.words[from].len() < MAX_CAPTURE_WORDS {
            self.words[from].push(w);
        }
    }

    /// Decode the integrated PHY's line captures into frames, in time order.
    fn finish(mut self, core_ps: f64) -> Vec<WireFrame> {
        use nic_hdl::model::line::{decode_samples, words_to_samples};
        let samples_per_bit = nic_hdl::phy::manchester_rx::RxConfig::default().samples_per_bit;
        let w = nic_hdl::top::rx_path::MANCHESTER_W;
        for from in 0..2 {
            let words = std::mem::take(&mut self.words[from]);
            if words.is_empty() {
                continue;
            }
            match decode_samples(&words_to_samples(&words, w), samples_per_bit) {
                Ok(line) => {
                    for f in line.frames {
                        let frame = match strip_good_fcs(&f.bytes) {
                            Some(good) => TxFrame::Good(good.to_vec()),
                            None => TxFrame::Bad { bytes: f.bytes, why: "bad FCS" },
                        };
                        let time_ns = (f.start_sample as f64 * core_ps / w as f64 / 1000.0) as u64;
                        self.frames.push(WireFrame { time_ns, from, frame });
                    }
                }
                Err(e) => tracing::warn!(?e, card = from, "the line capture does not decode"),
            }
        }
        self.frames.sort_by_key(|f| f.time_ns);
        self.frames.truncate(self.limit);
        self.frames
    }

    fn see(&mut self, from: usize, s: PinSample, t_fs: u64) {
        if self.limit == 0 {
            return;
        }
        if let Some(frame) = self.decoders[from].push(s) {
            if self.frames.len() < self.limit {
                self.frames.push(WireFrame { time_ns: t_fs / 1_000_000, from, frame });
            }
        }
    }
}

/// The cards, their wire (or TAP) and the capture, stepped one clock edge at a time in
/// simulated-time order.
pub struct Cards {
    pub(crate) cards: Vec<Card>,
    tap: Option<TapLine>,
    phy: Phy,
    two: bool,
    /// The clocks: 0 the core of A; 1 the core of B, or with a TAP the clock Linux's frames
    /// arrive on (GMII); 2, 3 the PHY clocks of A and B (MII; with a TAP, 3 is Linux's).
    period_fs: [u64; 4],
    next: [u64; 4],
    /// Time of the last edge, fs.
    now_fs: u64,
    wires: [Wire; 2],
    capture: Capture,
    /// Integrated PHY: line words in flight from each card to the other.
    words: [u64; 2],
    data_bits: u32,
}

impl Cards {
    fn new(cards: Vec<Card>, tap: Option<TapLine>, cfg: &WorldConfig) -> Cards {
        let phy = cfg.phy;
        let core = phy.core_period_ps();
        let mut period = [core, ppm_period_ps(core, cfg.ppm), f64::INFINITY, f64::INFINITY];
        if phy == Phy::Mii {
            let p = phy.phy_period_ps().expect("MII has a PHY clock");
            period[2] = p;
            period[3] = ppm_period_ps(p, cfg.ppm);
        }
        let to_fs = |p: f64| if p.is_finite() { (p * 1000.0).round() as u64 } else { u64::MAX };
        let period_fs = period.map(to_fs);
        let next = [
            period_fs[0],
            period_fs[1] + period_fs[1] / 3,
            period_fs[2],
            period_fs[3].saturating_add(period_fs[3] / 5),
        ];
        let wires = [0u64, 1]
            .map(|i| Wire { ber: cfg.ber.clamp(0.0, 1.0), rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ (0x3E1 + i)) });
        let mii = phy == Phy::Mii;
        let capture = Capture {
            decoders: [PinDecoder::new(mii), PinDecoder::new(mii)],
            frames: Vec::new(),
            limit: cfg.capture,
            words: [Vec::new(), Vec::new()],
        };
        let two = cards.len() == 2;
        Cards {
            cards,
            tap,
            phy,
            two,
            period_fs,
            next,
            now_fs: 0,
            wires,
            capture,
            words: [0; 2],
            data_bits: if mii { 4 } else { 8 },
        }
    }

    /// Time of the last edge stepped, fs.
    pub fn now_fs(&self) -> u64 {
        self.now_fs
    }

    /// Time of the next edge, fs.
    pub fn next_edge_fs(&self) -> u64 {
        *self.next.iter().min().expect("four clocks")
    }

    pub(crate) fn nic(&mut self, card: usize) -> &mut NicModel {
        &mut self.cards[card].nic
    }

    /// The MSI vectors each card fired since the last call (bit v), cleared.
    pub(crate) fn take_msis(&mut self) -> impl Iterator<Item = (usize, u8)> + '_ {
        self.cards.iter_mut().enumerate().map(|(i, c)| (i, c.nic.msi.take_fired())).filter(|(_, f)| *f != 0)
    }

    /// One clock edge: the earliest of the clocks.
    pub fn step(&mut self) {
        let (i, &t) = self.next.iter().enumerate().min_by_key(|(_, t)| **t).expect("four clocks");
        self.next[i] = t.saturating_add(self.period_fs[i]);
        self.now_fs = t;
        let (cards, wires, capture, words, data_bits) =
            (&mut self.cards, &mut self.wires, &mut self.capture, &mut self.words, self.data_bits);
        match (self.phy, i, self.tap.as_mut()) {
            (Phy::Manchester, 0 | 1, _) => {
                cards[i].nic.set_rx_samples(words[1 - i]);
                cards[i].nic.core_cycle();
                words[i] = cards[i].nic.tx_samples();
                capture.see_words(i, words[i]);
            }
            // GMII: a card's transmit clock is its core clock, and the far end's receive clock.
            (Phy::Gmii, 0, Some(line)) => {
                cards[0].nic.core_cycle();
                let s = cards[0].nic.tx_pins();
                capture.see(0, s, t);
                line.tx_sample(s);
            }
            (Phy::Gmii, 1, Some(line)) => {
                let s = wires[1].pass(line.rx_sample(), data_bits);
                capture.see(1, s, t);
                cards[0].nic.set_rx_pins(s);
                cards[0].nic.rx_clk_cycle();
            }
            (Phy::Gmii, 0 | 1, None) => {
                cards[i].nic.core_cycle();
                let s = wires[i].pass(cards[i].nic.tx_pins(), data_bits);
                capture.see(i, s, t);
                cards[1 - i].nic.set_rx_pins(s);
                cards[1 - i].nic.rx_clk_cycle();
            }
            (Phy::Mii, 0, _) => cards[0].nic.core_cycle(),
            (Phy::Mii, 1, _) if self.two => cards[1].nic.core_cycle(),
            (Phy::Mii, 1, _) => {}
            (Phy::Mii, 2, Some(line)) => {
                cards[0].nic.tx_clk_cycle();
                let s = cards[0].nic.tx_pins();
                capture.see(0, s, t);
                line.tx_sample(s);
            }
            (Phy::Mii, 3, Some(line)) => {
                let s = wires[1].pass(line.rx_sample(), data_bits);
                capture.see(1, s, t);
                cards[0].nic.set_rx_pins(s);
                cards[0].nic.rx_clk_cycle();
            }
            (Phy::Mii, 2 | 3, None) => {
                let a = i - 2;
                cards[a].nic.tx_clk_cycle();
                let s = wires[a].pass(cards[a].nic.tx_pins(), data_bits);
                capture.see(a, s, t);
                cards[1 - a].nic.set_rx_pins(s);
                cards[1 - a].nic.rx_clk_cycle();
            }
            _ => unreachable!("no such clock"),
        }
    }

    /// Stop: the capture decoded, the cards' counts and the bus checker's findings.
    pub fn finish(self) -> WorldReport {
        let core = self.phy.core_period_ps();
        let mut report =
            WorldReport { wire: self.capture.finish(core), tap: self.tap.map(|t| t.stats), ..Default::default() };
        for (k, c) in self.cards.iter().enumerate() {
            report.cycles[k] = c.nic.cycles;
            report.msi_sent[k] = c.nic.msi.sent;
            report.bus_violations.extend(c.nic.mem.violations.iter().map(|v| format!("card {k}: {v}")));
            report.register_errors += c.nic.axil.errors;
        }
        report
    }
}
