//! Every arc of the RFC 9293 state diagram, driven segment by segment.

use super::*;
use crate::tcp::segment::{ACK, FIN, RST, SYN};
use crate::tcp::{TcpError, TcpState::*};

/// Peer sequence number `n` bytes after its ISN.
fn p(n: u32) -> u32 {
    PEER_ISS.wrapping_add(n)
}

#[test]
fn active_open_closed_syn_sent_established() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    assert_eq!(t.engine.state(h), Some(SynSent));
    let syn = t.take_one();
    assert_eq!(syn.flags(), SYN);
    assert_eq!(syn.header.options.mss, Some(1460));
    assert!(syn.payload.is_empty());
    t.inject(t.peer(PEER_ISS, syn.seq().wrapping_add(1), SYN | ACK));
    let ack = t.take_one();
    assert_eq!((ack.flags(), ack.seq(), ack.ack()), (ACK, syn.seq().wrapping_add(1), p(1)));
    assert_eq!(t.engine.state(h), Some(Established));
    assert!(t.engine.readiness(h).writable());
    assert_eq!(t.engine.stats().active_opens, 1);
}

#[test]
fn passive_open_listen_syn_received_established_then_accept() {
    let mut t = Scripted::new(plain_config());
    let listener = t.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
    assert_eq!(t.engine.state(listener), Some(Listen));
    t.inject(t.peer(PEER_ISS, 0, SYN));
    let syn_ack = t.take_one();
    assert_eq!(syn_ack.flags(), SYN | ACK);
    assert_eq!(syn_ack.ack(), p(1));
    assert_eq!(t.engine.accept(listener), Ok(None), "half-open connections are not accepted");
    assert!(!t.engine.readiness(listener).acceptable());
    t.inject(t.peer(p(1), syn_ack.seq().wrapping_add(1), ACK).payload(b"hi"));
    assert!(t.engine.readiness(listener).acceptable());
    let conn = t.engine.accept(listener).unwrap().unwrap();
    assert_eq!(t.engine.state(conn), Some(Established));
    assert_eq!(t.read_all(conn), b"hi", "data on the handshake-completing ACK is kept");
    assert_eq!(t.engine.peer_addr(conn), Some((REMOTE, PEER_PORT)));
}

#[test]
fn simultaneous_open_syn_sent_syn_received_established() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    let our_syn = t.take_one();
    // The peer's SYN crosses ours.
    t.inject(t.peer(PEER_ISS, 0, SYN));
    assert_eq!(t.engine.state(h), Some(SynReceived));
    let syn_ack = t.take_one();
    assert_eq!(syn_ack.flags(), SYN | ACK);
    assert_eq!((syn_ack.seq(), syn_ack.ack()), (our_syn.seq(), p(1)));
    // The peer's SYN-ACK (its answer to our SYN) completes the handshake.
    t.inject(t.peer(PEER_ISS, our_syn.seq().wrapping_add(1), SYN | ACK));
    assert_eq!(t.engine.state(h), Some(Established));
}

#[test]
fn active_close_fin_wait_1_fin_wait_2_time_wait_closed() {
    let mut t = Scripted::new(plain_config());
    let (h, iss) = t.open_active();
    t.shutdown(h);
    assert_eq!(t.engine.state(h), Some(FinWait1));
    let fin = t.take_one();
    assert_eq!((fin.flags(), fin.seq()), (FIN | ACK, iss.wrapping_add(1)));
    t.inject(t.peer(p(1), iss.wrapping_add(2), ACK));
    assert_eq!(t.engine.state(h), Some(FinWait2));
    t.expect_silence();
    t.inject(t.peer(p(1), iss.wrapping_add(2), FIN | ACK));
    assert_eq!(t.engine.state(h), Some(TimeWait));
    let ack = t.take_one();
    assert_eq!(ack.ack(), p(2));
    let local = (LOCAL, t.local_port);
    assert!(t.engine.is_tuple_in_use(local, (REMOTE, PEER_PORT)));
    t.advance(1999);
    assert_eq!(t.engine.state(h), Some(TimeWait), "2 MSL = 2000 ms not over yet");
    t.advance(1);
    assert_eq!(t.engine.state(h), Some(Closed));
    assert!(!t.engine.is_tuple_in_use(local, (REMOTE, PEER_PORT)));
    assert_eq!(t.engine.stats().time_wait_expired, 1);
    assert_eq!(t.read_all(h), b"");
    t.close(h);
    assert_eq!(t.engine.connection_count(), 0);
}

