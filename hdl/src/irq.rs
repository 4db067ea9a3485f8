//! MSI with interrupt moderation (issue 3, item 5).
//!
//! [`Irq`] turns the datapath's event pulses into interrupt causes (`irq_set`, for
//! [`crate::csr::Csr`]'s W1C `IRQ_CAUSE`) and into MSI requests on three vectors with the
//! handshake of the Xilinx XDMA user-interrupt ports: `usr_irq_req[v]` goes high and stays high
//! until `usr_irq_ack[v]` is seen high for one clock; at most one request per vector is
//! outstanding.
//!
//! # Vectors and causes (`nic_regs` `IRQ_*`)
//! | vector | causes (bits of `IRQ_CAUSE` / `IRQ_MASK`) | moderated |
//! |---|---|---|
//! | 0 RX | `RX` (0, from `rx_event`), `RX_NO_BUFFER` (4, from `rx_no_buffer`) | `RX` only |
//! | 1 TX | `TX` (1, from `tx_event`) | yes |
//! | 2 error/link | `DMA_ERROR` (2, from `dma_error`), `LINK` (3, from `link_change`) | no |
//!
//! # Behaviour (one clock = one rising edge of `clock`)
//! * **Moderation** ([`Moderator`], one each for `rx_event` and `tx_event`, both programmed by
//!   `IRQ_MOD_FRAMES`/`IRQ_MOD_TIME`): events accumulate in a pending count. The moderator
//!   *fires* on the edge where the count (including an event sampled on that edge) reaches
//!   `irq_mod_frames` (0 and 1 both mean every event), or where `irq_mod_time_us` µs
//!   (`irq_mod_time_us × cycles_per_us` clocks, 0 = no timer) have passed since the edge that
//!   took the first pending event, whichever comes first. Firing empties the count and stops
//!   the timer. Firing sets the cause bit (`RX` or `TX`). Thresholds are registered (a
//!   setting seen on an edge is used from the next one; in timing, each compare is of two
//!   flip-flops) and compared every clock, so lowering one below what is already pending
//!   fires on the second edge after the write reaches this block. The µs
//!   timer is a prescaler of `cycles_per_us` clocks and a saturating 16-bit µs count.
//! * The unmoderated causes (`RX_NO_BUFFER`, `DMA_ERROR`, `LINK`) are set on the edge their
//!   input pulse is sampled.
//! * `irq_set` shows the cause bits set on the coming edge; it is combinational (from the
//!   event inputs and this block's state), so the CSR's cause bit and `usr_irq_req` rise on
//!   the same edge. Causes are set whether masked or not (`IRQ_MASK`: "still sets IRQ_CAUSE").
//! * **Owed interrupts.** Every cause set also marks that cause *owed*. A vector requests on
//!   the first edge where it has no outstanding request and an owed cause of its group is
//!   unmasked (the cause set on that very edge counts, so an event can raise `usr_irq_req`
//!   one edge after it is presented). Issuing the request clears the owed bits of the
//!   vector's unmasked causes; owed bits of masked causes stay owed.
//! * **Masking** (`irq_mask`, `IRQ_MASK`, 1 = masked) never stops moderation: a masked vector
//!   keeps counting and timing, and a cause that fires while masked stays owed, so the vector
//!   requests on the first edge its mask bit is seen low (NAPI: mask → poll → unmask loses
//!   nothing). Events below the threshold at unmask are still counted (and timed) and fire as
//!   usual. Masking a vector with a request outstanding does not withdraw the request.
//! * **Acknowledge.** On the edge `usr_irq_ack[v]` is sampled high while `usr_irq_req[v]` is
//!   high, the request drops. Causes owed meanwhile (events during an outstanding request
//!   keep being moderated, and fire as usual) raise the next request one edge later, so
//!   `usr_irq_req[v]` is low for at least one clock between two requests, as the XDMA MSI
//!   interface wants (a new request is a new rising edge). An ack with no request is ignored.
//! * `reset` (synchronous, active high) empties the counts, the owed causes and the requests,
//!   and sets nothing.
use rust_hdl::prelude::*;

