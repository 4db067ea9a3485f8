//! Frame FIFOs between the MAC and the host side.
pub mod rx_frame;
