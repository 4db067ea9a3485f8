//! `verilator --lint-only -Wall` over an exported module, with the waivers in `hdl/nic.vlt`.
use super::export::VerilogModule;
use super::tools::{require_tool, ToolError};
use std::path::Path;
use std::process::Command;

/// The waiver file, shipped next to every export so users lint exactly as CI does.
pub const WAIVERS: &str = include_str!("../../nic.vlt");

#[derive(Debug)]
pub enum LintError {
    Tool(ToolError),
    Io(std::io::Error),
    Warnings(String),
}

impl std::fmt::Display for LintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LintError::Tool(e) => write!(f, "{e}"),
            LintError::Io(e) => write!(f, "lint I/O: {e}"),
            LintError::Warnings(w) => write!(f, "verilator lint failed:\n{w}"),
        }
    }
}

/// Lint `module` (written to `dir`). Ok means verilator printed nothing and exited 0.
pub fn lint(module: &VerilogModule, dir: &Path) -> Result<(), LintError> {
    require_tool("verilator").map_err(LintError::Tool)?;
    std::fs::create_dir_all(dir).map_err(LintError::Io)?;
    let vlt = dir.join("nic.vlt");
    std::fs::write(&vlt, WAIVERS).map_err(LintError::Io)?;
    let file = dir.join(format!("{}.v", module.name));
    std::fs::write(&file, &module.source).map_err(LintError::Io)?;
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", &module.name])
        .arg(&vlt)
        .arg(&file)
        .output()
        .map_err(LintError::Io)?;
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    if out.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(LintError::Warnings(text))
    }
}
