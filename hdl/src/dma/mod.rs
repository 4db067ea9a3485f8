//! The DMA engines: AXI4 masters that move frames between the card and host memory through
//! the descriptor and completion rings of `nic_regs::ring`.
pub mod rx;
