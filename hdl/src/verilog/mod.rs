//! What happens to the gateware after Rust-HDL: Verilog export, lint, synthesis, place and
//! route (ECP5, for timing), and replaying simulation vectors on the generated Verilog to
//! prove both agree.
pub mod ebr_outreg;
pub mod export;
pub mod lint;
pub mod pnr;
pub mod synth;
pub mod tools;
pub mod vectors;
pub mod verilator;

use rust_hdl::prelude::Block;
use std::path::PathBuf;

/// A fresh scratch directory for the Verilog checks of one test, unique per process.
pub fn workdir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nic-hdl-{}-{name}", std::process::id()))
}

/// The Verilog checks of a block's unit tests: export `uut` as module `name`, lint it
/// (`lint::lint`, `-Wall` with `hdl/nic.vlt`) and check its structure in Yosys
/// (`synth::check`); panics on any finding. Returns the module, or `None` when a tool is
/// missing and the test is skipped (`tools::tool_for_test`).
pub fn assert_lints_and_checks<B: Block>(name: &str, uut: &mut B) -> Option<export::VerilogModule> {
    if !(tools::tool_for_test("verilator") && tools::tool_for_test("yosys")) {
        return None;
    }
    let module = export::export(name, uut);
    let dir = workdir(&format!("check-{name}"));
    lint::lint(&module, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    synth::check(&module, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    Some(module)
}

/// Replay `rec` on `module` in Icarus Verilog (`vectors::replay`) and panic on the first
/// output that differs from Rust-HDL; returns the number of steps compared. Call only when
/// `tools::tool_for_test("iverilog")` said yes.
pub fn assert_replays(
    module: &export::VerilogModule,
    rec: &vectors::VectorRecorder,
    qualified: &[vectors::Qualified],
) -> usize {
    let dir = workdir(&format!("replay-{}", module.name));
    let steps = vectors::replay(module, rec, &dir, qualified)
        .unwrap_or_else(|e| panic!("{}: Verilog vs Rust-HDL: {e}", module.name));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(steps, rec.len(), "{}: every recorded step compared", module.name);
    steps
}
