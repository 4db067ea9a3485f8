//! Stepping Rust-HDL blocks by hand, which is much faster than the threaded `Simulation`.
use rust_hdl::prelude::*;

/// Largest number of delta cycles a settle may take before we call the logic unstable.
pub const MAX_SETTLE: usize = 1000;

/// Let combinational logic settle after inputs changed. Panics on a combinational loop,
/// which is a design bug, not a runtime condition.
pub fn settle<B: Block>(uut: &mut B) {
    assert!(simulate(uut, MAX_SETTLE), "logic did not settle: combinational loop?");
}

/// One full cycle of the clock selected by `clk`: settle the new inputs, rising edge,
/// settle, falling edge, settle. Set inputs before calling; read registered outputs after.
/// The first settle matters: if inputs and the clock edge were applied in the same
/// `simulate`, a register behind a combinational path (e.g. in a sub-block) could sample
/// the old value or the new one depending on evaluation order.
pub fn cycle<B: Block>(uut: &mut B, clk: impl Fn(&mut B) -> &mut Signal<In, Clock>) {
    settle(uut);
    clk(uut).next = Clock::from(true);
    settle(uut);
    clk(uut).next = Clock::from(false);
    settle(uut);
}
