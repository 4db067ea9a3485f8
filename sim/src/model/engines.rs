//! Building a NIC top on one of the two engines.
//!
//! * Rust-HDL: the gateware as written, stepped by Rust-HDL's own simulator. Always there;
//!   slow (thousands of clocks per second for a whole card).
//! * Verilator: the exported Verilog of the same top compiled into a shared library (cached
//!   after the first build, which takes seconds): hundreds of times faster. `tests/engine.rs` in
//!   `nic-hdl` proves the two agree on every port on every clock.
use super::Phy;
use nic_hdl::engine::vcd::VcdRecorder;
use nic_hdl::engine::verilated::{VerilatedCache, VerilatedLibrary};
use nic_hdl::engine::Engine;
use nic_hdl::top::nic::{NicGmiiEngine, NicGmiiTop, NicManchesterEngine, NicManchesterTop, NicMiiEngine, NicMiiTop};
use nic_hdl::verilog::export::export;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineChoice {
    /// Verilator when it is installed, else Rust-HDL.
    Auto,
    RustHdl,
    Verilator,
}

impl EngineChoice {
    pub fn parse(s: &str) -> Option<EngineChoice> {
        match s {
            "auto" => Some(EngineChoice::Auto),
            "rust-hdl" => Some(EngineChoice::RustHdl),
            "verilator" => Some(EngineChoice::Verilator),
            _ => None,
        }
    }

    /// What `Auto` becomes on this machine.
    pub fn resolve(self) -> EngineChoice {
        match self {
            EngineChoice::Auto if nic_hdl::verilog::tools::tool_available("verilator") => EngineChoice::Verilator,
            EngineChoice::Auto => EngineChoice::RustHdl,
            other => other,
        }
    }

    pub fn name(self) -> &'static str {
        match self.resolve() {
            EngineChoice::Verilator => "verilator",
            _ => "rust-hdl",
        }
    }
}

/// The exported module name of a PHY's NIC top.
pub fn module_name(phy: Phy) -> &'static str {
    match phy {
        Phy::Manchester => "nic_manchester",
        Phy::Gmii => "nic_gmii",
        Phy::Mii => "nic_mii",
    }
}

/// One Verilator build per PHY per process (the build itself is cached on disk).
fn verilated(phy: Phy) -> Result<Arc<VerilatedLibrary>, String> {
    static LIBS: OnceLock<Mutex<HashMap<&'static str, Arc<VerilatedLibrary>>>> = OnceLock::new();
    let mut libs = LIBS.get_or_init(Default::default).lock().map_err(|_| "engine cache poisoned".to_string())?;
    let name = module_name(phy);
    if let Some(l) = libs.get(name) {
        return Ok(l.clone());
    }
    let module = match phy {
        Phy::Manchester => export(name, &mut NicManchesterTop::default()),
        Phy::Gmii => export(name, &mut NicGmiiTop::default()),
        Phy::Mii => export(name, &mut NicMiiTop::default()),
    };
    let lib = VerilatedLibrary::build(&module, &VerilatedCache::default_location())
        .map_err(|e| format!("building the Verilator engine for {name}: {e}"))?;
    libs.insert(name, lib.clone());
    Ok(lib)
}

/// A fresh NIC top for `phy` on the chosen engine.
pub fn build(phy: Phy, choice: EngineChoice) -> Result<Box<dyn Engine>, String> {
    match choice.resolve() {
        EngineChoice::Verilator => Ok(Box::new(verilated(phy)?.instantiate())),
        _ => {
            let e: Box<dyn Engine> = match phy {
                Phy::Manchester => {
                    Box::new(NicManchesterEngine::new(NicManchesterTop::default()).map_err(|e| e.to_string())?)
                }
                Phy::Gmii => Box::new(NicGmiiEngine::new(NicGmiiTop::default()).map_err(|e| e.to_string())?),
                Phy::Mii => Box::new(NicMiiEngine::new(NicMiiTop::default()).map_err(|e| e.to_string())?),
            };
            Ok(e)
        }
    }
}

/// `engine` recording every port into a VCD file at `path`, one sample per clock edge of the
/// core clock and the PHY clocks, at most `limit` samples (`None`: all).
pub fn with_vcd(engine: Box<dyn Engine>, phy: Phy, path: &str, limit: Option<u64>) -> Result<Box<dyn Engine>, String> {
    let file = std::fs::File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
    let clocks: &[&str] = match phy {
        Phy::Manchester => &["clock"],
        Phy::Gmii => &["clock", "rx_clk"],
        Phy::Mii => &["clock", "rx_clk", "tx_clk"],
    };
    let rec = VcdRecorder::new(engine, std::io::BufWriter::new(file), clocks).map_err(|e| e.to_string())?;
    Ok(match limit {
        Some(n) => Box::new(rec.with_limit(n)),
        None => Box::new(rec),
    })
}
