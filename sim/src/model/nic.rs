//! One simulated card: the NIC top's gateware (behind [`Engine`]) wired to host memory, the
//! register bus, MSI and its line pins.
//!
//! Each core clock ([`NicModel::core_cycle`]):
//! 1. the host side's signals for this clock are presented (the memory slave's, the register
//!    master's, the MSI acknowledge), with the clock low, and the design settles;
//! 2. the design's master signals are read and the host models take their edge with them;
//! 3. the clock rises and the design settles.
//!
//! The host models' outputs depend only on their state, so one settle per clock suffices.
//! The line side is stepped by the caller, which knows the PHY clocks: [`NicModel::rx_clk_cycle`]
//! for an external PHY's receive clock, [`NicModel::set_rx_samples`] for the integrated PHY.
use super::axil::{AxilMaster, AxilSlaveSignals, RegDone, RegOp};
use super::memory::SharedMemory;
use super::msi::Msi;
use super::Phy;
use nic_hdl::engine::Engine;
use nic_hdl::model::axi_mem::{AxiMasterSignals, AxiMem, AxiMemConfig, AxiSlaveSignals};
use nic_hdl::model::pins::PinSample;

/// Port indices, resolved once by name.
struct Ports {
    clock: usize,
    reset: usize,
    rx_clk: Option<usize>,
    tx_clk: Option<usize>,
    phy_link_up: Option<usize>,
    /// GMII/MII: rxd, rx_dv, rx_er, txd, tx_en, tx_er. Manchester: rx_samples, tx_samples.
    rx: [Option<usize>; 3],
    tx: [Option<usize>; 3],
    axil_in: [usize; 9],
    axil_out: [usize; 8],
    axi_in: [usize; 11],
    axi_out: [usize; 18],
    irq_req: usize,
    irq_ack: usize,
}

/// Host-side inputs of the AXI4-Lite slave, in `AxilMasterSignals` field order.
const AXIL_IN: [&str; 9] = [
    "s_axil_awvalid",
    "s_axil_awaddr",
    "s_axil_wvalid",
    "s_axil_wdata",
    "s_axil_wstrb",
    "s_axil_bready",
    "s_axil_arvalid",
    "s_axil_araddr",
    "s_axil_rready",
];
/// Slave outputs, in `AxilSlaveSignals` field order.
const AXIL_OUT: [&str; 8] = [
    "s_axil_awready",
    "s_axil_wready",
    "s_axil_bvalid",
    "s_axil_bresp",
    "s_axil_arready",
    "s_axil_rvalid",
    "s_axil_rdata",
    "s_axil_rresp",
];
/// Memory-side inputs of the AXI4 master, in `AxiSlaveSignals` field order.
const AXI_IN: [&str; 11] = [
    "m_axi_awready",
    "m_axi_wready",
    "m_axi_bvalid",
    "m_axi_bid",
    "m_axi_bresp",
    "m_axi_arready",
    "m_axi_rvalid",
    "m_axi_rid",
    "m_axi_rdata",
    "m_axi_rresp",
    "m_axi_rlast",
];
/// Master outputs, in `AxiMasterSignals` field order.
const AXI_OUT: [&str; 18] = [
    "m_axi_awvalid",
    "m_axi_awid",
    "m_axi_awaddr",
    "m_axi_awlen",
    "m_axi_awsize",
    "m_axi_awburst",
    "m_axi_wvalid",
    "m_axi_wdata",
    "m_axi_wstrb",
    "m_axi_wlast",
    "m_axi_bready",
    "m_axi_arvalid",
    "m_axi_arid",
    "m_axi_araddr",
    "m_axi_arlen",
    "m_axi_arsize",
    "m_axi_arburst",
    "m_axi_rready",
];

fn resolve<const N: usize>(e: &dyn Engine, names: [&str; N]) -> Result<[usize; N], String> {
    nic_hdl::engine::resolve_ports(e, names).map_err(|err| err.to_string())
}

