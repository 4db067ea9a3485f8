//! A sans-IO TCP engine (RFC 9293): all TCP state of a host, driven by the caller.
//!
//! The engine parses no IP, owns no socket and reads no clock. The caller hands it TCP
//! segments with their IPv4 addresses, the time in milliseconds and a callback that sends
//! segments; everything random comes from the seed given to [`TcpEngine::new`]. The same
//! seed and the same inputs give the same outputs, byte for byte.
//!
//! # API
//!
//! ```text
//! TcpEngine::new(cfg: TcpConfig, seed: u64) -> TcpEngine
//! // input, timers
//! on_segment(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8], out: &mut Output)   // Output = dyn SegmentSink: a FnMut(src, dst, &segment) closure, or a sink lending buffers
//! on_verified_segment(..same..)                          // checksum already verified by the device
//! on_segment_in(&mut self, now, src, dst, buf: PacketBuf, verified: bool, out) -> Option<PacketBuf> // the segment in its frame: kept as received data (zero-copy) or handed back
//! on_run_in(&mut self, now, src, dst, first: PacketBuf, rest: impl Iterator<Item = PacketBuf>, out, recycle) // a run of segments of one flow (gro::Run): each taken as on_segment_in would, the predicted ones without parsing or demux again
//! spent_buffers(&mut self) -> Drain<PacketBuf>          // frames read by the application or acknowledged by the peer, for the device to reuse
//! begin_batch(&mut self); end_batch(&mut self, now, out) // around a batch of received segments: one ACK per connection at its end
//! poll_timers(&mut self, now: Instant, out)            // due timers, and window updates queued by recv
//! next_timer(&self) -> Option<Instant>                // earliest time poll_timers has work (may be in the past)
//! // listeners
//! listen(&mut self, local: (Ipv4Addr, u16), backlog: usize) -> Result<TcpHandle, TcpError>   // 0.0.0.0 = any address
//! accept(&mut self, listener: TcpHandle) -> Result<Option<TcpHandle>, TcpError>
//! // connections
//! connect(&mut self, now, local_ip: Ipv4Addr, remote: (Ipv4Addr, u16), out) -> Result<TcpHandle, TcpError>      // ephemeral port
//! connect_from(&mut self, now, local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16), out) -> Result<TcpHandle, TcpError> // port 0 = ephemeral
//! send(&mut self, now, h: TcpHandle, data: &[u8], out) -> Result<usize, TcpError>   // bytes taken into the send buffer
//! recv(&mut self, h: TcpHandle, buf: &mut [u8]) -> Result<usize, TcpError>          // Ok(0) = end of stream
//! shutdown_write(&mut self, now, h, out) -> Result<(), TcpError>
//! close(&mut self, now, h, out) -> Result<(), TcpError>   // handle gone; FIN-WAIT/TIME-WAIT kept by the engine
//! abort(&mut self, now, h, out)                           // RST, handle gone
//! set_nodelay(&mut self, h, bool) -> Result<(), TcpError>; set_keepalive(&mut self, now, h, bool) -> Result<(), TcpError>
//! // observation
//! readiness(&self, h) -> Readiness;  drain_events(&mut self, f: impl FnMut(TcpHandle))
//! state(&self, h) -> Option<TcpState>;  local_addr / peer_addr(&self, h) -> Option<(Ipv4Addr, u16)>
//! stats(&self) -> &TcpStats;  config(&self) -> &TcpConfig (after TcpConfig::sanitized);  connection_count(&self) -> usize
//! idle_connection_bytes(&self, h) -> Option<usize>;  TcpEngine::syn_queue_entry_bytes() -> usize
//! buffer_bytes(&self, h) -> Option<usize>;  smoothed_rtt_ms(&self, h) -> Option<u32>
//! is_tuple_in_use(&self, local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> bool
//! // paths
//! set_mtu(&mut self, mtu: u16);  set_path_mtu(&mut self, remote: Ipv4Addr, mtu: u16)
//! ```
//!
//! Semantics worth knowing:
//! - `send` before the handshake completes queues the data; `shutdown_write` then queues
//!   the FIN behind it. `close` in SYN-SENT with nothing queued forgets the connection.
//! - `close` with unread received data sends RST instead of FIN (RFC 2525, as Linux).
//! - after `close` the engine finishes alone: FIN-WAIT-2 of such an orphan ends after
//!   `fin_wait2_timeout_ms`, data arriving for it is answered with RST.
//! - a connection that died (RST, timeout) stays visible to its handle as `Closed` with the
//!   error returned by `recv`/`send` until the handle is closed; its 4-tuple is free at once.
//!
//! Differences from the first sketch of this contract, and why:
//! - `recv` keeps its short signature; a window update it makes necessary is queued and
//!   sent by the next `poll_timers`, and `next_timer` reports it as due at once.
//! - `out` is `&mut dyn SegmentSink` rather than `impl FnMut`: one copy of the code, and
//!   callers that hold a `dyn` output themselves can pass it on. Every
//!   `FnMut(Ipv4Addr, Ipv4Addr, &[u8])` is a sink (`&mut |src, dst, seg: &[u8]| ...`); a
//!   sink may also lend the engine the buffer to build each segment in
//!   (`SegmentSink::lend`), which is how the interface avoids copying segments.
//! - `connect_from` exists because the socket layer has `bind` before `connect`.
//! - handles are slot indices with a generation: a stale handle gets `InvalidHandle`
//!   (the generation in a handle has 7 bits, so a handle kept across 128 reuses of its
//!   slot could alias a new connection).
//!
//! # Where things are
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the API types: config, handle, states, errors, readiness, counters; the engine's tables |
//! | `engine_conn.rs` | entry points: demultiplexing, header prediction at the door (the last connection's in-order data), runs of segments, handle checks, after-event bookkeeping |
//! | `listener.rs` | listeners, the SYN queue (small `SynEntry`s) and the accept queue |
//! | `connection.rs` | the TCB and the user's operations on it |
//! | `input.rs` | segment arrival: header prediction (`takes_predicted_data`, `takes_next_in_run`), RFC 9293 3.10.7, RFC 5961 checks, PAWS, ACK processing, data, FIN |
//! | `output.rs` | segment departure: windows, Nagle, SWS avoidance, persist, retransmission; whole frames of the send buffer sent as they are (zero-copy transmit) |
//! | `timers.rs` | the engine's timer heap and what each connection does when a deadline comes |
//! | `segment.rs` | header and options on the wire, checksum; `HeaderTemplate` / `RunHeader`: a connection's header written per segment from fields fixed once |
//! | `seq.rs` | sequence arithmetic modulo 2^32 |
//! | `send_buffer.rs`, `recv_buffer.rs` | lazily grown buffers: application bytes kept in the frames they are sent in, received frames queued without a copy; the bounded out-of-order queue |
//! | `payload.rs` | a received payload: borrowed bytes, or the frame the receive buffer may keep |
//! | `rto.rs`, `congestion.rs` | RFC 6298 estimator; the congestion-control trait and NewReno |
//! | `isn.rs`, `ports.rs`, `hash.rs` | RFC 6528 ISNs, RFC 6056 ports, the keyed SipHash behind both and the tables |
//! | `demux.rs` | the 4-tuple and the generational slab |
//!
//! # Known limits
//!
//! No SACK (RFC 2018) and no SYN cookies: a full listen queue drops SYNs and counts them.
//! Urgent data is ignored. TIME-WAIT keeps the whole (buffer-less) TCB rather than a
//! smaller record. An RST ends TIME-WAIT (RFC 9293's rule; RFC 1337's stricter one is not applied).

