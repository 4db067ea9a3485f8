//! TCP system tests over the in-memory network, through the socket layer only
//! (descriptors, `read`/`write`/`accept`, the virtual clock).

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use nic_stack::memnet::{Host, LinkConfig, Network};
use nic_stack::wire::ipv4::{protocol, Ipv4Repr};
use nic_stack::{Device, Fd, Interface, SocketType, Stack};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn listen(stack: &mut Stack, port: u16, backlog: usize) -> Fd {
    let fd = stack.socket(SocketType::Tcp);
    stack.bind(fd, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)).unwrap();
    stack.listen(fd, backlog).unwrap();
    fd
}

/// Seeds from `TEST_SEED` (one) or a fixed list, so a failure can be replayed.
fn seeds() -> Vec<u64> {
    match std::env::var("TEST_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => vec![1, 2],
    }
}

#[test]
fn several_mib_arrive_byte_exact_at_5_percent_loss_with_reordering() {
    for seed in seeds() {
        let net = Network::new(seed, quiet_link());
        let mut hosts = stacks(&net, seed);
        let link = LinkConfig { delay_ms: 2, jitter_ms: 3, loss: 0.05, duplicate: 0.01, corrupt: 0.0, mtu: 1500 };
        let (data, received) = one_way_transfer(&net, &mut hosts, link, seed, 4 << 20);
        assert!(received == data, "bytes differ (seed {seed})");
        assert!(net.stats().lost > 100, "the link really lost packets (seed {seed})");
    }
}

/// Host 0 connects to a listener on host 1 and sends `len` seeded random bytes, then shuts
/// down its side; host 1 reads until end of stream. The link switches to `link` once the
/// connection is requested. Returns (sent, received); panics if it does not finish.
fn one_way_transfer(
    net: &Network,
    hosts: &mut [Host<Stack>],
    link: LinkConfig,
    seed: u64,
    len: usize,
) -> (Vec<u8>, Vec<u8>) {
    let listener = listen(&mut hosts[1].stack, 5001, 8);
    let client = hosts[0].stack.socket(SocketType::Tcp);
    hosts[0].stack.connect(0, client, SocketAddrV4::new(ip(2), 5001)).unwrap();
    net.set_config(link);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
    let (mut sent, mut shut, mut conn, mut received) = (0, false, None, Vec::new());
    let done = net.run(hosts, 3_600_000, |now, h| {
        if conn.is_none() {
            conn = h[1].stack.accept(listener).ok();
        }
        while sent < data.len() {
            match h[0].stack.write(now, client, &data[sent..data.len().min(sent + 65536)]) {
                Ok(n) if n > 0 => sent += n,
                _ => break,
            }
        }
        if sent == data.len() && !shut {
            h[0].stack.shutdown_write(now, client).unwrap();
            shut = true;
        }
        conn.is_some_and(|c| drain(&mut h[1].stack, c, &mut received))
    });
    assert!(done, "transfer did not finish (seed {seed}): {} of {} bytes", received.len(), data.len());
    (data, received)
}

/// The whole exchange of a lossy, reordering, duplicating, corrupting transfer, frame by
/// frame, with receive coalescing on or off at both hosts; and the frames coalesced.
fn capture_lossy_transfer(seed: u64, coalescing: bool) -> (Vec<(usize, Vec<u8>)>, u64) {
    let net = Network::new(seed, quiet_link());
    let mut hosts: Vec<Host<Stack>> = (1..=2)
        .map(|n| {
            let port = net.add_port(false);
            let cfg = nic_stack::InterfaceConfig { rx_coalescing: coalescing, ..config(n) };
            Host { stack: Stack::new(Interface::new(cfg, port.caps(), seed + u64::from(n))), port }
        })
        .collect();
    net.start_capture();
    let link = LinkConfig { delay_ms: 2, jitter_ms: 2, loss: 0.03, duplicate: 0.01, corrupt: 0.01, mtu: 1500 };
    let (data, received) = one_way_transfer(&net, &mut hosts, link, seed, 2 << 20);
    assert!(received == data, "bytes differ (seed {seed})");
    (net.take_capture(), hosts[1].stack.iface().stats().tcp_rx_coalesced)
}

#[test]
fn receive_coalescing_changes_no_frame_sent_on_a_bad_link() {
    for seed in seeds() {
        let (coalesced, runs) = capture_lossy_transfer(seed, true);
        let (plain, none) = capture_lossy_transfer(seed, false);
        assert!(runs > 100, "segments joined runs: {runs} (seed {seed})");
        assert_eq!(none, 0);
        assert_eq!(coalesced.len(), plain.len(), "seed {seed}");
        for (i, (a, b)) in coalesced.iter().zip(&plain).enumerate() {
            assert!(a == b, "frame {i} differs (seed {seed})");
        }
    }
}

