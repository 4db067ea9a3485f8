//! Yosys synthesis of an exported module for FPGA families, and its resource counts.
use super::export::VerilogModule;
use super::tools::{require_tool, ToolError};
use std::path::Path;
use std::process::Command;

/// FPGA families we synthesize for: a large one (Xilinx 7-series, what PCIe dev boards carry)
/// and an open-toolchain one (Lattice iCE40).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Xilinx7,
    Ice40,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Xilinx7, Family::Ice40];

    pub fn name(self) -> &'static str {
        match self {
            Family::Xilinx7 => "xilinx7",
            Family::Ice40 => "ice40",
        }
    }

    fn command(self, top: &str) -> String {
        match self {
            Family::Xilinx7 => format!("synth_xilinx -flatten -top {top}"),
            Family::Ice40 => format!("synth_ice40 -top {top}"),
        }
    }

    /// Which cell types count as LUTs, flip-flops and block RAMs.
    fn classify(self, cell: &str) -> Option<Resource> {
        use Resource::*;
        match self {
            Family::Xilinx7 => match cell {
                c if c.starts_with("LUT") => Some(Lut),
                c if c.starts_with("FD") => Some(Ff),
                "RAMB18E1" => Some(Bram18),
                "RAMB36E1" => Some(Bram36),
                c if c.starts_with("RAM") && c.contains('M') => Some(LutRam),
                _ => None,
            },
            Family::Ice40 => match cell {
                "SB_LUT4" => Some(Lut),
                c if c.starts_with("SB_DFF") => Some(Ff),
                "SB_RAM40_4K" => Some(Bram4k),
                _ => None,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Lut,
    Ff,
    LutRam,
    Bram18,
    Bram36,
    Bram4k,
}

/// Resource counts after synthesis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub luts: u64,
    pub flip_flops: u64,
    pub lut_rams: u64,
    /// Block RAMs in units of the family's basic block (RAMB18 on 7-series, 4 Kib on iCE40).
    pub block_rams: u64,
}

impl Resources {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "luts": self.luts,
            "flip_flops": self.flip_flops,
            "lut_rams": self.lut_rams,
            "block_rams": self.block_rams,
        })
    }
}

#[derive(Debug)]
pub enum SynthError {
    Tool(ToolError),
    Io(std::io::Error),
    Yosys(String),
}

impl std::fmt::Display for SynthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SynthError::Tool(e) => write!(f, "{e}"),
            SynthError::Io(e) => write!(f, "synthesis I/O: {e}"),
            SynthError::Yosys(s) => write!(f, "yosys failed:\n{s}"),
        }
    }
}

/// Synthesize `module` for `family` and count what it uses.
pub fn synthesize(module: &VerilogModule, family: Family, dir: &Path) -> Result<Resources, SynthError> {
    require_tool("yosys").map_err(SynthError::Tool)?;
    std::fs::create_dir_all(dir).map_err(SynthError::Io)?;
    let file = dir.join(format!("{}.v", module.name));
    std::fs::write(&file, &module.source).map_err(SynthError::Io)?;
    let report = dir.join(format!("{}.{}.stat", module.name, family.name()));
    let script = format!(
        "read_verilog {}; {}; tee -q -o {} stat",
        file.display(),
        family.command(&module.name),
        report.display()
    );
    let out = Command::new("yosys").args(["-q", "-p", &script]).output().map_err(SynthError::Io)?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stdout).to_string();
        return Err(SynthError::Yosys(String::from_utf8_lossy(&out.stderr).to_string() + &tail(&log, 40)));
    }
    let stat = std::fs::read_to_string(&report).map_err(SynthError::Io)?;
    Ok(count_cells(&stat, family))
}

/// Structural check of `module`: elaborate it in Yosys (`hierarchy -check`, `proc`), flatten,
/// and fail on anything `check -assert` finds (combinational loops, multiple drivers, used
/// wires without a driver) or on what Rust-HDL's own `yosys_validate` rejects (inferred
/// latches, implicitly declared or undriven wires, modules defined twice). Rust-HDL's check
/// stops after `proc` and would not see a cell-level loop. Verilator's UNOPTFLAT ("circular
/// combinational logic") is *not* such a loop: it also fires when two always-blocks feed
/// each other without a cell-level cycle, as around Rust-HDL's FIFOs.
pub fn check(module: &VerilogModule, dir: &Path) -> Result<(), SynthError> {
    require_tool("yosys").map_err(SynthError::Tool)?;
    std::fs::create_dir_all(dir).map_err(SynthError::Io)?;
    let file = dir.join(format!("{}.v", module.name));
    std::fs::write(&file, &module.source).map_err(SynthError::Io)?;
    let script = format!(
        "read_verilog {}; hierarchy -check -top {}; proc; flatten; opt_clean; check -assert",
        file.display(),
        module.name
    );
    let out = Command::new("yosys").args(["-p", &script]).output().map_err(SynthError::Io)?;
    let log = String::from_utf8_lossy(&out.stdout).to_string();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let rejected =
        ["Latch inferred for", "is implicitly declared", "is used but has no driver", "Re-definition of module"];
    let findings: Vec<&str> = log.lines().filter(|l| rejected.iter().any(|r| l.contains(r))).collect();
    if !out.status.success() || !findings.is_empty() {
        return Err(SynthError::Yosys(format!("{err}{}\n{}", findings.join("\n"), tail(&log, 40))));
    }
    Ok(())
}

/// Sum the cell counts of the last `stat` report (the flattened top or, for a hierarchy, the
/// "design hierarchy" totals, which yosys prints last).
fn count_cells(log: &str, family: Family) -> Resources {
    let last_report = log.rsplit("Number of cells:").next().unwrap_or("");
    let mut r = Resources::default();
    for line in last_report.lines() {
        let mut parts = line.split_whitespace();
        let (Some(cell), Some(count), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(n) = count.parse::<u64>() else { continue };
        match family.classify(cell) {
            Some(Resource::Lut) => r.luts += n,
            Some(Resource::Ff) => r.flip_flops += n,
            Some(Resource::LutRam) => r.lut_rams += n,
            Some(Resource::Bram18) | Some(Resource::Bram4k) => r.block_rams += n,
            Some(Resource::Bram36) => r.block_rams += 2 * n,
            None => {}
        }
    }
    r
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_xilinx_cells_from_stat() {
        let log = "Number of cells: 9\n     FDRE 10\n     LUT2 3\n     LUT6 4\n     RAMB18E1 1\n     RAMB36E1 2\n     CARRY4 5\n";
        let r = count_cells(log, Family::Xilinx7);
        assert_eq!(r, Resources { luts: 7, flip_flops: 10, lut_rams: 0, block_rams: 5 });
    }
}
