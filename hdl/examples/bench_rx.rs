//! Simulation speed of the whole receive path (PHY, MAC, filter, FIFO), per PHY, in the
//! Rust-HDL simulator, beside two peers running the generated Verilog on the same stimulus:
//! Icarus Verilog (replaying the recorded port vectors) and Verilator (the compiled top with
//! the `verilog::verilator` harness). Prints one JSON object.
//!
//!   cargo run --release -p nic-hdl --example bench_rx [-- --frames N]
//!
//! `cycles_per_second` counts core clock cycles; `frames_per_second` random frames of
//! 60–1514 B (+FCS) per wall-clock second; `realtime_fraction` is simulated line time over
//! wall time (1.0 would be real time). Peer figures exclude compiling (Icarus testbench,
//! Verilator model); the ratios are Rust-HDL cycles/s over the peer's.
use nic_hdl::model::line::{encode_frames, LineConfig};
use nic_hdl::model::pins::{gmii_rx_pins, mii_rx_pins, ppm_period_ps, PinSample, RxFrameSpec, TwoClocks};
use nic_hdl::model::rx_reference::{random_frame, with_fcs, DestClass, MacConfig};
use nic_hdl::top::drive::{run_manchester_rx, run_pin_rx, RxRun};
use nic_hdl::top::rx_path::{RxGmiiTop, RxManchesterTop, RxMiiTop};
use nic_hdl::verilog::export::export;
use nic_hdl::verilog::vectors::{replay, Qualified, VectorRecorder};
use nic_hdl::verilog::verilator::{FastRx, RxKind, Stimulus};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::Block;
use serde_json::{json, Value};
use std::time::Instant;

const QUALIFIED: [Qualified; 4] = [
    Qualified { output: "out_data", when: "out_valid" },
    Qualified { output: "out_last", when: "out_valid" },
    Qualified { output: "out_len", when: "out_valid" },
    Qualified { output: "out_verdict", when: "out_valid" },
];

fn frames(n: usize, seed: u64) -> (MacConfig, Vec<Vec<u8>>) {
    let cfg = MacConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let frames = (0..n)
        .map(|_| {
            let len = rng.gen_range(60..=1514);
            with_fcs(&random_frame(&mut rng, &cfg, DestClass::Station, len).expect("station"))
        })
        .collect();
    (cfg, frames)
}

/// Run `go` twice: timed without recording, then recording vectors for Icarus; then the
/// same stimulus through the Verilated top.
fn measure<T: Block + Default>(
    name: &str,
    kind: RxKind,
    n_frames: usize,
    line_seconds_per_core_cycle: f64,
    go: impl Fn(Option<&mut VectorRecorder>) -> RxRun,
    stim: Stimulus,
    cfg: &MacConfig,
) -> Value {
    let t = Instant::now();
    let run = go(None);
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(run.frames.len(), n_frames, "{name}: every frame must arrive");
    let cycles = run.core_cycles as f64;

    let module = export(name, &mut T::default());
    let mut rec = VectorRecorder::new(&module);
    go(Some(&mut rec));
    let dir = std::env::temp_dir().join(format!("nic-bench-{}-{name}", std::process::id()));
    let peer = if nic_hdl::verilog::tools::tool_available("iverilog") {
        let t = Instant::now();
        let steps = replay(&module, &rec, &dir, &QUALIFIED).unwrap_or_else(|e| panic!("{name}: {e}"));
        let peer_secs = t.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&dir);
        // Two recorded steps per core cycle (clock low, clock high).
        let peer_cps = steps as f64 / 2.0 / peer_secs;
        json!({ "iverilog_cycles_per_second": peer_cps.round(), "rust_hdl_over_iverilog": (cycles / secs / peer_cps * 100.0).round() / 100.0 })
    } else {
        json!({ "iverilog_cycles_per_second": null, "note": "iverilog not installed" })
    };
    let dir = std::env::temp_dir().join(format!("nic-bench-fast-{}-{name}", std::process::id()));
    let verilator = match FastRx::build(kind, &dir) {
        Ok(fast) => {
            let t = Instant::now();
            let v = fast.run(cfg, &stim, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
            let vs = t.elapsed().as_secs_f64();
            assert_eq!(v.frames, run.frames, "{name}: Verilator and Rust-HDL disagree");
            let vcps = v.core_cycles as f64 / vs;
            json!({ "verilator_cycles_per_second": vcps.round(), "rust_hdl_over_verilator": (cycles / secs / vcps * 1000.0).round() / 1000.0 })
        }
        Err(e) => json!({ "verilator_cycles_per_second": null, "note": e.to_string() }),
    };
    json!({
        "frames": n_frames,
        "core_cycles": run.core_cycles,
        "seconds": (secs * 1000.0).round() / 1000.0,
        "cycles_per_second": (cycles / secs).round(),
        "frames_per_second": (n_frames as f64 / secs * 10.0).round() / 10.0,
        "realtime_fraction": cycles * line_seconds_per_core_cycle / secs,
        "peer_icarus": peer,
        "peer_verilator": verilator,
    })
}

