//! `nic demo`: the whole card working, through every real layer.
//!
//! Two simulated cards — the full gateware (PHY, MAC, filter, FIFO, DMA, registers, MSI) —
//! on one simulated wire. Each host is the IP/TCP stack on the driver on its card, woken by
//! the card's interrupts. Host A serves a web site and echo; host B fetches pages (200,
//! 404, 405 among them), uses echo over TCP and UDP, and transfers a file checked by its
//! CRC-32. Then each layer's counters, the HTTP results, simulated time and throughput; the
//! wire goes to a pcap, and with `--vcd` card A's ports to a waveform.
use crate::cli::Args;
use crate::host::{Host, HostConfig};
use crate::model::engines::EngineChoice;
use crate::model::world::{start_simulated, WireFrame, WorldConfig, WorldReport};
use crate::model::Phy;
use crate::pcap::PcapWriter;
use crate::runtime::SimRuntime;
use crate::services::{card_report, stack_report, Services};
use crate::sim_backend::SimBackend;
use nic_apps::http::HttpClient;
use nic_apps::transfer::{fetch_verified, write_demo_site};
use nic_stack::threaded::{NetHandle, TcpStream, UdpSocket};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

pub const USAGE: &str = "usage: nic demo [--phy gmii|mii|manchester] [--seed S] [--size BYTES] [--ppm P] [--ber X] [--pcap FILE] [--vcd FILE] [--engine auto|rust-hdl|verilator] [--json]";

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub phy: Phy,
    pub seed: u64,
    /// Size of the file transferred and checked.
    pub size: usize,
    pub ppm: f64,
    pub ber: f64,
    pub pcap: String,
    pub vcd: Option<String>,
    pub engine: EngineChoice,
    /// Print the JSON summary as the last line of stdout.
    pub json: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            phy: Phy::Gmii,
            seed: 1,
            size: 256 * 1024,
            ppm: 0.0,
            ber: 0.0,
            pcap: "demo.pcap".into(),
            vcd: None,
            engine: EngineChoice::Auto,
            json: false,
        }
    }
}

pub fn parse_args(args: &[String]) -> Result<DemoOptions, String> {
    let mut o = DemoOptions::default();
    let mut a = Args::new(args);
    while let Some(flag) = a.next_flag() {
        match flag.as_str() {
            "--phy" => o.phy = a.phy(&[Phy::Gmii, Phy::Mii, Phy::Manchester])?,
            "--seed" => o.seed = a.parse("a whole number")?,
            "--size" => o.size = a.parse("a whole number of bytes")?,
            "--ppm" => o.ppm = a.parse("a number")?,
            "--ber" => o.ber = a.parse("a number")?,
            "--pcap" => o.pcap = a.value()?,
            "--vcd" => o.vcd = Some(a.value()?),
            "--engine" => o.engine = a.engine()?,
            "--json" => o.json = true,
            _ => return Err(a.unknown()),
        }
    }
    if !(1..=64 << 20).contains(&o.size) {
        return Err("--size must be 1 byte to 64 MiB".into());
    }
    if o.ppm.abs() > 200.0 || !(0.0..=1e-4).contains(&o.ber) {
        return Err("impairments out of range: --ppm -200..200, --ber 0..1e-4".into());
    }
    Ok(o)
}

/// What the demo measured.
#[derive(Clone, Debug)]
pub struct DemoReport {
    /// (request, expected status, got status).
    pub http: HttpResults,
    pub transfer_bytes: u64,
    pub transfer_sim_ns: u64,
    pub echo_ok: bool,
    pub world: WorldReport,
    /// TCP retransmissions, both hosts.
    pub retransmissions: u64,
    /// The summary `--json` prints.
    pub json: Value,
}

/// Progress lines, stamped with simulated time.
struct Progress(SimRuntime);

impl Progress {
    fn say(&self, what: impl std::fmt::Display) {
        println!("[{:9.3} ms] {what}", self.0.now_ns() as f64 / 1e6);
    }
}

/// How long host B waits for any one step, in simulated time: each takes microseconds to
/// milliseconds; 5 s covers a lost SYN (1 s initial RTO, then 2 s) and bounds a broken run.
const TIMEOUT: Duration = Duration::from_secs(5);

