//! Proving that the generated Verilog behaves like the Rust-HDL simulation.
//!
//! A test drives a block in Rust-HDL as usual and calls [`VectorRecorder::record`] after each
//! settle. The recorder reads every top-level port (clocks included) through Rust-HDL's probe
//! interface. [`replay`] then writes a plain-Verilog testbench that applies the recorded inputs
//! step by step to the exported module in a Verilog simulator (Icarus Verilog) and compares
//! every output, every step, with what Rust-HDL produced. Clocks are ordinary inputs here, so
//! blocks with several clock domains replay exactly as they were simulated.
use super::export::{Direction, VerilogModule};
use super::tools::{require_tool, ToolError};
use rust_hdl::prelude::*;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// The values of a module's ports, one row per recorded step, in the module's port order.
pub struct VectorRecorder {
    port_names: Vec<String>,
    rows: Vec<Vec<String>>,
}

struct TopLevelValues {
    depth: usize,
    values: HashMap<String, String>,
}

impl Probe for TopLevelValues {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if self.depth == 1 && signal.kind().is_parameter() {
            self.values.insert(name.to_string(), vcd_to_hex(&signal.vcd()));
        }
    }
}

/// Hex digits of a value, most significant first, as Verilog's `%h` prints them.
fn vcd_to_hex(v: &VCDValue) -> String {
    let bits: Vec<bool> = match v {
        VCDValue::Single(b) => vec![*b == vcd::Value::V1],
        VCDValue::Vector(bs) => bs.iter().map(|b| *b == vcd::Value::V1).collect(),
        // Enums and composites never appear as ports of our tops.
        VCDValue::String(_) | VCDValue::Composite(_) => vec![false],
    };
    let pad = (4 - bits.len() % 4) % 4;
    let padded: Vec<bool> = std::iter::repeat(false).take(pad).chain(bits).collect();
    padded
        .chunks(4)
        .map(|nib| {
            let n = nib.iter().fold(0u32, |acc, &b| (acc << 1) | b as u32);
            char::from_digit(n, 16).unwrap_or('0')
        })
        .collect()
}

struct PathValue<'a> {
    scopes: Vec<String>,
    path: &'a str,
    found: Option<String>,
}

impl Probe for PathValue<'_> {
    fn visit_start_scope(&mut self, name: &str, _node: &dyn Block) {
        self.scopes.push(name.to_string());
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.scopes.pop();
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        // The outermost scope is the block itself; the rest are its sub-blocks' field names.
        let mut full: Vec<&str> = self.scopes.iter().skip(1).map(String::as_str).collect();
        full.push(name);
        if full.join("$") == self.path {
            self.found = Some(vcd_to_hex(&signal.vcd()));
        }
    }
}

/// The current value, as hex digits, of any signal inside `uut`, named by its path as in the
/// Verilog (`mac$frames_ok` is the `frames_ok` of sub-block `mac`): for tests that must see
/// a sub-block's signal the top does not export. `None` if there is no such signal.
pub fn signal_hex<B: Block>(uut: &B, path: &str) -> Option<String> {
    let mut probe = PathValue { scopes: Vec::new(), path, found: None };
    uut.accept("uut", &mut probe);
    probe.found
}

impl VectorRecorder {
    pub fn new(module: &VerilogModule) -> Self {
        Self { port_names: module.ports.iter().map(|p| p.name.clone()).collect(), rows: Vec::new() }
    }

    /// Record the current value of every port. Call after the inputs are set and settled.
    pub fn record<B: Block>(&mut self, uut: &B) {
        let mut probe = TopLevelValues { depth: 0, values: HashMap::new() };
        uut.accept("uut", &mut probe);
        let row = self.port_names.iter().map(|n| probe.values.get(n).cloned().unwrap_or_else(|| "0".into())).collect();
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Where the Verilog simulation disagreed with Rust-HDL.
#[derive(Debug)]
pub enum ReplayError {
    Tool(ToolError),
    Io(std::io::Error),
    Simulator(String),
    Mismatch { step: usize, port: String, rust_hdl: String, verilog: String },
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Tool(e) => write!(f, "{e}"),
            ReplayError::Io(e) => write!(f, "replay I/O: {e}"),
            ReplayError::Simulator(s) => write!(f, "Verilog simulator failed: {s}"),
            ReplayError::Mismatch { step, port, rust_hdl, verilog } => {
                write!(f, "step {step}: output `{port}` is {verilog} in Verilog but {rust_hdl} in Rust-HDL")
            }
        }
    }
}

impl From<std::io::Error> for ReplayError {
    fn from(e: std::io::Error) -> Self {
        ReplayError::Io(e)
    }
}

/// An output that only means something while another output is high, as a stream's data
/// while its `valid` is low. Compared only then: a RAM the design never wrote reads as zero
/// in Rust-HDL but as `x` in Verilog (and as anything on a board).
pub struct Qualified<'a> {
    pub output: &'a str,
    pub when: &'a str,
}