mod congestion;
mod connection;
mod demux;
mod engine_conn;
mod hash;
mod input;
mod isn;
mod listener;
mod output;
mod payload;
mod ports;
mod recv_buffer;
mod rto;
mod segment;
mod send_buffer;
mod seq;
mod timers;

#[cfg(test)]
mod tests;

pub use congestion::{CongestionControl, NewReno};
pub use demux::FourTuple;
pub use segment::{
    parse as parse_segment, HeaderTemplate, RunHeader, TcpHeader, ACK, FIN, MAX_HEADER_LEN, PSH, RST, SYN,
};
pub use seq::Seq;

use crate::buf::PacketBuf;
use connection::Connection;
use demux::{Slab, SlotId};
use hash::SeededState;
use isn::IsnGenerator;
use listener::{Listener, SynEntry};
use ports::PortAllocator;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use timers::TimerQueue;

/// Remote hosts whose path MTU is remembered.
const MAX_PATH_MTU_ENTRIES: usize = 4096;

/// Milliseconds on the caller's clock.
pub type Instant = u64;

/// Where the engine's segments go: any `FnMut(src, dst, &segment)` closure (the engine
/// builds each segment in its own scratch buffer and lends the closure a slice), or a
/// [`SegmentSink`] that lends the engine room for the segment in a buffer of its own,
/// with room in front for the lower layers' headers (no copy).
pub type Output<'a> = dyn SegmentSink + 'a;

