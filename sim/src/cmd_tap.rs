//! `nic tap`: a simulated card on a Linux TAP interface, so real Linux programs (ping, curl,
//! nc) talk to the card's gateware, driver and stack.
//!
//! Frames Linux sends on the TAP go through the line model into the gateware's receive pins,
//! up through DMA, the driver and the stack; replies go back through the gateware's transmit
//! path to the TAP. Serves HTTP (port 80) and echo (TCP and UDP), answers ping, runs until
//! SIGINT/SIGTERM or `--duration`, and prints its counters on exit.
use crate::cli::Args;
use crate::host::{Host, HostConfig};
use crate::line::tap::{TapImpairments, TapLine};
use crate::model::engines::EngineChoice;
use crate::model::world::{World, WorldConfig};
use crate::model::Phy;
use crate::services::{card_report, stack_report, Services};
use crate::sim_backend::SimBackend;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "usage: nic tap --tap NAME --ip A.B.C.D/N [--http DIR] [--echo PORT] [--duration SECS] [--phy gmii|mii] [--mac MAC] [--loss P] [--reorder P] [--seed S] [--engine auto|rust-hdl|verilator]";

#[derive(Clone, Debug)]
pub struct TapOptions {
    pub tap: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub mac: [u8; 6],
    pub http: Option<PathBuf>,
    pub echo: Option<u16>,
    pub duration: Option<Duration>,
    pub phy: Phy,
    pub impair: TapImpairments,
    pub engine: EngineChoice,
}

/// `198.18.0.2/24` → address and prefix length.
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let bad = || format!("`{s}` is not an address with a prefix length like 198.18.0.2/24");
    let (a, p) = s.split_once('/').ok_or_else(bad)?;
    let ip: Ipv4Addr = a.parse().map_err(|_| bad())?;
    let prefix: u8 = p.parse().ok().filter(|p| (1..=30).contains(p)).ok_or_else(bad)?;
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || ip.is_loopback() {
        return Err(format!("{ip} cannot be a host's address"));
    }
    Ok((ip, prefix))
}

pub fn parse_args(args: &[String]) -> Result<TapOptions, String> {
    let mut tap = None;
    let mut ip = None;
    let mut o = TapOptions {
        tap: String::new(),
        ip: Ipv4Addr::UNSPECIFIED,
        prefix: 24,
        mac: [0x02, 0, 0, 0, 0, 0],
        http: None,
        echo: None,
        duration: None,
        phy: Phy::Gmii,
        impair: TapImpairments::default(),
        engine: EngineChoice::Auto,
    };
    let mut mac = None;
    let mut a = Args::new(args);
    let prob = "a probability 0..0.5";
    while let Some(flag) = a.next_flag() {
        match flag.as_str() {
            "--tap" => tap = Some(a.value()?),
            "--ip" => ip = Some(parse_cidr(&a.value()?)?),
            "--mac" => mac = Some(a.mac()?),
            "--http" => o.http = Some(PathBuf::from(a.value()?)),
            "--echo" => o.echo = Some(a.parse_where("a port number 1..65535", |p: &u16| *p > 0)?),
            "--duration" => {
                o.duration =
                    Some(Duration::from_secs_f64(a.parse_where("a positive number of seconds", |s: &f64| *s > 0.0)?))
            }
            // The bridge drives an external PHY chip's pins.
            "--phy" => o.phy = a.phy(&[Phy::Gmii, Phy::Mii])?,
            "--loss" => o.impair.loss = a.parse_where(prob, |p: &f64| (0.0..=0.5).contains(p))?,
            "--reorder" => o.impair.reorder = a.parse_where(prob, |p: &f64| (0.0..=0.5).contains(p))?,
            "--seed" => o.impair.seed = a.parse("a whole number")?,
            "--engine" => o.engine = a.engine()?,
            _ => return Err(a.unknown()),
        }
    }
    o.tap = tap.ok_or("--tap NAME is required")?;
    (o.ip, o.prefix) = ip.ok_or("--ip A.B.C.D/N is required")?;
    o.mac = mac.unwrap_or(HostConfig::mac_for_ip(o.ip));
    if let Some(dir) = &o.http {
        if !dir.is_dir() {
            return Err(format!("--http {}: not a directory", dir.display()));
        }
    }
    Ok(o)
}

/// Run until a signal or the duration. `Err((code, message))`: 2 for a bad setup.
pub fn run(o: &TapOptions) -> Result<(), (u8, String)> {
    let line = TapLine::open(&o.tap, o.phy == Phy::Mii, o.impair).map_err(|e| (2, e))?;
    crate::signals::install();
    let cfg = WorldConfig { phy: o.phy, engine: o.engine, ..WorldConfig::default() };
    let (world, card) = World::start_tap(&cfg, line).map_err(|e| (1, e))?;
    let regs = card.regs.clone();
    let host_cfg = HostConfig {
        name: o.tap.clone(),
        mac: o.mac,
        ip: o.ip,
        prefix: o.prefix,
        seed: o.impair.seed ^ 0x7A9,
        tcp: Default::default(),
    };
    let host = Host::start(SimBackend::new(card, &o.tap), host_cfg).map_err(|e| (1, e))?;
    let services = Services::start(&host, o.http.as_deref(), o.echo).map_err(|e| (2, e))?;
    println!(
        "nic tap: a simulated card ({}) on {} as {}/{} (MAC {}); {}{}; ping answered. Stop with Ctrl-C{}.",
        o.phy.name(),
        o.tap,
        o.ip,
        o.prefix,
        o.mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
        o.http.as_ref().map(|d| format!("HTTP on port 80 from {}", d.display())).unwrap_or_else(|| "no HTTP".into()),
        o.echo.map(|p| format!(", echo on TCP and UDP port {p}")).unwrap_or_default(),
        o.duration.map(|d| format!(" or wait {} s", d.as_secs_f64())).unwrap_or_default(),
    );
    let waited = crate::signals::wait_for_stop(o.duration);
    println!(
        "nic tap: stopping after {:.1} s; simulated time {:.3} ms",
        waited.as_secs_f64(),
        regs.now_ns() as f64 / 1e6
    );
    for line in card_report(&regs).into_iter().chain(stack_report(&host)).chain(services.report()) {
        println!("  {line}");
    }
    services.stop();
    drop(host);
    let report = world.stop();
    if let Some(t) = report.tap {
        println!(
            "  TAP      frames from Linux {}  to Linux {}  line queue drops {}  lost on purpose {}  malformed from the card {}",
            t.from_linux, t.to_linux, t.queue_drops, t.impaired_lost, t.bad_tx
        );
    }
    println!(
        "  MSI      RX {}  TX {}  error/link {}",
        report.msi_sent[0][0], report.msi_sent[0][1], report.msi_sent[0][2]
    );
    Ok(())
}
