//! Tests of [`super::AxiArbiter`]: two plain-Rust traffic masters through the arbiter into
//! the host memory model.
use super::*;
use crate::dma::testbench::{axi_port_fns, random_burst, ReadBurst, TrafficMaster, WriteBurst};
use crate::model::axi_mem::{AxiMasterSignals, AxiMem, AxiMemConfig, AxiSlaveSignals, VecMemory};
use crate::sim::{cycle, settle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

axi_port_fns!(slave drive_s0, observe_s0, AxiArbiter, [s0_awvalid, s0_awready, s0_awaddr, s0_awlen,
    s0_awsize, s0_awburst, s0_wvalid, s0_wready, s0_wdata, s0_wstrb, s0_wlast, s0_bvalid,
    s0_bready, s0_bresp, s0_arvalid, s0_arready, s0_araddr, s0_arlen, s0_arsize, s0_arburst,
    s0_rvalid, s0_rready, s0_rdata, s0_rresp, s0_rlast]);
axi_port_fns!(slave drive_s1, observe_s1, AxiArbiter, [s1_awvalid, s1_awready, s1_awaddr, s1_awlen,
    s1_awsize, s1_awburst, s1_wvalid, s1_wready, s1_wdata, s1_wstrb, s1_wlast, s1_bvalid,
    s1_bready, s1_bresp, s1_arvalid, s1_arready, s1_araddr, s1_arlen, s1_arsize, s1_arburst,
    s1_rvalid, s1_rready, s1_rdata, s1_rresp, s1_rlast]);
axi_port_fns!(master present_m, sample_m_noid, AxiArbiter, [m_axi_awvalid, m_axi_awready, m_axi_awaddr,
    m_axi_awlen, m_axi_awsize, m_axi_awburst, m_axi_wvalid, m_axi_wready, m_axi_wdata, m_axi_wstrb,
    m_axi_wlast, m_axi_bvalid, m_axi_bready, m_axi_bresp, m_axi_arvalid, m_axi_arready,
    m_axi_araddr, m_axi_arlen, m_axi_arsize, m_axi_arburst, m_axi_rvalid, m_axi_rready,
    m_axi_rdata, m_axi_rresp, m_axi_rlast]);

/// The master side with its IDs.
fn present_mem(u: &mut AxiArbiter, o: &AxiSlaveSignals) {
    present_m(u, o);
    u.m_axi_bid.next = u64::from(o.bid).to_bits();
    u.m_axi_rid.next = u64::from(o.rid).to_bits();
}

fn sample_mem(u: &AxiArbiter) -> AxiMasterSignals {
    AxiMasterSignals {
        awid: u.m_axi_awid.val().to_u64() as u8,
        arid: u.m_axi_arid.val().to_u64() as u8,
        ..sample_m_noid(u)
    }
}

const READ_BASE: u64 = 0x1_0000;
const READ_LEN: u64 = 0x4000;
/// Master `p` writes only into `WRITE_BASE + p * WRITE_LEN ..`.
const WRITE_BASE: u64 = 0x2_0000;
const WRITE_LEN: u64 = 0x2000;

struct Bench {
    uut: AxiArbiter,
    mem: AxiMem<VecMemory>,
    masters: [TrafficMaster; 2],
    /// What memory must hold at the end.
    image: VecMemory,
}

impl Bench {
    fn run(&mut self, max_clocks: u64) -> u64 {
        for t in 0..max_clocks {
            if self.masters.iter().all(|m| m.done()) && self.mem.idle() {
                return t;
            }
            self.step();
        }
        panic!("traffic not done after {max_clocks} clocks");
    }

    fn step(&mut self) {
        let o = self.mem.outputs();
        present_mem(&mut self.uut, &o);
        let d0 = self.masters[0].drive();
        let d1 = self.masters[1].drive();
        drive_s0(&mut self.uut, &d0);
        drive_s1(&mut self.uut, &d1);
        settle(&mut self.uut);
        let m = sample_mem(&self.uut);
        // IDs name the granted port; a valid only ever comes from that port.
        if m.arvalid {
            assert!(m.arid <= 1 && [d0, d1][m.arid as usize].arvalid, "{m:?}");
        }
        if m.awvalid {
            assert!(m.awid <= 1 && [d0, d1][m.awid as usize].awvalid, "{m:?}");
        }
        let s0 = observe_s0(&self.uut);
        let s1 = observe_s1(&self.uut);
        self.mem.clock(&m);
        self.masters[0].edge(&d0, &s0);
        self.masters[1].edge(&d1, &s1);
        cycle(&mut self.uut, |u| &mut u.clock);
    }

    fn check(&self) {
        assert!(self.mem.violations.is_empty(), "{:?}", self.mem.violations);
        for (p, m) in self.masters.iter().enumerate() {
            assert!(m.errors.is_empty(), "master {p}: {:?}", &m.errors[..m.errors.len().min(5)]);
            assert_eq!(m.b_seen, m.writes_issued, "master {p}");
            assert_eq!(m.b_errors, 0, "master {p}");
        }
        assert_eq!(self.mem.mem.bytes, self.image.bytes, "memory differs from the writes made");
    }
}

/// Memory with a random read-only region; two masters with random traffic.
fn bench(seed: u64, bursts: usize, max_beats: u64, idle_percent: u32, cfg: AxiMemConfig) -> Bench {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mem = VecMemory::new(0, 0x3_0000);
    for b in mem.bytes[READ_BASE as usize..(READ_BASE + READ_LEN) as usize].iter_mut() {
        *b = rng.gen();
    }
    let mut image = mem.clone();
    let masters = [0u64, 1].map(|p| {
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        for _ in 0..bursts {
            let (addr, beats) = random_burst(&mut rng, WRITE_BASE + p * WRITE_LEN, WRITE_LEN, max_beats);
            let data: Vec<u64> = (0..beats).map(|_| rng.gen()).collect();
            let strb: Vec<u8> = (0..beats).map(|_| if rng.gen_bool(0.7) { 0xFF } else { rng.gen() }).collect();
            // Writes of one master land in order; the two masters' regions are disjoint.
            for (k, (&d, &s)) in data.iter().zip(&strb).enumerate() {
                for i in 0..8 {
                    if s >> i & 1 == 1 {
                        image.bytes[(addr + 8 * k as u64 + i) as usize] = d.to_le_bytes()[i as usize];
                    }
                }
            }
            writes.push(WriteBurst { addr, data, strb });
            let (addr, beats) = random_burst(&mut rng, READ_BASE, READ_LEN, max_beats);
            let expect =
                (0..beats).map(|k| u64::from_le_bytes(mem.slice(addr + 8 * k as u64, 8).try_into().unwrap())).collect();
            reads.push(ReadBurst { addr, expect });
        }
        TrafficMaster::new(seed * 2 + p, idle_percent, writes, reads)
    });
    let mut uut = AxiArbiter::default();
    uut.connect_all();
    uut.reset.next = true;
    cycle(&mut uut, |u| &mut u.clock);
    uut.reset.next = false;
    Bench { uut, mem: AxiMem::new(mem, cfg), masters, image }
}

/// Single beats, no stalls: both masters' traffic goes through and lands.
#[test]
fn arbiter_directed_single_beats() {
    let mut b = bench(1, 20, 1, 0, AxiMemConfig::fast());
    b.run(10_000);
    b.check();
}

/// Random bursts (up to 32 beats), random master delays, random slave stalls and latencies.
#[test]
fn arbiter_random_traffic_with_stalls() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xA1B);
    for round in 0..6u64 {
        let cfg = AxiMemConfig {
            read_latency: rng.gen_range(1..40),
            write_latency: rng.gen_range(1..20),
            bytes_per_clock: [8.0, 4.0, 12.8][round as usize % 3],
            max_reads: rng.gen_range(1..8),
            max_writes: rng.gen_range(1..8),
            stall_percent: [0, 20, 50][round as usize % 3],
            seed: round,
            ..AxiMemConfig::fast()
        };
        let idle = [0, 30, 70][(round as usize / 3) % 3];
        let mut b = bench(100 + round, 60, 32, idle, cfg);
        b.run(200_000);
        b.check();
    }
}

