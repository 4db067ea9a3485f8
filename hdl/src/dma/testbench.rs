//! Test plumbing shared by the DMA tests: moving [`AxiMem`]'s signals in and out of a
//! block's AXI4 ports, and a plain-Rust AXI4 traffic master.
use crate::model::axi_mem::{AxiMasterSignals, AxiSlaveSignals};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Functions that connect a set of AXI4 port fields to the model's signal structs.
///
/// `master` ports belong to a block that is an AXI4 master: `present` sets its inputs from
/// what the slave drives, `sample` reads what it drives. `slave` ports belong to a block
/// that is an AXI4 slave (the arbiter's `s0_*`/`s1_*`): `drive` sets its inputs from a test
/// master, `observe` reads its responses. Fields are listed in one fixed order.
macro_rules! axi_port_fns {
    (@fields $u:ident, $m:ident, $o:ident, [$awvalid:ident, $awready:ident, $awaddr:ident, $awlen:ident,
      $awsize:ident, $awburst:ident, $wvalid:ident, $wready:ident, $wdata:ident, $wstrb:ident,
      $wlast:ident, $bvalid:ident, $bready:ident, $bresp:ident, $arvalid:ident, $arready:ident,
      $araddr:ident, $arlen:ident, $arsize:ident, $arburst:ident, $rvalid:ident, $rready:ident,
      $rdata:ident, $rresp:ident, $rlast:ident], master) => {
        $u.$awready.next = $o.awready;
        $u.$wready.next = $o.wready;
        $u.$bvalid.next = $o.bvalid;
        $u.$bresp.next = u64::from($o.bresp).to_bits();
        $u.$arready.next = $o.arready;
        $u.$rvalid.next = $o.rvalid;
        $u.$rdata.next = $o.rdata.to_bits();
        $u.$rresp.next = u64::from($o.rresp).to_bits();
        $u.$rlast.next = $o.rlast;
    };
    (@sample $u:ident, [$awvalid:ident, $awready:ident, $awaddr:ident, $awlen:ident,
      $awsize:ident, $awburst:ident, $wvalid:ident, $wready:ident, $wdata:ident, $wstrb:ident,
      $wlast:ident, $bvalid:ident, $bready:ident, $bresp:ident, $arvalid:ident, $arready:ident,
      $araddr:ident, $arlen:ident, $arsize:ident, $arburst:ident, $rvalid:ident, $rready:ident,
      $rdata:ident, $rresp:ident, $rlast:ident]) => {
        AxiMasterSignals {
            awvalid: $u.$awvalid.val(),
            awid: 0,
            awaddr: $u.$awaddr.val().to_u64(),
            awlen: $u.$awlen.val().to_u64() as u8,
            awsize: $u.$awsize.val().to_u64() as u8,
            awburst: $u.$awburst.val().to_u64() as u8,
            wvalid: $u.$wvalid.val(),
            wdata: $u.$wdata.val().to_u64(),
            wstrb: $u.$wstrb.val().to_u64() as u8,
            wlast: $u.$wlast.val(),
            bready: $u.$bready.val(),
            arvalid: $u.$arvalid.val(),
            arid: 0,
            araddr: $u.$araddr.val().to_u64(),
            arlen: $u.$arlen.val().to_u64() as u8,
            arsize: $u.$arsize.val().to_u64() as u8,
            arburst: $u.$arburst.val().to_u64() as u8,
            rready: $u.$rready.val(),
        }
    };
    (master $present:ident, $sample:ident, $T:ty, $fields:tt) => {
        pub(crate) fn $present(u: &mut $T, o: &AxiSlaveSignals) {
            axi_port_fns!(@fields u, m, o, $fields, master);
        }
        pub(crate) fn $sample(u: &$T) -> AxiMasterSignals {
            axi_port_fns!(@sample u, $fields)
        }
    };
    (slave $drive:ident, $observe:ident, $T:ty, [$awvalid:ident, $awready:ident, $awaddr:ident, $awlen:ident,
      $awsize:ident, $awburst:ident, $wvalid:ident, $wready:ident, $wdata:ident, $wstrb:ident,
      $wlast:ident, $bvalid:ident, $bready:ident, $bresp:ident, $arvalid:ident, $arready:ident,
      $araddr:ident, $arlen:ident, $arsize:ident, $arburst:ident, $rvalid:ident, $rready:ident,
      $rdata:ident, $rresp:ident, $rlast:ident]) => {
        pub(crate) fn $drive(u: &mut $T, m: &AxiMasterSignals) {
            u.$awvalid.next = m.awvalid;
            u.$awaddr.next = m.awaddr.to_bits();
            u.$awlen.next = u64::from(m.awlen).to_bits();
            u.$awsize.next = u64::from(m.awsize).to_bits();
            u.$awburst.next = u64::from(m.awburst).to_bits();
            u.$wvalid.next = m.wvalid;
            u.$wdata.next = m.wdata.to_bits();
            u.$wstrb.next = u64::from(m.wstrb).to_bits();
            u.$wlast.next = m.wlast;
            u.$bready.next = m.bready;
            u.$arvalid.next = m.arvalid;
            u.$araddr.next = m.araddr.to_bits();
            u.$arlen.next = u64::from(m.arlen).to_bits();
            u.$arsize.next = u64::from(m.arsize).to_bits();
            u.$arburst.next = u64::from(m.arburst).to_bits();
            u.$rready.next = m.rready;
        }
        pub(crate) fn $observe(u: &$T) -> AxiSlaveSignals {
            AxiSlaveSignals {
                awready: u.$awready.val(),
                wready: u.$wready.val(),
                bvalid: u.$bvalid.val(),
                bid: 0,
                bresp: u.$bresp.val().to_u64() as u8,
                arready: u.$arready.val(),
                rvalid: u.$rvalid.val(),
                rid: 0,
                rdata: u.$rdata.val().to_u64(),
                rresp: u.$rresp.val().to_u64() as u8,
                rlast: u.$rlast.val(),
            }
        }
    };
}
pub(crate) use axi_port_fns;

