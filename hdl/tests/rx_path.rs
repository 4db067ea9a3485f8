//! The whole receive path, per PHY: random frames (60–1514 B plus FCS; destinations ours,
//! broadcast, joined and unjoined multicast, others) at 0, +200 and −200 ppm, through the
//! exported top (PHY, MAC, filter, store-and-forward FIFO), against the plain-Rust
//! reference. Every frame that should pass arrives byte-exact and in order; nothing else
//! arrives; with bit errors injected, no corrupted frame is delivered and the FCS-error
//! counter equals the number of corrupted frames.
//!
//! The default run keeps a representative subset in the Rust-HDL simulator. The long tests
//! (`NIC_LONG=1 tests/run`, or `cargo test --release -p nic-hdl --test rx_path -- --ignored`)
//! run 10,000 frames per configuration on the same tops compiled by Verilator
//! (`verilog::verilator`; `tests/fast_engine.rs` shows both engines agree cycle for cycle),
//! because Rust-HDL would take hours. A failing run prints its seed; rerun with
//! `NIC_SEED=<seed>`.
use nic_hdl::model::line::{encode_frames, LineConfig};
use nic_hdl::model::pins::{gmii_rx_pins, mii_rx_pins, ppm_period_ps, PinSample, RxFrameSpec, TwoClocks};
use nic_hdl::model::rx_reference::{expected_rx_sent, random_frame, with_fcs, DestClass, MacConfig, RxCounters};
use nic_hdl::top::drive::{run_manchester_rx, run_pin_rx, RxRun};
use nic_hdl::top::rx_path::{RxGmiiTop, RxMiiTop};
use nic_hdl::verilog::verilator::{FastRx, RxKind, Stimulus};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PPMS: [f64; 3] = [0.0, 200.0, -200.0];

fn seed(default: u64) -> u64 {
    std::env::var("NIC_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn mac_config() -> MacConfig {
    let mut cfg = MacConfig { station: [0x02, 0x00, 0x00, 0x00, 0x00, 0x01], ..Default::default() };
    cfg.join(&[0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB]); // mDNS
    cfg.join(&[0x33, 0x33, 0x00, 0x00, 0x00, 0x01]); // IPv6 all-nodes
    cfg
}

/// `n` random frames without FCS: the first two are the shortest and the longest, then
/// random lengths in 60..=1514 and random destination classes.
fn random_frames(rng: &mut ChaCha8Rng, cfg: &MacConfig, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = match i {
                0 => 60,
                1 => 1514,
                _ => rng.gen_range(60..=1514),
            };
            let class = DestClass::ALL[rng.gen_range(0..DestClass::ALL.len())];
            random_frame(rng, cfg, class, len).expect("config allows every class")
        })
        .collect()
}

/// What the reference says should reach the host, for frames (FCS included) as the PHY
/// delivered them.
fn reference(cfg: &MacConfig, sent: &[Vec<u8>]) -> (Vec<nic_hdl::model::rx_reference::DeliveredFrame>, RxCounters) {
    expected_rx_sent(cfg, sent)
}

/// Compare a run with the reference; `corrupted` frames must be counted as FCS errors.
fn check(label: &str, seed: u64, cfg: &MacConfig, clean: &[Vec<u8>], corrupted: &[bool], run: &RxRun) {
    let ctx = format!("{label} (seed {seed}; rerun with NIC_SEED={seed})");
    let kept: Vec<Vec<u8>> = clean.iter().zip(corrupted).filter(|(_, &c)| !c).map(|(f, _)| with_fcs(f)).collect();
    let (want, want_counters) = reference(cfg, &kept);
    let n_corrupted = corrupted.iter().filter(|&&c| c).count() as u32;
    assert!(run.protocol_errors.is_empty(), "{ctx}: {:?}", run.protocol_errors);
    assert_eq!(run.frames.len(), want.len(), "{ctx}: frames delivered");
    for (i, (got, want)) in run.frames.iter().zip(&want).enumerate() {
        assert_eq!(got.verdict, want.verdict, "{ctx}: verdict of delivered frame {i}");
        assert!(got.bytes == want.bytes, "{ctx}: bytes of delivered frame {i} differ");
    }
    let c = run.counters;
    assert_eq!(c.frames_ok, want_counters.frames_ok, "{ctx}: frames_ok");
    assert_eq!(c.filtered, want_counters.filtered, "{ctx}: filtered");
    assert_eq!(c.fcs_errors, n_corrupted, "{ctx}: FCS errors = corrupted frames");
    assert_eq!((c.runts, c.giants, c.phy_errors, c.bad_preamble), (0, 0, 0, 0), "{ctx}: other drops");
    assert_eq!(c.fifo_overflows, 0, "{ctx}: FIFO overflows");
    assert_eq!(c.phy_events, 0, "{ctx}: code violations / CDC overflows");
    // Visible with --nocapture (the long runs report what they covered).
    println!(
        "{{\"run\":\"{label}\",\"seed\":{seed},\"frames_sent\":{},\"delivered\":{},\"filtered\":{},\"fcs_errors\":{},\"core_cycles\":{}}}",
        clean.len(),
        run.frames.len(),
        c.filtered,
        c.fcs_errors,
        run.core_cycles
    );
}

