//! Every exported top, as Verilog: lint-clean under `verilator -Wall` (waivers only in
//! hdl/nic.vlt), synthesizable by Yosys for Xilinx 7-series and iCE40, and equal, output by
//! output and step by step, to the Rust-HDL simulation when the same traffic is replayed in
//! Icarus Verilog. Missing tools skip these tests unless NIC_REQUIRE_TOOLS=1 (CI).
use nic_hdl::model::line::{encode_frames, LineConfig};
use nic_hdl::model::pins::{gmii_rx_pins, mii_rx_pins, ppm_period_ps, PinSample, RxFrameSpec, TwoClocks};
use nic_hdl::model::rx_reference::{random_frame, with_fcs, DestClass, MacConfig};
use nic_hdl::top::{self, drive, rx_path, tx_path};
use nic_hdl::verilog::export::{export, VerilogModule};
use nic_hdl::verilog::tools::tool_for_test;
use nic_hdl::verilog::vectors::{replay, Qualified, VectorRecorder};
use nic_hdl::verilog::{lint, synth};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::Block;

fn workdir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nic-hdl-{}-{name}", std::process::id()))
}

/// A few short frames to every destination class; the last (to another station) corrupted.
fn traffic() -> (MacConfig, Vec<Vec<u8>>) {
    let mut cfg = MacConfig::default();
    cfg.join(&[0x01, 0x00, 0x5E, 0x00, 0x00, 0x01]);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut frames: Vec<Vec<u8>> = DestClass::ALL
        .iter()
        .map(|&c| with_fcs(&random_frame(&mut rng, &cfg, c, 60).expect("class possible")))
        .collect();
    frames[4][20] ^= 0x10;
    (cfg, frames)
}

/// The host-side stream's payload is meaningful only while `out_valid` (the FIFO's RAM is
/// not initialised in hardware).
const RX_STREAM: [Qualified; 4] = [
    Qualified { output: "out_data", when: "out_valid" },
    Qualified { output: "out_last", when: "out_valid" },
    Qualified { output: "out_len", when: "out_valid" },
    Qualified { output: "out_verdict", when: "out_valid" },
];

fn replay_checked(module: &VerilogModule, rec: &VectorRecorder) {
    let dir = workdir(&module.name);
    let qualified: &[Qualified] = if module.name.starts_with("nic_rx") { &RX_STREAM } else { &[] };
    let steps = replay(module, rec, &dir, qualified).unwrap_or_else(|e| panic!("{}: {e}", module.name));
    assert_eq!(steps, rec.len());
    let _ = std::fs::remove_dir_all(&dir);
}

fn recorder_for<T: Block + Default>(name: &str) -> (VerilogModule, VectorRecorder) {
    let module = export(name, &mut T::default());
    let rec = VectorRecorder::new(&module);
    (module, rec)
}

#[test]
fn every_top_is_lint_clean() {
    if !tool_for_test("verilator") {
        return;
    }
    for m in top::all() {
        lint::lint(&m, &workdir("lint")).unwrap_or_else(|e| panic!("{}: {e}", m.name));
    }
    let _ = std::fs::remove_dir_all(workdir("lint"));
}

#[test]
fn every_top_synthesizes_for_7_series_and_ice40() {
    if !tool_for_test("yosys") {
        return;
    }
    for m in top::all() {
        for family in synth::Family::ALL {
            let r = synth::synthesize(&m, family, &workdir("synth"))
                .unwrap_or_else(|e| panic!("{} ({}): {e}", m.name, family.name()));
            assert!(r.luts > 50 && r.flip_flops > 50, "{} ({}): {r:?}", m.name, family.name());
            if m.name.starts_with("nic_rx") {
                // The 4 KiB store-and-forward FIFO must land in block RAM, not in logic.
                assert!(r.block_rams >= 2, "{} ({}): {r:?}", m.name, family.name());
            }
        }
    }
    let _ = std::fs::remove_dir_all(workdir("synth"));
}

