//! DMA engines and their AXI4 plumbing (issue 3, items 3 and 4): AXI4 masters that move
//! frames between the card and host memory through the descriptor and completion rings of
//! `nic_regs::ring`.
//!
//! Each engine is an AXI4 master without ID signals (`axi_*` ports, 64-bit data, INCR
//! bursts of 8-byte beats that never cross 4 KiB); [`axi_arbiter::AxiArbiter`] merges the
//! RX engine (slave port 0) and the TX engine (slave port 1) into the NIC's one AXI4 master,
//! adding the port number as the transaction ID. Both engines size their descriptor reads
//! with one shared block, [`desc_sizer::DescSizer`] (a clock ahead, up to the ring's and the
//! page's end).
pub mod axi_arbiter;
pub mod desc_sizer;
pub mod rx;
pub mod tx;

#[cfg(test)]
pub(crate) mod testbench;
