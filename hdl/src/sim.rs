//! Stepping Rust-HDL blocks by hand, which is much faster than the threaded `Simulation`.
use rust_hdl::prelude::*;

/// Largest number of delta cycles a settle may take before we call the logic unstable.
pub const MAX_SETTLE: usize = 1000;

/// Let combinational logic settle after inputs changed. Panics on a combinational loop,
/// which is a design bug, not a runtime condition.
pub fn settle<B: Block>(uut: &mut B) {
    assert!(simulate(uut, MAX_SETTLE), "logic did not settle: combinational loop?");
}

/// One full cycle of the clock selected by `clk`. Set inputs before calling; read registered
/// outputs after.
///
/// The new inputs settle while the clock is low, and only then does the clock rise: inputs
/// never change on the same step as an edge, so a Verilog simulator replaying the same steps
/// (see `verilog::vectors`) sees no race.
pub fn cycle<B: Block>(uut: &mut B, clk: impl Fn(&mut B) -> &mut Signal<In, Clock>) {
    clk(uut).next = Clock::from(false);
    settle(uut);
    clk(uut).next = Clock::from(true);
    settle(uut);
}

/// [`cycle`], recording the ports after each of its two steps for a Verilog replay.
pub fn cycle_recorded<B: Block>(
    uut: &mut B,
    clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    rec: &mut crate::verilog::vectors::VectorRecorder,
) {
    clk(uut).next = Clock::from(false);
    settle(uut);
    rec.record(uut);
    clk(uut).next = Clock::from(true);
    settle(uut);
    rec.record(uut);
}
