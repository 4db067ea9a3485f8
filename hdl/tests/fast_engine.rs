//! The Verilator engine (the exported Verilog, compiled) must deliver exactly what the
//! Rust-HDL simulation delivers on the same stimulus: frames, verdicts, counters and cycles.
//! This is what lets the 10,000-frame long tests run on it.
use nic_hdl::model::line::{encode_frames, LineConfig};
use nic_hdl::model::pins::{gmii_rx_pins, mii_rx_pins, ppm_period_ps, PinSample, RxFrameSpec, TwoClocks};
use nic_hdl::model::rx_reference::{mixed_traffic, MacConfig};
use nic_hdl::sim::Domain;
use nic_hdl::top::drive::{run_manchester_rx, run_pin_rx, RxRun};
use nic_hdl::top::rx_path::{RxGmiiTop, RxMiiTop};
use nic_hdl::verilog::tools::tool_for_test;
use nic_hdl::verilog::verilator::{FastRx, RxKind, Stimulus};

const READY_PERIOD: u32 = 7;

fn ready(c: u64) -> bool {
    c % READY_PERIOD as u64 != 0
}

fn traffic(seed: u64, n: usize) -> (MacConfig, Vec<Vec<u8>>) {
    mixed_traffic(seed, n, 60..=300)
}

fn same(label: &str, a: &RxRun, b: &RxRun) {
    assert!(a.protocol_errors.is_empty() && b.protocol_errors.is_empty(), "{label}");
    assert_eq!(a.frames, b.frames, "{label}: frames");
    assert_eq!(a.counters, b.counters, "{label}: counters");
    assert_eq!(a.core_cycles, b.core_cycles, "{label}: cycles");
    assert!(a.counters.fcs_errors > 0 && a.counters.filtered > 0 && !a.frames.is_empty(), "{label}: mixed traffic");
}

fn workdir(kind: RxKind) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nic-fast-{}-{kind:?}", std::process::id()))
}

#[test]
fn verilated_manchester_rx_equals_rust_hdl() {
    if !tool_for_test("verilator") {
        return;
    }
    let fast = FastRx::build(RxKind::Manchester, &workdir(RxKind::Manchester)).unwrap_or_else(|e| panic!("{e}"));
    let (cfg, frames) = traffic(1, 10);
    let line = LineConfig { ppm: -200.0, jitter_peak_ui: 0.1, seed: 1, ..Default::default() };
    let (words, _) = encode_frames(&line, &frames, 8);
    let rust = run_manchester_rx(&cfg, &words, 1000, ready, None);
    let verilated = fast
        .run(&cfg, &Stimulus::Manchester { words: &words, tail: 1000 }, READY_PERIOD)
        .unwrap_or_else(|e| panic!("{e}"));
    same("manchester", &rust, &verilated);
}

fn pins_equal<T: nic_hdl::top::drive::PinRxTop + Default>(
    kind: RxKind,
    pins_of: fn(&[u8], &RxFrameSpec) -> Vec<PinSample>,
    spec: RxFrameSpec,
    phy_ps: f64,
) {
    let fast = FastRx::build(kind, &workdir(kind)).unwrap_or_else(|e| panic!("{e}"));
    let (cfg, frames) = traffic(2, 12);
    let pins: Vec<PinSample> = frames.iter().flat_map(|f| pins_of(f, &spec)).collect();
    let (phy, delay) = (ppm_period_ps(phy_ps, 200.0), 1234.5);
    let clocks = TwoClocks::new(8000.0, phy).delayed(Domain::B, delay);
    let rust = run_pin_rx::<T>(&cfg, clocks, &pins, 800, ready, None);
    let stim = Stimulus::Pins { pins: &pins, core_ps: 8000.0, phy_ps: phy, phy_delay_ps: delay, tail: 800 };
    let verilated = fast.run(&cfg, &stim, READY_PERIOD).unwrap_or_else(|e| panic!("{e}"));
    same(&format!("{kind:?}"), &rust, &verilated);
}

#[test]
fn verilated_gmii_rx_equals_rust_hdl() {
    if tool_for_test("verilator") {
        pins_equal::<RxGmiiTop>(RxKind::Gmii, gmii_rx_pins, RxFrameSpec::gmii(), 8000.0);
    }
}

#[test]
fn verilated_mii_rx_equals_rust_hdl() {
    if tool_for_test("verilator") {
        pins_equal::<RxMiiTop>(RxKind::Mii, mii_rx_pins, RxFrameSpec::mii(), 40000.0);
    }
}
