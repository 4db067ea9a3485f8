//! The whole card on both engines at once: the Rust-HDL simulation of the gateware and the
//! Verilator build of its exported Verilog, driven by the same host model (registers, DMA
//! into host memory, MSI) and the same line, agree on every port after every evaluation.
use nic_hdl::engine::lockstep::Lockstep;
use nic_hdl::engine::{Engine, PortInfo};
use nic_hdl::model::axi_mem::AxiMemConfig;
use nic_hdl::model::rx_reference::with_fcs;
use nic_hdl::verilog::tools::tool_for_test;
use nic_sim::model::engines::{self, EngineChoice};
use nic_sim::model::host_rx::{memory_needed, RxHostConfig};
use nic_sim::model::memory::{SharedMemory, DEFAULT_BASE};
use nic_sim::model::nic::NicModel;
use nic_sim::model::rx_run::{line_for, Impairments, Runner};
use nic_sim::model::Phy;
use std::sync::{Arc, Mutex};

/// An engine the test keeps a handle on while the model owns it.
struct Shared<E: Engine> {
    inner: Arc<Mutex<E>>,
    ports: Vec<PortInfo>,
}

impl<E: Engine> Engine for Shared<E> {
    fn ports(&self) -> &[PortInfo] {
        &self.ports
    }
    fn set(&mut self, port: usize, value: u64) {
        self.inner.lock().unwrap().set(port, value)
    }
    fn get(&mut self, port: usize) -> u64 {
        self.inner.lock().unwrap().get(port)
    }
    fn eval(&mut self) {
        self.inner.lock().unwrap().eval()
    }
}

fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, len) in [60usize, 61, 200, 1514, 64].into_iter().enumerate() {
        let mut f = nic_regs::DEFAULT_MAC.to_vec();
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x42, 0x88, 0xB5]);
        f.resize(len, i as u8 + 1);
        out.push(with_fcs(&f));
    }
    // Broadcast, another station's (filtered) and a corrupted frame.
    let mut b = vec![0xFF; 6];
    b.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x42, 0x08, 0x06]);
    b.resize(60, 7);
    out.push(with_fcs(&b));
    let mut o = vec![0x02, 9, 9, 9, 9, 9, 0x02, 0, 0, 0, 0, 0x42, 0x88, 0xB5];
    o.resize(80, 8);
    out.push(with_fcs(&o));
    let mut bad = out[2].clone();
    bad[30] ^= 1;
    out.push(bad);
    out
}

fn run(phy: Phy) {
    if !tool_for_test("verilator") {
        return;
    }
    let a = engines::build(phy, EngineChoice::RustHdl).unwrap();
    let b = engines::build(phy, EngineChoice::Verilator).unwrap();
    let lock = Arc::new(Mutex::new(Lockstep::new(a, b).unwrap()));
    let ports = lock.lock().unwrap().ports().to_vec();
    let engine = Box::new(Shared { inner: lock.clone(), ports });
    let host = RxHostConfig { ring_log2: 4, ..RxHostConfig::default() };
    let mem = SharedMemory::new(DEFAULT_BASE, memory_needed(&host));
    let bus = AxiMemConfig { stall_percent: 10, ..AxiMemConfig::pcie_gen2_x4(phy.clocks_per_us()) };
    let mut nic = NicModel::new(engine, phy, mem.clone(), bus).unwrap();
    let (line, _) = line_for(phy, &frames(), &Impairments { ppm: 50.0, ..Impairments::default() });
    let mut runner = Runner::new(&mut nic, mem, &host, 50.0, 8);
    let end = runner.feed_line(&line, 1500);
    let result = runner.finish(end);
    let l = lock.lock().unwrap();
    assert!(l.evals() > 1000, "{} evals", l.evals());
    assert_eq!(l.mismatch_count(), 0, "{}: first mismatches {:?}", phy.name(), l.mismatches());
    assert_eq!(result.received.len(), 6, "{}: frames in host memory", phy.name());
    assert_eq!(result.counters.get(nic_regs::Counter::RxFcsErrors), 1);
    assert_eq!(result.counters.get(nic_regs::Counter::RxFiltered), 1);
}

#[test]
fn gmii_card_engines_agree() {
    run(Phy::Gmii);
}

#[test]
fn mii_card_engines_agree() {
    run(Phy::Mii);
}

#[test]
fn manchester_card_engines_agree() {
    run(Phy::Manchester);
}
