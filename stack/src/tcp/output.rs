//! Segment departure: what to send and when (RFC 9293 sections 3.8.6 and 3.10.4).

use super::connection::Connection;
use super::segment::{
    checksum_from_sums, header_len, write_header_into, HeaderTemplate, RunHeader, SegmentSpec, TcpOptions, ACK, FIN,
    PSH, RST, SYN,
};
use super::seq::Seq;
use super::{Ctx, TcpState};
use crate::buf::{PacketBuf, SharedBytes};
use std::net::Ipv4Addr;
use tracing::trace;

/// Payload of an outgoing segment: `len` bytes starting `offset` bytes into the send buffer.
#[derive(Clone, Copy)]
struct DataRange {
    offset: usize,
    len: usize,
}

impl Ctx<'_, '_> {
    /// Writes, checksums and hands one segment to the caller's output: in room the
    /// output lends (zero copy), or else in the engine's scratch buffer. `payload` fills
    /// the `payload_len` bytes after the header and returns their ones'-complement sum
    /// (`wire::checksum::sum`), so the checksum needs no second pass over them.
    pub fn transmit(&mut self, spec: &SegmentSpec, payload_len: usize, payload: impl FnOnce(&mut [u8]) -> u16) {
        let header_len = header_len(spec);
        self.transmit_built(spec.src.0, spec.dst.0, spec.seq, spec.flags, header_len + payload_len, |segment| {
            write_header_into(segment, spec);
            let payload_sum = payload(&mut segment[header_len..]);
            let sum = checksum_from_sums(spec, segment.len(), payload_sum);
            segment[16..18].copy_from_slice(&sum.to_be_bytes());
        });
    }

    /// `transmit` for one segment of a run, its header from `template`.
    pub fn transmit_copied(
        &mut self,
        template: &HeaderTemplate,
        seq: Seq,
        flags: u8,
        payload_len: usize,
        payload: impl FnOnce(&mut [u8]) -> u16,
    ) {
        let header_len = template.header_len();
        self.transmit_built(template.src, template.dst, seq, flags, header_len + payload_len, |segment| {
            let payload_sum = payload(&mut segment[header_len..]);
            template.write(segment, seq, flags, payload_len, payload_sum);
        });
    }

    /// A segment of `len` bytes that `build` writes whole (checksum included), in room the
    /// output lends or in the scratch buffer, handed to the output.
    fn transmit_built(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        seq: Seq,
        flags: u8,
        len: usize,
        build: impl FnOnce(&mut [u8]),
    ) {
        match self.out.lend(len) {
            Some(segment) => {
                build(segment);
                self.out.send_lent(src, dst);
            }
            None => {
                if self.scratch.len() < len {
                    self.scratch.resize(len, 0);
                }
                let segment = &mut self.scratch[..len];
                build(segment);
                self.out.send(src, dst, segment);
            }
        }
        trace!(?src, ?dst, ?seq, flags, len, "tcp out");
        self.stats.segments_out += 1;
        if flags & RST != 0 {
            self.stats.rst_sent += 1;
        }
    }

    /// Hands the output a segment whose payload is `frame` (a send-buffer frame summing to
    /// `payload_sum`), its header from `template`, so the payload is not copied. Returns
    /// the output's reference to the frame's bytes, or the frame if the output did not take it.
    #[inline]
    pub fn transmit_frame(
        &mut self,
        template: &HeaderTemplate,
        seq: Seq,
        flags: u8,
        frame: PacketBuf,
        payload_sum: u16,
    ) -> Result<SharedBytes, PacketBuf> {
        let len = template.header_len() + frame.len();
        let bytes = self.out.send_frame(&RunHeader { template, seq, flags, payload_sum }, frame)?;
        trace!(src = ?template.src, dst = ?template.dst, ?seq, flags, len, "tcp out (in its frame)");
        self.stats.segments_out += 1;
        self.stats.tx_frames_in_place += 1;
        Ok(bytes)
    }
}

impl Connection {
    pub fn tsval(&self, ctx: &Ctx) -> u32 {
        (ctx.now as u32).wrapping_add(self.ts_offset)
    }