#[test]
fn fin_wait_1_to_time_wait_on_fin_ack() {
    let (mut t, h, iss) = into_state(FinWait1);
    t.inject(t.peer(p(1), iss.wrapping_add(2), FIN | ACK));
    assert_eq!(t.engine.state(h), Some(TimeWait));
    assert_eq!(t.take_one().ack(), p(2));
}

#[test]
fn simultaneous_close_fin_wait_1_closing_time_wait() {
    let (mut t, h, iss) = into_state(FinWait1);
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    t.inject(t.peer(p(1), iss.wrapping_add(1), FIN | ACK));
    assert_eq!(t.engine.state(h), Some(Closing));
    assert_eq!(t.take_one().ack(), p(2));
    t.inject(t.peer(p(2), iss.wrapping_add(2), ACK));
    assert_eq!(t.engine.state(h), Some(TimeWait));
}

#[test]
fn passive_close_close_wait_last_ack_closed_with_half_close() {
    let mut t = Scripted::new(plain_config());
    let (_, conn, iss) = t.open_passive();
    t.inject(t.peer(p(1), iss.wrapping_add(1), FIN | ACK).payload(b"req"));
    assert_eq!(t.engine.state(conn), Some(CloseWait));
    assert_eq!(t.take_one().ack(), p(5), "3 bytes + FIN acknowledged at once");
    assert_eq!(t.read_all(conn), b"req");
    assert_eq!(t.engine.recv(conn, &mut [0; 8]), Ok(0), "end of stream");
    // Half-close: we can still send.
    assert_eq!(t.send(conn, b"response"), 8);
    let data = t.take_one();
    assert_eq!((data.seq(), data.payload.as_slice()), (iss.wrapping_add(1), &b"response"[..]));
    t.inject(t.peer(p(5), iss.wrapping_add(9), ACK));
    t.close(conn);
    let fin = t.take_one();
    assert_eq!((fin.flags(), fin.seq()), (FIN | ACK, iss.wrapping_add(9)));
    assert_eq!(t.engine.state(conn), None, "the handle is gone after close");
    assert_eq!(t.engine.connection_count(), 1, "LAST-ACK is kept by the engine");
    t.inject(t.peer(p(5), iss.wrapping_add(10), ACK));
    assert_eq!(t.engine.connection_count(), 0, "LAST-ACK -> CLOSED frees it");
}

#[test]
fn half_close_keeps_receiving_in_fin_wait_2() {
    let mut t = Scripted::new(plain_config());
    let (h, iss) = t.open_active();
    t.shutdown(h);
    t.take_one();
    t.inject(t.peer(p(1), iss.wrapping_add(2), ACK));
    assert_eq!(t.engine.state(h), Some(FinWait2));
    assert_eq!(t.engine.send(t.now, h, b"x", &mut |_, _, _: &[u8]| {}), Err(TcpError::WriteClosed));
    t.inject(t.peer(p(1), iss.wrapping_add(2), ACK).payload(b"more data"));
    assert_eq!(t.read_all(h), b"more data");
}

#[test]
fn rst_in_syn_sent_refuses_only_with_acceptable_ack() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    let syn = t.take_one();
    t.inject(t.peer(0, 0, RST));
    assert_eq!(t.engine.state(h), Some(SynSent), "RST without ACK is ignored");
    t.inject(t.peer(0, syn.seq().wrapping_add(5), RST | ACK));
    assert_eq!(t.engine.state(h), Some(SynSent), "RST with a wrong ACK is ignored");
    t.inject(t.peer(0, syn.seq().wrapping_add(1), RST | ACK));
    assert_eq!(t.engine.state(h), Some(Closed));
    assert_eq!(t.engine.recv(h, &mut [0; 4]), Err(TcpError::ConnectionRefused));
    assert!(t.engine.readiness(h).error());
    assert!(!t.engine.is_tuple_in_use((LOCAL, t.local_port), (REMOTE, PEER_PORT)));
}

