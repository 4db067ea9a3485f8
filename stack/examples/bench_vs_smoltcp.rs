//! Our stack beside smoltcp on the same in-memory network, on one core, the same
//! workloads for both; prints one JSON object.
//!
//! `cargo run --release -p nic-stack --example bench_vs_smoltcp`
//!
//! * bulk TCP throughput (one connection, clean link, 1 ms one-way delay), wall clock,
//!   and the transfer's length on the virtual clock (`*_bulk_virtual_ms`: what the
//!   windows allowed; a stack whose window opens slower takes more virtual time, and pays
//!   its per-millisecond costs more often);
//! * the payload floor: the same bytes through our three payload passes (write copy and
//!   checksum into frames, receive checksum, read copy) with no protocol at all, and
//!   from it the time per segment ours spends beyond those passes, beside the time it
//!   could spend at twice smoltcp's throughput (see `payload_floor_gbps`);
//! * connection rate: connect + one request + one reply + close, 32 at a time;
//! * our memory per idle connection and per SYN-queue entry (the engine's own accounting);
//! * demux cost: time per packet of a bulk transfer with 100,000 other connections open,
//!   divided by the same with none.
//!
//! Both stacks share the hub's costs (frame moves, the in-flight queue), so the ratios
//! understate the difference between the stacks themselves. The hub keeps frames that
//! arrive in send order (every frame on this jitter-free link) in a FIFO rather than a
//! heap: the same delivery order for both stacks, cheaper for the one with more frames in
//! flight; on a clean two-port link it hands each frame straight to the other port. The
//! hub also pools buffers, as a driver does: frames a stack is done with go back to its
//! port (`Device::recycle`) and are lent again for transmit (`Device::tx_buffers`); our
//! interface and smoltcp's adapter both take them. Each figure is the best of
//! `BENCH_RUNS` (5) wall-clock runs, ours and smoltcp's in turn, so other load on a shared
//! machine counts as little as it can. `BENCH_MIB`, `BENCH_CONNS` and `BENCH_IDLE_CONNS`
//! shrink the run.
//!
//! Each host is polled until it has nothing left to do at that virtual millisecond (up
//! to 64 times: while our `poll` returns true, smoltcp's does not return
//! `PollResult::None`), then the clock moves on. That is the fair rule: our `poll` handles
//! everything due at once (up to 256 frames in, all it may send out), while smoltcp 0.12's
//! sends at most one segment per socket and asks (`poll_at`) to be called again at once
//! while it has more. `BENCH_POLL_ROUNDS=1` polls every host once per millisecond instead,
//! the rule of earlier rounds: smoltcp's bulk transfer then moves one segment per step and
//! pays a step's costs for each (its throughput falls by about a quarter, ours does not
//! move), so that rule flatters the ratio. The JSON names the rule (`poll_rounds`).

#[path = "../tests/common/smol_port.rs"]
mod smol_port;

use std::net::{Ipv4Addr, SocketAddrV4};

use nic_stack::memnet::{LinkConfig, Network, Port};
use nic_stack::tcp::TcpEngine;
use nic_stack::{Device, Fd, Interface, InterfaceConfig, MacAddr, SocketType, Stack};
use smol_port::SmolPort;
use smoltcp::iface::{Config, Interface as SmolInterface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

const SEED: u64 = 7;
const CONCURRENT: usize = 32;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Polls per host per virtual millisecond at most, while the host reports work done
/// (`BENCH_POLL_ROUNDS`, default 64: until it is idle).
fn poll_rounds() -> usize {
    static ROUNDS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ROUNDS.get_or_init(|| env_usize("BENCH_POLL_ROUNDS", 64).max(1))
}

fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, n)
}

fn network() -> Network {
    Network::new(SEED, LinkConfig { delay_ms: 1, ..LinkConfig::default() })
}

/// Steps the virtual clock 1 ms at a time, calling `step(now)` each time, until it
/// returns true; false after `limit_ms`.
fn drive(net: &Network, limit_ms: u64, mut step: impl FnMut(u64) -> bool) -> bool {
    let end = net.now() + limit_ms;
    while net.now() < end {
        let now = net.now();
        if step(now) {
            return true;
        }
        net.advance_to(now + 1);
    }
    false
}