    /// The window field for a non-SYN segment. Moves RCV.ADV right only in steps of
    /// min(buffer/2, MSS) (receiver SWS avoidance) and never left.
    fn advertise_window(&mut self, capacity: usize) -> u16 {
        let free = self.recv_buf.window(capacity) as u32;
        let mut right = self.rcv_nxt + free;
        if self.rcv_adv.ge(self.rcv_nxt) {
            let threshold = (capacity as u32 / 2).min(u32::from(self.our_mss));
            if right.lt(self.rcv_adv) || right - self.rcv_adv < threshold {
                right = self.rcv_adv;
            }
        }
        let window = ((right - self.rcv_nxt) >> self.rcv_wscale).min(u32::from(u16::MAX));
        self.rcv_adv = self.rcv_nxt + (window << self.rcv_wscale);
        window as u16
    }

    /// The segment with `seq` and `flags` as it goes out now: window, options, ACK.
    fn spec(&mut self, ctx: &Ctx, seq: Seq, flags: u8) -> SegmentSpec {
        let mut options = TcpOptions::default();
        let window = if flags & SYN != 0 {
            // The window in a SYN is never scaled (RFC 7323 section 2.2).
            let window = self.recv_buf.window(ctx.cfg.recv_buffer).min(usize::from(u16::MAX)) as u16;
            if flags & ACK != 0 {
                self.rcv_adv = self.rcv_nxt + u32::from(window);
            }
            options.mss = Some(self.our_mss);
            let offer_scale = if self.state == TcpState::SynSent {
                ctx.cfg.window_scaling
            } else {
                self.rcv_wscale != 0 || self.snd_wscale != 0
            };
            if offer_scale {
                options.window_scale = Some(Connection::wanted_rcv_wscale(ctx.cfg));
            }
            if self.state == TcpState::SynSent && ctx.cfg.timestamps {
                options.timestamps = Some((self.tsval(ctx), 0));
            }
            window
        } else {
            self.advertise_window(ctx.cfg.recv_buffer)
        };
        if self.ts_enabled {
            options.timestamps = Some((self.tsval(ctx), self.ts_recent));
        }
        let ack = if flags & ACK != 0 { self.rcv_nxt } else { Seq(0) };
        SegmentSpec { src: self.tuple.local(), dst: self.tuple.remote(), seq, ack, flags, window, options }
    }

    fn emit(&mut self, ctx: &mut Ctx, seq: Seq, flags: u8, data: Option<DataRange>) {
        let spec = self.spec(ctx, seq, flags);
        if data.is_none_or(|range| range.len == 0) {
            // A control segment: its header written straight from the spec.
            ctx.transmit(&spec, 0, |_| 0);
            if flags & ACK != 0 {
                self.ack_sent();
            }
            return;
        }
        self.emit_with(ctx, &HeaderTemplate::new(&spec), seq, flags, data);
    }

    /// Sends the segment with `seq`, `flags` and `data`, its header from `template`: in
    /// its send-buffer frame when the data is one whole frame, else copied.
    #[inline]
    fn emit_with(&mut self, ctx: &mut Ctx, template: &HeaderTemplate, seq: Seq, flags: u8, data: Option<DataRange>) {
        let send_buf = &mut self.send_buf;
        // Only bytes the buffer holds (a range reaching past it is cut short, as before).
        let (offset, len) =
            data.map_or((0, 0), |range| (range.offset, range.len.min(send_buf.len().saturating_sub(range.offset))));
        let in_frame = |frame, sum| ctx.transmit_frame(template, seq, flags, frame, sum);
        if !send_buf.send_in_frame(offset, len, in_frame) {
            ctx.transmit_copied(template, seq, flags, len, |buf| send_buf.copy_and_sum_into(offset, buf));
        }
        if flags & ACK != 0 {
            self.ack_sent();
        }
    }

    /// A segment carrying our ACK (and window) went out: no ACK is owed any more.
    fn ack_sent(&mut self) {
        self.last_ack_sent = self.rcv_nxt;
        self.delack_at = None;
        self.unacked_segments = 0;
        self.ack_now = false;
        self.ack_at_batch_end = false;
        self.window_update_owed = false;
    }

    pub fn send_ack(&mut self, ctx: &mut Ctx) {
        self.emit(ctx, self.ack_seq(), ACK, None);
    }

    /// The sequence number for a segment without data. Not SND.NXT: after a timeout it
    /// went back to SND.UNA, behind what the peer already has, and the peer would drop the
    /// ACK as an old duplicate (two such peers retransmitting at each other deadlock).
    /// SND.MAX, as BSD does, unless that lies past the peer's window (it does after a
    /// zero-window probe), where the peer would drop it too; then the window's right edge
    /// (as Linux's tcp_acceptable_seq).
    fn ack_seq(&self) -> Seq {
        let window_end = self.snd_una + self.snd_wnd;
        if self.snd_max.le(window_end) {
            self.snd_max
        } else {
            window_end
        }
    }