/// Number of MSI vectors.
pub const VECTORS: usize = 3;
pub const VEC_RX: usize = 0;
pub const VEC_TX: usize = 1;
pub const VEC_ERR: usize = 2;
/// Cause bits (of `IRQ_CAUSE`) each vector carries.
pub const VECTOR_CAUSES: [u32; VECTORS] = [
    (1 << nic_regs::IRQ_BIT_RX) | (1 << nic_regs::IRQ_BIT_RX_NO_BUFFER),
    1 << nic_regs::IRQ_BIT_TX,
    (1 << nic_regs::IRQ_BIT_DMA_ERROR) | (1 << nic_regs::IRQ_BIT_LINK),
];
const NCAUSE: usize = nic_regs::IRQ_CAUSES as usize;
const _: () = assert!(NCAUSE == 5);

/// One vector's moderator: counts `pulse` events (the port is not named `event`, a
/// SystemVerilog keyword) and fires (combinational `fire`, on the edge it is high) when
/// `frames` events are pending or `time_us` µs have passed since the first.
#[derive(LogicBlock)]
pub struct Moderator {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub pulse: Signal<In, Bit>,
    pub frames: Signal<In, Bits<16>>,
    pub time_us: Signal<In, Bits<16>>,
    /// High when the coming edge fires (and empties the count).
    pub fire: Signal<Out, Bit>,
    /// Pending event count, and that count plus one (kept beside it, so the threshold test
    /// of an edge with an event is a compare, not an adder and a compare).
    cnt: DFF<Bits<16>>,
    cnt_p1: DFFWithInit<Bits<16>>,
    /// Clocks into the current µs, 0..cycles_per_us-1.
    pre: DFF<Bits<16>>,
    /// Whole µs since the edge that took the first pending event (saturating), that plus
    /// one, and whether it is saturated.
    us: DFF<Bits<16>>,
    us_p1: DFFWithInit<Bits<16>>,
    us_sat: DFF<Bit>,
    /// The settings as of the last edge: the frame threshold (`frames`, 0 read as 1), the
    /// time limit and whether it is on. Registered so that a setting is a flip-flop at the
    /// compare; a new setting counts from the edge after the one that brings it.
    thr: DFFWithInit<Bits<16>>,
    limit_us: DFF<Bits<16>>,
    timed: DFF<Bit>,
    k_pre_max: Constant<Bits<16>>,
    k_ones: Constant<Bits<16>>,
    pending: Signal<Local, Bit>,
    count_hit: Signal<Local, Bit>,
    tick: Signal<Local, Bit>,
    step_us: Signal<Local, Bit>,
    time_hit: Signal<Local, Bit>,
    hit: Signal<Local, Bit>,
}

impl Moderator {
    /// `cycles_per_us`: core clocks per µs (1..=65536).
    pub fn new(cycles_per_us: u32) -> Self {
        assert!((1..=65536).contains(&cycles_per_us), "cycles_per_us must be 1..=65536, got {cycles_per_us}");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            pulse: Default::default(),
            frames: Default::default(),
            time_us: Default::default(),
            fire: Default::default(),
            cnt: Default::default(),
            cnt_p1: DFFWithInit::new(1_u64.to_bits()),
            pre: Default::default(),
            us: Default::default(),
            us_p1: DFFWithInit::new(1_u64.to_bits()),
            us_sat: Default::default(),
            thr: DFFWithInit::new(1_u64.to_bits()),
            limit_us: Default::default(),
            timed: Default::default(),
            k_pre_max: Constant::new(((cycles_per_us - 1) as u64).to_bits()),
            k_ones: Constant::new(0xFFFF_u64.to_bits()),
            pending: Default::default(),
            count_hit: Default::default(),
            tick: Default::default(),
            step_us: Default::default(),
            time_hit: Default::default(),
            hit: Default::default(),
        }
    }
}

