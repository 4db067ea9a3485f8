//! The applications end to end over two stacks joined in memory (no card): a web
//! server and echo on host 2, a client on host 1. Prints what the demo prints.
//!
//! `cargo run --release -p nic-apps --example loopback [-- BIG_FILE_BYTES]`

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nic_apps::echo::{EchoConfig, EchoServer};
use nic_apps::http::{HttpClient, HttpConfig, HttpServer};
use nic_apps::transfer::{fetch_verified, write_demo_site};
use nic_stack::device::DeviceCaps;
use nic_stack::threaded::{channel_pair, NetThread, Runtime, UdpSocket};
use nic_stack::{Interface, InterfaceConfig, MacAddr, Stack};

fn main() -> std::io::Result<()> {
    let big: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(4 << 20);
    let ip = |n: u8| Ipv4Addr::new(198, 18, 0, n);
    let (dev_a, dev_b) = channel_pair(DeviceCaps::default());
    let stack = |n: u8| {
        let cfg = InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, n]), ip(n), 24);
        Stack::new(Interface::new(cfg, DeviceCaps::default(), u64::from(n)))
    };
    let client_net = NetThread::spawn(stack(1), dev_a, Runtime::os()).expect("start the stack thread");
    let server_net = NetThread::spawn(stack(2), dev_b, Runtime::os()).expect("start the stack thread");

    let docroot = std::env::temp_dir().join(format!("nic-apps-loopback-{}", std::process::id()));
    write_demo_site(&docroot, big, 42)?;
    let http = HttpServer::start(&server_net.handle(), SocketAddrV4::new(ip(2), 80), HttpConfig::new(&docroot))?;
    let echo = EchoServer::start(&server_net.handle(), SocketAddrV4::new(ip(2), 7), EchoConfig::default())?;

    let timeout = Duration::from_secs(10);
    let mut client = HttpClient::connect(&client_net.handle(), SocketAddrV4::new(ip(2), 80), timeout)?;
    for (method, path) in
        [("GET", "/"), ("GET", "/hello.txt"), ("HEAD", "/big.bin"), ("GET", "/missing"), ("DELETE", "/hello.txt")]
    {
        let r = client.request(method, path, &[])?;
        println!("{method:6} {path:12} -> {} {} ({} body bytes)", r.status, r.reason, r.body.len());
    }
    let t = fetch_verified(&client_net.handle(), SocketAddrV4::new(ip(2), 80), "/big.bin", timeout)?;
    println!("transfer: {} bytes, crc32 {:08x} ok, {:.1} Mb/s", t.bytes, t.crc32, t.mbit_per_s());

    let mut udp = UdpSocket::bind(&client_net.handle(), SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    udp.set_read_timeout(Some(timeout));
    udp.send_to(b"echo?", SocketAddrV4::new(ip(2), 7))?;
    let mut buf = [0u8; 64];
    let (n, _) = udp.recv_from(&mut buf)?;
    println!("udp echo: {:?}", String::from_utf8_lossy(&buf[..n]));

    println!("http: {}", http.stats().snapshot());
    println!("echo: {}", echo.stats());
    http.stop();
    echo.stop();
    let _ = std::fs::remove_dir_all(&docroot);
    Ok(())
}