// ---- ours ---------------------------------------------------------------------------

struct OurHost {
    stack: Stack,
    port: Port,
}

impl OurHost {
    fn new(net: &Network, n: u8) -> Self {
        let port = net.add_port(false);
        let cfg = InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, n]), ip(n), 24);
        OurHost { stack: Stack::new(Interface::new(cfg, port.caps(), SEED + u64::from(n))), port }
    }

    fn poll(&mut self, now: u64) {
        for _ in 0..poll_rounds() {
            if !self.stack.poll(now, &mut self.port) {
                break;
            }
        }
    }

    fn listen(&mut self, port: u16, backlog: usize) -> Fd {
        let fd = self.stack.socket(SocketType::Tcp);
        self.stack.bind(fd, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)).expect("bind");
        self.stack.listen(fd, backlog).expect("listen: is the real TCP engine in src/tcp?");
        fd
    }

    /// Reads all that is available; `Some(total)` at end of stream.
    fn drain(&mut self, fd: Fd, scratch: &mut [u8], count: &mut usize) -> bool {
        loop {
            match self.stack.read(fd, scratch) {
                Ok(0) => return true,
                Ok(n) => *count += n,
                Err(_) => return false,
            }
        }
    }
}

struct OurPair {
    net: Network,
    client: OurHost,
    server: OurHost,
}

impl OurPair {
    fn new() -> Self {
        let net = network();
        let client = OurHost::new(&net, 1);
        let server = OurHost::new(&net, 2);
        OurPair { net, client, server }
    }

    fn poll(&mut self, now: u64) {
        self.client.poll(now);
        self.server.poll(now);
    }

    /// Moves `total` bytes over one new connection; returns (seconds, frames delivered).
    fn bulk(&mut self, port: u16, total: usize) -> (f64, u64) {
        let listener = self.server.listen(port, 4);
        let client = self.client.stack.socket(SocketType::Tcp);
        let chunk = vec![0x5a; 64 * 1024];
        let mut scratch = vec![0; 64 * 1024];
        let (mut sent, mut got, mut conn) = (0, 0, None);
        let frames_before = self.net.stats().delivered;
        let clock = std::time::Instant::now();
        let now = self.net.now();
        self.client.stack.connect(now, client, SocketAddrV4::new(ip(2), port)).expect("connect");
        let done = drive(&self.net.clone(), 600_000, |now| {
            self.poll(now);
            if conn.is_none() {
                conn = self.server.stack.accept(listener).ok();
            }
            while sent < total {
                match self.client.stack.write(now, client, &chunk[..chunk.len().min(total - sent)]) {
                    Ok(n) if n > 0 => sent += n,
                    _ => break,
                }
            }
            if let Some(c) = conn {
                self.server.drain(c, &mut scratch, &mut got);
            }
            got >= total
        });
        assert!(done, "our bulk transfer stalled at {got} of {total} bytes");
        let secs = clock.elapsed().as_secs_f64();
        let now = self.net.now();
        self.client.stack.close(now, client).expect("close");
        if let Some(c) = conn {
            self.server.stack.close(now, c).expect("close");
        }
        self.server.stack.close(now, listener).expect("close");
        (secs, self.net.stats().delivered - frames_before)
    }

    /// Opens `n` connections (client to server ports 80..88) and leaves them idle.
    fn open_idle(&mut self, n: usize) -> Vec<Fd> {
        let listeners: Vec<Fd> = (0..8).map(|i| self.server.listen(80 + i, 4096)).collect();
        let (mut started, mut accepted, mut established) = (0, Vec::new(), Vec::new());
        let mut connecting: Vec<Fd> = Vec::new();
        let done = drive(&self.net.clone(), 600_000, |now| {
            self.poll(now);
            while started < n && connecting.len() < 2048 {
                let fd = self.client.stack.socket(SocketType::Tcp);
                let port = 80 + (started % 8) as u16;
                self.client.stack.connect(now, fd, SocketAddrV4::new(ip(2), port)).expect("connect");
                connecting.push(fd);
                started += 1;
            }
            for &l in &listeners {
                while let Ok(fd) = self.server.stack.accept(l) {
                    accepted.push(fd);
                }
            }
            connecting.retain(|&fd| {
                let ready = self.client.stack.readiness(fd).is_ok_and(|ev| ev.writable);
                if ready {
                    established.push(fd);
                }
                !ready
            });
            established.len() == n && accepted.len() == n
        });
        assert!(done, "only {} of {n} idle connections came up", established.len());
        accepted
    }
}

