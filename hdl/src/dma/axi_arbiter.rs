//! 2:1 AXI4 arbiter: the RX DMA's master (slave port `s0_*`) and the TX DMA's master
//! (`s1_*`) merged into the NIC's one AXI4 master (`m_axi_*`), with the slave port number
//! as the transaction ID (`m_axi_awid`/`m_axi_arid` = 0 or 1).
//!
//! Each slave port is exactly a DMA engine's master port set (`axi_*`, see `dma::tx`) with
//! the prefix replaced and the directions reversed. The arbiter has no buffers: address,
//! data and response channels pass through combinationally once granted, and its state is
//! a few grant flip-flops. Grants are registered: a port is granted on the edge after it
//! shows a valid address, and forwarded from then (a clock of latency per address), so no
//! ready depends on any port's valid.
//!
//! # Behaviour (one clock = one rising edge of `clock`)
//! * **Read address.** The granted port's `arvalid` and payload go to `m_axi_ar*` with its
//!   ID; only the granted port sees `arready`. When both ports request, the port that was
//!   *not* granted the last address taken wins (round robin); a single requester wins. The
//!   grant is held until the address is taken, so valid and payload stay stable until
//!   `m_axi_arready`, as AXI requires.
//! * **Read data.** R beats go to the port named by bit 0 of `m_axi_rid` (the only IDs the
//!   arbiter issues are 0 and 1): only that port sees `rvalid`, and `m_axi_rready` is its
//!   `rready`. `rdata`/`rresp`/`rlast` are shown to both ports.
//! * **Write.** AW and W are granted *together* to one port at a time: a port requesting
//!   with `awvalid` is granted on the next edge (round robin between two requesters, as for
//!   reads); from then on its AW is forwarded until taken and its W beats are forwarded until the beat
//!   with `wlast` is taken; the other port sees neither `awready` nor `wready` meanwhile.
//!   When both the AW and the `wlast` beat have been taken the grant is released (on the edge that takes the last of the two) and the next clock
//!   arbitrates again. So the order of W bursts on the master always matches the order of AWs, as AXI4
//!   (no write interleaving) requires. W beats of the granted port are forwarded from the
//!   clock of the grant, in the same clock as its AW if the port offers both; a slave that
//!   takes W only after AW (like `model::axi_mem`) simply holds `wready` low until then.
//!   A port that offers W before its AW is not granted until its `awvalid`.
//! * **Write response.** Routed by bit 0 of `m_axi_bid`, like R.
//! * No ready depends on a valid: readies are the grant registers and the master's readies
//!   (timing: a port's valid never runs through the arbiter back into a port in one clock).
//! * `reset` (synchronous, active high) releases all grants and restarts the round robin
//!   with port 1 as the last granted, so port 0 wins the first tie.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct AxiArbiter {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Slave port 0 (the RX DMA).
    pub s0_awvalid: Signal<In, Bit>,
    pub s0_awready: Signal<Out, Bit>,
    pub s0_awaddr: Signal<In, Bits<64>>,
    pub s0_awlen: Signal<In, Bits<8>>,
    pub s0_awsize: Signal<In, Bits<3>>,
    pub s0_awburst: Signal<In, Bits<2>>,
    pub s0_wvalid: Signal<In, Bit>,
    pub s0_wready: Signal<Out, Bit>,
    pub s0_wdata: Signal<In, Bits<64>>,
    pub s0_wstrb: Signal<In, Bits<8>>,
    pub s0_wlast: Signal<In, Bit>,
    pub s0_bvalid: Signal<Out, Bit>,
    pub s0_bready: Signal<In, Bit>,
    pub s0_bresp: Signal<Out, Bits<2>>,
    pub s0_arvalid: Signal<In, Bit>,
    pub s0_arready: Signal<Out, Bit>,
    pub s0_araddr: Signal<In, Bits<64>>,
    pub s0_arlen: Signal<In, Bits<8>>,
    pub s0_arsize: Signal<In, Bits<3>>,
    pub s0_arburst: Signal<In, Bits<2>>,
    pub s0_rvalid: Signal<Out, Bit>,
    pub s0_rready: Signal<In, Bit>,
    pub s0_rdata: Signal<Out, Bits<64>>,
    pub s0_rresp: Signal<Out, Bits<2>>,
    pub s0_rlast: Signal<Out, Bit>,
    // Slave port 1 (the TX DMA).
    pub s1_awvalid: Signal<In, Bit>,
    pub s1_awready: Signal<Out, Bit>,
    pub s1_awaddr: Signal<In, Bits<64>>,
    pub s1_awlen: Signal<In, Bits<8>>,
    pub s1_awsize: Signal<In, Bits<3>>,
    pub s1_awburst: Signal<In, Bits<2>>,
    pub s1_wvalid: Signal<In, Bit>,
    pub s1_wready: Signal<Out, Bit>,
    pub s1_wdata: Signal<In, Bits<64>>,
    pub s1_wstrb: Signal<In, Bits<8>>,
    pub s1_wlast: Signal<In, Bit>,
    pub s1_bvalid: Signal<Out, Bit>,
    pub s1_bready: Signal<In, Bit>,
    pub s1_bresp: Signal<Out, Bits<2>>,
    pub s1_arvalid: Signal<In, Bit>,
    pub s1_arready: Signal<Out, Bit>,
    pub s1_araddr: Signal<In, Bits<64>>,
    pub s1_arlen: Signal<In, Bits<8>>,
    pub s1_arsize: Signal<In, Bits<3>>,
    pub s1_arburst: Signal<In, Bits<2>>,
    pub s1_rvalid: Signal<Out, Bit>,
    pub s1_rready: Signal<In, Bit>,
    pub s1_rdata: Signal<Out, Bits<64>>,
    pub s1_rresp: Signal<Out, Bits<2>>,
    pub s1_rlast: Signal<Out, Bit>,
    // The NIC's AXI4 master.
    pub m_axi_awvalid: Signal<Out, Bit>,
    pub m_axi_awready: Signal<In, Bit>,
    pub m_axi_awid: Signal<Out, Bits<4>>,
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    pub m_axi_wvalid: Signal<Out, Bit>,
    pub m_axi_wready: Signal<In, Bit>,
    pub m_axi_wdata: Signal<Out, Bits<64>>,
    pub m_axi_wstrb: Signal<Out, Bits<8>>,
    pub m_axi_wlast: Signal<Out, Bit>,
    pub m_axi_bvalid: Signal<In, Bit>,
    pub m_axi_bready: Signal<Out, Bit>,
    pub m_axi_bid: Signal<In, Bits<4>>,
    pub m_axi_bresp: Signal<In, Bits<2>>,
    pub m_axi_arvalid: Signal<Out, Bit>,
    pub m_axi_arready: Signal<In, Bit>,
    pub m_axi_arid: Signal<Out, Bits<4>>,
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    pub m_axi_rvalid: Signal<In, Bit>,
    pub m_axi_rready: Signal<Out, Bit>,
    pub m_axi_rid: Signal<In, Bits<4>>,
    pub m_axi_rdata: Signal<In, Bits<64>>,
    pub m_axi_rresp: Signal<In, Bits<2>>,
    pub m_axi_rlast: Signal<In, Bit>,

    /// A read address is waiting on `m_axi_arready`: the grant stays with `ar_owner`.
    ar_locked: DFF<Bit>,
    ar_owner: DFF<Bit>,
    /// Port granted the last read address taken (round robin).
    ar_last: DFF<Bit>,
    /// A write burst is granted to `w_owner` (its AW or its last W beat not yet taken).
    w_busy: DFF<Bit>,
    w_owner: DFF<Bit>,
    /// Port granted the last write burst (round robin).
    w_last: DFF<Bit>,
    /// The granted burst's AW / `wlast` beat has been taken.
    aw_sent: DFF<Bit>,
    w_done: DFF<Bit>,

    ar_g: Signal<Local, Bit>,
    w_g: Signal<Local, Bit>,
    w_active: Signal<Local, Bit>,
    aw_open: Signal<Local, Bit>,
    w_open: Signal<Local, Bit>,
    aw_fin: Signal<Local, Bit>,
    w_fin: Signal<Local, Bit>,
    r_to1: Signal<Local, Bit>,
    b_to1: Signal<Local, Bit>,
    m_arvalid: Signal<Local, Bit>,
    m_awvalid: Signal<Local, Bit>,
    m_wvalid: Signal<Local, Bit>,
    m_wlast: Signal<Local, Bit>,
}

