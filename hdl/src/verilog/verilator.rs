//! A faster engine for long runs: the exported RX tops compiled by Verilator with a small
//! C++ harness (`fast_rx.cpp`) that steps them exactly as `top::drive` steps the Rust-HDL
//! simulation. Used where Rust-HDL is too slow (10,000-frame runs per configuration); a test
//! checks on the same stimulus that both engines deliver the same frames and counters.
use super::export::{export, VerilogModule};
use super::tools::{require_tool, ToolError};
use crate::model::pins::PinSample;
use crate::model::rx_reference::{station_bits, DeliveredFrame, MacConfig, Verdict};
use crate::top::drive::{RxRun, RxTopCounters, RESET_CYCLES};
use crate::top::rx_path::{RxGmiiTop, RxManchesterTop, RxMiiTop};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const HARNESS: &str = include_str!("fast_rx.cpp");

/// Which RX top to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxKind {
    Manchester,
    Gmii,
    Mii,
}

/// What to feed it.
pub enum Stimulus<'a> {
    /// One 8-sample word per core clock.
    Manchester { words: &'a [u64], tail: u64 },
    /// One pin sample per PHY clock; periods and the PHY clock's initial delay in ps.
    Pins { pins: &'a [PinSample], core_ps: f64, phy_ps: f64, phy_delay_ps: f64, tail: u64 },
}

#[derive(Debug)]
pub enum FastError {
    Tool(ToolError),
    Io(std::io::Error),
    Build(String),
    Run(String),
}

impl std::fmt::Display for FastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FastError::Tool(e) => write!(f, "{e}"),
            FastError::Io(e) => write!(f, "verilator engine I/O: {e}"),
            FastError::Build(s) => write!(f, "verilator build failed:\n{s}"),
            FastError::Run(s) => write!(f, "verilated model failed: {s}"),
        }
    }
}

impl From<std::io::Error> for FastError {
    fn from(e: std::io::Error) -> Self {
        FastError::Io(e)
    }
}

/// A compiled RX top. Its build directory is removed when it is dropped.
pub struct FastRx {
    kind: RxKind,
    exe: PathBuf,
    dir: PathBuf,
}

impl Drop for FastRx {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl FastRx {
    /// Export the top, verilate it with the harness and build it in `dir` (about a minute).
    pub fn build(kind: RxKind, dir: &Path) -> Result<FastRx, FastError> {
        require_tool("verilator").map_err(FastError::Tool)?;
        std::fs::create_dir_all(dir)?;
        let (module, pins, phy_events): (VerilogModule, bool, &str) = match kind {
            RxKind::Manchester => {
                (export("nic_rx_manchester", &mut RxManchesterTop::default()), false, "code_violations")
            }
            RxKind::Gmii => (export("nic_rx_gmii", &mut RxGmiiTop::default()), true, "cdc_overflows"),
            RxKind::Mii => (export("nic_rx_mii", &mut RxMiiTop::default()), true, "cdc_overflows"),
        };
        let v = dir.join(format!("{}.v", module.name));
        std::fs::write(&v, &module.source)?;
        let cpp = dir.join("fast_rx.cpp");
        std::fs::write(&cpp, HARNESS)?;
        let cflags = format!(
            "-O2 -DNIC_TOP=V{0} -DNIC_TOP_H='\"V{0}.h\"' -DNIC_PINS={1} -DNIC_PHY_EVENTS={2}",
            module.name, pins as u8, phy_events
        );
        let out = Command::new("verilator")
            .current_dir(dir)
            .args(["--cc", "--exe", "--build", "-O3", "-Wno-fatal", "-Wno-lint", "-Wno-style"])
            .args(["--x-assign", "0", "--x-initial", "0", "-j", "2"])
            .args(["--top-module", &module.name, "-CFLAGS", &cflags, "-o", "fast_rx"])
            .arg(&v)
            .arg(&cpp)
            .output()?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(30).collect();
            return Err(FastError::Build(tail.into_iter().rev().collect::<Vec<_>>().join("\n")));
        }
        Ok(FastRx { kind, exe: dir.join("obj_dir").join("fast_rx"), dir: dir.to_path_buf() })
    }

