//! The engine's entry points for segments, timers and connections: demultiplexing,
//! handle checks, and the bookkeeping after every event (timer scheduling, readiness
//! events, unhooking and freeing connections that reached CLOSED).

use super::connection::Connection;
use super::demux::{Slab, SlotId};
use super::listener::{reset_reply, SynEntry};
use super::payload::Payload;
use super::segment::{self, Checksum, ParseError, TcpHeader};
use super::seq::Seq;
use super::timers::TimerOwner;
use super::{Ctx, FourTuple, Instant, Output, Owner, Readiness, TcpEngine, TcpError, TcpHandle, TcpState};
use crate::buf::PacketBuf;
use crate::prefetch::prefetch;
use std::net::Ipv4Addr;
use tracing::{debug, trace};

impl TcpEngine {
    /// A TCP segment (header + payload, as in the IPv4 packet) from `src` to `dst`.
    pub fn on_segment(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8], out: &mut Output) {
        self.on_segment_with(now, src, dst, segment, Checksum::Verify, out);
    }

    /// Like `on_segment`, for a segment whose checksum the caller has already verified
    /// (a device's receive checksum offload): the engine skips its own pass over the bytes.
    pub fn on_verified_segment(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        segment: &[u8],
        out: &mut Output,
    ) {
        self.on_segment_with(now, src, dst, segment, Checksum::AlreadyVerified, out);
    }

    fn on_segment_with(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        segment: &[u8],
        policy: Checksum,
        out: &mut Output,
    ) {
        self.shared.stats.segments_in += 1;
        match segment::parse_checked(segment, src, dst, policy) {
            Ok((header, payload)) => self.receive(now, src, dst, &header, &mut Payload::borrowed(payload), out),
            Err(error) => self.count_malformed(src, dst, segment.len(), error),
        }
    }

    /// `on_segment` for a segment in its frame buffer (data window: the TCP segment). The
    /// connection may keep the buffer as received data (zero-copy receive); the buffer is
    /// handed back when it did not. `verified`: the device's checksum assist checked it.
    pub fn on_segment_in(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        buf: PacketBuf,
        verified: bool,
        out: &mut Output,
    ) -> Option<PacketBuf> {
        self.segment_in(now, src, dst, buf, verified, out).0
    }

    /// `on_segment_in` for a run of segments (`gro::Run`): `first`, then those of `rest`,
    /// each the next segment of the same flow, with the first's headers but for the
    /// sequence number and the checksum (not verified yet). Each is taken exactly as
    /// `on_segment_in` would take it; while header prediction holds for them, without
    /// parsing or demultiplexing again. Buffers not kept go to `recycle`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_run_in(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        first: PacketBuf,
        rest: impl Iterator<Item = PacketBuf>,
        out: &mut Output,
        recycle: &mut dyn FnMut(PacketBuf),
    ) {
        // Each segment's payload is summed for its checksum right away; the next one's
        // lines load meanwhile (`prefetch`), since its sender wrote them a round trip ago.
        let mut rest = rest.peekable();
        if let Some(next) = rest.peek() {
            prefetch(next.data());
        }
        let (spent, predicted) = self.segment_in(now, src, dst, first, false, out);
        if let Some(spent) = spent {
            recycle(spent);
        }
        if let Some((cid, mut header, header_len)) = predicted {
            while let Some(mut buf) = rest.next() {
                if let Some(next) = rest.peek() {
                    prefetch(next.data());
                }
                if segment::checksum(src, dst, buf.data()) == 0 {
                    let seq = buf.data()[4..8].try_into().expect("the run checked the header's length");
                    header.seq = Seq(u32::from_be_bytes(seq));
                    buf.pull(header_len).expect("the run checked the header's length");
                    let mut payload = Payload::frame(buf);
                    if self.take_predicted(now, cid, &header, &mut payload, out, Connection::takes_next_in_run) {
                        self.shared.stats.segments_in += 1;
                        if let Some(spent) = payload.into_frame() {
                            recycle(spent);
                        }
                        continue;
                    }
                    buf = payload.into_frame().expect("not taken");
                    buf.unpull(header_len).expect("pulled above");
                }
                // A bad checksum (counted there) or a segment prediction does not take: it
                // and the rest of the run go the general way.
                if let Some(spent) = self.on_segment_in(now, src, dst, buf, false, out) {
                    recycle(spent);
                }
                break;
            }
        }
        for buf in rest {
            if let Some(spent) = self.on_segment_in(now, src, dst, buf, false, out) {
                recycle(spent);
            }
        }
    }

    /// `on_segment_in`, and, when header prediction took the segment, its connection and
    /// header (and the header's length) for the segments of its run.
    fn segment_in(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        mut buf: PacketBuf,
        verified: bool,
        out: &mut Output,
    ) -> (Option<PacketBuf>, Option<(SlotId, TcpHeader, usize)>) {
        self.shared.stats.segments_in += 1;
        let policy = if verified { Checksum::AlreadyVerified } else { Checksum::Verify };
        let (header, header_len) = match segment::parse_checked(buf.data(), src, dst, policy) {
            Ok((header, payload)) => (header, buf.len() - payload.len()),
            Err(error) => {
                self.count_malformed(src, dst, buf.len(), error);
                return (Some(buf), None);
            }
        };
        buf.pull(header_len).expect("the header was parsed from these bytes");
        let mut payload = Payload::frame(buf);
        if let Some(cid) = self.predicted_connection(src, dst, &header) {
            if self.take_predicted(now, cid, &header, &mut payload, out, Connection::takes_predicted_data) {
                return (payload.into_frame(), Some((cid, header, header_len)));
            }
        }
        self.receive(now, src, dst, &header, &mut payload, out);
        (payload.into_frame(), None)
    }

    /// Header prediction at the engine's door: the connection the last segment went to,
    /// if this one is for it too; its in-order data then goes straight to the predicted
    /// path (`take_predicted`), without the general demultiplexing.
    fn predicted_connection(&self, src: Ipv4Addr, dst: Ipv4Addr, header: &TcpHeader) -> Option<SlotId> {
        let (last, cid) = self.last_demux?;
        let same = last.remote_ip == src
            && last.local_ip == dst
            && last.remote_port == header.src_port
            && last.local_port == header.dst_port;
        // The slot may hold another connection by now.
        (same && self.conns.get(cid)?.tuple == last).then_some(cid)
    }

    /// `takes` (`Connection::takes_predicted_data`, or `takes_next_in_run`) on connection
    /// `cid`, and what `receive` does after a segment (the bookkeeping waits for the
    /// batch's end with the ACK it owes).
    fn take_predicted(
        &mut self,
        now: Instant,
        cid: SlotId,
        header: &TcpHeader,
        payload: &mut Payload,
        out: &mut Output,
        takes: fn(&mut Connection, &mut Ctx, &TcpHeader, &mut Payload) -> bool,
    ) -> bool {
        let Some(conn) = self.conns.get_mut(cid) else { return false };
        let owed_before = conn.ack_at_batch_end;
        if !takes(conn, &mut self.shared.ctx(now, out), header, payload) {
            return false;
        }
        trace!(seq = ?header.seq, len = payload.len(), tuple = ?conn.tuple, "tcp in (predicted)");
        if conn.ack_at_batch_end {
            if !owed_before {
                self.batch_acks.push(cid);
            }
        } else {
            self.after_conn_event(cid);
        }
        true
    }

    /// Drained receive buffers for the device to reuse (the interface recycles them).
    pub fn spent_buffers(&mut self) -> std::vec::Drain<'_, PacketBuf> {
        self.shared.spent.drain(..)
    }

    fn count_malformed(&mut self, src: Ipv4Addr, dst: Ipv4Addr, len: usize, error: ParseError) {
        match error {
            ParseError::Truncated => self.shared.stats.truncated += 1,
            ParseError::BadDataOffset => self.shared.stats.bad_data_offset += 1,
            ParseError::BadChecksum => self.shared.stats.bad_checksum += 1,
            ParseError::BadOption => self.shared.stats.bad_options += 1,
        }
        debug!(?src, ?dst, len, ?error, "malformed TCP segment dropped");
    }

    /// A parsed segment: to its connection, its half-open entry or its listener, or
    /// answered with a reset.
    fn receive(
        &mut self,
        now: Instant,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        header: &TcpHeader,
        payload: &mut Payload,
        out: &mut Output,
    ) {
        trace!(?src, ?dst, seq = ?header.seq, ack = ?header.ack, flags = header.flags, len = payload.len(), "tcp in");
        if header.src_port == 0 || header.dst_port == 0 {
            // Port 0 is reserved: no connection can have it, and no reply should go to it.
            self.shared.stats.bad_ports += 1;
            debug!(?src, ?dst, "TCP segment with port 0 dropped");
            return;
        }
        let tuple = FourTuple::new((dst, header.dst_port), (src, header.src_port));
        if let Some(cid) = self.lookup_connection(&tuple) {
            let Some(conn) = self.conns.get_mut(cid) else { return };
            if conn.syn_reopens_time_wait(header) {
                // RFC 6191 / RFC 9293 3.10.7.4 note: a new incarnation may start from
                // TIME-WAIT when its SYN is provably newer; the listener takes it from here.
                debug!(?tuple, "SYN reopens a TIME-WAIT connection");
                conn.enter_closed(None);
                self.after_conn_event(cid);
            } else {
                let owed_before = conn.ack_at_batch_end;
                conn.on_segment(&mut self.shared.ctx(now, out), header, payload);
                if conn.ack_at_batch_end && conn.state != TcpState::Closed {
                    // In-order data whose ACK waits for the batch's end: so does the
                    // bookkeeping (timers, readiness), once for the whole batch.
                    if !owed_before {
                        self.batch_acks.push(cid);
                    }
                    return;
                }
                self.after_conn_event(cid);
                return;
            }
        }
        if let Some(&sid) = self.syn_demux.get(&tuple) {
            self.on_syn_entry_segment(now, sid, header, payload, out);
            return;
        }
        if let Some(lid) = self.find_listener(dst, header.dst_port) {
            self.on_listen_segment(now, lid, tuple, header, out);
            return;
        }
        self.shared.stats.no_socket += 1;
        trace!(?tuple, "no socket");
        if !header.has(segment::RST) {
            let spec = reset_reply(&tuple, header, payload.len());
            self.shared.ctx(now, out).transmit(&spec, 0, |_| 0);
        }
    }

    /// The connection for `tuple`. The last one found is remembered, so a run of segments
    /// for one connection (a bulk transfer) hashes the tuple once: a remembered slot is
    /// used only while it holds a live (not CLOSED) connection with this very tuple, which
    /// is exactly when the table maps the tuple to it (the table drops a tuple only when
    /// its connection closes, and two live connections never share one).
    fn lookup_connection(&mut self, tuple: &FourTuple) -> Option<SlotId> {
        if let Some((last, cid)) = self.last_demux {
            if last == *tuple {
                if let Some(conn) = self.conns.get(cid) {
                    if conn.tuple == *tuple && conn.state != TcpState::Closed {
                        debug_assert_eq!(self.demux.get(tuple), Some(&cid));
                        return Some(cid);
                    }
                }
            }
        }
        let cid = *self.demux.get(tuple)?;
        self.last_demux = Some((*tuple, cid));
        Some(cid)
    }

    /// Starts a batch of received segments (what one device poll brought): until
    /// `end_batch`, in-order data is acknowledged once per connection at the end (at most
    /// `MAX_STRETCH_SEGMENTS` segments per ACK) instead of every second segment. Out-of-order
    /// data, duplicates, FINs and window probes are still answered at once (fast
    /// retransmit needs every duplicate ACK). A batch is meant to be ended: until then the
    /// timers and readiness of a connection owing a batch ACK are left as they were (the
    /// delayed-ACK timer the batch's first segment armed still sends the ACK).
    pub fn begin_batch(&mut self) {
        self.shared.batching = true;
    }

    /// Ends the batch `begin_batch` started: sends the ACKs it held back, and does the
    /// bookkeeping (timers, readiness events) that the segments owing them left for now.
    pub fn end_batch(&mut self, now: Instant, out: &mut Output) {
        self.shared.batching = false;
        for cid in std::mem::take(&mut self.batch_acks) {
            let Some(conn) = self.conns.get_mut(cid) else { continue };
            // Without the flag an ACK went out since (with data, or a window update).
            if conn.ack_at_batch_end {
                conn.ack_at_batch_end = false;
                if conn.state.is_synchronized() && conn.state != TcpState::TimeWait {
                    conn.send_ack(&mut self.shared.ctx(now, out));
                }
            }
            self.after_conn_event(cid);
        }
    }

    /// Runs due timers and sends window updates that `recv` queued (unless an ACK that
    /// went out since, such as the one ending a receive batch, already carried the window).
    pub fn poll_timers(&mut self, now: Instant, out: &mut Output) {
        for cid in std::mem::take(&mut self.window_updates) {
            if let Some(conn) = self.conns.get_mut(cid) {
                if conn.state.is_synchronized() && conn.state != TcpState::TimeWait {
                    let mut ctx = self.shared.ctx(now, out);
                    if conn.window_update_owed {
                        conn.send_ack(&mut ctx);
                    }
                    conn.output(&mut ctx);
                }
                conn.window_update_owed = false;
                self.after_conn_event(cid);
            }
        }
        // Every handler moves its deadline past `now`; the budget only guarantees that a
        // bug there could never turn into a hang.
        let mut budget = self.timers.len() + 64;
        while let Some((at, owner)) = self.timers.pop_due(now) {
            budget -= 1;
            match owner {
                TimerOwner::Connection(cid) => {
                    let Some(conn) = self.conns.get_mut(cid) else { continue };
                    if conn.scheduled != Some(at) {
                        continue; // superseded by an earlier entry
                    }
                    conn.scheduled = None;
                    let mut ctx = self.shared.ctx(now, out);
                    conn.on_timer(&mut ctx);
                    self.after_conn_event(cid);
                }
                TimerOwner::SynEntry(sid) => self.syn_entry_timer(now, sid, at, out),
            }
            if budget == 0 {
                break;
            }
        }
    }

    /// When `poll_timers` next has work; a time in the past (or 0) means "now".
    pub fn next_timer(&self) -> Option<Instant> {
        if !self.window_updates.is_empty() {
            return Some(0);
        }
        self.timers.next()
    }

    /// After anything happened to a connection: unhook it if CLOSED, free it if nobody holds
    /// it, schedule its timer, and queue a readiness event if that changed.
    pub(super) fn after_conn_event(&mut self, cid: SlotId) {
        let Some(conn) = self.conns.get_mut(cid) else { return };
        if conn.state == TcpState::Closed {
            if self.demux.get(&conn.tuple) == Some(&cid) {
                self.demux.remove(&conn.tuple);
            }
            match conn.owner {
                Owner::User => {}
                Owner::Released => {
                    self.conns.remove(cid);
                    return;
                }
                Owner::Listener(lid) => {
                    self.conns.remove(cid);
                    if let Some(listener) = self.listeners.get_mut(lid) {
                        listener.accept_queue.retain(|&queued| queued != cid);
                    }
                    self.note_listener(lid);
                    return;
                }
            }
        }
        if let Some(deadline) = conn.next_deadline() {
            if conn.scheduled.is_none_or(|scheduled| deadline < scheduled) {
                conn.scheduled = Some(deadline);
                self.timers.push(deadline, TimerOwner::Connection(cid));
            }
        }
        if conn.owner == Owner::User {
            let readiness = conn.readiness(self.shared.cfg.send_buffer);
            if readiness != conn.reported {
                conn.reported = readiness;
                if !conn.event_queued {
                    conn.event_queued = true;
                    self.events.push(TcpHandle::new(cid, false));
                }
            }
        }
    }

    /// A connection handle the user still holds.
    fn conn_id(&self, handle: TcpHandle) -> Result<SlotId, TcpError> {
        if handle.is_listener() {
            return Err(TcpError::InvalidState);
        }
        let cid = self.conns.id_at(handle.index()).ok_or(TcpError::InvalidHandle)?;
        match self.conns.get(cid) {
            Some(conn) if handle.generation_matches(cid) && conn.owner == Owner::User => Ok(cid),
            _ => Err(TcpError::InvalidHandle),
        }
    }

    /// Active open from `local_ip` on an ephemeral port (RFC 6056).
    pub fn connect(
        &mut self,
        now: Instant,
        local_ip: Ipv4Addr,
        remote: (Ipv4Addr, u16),
        out: &mut Output,
    ) -> Result<TcpHandle, TcpError> {
        self.connect_from(now, (local_ip, 0), remote, out)
    }

    /// Active open from a given local port (0 = ephemeral).
    pub fn connect_from(
        &mut self,
        now: Instant,
        local: (Ipv4Addr, u16),
        remote: (Ipv4Addr, u16),
        out: &mut Output,
    ) -> Result<TcpHandle, TcpError> {
        if remote.1 == 0 || remote.0.is_unspecified() || local.0.is_unspecified() {
            return Err(TcpError::InvalidState);
        }
        let port = match local.1 {
            0 => {
                let (demux, syn_demux, listen_index) = (&self.demux, &self.syn_demux, &self.listen_index);
                let taken = |port: u16| {
                    let tuple = FourTuple::new((local.0, port), remote);
                    demux.contains_key(&tuple)
                        || syn_demux.contains_key(&tuple)
                        || listen_index.contains_key(&(local.0, port))
                        || listen_index.contains_key(&(Ipv4Addr::UNSPECIFIED, port))
                };
                self.ports.pick(local.0, remote, taken).ok_or(TcpError::NoEphemeralPorts)?
            }
            port => port,
        };
        let tuple = FourTuple::new((local.0, port), remote);
        if self.demux.contains_key(&tuple) || self.syn_demux.contains_key(&tuple) {
            return Err(TcpError::AddrInUse);
        }
        let iss = self.isn.isn(now, &tuple);
        let mut conn = Connection::new(tuple, iss, self.mss_towards(remote.0), &self.shared.cfg, now);
        conn.set_state(TcpState::SynSent);
        conn.rtt_probe = Some((iss + 1, now));
        conn.send_syn(&mut self.shared.ctx(now, out));
        self.shared.stats.active_opens += 1;
        let cid = self.conns.insert(conn);
        self.demux.insert(tuple, cid);
        self.after_conn_event(cid);
        Ok(TcpHandle::new(cid, false))
    }

    /// Queues `data`; returns how many bytes the send buffer took.
    pub fn send(&mut self, now: Instant, handle: TcpHandle, data: &[u8], out: &mut Output) -> Result<usize, TcpError> {
        let cid = self.conn_id(handle)?;
        let conn = self.conns.get_mut(cid).ok_or(TcpError::InvalidHandle)?;
        let result = conn.send(&mut self.shared.ctx(now, out), data);
        self.after_conn_event(cid);
        result
    }

    /// Reads received bytes; `Ok(0)` is the end of the stream (the peer's FIN).
    pub fn recv(&mut self, handle: TcpHandle, buf: &mut [u8]) -> Result<usize, TcpError> {
        let cid = self.conn_id(handle)?;
        let conn = self.conns.get_mut(cid).ok_or(TcpError::InvalidHandle)?;
        let (count, window_update) = conn.recv(buf, self.shared.cfg.recv_buffer, &mut self.shared.spent)?;
        if window_update {
            conn.window_update_owed = true;
        }
        if window_update && self.window_updates.last() != Some(&cid) {
            self.window_updates.push(cid);
        }
        self.after_conn_event(cid);
        Ok(count)
    }

    pub fn shutdown_write(&mut self, now: Instant, handle: TcpHandle, out: &mut Output) -> Result<(), TcpError> {
        let cid = self.conn_id(handle)?;
        let conn = self.conns.get_mut(cid).ok_or(TcpError::InvalidHandle)?;
        let result = conn.shutdown_write(&mut self.shared.ctx(now, out));
        self.after_conn_event(cid);
        result
    }

    /// Gives the handle back. The connection finishes (FIN, FIN-WAIT, TIME-WAIT) on its own.
    pub fn close(&mut self, now: Instant, handle: TcpHandle, out: &mut Output) -> Result<(), TcpError> {
        if handle.is_listener() {
            let lid = self.listener_id(handle)?;
            self.close_listener(now, lid, out);
            return Ok(());
        }
        let cid = self.conn_id(handle)?;
        let conn = self.conns.get_mut(cid).ok_or(TcpError::InvalidHandle)?;
        conn.close(&mut self.shared.ctx(now, out));
        self.after_conn_event(cid);
        Ok(())
    }

    /// Resets the connection (or closes the listener) and gives the handle back.
    pub fn abort(&mut self, now: Instant, handle: TcpHandle, out: &mut Output) {
        if let Ok(lid) = self.listener_id(handle) {
            self.close_listener(now, lid, out);
            return;
        }
        let Ok(cid) = self.conn_id(handle) else { return };
        if let Some(conn) = self.conns.get_mut(cid) {
            conn.owner = Owner::Released;
            conn.abort(&mut self.shared.ctx(now, out));
        }
        self.after_conn_event(cid);
    }

    pub fn set_nodelay(&mut self, handle: TcpHandle, nodelay: bool) -> Result<(), TcpError> {
        let cid = self.conn_id(handle)?;
        self.conns.get_mut(cid).ok_or(TcpError::InvalidHandle)?.nodelay = nodelay;
        Ok(())
    }

    pub fn set_keepalive(&mut self, now: Instant, handle: TcpHandle, on: bool) -> Result<(), TcpError> {
        let cid = self.conn_id(handle)?;
        let params = self.shared.cfg.keepalive_params;
        let conn = self.conns.get_mut(cid).ok_or(TcpError::InvalidHandle)?;
        conn.keepalive = on.then_some(params);
        conn.idle_at = match (on, conn.state) {
            (true, TcpState::Established | TcpState::CloseWait) => Some(now + params.idle_ms),
            (false, TcpState::Established | TcpState::CloseWait) => None,
            _ => conn.idle_at,
        };
        self.after_conn_event(cid);
        Ok(())
    }

    pub fn readiness(&self, handle: TcpHandle) -> Readiness {
        if let Ok(lid) = self.listener_id(handle) {
            return self.listener_readiness(lid);
        }
        match self.conn_id(handle).ok().and_then(|cid| self.conns.get(cid)) {
            Some(conn) => conn.readiness(self.shared.cfg.send_buffer),
            None => Readiness(Readiness::HUP | Readiness::ERROR),
        }
    }

    /// Calls `f` once for every handle whose readiness changed since the last call.
    pub fn drain_events(&mut self, mut f: impl FnMut(TcpHandle)) {
        for handle in std::mem::take(&mut self.events) {
            if let Ok(lid) = self.listener_id(handle) {
                if let Some(listener) = self.listeners.get_mut(lid) {
                    listener.event_queued = false;
                    f(handle);
                }
            } else if let Ok(cid) = self.conn_id(handle) {
                if let Some(conn) = self.conns.get_mut(cid) {
                    conn.event_queued = false;
                    f(handle);
                }
            }
        }
    }

    /// The state of a connection the user holds (`Listen` for a listener).
    pub fn state(&self, handle: TcpHandle) -> Option<TcpState> {
        if self.listener_id(handle).is_ok() {
            return Some(TcpState::Listen);
        }
        let cid = self.conn_id(handle).ok()?;
        self.conns.get(cid).map(|conn| conn.state)
    }

    pub fn local_addr(&self, handle: TcpHandle) -> Option<(Ipv4Addr, u16)> {
        if let Ok(lid) = self.listener_id(handle) {
            return self.listeners.get(lid).map(|l| l.local);
        }
        self.conns.get(self.conn_id(handle).ok()?).map(|c| c.tuple.local())
    }

    pub fn peer_addr(&self, handle: TcpHandle) -> Option<(Ipv4Addr, u16)> {
        self.conns.get(self.conn_id(handle).ok()?).map(|c| c.tuple.remote())
    }

    /// Whether a connection (in any state, TIME-WAIT included) holds this 4-tuple.
    pub fn is_tuple_in_use(&self, local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> bool {
        let tuple = FourTuple::new(local, remote);
        self.demux.contains_key(&tuple) || self.syn_demux.contains_key(&tuple)
    }

    /// Memory of one connection without its buffers' storage: the TCB in its slab slot,
    /// its demux and timer entries, and its congestion controller.
    pub fn idle_connection_bytes(&self, handle: TcpHandle) -> Option<usize> {
        let conn = self.conns.get(self.conn_id(handle).ok()?)?;
        Some(
            Slab::<Connection>::slot_size()
                + demux_entry_bytes()
                + timer_entry_bytes()
                + core::mem::size_of_val(&*conn.cc),
        )
    }

    /// Heap bytes the connection's buffers hold now (grown on demand, released when empty).
    pub fn buffer_bytes(&self, handle: TcpHandle) -> Option<usize> {
        self.conns.get(self.conn_id(handle).ok()?).map(|c| c.buffer_bytes())
    }

    /// The smoothed RTT (RFC 6298 SRTT) in milliseconds, once measured.
    pub fn smoothed_rtt_ms(&self, handle: TcpHandle) -> Option<u32> {
        self.conns.get(self.conn_id(handle).ok()?).and_then(|c| c.rto.srtt_ms())
    }

    /// Memory of one half-open connection: its slot, its demux entry and its timer entry.
    pub fn syn_queue_entry_bytes() -> usize {
        Slab::<SynEntry>::slot_size() + demux_entry_bytes() + timer_entry_bytes()
    }
}

/// A hash-table entry: key, value and hashbrown's one control byte.
fn demux_entry_bytes() -> usize {
    core::mem::size_of::<(FourTuple, SlotId)>() + 1
}

fn timer_entry_bytes() -> usize {
    core::mem::size_of::<(Instant, TimerOwner)>()
}