impl Logic for AxiArbiter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ar_locked, ar_owner, ar_last, w_busy, w_owner, w_last, aw_sent, w_done);

        // ---- Read address: round robin into a grant register; the granted port's address
        // is forwarded from the next clock until taken. Readies come from registers and the
        // master's ready only (timing: no path from a port's valid back to a port's ready).
        self.ar_g.next = self.ar_owner.q.val();
        if self.ar_g.val() {
            self.m_arvalid.next = self.s1_arvalid.val();
            self.m_axi_arid.next = 1.into();
            self.m_axi_araddr.next = self.s1_araddr.val();
            self.m_axi_arlen.next = self.s1_arlen.val();
            self.m_axi_arsize.next = self.s1_arsize.val();
            self.m_axi_arburst.next = self.s1_arburst.val();
        } else {
            self.m_arvalid.next = self.s0_arvalid.val();
            self.m_axi_arid.next = 0.into();
            self.m_axi_araddr.next = self.s0_araddr.val();
            self.m_axi_arlen.next = self.s0_arlen.val();
            self.m_axi_arsize.next = self.s0_arsize.val();
            self.m_axi_arburst.next = self.s0_arburst.val();
        }
        self.m_arvalid.next = self.m_arvalid.val() & self.ar_locked.q.val();
        self.m_axi_arvalid.next = self.m_arvalid.val();
        self.s0_arready.next = self.m_axi_arready.val() & self.ar_locked.q.val() & !self.ar_owner.q.val();
        self.s1_arready.next = self.m_axi_arready.val() & self.ar_locked.q.val() & self.ar_owner.q.val();
        if self.ar_locked.q.val() {
            if self.m_arvalid.val() & self.m_axi_arready.val() {
                self.ar_locked.d.next = false;
                self.ar_last.d.next = self.ar_owner.q.val();
            }
        } else if self.s0_arvalid.val() | self.s1_arvalid.val() {
            self.ar_locked.d.next = true;
            self.ar_owner.d.next = self.s1_arvalid.val() & (!self.s0_arvalid.val() | !self.ar_last.q.val());
        }

        // ---- Read data: by ID.
        self.r_to1.next = self.m_axi_rid.val().get_bit(0);
        self.s0_rvalid.next = self.m_axi_rvalid.val() & !self.r_to1.val();
        self.s1_rvalid.next = self.m_axi_rvalid.val() & self.r_to1.val();
        self.s0_rdata.next = self.m_axi_rdata.val();
        self.s1_rdata.next = self.m_axi_rdata.val();
        self.s0_rresp.next = self.m_axi_rresp.val();
        self.s1_rresp.next = self.m_axi_rresp.val();
        self.s0_rlast.next = self.m_axi_rlast.val();
        self.s1_rlast.next = self.m_axi_rlast.val();
        if self.r_to1.val() {
            self.m_axi_rready.next = self.s1_rready.val();
        } else {
            self.m_axi_rready.next = self.s0_rready.val();
        }

        // ---- Write address + data: one burst's AW and W granted together.
        self.w_g.next = self.w_owner.q.val();
        self.w_active.next = self.w_busy.q.val();
        self.aw_open.next = self.w_active.val() & !self.aw_sent.q.val();
        self.w_open.next = self.w_active.val() & !self.w_done.q.val();
        if self.w_g.val() {
            self.m_awvalid.next = self.aw_open.val() & self.s1_awvalid.val();
            self.m_axi_awid.next = 1.into();
            self.m_axi_awaddr.next = self.s1_awaddr.val();
            self.m_axi_awlen.next = self.s1_awlen.val();
            self.m_axi_awsize.next = self.s1_awsize.val();
            self.m_axi_awburst.next = self.s1_awburst.val();
            self.m_wvalid.next = self.w_open.val() & self.s1_wvalid.val();
            self.m_axi_wdata.next = self.s1_wdata.val();
            self.m_axi_wstrb.next = self.s1_wstrb.val();
            self.m_wlast.next = self.s1_wlast.val();
        } else {
            self.m_awvalid.next = self.aw_open.val() & self.s0_awvalid.val();
            self.m_axi_awid.next = 0.into();
            self.m_axi_awaddr.next = self.s0_awaddr.val();
            self.m_axi_awlen.next = self.s0_awlen.val();
            self.m_axi_awsize.next = self.s0_awsize.val();
            self.m_axi_awburst.next = self.s0_awburst.val();
            self.m_wvalid.next = self.w_open.val() & self.s0_wvalid.val();
            self.m_axi_wdata.next = self.s0_wdata.val();
            self.m_axi_wstrb.next = self.s0_wstrb.val();
            self.m_wlast.next = self.s0_wlast.val();
        }
        self.m_axi_awvalid.next = self.m_awvalid.val();
        self.m_axi_wvalid.next = self.m_wvalid.val();
        self.m_axi_wlast.next = self.m_wlast.val();
        // The readies, from registers and the master's readies only.
        self.s0_awready.next =
            self.m_axi_awready.val() & self.w_busy.q.val() & !self.aw_sent.q.val() & !self.w_owner.q.val();
        self.s1_awready.next =
            self.m_axi_awready.val() & self.w_busy.q.val() & !self.aw_sent.q.val() & self.w_owner.q.val();
        self.s0_wready.next =
            self.m_axi_wready.val() & self.w_busy.q.val() & !self.w_done.q.val() & !self.w_owner.q.val();
        self.s1_wready.next =
            self.m_axi_wready.val() & self.w_busy.q.val() & !self.w_done.q.val() & self.w_owner.q.val();
        self.aw_fin.next = self.aw_sent.q.val() | (self.m_awvalid.val() & self.m_axi_awready.val());
        self.w_fin.next = self.w_done.q.val() | (self.m_wvalid.val() & self.m_axi_wready.val() & self.m_wlast.val());
        if self.w_busy.q.val() {
            if self.aw_fin.val() & self.w_fin.val() {
                self.w_busy.d.next = false;
                self.aw_sent.d.next = false;
                self.w_done.d.next = false;
            } else {
                self.aw_sent.d.next = self.aw_fin.val();
                self.w_done.d.next = self.w_fin.val();
            }
        } else if self.s0_awvalid.val() | self.s1_awvalid.val() {
            // Grant a clock ahead: round robin between two requesters.
            self.w_busy.d.next = true;
            self.w_owner.d.next = self.s1_awvalid.val() & (!self.s0_awvalid.val() | !self.w_last.q.val());
            self.w_last.d.next = self.s1_awvalid.val() & (!self.s0_awvalid.val() | !self.w_last.q.val());
        }

        // ---- Write response: by ID.
        self.b_to1.next = self.m_axi_bid.val().get_bit(0);
        self.s0_bvalid.next = self.m_axi_bvalid.val() & !self.b_to1.val();
        self.s1_bvalid.next = self.m_axi_bvalid.val() & self.b_to1.val();
        self.s0_bresp.next = self.m_axi_bresp.val();
        self.s1_bresp.next = self.m_axi_bresp.val();
        if self.b_to1.val() {
            self.m_axi_bready.next = self.s1_bready.val();
        } else {
            self.m_axi_bready.next = self.s0_bready.val();
        }

        if self.reset.val() {
            self.ar_locked.d.next = false;
            self.ar_owner.d.next = false;
            self.ar_last.d.next = true;
            self.w_busy.d.next = false;
            self.w_owner.d.next = false;
            self.w_last.d.next = true;
            self.aw_sent.d.next = false;
            self.w_done.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests;