/// One bulk transfer: wall-clock throughput, and how long it took on the virtual clock
/// (the same for every run: what the windows allowed, not how fast the code is).
struct Bulk {
    gbps: f64,
    virtual_ms: u64,
}

fn ours_bulk(total: usize) -> Bulk {
    let mut pair = OurPair::new();
    let start = pair.net.now();
    let (secs, _) = pair.bulk(5001, total);
    Bulk { gbps: total as f64 * 8.0 / secs / 1e9, virtual_ms: pair.net.now() - start }
}

fn ours_bulk_gbps(total: usize) -> f64 {
    ours_bulk(total).gbps
}

fn ours_conn_per_s_run(total: usize) -> f64 {
    let mut pair = OurPair::new();
    let listener = pair.server.listen(80, 64);
    let mut scratch = [0u8; 64];
    let (mut started, mut finished) = (0, 0);
    let mut clients: Vec<(Fd, bool, usize)> = Vec::new(); // (fd, request sent, reply bytes)
    let mut serving: Vec<(Fd, usize)> = Vec::new();
    let clock = std::time::Instant::now();
    let net = pair.net.clone();
    let done = drive(&net, 600_000, |now| {
        pair.poll(now);
        while started < total && clients.len() < CONCURRENT {
            let fd = pair.client.stack.socket(SocketType::Tcp);
            pair.client.stack.connect(now, fd, SocketAddrV4::new(ip(2), 80)).expect("connect");
            clients.push((fd, false, 0));
            started += 1;
        }
        while let Ok(fd) = pair.server.stack.accept(listener) {
            serving.push((fd, 0));
        }
        serving.retain_mut(|(fd, got)| {
            pair.server.drain(*fd, &mut scratch, got);
            if *got < 4 {
                return true;
            }
            pair.server.stack.write(now, *fd, b"OK\n").expect("reply");
            pair.server.stack.close(now, *fd).expect("close");
            false
        });
        clients.retain_mut(|(fd, sent, got)| {
            if !*sent && pair.client.stack.write(now, *fd, b"GET\n").is_ok_and(|n| n == 4) {
                *sent = true;
            }
            if !pair.client.drain(*fd, &mut scratch, got) {
                return true;
            }
            assert_eq!(*got, 3, "reply");
            pair.client.stack.close(now, *fd).expect("close");
            finished += 1;
            false
        });
        finished == total
    });
    assert!(done, "our connection-rate run stalled at {finished} of {total}");
    total as f64 / clock.elapsed().as_secs_f64()
}

/// (bytes per idle established connection, bytes per SYN-queue entry), buffers excluded.
fn ours_memory() -> (usize, usize) {
    let mut pair = OurPair::new();
    let accepted = pair.open_idle(1);
    let handle = pair.server.stack.tcp_handle(accepted[0]).expect("a TCP descriptor");
    let idle = pair.server.stack.iface().tcp().idle_connection_bytes(handle).expect("an open connection");
    (idle, TcpEngine::syn_queue_entry_bytes())
}

/// Per-packet time of a bulk transfer with `n` idle connections open, over the same
/// without. The two are measured in turn, `runs` times each, and the best of each kept,
/// so a warm-up or a burst of other load does not land on one side only.
fn ours_demux_slowdown(n: usize, bytes: usize, runs: usize) -> f64 {
    let mut alone = OurPair::new();
    let mut crowded = OurPair::new();
    crowded.open_idle(n);
    let (mut best_alone, mut best_crowded) = (f64::INFINITY, f64::INFINITY);
    for i in 0..runs as u16 {
        for (pair, best) in [(&mut alone, &mut best_alone), (&mut crowded, &mut best_crowded)] {
            let (secs, frames) = pair.bulk(6000 + i, bytes);
            *best = best.min(secs / frames as f64);
        }
    }
    best_crowded / best_alone
}

// ---- smoltcp ------------------------------------------------------------------------

struct SmolHost {
    iface: SmolInterface,
    dev: SmolPort,
    sockets: SocketSet<'static>,
}