fn pins(frames: &[Vec<u8>], f: fn(&[u8], &RxFrameSpec) -> Vec<PinSample>, spec: RxFrameSpec) -> Vec<PinSample> {
    frames.iter().flat_map(|fr| f(fr, &spec)).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scale = args
        .iter()
        .position(|a| a == "--frames")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(20);

    // Manchester: 20 MHz core clock, 8 samples per clock, 16 per bit (10 Mb/s).
    let (cfg, fr) = frames(scale, 1);
    let line = LineConfig { ppm: 100.0, jitter_peak_ui: 0.1, seed: 1, ..Default::default() };
    let (words, _) = encode_frames(&line, &fr, 8);
    let manchester = measure::<RxManchesterTop>(
        "nic_rx_manchester",
        RxKind::Manchester,
        fr.len(),
        50e-9,
        |rec| run_manchester_rx(&cfg, &words, 3200, |_| true, rec),
        Stimulus::Manchester { words: &words, tail: 3200 },
        &cfg,
    );

    // GMII: 125 MHz core and PHY clocks, 100 ppm apart.
    let (cfg, fr) = frames(scale * 5, 2);
    let stim = pins(&fr, gmii_rx_pins, RxFrameSpec::gmii());
    let phy_ps = ppm_period_ps(8000.0, 100.0);
    let gmii = measure::<RxGmiiTop>(
        "nic_rx_gmii",
        RxKind::Gmii,
        fr.len(),
        8e-9,
        |rec| run_pin_rx::<RxGmiiTop>(&cfg, TwoClocks::new(8000.0, phy_ps), &stim, 3200, |_| true, rec),
        Stimulus::Pins { pins: &stim, core_ps: 8000.0, phy_ps, phy_delay_ps: 0.0, tail: 3200 },
        &cfg,
    );

    // MII: 125 MHz core clock, 25 MHz PHY clock.
    let (cfg, fr) = frames(scale, 3);
    let stim = pins(&fr, mii_rx_pins, RxFrameSpec::mii());
    let phy_ps = ppm_period_ps(40000.0, 100.0);
    let mii = measure::<RxMiiTop>(
        "nic_rx_mii",
        RxKind::Mii,
        fr.len(),
        8e-9,
        |rec| run_pin_rx::<RxMiiTop>(&cfg, TwoClocks::new(8000.0, phy_ps), &stim, 700, |_| true, rec),
        Stimulus::Pins { pins: &stim, core_ps: 8000.0, phy_ps, phy_delay_ps: 0.0, tail: 700 },
        &cfg,
    );

    let out = json!({
        "benchmark": "rx_path_simulation_speed",
        "engine": "rust-hdl 0.46, hand-stepped",
        "manchester": manchester,
        "gmii": gmii,
        "mii": mii,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}