    /// A keepalive probe (RFC 9293 section 3.8.4): SEG.SEQ = SND.NXT - 1, outside the
    /// peer's window, so it must answer with an ACK, and with no data it could take.
    pub fn send_keepalive_probe(&mut self, ctx: &mut Ctx) {
        self.emit(ctx, self.snd_nxt - 1, ACK, None);
    }

    /// A challenge ACK (RFC 5961 sections 3.2, 4.2, 5.2): tells a real peer where we are,
    /// tells a blind attacker nothing it can use.
    pub fn send_challenge_ack(&mut self, ctx: &mut Ctx) {
        if !ctx.challenge_acks.allow(ctx.now) {
            ctx.stats.challenge_acks_suppressed += 1;
            return;
        }
        ctx.stats.challenge_acks += 1;
        self.send_ack(ctx);
    }

    /// Resets the connection; the sequence number is one the peer's window accepts.
    pub fn send_rst(&mut self, ctx: &mut Ctx) {
        self.emit(ctx, self.ack_seq(), RST | ACK, None);
    }

    /// SYN in SYN-SENT, SYN-ACK in SYN-RECEIVED; both carry our ISN.
    pub fn send_syn(&mut self, ctx: &mut Ctx) {
        let flags = if self.state == TcpState::SynSent { SYN } else { SYN | ACK };
        if self.snd_max != self.iss {
            ctx.stats.retransmissions += 1;
        }
        self.emit(ctx, self.iss, flags, None);
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_nxt;
        self.rtx_at.get_or_insert(ctx.now + u64::from(self.rto.rto_ms()));
    }

    /// Sends what the windows, Nagle and SWS avoidance allow.
    pub fn output(&mut self, ctx: &mut Ctx) {
        self.output_inner(ctx, false);
    }

    /// `force` sends one segment even if Nagle or sender SWS avoidance would wait: the
    /// persist timer's override (RFC 9293 section 3.8.6.2.1).
    pub fn output_inner(&mut self, ctx: &mut Ctx, mut force: bool) {
        use TcpState::*;
        if !matches!(self.state, Established | CloseWait | FinWait1 | Closing | LastAck) {
            return;
        }
        let max_payload = self.max_payload();
        // What bounds this call's segments does not change while it sends them: where the
        // data starts and ends, and the windows.
        let data_start = self.data_start();
        let data_end = data_start + self.send_buf.len() as u32;
        let window = self.snd_wnd.min(self.cc.window());
        // Every data segment this call sends carries the same header but for its sequence
        // number and flags: built once, on the first.
        let mut template: Option<HeaderTemplate> = None;
        let mut sent = false;
        loop {
            if self.snd_nxt.gt(data_end) {
                break; // the FIN is out
            }
            let unsent = data_end - self.snd_nxt;
            let flight = self.snd_nxt - self.snd_una;
            let usable = window.saturating_sub(flight);
            // New data in whole frames of full segments, none of them the last of the data
            // (it carries PSH, maybe FIN): a run of them goes out in one tight loop.
            let timed = self.ts_enabled || self.rtt_probe.is_some();
            if self.snd_nxt == self.snd_max && timed && usable >= max_payload && unsent > max_payload {
                let seq = self.snd_nxt;
                let template = &*template.get_or_insert_with(|| HeaderTemplate::new(&self.spec(ctx, seq, ACK)));
                let offset = (seq - data_start) as usize;
                let max = usable.min(unsent - 1) as usize;
                let in_frame =
                    |frame, sum, at: usize| ctx.transmit_frame(template, data_start + at as u32, ACK, frame, sum);
                let run = self.send_buf.send_whole_frames(offset, max, max_payload as usize, in_frame) as u32;
                if run > 0 {
                    force = false;
                    self.snd_nxt = seq + run;
                    self.snd_max = self.snd_nxt;
                    self.ack_sent();
                    sent = true;
                    continue;
                }
            }
            let len = unsent.min(usable).min(max_payload);
            let fin = self.fin_queued && len == unsent;
            if len == 0 && !fin {
                break;
            }
            if len < max_payload && !fin && !force {
                let window_limited = len < unsent;
                if window_limited && len < self.max_snd_wnd / 2 {
                    break; // sender SWS avoidance
                }
                let small_in_flight = self.snd_sml.gt(self.snd_una);
                if !window_limited && !self.nodelay && flight > 0 && (small_in_flight || self.writer_waiting) {
                    // Nagle with Minshall's rule: one small segment in flight at a time,
                    // and none while the application is still filling the buffer. The
                    // small tail of a message after full segments goes at once, so the
                    // peer's delayed ACK of an odd segment does not hold it back.
                    break;
                }
            }
            force = false;
            // The segment ends where its frame does, so the next starts at a frame's start
            // and can go out in that frame (frames hold one segment each; a segment crosses
            // frames only after an MSS change or a write to a frame already on the wire).
            // Whether to send was decided on the whole length above.
            let offset = (self.snd_nxt - data_start) as usize;
            let len = self.send_buf.within_frame(offset, len as usize) as u32;
            let fin = self.fin_queued && len == unsent;
            let mut flags = ACK;
            if len > 0 && len == unsent {
                flags |= PSH;
            }
            if fin {
                flags |= FIN;
            }
            let seq = self.snd_nxt;
            if seq.lt(self.snd_max) {
                ctx.stats.retransmissions += 1;
            } else if self.rtt_probe.is_none() && !self.ts_enabled {
                self.rtt_probe = Some((seq + len, ctx.now));
            }
            let template = &*template.get_or_insert_with(|| HeaderTemplate::new(&self.spec(ctx, seq, flags)));
            self.emit_with(ctx, template, seq, flags, Some(DataRange { offset, len: len as usize }));
            if fin {
                self.fin_seq = Some(seq + len);
            }
            self.snd_nxt = seq + len + u32::from(fin);
            self.snd_max = self.snd_max.max(self.snd_nxt);
            if len > 0 && len < max_payload {
                self.snd_sml = seq + len;
            }
            sent = true;
        }
        if sent {
            self.persist_at = None;
            self.rtx_at.get_or_insert(ctx.now + u64::from(self.rto.rto_ms()));
        }
        self.arm_persist_if_stalled(ctx);
    }

