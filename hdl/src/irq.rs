//! MSI with interrupt moderation.
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
//!   the timer. Firing sets the cause bit (`RX` or `TX`). Thresholds are compared every
//!   clock, a clock ahead into flag registers (a setting seen on an edge is used from the
//!   next one), so lowering one below what is already pending fires on the second edge after
//!   the write reaches this block. The µs
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
///
/// Timing: every compare is made a clock ahead, into a flag register, for each value the
/// compared register can take on the next edge (unchanged, stepped, or cleared); the
/// counters keep `+1` and `+2` copies so that no adder sits before a compare. On the edge
/// itself only a few LUTs pick among the flags, so the decision reaches the counters'
/// resets quickly.
#[derive(LogicBlock)]
pub struct Moderator {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub pulse: Signal<In, Bit>,
    pub frames: Signal<In, Bits<16>>,
    pub time_us: Signal<In, Bits<16>>,
    /// High when the coming edge fires (and empties the count).
    pub fire: Signal<Out, Bit>,
    /// Pending event count, plus one and plus two, and whether it is nonzero.
    cnt: DFF<Bits<16>>,
    cnt_p1: DFFWithInit<Bits<16>>,
    cnt_p2: DFFWithInit<Bits<16>>,
    pending: DFF<Bit>,
    /// Clocks into the current µs, 0..cycles_per_us-1, and whether it is the last.
    pre: DFF<Bits<16>>,
    pre_end: DFFWithInit<Bit>,
    /// Whole µs since the edge that took the first pending event (saturating), plus one
    /// and plus two, and whether it is saturated.
    us: DFF<Bits<16>>,
    us_p1: DFFWithInit<Bits<16>>,
    us_p2: DFFWithInit<Bits<16>>,
    us_sat: DFF<Bit>,
    /// The time limit is on (`time_us` as of the last edge is nonzero).
    timed: DFF<Bit>,
    /// The settings as of the last edge compared with the counts: `cnt` and `cnt + 1`
    /// against the frame threshold (`frames`, 0 read as 1), `us` and `us + 1` against the
    /// time limit. A new setting counts from the edge after the one that brings it.
    cnt_ge: DFF<Bit>,
    cnt_p1_ge: DFFWithInit<Bit>,
    us_ge: DFFWithInit<Bit>,
    us_p1_ge: DFFWithInit<Bit>,
    k_pre_max_m1: Constant<Bits<16>>,
    /// A µs is one clock (`cycles_per_us` = 1): every clock is the last of its µs.
    k_pre_one: Constant<Bit>,
    k_ones: Constant<Bits<16>>,
    k_one: Constant<Bits<16>>,
    count_hit: Signal<Local, Bit>,
    tick: Signal<Local, Bit>,
    step_us: Signal<Local, Bit>,
    /// Fires by time on this edge: pending, timed, and the µs count this edge would hold
    /// reaches the limit (computed a clock ahead from the flags' next values).
    time_fire: DFF<Bit>,
    n_pending: Signal<Local, Bit>,
    n_pre_end: Signal<Local, Bit>,
    n_us_sat: Signal<Local, Bit>,
    n_us_ge: Signal<Local, Bit>,
    n_us_p1_ge: Signal<Local, Bit>,
    n_timed: Signal<Local, Bit>,
    /// The time test's inputs for the next edge as they are when this edge does not fire
    /// (the µs timer then clears only if nothing is pending): from registers alone, so the
    /// event reaches `time_fire` through one multiplexer (timing), not through the fire
    /// decision and the timer's clear.
    t_pre_end: Signal<Local, Bit>,
    t_us_sat: Signal<Local, Bit>,
    t_us_ge: Signal<Local, Bit>,
    t_us_p1_ge: Signal<Local, Bit>,
    t_time_hit: Signal<Local, Bit>,
    /// This edge does not fire and leaves an event pending (then `time_fire` may follow).
    t_stays: Signal<Local, Bit>,
    hit: Signal<Local, Bit>,
    clear_cnt: Signal<Local, Bit>,
    clear_us: Signal<Local, Bit>,
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
            cnt_p2: DFFWithInit::new(2_u64.to_bits()),
            pending: Default::default(),
            pre: Default::default(),
            pre_end: DFFWithInit::new(cycles_per_us == 1),
            us: Default::default(),
            us_p1: DFFWithInit::new(1_u64.to_bits()),
            us_p2: DFFWithInit::new(2_u64.to_bits()),
            us_sat: Default::default(),
            timed: Default::default(),
            // At power-on the count is 0 against a threshold of 1, and `us` 0 against 0.
            cnt_ge: Default::default(),
            cnt_p1_ge: DFFWithInit::new(true),
            us_ge: DFFWithInit::new(true),
            us_p1_ge: DFFWithInit::new(true),
            k_pre_max_m1: Constant::new((cycles_per_us.wrapping_sub(2) as u64 & 0xFFFF).to_bits()),
            k_pre_one: Constant::new(cycles_per_us == 1),
            k_ones: Constant::new(0xFFFF_u64.to_bits()),
            k_one: Constant::new(1_u64.to_bits()),
            count_hit: Default::default(),
            tick: Default::default(),
            step_us: Default::default(),
            time_fire: Default::default(),
            n_pending: Default::default(),
            n_pre_end: Default::default(),
            n_us_sat: Default::default(),
            n_us_ge: Default::default(),
            n_us_p1_ge: Default::default(),
            n_timed: Default::default(),
            t_pre_end: Default::default(),
            t_us_sat: Default::default(),
            t_us_ge: Default::default(),
            t_us_p1_ge: Default::default(),
            t_time_hit: Default::default(),
            t_stays: Default::default(),
            hit: Default::default(),
            clear_cnt: Default::default(),
            clear_us: Default::default(),
        }
    }
}