/// Backpressure from the host: `out_ready` low one core clock in eight.
const READY_PERIOD: u32 = 8;

fn host_ready(c: u64) -> bool {
    c % READY_PERIOD as u64 != 0
}

/// Which simulator runs the top.
#[derive(Clone, Copy)]
enum Engine {
    RustHdl,
    Verilator,
}

fn fast(kind: RxKind) -> FastRx {
    let dir = std::env::temp_dir().join(format!("nic-long-{}-{kind:?}", std::process::id()));
    FastRx::build(kind, &dir).unwrap_or_else(|e| panic!("{e}"))
}

fn manchester(frames_per_ppm: usize, base_seed: u64, ber: f64, engine: Engine) {
    let verilated = matches!(engine, Engine::Verilator).then(|| fast(RxKind::Manchester));
    let cfg = mac_config();
    for (k, ppm) in PPMS.into_iter().enumerate() {
        let seed = seed(base_seed + k as u64);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let frames = random_frames(&mut rng, &cfg, frames_per_ppm);
        let line = LineConfig { ppm, jitter_peak_ui: 0.1, bit_error_rate: ber, seed, ..Default::default() };
        let on_line: Vec<Vec<u8>> = frames.iter().map(|f| with_fcs(f)).collect();
        let (words, reports) = encode_frames(&line, &on_line, 8);
        let corrupted: Vec<bool> = reports.iter().map(|r| r.corrupted).collect();
        if ber > 0.0 {
            assert!(corrupted.iter().any(|&c| c), "seed {seed}: the bit error rate corrupted nothing");
        }
        let run = match &verilated {
            None => run_manchester_rx(&cfg, &words, 4000, host_ready, None),
            Some(f) => f
                .run(&cfg, &Stimulus::Manchester { words: &words, tail: 4000 }, READY_PERIOD)
                .unwrap_or_else(|e| panic!("{e}")),
        };
        check(&format!("manchester {ppm:+} ppm, BER {ber}"), seed, &cfg, &frames, &corrupted, &run);
    }
}