/// Replay the recorded inputs on `module` with Icarus Verilog and compare every output at
/// every step (the `qualified` ones only while their qualifier is high in Rust-HDL).
/// Returns the number of steps compared.
pub fn replay(
    module: &VerilogModule,
    rec: &VectorRecorder,
    workdir: &Path,
    qualified: &[Qualified],
) -> Result<usize, ReplayError> {
    require_tool("iverilog").map_err(ReplayError::Tool)?;
    std::fs::create_dir_all(workdir)?;
    let inputs: Vec<usize> = index_of(module, Direction::Input);
    let outputs: Vec<usize> = index_of(module, Direction::Output);

    let mut stim = String::with_capacity(rec.rows.len() * 16);
    for row in &rec.rows {
        let fields: Vec<&str> = inputs.iter().map(|&i| row[i].as_str()).collect();
        stim.push_str(&fields.join(" "));
        stim.push('\n');
    }
    std::fs::write(workdir.join("stimulus.hex"), stim)?;
    std::fs::write(workdir.join(format!("{}.v", module.name)), &module.source)?;
    std::fs::write(workdir.join("tb.v"), testbench(module, &inputs, &outputs))?;

    let sim = workdir.join("tb.vvp");
    let out = Command::new("iverilog")
        .args(["-g2012", "-o"])
        .arg(&sim)
        .arg(workdir.join("tb.v"))
        .arg(workdir.join(format!("{}.v", module.name)))
        .output()?;
    if !out.status.success() {
        return Err(ReplayError::Simulator(String::from_utf8_lossy(&out.stderr).into()));
    }
    let out = Command::new("vvp").arg("-n").arg(&sim).current_dir(workdir).output()?;
    if !out.status.success() {
        return Err(ReplayError::Simulator(String::from_utf8_lossy(&out.stderr).into()));
    }
    let port_index = |name: &str| module.ports.iter().position(|p| p.name == name);
    let mut qualifier_of = vec![None; module.ports.len()];
    for q in qualified {
        match (port_index(q.output), port_index(q.when)) {
            (Some(o), Some(w)) => qualifier_of[o] = Some(w),
            _ => {
                return Err(ReplayError::Simulator(format!(
                    "{}: no port `{}` or `{}` to qualify",
                    module.name, q.output, q.when
                )))
            }
        }
    }
    let result = std::fs::read_to_string(workdir.join("response.hex"))?;
    let mut steps = 0;
    for (step, (line, row)) in result.lines().zip(&rec.rows).enumerate() {
        for (field, &i) in line.split_whitespace().zip(&outputs) {
            let meaningful = qualifier_of[i].map_or(true, |w| row[w].trim_start_matches('0') != "");
            if meaningful && !same_hex(field, &row[i]) {
                return Err(ReplayError::Mismatch {
                    step,
                    port: module.ports[i].name.clone(),
                    rust_hdl: row[i].clone(),
                    verilog: field.to_string(),
                });
            }
        }
        steps += 1;
    }
    if steps != rec.rows.len() {
        return Err(ReplayError::Simulator(format!("the Verilog run produced {steps} steps of {}", rec.rows.len())));
    }
    Ok(steps)
}

fn index_of(module: &VerilogModule, dir: Direction) -> Vec<usize> {
    (0..module.ports.len()).filter(|&i| module.ports[i].direction == dir).collect()
}

/// Compare hex numbers regardless of leading zeros; any x or z in Verilog is a mismatch.
fn same_hex(verilog: &str, rust: &str) -> bool {
    if verilog.chars().any(|c| !c.is_ascii_hexdigit()) {
        return false;
    }
    verilog.trim_start_matches('0') == rust.trim_start_matches('0')
}

fn testbench(module: &VerilogModule, inputs: &[usize], outputs: &[usize]) -> String {
    let mut tb = String::new();
    let _ = writeln!(tb, "`timescale 1ns/1ps\nmodule tb;");
    for p in &module.ports {
        let kind = if p.direction == Direction::Input { "reg" } else { "wire" };
        let _ = writeln!(tb, "  {kind} [{}:0] {};", p.width - 1, p.name);
    }
    let conns: Vec<String> = module.ports.iter().map(|p| format!(".{0}({0})", p.name)).collect();
    let _ = writeln!(tb, "  {} dut({});", module.name, conns.join(", "));
    let fmt_in = vec!["%h"; inputs.len()].join(" ");
    let fmt_out = vec!["%h"; outputs.len()].join(" ");
    let in_names: Vec<&str> = inputs.iter().map(|&i| module.ports[i].name.as_str()).collect();
    let out_names: Vec<&str> = outputs.iter().map(|&i| module.ports[i].name.as_str()).collect();
    let _ = writeln!(
        tb,
        "  integer fi, fo, n;\n  initial begin\n    fi = $fopen(\"stimulus.hex\", \"r\");\n    fo = $fopen(\"response.hex\", \"w\");\n    n = $fscanf(fi, \"{fmt_in}\\n\", {ins});\n    while (n == {count}) begin\n      #1;\n      $fwrite(fo, \"{fmt_out}\\n\", {outs});\n      n = $fscanf(fi, \"{fmt_in}\\n\", {ins});\n    end\n    $fclose(fo);\n    $finish;\n  end\nendmodule",
        ins = in_names.join(", "),
        outs = out_names.join(", "),
        count = inputs.len(),
    );
    tb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_vectors_is_msb_first() {
        let v = VCDValue::Vector(vec![vcd::Value::V1, vcd::Value::V0, vcd::Value::V1, vcd::Value::V1, vcd::Value::V0]);
        assert_eq!(vcd_to_hex(&v), "16");
        assert_eq!(vcd_to_hex(&VCDValue::Single(vcd::Value::V1)), "1");
        assert!(same_hex("0016", "16"));
        assert!(!same_hex("001x", "10"));
    }
}
