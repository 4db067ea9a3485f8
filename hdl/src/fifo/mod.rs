//! FIFOs: the frame FIFO between the MAC and the host side, and the dual-clock FIFO that
//! carries a PHY's bytes into the core clock.
pub mod gray_fifo;
pub mod rx_frame;
