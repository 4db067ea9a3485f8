//! Ping, ARP, UDP and reassembly between stacks on the in-memory network.

mod common;

use std::net::SocketAddrV4;

use common::*;
use nic_stack::memnet::{LinkConfig, Network};
use nic_stack::wire::arp::{ArpOp, ArpRepr};
use nic_stack::wire::ethernet::{EtherType, EthernetRepr, MacAddr};
use nic_stack::wire::icmp::{unreachable, IcmpRepr};
use nic_stack::wire::ipv4::{protocol, Ipv4Repr};

#[test]
fn every_stack_announces_itself_with_a_gratuitous_arp() {
    let net = Network::new(1, quiet_link());
    net.start_capture();
    let mut hosts = hosts(&net, 2, 1);
    net.run(&mut hosts, 0, |_, _| false);
    let frames = net.take_capture();
    assert_eq!(frames.len(), 2);
    for (port, frame) in frames {
        let n = port as u8 + 1;
        let eth = EthernetRepr::parse(&frame).unwrap();
        assert_eq!((eth.dst, eth.src, eth.ethertype), (MacAddr::BROADCAST, mac(n), EtherType::Arp));
        let arp = ArpRepr::parse(&frame[14..]).unwrap();
        assert_eq!((arp.op, arp.sender_ip, arp.target_ip, arp.sender_mac), (ArpOp::Request, ip(n), ip(n), mac(n)));
    }
}

#[test]
fn ping_resolves_arp_and_gets_a_byte_exact_reply() {
    let seed = 2;
    let net = Network::new(seed, quiet_link());
    let mut hosts = hosts(&net, 2, seed);
    hosts[0].stack.ping(0, ip(2), 0x42, 1, b"are you there?");
    let mut reply = None;
    run_until(&net, &mut hosts, 1000, seed, "ping", |_, h| {
        reply = h[0].stack.take_echo_reply();
        reply.is_some()
    });
    let reply = reply.unwrap();
    assert_eq!((reply.from, reply.ident, reply.seq, reply.payload_len), (ip(2), 0x42, 1, 14));
    let (a, b) = (hosts[0].stack.stats(), hosts[1].stack.stats());
    assert_eq!(a.arp_requests_tx, 2, "gratuitous + one for the ping");
    assert_eq!((b.arp_replies_tx, b.icmp_echo_requests_rx, b.icmp_echo_replies_tx), (1, 1, 1));
    assert!(hosts[1].stack.arp_cache().contains(ip(1)), "a request aimed at us teaches the sender");
}

#[test]
fn ping_to_nobody_retries_arp_then_drops_the_packet() {
    let seed = 3;
    let net = Network::new(seed, quiet_link());
    let mut hosts = hosts(&net, 1, seed);
    hosts[0].stack.ping(0, ip(99), 1, 1, b"x");
    let timed_out = net.run(&mut hosts, 10_000, |_, h| h[0].stack.stats().arp_pending_timeout == 1);
    assert!(timed_out);
    let s = hosts[0].stack.stats();
    assert_eq!(s.arp_requests_tx, 1 + 3, "gratuitous + request_attempts");
    assert!(net.now() >= 3000, "3 attempts, 1 s apart");
}

#[test]
fn the_arp_pending_queue_is_bounded() {
    let net = Network::new(4, quiet_link());
    let mut hosts = hosts(&net, 1, 4);
    let max = hosts[0].stack.config().arp.pending_max;
    for seq in 0..max + 5 {
        hosts[0].stack.ping(0, ip(99), 1, seq as u16, b"x");
    }
    assert_eq!(hosts[0].stack.stats().arp_pending_full, 5);
    assert_eq!(hosts[0].stack.arp_cache().pending_count(), max);
}

#[test]
fn udp_echo_round_trip_with_and_without_the_checksum_assist() {
    for assist in [false, true] {
        let seed = 5;
        let net = Network::new(seed, quiet_link());
        let mut hosts = vec![host_with(&net, config(1), assist, seed), host_with(&net, config(2), assist, seed + 1)];
        let server = hosts[1].stack.udp_bind(7).unwrap();
        let client = hosts[0].stack.udp_bind(0).unwrap();
        let client_port = hosts[0].stack.udp_local_port(client).unwrap();
        hosts[0].stack.udp_send_to(0, client, SocketAddrV4::new(ip(2), 7), b"echo me").unwrap();
        let mut got = Vec::new();
        run_until(&net, &mut hosts, 1000, seed, "udp echo", |now, h| {
            let mut buf = [0u8; 64];
            if let Ok((n, from)) = h[1].stack.udp_recv_from(server, &mut buf) {
                assert_eq!(from, SocketAddrV4::new(ip(1), client_port));
                h[1].stack.udp_send_to(now, server, from, &buf[..n]).unwrap();
            }
            if let Ok((n, from)) = h[0].stack.udp_recv_from(client, &mut buf) {
                assert_eq!(from, SocketAddrV4::new(ip(2), 7));
                got = buf[..n].to_vec();
            }
            !got.is_empty()
        });
        assert_eq!(got, b"echo me", "assist {assist}");
        assert_eq!(hosts[1].stack.stats().udp_rx, 1);
    }
}

