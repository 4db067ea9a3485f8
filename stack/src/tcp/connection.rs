//! The transmission control block (RFC 9293 section 3.3.1) and what the user does to it.
//! Segment arrival is in `input.rs`, segment departure in `output.rs`, timers in `timers.rs`.

use super::congestion::CongestionControl;
use super::recv_buffer::{RecvBuffer, SPENT_MAX};
use super::rto::{RtoBounds, RtoEstimator};
use super::send_buffer::{SendBuffer, BUFFER_LINGER_MS};
use super::seq::Seq;
use super::{Ctx, FourTuple, Instant, Owner, Readiness, TcpConfig, TcpError, TcpState};
use crate::buf::PacketBuf;
use tracing::debug;

/// Peer MSS when its SYN carries none (RFC 9293 section 3.7.1).
pub const DEFAULT_PEER_MSS: u16 = 536;
/// Bytes of the timestamps option in every segment once negotiated.
pub const TIMESTAMP_OPTION_LEN: u16 = 12;

/// Parameters of the peer's SYN (or of our SYN-ACK's peer), negotiated once.
#[derive(Clone, Copy, Debug)]
pub struct Negotiated {
    pub peer_mss: u16,
    /// (our shift, peer's shift) when both sides sent the option.
    pub window_scale: Option<(u8, u8)>,
    /// The peer's TSval when both sides sent the option.
    pub ts_recent: Option<u32>,
}

pub struct Connection {
    pub tuple: FourTuple,
    pub state: TcpState,
    pub owner: Owner,
    pub error: Option<TcpError>,

    // Send sequence space (RFC 9293 figure 4). SND.MAX is the highest SND.NXT reached:
    // after a timeout SND.NXT goes back to SND.UNA while ACKs up to SND.MAX stay valid.
    pub iss: Seq,
    pub snd_una: Seq,
    pub snd_nxt: Seq,
    pub snd_max: Seq,
    /// The end of the last small (less than full-sized) data segment sent: Nagle holds
    /// another small one only while this is unacknowledged (Minshall's rule, as Linux's
    /// `snd_sml`).
    pub snd_sml: Seq,
    /// The application's last write did not all fit in the send buffer: it waits for room
    /// and more data follows, so a small tail waits for it (classic Nagle).
    pub writer_waiting: bool,
    pub snd_wnd: u32,
    pub snd_wl1: Seq,
    pub snd_wl2: Seq,
    /// Largest window the peer ever offered: bounds acceptable ACKs (RFC 5961 section 5).
    pub max_snd_wnd: u32,

    // Receive sequence space.
    pub irs: Seq,
    pub rcv_nxt: Seq,
    /// Right edge of the window we last advertised; never moved left.
    pub rcv_adv: Seq,
    pub last_ack_sent: Seq,

    /// Our advertised MSS, and the MSS we send with (after path MTU).
    pub our_mss: u16,
    pub snd_mss: u16,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub ts_enabled: bool,
    pub ts_recent: u32,
    /// Added to our clock in TSval so timestamps do not reveal uptime (RFC 7323 section 7.1).
    pub ts_offset: u32,

    pub send_buf: SendBuffer,
    pub recv_buf: RecvBuffer,
    /// The user asked for FIN after the queued data.
    pub fin_queued: bool,
    /// Where our FIN sits in sequence space, once sent.
    pub fin_seq: Option<Seq>,
    pub fin_received: bool,
    /// A FIN that arrived behind a gap: taken once the data before it is complete.
    pub early_fin: Option<Seq>,

    pub rto: RtoEstimator,
    /// Karn's rule for connections without timestamps: (sequence timed, time sent).
    pub rtt_probe: Option<(Seq, Instant)>,
    /// Our TSval when the retransmission timer last fired. An echo older than that comes
    /// from before the timeout (the receiver echoes TS.Recent, which a duplicate does not
    /// refresh) and would measure the whole outage as one round trip.
    pub ts_at_last_timeout: Option<u32>,
    pub dup_acks: u8,
    /// RFC 6582 "recover": fast recovery lasts until this is acknowledged.
    pub recover: Seq,
    pub in_recovery: bool,
    pub cc: Box<dyn CongestionControl>,
    /// Consecutive timer expirations without progress (retransmission or keepalive).
    pub retries: u8,
    pub persist_backoff: u8,
    /// Full segments received since our last ACK (ACK every second one, RFC 9293 3.8.6.3).
    pub unacked_segments: u8,
    /// An ACK must go out before this event's processing ends.
    pub ack_now: bool,
    /// In-order data owes an ACK that waits for the end of the receive batch
    /// (`TcpEngine::end_batch`); any ACK sent before then pays it.
    pub ack_at_batch_end: bool,
    /// `recv` opened the window enough to tell the peer; any ACK sent before the engine's
    /// next `poll_timers` carries the new window and pays it.
    pub window_update_owed: bool,

