//! `nic-hdl`: export the gateware's tops as Verilog, lint them, and report resources.
//!
//!   nic-hdl export --out DIR     one .v file per top, plus the lint waiver file nic.vlt
//!   nic-hdl lint                 verilator --lint-only -Wall on every top
//!   nic-hdl synth [--family xilinx7|ice40] [--work DIR]
//!                                Yosys synthesis; prints {top: {family: {luts, ...}}} as JSON
//!   nic-hdl pnr [--device ecp5-25k|ecp5-85k] [--speed 6|7|8] [--top NAME] [--seed N] [--work DIR]
//!                                Yosys + nextpnr-ecp5 (yowasp); one JSON object per top:
//!                                fmax_mhz per clock, luts, ffs, ebr, worst_path per clock;
//!                                NAME may also be one of the card's blocks (rx_dma, csr, ...)
use nic_hdl::top;
use nic_hdl::verilog::{lint, pnr, synth};
use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: nic-hdl export --out DIR | nic-hdl lint | nic-hdl synth [--family xilinx7|ice40] [--work DIR]\n       \
         nic-hdl pnr [--device ecp5-25k|ecp5-85k] [--speed 6|7|8] [--top NAME] [--seed N] [--work DIR]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let work = flag("--work")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("nic-hdl-{}", std::process::id())));
    match args.first().map(String::as_str) {
        Some("export") => {
            let Some(out) = flag("--out") else { return usage() };
            let out = PathBuf::from(out);
            if let Err(e) = std::fs::create_dir_all(&out) {
                eprintln!("nic-hdl: cannot create {}: {e}", out.display());
                return ExitCode::FAILURE;
            }
            for m in top::all() {
                let path = out.join(format!("{}.v", m.name));
                if let Err(e) = std::fs::write(&path, &m.source) {
                    eprintln!("nic-hdl: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("{}  ({} ports)", path.display(), m.ports.len());
            }
            let vlt = out.join("nic.vlt");
            if let Err(e) = std::fs::write(&vlt, lint::WAIVERS) {
                eprintln!("nic-hdl: cannot write {}: {e}", vlt.display());
                return ExitCode::FAILURE;
            }
            println!("{}  (Verilator waivers, one reason each)", vlt.display());
            ExitCode::SUCCESS
        }
        Some("lint") => {
            let mut ok = true;
            for m in top::all() {
                match lint::lint(&m, &work) {
                    Ok(()) => println!("{}: lint clean", m.name),
                    Err(e) => {
                        ok = false;
                        eprintln!("{}: {e}", m.name)
                    }
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Some("synth") => {
            let families: Vec<synth::Family> = match flag("--family").as_deref() {
                None => synth::Family::ALL.to_vec(),
                Some(f) => match synth::Family::ALL.iter().find(|x| x.name() == f) {
                    Some(x) => vec![*x],
                    None => return usage(),
                },
            };
            let mut report = serde_json::Map::new();
            for m in top::all() {
                let mut per_family = serde_json::Map::new();
                for &family in &families {
                    match synth::synthesize(&m, family, &work) {
                        Ok(r) => {
                            per_family.insert(family.name().into(), r.to_json());
                        }
                        Err(e) => {
                            eprintln!("{} ({}): {e}", m.name, family.name());
                            return ExitCode::FAILURE;
                        }
                    }
                }
                report.insert(m.name.clone(), per_family.into());
            }
            println!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(report)).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Some("pnr") => match pnr_options(&args[1..]) {
            Ok((options, top)) => run_pnr(&options, top.as_deref(), &work),
            Err(e) => {
                eprintln!("nic-hdl pnr: {e}");
                usage()
            }
        },
        _ => usage(),
    }
}

/// `pnr`'s flags; every one checked, an unknown one refused.
fn pnr_options(args: &[String]) -> Result<(pnr::PnrOptions, Option<String>), String> {
    let mut o = pnr::PnrOptions::default();
    let mut top = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--device" => {
                let v = value()?;
                o.device =
                    pnr::Ecp5Device::parse(&v).ok_or_else(|| format!("--device: `{v}` is not ecp5-25k or ecp5-85k"))?;
            }
            "--speed" => {
                let v = value()?;
                o.speed = v
                    .parse()
                    .ok()
                    .filter(|s| (6..=8).contains(s))
                    .ok_or_else(|| format!("--speed: `{v}` is not 6, 7 or 8"))?;
            }
            "--seed" => {
                let v = value()?;
                o.seed = v.parse().map_err(|_| format!("--seed: `{v}` is not a whole number"))?;
            }
            "--top" => top = Some(value()?),
            "--work" => {
                value()?;
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok((o, top))
}

fn run_pnr(o: &pnr::PnrOptions, only: Option<&str>, work: &std::path::Path) -> ExitCode {
    let tops: Vec<_> = match only {
        None => top::all(),
        Some(name) => top::by_name(name).into_iter().collect(),
    };
    if tops.is_empty() {
        let names = |v: Vec<nic_hdl::verilog::export::VerilogModule>| -> String {
            v.into_iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
        };
        eprintln!(
            "nic-hdl pnr: no top `{}`; the tops are {}; the blocks are {}",
            only.unwrap_or(""),
            names(top::all()),
            names(top::blocks())
        );
        return ExitCode::from(2);
    }
    for m in tops {
        match pnr::place_and_route(&m, o, &work.join("pnr")) {
            Ok(r) => println!("{}", r.to_json()),
            Err(e) => {
                eprintln!("nic-hdl pnr: {}: {e}", m.name);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