impl Logic for Moderator {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, cnt, cnt_p1, cnt_p2, pending, pre, pre_end, us, us_p1, us_p2, us_sat, timed, cnt_ge,
            cnt_p1_ge, us_ge, us_p1_ge, time_fire
        );
        // Next-edge values of the flags the time test reads (defaults: held).
        self.n_pending.next = self.pending.q.val();
        self.n_pre_end.next = self.pre_end.q.val();
        self.n_us_sat.next = self.us_sat.q.val();
        self.n_us_ge.next = self.us_ge.q.val();
        self.n_us_p1_ge.next = self.us_p1_ge.q.val();
        // ---- This edge: pick among the flags.
        // The count this edge would hold (`cnt + pulse`) reaches the threshold.
        self.count_hit.next = self.cnt_ge.q.val();
        if self.pulse.val() {
            self.count_hit.next = self.cnt_p1_ge.q.val();
        }
        self.tick.next = self.pending.q.val() & self.pre_end.q.val();
        self.step_us.next = self.tick.val() & !self.us_sat.q.val();
        // The time test (`time_fire`: pending, timed, and the µs count this edge would hold
        // reaches `time_us`) is itself made a clock ahead, below.
        self.hit.next = ((self.pulse.val() | self.pending.q.val()) & self.count_hit.val()) | self.time_fire.q.val();
        self.fire.next = self.hit.val() & !self.reset.val();
        self.clear_cnt.next = self.reset.val() | self.hit.val();
        self.clear_us.next = self.clear_cnt.val() | !self.pending.q.val();

        // ---- The next edge's settings.
        self.n_timed.next = self.time_us.val().any();

        // ---- The count, and its compares for the next edge. The threshold is `frames` with
        // 0 read as 1: `x >= max(frames, 1)` is `x >= frames` for the nonzero `cnt + 1` and
        // `cnt + 2`, and `x >= frames && x != 0` for `cnt` (no zero test before a compare).
        if self.clear_cnt.val() {
            self.cnt.d.next = 0.into();
            self.cnt_p1.d.next = 1.into();
            self.cnt_p2.d.next = 2.into();
            self.n_pending.next = false;
            self.cnt_ge.d.next = false;
            self.cnt_p1_ge.d.next = self.frames.val() <= self.k_one.val();
        } else if self.pulse.val() {
            self.cnt.d.next = self.cnt_p1.q.val();
            self.cnt_p1.d.next = self.cnt_p2.q.val();
            self.cnt_p2.d.next = self.cnt_p2.q.val() + 1;
            self.n_pending.next = true;
            self.cnt_ge.d.next = self.cnt_p1.q.val() >= self.frames.val();
            self.cnt_p1_ge.d.next = self.cnt_p2.q.val() >= self.frames.val();
        } else {
            self.cnt_ge.d.next = (self.cnt.q.val() >= self.frames.val()) & self.pending.q.val();
            self.cnt_p1_ge.d.next = self.cnt_p1.q.val() >= self.frames.val();
        }

        // ---- The µs timer, and its compares for the next edge.
        if self.clear_us.val() {
            self.pre.d.next = 0.into();
            self.n_pre_end.next = self.k_pre_one.val();
            self.us.d.next = 0.into();
            self.us_p1.d.next = 1.into();
            self.us_p2.d.next = 2.into();
            self.n_us_sat.next = false;
            self.n_us_ge.next = !self.time_us.val().any();
            self.n_us_p1_ge.next = self.time_us.val() <= self.k_one.val();
        } else {
            if self.tick.val() {
                self.pre.d.next = 0.into();
                self.n_pre_end.next = self.k_pre_one.val();
            } else {
                self.pre.d.next = self.pre.q.val() + 1;
                self.n_pre_end.next = self.pre.q.val() == self.k_pre_max_m1.val();
            }
            if self.step_us.val() {
                self.us.d.next = self.us_p1.q.val();
                self.us_p1.d.next = self.us_p2.q.val();
                self.us_p2.d.next = self.us_p2.q.val() + 1;
                self.n_us_sat.next = self.us_p1.q.val() == self.k_ones.val();
                self.n_us_ge.next = self.us_p1.q.val() >= self.time_us.val();
                self.n_us_p1_ge.next = self.us_p2.q.val() >= self.time_us.val();
            } else {
                self.n_us_ge.next = self.us.q.val() >= self.time_us.val();
                self.n_us_p1_ge.next = self.us_p1.q.val() >= self.time_us.val();
            }
        }

        // ---- The flags as of the next edge, and the time test from them.
        self.pending.d.next = self.n_pending.val();
        self.pre_end.d.next = self.n_pre_end.val();
        self.us_sat.d.next = self.n_us_sat.val();
        self.us_ge.d.next = self.n_us_ge.val();
        self.us_p1_ge.d.next = self.n_us_p1_ge.val();
        self.timed.d.next = self.n_timed.val();
        // `time_fire` is `n_pending & n_timed & n_time_hit`, where `n_pending` is
        // `!reset & !hit & (pulse | pending)`, and, when the edge does not fire, the timer
        // clears only if nothing was pending: the same test from the `t_*` flags, with the
        // event selecting between the two ways this edge can stay unfired.
        if !self.pending.q.val() {
            self.t_pre_end.next = self.k_pre_one.val();
            self.t_us_sat.next = false;
            self.t_us_ge.next = !self.time_us.val().any();
            self.t_us_p1_ge.next = self.time_us.val() <= self.k_one.val();
        } else {
            if self.pre_end.q.val() {
                self.t_pre_end.next = self.k_pre_one.val();
            } else {
                self.t_pre_end.next = self.pre.q.val() == self.k_pre_max_m1.val();
            }
            if self.pre_end.q.val() & !self.us_sat.q.val() {
                self.t_us_sat.next = self.us_p1.q.val() == self.k_ones.val();
                self.t_us_ge.next = self.us_p1.q.val() >= self.time_us.val();
                self.t_us_p1_ge.next = self.us_p2.q.val() >= self.time_us.val();
            } else {
                self.t_us_sat.next = self.us_sat.q.val();
                self.t_us_ge.next = self.us.q.val() >= self.time_us.val();
                self.t_us_p1_ge.next = self.us_p1.q.val() >= self.time_us.val();
            }
        }
        self.t_time_hit.next = self.t_us_ge.val();
        if self.t_pre_end.val() & !self.t_us_sat.val() {
            self.t_time_hit.next = self.t_us_p1_ge.val();
        }
        self.t_stays.next = self.pending.q.val() & !self.cnt_ge.q.val();
        if self.pulse.val() {
            self.t_stays.next = !self.cnt_p1_ge.q.val();
        }
        self.time_fire.d.next = !self.reset.val()
            & !self.time_fire.q.val()
            & self.n_timed.val()
            & self.t_time_hit.val()
            & self.t_stays.val();
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
