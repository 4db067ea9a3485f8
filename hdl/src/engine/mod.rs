//! The simulation engine: what the host model needs from a simulator of the gateware, and
//! nothing more — set inputs, let the logic settle, read outputs. Clocks are ordinary 1-bit
//! inputs, so any number of clock domains is driven the same way.
//!
//! Two engines implement [`Engine`]:
//! * [`rust_hdl::HdlEngine`] (through the [`hdl_engine!`](crate::hdl_engine) macro) steps a
//!   Rust-HDL top, exactly as [`crate::sim`] does;
//! * [`verilated::Verilated`] runs the exported Verilog of the same top, compiled by Verilator
//!   into a shared library and called through a C ABI: many times faster.
//!
//! Both agree cycle for cycle on every port when driven through the helpers here ([`edge`],
//! [`step_two_clocks`]); `tests/engine.rs` proves it. [`vcd::VcdRecorder`] writes a waveform
//! of either; [`lockstep::Lockstep`] runs two engines side by side and reports where they
//! differ.
//!
//! Ports are numbered by their index in [`Engine::ports`]: resolve names once
//! ([`resolve_ports`]), then call [`Engine::set`]/[`Engine::get`] with indices on the hot path.
//! Values travel as `u64`: ports wider than 64 bits are refused when an engine is built.
pub mod error;
pub mod lockstep;
pub mod rust_hdl;
pub mod vcd;
pub mod verilated;

pub use error::EngineError;

use crate::sim::{Domain, Edge, TwoClocks};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PortDir {
    In,
    Out,
}

/// One port of an engine's top.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortInfo {
    pub name: String,
    /// 1 to 64 bits.
    pub width: u32,
    pub dir: PortDir,
}

impl PortInfo {
    /// The mask of the port's `width` low bits.
    pub fn mask(&self) -> u64 {
        mask(self.width)
    }
}

/// The mask of `width` low bits (all ones from 64 on).
pub fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// A simulator of one top-level block, stepped from outside.
///
/// The contract both engines keep: [`Engine::set`] changes an input for the next
/// [`Engine::eval`]; [`Engine::eval`] settles all logic, including the registers a changed
/// clock input clocks; [`Engine::get`] reads a port as of the last `eval`.
pub trait Engine: Send {
    /// The ports of the top, in a fixed order: a port's id is its index here.
    fn ports(&self) -> &[PortInfo];

    /// A short description for messages (`rust-hdl RxGmiiTop`, `verilator nic_rx_gmii`).
    fn name(&self) -> &str {
        "engine"
    }

    /// The id of the port called `name`.
    fn port_id(&self, name: &str) -> Option<usize> {
        self.ports().iter().position(|p| p.name == name)
    }

    /// Set input `port` to `value` (bits above the port's width are dropped). Panics if
    /// `port` is out of range or an output.
    fn set(&mut self, port: usize, value: u64);

    /// The value of `port` (an output or an input) as of the last [`Engine::eval`].
    fn get(&mut self, port: usize) -> u64;

    /// Settle the logic after inputs (clocks included) changed.
    fn eval(&mut self);
}

impl<E: Engine + ?Sized> Engine for Box<E> {
    fn ports(&self) -> &[PortInfo] {
        (**self).ports()
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn port_id(&self, name: &str) -> Option<usize> {
        (**self).port_id(name)
    }
    fn set(&mut self, port: usize, value: u64) {
        (**self).set(port, value)
    }
    fn get(&mut self, port: usize) -> u64 {
        (**self).get(port)
    }
    fn eval(&mut self) {
        (**self).eval()
    }
}

/// Resolve port names to ids once, failing with the list of available ports on a name the
/// engine does not have:
///
/// ```ignore
/// let [clock, rxd, out_valid] = resolve_ports(&engine, ["clock", "rxd", "out_valid"])?;
/// ```
pub fn resolve_ports<E: Engine + ?Sized, const N: usize>(
    engine: &E,
    names: [&str; N],
) -> Result<[usize; N], EngineError> {
    let mut ids = [0usize; N];
    for (id, name) in ids.iter_mut().zip(names) {
        *id = engine.port_id(name).ok_or_else(|| EngineError::UnknownPort {
            engine: engine.name().to_string(),
            name: name.to_string(),
            available: engine.ports().iter().map(|p| p.name.clone()).collect(),
        })?;
    }
    Ok(ids)
}

/// Refuse ports wider than 64 bits (for engine constructors).
pub(crate) fn check_widths(engine: &str, ports: &[PortInfo]) -> Result<(), EngineError> {
    match ports.iter().find(|p| p.width > 64 || p.width == 0) {
        Some(p) => Err(EngineError::WidePort { engine: engine.to_string(), port: p.name.clone(), width: p.width }),
        None => Ok(()),
    }
}

/// One full cycle of `clock`, as [`crate::sim::cycle`] does it: the clock goes low and the
/// inputs set since the last call settle, then the clock rises and the logic settles again.
/// Set inputs before calling; read registered outputs after.
pub fn edge<E: Engine + ?Sized>(engine: &mut E, clock: usize) {
    engine.set(clock, 0);
    engine.eval();
    engine.set(clock, 1);
    engine.eval();
}

/// Apply the next edge of `clocks` (A on `clock_a`, B on `clock_b`), as
/// [`TwoClocks::step`] does on a Rust-HDL block: settle the inputs set since the last step,
/// move that clock, settle again. Returns the edge applied.
pub fn step_two_clocks<E: Engine + ?Sized>(
    engine: &mut E,
    clocks: &mut TwoClocks,
    clock_a: usize,
    clock_b: usize,
) -> Edge {
    let e = clocks.advance();
    engine.eval();
    let clock = match e.domain {
        Domain::A => clock_a,
        Domain::B => clock_b,
    };
    engine.set(clock, e.rising as u64);
    engine.eval();
    e
}

/// Every port's value, in port order (for traces and comparisons).
pub fn snapshot<E: Engine + ?Sized>(engine: &mut E) -> Vec<u64> {
    (0..engine.ports().len()).map(|i| engine.get(i)).collect()
}
