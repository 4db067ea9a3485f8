//! One card receiving a prepared line, start to drain: what `nic replay` and
//! `nic bench linerate` run.
use super::axil::RegOp;
use super::clocks::{Clocks, Tick};
use super::host_rx::{Received, RxHost, RxHostConfig};
use super::memory::SharedMemory;
use super::nic::NicModel;
use super::Phy;
use crate::line::frames::{flip_bits, rx_pins};
use nic_hdl::model::line::{LineConfig, LineEncoder};
use nic_hdl::model::pins::PinSample;
use nic_regs::Counter;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What the line carries into the card's receive pins.
pub enum LineFeed {
    /// One sample per PHY clock (GMII/MII).
    Pins(Vec<PinSample>),
    /// One word of samples per core clock (the integrated PHY).
    Words(Vec<u64>),
}

/// The line during one clock: an external PHY's pins, or the integrated PHY's samples.
#[derive(Clone, Copy, Debug)]
pub enum LineSample {
    Pins(PinSample),
    Word(u64),
}

impl LineFeed {
    fn len(&self) -> usize {
        match self {
            LineFeed::Pins(p) => p.len(),
            LineFeed::Words(w) => w.len(),
        }
    }
}

/// Impairments of the line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Impairments {
    /// Transmitter clock offset (the far end's PHY clock, or the integrated PHY's line).
    pub ppm: f64,
    /// Probability that a bit after the SFD is flipped.
    pub ber: f64,
    pub seed: u64,
}

/// The line for `frames` (each already ending in its FCS), back to back at the minimum gap.
/// Returns the feed and, per frame, whether the line flipped a bit of it.
pub fn line_for(phy: Phy, frames: &[Vec<u8>], imp: &Impairments) -> (LineFeed, Vec<bool>) {
    match phy {
        Phy::Manchester => {
            let cfg = LineConfig { ppm: imp.ppm, bit_error_rate: imp.ber, seed: imp.seed, ..Default::default() };
            let mut enc = LineEncoder::new(cfg, nic_hdl::top::rx_path::MANCHESTER_W);
            enc.idle(200);
            let corrupted = frames.iter().map(|f| enc.frame(f).corrupted).collect();
            enc.idle(200);
            (LineFeed::Words(enc.finish()), corrupted)
        }
        Phy::Gmii | Phy::Mii => {
            let mut rng = ChaCha8Rng::seed_from_u64(imp.seed ^ 0xB17);
            let mut corrupted = Vec::with_capacity(frames.len());
            let mut pins = vec![PinSample::IDLE; 32];
            for f in frames {
                let mut bytes = f.clone();
                corrupted.push(flip_bits(&mut rng, &mut bytes, imp.ber));
                pins.extend(rx_pins(phy == Phy::Mii, &bytes));
            }
            (LineFeed::Pins(pins), corrupted)
        }
    }
}

/// The device's counters, as read through the register bus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceCounters {
    pub values: [u64; 12],
}

impl DeviceCounters {
    pub fn get(&self, c: Counter) -> u64 {
        self.values[c as usize]
    }
}

/// The result of a run.
pub struct RxRunResult {
    pub received: Vec<Received>,
    pub counters: DeviceCounters,
    /// Core clock at which the last line sample went in.
    pub line_end_cycle: u64,
    pub cycles: u64,
    pub bad_completions: u64,
    pub bus_violations: Vec<String>,
}

/// Step the card, its PHY clock and the host until `done` says so or `limit` core clocks
/// pass. The host polls every `poll_every` core clocks.
pub struct Runner<'a> {
    pub nic: &'a mut NicModel,
    pub host: RxHost,
    clocks: Clocks,
    poll_every: u64,
}