/// Two stacks that have just moved 1 MiB one way over a clean link, byte-exact.
fn clean_one_mib_transfer(seed: u64) -> (Network, Vec<Host<Stack>>) {
    let net = Network::new(seed, quiet_link());
    let mut hosts = stacks(&net, seed);
    let (data, received) = one_way_transfer(&net, &mut hosts, quiet_link(), seed, 1 << 20);
    assert!(received == data, "bytes differ");
    (net, hosts)
}

#[test]
fn sent_segments_go_out_in_the_frames_the_application_wrote_into() {
    let (_, hosts) = clean_one_mib_transfer(7);
    let sender = hosts[0].stack.iface().tcp().stats();
    // 1 MiB is 724 segments of 1448 bytes and one of 160: every full one went out in the
    // frame `write` copied it into, none was copied again (the short one, a mostly empty
    // frame, is copied into a segment of its size).
    assert_eq!(sender.tx_frames_in_place, 724, "segments sent in their frames");
    assert_eq!(sender.retransmissions, 0);
    // On a clean link most segments continue the one before them in the receive batch.
    let coalesced = hosts[1].stack.iface().stats().tcp_rx_coalesced;
    assert!(coalesced > 600, "segments that joined a run at the receiver: {coalesced}");
}

#[test]
fn received_frames_are_read_without_a_second_copy_and_all_go_back_to_the_device() {
    let (net, mut hosts) = clean_one_mib_transfer(5);
    // One more poll hands the frames drained by the last reads back to the device.
    let now = net.now();
    let Host { stack, port } = &mut hosts[1];
    stack.poll(now, port);
    let kept = stack.iface().tcp().stats().rx_frames_kept;
    assert!(kept >= (1 << 20) / 1460, "full-sized segments stay in their frames: {kept}");
    let frames_in = stack.iface().stats().eth_rx_frames;
    // 1 MiB is 724 full segments and one of 224 bytes, copied into a chunk of the stack's
    // own: that chunk goes to the device as well.
    assert_eq!(hosts[1].port.recycled(), frames_in + 1, "every received frame, kept ones included, is recycled");
}

#[test]
fn the_devices_receive_sum_checks_tcp_and_corrupted_segments_are_still_caught() {
    let seed = 6;
    let net = Network::new(seed, quiet_link());
    // Both ports fill `RxMeta::l3_sum`, as the card's checksum assist does.
    let mut hosts: Vec<Host<Stack>> = (1..=2u8)
        .map(|n| {
            let port = net.add_port(true);
            Host { stack: Stack::new(Interface::new(config(n), port.caps(), seed + u64::from(n))), port }
        })
        .collect();
    let (data, received) =
        one_way_transfer(&net, &mut hosts, LinkConfig { corrupt: 0.02, ..quiet_link() }, seed, 1 << 20);
    assert!(received == data, "bytes differ");
    let stats = hosts[1].stack.iface().stats();
    assert!(net.stats().corrupted > 5, "the link really corrupted frames");
    assert!(stats.tcp_rx_checksum_assisted > 500, "the device's sum was used: {}", stats.tcp_rx_checksum_assisted);
    assert!(stats.tcp_rx_checksum_assisted < stats.tcp_segments_rx, "not for the corrupted ones");
    let tcp = hosts[1].stack.iface().tcp().stats();
    assert!(tcp.bad_checksum > 0, "corrupted segments were caught by the software check after the device's");
}

#[test]
fn a_thousand_clients_through_a_backlog_of_16_are_all_served() {
    let seed = 3;
    let net = Network::new(seed, quiet_link());
    let mut hosts = stacks(&net, seed);
    let listener = listen(&mut hosts[1].stack, 80, 16);
    let (total, concurrent) = (1000usize, 64usize);
    let (mut started, mut served, mut answered) = (0, 0, 0);
    let mut clients: Vec<(Fd, Vec<u8>, bool)> = Vec::new(); // (fd, reply so far, request sent)
    let mut server_conns: Vec<(Fd, Vec<u8>)> = Vec::new();
    let done = net.run(&mut hosts, 600_000, |now, h| {
        while started < total && clients.len() < concurrent {
            let fd = h[0].stack.socket(SocketType::Tcp);
            h[0].stack.connect(now, fd, SocketAddrV4::new(ip(2), 80)).unwrap();
            clients.push((fd, Vec::new(), false));
            started += 1;
        }
        while let Ok(fd) = h[1].stack.accept(listener) {
            server_conns.push((fd, Vec::new()));
        }
        server_conns.retain_mut(|(fd, req)| {
            drain(&mut h[1].stack, *fd, req);
            if req.ends_with(b"\n") {
                h[1].stack.write(now, *fd, b"OK\n").unwrap();
                h[1].stack.close(now, *fd).unwrap();
                served += 1;
                return false;
            }
            true
        });
        clients.retain_mut(|(fd, reply, sent)| {
            if !*sent && h[0].stack.write(now, *fd, b"GET\n").is_ok_and(|n| n == 4) {
                *sent = true;
            }
            let eof = drain(&mut h[0].stack, *fd, reply);
            if eof {
                assert_eq!(reply, b"OK\n");
                h[0].stack.close(now, *fd).unwrap();
                answered += 1;
                return false;
            }
            true
        });
        answered == total
    });
    assert!(done, "served {served}, answered {answered} of {total} (seed {seed})");
    assert_eq!(served, total);
}

