//! The std-style API with each stack on its own thread, joined by a channel device pair
//! that rings the peer's stack thread on every transmit. Real time, small timeouts.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use common::*;
use nic_stack::device::DeviceCaps;
use nic_stack::threaded::{channel_pair, NetThread, Runtime, TcpListener, TcpStream, UdpSocket};
use nic_stack::{Interface, Stack};

fn two_stacks() -> (NetThread, NetThread) {
    let (dev_a, dev_b) = channel_pair(DeviceCaps::default());
    let a = NetThread::spawn(Stack::new(Interface::new(config(1), DeviceCaps::default(), 31)), dev_a, Runtime::os())
        .expect("start the stack thread");
    let b = NetThread::spawn(Stack::new(Interface::new(config(2), DeviceCaps::default(), 32)), dev_b, Runtime::os())
        .expect("start the stack thread");
    (a, b)
}

#[test]
fn udp_echo_between_two_stack_threads() {
    let (a, b) = two_stacks();
    let mut server = UdpSocket::bind(&b.handle(), SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7)).unwrap();
    server.set_read_timeout(Some(Duration::from_secs(5)));
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        for _ in 0..3 {
            let (n, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], from).unwrap();
        }
    });
    let mut client = UdpSocket::bind(&a.handle(), SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(5)));
    client.connect(SocketAddrV4::new(ip(2), 7)).unwrap();
    for msg in [&b"one"[..], b"two", &[0x55; 1400]] {
        client.send(msg).unwrap();
        let mut buf = [0u8; 1500];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], msg);
    }
    echo.join().unwrap();
    let stats = b.handle().with_stack(|s| s.iface().stats().clone());
    assert_eq!((stats.udp_rx, stats.udp_tx), (3, 3));
}

#[test]
fn a_receive_with_nothing_to_read_times_out() {
    let (a, _b) = two_stacks();
    let mut sock = UdpSocket::bind(&a.handle(), SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 9)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)));
    let start = Instant::now();
    let err = sock.recv(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(2), "{waited:?}");
}

#[test]
fn binding_a_taken_port_is_addr_in_use() {
    let (a, _b) = two_stacks();
    let any7 = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7);
    let first = UdpSocket::bind(&a.handle(), any7).unwrap();
    assert_eq!(UdpSocket::bind(&a.handle(), any7).err().map(|e| e.kind()), Some(ErrorKind::AddrInUse));
    drop(first);
    assert!(UdpSocket::bind(&a.handle(), any7).is_ok(), "dropping the socket frees the port");
}

fn any(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
}

#[test]
fn tcp_echo_of_a_mebibyte_between_two_stack_threads() {
    let (a, b) = two_stacks();
    let listener = TcpListener::bind(&b.handle(), any(80), 8).unwrap();
    let server = std::thread::spawn(move || {
        let mut conn = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)));
        let mut request = Vec::new();
        conn.read_to_end(&mut request).unwrap();
        conn.write_all(&request).unwrap();
        conn.shutdown_write().unwrap();
        request.len()
    });
    let mut client =
        TcpStream::connect(&a.handle(), SocketAddrV4::new(ip(2), 80), Some(Duration::from_secs(5))).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10)));
    client.set_write_timeout(Some(Duration::from_secs(10)));
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    client.write_all(&data).unwrap();
    client.shutdown_write().unwrap();
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap();
    assert_eq!(server.join().unwrap(), data.len());
    assert!(echoed == data, "echo differs");
}

#[test]
fn tcp_connect_to_a_closed_port_is_refused_and_accept_times_out() {
    let (a, b) = two_stacks();
    let err =
        TcpStream::connect(&a.handle(), SocketAddrV4::new(ip(2), 81), Some(Duration::from_secs(5))).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    let mut listener = TcpListener::bind(&b.handle(), any(82), 8).unwrap();
    listener.set_timeout(Some(Duration::from_millis(100)));
    assert_eq!(listener.accept().err().unwrap().kind(), ErrorKind::TimedOut);
}