impl Logic for Moderator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, cnt, cnt_p1, pre, us, us_p1, us_sat, thr, limit_us, timed);
        // Timing: every test below is one compare of a register with a setting; the +1
        // sides are registers of their own (`cnt_p1`, `us_p1`), so no adder sits before a
        // compare and the decision reaches the counters through a few LUTs.
        self.pending.next = self.cnt.q.val().any();
        self.thr.d.next = self.frames.val();
        if !self.frames.val().any() {
            self.thr.d.next = 1.into();
        }
        self.limit_us.d.next = self.time_us.val();
        self.timed.d.next = self.time_us.val().any();
        // The count this edge would hold (`cnt + pulse`) reaches the threshold.
        self.count_hit.next = self.cnt.q.val() >= self.thr.q.val();
        if self.pulse.val() {
            self.count_hit.next = self.cnt_p1.q.val() >= self.thr.q.val();
        }
        self.tick.next = self.pending.val() & (self.pre.q.val() == self.k_pre_max.val());
        self.step_us.next = self.tick.val() & !self.us_sat.q.val();
        // The µs count this edge would hold reaches `time_us`.
        self.time_hit.next = self.us.q.val() >= self.limit_us.q.val();
        if self.step_us.val() {
            self.time_hit.next = self.us_p1.q.val() >= self.limit_us.q.val();
        }
        self.hit.next = (self.pulse.val() | self.pending.val())
            & (self.count_hit.val() | (self.pending.val() & self.timed.q.val() & self.time_hit.val()));
        if self.reset.val() | self.hit.val() | !self.pending.val() {
            self.pre.d.next = 0.into();
            self.us.d.next = 0.into();
            self.us_p1.d.next = 1.into();
            self.us_sat.d.next = false;
        } else {
            if self.tick.val() {
                self.pre.d.next = 0.into();
            } else {
                self.pre.d.next = self.pre.q.val() + 1;
            }
            if self.step_us.val() {
                self.us.d.next = self.us_p1.q.val();
                self.us_p1.d.next = self.us_p1.q.val() + 1;
                self.us_sat.d.next = self.us_p1.q.val() == self.k_ones.val();
            }
        }
        if self.reset.val() | self.hit.val() {
            self.cnt.d.next = 0.into();
            self.cnt_p1.d.next = 1.into();
        } else if self.pulse.val() {
            self.cnt.d.next = self.cnt_p1.q.val();
            self.cnt_p1.d.next = self.cnt_p1.q.val() + 1;
        }
        self.fire.next = self.hit.val() & !self.reset.val();
    }
}

/// The interrupt block: two moderators, cause bits for the CSR and three XDMA-style MSI
/// request/acknowledge pairs. See the module documentation.
#[derive(LogicBlock)]
pub struct Irq {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// One pulse per RX completion written (moderated; cause `RX`, vector 0).
    pub rx_event: Signal<In, Bit>,
    /// One pulse per TX completion written (moderated; cause `TX`, vector 1).
    pub tx_event: Signal<In, Bit>,
    /// A frame dropped for want of an RX buffer (cause `RX_NO_BUFFER`, vector 0).
    pub rx_no_buffer: Signal<In, Bit>,
    /// A bus error stopped a queue (cause `DMA_ERROR`, vector 2).
    pub dma_error: Signal<In, Bit>,
    /// `STATUS.LINK_UP` changed (cause `LINK`, vector 2).
    pub link_change: Signal<In, Bit>,
    /// From the CSR: `IRQ_MASK` (1 = masked), `IRQ_MOD_FRAMES`, `IRQ_MOD_TIME`.
    pub irq_mask: Signal<In, Bits<5>>,
    pub irq_mod_frames: Signal<In, Bits<16>>,
    pub irq_mod_time_us: Signal<In, Bits<16>>,
    /// To the CSR: cause bits set on the coming edge (combinational).
    pub irq_set: Signal<Out, Bits<5>>,
    /// XDMA user interrupts: bit v is vector v.
    pub usr_irq_req: Signal<Out, Bits<3>>,
    pub usr_irq_ack: Signal<In, Bits<3>>,
    pub rx_mod: Moderator,
    pub tx_mod: Moderator,
    owed: DFF<Bits<5>>,
    req: DFF<Bits<3>>,
    k_cause: [Constant<Bits<5>>; NCAUSE],
    k_group: [Constant<Bits<5>>; VECTORS],
    k_vec: [Constant<Bits<3>>; VECTORS],
    set: Signal<Local, Bits<5>>,
    owed_all: Signal<Local, Bits<5>>,
    clear: Signal<Local, Bits<5>>,
    req_n: Signal<Local, Bits<3>>,
}