#[test]
fn syn_sent_bad_ack_gets_rst() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    let syn = t.take_one();
    let bogus = syn.seq().wrapping_add(1000);
    t.inject(t.peer(PEER_ISS, bogus, SYN | ACK));
    let rst = t.take_one();
    assert_eq!((rst.flags(), rst.seq()), (RST, bogus));
    assert_eq!(t.engine.state(h), Some(SynSent));
}

#[test]
fn rst_in_syn_received_removes_the_half_open_entry() {
    let mut t = Scripted::new(plain_config());
    let listener = t.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
    t.inject(t.peer(PEER_ISS, 0, SYN));
    t.take_one();
    t.inject(t.peer(p(5), 0, RST));
    assert_eq!(t.engine.stats().rst_ignored, 1, "inexact RST ignored");
    t.inject(t.peer(p(1), 0, RST));
    assert_eq!(t.engine.stats().rst_received, 1);
    assert!(!t.engine.is_tuple_in_use((LOCAL, SERVER_PORT), (REMOTE, PEER_PORT)));
    assert_eq!(t.engine.accept(listener), Ok(None));
}

#[test]
fn rst_in_simultaneous_open_syn_received_refuses() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    t.take_one();
    t.inject(t.peer(PEER_ISS, 0, SYN));
    t.take_one();
    t.inject(t.peer(p(1), 0, RST));
    assert_eq!(t.engine.state(h), Some(Closed));
    assert_eq!(t.engine.recv(h, &mut [0; 4]), Err(TcpError::ConnectionRefused));
}

/// Drives a fresh connection into `target` and returns (scripted, handle, our ISN).
fn into_state(target: TcpState) -> (Scripted, TcpHandle, u32) {
    let mut t = Scripted::new(plain_config());
    let (h, iss) = t.open_active();
    let fin_acked = iss.wrapping_add(2);
    match target {
        Established => {}
        FinWait1 => t.shutdown(h),
        FinWait2 => {
            t.shutdown(h);
            t.inject(t.peer(p(1), fin_acked, ACK));
        }
        CloseWait => t.inject(t.peer(p(1), iss.wrapping_add(1), FIN | ACK)),
        Closing => {
            t.shutdown(h);
            t.inject(t.peer(p(1), iss.wrapping_add(1), FIN | ACK));
        }
        LastAck => {
            t.inject(t.peer(p(1), iss.wrapping_add(1), FIN | ACK));
            t.shutdown(h);
        }
        TimeWait => {
            t.shutdown(h);
            t.inject(t.peer(p(1), fin_acked, FIN | ACK));
        }
        other => panic!("not a synchronized state: {other:?}"),
    }
    assert_eq!(t.engine.state(h), Some(target));
    t.sent.clear();
    (t, h, iss)
}

#[test]
fn exact_rst_closes_every_synchronized_state() {
    for (state, error) in [
        (Established, Some(TcpError::ConnectionReset)),
        (FinWait1, Some(TcpError::ConnectionReset)),
        (FinWait2, Some(TcpError::ConnectionReset)),
        (CloseWait, Some(TcpError::ConnectionReset)),
        (Closing, None),
        (LastAck, None),
        (TimeWait, None),
    ] {
        let (mut t, h, _) = into_state(state);
        let rcv_nxt = if matches!(state, CloseWait | Closing | LastAck | TimeWait) { p(2) } else { p(1) };
        t.inject(t.peer(rcv_nxt, 0, RST));
        assert_eq!(t.engine.state(h), Some(Closed), "RST in {state:?}");
        t.expect_silence();
        assert_eq!(t.engine.readiness(h).error(), error.is_some(), "{state:?}");
        if let Some(error) = error {
            assert_eq!(
                t.engine.recv(h, &mut [0; 4]).err(),
                if state == CloseWait { None } else { Some(error) },
                "{state:?}"
            );
        }
    }
}