/// RST segments among the captured frames.
fn resets(frames: &[(usize, Vec<u8>)]) -> usize {
    frames
        .iter()
        .filter(|(_, f)| f.len() > 34 && f[12..14] == [8, 0])
        .filter_map(|(_, f)| Ipv4Repr::parse(&f[14..]).ok().map(|ip| (ip, &f[14..])))
        .filter(|(ip, p)| {
            ip.protocol == protocol::TCP && p.len() >= ip.header_len + 14 && p[ip.header_len + 13] & 0x04 != 0
        })
        .count()
}

#[test]
fn both_sides_close_cleanly_and_time_wait_ends_by_itself() {
    let seed = 4;
    let net = Network::new(seed, quiet_link());
    net.start_capture();
    let mut hosts = stacks(&net, seed);
    let listener = listen(&mut hosts[1].stack, 7, 4);
    let client = hosts[0].stack.socket(SocketType::Tcp);
    hosts[0].stack.connect(0, client, SocketAddrV4::new(ip(2), 7)).unwrap();
    let (mut conn, mut reply, mut closed) = (None, Vec::new(), false);
    let ok = net.run(&mut hosts, 60_000, |now, h| {
        if conn.is_none() {
            if let Ok(fd) = h[1].stack.accept(listener) {
                h[1].stack.write(now, fd, b"bye").unwrap();
                h[1].stack.close(now, fd).unwrap(); // server closes first: it holds TIME-WAIT
                conn = Some(fd);
            }
        }
        if !closed && drain(&mut h[0].stack, client, &mut reply) {
            h[0].stack.close(now, client).unwrap();
            closed = true;
        }
        closed
    });
    assert!(ok, "seed {seed}");
    assert_eq!(reply, b"bye");
    let after_close = net.now();
    hosts[1].stack.close(after_close, listener).unwrap();
    assert!(hosts[1].stack.poll_at().is_some(), "the active closer keeps TIME-WAIT timers");
    assert!(net.run(&mut hosts, after_close + 600_000, |_, h| h[1].stack.poll_at().is_none()), "TIME-WAIT never ended");
    assert!(net.now() - after_close >= 1000, "TIME-WAIT lasted 2 x MSL, not an instant");
    assert_eq!(resets(&net.take_capture()), 0, "a clean close sends no RST");
}

#[test]
fn an_echo_server_driven_only_by_wait_events() {
    use nic_stack::{Event, Interest};
    let seed = 5;
    let net = Network::new(seed, quiet_link());
    let mut hosts = stacks(&net, seed);
    let listener = listen(&mut hosts[1].stack, 7, 8);
    hosts[1].stack.register(listener, Interest::READABLE).unwrap();
    let clients: Vec<Fd> = (0..5)
        .map(|_| {
            let fd = hosts[0].stack.socket(SocketType::Tcp);
            hosts[0].stack.connect(0, fd, SocketAddrV4::new(ip(2), 7)).unwrap();
            hosts[0].stack.register(fd, Interest::BOTH).unwrap();
            fd
        })
        .collect();
    let mut sent = vec![false; clients.len()];
    let mut echoed: Vec<Vec<u8>> = vec![Vec::new(); clients.len()];
    let mut events: Vec<Event> = Vec::new();
    let ok = net.run(&mut hosts, 10_000, |now, h| {
        events.clear();
        h[1].stack.wait(&mut events, 64);
        for ev in events.clone() {
            if ev.fd == listener {
                while let Ok(conn) = h[1].stack.accept(listener) {
                    h[1].stack.register(conn, Interest::READABLE).unwrap();
                }
                continue;
            }
            let mut request = Vec::new();
            if drain(&mut h[1].stack, ev.fd, &mut request) {
                h[1].stack.close(now, ev.fd).unwrap();
            }
            if !request.is_empty() {
                assert_eq!(h[1].stack.write(now, ev.fd, &request), Ok(request.len()));
            }
        }
        events.clear();
        h[0].stack.wait(&mut events, 64);
        for ev in events.clone() {
            let i = clients.iter().position(|&c| c == ev.fd).expect("a client");
            if ev.writable && !sent[i] {
                let msg = format!("hello from client {i}");
                h[0].stack.write(now, ev.fd, msg.as_bytes()).unwrap();
                sent[i] = true;
            }
            if ev.readable {
                drain(&mut h[0].stack, ev.fd, &mut echoed[i]);
            }
        }
        echoed.iter().enumerate().all(|(i, e)| e == format!("hello from client {i}").as_bytes())
    });
    assert!(ok, "echoes: {echoed:?} (seed {seed})");
}
