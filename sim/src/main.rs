//! `nic`: the front door.
//!
//!   nic demo [--phy gmii|mii|manchester] [--frames N] [--seed S] [--ppm P] [--jitter UI]
//!            [--ber X] [--max-len BYTES] [--pcap FILE]
use nic_sim::demo::{self, DemoOptions, Phy};
use std::process::ExitCode;

const USAGE: &str = "usage: nic demo [--phy gmii|mii|manchester] [--frames N] [--seed S] [--ppm P] [--jitter UI] [--ber X] [--max-len BYTES] [--pcap FILE]";

fn parse_demo(args: &[String]) -> Result<DemoOptions, String> {
    let mut o = DemoOptions::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|_| format!("{flag}: `{v}` is not a number"));
        match flag.as_str() {
            "--phy" => {
                let v = value()?;
                o.phy = Phy::parse(&v).ok_or_else(|| format!("--phy: `{v}` is not gmii, mii or manchester"))?;
            }
            "--frames" => o.frames = num(value()?)? as usize,
            "--seed" => o.seed = num(value()?)? as u64,
            "--ppm" => o.ppm = num(value()?)?,
            "--jitter" => o.jitter_ui = num(value()?)?,
            "--ber" => o.ber = num(value()?)?,
            "--max-len" => o.max_len = num(value()?)? as usize,
            "--pcap" => o.pcap = value()?,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if !(1..=100_000).contains(&o.frames) {
        return Err("--frames must be 1 to 100000".into());
    }
    if !(0.0..=0.01).contains(&o.ber) || !(0.0..=0.13).contains(&o.jitter_ui) || o.ppm.abs() > 500.0 {
        return Err("impairments out of range: --ber 0..0.01, --jitter 0..0.13 UI, --ppm -500..500".into());
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => match parse_demo(&args[1..]) {
            Ok(opts) => match demo::run(&opts) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("nic demo: FAILED: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("nic demo: {e}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
