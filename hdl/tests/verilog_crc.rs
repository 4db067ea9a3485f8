//! The CRC block's Verilog: lint-clean, synthesizable, and equal to Rust-HDL on random bytes.
use nic_hdl::mac::crc::Crc32Byte;
use nic_hdl::sim::cycle_traced;
use nic_hdl::verilog::{export::export, lint::lint, synth, tools::tool_for_test, vectors};
use rand::{Rng, SeedableRng};
use rust_hdl::prelude::*;

fn workdir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nic-hdl-{}-{name}", std::process::id()))
}

#[test]
fn crc_verilog_lints_synthesizes_and_replays() {
    if !(tool_for_test("verilator") && tool_for_test("yosys") && tool_for_test("iverilog")) {
        return;
    }
    let dir = workdir("crc");
    let mut uut = Crc32Byte::default();
    let module = export("fcs_crc32", &mut uut);
    lint(&module, &dir).unwrap_or_else(|e| panic!("{e}"));
    let r = synth::synthesize(&module, synth::Family::Ice40, &dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.luts > 32 && r.flip_flops >= 32, "{r:?}");

    let mut rec = vectors::VectorRecorder::new(&module);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for i in 0..500 {
        uut.init.next = i % 97 == 0;
        uut.enable.next = rng.gen_bool(0.8);
        uut.data.next = rng.gen::<u8>().to_bits();
        cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
    }
    let steps = vectors::replay(&module, &rec, &dir, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(steps, 1000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The replay must catch a Verilog that differs from the simulation: flip one polynomial bit.
#[test]
fn replay_detects_a_wrong_verilog() {
    if !tool_for_test("iverilog") {
        return;
    }
    let dir = workdir("crc-mutant");
    let mut uut = Crc32Byte::default();
    let mut module = export("fcs_crc32", &mut uut);
    assert!(module.source.contains("32'hedb88320"));
    module.source = module.source.replace("32'hedb88320", "32'hedb88321");
    let mut rec = vectors::VectorRecorder::new(&module);
    for b in 0..20u8 {
        uut.init.next = b == 0;
        uut.enable.next = true;
        uut.data.next = b.to_bits();
        cycle_traced(&mut uut, |u| &mut u.clock, Some(&mut rec));
    }
    match vectors::replay(&module, &rec, &dir, &[]) {
        Err(vectors::ReplayError::Mismatch { port, .. }) => assert!(port.starts_with("crc")),
        other => panic!("expected a mismatch, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