/// One write burst of a [`TrafficMaster`].
#[derive(Clone, Debug)]
pub(crate) struct WriteBurst {
    pub addr: u64,
    pub data: Vec<u64>,
    pub strb: Vec<u8>,
}

/// One read burst of a [`TrafficMaster`]: the data it must return.
#[derive(Clone, Debug)]
pub(crate) struct ReadBurst {
    pub addr: u64,
    pub expect: Vec<u64>,
}

/// A plain-Rust AXI4 master (no IDs) that plays a list of write and read bursts with random
/// delays, checks every read beat against what it expects, and obeys the rules a DMA engine
/// does: valid and payload held until taken, never waiting on a ready; a burst's W beats
/// only from the clock its AW is presented.
pub(crate) struct TrafficMaster {
    rng: ChaCha8Rng,
    /// Chance (0..=100) that a channel that could raise valid waits a clock instead, and
    /// that `rready`/`bready` are low for a clock.
    pub idle_percent: u32,
    writes: VecDeque<WriteBurst>,
    reads: VecDeque<ReadBurst>,
    aw_valid: bool,
    /// Bursts whose AW has been presented, W beats not all taken; beat index of the front.
    w_queue: VecDeque<WriteBurst>,
    w_beat: usize,
    w_valid: bool,
    ar_valid: bool,
    /// Reads taken, beats expected, front first; beat index of the front.
    r_queue: VecDeque<ReadBurst>,
    r_beat: usize,
    rready: bool,
    bready: bool,
    pub writes_issued: usize,
    pub reads_issued: usize,
    pub b_seen: usize,
    pub b_errors: usize,
    pub r_beats: usize,
    pub errors: Vec<String>,
    /// Edge numbers on which this master's AR / AW were taken.
    pub ar_taken_at: Vec<u64>,
    pub aw_taken_at: Vec<u64>,
    now: u64,
}

impl TrafficMaster {
    pub fn new(seed: u64, idle_percent: u32, writes: Vec<WriteBurst>, reads: Vec<ReadBurst>) -> Self {
        TrafficMaster {
            rng: ChaCha8Rng::seed_from_u64(seed),
            idle_percent,
            writes: writes.into(),
            reads: reads.into(),
            aw_valid: false,
            w_queue: VecDeque::new(),
            w_beat: 0,
            w_valid: false,
            ar_valid: false,
            r_queue: VecDeque::new(),
            r_beat: 0,
            rready: false,
            bready: false,
            writes_issued: 0,
            reads_issued: 0,
            b_seen: 0,
            b_errors: 0,
            r_beats: 0,
            errors: Vec::new(),
            ar_taken_at: Vec::new(),
            aw_taken_at: Vec::new(),
            now: 0,
        }
    }

