//! `nic bench linerate`: frames offered back to back at 1 Gb/s on GMII with the minimum gap,
//! and how many of them the card delivers into host memory, in simulated time.
//!
//! The host model posts RX buffers the way a polling driver does (a 256-entry ring, reaped
//! by phase bit, reposted in batches with one doorbell per batch), and host memory answers
//! like a PCIe Gen2 x4 link (1 µs read round trip). The JSON has, per frame size, the
//! offered and delivered frames per second of simulated time and their ratio; the goal is
//! every ratio 1.0 (1,488,095 frames/s at 64 B).
use crate::model::engines::{self, EngineChoice};
use crate::model::host_rx::{memory_needed, RxHostConfig};
use crate::model::memory::{SharedMemory, DEFAULT_BASE};
use crate::model::nic::NicModel;
use crate::model::rx_run::{line_for, Impairments, Runner};
use crate::model::Phy;
use nic_hdl::model::axi_mem::AxiMemConfig;
use nic_hdl::model::rx_reference::with_fcs;

/// Wire overhead per frame in bytes: preamble and SFD (8) and the minimum gap (12).
const WIRE_OVERHEAD: u64 = 20;

/// One frame size's result.
#[derive(Clone, Debug)]
pub struct LineRate {
    /// Frame size on the wire, FCS included.
    pub size: usize,
    pub frames: usize,
    pub delivered: usize,
    pub offered_fps: f64,
    pub delivered_fps: f64,
    pub dropped_no_buffer: u64,
    pub dropped_overflow: u64,
    /// Simulated core clocks per second of wall time, for the record.
    pub sim_cycles_per_s: f64,
}

/// A unicast frame to the card's default address, `size` bytes on the wire with its FCS.
fn frame(size: usize, n: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(size - 4);
    f.extend_from_slice(&nic_regs::DEFAULT_MAC);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99]);
    f.extend_from_slice(&[0x88, 0xB5]); // local experimental EtherType
    while f.len() < size - 4 {
        f.push((n + f.len()) as u8);
    }
    with_fcs(&f)
}

/// Offer `frames` frames of `size` bytes back to back and count what arrives.
pub fn measure(size: usize, frames: usize, engine: EngineChoice) -> Result<LineRate, String> {
    let phy = Phy::Gmii;
    let host = RxHostConfig::default();
    let mem = SharedMemory::new(DEFAULT_BASE, memory_needed(&host));
    let bus = AxiMemConfig::pcie_gen2_x4(phy.clocks_per_us());
    let mut nic = NicModel::new(engines::build(phy, engine)?, phy, mem.clone(), bus)?;
    let wire: Vec<Vec<u8>> = (0..frames).map(|n| frame(size, n)).collect();
    let (line, _) = line_for(phy, &wire, &Impairments::default());
    let mut runner = Runner::new(&mut nic, mem, &host, 0.0, 32);
    let started = std::time::Instant::now();
    let c0 = runner.nic.cycles;
    let end = runner.feed_line(&line, 5_000);
    let wall = started.elapsed().as_secs_f64();
    let cycles = runner.nic.cycles - c0;
    let result = runner.finish(end);
    if !result.bus_violations.is_empty() {
        return Err(format!("the card broke AXI rules: {}", result.bus_violations.join("; ")));
    }
    let delivered = result.received.iter().filter(|r| r.bytes.len() == size - 4).count();
    let offered_fps = phy.bit_rate() as f64 / (8 * (size as u64 + WIRE_OVERHEAD)) as f64;
    Ok(LineRate {
        size,
        frames,
        delivered,
        offered_fps,
        // The frames were offered over `frames / offered_fps` seconds of simulated time.
        delivered_fps: offered_fps * delivered as f64 / frames as f64,
        dropped_no_buffer: result.counters.get(nic_regs::Counter::RxNoBuffer),
        dropped_overflow: result.counters.get(nic_regs::Counter::RxFifoOverflow),
        sim_cycles_per_s: cycles as f64 / wall,
    })
}

/// The JSON object for a set of results.
pub fn json(results: &[LineRate], engine: &str) -> String {
    let mut parts = vec![format!("\"phy\":\"gmii\",\"engine\":\"{engine}\"")];
    for r in results {
        let s = r.size;
        parts.push(format!(
            "\"frames_{s}\":{},\"offered_fps_{s}\":{:.0},\"delivered_fps_{s}\":{:.0},\"no_buffer_{s}\":{},\"overflow_{s}\":{},\"sim_cycles_per_s_{s}\":{:.0},\"delivered_{s}_ratio\":{:.4}",
            r.frames,
            r.offered_fps,
            r.delivered_fps,
            r.dropped_no_buffer,
            r.dropped_overflow,
            r.sim_cycles_per_s,
            r.delivered_fps / r.offered_fps
        ));
    }
    format!("{{{}}}", parts.join(","))
}
