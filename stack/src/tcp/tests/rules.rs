//! One test per rule: sequence wrap, windows, RTO/Karn, fast retransmit, delayed ACK,
//! Nagle, persist, MSS, window scaling, timestamps/PAWS, keepalive, listen queues, ports.

use super::*;
use crate::tcp::segment::{ACK, FIN, PSH, RST, SYN};
use crate::tcp::{FourTuple, KeepaliveConfig, Readiness, TcpError, TcpState::*};

fn p(n: u32) -> u32 {
    PEER_ISS.wrapping_add(n)
}

fn opened(cfg: TcpConfig) -> (Scripted, TcpHandle, u32) {
    let mut t = Scripted::new(cfg);
    let (h, iss) = t.open_active();
    (t, h, iss)
}

fn total_payload(t: &mut Scripted) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(s) = t.take() {
        all.extend_from_slice(&s.payload);
    }
    all
}

#[test]
fn our_isn_just_below_2_pow_32_wraps_cleanly() {
    let mut t = Scripted::new(plain_config());
    let tuple = FourTuple::new((LOCAL, SERVER_PORT), (REMOTE, PEER_PORT));
    let offset = t.engine.isn.isn(0, &tuple).0;
    t.now = u64::from((u32::MAX - 300).wrapping_sub(offset) / 250);
    let (_, conn, iss) = t.open_passive();
    assert!(iss > u32::MAX - 600, "ISN {iss} sits below 2^32");
    let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    t.send(conn, &data);
    let seg = t.take_one();
    assert_eq!(seg.seq(), iss.wrapping_add(1));
    assert_eq!(seg.payload, data);
    let end = iss.wrapping_add(1001);
    assert!(end < 1000, "the data crosses 2^32");
    t.inject(t.peer(p(1), end, ACK));
    assert_eq!(t.engine.stats().ack_unsent_data, 0);
    assert_eq!(t.engine.readiness(conn), Readiness(Readiness::WRITABLE));
    assert_eq!(t.engine.buffer_bytes(conn), Some(0), "acknowledged data released");
}

#[test]
fn peer_data_across_the_wrap_arrives_in_order() {
    let (mut t, h, iss) = opened(plain_config());
    // PEER_ISS + 1 is 99 below 2^32: the second segment starts past the wrap.
    t.inject(t.peer(p(1), iss.wrapping_add(1), ACK).payload(&[1; 150]));
    t.inject(t.peer(p(151), iss.wrapping_add(1), ACK).payload(&[2; 150]));
    let ack = t.take_one();
    assert_eq!(ack.ack(), p(301));
    assert!(p(301) < 300);
    let data = t.read_all(h);
    assert_eq!(data.len(), 300);
    assert!(data[..150].iter().all(|&b| b == 1) && data[150..].iter().all(|&b| b == 2));
}

#[test]
fn receive_window_closes_when_the_buffer_fills_and_reopens_after_recv() {
    let (mut t, h, iss) = opened(plain_config()); // 8192-byte receive buffer
    let ack_seq = iss.wrapping_add(1);
    for i in 0..8u32 {
        t.inject(t.peer(p(1 + i * 1024), ack_seq, ACK).payload(&[i as u8; 1024]));
    }
    let last = t.sent.drain(..).next_back().expect("ACKs were sent");
    let (header, _) = segment::parse(&last, LOCAL, REMOTE).unwrap();
    assert_eq!((header.ack.0, header.window), (p(8193), 0));
    // A byte beyond a zero window is not taken; the ACK repeats the zero window.
    t.inject(t.peer(p(8193), ack_seq, ACK).payload(b"z"));
    let ack = t.take_one();
    assert_eq!((ack.ack(), ack.header.window), (p(8193), 0));
    // Reading makes room; the update goes out at the next poll, which is due at once.
    let mut buf = vec![0; 4096];
    assert_eq!(t.engine.recv(h, &mut buf), Ok(4096));
    assert!(t.engine.next_timer().is_some_and(|at| at <= t.now));
    t.advance(0);
    let update = t.take_one();
    assert_eq!((update.ack(), update.header.window), (p(8193), 4096));
}

#[test]
fn an_ack_sent_after_recv_carries_the_window_update_and_pays_for_it() {
    let (mut t, h, iss) = opened(plain_config()); // 8192-byte receive buffer
    let ack_seq = iss.wrapping_add(1);
    for i in 0..8u32 {
        t.inject(t.peer(p(1 + i * 1024), ack_seq, ACK).payload(&[i as u8; 1024]));
    }
    t.sent.clear();
    let mut buf = vec![0; 4096];
    assert_eq!(t.engine.recv(h, &mut buf), Ok(4096));
    // Before the next poll, a segment calls for an ACK at once (a duplicate): that ACK
    // carries the opened window, and no second one follows for the update.
    t.inject(t.peer(p(1), ack_seq, ACK).payload(b"old"));
    let ack = t.take_one();
    assert_eq!((ack.ack(), ack.header.window), (p(8193), 4096));
    t.advance(0);
    t.expect_silence();
    // Without an ACK in between, the update still goes out by itself.
    assert_eq!(t.engine.recv(h, &mut buf), Ok(4096));
    t.advance(0);
    let update = t.take_one();
    assert_eq!((update.ack(), update.header.window), (p(8193), 8192));
}

#[test]
fn segments_at_the_window_edges() {
    let (mut t, _, iss) = opened(plain_config());
    let ack_seq = iss.wrapping_add(1);
    // RCV.WND = 8192: the last byte inside is p(1) + 8191.
    t.inject(t.peer(p(8192), ack_seq, ACK).payload(b"x"));
    assert_eq!(t.engine.stats().ooo_queued, 1, "last byte of the window is acceptable");
    t.take_one();
    t.inject(t.peer(p(8193), ack_seq, ACK).payload(b"y"));
    assert_eq!(t.engine.stats().out_of_window, 1, "first byte past the window is not");
    assert_eq!(t.take_one().ack(), p(1), "an unacceptable segment is answered with an ACK");
    // Old data (entirely before RCV.NXT) is also answered, for the sender's sake.
    t.inject(t.peer(p(0), ack_seq, ACK).payload(b"o"));
    assert_eq!(t.take_one().ack(), p(1));
}