impl Irq {
    /// `cycles_per_us`: core clocks per µs (125 for a 125 MHz core clock).
    pub fn new(cycles_per_us: u32) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx_event: Default::default(),
            tx_event: Default::default(),
            rx_no_buffer: Default::default(),
            dma_error: Default::default(),
            link_change: Default::default(),
            irq_mask: Default::default(),
            irq_mod_frames: Default::default(),
            irq_mod_time_us: Default::default(),
            irq_set: Default::default(),
            usr_irq_req: Default::default(),
            usr_irq_ack: Default::default(),
            rx_mod: Moderator::new(cycles_per_us),
            tx_mod: Moderator::new(cycles_per_us),
            owed: Default::default(),
            req: Default::default(),
            k_cause: std::array::from_fn(|i| Constant::new((1_u64 << i).to_bits())),
            k_group: std::array::from_fn(|v| Constant::new((VECTOR_CAUSES[v] as u64).to_bits())),
            k_vec: std::array::from_fn(|v| Constant::new((1_u64 << v).to_bits())),
            set: Default::default(),
            owed_all: Default::default(),
            clear: Default::default(),
            req_n: Default::default(),
        }
    }
}

impl Logic for Irq {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, owed, req);
        self.rx_mod.clock.next = self.clock.val();
        self.rx_mod.reset.next = self.reset.val();
        self.rx_mod.pulse.next = self.rx_event.val();
        self.rx_mod.frames.next = self.irq_mod_frames.val();
        self.rx_mod.time_us.next = self.irq_mod_time_us.val();
        self.tx_mod.clock.next = self.clock.val();
        self.tx_mod.reset.next = self.reset.val();
        self.tx_mod.pulse.next = self.tx_event.val();
        self.tx_mod.frames.next = self.irq_mod_frames.val();
        self.tx_mod.time_us.next = self.irq_mod_time_us.val();

        // Cause bits set on this edge (bit numbers from nic_regs, checked in the tests).
        self.set.next = 0.into();
        if self.rx_mod.fire.val() {
            self.set.next = self.set.val() | self.k_cause[0].val();
        }
        if self.tx_mod.fire.val() {
            self.set.next = self.set.val() | self.k_cause[1].val();
        }
        if self.dma_error.val() {
            self.set.next = self.set.val() | self.k_cause[2].val();
        }
        if self.link_change.val() {
            self.set.next = self.set.val() | self.k_cause[3].val();
        }
        if self.rx_no_buffer.val() {
            self.set.next = self.set.val() | self.k_cause[4].val();
        }
        if self.reset.val() {
            self.set.next = 0.into();
        }

        // Requests: one outstanding per vector.
        self.owed_all.next = self.owed.q.val() | self.set.val();
        self.clear.next = 0.into();
        self.req_n.next = self.req.q.val();
        for v in 0..VECTORS {
            if (self.req.q.val() & self.k_vec[v].val()).any() {
                if (self.usr_irq_ack.val() & self.k_vec[v].val()).any() {
                    self.req_n.next = self.req_n.val() & !self.k_vec[v].val();
                }
            } else if (self.owed_all.val() & self.k_group[v].val() & !self.irq_mask.val()).any() {
                self.req_n.next = self.req_n.val() | self.k_vec[v].val();
                self.clear.next = self.clear.val() | (self.k_group[v].val() & !self.irq_mask.val());
            }
        }
        if self.reset.val() {
            self.owed.d.next = 0.into();
            self.req.d.next = 0.into();
        } else {
            self.owed.d.next = self.owed_all.val() & !self.clear.val();
            self.req.d.next = self.req_n.val();
        }
        self.irq_set.next = self.set.val();
        self.usr_irq_req.next = self.req.q.val();
    }
}

