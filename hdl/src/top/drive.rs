//! Driving the exported tops from plain Rust: configure the filter, feed the line or the
//! pins, collect what reaches the host side. Shared by the whole-path tests, the benchmark,
//! the demo and (later) the simulation model of the card.
//!
//! Every `run_*` function takes an optional [`VectorRecorder`]: given one, it records every
//! port at every step so the same run can be replayed on the generated Verilog.
use super::rx_path::{RxGmiiTop, RxManchesterTop, RxMiiTop};
use super::tx_path::{TxGmiiTop, TxManchesterTop, TxMiiTop};
use crate::model::pins::PinSample;
use crate::model::rx_reference::{station_bits, DeliveredFrame, MacConfig, Verdict};
use crate::model::tx_reference::{WireByte, DEFAULT_IFG, DEFAULT_MAX_LEN as TX_MAX_LEN};
use crate::sim::{cycle_traced, settle, TwoClocks};
use crate::verilog::vectors::VectorRecorder;
use rust_hdl::prelude::*;

/// Counters of an RX top after a run. `phy_events` is the PHY's own counter: code
/// violations for the Manchester PHY, clock-crossing overflows for GMII and MII.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxTopCounters {
    pub frames_ok: u32,
    pub fcs_errors: u32,
    pub runts: u32,
    pub giants: u32,
    pub phy_errors: u32,
    pub bad_preamble: u32,
    pub filtered: u32,
    pub fifo_overflows: u32,
    pub phy_events: u32,
}

/// What the host side of an RX top saw.
#[derive(Clone, Debug, Default)]
pub struct RxRun {
    pub frames: Vec<DeliveredFrame>,
    pub counters: RxTopCounters,
    /// Core clock cycles simulated.
    pub core_cycles: u64,
    /// Host-side protocol violations (a length that disagrees with the bytes, ...).
    pub protocol_errors: Vec<String>,
}

/// The ports every RX top shares (see `rx_path::rx_top!`).
pub trait RxTop: Block {
    fn configure(&mut self, cfg: &MacConfig);
    fn counters(&self) -> RxTopCounters;
    fn core_clock(&mut self) -> &mut Signal<In, Clock>;
    fn set_reset(&mut self, on: bool);
    fn set_out_ready(&mut self, ready: bool);
    /// (out_valid, out_data, out_last, out_len, out_verdict)
    fn host_side(&self) -> (bool, u8, bool, u16, u8);
}

/// RX tops fed from an external PHY chip's pins in the PHY's own clock domain.
pub trait PinRxTop: RxTop {
    fn phy_clock(&mut self) -> &mut Signal<In, Clock>;
    fn set_pins(&mut self, p: PinSample);
}

macro_rules! impl_rx_top {
    ($top:ty, $phy_events:ident) => {
        impl RxTop for $top {
            fn configure(&mut self, cfg: &MacConfig) {
                self.max_len.next = cfg.max_len.to_bits();
                self.station_mac.next = station_bits(&cfg.station).to_bits();
                self.mcast_hash.next = cfg.mcast_hash.to_bits();
                self.all_multicast.next = cfg.all_multicast;
                self.promisc.next = cfg.promisc;
            }
            fn counters(&self) -> RxTopCounters {
                RxTopCounters {
                    frames_ok: self.frames_ok.val().to_u32(),
                    fcs_errors: self.fcs_errors.val().to_u32(),
                    runts: self.runts.val().to_u32(),
                    giants: self.giants.val().to_u32(),
                    phy_errors: self.phy_errors.val().to_u32(),
                    bad_preamble: self.bad_preamble.val().to_u32(),
                    filtered: self.filtered.val().to_u32(),
                    fifo_overflows: self.fifo_overflows.val().to_u32(),
                    phy_events: self.$phy_events.val().to_u32(),
                }
            }
            fn core_clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
            fn set_reset(&mut self, on: bool) {
                self.reset.next = on;
            }
            fn set_out_ready(&mut self, ready: bool) {
                self.out_ready.next = ready;
            }
            fn host_side(&self) -> (bool, u8, bool, u16, u8) {
                (
                    self.out_valid.val(),
                    self.out_data.val().to_u8(),
                    self.out_last.val(),
                    self.out_len.val().to_u16(),
                    self.out_verdict.val().to_u8(),
                )
            }
        }
    };
}

