//! The whole card's error path: a bus error on a DMA write stops the RX queue, shows in
//! `STATUS.RX_STOPPED` and `DMA_ERRORS`, sets the `DMA_ERROR` cause and raises the error MSI
//! vector; the frame is never completed; a soft reset restarts the card.
use nic_hdl::model::axi_mem::AxiMemConfig;
use nic_hdl::model::rx_reference::with_fcs;
use nic_regs::Counter;
use nic_sim::model::axil::RegOp;
use nic_sim::model::engines::{self, EngineChoice};
use nic_sim::model::host_rx::{memory_needed, RxHostConfig};
use nic_sim::model::memory::{SharedMemory, DEFAULT_BASE};
use nic_sim::model::nic::NicModel;
use nic_sim::model::rx_run::{line_for, Impairments, Runner};
use nic_sim::model::Phy;

fn read(r: &mut Runner, offset: u32) -> u32 {
    r.nic.submit(RegOp::Read { offset });
    assert!(r.run_until(10_000, |n| n.axil.idle()));
    r.nic.take_done().expect("read answered").value
}

#[test]
fn bus_error_stops_rx_and_raises_the_error_interrupt() {
    let phy = Phy::Gmii;
    let host = RxHostConfig { ring_log2: 4, ..RxHostConfig::default() };
    let mem = SharedMemory::new(DEFAULT_BASE, memory_needed(&host));
    // Every RX buffer (after the two 16-entry rings) answers SLVERR.
    let buffers = DEFAULT_BASE + 2 * 16 * 16;
    let bus = AxiMemConfig {
        error_ranges: vec![buffers..DEFAULT_BASE + memory_needed(&host) as u64],
        ..AxiMemConfig::pcie_gen2_x4(125)
    };
    let mut nic = NicModel::new(engines::build(phy, EngineChoice::Auto).unwrap(), phy, mem.clone(), bus).unwrap();
    let mut r = Runner::new(&mut nic, mem, &host, 0.0, 16);
    r.nic.submit(RegOp::Write { offset: nic_regs::IRQ_MASK.offset, value: 0 });
    assert!(r.run_until(10_000, |n| n.axil.idle()));

    let mut f = nic_regs::DEFAULT_MAC.to_vec();
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 9, 0x88, 0xB5]);
    f.resize(100, 0x5A);
    let (line, _) = line_for(phy, &[with_fcs(&f), with_fcs(&f)], &Impairments::default());
    r.feed_line(&line, 3000);

    let status = read(&mut r, nic_regs::STATUS.offset);
    assert_eq!(status >> nic_regs::STATUS_RX_STOPPED.lsb & 1, 1, "RX_STOPPED");
    assert_eq!(status >> nic_regs::STATUS_TX_STOPPED.lsb & 1, 0, "TX unaffected");
    let cause = read(&mut r, nic_regs::IRQ_CAUSE.offset);
    assert_eq!(cause >> nic_regs::IRQ_BIT_DMA_ERROR & 1, 1, "DMA_ERROR cause");
    assert_eq!(r.nic.msi.sent[nic_hdl::irq::VEC_ERR], 1, "one error MSI");
    assert_eq!(r.nic.msi.sent[nic_hdl::irq::VEC_RX], 0, "no RX completion, so no RX MSI");
    let counters = r.read_counters();
    assert_eq!(counters.get(Counter::DmaErrors), 1);
    assert_eq!(counters.get(Counter::RxFrames), 0);
    assert!(r.host.received.is_empty(), "nothing completed");

    // A soft reset restarts the card: the stop is cleared.
    r.nic.submit(RegOp::Write { offset: nic_regs::CONTROL.offset, value: 1 << nic_regs::CONTROL_SOFT_RESET.lsb });
    assert!(r.run_until(10_000, |n| n.axil.idle()));
    let status = read(&mut r, nic_regs::STATUS.offset);
    assert_eq!(status >> nic_regs::STATUS_RX_STOPPED.lsb & 1, 0, "cleared by SOFT_RESET");
    assert!(r.nic.mem.violations.is_empty(), "{:?}", r.nic.mem.violations);
}