/// Both masters always have work: neither starves, and grants alternate.
#[test]
fn arbiter_fair_under_constant_load() {
    let cfg = AxiMemConfig { stall_percent: 10, seed: 5, ..AxiMemConfig::pcie_gen2_x4(125) };
    let mut b = bench(7, 3000, 4, 0, cfg);
    const WINDOW: usize = 2000;
    // Run a window in which both masters still have bursts queued the whole time.
    for _ in 0..WINDOW {
        b.step();
    }
    let mut ar: Vec<(u64, usize)> = Vec::new();
    let mut aw: Vec<(u64, usize)> = Vec::new();
    for p in 0..2 {
        assert!(!b.masters[p].done(), "window too long for the load");
        ar.extend(b.masters[p].ar_taken_at.iter().map(|&t| (t, p)));
        aw.extend(b.masters[p].aw_taken_at.iter().map(|&t| (t, p)));
    }
    for (what, mut g) in [("AR", ar), ("AW", aw)] {
        g.sort();
        let n0 = g.iter().filter(|x| x.1 == 0).count();
        let n1 = g.len() - n0;
        println!("{what}: port 0 {n0}, port 1 {n1} in {WINDOW} clocks");
        assert!(g.len() >= 40, "{what}: only {} grants", g.len());
        assert!(n0.abs_diff(n1) <= 1, "{what}: {n0} vs {n1}");
        assert!(g.windows(2).all(|w| w[0].1 != w[1].1), "{what}: grants do not alternate");
    }
    b.run(1_000_000);
    b.check();
}