    // Deadlines; `scheduled` is the earliest entry this connection has in the timer queue.
    pub rtx_at: Option<Instant>,
    pub persist_at: Option<Instant>,
    pub delack_at: Option<Instant>,
    /// Keepalive in ESTABLISHED/CLOSE-WAIT, the orphan timeout in FIN-WAIT-2.
    pub idle_at: Option<Instant>,
    pub time_wait_until: Option<Instant>,
    /// A drained buffer kept its storage (bulk transfer); free it then if still empty.
    pub release_buffers_at: Option<Instant>,
    pub scheduled: Option<Instant>,
    pub last_heard: Instant,
    /// When an ACK last answered an unacceptable segment without data (rate limit).
    pub last_unacceptable_ack: Option<Instant>,

    pub nodelay: bool,
    pub keepalive: Option<super::KeepaliveConfig>,
    pub keepalive_probes_sent: u8,
    /// Readiness last reported through events, and whether an event is queued.
    pub reported: Readiness,
    pub event_queued: bool,
}

impl Connection {
    /// A connection before any segment: CLOSED, with our ISN chosen.
    pub fn new(tuple: FourTuple, iss: Seq, our_mss: u16, cfg: &TcpConfig, now: Instant) -> Self {
        Connection {
            tuple,
            state: TcpState::Closed,
            owner: Owner::User,
            error: None,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_sml: iss,
            writer_waiting: false,
            snd_wnd: 0,
            snd_wl1: Seq(0),
            snd_wl2: iss,
            max_snd_wnd: 0,
            irs: Seq(0),
            rcv_nxt: Seq(0),
            rcv_adv: Seq(0),
            last_ack_sent: Seq(0),
            our_mss,
            snd_mss: DEFAULT_PEER_MSS.min(our_mss),
            snd_wscale: 0,
            rcv_wscale: 0,
            ts_enabled: false,
            ts_recent: 0,
            ts_offset: iss.0.rotate_left(16),
            send_buf: SendBuffer::default(),
            recv_buf: RecvBuffer::default(),
            fin_queued: false,
            fin_seq: None,
            fin_received: false,
            early_fin: None,
            rto: RtoEstimator::new(&rto_bounds(cfg)),
            rtt_probe: None,
            ts_at_last_timeout: None,
            dup_acks: 0,
            recover: iss,
            in_recovery: false,
            cc: (cfg.congestion)(),
            retries: 0,
            persist_backoff: 0,
            unacked_segments: 0,
            ack_now: false,
            ack_at_batch_end: false,
            window_update_owed: false,
            rtx_at: None,
            persist_at: None,
            delack_at: None,
            idle_at: None,
            time_wait_until: None,
            release_buffers_at: None,
            scheduled: None,
            last_heard: now,
            last_unacceptable_ack: None,
            nodelay: !cfg.nagle,
            keepalive: cfg.keepalive,
            keepalive_probes_sent: 0,
            reported: Readiness::default(),
            event_queued: false,
        }
    }

    /// The shift we offer: the smallest that lets the whole buffer be advertised.
    pub fn wanted_rcv_wscale(cfg: &TcpConfig) -> u8 {
        let mut shift = 0;
        while shift < super::segment::MAX_WSCALE && (cfg.recv_buffer >> shift) > usize::from(u16::MAX) {
            shift += 1;
        }
        shift
    }

    /// Applies what the SYN exchange settled (both for active and passive opens).
    pub fn apply_negotiated(&mut self, negotiated: &Negotiated) {
        if let Some((ours, peers)) = negotiated.window_scale {
            self.rcv_wscale = ours;
            self.snd_wscale = peers;
        }
        if let Some(ts) = negotiated.ts_recent {
            self.ts_enabled = true;
            self.ts_recent = ts;
        }
        self.snd_mss = negotiated.peer_mss.min(self.our_mss).max(64);
    }