impl SmolHost {
    fn new(net: &Network, n: u8) -> Self {
        let mut dev = SmolPort::new(net.add_port(false));
        let mut cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress([2, 0, 0, 0, 1, n])));
        cfg.random_seed = SEED + u64::from(n);
        let mut iface = SmolInterface::new(cfg, &mut dev, SmolInstant::from_millis(0));
        iface.update_ip_addrs(|a| a.push(IpCidr::new(IpAddress::v4(198, 18, 0, n), 24)).expect("room"));
        SmolHost { iface, dev, sockets: SocketSet::new(Vec::new()) }
    }

    fn poll(&mut self, now: u64) {
        for _ in 0..poll_rounds() {
            let result = self.iface.poll(SmolInstant::from_millis(now as i64), &mut self.dev, &mut self.sockets);
            self.dev.flush();
            if result == smoltcp::iface::PollResult::None {
                break;
            }
        }
    }

    fn socket(&mut self, buffer: usize) -> SocketHandle {
        let buf = || tcp::SocketBuffer::new(vec![0; buffer]);
        self.sockets.add(tcp::Socket::new(buf(), buf()))
    }

    fn tcp(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }
}

fn smoltcp_bulk_gbps(total: usize) -> f64 {
    smoltcp_bulk(total).gbps
}

fn smoltcp_bulk(total: usize) -> Bulk {
    let net = network();
    let mut client = SmolHost::new(&net, 1);
    let mut server = SmolHost::new(&net, 2);
    // The same buffer sizes as ours (256 KiB each way).
    let listener = server.socket(256 * 1024);
    server.tcp(listener).listen(5001).expect("listen");
    let conn = client.socket(256 * 1024);
    let cx = client.iface.context();
    client
        .sockets
        .get_mut::<tcp::Socket>(conn)
        .connect(cx, (IpAddress::v4(198, 18, 0, 2), 5001), 49_152)
        .expect("connect");
    let chunk = vec![0x5a; 64 * 1024];
    let mut scratch = vec![0; 64 * 1024];
    let (mut sent, mut got) = (0, 0);
    let clock = std::time::Instant::now();
    let done = drive(&net, 600_000, |now| {
        client.poll(now);
        server.poll(now);
        let sock = client.tcp(conn);
        while sent < total && sock.can_send() {
            match sock.send_slice(&chunk[..chunk.len().min(total - sent)]) {
                Ok(n) if n > 0 => sent += n,
                _ => break,
            }
        }
        let sock = server.tcp(listener);
        while let Ok(n) = sock.recv_slice(&mut scratch) {
            if n == 0 {
                break;
            }
            got += n;
        }
        got >= total
    });
    assert!(done, "smoltcp bulk transfer stalled at {got} of {total} bytes");
    Bulk { gbps: total as f64 * 8.0 / clock.elapsed().as_secs_f64() / 1e9, virtual_ms: net.now() }
}

fn smoltcp_conn_per_s_run(total: usize) -> f64 {
    let net = network();
    let mut client = SmolHost::new(&net, 1);
    let mut server = SmolHost::new(&net, 2);
    // smoltcp has no backlog: one listening socket per connection it can take at once.
    let mut listening: Vec<SocketHandle> = Vec::new();
    let mut clients: Vec<(SocketHandle, bool, usize)> = Vec::new();
    let (mut started, mut finished, mut next_port) = (0, 0, 0u16);
    let mut scratch = [0u8; 64];
    let clock = std::time::Instant::now();
    let done = drive(&net, 600_000, |now| {
        client.poll(now);
        server.poll(now);
        while listening.len() < CONCURRENT {
            let h = server.socket(4096);
            server.tcp(h).listen(80).expect("listen");
            listening.push(h);
        }
        while started < total && clients.len() < CONCURRENT {
            let h = client.socket(4096);
            let cx = client.iface.context();
            let local = 49_152 + next_port % 16_000;
            next_port = next_port.wrapping_add(1);
            client
                .sockets
                .get_mut::<tcp::Socket>(h)
                .connect(cx, (IpAddress::v4(198, 18, 0, 2), 80), local)
                .expect("connect");
            clients.push((h, false, 0));
            started += 1;
        }
        listening.retain(|&h| {
            let sock = server.tcp(h);
            if sock.can_recv() && sock.recv_slice(&mut scratch).unwrap_or(0) > 0 {
                sock.send_slice(b"OK\n").expect("reply");
                sock.close();
            }
            let gone = matches!(sock.state(), tcp::State::Closed | tcp::State::TimeWait);
            if gone {
                server.sockets.remove(h);
            }
            !gone
        });
        clients.retain_mut(|(h, sent, got)| {
            let sock = client.tcp(*h);
            if !*sent && sock.can_send() {
                sock.send_slice(b"GET\n").expect("request");
                *sent = true;
            }
            while let Ok(n) = sock.recv_slice(&mut scratch) {
                if n == 0 {
                    break;
                }
                *got += n;
            }
            if sock.state() == tcp::State::CloseWait {
                sock.close();
                finished += 1;
            }
            let gone = sock.state() == tcp::State::Closed && *sent;
            if gone {
                client.sockets.remove(*h);
            }
            !gone
        });
        finished == total
    });
    assert!(done, "smoltcp connection-rate run stalled at {finished} of {total}");
    total as f64 / clock.elapsed().as_secs_f64()
}

