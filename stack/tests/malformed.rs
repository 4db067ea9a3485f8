//! Hostile and broken input at every layer below TCP: each case must bump exactly its
//! named counter and be dropped, and random garbage must never panic the stack.

mod common;

use common::*;
use nic_stack::memnet::{Host, Network};
use nic_stack::wire::arp::{ArpOp, ArpRepr};
use nic_stack::wire::checksum;
use nic_stack::wire::ethernet::{EtherType, MacAddr};
use nic_stack::wire::icmp::{unreachable, IcmpRepr};
use nic_stack::wire::ipv4::protocol;
use nic_stack::Stats;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One stack (198.18.0.1) and a raw port (pretending to be 198.18.0.9).
fn setup(seed: u64) -> (Network, Vec<Host>, RawPort) {
    let net = Network::new(seed, quiet_link());
    let hosts = hosts(&net, 1, seed);
    let raw = RawPort::new(&net);
    (net, hosts, raw)
}

fn deliver(net: &Network, hosts: &mut [Host], raw: &RawPort, frame: Vec<u8>) -> Stats {
    let before = hosts[0].stack.stats().clone();
    net.inject(raw.port.index(), frame);
    let until = net.now() + 5;
    net.run(hosts, until, |_, _| false);
    let after = hosts[0].stack.stats().clone();
    assert_eq!(after.eth_rx_frames, before.eth_rx_frames + 1, "the frame reached the stack");
    after
}

fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let d = udp_datagram(ip(9), ip(1), 1234, 7, payload);
    ipv4_frame(mac(1), mac(9), &ipv4_header(ip(9), ip(1), protocol::UDP, d.len()), &d)
}