    fn go(&mut self) -> bool {
        self.rng.gen_range(0..100) >= self.idle_percent
    }

    /// Everything played and answered.
    pub fn done(&self) -> bool {
        self.writes.is_empty()
            && self.w_queue.is_empty()
            && self.reads.is_empty()
            && self.r_queue.is_empty()
            && self.b_seen == self.writes_issued
    }

    /// Decide this clock's outputs (from state and dice only, never from a ready).
    pub fn drive(&mut self) -> AxiMasterSignals {
        if !self.aw_valid && !self.writes.is_empty() && self.go() {
            self.aw_valid = true;
            let b = self.writes.front().cloned().expect("checked");
            self.w_queue.push_back(b);
        }
        if !self.w_valid && !self.w_queue.is_empty() && self.go() {
            self.w_valid = true;
        }
        if !self.ar_valid && !self.reads.is_empty() && self.go() {
            self.ar_valid = true;
        }
        self.rready = self.go();
        self.bready = self.go();
        let mut m = AxiMasterSignals { bready: self.bready, rready: self.rready, ..Default::default() };
        if self.aw_valid {
            let b = self.writes.front().expect("aw_valid with a burst");
            m.awvalid = true;
            m.awaddr = b.addr;
            m.awlen = (b.data.len() - 1) as u8;
            m.awsize = 3;
            m.awburst = 1;
        }
        if self.w_valid {
            let b = self.w_queue.front().expect("w_valid with a burst");
            m.wvalid = true;
            m.wdata = b.data[self.w_beat];
            m.wstrb = b.strb[self.w_beat];
            m.wlast = self.w_beat + 1 == b.data.len();
        }
        if self.ar_valid {
            let b = self.reads.front().expect("ar_valid with a burst");
            m.arvalid = true;
            m.araddr = b.addr;
            m.arlen = (b.expect.len() - 1) as u8;
            m.arsize = 3;
            m.arburst = 1;
        }
        m
    }

    /// The clock edge: `m` is what [`Self::drive`] returned, `s` what the slave showed.
    pub fn edge(&mut self, m: &AxiMasterSignals, s: &AxiSlaveSignals) {
        if m.awvalid && s.awready {
            self.aw_valid = false;
            self.writes.pop_front();
            self.writes_issued += 1;
            self.aw_taken_at.push(self.now);
        }
        if m.wvalid && s.wready {
            self.w_valid = false;
            self.w_beat += 1;
            if m.wlast {
                self.w_queue.pop_front();
                self.w_beat = 0;
            }
        }
        if m.arvalid && s.arready {
            self.ar_valid = false;
            let b = self.reads.pop_front().expect("ar taken");
            self.r_queue.push_back(b);
            self.reads_issued += 1;
            self.ar_taken_at.push(self.now);
        }
        if s.bvalid && m.bready {
            self.b_seen += 1;
            if s.bresp != 0 {
                self.b_errors += 1;
            }
            if self.b_seen > self.writes_issued {
                self.errors.push(format!("edge {}: B without a write", self.now));
            }
        }
        if s.rvalid && m.rready {
            self.r_beats += 1;
            match self.r_queue.front() {
                None => self.errors.push(format!("edge {}: R beat without a read", self.now)),
                Some(b) => {
                    let want = b.expect[self.r_beat];
                    let last = self.r_beat + 1 == b.expect.len();
                    if s.rdata != want || s.rlast != last || s.rresp != 0 {
                        self.errors.push(format!(
                            "edge {}: read {:#x} beat {}: got {:#x} last {} resp {}, want {want:#x} last {last}",
                            self.now, b.addr, self.r_beat, s.rdata, s.rlast, s.rresp
                        ));
                    }
                    self.r_beat += 1;
                    if last {
                        self.r_queue.pop_front();
                        self.r_beat = 0;
                    }
                }
            }
        }
        self.now += 1;
    }
}

/// A random burst of 1..=`max_beats` beats at an 8-byte aligned offset of
/// `base..base + len` that does not cross a 4 KiB boundary: `(addr, beats)`.
pub(crate) fn random_burst(rng: &mut impl Rng, base: u64, len: u64, max_beats: u64) -> (u64, usize) {
    let addr = base + rng.gen_range(0..len / 8) * 8;
    let room = ((4096 - addr % 4096) / 8).min((base + len - addr) / 8);
    (addr, rng.gen_range(1..=room.min(max_beats)) as usize)
}