/// One port alone gets every grant at once; reset restarts the round robin at port 0.
#[test]
fn arbiter_lone_master_and_reset() {
    for p in 0..2usize {
        let mut b = bench(11 + p as u64, 30, 8, 20, AxiMemConfig::fast());
        b.masters[1 - p] = TrafficMaster::new(0, 0, Vec::new(), Vec::new());
        let other = (WRITE_BASE + (1 - p as u64) * WRITE_LEN) as usize;
        b.image.bytes[other..other + WRITE_LEN as usize].fill(0);
        b.run(20_000);
        b.check();
        assert_eq!(b.masters[p].writes_issued, 30);
    }
}

#[test]
fn arbiter_verilog_passes_yosys_and_verilator() {
    crate::verilog::assert_lints_and_checks("nic_axi_arbiter", &mut AxiArbiter::default());
}

/// Resource counts after Yosys synthesis (run by hand: `-- --ignored arbiter_resources`).
/// Measured: xilinx7 8 FF, 259 LUT; ice40 8 FF, 262 LUT (the muxes of two 64-bit address and data paths).
#[test]
#[ignore]
fn arbiter_resources() {
    use crate::verilog::synth::{synthesize, Family};
    let module = crate::verilog::export::export("nic_axi_arbiter", &mut AxiArbiter::default());
    for f in Family::ALL {
        let dir = crate::verilog::workdir(&format!("synth-arbiter-{}", f.name()));
        let r = synthesize(&module, f, &dir).unwrap();
        println!("{} {}", f.name(), r.to_json());
    }
}

/// Two DMA masters (TX DMAs standing in for the RX one on port 0) through the arbiter, as
/// the NIC top wires them: the valid/ready paths between the blocks lint without UNOPTFLAT.
#[derive(LogicBlock, Default)]
struct TwoDmas {
    clock: Signal<In, Clock>,
    reset: Signal<In, Bit>,
    bus_bit: Signal<In, Bit>,
    bus_word: Signal<In, Bits<64>>,
    m_axi_awvalid: Signal<Out, Bit>,
    m_axi_awready: Signal<In, Bit>,
    m_axi_awaddr: Signal<Out, Bits<64>>,
    m_axi_awlen: Signal<Out, Bits<8>>,
    m_axi_awsize: Signal<Out, Bits<3>>,
    m_axi_awburst: Signal<Out, Bits<2>>,
    m_axi_wvalid: Signal<Out, Bit>,
    m_axi_wready: Signal<In, Bit>,
    m_axi_wdata: Signal<Out, Bits<64>>,
    m_axi_wstrb: Signal<Out, Bits<8>>,
    m_axi_wlast: Signal<Out, Bit>,
    m_axi_bvalid: Signal<In, Bit>,
    m_axi_bready: Signal<Out, Bit>,
    m_axi_bresp: Signal<In, Bits<2>>,
    m_axi_arvalid: Signal<Out, Bit>,
    m_axi_arready: Signal<In, Bit>,
    m_axi_araddr: Signal<Out, Bits<64>>,
    m_axi_arlen: Signal<Out, Bits<8>>,
    m_axi_arsize: Signal<Out, Bits<3>>,
    m_axi_arburst: Signal<Out, Bits<2>>,
    m_axi_rvalid: Signal<In, Bit>,
    m_axi_rready: Signal<Out, Bit>,
    m_axi_rdata: Signal<In, Bits<64>>,
    m_axi_rresp: Signal<In, Bits<2>>,
    m_axi_rlast: Signal<In, Bit>,
    m_axi_awid: Signal<Out, Bits<4>>,
    m_axi_arid: Signal<Out, Bits<4>>,
    m_axi_bid: Signal<In, Bits<4>>,
    m_axi_rid: Signal<In, Bits<4>>,
    rx: crate::dma::tx::TxDma,
    tx: crate::dma::tx::TxDma,
    arb: AxiArbiter,
}