impl<'a> Runner<'a> {
    pub fn new(nic: &'a mut NicModel, mem: SharedMemory, cfg: &RxHostConfig, ppm: f64, poll_every: u64) -> Runner<'a> {
        let phy = nic.phy;
        // The integrated PHY's offset is in the line encoder; an external PHY's clock is the
        // far end's, so it carries the offset.
        let clocks =
            Clocks::new(phy.core_period_ps(), phy.phy_period_ps().map(|p| nic_hdl::sim::ppm_period_ps(p, -ppm)));
        nic.reset(8);
        let host = RxHost::bring_up(nic, mem, cfg);
        let mut r = Runner { nic, host, clocks, poll_every: poll_every.max(1) };
        r.run_until(1_000_000, |n| n.axil.idle());
        r
    }

    /// One clock edge (core or PHY, whichever is next); `feed` gives the line for it: pins
    /// for a PHY clock, a sample word for the integrated PHY's core clock, or `None` to leave
    /// the line as it is.
    pub fn step(&mut self, feed: impl FnOnce(Tick) -> Option<LineSample>) {
        match self.clocks.next_tick() {
            Tick::Core => {
                if let Some(LineSample::Word(w)) = feed(Tick::Core) {
                    self.nic.set_rx_samples(w);
                }
                self.nic.core_cycle();
                if self.nic.cycles.is_multiple_of(self.poll_every) {
                    self.host.poll(self.nic);
                }
            }
            Tick::Phy => {
                if let Some(LineSample::Pins(p)) = feed(Tick::Phy) {
                    self.nic.set_rx_pins(p);
                }
                self.nic.rx_clk_cycle();
                self.nic.tx_clk_cycle();
            }
        }
    }

    /// Run with an idle line until `done(nic)` or `limit` core clocks; whether `done` came.
    pub fn run_until(&mut self, limit: u64, mut done: impl FnMut(&NicModel) -> bool) -> bool {
        let end = self.nic.cycles + limit;
        while self.nic.cycles < end {
            if done(self.nic) {
                return true;
            }
            self.step(|_| None);
        }
        done(self.nic)
    }

    /// Feed the whole line, then keep running `drain` core clocks for the last frames to
    /// reach memory; returns the core clock at which the line ended.
    pub fn feed_line(&mut self, line: &LineFeed, drain: u64) -> u64 {
        let mut i = 0usize;
        while i < line.len() {
            self.step(|tick| match (line, tick) {
                (LineFeed::Pins(p), Tick::Phy) => {
                    i += 1;
                    Some(LineSample::Pins(p[i - 1]))
                }
                (LineFeed::Words(w), Tick::Core) => {
                    i += 1;
                    Some(LineSample::Word(w[i - 1]))
                }
                _ => None,
            });
        }
        let line_end = self.nic.cycles;
        // An idle line from here on.
        self.nic.set_rx_pins(PinSample::IDLE);
        self.nic.set_rx_samples(0);
        self.run_until(drain, |_| false);
        self.host.poll(self.nic);
        line_end
    }

    /// Read all twelve counters through the register bus (LO then HI, the race-free pair).
    pub fn read_counters(&mut self) -> DeviceCounters {
        for c in nic_regs::COUNTERS {
            self.nic.submit(RegOp::Read { offset: c.lo.offset });
            self.nic.submit(RegOp::Read { offset: c.hi.offset });
        }
        self.run_until(1_000_000, |n| n.axil.idle());
        let mut out = DeviceCounters::default();
        for v in out.values.iter_mut() {
            let lo = self.nic.take_done().expect("counter LO read").value;
            let hi = self.nic.take_done().expect("counter HI read").value;
            *v = u64::from(hi) << 32 | u64::from(lo);
        }
        out
    }

    pub fn finish(mut self, line_end_cycle: u64) -> RxRunResult {
        let counters = self.read_counters();
        RxRunResult {
            received: std::mem::take(&mut self.host.received),
            counters,
            line_end_cycle,
            cycles: self.nic.cycles,
            bad_completions: self.host.bad_completions,
            bus_violations: self.nic.mem.violations.clone(),
        }
    }
}
