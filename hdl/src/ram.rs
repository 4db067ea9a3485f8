//! The card's RAM: one write port and one registered read port, the shape every FIFO and
//! queue here uses, with Rust-HDL's `RAM` interface (same signal names).
//!
//! # Why not Rust-HDL's `RAM`
//! Its Verilog reads and writes in two `always` blocks, so a read of the address being
//! written on the same edge returns the old data. Block RAM cannot do that across its two
//! ports, so Yosys adds fabric beside every RAM to emulate it: a register holding the
//! written word, an address compare, and a multiplexer on the read data. The multiplexer
//! sits after the block RAM's clock-to-out (about 5.8 ns on an ECP5 at speed 6), which makes
//! it the slowest path of several blocks, and the extra registers cost area.
//!
//! # The contract instead
//! No user reads an entry on the edge it is written: every FIFO here publishes a write
//! pointer a clock after the write (`wr_seen`, or a two-flip-flop synchronizer), and a read
//! made while an entry is being written is thrown away. The Verilog carries Yosys'
//! `no_rw_check` attribute, which lets it map the RAM without the emulation. On such a read
//! the hardware returns undefined data; the simulation model, like Icarus and Verilator,
//! returns the old data (a model returning zeros there passes every block's reference tests,
//! but makes the don't-care `out_data` of an idle FIFO differ between the engines, which
//! the engine lockstep compares on every port).
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

#[derive(LogicBlock, Default)]
pub struct Ram<D: Synth, const N: usize> {
    pub read_address: Signal<In, Bits<N>>,
    pub read_clock: Signal<In, Clock>,
    pub read_data: Signal<Out, D>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_clock: Signal<In, Clock>,
    pub write_data: Signal<In, D>,
    pub write_enable: Signal<In, bool>,
    _mem: Box<BTreeMap<Bits<N>, D>>,
}

impl<D: Synth, const N: usize> Logic for Ram<D, N> {
    fn update(&mut self) {
        if self.read_clock.pos_edge() {
            self.read_data.next = *self._mem.get(&self.read_address.val()).unwrap_or(&D::default());
        }
        if self.write_clock.pos_edge() && self.write_enable.val() {
            self._mem.insert(self.write_address.val(), self.write_data.val());
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        memory_verilog(
            "(* no_rw_check *)\n",
            "always @(posedge read_clock) begin\n   read_data <= mem[read_address];\nend",
            D::BITS,
            N,
        )
    }
}

/// A small RAM read without a clock: `read_data` is the word at `read_address` now. This is
/// the shape of the FPGA's LUT RAM (ECP5 `DPR16X4`, 7-series `RAM32M`), for tables of a few
/// dozen words read and updated every clock. A write takes effect on the write clock's edge;
/// a read of the entry being written shows the old word until that edge.
#[derive(LogicBlock, Default)]
pub struct LutRam<D: Synth, const N: usize> {
    pub read_address: Signal<In, Bits<N>>,
    pub read_data: Signal<Out, D>,
    pub write_address: Signal<In, Bits<N>>,
    pub write_clock: Signal<In, Clock>,
    pub write_data: Signal<In, D>,
    pub write_enable: Signal<In, bool>,
    _mem: Box<BTreeMap<Bits<N>, D>>,
}

impl<D: Synth, const N: usize> Logic for LutRam<D, N> {
    fn update(&mut self) {
        if self.write_clock.pos_edge() && self.write_enable.val() {
            self._mem.insert(self.write_address.val(), self.write_data.val());
        }
        self.read_data.next = *self._mem.get(&self.read_address.val()).unwrap_or(&D::default());
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        memory_verilog("", "always @(*) begin\n   read_data = mem[read_address];\nend", D::BITS, N)
    }
}

/// A memory of `2^addr_bits` words of `width` bits with the one write port both RAMs share
/// and the given read port (`attributes` go before the array).
fn memory_verilog(attributes: &str, read_port: &str, width: usize, addr_bits: usize) -> Verilog {
    Verilog::Custom(format!(
        "\
{attributes}reg[{msb}:0] mem[{last}:0];

{read_port}

always @(posedge write_clock) begin
   if (write_enable) begin
      mem[write_address] <= write_data;
   end
end
",
        msb = width - 1,
        last = (1usize << addr_bits) - 1,
    ))
}