impl Ports {
    fn new(e: &dyn Engine, phy: Phy) -> Result<Ports, String> {
        let need = |n: &str| e.port_id(n).ok_or_else(|| format!("the NIC top has no port {n}"));
        let (rx, tx) = match phy {
            Phy::Gmii | Phy::Mii => (
                [Some(need("rxd")?), Some(need("rx_dv")?), Some(need("rx_er")?)],
                [Some(need("txd")?), Some(need("tx_en")?), Some(need("tx_er")?)],
            ),
            Phy::Manchester => ([Some(need("rx_samples")?), None, None], [Some(need("tx_samples")?), None, None]),
        };
        Ok(Ports {
            clock: need("clock")?,
            reset: need("reset")?,
            rx_clk: e.port_id("rx_clk"),
            tx_clk: e.port_id("tx_clk"),
            phy_link_up: e.port_id("phy_link_up"),
            rx,
            tx,
            axil_in: resolve(e, AXIL_IN)?,
            axil_out: resolve(e, AXIL_OUT)?,
            axi_in: resolve(e, AXI_IN)?,
            axi_out: resolve(e, AXI_OUT)?,
            irq_req: need("usr_irq_req")?,
            irq_ack: need("usr_irq_ack")?,
        })
    }
}

pub struct NicModel {
    engine: Box<dyn Engine>,
    ports: Ports,
    pub phy: Phy,
    /// Host memory behind the card's AXI4 master.
    pub mem: AxiMem<SharedMemory>,
    /// The host's register accesses.
    pub axil: AxilMaster,
    pub msi: Msi,
    /// Core clocks so far.
    pub cycles: u64,
}

impl NicModel {
    /// A card on `engine` (a NIC top for `phy`), its DMA into `memory` with `bus` timing.
    /// The card is held in reset until [`NicModel::reset`].
    pub fn new(engine: Box<dyn Engine>, phy: Phy, memory: SharedMemory, bus: AxiMemConfig) -> Result<NicModel, String> {
        let ports = Ports::new(engine.as_ref(), phy)?;
        let mut nic = NicModel {
            engine,
            ports,
            phy,
            mem: AxiMem::new(memory, bus),
            axil: AxilMaster::default(),
            msi: Msi::default(),
            cycles: 0,
        };
        if let Some(p) = nic.ports.phy_link_up {
            nic.engine.set(p, 1);
        }
        Ok(nic)
    }

    pub fn engine(&mut self) -> &mut dyn Engine {
        self.engine.as_mut()
    }

    /// Hold reset for `cycles` core clocks (and as many PHY clocks), then release it.
    pub fn reset(&mut self, cycles: u32) {
        self.engine.set(self.ports.reset, 1);
        for _ in 0..cycles {
            self.core_cycle();
            self.rx_clk_cycle();
            self.tx_clk_cycle();
        }
        self.engine.set(self.ports.reset, 0);
    }

    /// The external PHY reports link (GMII/MII; the integrated PHY finds it on the line).
    pub fn set_phy_link(&mut self, up: bool) {
        if let Some(p) = self.ports.phy_link_up {
            self.engine.set(p, u64::from(up));
        }
    }

    /// Present the host side's signals; returns the memory's, for its edge.
    fn present_host_side(&mut self) -> AxiSlaveSignals {
        let p = &self.ports;
        let e = self.engine.as_mut();
        let s = self.mem.outputs();
        let axi = [
            s.awready as u64,
            s.wready as u64,
            s.bvalid as u64,
            u64::from(s.bid),
            u64::from(s.bresp),
            s.arready as u64,
            s.rvalid as u64,
            u64::from(s.rid),
            s.rdata,
            u64::from(s.rresp),
            s.rlast as u64,
        ];
        for (id, v) in p.axi_in.iter().zip(axi) {
            e.set(*id, v);
        }
        let m = self.axil.signals();
        let axil = [
            m.awvalid as u64,
            u64::from(m.awaddr),
            m.wvalid as u64,
            u64::from(m.wdata),
            u64::from(m.wstrb),
            m.bready as u64,
            m.arvalid as u64,
            u64::from(m.araddr),
            m.rready as u64,
        ];
        for (id, v) in p.axil_in.iter().zip(axil) {
            e.set(*id, v);
        }
        e.set(p.irq_ack, u64::from(self.msi.ack_bits()));
        s
    }

