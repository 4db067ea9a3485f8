//! TCP's rules that depend on time, observed on the simulated cards in simulated time: the
//! delayed ACK, keep-alive probes, TIME-WAIT for 2 MSL, and the retransmission timer's
//! back-off. Two hosts (stack on driver on the whole gateware) on one GMII wire, on the
//! simulated runtime; the timings are read off the wire capture, whose stamps are the
//! cards' clock. The timers are set short (milliseconds) so the cards need not simulate
//! seconds; the rules are the same.
use nic_sim::host::{Host, HostConfig};
use nic_sim::model::world::{start_simulated, WireFrame, WorldConfig, WorldReport};
use nic_sim::runtime::SimRuntime;
use nic_sim::sim_backend::SimBackend;
use nic_stack::tcp::{parse_segment, KeepaliveConfig, TcpConfig, ACK, RST};
use nic_stack::threaded::{TcpListener, TcpStream};
use nic_stack::wire::ethernet::{EtherType, EthernetRepr};
use nic_stack::wire::ipv4::{protocol, Ipv4Repr};
use std::io::{Read, Write};
use std::net::SocketAddrV4;
use std::time::Duration;

const DELAYED_ACK_MS: u64 = 5;
const KEEPALIVE_IDLE_MS: u64 = 10;
const MSL_MS: u64 = 5;
const RTO_MIN_MS: u32 = 2;

fn short_timers() -> TcpConfig {
    TcpConfig { delayed_ack_ms: DELAYED_ACK_MS, msl_ms: MSL_MS, rto_min_ms: RTO_MIN_MS, ..TcpConfig::default() }
}

/// Hosts A and B on the simulated runtime (the calling thread is host software too).
fn hosts(a_tcp: TcpConfig, b_tcp: TcpConfig) -> (SimRuntime, Host, Host) {
    let (sim, [a, b]) =
        start_simulated(&WorldConfig { capture: 100_000, ..WorldConfig::default() }).unwrap_or_else(|e| panic!("{e}"));
    sim.enter("test");
    let ha =
        Host::start(SimBackend::new(a, "a"), HostConfig { tcp: a_tcp, ..HostConfig::numbered("A", 1, 21) }).unwrap();
    let hb =
        Host::start(SimBackend::new(b, "b"), HostConfig { tcp: b_tcp, ..HostConfig::numbered("B", 2, 22) }).unwrap();
    (sim, ha, hb)
}

/// B connected to A's port 80; both ends.
fn connected(a: &Host, b: &Host) -> (TcpStream, TcpStream, TcpListener) {
    let t = Some(Duration::from_millis(100));
    let mut listener = TcpListener::bind(&a.net(), SocketAddrV4::new(a.config.ip, 80), 4).unwrap();
    listener.set_timeout(t);
    let client = TcpStream::connect(&b.net(), SocketAddrV4::new(a.config.ip, 80), t).unwrap();
    let server = listener.accept().unwrap();
    (client, server, listener)
}

/// A TCP segment on the wire: time (ns), sender (0 = A), sequence, ACK, payload length.
#[derive(Clone, Copy, Debug)]
struct Seg {
    t: u64,
    from: usize,
    seq: u32,
    ack: u32,
    len: usize,
    flags: u8,
}

/// The TCP segments of the capture, parsed by the stack's own parsers.
fn segments(wire: &[WireFrame]) -> Vec<Seg> {
    wire.iter()
        .filter_map(|f| {
            let frame = f.frame.bytes();
            EthernetRepr::parse(frame).ok().filter(|e| e.ethertype == EtherType::Ipv4)?;
            let packet = &frame[EthernetRepr::LEN..];
            let ip = Ipv4Repr::parse(packet).ok().filter(|ip| ip.protocol == protocol::TCP)?;
            let segment = &packet[ip.header_len..ip.header_len + ip.payload_len];
            let (h, payload) = parse_segment(segment, ip.src, ip.dst).ok()?;
            Some(Seg { t: f.time_ns, from: f.from, seq: h.seq.0, ack: h.ack.0, len: payload.len(), flags: h.flags })
        })
        .collect()
}