/// A malformed frame, named, with the counter it must move.
type Case = (&'static str, Vec<u8>, fn(&Stats) -> u64);

fn cases() -> Vec<Case> {
    let good = udp_frame(b"payload!");
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut f = good.clone();
        edit(&mut f);
        f
    };
    let fix_ip_checksum = |f: &mut Vec<u8>| {
        f[24..26].copy_from_slice(&[0, 0]);
        let c = checksum::checksum(&f[14..34]);
        f[24..26].copy_from_slice(&c.to_be_bytes());
    };
    let icmp = |body: &[u8]| {
        let mut msg = vec![0; 8];
        msg.extend_from_slice(body);
        IcmpRepr::EchoRequest { ident: 1, seq: 1 }.emit(&mut msg);
        msg
    };
    let mut bad_icmp = icmp(b"abcd");
    bad_icmp[9] ^= 0xff;
    let icmp_frame =
        |msg: &[u8]| ipv4_frame(mac(1), mac(9), &ipv4_header(ip(9), ip(1), protocol::ICMP, msg.len()), msg);
    let mut arp = [0u8; 28];
    ArpRepr {
        op: ArpOp::Request,
        sender_mac: mac(9),
        sender_ip: ip(9),
        target_mac: MacAddr::default(),
        target_ip: ip(1),
    }
    .emit(&mut arp);
    arp[5] = 16; // IPv6-sized protocol addresses
    vec![
        ("runt ethernet", good[..13].to_vec(), |s| s.eth_truncated),
        ("another station's unicast", with(&|f| f[0..6].copy_from_slice(&mac(5).0)), |s| s.eth_not_for_us),
        ("IPv6 ethertype", with(&|f| f[12..14].copy_from_slice(&[0x86, 0xdd])), |s| s.eth_unknown_ethertype),
        ("truncated ARP", ethernet(mac(1), mac(9), EtherType::Arp, &[0, 1, 8, 0]), |s| s.arp_malformed),
        ("ARP with bad plen", ethernet(mac(1), mac(9), EtherType::Arp, &arp), |s| s.arp_malformed),
        ("truncated IP header", good[..30].to_vec(), |s| s.ipv4_truncated),
        (
            "IP version 6",
            with(&|f| {
                f[14] = 0x65;
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_bad_version,
        ),
        (
            "IHL 4",
            with(&|f| {
                f[14] = 0x44;
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_bad_length,
        ),
        (
            "total length past the frame",
            with(&|f| {
                f[17] += 1;
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_truncated,
        ),
        (
            "total length below the header",
            with(&|f| {
                f[16..18].copy_from_slice(&[0, 19]);
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_bad_length,
        ),
        ("IP header checksum", with(&|f| f[22] = 1), |s| s.ipv4_bad_checksum),
        (
            "TTL 0",
            with(&|f| {
                f[22] = 0;
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_ttl_zero,
        ),
        (
            "another host's IP",
            with(&|f| {
                f[33] = 5;
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_not_for_us,
        ),
        (
            "broadcast source",
            with(&|f| {
                f[26..30].copy_from_slice(&[255; 4]);
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_bad_source,
        ),
        (
            "our own address as source",
            with(&|f| {
                f[29] = 1;
                fix_ip_checksum(f)
            }),
            |s| s.ipv4_bad_source,
        ),
        (
            "truncated UDP header",
            ipv4_frame(mac(1), mac(9), &ipv4_header(ip(9), ip(1), protocol::UDP, 4), &[0, 1, 0, 7]),
            |s| s.udp_truncated,
        ),
        ("UDP length 7", with(&|f| f[38..40].copy_from_slice(&[0, 7])), |s| s.udp_bad_length),
        ("UDP length past the IP payload", with(&|f| f[38..40].copy_from_slice(&[0, 17])), |s| s.udp_truncated),
        ("UDP checksum", with(&|f| f[45] ^= 0x10), |s| s.udp_bad_checksum),
        ("truncated ICMP", icmp_frame(&[8, 0, 0, 0]), |s| s.icmp_truncated),
        ("ICMP checksum", icmp_frame(&bad_icmp), |s| s.icmp_bad_checksum),
        (
            "broadcast echo request",
            {
                let msg = icmp(b"smurf");
                ipv4_frame(MacAddr::BROADCAST, mac(9), &ipv4_header(ip(9), ip(255), protocol::ICMP, msg.len()), &msg)
            },
            |s| s.icmp_echo_broadcast_ignored,
        ),
        (
            "frag-needed about a packet we never sent",
            {
                let mut quote = vec![0u8; 28];
                ipv4_header(ip(7), ip(9), protocol::TCP, 8).emit(&mut quote);
                let mut msg = vec![0; 8];
                msg.extend_from_slice(&quote);
                IcmpRepr::DstUnreachable { code: unreachable::FRAG_NEEDED, next_hop_mtu: 1200 }.emit(&mut msg);
                icmp_frame(&msg)
            },
            |s| s.icmp_frag_needed_bogus,
        ),
        (
            "fragment not a multiple of 8",
            {
                let h = nic_stack::wire::ipv4::Ipv4Repr {
                    more_fragments: true,
                    ..ipv4_header(ip(9), ip(1), protocol::UDP, 7)
                };
                ipv4_frame(mac(1), mac(9), &h, b"1234567")
            },
            |s| s.reasm_invalid,
        ),
    ]
}

#[test]
fn each_malformed_frame_bumps_its_own_counter_and_nothing_is_delivered() {
    for (name, frame, counter) in cases() {
        let (net, mut hosts, raw) = setup(10);
        let sock = hosts[0].stack.udp_bind(7).unwrap();
        let before = counter(hosts[0].stack.stats());
        let after = deliver(&net, &mut hosts, &raw, frame);
        assert_eq!(counter(&after), before + 1, "{name}");
        assert!(!hosts[0].stack.udp_readable(sock), "{name}: nothing delivered");
        assert_eq!(after.icmp_echo_replies_tx, 0, "{name}");
    }
}

#[test]
fn the_good_frame_the_cases_are_made_from_is_delivered() {
    let (net, mut hosts, raw) = setup(10);
    let sock = hosts[0].stack.udp_bind(7).unwrap();
    deliver(&net, &mut hosts, &raw, udp_frame(b"payload!"));
    let mut buf = [0u8; 16];
    assert_eq!(hosts[0].stack.udp_recv_from(sock, &mut buf).map(|(n, _)| n), Ok(8));
}

#[test]
fn a_valid_frag_needed_is_counted_for_the_path_mtu() {
    let (net, mut hosts, raw) = setup(11);
    let mut quote = vec![0u8; 28];
    ipv4_header(ip(1), ip(9), protocol::TCP, 8).emit(&mut quote);
    let mut msg = vec![0; 8];
    msg.extend_from_slice(&quote);
    IcmpRepr::DstUnreachable { code: unreachable::FRAG_NEEDED, next_hop_mtu: 1200 }.emit(&mut msg);
    let frame = ipv4_frame(mac(1), mac(9), &ipv4_header(ip(9), ip(1), protocol::ICMP, msg.len()), &msg);
    let s = deliver(&net, &mut hosts, &raw, frame);
    assert_eq!((s.icmp_frag_needed_rx, s.icmp_frag_needed_bogus), (1, 0));
}

#[test]
fn ethernet_padding_does_not_break_the_checksum_assist() {
    let net = Network::new(12, quiet_link());
    let mut hosts = vec![host_with(&net, config(1), true, 12)];
    let raw = RawPort::new(&net);
    let sock = hosts[0].stack.udp_bind(7).unwrap();
    let mut frame = udp_frame(b"x"); // 14 + 20 + 9 = 43 bytes: padded to 60 on the wire
    frame.resize(60, 0xa5);
    deliver(&net, &mut hosts, &raw, frame.clone());
    assert!(hosts[0].stack.udp_readable(sock), "padding excluded from the device sum");
    frame[42] ^= 1; // damage the payload: the device sum now disagrees with the checksum
    let s = deliver(&net, &mut hosts, &raw, frame);
    assert_eq!(s.udp_bad_checksum, 1);
}

#[test]
fn overlapping_fragments_drop_the_datagram_then_the_tombstone_times_out() {
    let (net, mut hosts, raw) = setup(13);
    let sock = hosts[0].stack.udp_bind(7).unwrap();
    let d = udp_datagram(ip(9), ip(1), 1, 7, &[0xab; 40]); // 48 bytes
    let frag = |offset: usize, len: usize, more: bool| {
        let h = nic_stack::wire::ipv4::Ipv4Repr {
            more_fragments: more,
            frag_offset: offset as u16,
            ..ipv4_header(ip(9), ip(1), protocol::UDP, len)
        };
        ipv4_frame(mac(1), mac(9), &h, &d[offset..offset + len])
    };
    deliver(&net, &mut hosts, &raw, frag(0, 24, true));
    let s = deliver(&net, &mut hosts, &raw, frag(16, 32, false)); // overlaps bytes 16..24
    assert_eq!(s.reasm_overlap, 1);
    let s = deliver(&net, &mut hosts, &raw, frag(24, 24, false)); // would complete it
    assert_eq!(s.reasm_poisoned, 1);
    assert!(!hosts[0].stack.udp_readable(sock));
    net.run(&mut hosts, 31_000, |_, _| false);
    assert_eq!(hosts[0].stack.stats().reasm_timeout, 1);
    assert_eq!(hosts[0].stack.reassembler().datagrams_in_progress(), 0);
}

#[test]
fn a_fragment_flood_stays_under_the_memory_cap() {
    let (net, mut hosts, raw) = setup(14);
    let cap = hosts[0].stack.config().reassembly.mem_cap;
    for ident in 0..400u16 {
        // First halves only: none ever completes.
        let h = nic_stack::wire::ipv4::Ipv4Repr {
            ident,
            more_fragments: true,
            ..ipv4_header(ip(9), ip(1), protocol::UDP, 1400)
        };
        net.inject(raw.port.index(), ipv4_frame(mac(1), mac(9), &h, &[0; 1400]));
    }
    net.run(&mut hosts, net.now() + 5, |_, _| false);
    let r = hosts[0].stack.reassembler();
    assert!(r.mem_used() <= cap, "{} > {cap}", r.mem_used());
    let s = hosts[0].stack.stats();
    assert_eq!(s.reasm_fragments_rx, 400);
    assert_eq!(s.reasm_evicted as usize, 400 - r.datagrams_in_progress());
    assert!(s.reasm_evicted > 0);
}

#[test]
fn random_garbage_and_mutated_frames_never_panic() {
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (net, mut hosts, raw) = setup(seed);
    hosts[0].stack.udp_bind(7).unwrap();
    let templates: Vec<Vec<u8>> = cases().into_iter().map(|(_, f, _)| f).chain([udp_frame(b"seed")]).collect();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for _ in 0..3000 {
            let frame = if rng.gen_bool(0.2) {
                let len = rng.gen_range(0..200);
                (0..len).map(|_| rng.gen()).collect()
            } else {
                let mut f = templates[rng.gen_range(0..templates.len())].clone();
                for _ in 0..rng.gen_range(1..4) {
                    if f.is_empty() {
                        break;
                    }
                    let at = rng.gen_range(0..f.len());
                    match rng.gen_range(0..3) {
                        0 => f[at] = rng.gen(),
                        1 => f.truncate(at),
                        _ => f.insert(at, rng.gen()),
                    }
                }
                f
            };
            net.inject(raw.port.index(), frame);
            if rng.gen_bool(0.1) {
                net.run(&mut hosts, net.now() + 2, |_, _| false);
            }
        }
        net.run(&mut hosts, net.now() + 60_000, |_, _| false);
    }));
    assert!(result.is_ok(), "the stack panicked on fuzzed input; replay with FUZZ_SEED={seed}");
    assert_eq!(hosts[0].stack.stats().eth_rx_frames, 3000, "seed {seed}");
}

#[test]
fn a_header_with_options_is_accepted_and_skipped() {
    let (net, mut hosts, raw) = setup(15);
    let sock = hosts[0].stack.udp_bind(7).unwrap();
    let d = udp_datagram(ip(9), ip(1), 1234, 7, b"opts");
    // 24-byte header: IHL 6 with one 4-byte option (NOP NOP NOP EOL).
    let mut packet = vec![0u8; 20];
    ipv4_header(ip(9), ip(1), protocol::UDP, d.len() + 4).emit(&mut packet);
    packet[0] = 0x46;
    packet.extend_from_slice(&[1, 1, 1, 0]);
    packet.extend_from_slice(&d);
    packet[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::checksum(&packet[..24]);
    packet[10..12].copy_from_slice(&c.to_be_bytes());
    deliver(&net, &mut hosts, &raw, ethernet(mac(1), mac(9), EtherType::Ipv4, &packet));
    let mut buf = [0u8; 8];
    assert_eq!(hosts[0].stack.udp_recv_from(sock, &mut buf).map(|(n, _)| n), Ok(4));
    assert_eq!(&buf[..4], b"opts");
}
