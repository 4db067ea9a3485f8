//! DMA engines and their AXI4 plumbing (issue 3, items 3 and 4): AXI4 masters that move
//! frames between the card and host memory through the descriptor and completion rings of
//! `nic_regs::ring`.
//!
//! Each engine is an AXI4 master without ID signals (`axi_*` ports, 64-bit data, INCR
//! bursts of 8-byte beats that never cross 4 KiB); [`axi_arbiter::AxiArbiter`] merges the
//! RX engine (slave port 0) and the TX engine (slave port 1) into the NIC's one AXI4 master,
//! adding the port number as the transaction ID. Both engines read their descriptors with one
//! block, [`desc_fetch::DescFetch`] (one prefetch rule, a sizing pipeline, the prefetch
//! buffer), and write their completions with another, [`cpl_write::CplWrite`] (one
//! completion rule: the queue, the slot and phase, the producer index); the data movers
//! between them are the engines' own.
pub mod axi_arbiter;
pub mod cpl_write;
pub mod desc_fetch;
pub mod rx;
pub mod tx;

#[cfg(test)]
pub(crate) mod testbench;
