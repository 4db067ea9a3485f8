//! Two engines on a seeded in-memory link with a virtual clock: delay, loss, reordering,
//! duplication and corruption, all drawn from one seed. A failing run prints its seed;
//! `TCP_TEST_SEED=<n>` replays one.

use crate::tcp::{TcpConfig, TcpEngine, TcpHandle, TcpState};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;

pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
const CLIENT: usize = 0;
const SERVER: usize = 1;

#[derive(Clone, Copy, Debug)]
pub struct Impairments {
    pub delay_ms: u64,
    pub loss: f64,
    /// Probability that a packet is held back 1..=reorder_extra_ms longer than the others.
    pub reorder: f64,
    pub reorder_extra_ms: u64,
    pub duplicate: f64,
    pub corrupt: f64,
}

impl Impairments {
    pub fn clean() -> Self {
        Impairments { delay_ms: 1, loss: 0.0, reorder: 0.0, reorder_extra_ms: 0, duplicate: 0.0, corrupt: 0.0 }
    }
}

struct InFlight {
    at: u64,
    order: u64,
    to: usize,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    bytes: Vec<u8>,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

pub struct Network {
    pub now: u64,
    pub engines: [TcpEngine; 2],
    link: Impairments,
    rng: ChaCha8Rng,
    wire: BinaryHeap<Reverse<InFlight>>,
    order: u64,
    pub packets: u64,
    /// A hash of every segment sent (source, destination, bytes), in order: two runs
    /// that sent the same traffic have the same.
    pub traffic: u64,
}

type Outbox = Vec<(Ipv4Addr, Ipv4Addr, Vec<u8>)>;

impl Network {
    pub fn new(seed: u64, link: Impairments, client: TcpConfig, server: TcpConfig) -> Self {
        Network {
            now: 0,
            engines: [TcpEngine::new(client, seed ^ 0xc1), TcpEngine::new(server, seed ^ 0x5e)],
            link,
            rng: ChaCha8Rng::seed_from_u64(seed),
            wire: BinaryHeap::new(),
            order: 0,
            packets: 0,
            traffic: 0xcbf2_9ce4_8422_2325,
        }
    }

    /// Runs `f` on one engine with an output that feeds the link.
    pub fn with<R>(&mut self, side: usize, f: impl FnOnce(&mut TcpEngine, u64, &mut crate::tcp::Output) -> R) -> R {
        let mut outbox: Outbox = Vec::new();
        let result = f(&mut self.engines[side], self.now, &mut |s, d, b: &[u8]| outbox.push((s, d, b.to_vec())));
        self.transmit(outbox);
        result
    }

    pub fn client<R>(&mut self, f: impl FnOnce(&mut TcpEngine, u64, &mut crate::tcp::Output) -> R) -> R {
        self.with(CLIENT, f)
    }

    pub fn server<R>(&mut self, f: impl FnOnce(&mut TcpEngine, u64, &mut crate::tcp::Output) -> R) -> R {
        self.with(SERVER, f)
    }

    fn transmit(&mut self, outbox: Outbox) {
        for (src, dst, mut bytes) in outbox {
            self.packets += 1;
            for byte in src.octets().iter().chain(&dst.octets()).chain(&bytes) {
                self.traffic = (self.traffic ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3);
                // FNV-1a
            }
            let to = if dst == SERVER_IP { SERVER } else { CLIENT };
            if self.rng.gen_bool(self.link.loss) {
                continue;
            }
            if self.rng.gen_bool(self.link.corrupt) && !bytes.is_empty() {
                let at = self.rng.gen_range(0..bytes.len());
                bytes[at] ^= 1 << self.rng.gen_range(0..8);
            }
            let copies = if self.rng.gen_bool(self.link.duplicate) { 2 } else { 1 };
            for _ in 0..copies {
                let mut at = self.now + self.link.delay_ms;
                if self.rng.gen_bool(self.link.reorder) {
                    at += self.rng.gen_range(1..=self.link.reorder_extra_ms.max(1));
                }
                self.order += 1;
                self.wire.push(Reverse(InFlight { at, order: self.order, to, src, dst, bytes: bytes.clone() }));
            }
        }
    }