#[test]
fn udp_to_a_closed_port_gets_a_rate_limited_port_unreachable() {
    let seed = 6;
    let net = Network::new(seed, quiet_link());
    let mut hosts = hosts(&net, 2, seed);
    let client = hosts[0].stack.udp_bind(0).unwrap();
    for _ in 0..25 {
        hosts[0].stack.udp_send_to(0, client, SocketAddrV4::new(ip(2), 9999), b"anyone?").unwrap();
    }
    net.run(&mut hosts, 50, |_, _| false);
    let burst = u64::from(hosts[1].stack.config().icmp_error_burst);
    let b = hosts[1].stack.stats();
    assert_eq!(b.udp_no_socket, 25);
    assert_eq!((b.icmp_unreachable_tx, b.icmp_rate_limited), (burst, 25 - burst));
    assert_eq!(hosts[0].stack.stats().icmp_unreachable_rx, burst);
}

#[test]
fn an_unknown_protocol_gets_protocol_unreachable_quoting_the_packet() {
    let seed = 7;
    let net = Network::new(seed, quiet_link());
    let mut hosts = hosts(&net, 1, seed);
    let mut raw = RawPort::new(&net);
    let header = ipv4_header(ip(9), ip(1), 99, 12);
    net.inject(raw.port.index(), ipv4_frame(mac(1), mac(9), &header, b"twelve bytes"));
    net.run(&mut hosts, 20, |_, _| false);
    assert_eq!(hosts[0].stack.stats().ipv4_unknown_protocol, 1);
    // The reply waits for ARP (we never answer), so answer the request by hand.
    let arp_reply =
        ArpRepr { op: ArpOp::Reply, sender_mac: mac(9), sender_ip: ip(9), target_mac: mac(1), target_ip: ip(1) };
    let mut body = [0u8; 28];
    arp_reply.emit(&mut body);
    raw.received();
    net.inject(raw.port.index(), ethernet(mac(1), mac(9), EtherType::Arp, &body));
    net.run(&mut hosts, 40, |_, _| false);
    let frames = raw.received();
    let icmp_frame = frames.iter().find(|f| f.data()[12..14] == [8, 0]).expect("an IPv4 frame back");
    let ip_hdr = Ipv4Repr::parse(&icmp_frame.data()[14..]).unwrap();
    assert_eq!((ip_hdr.src, ip_hdr.dst, ip_hdr.protocol), (ip(1), ip(9), protocol::ICMP));
    let msg = &icmp_frame.data()[34..];
    assert_eq!(
        IcmpRepr::parse(msg, None),
        Ok(IcmpRepr::DstUnreachable { code: unreachable::PROTOCOL, next_hop_mtu: 0 })
    );
    assert_eq!(msg[8 + 9], 99, "quoted header carries the protocol");
    assert_eq!(&msg[8 + 20..], b"twelve b", "quote = header + first 8 payload bytes");
}

