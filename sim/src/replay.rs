//! `nic replay`: a capture through the simulated card, and a capture of what reached host
//! memory.
//!
//! Each record of the input goes over the line model into the card's receive pins, back to
//! back at the minimum gap; a minimal polling host ([`crate::model::host_rx`]) posts RX
//! buffers and reaps completions; every frame that reached host memory is written to the
//! output, FCS stripped, in order. The last line on stdout is one JSON object of the
//! device's counters, read through its registers.
use crate::cli::Args;
use crate::model::engines::{self, EngineChoice};
use crate::model::host_rx::{memory_needed, RxHostConfig};
use crate::model::memory::{SharedMemory, DEFAULT_BASE};
use crate::model::nic::NicModel;
use crate::model::rx_run::{line_for, Impairments, Runner};
use crate::model::Phy;
use crate::pcap::{read_pcap, PcapWriter};
use nic_hdl::model::axi_mem::AxiMemConfig;
use nic_hdl::model::rx_reference::with_fcs;
use nic_regs::Counter;

pub const USAGE: &str = "usage: nic replay --in IN.pcap --out OUT.pcap [--mac 02:00:00:00:00:01] [--multicast MAC]... [--all-multicast] [--promisc] [--with-fcs] [--phy gmii|mii|manchester] [--ppm N] [--ber X] [--seed S] [--vcd FILE] [--engine auto|rust-hdl|verilator]";

#[derive(Clone, Debug)]
pub struct ReplayOptions {
    pub input: String,
    pub output: String,
    pub host: RxHostConfig,
    pub with_fcs: bool,
    pub phy: Phy,
    pub ppm: f64,
    pub ber: f64,
    pub seed: u64,
    pub vcd: Option<String>,
    pub engine: EngineChoice,
}

pub fn parse_args(args: &[String]) -> Result<ReplayOptions, String> {
    let mut o = ReplayOptions {
        input: String::new(),
        output: String::new(),
        host: RxHostConfig::default(),
        with_fcs: false,
        phy: Phy::Gmii,
        ppm: 0.0,
        ber: 0.0,
        seed: 1,
        vcd: None,
        engine: EngineChoice::Auto,
    };
    let mut a = Args::new(args);
    while let Some(flag) = a.next_flag() {
        match flag.as_str() {
            "--in" => o.input = a.value()?,
            "--out" => o.output = a.value()?,
            "--mac" => o.host.mac = a.mac()?,
            "--multicast" => o.host.multicast.push(a.mac()?),
            "--all-multicast" => o.host.all_multicast = true,
            "--promisc" => o.host.promisc = true,
            "--with-fcs" => o.with_fcs = true,
            "--phy" => o.phy = a.phy(&[Phy::Gmii, Phy::Mii, Phy::Manchester])?,
            "--ppm" => o.ppm = a.parse("a number")?,
            "--ber" => o.ber = a.parse("a number")?,
            "--seed" => o.seed = a.parse("a whole number")?,
            "--vcd" => o.vcd = Some(a.value()?),
            "--engine" => o.engine = a.engine()?,
            _ => return Err(a.unknown()),
        }
    }
    if o.input.is_empty() || o.output.is_empty() {
        return Err("--in and --out are required".into());
    }
    if o.ppm.abs() > 500.0 || !(0.0..=0.01).contains(&o.ber) {
        return Err("impairments out of range: --ppm -500..500, --ber 0..0.01".into());
    }
    Ok(o)
}

/// The counters JSON object (the contract's keys, in its order).
pub struct ReplayReport {
    pub frames_in: usize,
    pub delivered: usize,
    pub counters: crate::model::rx_run::DeviceCounters,
}

impl ReplayReport {
    pub fn json(&self) -> String {
        let c = |k: Counter| self.counters.get(k);
        format!(
            "{{\"frames_in\":{},\"delivered\":{},\"fcs_errors\":{},\"runts\":{},\"giants\":{},\"filtered\":{},\"overflow\":{},\"no_buffer\":{}}}",
            self.frames_in,
            self.delivered,
            c(Counter::RxFcsErrors),
            c(Counter::RxRunts),
            c(Counter::RxGiants),
            c(Counter::RxFiltered),
            c(Counter::RxFifoOverflow),
            c(Counter::RxNoBuffer)
        )
    }
}

/// Run a replay. `Err` is a one-line message for exit code 2 (bad input) or 1 (failure).
pub fn run(o: &ReplayOptions) -> Result<ReplayReport, (u8, String)> {
    let bytes = std::fs::read(&o.input).map_err(|e| (2, format!("cannot read {}: {e}", o.input)))?;
    let records = read_pcap(&bytes).map_err(|e| (2, format!("{}: {e}", o.input)))?;
    let frames: Vec<Vec<u8>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if o.with_fcs && r.data.len() < 4 {
                Err((
                    2,
                    format!(
                        "{}: record {i} has {} bytes, too short to end in an FCS (--with-fcs)",
                        o.input,
                        r.data.len()
                    ),
                ))
            } else if o.with_fcs {
                Ok(r.data.clone())
            } else {
                Ok(with_fcs(&r.data))
            }
        })
        .collect::<Result<_, _>>()?;
    if let Some((i, f)) = frames.iter().enumerate().find(|(_, f)| f.len() > 16_000) {
        return Err((
            2,
            format!("{}: record {i} is {} bytes; the card takes frames up to 16000 bytes", o.input, f.len()),
        ));
    }

    let mut engine = engines::build(o.phy, o.engine).map_err(|e| (1, e))?;
    if let Some(path) = &o.vcd {
        engine = engines::with_vcd(engine, o.phy, path, None).map_err(|e| (2, format!("--vcd: {e}")))?;
    }
    let mem = SharedMemory::new(DEFAULT_BASE, memory_needed(&o.host));
    let bus = AxiMemConfig::pcie_gen2_x4(o.phy.clocks_per_us());
    let mut nic = NicModel::new(engine, o.phy, mem.clone(), bus).map_err(|e| (1, e))?;
    let imp = Impairments { ppm: o.ppm, ber: o.ber, seed: o.seed };
    let (line, _) = line_for(o.phy, &frames, &imp);
    let mut runner = Runner::new(&mut nic, mem, &o.host, o.ppm, 16);
    let end = runner.feed_line(&line, 20_000);
    let result = runner.finish(end);
    if !result.bus_violations.is_empty() {
        return Err((1, format!("the card broke AXI rules: {}", result.bus_violations.join("; "))));
    }

    let out = std::fs::File::create(&o.output).map_err(|e| (2, format!("cannot create {}: {e}", o.output)))?;
    let mut pcap = PcapWriter::new(std::io::BufWriter::new(out)).map_err(|e| (2, format!("{}: {e}", o.output)))?;
    let ns_per_cycle = o.phy.core_period_ps() / 1000.0;
    for r in &result.received {
        pcap.write_frame((r.cycle as f64 * ns_per_cycle) as u64, &r.bytes)
            .map_err(|e| (2, format!("{}: {e}", o.output)))?;
    }
    pcap.finish().map_err(|e| (2, format!("{}: {e}", o.output)))?;
    Ok(ReplayReport { frames_in: frames.len(), delivered: result.received.len(), counters: result.counters })
}