impl_rx_top!(RxManchesterTop, code_violations);
impl_rx_top!(RxGmiiTop, cdc_overflows);
impl_rx_top!(RxMiiTop, cdc_overflows);

macro_rules! impl_pin_rx_top {
    ($top:ty) => {
        impl PinRxTop for $top {
            fn phy_clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.phy_clock
            }
            fn set_pins(&mut self, p: PinSample) {
                self.rxd.next = p.data.to_bits();
                self.rx_dv.next = p.dv;
                self.rx_er.next = p.er;
            }
        }
    };
}

impl_pin_rx_top!(RxGmiiTop);
impl_pin_rx_top!(RxMiiTop);

/// Reassembles host-side frames from the byte stream, one clock at a time.
#[derive(Default)]
pub struct HostCollector {
    current: Vec<u8>,
    run: RxRun,
}

impl HostCollector {
    /// Call with the design settled, just before a core rising edge at which `out_ready`
    /// is `ready`: takes the byte that edge transfers, if any.
    pub fn before_edge<T: RxTop>(&mut self, top: &mut T, ready: bool) {
        top.set_out_ready(ready);
        settle(top);
        self.run.core_cycles += 1;
        let (valid, data, last, len, verdict) = top.host_side();
        if !(valid && ready) {
            return;
        }
        self.current.push(data);
        if last {
            let bytes = std::mem::take(&mut self.current);
            if bytes.len() != len as usize {
                self.run.protocol_errors.push(format!(
                    "frame {}: out_len {len} but {} bytes",
                    self.run.frames.len(),
                    bytes.len()
                ));
            }
            self.run.frames.push(DeliveredFrame { bytes, verdict: Verdict::from_code(verdict) });
        }
    }

    pub fn finish<T: RxTop>(mut self, top: &T) -> RxRun {
        if !self.current.is_empty() {
            self.run.protocol_errors.push(format!("{} bytes of an unfinished frame", self.current.len()));
        }
        self.run.counters = top.counters();
        self.run
    }
}

/// Core clocks of reset at the start of every run (long enough for the PHY-domain reset
/// synchronizers of the GMII/MII adapters).
pub const RESET_CYCLES: usize = 8;

fn configured<T: RxTop + Default>(cfg: &MacConfig) -> T {
    let mut top = T::default();
    top.connect_all();
    top.configure(cfg);
    top.set_reset(true);
    top
}

/// The Manchester RX top fed with line sample words (as `model::line` makes them), one per
/// core clock. `ready(cycle)` is the host's `out_ready` for each clock (backpressure).
/// Runs `tail` idle clocks after the last word so the FIFO drains.
pub fn run_manchester_rx(
    cfg: &MacConfig,
    words: &[u64],
    tail: usize,
    mut ready: impl FnMut(u64) -> bool,
    mut rec: Option<&mut VectorRecorder>,
) -> RxRun {
    let mut top: RxManchesterTop = configured(cfg);
    for _ in 0..RESET_CYCLES {
        cycle_traced(&mut top, |t| &mut t.clock, rec.as_deref_mut());
    }
    top.set_reset(false);
    let mut host = HostCollector::default();
    for i in 0..words.len() + tail {
        top.samples.next = words.get(i).copied().unwrap_or(0).to_bits();
        let r = ready(i as u64);
        host.before_edge(&mut top, r);
        cycle_traced(&mut top, |t| &mut t.clock, rec.as_deref_mut());
    }
    host.finish(&top)
}

/// A GMII or MII RX top fed with pin samples, one per PHY clock, with the two clocks of
/// `clocks` (A = core, B = PHY). `tail` idle PHY clocks follow so the path drains.
pub fn run_pin_rx<T: PinRxTop + Default>(
    cfg: &MacConfig,
    mut clocks: TwoClocks,
    pins: &[PinSample],
    tail: usize,
    mut ready: impl FnMut(u64) -> bool,
    mut rec: Option<&mut VectorRecorder>,
) -> RxRun {
    let mut top: T = configured(cfg);
    let mut host = HostCollector::default();
    let mut core_edges = 0usize;
    let mut phy_edges = 0usize;
    let total = RESET_CYCLES * 2 + pins.len() + tail;
    while phy_edges < total {
        let e = clocks.peek();
        if e.rising {
            match e.domain {
                crate::sim::Domain::A => {
                    if core_edges == RESET_CYCLES {
                        top.set_reset(false);
                    }
                    if core_edges >= RESET_CYCLES {
                        let r = ready(host.run.core_cycles);
                        host.before_edge(&mut top, r);
                    }
                    core_edges += 1;
                }
                crate::sim::Domain::B => {
                    // Pins stay idle until the core is out of reset.
                    let n = phy_edges.checked_sub(RESET_CYCLES * 2);
                    top.set_pins(n.and_then(|n| pins.get(n)).copied().unwrap_or(PinSample::IDLE));
                    phy_edges += 1;
                }
            }
        }
        clocks.step_traced(&mut top, |t| t.core_clock(), |t| t.phy_clock(), rec.as_deref_mut());
    }
    host.finish(&top)
}