#[test]
fn large_udp_datagrams_are_fragmented_and_reassembled_byte_exact() {
    for mtu in [1500, 576] {
        let seed = 8;
        let net = Network::new(seed, LinkConfig { mtu, ..quiet_link() });
        let mut hosts = hosts(&net, 2, seed);
        let server = hosts[1].stack.udp_bind(5000).unwrap();
        let client = hosts[0].stack.udp_bind(0).unwrap();
        let payload: Vec<u8> = (0..9000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        hosts[0].stack.udp_send_to(0, client, SocketAddrV4::new(ip(2), 5000), &payload).unwrap();
        let mut buf = vec![0u8; 10_000];
        let mut got = None;
        run_until(&net, &mut hosts, 1000, seed, "fragmented udp", |_, h| {
            got = h[1].stack.udp_recv_from(server, &mut buf).ok().map(|(n, _)| n);
            got.is_some()
        });
        assert_eq!(&buf[..got.unwrap()], payload.as_slice(), "mtu {mtu}");
        let fragments = 9008_usize.div_ceil((mtu - 20) / 8 * 8);
        assert_eq!(hosts[0].stack.stats().ipv4_fragments_tx, fragments as u64, "mtu {mtu}");
        assert_eq!(hosts[1].stack.stats().reasm_ok, 1);
        assert_eq!(net.stats().too_big, 0, "no fragment exceeds the link MTU");
    }
}

#[test]
fn reassembly_survives_reordering_duplication_and_loss_and_never_delivers_damage() {
    for seed in 0..6 {
        let link = LinkConfig { delay_ms: 1, jitter_ms: 5, loss: 0.05, duplicate: 0.1, corrupt: 0.05, mtu: 600 };
        let net = Network::new(seed, link);
        let mut hosts = hosts(&net, 2, seed);
        // ARP first on a clean wire, so the test is about fragments.
        hosts[0].stack.ping(0, ip(2), 1, 1, b"");
        net.set_config(quiet_link());
        run_until(&net, &mut hosts, 100, seed, "arp", |_, h| h[0].stack.take_echo_reply().is_some());
        net.set_config(LinkConfig { delay_ms: 1, jitter_ms: 5, loss: 0.05, duplicate: 0.1, corrupt: 0.05, mtu: 600 });
        let server = hosts[1].stack.udp_bind(5000).unwrap();
        let client = hosts[0].stack.udp_bind(0).unwrap();
        let datagrams: Vec<Vec<u8>> = (0..20u8).map(|k| vec![k; 2000 + usize::from(k)]).collect();
        for d in &datagrams {
            hosts[0].stack.udp_send_to(net.now(), client, SocketAddrV4::new(ip(2), 5000), d).unwrap();
        }
        let mut received = Vec::new();
        net.run(&mut hosts, 60_000, |_, h| {
            let mut buf = [0u8; 4096];
            while let Ok((n, _)) = h[1].stack.udp_recv_from(server, &mut buf) {
                received.push(buf[..n].to_vec());
            }
            false
        });
        for r in &received {
            assert!(datagrams.contains(r), "a damaged datagram was delivered (seed {seed})");
        }
        let s = hosts[1].stack.stats();
        assert!(received.len() >= 5, "most datagrams should make it (seed {seed}): {}", received.len());
        assert!(s.reasm_duplicate > 0 || net.stats().duplicated == 0, "seed {seed}");
        assert_eq!(hosts[1].stack.reassembler().mem_used(), 0, "everything completed or timed out (seed {seed})");
        assert_eq!(received.len() as u64, s.udp_rx - s.udp_bad_checksum, "seed {seed}");
    }
}

#[test]
fn a_gratuitous_arp_updates_a_known_neighbor_and_a_stranger_is_not_learned() {
    let seed = 9;
    let net = Network::new(seed, quiet_link());
    let mut hosts = hosts(&net, 2, seed);
    let raw = RawPort::new(&net);
    hosts[0].stack.ping(0, ip(2), 1, 1, b"");
    run_until(&net, &mut hosts, 100, seed, "ping", |_, h| h[0].stack.take_echo_reply().is_some());
    let announce = |sender_mac: MacAddr, sender_ip| {
        let mut body = [0u8; 28];
        ArpRepr { op: ArpOp::Request, sender_mac, sender_ip, target_mac: MacAddr::default(), target_ip: sender_ip }
            .emit(&mut body);
        ethernet(MacAddr::BROADCAST, sender_mac, EtherType::Arp, &body)
    };
    // .2 moved to a new card; a stranger .50 announces itself.
    net.inject(raw.port.index(), announce(mac(22), ip(2)));
    net.inject(raw.port.index(), announce(mac(50), ip(50)));
    let now = net.now();
    net.run(&mut hosts, now + 5, |_, _| false);
    assert_eq!(hosts[0].stack.arp_cache().lookup(net.now(), ip(2)), Some(mac(22)));
    assert!(!hosts[0].stack.arp_cache().contains(ip(50)), "broadcast chatter must not fill the cache");
    // Someone else claiming our address is counted as a conflict.
    net.inject(raw.port.index(), announce(mac(66), ip(1)));
    net.run(&mut hosts, now + 10, |_, _| false);
    assert_eq!(hosts[0].stack.stats().arp_addr_conflict, 1);
}
