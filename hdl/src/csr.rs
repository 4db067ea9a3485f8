//! The register slave: BAR0 of the card behind a 32-bit AXI4-Lite slave, decoded from the
//! one register map in `nic-regs` (`docs/registers.md`).
//!
//! # How the decoder comes from `nic-regs`
//! Rust-HDL ports are struct fields, so the ports themselves are written out here; everything
//! else is generated from the table at construction time ([`Csr::default`]):
//! * a Rust loop over `nic_regs::REGISTERS` sorts the registers by access into three groups
//!   (read/write storage, read-only/W1C values, 64-bit counters) and fills arrays of
//!   `Constant`s with each register's word address, writable-bit mask and reset value;
//! * the kernel decodes with `for` loops over those constant arrays (Rust-HDL unrolls them
//!   into the Verilog), so offsets, masks and reset values exist only in `nic-regs`;
//! * the meaning of each slot (which port a storage word drives, which input a read-only
//!   slot shows) is fixed by the slot tables [`RW_SLOTS`], [`RO_SLOTS`] and the counter order
//!   `nic_regs::Counter`; construction panics, naming the register, if the table and the
//!   slots disagree (a register added to `nic-regs` without a port here cannot go unnoticed),
//!   and `const` assertions pin the field widths the ports assume.
//!
//! # Behaviour
//! * AW and W are taken independently (in any order, any delay between them) into one
//!   holding register each; once both are held and no write response is pending, the write
//!   is performed in one clock and B is raised, unless a read taken is waiting to be
//!   gathered. AR is taken when no read is waiting to be gathered and no write is being
//!   performed that clock; its word address is decoded into flags, the values are gathered
//!   into partial ORs on a later clock (the next one unless the previous read still waits for
//!   R), and R is raised once R's slot is free (R valid three clocks after AR at the earliest;
//!   back to back, a read every two clocks). A read sees the values of the clock it is
//!   gathered on, and no write is performed between its AR and that clock. Every channel
//!   honours valid/ready, so a slow master only stalls itself.
//! * Response OKAY for every register in the table (writes to read-only registers are
//!   ignored), SLVERR for any other offset (a read returns 0, a write changes nothing).
//!   Address bits 1:0 are ignored; byte strobes are honoured.
//! * `IRQ_CAUSE` is write-1-to-clear; `irq_set` sets bits every clock, and a set wins over a
//!   clear in the same clock.
//! * Counters live in the statistics table (`stats::Stats`), which this block reads like a
//!   RAM with a registered output: a counter's `LO` read shows its index on `cnt_index` from
//!   the clock AR is taken, and `cnt_value` (that entry a clock later) is sampled when the
//!   read is gathered. Its bits 31:0 are the answer and its bits 63:32 go
//!   into the one shadow as R is raised; reading any `HI` returns the shadow. The pair is
//!   therefore one snapshot (`nic_regs::read_counter`).
//! * `CONTROL.SOFT_RESET` pulses `soft_reset` for one clock, and that clock every register
//!   here returns to its reset value (the AXI handshake state is kept, so the write that
//!   asked for it completes normally).
use rust_hdl::prelude::*;

/// Address bits the slave decodes (BAR0 is 4 KiB); bits 1:0 are ignored.
pub const ADDR_BITS: usize = nic_regs::ADDR_BITS as usize;
/// Number of read/write storage registers.
pub const NRW: usize = 26;
/// Number of byte lanes of read/write storage (each register's four).
const NRW_LANES: usize = NRW * 4;
/// Number of read-only (and W1C) registers that are not counters.
pub const NRO: usize = 8;
/// Number of 64-bit counters.
pub const NCNT: usize = 12;
/// The read multiplexer's first stage: partial ORs of at most 8 values each (RW slots
/// 0-7, 8-15, 16-23, 24-25; the RO slots; the counter read from the statistics table).
/// (The kernel indexes `acc` with literals: Rust-HDL's Verilog generator takes no named
/// constants in an index.)
const NPART: usize = 6;

/// The read/write registers in table order; slot `i` is `rw[i]` in the kernel and drives the
/// ports named in the comment.
pub const RW_SLOTS: [&str; NRW] = [
    "CONTROL",        // 0: rx_enable, tx_enable
    "MAC_LO",         // 1: station_mac[31:0]
    "MAC_HI",         // 2: station_mac[47:32]
    "FILTER",         // 3: promisc, all_multicast
    "MAX_LEN",        // 4: max_len
    "MCAST_HASH_LO",  // 5: mcast_hash[31:0]
    "MCAST_HASH_HI",  // 6: mcast_hash[63:32]
    "IRQ_MASK",       // 7: irq_mask
    "IRQ_MOD_FRAMES", // 8: irq_mod_frames
    "IRQ_MOD_TIME",   // 9: irq_mod_time_us
    "RXD_BASE_LO",    // 10..13: rxd_base, rxd_log2_size, rxd_producer
    "RXD_BASE_HI",
    "RXD_LOG2_SIZE",
    "RXD_PRODUCER",
    "RXC_BASE_LO", // 14..17: rxc_base, rxc_log2_size, rxc_consumer
    "RXC_BASE_HI",
    "RXC_LOG2_SIZE",
    "RXC_CONSUMER",
    "TXD_BASE_LO", // 18..21: txd_base, txd_log2_size, txd_producer
    "TXD_BASE_HI",
    "TXD_LOG2_SIZE",
    "TXD_PRODUCER",
    "TXC_BASE_LO", // 22..25: txc_base, txc_log2_size, txc_consumer
    "TXC_BASE_HI",
    "TXC_LOG2_SIZE",
    "TXC_CONSUMER",
];

/// The read-only and W1C registers other than counters, in table order; slot `i` is
/// `ro_val[i]` in the kernel.
pub const RO_SLOTS: [&str; NRO] = [
    "ID",           // 0: constant
    "VERSION",      // 1: constant
    "STATUS",       // 2: link_up, cdr_lock, rx_stopped, tx_stopped
    "IRQ_CAUSE",    // 3: W1C, irq_cause
    "RXD_CONSUMER", // 4: rxd_consumer
    "RXC_PRODUCER", // 5: rxc_producer
    "TXD_CONSUMER", // 6: txd_consumer
    "TXC_PRODUCER", // 7: txc_producer
];
const RO_IRQ_CAUSE: usize = 3;

// The field shapes the ports assume.
const _: () = {
    use nic_regs::*;
    assert!(ADDR_BITS == 12 && COUNTERS.len() == NCNT && IRQ_CAUSES == 5);
    assert!(
        IRQ_BIT_RX == 0 && IRQ_BIT_TX == 1 && IRQ_BIT_DMA_ERROR == 2 && IRQ_BIT_LINK == 3 && IRQ_BIT_RX_NO_BUFFER == 4
    );
    assert!(MAC_LO_ADDR.lsb == 0 && MAC_LO_ADDR.width == 32 && MAC_HI_ADDR.lsb == 0 && MAC_HI_ADDR.width == 16);
    assert!(MAX_LEN_BYTES.lsb == 0 && MAX_LEN_BYTES.width == 16);
    assert!(MCAST_HASH_LO_BINS.width == 32 && MCAST_HASH_HI_BINS.width == 32);
    assert!(IRQ_MOD_FRAMES_COUNT.lsb == 0 && IRQ_MOD_FRAMES_COUNT.width == 16);
    assert!(IRQ_MOD_TIME_US.lsb == 0 && IRQ_MOD_TIME_US.width == 16);
    assert!(RING_BASE_LO.width == 32 && RING_BASE_HI.width == 32);
    assert!(RING_LOG2_SIZE.lsb == 0 && RING_LOG2_SIZE.width == 4);
    assert!(RING_INDEX_HOST.lsb == 0 && RING_INDEX_HOST.width == 16 && RING_INDEX_DEVICE.width == 16);
    // Counter i's LO is word 0x80 + 2i: its index is the word address' bits 4:1.
    assert!(COUNTER_BASE == 0x200 && NCNT <= 16);
    // SOFT_RESET and the IRQ_CAUSE bits are in byte lane 0: their writes need its strobe.
    assert!(CONTROL_SOFT_RESET.lsb + CONTROL_SOFT_RESET.width <= 8 && IRQ_CAUSES <= 8);
};

/// AXI response codes.
pub const RESP_OKAY: u8 = 0;
pub const RESP_SLVERR: u8 = 2;