/// The plain-Rust reference of [`Irq`], edge by edge, written from the module documentation.
#[derive(Clone, Debug)]
pub struct Model {
    cycles_per_us: u32,
    cnt: [u32; 2],
    pre: [u32; 2],
    us: [u32; 2],
    /// `frames` and `time_us` as of the last edge.
    thr: u32,
    limit_us: u32,
    owed: u8,
    req: u8,
}

/// Inputs sampled on one edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    pub reset: bool,
    pub rx_event: bool,
    pub tx_event: bool,
    pub rx_no_buffer: bool,
    pub dma_error: bool,
    pub link_change: bool,
    pub mask: u8,
    pub frames: u16,
    pub time_us: u16,
    pub ack: u8,
}

impl Model {
    pub fn new(cycles_per_us: u32) -> Self {
        Self { cycles_per_us, cnt: [0; 2], pre: [0; 2], us: [0; 2], thr: 1, limit_us: 0, owed: 0, req: 0 }
    }

    /// `usr_irq_req` now.
    pub fn req(&self) -> u8 {
        self.req
    }

    /// One edge; returns the cause bits set on it (`irq_set` before the edge).
    pub fn step(&mut self, i: &Inputs) -> u8 {
        let mut fired = [false; 2];
        for (m, ev) in [i.rx_event, i.tx_event].into_iter().enumerate() {
            let pending = self.cnt[m] > 0;
            let total = self.cnt[m] + ev as u32;
            let thr = self.thr;
            let tick = pending && self.pre[m] == self.cycles_per_us - 1;
            let us_next = (self.us[m] + tick as u32).min(0xFFFF);
            let time_hit = pending && self.limit_us != 0 && us_next >= self.limit_us;
            let hit = total > 0 && (total >= thr || time_hit);
            fired[m] = hit && !i.reset;
            if i.reset || hit || !pending {
                self.cnt[m] = if i.reset || hit { 0 } else { total };
                self.pre[m] = 0;
                self.us[m] = 0;
            } else {
                self.cnt[m] = total;
                self.us[m] = us_next;
                self.pre[m] = if tick { 0 } else { self.pre[m] + 1 };
            }
        }
        self.thr = (i.frames as u32).max(1);
        self.limit_us = i.time_us as u32;
        if i.reset {
            self.owed = 0;
            self.req = 0;
            return 0;
        }
        let set = (fired[0] as u8) << nic_regs::IRQ_BIT_RX
            | (fired[1] as u8) << nic_regs::IRQ_BIT_TX
            | (i.dma_error as u8) << nic_regs::IRQ_BIT_DMA_ERROR
            | (i.link_change as u8) << nic_regs::IRQ_BIT_LINK
            | (i.rx_no_buffer as u8) << nic_regs::IRQ_BIT_RX_NO_BUFFER;
        let owed = self.owed | set;
        let mut clear = 0u8;
        let mut req = self.req;
        for (v, &group) in VECTOR_CAUSES.iter().enumerate() {
            let group = group as u8;
            if self.req & (1 << v) != 0 {
                if i.ack & (1 << v) != 0 {
                    req &= !(1 << v);
                }
            } else if owed & group & !i.mask != 0 {
                req |= 1 << v;
                clear |= group & !i.mask;
            }
        }
        self.owed = owed & !clear;
        self.req = req;
        set
    }
}

#[cfg(test)]
mod tests;
