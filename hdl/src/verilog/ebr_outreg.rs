//! Moves the flip-flop after a block RAM's read port into the RAM's own output register,
//! on the ECP5 netlist Yosys writes, before nextpnr places it.
//!
//! # Why
//! An ECP5 EBR (`DP16KD`) read without its output register has 5.6–5.8 ns of clock-to-out
//! at speed 6, so a read into the nearest fabric flip-flop takes about 8 ns: the card's core
//! clock could not pass about 127 MHz, whatever the logic. With the output register
//! (`REGMODE_x = "OUTREG"`) the EBR's clock-to-out is that of a register. Vendor synthesis
//! (Lattice's, Xilinx's) absorbs a register placed right after a block RAM's read into the
//! RAM; Yosys 0.70 maps every EBR with `REGMODE = "NOREG"`. This pass does the absorption.
//!
//! # The rule
//! A `DP16KD`'s read port (DOB; DOA and DOB together in the 36-bit pseudo-dual-port mode)
//! gets its output register when every output bit that is used drives exactly one load, the
//! `DI` of a `TRELLIS_FF` that
//! * is clocked, not inverted, by the RAM's read clock (`CLKB`, which Yosys also gives the
//!   write port in a 36-bit RAM: the pass requires `CLKA = CLKB` there),
//! * has no set or reset (`LSR` tied to 0) and resets to 0 at configuration (`REGSET =
//!   "RESET"`, as the EBR's output register),
//! * and whose clock enable is the same for all of them: the output register's `OCE` takes
//!   it. In the 36-bit mode only an always-enabled register is taken, and both `OCEA` and
//!   `OCEB` are tied to 1 (what nextpnr makes of Lattice's own `PDPW16KD` with
//!   `REGMODE = "OUTREG"`), so which enable the DOA half uses does not matter.
//! The RAM's read reset must be tied to 0. The flip-flops are removed and the RAM drives
//! their outputs: the same register, moved into the block RAM, clock for clock.
use serde_json::Value;
use std::collections::HashMap;

/// A net bit of Yosys' JSON netlist: a number, or a constant "0"/"1"/"x"/"z".
fn bit(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn is_const(v: &Value, c: &str) -> bool {
    v.as_str() == Some(c)
}

/// A string parameter as Yosys writes it (a trailing space marks a string that looks binary).
fn param_str<'a>(cell: &'a Value, name: &str) -> &'a str {
    cell["parameters"][name].as_str().map(|s| s.trim_end()).unwrap_or("")
}

fn param_int(cell: &Value, name: &str) -> Option<u64> {
    u64::from_str_radix(cell["parameters"][name].as_str()?.trim_end(), 2).ok()
}

fn conn<'a>(cell: &'a Value, port: &str) -> Option<&'a Value> {
    cell["connections"][port].as_array().and_then(|a| a.first())
}

/// The flip-flop's clock enable: `None` if always enabled, the net bit otherwise; `Err` if
/// it is one the pass does not take (inverted).
fn ff_enable(ff: &Value) -> Result<Option<Value>, ()> {
    match param_str(ff, "CEMUX") {
        "1" => Ok(None),
        "CE" | "" => match conn(ff, "CE") {
            None => Ok(None),
            Some(v) if is_const(v, "1") => Ok(None),
            Some(v) => Ok(Some(v.clone())),
        },
        _ => Err(()),
    }
}

/// Absorbs output registers into every `DP16KD` of `module` that the rule allows; returns the
/// number of flip-flops moved into block RAMs.
pub fn absorb(module: &mut Value) -> usize {
    // Every input-port load of each net bit, and the bits the module's own ports use.
    let mut loads: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    let cells = module["cells"].as_object().cloned().unwrap_or_default();
    for (name, c) in &cells {
        let dirs = &c["port_directions"];
        for (port, bits) in c["connections"].as_object().into_iter().flatten() {
            if dirs[port].as_str() == Some("input") {
                for b in bits.as_array().into_iter().flatten().filter_map(bit) {
                    loads.entry(b).or_default().push((name.clone(), port.clone()));
                }
            }
        }
    }
    for p in module["ports"].as_object().into_iter().flatten().map(|(_, p)| p) {
        for b in p["bits"].as_array().into_iter().flatten().filter_map(bit) {
            loads.entry(b).or_default().push((String::new(), "port".into()));
        }
    }

    let mut moved = 0;
    for (name, ram) in &cells {
        if ram["type"].as_str() != Some("DP16KD") || param_str(ram, "CLKBMUX") != "CLKB" {
            continue;
        }
        let pdp = param_int(ram, "DATA_WIDTH_B") == Some(36);
        let Some(clk) = conn(ram, "CLKB").and_then(bit) else { continue };
        if pdp && conn(ram, "CLKA").and_then(bit) != Some(clk) {
            continue;
        }
        let resets_tied = ["RSTB"].iter().chain(if pdp { ["RSTA"].iter() } else { [].iter() });
        if !resets_tied.clone().all(|p| conn(ram, p).is_some_and(|v| is_const(v, "0"))) {
            continue;
        }
        let outs: Vec<String> =
            (0..18).map(|i| format!("DOB{i}")).chain((0..18).filter(|_| pdp).map(|i| format!("DOA{i}"))).collect();
        // (output port, flip-flop) for every used output bit, if all qualify.
        let mut take: Vec<(String, String)> = Vec::new();
        let mut enable: Option<Option<Value>> = None;
        let mut ok = true;
        for port in &outs {
            let Some(b) = conn(ram, port).and_then(bit) else { continue };
            let l = loads.get(&b).map(Vec::as_slice).unwrap_or(&[]);
            if l.is_empty() {
                continue;
            }
            let [(ff_name, ff_port)] = l else {
                ok = false;
                break;
            };
            let ff = &cells[ff_name.as_str()];
            let en = ff_enable(ff);
            let fits = ff_port == "DI"
                && ff["type"].as_str() == Some("TRELLIS_FF")
                && param_str(ff, "CLKMUX") == "CLK"
                && conn(ff, "CLK").and_then(bit) == Some(clk)
                && param_str(ff, "REGSET") != "SET"
                && conn(ff, "LSR").is_none_or(|v| is_const(v, "0"))
                && en.is_ok();
            let en = en.unwrap_or(None);
            if !fits || (pdp && en.is_some()) || enable.as_ref().is_some_and(|e| *e != en) {
                ok = false;
                break;
            }
            enable = Some(en);
            take.push((port.clone(), ff_name.clone()));
        }
        if !ok || take.is_empty() {
            continue;
        }
        let one = Value::Array(vec![Value::String("1".into())]);
        let oce = match enable.flatten() {
            None => one.clone(),
            Some(net) => Value::Array(vec![net]),
        };
        let c = &mut module["cells"][name.as_str()];
        c["parameters"]["REGMODE_B"] = Value::String("OUTREG".into());
        c["connections"]["OCEB"] = oce;
        if pdp {
            c["parameters"]["REGMODE_A"] = Value::String("OUTREG".into());
            c["connections"]["OCEA"] = one;
        }
        for (port, ff_name) in &take {
            let q = cells[ff_name.as_str()]["connections"]["Q"].clone();
            module["cells"][name.as_str()]["connections"][port.as_str()] = q;
            module["cells"].as_object_mut().expect("cells").remove(ff_name);
        }
        moved += take.len();
    }
    moved
}

#[cfg(test)]
mod tests;