fn finish(sim: &SimRuntime, hosts: (Host, Host)) -> WorldReport {
    let report = sim.power_off();
    drop(hosts);
    sim.leave();
    report
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// `ns` is within `[want_ms - 1, want_ms]` ms plus `slack_us`: the stack's clock counts
/// whole milliseconds, so a timer set at t fires when that clock reads t + delay.
fn within_ms(ns: u64, want_ms: u64, slack_us: u64) -> bool {
    (want_ms * 1_000_000 - 1_000_000..=want_ms * 1_000_000 + slack_us * 1000).contains(&ns)
}

#[test]
fn delayed_ack_on_the_simulated_clock() {
    // B's retransmission timer is well above A's delayed ACK, so only the delay answers.
    let (sim, a, b) = hosts(short_timers(), TcpConfig { rto_min_ms: 20, ..short_timers() });
    let (mut client, server, _listener) = connected(&a, &b);
    let clock = b.net().runtime().clone();
    clock.sleep(Duration::from_micros(1500));
    // One small segment from B; A's application does not answer, so A's ACK waits.
    client.write_all(&[7u8; 100]).unwrap();
    clock.sleep(Duration::from_millis(2 * DELAYED_ACK_MS));
    let (sa, sb) = (a.stack_stats().1, b.stack_stats().1);
    drop((client, server));
    let segs = segments(&finish(&sim, (a, b)).wire);
    let data = segs.iter().find(|s| s.from == 1 && s.len == 100).expect("B's data on the wire");
    let ack = segs.iter().find(|s| s.from == 0 && s.t > data.t).expect("A's ACK");
    assert_eq!(ack.ack, data.seq.wrapping_add(100), "{ack:?}");
    let delay = ack.t - data.t;
    assert!(within_ms(delay, DELAYED_ACK_MS, 100), "A acknowledged after {} ms, not {DELAYED_ACK_MS} ms", ms(delay));
    assert_eq!(sa.delayed_acks, 1);
    assert_eq!(sb.retransmissions, 0);
}

#[test]
fn keepalive_probes_then_drop_a_silent_peer_on_the_simulated_clock() {
    const INTERVAL_MS: u64 = 3;
    let keepalive = KeepaliveConfig { idle_ms: KEEPALIVE_IDLE_MS, interval_ms: INTERVAL_MS, probes: 3 };
    let (sim, a, b) = hosts(short_timers(), TcpConfig { keepalive: Some(keepalive), ..short_timers() });
    let (client, server, listener) = connected(&a, &b);
    let clock = b.net().runtime().clone();
    // A answers B's first probe, then goes away (its driver resets its card).
    clock.sleep(Duration::from_millis(KEEPALIVE_IDLE_MS + 2));
    drop(a);
    clock.sleep(Duration::from_millis(KEEPALIVE_IDLE_MS + 4 * INTERVAL_MS + 2));
    let sb = b.stack_stats().1;
    drop((client, server, listener));
    let report = sim.power_off();
    drop(b);
    sim.leave();
    let segs = segments(&report.wire);
    let handshake_end = segs.iter().find(|s| s.from == 1 && s.flags == ACK).expect("B's handshake ACK");
    let probes: Vec<&Seg> =
        segs.iter().filter(|s| s.from == 1 && s.t > handshake_end.t && s.flags == ACK && s.len == 0).collect();
    assert_eq!(probes.len(), 4, "one answered probe, then three unanswered: {probes:?}");
    assert!(probes.iter().all(|p| p.seq == handshake_end.seq.wrapping_sub(1)), "a probe is one byte below SND.NXT");
    assert!(
        within_ms(probes[0].t - handshake_end.t, KEEPALIVE_IDLE_MS, 100),
        "first probe after {} ms",
        ms(probes[0].t - handshake_end.t)
    );
    let answer = segs.iter().find(|s| s.from == 0 && s.t > probes[0].t).expect("A answered the first probe");
    assert!(answer.t < probes[1].t);
    assert!(within_ms(probes[1].t - answer.t, KEEPALIVE_IDLE_MS, 100), "an answer restarts the idle time");
    for w in probes[1..].windows(2) {
        assert!(within_ms(w[1].t - w[0].t, INTERVAL_MS, 100), "unanswered probes every {INTERVAL_MS} ms: {probes:?}");
    }
    let reset = segs.iter().find(|s| s.from == 1 && s.flags & RST != 0).expect("B resets the dead connection");
    assert!(within_ms(reset.t - probes[3].t, INTERVAL_MS, 100), "dropped {INTERVAL_MS} ms after the last probe");
    assert_eq!(sb.keepalive_probes, 4);
    assert_eq!(sb.timeouts, 1);
}

#[test]
fn time_wait_lasts_two_msl_on_the_simulated_clock() {
    let (sim, a, b) = hosts(short_timers(), short_timers());
    let (client, mut server, _listener) = connected(&a, &b);
    let clock = b.net().runtime().clone();
    // B closes first, so B's end waits in TIME-WAIT once A's FIN arrives.
    client.shutdown_write().unwrap();
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).unwrap();
    drop(server); // A's FIN
    let fin_sent = clock.now_ns();
    // The stack's clock counts whole milliseconds, so TIME-WAIT lasts 2 MSL less up to 1 ms.
    let two_msl = Duration::from_millis(2 * MSL_MS);
    clock.sleep(two_msl - Duration::from_micros(1500));
    let before = b.stack_stats().1.time_wait_expired;
    clock.sleep(Duration::from_millis(2));
    let after = b.stack_stats().1.time_wait_expired;
    let elapsed = clock.now_ns() - fin_sent;
    drop(client);
    finish(&sim, (a, b));
    assert_eq!(before, 0, "TIME-WAIT ended more than 1 ms before 2 MSL");
    assert_eq!(after, 1, "TIME-WAIT still held {} ms after A's FIN (2 MSL = {} ms)", ms(elapsed), 2 * MSL_MS);
}

