//! `nic`: the front door.
//!
//!   nic demo ...                                       (see `nic_sim::demo::USAGE`)
//!   nic line [--phy gmii|mii|manchester] [--frames N] [--seed S] [--ppm P] [--jitter UI]
//!            [--ber X] [--max-len BYTES] [--pcap FILE]
//!   nic tap --tap NAME --ip A.B.C.D/N [...]           (see `nic_sim::cmd_tap::USAGE`)
//!   nic host --device sim|vfio:ADDR --ip A.B.C.D/N [...] (see `nic_sim::cmd_host::USAGE`)
//!   nic replay --in IN.pcap --out OUT.pcap [...]      (see `nic_sim::replay::USAGE`)
//!   nic bench linerate [--frames N] [--engine auto|rust-hdl|verilator]
use nic_sim::cli::Args;
use nic_sim::line_demo::{self, DemoOptions};
use nic_sim::model::engines::EngineChoice;
use nic_sim::model::Phy;
use nic_sim::{bench, replay};
use std::process::ExitCode;

const LINE_USAGE: &str = "usage: nic line [--phy gmii|mii|manchester] [--frames N] [--seed S] [--ppm P] [--jitter UI] [--ber X] [--max-len BYTES] [--pcap FILE]";
const BENCH_USAGE: &str = "usage: nic bench linerate [--frames N] [--engine auto|rust-hdl|verilator]";

fn parse_line(args: &[String]) -> Result<DemoOptions, String> {
    let mut o = DemoOptions::default();
    let mut a = Args::new(args);
    while let Some(flag) = a.next_flag() {
        match flag.as_str() {
            "--phy" => o.phy = a.phy(&[Phy::Gmii, Phy::Mii, Phy::Manchester])?,
            "--frames" => o.frames = a.parse("a whole number")?,
            "--seed" => o.seed = a.parse("a whole number")?,
            "--ppm" => o.ppm = a.parse("a number")?,
            "--jitter" => o.jitter_ui = a.parse("a number")?,
            "--ber" => o.ber = a.parse("a number")?,
            "--max-len" => o.max_len = a.parse("a whole number")?,
            "--pcap" => o.pcap = a.value()?,
            _ => return Err(a.unknown()),
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
    let (mut frames, mut engine) = (None, EngineChoice::Auto);
    let mut a = Args::new(&args[1..]);
    let parsed: Result<(), String> = (|| {
        while let Some(flag) = a.next_flag() {
            match flag.as_str() {
                "--frames" => frames = Some(a.parse_where("10 to 1000000", |n: &usize| (10..=1_000_000).contains(n))?),
                "--engine" => engine = a.engine()?,
                _ => return Err(a.unknown()),
            }
        }
        Ok(())
    })();
    if let Err(e) = parsed {
        eprintln!("nic bench: {e}\n{BENCH_USAGE}");
        return ExitCode::from(2);
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
fn exit_with(
    name: &str,
    usage: &str,
    args: &[String],
    parsed: Result<impl Sized, String>,
    run: impl FnOnce() -> Result<(), (u8, String)>,
) -> ExitCode {
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
            eprintln!(
                "nic: the card's front door\n  {}\n  {LINE_USAGE}\n  {}\n  {BENCH_USAGE}\n  {}\n  {}",
                nic_sim::demo::USAGE,
                replay::USAGE,
                nic_sim::cmd_tap::USAGE,
                nic_sim::cmd_host::USAGE
            );
            ExitCode::from(2)
        }
    }
}