#[test]
fn ack_of_unsent_data_is_answered_and_dropped() {
    let (mut t, h, iss) = opened(plain_config());
    t.inject(t.peer(p(1), iss.wrapping_add(500), ACK).payload(b"data"));
    assert_eq!(t.engine.stats().ack_unsent_data, 1);
    assert_eq!(t.take_one().ack(), p(1), "data of that segment not taken");
    assert_eq!(t.read_all(h), b"");
}

#[test]
fn retransmission_timeout_backs_off_and_karn_skips_retransmitted_samples() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    let syn = t.take_one();
    t.now += 50;
    t.inject(t.peer(PEER_ISS, syn.seq().wrapping_add(1), SYN | ACK));
    t.take_one();
    assert_eq!(t.engine.smoothed_rtt_ms(h), Some(50), "handshake RTT sampled");
    // RTO = SRTT + 4 * RTTVAR = 50 + 100 = 150, floored at 200.
    t.send(h, b"hello");
    let first = t.take_one();
    t.advance(199);
    t.expect_silence();
    t.advance(1);
    let again = t.take_one();
    assert_eq!((again.seq(), again.payload.as_slice()), (first.seq(), &b"hello"[..]));
    t.advance(399);
    t.expect_silence();
    t.advance(1);
    assert_eq!(t.take_one().seq(), first.seq(), "second retransmission after 2 x RTO");
    assert_eq!(t.engine.stats().rto_expirations, 2);
    t.inject(t.peer(p(1), first.seq().wrapping_add(5), ACK));
    assert_eq!(t.engine.smoothed_rtt_ms(h), Some(50), "Karn: no sample from a retransmitted segment");
    t.send(h, b"again");
    t.take_one();
    t.now += 90;
    t.inject(t.peer(p(1), first.seq().wrapping_add(10), ACK));
    assert_eq!(t.engine.smoothed_rtt_ms(h), Some(55), "7/8 * 50 + 1/8 * 90");
}

#[test]
fn data_retransmissions_give_up_with_timed_out() {
    let (mut t, h, _) = opened(TcpConfig { max_retransmits: 2, ..plain_config() });
    t.send(h, b"lost");
    t.take_one();
    for _ in 0..3 {
        t.advance(60_000);
    }
    assert_eq!(t.engine.state(h), Some(Closed));
    assert_eq!(t.engine.recv(h, &mut [0; 4]), Err(TcpError::TimedOut));
    assert_eq!(t.engine.stats().timeouts, 1);
    let sent: Vec<u8> = std::iter::from_fn(|| t.take()).map(|s| s.flags()).collect();
    assert_eq!(sent.last().map(|f| f & RST), Some(RST), "the peer is told with a RST: {sent:?}");
}

#[test]
fn connect_gives_up_after_syn_retries() {
    let mut t = Scripted::new(TcpConfig { syn_retries: 2, ..plain_config() });
    let h = t.connect();
    t.take_one();
    let mut syns = 0;
    for _ in 0..20 {
        t.advance(1_000);
        while let Some(s) = t.take() {
            assert_eq!(s.flags(), SYN);
            syns += 1;
        }
    }
    assert_eq!(syns, 2, "two retransmissions");
    assert_eq!(t.engine.recv(h, &mut [0; 4]), Err(TcpError::TimedOut));
}

#[test]
fn three_duplicate_acks_trigger_fast_retransmit() {
    let (mut t, h, iss) = opened(plain_config());
    let data = vec![7u8; 5 * 1460];
    t.send(h, &data);
    let segments: Vec<Sent> = std::iter::from_fn(|| t.take()).collect();
    assert_eq!(segments.len(), 5);
    let second = segments[1].seq();
    t.inject(t.peer(p(1), second, ACK));
    for _ in 0..2 {
        t.inject(t.peer(p(1), second, ACK));
    }
    t.expect_silence();
    t.inject(t.peer(p(1), second, ACK));
    let retransmitted = t.take_one();
    assert_eq!((retransmitted.seq(), retransmitted.payload.len()), (second, 1460));
    assert_eq!(t.engine.stats().fast_retransmits, 1);
    assert_eq!(t.engine.stats().dup_acks_received, 3);
    // A partial ACK (NewReno) retransmits the next hole at once.
    let third = segments[2].seq();
    t.inject(t.peer(p(1), third, ACK));
    assert_eq!(t.take_one().seq(), third);
    let _ = iss;
}

#[test]
fn delayed_ack_waits_for_a_second_segment_or_the_timer() {
    let (mut t, _, iss) = opened(plain_config());
    t.inject(t.peer(p(1), iss.wrapping_add(1), ACK).payload(b"one"));
    t.expect_silence();
    t.advance(39);
    t.expect_silence();
    t.advance(1);
    assert_eq!(t.take_one().ack(), p(4));
    t.inject(t.peer(p(4), iss.wrapping_add(1), ACK).payload(b"two"));
    t.expect_silence();
    t.inject(t.peer(p(7), iss.wrapping_add(1), ACK).payload(b"three"));
    assert_eq!(t.take_one().ack(), p(12), "every second segment is acknowledged at once");
}