// ---- the payload floor --------------------------------------------------------------

/// Our payload bytes per full segment (MSS 1460 less the 12-byte timestamps option).
const OUR_SEGMENT_PAYLOAD: usize = 1448;

/// Throughput of the payload passes alone, none of the protocol: the three passes our
/// stack makes over each byte of a bulk transfer, in the same buffers and the same order,
/// with the same window (256 KiB) in flight. The application's write copies each
/// segment's bytes into a frame and sums them in the same pass; the frame itself goes on
/// the wire; the receiver checksums it; the application's read copies out of it. Any
/// stack with a copying socket API and checksums in software makes these passes or more
/// (smoltcp makes six: it copies into a send ring, copies each segment out of it and sums
/// it after copying, sums on receive, and copies into and out of a receive ring).
///
/// This bounds the bulk ratio: at twice smoltcp's throughput, each segment's headers,
/// state, timers and frame moves (ours and the link's) must fit in the time left over
/// after these passes.
fn payload_floor_gbps(total: usize) -> f64 {
    use nic_stack::device::TX_HEADROOM;
    use nic_stack::wire::checksum::{add, copy_and_sum, sum};
    const WINDOW: usize = 256 * 1024;
    let chunk = vec![0x5a; 64 * 1024];
    let mut scratch = vec![0; 64 * 1024];
    let mut in_flight: Vec<(Vec<u8>, usize)> = Vec::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let (mut written, mut read, mut at, mut sums) = (0, 0, 0, 0u16);
    let mut from = 0; // where the next write starts in the application's chunk
    let clock = std::time::Instant::now();
    while read < total {
        // One window of writes, each segment's bytes copied and summed into a frame.
        let mut queued = 0;
        while written < total && queued < WINDOW {
            let len = OUR_SEGMENT_PAYLOAD.min(total - written).min(chunk.len() - from);
            let mut frame = pool.pop().unwrap_or_else(|| vec![0; TX_HEADROOM + 1500]);
            sums = add(sums, copy_and_sum(&mut frame[TX_HEADROOM..TX_HEADROOM + len], &chunk[from..from + len]));
            from = if from + len == chunk.len() { 0 } else { from + len };
            in_flight.push((frame, len));
            (written, queued) = (written + len, queued + len);
        }
        // The receiver verifies each frame, and the application reads it.
        for (frame, len) in in_flight.drain(..) {
            let payload = &frame[TX_HEADROOM..TX_HEADROOM + len];
            sums = add(sums, sum(payload));
            let mut copied = 0;
            while copied < len {
                at = if at == scratch.len() { 0 } else { at };
                let n = (len - copied).min(scratch.len() - at);
                scratch[at..at + n].copy_from_slice(&payload[copied..copied + n]);
                (copied, at) = (copied + n, at + n);
            }
            read += len;
            pool.push(frame);
        }
    }
    std::hint::black_box((sums, &scratch));
    total as f64 * 8.0 / clock.elapsed().as_secs_f64() / 1e9
}

/// Nanoseconds per segment of `payload` bytes at `gbps`.
fn ns_per_segment(gbps: f64, payload: usize) -> f64 {
    payload as f64 * 8.0 / gbps
}