/// The receiver of the segments the engine sends. Closures `FnMut(Ipv4Addr, Ipv4Addr,
/// &[u8])` are sinks; the interface implements `lend` and `send_lent` so that a segment
/// is written once, straight into the transmit buffer that goes to the device.
pub trait SegmentSink {
    /// Room for the next segment, exactly `len` bytes, in a buffer the sink keeps: the
    /// engine writes every byte of the segment there and then calls `send_lent`, so the
    /// segment is never copied. `None`: the engine builds the segment in its scratch
    /// buffer and calls `send`.
    fn lend(&mut self, _len: usize) -> Option<&mut [u8]> {
        None
    }

    /// The segment last lent is finished (checksum included), from `src` to `dst`.
    fn send_lent(&mut self, _src: Ipv4Addr, _dst: Ipv4Addr) {}

    /// One finished segment (checksum included) from `src` to `dst`.
    fn send(&mut self, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]);

    /// A segment whose payload is `frame`'s data window (a frame of the send buffer, with
    /// at least `TX_HEADROOM` in front), to go out behind `header` (the TCP header, from
    /// `header.template.src` to `.dst`) without copying the payload: the sink writes the
    /// headers in front of the data, sends the buffer, and returns a reference to its bytes
    /// (`PacketBuf::share_bytes`, taken after the headers are written), which the send
    /// buffer keeps for retransmission. `Err` gives the buffer back, untouched, when the
    /// sink does not take frames (the default) or cannot send this one as it is: the
    /// engine then copies the segment out through `lend` or `send`.
    fn send_frame(&mut self, _header: &RunHeader, frame: PacketBuf) -> Result<crate::buf::SharedBytes, PacketBuf> {
        Err(frame)
    }

    /// An empty buffer for the send buffer to copy application bytes into: `TX_HEADROOM`
    /// bytes in front of the data, room for `payload` bytes after it.
    fn new_frame(&mut self, payload: usize) -> PacketBuf {
        PacketBuf::with_headroom(crate::device::TX_HEADROOM + payload, crate::device::TX_HEADROOM)
    }
}

impl<F: FnMut(Ipv4Addr, Ipv4Addr, &[u8])> SegmentSink for F {
    fn send(&mut self, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) {
        self(src, dst, segment)
    }
}

/// Keepalive parameters (RFC 9293 section 3.8.4; the defaults are Linux's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepaliveConfig {
    /// Idle time before the first probe.
    pub idle_ms: u64,
    pub interval_ms: u64,
    /// Unanswered probes before the connection is dropped.
    pub probes: u8,
}

#[derive(Clone, Debug)]
pub struct TcpConfig {
    /// Largest segment payload we accept (advertised in the MSS option), before the MTU cap.
    pub mss: u16,
    pub send_buffer: usize,
    pub recv_buffer: usize,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this.
    pub msl_ms: u64,
    pub default_backlog: usize,
    /// How long an ACK may wait for a second segment or data to ride on.
    pub delayed_ack_ms: u64,
    /// Nagle's algorithm for new connections (RFC 9293 section 3.7.4); `set_nodelay` per connection.
    pub nagle: bool,
    /// Keepalive for new connections: `None` = off, as RFC 9293 requires by default.
    pub keepalive: Option<KeepaliveConfig>,
    /// Parameters used when a connection turns keepalive on with `set_keepalive`.
    pub keepalive_params: KeepaliveConfig,
    pub rto_initial_ms: u32,
    pub rto_min_ms: u32,
    pub rto_max_ms: u32,
    /// Retransmissions of data before the connection gives up.
    pub max_retransmits: u8,
    pub syn_retries: u8,
    pub synack_retries: u8,
    pub window_scaling: bool,
    pub timestamps: bool,
    /// Out-of-order segments (merged runs) held per connection.
    pub max_ooo_segments: usize,
    /// An orphaned connection (closed by the user) waits this long in FIN-WAIT-2.
    pub fin_wait2_timeout_ms: u64,
    /// Makes the congestion controller of each new connection.
    pub congestion: fn() -> Box<dyn CongestionControl>,
}

