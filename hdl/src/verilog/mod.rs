//! What happens to the gateware after Rust-HDL: Verilog export, lint, synthesis, and
//! replaying simulation vectors on the generated Verilog to prove both agree.
pub mod export;
pub mod lint;
pub mod synth;
pub mod tools;
pub mod vectors;
