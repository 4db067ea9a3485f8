//! Bad and hostile input: every malformed segment is a counter and a drop, never a panic,
//! and floods of SYNs or blind RSTs leave the engine bounded and its connections alive.

use super::network::test_seed;
use super::*;
use crate::tcp::segment::{RST, SYN};
use crate::tcp::TcpState::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn valid_segment(t: &Scripted) -> Vec<u8> {
    t.peer(5, 6, ACK).payload(b"payload").bytes()
}

#[test]
fn truncated_headers_are_counted_and_dropped() {
    let mut t = Scripted::new(plain_config());
    let good = valid_segment(&t);
    for len in 0..20 {
        t.inject_bytes(&good[..len]);
    }
    assert_eq!(t.engine.stats().truncated, 20);
    assert_eq!(t.engine.stats().segments_in, 20);
    t.expect_silence();
}

#[test]
fn bad_data_offsets_are_counted_and_dropped() {
    let mut t = Scripted::new(plain_config());
    let mut short = valid_segment(&t);
    short[12] = 4 << 4;
    t.inject_bytes(&short);
    assert_eq!(t.engine.stats().bad_data_offset, 1);
    let mut beyond = valid_segment(&t);
    beyond[12] = 15 << 4; // 60-byte header in a 27-byte segment
    t.inject_bytes(&beyond);
    assert_eq!(t.engine.stats().truncated, 1);
    t.expect_silence();
}

#[test]
fn bad_checksums_are_counted_and_dropped_without_a_reply() {
    let (mut t, h, iss) = {
        let mut t = Scripted::new(plain_config());
        let (h, iss) = t.open_active();
        (t, h, iss)
    };
    let mut corrupted = t.peer(PEER_ISS.wrapping_add(1), iss.wrapping_add(1), ACK).payload(b"evil").bytes();
    corrupted[22] ^= 0x40;
    t.inject_bytes(&corrupted);
    assert_eq!(t.engine.stats().bad_checksum, 1);
    t.expect_silence();
    assert_eq!(t.read_all(h), b"", "corrupted data never reaches the application");
}

#[test]
fn bad_option_lengths_are_counted_and_dropped() {
    let mut t = Scripted::new(plain_config());
    t.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
    let mut syn = t.peer(PEER_ISS, 0, SYN).bytes();
    syn[12] = 6 << 4;
    syn.extend_from_slice(&[2, 0, 0, 0]); // MSS option of length 0
    segment::finish(&mut syn, REMOTE, LOCAL);
    t.inject_bytes(&syn);
    assert_eq!(t.engine.stats().bad_options, 1);
    t.expect_silence();
}

#[test]
fn random_bytes_and_mutated_segments_never_panic() {
    let seed = test_seed(11);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = Scripted::new(TcpConfig { timestamps: true, window_scaling: true, ..plain_config() });
    let (_, conn, iss) = t.open_passive();
    // Keep a half-open entry around too.
    let mut syn = t.peer(PEER_ISS, 0, SYN);
    syn.spec.src.1 = PEER_PORT + 1;
    t.inject(syn);
    let templates = [
        t.peer(PEER_ISS.wrapping_add(1), iss.wrapping_add(1), ACK).payload(b"0123456789").bytes(),
        t.peer(PEER_ISS, 0, SYN).options(mss(1460)).bytes(),
        t.peer(PEER_ISS.wrapping_add(1), 0, RST).bytes(),
    ];
    let rounds = 20_000;
    for round in 0..rounds {
        let bytes = if round % 4 == 0 {
            let len = rng.gen_range(0..80);
            (0..len).map(|_| rng.gen()).collect::<Vec<u8>>()
        } else {
            let mut bytes = templates[rng.gen_range(0..templates.len())].clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = rng.gen();
            }
            if rng.gen_bool(0.2) {
                bytes.truncate(rng.gen_range(0..bytes.len()));
            }
            if rng.gen_bool(0.7) && bytes.len() >= 20 {
                // Valid checksum, so the mutation reaches the state machine.
                segment::finish(&mut bytes, REMOTE, LOCAL);
            }
            bytes
        };
        t.inject_bytes(&bytes);
        if round % 100 == 0 {
            t.advance(rng.gen_range(0..500));
        }
        while let Some(bytes) = t.sent.pop_front() {
            assert!(segment::parse(&bytes, LOCAL, REMOTE).is_ok(), "seed {seed}: the engine only sends valid segments");
        }
    }
    let stats = t.engine.stats();
    assert_eq!(stats.segments_in, rounds + 3);
    assert!(stats.truncated + stats.bad_checksum + stats.bad_data_offset > 0, "seed {seed}: {stats:?}");
    // Whatever happened to the connection, the engine still answers for it.
    let _ = t.engine.state(conn);
    let _ = t.read_all(conn);
}

