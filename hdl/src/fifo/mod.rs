//! FIFOs: the frame FIFO between the MAC and the host side, the dual-clock FIFO that
//! carries a PHY's bytes into the core clock, and the register slice between the TX DMA and
//! the MAC.
pub mod gray_fifo;
pub mod rx_frame;
pub mod skid;
