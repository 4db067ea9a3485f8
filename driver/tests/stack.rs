//! The IP stack over two model cards: `nic_stack::Interface` on each, the driver as its
//! `Device`, frames handed up in their DMA buffers.
mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use nic_driver::{ModelBackend, ModelNic, Nic, NicConfig};
use nic_stack::{Device, Interface, InterfaceConfig, MacAddr, PacketBuf};

const IP_A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

struct Host {
    iface: Interface,
    nic: Nic<ModelBackend>,
    _model: ModelNic,
}

fn hosts() -> (Host, Host) {
    let mk = |mac: [u8; 6], ip: Ipv4Addr, seed: u64| {
        let (model, nic) = card(NicConfig { mac, ..NicConfig::default() });
        let iface = Interface::new(InterfaceConfig::new(MacAddr(mac), ip, 24), nic.caps(), seed);
        Host { iface, nic, _model: model }
    };
    let a = mk(MAC_A, IP_A, seed());
    let b = mk(MAC_B, IP_B, seed() + 1);
    ModelNic::connect(&a._model, &b._model);
    (a, b)
}

/// Polls both hosts for `ms` milliseconds of virtual time, one ms per step.
fn run(a: &mut Host, b: &mut Host, now: &mut u64, ms: u64) {
    for _ in 0..ms {
        *now += 1;
        a.iface.poll(*now, &mut a.nic);
        b.iface.poll(*now, &mut b.nic);
    }
}

#[test]
fn udp_and_ping_through_the_stack_over_two_model_nics() {
    let (mut a, mut b) = hosts();
    assert!(a.nic.caps().rx_l3_sum, "the card's checksum assist is on");
    let mut now = 0;
    let ha = a.iface.udp_bind(4000).unwrap();
    let hb = b.iface.udp_bind(7).unwrap();
    let mut buf = [0u8; 2048];

    // A → B (ARP first), then B echoes back; several sizes, the last one near the MTU.
    for (i, len) in [1usize, 18, 200, 1472].into_iter().enumerate() {
        let msg: Vec<u8> = (0..len).map(|k| (k * 7 + i) as u8).collect();
        a.iface.udp_send_to(now, ha, SocketAddrV4::new(IP_B, 7), &msg).unwrap();
        run(&mut a, &mut b, &mut now, 5);
        let (n, from) = b.iface.udp_recv_from(hb, &mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&msg[..], SocketAddrV4::new(IP_A, 4000)));
        b.iface.udp_send_to(now, hb, from, &buf[..n]).unwrap();
        run(&mut a, &mut b, &mut now, 5);
        let (n, from) = a.iface.udp_recv_from(ha, &mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&msg[..], SocketAddrV4::new(IP_B, 7)));
    }

    // Ping: B answers in place, in the DMA buffer the request arrived in (no copy on send).
    let copied_before = b.nic.stats().tx_copied;
    for seq in 0..10 {
        a.iface.ping(now, IP_B, 0x1234, seq, b"through the model cards");
        run(&mut a, &mut b, &mut now, 3);
        let r = a.iface.take_echo_reply().expect("echo reply");
        assert_eq!((r.from, r.ident, r.seq), (IP_B, 0x1234, seq));
    }
    assert_eq!(b.nic.stats().tx_copied, copied_before, "echo replies were sent from their RX buffers");
    assert_eq!(b.iface.stats().icmp_echo_requests_rx, 10);
    assert_eq!(b.iface.stats().icmp_bad_checksum + b.iface.stats().udp_bad_checksum, 0);

    for h in [&mut a, &mut b] {
        let s = h.nic.stats();
        assert!(s.rx_frames >= 15 && s.tx_frames >= 15, "{s:?}");
        assert_eq!((s.tx_dropped, s.bad_completions), (0, 0));
        h.nic.reap_tx();
        check(&mut h.nic, 0);
    }
}

#[test]
fn packetbufs_over_dma_buffers_go_back_to_the_pool_when_dropped() {
    let (model, mut nic) = card(small(MAC_A, 4, 32));
    let f = frame(&mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed()), MAC_A, MAC_B, 90);
    for _ in 0..3 {
        model.inject(&f);
    }
    let mut batch = Vec::new();
    assert_eq!(Device::receive(&mut nic, &mut batch, 64), 3);
    assert!(batch.iter().all(|p| p.is_external() && p.data() == &f[..]));
    assert_eq!(batch[0].meta().l3_sum, Some(nic_regs::rx_sum(&f)), "the completion's CSUM");
    check(&mut nic, 3);

    // One recycled through the trait, one dropped, one moved to another thread and dropped.
    let p0 = batch.remove(0);
    Device::recycle(&mut nic, p0);
    check(&mut nic, 2);
    drop(batch.remove(0));
    let p2 = batch.remove(0);
    std::thread::spawn(move || drop(p2)).join().unwrap();
    check(&mut nic, 0);

    // Built in place in a DMA buffer: sent without a copy. A Vec-backed one is copied.
    let mut p = nic.alloc_packet().unwrap();
    assert_eq!(p.headroom(), nic_stack::device::TX_HEADROOM);
    p.append(&f[14..]).unwrap();
    p.push(14).unwrap().copy_from_slice(&f[..14]);
    let mut out = vec![p, PacketBuf::from_frame(f.clone())];
    Device::transmit(&mut nic, &mut out);
    assert!(out.is_empty());
    assert_eq!(model.take_sent(), vec![f.clone(), f.clone()]);
    assert_eq!(nic.stats().tx_copied, 1);
    nic.reap_tx();
    check(&mut nic, 0);

    // A buffer of another NIC is copied, and goes back to its own pool.
    let (_m2, mut other) = card(small(MAC_B, 4, 32));
    let mut theirs = other.alloc_packet().unwrap();
    theirs.append(&f).unwrap();
    let mut out = vec![theirs];
    Device::transmit(&mut nic, &mut out);
    assert_eq!(model.take_sent(), vec![f.clone()]);
    nic.reap_tx();
    check(&mut nic, 0);
    check(&mut other, 0);

    // A PacketBuf outliving its NIC keeps its memory: reading it is still sound.
    model.inject(&f);
    let mut batch = Vec::new();
    Device::receive(&mut nic, &mut batch, 64);
    drop(nic);
    assert_eq!(batch[0].data(), &f[..]);
}
