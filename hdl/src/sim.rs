//! Stepping Rust-HDL blocks by hand, which is much faster than the threaded `Simulation`.
use crate::verilog::vectors::VectorRecorder;
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
    cycle_traced(uut, clk, None)
}

/// [`cycle`], recording the ports after each of its two steps when `rec` is given, for a
/// Verilog replay (`verilog::vectors`).
pub fn cycle_traced<B: Block>(
    uut: &mut B,
    clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    mut rec: Option<&mut VectorRecorder>,
) {
    clk(uut).next = Clock::from(false);
    settle(uut);
    if let Some(r) = rec.as_deref_mut() {
        r.record(uut);
    }
    clk(uut).next = Clock::from(true);
    settle(uut);
    if let Some(r) = rec {
        r.record(uut);
    }
}

/// Which of the two clocks of a [`TwoClocks`] schedule an edge belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Domain {
    /// The first clock given to [`TwoClocks::new`] (by convention the core clock).
    A,
    /// The second clock (by convention the PHY's clock).
    B,
}

/// One clock edge of a [`TwoClocks`] schedule.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub domain: Domain,
    pub rising: bool,
    /// Simulated time of the edge in femtoseconds (so that a ppm offset on a 8 ns period,
    /// 8001.6 ps, is still exact).
    pub time_fs: u64,
}

/// Two free-running clocks with independent periods, stepped edge by edge: the clock whose
/// next edge comes first is always the one advanced (A first on a tie), exactly as two
/// unrelated oscillators would drive a clock-domain crossing. Both clocks start low at time
/// zero and rise half a period later.
#[derive(Clone, Debug)]
pub struct TwoClocks {
    half_fs: [u64; 2],
    next_fs: [u64; 2],
    high: [bool; 2],
}

/// The period in picoseconds of a clock that is `ppm` parts per million slow (positive) or
/// fast (negative) relative to a nominal period: `nominal_ps * (1 + ppm * 1e-6)`.
pub fn ppm_period_ps(nominal_ps: f64, ppm: f64) -> f64 {
    nominal_ps * (1.0 + ppm * 1e-6)
}

impl TwoClocks {
    /// Clocks with the given periods in picoseconds (fractions allowed, rounded to 2 fs).
    pub fn new(period_a_ps: f64, period_b_ps: f64) -> Self {
        let half = |p: f64| {
            assert!(p.is_finite() && p > 0.0, "clock period must be positive, got {p}");
            ((p * 1000.0 / 2.0).round() as u64).max(1)
        };
        let half_fs = [half(period_a_ps), half(period_b_ps)];
        Self { half_fs, next_fs: half_fs, high: [false, false] }
    }

    /// Delay the first edge of one clock by `ps` picoseconds, to start the two clocks at
    /// another relative phase.
    pub fn delayed(mut self, domain: Domain, ps: f64) -> Self {
        assert!(ps.is_finite() && ps >= 0.0, "delay must be non-negative, got {ps}");
        self.next_fs[(domain == Domain::B) as usize] += (ps * 1000.0).round() as u64;
        self
    }

    /// The next edge, without applying it.
    pub fn peek(&self) -> Edge {
        let i = if self.next_fs[0] <= self.next_fs[1] { 0 } else { 1 };
        Edge { domain: if i == 0 { Domain::A } else { Domain::B }, rising: !self.high[i], time_fs: self.next_fs[i] }
    }

    /// Take the next edge off the schedule without applying it to anything, for engines
    /// that are not Rust-HDL blocks (`engine::step_two_clocks`). Returns it.
    pub fn advance(&mut self) -> Edge {
        let e = self.peek();
        let i = (e.domain == Domain::B) as usize;
        self.high[i] = e.rising;
        self.next_fs[i] += self.half_fs[i];
        e
    }

    /// Apply the next edge to `uut`: settle first (so inputs the caller set since the last
    /// edge are stable when the clock moves, as a real setup time guarantees), then toggle
    /// that domain's clock and settle again. Returns the edge that was applied.
    pub fn step<B: Block>(
        &mut self,
        uut: &mut B,
        clk_a: impl Fn(&mut B) -> &mut Signal<In, Clock>,
        clk_b: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    ) -> Edge {
        self.step_traced(uut, clk_a, clk_b, None)
    }

    /// [`TwoClocks::step`], recording the ports after each settle when `rec` is given, for
    /// a Verilog replay (`verilog::vectors`).
    pub fn step_traced<B: Block>(
        &mut self,
        uut: &mut B,
        clk_a: impl Fn(&mut B) -> &mut Signal<In, Clock>,
        clk_b: impl Fn(&mut B) -> &mut Signal<In, Clock>,
        mut rec: Option<&mut VectorRecorder>,
    ) -> Edge {
        let e = self.peek();
        let i = (e.domain == Domain::B) as usize;
        settle(uut);
        if let Some(r) = rec.as_deref_mut() {
            r.record(uut);
        }
        let clk = if i == 0 { clk_a(uut) } else { clk_b(uut) };
        clk.next = Clock::from(e.rising);
        settle(uut);
        if let Some(r) = rec {
            r.record(uut);
        }
        self.advance()
    }
}