/// (request, expected status, status received) for each request made.
type HttpResults = Vec<(String, u16, u16)>;

/// Host B's checks against host A. Errors are what failed.
fn client(net: &NetHandle, server: SocketAddrV4, p: &Progress) -> Result<(HttpResults, bool), String> {
    fn e(what: &str) -> impl FnOnce(std::io::Error) -> String + '_ {
        move |err| format!("{what}: {err}")
    }
    let mut results = Vec::new();
    let mut http = HttpClient::connect(net, server, TIMEOUT).map_err(e("connect to port 80"))?;
    for (method, path, want) in [
        ("GET", "/", 200),
        ("HEAD", "/", 200),
        ("GET", "/style.css", 200),
        ("GET", "/missing.html", 404),
        ("DELETE", "/index.html", 405),
        ("GET", "/../../etc/passwd", 403),
    ] {
        let r = http.request(method, path, &[]).map_err(|err| format!("{method} {path}: {err}"))?;
        p.say(format!("B: {method} {path} → {} ({} bytes of body)", r.status, r.body.len()));
        results.push((format!("{method} {path}"), want, r.status));
        if r.closes() {
            http = HttpClient::connect(net, server, TIMEOUT).map_err(e("reconnect to port 80"))?;
        }
    }
    // Echo over TCP and UDP.
    let msg: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut s =
        TcpStream::connect(net, SocketAddrV4::new(*server.ip(), 7), Some(TIMEOUT)).map_err(e("echo connect"))?;
    s.set_read_timeout(Some(TIMEOUT));
    s.write_all(&msg).map_err(e("echo write"))?;
    let mut back = vec![0; msg.len()];
    s.read_exact(&mut back).map_err(e("echo read"))?;
    let mut u = UdpSocket::bind(net, SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0)).map_err(e("udp bind"))?;
    u.set_read_timeout(Some(TIMEOUT));
    u.send_to(b"ping over UDP", SocketAddrV4::new(*server.ip(), 7)).map_err(e("udp send"))?;
    let mut buf = [0u8; 64];
    let (n, _) = u.recv_from(&mut buf).map_err(e("udp echo"))?;
    let echo_ok = back == msg && &buf[..n] == b"ping over UDP";
    p.say(format!("B: echo TCP 20000 bytes and UDP 13 bytes → {}", if echo_ok { "byte-exact" } else { "DIFFERENT" }));
    Ok((results, echo_ok))
}

/// Writes the capture; returns the frames written and the file's CRC-32 (a fingerprint
/// for comparing runs).
fn write_pcap(path: &str, wire: &[WireFrame]) -> Result<(usize, u32), String> {
    let mut w = PcapWriter::new(Vec::new()).map_err(|e| format!("{path}: {e}"))?;
    for frame in wire {
        w.write_frame(frame.time_ns, frame.frame.bytes()).map_err(|e| format!("{path}: {e}"))?;
    }
    let n = w.frames() as usize;
    let bytes = w.finish().map_err(|e| format!("{path}: {e}"))?;
    std::fs::write(path, &bytes).map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok((n, crc32fast::hash(&bytes)))
}

/// What happened between the hosts, before the cards are powered off.
struct Exchange {
    http: HttpResults,
    echo_ok: bool,
    transfer_bytes: u64,
    transfer_sim_ns: u64,
}

