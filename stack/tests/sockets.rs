//! The descriptor API and its epoll-like `wait`, between two stacks on the in-memory network.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use nic_stack::memnet::Network;
use nic_stack::{Event, Fd, Interest, SocketError, SocketType, Stack};

fn any(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
}

fn wait(stack: &mut Stack) -> Vec<Event> {
    let mut events = Vec::new();
    stack.wait(&mut events, 64);
    events
}

#[test]
fn udp_echo_through_descriptors_and_wait() {
    let seed = 20;
    let net = Network::new(seed, quiet_link());
    let mut hosts = stacks(&net, seed);
    let server = hosts[1].stack.socket(SocketType::Udp);
    hosts[1].stack.bind(server, any(7)).unwrap();
    hosts[1].stack.register(server, Interest::READABLE).unwrap();
    let client = hosts[0].stack.socket(SocketType::Udp);
    hosts[0].stack.connect(0, client, SocketAddrV4::new(ip(2), 7)).unwrap();
    hosts[0].stack.register(client, Interest::READABLE).unwrap();
    hosts[0].stack.write(0, client, b"hello over fds").unwrap();
    let mut echoed = Vec::new();
    let ok = net.run(&mut hosts, 1000, |now, h| {
        for ev in wait(&mut h[1].stack) {
            assert_eq!(ev.fd, server);
            let mut buf = [0u8; 64];
            let (n, from) = h[1].stack.recv_from(server, &mut buf).unwrap();
            h[1].stack.send_to(now, server, &buf[..n], from).unwrap();
        }
        for ev in wait(&mut h[0].stack) {
            assert_eq!((ev.fd, ev.readable), (client, true));
            let mut buf = [0u8; 64];
            let n = h[0].stack.read(client, &mut buf).unwrap();
            echoed = buf[..n].to_vec();
        }
        !echoed.is_empty()
    });
    assert!(ok, "seed {seed}");
    assert_eq!(echoed, b"hello over fds");
}

#[test]
fn wait_is_level_triggered_and_only_looks_at_changed_descriptors() {
    let seed = 21;
    let net = Network::new(seed, quiet_link());
    let mut hosts = stacks(&net, seed);
    let idle: Vec<Fd> = (0..1000u16)
        .map(|i| {
            let fd = hosts[1].stack.socket(SocketType::Udp);
            hosts[1].stack.bind(fd, any(10_000 + i)).unwrap();
            hosts[1].stack.register(fd, Interest::READABLE).unwrap();
            fd
        })
        .collect();
    assert!(wait(&mut hosts[1].stack).is_empty(), "nothing ready yet");
    assert_eq!(hosts[1].stack.ready_list_len(), 0, "registration checked each once, then dropped them");

    let target = idle[500];
    let client = hosts[0].stack.socket(SocketType::Udp);
    for _ in 0..2 {
        hosts[0].stack.send_to(0, client, b"ping", SocketAddrV4::new(ip(2), 10_500)).unwrap();
    }
    net.run(&mut hosts, 20, |_, _| false);
    assert_eq!(hosts[1].stack.ready_list_len(), 1, "only the socket that received");
    let first = wait(&mut hosts[1].stack);
    assert_eq!(first.iter().map(|e| e.fd).collect::<Vec<_>>(), vec![target]);
    assert_eq!(wait(&mut hosts[1].stack).len(), 1, "still ready: reported again");
    let mut buf = [0u8; 8];
    hosts[1].stack.read(target, &mut buf).unwrap();
    assert_eq!(wait(&mut hosts[1].stack).len(), 1, "one datagram left");
    hosts[1].stack.read(target, &mut buf).unwrap();
    assert!(wait(&mut hosts[1].stack).is_empty());
    assert_eq!(hosts[1].stack.ready_list_len(), 0);
    assert_eq!(hosts[1].stack.read(target, &mut buf), Err(SocketError::WouldBlock));
}

#[test]
fn closing_a_descriptor_removes_it_from_the_ready_list_and_frees_its_port() {
    let seed = 22;
    let net = Network::new(seed, quiet_link());
    let mut hosts = stacks(&net, seed);
    let fd = hosts[1].stack.socket(SocketType::Udp);
    hosts[1].stack.bind(fd, any(7)).unwrap();
    hosts[1].stack.register(fd, Interest::BOTH).unwrap();
    assert_eq!(wait(&mut hosts[1].stack).len(), 1, "UDP is always writable");
    hosts[1].stack.close(0, fd).unwrap();
    assert!(wait(&mut hosts[1].stack).is_empty());
    let again = hosts[1].stack.socket(SocketType::Udp);
    assert_eq!(again, fd, "lowest descriptor reused");
    hosts[1].stack.bind(again, any(7)).unwrap();
    // A datagram to the closed-and-rebound port reaches the new socket.
    let client = hosts[0].stack.socket(SocketType::Udp);
    hosts[0].stack.send_to(0, client, b"x", SocketAddrV4::new(ip(2), 7)).unwrap();
    net.run(&mut hosts, 20, |_, _| false);
    assert_eq!(hosts[1].stack.recv_from(again, &mut [0; 4]).map(|(n, _)| n), Ok(1));
}