impl Default for TcpConfig {
    fn default() -> Self {
        let keepalive_params = KeepaliveConfig { idle_ms: 7_200_000, interval_ms: 75_000, probes: 9 };
        TcpConfig {
            mss: 1460,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            msl_ms: 30_000,
            default_backlog: 128,
            delayed_ack_ms: 40,
            nagle: true,
            keepalive: None,
            keepalive_params,
            rto_initial_ms: 1000,
            // RFC 6298 (2.4) asks for 1 s; 200 ms is Linux's floor and what LANs need.
            rto_min_ms: 200,
            rto_max_ms: 60_000,
            max_retransmits: 15,
            syn_retries: 6,
            synack_retries: 5,
            window_scaling: true,
            timestamps: true,
            max_ooo_segments: 64,
            fin_wait2_timeout_ms: 60_000,
            congestion: NewReno::boxed,
        }
    }
}

impl TcpConfig {
    /// The configuration with every value moved into the range the engine relies on
    /// (a zero RTO would spin the timers, a zero buffer would never open a window).
    pub fn sanitized(mut self) -> Self {
        self.mss = self.mss.clamp(64, 65_495);
        // Window scaling reaches 2^14 * 65535 bytes at most (RFC 7323 section 2.3).
        self.recv_buffer = self.recv_buffer.clamp(1, 1 << 30);
        self.send_buffer = self.send_buffer.clamp(1, 1 << 30);
        self.rto_min_ms = self.rto_min_ms.max(1);
        self.rto_max_ms = self.rto_max_ms.max(self.rto_min_ms);
        self.rto_initial_ms = self.rto_initial_ms.clamp(self.rto_min_ms, self.rto_max_ms);
        self.default_backlog = self.default_backlog.max(1);
        self.max_ooo_segments = self.max_ooo_segments.max(1);
        self
    }
}

/// A listener or a connection inside one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(pub u32);

const LISTENER_BIT: u32 = 1 << 31;
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u32 = 0x7f;

impl TcpHandle {
    fn new(id: SlotId, listener: bool) -> Self {
        let flag = if listener { LISTENER_BIT } else { 0 };
        TcpHandle(flag | ((id.generation & GENERATION_MASK) << INDEX_BITS) | (id.index & INDEX_MASK))
    }
    fn is_listener(self) -> bool {
        self.0 & LISTENER_BIT != 0
    }
    fn index(self) -> u32 {
        self.0 & INDEX_MASK
    }
    fn generation_matches(self, id: SlotId) -> bool {
        (self.0 >> INDEX_BITS) & GENERATION_MASK == id.generation & GENERATION_MASK
    }
}

