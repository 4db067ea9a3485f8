//! A register slice for a valid/ready stream (a "skid buffer"): two entries, every output a
//! flip-flop, and `in_ready` a flip-flop too.
//!
//! It cuts a combinational valid/ready handshake in two. Without it, a consumer whose
//! `ready` is decided late in the clock (the MAC's `in_ready`, from its state and the PHY's
//! pace) reaches every enable of the producer's take (the TX DMA's byte counters and buffer
//! read address). With it, the consumer's `ready` reaches only the slice's two entries, and
//! the producer sees `in_ready` straight from a register.
//!
//! * `out_valid`/`out_data` are the output entry. When it leaves (`out_valid && out_ready`)
//!   or is empty, it is refilled on the same edge from the skid entry, or else from the
//!   input, so a stream passes at one word per clock with one clock of latency.
//! * `in_ready` is "the skid entry is empty". A word taken while the output entry is held
//!   goes to the skid entry, which is what lets `in_ready` be a register: it drops a clock
//!   after the output stalls, and the word taken on that clock has somewhere to go.
//! * Words come out once each, in order. `reset` empties both entries.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct Skid<D: Synth> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_data: Signal<In, D>,
    pub in_ready: Signal<Out, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_data: Signal<Out, D>,
    pub out_ready: Signal<In, Bit>,
    o_valid: DFF<Bit>,
    o_data: DFF<D>,
    s_valid: DFF<Bit>,
    s_data: DFF<D>,
}

impl<D: Synth> Logic for Skid<D> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, o_valid, o_data, s_valid, s_data);
        if self.out_ready.val() | !self.o_valid.q.val() {
            // The output entry is free after this edge: the skid entry first (no word is
            // taken while it is full), else the input.
            if self.s_valid.q.val() {
                self.o_data.d.next = self.s_data.q.val();
                self.o_valid.d.next = true;
                self.s_valid.d.next = false;
            } else {
                self.o_data.d.next = self.in_data.val();
                self.o_valid.d.next = self.in_valid.val();
            }
        } else if self.in_valid.val() & !self.s_valid.q.val() {
            self.s_data.d.next = self.in_data.val();
            self.s_valid.d.next = true;
        }
        if self.reset.val() {
            self.o_valid.d.next = false;
            self.s_valid.d.next = false;
        }
        self.in_ready.next = !self.s_valid.q.val();
        self.out_valid.next = self.o_valid.q.val();
        self.out_data.next = self.o_data.q.val();
    }
}

#[cfg(test)]
mod tests;
