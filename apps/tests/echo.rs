//! TCP and UDP echo over two stacks joined in memory.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use nic_apps::echo::{EchoConfig, EchoServer};
use nic_apps::transfer::pattern;
use nic_stack::threaded::{NetHandle, TcpStream, UdpSocket};

const PORT: u16 = 7;

fn connect(net: &NetHandle) -> TcpStream {
    let mut s = TcpStream::connect(net, server_addr(PORT), Some(TIMEOUT)).unwrap();
    s.set_read_timeout(Some(TIMEOUT));
    s.set_write_timeout(Some(TIMEOUT));
    s
}

/// Sends `data` in 16 KiB pieces, reading each echo back before the next (so neither
/// side's buffers can fill up), then half-closes and expects the server's end of stream.
fn echo_through(mut s: TcpStream, data: &[u8]) {
    for piece in data.chunks(16 * 1024) {
        s.write_all(piece).unwrap();
        let mut back = vec![0u8; piece.len()];
        s.read_exact(&mut back).unwrap();
        assert!(back == piece, "echo differs");
    }
    s.shutdown_write().unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{} bytes after the echo", rest.len());
}

#[test]
fn tcp_echo_is_byte_exact_on_concurrent_connections() {
    let (a, b) = two_stacks();
    let server = EchoServer::start(&b.handle(), any(PORT), EchoConfig::default()).unwrap();
    let sizes = [1usize, 1000, 200 * 1024];
    let clients: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let net = a.handle();
            std::thread::spawn(move || echo_through(connect(&net), &pattern(len, i as u64 + 1)))
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let stats = server.stats();
    // The last connection thread may still be counting when its client finished.
    let deadline = Instant::now() + TIMEOUT;
    while stats.tcp_bytes.load(Ordering::Relaxed) < sizes.iter().sum::<usize>() as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stats.tcp_bytes.load(Ordering::Relaxed), sizes.iter().sum::<usize>() as u64);
    assert_eq!(stats.tcp_connections.load(Ordering::Relaxed), 3);
    server.stop();
}

#[test]
fn udp_echo_returns_each_datagram_to_its_sender() {
    let (a, b) = two_stacks();
    let server = EchoServer::start(&b.handle(), any(PORT), EchoConfig::default()).unwrap();
    let mut sock = UdpSocket::bind(&a.handle(), any(0)).unwrap();
    sock.set_read_timeout(Some(TIMEOUT));
    // 8000 bytes goes as IPv4 fragments both ways.
    let sizes = [0usize, 1, 100, 1472, 8000];
    for (i, &len) in sizes.iter().enumerate() {
        let msg = pattern(len, 100 + i as u64);
        sock.send_to(&msg, server_addr(PORT)).unwrap();
        let mut buf = vec![0u8; 9000];
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        assert_eq!(from, server_addr(PORT));
        assert!(buf[..n] == msg[..], "datagram {i} of {len} bytes differs");
    }
    let stats = server.stats();
    assert_eq!(stats.udp_datagrams.load(Ordering::Relaxed), sizes.len() as u64);
    assert_eq!(stats.udp_bytes.load(Ordering::Relaxed), sizes.iter().sum::<usize>() as u64);
    server.stop();
}

#[test]
fn connections_beyond_the_cap_are_closed_and_idle_ones_time_out() {
    let (a, b) = two_stacks();
    let idle = Duration::from_millis(300);
    let config = EchoConfig { max_connections: 1, idle_timeout: idle, ..EchoConfig::default() };
    let server = EchoServer::start(&b.handle(), any(PORT), config).unwrap();
    let mut first = connect(&a.handle());
    let start = Instant::now();
    first.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    first.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
    // The cap is reached: the next connection is closed without an echo.
    let mut second = connect(&a.handle());
    let mut rest = Vec::new();
    second.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    // The first, now idle, is closed by the server after the idle timeout.
    let mut rest = Vec::new();
    first.read_to_end(&mut rest).unwrap();
    let waited = start.elapsed();
    assert!(rest.is_empty() && waited >= idle && waited < TIMEOUT, "closed after {waited:?}");
    let stats = server.stats();
    assert_eq!(stats.tcp_rejected.load(Ordering::Relaxed), 1);
    assert_eq!(stats.tcp_idle_timeouts.load(Ordering::Relaxed), 1);
    assert!(stats.to_string().starts_with("tcp connections 1 rejected 1 idle_timeouts 1 bytes 4;"), "{stats}");
    // With the slot free again, a new connection is served.
    echo_through(connect(&a.handle()), b"again");
    let start = Instant::now();
    server.stop();
    assert!(start.elapsed() < Duration::from_secs(2));
}