/// Counters of a TX top after a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxTopCounters {
    pub frames_sent: u32,
    pub bytes_sent: u32,
    pub underflows: u32,
    pub oversize: u32,
}

/// Feeds frames to a TX top's host-side stream, back to back, never underflowing.
pub struct HostSource {
    frames: Vec<Vec<u8>>,
    frame: usize,
    byte: usize,
}

impl HostSource {
    pub fn new(frames: &[Vec<u8>]) -> Self {
        Self { frames: frames.iter().filter(|f| !f.is_empty()).cloned().collect(), frame: 0, byte: 0 }
    }

    pub fn done(&self) -> bool {
        self.frame >= self.frames.len()
    }

    /// (in_valid, in_data, in_last) to present now.
    pub fn present(&self) -> (bool, u8, bool) {
        match self.frames.get(self.frame) {
            Some(f) => (true, f[self.byte], self.byte + 1 == f.len()),
            None => (false, 0, false),
        }
    }

    /// The byte presented was taken at this edge.
    pub fn advance(&mut self) {
        if let Some(f) = self.frames.get(self.frame) {
            self.byte += 1;
            if self.byte == f.len() {
                self.frame += 1;
                self.byte = 0;
            }
        }
    }
}

/// The ports every TX top shares (see `tx_path::tx_top!`).
pub trait TxTop: Block + Default {
    fn core_clock(&mut self) -> &mut Signal<In, Clock>;
    fn set_reset(&mut self, on: bool);
    /// Set the MAC's gap and maximum length to their defaults.
    fn defaults(&mut self);
    /// Present (in_valid, in_data, in_last) on the host-side stream.
    fn present(&mut self, input: (bool, u8, bool));
    fn in_ready(&self) -> bool;
    fn counters(&self) -> TxTopCounters;
}

macro_rules! impl_tx_top {
    ($top:ty) => {
        impl TxTop for $top {
            fn core_clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
            fn set_reset(&mut self, on: bool) {
                self.reset.next = on;
            }
            fn defaults(&mut self) {
                self.ifg_bytes.next = DEFAULT_IFG.to_bits();
                self.max_len.next = TX_MAX_LEN.to_bits();
            }
            fn present(&mut self, (valid, data, last): (bool, u8, bool)) {
                self.in_valid.next = valid;
                self.in_data.next = data.to_bits();
                self.in_last.next = last;
            }
            fn in_ready(&self) -> bool {
                self.in_ready.val()
            }
            fn counters(&self) -> TxTopCounters {
                TxTopCounters {
                    frames_sent: self.frames_sent.val().to_u32(),
                    bytes_sent: self.bytes_sent.val().to_u32(),
                    underflows: self.underflows.val().to_u32(),
                    oversize: self.oversize.val().to_u32(),
                }
            }
        }
    };
}

impl_tx_top!(TxManchesterTop);
impl_tx_top!(TxGmiiTop);
impl_tx_top!(TxMiiTop);

/// A fresh TX top with default gap and length, held in reset.
fn tx_top<T: TxTop>() -> T {
    let mut top = T::default();
    top.connect_all();
    top.defaults();
    top.set_reset(true);
    top
}

/// Offer the source's byte; true if the coming edge takes it.
fn offer<T: TxTop>(top: &mut T, src: &HostSource) -> bool {
    let (valid, data, last) = src.present();
    top.present((valid, data, last));
    settle(top);
    valid && top.in_ready()
}