#[test]
fn rx_manchester_verilog_matches_rust_hdl() {
    if !tool_for_test("iverilog") {
        return;
    }
    let (cfg, frames) = traffic();
    let line = LineConfig { ppm: 200.0, jitter_peak_ui: 0.1, seed: 3, ..Default::default() };
    let (words, _) = encode_frames(&line, &frames, 8);
    let (module, mut rec) = recorder_for::<rx_path::RxManchesterTop>("nic_rx_manchester");
    let run = drive::run_manchester_rx(&cfg, &words, 300, |c| c % 5 != 0, Some(&mut rec));
    assert_eq!(run.frames.len(), 3, "station, broadcast and joined multicast get through");
    assert_eq!(run.counters.fcs_errors, 1);
    replay_checked(&module, &rec);
}

fn pin_rx_replay<T: drive::PinRxTop + Default>(
    name: &str,
    pins: fn(&[u8], &RxFrameSpec) -> Vec<PinSample>,
    spec: RxFrameSpec,
    phy_ps: f64,
) {
    let (cfg, frames) = traffic();
    let stimulus: Vec<PinSample> = frames.iter().flat_map(|f| pins(f, &spec)).collect();
    let clocks = TwoClocks::new(8000.0, ppm_period_ps(phy_ps, -200.0));
    let (module, mut rec) = recorder_for::<T>(name);
    let run = drive::run_pin_rx::<T>(&cfg, clocks, &stimulus, 200, |c| c % 5 != 0, Some(&mut rec));
    assert_eq!(run.frames.len(), 3, "{name}");
    assert_eq!(run.counters.fcs_errors, 1, "{name}");
    replay_checked(&module, &rec);
}

#[test]
fn rx_gmii_verilog_matches_rust_hdl() {
    if tool_for_test("iverilog") {
        pin_rx_replay::<rx_path::RxGmiiTop>("nic_rx_gmii", gmii_rx_pins, RxFrameSpec::gmii(), 8000.0);
    }
}

#[test]
fn rx_mii_verilog_matches_rust_hdl() {
    if tool_for_test("iverilog") {
        pin_rx_replay::<rx_path::RxMiiTop>("nic_rx_mii", mii_rx_pins, RxFrameSpec::mii(), 40000.0);
    }
}

fn tx_frames() -> Vec<Vec<u8>> {
    let (_, frames) = traffic();
    let mut v: Vec<Vec<u8>> = frames
        .into_iter()
        .map(|mut f| {
            f.truncate(f.len() - 4);
            f
        })
        .collect();
    v.push(vec![0xAA; 20]); // padded to 60
    v
}

#[test]
fn tx_verilog_matches_rust_hdl_for_every_phy() {
    if !tool_for_test("iverilog") {
        return;
    }
    let frames = tx_frames();
    let (module, mut rec) = recorder_for::<tx_path::TxManchesterTop>("nic_tx_manchester");
    let (_, c) = drive::run_manchester_tx(&frames, 100, Some(&mut rec));
    assert_eq!(c.frames_sent as usize, frames.len());
    replay_checked(&module, &rec);

    let (module, mut rec) = recorder_for::<tx_path::TxGmiiTop>("nic_tx_gmii");
    let (_, c) = drive::run_gmii_tx(&frames, 20, Some(&mut rec));
    assert_eq!(c.frames_sent as usize, frames.len());
    replay_checked(&module, &rec);

    let (module, mut rec) = recorder_for::<tx_path::TxMiiTop>("nic_tx_mii");
    let clocks = TwoClocks::new(8000.0, ppm_period_ps(40000.0, 200.0));
    let (_, c) = drive::run_mii_tx(&frames, clocks, 40, Some(&mut rec));
    assert_eq!(c.frames_sent as usize, frames.len());
    replay_checked(&module, &rec);
}
