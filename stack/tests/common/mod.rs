//! Helpers shared by the network tests: hosts on a `memnet::Network`, and raw frame
//! builders for injecting hand-made (often malformed) packets.
#![allow(dead_code)]

pub mod smol_port;

use std::net::Ipv4Addr;

use nic_stack::device::Device;
use nic_stack::memnet::{Host, LinkConfig, Network, Port};
use nic_stack::wire::ethernet::{EtherType, EthernetRepr, MacAddr};
use nic_stack::wire::ipv4::Ipv4Repr;
use nic_stack::wire::udp::UdpRepr;
use nic_stack::{Fd, Interface, InterfaceConfig, PacketBuf, Stack};

pub fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, n)
}

pub fn mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 0, n])
}

pub fn config(n: u8) -> InterfaceConfig {
    InterfaceConfig::new(mac(n), ip(n), 24)
}

pub fn host_with(net: &Network, cfg: InterfaceConfig, assist: bool, seed: u64) -> Host {
    let port = net.add_port(assist);
    Host { stack: Interface::new(cfg, port.caps(), seed), port }
}

/// Hosts 198.18.0.1, .2, ... on one network.
pub fn hosts(net: &Network, count: u8, seed: u64) -> Vec<Host> {
    (1..=count).map(|n| host_with(net, config(n), false, seed + u64::from(n))).collect()
}

/// Two socket-layer stacks, 198.18.0.1 and .2.
pub fn stacks(net: &Network, seed: u64) -> Vec<Host<Stack>> {
    (1..=2)
        .map(|n| {
            let port = net.add_port(false);
            Host { stack: Stack::new(Interface::new(config(n), port.caps(), seed + u64::from(n))), port }
        })
        .collect()
}

pub fn quiet_link() -> LinkConfig {
    LinkConfig { delay_ms: 1, ..LinkConfig::default() }
}

/// A port with no stack behind it: the test injects from it and reads what reaches it.
pub struct RawPort {
    pub port: Port,
}

impl RawPort {
    pub fn new(net: &Network) -> Self {
        RawPort { port: net.add_port(false) }
    }

    pub fn received(&mut self) -> Vec<PacketBuf> {
        let mut out = Vec::new();
        while self.port.receive(&mut out, 64) > 0 {}
        out
    }
}

pub fn ethernet(dst: MacAddr, src: MacAddr, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0; EthernetRepr::LEN];
    EthernetRepr { dst, src, ethertype }.emit(&mut frame);
    frame.extend_from_slice(payload);
    frame
}

pub fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload_len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src,
        dst,
        protocol,
        ttl: 64,
        tos: 0,
        ident: 77,
        dont_fragment: false,
        more_fragments: false,
        frag_offset: 0,
        header_len: 20,
        payload_len,
    }
}

/// An Ethernet frame carrying `ip` with `payload` behind it.
pub fn ipv4_frame(dst_mac: MacAddr, src_mac: MacAddr, ip: &Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0; 20];
    ip.emit(&mut packet);
    packet.extend_from_slice(payload);
    ethernet(dst_mac, src_mac, EtherType::Ipv4, &packet)
}

/// A UDP datagram (header + payload) with a correct checksum.
pub fn udp_datagram(src: Ipv4Addr, dst: Ipv4Addr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![0; 8];
    d.extend_from_slice(payload);
    UdpRepr { src_port, dst_port, payload_len: payload.len() }.emit(&mut d, src, dst);
    d
}

/// Runs until `done` or the deadline; panics with the seed if the deadline passes.
pub fn run_until(
    net: &Network,
    hosts: &mut [Host],
    deadline: u64,
    seed: u64,
    what: &str,
    done: impl FnMut(u64, &mut [Host]) -> bool,
) {
    assert!(net.run(hosts, deadline, done), "{what}: not done by t={deadline} ms (seed {seed})");
}

/// Reads everything available on `fd` into `into`; true at end of stream.
pub fn drain(stack: &mut Stack, fd: Fd, into: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stack.read(fd, &mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(_) => return false,
        }
    }
}
