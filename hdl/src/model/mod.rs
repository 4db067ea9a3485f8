//! Plain-Rust models: the reference every block is checked against, and the line model
//! that turns frames into what a PHY sees. Used by the `hdl` tests and the simulation model.
pub mod axi_mem;
pub mod line;
pub mod pins;
pub mod rx_reference;
pub mod tx_reference;
