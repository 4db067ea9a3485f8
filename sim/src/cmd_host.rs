//! `nic host`: the same host software (driver, stack, services) on a simulated card or on a
//! board through VFIO.
//!
//! * `--device vfio:0000:03:00.0`: the board (see `docs/hardware.md`); a missing or unbound
//!   device fails with the driver's one-line message saying what to do.
//! * `--device sim`: the simulated card, its wire joined to a second simulated card whose
//!   host (the next address up) checks this one: an HTTP `GET /` when `--http` is given, and
//!   echo over UDP when `--echo` is. Then both keep running until SIGINT/SIGTERM or
//!   `--duration` (wall time). Host software runs on the cards' simulated time (see
//!   `crate::runtime`).
use crate::cli::Args;
use crate::cmd_tap::parse_cidr;
use crate::host::{Host, HostConfig};
use crate::model::engines::EngineChoice;
use crate::model::world::{start_simulated, WorldConfig};
use crate::services::{card_report, stack_report, Services};
use crate::sim_backend::SimBackend;
use nic_driver::VfioBackend;
use nic_stack::threaded::UdpSocket;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "usage: nic host --device sim|vfio:DDDD:BB:DD.F --ip A.B.C.D/N [--http DIR] [--echo PORT] [--duration SECS] [--engine auto|rust-hdl|verilator]";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceArg {
    Sim,
    Vfio(String),
}

#[derive(Clone, Debug)]
pub struct HostOptions {
    pub device: DeviceArg,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub http: Option<PathBuf>,
    pub echo: Option<u16>,
    pub duration: Option<Duration>,
    pub engine: EngineChoice,
}

pub fn parse_args(args: &[String]) -> Result<HostOptions, String> {
    let (mut device, mut ip, mut http, mut echo, mut duration, mut engine) =
        (None, None, None, None, None, EngineChoice::Auto);
    let mut a = Args::new(args);
    while let Some(flag) = a.next_flag() {
        match flag.as_str() {
            "--device" => {
                let v = a.value()?;
                device = Some(match v.strip_prefix("vfio:") {
                    _ if v == "sim" => DeviceArg::Sim,
                    Some(addr) => DeviceArg::Vfio(addr.to_string()),
                    None => return Err(format!("--device: `{v}` is not sim or vfio:DDDD:BB:DD.F")),
                });
            }
            "--ip" => ip = Some(parse_cidr(&a.value()?)?),
            "--http" => http = Some(PathBuf::from(a.value()?)),
            "--echo" => echo = Some(a.parse_where("a port number 1..65535", |p: &u16| *p > 0)?),
            "--duration" => {
                duration =
                    Some(Duration::from_secs_f64(a.parse_where("a positive number of seconds", |s: &f64| *s > 0.0)?))
            }
            "--engine" => engine = a.engine()?,
            _ => return Err(a.unknown()),
        }
    }
    let (ip, prefix) = ip.ok_or("--ip A.B.C.D/N is required")?;
    Ok(HostOptions {
        device: device.ok_or("--device sim|vfio:DDDD:BB:DD.F is required")?,
        ip,
        prefix,
        http,
        echo,
        duration,
        engine,
    })
}

pub fn run(o: &HostOptions) -> Result<(), (u8, String)> {
    let cfg = HostConfig {
        name: "host".into(),
        mac: HostConfig::mac_for_ip(o.ip),
        ip: o.ip,
        prefix: o.prefix,
        seed: 0x4057,
        tcp: Default::default(),
    };
    match &o.device {
        DeviceArg::Vfio(addr) => {
            let backend =
                VfioBackend::open(addr, Host::nic_config(&cfg).dma_bytes()).map_err(|e| (2, e.to_string()))?;
            let host = Host::start(backend, cfg).map_err(|e| (1, e))?;
            let services = Services::start(&host, o.http.as_deref(), o.echo).map_err(|e| (2, e))?;
            println!("nic host: {} up on the board at {addr}; Ctrl-C stops", o.ip);
            crate::signals::wait_for_stop(o.duration);
            for line in stack_report(&host).into_iter().chain(services.report()) {
                println!("  {line}");
            }
            services.stop();
            Ok(())
        }
        DeviceArg::Sim => run_simulated(o, cfg),
    }
}

/// The host and its checking peer on two simulated cards, on the simulated runtime: host
/// time is the cards' time. `--duration` is wall time (how long to keep the simulation
/// going); meanwhile simulated time advances a millisecond at a time.
fn run_simulated(o: &HostOptions, cfg: HostConfig) -> Result<(), (u8, String)> {
    let (rt, [card, peer_card]) =
        start_simulated(&WorldConfig { engine: o.engine, ..WorldConfig::default() }).map_err(|e| (1, e))?;
    let regs = card.regs.clone();
    let peer_ip = Ipv4Addr::from(u32::from(o.ip).wrapping_add(1));
    let peer_cfg = HostConfig {
        name: "peer".into(),
        mac: HostConfig::mac_for_ip(peer_ip),
        ip: peer_ip,
        prefix: o.prefix,
        seed: 0x9EE2,
        tcp: Default::default(),
    };
    rt.enter("nic host");
    let started = Host::start(SimBackend::new(card, "host"), cfg).map_err(|e| (1, e)).and_then(|host| {
        let services = Services::start(&host, o.http.as_deref(), o.echo).map_err(|e| (2, e))?;
        let peer = Host::start(SimBackend::new(peer_card, "peer"), peer_cfg).map_err(|e| (1, e))?;
        Ok((host, services, peer))
    });
    let (host, services, peer) = match started {
        Ok(h) => h,
        Err(e) => {
            rt.power_off();
            rt.leave();
            return Err(e);
        }
    };
    println!("nic host: {}/{} up on a simulated card; the peer card's host is {peer_ip}", o.ip, o.prefix);
    let t = Duration::from_secs(30);
    if o.http.is_some() {
        match nic_apps::http::http_get(&peer.net(), SocketAddrV4::new(o.ip, 80), "/", t) {
            Ok(r) => println!("  peer: GET / → {} ({} bytes)", r.status, r.body.len()),
            Err(e) => println!("  peer: GET / failed: {e}"),
        }
    }
    if let Some(port) = o.echo {
        let check = || -> std::io::Result<bool> {
            let mut u = UdpSocket::bind(&peer.net(), SocketAddrV4::new(peer_ip, 0))?;
            u.set_read_timeout(Some(t));
            u.send_to(b"hello card", SocketAddrV4::new(o.ip, port))?;
            let mut buf = [0u8; 32];
            let (n, _) = u.recv_from(&mut buf)?;
            Ok(&buf[..n] == b"hello card")
        };
        println!(
            "  peer: UDP echo → {}",
            match check() {
                Ok(true) => "byte-exact".to_string(),
                Ok(false) => "different".to_string(),
                Err(e) => format!("failed: {e}"),
            }
        );
    }
    crate::signals::install();
    let wall = std::time::Instant::now();
    let runtime = host.net().runtime().clone();
    while !crate::signals::stop_requested() && o.duration.is_none_or(|d| wall.elapsed() < d) {
        runtime.sleep(Duration::from_millis(1));
    }
    println!("  simulated time {:.3} ms", rt.now_ns() as f64 / 1e6);
    for line in card_report(&regs).into_iter().chain(stack_report(&host)).chain(services.report()) {
        println!("  {line}");
    }
    rt.power_off();
    services.stop();
    drop((host, peer));
    rt.leave();
    Ok(())
}