    /// Run `stim` through the top configured with `cfg`; `ready_period` makes the host's
    /// `out_ready` low one core cycle in that many (0: always ready).
    pub fn run(&self, cfg: &MacConfig, stim: &Stimulus, ready_period: u32) -> Result<RxRun, FastError> {
        let mut input = Vec::new();
        let fs = |ps: f64| ((ps * 1000.0 / 2.0).round() as u64).max(1);
        let (halves, records, tail): ([u64; 3], Vec<u8>, u64) = match (stim, self.kind) {
            (Stimulus::Manchester { words, tail }, RxKind::Manchester) => {
                ([1, 1, 0], words.iter().map(|&w| w as u8).collect(), *tail)
            }
            (Stimulus::Pins { pins, core_ps, phy_ps, phy_delay_ps, tail }, RxKind::Gmii | RxKind::Mii) => {
                let recs = pins.iter().flat_map(|p| [p.data, p.dv as u8 | (p.er as u8) << 1]).collect();
                ([fs(*core_ps), fs(*phy_ps), (phy_delay_ps * 1000.0).round() as u64], recs, *tail)
            }
            _ => return Err(FastError::Run(format!("stimulus does not fit a {:?} top", self.kind))),
        };
        for h in halves {
            input.extend_from_slice(&h.to_le_bytes());
        }
        input.extend_from_slice(&(RESET_CYCLES as u64).to_le_bytes());
        input.extend_from_slice(&cfg.max_len.to_le_bytes());
        input.extend_from_slice(&station_bits(&cfg.station).to_le_bytes());
        input.extend_from_slice(&cfg.mcast_hash.to_le_bytes());
        input.push(cfg.all_multicast as u8);
        input.push(cfg.promisc as u8);
        input.extend_from_slice(&ready_period.to_le_bytes());
        let n = (records.len() / if self.kind == RxKind::Manchester { 1 } else { 2 }) as u64;
        input.extend_from_slice(&n.to_le_bytes());
        input.extend_from_slice(&records);
        input.extend_from_slice(&tail.to_le_bytes());

        let mut child =
            Command::new(&self.exe).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        let mut stdin = child.stdin.take().ok_or_else(|| FastError::Run("no stdin".into()))?;
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output()?;
        writer.join().map_err(|_| FastError::Run("stimulus writer panicked".into()))??;
        if !out.status.success() {
            return Err(FastError::Run(String::from_utf8_lossy(&out.stderr).into()));
        }
        parse_output(&String::from_utf8_lossy(&out.stdout))
    }
}

fn parse_output(text: &str) -> Result<RxRun, FastError> {
    let bad = |l: &str| FastError::Run(format!("unreadable harness output line: {l}"));
    let mut run = RxRun::default();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("F") => {
                let verdict: u8 = f.next().and_then(|s| s.parse().ok()).ok_or_else(|| bad(line))?;
                let len: usize = f.next().and_then(|s| s.parse().ok()).ok_or_else(|| bad(line))?;
                let hex = f.next().unwrap_or("");
                let bytes: Option<Vec<u8>> =
                    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect();
                let bytes = bytes.filter(|b| b.len() == len).ok_or_else(|| bad(line))?;
                run.frames.push(DeliveredFrame { bytes, verdict: Verdict::from_code(verdict) });
            }
            Some("C") => {
                let v: Vec<u32> = f.filter_map(|s| s.parse().ok()).collect();
                let [frames_ok, fcs_errors, runts, giants, phy_errors, bad_preamble, filtered, fifo_overflows, phy_events] =
                    v[..]
                else {
                    return Err(bad(line));
                };
                run.counters = RxTopCounters {
                    frames_ok,
                    fcs_errors,
                    runts,
                    giants,
                    phy_errors,
                    bad_preamble,
                    filtered,
                    fifo_overflows,
                    phy_events,
                };
            }
            Some("Y") => run.core_cycles = f.next().and_then(|s| s.parse().ok()).ok_or_else(|| bad(line))?,
            Some("E") => run.protocol_errors.push(line[2..].to_string()),
            _ => return Err(bad(line)),
        }
    }
    Ok(run)
}
