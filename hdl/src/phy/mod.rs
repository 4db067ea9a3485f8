//! PHYs: the integrated 10BASE-T-style Manchester PHY and adapters for external PHY chips.
pub mod gmii;
pub mod link_pulse;
pub mod manchester_rx;
pub mod manchester_tx;
pub mod mii;
pub mod rx_cross;
