//! The RX tops behind the simulation [`Engine`] trait: their Rust-HDL adapters, and drivers
//! that feed them through the trait exactly as `top::drive` feeds the Rust-HDL blocks, so
//! the same stimulus gives the same cycles on any engine (Rust-HDL or Verilator).
use super::drive::{RxRun, RxTopCounters, RESET_CYCLES};
use super::rx_path::{RxGmiiTop, RxManchesterTop, RxMiiTop};
use crate::engine::{edge, resolve_ports, step_two_clocks, Engine, EngineError};
use crate::model::pins::PinSample;
use crate::model::rx_reference::{station_bits, DeliveredFrame, MacConfig, Verdict};
use crate::sim::{Domain, TwoClocks};

crate::hdl_engine!(
    /// [`RxManchesterTop`] on the Rust-HDL engine.
    pub RxManchesterEngine for RxManchesterTop {
        inputs { clock, reset, samples, max_len, station_mac, mcast_hash, all_multicast, promisc, out_ready }
        outputs {
            out_valid, out_data, out_last, out_len, out_verdict, frames_ok, fcs_errors, runts, giants,
            phy_errors, bad_preamble, filtered, fifo_overflows, link_up, locked, code_violations,
        }
    }
);

/// An RX top fed from an external PHY chip's pins (GMII and MII have the same ports).
macro_rules! pin_rx_engine {
    ($(#[$meta:meta])* $name:ident for $top:ty) => {
        crate::hdl_engine!(
            $(#[$meta])*
            pub $name for $top {
                inputs {
                    clock, reset, phy_clock, rxd, rx_dv, rx_er, max_len, station_mac, mcast_hash,
                    all_multicast, promisc, out_ready,
                }
                outputs {
                    out_valid, out_data, out_last, out_len, out_verdict, frames_ok, fcs_errors, runts,
                    giants, phy_errors, bad_preamble, filtered, fifo_overflows, cdc_overflows,
                }
            }
        );
    };
}

pin_rx_engine!(
    /// [`RxGmiiTop`] on the Rust-HDL engine.
    RxGmiiEngine for RxGmiiTop
);
pin_rx_engine!(
    /// [`RxMiiTop`] on the Rust-HDL engine.
    RxMiiEngine for RxMiiTop
);

/// The ports every RX top has, resolved once.
struct RxPorts {
    clock: usize,
    reset: usize,
    out_ready: usize,
    host: [usize; 5],
    counters: [usize; 9],
}

impl RxPorts {
    /// `phy_events`: `code_violations` (Manchester) or `cdc_overflows` (GMII, MII).
    fn resolve<E: Engine + ?Sized>(e: &mut E, cfg: &MacConfig, phy_events: &str) -> Result<Self, EngineError> {
        let [clock, reset, out_ready] = resolve_ports(e, ["clock", "reset", "out_ready"])?;
        let host = resolve_ports(e, ["out_valid", "out_data", "out_last", "out_len", "out_verdict"])?;
        let counters = resolve_ports(
            e,
            [
                "frames_ok",
                "fcs_errors",
                "runts",
                "giants",
                "phy_errors",
                "bad_preamble",
                "filtered",
                "fifo_overflows",
                phy_events,
            ],
        )?;
        let [max_len, station, hash, allmc, promisc] =
            resolve_ports(e, ["max_len", "station_mac", "mcast_hash", "all_multicast", "promisc"])?;
        e.set(max_len, cfg.max_len as u64);
        e.set(station, station_bits(&cfg.station));
        e.set(hash, cfg.mcast_hash);
        e.set(allmc, cfg.all_multicast as u64);
        e.set(promisc, cfg.promisc as u64);
        e.set(reset, 1);
        Ok(RxPorts { clock, reset, out_ready, host, counters })
    }
}

/// [`super::drive::HostCollector`] on an engine: reassembles host-side frames.
struct EngineHost {
    current: Vec<u8>,
    run: RxRun,
}

impl EngineHost {
    /// With the engine settled just before a core rising edge at which `out_ready` is
    /// `ready`: take the byte that edge transfers, if any.
    fn before_edge<E: Engine + ?Sized>(&mut self, e: &mut E, p: &RxPorts, ready: bool) {
        e.set(p.out_ready, ready as u64);
        e.eval();
        self.run.core_cycles += 1;
        if !(ready && e.get(p.host[0]) != 0) {
            return;
        }
        self.current.push(e.get(p.host[1]) as u8);
        if e.get(p.host[2]) != 0 {
            let len = e.get(p.host[3]) as usize;
            let bytes = std::mem::take(&mut self.current);
            if bytes.len() != len {
                self.run.protocol_errors.push(format!(
                    "frame {}: out_len {len} but {} bytes",
                    self.run.frames.len(),
                    bytes.len()
                ));
            }
            let verdict = Verdict::from_code(e.get(p.host[4]) as u8);
            self.run.frames.push(DeliveredFrame { bytes, verdict });
        }
    }

    fn finish<E: Engine + ?Sized>(mut self, e: &mut E, p: &RxPorts) -> RxRun {
        if !self.current.is_empty() {
            self.run.protocol_errors.push(format!("{} bytes of an unfinished frame", self.current.len()));
        }
        let c: Vec<u32> = p.counters.iter().map(|&id| e.get(id) as u32).collect();
        self.run.counters = RxTopCounters {
            frames_ok: c[0],
            fcs_errors: c[1],
            runts: c[2],
            giants: c[3],
            phy_errors: c[4],
            bad_preamble: c[5],
            filtered: c[6],
            fifo_overflows: c[7],
            phy_events: c[8],
        };
        self.run
    }
}

/// [`super::drive::run_manchester_rx`] on any engine running an `RxManchesterTop`.
pub fn run_manchester_rx_on<E: Engine + ?Sized>(
    e: &mut E,
    cfg: &MacConfig,
    words: &[u64],
    tail: usize,
    mut ready: impl FnMut(u64) -> bool,
) -> Result<RxRun, EngineError> {
    let p = RxPorts::resolve(e, cfg, "code_violations")?;
    let [samples] = resolve_ports(e, ["samples"])?;
    for _ in 0..RESET_CYCLES {
        edge(e, p.clock);
    }
    e.set(p.reset, 0);
    let mut host = EngineHost { current: Vec::new(), run: RxRun::default() };
    for i in 0..words.len() + tail {
        e.set(samples, words.get(i).copied().unwrap_or(0));
        host.before_edge(e, &p, ready(i as u64));
        edge(e, p.clock);
    }
    Ok(host.finish(e, &p))
}

/// [`super::drive::run_pin_rx`] on any engine running a GMII or MII RX top.
pub fn run_pin_rx_on<E: Engine + ?Sized>(
    e: &mut E,
    cfg: &MacConfig,
    mut clocks: TwoClocks,
    pins: &[PinSample],
    tail: usize,
    mut ready: impl FnMut(u64) -> bool,
) -> Result<RxRun, EngineError> {
    let p = RxPorts::resolve(e, cfg, "cdc_overflows")?;
    let [phy_clock, rxd, rx_dv, rx_er] = resolve_ports(e, ["phy_clock", "rxd", "rx_dv", "rx_er"])?;
    let mut host = EngineHost { current: Vec::new(), run: RxRun::default() };
    let (mut core_edges, mut phy_edges) = (0usize, 0usize);
    let total = RESET_CYCLES * 2 + pins.len() + tail;
    while phy_edges < total {
        let next = clocks.peek();
        if next.rising {
            match next.domain {
                Domain::A => {
                    if core_edges == RESET_CYCLES {
                        e.set(p.reset, 0);
                    }
                    if core_edges >= RESET_CYCLES {
                        let r = ready(host.run.core_cycles);
                        host.before_edge(e, &p, r);
                    }
                    core_edges += 1;
                }
                Domain::B => {
                    // Pins stay idle until the core is out of reset.
                    let n = phy_edges.checked_sub(RESET_CYCLES * 2);
                    let pin = n.and_then(|n| pins.get(n)).copied().unwrap_or(PinSample::IDLE);
                    e.set(rxd, pin.data as u64);
                    e.set(rx_dv, pin.dv as u64);
                    e.set(rx_er, pin.er as u64);
                    phy_edges += 1;
                }
            }
        }
        step_two_clocks(e, &mut clocks, p.clock, phy_clock);
    }
    Ok(host.finish(e, &p))
}
