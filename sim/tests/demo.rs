//! `nic demo` end to end: two simulated cards with the whole gateware, the driver and the
//! stack; HTTP statuses, echo and a CRC-checked transfer; the wire capture is a pcap of the
//! real exchange. Host software runs on the cards' simulated time, so the same seed gives
//! the byte-identical capture and the same summary every run, on every PHY and either
//! engine.
//!
//! A failing run prints its seed; rerun it with `NIC_SEED=<seed>`.
use nic_hdl::verilog::tools::tool_for_test;
use nic_sim::demo::{parse_args, run, DemoReport};
use nic_sim::pcap::read_pcap;
use serde_json::Value;

fn seed() -> u64 {
    std::env::var("NIC_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7)
}

/// One demo run with `args` (and the seed); its report and the capture's bytes.
fn demo(args: &[&str]) -> (DemoReport, Vec<u8>) {
    static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pcap = std::env::temp_dir().join(format!("nic-demo-test-{}-{n}.pcap", std::process::id()));
    let seed = seed().to_string();
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--seed".into(), seed.clone(), "--pcap".into(), pcap.display().to_string()]);
    let report = run(&parse_args(&all).unwrap()).unwrap_or_else(|e| panic!("seed {seed}: {args:?}: {e}"));
    let bytes = std::fs::read(&pcap).unwrap();
    let _ = std::fs::remove_file(&pcap);
    (report, bytes)
}

/// The summary less what measures the machine rather than the run (and the engine's name).
fn run_facts(summary: &Value) -> Value {
    let mut v = summary.clone();
    for k in ["wall_s", "running_wall_s", "card_clocks_per_wall_s", "engine"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

/// Every check of the exchange itself.
fn check_exchange(report: &DemoReport, pcap: &[u8], size: u64) {
    let seed = seed();
    assert!(report.http.iter().all(|(_, want, got)| want == got), "seed {seed}: {:?}", report.http);
    assert!(report.http.iter().any(|(r, _, got)| r.starts_with("DELETE") && *got == 405));
    assert!(report.echo_ok, "seed {seed}");
    assert_eq!(report.transfer_bytes, size);
    assert!(report.world.bus_violations.is_empty(), "seed {seed}: {:?}", report.world.bus_violations);
    assert_eq!(report.json["http"]["200"], 5, "seed {seed}: {}", report.json);
    // The capture holds the exchange: frames both ways, the HTTP status lines among them.
    let frames = read_pcap(pcap).unwrap();
    assert!(frames.len() > 50, "{} frames captured", frames.len());
    let has = |needle: &[u8]| frames.iter().any(|f| f.data.windows(needle.len()).any(|w| w == needle));
    assert!(has(b"HTTP/1.1 200 OK") && has(b"HTTP/1.1 404") && has(b"HTTP/1.1 405"));
    assert!(frames.iter().any(|f| f.data[12..14] == [0x08, 0x06]), "ARP on the wire");
}

/// Twice with one seed: the same capture, byte for byte, and the same summary; on a clean
/// wire not one TCP retransmission (no timer fires early on simulated time).
fn reproducible_and_clean(phy: &str, size: &str) {
    let seed = seed();
    let args = ["--phy", phy, "--size", size];
    let (first, pcap1) = demo(&args);
    check_exchange(&first, &pcap1, size.parse().unwrap());
    assert_eq!(first.retransmissions, 0, "seed {seed}: {phy}: a clean wire, {}", first.json);
    assert_eq!(first.json["wire_bad_frames"], 0);
    let (second, pcap2) = demo(&args);
    assert!(pcap1 == pcap2, "seed {seed}: {phy}: the two captures differ");
    assert_eq!(run_facts(&first.json), run_facts(&second.json), "seed {seed}: {phy}: the summaries differ");
}

#[test]
fn gmii_runs_are_reproducible_and_clean() {
    reproducible_and_clean("gmii", "131072");
}

#[test]
fn mii_runs_are_reproducible_and_clean() {
    reproducible_and_clean("mii", "16384");
}

#[test]
fn manchester_runs_are_reproducible_and_clean() {
    reproducible_and_clean("manchester", "16384");
}

#[test]
fn an_impaired_run_is_reproducible_and_its_retransmissions_are_real() {
    let seed = seed();
    let args = ["--phy", "gmii", "--size", "131072", "--ber", "4e-6", "--ppm", "100"];
    let (first, pcap1) = demo(&args);
    check_exchange(&first, &pcap1, 131072);
    let (second, pcap2) = demo(&args);
    assert!(pcap1 == pcap2, "seed {seed}: the two impaired captures differ");
    assert_eq!(run_facts(&first.json), run_facts(&second.json), "seed {seed}");
    // Every retransmission answers damage the capture shows: frames with a bad FCS on the
    // wire, each counted by the receiving card.
    let bad = first.json["wire_bad_frames"].as_u64().unwrap();
    let fcs: u64 = (0..2).map(|h| first.json["hosts"][h]["card"]["RX_FCS_ERRORS"].as_u64().unwrap()).sum();
    assert!(bad > 0 && fcs > 0, "seed {seed}: the bit errors damaged frames: {}", first.json);
    assert!(first.retransmissions > 0, "seed {seed}: the damaged data was sent again: {}", first.json);
}

#[test]
fn both_engines_give_the_identical_run() {
    if !tool_for_test("verilator") {
        return;
    }
    let seed = seed();
    let args = |engine| ["--phy", "gmii", "--size", "16384", "--engine", engine];
    let (fast, pcap_fast) = demo(&args("verilator"));
    let (slow, pcap_slow) = demo(&args("rust-hdl"));
    check_exchange(&slow, &pcap_slow, 16384);
    assert_eq!(slow.json["engine"], "rust-hdl");
    assert!(pcap_fast == pcap_slow, "seed {seed}: Verilator and Rust-HDL captures differ");
    assert_eq!(run_facts(&fast.json), run_facts(&slow.json), "seed {seed}");
}

#[test]
fn the_waveform_is_reproducible() {
    let seed = seed();
    let vcd = |n: u32| std::env::temp_dir().join(format!("nic-demo-test-{}-{n}.vcd", std::process::id()));
    let mut waves = Vec::new();
    for n in 0..2 {
        let path = vcd(n).display().to_string();
        let (report, pcap) = demo(&["--size", "2048", "--vcd", &path]);
        check_exchange(&report, &pcap, 2048);
        waves.push(std::fs::read(&path).unwrap());
        let _ = std::fs::remove_file(&path);
    }
    assert!(waves[0].len() > 100_000, "card A's ports were recorded: {} bytes", waves[0].len());
    assert!(waves[0] == waves[1], "seed {seed}: the two waveforms differ");
}

#[test]
fn bad_options_are_refused() {
    assert!(parse_args(&["--phy".into(), "rs232".into()]).unwrap_err().contains("not gmii, mii or manchester"));
    assert!(parse_args(&["--size".into(), "0".into()]).unwrap_err().contains("--size"));
    assert!(parse_args(&["--frobnicate".into()]).unwrap_err().contains("unknown option"));
}