/// RFC 9293 section 3.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    /// States after the handshake in which the peer's sequence numbers are known.
    pub fn is_synchronized(self) -> bool {
        !matches!(self, TcpState::Closed | TcpState::Listen | TcpState::SynSent)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpError {
    InvalidHandle,
    /// Nothing to read yet / send buffer full / nothing to accept.
    WouldBlock,
    AddrInUse,
    NoEphemeralPorts,
    /// The operation does not fit the connection's state (e.g. send on a listener).
    InvalidState,
    /// Writing after `shutdown_write` or `close`.
    WriteClosed,
    ConnectionRefused,
    ConnectionReset,
    TimedOut,
}

impl core::fmt::Display for TcpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for TcpError {}

/// What a handle can do without blocking, as bits (like epoll's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness(pub u8);

impl Readiness {
    /// `recv` returns data, end of stream or an error.
    pub const READABLE: u8 = 1;
    /// `send` accepts bytes.
    pub const WRITABLE: u8 = 2;
    /// `accept` returns a connection.
    pub const ACCEPTABLE: u8 = 4;
    /// Both directions are finished (or the connection is gone).
    pub const HUP: u8 = 8;
    pub const ERROR: u8 = 16;

    pub fn readable(self) -> bool {
        self.0 & Self::READABLE != 0
    }
    pub fn writable(self) -> bool {
        self.0 & Self::WRITABLE != 0
    }
    pub fn acceptable(self) -> bool {
        self.0 & Self::ACCEPTABLE != 0
    }
    pub fn hup(self) -> bool {
        self.0 & Self::HUP != 0
    }
    pub fn error(self) -> bool {
        self.0 & Self::ERROR != 0
    }
}

/// Counters. Every segment the engine drops is counted in one of them (malformed input,
/// demux, validation, queues), and so is every segment it sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    pub segments_in: u64,
    pub segments_out: u64,
    /// Segments carrying data or FIN below the highest sequence already sent.
    pub retransmissions: u64,
    pub fast_retransmits: u64,
    pub rto_expirations: u64,
    pub dup_acks_received: u64,
    /// In-order data segments queued in their frame buffer, without a copy.
    pub rx_frames_kept: u64,
    /// Data segments sent in their send-buffer frame, without a copy.
    pub tx_frames_in_place: u64,
    /// Segments handled by header prediction (in-order data, nothing else new).
    pub header_predicted: u64,
    // malformed input
    pub truncated: u64,
    pub bad_data_offset: u64,
    pub bad_checksum: u64,
    pub bad_options: u64,
    /// Source or destination port 0.
    pub bad_ports: u64,
    // demux
    /// Segments for no connection and no listener (answered with RST unless RST).
    pub no_socket: u64,
    pub syn_queue_drops: u64,
    pub accept_queue_drops: u64,
    pub syn_queue_expired: u64,
    // validation
    pub out_of_window: u64,
    /// ACKs not sent for unacceptable data-less segments (ACK-loop rate limit).
    pub unacceptable_acks_suppressed: u64,
    pub paws_rejected: u64,
    pub ack_unsent_data: u64,
    pub old_ack_dropped: u64,
    pub challenge_acks: u64,
    /// Challenge ACKs not sent because of the per-second limit.
    pub challenge_acks_suppressed: u64,
    pub rst_sent: u64,
    pub rst_received: u64,
    /// RSTs ignored because their sequence number was not exact (RFC 5961).
    pub rst_ignored: u64,
    pub ignored_segments: u64,
    // receive queue
    pub ooo_queued: u64,
    pub ooo_dropped: u64,
    pub duplicate_data: u64,
    // connections
    pub active_opens: u64,
    pub passive_opens: u64,
    pub established: u64,
    pub resets_on_close: u64,
    pub timeouts: u64,
    pub time_wait_expired: u64,
    pub keepalive_probes: u64,
    pub zero_window_probes: u64,
    pub delayed_acks: u64,
}

/// Everything a connection needs from the engine while it handles one event.
pub(crate) struct Ctx<'a, 'o> {
    pub now: Instant,
    pub cfg: &'a TcpConfig,
    pub stats: &'a mut TcpStats,
    pub scratch: &'a mut Vec<u8>,
    pub challenge_acks: &'a mut ChallengeAckLimit,
    pub out: &'a mut Output<'o>,
    /// Inside `begin_batch` .. `end_batch`: ACKs for in-order data wait for the end.
    pub batching: bool,
    /// Frame buffers the connection is done with (acknowledged, or read by the
    /// application), for the device to reuse.
    pub spent: &'a mut Vec<PacketBuf>,
}

/// RFC 5961 section 7: at most this many challenge ACKs per second for the whole engine,
/// so that blind attackers cannot turn us into an amplifier (Linux's default is 1000).
pub const CHALLENGE_ACKS_PER_SECOND: u32 = 1000;

#[derive(Default)]
pub(crate) struct ChallengeAckLimit {
    second: Instant,
    sent: u32,
}

impl ChallengeAckLimit {
    /// Whether one more challenge ACK may go out at `now`.
    pub fn allow(&mut self, now: Instant) -> bool {
        let second = now / 1000;
        if second != self.second {
            self.second = second;
            self.sent = 0;
        }
        self.sent += 1;
        self.sent <= CHALLENGE_ACKS_PER_SECOND
    }
}

/// The engine state that connections borrow while the engine's tables are borrowed too.
pub(crate) struct Shared {
    pub cfg: TcpConfig,
    pub stats: TcpStats,
    /// One segment is built here at a time when the output lends no buffer, so sending
    /// to a closure allocates nothing.
    pub scratch: Vec<u8>,
    pub challenge_acks: ChallengeAckLimit,
    pub batching: bool,
    /// Frame buffers the receive buffers drained and the send buffers' acknowledged
    /// frames, for the device to reuse (`spent_buffers`).
    pub spent: Vec<PacketBuf>,
}