impl Logic for TwoDmas {
    #[hdl_gen]
    fn update(&mut self) {
        self.rx.clock.next = self.clock.val();
        self.tx.clock.next = self.clock.val();
        self.arb.clock.next = self.clock.val();
        self.rx.reset.next = self.reset.val();
        self.tx.reset.next = self.reset.val();
        self.arb.reset.next = self.reset.val();
        self.m_axi_awvalid.next = self.arb.m_axi_awvalid.val();
        self.arb.m_axi_awready.next = self.m_axi_awready.val();
        self.m_axi_awaddr.next = self.arb.m_axi_awaddr.val();
        self.m_axi_awlen.next = self.arb.m_axi_awlen.val();
        self.m_axi_awsize.next = self.arb.m_axi_awsize.val();
        self.m_axi_awburst.next = self.arb.m_axi_awburst.val();
        self.m_axi_wvalid.next = self.arb.m_axi_wvalid.val();
        self.arb.m_axi_wready.next = self.m_axi_wready.val();
        self.m_axi_wdata.next = self.arb.m_axi_wdata.val();
        self.m_axi_wstrb.next = self.arb.m_axi_wstrb.val();
        self.m_axi_wlast.next = self.arb.m_axi_wlast.val();
        self.arb.m_axi_bvalid.next = self.m_axi_bvalid.val();
        self.m_axi_bready.next = self.arb.m_axi_bready.val();
        self.arb.m_axi_bresp.next = self.m_axi_bresp.val();
        self.m_axi_arvalid.next = self.arb.m_axi_arvalid.val();
        self.arb.m_axi_arready.next = self.m_axi_arready.val();
        self.m_axi_araddr.next = self.arb.m_axi_araddr.val();
        self.m_axi_arlen.next = self.arb.m_axi_arlen.val();
        self.m_axi_arsize.next = self.arb.m_axi_arsize.val();
        self.m_axi_arburst.next = self.arb.m_axi_arburst.val();
        self.arb.m_axi_rvalid.next = self.m_axi_rvalid.val();
        self.m_axi_rready.next = self.arb.m_axi_rready.val();
        self.arb.m_axi_rdata.next = self.m_axi_rdata.val();
        self.arb.m_axi_rresp.next = self.m_axi_rresp.val();
        self.arb.m_axi_rlast.next = self.m_axi_rlast.val();
        self.m_axi_awid.next = self.arb.m_axi_awid.val();
        self.m_axi_arid.next = self.arb.m_axi_arid.val();
        self.arb.m_axi_bid.next = self.m_axi_bid.val();
        self.arb.m_axi_rid.next = self.m_axi_rid.val();
        self.arb.s0_awvalid.next = self.rx.axi_awvalid.val();
        self.rx.axi_awready.next = self.arb.s0_awready.val();
        self.arb.s0_awaddr.next = self.rx.axi_awaddr.val();
        self.arb.s0_awlen.next = self.rx.axi_awlen.val();
        self.arb.s0_awsize.next = self.rx.axi_awsize.val();
        self.arb.s0_awburst.next = self.rx.axi_awburst.val();
        self.arb.s0_wvalid.next = self.rx.axi_wvalid.val();
        self.rx.axi_wready.next = self.arb.s0_wready.val();
        self.arb.s0_wdata.next = self.rx.axi_wdata.val();
        self.arb.s0_wstrb.next = self.rx.axi_wstrb.val();
        self.arb.s0_wlast.next = self.rx.axi_wlast.val();
        self.rx.axi_bvalid.next = self.arb.s0_bvalid.val();
        self.arb.s0_bready.next = self.rx.axi_bready.val();
        self.rx.axi_bresp.next = self.arb.s0_bresp.val();
        self.arb.s0_arvalid.next = self.rx.axi_arvalid.val();
        self.rx.axi_arready.next = self.arb.s0_arready.val();
        self.arb.s0_araddr.next = self.rx.axi_araddr.val();
        self.arb.s0_arlen.next = self.rx.axi_arlen.val();
        self.arb.s0_arsize.next = self.rx.axi_arsize.val();
        self.arb.s0_arburst.next = self.rx.axi_arburst.val();
        self.rx.axi_rvalid.next = self.arb.s0_rvalid.val();
        self.arb.s0_rready.next = self.rx.axi_rready.val();
        self.rx.axi_rdata.next = self.arb.s0_rdata.val();
        self.rx.axi_rresp.next = self.arb.s0_rresp.val();
        self.rx.axi_rlast.next = self.arb.s0_rlast.val();
        self.rx.enable.next = self.bus_bit.val();
        self.rx.max_len.next = self.bus_word.val().get_bits::<16>(0);
        self.rx.txd_base.next = self.bus_word.val();
        self.rx.txd_log2_size.next = self.bus_word.val().get_bits::<4>(0);
        self.rx.txd_producer.next = self.bus_word.val().get_bits::<16>(16);
        self.rx.txc_base.next = self.bus_word.val();
        self.rx.txc_log2_size.next = self.bus_word.val().get_bits::<4>(4);
        self.rx.txc_consumer.next = self.bus_word.val().get_bits::<16>(32);
        self.rx.out_ready.next = self.bus_bit.val();
        self.arb.s1_awvalid.next = self.tx.axi_awvalid.val();
        self.tx.axi_awready.next = self.arb.s1_awready.val();
        self.arb.s1_awaddr.next = self.tx.axi_awaddr.val();
        self.arb.s1_awlen.next = self.tx.axi_awlen.val();
        self.arb.s1_awsize.next = self.tx.axi_awsize.val();
        self.arb.s1_awburst.next = self.tx.axi_awburst.val();
        self.arb.s1_wvalid.next = self.tx.axi_wvalid.val();
        self.tx.axi_wready.next = self.arb.s1_wready.val();
        self.arb.s1_wdata.next = self.tx.axi_wdata.val();
        self.arb.s1_wstrb.next = self.tx.axi_wstrb.val();
        self.arb.s1_wlast.next = self.tx.axi_wlast.val();
        self.tx.axi_bvalid.next = self.arb.s1_bvalid.val();
        self.arb.s1_bready.next = self.tx.axi_bready.val();
        self.tx.axi_bresp.next = self.arb.s1_bresp.val();
        self.arb.s1_arvalid.next = self.tx.axi_arvalid.val();
        self.tx.axi_arready.next = self.arb.s1_arready.val();
        self.arb.s1_araddr.next = self.tx.axi_araddr.val();
        self.arb.s1_arlen.next = self.tx.axi_arlen.val();
        self.arb.s1_arsize.next = self.tx.axi_arsize.val();
        self.arb.s1_arburst.next = self.tx.axi_arburst.val();
        self.tx.axi_rvalid.next = self.arb.s1_rvalid.val();
        self.arb.s1_rready.next = self.tx.axi_rready.val();
        self.tx.axi_rdata.next = self.arb.s1_rdata.val();
        self.tx.axi_rresp.next = self.arb.s1_rresp.val();
        self.tx.axi_rlast.next = self.arb.s1_rlast.val();
        self.tx.enable.next = self.bus_bit.val();
        self.tx.max_len.next = self.bus_word.val().get_bits::<16>(0);
        self.tx.txd_base.next = self.bus_word.val();
        self.tx.txd_log2_size.next = self.bus_word.val().get_bits::<4>(0);
        self.tx.txd_producer.next = self.bus_word.val().get_bits::<16>(16);
        self.tx.txc_base.next = self.bus_word.val();
        self.tx.txc_log2_size.next = self.bus_word.val().get_bits::<4>(4);
        self.tx.txc_consumer.next = self.bus_word.val().get_bits::<16>(32);
        self.tx.out_ready.next = self.bus_bit.val();
    }
}

#[test]
fn arbiter_with_two_dmas_verilog_passes_yosys_and_verilator() {
    crate::verilog::assert_lints_and_checks("nic_two_dmas", &mut TwoDmas::default());
}