/// GMII/MII pins for the frames, each with a chance of one flipped bit after the SFD.
fn pins_for(
    frames: &[Vec<u8>],
    rng: &mut ChaCha8Rng,
    flip: f64,
    pins: fn(&[u8], &RxFrameSpec) -> Vec<PinSample>,
    spec: &RxFrameSpec,
) -> (Vec<PinSample>, Vec<bool>) {
    let mut all = Vec::new();
    let mut corrupted = Vec::new();
    for f in frames {
        let mut bytes = with_fcs(f);
        let bad = rng.gen_bool(flip);
        if bad {
            let bit = rng.gen_range(0..bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        corrupted.push(bad);
        all.extend(pins(&bytes, spec));
    }
    (all, corrupted)
}

fn external_phy<T: nic_hdl::top::drive::PinRxTop + Default>(
    label: &str,
    phy_period_ps: f64,
    pins: fn(&[u8], &RxFrameSpec) -> Vec<PinSample>,
    spec: RxFrameSpec,
    frames_per_ppm: usize,
    base_seed: u64,
    flip: f64,
    engine: Engine,
) {
    let kind = if phy_period_ps == 8000.0 { RxKind::Gmii } else { RxKind::Mii };
    let verilated = matches!(engine, Engine::Verilator).then(|| fast(kind));
    let cfg = mac_config();
    for (k, ppm) in PPMS.into_iter().enumerate() {
        let seed = seed(base_seed + k as u64);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let frames = random_frames(&mut rng, &cfg, frames_per_ppm);
        let (stimulus, corrupted) = pins_for(&frames, &mut rng, flip, pins, &spec);
        // Core clock 125 MHz; the PHY's clock is off by `ppm`, starting at a random phase.
        let phy_ps = ppm_period_ps(phy_period_ps, ppm);
        let delay = rng.gen_range(0.0..phy_period_ps);
        let clocks = TwoClocks::new(8000.0, phy_ps).delayed(nic_hdl::sim::Domain::B, delay);
        // Enough idle PHY clocks after the last frame for the FIFO to hand over a maximum
        // frame at the host's pace (store and forward: the last frame starts after its end).
        let tail = (4.0 * 1522.0 * 8000.0 / phy_period_ps) as usize;
        let run = match &verilated {
            None => run_pin_rx::<T>(&cfg, clocks, &stimulus, tail, host_ready, None),
            Some(f) => {
                let stim =
                    Stimulus::Pins { pins: &stimulus, core_ps: 8000.0, phy_ps, phy_delay_ps: delay, tail: tail as u64 };
                f.run(&cfg, &stim, READY_PERIOD).unwrap_or_else(|e| panic!("{e}"))
            }
        };
        check(&format!("{label} {ppm:+} ppm, flip {flip}"), seed, &cfg, &frames, &corrupted, &run);
    }
}

#[test]
fn manchester_random_frames_at_0_and_200_ppm_with_jitter() {
    manchester(12, 100, 0.0, Engine::RustHdl);
}

#[test]
fn manchester_bit_errors_are_never_delivered_and_are_counted() {
    manchester(12, 200, 1e-4, Engine::RustHdl);
}

#[test]
fn gmii_random_frames_at_0_and_200_ppm() {
    external_phy::<RxGmiiTop>("gmii", 8000.0, gmii_rx_pins, RxFrameSpec::gmii(), 150, 300, 0.0, Engine::RustHdl);
}

#[test]
fn gmii_corrupted_frames_are_never_delivered_and_are_counted() {
    external_phy::<RxGmiiTop>("gmii", 8000.0, gmii_rx_pins, RxFrameSpec::gmii(), 150, 400, 0.2, Engine::RustHdl);
}

#[test]
fn mii_random_frames_at_0_and_200_ppm() {
    external_phy::<RxMiiTop>("mii", 40000.0, mii_rx_pins, RxFrameSpec::mii(), 30, 500, 0.0, Engine::RustHdl);
}

#[test]
fn mii_corrupted_frames_are_never_delivered_and_are_counted() {
    external_phy::<RxMiiTop>("mii", 40000.0, mii_rx_pins, RxFrameSpec::mii(), 30, 600, 0.2, Engine::RustHdl);
}

#[test]
#[ignore = "long: 10,000 frames per configuration on the Verilated top; run with NIC_LONG=1 tests/run"]
fn long_manchester_10k_frames_per_ppm() {
    manchester(10_000, 1100, 0.0, Engine::Verilator);
    manchester(10_000, 1200, 1e-5, Engine::Verilator);
}

#[test]
#[ignore = "long: 10,000 frames per configuration on the Verilated top; run with NIC_LONG=1 tests/run"]
fn long_gmii_10k_frames_per_ppm() {
    external_phy::<RxGmiiTop>("gmii", 8000.0, gmii_rx_pins, RxFrameSpec::gmii(), 10_000, 1300, 0.05, Engine::Verilator);
}

#[test]
#[ignore = "long: 10,000 frames per configuration on the Verilated top; run with NIC_LONG=1 tests/run"]
fn long_mii_10k_frames_per_ppm() {
    external_phy::<RxMiiTop>("mii", 40000.0, mii_rx_pins, RxFrameSpec::mii(), 10_000, 1400, 0.05, Engine::Verilator);
}
