//! Segment arrival for a connection (RFC 9293 section 3.10.7.3 for SYN-SENT, 3.10.7.4 for
//! the synchronized states), with RFC 5961's stricter RST/SYN/ACK checks, RFC 7323's PAWS,
//! and RFC 5681/6582 loss recovery on the ACK path.

use super::connection::{rto_bounds, Connection, Negotiated, DEFAULT_PEER_MSS};
use super::payload::Payload;
use super::recv_buffer::{Arrival, SPENT_MAX};
use super::segment::{TcpHeader, ACK, FIN, RST, SYN};
use super::send_buffer::BUFFER_LINGER_MS;
use super::seq::Seq;
use super::{Ctx, Owner, TcpConfig, TcpError, TcpState};
use tracing::{debug, trace};

#[cfg(test)]
thread_local! {
    /// Tests turn header prediction off to check that the general path does the same.
    pub static HEADER_PREDICTION: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// At most one ACK per this interval answers unacceptable data-less segments (Linux's
/// tcp_invalid_ratelimit default).
pub const UNACCEPTABLE_ACK_INTERVAL_MS: u64 = 500;

/// What both sides agreed on in the SYN exchange, from the peer's SYN options.
pub fn negotiate(cfg: &TcpConfig, header: &TcpHeader) -> Negotiated {
    let options = &header.options;
    Negotiated {
        peer_mss: options.mss.unwrap_or(DEFAULT_PEER_MSS),
        window_scale: match (cfg.window_scaling, options.window_scale) {
            (true, Some(peers)) => Some((Connection::wanted_rcv_wscale(cfg), peers)),
            _ => None,
        },
        ts_recent: options.timestamps.filter(|_| cfg.timestamps).map(|(val, _)| val),
    }
}

/// In a receive batch, in-order segments wait for one ACK at the batch's end, but no more
/// than this many: the sender's window keeps moving (and a sender whose slow start grows by
/// one MSS per ACK, as RFC 5681 has it, keeps growing; ours counts the bytes acknowledged)
/// even when a poll brings a whole window at once. 44 segments
/// of 1448 bytes are what Linux's GRO merges into one 64 KiB packet, acknowledged at once.
pub const MAX_STRETCH_SEGMENTS: u8 = 44;

impl Connection {
    /// Handles one segment addressed to this connection, then sends what it calls for.
    pub fn on_segment(&mut self, ctx: &mut Ctx, header: &TcpHeader, payload: &mut Payload) {
        if self.takes_predicted_data(ctx, header, payload) {
            return;
        }
        match self.state {
            TcpState::SynSent => self.on_segment_syn_sent(ctx, header, payload),
            TcpState::Closed | TcpState::Listen => ctx.stats.ignored_segments += 1,
            _ => self.on_segment_synchronized(ctx, header, payload),
        }
        if self.state == TcpState::Closed {
            return;
        }
        self.output(ctx);
        if self.ack_now {
            self.send_ack(ctx);
        }
    }

    /// Header prediction (Van Jacobson's, as BSD and Linux have it): the segment a bulk
    /// receiver gets nearly every time is the next in-order data, acknowledging nothing
    /// new, with the same window, on an established connection with nothing out of order.
    /// For it, every check of the general path has a known outcome and only the data
    /// moves: the same state results as from `on_segment_synchronized`, with a fraction of
    /// the work. Any other segment takes the general path (false).
    pub fn takes_predicted_data(&mut self, ctx: &mut Ctx, header: &TcpHeader, payload: &mut Payload) -> bool {
        #[cfg(test)]
        if !HEADER_PREDICTION.get() {
            return false;
        }
        let window = u32::from(header.window) << self.snd_wscale;
        let predicted = self.state == TcpState::Established
            && header.flags & (SYN | FIN | RST | ACK) == ACK
            && header.seq == self.rcv_nxt
            && header.ack == self.snd_una
            && window == self.snd_wnd
            && !payload.is_empty()
            && payload.len() <= self.recv_buf.window(ctx.cfg.recv_buffer)
            && !self.recv_buf.has_gaps()
            && self.early_fin.is_none()
            && self.owner != Owner::Released;
        if !predicted {
            return false;
        }
        // PAWS (RFC 7323 section 5.3): an older timestamp goes the general way, to be rejected.
        let tsval = match (self.ts_enabled, header.options.timestamps) {
            (true, Some((tsval, _))) if Seq(tsval).ge(Seq(self.ts_recent)) => Some(tsval),
            (true, _) => return false,
            (false, _) => None,
        };
        self.take_predicted(ctx, header.seq, header.ack, tsval, payload);
        true
    }

    /// `takes_predicted_data` for the next segment of a run (`gro`) whose first segment
    /// it took: the same headers but for the sequence number, so of its checks only those
    /// on the sequence number and the length are left.
    pub fn takes_next_in_run(&mut self, ctx: &mut Ctx, header: &TcpHeader, payload: &mut Payload) -> bool {
        #[cfg(test)]
        if !HEADER_PREDICTION.get() {
            return false;
        }
        let fits = header.seq == self.rcv_nxt
            && !payload.is_empty()
            && payload.len() <= self.recv_buf.window(ctx.cfg.recv_buffer)
            && self.state == TcpState::Established; // an ACK sent mid-run changes none of this
        if !fits {
            return false;
        }
        let tsval = header.options.timestamps.filter(|_| self.ts_enabled).map(|(tsval, _)| tsval);
        self.take_predicted(ctx, header.seq, header.ack, tsval, payload);
        true
    }

    /// What the general path does with a predicted segment: `process_ack` for an ACK of
    /// nothing new with an unchanged window, the timestamp, `on_data` for in-order data that
    /// fits with nothing out of order; then the ACK that may be due (nothing the output
    /// waits for changed).
    fn take_predicted(&mut self, ctx: &mut Ctx, seq: Seq, ack: Seq, tsval: Option<u32>, payload: &mut Payload) {
        ctx.stats.header_predicted += 1;
        if self.snd_wl1.lt(seq) || (self.snd_wl1 == seq && self.snd_wl2.le(ack)) {
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
        }
        if let Some(tsval) = tsval.filter(|_| seq.le(self.last_ack_sent)) {
            self.ts_recent = tsval;
        }
        self.last_heard = ctx.now;
        self.keepalive_probes_sent = 0;
        self.recv_buf.append_in_order(&mut self.rcv_nxt, payload);
        if payload.taken() {
            ctx.stats.rx_frames_kept += 1;
        }
        self.in_order_data_arrived(ctx);
        if self.ack_now {
            self.send_ack(ctx);
        }
    }

    fn on_segment_syn_sent(&mut self, ctx: &mut Ctx, header: &TcpHeader, payload: &mut Payload) {
        if header.has(ACK) && (header.ack.le(self.iss) || header.ack.gt(self.snd_max)) {
            ctx.stats.out_of_window += 1;
            trace!(tuple = ?self.tuple, ack = ?header.ack, "SYN-SENT: unacceptable ACK");
            if !header.has(RST) {
                self.emit_rst_for_bad_ack(ctx, header.ack);
            }
            return;
        }
        if header.has(RST) {
            if header.has(ACK) {
                ctx.stats.rst_received += 1;
                debug!(tuple = ?self.tuple, "connection refused");
                self.enter_closed(Some(TcpError::ConnectionRefused));
            } else {
                ctx.stats.rst_ignored += 1;
            }
            return;
        }
        if !header.has(SYN) {
            ctx.stats.ignored_segments += 1;
            return;
        }
        self.irs = header.seq;
        self.rcv_nxt = header.seq + 1;
        // Our SYN offered its (unscaled) window before we knew where the peer's data starts.
        self.rcv_adv = self.rcv_nxt + ctx.cfg.recv_buffer.min(usize::from(u16::MAX)) as u32;
        self.apply_negotiated(&negotiate(ctx.cfg, header));
        self.snd_wnd = u32::from(header.window); // never scaled in a SYN
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = header.seq;
        self.snd_wl2 = header.ack;
        if header.has(ACK) {
            self.take_rtt_sample(ctx, header);
            self.snd_una = header.ack;
            self.establish(ctx);
            if !payload.is_empty() {
                self.on_data(ctx, header.seq + 1, payload);
            }
            self.ack_now = true;
        } else {
            // Simultaneous open (RFC 9293 figure 8): answer with SYN-ACK on our ISN.
            self.set_state(TcpState::SynReceived);
            self.send_syn(ctx);
        }
    }

    fn on_segment_synchronized(&mut self, ctx: &mut Ctx, header: &TcpHeader, payload: &mut Payload) {
        let mut seq = header.seq;
        let mut syn = header.has(SYN);
        if syn && seq == self.irs {
            // The peer's SYN again (its SYN-ACK retransmitted because our ACK was lost, or
            // crossing ours in a simultaneous open). Its SYN is old news; its ACK is not.
            syn = false;
            seq += 1;
            if self.state != TcpState::SynReceived {
                self.ack_now = true;
            }
        }
        if self.state == TcpState::TimeWait && header.has(FIN) && !header.has(RST) {
            // The peer did not get our last ACK: ACK again and wait 2 MSL more.
            self.time_wait_until = Some(ctx.now + 2 * ctx.cfg.msl_ms);
            self.ack_now = true;
        }
        let seg_len = payload.len() as u32 + u32::from(syn) + u32::from(header.has(FIN));
        if self.paws_rejects(header) {
            ctx.stats.paws_rejected += 1;
            trace!(tuple = ?self.tuple, "PAWS: old timestamp");
            self.answer_unacceptable(ctx, seg_len);
            return;
        }
        if !self.acceptable(seq, seg_len, ctx.cfg.recv_buffer) {
            ctx.stats.out_of_window += 1;
            trace!(tuple = ?self.tuple, seq = ?seq, rcv_nxt = ?self.rcv_nxt, "segment outside the window");
            if !header.has(RST) {
                self.answer_unacceptable(ctx, seg_len);
            }
            return;
        }
        if header.has(RST) {
            self.on_rst(ctx, seq);
            return;
        }
        if syn {
            // RFC 5961 section 4.2: a SYN in a synchronized state may be forged.
            self.send_challenge_ack(ctx);
            return;
        }
        if !header.has(ACK) {
            ctx.stats.ignored_segments += 1;
            return;
        }
        if self.state == TcpState::SynReceived {
            if !(header.ack.gt(self.snd_una) && header.ack.le(self.snd_max)) {
                ctx.stats.out_of_window += 1;
                self.emit_rst_for_bad_ack(ctx, header.ack);
                return;
            }
            self.snd_wnd = u32::from(header.window) << self.snd_wscale;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = header.ack;
            self.establish(ctx);
        }
        if !self.process_ack(ctx, header, seq, payload.len()) {
            return;
        }
        if let Some((tsval, _)) = header.options.timestamps {
            // RFC 7323 section 4.3: remember the TSval of the segment that fills the left edge.
            if self.ts_enabled && seq.le(self.last_ack_sent) && Seq(tsval).ge(Seq(self.ts_recent)) {
                self.ts_recent = tsval;
            }
        }
        self.last_heard = ctx.now;
        self.keepalive_probes_sent = 0;
        if !payload.is_empty() {
            self.on_data(ctx, seq, payload);
        }
        if header.has(FIN) && self.state != TcpState::Closed {
            self.on_fin(ctx, seq + payload.len() as u32);
        } else if let Some(fin_seq) = self.early_fin.filter(|&fin| fin == self.rcv_nxt) {
            self.on_fin(ctx, fin_seq);
        }
    }

    /// A SYN for this 4-tuple while we are in TIME-WAIT that cannot be an old duplicate:
    /// its sequence number is past everything of the old connection (or, with timestamps,
    /// its TSval is newer). RFC 6191.
    pub fn syn_reopens_time_wait(&self, header: &TcpHeader) -> bool {
        if self.state != TcpState::TimeWait || header.flags & (SYN | ACK | RST) != SYN {
            return false;
        }
        match (self.ts_enabled, header.options.timestamps) {
            (true, Some((tsval, _))) => Seq(tsval).gt(Seq(self.ts_recent)),
            _ => header.seq.gt(self.rcv_nxt),
        }
    }

    /// An unacceptable segment gets an ACK that says where we are (RFC 9293 3.10.7.4). For
    /// one without data that ACK is rate-limited per connection, as Linux does: two ends
    /// that each find the other's ACKs unacceptable would otherwise ping-pong ACKs forever.
    /// Data is always answered: that is how a sender learns its retransmission was a duplicate.
    fn answer_unacceptable(&mut self, ctx: &mut Ctx, seg_len: u32) {
        if seg_len == 0 {
            if self.last_unacceptable_ack.is_some_and(|last| ctx.now < last + UNACCEPTABLE_ACK_INTERVAL_MS) {
                ctx.stats.unacceptable_acks_suppressed += 1;
                return;
            }
            self.last_unacceptable_ack = Some(ctx.now);
        }
        self.ack_now = true;
    }

    /// RFC 7323 section 5.3: a segment whose TSval is older than TS.Recent is a duplicate
    /// from an earlier wrap of the sequence space.
    fn paws_rejects(&self, header: &TcpHeader) -> bool {
        match header.options.timestamps {
            Some((tsval, _)) if self.ts_enabled && !header.has(RST) => Seq(tsval).lt(Seq(self.ts_recent)),
            _ => false,
        }
    }

    /// RFC 9293 section 3.10.7.4, first check, with the four cases of the table.
    fn acceptable(&self, seq: Seq, len: u32, capacity: usize) -> bool {
        let advertised = self.rcv_adv.diff(self.rcv_nxt).max(0) as u32;
        let window = (self.recv_buf.window(capacity) as u32).max(advertised);
        let right = self.rcv_nxt + window;
        match (len, window) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_window(self.rcv_nxt, right),
            // A zero window still takes the segment at RCV.NXT for its ACK (and so a
            // zero-window probe gets its answer); its data is clipped away later.
            (_, 0) => seq == self.rcv_nxt,
            (_, _) => seq.in_window(self.rcv_nxt, right) || (seq + (len - 1)).in_window(self.rcv_nxt, right),
        }
    }

    /// RFC 5961 section 3.2: only a RST exactly at RCV.NXT resets; one elsewhere in the
    /// window gets a challenge ACK, which a real peer answers with an exact RST.
    fn on_rst(&mut self, ctx: &mut Ctx, seq: Seq) {
        if seq != self.rcv_nxt {
            ctx.stats.rst_ignored += 1;
            self.send_challenge_ack(ctx);
            return;
        }
        ctx.stats.rst_received += 1;
        let error = match self.state {
            TcpState::SynReceived => Some(TcpError::ConnectionRefused),
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 | TcpState::CloseWait => {
                Some(TcpError::ConnectionReset)
            }
            _ => None,
        };
        debug!(tuple = ?self.tuple, state = ?self.state, "reset by peer");
        self.enter_closed(error);
    }

    /// The ACK field (RFC 9293 section 3.10.7.4, fifth check). Returns false to stop processing.
    fn process_ack(&mut self, ctx: &mut Ctx, header: &TcpHeader, seq: Seq, payload_len: usize) -> bool {
        let ack = header.ack;
        if ack.gt(self.snd_max) {
            ctx.stats.ack_unsent_data += 1;
            self.ack_now = true;
            return false;
        }
        if ack.lt(self.snd_una - self.max_snd_wnd.max(1)) {
            // RFC 5961 section 5.2: too old to be from this connection's recent past.
            ctx.stats.old_ack_dropped += 1;
            self.ack_now = true;
            return false;
        }
        let window = u32::from(header.window) << self.snd_wscale;
        if ack.gt(self.snd_una) {
            self.on_new_ack(ctx, header);
        } else if ack == self.snd_una
            && payload_len == 0
            && !header.has(FIN)
            && window == self.snd_wnd
            && window != 0
            && self.snd_max.gt(self.snd_una)
        {
            self.on_duplicate_ack(ctx);
        }
        if self.snd_wl1.lt(seq) || (self.snd_wl1 == seq && self.snd_wl2.le(ack)) {
            let reopened = self.snd_wnd == 0 && window > 0;
            self.snd_wnd = window;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            if reopened {
                trace!(tuple = ?self.tuple, window, "peer window reopened");
                self.persist_at = None;
                self.persist_backoff = 0;
                // Whatever we sent past SND.UNA went into a closed window (probes): the
                // peer did not keep it, so send it again now rather than at the next RTO.
                self.snd_nxt = self.snd_una;
                self.rtx_at = None;
            }
        }
        if self.fin_acked() {
            match self.state {
                TcpState::FinWait1 => {
                    self.set_state(TcpState::FinWait2);
                    if self.owner == Owner::Released {
                        self.idle_at = Some(ctx.now + ctx.cfg.fin_wait2_timeout_ms);
                    }
                }
                TcpState::Closing => self.enter_time_wait(ctx),
                TcpState::LastAck => {
                    self.enter_closed(None);
                    return false;
                }
                _ => {}
            }
        }
        true
    }

    fn on_new_ack(&mut self, ctx: &mut Ctx, header: &TcpHeader) {
        let ack = header.ack;
        let acked = ack - self.snd_una;
        let flight_before = self.bytes_in_flight();
        self.take_rtt_sample(ctx, header);
        let data_acked = (ack.diff(self.data_start()).max(0) as usize).min(self.send_buf.len());
        if self.send_buf.consume(data_acked, ctx.spent, SPENT_MAX) && self.release_buffers_at.is_none() {
            self.release_buffers_at = Some(ctx.now + BUFFER_LINGER_MS);
        }
        self.snd_una = ack;
        if self.snd_nxt.lt(ack) {
            self.snd_nxt = ack;
        }
        self.retries = 0;
        self.dup_acks = 0;
        let mss = self.max_payload();
        if self.in_recovery {
            if ack.ge(self.recover) {
                self.in_recovery = false;
                self.cc.on_recovery_exit(self.bytes_in_flight(), mss);
            } else {
                self.cc.on_partial_ack(acked, mss);
                self.retransmit_first(ctx);
            }
        } else if flight_before.saturating_mul(2) >= self.cc.window() {
            // The window grows only while it is in use (RFC 7661's rule; Linux's
            // tcp_is_cwnd_limited takes half the window in slow start, as here): a sender
            // held back by the receive window or the application would otherwise double a
            // window it never fills, every round trip, and burst it out when it can.
            self.cc.on_ack(acked, mss);
        }
        // RFC 6298 (5.2) and (5.3).
        self.rtx_at = (self.snd_una != self.snd_max).then(|| ctx.now + u64::from(self.rto.rto_ms()));
        if self.snd_una == self.snd_max {
            self.persist_backoff = 0;
        }
    }

    /// RTT from the timestamp echo when there is one, else from the timed segment (Karn:
    /// the probe is forgotten whenever anything is retransmitted).
    fn take_rtt_sample(&mut self, ctx: &Ctx, header: &TcpHeader) {
        let bounds = rto_bounds(ctx.cfg);
        let echo_predates_timeout = |tsecr: u32| self.ts_at_last_timeout.is_some_and(|floor| Seq(tsecr).lt(Seq(floor)));
        let sample = match header.options.timestamps {
            Some((_, tsecr)) if self.ts_enabled && tsecr != 0 => {
                (!echo_predates_timeout(tsecr)).then(|| self.tsval(ctx).wrapping_sub(tsecr))
            }
            _ => match self.rtt_probe {
                Some((end, sent)) if header.ack.ge(end) => {
                    self.rtt_probe = None;
                    Some(ctx.now.saturating_sub(sent) as u32)
                }
                _ => None,
            },
        };
        match sample {
            Some(rtt) if rtt < bounds.max_ms => self.rto.on_sample(rtt, &bounds),
            _ => self.rto.on_progress(&bounds),
        }
    }

    /// RFC 5681 section 3.2 with RFC 6582's `recover` guard.
    fn on_duplicate_ack(&mut self, ctx: &mut Ctx) {
        ctx.stats.dup_acks_received += 1;
        self.dup_acks = self.dup_acks.saturating_add(1);
        let mss = self.max_payload();
        if self.in_recovery {
            self.cc.on_recovery_dup_ack(mss);
        } else if self.dup_acks == 3 && self.snd_una.gt(self.recover) {
            debug!(tuple = ?self.tuple, snd_una = ?self.snd_una, "fast retransmit");
            ctx.stats.fast_retransmits += 1;
            self.cc.on_fast_retransmit(self.bytes_in_flight(), mss);
            self.recover = self.snd_max;
            self.in_recovery = true;
            self.retransmit_first(ctx);
            self.rtx_at = Some(ctx.now + u64::from(self.rto.rto_ms()));
        }
    }

    fn on_data(&mut self, ctx: &mut Ctx, seq: Seq, payload: &mut Payload) {
        if !matches!(self.state, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2) {
            // After the peer's FIN there is no more data; a retransmission gets an ACK.
            ctx.stats.duplicate_data += 1;
            self.ack_now = true;
            return;
        }
        if self.owner == Owner::Released && (seq + payload.len() as u32).gt(self.rcv_nxt) {
            // Nobody will ever read this: say so instead of swallowing it (RFC 9293 3.10.7.4 / Linux).
            ctx.stats.resets_on_close += 1;
            debug!(tuple = ?self.tuple, "data for a closed connection: reset");
            self.send_rst(ctx);
            self.enter_closed(None);
            return;
        }
        let had_gaps = self.recv_buf.has_gaps();
        let arrival =
            self.recv_buf.insert(&mut self.rcv_nxt, seq, payload, ctx.cfg.recv_buffer, ctx.cfg.max_ooo_segments);
        if payload.taken() {
            ctx.stats.rx_frames_kept += 1;
        }
        match arrival {
            // A hole filled (or one remains): tell the sender now (RFC 5681 section 4.2).
            Arrival::InOrder(_) if had_gaps || self.recv_buf.has_gaps() => self.ack_now = true,
            Arrival::InOrder(_) => self.in_order_data_arrived(ctx),
            Arrival::OutOfOrder => {
                ctx.stats.ooo_queued += 1;
                self.ack_now = true; // the duplicate ACK that drives fast retransmit
            }
            Arrival::Duplicate => {
                ctx.stats.duplicate_data += 1;
                self.ack_now = true;
            }
            Arrival::QueueFull => {
                ctx.stats.ooo_dropped += 1;
                self.ack_now = true;
            }
        }
    }

    /// In-order data arrived with nothing out of order: acknowledge every second segment
    /// (RFC 9293 3.8.6.3), or once at the end of the receive batch, or after the delay.
    fn in_order_data_arrived(&mut self, ctx: &mut Ctx) {
        self.unacked_segments = self.unacked_segments.saturating_add(1);
        if self.unacked_segments >= 2 && ctx.batching && self.unacked_segments < MAX_STRETCH_SEGMENTS {
            // Inside a receive batch: one ACK at its end covers every segment the batch
            // brought (the stretch ACK of Linux's GRO), up to a bound.
            self.ack_at_batch_end = true;
        } else if self.unacked_segments >= 2 {
            self.ack_now = true;
        } else if self.delack_at.is_none() {
            ctx.stats.delayed_acks += 1;
            self.delack_at = Some(ctx.now + ctx.cfg.delayed_ack_ms);
        }
    }

    /// The peer's FIN at `fin_seq` (RFC 9293 section 3.10.7.4, eighth check).
    fn on_fin(&mut self, ctx: &mut Ctx, fin_seq: Seq) {
        if fin_seq != self.rcv_nxt {
            // Data before it is missing: remember where the stream ends, so the FIN counts
            // as soon as the gap fills instead of waiting for the peer to resend it.
            if fin_seq.gt(self.rcv_nxt) && !self.fin_received {
                self.early_fin = Some(fin_seq);
            }
            self.ack_now = true;
            return;
        }
        self.early_fin = None;
        let next = match self.state {
            TcpState::SynReceived | TcpState::Established => TcpState::CloseWait,
            TcpState::FinWait1 if self.fin_acked() => TcpState::TimeWait,
            TcpState::FinWait1 => TcpState::Closing, // simultaneous close
            TcpState::FinWait2 => TcpState::TimeWait,
            _ => {
                self.ack_now = true;
                return;
            }
        };
        self.rcv_nxt += 1;
        self.fin_received = true;
        self.ack_now = true;
        if next == TcpState::TimeWait {
            self.enter_time_wait(ctx);
        } else {
            self.set_state(next);
        }
    }

    pub fn establish(&mut self, ctx: &mut Ctx) {
        if self.retries > 0 {
            self.rto.after_handshake_timeout();
        }
        self.set_state(TcpState::Established);
        if self.fin_queued {
            // The user shut down writing during the handshake: the FIN follows the data now.
            self.set_state(TcpState::FinWait1);
        }
        ctx.stats.established += 1;
        self.cc.reset(self.max_payload());
        self.rtx_at = None;
        self.retries = 0;
        self.recover = self.snd_una;
        if let Some(keepalive) = self.keepalive {
            self.idle_at = Some(ctx.now + keepalive.idle_ms);
        }
    }

    /// `<SEQ=SEG.ACK><CTL=RST>` for an ACK of something we never sent.
    fn emit_rst_for_bad_ack(&mut self, ctx: &mut Ctx, ack: Seq) {
        let spec = super::segment::SegmentSpec {
            src: self.tuple.local(),
            dst: self.tuple.remote(),
            seq: ack,
            ack: Seq(0),
            flags: RST,
            window: 0,
            options: Default::default(),
        };
        ctx.transmit(&spec, 0, |_| 0);
    }
}