#[derive(LogicBlock)]
pub struct Csr {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // AXI4-Lite slave, 32-bit data.
    pub axil_awaddr: Signal<In, Bits<ADDR_BITS>>,
    pub axil_awvalid: Signal<In, Bit>,
    pub axil_awready: Signal<Out, Bit>,
    pub axil_wdata: Signal<In, Bits<32>>,
    pub axil_wstrb: Signal<In, Bits<4>>,
    pub axil_wvalid: Signal<In, Bit>,
    pub axil_wready: Signal<Out, Bit>,
    pub axil_bresp: Signal<Out, Bits<2>>,
    pub axil_bvalid: Signal<Out, Bit>,
    pub axil_bready: Signal<In, Bit>,
    pub axil_araddr: Signal<In, Bits<ADDR_BITS>>,
    pub axil_arvalid: Signal<In, Bit>,
    pub axil_arready: Signal<Out, Bit>,
    pub axil_rdata: Signal<Out, Bits<32>>,
    pub axil_rresp: Signal<Out, Bits<2>>,
    pub axil_rvalid: Signal<Out, Bit>,
    pub axil_rready: Signal<In, Bit>,
    // Configuration out (CONTROL, MAC, FILTER, MAX_LEN, MCAST_HASH).
    pub rx_enable: Signal<Out, Bit>,
    pub tx_enable: Signal<Out, Bit>,
    /// One clock when the host writes `CONTROL.SOFT_RESET`.
    pub soft_reset: Signal<Out, Bit>,
    /// First wire byte in bits 7:0, as `mac::filter` wants it.
    pub station_mac: Signal<Out, Bits<48>>,
    pub promisc: Signal<Out, Bit>,
    pub all_multicast: Signal<Out, Bit>,
    pub max_len: Signal<Out, Bits<16>>,
    pub mcast_hash: Signal<Out, Bits<64>>,
    // Interrupts.
    pub irq_cause: Signal<Out, Bits<5>>,
    pub irq_mask: Signal<Out, Bits<5>>,
    /// Cause bits to set this clock (pulses from the datapath).
    pub irq_set: Signal<In, Bits<5>>,
    pub irq_mod_frames: Signal<Out, Bits<16>>,
    pub irq_mod_time_us: Signal<Out, Bits<16>>,
    // Rings: the host's registers out, the device's indices in.
    pub rxd_base: Signal<Out, Bits<64>>,
    pub rxd_log2_size: Signal<Out, Bits<4>>,
    pub rxd_producer: Signal<Out, Bits<16>>,
    pub rxd_consumer: Signal<In, Bits<16>>,
    pub rxc_base: Signal<Out, Bits<64>>,
    pub rxc_log2_size: Signal<Out, Bits<4>>,
    pub rxc_consumer: Signal<Out, Bits<16>>,
    pub rxc_producer: Signal<In, Bits<16>>,
    pub txd_base: Signal<Out, Bits<64>>,
    pub txd_log2_size: Signal<Out, Bits<4>>,
    pub txd_producer: Signal<Out, Bits<16>>,
    pub txd_consumer: Signal<In, Bits<16>>,
    pub txc_base: Signal<Out, Bits<64>>,
    pub txc_log2_size: Signal<Out, Bits<4>>,
    pub txc_consumer: Signal<Out, Bits<16>>,
    pub txc_producer: Signal<In, Bits<16>>,
    // Status in.
    pub link_up: Signal<In, Bit>,
    pub cdr_lock: Signal<In, Bit>,
    pub rx_stopped: Signal<In, Bit>,
    pub tx_stopped: Signal<In, Bit>,
    // Counters: the statistics table (`stats::Stats`) read on the gather clock.
    /// The counter read (`nic_regs::Counter` order).
    pub cnt_index: Signal<Out, Bits<4>>,
    /// Counter `cnt_index`'s 64-bit value as of the last clock (sampled when the read is
    /// gathered).
    pub cnt_value: Signal<In, Bits<64>>,

    // AXI state.
    aw_held: DFF<Bit>,
    /// The write's address, decoded when AW is taken (as a read's is): the RW slot it names,
    /// whether it names IRQ_CAUSE, whether it names any register.
    wr_rw: [DFF<Bit>; NRW],
    wr_cause: DFF<Bit>,
    wr_hit: DFF<Bit>,
    w_held: DFF<Bit>,
    w_data: DFF<Bits<32>>,
    /// The write's byte strobes.
    w_strb: DFF<Bits<4>>,
    bvalid: DFF<Bit>,
    bresp: DFF<Bits<2>>,
    /// A read taken from AR, not yet gathered into `part`.
    r_pend: DFF<Bit>,
    /// The read's address, decoded when AR is taken: one flag per register (a counter's HI
    /// words share one: they all read the shadow). None set: no such register (SLVERR).
    rd_rw: [DFF<Bit>; NRW],
    rd_ro: [DFF<Bit>; NRO],
    /// A counter's LO, and which counter.
    rd_cnt: DFF<Bit>,
    rd_cnt_index: DFF<Bits<4>>,
    rd_hi: DFF<Bit>,
    /// The gathered read: the multiplexer's first stage, its response and its latch.
    gathered: DFF<Bit>,
    part: [DFF<Bits<32>>; NPART],
    g_hit: DFF<Bit>,
    g_hi: DFF<Bit>,
    g_latch: DFF<Bit>,
    g_latch_val: DFF<Bits<32>>,
    rvalid: DFF<Bit>,
    rdata: DFF<Bits<32>>,
    rresp: DFF<Bits<2>>,
    // Register state. The read/write registers are stored a byte lane per flip-flop group,
    // so a write is a clock enable per lane (its strobe) rather than a merge per bit: lane
    // `b` of slot `i` is `rw_lane[4i + b]`, a word whose bits outside the lane (and the
    // register's read-only bits) are constant 0, so synthesis keeps no flip-flop for them;
    // `rw[i]` is the OR of the slot's four lanes.
    rw_lane: [DFF<Bits<32>>; NRW_LANES],
    rw: [Signal<Local, Bits<32>>; NRW],
    cause: DFF<Bits<5>>,
    shadow: DFF<Bits<32>>,
    soft_rst: DFF<Bit>,
    // Generated from nic-regs.
    rw_addr: [Constant<Bits<10>>; NRW],
    rw_lane_wmask: [Constant<Bits<32>>; NRW_LANES],
    rw_lane_reset: [Constant<Bits<32>>; NRW_LANES],
    ro_addr: [Constant<Bits<10>>; NRO],
    cnt_lo_addr: [Constant<Bits<10>>; NCNT],
    cnt_hi_addr: [Constant<Bits<10>>; NCNT],
    k_id: Constant<Bits<32>>,
    k_version: Constant<Bits<32>>,
    k_rx_en: Constant<Bits<32>>,
    k_tx_en: Constant<Bits<32>>,
    k_soft_reset: Constant<Bits<32>>,
    k_promisc: Constant<Bits<32>>,
    k_all_multicast: Constant<Bits<32>>,
    k_link_up: Constant<Bits<32>>,
    k_cdr_lock: Constant<Bits<32>>,
    k_rx_stopped: Constant<Bits<32>>,
    k_tx_stopped: Constant<Bits<32>>,
    k_cause_bits: Constant<Bits<5>>,
    // Combinational.
    do_write: Signal<Local, Bit>,
    do_read: Signal<Local, Bit>,
    r_fire: Signal<Local, Bit>,
    gather: Signal<Local, Bit>,
    rst: Signal<Local, Bit>,
    sel: Signal<Local, Bits<10>>,
    hit: Signal<Local, Bit>,
    aw_sel: Signal<Local, Bits<10>>,
    aw_hit: Signal<Local, Bit>,
    acc: [Signal<Local, Bits<32>>; NPART],
    cur: Signal<Local, Bits<32>>,
    latch: Signal<Local, Bit>,
    latch_val: Signal<Local, Bits<32>>,
    status_bit: [Signal<Local, Bits<32>>; 4],
    ro_val: [Signal<Local, Bits<32>>; NRO],
}

fn word_const(offset: u32) -> Constant<Bits<10>> {
    Constant::new(((offset >> 2) as u64).to_bits())
}

fn k32(v: u128) -> Constant<Bits<32>> {
    Constant::new((v as u64).to_bits())
}

