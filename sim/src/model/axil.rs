//! The host's register accesses: an AXI4-Lite master, as the PCIe bridge is for BAR0.
//!
//! Accesses are queued and performed one at a time, in order, each taking the clocks the
//! card's slave takes (address and data offered together; the response accepted at once).
//! A read's value (or a write's completion) is handed back with the access's tag.
use std::collections::VecDeque;

/// AXI response of an access: 0 OKAY, 2 SLVERR (an offset outside the register map).
pub type Resp = u8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegOp {
    Read { offset: u32 },
    Write { offset: u32, value: u32 },
}

/// A finished read (writes are posted, as on PCIe: only counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegDone {
    pub tag: u64,
    pub op: RegOp,
    /// The value read (0 for writes).
    pub value: u32,
    pub resp: Resp,
}

/// What the master drives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxilMasterSignals {
    pub awvalid: bool,
    pub awaddr: u32,
    pub wvalid: bool,
    pub wdata: u32,
    pub wstrb: u8,
    pub bready: bool,
    pub arvalid: bool,
    pub araddr: u32,
    pub rready: bool,
}

/// What the slave drives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxilSlaveSignals {
    pub awready: bool,
    pub wready: bool,
    pub bvalid: bool,
    pub bresp: u8,
    pub arready: bool,
    pub rvalid: bool,
    pub rdata: u32,
    pub rresp: u8,
}

#[derive(Default)]
pub struct AxilMaster {
    queue: VecDeque<(u64, RegOp)>,
    /// The access in progress and which of its address/data phases are done.
    current: Option<(u64, RegOp)>,
    aw_done: bool,
    w_done: bool,
    ar_done: bool,
    done: VecDeque<RegDone>,
    next_tag: u64,
    /// Writes answered so far.
    pub writes_done: u64,
    /// Accesses answered with an error response.
    pub errors: u64,
}

impl AxilMaster {
    /// Queue an access; returns its tag.
    pub fn submit(&mut self, op: RegOp) -> u64 {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.queue.push_back((tag, op));
        tag
    }

    /// Nothing queued or in progress.
    pub fn idle(&self) -> bool {
        self.current.is_none() && self.queue.is_empty()
    }

    /// The next finished read, oldest first.
    pub fn take_done(&mut self) -> Option<RegDone> {
        self.done.pop_front()
    }

    pub fn signals(&self) -> AxilMasterSignals {
        let mut s = AxilMasterSignals { bready: true, rready: true, wstrb: 0xF, ..Default::default() };
        match self.current {
            Some((_, RegOp::Write { offset, value })) => {
                s.awvalid = !self.aw_done;
                s.awaddr = offset;
                s.wvalid = !self.w_done;
                s.wdata = value;
            }
            Some((_, RegOp::Read { offset })) => {
                s.arvalid = !self.ar_done;
                s.araddr = offset;
            }
            None => {}
        }
        s
    }

    /// One rising edge against the slave's signals (sampled before the edge).
    pub fn clock(&mut self, slave: &AxilSlaveSignals) {
        let s = self.signals();
        if let Some((tag, op)) = self.current {
            match op {
                RegOp::Write { .. } => {
                    self.aw_done |= s.awvalid && slave.awready;
                    self.w_done |= s.wvalid && slave.wready;
                    if slave.bvalid {
                        self.finish(RegDone { tag, op, value: 0, resp: slave.bresp });
                    }
                }
                RegOp::Read { .. } => {
                    self.ar_done |= s.arvalid && slave.arready;
                    if slave.rvalid {
                        self.finish(RegDone { tag, op, value: slave.rdata, resp: slave.rresp });
                    }
                }
            }
        }
        if self.current.is_none() {
            self.current = self.queue.pop_front();
        }
    }

    fn finish(&mut self, done: RegDone) {
        if done.resp != 0 {
            self.errors += 1;
            tracing::warn!(?done.op, resp = done.resp, "register access answered with an error (offset outside the register map?)");
        }
        match done.op {
            RegOp::Read { .. } => self.done.push_back(done),
            RegOp::Write { .. } => self.writes_done += 1,
        }
        self.current = None;
        self.aw_done = false;
        self.w_done = false;
        self.ar_done = false;
    }
}
