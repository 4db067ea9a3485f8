//! Cycles per second of the two simulation engines behind the `engine::Engine` trait, on the
//! GMII RX top (PHY, MAC, filter, FIFO; core and PHY clocks 100 ppm apart), driven through
//! `&mut dyn Engine` so every set/get/eval pays the trait call and, for Verilator, the FFI
//! call into the compiled library. Prints one JSON object.
//!
//!   cargo run --release -p nic-hdl --example bench_engine [-- --frames N]
//!
//! `core_cycles_per_second` counts core clock cycles (each is two evals per clock domain
//! edge pair, as `engine::step_two_clocks` steps them). The Verilator figure excludes the
//! build (`build_seconds`, near 0 when the library came from the cache); it is averaged
//! over repeated runs of the same stimulus lasting at least one second.
use nic_hdl::engine::verilated::{VerilatedCache, VerilatedLibrary};
use nic_hdl::engine::Engine;
use nic_hdl::model::pins::{gmii_rx_pins, ppm_period_ps, PinSample, RxFrameSpec, TwoClocks};
use nic_hdl::model::rx_reference::{expected_rx_sent, mixed_traffic};
use nic_hdl::top::drive::RxRun;
use nic_hdl::top::engines::{run_pin_rx_on, RxGmiiEngine};
use nic_hdl::top::rx_path::RxGmiiTop;
use nic_hdl::verilog::export::export;
use serde_json::json;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_frames = args
        .iter()
        .position(|a| a == "--frames")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(40);
    let (cfg, frames) = mixed_traffic(7, n_frames, 60..=1514);
    let pins: Vec<PinSample> = frames.iter().flat_map(|f| gmii_rx_pins(f, &RxFrameSpec::gmii())).collect();
    let clocks = TwoClocks::new(8000.0, ppm_period_ps(8000.0, 100.0));
    let expect = expected_rx_sent(&cfg, &frames).0;
    let run_on = |e: &mut dyn Engine| -> RxRun {
        let run = run_pin_rx_on(e, &cfg, clocks.clone(), &pins, 400, |_| true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.frames, expect, "{}: frames differ from the reference", e.name());
        run
    };

    let mut hdl = RxGmiiEngine::new(RxGmiiTop::default()).unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let run = run_on(&mut hdl);
    let hdl_secs = t.elapsed().as_secs_f64();
    let cycles = run.core_cycles as f64;
    let hdl_cps = cycles / hdl_secs;

    let module = export("nic_rx_gmii", &mut RxGmiiTop::default());
    let t = Instant::now();
    let verilator = match VerilatedLibrary::build(&module, &VerilatedCache::default_location()) {
        Ok(lib) => {
            let build_secs = t.elapsed().as_secs_f64();
            let (mut runs, mut secs) = (0u32, 0.0);
            while secs < 1.0 {
                let mut e = lib.instantiate();
                let t = Instant::now();
                let v = run_on(&mut e);
                secs += t.elapsed().as_secs_f64();
                runs += 1;
                assert_eq!((v.counters, v.core_cycles), (run.counters, run.core_cycles), "engines disagree");
            }
            let cps = cycles * runs as f64 / secs;
            json!({
                "core_cycles_per_second": cps.round(),
                "runs": runs,
                "seconds": (secs * 1000.0).round() / 1000.0,
                "build_seconds": (build_secs * 100.0).round() / 100.0,
                "from_cache": lib.reused(),
            })
        }
        Err(e) => json!({ "core_cycles_per_second": null, "note": e.to_string() }),
    };
    let ratio = verilator["core_cycles_per_second"].as_f64().map(|v| (v / hdl_cps * 10.0).round() / 10.0);
    let out = json!({
        "top": "nic_rx_gmii",
        "frames": n_frames,
        "frames_delivered": run.frames.len(),
        "core_cycles": run.core_cycles,
        "rust_hdl": {
            "core_cycles_per_second": hdl_cps.round(),
            "seconds": (hdl_secs * 1000.0).round() / 1000.0,
        },
        "verilator": verilator,
        "verilator_over_rust_hdl": ratio,
    });
    println!("{out}");
}