impl Default for Csr {
    /// Builds the decoder from `nic_regs::REGISTERS`; panics, naming the register, if the
    /// table and this block's slots disagree.
    fn default() -> Self {
        let mut rw = Vec::new();
        let mut ro = Vec::new();
        let mut cnt_lo = Vec::new();
        let mut cnt_hi = Vec::new();
        for r in REGISTERS {
            match r.access {
                Access::Rw => rw.push(r),
                Access::Ro | Access::W1c => ro.push(r),
                Access::RoLatch => cnt_lo.push(r),
                Access::RoShadow => cnt_hi.push(r),
                Access::W1p => panic!("csr: register {} is W1P as a whole; only fields may be", r.name),
            }
        }
        let names = |v: &Vec<nic_regs::Register>| v.iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(
            names(&rw),
            RW_SLOTS,
            "csr: nic-regs' RW registers differ from csr::RW_SLOTS: give each new register a port"
        );
        assert_eq!(
            names(&ro),
            RO_SLOTS,
            "csr: nic-regs' RO/W1C registers differ from csr::RO_SLOTS: give each new register an input"
        );
        for (i, c) in COUNTERS.iter().enumerate() {
            assert_eq!((cnt_lo[i], cnt_hi[i]), (c.lo, c.hi), "csr: counter {i} out of order");
        }
        assert_eq!(cnt_lo.len(), NCNT);
        assert_eq!(ro[RO_IRQ_CAUSE].access, Access::W1c);
        use nic_regs::*;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            axil_awaddr: Default::default(),
            axil_awvalid: Default::default(),
            axil_awready: Default::default(),
            axil_wdata: Default::default(),
            axil_wstrb: Default::default(),
            axil_wvalid: Default::default(),
            axil_wready: Default::default(),
            axil_bresp: Default::default(),
            axil_bvalid: Default::default(),
            axil_bready: Default::default(),
            axil_araddr: Default::default(),
            axil_arvalid: Default::default(),
            axil_arready: Default::default(),
            axil_rdata: Default::default(),
            axil_rresp: Default::default(),
            axil_rvalid: Default::default(),
            axil_rready: Default::default(),
            rx_enable: Default::default(),
            tx_enable: Default::default(),
            soft_reset: Default::default(),
            station_mac: Default::default(),
            promisc: Default::default(),
            all_multicast: Default::default(),
            max_len: Default::default(),
            mcast_hash: Default::default(),
            irq_cause: Default::default(),
            irq_mask: Default::default(),
            irq_set: Default::default(),
            irq_mod_frames: Default::default(),
            irq_mod_time_us: Default::default(),
            rxd_base: Default::default(),
            rxd_log2_size: Default::default(),
            rxd_producer: Default::default(),
            rxd_consumer: Default::default(),
            rxc_base: Default::default(),
            rxc_log2_size: Default::default(),
            rxc_consumer: Default::default(),
            rxc_producer: Default::default(),
            txd_base: Default::default(),
            txd_log2_size: Default::default(),
            txd_producer: Default::default(),
            txd_consumer: Default::default(),
            txc_base: Default::default(),
            txc_log2_size: Default::default(),
            txc_consumer: Default::default(),
            txc_producer: Default::default(),
            link_up: Default::default(),
            cdr_lock: Default::default(),
            rx_stopped: Default::default(),
            tx_stopped: Default::default(),
            cnt_index: Default::default(),
            cnt_value: Default::default(),
            aw_held: Default::default(),
            wr_rw: Default::default(),
            wr_cause: Default::default(),
            wr_hit: Default::default(),
            w_held: Default::default(),
            w_data: Default::default(),
            w_strb: Default::default(),
            bvalid: Default::default(),
            bresp: Default::default(),
            r_pend: Default::default(),
            rd_rw: Default::default(),
            rd_ro: Default::default(),
            rd_cnt: Default::default(),
            rd_cnt_index: Default::default(),
            rd_hi: Default::default(),
            gathered: Default::default(),
            part: Default::default(),
            g_hit: Default::default(),
            g_hi: Default::default(),
            g_latch: Default::default(),
            g_latch_val: Default::default(),
            rvalid: Default::default(),
            rdata: Default::default(),
            rresp: Default::default(),
            rw_lane: std::array::from_fn(|_| Default::default()),
            rw: Default::default(),
            cause: Default::default(),
            shadow: Default::default(),
            soft_rst: Default::default(),
            rw_addr: std::array::from_fn(|i| word_const(rw[i].offset)),
            rw_lane_wmask: std::array::from_fn(|k| k32((rw[k / 4].writable_bits() & (0xFF << (8 * (k % 4)))) as u128)),
            rw_lane_reset: std::array::from_fn(|k| k32((rw[k / 4].reset & (0xFF << (8 * (k % 4)))) as u128)),
            ro_addr: std::array::from_fn(|i| word_const(ro[i].offset)),
            cnt_lo_addr: std::array::from_fn(|i| word_const(cnt_lo[i].offset)),
            cnt_hi_addr: std::array::from_fn(|i| word_const(cnt_hi[i].offset)),
            k_id: k32(ID.reset as u128),
            k_version: k32(VERSION.reset as u128),
            k_rx_en: k32(CONTROL_RX_EN.mask()),
            k_tx_en: k32(CONTROL_TX_EN.mask()),
            k_soft_reset: k32(CONTROL_SOFT_RESET.mask()),
            k_promisc: k32(FILTER_PROMISC.mask()),
            k_all_multicast: k32(FILTER_ALL_MULTICAST.mask()),
            k_link_up: k32(STATUS_LINK_UP.mask()),
            k_cdr_lock: k32(STATUS_CDR_LOCK.mask()),
            k_rx_stopped: k32(STATUS_RX_STOPPED.mask()),
            k_tx_stopped: k32(STATUS_TX_STOPPED.mask()),
            k_cause_bits: Constant::new((IRQ_CAUSE.defined_bits() as u64).to_bits()),
            do_write: Default::default(),
            do_read: Default::default(),
            r_fire: Default::default(),
            gather: Default::default(),
            rst: Default::default(),
            sel: Default::default(),
            aw_sel: Default::default(),
            aw_hit: Default::default(),
            hit: Default::default(),
            acc: Default::default(),
            cur: Default::default(),
            latch: Default::default(),
            latch_val: Default::default(),
            status_bit: Default::default(),
            ro_val: Default::default(),
        }
    }
}