pub fn run(o: &DemoOptions) -> Result<DemoReport, String> {
    let wall = Instant::now();
    let engine = o.engine.resolve();
    println!("nic demo — two simulated cards on one wire, every layer real:");
    println!("  application (HTTP, echo) → stack (TCP/UDP/IPv4/ARP) → driver → card registers, DMA, MSI");
    println!("  → gateware (MAC, filter, FIFO, PHY; {}) → wire → the other card, and back", o.phy.describe());
    println!(
        "  engine {}, seed {}, clock offset {:+} ppm, bit error rate {:e}; host software on simulated time\n",
        engine.name(),
        o.seed,
        o.ppm,
        o.ber
    );
    if o.engine == EngineChoice::Auto && engine == EngineChoice::RustHdl {
        println!("  note: Verilator is not installed, so the cards run on Rust-HDL's own simulator, about");
        println!("  340 times slower: this takes minutes. `apt-get install verilator` (tests/run does it).\n");
    }

    println!("building the cards (the first Verilator build of a card takes seconds, then it is cached)");
    let cfg = WorldConfig {
        phy: o.phy,
        engine: o.engine,
        ppm: o.ppm,
        ber: o.ber,
        seed: o.seed,
        capture: 1_000_000,
        vcd: o.vcd.clone().map(|path| (path, 200_000)),
        ..WorldConfig::default()
    };
    let (rt, [card_a, card_b]) = start_simulated(&cfg)?;
    let regs = [card_a.regs.clone(), card_b.regs.clone()];

    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run_no = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let site = std::env::temp_dir().join(format!("nic-demo-site-{}-{run_no}", std::process::id()));
    std::fs::create_dir_all(&site).map_err(|e| format!("{}: {e}", site.display()))?;
    let crc = write_demo_site(&site, o.size, o.seed).map_err(|e| format!("writing the demo site: {e}"))?;

    // From here on this thread is host software on the simulated runtime.
    let running = Instant::now();
    rt.enter("demo");
    let p = Progress(rt.clone());
    let hosts = Host::start(SimBackend::new(card_a, "a"), HostConfig::numbered("A", 1, o.seed))
        .and_then(|a| Ok((a, Host::start(SimBackend::new(card_b, "b"), HostConfig::numbered("B", 2, o.seed ^ 0xB))?)));
    let (a, b) = match hosts {
        Ok(h) => h,
        Err(e) => {
            rt.power_off();
            rt.leave();
            return Err(e);
        }
    };
    p.say(format!("A is {} and B is {}: drivers up, rings posted, interrupts unmasked", a.config.ip, b.config.ip));
    let services = Services::start(&a, Some(&site), Some(7));
    let exchange = services.as_ref().map_err(Clone::clone).and_then(|_| {
        p.say(format!(
            "A serves {} on port 80 (big.bin: {} bytes, CRC-32 {crc:08x}) and echo on port 7",
            site.display(),
            o.size
        ));
        let server = SocketAddrV4::new(a.config.ip, 80);
        let (http, echo_ok) = client(&b.net(), server, &p)?;
        let t0 = rt.now_ns();
        let t = fetch_verified(&b.net(), server, "/big.bin", TIMEOUT).map_err(|e| format!("GET /big.bin: {e}"))?;
        let sim_ns = (rt.now_ns() - t0).max(1);
        p.say(format!(
            "B: GET /big.bin → {} bytes, CRC-32 {:08x} checked ✔ in {:.3} ms of simulated time ({:.0} Mb/s)",
            t.bytes,
            t.crc32,
            sim_ns as f64 / 1e6,
            t.bytes as f64 * 8.0 / sim_ns as f64 * 1000.0
        ));
        Ok(Exchange { http, echo_ok, transfer_bytes: t.bytes, transfer_sim_ns: sim_ns })
    });

    // The counters as a driver reads them, then the cards off; host threads wind down.
    let mut per_host = Vec::new();
    if exchange.is_ok() {
        println!();
        for (i, (host, r)) in [(&a, &regs[0]), (&b, &regs[1])].into_iter().enumerate() {
            println!("host {} ({}), card {}:", host.config.name, host.config.ip, ["A", "B"][i]);
            for line in card_report(r).into_iter().chain(stack_report(host)) {
                println!("  {line}");
            }
            if let (0, Ok(services)) = (i, &services) {
                for line in services.report() {
                    println!("  {line}");
                }
            }
            per_host.push(host_json(host, r));
        }
    }
    let sim_total_ns = rt.now_ns();
    let retransmissions: u64 = [&a, &b].iter().map(|h| h.stack_stats().1.retransmissions).sum();
    let http_codes = services.as_ref().map(|s| s.http_by_status()).unwrap_or_default();
    let world = rt.power_off();
    let running_s = running.elapsed().as_secs_f64();
    if let Ok(s) = services {
        s.stop();
    }
    drop((a, b));
    rt.leave();
    let _ = std::fs::remove_dir_all(&site);
    let ex = exchange?;

    let wall_s = wall.elapsed().as_secs_f64();
    let card_clocks = world.cycles[0] + world.cycles[1];
    println!("\ninterrupts (MSI RX/TX/error): card A {:?}, card B {:?}", world.msi_sent[0], world.msi_sent[1]);
    println!(
        "simulated time {:.3} ms ({} core clocks on card A); wall time {:.1} s, {:.2} s of it running the cards \
         and hosts ({:.2} M card clocks per second)",
        sim_total_ns as f64 / 1e6,
        world.cycles[0],
        wall_s,
        running_s,
        card_clocks as f64 / running_s / 1e6
    );
    let (n, capture_crc) = write_pcap(&o.pcap, &world.wire)?;
    println!("wire capture: {n} frames written to {} (Wireshark reads it)", o.pcap);
    if let Some(v) = &o.vcd {
        println!("waveform: card A's ports for its first 200,000 clock edges in {v}");
    }

    let mut problems: Vec<String> = ex
        .http
        .iter()
        .filter(|(_, want, got)| want != got)
        .map(|(r, want, got)| format!("{r} answered {got}, expected {want}"))
        .collect();
    if !ex.echo_ok {
        problems.push("echo came back different".into());
    }
    problems.extend(world.bus_violations.iter().cloned());
    let goodput = ex.transfer_bytes as f64 * 8.0 / ex.transfer_sim_ns as f64 * 1000.0;
    let stats = rt.stats();
    let json = json!({
        "seed": o.seed,
        "phy": o.phy.name(),
        "engine": engine.name(),
        "size": o.size,
        "ppm": o.ppm,
        "ber": o.ber,
        "simulated_ns": sim_total_ns,
        "wall_s": wall_s,
        "card_clocks": card_clocks,
        "running_wall_s": running_s,
        "card_clocks_per_wall_s": card_clocks as f64 / running_s,
        "transfer_bytes": ex.transfer_bytes,
        "transfer_simulated_ns": ex.transfer_sim_ns,
        "goodput_mbps": goodput,
        "retransmissions": retransmissions,
        "http": http_codes.iter().map(|(c, n)| (c.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "echo_ok": ex.echo_ok,
        "wire_frames": n,
        "wire_bad_frames": world.wire.iter().filter(|f| matches!(f.frame, crate::line::frames::TxFrame::Bad { .. })).count(),
        "capture_crc32": format!("{capture_crc:08x}"),
        "msi_sent": world.msi_sent,
        "hosts": per_host,
        "runtime": {"host_threads": stats.threads, "switches": stats.switches, "clock_edges": stats.edges},
        "ok": problems.is_empty(),
    });
    if o.json {
        println!("{json}");
    }
    if problems.is_empty() {
        println!("check: every HTTP status as expected, echo byte-exact, the file's CRC-32 matched ✔");
        Ok(DemoReport {
            http: ex.http,
            transfer_bytes: ex.transfer_bytes,
            transfer_sim_ns: ex.transfer_sim_ns,
            echo_ok: ex.echo_ok,
            world,
            retransmissions,
            json,
        })
    } else {
        Err(problems.join("; "))
    }
}

/// One host's card counters (read through its registers) and stack counters, as JSON.
fn host_json(host: &Host, regs: &crate::model::world::Registers) -> Value {
    let (s, t) = host.stack_stats();
    let card: serde_json::Map<String, Value> =
        regs.counters().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({
        "name": host.config.name,
        "ip": host.config.ip.to_string(),
        "card": card,
        "stack": {
            "eth_rx_frames": s.eth_rx_frames, "eth_tx_frames": s.eth_tx_frames,
            "arp_requests_tx": s.arp_requests_tx, "arp_requests_rx": s.arp_requests_rx,
            "ipv4_rx": s.ipv4_rx, "ipv4_tx": s.ipv4_tx, "ipv4_bad_checksum": s.ipv4_bad_checksum,
            "udp_rx": s.udp_rx, "udp_tx": s.udp_tx,
            "tcp_segments_in": t.segments_in, "tcp_segments_out": t.segments_out,
            "tcp_retransmissions": t.retransmissions, "tcp_fast_retransmits": t.fast_retransmits,
            "tcp_bad_checksum": t.bad_checksum, "tcp_rx_checksum_assisted": s.tcp_rx_checksum_assisted,
        },
    })
}