fn main() {
    let mib = env_usize("BENCH_MIB", 64);
    // `BENCH_ONLY=ours|smoltcp|floor|ours_conn|smoltcp_conn` runs only that stack's bulk
    // transfer (Gb/s), the payload floor, or a connection-rate run (per s), `BENCH_RUNS`
    // times, and prints its best figure: a loop to run under a profiler.
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let runs = env_usize("BENCH_RUNS", 5).max(1);
        let conns = env_usize("BENCH_CONNS", 2000);
        let (run, size): (fn(usize) -> f64, usize) = match only.as_str() {
            "ours" => (ours_bulk_gbps, mib << 20),
            "smoltcp" => (smoltcp_bulk_gbps, mib << 20),
            "floor" => (payload_floor_gbps, mib << 20),
            "ours_conn" => (ours_conn_per_s_run, conns),
            "smoltcp_conn" => (smoltcp_conn_per_s_run, conns),
            other => panic!("BENCH_ONLY={other}: expected ours, smoltcp, floor, ours_conn or smoltcp_conn"),
        };
        let best = (0..runs).map(|_| run(size)).fold(0.0, f64::max);
        println!("{}", serde_json::json!({ "only": only, "runs": runs, "best": best }));
        return;
    }
    let idle = env_usize("BENCH_IDLE_CONNS", 100_000);
    let conns = env_usize("BENCH_CONNS", 2000);
    let bulk = mib << 20;
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    // The stacks take turns, run after run, so both meet the same machine.
    let (mut ours_gbps, mut smoltcp_gbps, mut ours_conn_per_s, mut smoltcp_conn_per_s) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut floor_gbps, mut ours_virtual_ms, mut smoltcp_virtual_ms) = (0.0f64, 0, 0);
    for _ in 0..runs {
        let (ours, smoltcp) = (ours_bulk(bulk), smoltcp_bulk(bulk));
        (ours_virtual_ms, smoltcp_virtual_ms) = (ours.virtual_ms, smoltcp.virtual_ms);
        ours_gbps = ours_gbps.max(ours.gbps);
        smoltcp_gbps = smoltcp_gbps.max(smoltcp.gbps);
        floor_gbps = floor_gbps.max(payload_floor_gbps(bulk));
        ours_conn_per_s = ours_conn_per_s.max(ours_conn_per_s_run(conns));
        smoltcp_conn_per_s = smoltcp_conn_per_s.max(smoltcp_conn_per_s_run(conns));
    }
    let (idle_conn_bytes, syn_queue_entry_bytes) = ours_memory();
    let demux_slowdown = ours_demux_slowdown(idle, 16 << 20, runs + 2);
    // Per full segment: the time beyond the payload passes that ours takes now, and the
    // time it could take at twice smoltcp's throughput.
    let floor_ns = ns_per_segment(floor_gbps, OUR_SEGMENT_PAYLOAD);
    let overhead_ns = ns_per_segment(ours_gbps, OUR_SEGMENT_PAYLOAD) - floor_ns;
    let budget_ns = ns_per_segment(2.0 * smoltcp_gbps, OUR_SEGMENT_PAYLOAD) - floor_ns;
    let report = serde_json::json!({
        "runs": runs,
        "poll_rounds": poll_rounds(),
        "bulk_bytes": bulk,
        "ours_gbps": ours_gbps,
        "smoltcp_gbps": smoltcp_gbps,
        "ratio": ours_gbps / smoltcp_gbps,
        "ours_bulk_virtual_ms": ours_virtual_ms,
        "smoltcp_bulk_virtual_ms": smoltcp_virtual_ms,
        "payload_floor_gbps": floor_gbps,
        "ours_overhead_ns_per_segment": overhead_ns,
        "overhead_budget_ns_per_segment_at_ratio_2": budget_ns,
        "connections": conns,
        "ours_conn_per_s": ours_conn_per_s,
        "smoltcp_conn_per_s": smoltcp_conn_per_s,
        "idle_conn_bytes": idle_conn_bytes,
        "syn_queue_entry_bytes": syn_queue_entry_bytes,
        "demux_idle_connections": idle,
        "demux_100k_slowdown": demux_slowdown,
    });
    println!("{report}");
}