impl Logic for Csr {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            aw_held,
            wr_cause,
            wr_hit,
            w_held,
            w_data,
            w_strb,
            bvalid,
            bresp,
            r_pend,
            rd_hi,
            rd_cnt,
            rd_cnt_index,
            gathered,
            g_hit,
            g_hi,
            g_latch,
            g_latch_val,
            rvalid,
            rdata,
            rresp,
            cause,
            shadow,
            soft_rst
        );
        for i in 0..NPART {
            self.part[i].clock.next = self.clock.val();
            self.part[i].d.next = self.part[i].q.val();
        }
        for k in 0..NRW_LANES {
            self.rw_lane[k].clock.next = self.clock.val();
            self.rw_lane[k].d.next = self.rw_lane[k].q.val();
        }
        for i in 0..NRW {
            self.rw[i].next = self.rw_lane[4 * i].q.val()
                | self.rw_lane[4 * i + 1].q.val()
                | self.rw_lane[4 * i + 2].q.val()
                | self.rw_lane[4 * i + 3].q.val();
        }
        self.rst.next = self.reset.val() | self.soft_rst.q.val();

        // ---- channels: one write performed, or one read accepted, per clock. A read goes
        // through three registers (timing: each stage is a few LUTs deep): AR's word address
        // decoded into one flag per register; the values gathered into 6 partial ORs; R. A
        // read is gathered on the clock after AR when the previous read has left the gather
        // stage, and no write is performed between a read's AR and its gathering, so a read
        // taken before a write is answered with the values before it.
        self.do_write.next = self.aw_held.q.val() & self.w_held.q.val() & !self.bvalid.q.val() & !self.r_pend.q.val();
        self.do_read.next = self.axil_arvalid.val() & !self.r_pend.q.val() & !self.do_write.val();
        self.axil_awready.next = !self.aw_held.q.val();
        self.axil_wready.next = !self.w_held.q.val();
        self.axil_arready.next = !self.r_pend.q.val() & !self.do_write.val();
        // The gathered read is answered when R's slot is free (now, or as it is taken).
        self.r_fire.next = self.gathered.q.val() & (!self.rvalid.q.val() | self.axil_rready.val());
        self.gather.next = self.r_pend.q.val() & !self.gathered.q.val();
        self.r_pend.d.next = self.do_read.val() | (self.r_pend.q.val() & !self.gather.val());
        self.gathered.d.next = self.gather.val() | (self.gathered.q.val() & !self.r_fire.val());
        self.sel.next = self.axil_araddr.val().get_bits::<10>(2);
        for i in 0..NRW {
            self.rd_rw[i].clock.next = self.clock.val();
            self.rd_rw[i].d.next = self.rd_rw[i].q.val();
            if self.do_read.val() {
                self.rd_rw[i].d.next = self.sel.val() == self.rw_addr[i].val();
            }
        }
        for i in 0..NRO {
            self.rd_ro[i].clock.next = self.clock.val();
            self.rd_ro[i].d.next = self.rd_ro[i].q.val();
            if self.do_read.val() {
                self.rd_ro[i].d.next = self.sel.val() == self.ro_addr[i].val();
            }
        }
        // The statistics table registers the entry it is given: while no read is pending,
        // the one AR's address names (counter i's LO is word 0x80 + 2i: its bits 4:1, no
        // decode, timing), then the pending read's until it is gathered.
        self.cnt_index.next = self.sel.val().get_bits::<4>(1);
        if self.r_pend.q.val() {
            self.cnt_index.next = self.rd_cnt_index.q.val();
        }
        if self.do_read.val() {
            self.rd_cnt.d.next = false;
            self.rd_cnt_index.d.next = self.sel.val().get_bits::<4>(1);
            for i in 0..NCNT {
                if self.sel.val() == self.cnt_lo_addr[i].val() {
                    self.rd_cnt.d.next = true;
                }
            }
            self.rd_hi.d.next = false;
            for i in 0..NCNT {
                if self.sel.val() == self.cnt_hi_addr[i].val() {
                    self.rd_hi.d.next = true;
                }
            }
        }
        // ---- a write's address is decoded as AW is taken, its strobes as W is (timing: the
        // write itself is then an AND and a merge).
        self.aw_sel.next = self.axil_awaddr.val().get_bits::<10>(2);
        self.aw_hit.next = false;
        for i in 0..NRW {
            if self.aw_sel.val() == self.rw_addr[i].val() {
                self.aw_hit.next = true;
            }
        }
        for i in 0..NRO {
            if self.aw_sel.val() == self.ro_addr[i].val() {
                self.aw_hit.next = true;
            }
        }
        for i in 0..NCNT {
            if (self.aw_sel.val() == self.cnt_lo_addr[i].val()) | (self.aw_sel.val() == self.cnt_hi_addr[i].val()) {
                self.aw_hit.next = true;
            }
        }
        for i in 0..NRW {
            self.wr_rw[i].clock.next = self.clock.val();
            self.wr_rw[i].d.next = self.wr_rw[i].q.val();
        }
        if self.axil_awvalid.val() & !self.aw_held.q.val() {
            self.aw_held.d.next = true;
            for i in 0..NRW {
                self.wr_rw[i].d.next = self.aw_sel.val() == self.rw_addr[i].val();
            }
            // RO slot 3 is IRQ_CAUSE (RO_SLOTS; checked at construction).
            self.wr_cause.d.next = self.aw_sel.val() == self.ro_addr[3].val();
            self.wr_hit.d.next = self.aw_hit.val();
        }
        if self.axil_wvalid.val() & !self.w_held.q.val() {
            self.w_held.d.next = true;
            self.w_data.d.next = self.axil_wdata.val();
            self.w_strb.d.next = self.axil_wstrb.val();
        }

        // ---- the values the slots show.
        self.status_bit[0].next = 0.into();
        self.status_bit[1].next = 0.into();
        self.status_bit[2].next = 0.into();
        self.status_bit[3].next = 0.into();
        if self.link_up.val() {
            self.status_bit[0].next = self.k_link_up.val();
        }
        if self.cdr_lock.val() {
            self.status_bit[1].next = self.k_cdr_lock.val();
        }
        if self.rx_stopped.val() {
            self.status_bit[2].next = self.k_rx_stopped.val();
        }
        if self.tx_stopped.val() {
            self.status_bit[3].next = self.k_tx_stopped.val();
        }
        self.ro_val[0].next = self.k_id.val();
        self.ro_val[1].next = self.k_version.val();
        self.ro_val[2].next =
            self.status_bit[0].val() | self.status_bit[1].val() | self.status_bit[2].val() | self.status_bit[3].val();
        self.ro_val[3].next = bit_cast::<32, 5>(self.cause.q.val());
        self.ro_val[4].next = bit_cast::<32, 16>(self.rxd_consumer.val());
        self.ro_val[5].next = bit_cast::<32, 16>(self.rxc_producer.val());
        self.ro_val[6].next = bit_cast::<32, 16>(self.txd_consumer.val());
        self.ro_val[7].next = bit_cast::<32, 16>(self.txc_producer.val());

        // ---- the read multiplexer: an OR of the values whose (one-hot) flag is set, in two
        // stages: 6 partial ORs registered when the read is gathered, then their OR into R.
        // A read names a register when one of its flags is set.
        self.hit.next = self.rd_hi.q.val();
        for i in 0..NPART {
            self.acc[i].next = 0.into();
        }
        self.latch.next = false;
        self.latch_val.next = 0.into();
        for i in 0..NRW {
            if self.rd_rw[i].q.val() {
                self.hit.next = true;
                self.acc[i / 8].next = self.acc[i / 8].val() | self.rw[i].val();
            }
        }
        for i in 0..NRO {
            if self.rd_ro[i].q.val() {
                self.hit.next = true;
                self.acc[4].next = self.acc[4].val() | self.ro_val[i].val();
            }
        }
        if self.rd_cnt.q.val() {
            self.hit.next = true;
            self.acc[5].next = self.cnt_value.val().get_bits::<32>(0);
            self.latch.next = true;
            self.latch_val.next = self.cnt_value.val().get_bits::<32>(32);
        }
        if self.gather.val() {
            for i in 0..NPART {
                self.part[i].d.next = self.acc[i].val();
            }
            self.g_hit.d.next = self.hit.val();
            self.g_hi.d.next = self.rd_hi.q.val();
            self.g_latch.d.next = self.latch.val();
            self.g_latch_val.d.next = self.latch_val.val();
        }
        self.cur.next = 0.into();
        for i in 0..NPART {
            self.cur.next = self.cur.val() | self.part[i].q.val();
        }
        if self.g_hi.q.val() {
            self.cur.next = self.cur.val() | self.shadow.q.val();
        }

        // ---- write: each strobed byte lane of the named register loads (no read multiplexer
        // and no merge on the write path; bits that are not writable stay constant).
        for i in 0..NRW {
            for b in 0..4 {
                if self.do_write.val() & self.wr_rw[i].q.val() & self.w_strb.q.val().get_bit(b) {
                    self.rw_lane[4 * i + b].d.next = self.w_data.q.val() & self.rw_lane_wmask[4 * i + b].val();
                }
            }
        }
        self.soft_rst.d.next = false;
        if self.do_write.val() & self.wr_rw[0].q.val() & self.w_strb.q.val().get_bit(0) {
            self.soft_rst.d.next = (self.w_data.q.val() & self.k_soft_reset.val()).any();
        }
        self.cause.d.next = self.cause.q.val() | (self.irq_set.val() & self.k_cause_bits.val());
        if self.do_write.val() & self.wr_cause.q.val() & self.w_strb.q.val().get_bit(0) {
            self.cause.d.next = (self.cause.q.val() & !self.w_data.q.val().get_bits::<5>(0))
                | (self.irq_set.val() & self.k_cause_bits.val());
        }
        if self.do_write.val() {
            self.aw_held.d.next = false;
            self.w_held.d.next = false;
            self.bvalid.d.next = true;
            self.bresp.d.next = 0.into();
            if !self.wr_hit.q.val() {
                self.bresp.d.next = 2.into();
            }
        }
        if self.bvalid.q.val() & self.axil_bready.val() {
            self.bvalid.d.next = false;
        }

        // ---- read: answer the gathered read once R's slot is free; a counter LO read
        // latches its HI (a HI read's shadow is taken here, after any LO read before it).
        if self.rvalid.q.val() & self.axil_rready.val() {
            self.rvalid.d.next = false;
        }
        if self.r_fire.val() {
            self.rvalid.d.next = true;
            self.rdata.d.next = self.cur.val();
            self.rresp.d.next = 0.into();
            if !self.g_hit.q.val() {
                self.rresp.d.next = 2.into();
            }
            if self.g_latch.q.val() {
                self.shadow.d.next = self.g_latch_val.q.val();
            }
        }

        // ---- resets: registers on reset or soft reset, the channels on reset only.
        if self.rst.val() {
            for k in 0..NRW_LANES {
                self.rw_lane[k].d.next = self.rw_lane_reset[k].val();
            }
            self.cause.d.next = 0.into();
            self.shadow.d.next = 0.into();
        }
        if self.reset.val() {
            self.aw_held.d.next = false;
            self.w_held.d.next = false;
            self.bvalid.d.next = false;
            self.rvalid.d.next = false;
            self.r_pend.d.next = false;
            self.gathered.d.next = false;
            self.soft_rst.d.next = false;
        }

        // ---- ports, from the lanes' flip-flops directly (a port that went through `rw[i]`,
        // assigned in this kernel, would look combinational from this block's inputs to the
        // simulators' scheduling, which then finds loops with the interrupt block).
        self.axil_bvalid.next = self.bvalid.q.val();
        self.axil_bresp.next = self.bresp.q.val();
        self.axil_rvalid.next = self.rvalid.q.val();
        self.axil_rdata.next = self.rdata.q.val();
        self.axil_rresp.next = self.rresp.q.val();
        self.rx_enable.next =
            ((self.rw_lane[0].q.val() | self.rw_lane[1].q.val() | self.rw_lane[2].q.val() | self.rw_lane[3].q.val())
                & self.k_rx_en.val())
            .any();
        self.tx_enable.next =
            ((self.rw_lane[0].q.val() | self.rw_lane[1].q.val() | self.rw_lane[2].q.val() | self.rw_lane[3].q.val())
                & self.k_tx_en.val())
            .any();
        self.soft_reset.next = self.soft_rst.q.val();
        self.station_mac.next = bit_cast::<48, 32>(
            (self.rw_lane[4].q.val() | self.rw_lane[5].q.val() | self.rw_lane[6].q.val() | self.rw_lane[7].q.val()),
        ) | (bit_cast::<48, 32>(
            (self.rw_lane[8].q.val() | self.rw_lane[9].q.val() | self.rw_lane[10].q.val() | self.rw_lane[11].q.val()),
        ) << 32);
        self.promisc.next = ((self.rw_lane[12].q.val()
            | self.rw_lane[13].q.val()
            | self.rw_lane[14].q.val()
            | self.rw_lane[15].q.val())
            & self.k_promisc.val())
        .any();
        self.all_multicast.next = ((self.rw_lane[12].q.val()
            | self.rw_lane[13].q.val()
            | self.rw_lane[14].q.val()
            | self.rw_lane[15].q.val())
            & self.k_all_multicast.val())
        .any();
        self.max_len.next = (self.rw_lane[16].q.val().get_bits::<16>(0) | self.rw_lane[17].q.val().get_bits::<16>(0));
        self.mcast_hash.next = bit_cast::<64, 32>(
            (self.rw_lane[20].q.val() | self.rw_lane[21].q.val() | self.rw_lane[22].q.val() | self.rw_lane[23].q.val()),
        ) | (bit_cast::<64, 32>(
            (self.rw_lane[24].q.val() | self.rw_lane[25].q.val() | self.rw_lane[26].q.val() | self.rw_lane[27].q.val()),
        ) << 32);
        self.irq_mask.next = (self.rw_lane[28].q.val().get_bits::<5>(0));
        self.irq_mod_frames.next =
            (self.rw_lane[32].q.val().get_bits::<16>(0) | self.rw_lane[33].q.val().get_bits::<16>(0));
        self.irq_mod_time_us.next =
            (self.rw_lane[36].q.val().get_bits::<16>(0) | self.rw_lane[37].q.val().get_bits::<16>(0));
        self.irq_cause.next = self.cause.q.val();
        self.rxd_base.next = bit_cast::<64, 32>(
            (self.rw_lane[40].q.val() | self.rw_lane[41].q.val() | self.rw_lane[42].q.val() | self.rw_lane[43].q.val()),
        ) | (bit_cast::<64, 32>(
            (self.rw_lane[44].q.val() | self.rw_lane[45].q.val() | self.rw_lane[46].q.val() | self.rw_lane[47].q.val()),
        ) << 32);
        self.rxd_log2_size.next = (self.rw_lane[48].q.val().get_bits::<4>(0));
        self.rxd_producer.next =
            (self.rw_lane[52].q.val().get_bits::<16>(0) | self.rw_lane[53].q.val().get_bits::<16>(0));
        self.rxc_base.next = bit_cast::<64, 32>(
            (self.rw_lane[56].q.val() | self.rw_lane[57].q.val() | self.rw_lane[58].q.val() | self.rw_lane[59].q.val()),
        ) | (bit_cast::<64, 32>(
            (self.rw_lane[60].q.val() | self.rw_lane[61].q.val() | self.rw_lane[62].q.val() | self.rw_lane[63].q.val()),
        ) << 32);
        self.rxc_log2_size.next = (self.rw_lane[64].q.val().get_bits::<4>(0));
        self.rxc_consumer.next =
            (self.rw_lane[68].q.val().get_bits::<16>(0) | self.rw_lane[69].q.val().get_bits::<16>(0));
        self.txd_base.next = bit_cast::<64, 32>(
            (self.rw_lane[72].q.val() | self.rw_lane[73].q.val() | self.rw_lane[74].q.val() | self.rw_lane[75].q.val()),
        ) | (bit_cast::<64, 32>(
            (self.rw_lane[76].q.val() | self.rw_lane[77].q.val() | self.rw_lane[78].q.val() | self.rw_lane[79].q.val()),
        ) << 32);
        self.txd_log2_size.next = (self.rw_lane[80].q.val().get_bits::<4>(0));
        self.txd_producer.next =
            (self.rw_lane[84].q.val().get_bits::<16>(0) | self.rw_lane[85].q.val().get_bits::<16>(0));
        self.txc_base.next = bit_cast::<64, 32>(
            (self.rw_lane[88].q.val() | self.rw_lane[89].q.val() | self.rw_lane[90].q.val() | self.rw_lane[91].q.val()),
        ) | (bit_cast::<64, 32>(
            (self.rw_lane[92].q.val() | self.rw_lane[93].q.val() | self.rw_lane[94].q.val() | self.rw_lane[95].q.val()),
        ) << 32);
        self.txc_log2_size.next = (self.rw_lane[96].q.val().get_bits::<4>(0));
        self.txc_consumer.next =
            (self.rw_lane[100].q.val().get_bits::<16>(0) | self.rw_lane[101].q.val().get_bits::<16>(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rx_reference::{self, station_bits, MacConfig};
    use crate::sim::{cycle, cycle_traced, settle};
    use crate::verilog::vectors::VectorRecorder;
    use nic_regs::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::{HashMap, VecDeque};

    /// A completed read: what the master asked, what came back, the clock its AR was taken
    /// on and the clock it was answered on (the edge that raised R's valid: the values read
    /// are those of that clock).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct ReadDone {
        addr: u32,
        data: u32,
        resp: u8,
        ar_cycle: u64,
        answered: u64,
    }

    /// An AXI4-Lite master in plain Rust. Each request waits its own number of clocks
    /// before its valid goes up (so AW and W of one write can arrive in either order, far
    /// apart), holds valid until ready, and B/R ready are dropped at random with the given
    /// probabilities.
    struct Master {
        aw: VecDeque<(u32, u32)>,
        w: VecDeque<(u32, u8, u32)>,
        ar: VecDeque<(u32, u32)>,
        pending_reads: VecDeque<(u32, u64)>,
        /// The clock R's valid was first seen for the read at the head of `pending_reads`.
        r_seen: Option<u64>,
        writes_issued: usize,
        b: Vec<u8>,
        /// The clock each write was performed on (the edge that raised B's valid).
        performed: Vec<u64>,
        b_seen: Option<u64>,
        r: Vec<ReadDone>,
        b_stall: f64,
        r_stall: f64,
        rng: ChaCha8Rng,
        cycle: u64,
        rec: Option<VectorRecorder>,
    }

    impl Master {
        fn new(seed: u64) -> Self {
            Self {
                aw: VecDeque::new(),
                w: VecDeque::new(),
                ar: VecDeque::new(),
                pending_reads: VecDeque::new(),
                r_seen: None,
                writes_issued: 0,
                b: Vec::new(),
                performed: Vec::new(),
                b_seen: None,
                r: Vec::new(),
                b_stall: 0.0,
                r_stall: 0.0,
                rng: ChaCha8Rng::seed_from_u64(seed),
                cycle: 0,
                rec: None,
            }
        }

        fn write_delayed(&mut self, addr: u32, data: u32, strb: u8, aw_wait: u32, w_wait: u32) {
            self.aw.push_back((addr, aw_wait));
            self.w.push_back((data, strb, w_wait));
            self.writes_issued += 1;
        }
        fn write(&mut self, addr: u32, data: u32) {
            self.write_delayed(addr, data, 0xF, 0, 0);
        }
        fn read_delayed(&mut self, addr: u32, wait: u32) {
            self.ar.push_back((addr, wait));
        }
        fn read(&mut self, addr: u32) {
            self.read_delayed(addr, 0);
        }

        fn busy(&self) -> bool {
            !self.aw.is_empty()
                || !self.w.is_empty()
                || !self.ar.is_empty()
                || !self.pending_reads.is_empty()
                || self.b.len() < self.writes_issued
        }

        /// One clock. `inputs` drives the datapath side first (it sees the clock number).
        fn tick(&mut self, uut: &mut Csr, inputs: &mut dyn FnMut(&mut Csr, u64)) {
            inputs(uut, self.cycle);
            let aw = self.aw.front().filter(|x| x.1 == 0).map(|x| x.0);
            let w = self.w.front().filter(|x| x.2 == 0).map(|x| (x.0, x.1));
            let ar = self.ar.front().filter(|x| x.1 == 0).map(|x| x.0);
            uut.axil_awvalid.next = aw.is_some();
            uut.axil_awaddr.next = (aw.unwrap_or(0) as u64 & 0xFFF).to_bits();
            uut.axil_wvalid.next = w.is_some();
            uut.axil_wdata.next = (w.map_or(0, |x| x.0) as u64).to_bits();
            uut.axil_wstrb.next = (w.map_or(0, |x| x.1) as u64).to_bits();
            uut.axil_arvalid.next = ar.is_some();
            uut.axil_araddr.next = (ar.unwrap_or(0) as u64 & 0xFFF).to_bits();
            let bready = !self.rng.gen_bool(self.b_stall);
            let rready = !self.rng.gen_bool(self.r_stall);
            uut.axil_bready.next = bready;
            uut.axil_rready.next = rready;
            settle(uut);
            let aw_fire = aw.is_some() && uut.axil_awready.val();
            let w_fire = w.is_some() && uut.axil_wready.val();
            let ar_fire = ar.is_some() && uut.axil_arready.val();
            let b_fire = bready && uut.axil_bvalid.val();
            let r_fire = rready && uut.axil_rvalid.val();
            if uut.axil_rvalid.val() && self.r_seen.is_none() {
                self.r_seen = Some(self.cycle);
            }
            let (bresp, rdata, rresp) = (
                uut.axil_bresp.val().to_u32() as u8,
                uut.axil_rdata.val().to_u32(),
                uut.axil_rresp.val().to_u32() as u8,
            );
            cycle_traced(uut, |u| &mut u.clock, self.rec.as_mut());
            if aw_fire {
                self.aw.pop_front();
            } else if let Some(f) = self.aw.front_mut() {
                f.1 = f.1.saturating_sub(1);
            }
            if ar_fire {
                let (a, _) = self.ar.pop_front().unwrap();
                self.pending_reads.push_back((a, self.cycle));
            } else if let Some(f) = self.ar.front_mut() {
                f.1 = f.1.saturating_sub(1);
            }
            if w_fire {
                self.w.pop_front();
            } else if let Some(f) = self.w.front_mut() {
                f.2 = f.2.saturating_sub(1);
            }
            if uut.axil_bvalid.val() && self.b_seen.is_none() {
                self.b_seen = Some(self.cycle);
            }
            if b_fire {
                self.b.push(bresp);
                self.performed.push(self.b_seen.take().expect("B seen") - 1);
            }
            if r_fire {
                let (addr, ar_cycle) = self.pending_reads.pop_front().expect("R without AR");
                let answered = self.r_seen.take().expect("R seen") - 1;
                self.r.push(ReadDone { addr, data: rdata, resp: rresp, ar_cycle, answered });
            }
            self.cycle += 1;
        }

        /// Clock until every request is answered; returns the clocks it took.
        fn run(&mut self, uut: &mut Csr, inputs: &mut dyn FnMut(&mut Csr, u64)) -> u64 {
            let start = self.cycle;
            while self.busy() {
                self.tick(uut, inputs);
                assert!(self.cycle - start < 100_000, "AXI-Lite transactions hung");
            }
            self.cycle - start
        }
    }

    fn idle(_: &mut Csr, _: u64) {}

    fn new_csr() -> Csr {
        let mut uut = Csr::default();
        uut.connect_all();
        uut.reset.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        uut
    }

    fn read1(m: &mut Master, uut: &mut Csr, addr: u32) -> (u32, u8) {
        m.read(addr);
        m.run(uut, &mut idle);
        let r = m.r.pop().unwrap();
        (r.data, r.resp)
    }

    fn write1(m: &mut Master, uut: &mut Csr, addr: u32, data: u32) -> u8 {
        m.write(addr, data);
        m.run(uut, &mut idle);
        m.writes_issued -= 1;
        m.b.pop().unwrap()
    }

    fn rw_registers() -> Vec<Register> {
        REGISTERS.iter().copied().filter(|r| r.access == Access::Rw).collect()
    }

    #[test]
    fn every_register_reads_its_reset_value() {
        let mut uut = new_csr();
        let mut m = Master::new(1);
        for r in REGISTERS {
            assert_eq!(read1(&mut m, &mut uut, r.offset), (r.reset, RESP_OKAY), "{} at {:#x}", r.name, r.offset);
        }
        assert_eq!(uut.station_mac.val().to_u64(), station_bits(&DEFAULT_MAC));
        assert_eq!(uut.max_len.val().to_u32(), DEFAULT_MAX_LEN);
        assert_eq!(uut.irq_mask.val().to_u32(), IRQ_MASK.reset);
        assert_eq!(uut.irq_mod_frames.val().to_u32(), IRQ_MOD_FRAMES.reset);
        assert!(!uut.rx_enable.val() && !uut.tx_enable.val() && !uut.soft_reset.val());
        // Address bits 1:0 are ignored.
        assert_eq!(read1(&mut m, &mut uut, ID.offset + 3), (ID_MAGIC, RESP_OKAY));
    }

    /// The ports a register drives, as a value to compare with what was written.
    fn port_value(uut: &Csr, name: &str) -> u32 {
        let lo = |v: u64| v as u32;
        let hi = |v: u64| (v >> 32) as u32;
        let ctl = (uut.rx_enable.val() as u32) << CONTROL_RX_EN.lsb | (uut.tx_enable.val() as u32) << CONTROL_TX_EN.lsb;
        let filt = (uut.promisc.val() as u32) << FILTER_PROMISC.lsb
            | (uut.all_multicast.val() as u32) << FILTER_ALL_MULTICAST.lsb;
        match name {
            "CONTROL" => ctl,
            "MAC_LO" => lo(uut.station_mac.val().to_u64()),
            "MAC_HI" => hi(uut.station_mac.val().to_u64()),
            "FILTER" => filt,
            "MAX_LEN" => uut.max_len.val().to_u32(),
            "MCAST_HASH_LO" => lo(uut.mcast_hash.val().to_u64()),
            "MCAST_HASH_HI" => hi(uut.mcast_hash.val().to_u64()),
            "IRQ_MASK" => uut.irq_mask.val().to_u32(),
            "IRQ_MOD_FRAMES" => uut.irq_mod_frames.val().to_u32(),
            "IRQ_MOD_TIME" => uut.irq_mod_time_us.val().to_u32(),
            "RXD_BASE_LO" => lo(uut.rxd_base.val().to_u64()),
            "RXD_BASE_HI" => hi(uut.rxd_base.val().to_u64()),
            "RXD_LOG2_SIZE" => uut.rxd_log2_size.val().to_u32(),
            "RXD_PRODUCER" => uut.rxd_producer.val().to_u32(),
            "RXC_BASE_LO" => lo(uut.rxc_base.val().to_u64()),
            "RXC_BASE_HI" => hi(uut.rxc_base.val().to_u64()),
            "RXC_LOG2_SIZE" => uut.rxc_log2_size.val().to_u32(),
            "RXC_CONSUMER" => uut.rxc_consumer.val().to_u32(),
            "TXD_BASE_LO" => lo(uut.txd_base.val().to_u64()),
            "TXD_BASE_HI" => hi(uut.txd_base.val().to_u64()),
            "TXD_LOG2_SIZE" => uut.txd_log2_size.val().to_u32(),
            "TXD_PRODUCER" => uut.txd_producer.val().to_u32(),
            "TXC_BASE_LO" => lo(uut.txc_base.val().to_u64()),
            "TXC_BASE_HI" => hi(uut.txc_base.val().to_u64()),
            "TXC_LOG2_SIZE" => uut.txc_log2_size.val().to_u32(),
            "TXC_CONSUMER" => uut.txc_consumer.val().to_u32(),
            other => panic!("no port for {other}"),
        }
    }

    #[test]
    fn rw_registers_keep_their_fields_and_drive_their_ports() {
        let mut uut = new_csr();
        let mut m = Master::new(2);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for pattern in [0xFFFF_FFFFu32, 0, 0xA5A5_5A5A] {
            for r in rw_registers() {
                // CONTROL's SOFT_RESET is a pulse, tested on its own.
                let v = if r.name == "CONTROL" { pattern & r.writable_bits() } else { pattern };
                assert_eq!(write1(&mut m, &mut uut, r.offset, v), RESP_OKAY, "{}", r.name);
                assert_eq!(read1(&mut m, &mut uut, r.offset).0, v & r.writable_bits(), "{}", r.name);
                assert_eq!(port_value(&uut, r.name), v & r.writable_bits(), "{} port", r.name);
            }
        }
        // All of them at once, random, then check every port: no register drives another's.
        let vals: Vec<(Register, u32)> =
            rw_registers().into_iter().map(|r| (r, rng.gen::<u32>() & r.writable_bits())).collect();
        for &(r, v) in &vals {
            m.write(r.offset, v);
        }
        m.run(&mut uut, &mut idle);
        assert!(m.b.iter().all(|&b| b == RESP_OKAY));
        for &(r, v) in &vals {
            assert_eq!(port_value(&uut, r.name), v, "{}", r.name);
        }
    }

    #[test]
    fn byte_strobes_write_only_their_lanes() {
        let mut uut = new_csr();
        let mut m = Master::new(4);
        write1(&mut m, &mut uut, MCAST_HASH_LO.offset, 0x1122_3344);
        m.write_delayed(MCAST_HASH_LO.offset, 0xAABB_CCDD, 0b0101, 0, 0);
        m.run(&mut uut, &mut idle);
        assert_eq!(read1(&mut m, &mut uut, MCAST_HASH_LO.offset).0, 0x11BB_33DD);
        m.write_delayed(MCAST_HASH_LO.offset, 0xFFFF_FFFF, 0, 0, 0);
        m.run(&mut uut, &mut idle);
        assert_eq!(read1(&mut m, &mut uut, MCAST_HASH_LO.offset).0, 0x11BB_33DD, "no strobe, no change");
    }

    /// IRQ_CAUSE's W1C bits and CONTROL's SOFT_RESET are in byte lane 0: a write without
    /// that lane's strobe clears no cause and resets nothing, one with it does.
    #[test]
    fn w1c_and_soft_reset_need_their_lane_strobe() {
        let mut uut = new_csr();
        let mut m = Master::new(14);
        uut.irq_set.next = 0b10110u64.to_bits();
        cycle(&mut uut, |u| &mut u.clock);
        uut.irq_set.next = 0u64.to_bits();
        write1(&mut m, &mut uut, MAX_LEN.offset, 1234);
        let mut pulses = 0;
        m.write_delayed(IRQ_CAUSE.offset, 0xFFFF_FFFF, 0b1110, 0, 0);
        m.write_delayed(CONTROL.offset, 0xFFFF_FFFF, 0b1110, 0, 0);
        m.run(&mut uut, &mut |u: &mut Csr, _| pulses += u.soft_reset.val() as u32);
        assert_eq!(pulses, 0, "no lane 0 strobe: no soft reset");
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0b10110, "no lane 0 strobe: no cause cleared");
        assert_eq!(read1(&mut m, &mut uut, MAX_LEN.offset).0, 1234);
        m.write_delayed(IRQ_CAUSE.offset, 0b00010, 0b0001, 0, 0);
        m.run(&mut uut, &mut idle);
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0b10100, "lane 0 strobed: the written 1 clears");
        m.write_delayed(CONTROL.offset, CONTROL_SOFT_RESET.mask() as u32, 0b0001, 0, 0);
        m.run(&mut uut, &mut |u: &mut Csr, _| pulses += u.soft_reset.val() as u32);
        assert_eq!(pulses, 1, "lane 0 strobed: one soft reset");
        assert_eq!(read1(&mut m, &mut uut, MAX_LEN.offset).0, MAX_LEN.reset);
    }

    #[test]
    fn unmapped_offsets_answer_slverr_and_change_nothing() {
        let mut uut = new_csr();
        let mut m = Master::new(5);
        let unmapped: Vec<u32> = (0..BAR0_SIZE).step_by(4).filter(|&a| register_at(a).is_none()).collect();
        assert_eq!(unmapped.len(), (BAR0_SIZE / 4) as usize - REGISTERS.len());
        for &a in &unmapped {
            m.write(a, 0xFFFF_FFFF);
            m.read(a);
        }
        m.run(&mut uut, &mut idle);
        assert_eq!(m.b.len(), unmapped.len());
        assert!(m.b.iter().all(|&b| b == RESP_SLVERR));
        assert!(
            m.r.iter().all(|r| r.resp == RESP_SLVERR && r.data == 0),
            "{:?}",
            m.r.iter().find(|r| r.resp != RESP_SLVERR)
        );
        for r in REGISTERS {
            assert_eq!(read1(&mut m, &mut uut, r.offset), (r.reset, RESP_OKAY), "{}", r.name);
        }
        // Writes to read-only registers are answered OKAY and ignored.
        for r in REGISTERS.iter().filter(|r| !r.access.writable()) {
            assert_eq!(write1(&mut m, &mut uut, r.offset, 0xFFFF_FFFF), RESP_OKAY, "{}", r.name);
            assert_eq!(read1(&mut m, &mut uut, r.offset).0, r.reset, "{}", r.name);
        }
    }

    /// Random writes (AW and W each delayed 0..8 clocks, so either comes first) with B
    /// stalls, then random reads with R stalls, against a plain-Rust register file; then
    /// the same with no delays, for throughput: one write every 2 clocks, one read every 2.
    #[test]
    fn out_of_order_and_back_to_back_against_a_model() {
        let mut uut = new_csr();
        let mut m = Master::new(6);
        m.b_stall = 0.3;
        m.r_stall = 0.3;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let rw = rw_registers();
        let mut model: HashMap<u32, u32> = REGISTERS.iter().map(|r| (r.offset, r.reset)).collect();
        let mut aw_first = 0;
        let mut w_first = 0;
        for _round in 0..4 {
            let mut expect_b = Vec::new();
            for _ in 0..40 {
                let (addr, v) = if rng.gen_bool(0.15) {
                    (0x800 + 4 * rng.gen_range(0..16), rng.gen())
                } else {
                    let r = rw[rng.gen_range(1..rw.len())]; // not CONTROL (SOFT_RESET)
                    (r.offset, rng.gen())
                };
                let (da, dw) = (rng.gen_range(0..8), rng.gen_range(0..8));
                if da < dw {
                    aw_first += 1;
                } else if dw < da {
                    w_first += 1;
                }
                m.write_delayed(addr, v, 0xF, da, dw);
                match register_at(addr) {
                    Some(r) => {
                        model.insert(addr, v & r.writable_bits());
                        expect_b.push(RESP_OKAY);
                    }
                    None => expect_b.push(RESP_SLVERR),
                }
            }
            m.run(&mut uut, &mut idle);
            assert_eq!(std::mem::take(&mut m.b), expect_b);
            m.writes_issued = 0;
            let addrs: Vec<u32> = (0..40).map(|_| rw[rng.gen_range(0..rw.len())].offset).collect();
            for &a in &addrs {
                m.read_delayed(a, rng.gen_range(0..4));
            }
            m.run(&mut uut, &mut idle);
            let got: Vec<(u32, u32)> = std::mem::take(&mut m.r).into_iter().map(|r| (r.addr, r.data)).collect();
            let want: Vec<(u32, u32)> = addrs.iter().map(|&a| (a, model[&a])).collect();
            assert_eq!(got, want);
        }
        assert!(aw_first > 10 && w_first > 10, "both arrival orders were exercised");
        // Back to back: valid held high request after request, ready always.
        m.b_stall = 0.0;
        m.r_stall = 0.0;
        let n = 32;
        for i in 0..n {
            m.write(MCAST_HASH_LO.offset, i);
        }
        let clocks = m.run(&mut uut, &mut idle);
        assert!(clocks <= 2 * n as u64 + 3, "{n} writes took {clocks} clocks");
        for _ in 0..n {
            m.read(MCAST_HASH_LO.offset);
        }
        let clocks = m.run(&mut uut, &mut idle);
        assert!(clocks <= 2 * n as u64 + 3, "{n} reads took {clocks} clocks");
        assert!(m.r.iter().all(|r| r.data == n - 1));
    }

    /// Reads and writes of one register interleaved, R and B stalled at random: every read
    /// returns the value of the last write performed before its AR was taken (a write waits
    /// while a read taken before it has not been gathered).
    #[test]
    fn a_read_sees_the_writes_performed_before_its_ar() {
        let mut uut = new_csr();
        let mut m = Master::new(21);
        m.b_stall = 0.3;
        m.r_stall = 0.6;
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        let addr = MCAST_HASH_LO.offset;
        let n = 300u32;
        for k in 1..=n {
            m.write_delayed(addr, k, 0xF, rng.gen_range(0..3), rng.gen_range(0..3));
            m.read_delayed(addr, rng.gen_range(0..3));
        }
        m.run(&mut uut, &mut idle);
        assert_eq!(m.performed.len(), n as usize);
        let mut saw_write_waiting = 0;
        for r in &m.r {
            let before = m.performed.iter().filter(|&&p| p < r.ar_cycle).count() as u32;
            assert_eq!(r.data, before, "read AR at {} answered at {}", r.ar_cycle, r.answered);
            if m.performed.iter().any(|&p| p > r.ar_cycle && p < r.answered) {
                saw_write_waiting += 1;
            }
        }
        assert!(saw_write_waiting > 20, "a write was performed while a read was in flight {saw_write_waiting} times");
    }

    #[test]
    fn irq_cause_is_write_one_to_clear_and_a_set_wins() {
        let mut uut = new_csr();
        let mut m = Master::new(8);
        uut.irq_set.next = 0b10101u64.to_bits();
        cycle(&mut uut, |u| &mut u.clock);
        uut.irq_set.next = 0u64.to_bits();
        assert_eq!(uut.irq_cause.val().to_u32(), 0b10101);
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0b10101);
        write1(&mut m, &mut uut, IRQ_CAUSE.offset, 0b00001);
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0b10100, "only the written 1 clears");
        write1(&mut m, &mut uut, IRQ_CAUSE.offset, 0);
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0b10100, "writing 0 clears nothing");
        // The cause keeps being set (every clock) while the host clears it: the set wins.
        m.write(IRQ_CAUSE.offset, 0b11111);
        m.run(&mut uut, &mut |u: &mut Csr, _| u.irq_set.next = 0b00100u64.to_bits());
        uut.irq_set.next = 0u64.to_bits();
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0b00100);
        assert_eq!(uut.irq_cause.val().to_u32(), 0b00100);
        write1(&mut m, &mut uut, IRQ_CAUSE.offset, 0xFFFF_FFFF);
        assert_eq!(read1(&mut m, &mut uut, IRQ_CAUSE.offset).0, 0);
        // The mask is plain storage, and the cause sets regardless of it.
        write1(&mut m, &mut uut, IRQ_MASK.offset, 0);
        assert_eq!(uut.irq_mask.val().to_u32(), 0);
    }

    fn counter_value(i: usize, clock: u64) -> u64 {
        // The high word changes every 4 clocks, so it moves between a LO and a HI read.
        ((i as u64) << 40) + 0xFFFF_FF00 + clock * 0x4000_0001
    }

    /// The statistics table as the block sees it: a register holding counter `cnt_index`'s
    /// value of the clock before (the index is the read's from the clock its AR is taken).
    fn drive_counters(u: &mut Csr, clock: u64) {
        table(u, |i| counter_value(i, clock.saturating_sub(1)));
    }

    fn table(u: &mut Csr, value: impl Fn(usize) -> u64) {
        settle(u);
        let i = u.cnt_index.val().index();
        u.cnt_value.next = value(i).to_bits();
    }

    #[test]
    fn counter_pairs_are_one_snapshot_while_the_counter_runs() {
        let mut uut = new_csr();
        let mut m = Master::new(9);
        m.r_stall = 0.4;
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let mut moved = 0;
        for _ in 0..4 {
            for c in COUNTERS {
                m.read_delayed(c.lo.offset, rng.gen_range(0..3));
                m.read_delayed(c.hi.offset, rng.gen_range(0..6));
            }
            m.run(&mut uut, &mut drive_counters);
            for (k, pair) in std::mem::take(&mut m.r).chunks(2).enumerate() {
                let i = k % COUNTERS.len();
                let (lo, hi) = (pair[0], pair[1]);
                assert!(lo.resp == RESP_OKAY && hi.resp == RESP_OKAY);
                // The snapshot is of a clock from the LO read's AR (the table registers the
                // entry from then) to the one before R (R is a register after it).
                assert!(lo.answered > lo.ar_cycle + 1);
                let got = (hi.data as u64) << 32 | lo.data as u64;
                let Some(at) = (lo.ar_cycle..lo.answered).find(|&c| counter_value(i, c) == got) else {
                    panic!("{}: {got:#x} is no clock's value between AR and R", COUNTERS[i].lo.name)
                };
                let at_lo = counter_value(i, at);
                if counter_value(i, hi.answered) >> 32 != at_lo >> 32 {
                    moved += 1;
                }
            }
        }
        assert!(moved > 20, "the high word moved between the reads in {moved} pairs only");
        // And the driver's helper, against the block.
        for c in COUNTERS {
            let v = read_counter(c.counter, |off| {
                m.read(off);
                m.run(&mut uut, &mut |u: &mut Csr, _| table(u, |i| 0x1234_5678_9ABC_DEF0u64 + i as u64));
                m.r.pop().unwrap().data
            });
            assert_eq!(v, 0x1234_5678_9ABC_DEF0 + c.counter as u64, "{:?}", c.counter);
        }
    }

    #[test]
    fn status_and_device_indices_read_from_their_inputs() {
        let mut uut = new_csr();
        let mut m = Master::new(11);
        for (link, lock, rxs, txs) in [(true, false, false, true), (false, true, true, false), (true, true, true, true)]
        {
            uut.link_up.next = link;
            uut.cdr_lock.next = lock;
            uut.rx_stopped.next = rxs;
            uut.tx_stopped.next = txs;
            let mut want = 0;
            for (f, b) in
                [(STATUS_LINK_UP, link), (STATUS_CDR_LOCK, lock), (STATUS_RX_STOPPED, rxs), (STATUS_TX_STOPPED, txs)]
            {
                want = f.put32(want, b as u32);
            }
            assert_eq!(read1(&mut m, &mut uut, STATUS.offset).0, want);
        }
        uut.rxd_consumer.next = 0x1111u64.to_bits();
        uut.rxc_producer.next = 0x2222u64.to_bits();
        uut.txd_consumer.next = 0x3333u64.to_bits();
        uut.txc_producer.next = 0xFFFFu64.to_bits();
        for (r, v) in [(Ring::RxDesc, 0x1111), (Ring::RxCpl, 0x2222), (Ring::TxDesc, 0x3333), (Ring::TxCpl, 0xFFFF)] {
            assert_eq!(read1(&mut m, &mut uut, ring(r).device_index().offset), (v, RESP_OKAY), "{r:?}");
        }
    }

    #[test]
    fn soft_reset_pulses_once_and_restores_every_register() {
        let mut uut = new_csr();
        let mut m = Master::new(12);
        for r in rw_registers() {
            write1(&mut m, &mut uut, r.offset, 0x5A5A_5A5A & r.writable_bits());
        }
        uut.irq_set.next = 0b11u64.to_bits();
        cycle(&mut uut, |u| &mut u.clock);
        uut.irq_set.next = 0u64.to_bits();
        let mut pulses = 0;
        m.write(CONTROL.offset, CONTROL_SOFT_RESET.mask() as u32 | CONTROL_RX_EN.mask() as u32);
        m.run(&mut uut, &mut |u: &mut Csr, _| pulses += u.soft_reset.val() as u32);
        for _ in 0..4 {
            m.tick(&mut uut, &mut |u: &mut Csr, _| pulses += u.soft_reset.val() as u32);
        }
        assert_eq!(pulses, 1, "soft_reset is high for exactly one clock");
        assert_eq!(m.b.pop(), Some(RESP_OKAY), "the write that asked for it completes");
        m.writes_issued -= 1;
        for r in REGISTERS {
            assert_eq!(read1(&mut m, &mut uut, r.offset).0, r.reset, "{} after soft reset", r.name);
        }
    }

    #[test]
    fn mac_and_hash_ports_match_the_filter_model() {
        let mut uut = new_csr();
        let mut m = Master::new(13);
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for _ in 0..8 {
            let mac: [u8; 6] = rng.gen();
            let groups: Vec<[u8; 6]> = (0..5).map(|_| rng.gen()).collect();
            let mut cfg = MacConfig::default();
            for g in &groups {
                assert_eq!(multicast_bin(g), rx_reference::multicast_bin(g), "{g:02x?}");
                cfg.join(g);
            }
            let (lo, hi) = mac_to_words(mac);
            let hash = multicast_hash(&groups);
            assert_eq!(hash, cfg.mcast_hash);
            m.write(MAC_LO.offset, lo);
            m.write(MAC_HI.offset, hi);
            m.write(MCAST_HASH_LO.offset, hash as u32);
            m.write(MCAST_HASH_HI.offset, (hash >> 32) as u32);
            m.run(&mut uut, &mut idle);
            assert_eq!(uut.station_mac.val().to_u64(), station_bits(&mac));
            assert_eq!(uut.mcast_hash.val().to_u64(), cfg.mcast_hash);
        }
    }

    /// Lint (Verilator -Wall) and Yosys structure check, then a random session (writes with
    /// both arrival orders, reads, unmapped, W1C with sets, counters running, soft reset)
    /// replayed in Icarus Verilog with every output equal at every step.
    #[test]
    fn verilog_lints_and_replays() {
        let Some(module) = crate::verilog::assert_lints_and_checks("nic_csr", &mut Csr::default()) else {
            return;
        };
        if !crate::verilog::tools::tool_for_test("iverilog") {
            return;
        }
        let mut uut = Csr::default();
        uut.connect_all();
        let mut m = Master::new(15);
        m.rec = Some(VectorRecorder::new(&module));
        m.b_stall = 0.3;
        m.r_stall = 0.3;
        uut.reset.next = true;
        m.tick(&mut uut, &mut idle);
        uut.reset.next = false;
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        for _ in 0..150 {
            let addr = if rng.gen_bool(0.1) {
                rng.gen_range(0..1024) * 4
            } else {
                REGISTERS[rng.gen_range(0..REGISTERS.len())].offset
            };
            if rng.gen_bool(0.5) {
                let data = if addr == CONTROL.offset && rng.gen_bool(0.7) { rng.gen::<u32>() & 3 } else { rng.gen() };
                m.write_delayed(addr, data, rng.gen_range(0..16), rng.gen_range(0..4), rng.gen_range(0..4));
            } else {
                m.read_delayed(addr, rng.gen_range(0..3));
            }
        }
        let mut inputs = |u: &mut Csr, clock: u64| {
            drive_counters(u, clock);
            u.irq_set.next = (if clock.is_multiple_of(7) { clock % 32 } else { 0 }).to_bits();
            u.link_up.next = clock % 50 < 25;
            u.rxc_producer.next = (clock & 0xFFFF).to_bits();
        };
        m.run(&mut uut, &mut inputs);
        let rec = m.rec.take().unwrap();
        crate::verilog::assert_replays(&module, &rec, &[]);
    }

    /// Resource counts after Yosys synthesis (run by hand: `-- --ignored csr_resources`).
    #[test]
    #[ignore]
    fn csr_resources() {
        use crate::verilog::synth::{synthesize, Family};
        let module = crate::verilog::export::export("nic_csr", &mut Csr::default());
        for f in Family::ALL {
            let dir = crate::verilog::workdir(&format!("synth-csr-{}", f.name()));
            let r = synthesize(&module, f, &dir).unwrap();
            println!("{} {}", f.name(), r.to_json());
        }
    }
}