    /// Advances the clock to the next delivery or timer and handles everything due then.
    /// Returns false when nothing at all is pending.
    pub fn step(&mut self) -> bool {
        let next_packet = self.wire.peek().map(|Reverse(p)| p.at);
        let next_timer = self.engines.iter().filter_map(|e| e.next_timer()).min();
        let Some(next) = [next_packet, next_timer].into_iter().flatten().min() else { return false };
        self.now = self.now.max(next);
        while self.wire.peek().is_some_and(|Reverse(p)| p.at <= self.now) {
            let Reverse(packet) = self.wire.pop().expect("peeked");
            self.with(packet.to, |engine, now, out| engine.on_segment(now, packet.src, packet.dst, &packet.bytes, out));
        }
        for side in [CLIENT, SERVER] {
            if self.engines[side].next_timer().is_some_and(|t| t <= self.now) {
                self.with(side, |engine, now, out| engine.poll_timers(now, out));
            }
        }
        true
    }
}

/// The seed for a randomized test: `TCP_TEST_SEED` or the given default. Printed, so a
/// failure's output names it.
pub fn test_seed(default: u64) -> u64 {
    let seed = std::env::var("TCP_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    eprintln!("seed = {seed} (replay with TCP_TEST_SEED={seed})");
    seed
}

fn lossy() -> Impairments {
    Impairments { delay_ms: 5, loss: 0.05, reorder: 0.1, reorder_extra_ms: 8, duplicate: 0.01, corrupt: 0.01 }
}

/// Client sends `size` seeded bytes, server reads them all, both close; returns the network
/// after both sides reached CLOSED (through TIME-WAIT on the client).
fn bulk_transfer(seed: u64, size: usize, link: Impairments) -> Network {
    bulk_transfer_with(seed, size, link, TcpConfig { msl_ms: 2_000, ..TcpConfig::default() })
}

fn bulk_transfer_with(seed: u64, size: usize, link: Impairments, cfg: TcpConfig) -> Network {
    let mut net = Network::new(seed, link, cfg.clone(), cfg);
    let mut data = vec![0u8; size];
    ChaCha8Rng::seed_from_u64(seed ^ 0xda7a).fill_bytes(&mut data);

    let listener = net.server(|e, _, _| e.listen((SERVER_IP, 5001), 8)).unwrap();
    let client = net.client(|e, now, out| e.connect(now, CLIENT_IP, (SERVER_IP, 5001), out)).unwrap();
    let mut server: Option<TcpHandle> = None;
    let mut sent = 0;
    let mut received = Vec::with_capacity(size);
    let mut client_closed = false;
    let mut server_closed = false;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = 3_600_000; // one virtual hour
    while net.now < deadline {
        if !net.step() {
            break;
        }
        if server.is_none() {
            server = net.server(|e, _, _| e.accept(listener)).unwrap();
        }
        if sent < size && net.client(|e, _, _| e.state(client)) == Some(TcpState::Established) {
            if let Ok(n) = net.client(|e, now, out| e.send(now, client, &data[sent..], out)) {
                sent += n;
            }
        }
        if sent == size && !client_closed {
            net.client(|e, now, out| e.close(now, client, out)).unwrap();
            client_closed = true;
        }
        if let Some(s) = server.filter(|_| !server_closed) {
            loop {
                match net.server(|e, _, _| e.recv(s, &mut buf)) {
                    Ok(0) => {
                        net.server(|e, now, out| e.close(now, s, out)).unwrap();
                        server_closed = true;
                        break;
                    }
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                    Err(_) => break,
                }
            }
        }
        if server_closed && net.engines.iter().all(|e| e.connection_count() == 0) {
            break;
        }
    }
    eprintln!(
        "virtual time {} ms, {} packets; client {:?}; server {:?}",
        net.now,
        net.packets,
        net.engines[CLIENT].stats(),
        net.engines[SERVER].stats()
    );
    assert_eq!(received.len(), size, "seed {seed}: bytes received");
    assert!(received == data, "seed {seed}: data differs");
    assert!(server_closed, "seed {seed}: server saw the end of stream");
    assert_eq!(net.engines[CLIENT].connection_count(), 0, "seed {seed}: client finished TIME-WAIT");
    assert_eq!(net.engines[SERVER].connection_count(), 0, "seed {seed}: server finished LAST-ACK");
    net
}

#[test]
fn bulk_transfer_on_a_clean_link_needs_no_retransmission() {
    let net = bulk_transfer(test_seed(1), 1 << 20, Impairments::clean());
    for engine in &net.engines {
        assert_eq!(engine.stats().retransmissions, 0);
        assert_eq!(engine.stats().bad_checksum, 0);
    }
    assert_eq!(net.engines[CLIENT].stats().time_wait_expired, 1, "the active closer went through TIME-WAIT");
}

#[test]
fn four_mib_arrive_byte_exact_at_5_percent_loss_with_reordering() {
    let net = bulk_transfer(test_seed(2), 4 << 20, lossy());
    let client = net.engines[CLIENT].stats();
    let server = net.engines[SERVER].stats();
    assert!(client.retransmissions > 0 && client.fast_retransmits > 0, "{client:?}");
    assert!(server.ooo_queued > 0, "reordering reached the receiver: {server:?}");
    assert!(server.bad_checksum + client.bad_checksum > 0, "corruption was caught by the checksum");
    assert_eq!(client.time_wait_expired, 1);
}

#[test]
fn header_prediction_changes_no_byte_sent_on_a_lossy_link() {
    let seed = test_seed(21);
    let predicted = bulk_transfer(seed, 2 << 20, lossy());
    crate::tcp::input::HEADER_PREDICTION.set(false);
    let general = bulk_transfer(seed, 2 << 20, lossy());
    crate::tcp::input::HEADER_PREDICTION.set(true);
    let hits = predicted.engines[SERVER].stats().header_predicted;
    assert!(hits > 500, "in-order data took the predicted path: {hits}");
    assert_eq!(general.engines[SERVER].stats().header_predicted, 0);
    assert!(predicted.engines[CLIENT].stats().retransmissions > 10, "the link was lossy");
    assert_eq!((predicted.packets, predicted.traffic), (general.packets, general.traffic), "seed {seed}");
}

#[test]
#[ignore = "bigger variant: cargo test -- --ignored"]
fn many_seeds_and_32_mib_at_5_percent_loss() {
    for seed in 100..110 {
        bulk_transfer(seed, 4 << 20, lossy());
    }
    bulk_transfer(test_seed(3), 32 << 20, lossy());
}

/// 1,000 clients (one engine, ephemeral ports) against a listener with backlog 16.
fn many_clients(seed: u64, clients: usize, backlog: usize, link: Impairments) -> Network {
    let cfg = TcpConfig { msl_ms: 1_000, recv_buffer: 16 * 1024, send_buffer: 16 * 1024, ..TcpConfig::default() };
    let mut net = Network::new(seed, link, cfg.clone(), cfg);
    let listener = net.server(|e, _, _| e.listen((SERVER_IP, 80), backlog)).unwrap();
    let mut pending: Vec<(TcpHandle, bool, Vec<u8>)> = Vec::new();
    for _ in 0..clients {
        let h = net.client(|e, now, out| e.connect(now, CLIENT_IP, (SERVER_IP, 80), out)).unwrap();
        pending.push((h, false, Vec::new()));
    }
    let mut served_conns: Vec<(TcpHandle, Vec<u8>)> = Vec::new();
    let mut served = 0;
    let mut buf = [0u8; 256];
    while net.now < 600_000 {
        if !net.step() {
            break;
        }
        // Server: accept everything, answer each 8-byte request with its reverse, close.
        while let Some(conn) = net.server(|e, _, _| e.accept(listener)).unwrap() {
            served_conns.push((conn, Vec::new()));
        }
        served_conns.retain_mut(|(conn, request)| {
            let conn = *conn;
            if let Ok(n) = net.server(|e, _, _| e.recv(conn, &mut buf)) {
                request.extend_from_slice(&buf[..n]);
            }
            if request.len() == 8 {
                let reply: Vec<u8> = request.iter().rev().copied().collect();
                net.server(|e, now, out| e.send(now, conn, &reply, out)).unwrap();
                net.server(|e, now, out| e.close(now, conn, out)).unwrap();
                return false;
            }
            true
        });
        // Clients: send the request once connected, read the reply until EOF, close.
        pending.retain_mut(|(h, asked, reply)| {
            let h = *h;
            let state = net.client(|e, _, _| e.state(h));
            if !*asked && state == Some(TcpState::Established) {
                let request = (h.0 as u64).to_be_bytes();
                assert_eq!(net.client(|e, now, out| e.send(now, h, &request, out)), Ok(8));
                *asked = true;
            }
            if *asked {
                match net.client(|e, _, _| e.recv(h, &mut buf)) {
                    Ok(0) => {
                        let expected: Vec<u8> = (h.0 as u64).to_be_bytes().iter().rev().copied().collect();
                        assert_eq!(*reply, expected, "seed {seed}: reply for {h:?}");
                        net.client(|e, now, out| e.close(now, h, out)).unwrap();
                        served += 1;
                        return false;
                    }
                    Ok(n) => reply.extend_from_slice(&buf[..n]),
                    Err(_) => {}
                }
            }
            assert_ne!(
                state,
                Some(TcpState::Closed),
                "seed {seed}: client {h:?} failed: {:?}",
                net.client(|e, _, _| e.recv(h, &mut buf))
            );
            true
        });
        if pending.is_empty() && net.engines.iter().all(|e| e.connection_count() == 0) {
            break;
        }
    }
    assert_eq!(served, clients, "seed {seed}: every client served");
    assert_eq!(net.engines[CLIENT].connection_count(), 0, "seed {seed}: all closed through TIME-WAIT");
    assert_eq!(net.engines[SERVER].connection_count(), 0, "seed {seed}");
    net
}

#[test]
fn a_thousand_clients_through_a_backlog_of_16_are_all_served() {
    let net = many_clients(test_seed(4), 1000, 16, Impairments::clean());
    let server = net.engines[SERVER].stats();
    assert!(server.syn_queue_drops > 0, "the burst overflowed the backlog: {server:?}");
    assert_eq!(server.established, 1000);
    // The server closes first (reply, then FIN), so it is the side that waits in TIME-WAIT.
    assert_eq!(server.time_wait_expired, 1000, "{server:?}");
    assert!(net.engines[CLIENT].stats().rto_expirations > 0, "refused SYNs were retried");
}

#[test]
fn a_hundred_clients_on_a_lossy_link_are_all_served() {
    many_clients(test_seed(5), 100, 4, lossy());
}

#[test]
#[ignore = "bigger variant: cargo test -- --ignored"]
fn harsh_links_and_odd_configurations_across_100_seeds() {
    // 15 % loss, 30 % reordering, 5 % duplication and corruption; buffers from 3 KB,
    // timestamps, window scaling and Nagle each on and off.
    let harsh =
        Impairments { delay_ms: 3, loss: 0.15, reorder: 0.3, reorder_extra_ms: 20, duplicate: 0.05, corrupt: 0.05 };
    for seed in 300..400u64 {
        let cfg = TcpConfig {
            msl_ms: 2_000,
            timestamps: seed % 2 == 0,
            window_scaling: seed % 3 == 0,
            recv_buffer: 4096 + (seed as usize % 7) * 5000,
            send_buffer: 3000 + (seed as usize % 5) * 7000,
            nagle: seed % 4 != 0,
            max_ooo_segments: 1 + seed as usize % 8,
            ..TcpConfig::default()
        };
        let net = bulk_transfer_with(seed, 300_000, harsh, cfg);
        assert!(net.now < 300_000, "seed {seed}: 300 kB took {} virtual ms", net.now);
    }
}

/// One side of a conversation: what it will say, what it heard, how it behaves.
struct Talker {
    handle: Option<TcpHandle>,
    to_send: Vec<u8>,
    sent: usize,
    shut: bool,
    heard: Vec<u8>,
    eof: bool,
    closed: bool,
}

impl Talker {
    fn new(rng: &mut ChaCha8Rng, max_len: usize) -> Self {
        let mut to_send = vec![0u8; rng.gen_range(0..=max_len)];
        rng.fill_bytes(&mut to_send);
        Talker { handle: None, to_send, sent: 0, shut: false, heard: Vec::new(), eof: false, closed: false }
    }

    /// One turn: maybe write, maybe read (a talker that skips reads fills the peer's window).
    fn act(&mut self, net: &mut Network, side: usize, rng: &mut ChaCha8Rng) {
        let Some(h) = self.handle else { return };
        if self.closed {
            return;
        }
        if self.sent < self.to_send.len() && rng.gen_bool(0.7) {
            let end = (self.sent + rng.gen_range(1..20_000)).min(self.to_send.len());
            if let Ok(n) = net.with(side, |e, now, out| e.send(now, h, &self.to_send[self.sent..end], out)) {
                self.sent += n;
            }
        }
        if self.sent == self.to_send.len() && !self.shut {
            net.with(side, |e, now, out| e.shutdown_write(now, h, out)).unwrap();
            self.shut = true;
        }
        if rng.gen_bool(0.5) {
            let mut buf = vec![0u8; rng.gen_range(1..30_000)];
            match net.with(side, |e, _, _| e.recv(h, &mut buf)) {
                Ok(0) => self.eof = true,
                Ok(n) => self.heard.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        if self.shut && self.eof {
            net.with(side, |e, now, out| e.close(now, h, out)).unwrap();
            self.closed = true;
        }
    }
}

/// Both sides send random amounts while reading at random moments, half-close when done,
/// close after the peer's FIN; both streams must arrive intact and both ends finish.
fn conversation(seed: u64, link: Impairments, max_len: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7a1c);
    let cfg = TcpConfig {
        msl_ms: 1_000,
        recv_buffer: rng.gen_range(2_000..100_000),
        send_buffer: rng.gen_range(2_000..100_000),
        timestamps: rng.gen_bool(0.5),
        window_scaling: rng.gen_bool(0.5),
        nagle: rng.gen_bool(0.5),
        ..TcpConfig::default()
    };
    let mut net = Network::new(seed, link, cfg.clone(), cfg);
    let listener = net.server(|e, _, _| e.listen((SERVER_IP, 7), 1)).unwrap();
    let mut client = Talker::new(&mut rng, max_len);
    let mut server = Talker::new(&mut rng, max_len);
    client.handle = Some(net.client(|e, now, out| e.connect(now, CLIENT_IP, (SERVER_IP, 7), out)).unwrap());
    while net.now < 3_600_000 {
        if !net.step() {
            net.now += 1; // the engines are idle; the applications still have work
        }
        if server.handle.is_none() {
            server.handle = net.server(|e, _, _| e.accept(listener)).unwrap();
        }
        client.act(&mut net, CLIENT, &mut rng);
        server.act(&mut net, SERVER, &mut rng);
        if client.closed && server.closed && net.engines.iter().all(|e| e.connection_count() == 0) {
            break;
        }
    }
    eprintln!("now={} client sent {}/{} shut={} eof={} closed={} heard={} state={:?}; server sent {}/{} shut={} eof={} closed={} heard={} state={:?}", net.now,
        client.sent, client.to_send.len(), client.shut, client.eof, client.closed, client.heard.len(), client.handle.and_then(|h| net.engines[CLIENT].state(h)),
        server.sent, server.to_send.len(), server.shut, server.eof, server.closed, server.heard.len(), server.handle.and_then(|h| net.engines[SERVER].state(h)));
    eprintln!("client {:?}\nserver {:?}", net.engines[CLIENT].stats(), net.engines[SERVER].stats());
    assert!(
        client.heard == server.to_send,
        "seed {seed}: server -> client stream ({} of {} bytes)",
        client.heard.len(),
        server.to_send.len()
    );
    assert!(
        server.heard == client.to_send,
        "seed {seed}: client -> server stream ({} of {} bytes)",
        server.heard.len(),
        client.to_send.len()
    );
    assert!(client.closed && server.closed, "seed {seed}: both saw the end of stream");
    assert_eq!(
        net.engines[CLIENT].connection_count() + net.engines[SERVER].connection_count(),
        0,
        "seed {seed}: both finished"
    );
}

#[test]
fn random_two_way_conversations_with_half_close_arrive_intact() {
    let base = test_seed(20);
    for seed in base..base + 10 {
        conversation(seed, lossy(), 200_000);
    }
}

#[test]
#[ignore = "bigger variant: cargo test -- --ignored"]
fn random_two_way_conversations_on_harsh_links() {
    let harsh =
        Impairments { delay_ms: 3, loss: 0.15, reorder: 0.3, reorder_extra_ms: 20, duplicate: 0.05, corrupt: 0.05 };
    for seed in std::env::var("SEEDS").ok().and_then(|v| v.parse::<u64>().ok()).map_or(1_000..1_200, |s| s..s + 1) {
        conversation(seed, harsh, 300_000);
    }
}

/// Both engines connect to each other at the same moment (simultaneous open), talk, and
/// close at the same moment (simultaneous close): both pass through CLOSING and TIME-WAIT.
#[test]
fn simultaneous_open_and_close_between_two_engines() {
    let cfg = TcpConfig { msl_ms: 1_000, ..TcpConfig::default() };
    let mut net = Network::new(test_seed(30), Impairments::clean(), cfg.clone(), cfg);
    let a = net.client(|e, now, out| e.connect_from(now, (CLIENT_IP, 4000), (SERVER_IP, 5000), out)).unwrap();
    let b = net.server(|e, now, out| e.connect_from(now, (SERVER_IP, 5000), (CLIENT_IP, 4000), out)).unwrap();
    let established = |net: &Network| {
        net.engines[CLIENT].state(a) == Some(TcpState::Established)
            && net.engines[SERVER].state(b) == Some(TcpState::Established)
    };
    while !established(&net) && net.step() {}
    assert!(established(&net), "both SYNs crossed and both sides are established");
    assert!(net.engines.iter().all(|e| e.stats().passive_opens == 0), "no listener was involved");
    net.client(|e, now, out| e.send(now, a, b"from a", out)).unwrap();
    net.server(|e, now, out| e.send(now, b, b"from b", out)).unwrap();
    for _ in 0..20 {
        net.step();
    }
    let mut buf = [0u8; 16];
    let n = net.server(|e, _, _| e.recv(b, &mut buf)).unwrap();
    assert_eq!(&buf[..n], b"from a");
    let n = net.client(|e, _, _| e.recv(a, &mut buf)).unwrap();
    assert_eq!(&buf[..n], b"from b");
    // Both FINs cross on the wire.
    net.client(|e, now, out| e.shutdown_write(now, a, out)).unwrap();
    net.server(|e, now, out| e.shutdown_write(now, b, out)).unwrap();
    let mut saw_closing = false;
    while net.engines[CLIENT].state(a) != Some(TcpState::TimeWait)
        || net.engines[SERVER].state(b) != Some(TcpState::TimeWait)
    {
        assert!(net.step(), "stalled before TIME-WAIT");
        saw_closing |= net.engines[CLIENT].state(a) == Some(TcpState::Closing);
    }
    assert!(saw_closing, "FIN-WAIT-1 -> CLOSING on the crossing FIN");
    while net.step() {}
    assert_eq!(net.engines[CLIENT].state(a), Some(TcpState::Closed));
    assert_eq!(net.engines[SERVER].state(b), Some(TcpState::Closed));
    assert!(net.engines.iter().all(|e| e.stats().time_wait_expired == 1), "both waited 2 MSL");
    assert!(!net.engines[CLIENT].is_tuple_in_use((CLIENT_IP, 4000), (SERVER_IP, 5000)));
}
