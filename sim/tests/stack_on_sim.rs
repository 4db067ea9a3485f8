//! The whole card under the stack: two hosts, each the stack on the driver on a simulated
//! card (the full gateware), on one simulated wire. UDP and TCP through every layer, on the
//! simulated runtime (host time is the cards' time; the run is the same every time).
use nic_sim::host::{Host, HostConfig};
use nic_sim::model::world::{start_simulated, WorldConfig};
use nic_sim::runtime::SimRuntime;
use nic_sim::sim_backend::SimBackend;
use nic_stack::threaded::{TcpListener, TcpStream, UdpSocket};
use std::io::{Read, Write};
use std::net::SocketAddrV4;
use std::time::Duration;

fn hosts() -> (SimRuntime, Host, Host) {
    let (world, [a, b]) =
        start_simulated(&WorldConfig { capture: 10_000, ..WorldConfig::default() }).unwrap_or_else(|e| panic!("{e}"));
    world.enter("test");
    let ha = Host::start(SimBackend::new(a, "a"), HostConfig::numbered("a", 1, 11)).unwrap();
    let hb = Host::start(SimBackend::new(b, "b"), HostConfig::numbered("b", 2, 12)).unwrap();
    (world, ha, hb)
}

#[test]
fn udp_and_tcp_through_driver_and_gateware() {
    let (world, a, b) = hosts();
    let t = Some(Duration::from_secs(30));

    // UDP: B sends to A's port 7, A answers.
    let mut ua = UdpSocket::bind(&a.net(), SocketAddrV4::new(a.config.ip, 7)).unwrap();
    ua.set_read_timeout(t);
    let mut ub = UdpSocket::bind(&b.net(), SocketAddrV4::new(b.config.ip, 0)).unwrap();
    ub.set_read_timeout(t);
    ub.send_to(b"hello through the gateware", SocketAddrV4::new(a.config.ip, 7)).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = ua.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello through the gateware");
    ua.send_to(&buf[..n], from).unwrap();
    let (n, _) = ub.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello through the gateware");

    // TCP: 200 KiB from B to A, echoed back, byte-exact.
    let mut listener = TcpListener::bind(&a.net(), SocketAddrV4::new(a.config.ip, 80), 8).unwrap();
    listener.set_timeout(t);
    let data: Vec<u8> = (0..200 * 1024u32).map(|i| (i * 31 + i / 977) as u8).collect();
    let server = a
        .net()
        .runtime()
        .spawn("server", move || {
            let mut s = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30)));
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            s.write_all(&got).unwrap();
            s.shutdown_write().unwrap();
            got.len()
        })
        .unwrap();
    let mut c = TcpStream::connect(&b.net(), SocketAddrV4::new(a.config.ip, 80), t).unwrap();
    c.set_read_timeout(t);
    c.write_all(&data).unwrap();
    c.shutdown_write().unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(server.join().unwrap(), data.len());
    assert!(back == data, "echoed bytes differ");

    let (sa, ta) = a.stack_stats();
    assert!(sa.tcp_segments_rx > 100 && ta.segments_in > 100);
    assert_eq!(sa.ipv4_bad_checksum + sa.udp_bad_checksum + ta.bad_checksum, 0);
    assert!(sa.tcp_rx_checksum_assisted > 0, "the card's checksum assist was used");
    assert_eq!(ta.retransmissions + b.stack_stats().1.retransmissions, 0, "a clean wire, simulated time: no RTO fires");
    let report = world.power_off();
    drop((ua, ub, c));
    drop((a, b));
    world.leave();
    assert!(report.bus_violations.is_empty(), "{:?}", report.bus_violations);
    assert!(report.msi_sent[0][0] > 0 && report.msi_sent[1][0] > 0, "RX interrupts delivered: {:?}", report.msi_sent);
    assert!(report.wire.len() > 200, "the wire capture saw the traffic");
}
