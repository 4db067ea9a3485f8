//! `nic`: the front door.
//!
//!   nic demo ...                                       (see `nic_sim::demo::USAGE`)
//!   nic line [--phy gmii|mii|manchester] [--frames N] [--seed S] [--ppm P] [--jitter UI]
//!            [--ber X] [--max-len BYTES] [--pcap FILE]
//!   nic tap --tap NAME --ip A.B.C.D/N [...]           (see `nic_sim::cmd_tap::USAGE`)
//!   nic host --device sim|vfio:ADDR --ip A.B.C.D/N [...] (see `nic_sim::cmd_host::USAGE`)
//!   nic replay --in IN.pcap --out OUT.pcap [...]      (see `nic_sim::replay::USAGE`)
//!   nic bench linerate [--frames N] [--engine auto|rust-hdl|verilator]
use nic_sim::line_demo::{self, DemoOptions};
use nic_sim::model::engines::EngineChoice;
use nic_sim::model::Phy;
use nic_sim::{bench, replay};
use std::process::ExitCode;

const LINE_USAGE: &str = "usage: nic line [--phy gmii|mii|manchester] [--frames N] [--seed S] [--ppm P] [--jitter UI] [--ber X] [--max-len BYTES] [--pcap FILE]";
const BENCH_USAGE: &str = "usage: nic bench linerate [--frames N] [--engine auto|rust-hdl|verilator]";

fn parse_line(args: &[String]) -> Result<DemoOptions, String> {
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

fn run_replay(args: &[String]) -> ExitCode {
    let opts = match replay::parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            // One line naming the problem; the usage only when nothing was given.
            if args.is_empty() {
                eprintln!("{}", replay::USAGE);
            } else {
                eprintln!("nic replay: {e} (see `nic replay` for usage)");
            }
            return ExitCode::from(2);
        }
    };
    match replay::run(&opts) {
        Ok(report) => {
            println!("{}", report.json());
            ExitCode::SUCCESS
        }
        Err((code, e)) => {
            eprintln!("nic replay: {e}");
            ExitCode::from(code)
        }
    }
}

fn run_bench(args: &[String]) -> ExitCode {
    if args.first().map(String::as_str) != Some("linerate") {
        eprintln!("{BENCH_USAGE}");
        return ExitCode::from(2);
    }
    let mut frames: Option<usize> = None;
    let mut engine = EngineChoice::Auto;
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let value = it.next();
        match (flag.as_str(), value) {
            ("--frames", Some(v)) if v.parse::<usize>().is_ok_and(|n| (10..=1_000_000).contains(&n)) => frames = v.parse().ok(),
            ("--engine", Some(v)) if EngineChoice::parse(v).is_some() => engine = EngineChoice::parse(v).expect("checked"),
            _ => {
                eprintln!("nic bench: bad option `{flag}` (--frames takes 10..=1000000)\n{BENCH_USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let mut results = Vec::new();
    for (size, default_frames) in [(64, 20_000), (512, 4_000), (1518, 1_500)] {
        let n = frames.unwrap_or(default_frames);
        eprintln!("nic bench linerate: {n} frames of {size} B on the {} engine ...", engine.name());
        match bench::measure(size, n, engine) {
            Ok(r) => results.push(r),
            Err(e) => {
                eprintln!("nic bench: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{}", bench::json(&results, engine.name()));
    ExitCode::SUCCESS
}

/// Run a subcommand whose errors are `(exit code, one-line message)`.
fn exit_with(name: &str, usage: &str, args: &[String], parsed: Result<impl Sized, String>, run: impl FnOnce() -> Result<(), (u8, String)>) -> ExitCode {
    if let Err(e) = parsed {
        if args.is_empty() {
            eprintln!("{usage}");
        } else {
            eprintln!("nic {name}: {e} (see `nic {name}` for usage)");
        }
        return ExitCode::from(2);
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, e)) => {
            eprintln!("nic {name}: {e}");
            ExitCode::from(code)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("line") => match parse_line(&args[1..]) {
            Ok(opts) => match line_demo::run(&opts) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("nic line: FAILED: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("nic line: {e}\n{LINE_USAGE}");
                ExitCode::from(2)
            }
        },
        Some("replay") => run_replay(&args[1..]),
        Some("demo") => {
            let rest = &args[1..];
            let parsed = nic_sim::demo::parse_args(rest);
            let opts = parsed.clone().ok();
            exit_with("demo", nic_sim::demo::USAGE, &["demo".to_string()], parsed, || {
                nic_sim::demo::run(&opts.expect("parsed")).map(|_| ()).map_err(|e| (1, format!("FAILED: {e}")))
            })
        }
        Some("tap") => {
            let rest = &args[1..];
            let parsed = nic_sim::cmd_tap::parse_args(rest);
            let opts = parsed.clone().ok();
            exit_with("tap", nic_sim::cmd_tap::USAGE, rest, parsed, || nic_sim::cmd_tap::run(&opts.expect("parsed")))
        }
        Some("host") => {
            let rest = &args[1..];
            let parsed = nic_sim::cmd_host::parse_args(rest);
            let opts = parsed.clone().ok();
            exit_with("host", nic_sim::cmd_host::USAGE, rest, parsed, || nic_sim::cmd_host::run(&opts.expect("parsed")))
        }
        Some("bench") => run_bench(&args[1..]),
        _ => {
            eprintln!("nic: the card's front door\n  {}\n  {LINE_USAGE}\n  {}\n  {BENCH_USAGE}\n  {}\n  {}", nic_sim::demo::USAGE, replay::USAGE, nic_sim::cmd_tap::USAGE, nic_sim::cmd_host::USAGE);
            ExitCode::from(2)
        }
    }
}