    /// A path MTU decrease: never grow, keep room for at least some payload.
    pub fn limit_mss(&mut self, mss: u16) {
        self.snd_mss = self.snd_mss.min(mss).max(64);
    }

    /// Payload bytes per segment: the MSS less the options every segment carries.
    pub fn max_payload(&self) -> u32 {
        let options = if self.ts_enabled { TIMESTAMP_OPTION_LEN } else { 0 };
        u32::from(self.snd_mss.saturating_sub(options).max(1))
    }

    /// The sequence number of the first byte in the send buffer: after the SYN, and never
    /// past our FIN (once that is acknowledged the buffer is empty and starts there).
    pub fn data_start(&self) -> Seq {
        if self.snd_una == self.iss {
            return self.iss + 1;
        }
        match self.fin_seq {
            Some(fin) if self.snd_una.gt(fin) => fin,
            _ => self.snd_una,
        }
    }

    /// One past the last byte queued for sending: where the FIN goes.
    pub fn data_end(&self) -> Seq {
        self.data_start() + self.send_buf.len() as u32
    }

    /// Our FIN has been sent at least once (it is at or below SND.MAX).
    pub fn fin_sent(&self) -> bool {
        self.fin_seq.is_some()
    }

    pub fn fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|fin| self.snd_una.gt(fin))
    }

    pub fn bytes_in_flight(&self) -> u32 {
        self.snd_max - self.snd_una
    }

    /// Enters the new state, with a trace line for every transition.
    pub fn set_state(&mut self, state: TcpState) {
        if self.state != state {
            debug!(tuple = ?self.tuple, from = ?self.state, to = ?state, "tcp state");
            self.state = state;
        }
    }

    /// Gone: no timers, no buffers. The engine unhooks it from the demux table.
    pub fn enter_closed(&mut self, error: Option<TcpError>) {
        self.set_state(TcpState::Closed);
        if self.error.is_none() {
            self.error = error;
        }
        self.clear_timers();
        self.ack_now = false;
        self.send_buf = SendBuffer::default();
    }

    pub fn enter_time_wait(&mut self, ctx: &Ctx) {
        self.set_state(TcpState::TimeWait);
        self.clear_timers();
        self.time_wait_until = Some(ctx.now + 2 * ctx.cfg.msl_ms);
        self.send_buf = SendBuffer::default();
    }

    fn clear_timers(&mut self) {
        self.rtx_at = None;
        self.persist_at = None;
        self.delack_at = None;
        self.idle_at = None;
        self.time_wait_until = None;
    }

    pub fn readiness(&self, send_capacity: usize) -> Readiness {
        use TcpState::*;
        let mut bits = 0;
        if self.recv_buf.readable_len() > 0 || self.fin_received || self.state == Closed {
            bits |= Readiness::READABLE;
        }
        if matches!(self.state, Established | CloseWait) && !self.fin_queued && self.send_buf.len() < send_capacity {
            bits |= Readiness::WRITABLE;
        }
        if matches!(self.state, Closed | TimeWait) || (self.fin_received && self.fin_queued) {
            bits |= Readiness::HUP;
        }
        if self.error.is_some() {
            bits |= Readiness::ERROR;
        }
        Readiness(bits)
    }

    /// Queues application bytes; `Ok(0)` never happens for non-empty input (that is `WouldBlock`).
    pub fn send(&mut self, ctx: &mut Ctx, data: &[u8]) -> Result<usize, TcpError> {
        use TcpState::*;
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.fin_queued {
            return Err(TcpError::WriteClosed);
        }
        if !matches!(self.state, SynSent | SynReceived | Established | CloseWait) {
            return Err(TcpError::InvalidState);
        }
        // One segment's payload per frame, so that each goes out in its frame (see
        // send_buffer). Before the handshake completes the peer's MSS is not known: guess
        // it is at least ours (a smaller one means those frames are copied into segments).
        let frame_payload = match self.state {
            SynSent | SynReceived => {
                let options = if ctx.cfg.timestamps { TIMESTAMP_OPTION_LEN } else { 0 };
                usize::from(self.our_mss.saturating_sub(options).max(1))
            }
            _ => self.max_payload() as usize,
        };
        let out = &mut *ctx.out;
        let sent = (self.snd_max.diff(self.data_start()).max(0) as usize).min(self.send_buf.len());
        let taken = self.send_buf.push(data, ctx.cfg.send_buffer, frame_payload, sent, |n| out.new_frame(n));
        self.writer_waiting = taken < data.len();
        if taken == 0 && !data.is_empty() {
            return Err(TcpError::WouldBlock);
        }
        self.output(ctx);
        Ok(taken)
    }

    /// Moves received bytes to the user; drained frame buffers go to `spent` (see
    /// `RecvBuffer::read`). Returns whether the window opened enough to tell the peer.
    pub fn recv(
        &mut self,
        buf: &mut [u8],
        capacity: usize,
        spent: &mut Vec<PacketBuf>,
    ) -> Result<(usize, bool), TcpError> {
        if self.recv_buf.readable_len() > 0 {
            let window_before = self.recv_buf.window(capacity);
            let count = self.recv_buf.read(buf, spent, SPENT_MAX);
            if self.recv_buf.lingering() && self.release_buffers_at.is_none() {
                // `recv` has no clock: count from the last segment heard (a deadline in
                // the past frees the storage at the next `poll_timers`).
                self.release_buffers_at = Some(self.last_heard + BUFFER_LINGER_MS);
            }
            let update =
                self.state.is_synchronized() && !self.fin_received && self.window_update_due(window_before, capacity);
            return Ok((count, update));
        }
        if self.fin_received {
            return Ok((0, false));
        }
        if let Some(error) = self.error {
            return Err(error);
        }
        match self.state {
            TcpState::Closed => Ok((0, false)),
            _ => Err(TcpError::WouldBlock),
        }
    }

    /// Receiver-side silly window avoidance (RFC 9293 section 3.8.6.2.2): announce a
    /// larger window only once it grew by min(half the buffer, one MSS), or left zero.
    fn window_update_due(&self, window_before: usize, capacity: usize) -> bool {
        let advertised = self.rcv_adv.diff(self.rcv_nxt).max(0) as usize;
        let now_free = self.recv_buf.window(capacity);
        let threshold = (capacity / 2).min(usize::from(self.our_mss));
        now_free >= advertised + threshold || (window_before == 0 && now_free > 0 && advertised == 0)
    }

    /// The user is done writing: FIN after the queued data (RFC 9293 section 3.10.4).
    pub fn shutdown_write(&mut self, ctx: &mut Ctx) -> Result<(), TcpError> {
        use TcpState::*;
        match self.state {
            // Before the handshake completes the FIN waits, like queued data, "for
            // processing after entering ESTABLISHED" (RFC 9293 section 3.10.4).
            SynSent | SynReceived => {
                self.fin_queued = true;
                return Ok(());
            }
            Established => self.set_state(FinWait1),
            CloseWait => self.set_state(LastAck),
            _ => return Ok(()), // already closing: nothing more to do
        }
        self.fin_queued = true;
        self.output(ctx);
        Ok(())
    }

    /// The user lets go. Unread data means the peer's bytes were lost: RST instead of FIN
    /// (RFC 2525 section 2.17, as Linux does).
    pub fn close(&mut self, ctx: &mut Ctx) {
        self.owner = Owner::Released;
        if self.recv_buf.readable_len() > 0 && self.state.is_synchronized() && self.state != TcpState::TimeWait {
            ctx.stats.resets_on_close += 1;
            debug!(tuple = ?self.tuple, "close with unread data: reset");
            self.abort(ctx);
            return;
        }
        if self.state == TcpState::SynSent && self.send_buf.is_empty() {
            // Nothing to deliver and the peer does not know us yet: just forget it.
            self.enter_closed(None);
            return;
        }
        let _ = self.shutdown_write(ctx);
        if self.state == TcpState::FinWait2 {
            self.idle_at = Some(ctx.now + ctx.cfg.fin_wait2_timeout_ms);
        }
    }

    /// RST to the peer if it knows us, then CLOSED.
    pub fn abort(&mut self, ctx: &mut Ctx) {
        use TcpState::*;
        if matches!(self.state, SynReceived | Established | FinWait1 | FinWait2 | CloseWait) {
            self.send_rst(ctx);
        }
        self.enter_closed(None);
    }

    /// Heap bytes the send and receive buffers hold right now.
    pub fn buffer_bytes(&self) -> usize {
        self.send_buf.allocated() + self.recv_buf.allocated()
    }
}

pub fn rto_bounds(cfg: &TcpConfig) -> RtoBounds {
    RtoBounds { initial_ms: cfg.rto_initial_ms, min_ms: cfg.rto_min_ms, max_ms: cfg.rto_max_ms }
}