#[test]
fn a_receive_batch_acknowledges_in_order_data_once_at_its_end() {
    use crate::tcp::input::MAX_STRETCH_SEGMENTS;
    let (mut t, h, iss) = opened(TcpConfig { recv_buffer: 65_535, ..plain_config() });
    let ack_seq = iss.wrapping_add(1);
    t.engine.begin_batch();
    for i in 0..5 {
        t.inject(t.peer(p(1 + 100 * i), ack_seq, ACK).payload(&[b'x'; 100]));
    }
    t.expect_silence();
    let sent = &mut t.sent;
    t.engine.end_batch(t.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    assert_eq!(t.take_one().ack(), p(501), "one ACK for the five segments");
    let sent = &mut t.sent;
    t.engine.end_batch(t.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    t.expect_silence();

    // Out-of-order data is still answered at once (fast retransmit counts those ACKs),
    // and that ACK pays what the batch owed.
    t.engine.begin_batch();
    t.inject(t.peer(p(501), ack_seq, ACK).payload(&[b'y'; 100]));
    t.inject(t.peer(p(601), ack_seq, ACK).payload(&[b'y'; 100]));
    t.expect_silence();
    t.inject(t.peer(p(801), ack_seq, ACK).payload(&[b'z'; 100]));
    assert_eq!(t.take_one().ack(), p(701), "duplicate ACK for the hole, at once");
    let sent = &mut t.sent;
    t.engine.end_batch(t.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    t.expect_silence();
    t.inject(t.peer(p(701), ack_seq, ACK).payload(&[b'y'; 100]));
    assert_eq!(t.take_one().ack(), p(901), "the hole filled: at once");

    // A long batch still sends an ACK every MAX_STRETCH_SEGMENTS segments.
    t.engine.begin_batch();
    let n = u32::from(MAX_STRETCH_SEGMENTS);
    for i in 0..n {
        t.inject(t.peer(p(901 + 10 * i), ack_seq, ACK).payload(&[b'w'; 10]));
    }
    assert_eq!(t.take_one().ack(), p(901 + 10 * n));
    let sent = &mut t.sent;
    t.engine.end_batch(t.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    t.expect_silence();
    assert_eq!(t.read_all(h).len(), 900 + 10 * n as usize);

    // Without end_batch, the delayed-ACK timer still acknowledges.
    t.engine.begin_batch();
    let next = p(901 + 10 * n);
    t.inject(t.peer(next, ack_seq, ACK).payload(b"a"));
    t.inject(t.peer(next.wrapping_add(1), ack_seq, ACK).payload(b"b"));
    t.expect_silence();
    t.advance(40);
    assert_eq!(t.take_one().ack(), next.wrapping_add(2));
}

#[test]
fn out_of_order_data_is_acknowledged_at_once_and_queued_within_bounds() {
    let (mut t, h, iss) = opened(TcpConfig { max_ooo_segments: 2, ..plain_config() });
    let ack_seq = iss.wrapping_add(1);
    t.inject(t.peer(p(11), ack_seq, ACK).payload(b"b"));
    assert_eq!(t.take_one().ack(), p(1), "duplicate ACK for the hole");
    t.inject(t.peer(p(21), ack_seq, ACK).payload(b"c"));
    t.take_one();
    t.inject(t.peer(p(31), ack_seq, ACK).payload(b"d"));
    t.take_one();
    assert_eq!(t.engine.stats().ooo_dropped, 1, "third island over the bound");
    t.inject(t.peer(p(1), ack_seq, ACK).payload(b"aaaaaaaaaa"));
    assert_eq!(t.take_one().ack(), p(12), "filling the hole pulls the queued island");
    assert_eq!(t.read_all(h), b"aaaaaaaaaab");
}

#[test]
fn nagle_holds_small_segments_while_data_is_in_flight() {
    let (mut t, h, iss) = opened(plain_config());
    t.send(h, b"first");
    assert_eq!(t.take_one().payload, b"first");
    t.send(h, b"second");
    t.send(h, b"third");
    t.expect_silence();
    t.inject(t.peer(p(1), iss.wrapping_add(6), ACK));
    let coalesced = t.take_one();
    assert_eq!(coalesced.payload, b"secondthird");
    assert_eq!(coalesced.flags(), ACK | PSH);
}

#[test]
fn nagle_lets_a_small_tail_follow_full_segments_at_once() {
    // Minshall's rule (Linux's): only an unacknowledged *small* segment holds the next one.
    let (mut t, h, _) = opened(plain_config());
    t.send(h, &[b'x'; 3000]);
    let mut lens = Vec::new();
    while let Some(seg) = t.take() {
        lens.push(seg.payload.len());
    }
    assert_eq!(lens.iter().sum::<usize>(), 3000, "the tail is not held: {lens:?}");
    assert!(lens.len() >= 2 && lens[..lens.len() - 1].iter().all(|&l| l == lens[0]), "{lens:?}");
    t.send(h, b"more");
    t.expect_silence(); // the 10-byte tail is unacknowledged: this one waits
}

#[test]
fn nagle_holds_the_tail_of_a_write_that_did_not_fit() {
    // The application waits for room in the send buffer: more data follows the tail.
    let (mut t, h, _) = opened(plain_config());
    let taken = t.send(h, &[b'y'; 20_000]);
    assert!(taken < 20_000, "the buffer is smaller than the write");
    let mut lens = Vec::new();
    while let Some(seg) = t.take() {
        lens.push(seg.payload.len());
    }
    assert!(!lens.is_empty() && lens.iter().all(|&l| l == lens[0]), "full segments only: {lens:?}");
    assert!(lens.iter().sum::<usize>() < taken, "the tail waits: {lens:?} of {taken}");
}

#[test]
fn nodelay_sends_small_segments_at_once() {
    let (mut t, h, _) = opened(plain_config());
    t.engine.set_nodelay(h, true).unwrap();
    t.send(h, b"first");
    t.send(h, b"second");
    assert_eq!(total_payload(&mut t), b"firstsecond");
    assert!(t.sent.is_empty());
}

#[test]
fn zero_window_is_probed_until_it_opens() {
    let (mut t, h, iss) = opened(plain_config());
    let una = iss.wrapping_add(1);
    t.inject(t.peer(p(1), una, ACK).window(0));
    t.send(h, b"waiting");
    t.expect_silence();
    t.advance(1_000);
    let probe = t.take_one();
    assert_eq!((probe.seq(), probe.payload.as_slice()), (una, &b"w"[..]));
    assert_eq!(t.engine.stats().zero_window_probes, 1);
    // Refused each time: the window stays zero, the probes keep coming, further apart.
    let mut probe_times = vec![t.now];
    while probe_times.len() < 4 {
        t.inject(t.peer(p(1), una, ACK).window(0));
        t.advance(10);
        if let Some(probe) = t.take() {
            assert_eq!((probe.seq(), probe.payload.len()), (una, 1));
            probe_times.push(t.now);
        }
    }
    let gaps: Vec<u64> = probe_times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= 2 * g[0] - 10), "backoff doubles: {gaps:?}");
    // The window opens: everything goes.
    t.inject(t.peer(p(1), una, ACK).window(8192));
    assert_eq!(total_payload(&mut t), b"waiting");
    assert_eq!(t.engine.state(h), Some(Established), "a zero window never times the connection out");
}

#[test]
fn peer_mss_and_path_mtu_bound_our_segments() {
    let mut t = Scripted::new(plain_config());
    t.engine.set_mtu(1000);
    let h = t.connect();
    let syn = t.take_one();
    assert_eq!(syn.header.options.mss, Some(960), "advertised MSS follows the interface MTU");
    let syn_ack = t
        .peer(PEER_ISS, syn.seq().wrapping_add(1), SYN | ACK)
        .options(TcpOptions { mss: Some(500), ..Default::default() });
    t.inject(syn_ack);
    t.take_one();
    t.engine.set_nodelay(h, true).unwrap();
    t.send(h, &[1; 1200]);
    let sizes: Vec<usize> = std::iter::from_fn(|| t.take()).map(|s| s.payload.len()).collect();
    assert_eq!(sizes, [500, 500, 200]);
    t.inject(t.peer(p(1), syn.seq().wrapping_add(1201), ACK));
    t.engine.set_path_mtu(REMOTE, 340);
    t.send(h, &[2; 700]);
    let sizes: Vec<usize> = std::iter::from_fn(|| t.take()).map(|s| s.payload.len()).collect();
    assert_eq!(sizes, [300, 300, 100], "ICMP fragmentation-needed lowers the segment size");
}

#[test]
fn window_scaling_is_negotiated_and_applied_both_ways() {
    let cfg = TcpConfig { window_scaling: true, recv_buffer: 256 * 1024, ..plain_config() };
    let mut t = Scripted::new(cfg);
    let h = t.connect();
    let syn = t.take_one();
    assert_eq!(syn.header.options.window_scale, Some(3), "256 KiB needs a shift of 3");
    assert_eq!(syn.header.window, 65535, "the SYN's window is not scaled");
    let una = syn.seq().wrapping_add(1);
    let syn_ack = t.peer(PEER_ISS, una, SYN | ACK).window(1000).options(TcpOptions {
        window_scale: Some(2),
        mss: Some(1000),
        ..Default::default()
    });
    t.inject(syn_ack);
    let ack = t.take_one();
    assert_eq!(ack.header.window, ((256 * 1024) >> 3) as u16, "our window is scaled by our shift");
    // The peer's window field is now x4: 1000 -> 4000 bytes.
    t.inject(t.peer(p(1), una, ACK).window(1000));
    t.engine.set_nodelay(h, true).unwrap();
    t.send(h, &[0; 6000]);
    assert_eq!(total_payload(&mut t).len(), 4000);
}

#[test]
fn no_window_scaling_unless_both_sides_offer_it() {
    let cfg = TcpConfig { window_scaling: true, recv_buffer: 256 * 1024, ..plain_config() };
    let mut t = Scripted::new(cfg);
    t.connect();
    let syn = t.take_one();
    t.inject(t.peer(PEER_ISS, syn.seq().wrapping_add(1), SYN | ACK));
    assert_eq!(t.take_one().header.window, 65535, "unscaled, capped at 65535");
}

#[test]
fn timestamps_are_echoed_and_paws_drops_old_segments() {
    let cfg = TcpConfig { timestamps: true, ..plain_config() };
    let mut t = Scripted::new(cfg);
    let h = t.connect();
    let syn = t.take_one();
    let (our_tsval, _) = syn.header.options.timestamps.expect("TS offered");
    let una = syn.seq().wrapping_add(1);
    let ts = |val: u32, ecr: u32| TcpOptions { timestamps: Some((val, ecr)), ..Default::default() };
    t.inject(t.peer(PEER_ISS, una, SYN | ACK).options(TcpOptions { mss: Some(1460), ..ts(1000, our_tsval) }));
    let ack = t.take_one();
    assert_eq!(ack.header.options.timestamps.map(|(_, ecr)| ecr), Some(1000), "TSecr echoes the peer's TSval");
    t.inject(t.peer(p(1), una, ACK).options(ts(2000, our_tsval)).payload(b"new"));
    t.inject(t.peer(p(4), una, ACK).options(ts(1500, our_tsval)).payload(b"old"));
    assert_eq!(t.engine.stats().paws_rejected, 1);
    assert_eq!(t.read_all(h), b"new");
    let acks: Vec<Sent> = std::iter::from_fn(|| t.take()).collect();
    assert_eq!(acks.last().unwrap().header.options.timestamps.map(|(_, ecr)| ecr), Some(2000));
    // Every segment carries the option, so the data per segment shrinks by 12 bytes.
    t.engine.set_nodelay(h, true).unwrap();
    t.send(h, &[0; 1460]);
    assert_eq!(t.take().unwrap().payload.len(), 1448);
}

#[test]
fn keepalive_probes_an_idle_peer_and_drops_a_dead_one() {
    let keepalive = KeepaliveConfig { idle_ms: 10_000, interval_ms: 1_000, probes: 3 };
    let (mut t, h, iss) = opened(TcpConfig { keepalive_params: keepalive, ..plain_config() });
    t.engine.set_keepalive(t.now, h, true).unwrap();
    t.advance(9_999);
    t.expect_silence();
    t.advance(1);
    let probe = t.take_one();
    assert_eq!((probe.seq(), probe.flags(), probe.payload.len()), (iss, ACK, 0), "SEG.SEQ = SND.NXT - 1");
    t.inject(t.peer(p(1), iss.wrapping_add(1), ACK));
    t.advance(9_999);
    t.expect_silence();
    for _ in 0..3 {
        t.advance(1_000);
    }
    assert_eq!(t.engine.stats().keepalive_probes, 4);
    assert_eq!(t.engine.state(h), Some(Established));
    t.advance(1_000);
    assert_eq!(t.engine.state(h), Some(Closed));
    assert_eq!(t.engine.recv(h, &mut [0; 1]), Err(TcpError::TimedOut));
}

#[test]
fn full_syn_queue_drops_syns_and_half_open_entries_expire() {
    let mut t = Scripted::new(TcpConfig { synack_retries: 2, ..plain_config() });
    let listener = t.engine.listen((LOCAL, SERVER_PORT), 2).unwrap();
    let syn_from = |t: &Scripted, port: u16| {
        let mut s = t.peer(PEER_ISS, 0, SYN);
        s.spec.src.1 = port;
        s
    };
    for port in [1001, 1002, 1003] {
        t.inject(syn_from(&t, port));
    }
    assert_eq!(t.sent.len(), 2, "two SYN-ACKs");
    assert_eq!(t.engine.stats().syn_queue_drops, 1);
    t.sent.clear();
    t.advance(1_000);
    assert_eq!(t.sent.len(), 2, "SYN-ACKs retransmitted");
    t.advance(2_000);
    assert_eq!(t.sent.len(), 4, "after 2 x RTO again");
    t.advance(4_000);
    assert_eq!(t.engine.stats().syn_queue_expired, 2);
    assert_eq!(t.sent.len(), 4);
    // The queue has room again.
    t.inject(syn_from(&t, 1004));
    assert_eq!(t.sent.len(), 5);
    assert_eq!(t.engine.accept(listener), Ok(None));
    assert!(TcpEngine::syn_queue_entry_bytes() <= 128, "SYN-queue entry: {} bytes", TcpEngine::syn_queue_entry_bytes());
}

#[test]
fn full_accept_queue_drops_the_final_ack_until_the_application_accepts() {
    let mut t = Scripted::new(plain_config());
    let listener = t.engine.listen((LOCAL, SERVER_PORT), 2).unwrap();
    let handshake_from = |t: &mut Scripted, port: u16| -> u32 {
        let mut syn = t.peer(PEER_ISS, 0, SYN);
        syn.spec.src.1 = port;
        t.inject(syn);
        t.take_one().seq()
    };
    let complete = |t: &mut Scripted, port: u16, iss: u32| {
        let mut ack = t.peer(p(1), iss.wrapping_add(1), ACK);
        ack.spec.src.1 = port;
        t.inject(ack);
    };
    let a = handshake_from(&mut t, 1001);
    let b = handshake_from(&mut t, 1002);
    complete(&mut t, 1001, a);
    let c = handshake_from(&mut t, 1003);
    complete(&mut t, 1002, b);
    complete(&mut t, 1003, c);
    assert_eq!(t.engine.stats().accept_queue_drops, 1, "third completion found the accept queue full");
    assert!(t.engine.accept(listener).unwrap().is_some());
    complete(&mut t, 1003, c); // the client's retransmission (or data) completes it now
    assert!(t.engine.accept(listener).unwrap().is_some());
    assert!(t.engine.accept(listener).unwrap().is_some());
    assert_eq!(t.engine.accept(listener), Ok(None));
}

#[test]
fn closing_with_unread_data_resets() {
    let (mut t, h, iss) = opened(plain_config());
    t.inject(t.peer(p(1), iss.wrapping_add(1), ACK).payload(b"unread"));
    t.sent.clear();
    t.close(h);
    let rst = t.take_one();
    assert_eq!(rst.flags() & RST, RST);
    assert_eq!(t.engine.stats().resets_on_close, 1);
    assert_eq!(t.engine.connection_count(), 0);
}

#[test]
fn data_for_a_closed_connection_is_answered_with_rst() {
    let (mut t, h, iss) = opened(plain_config());
    t.close(h);
    let fin = t.take_one();
    assert_eq!(fin.flags(), FIN | ACK);
    t.inject(t.peer(p(1), iss.wrapping_add(2), ACK).payload(b"late"));
    assert_eq!(t.take_one().flags() & RST, RST);
    assert_eq!(t.engine.connection_count(), 0);
}

#[test]
fn orphan_fin_wait_2_times_out() {
    let (mut t, h, iss) = opened(TcpConfig { fin_wait2_timeout_ms: 5_000, ..plain_config() });
    t.close(h);
    t.take_one();
    t.inject(t.peer(p(1), iss.wrapping_add(2), ACK));
    assert_eq!(t.engine.connection_count(), 1);
    t.advance(5_000);
    assert_eq!(t.engine.connection_count(), 0);
}

impl Scripted {
    /// A listener and one completed handshake waiting in its accept queue; returns our ISN.
    fn handshake_not_accepted(&mut self) -> (TcpHandle, u32) {
        let listener = self.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
        self.inject(self.peer(PEER_ISS, 0, SYN));
        let iss = self.take_one().seq();
        self.inject(self.peer(p(1), iss.wrapping_add(1), ACK));
        (listener, iss)
    }
}

#[test]
fn closing_a_listener_resets_unaccepted_connections() {
    let mut t = Scripted::new(plain_config());
    let (listener, _) = t.handshake_not_accepted();
    t.close(listener);
    assert_eq!(t.take_one().flags() & RST, RST);
    assert_eq!(t.engine.connection_count(), 0);
    assert_eq!(t.engine.accept(listener), Err(TcpError::InvalidHandle));
    assert!(t.engine.listen((LOCAL, SERVER_PORT), 4).is_ok(), "the port is free again");
}

#[test]
fn events_report_readiness_changes_once() {
    let mut t = Scripted::new(plain_config());
    let (listener, iss) = t.handshake_not_accepted();
    let mut events = Vec::new();
    t.engine.drain_events(|h| events.push(h));
    assert_eq!(events, [listener]);
    let conn = t.engine.accept(listener).unwrap().unwrap();
    events.clear();
    t.engine.drain_events(|h| events.push(h));
    assert!(events.contains(&conn), "a new connection reports WRITABLE");
    events.clear();
    t.engine.drain_events(|h| events.push(h));
    assert!(events.is_empty(), "nothing changed");
    t.inject(t.peer(p(1), iss.wrapping_add(1), ACK).payload(b"x"));
    t.inject(t.peer(p(2), iss.wrapping_add(1), ACK).payload(b"y"));
    t.engine.drain_events(|h| events.push(h));
    assert_eq!(events, [conn], "one event for two arrivals");
    assert!(t.engine.readiness(conn).readable());
}

#[test]
fn a_receive_batch_reports_readiness_once_by_its_end() {
    let (mut t, h, iss) = opened(TcpConfig { recv_buffer: 65_535, ..plain_config() });
    let ack_seq = iss.wrapping_add(1);
    let mut events = Vec::new();
    t.engine.drain_events(|h| events.push(h));
    events.clear();
    t.engine.begin_batch();
    for i in 0..4 {
        t.inject(t.peer(p(1 + 100 * i), ack_seq, ACK).payload(&[b'x'; 100]));
    }
    let sent = &mut t.sent;
    t.engine.end_batch(t.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    assert_eq!(t.take_one().ack(), p(401));
    t.engine.drain_events(|h| events.push(h));
    assert_eq!(events, [h], "one event for the batch");
    assert!(t.engine.readiness(h).readable());
    assert_eq!(t.read_all(h).len(), 400);
    // The peer's FIN in a later batch, behind more data: its ACK goes at once, and the
    // state and readiness are up to date without waiting for the batch's end.
    t.engine.begin_batch();
    t.inject(t.peer(p(401), ack_seq, ACK).payload(&[b'y'; 100]));
    t.inject(t.peer(p(501), ack_seq, ACK | FIN).payload(&[b'z'; 100]));
    assert_eq!(t.take_one().ack(), p(602));
    assert_eq!(t.engine.state(h), Some(TcpState::CloseWait));
    assert!(t.engine.readiness(h).readable());
    let sent = &mut t.sent;
    t.engine.end_batch(t.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    t.expect_silence();
    assert_eq!(t.read_all(h).len(), 200);
}

#[test]
fn ephemeral_ports_differ_and_a_tuple_in_time_wait_is_busy() {
    let mut t = Scripted::new(plain_config());
    let a = t.connect();
    let b = t.connect();
    let port_a = t.engine.local_addr(a).unwrap().1;
    assert_ne!(port_a, t.engine.local_addr(b).unwrap().1);
    assert!(port_a >= 49152);
    let (mut t, h, _) = into_time_wait();
    let local = t.engine.local_addr(h).unwrap();
    let out = &mut |_, _, _: &[u8]| {};
    assert_eq!(t.engine.connect_from(t.now, local, (REMOTE, PEER_PORT), out), Err(TcpError::AddrInUse));
    t.advance(2_000);
    assert!(t.engine.connect_from(t.now, local, (REMOTE, PEER_PORT), out).is_ok(), "free after 2 MSL");
}

fn into_time_wait() -> (Scripted, TcpHandle, u32) {
    let (mut t, h, iss) = opened(plain_config());
    t.shutdown(h);
    t.inject(t.peer(p(1), iss.wrapping_add(2), FIN | ACK));
    assert_eq!(t.engine.state(h), Some(TimeWait));
    t.sent.clear();
    (t, h, iss)
}

#[test]
fn a_large_drained_send_buffer_lingers_then_is_freed_by_the_timer() {
    use crate::tcp::send_buffer::{BUFFER_LINGER_MS, LINGER_ABOVE};
    // More frames than LINGER_ABOVE at once: the drained queue keeps its slots.
    let frames = 2 * LINGER_ABOVE;
    let (mut t, h, iss) = opened(TcpConfig { send_buffer: 2 * frames * 1460, ..plain_config() });
    let data = vec![7u8; frames * 1460];
    assert_eq!(t.send(h, &data), data.len());
    let mut acked = 0u32;
    while (acked as usize) < data.len() {
        let mut highest = acked;
        while let Some(seg) = t.take() {
            highest = highest.max(seg.seq().wrapping_sub(iss) - 1 + seg.payload.len() as u32);
        }
        assert!(highest > acked, "the engine keeps sending");
        acked = highest;
        t.inject(t.peer(p(1), iss.wrapping_add(1 + acked), ACK).window(65_535));
    }
    assert!(t.engine.buffer_bytes(h).unwrap() > 0, "a bulk buffer keeps its storage when drained");
    t.advance(BUFFER_LINGER_MS - 1);
    assert!(t.engine.buffer_bytes(h).unwrap() > 0);
    t.advance(1);
    assert_eq!(t.engine.buffer_bytes(h), Some(0), "and gives it back when it stays empty");
    t.expect_silence();
}

#[test]
fn idle_connection_is_small_and_holds_no_buffers() {
    let (mut t, h, iss) = opened(TcpConfig::default());
    t.engine.set_nodelay(h, true).unwrap();
    t.send(h, &[1; 3000]);
    t.inject(t.peer(p(1), iss.wrapping_add(3001), ACK).payload(&[2; 1000]));
    assert_eq!(t.read_all(h).len(), 1000);
    assert_eq!(t.engine.buffer_bytes(h), Some(0), "buffers are released when drained");
    let bytes = t.engine.idle_connection_bytes(h).unwrap();
    eprintln!("idle connection: {bytes} bytes; SYN-queue entry: {} bytes", TcpEngine::syn_queue_entry_bytes());
    assert!(bytes <= 1024, "idle connection takes {bytes} bytes");
}

#[test]
fn challenge_acks_are_rate_limited() {
    let (mut t, h, _) = opened(plain_config());
    for _ in 0..1500 {
        t.inject(t.peer(p(100), 0, RST));
    }
    assert_eq!(t.engine.stats().challenge_acks, 1000);
    assert_eq!(t.engine.stats().challenge_acks_suppressed, 500);
    assert_eq!(t.sent.len(), 1000);
    t.now += 1000;
    t.inject(t.peer(p(100), 0, RST));
    assert_eq!(t.engine.stats().challenge_acks, 1001, "a new second, a new budget");
    assert_eq!(t.engine.state(h), Some(Established));
}

#[test]
fn a_fin_behind_a_gap_counts_once_the_gap_fills() {
    let (mut t, h, iss) = opened(plain_config());
    let ack_seq = iss.wrapping_add(1);
    t.inject(t.peer(p(6), ack_seq, FIN | ACK).payload(b"world"));
    assert_eq!(t.take_one().ack(), p(1));
    assert_eq!(t.engine.state(h), Some(Established));
    t.inject(t.peer(p(1), ack_seq, ACK).payload(b"hello"));
    assert_eq!(t.take_one().ack(), p(12), "data and FIN acknowledged together");
    assert_eq!(t.engine.state(h), Some(CloseWait));
    assert_eq!(t.read_all(h), b"helloworld");
    assert_eq!(t.engine.recv(h, &mut [0; 4]), Ok(0));
}

#[test]
fn a_newer_syn_reopens_a_tuple_in_time_wait() {
    let mut t = Scripted::new(plain_config());
    let (listener, conn, iss) = t.open_passive();
    // We close first, so we hold TIME-WAIT.
    t.close(conn);
    t.take_one();
    t.inject(t.peer(p(1), iss.wrapping_add(2), FIN | ACK));
    t.take_one();
    assert!(t.engine.is_tuple_in_use((LOCAL, SERVER_PORT), (REMOTE, PEER_PORT)));
    // An old SYN (below RCV.NXT) only gets the TIME-WAIT ACK.
    t.inject(t.peer(PEER_ISS, 0, SYN));
    assert_eq!(t.take_one().flags(), ACK);
    // A newer one starts a new connection through the listener.
    t.inject(t.peer(p(100_000), 0, SYN));
    let syn_ack = t.take_one();
    assert_eq!((syn_ack.flags(), syn_ack.ack()), (SYN | ACK, p(100_001)));
    t.inject(t.peer(p(100_001), syn_ack.seq().wrapping_add(1), ACK));
    assert!(t.engine.accept(listener).unwrap().is_some());
}

/// A controller that never leaves a fixed window of `SEGMENTS` segments, and counts the
/// ACKs the engine asks it to grow on (per thread: the tests run in parallel).
#[derive(Debug)]
struct FixedWindow<const SEGMENTS: u32>;

thread_local! {
    static GROWTH_ASKED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl<const SEGMENTS: u32> crate::tcp::CongestionControl for FixedWindow<SEGMENTS> {
    fn reset(&mut self, _: u32) {}
    fn window(&self) -> u32 {
        SEGMENTS * 1460
    }
    fn ssthresh(&self) -> u32 {
        u32::MAX
    }
    fn on_ack(&mut self, _: u32, _: u32) {
        GROWTH_ASKED.with(|n| n.set(n.get() + 1));
    }
    fn on_fast_retransmit(&mut self, _: u32, _: u32) {}
    fn on_recovery_dup_ack(&mut self, _: u32) {}
    fn on_partial_ack(&mut self, _: u32, _: u32) {}
    fn on_recovery_exit(&mut self, _: u32, _: u32) {}
    fn on_timeout(&mut self, _: u32, _: u32) {}
}

#[test]
fn the_congestion_controller_is_pluggable() {
    let fixed: fn() -> Box<dyn crate::tcp::CongestionControl> = || Box::new(FixedWindow::<2>);
    let (mut t, h, iss) = opened(TcpConfig { congestion: fixed, ..plain_config() });
    t.send(h, &[0; 5 * 1460]);
    assert_eq!(total_payload(&mut t).len(), 2 * 1460, "two segments in flight, as the controller says");
    t.inject(t.peer(p(1), iss.wrapping_add(1 + 1460), ACK));
    assert_eq!(total_payload(&mut t).len(), 1460, "one more per segment acknowledged");
}

#[test]
fn the_window_grows_only_while_it_is_in_use() {
    // A window of 8 segments; the application sends 3 of them (under half of it) and
    // then 5 (over half): only the ACK of the second flight may grow the window.
    let wide: fn() -> Box<dyn crate::tcp::CongestionControl> = || Box::new(FixedWindow::<8>);
    let (mut t, h, iss) = opened(TcpConfig { congestion: wide, ..plain_config() });
    let asked = || GROWTH_ASKED.with(|n| n.get());
    let before = asked();
    t.send(h, &[0; 3 * 1460]);
    assert_eq!(total_payload(&mut t).len(), 3 * 1460);
    t.inject(t.peer(p(1), iss.wrapping_add(1 + 3 * 1460), ACK));
    assert_eq!(asked() - before, 0, "3 of 8 segments in flight: the window was not in use");
    t.send(h, &[0; 5 * 1460]);
    assert_eq!(total_payload(&mut t).len(), 5 * 1460);
    t.inject(t.peer(p(1), iss.wrapping_add(1 + 8 * 1460), ACK));
    assert_eq!(asked() - before, 1, "5 of 8 in flight: it was");
}

#[test]
fn a_retransmitted_syn_ack_is_acknowledged_again() {
    let (mut t, h, iss) = opened(plain_config());
    t.inject(t.peer(PEER_ISS, iss.wrapping_add(1), SYN | ACK).options(mss(1460)));
    let ack = t.take_one();
    assert_eq!((ack.flags(), ack.seq(), ack.ack()), (ACK, iss.wrapping_add(1), p(1)));
    assert_eq!(t.engine.state(h), Some(Established));
    assert_eq!(t.engine.stats().challenge_acks, 0, "not mistaken for a new SYN");
}

#[test]
fn a_listener_ignores_rst_and_bare_segments() {
    let mut t = Scripted::new(plain_config());
    t.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
    t.inject(t.peer(5, 0, RST));
    t.inject(t.peer(5, 0, 0).payload(b"no flags"));
    t.expect_silence();
    assert_eq!(t.engine.stats().ignored_segments, 2);
}

#[test]
fn acks_stay_inside_a_zero_window_after_a_probe() {
    let (mut t, h, iss) = opened(plain_config());
    let una = iss.wrapping_add(1);
    t.inject(t.peer(p(1), una, ACK).window(0));
    t.send(h, b"blocked");
    t.advance(1_000);
    assert_eq!(t.take_one().payload, b"b", "probe sent: SND.NXT is now one past the window");
    // Data from the peer: our ACK must carry SEQ = SND.UNA + SND.WND, or a strict
    // receiver drops it as outside its (zero) window.
    t.inject(t.peer(p(1), una, ACK).window(0).payload(b"ping"));
    t.advance(40);
    let ack = t.take_one();
    assert_eq!((ack.seq(), ack.ack()), (una, p(5)));
}

#[test]
fn an_echo_from_before_a_timeout_gives_no_rtt_sample() {
    let mut t = Scripted::new(TcpConfig { timestamps: true, ..plain_config() });
    let h = t.connect();
    let syn = t.take_one();
    let (syn_tsval, _) = syn.header.options.timestamps.unwrap();
    let una = syn.seq().wrapping_add(1);
    let ts = |val: u32, ecr: u32| TcpOptions { mss: Some(1460), timestamps: Some((val, ecr)), ..Default::default() };
    t.now += 50;
    t.inject(t.peer(PEER_ISS, una, SYN | ACK).options(ts(1000, syn_tsval)));
    t.take_one();
    assert_eq!(t.engine.smoothed_rtt_ms(h), Some(50));
    t.send(h, b"data");
    let (first_tsval, _) = t.take_one().header.options.timestamps.unwrap();
    t.advance(200);
    let (retransmit_tsval, _) = t.take_one().header.options.timestamps.unwrap();
    // The receiver got the first copy, its ACK was lost; the duplicate it got later does
    // not refresh TS.Recent, so its ACK echoes the first copy's TSval: 10 s ago.
    t.now += 10_000;
    t.inject(t.peer(p(1), una.wrapping_add(4), ACK).options(ts(2000, first_tsval)));
    assert_eq!(t.engine.smoothed_rtt_ms(h), Some(50), "not a 10 s round trip");
    t.send(h, b"more");
    let (fresh, _) = t.take_one().header.options.timestamps.unwrap();
    assert!(Seq(fresh).gt(Seq(retransmit_tsval)));
    t.now += 66;
    t.inject(t.peer(p(1), una.wrapping_add(8), ACK).options(ts(2001, fresh)));
    assert_eq!(t.engine.smoothed_rtt_ms(h), Some(52), "7/8 * 50 + 1/8 * 66");
}

#[test]
fn a_window_reopened_to_a_sliver_is_still_used() {
    let (mut t, h, iss) = opened(plain_config());
    let una = iss.wrapping_add(1);
    t.inject(t.peer(p(1), una, ACK).window(0));
    t.send(h, &[9; 2000]);
    t.advance(1_000);
    assert_eq!(t.take_one().payload.len(), 1, "zero-window probe");
    // 100 bytes: below half the largest window seen, so SWS avoidance waits...
    t.inject(t.peer(p(1), una, ACK).window(100));
    t.expect_silence();
    // ...but not forever: the persist timer overrides it.
    assert!(t.engine.next_timer().is_some(), "data waits, so a timer must run");
    t.advance(5_000);
    let sent = t.take().expect("the override sends what the window allows");
    assert_eq!((sent.seq(), sent.payload.len()), (una, 100));
}

#[test]
fn acks_after_a_timeout_carry_snd_max_not_the_rewound_snd_nxt() {
    let (mut t, h, iss) = opened(plain_config());
    t.engine.set_nodelay(h, true).unwrap();
    t.send(h, &[1; 3000]);
    let sent: Vec<Sent> = std::iter::from_fn(|| t.take()).collect();
    let snd_max = iss.wrapping_add(1 + 3000);
    assert_eq!(sent.iter().map(|s| s.payload.len()).sum::<usize>(), 3000);
    t.advance(1_000);
    assert_eq!(t.take_one().seq(), iss.wrapping_add(1), "timeout: back to SND.UNA");
    // The peer, which has all 3000 bytes but whose ACK was lost, sends data of its own.
    t.inject(t.peer(p(1), iss.wrapping_add(1), ACK).payload(b"reply"));
    t.advance(40);
    let ack = t.take_one();
    assert_eq!((ack.seq(), ack.ack(), ack.payload.len()), (snd_max, p(6), 0), "an ACK the peer accepts");
}

#[test]
fn acks_answering_unacceptable_acks_are_rate_limited() {
    let (mut t, _, iss) = opened(plain_config());
    let una = iss.wrapping_add(1);
    // Pure ACKs far outside the window: one answer, then silence for 500 ms.
    for _ in 0..10 {
        t.inject(t.peer(p(100_000), una, ACK));
    }
    assert_eq!(t.take_one().ack(), p(1));
    assert_eq!(t.engine.stats().unacceptable_acks_suppressed, 9);
    t.now += 500;
    t.inject(t.peer(p(100_000), una, ACK));
    assert_eq!(t.take_one().ack(), p(1), "the next interval allows one again");
    // Old data is always answered: the sender needs to know it was a duplicate.
    for _ in 0..3 {
        t.inject(t.peer(p(0), una, ACK).payload(b"x"));
    }
    assert_eq!(t.sent.len(), 3);
}

#[test]
fn after_a_retransmitted_syn_data_starts_with_a_3_second_rto() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    let syn = t.take_one();
    t.advance(1_000);
    assert_eq!(t.take_one().flags(), SYN, "SYN retransmitted");
    t.inject(t.peer(PEER_ISS, syn.seq().wrapping_add(1), SYN | ACK).options(mss(1460)));
    t.take_one();
    assert_eq!(t.engine.smoothed_rtt_ms(h), None, "Karn: the retransmitted SYN gave no sample");
    t.send(h, b"data");
    t.take_one();
    t.advance(2_999);
    t.expect_silence();
    t.advance(1);
    assert_eq!(t.take_one().payload, b"data", "RFC 6298 (5.7): 3 s, not the initial 1 s");
}
