//! Finding the external EDA tools (Verilator, Yosys, Icarus Verilog; yowasp's Yosys and
//! nextpnr-ecp5 for place and route).
use std::process::Command;

#[derive(Debug)]
pub struct ToolError(pub String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to install each tool, for the error message.
fn install_hint(tool: &str) -> String {
    match tool {
        "iverilog" | "vvp" => "`apt-get install iverilog`".into(),
        // The open FPGA flow as WebAssembly builds from PyPI: the same on every machine.
        t if t.starts_with("yowasp-") => format!("`pip install {t}`"),
        other => format!("`apt-get install {other}`"),
    }
}

pub fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg(if tool == "iverilog" { "-V" } else { "--version" })
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty())
        .unwrap_or(false)
}

pub fn require_tool(tool: &str) -> Result<(), ToolError> {
    if tool_available(tool) {
        Ok(())
    } else {
        Err(ToolError(format!(
            "`{tool}` not found: install it with {} (tests/run does this when run as root)",
            install_hint(tool)
        )))
    }
}

/// For tests that need a tool: `true` means run. A missing tool skips the test with a message,
/// unless `NIC_REQUIRE_TOOLS=1` (set by CI), where it fails.
pub fn tool_for_test(tool: &str) -> bool {
    match require_tool(tool) {
        Ok(()) => true,
        Err(e) if std::env::var("NIC_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("{e} (NIC_REQUIRE_TOOLS=1)")
        }
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            false
        }
    }
}