#[test]
fn retransmission_timeouts_back_off_on_the_simulated_clock() {
    let (sim, a, b) = hosts(short_timers(), short_timers());
    let (mut client, server, listener) = connected(&a, &b);
    let clock = b.net().runtime().clone();
    // A goes away: its driver resets its card, which then takes nothing off the wire.
    drop((server, listener));
    let b_host = b;
    drop(a);
    client.write_all(&[9u8; 100]).unwrap();
    clock.sleep(Duration::from_millis(25));
    let sb = b_host.stack_stats().1;
    drop(client);
    let report = sim.power_off();
    drop(b_host);
    sim.leave();
    let sends: Vec<u64> = segments(&report.wire).iter().filter(|s| s.from == 1 && s.len == 100).map(|s| s.t).collect();
    assert!(sends.len() >= 4, "the segment and its retransmissions: {sends:?}");
    assert_eq!(sb.rto_expirations, sends.len() as u64 - 1);
    // The first RTO from RFC 6298 (2.2): an RTT below the 1 ms granularity counts as 1 ms,
    // so SRTT + max(G, 4 RTTVAR) = 1 + 2 = 3 ms (above the 2 ms floor); then it doubles.
    let first_rto_ms = 3u64.max(u64::from(RTO_MIN_MS));
    let gaps: Vec<u64> = sends.windows(2).map(|w| w[1] - w[0]).collect();
    for (k, &gap) in gaps.iter().enumerate() {
        assert!(
            within_ms(gap, first_rto_ms << k, 100),
            "timeout {k} after {} ms, not {} ms: gaps {:?} ms",
            ms(gap),
            first_rto_ms << k,
            gaps.iter().map(|&g| ms(g)).collect::<Vec<_>>()
        );
    }
}