#[test]
fn in_window_rst_gets_a_challenge_ack_in_every_synchronized_state() {
    for state in [Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait] {
        let (mut t, h, _) = into_state(state);
        let rcv_nxt = if matches!(state, CloseWait | Closing | LastAck | TimeWait) { p(2) } else { p(1) };
        t.inject(t.peer(rcv_nxt.wrapping_add(100), 0, RST));
        assert_eq!(t.engine.state(h), Some(state), "blind RST must not reset {state:?}");
        let challenge = t.take_one();
        assert_eq!((challenge.flags() & ACK, challenge.ack()), (ACK, rcv_nxt), "{state:?}");
        assert_eq!(t.engine.stats().challenge_acks, 1);
        // Far outside the window: silently dropped.
        t.inject(t.peer(rcv_nxt.wrapping_add(1 << 30), 0, RST));
        t.expect_silence();
        assert_eq!(t.engine.state(h), Some(state));
    }
}

#[test]
fn syn_in_established_gets_a_challenge_ack() {
    let (mut t, h, iss) = into_state(Established);
    t.inject(t.peer(p(1000), 0, SYN));
    let challenge = t.take_one();
    assert_eq!((challenge.flags(), challenge.seq(), challenge.ack()), (ACK, iss.wrapping_add(1), p(1)));
    assert_eq!(t.engine.state(h), Some(Established));
}

#[test]
fn fin_retransmitted_in_time_wait_is_acked_and_restarts_2msl() {
    let (mut t, h, iss) = into_state(TimeWait);
    t.advance(1500);
    t.inject(t.peer(p(1), iss.wrapping_add(2), FIN | ACK));
    assert_eq!(t.take_one().ack(), p(2));
    t.advance(1500);
    assert_eq!(t.engine.state(h), Some(TimeWait), "timer restarted by the retransmitted FIN");
    t.advance(500);
    assert_eq!(t.engine.state(h), Some(Closed));
}

#[test]
fn segment_to_a_closed_port_gets_rst() {
    let mut t = Scripted::new(plain_config());
    t.local_port = 9;
    t.inject(t.peer(1000, 0, SYN).payload(b"ab"));
    let rst = t.take_one();
    assert_eq!((rst.flags(), rst.seq(), rst.ack()), (RST | ACK, 0, 1003), "SEG.SEQ + SEG.LEN (SYN + 2 bytes)");
    t.inject(t.peer(1000, 777, ACK));
    let rst = t.take_one();
    assert_eq!((rst.flags(), rst.seq()), (RST, 777));
    t.inject(t.peer(1000, 777, RST));
    t.expect_silence();
    assert_eq!(t.engine.stats().no_socket, 3);
}

#[test]
fn ack_to_a_listener_gets_rst() {
    let mut t = Scripted::new(plain_config());
    t.engine.listen((Ipv4Addr::UNSPECIFIED, SERVER_PORT), 4).unwrap();
    t.inject(t.peer(5, 1234, ACK));
    let rst = t.take_one();
    assert_eq!((rst.flags(), rst.seq()), (RST, 1234));
}

#[test]
fn connect_in_syn_sent_close_goes_straight_to_closed() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    t.take_one();
    t.close(h);
    t.expect_silence();
    assert_eq!(t.engine.connection_count(), 0);
}

#[test]
fn data_and_shutdown_before_the_handshake_go_out_after_it() {
    let mut t = Scripted::new(plain_config());
    let h = t.connect();
    let syn = t.take_one();
    assert_eq!(t.send(h, b"early"), 5, "queued in SYN-SENT");
    t.shutdown(h);
    assert_eq!(t.engine.state(h), Some(SynSent), "the FIN waits for the handshake");
    t.expect_silence();
    t.inject(t.peer(PEER_ISS, syn.seq().wrapping_add(1), SYN | ACK).options(mss(1460)));
    assert_eq!(t.engine.state(h), Some(FinWait1));
    let data = t.take().unwrap();
    assert_eq!(
        (data.seq(), data.payload.as_slice(), data.flags() & FIN),
        (syn.seq().wrapping_add(1), &b"early"[..], FIN)
    );
    // The receive side stays open: a half-close, not a close.
    t.inject(t.peer(p(1), syn.seq().wrapping_add(7), ACK).payload(b"answer"));
    assert_eq!(t.engine.state(h), Some(FinWait2));
    assert_eq!(t.read_all(h), b"answer");
}