    fn sample_masters(&mut self) -> (AxiMasterSignals, AxilSlaveSignals, u8) {
        let p = &self.ports;
        let e = self.engine.as_mut();
        let mut v = [0u64; 18];
        for (x, id) in v.iter_mut().zip(p.axi_out) {
            *x = e.get(id);
        }
        let m = AxiMasterSignals {
            awvalid: v[0] != 0,
            awid: v[1] as u8,
            awaddr: v[2],
            awlen: v[3] as u8,
            awsize: v[4] as u8,
            awburst: v[5] as u8,
            wvalid: v[6] != 0,
            wdata: v[7],
            wstrb: v[8] as u8,
            wlast: v[9] != 0,
            bready: v[10] != 0,
            arvalid: v[11] != 0,
            arid: v[12] as u8,
            araddr: v[13],
            arlen: v[14] as u8,
            arsize: v[15] as u8,
            arburst: v[16] as u8,
            rready: v[17] != 0,
        };
        let mut w = [0u64; 8];
        for (x, id) in w.iter_mut().zip(p.axil_out) {
            *x = e.get(id);
        }
        let s = AxilSlaveSignals {
            awready: w[0] != 0,
            wready: w[1] != 0,
            bvalid: w[2] != 0,
            bresp: w[3] as u8,
            arready: w[4] != 0,
            rvalid: w[5] != 0,
            rdata: w[6] as u32,
            rresp: w[7] as u8,
        };
        (m, s, e.get(p.irq_req) as u8)
    }

    /// One core clock (see the module documentation).
    pub fn core_cycle(&mut self) {
        let presented = self.present_host_side();
        self.engine.set(self.ports.clock, 0);
        self.engine.eval();
        let (m, s, req) = self.sample_masters();
        self.mem.clock_presented(&presented, &m);
        self.axil.clock(&s);
        self.msi.clock(req);
        self.engine.set(self.ports.clock, 1);
        self.engine.eval();
        self.cycles += 1;
    }

    fn phy_clock_cycle(&mut self, clk: Option<usize>) {
        if let Some(c) = clk {
            self.engine.set(c, 0);
            self.engine.eval();
            self.engine.set(c, 1);
            self.engine.eval();
        }
    }

    /// Present receive pins for the coming `rx_clk` edge (GMII/MII).
    pub fn set_rx_pins(&mut self, s: PinSample) {
        let [d, dv, er] = self.ports.rx;
        let e = self.engine.as_mut();
        for (p, v) in [(d, u64::from(s.data)), (dv, s.dv as u64), (er, s.er as u64)] {
            if let Some(p) = p {
                e.set(p, v);
            }
        }
    }

    /// One cycle of the external PHY's receive clock (GMII/MII; nothing for Manchester).
    pub fn rx_clk_cycle(&mut self) {
        self.phy_clock_cycle(self.ports.rx_clk);
    }

    /// One cycle of the MII PHY's transmit clock (nothing for the others).
    pub fn tx_clk_cycle(&mut self) {
        self.phy_clock_cycle(self.ports.tx_clk);
    }

    /// The transmit pins now (GMII/MII): registered outputs, read after a clock.
    pub fn tx_pins(&mut self) -> PinSample {
        let [d, en, er] = self.ports.tx;
        let e = self.engine.as_mut();
        let mut get = |p: Option<usize>| p.map(|p| e.get(p)).unwrap_or(0);
        PinSample { data: get(d) as u8, dv: get(en) != 0, er: get(er) != 0 }
    }

    /// Line samples for the coming core clock (Manchester: 8 samples, oldest in bit 0).
    pub fn set_rx_samples(&mut self, word: u64) {
        if let Some(p) = self.ports.rx[0] {
            self.engine.set(p, word);
        }
    }

    /// The transmitter's line samples of the last core clock (Manchester).
    pub fn tx_samples(&mut self) -> u64 {
        match self.ports.tx[0] {
            Some(p) => self.engine.get(p),
            None => 0,
        }
    }

    /// Queue a register access; see [`AxilMaster`].
    pub fn submit(&mut self, op: RegOp) -> u64 {
        self.axil.submit(op)
    }

    pub fn take_done(&mut self) -> Option<RegDone> {
        self.axil.take_done()
    }
}