    /// Data waits and no retransmission timer runs, so nothing may ever bring the ACK that
    /// opens the window: only the persist timer can get us going again (zero-window probes
    /// and the SWS override, RFC 9293 section 3.8.6). The invariant: data to send means a
    /// timer is armed.
    fn arm_persist_if_stalled(&mut self, ctx: &Ctx) {
        let unsent = self.data_end().diff(self.snd_nxt) > 0;
        if unsent && self.rtx_at.is_none() && self.persist_at.is_none() {
            self.arm_persist(ctx);
        }
    }

    /// Persist timeouts back off like the RTO (RFC 9293 section 3.8.6.1), up to its maximum.
    fn arm_persist(&mut self, ctx: &Ctx) {
        let backoff = u64::from(self.rto.rto_ms()) << self.persist_backoff.min(10);
        self.persist_at = Some(ctx.now + backoff.min(u64::from(ctx.cfg.rto_max_ms)));
    }

    /// Resends the first unacknowledged segment (fast retransmit, NewReno partial ACK).
    pub fn retransmit_first(&mut self, ctx: &mut Ctx) {
        let data_end = self.data_end();
        if self.snd_una.gt(data_end) {
            return; // everything including our FIN is acknowledged
        }
        let len = (data_end - self.snd_una).min(self.max_payload());
        let len = self.send_buf.within_frame(0, len as usize) as u32;
        let fin = self.fin_sent() && self.snd_una + len == data_end;
        if len == 0 && !fin {
            return;
        }
        let flags = ACK | if fin { FIN } else { 0 };
        ctx.stats.retransmissions += 1;
        self.rtt_probe = None; // Karn: no sample from a retransmitted segment
        self.emit(ctx, self.snd_una, flags, Some(DataRange { offset: 0, len: len as usize }));
    }

    /// The persist timer fired: probe a zero window with one byte, or push a segment the
    /// SWS rules held back.
    pub fn persist_expired(&mut self, ctx: &mut Ctx) {
        self.persist_at = None;
        self.persist_backoff = self.persist_backoff.saturating_add(1);
        if self.snd_wnd == 0 {
            ctx.stats.zero_window_probes += 1;
            // Go back to SND.UNA: a probe the peer refused is sent again, not lost.
            self.snd_nxt = self.snd_una;
            let saved = self.snd_wnd;
            self.snd_wnd = 1;
            self.output_inner(ctx, true);
            self.snd_wnd = saved;
            // The probe is not retransmitted by the RTO timer; persist keeps probing.
            self.rtx_at = None;
            self.arm_persist(ctx);
        } else {
            self.output_inner(ctx, true);
        }
    }
}
