use super::*;
use serde_json::json;

const W4: &str = "00000000000000000000000000000100";
const W36: &str = "00000000000000000000000000100100";

/// A module with one DP16KD of read width `width` on clock net 2 whose DOB0..3 (and DOA0..3
/// in the 36-bit mode) feed one flip-flop each (`DI` 10.., `Q` 30..), clock-enabled by `ce`.
fn netlist(width: &str, ce: Value) -> Value {
    let pdp = width == W36;
    let mut ram_conn = serde_json::Map::new();
    let mut dirs = serde_json::Map::new();
    for (p, v) in [("CLKA", json!([2])), ("CLKB", json!([2])), ("RSTA", json!(["0"])), ("RSTB", json!(["0"]))] {
        ram_conn.insert(p.into(), v);
        dirs.insert(p.into(), json!("input"));
    }
    for p in ["OCEA", "OCEB"] {
        ram_conn.insert(p.into(), json!(["1"]));
        dirs.insert(p.into(), json!("input"));
    }
    let mut cells = serde_json::Map::new();
    let mut outs: Vec<String> = (0..4).map(|i| format!("DOB{i}")).collect();
    if pdp {
        outs.extend((0..4).map(|i| format!("DOA{i}")));
    }
    for (k, port) in outs.iter().enumerate() {
        ram_conn.insert(port.clone(), json!([10 + k]));
        dirs.insert(port.clone(), json!("output"));
        cells.insert(
            format!("ff{k}"),
            json!({
                "type": "TRELLIS_FF",
                "parameters": {"CEMUX": if ce == json!("1") { "1 " } else { "CE" }, "CLKMUX": "CLK",
                               "GSR": "DISABLED", "LSRMUX": "LSR", "REGSET": "RESET"},
                "port_directions": {"CLK": "input", "CE": "input", "DI": "input", "LSR": "input", "Q": "output"},
                "connections": {"CLK": [2], "CE": [ce.clone()], "DI": [10 + k], "LSR": ["0"], "Q": [30 + k]},
            }),
        );
    }
    // An output bit nothing reads.
    ram_conn.insert("DOB17".into(), json!([50]));
    dirs.insert("DOB17".into(), json!("output"));
    cells.insert(
        "ram".into(),
        json!({
            "type": "DP16KD",
            "parameters": {"CLKBMUX": "CLKB", "DATA_WIDTH_B": width, "REGMODE_A": "NOREG", "REGMODE_B": "NOREG"},
            "port_directions": dirs,
            "connections": ram_conn,
        }),
    );
    json!({"ports": {}, "cells": cells, "netnames": {}})
}

#[test]
fn a_read_register_moves_into_the_ram_with_its_enable() {
    let mut m = netlist(W4, json!(7));
    assert_eq!(absorb(&mut m), 4);
    let ram = &m["cells"]["ram"];
    assert_eq!(ram["parameters"]["REGMODE_B"], "OUTREG");
    assert_eq!(ram["parameters"]["REGMODE_A"], "NOREG");
    assert_eq!(ram["connections"]["OCEB"], json!([7]));
    for k in 0..4 {
        assert_eq!(ram["connections"][format!("DOB{k}")], json!([30 + k]), "the RAM drives the register's output");
        assert!(m["cells"].get(format!("ff{k}")).is_none(), "ff{k} removed");
    }
    assert_eq!(ram["connections"]["DOB17"], json!([50]));
}

#[test]
fn the_36_bit_mode_takes_only_always_enabled_registers_on_both_halves() {
    let mut m = netlist(W36, json!("1"));
    assert_eq!(absorb(&mut m), 8);
    let ram = &m["cells"]["ram"];
    assert_eq!(
        (ram["parameters"]["REGMODE_A"].clone(), ram["parameters"]["REGMODE_B"].clone()),
        (json!("OUTREG"), json!("OUTREG"))
    );
    assert_eq!((ram["connections"]["OCEA"].clone(), ram["connections"]["OCEB"].clone()), (json!(["1"]), json!(["1"])));
    assert_eq!(ram["connections"]["DOA3"], json!([37]));

    let mut m = netlist(W36, json!(7));
    assert_eq!(absorb(&mut m), 0, "an enabled register is not taken in the 36-bit mode");
}

#[test]
fn nothing_moves_unless_every_used_bit_qualifies() {
    let untouched = |mut m: Value, why: &str| {
        let before = m.clone();
        assert_eq!(absorb(&mut m), 0, "{why}");
        assert_eq!(m, before, "{why}: the netlist is unchanged");
    };
    let mut m = netlist(W4, json!(7));
    m["cells"]["ff2"]["connections"]["CE"] = json!([8]);
    untouched(m, "two different enables");
    let mut m = netlist(W4, json!(7));
    m["cells"]["ff1"]["connections"]["CLK"] = json!([3]);
    untouched(m, "a register on another clock");
    let mut m = netlist(W4, json!(7));
    m["cells"]["ff0"]["connections"]["LSR"] = json!([9]);
    untouched(m, "a register with a reset");
    let mut m = netlist(W4, json!(7));
    m["cells"]["ff3"]["parameters"]["CLKMUX"] = json!("INV");
    untouched(m, "a register on the falling edge");
    let mut m = netlist(W4, json!(7));
    m["cells"]["ram"]["connections"]["RSTB"] = json!([9]);
    untouched(m, "a RAM with a read reset");
    let mut m = netlist(W4, json!(7));
    m["cells"].as_object_mut().unwrap().insert(
        "lut".into(),
        json!({"type": "LUT4", "parameters": {}, "port_directions": {"A": "input", "Z": "output"},
               "connections": {"A": [11], "Z": [60]}}),
    );
    untouched(m, "an output bit with a second load");
}