/// Run a single-clock TX top: after reset, feed `frames` and collect `sample(top)` after
/// each clock until every frame has left and the line was idle (`sample`'s flag) for more
/// than `tail` clocks, or `limit` clocks passed (a bound against a hang, never reached by
/// a working design).
fn run_single_clock_tx<T: TxTop, O>(
    frames: &[Vec<u8>],
    tail: usize,
    limit: usize,
    mut rec: Option<&mut VectorRecorder>,
    sample: impl Fn(&T) -> (O, bool),
) -> (Vec<O>, TxTopCounters) {
    let mut top: T = tx_top();
    for _ in 0..RESET_CYCLES {
        cycle_traced(&mut top, |t| t.core_clock(), rec.as_deref_mut());
    }
    top.set_reset(false);
    let mut src = HostSource::new(frames);
    let mut out = Vec::new();
    let mut idle_run = 0;
    while out.len() < limit {
        let took = offer(&mut top, &src);
        cycle_traced(&mut top, |t| t.core_clock(), rec.as_deref_mut());
        if took {
            src.advance();
        }
        let (o, idle) = sample(&top);
        out.push(o);
        idle_run = if src.done() && idle { idle_run + 1 } else { 0 };
        if idle_run > tail {
            break;
        }
    }
    (out, top.counters())
}

/// The Manchester TX top: frames in, line sample words out (one per core clock), until
/// every frame has left and the line has been idle for `tail` clocks.
pub fn run_manchester_tx(
    frames: &[Vec<u8>],
    tail: usize,
    rec: Option<&mut VectorRecorder>,
) -> (Vec<u64>, TxTopCounters) {
    // At most 2 clocks per bit, 8 bits per byte, preamble and gap included.
    let limit = frames.iter().map(|f| (f.len() + 40) * 8 * 4).sum::<usize>() + tail + 10_000;
    run_single_clock_tx::<TxManchesterTop, _>(frames, tail, limit, rec, |t| {
        (t.samples.val().to_u64(), t.line_idle.val())
    })
}

/// The GMII TX top: frames in, one [`WireByte`] per clock from the TX pins out, until every
/// frame has left and `tail` idle clocks followed.
pub fn run_gmii_tx(
    frames: &[Vec<u8>],
    tail: usize,
    rec: Option<&mut VectorRecorder>,
) -> (Vec<WireByte>, TxTopCounters) {
    let limit = frames.iter().map(|f| f.len() + 40).sum::<usize>() * 2 + tail + 1000;
    run_single_clock_tx::<TxGmiiTop, _>(frames, tail, limit, rec, |t| {
        let b = WireByte { en: t.tx_en.val(), er: t.tx_er.val(), data: t.txd.val().to_u8() };
        (b, !b.en)
    })
}

/// The MII TX top with its PHY's TX clock from `clocks` (A = core, B = PHY): frames in,
/// one [`PinSample`] per PHY clock out.
pub fn run_mii_tx(
    frames: &[Vec<u8>],
    mut clocks: TwoClocks,
    tail: usize,
    mut rec: Option<&mut VectorRecorder>,
) -> (Vec<PinSample>, TxTopCounters) {
    let mut top: TxMiiTop = tx_top();
    let mut src = HostSource::new(frames);
    let mut pins = Vec::new();
    let mut core_edges = 0;
    let mut took = false;
    let mut idle_run = 0;
    let limit = frames.iter().map(|f| f.len() + 40).sum::<usize>() * 4 + tail + 1000;
    while pins.len() < limit {
        let e = clocks.peek();
        if e.rising && e.domain == crate::sim::Domain::A {
            if core_edges == RESET_CYCLES {
                top.set_reset(false);
            }
            took = core_edges >= RESET_CYCLES && offer(&mut top, &src);
            core_edges += 1;
        }
        clocks.step_traced(&mut top, |t| &mut t.clock, |t| &mut t.phy_clock, rec.as_deref_mut());
        if e.rising && e.domain == crate::sim::Domain::A && took {
            src.advance();
        }
        if e.rising && e.domain == crate::sim::Domain::B {
            let p = PinSample { data: top.txd.val().to_u8(), dv: top.tx_en.val(), er: top.tx_er.val() };
            pins.push(p);
            idle_run = if src.done() && !p.dv { idle_run + 1 } else { 0 };
            if idle_run > tail {
                break;
            }
        }
    }
    (pins, top.counters())
}