impl Shared {
    pub fn ctx<'a, 'o>(&'a mut self, now: Instant, out: &'a mut Output<'o>) -> Ctx<'a, 'o> {
        Ctx {
            now,
            cfg: &self.cfg,
            stats: &mut self.stats,
            scratch: &mut self.scratch,
            challenge_acks: &mut self.challenge_acks,
            out,
            batching: self.batching,
            spent: &mut self.spent,
        }
    }
}

/// Who holds a connection: a listener (not accepted yet), the user, or nobody (closed by the user).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    Listener(SlotId),
    User,
    Released,
}

pub struct TcpEngine {
    shared: Shared,
    /// MSS derived from the interface MTU.
    mtu_mss: u16,
    isn: IsnGenerator,
    ports: PortAllocator,
    conns: Slab<Connection>,
    demux: HashMap<FourTuple, SlotId, SeededState>,
    /// The last tuple `demux` answered for, and its answer (checked before use).
    last_demux: Option<(FourTuple, SlotId)>,
    listeners: Slab<Listener>,
    listen_index: HashMap<(Ipv4Addr, u16), SlotId, SeededState>,
    syn_queue: Slab<SynEntry>,
    syn_demux: HashMap<FourTuple, SlotId, SeededState>,
    timers: TimerQueue,
    path_mtu: HashMap<Ipv4Addr, u16, SeededState>,
    /// Connections whose receive window opened in `recv`; flushed by `poll_timers`.
    window_updates: Vec<SlotId>,
    /// Connections owing an ACK at the end of the current receive batch.
    batch_acks: Vec<SlotId>,
    events: Vec<TcpHandle>,
}

impl TcpEngine {
    pub fn new(cfg: TcpConfig, seed: u64) -> Self {
        let cfg = cfg.sanitized();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut key = || (rng.next_u64(), rng.next_u64());
        let (isn_key, port_key, table_key) = (key(), key(), key());
        let table = SeededState(table_key);
        TcpEngine {
            mtu_mss: cfg.mss,
            shared: Shared {
                cfg,
                stats: TcpStats::default(),
                scratch: Vec::with_capacity(1600),
                challenge_acks: ChallengeAckLimit::default(),
                batching: false,
                spent: Vec::new(),
            },
            isn: IsnGenerator::new(isn_key),
            ports: PortAllocator::new(port_key),
            conns: Slab::default(),
            demux: HashMap::with_hasher(table),
            last_demux: None,
            listeners: Slab::default(),
            listen_index: HashMap::with_hasher(table),
            syn_queue: Slab::default(),
            syn_demux: HashMap::with_hasher(table),
            timers: TimerQueue::default(),
            path_mtu: HashMap::with_hasher(table),
            window_updates: Vec::new(),
            batch_acks: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn stats(&self) -> &TcpStats {
        &self.shared.stats
    }

    pub fn config(&self) -> &TcpConfig {
        &self.shared.cfg
    }

    /// Connections the engine holds, in any state (including TIME-WAIT and not-yet-accepted).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// The interface MTU: our advertised MSS becomes at most `mtu - 40`.
    pub fn set_mtu(&mut self, mtu: u16) {
        self.mtu_mss = self.shared.cfg.mss.min(mtu.saturating_sub(40).max(64));
    }

    /// A smaller path MTU learned from ICMP "fragmentation needed" (RFC 1191): connections
    /// to `remote` send smaller segments from now on. Rare, so a scan is fine.
    pub fn set_path_mtu(&mut self, remote: Ipv4Addr, mtu: u16) {
        let mss = mtu.saturating_sub(40).max(64);
        if self.path_mtu.len() >= MAX_PATH_MTU_ENTRIES && !self.path_mtu.contains_key(&remote) {
            // Forged ICMP must not grow this without bound: forget and relearn.
            self.path_mtu.clear();
        }
        self.path_mtu.insert(remote, mss);
        for (_, conn) in self.conns.iter_mut() {
            if conn.tuple.remote_ip == remote {
                conn.limit_mss(mss);
            }
        }
    }

    fn mss_towards(&self, remote: Ipv4Addr) -> u16 {
        let path = self.path_mtu.get(&remote).copied().unwrap_or(u16::MAX);
        self.mtu_mss.min(path)
    }
}