#[test]
fn syn_flood_is_bounded_by_the_backlog_and_drains() {
    let mut t = Scripted::new(TcpConfig { synack_retries: 1, ..plain_config() });
    let listener = t.engine.listen((LOCAL, SERVER_PORT), 16).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(test_seed(12));
    for _ in 0..10_000 {
        let mut syn = t.peer(rng.gen(), 0, SYN);
        syn.spec.src = (Ipv4Addr::from(rng.gen::<u32>()), rng.gen_range(1024..65535));
        let bytes = syn.bytes();
        let src = syn.spec.src.0;
        let sent = &mut t.sent;
        t.engine.on_segment(t.now, src, LOCAL, &bytes, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    }
    assert_eq!(t.sent.len(), 16, "one SYN-ACK per queue slot");
    assert_eq!(t.engine.stats().syn_queue_drops, 10_000 - 16);
    assert_eq!(t.engine.connection_count(), 0, "half-open connections are not connections");
    t.advance(1_000);
    t.advance(2_000);
    assert_eq!(t.engine.stats().syn_queue_expired, 16);
    // The listener works again afterwards.
    t.sent.clear();
    t.inject(t.peer(PEER_ISS, 0, SYN));
    assert_eq!(t.take_one().flags(), SYN | ACK);
    assert_eq!(t.engine.accept(listener), Ok(None));
}

#[test]
fn blind_rst_and_data_injection_do_not_harm_a_connection() {
    let mut t = Scripted::new(plain_config());
    let (h, iss) = t.open_active();
    let mut rng = ChaCha8Rng::seed_from_u64(test_seed(13));
    for _ in 0..10_000 {
        let seq: u32 = rng.gen();
        if seq == PEER_ISS.wrapping_add(1) {
            continue; // the one exact guess a blind attacker would need
        }
        t.inject(t.peer(seq, 0, RST));
        t.inject(t.peer(rng.gen(), rng.gen(), ACK).payload(b"junk"));
    }
    assert_eq!(t.engine.state(h), Some(Established));
    assert_eq!(t.engine.stats().rst_received, 0);
    assert_eq!(t.read_all(h), b"", "no blind data accepted");
    // The real peer still talks to us.
    t.sent.clear();
    t.inject(t.peer(PEER_ISS.wrapping_add(1), iss.wrapping_add(1), ACK).payload(b"real"));
    assert_eq!(t.read_all(h), b"real");
    t.abort(h);
    assert_eq!(t.engine.state(h), None);
    let rst = std::iter::from_fn(|| t.take()).last().unwrap();
    assert_eq!(rst.flags() & RST, RST);
}

#[test]
fn a_nonsensical_configuration_is_made_workable() {
    let cfg = TcpConfig {
        mss: 0,
        recv_buffer: 0,
        send_buffer: 0,
        rto_min_ms: 0,
        rto_initial_ms: 0,
        rto_max_ms: 0,
        ..TcpConfig::default()
    };
    let engine = TcpEngine::new(cfg, 1);
    let cfg = engine.config();
    assert_eq!((cfg.mss, cfg.recv_buffer, cfg.send_buffer), (64, 1, 1));
    assert_eq!((cfg.rto_min_ms, cfg.rto_initial_ms, cfg.rto_max_ms), (1, 1, 1));
}

#[test]
fn port_zero_is_dropped_without_a_reply() {
    let mut t = Scripted::new(plain_config());
    t.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
    let mut from_zero = t.peer(PEER_ISS, 0, SYN);
    from_zero.spec.src.1 = 0;
    t.inject(from_zero);
    t.local_port = 0;
    t.inject(t.peer(PEER_ISS, 0, SYN));
    t.expect_silence();
    assert_eq!(t.engine.stats().bad_ports, 2);
}

#[test]
fn a_segment_verified_by_the_device_skips_the_checksum() {
    let mut t = Scripted::new(plain_config());
    let (h, iss) = t.open_active();
    let mut bytes = t.peer(PEER_ISS.wrapping_add(1), iss.wrapping_add(1), ACK).payload(b"offloaded").bytes();
    bytes[16] ^= 0xff; // a wrong checksum field the device has already judged
    let sent = &mut t.sent;
    t.engine.on_verified_segment(t.now, REMOTE, LOCAL, &bytes, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    assert_eq!(t.engine.stats().bad_checksum, 0);
    assert_eq!(t.read_all(h), b"offloaded");
    t.inject_bytes(&bytes);
    assert_eq!(t.engine.stats().bad_checksum, 1, "on_segment still checks");
}
