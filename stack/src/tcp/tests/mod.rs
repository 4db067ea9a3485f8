//! Engine tests. `scripted` drives one engine against a hand-written peer (exact bytes,
//! sequence numbers and states); `network` connects two engines through a seeded lossy,
//! reordering, corrupting link with a virtual clock.

mod malformed;
mod network;
mod output_path;
mod rules;
mod states;

use super::segment::{self, SegmentSpec, TcpHeader, TcpOptions, ACK};
use super::seq::Seq;
use super::{TcpConfig, TcpEngine, TcpHandle, TcpState};
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// The engine under test.
pub const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// The scripted peer.
pub const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub const PEER_PORT: u16 = 40_000;
pub const SERVER_PORT: u16 = 80;
/// The peer's ISN: close to 2^32 so every scripted exchange crosses the wrap.
pub const PEER_ISS: u32 = u32::MAX - 100;

/// A configuration whose numbers are easy to follow: no options but MSS.
pub fn plain_config() -> TcpConfig {
    TcpConfig {
        timestamps: false,
        window_scaling: false,
        recv_buffer: 8192,
        send_buffer: 8192,
        msl_ms: 1000,
        ..TcpConfig::default()
    }
}

/// Options with just an MSS.
pub fn mss(mss: u16) -> TcpOptions {
    TcpOptions { mss: Some(mss), ..TcpOptions::default() }
}

/// A segment the engine sent, parsed back.
#[derive(Debug, Clone)]
pub struct Sent {
    pub header: TcpHeader,
    pub payload: Vec<u8>,
}

impl Sent {
    pub fn seq(&self) -> u32 {
        self.header.seq.0
    }
    pub fn ack(&self) -> u32 {
        self.header.ack.0
    }
    pub fn flags(&self) -> u8 {
        self.header.flags
    }
}

/// Builds a segment from the peer to the engine.
pub struct PeerSegment {
    pub spec: SegmentSpec,
    payload: Vec<u8>,
}

impl PeerSegment {
    pub fn payload(mut self, data: &[u8]) -> Self {
        self.payload = data.to_vec();
        self
    }
    pub fn window(mut self, window: u16) -> Self {
        self.spec.window = window;
        self
    }
    pub fn options(mut self, options: TcpOptions) -> Self {
        self.spec.options = options;
        self
    }
    pub fn bytes(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        segment::write_header(&mut buf, &self.spec);
        buf.extend_from_slice(&self.payload);
        segment::finish(&mut buf, self.spec.src.0, self.spec.dst.0);
        buf
    }
}

/// One engine, a clock, and everything it sent.
pub struct Scripted {
    pub engine: TcpEngine,
    pub now: u64,
    pub sent: VecDeque<Vec<u8>>,
    /// The engine's port in the scripted connection.
    pub local_port: u16,
}

impl Scripted {
    pub fn new(cfg: TcpConfig) -> Self {
        Scripted { engine: TcpEngine::new(cfg, 7), now: 1_000, sent: VecDeque::new(), local_port: SERVER_PORT }
    }

    /// A segment from the peer (PEER_PORT) to the engine (`local_port`).
    pub fn peer(&self, seq: u32, ack: u32, flags: u8) -> PeerSegment {
        PeerSegment {
            spec: SegmentSpec {
                src: (REMOTE, PEER_PORT),
                dst: (LOCAL, self.local_port),
                seq: Seq(seq),
                ack: Seq(ack),
                flags,
                window: 8192,
                options: TcpOptions::default(),
            },
            payload: Vec::new(),
        }
    }

    pub fn inject(&mut self, segment: PeerSegment) {
        self.inject_bytes(&segment.bytes());
    }

    pub fn inject_bytes(&mut self, bytes: &[u8]) {
        let sent = &mut self.sent;
        self.engine.on_segment(self.now, REMOTE, LOCAL, bytes, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    }

    /// Moves the clock and runs due timers.
    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
        let sent = &mut self.sent;
        self.engine.poll_timers(self.now, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    }

    pub fn take(&mut self) -> Option<Sent> {
        let bytes = self.sent.pop_front()?;
        let (header, payload) = segment::parse(&bytes, LOCAL, REMOTE).expect("the engine sends valid segments");
        Some(Sent { header, payload: payload.to_vec() })
    }

    /// Exactly one segment was sent; returns it.
    pub fn take_one(&mut self) -> Sent {
        let first = self.take().expect("a segment was expected");
        assert!(self.sent.is_empty(), "only one segment was expected, more followed: {:?}", self.take());
        first
    }

    pub fn expect_silence(&mut self) {
        assert!(self.sent.is_empty(), "nothing should have been sent, got {:?}", self.take());
    }

    pub fn connect(&mut self) -> TcpHandle {
        let sent = &mut self.sent;
        let handle = self
            .engine
            .connect(self.now, LOCAL, (REMOTE, PEER_PORT), &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()))
            .unwrap();
        self.local_port = self.engine.local_addr(handle).unwrap().1;
        handle
    }

    pub fn send(&mut self, handle: TcpHandle, data: &[u8]) -> usize {
        let sent = &mut self.sent;
        self.engine.send(self.now, handle, data, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec())).unwrap()
    }

    pub fn close(&mut self, handle: TcpHandle) {
        let sent = &mut self.sent;
        self.engine.close(self.now, handle, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec())).unwrap();
    }

    pub fn shutdown(&mut self, handle: TcpHandle) {
        let sent = &mut self.sent;
        self.engine.shutdown_write(self.now, handle, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec())).unwrap();
    }

    pub fn abort(&mut self, handle: TcpHandle) {
        let sent = &mut self.sent;
        self.engine.abort(self.now, handle, &mut |_, _, b: &[u8]| sent.push_back(b.to_vec()));
    }

    pub fn read_all(&mut self, handle: TcpHandle) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.engine.recv(handle, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// Active open against the scripted peer; returns the handle and our ISN.
    pub fn open_active(&mut self) -> (TcpHandle, u32) {
        let handle = self.connect();
        let syn = self.take_one();
        let iss = syn.seq();
        self.inject(self.peer(PEER_ISS, iss.wrapping_add(1), segment::SYN | ACK).options(mss(1460)));
        let ack = self.take_one();
        assert_eq!(ack.flags(), ACK);
        assert_eq!(self.engine.state(handle), Some(TcpState::Established));
        (handle, iss)
    }

    /// Passive open from the scripted peer; returns listener, connection and our ISN.
    pub fn open_passive(&mut self) -> (TcpHandle, TcpHandle, u32) {
        let listener = self.engine.listen((LOCAL, SERVER_PORT), 4).unwrap();
        self.inject(self.peer(PEER_ISS, 0, segment::SYN).options(mss(1460)));
        let syn_ack = self.take_one();
        assert_eq!(syn_ack.flags(), segment::SYN | ACK);
        assert_eq!(syn_ack.ack(), PEER_ISS.wrapping_add(1));
        let iss = syn_ack.seq();
        self.inject(self.peer(PEER_ISS.wrapping_add(1), iss.wrapping_add(1), ACK));
        self.expect_silence();
        let conn = self.engine.accept(listener).unwrap().expect("connection ready to accept");
        assert_eq!(self.engine.state(conn), Some(TcpState::Established));
        (listener, conn, iss)
    }
}
