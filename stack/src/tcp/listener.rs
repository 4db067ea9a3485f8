//! Listening sockets: the SYN queue (half-open connections, SYN-RECEIVED) and the accept
//! queue (established, not yet accepted), both bounded by the backlog.
//!
//! A half-open connection is not a full `Connection` but a `SynEntry` of a few dozen
//! bytes: a SYN flood then costs little memory, and only a completed handshake allocates
//! a TCB. When either queue is full a new SYN is dropped and counted (the client retries);
//! a handshake-completing ACK that finds the accept queue full is dropped too, leaving the
//! entry to retransmit its SYN-ACK later, as Linux does.

use super::connection::{Connection, Negotiated};
use super::demux::SlotId;
use super::input::negotiate;
use super::payload::Payload;
use super::segment::{SegmentSpec, TcpHeader, TcpOptions, ACK, FIN, RST, SYN};
use super::seq::Seq;
use super::timers::TimerOwner;
use super::{Ctx, FourTuple, Instant, Output, Owner, Readiness, TcpEngine, TcpError, TcpHandle, TcpState};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use tracing::debug;

pub struct Listener {
    pub local: (Ipv4Addr, u16),
    pub backlog: usize,
    pub half_open: usize,
    pub accept_queue: VecDeque<SlotId>,
    pub reported: Readiness,
    pub event_queued: bool,
}

/// A SYN-queue entry: what the SYN told us and what our SYN-ACK said.
pub struct SynEntry {
    pub tuple: FourTuple,
    pub listener: SlotId,
    pub iss: Seq,
    pub irs: Seq,
    pub negotiated: Negotiated,
    pub retries: u8,
    pub deadline: Instant,
}

/// The RST that answers `header` when nothing is there to take it (RFC 9293 3.10.7.1).
pub fn reset_reply(tuple: &FourTuple, header: &TcpHeader, payload_len: usize) -> SegmentSpec {
    let (seq, ack, flags) = if header.has(ACK) {
        (header.ack, Seq(0), RST)
    } else {
        let len = payload_len as u32 + u32::from(header.has(SYN)) + u32::from(header.has(FIN));
        (Seq(0), header.seq + len, RST | ACK)
    };
    SegmentSpec { src: tuple.local(), dst: tuple.remote(), seq, ack, flags, window: 0, options: TcpOptions::default() }
}

fn send_syn_ack(ctx: &mut Ctx, entry: &SynEntry, our_mss: u16) {
    let negotiated = &entry.negotiated;
    let options = TcpOptions {
        mss: Some(our_mss),
        window_scale: negotiated.window_scale.map(|(ours, _)| ours),
        sack_permitted: false,
        // The same offset a Connection derives from its ISN, so TSvals stay continuous.
        timestamps: negotiated
            .ts_recent
            .map(|recent| ((ctx.now as u32).wrapping_add(entry.iss.0.rotate_left(16)), recent)),
    };
    let spec = SegmentSpec {
        src: entry.tuple.local(),
        dst: entry.tuple.remote(),
        seq: entry.iss,
        ack: entry.irs + 1,
        flags: SYN | ACK,
        window: ctx.cfg.recv_buffer.min(usize::from(u16::MAX)) as u16,
        options,
    };
    ctx.transmit(&spec, 0, |_| 0);
}

impl TcpEngine {
    pub fn listen(&mut self, local: (Ipv4Addr, u16), backlog: usize) -> Result<TcpHandle, TcpError> {
        if local.1 == 0 {
            return Err(TcpError::InvalidState);
        }
        if self.listen_index.contains_key(&local) {
            return Err(TcpError::AddrInUse);
        }
        let backlog = if backlog == 0 { self.shared.cfg.default_backlog } else { backlog };
        let id = self.listeners.insert(Listener {
            local,
            backlog,
            half_open: 0,
            accept_queue: VecDeque::new(),
            reported: Readiness::default(),
            event_queued: false,
        });
        self.listen_index.insert(local, id);
        debug!(?local, backlog, "listen");
        Ok(TcpHandle::new(id, true))
    }

    pub(super) fn listener_id(&self, handle: TcpHandle) -> Result<SlotId, TcpError> {
        if !handle.is_listener() {
            return Err(TcpError::InvalidState);
        }
        let id = self.listeners.id_at(handle.index()).ok_or(TcpError::InvalidHandle)?;
        if !handle.generation_matches(id) {
            return Err(TcpError::InvalidHandle);
        }
        Ok(id)
    }

    /// The next established connection of `listener`, if any.
    pub fn accept(&mut self, listener: TcpHandle) -> Result<Option<TcpHandle>, TcpError> {
        let lid = self.listener_id(listener)?;
        let mut accepted = None;
        while let Some(cid) = self.listeners.get_mut(lid).and_then(|l| l.accept_queue.pop_front()) {
            if let Some(conn) = self.conns.get_mut(cid) {
                conn.owner = Owner::User;
                accepted = Some(cid);
                break;
            }
        }
        self.note_listener(lid);
        match accepted {
            Some(cid) => {
                self.after_conn_event(cid);
                Ok(Some(TcpHandle::new(cid, false)))
            }
            None => Ok(None),
        }
    }

    pub(super) fn find_listener(&self, local_ip: Ipv4Addr, port: u16) -> Option<SlotId> {
        self.listen_index
            .get(&(local_ip, port))
            .or_else(|| self.listen_index.get(&(Ipv4Addr::UNSPECIFIED, port)))
            .copied()
    }

    pub(super) fn listener_readiness(&self, lid: SlotId) -> Readiness {
        match self.listeners.get(lid) {
            Some(l) if !l.accept_queue.is_empty() => Readiness(Readiness::ACCEPTABLE),
            Some(_) => Readiness::default(),
            None => Readiness(Readiness::HUP | Readiness::ERROR),
        }
    }

    /// Queues an event if the listener's readiness changed.
    pub(super) fn note_listener(&mut self, lid: SlotId) {
        let readiness = self.listener_readiness(lid);
        if let Some(listener) = self.listeners.get_mut(lid) {
            if listener.reported != readiness {
                listener.reported = readiness;
                if !listener.event_queued {
                    listener.event_queued = true;
                    self.events.push(TcpHandle::new(lid, true));
                }
            }
        }
    }

    /// A segment for a listener with no matching connection or SYN-queue entry (RFC 9293 3.10.7.2).
    pub(super) fn on_listen_segment(
        &mut self,
        now: Instant,
        lid: SlotId,
        tuple: FourTuple,
        header: &TcpHeader,
        out: &mut Output,
    ) {
        if header.has(RST) {
            self.shared.stats.ignored_segments += 1;
            return;
        }
        if header.has(ACK) {
            // An ACK for a connection we do not have (SYN cookies would look here).
            let spec = reset_reply(&tuple, header, 0);
            self.shared.ctx(now, out).transmit(&spec, 0, |_| 0);
            return;
        }
        if !header.has(SYN) {
            self.shared.stats.ignored_segments += 1;
            return;
        }
        let Some(listener) = self.listeners.get(lid) else { return };
        if listener.half_open >= listener.backlog || listener.accept_queue.len() >= listener.backlog {
            self.shared.stats.syn_queue_drops += 1;
            debug!(
                ?tuple,
                half_open = listener.half_open,
                accept_queue = listener.accept_queue.len(),
                "listen queue full: SYN dropped"
            );
            return;
        }
        let iss = self.isn.isn(now, &tuple);
        let our_mss = self.mss_towards(tuple.remote_ip);
        let entry = SynEntry {
            tuple,
            listener: lid,
            iss,
            irs: header.seq,
            negotiated: negotiate(&self.shared.cfg, header),
            retries: 0,
            deadline: now + u64::from(self.shared.cfg.rto_initial_ms),
        };
        send_syn_ack(&mut self.shared.ctx(now, out), &entry, our_mss);
        let deadline = entry.deadline;
        let sid = self.syn_queue.insert(entry);
        self.syn_demux.insert(tuple, sid);
        self.timers.push(deadline, TimerOwner::SynEntry(sid));
        if let Some(listener) = self.listeners.get_mut(lid) {
            listener.half_open += 1;
        }
        self.shared.stats.passive_opens += 1;
    }

    /// A segment for a half-open connection.
    pub(super) fn on_syn_entry_segment(
        &mut self,
        now: Instant,
        sid: SlotId,
        header: &TcpHeader,
        payload: &mut Payload,
        out: &mut Output,
    ) {
        let Some(entry) = self.syn_queue.get(sid) else { return };
        let (tuple, iss, irs, lid) = (entry.tuple, entry.iss, entry.irs, entry.listener);
        if header.has(RST) {
            if header.seq == irs + 1 {
                self.shared.stats.rst_received += 1;
                debug!(?tuple, "half-open connection reset");
                self.remove_syn_entry(sid);
            } else {
                self.shared.stats.rst_ignored += 1;
            }
            return;
        }
        if header.has(SYN) {
            if header.seq == irs && !header.has(ACK) {
                // Our SYN-ACK was lost: say it again.
                self.shared.stats.retransmissions += 1;
                let our_mss = self.mss_towards(tuple.remote_ip);
                let entry = self.syn_queue.get(sid).expect("looked up above");
                send_syn_ack(&mut self.shared.ctx(now, out), entry, our_mss);
            } else {
                self.shared.stats.ignored_segments += 1;
            }
            return;
        }
        if !header.has(ACK) {
            self.shared.stats.ignored_segments += 1;
            return;
        }
        if header.ack != iss + 1 || header.seq != irs + 1 {
            self.shared.stats.out_of_window += 1;
            if header.ack != iss + 1 {
                let spec = reset_reply(&tuple, header, payload.len());
                self.shared.ctx(now, out).transmit(&spec, 0, |_| 0);
            }
            return;
        }
        let accept_full = self.listeners.get(lid).is_none_or(|l| l.accept_queue.len() >= l.backlog);
        if accept_full {
            self.shared.stats.accept_queue_drops += 1;
            debug!(?tuple, "accept queue full: handshake ACK dropped");
            return;
        }
        let entry = self.remove_syn_entry(sid).expect("looked up above");
        let cid = self.promote(now, entry);
        if let Some(conn) = self.conns.get_mut(cid) {
            let mut ctx = self.shared.ctx(now, out);
            conn.on_segment(&mut ctx, header, payload);
        }
        self.after_conn_event(cid);
        self.note_listener(lid);
    }

    /// A completed handshake becomes a connection in SYN-RECEIVED (the ACK that completes
    /// it is then processed like any other) waiting in the accept queue.
    fn promote(&mut self, now: Instant, entry: SynEntry) -> SlotId {
        let our_mss = self.mss_towards(entry.tuple.remote_ip);
        let mut conn = Connection::new(entry.tuple, entry.iss, our_mss, &self.shared.cfg, now);
        conn.owner = Owner::Listener(entry.listener);
        conn.state = TcpState::SynReceived;
        conn.irs = entry.irs;
        conn.rcv_nxt = entry.irs + 1;
        conn.last_ack_sent = conn.rcv_nxt;
        conn.rcv_adv = conn.rcv_nxt + self.shared.cfg.recv_buffer.min(usize::from(u16::MAX)) as u32;
        conn.snd_nxt = entry.iss + 1;
        conn.snd_max = conn.snd_nxt;
        conn.snd_wl1 = entry.irs;
        conn.apply_negotiated(&entry.negotiated);
        // Our SYN-ACK timed out at least once: `establish` applies RFC 6298 (5.7).
        conn.retries = entry.retries;
        let cid = self.conns.insert(conn);
        self.demux.insert(entry.tuple, cid);
        if let Some(listener) = self.listeners.get_mut(entry.listener) {
            listener.accept_queue.push_back(cid);
        }
        cid
    }

    fn remove_syn_entry(&mut self, sid: SlotId) -> Option<SynEntry> {
        let entry = self.syn_queue.remove(sid)?;
        self.syn_demux.remove(&entry.tuple);
        if let Some(listener) = self.listeners.get_mut(entry.listener) {
            listener.half_open -= 1;
        }
        Some(entry)
    }

    /// SYN-ACK retransmission with backoff; the entry expires after `synack_retries`.
    pub(super) fn syn_entry_timer(&mut self, now: Instant, sid: SlotId, at: Instant, out: &mut Output) {
        let Some(entry) = self.syn_queue.get(sid) else { return };
        if entry.deadline != at {
            return;
        }
        if entry.retries >= self.shared.cfg.synack_retries {
            self.shared.stats.syn_queue_expired += 1;
            debug!(tuple = ?entry.tuple, "half-open connection expired");
            self.remove_syn_entry(sid);
            return;
        }
        let our_mss = self.mss_towards(entry.tuple.remote_ip);
        let entry = self.syn_queue.get_mut(sid).expect("looked up above");
        entry.retries += 1;
        entry.deadline = now
            + (u64::from(self.shared.cfg.rto_initial_ms) << entry.retries.min(16))
                .min(u64::from(self.shared.cfg.rto_max_ms));
        self.timers.push(entry.deadline, TimerOwner::SynEntry(sid));
        self.shared.stats.retransmissions += 1;
        send_syn_ack(&mut self.shared.ctx(now, out), entry, our_mss);
    }

    /// Closing a listener resets the connections nobody accepted and forgets half-open ones.
    pub(super) fn close_listener(&mut self, now: Instant, lid: SlotId, out: &mut Output) {
        let Some(listener) = self.listeners.remove(lid) else { return };
        self.listen_index.remove(&listener.local);
        for cid in listener.accept_queue {
            if let Some(conn) = self.conns.get_mut(cid) {
                let mut ctx = self.shared.ctx(now, out);
                conn.owner = Owner::Released;
                conn.abort(&mut ctx);
            }
            self.after_conn_event(cid);
        }
        let orphans: Vec<SlotId> = self
            .syn_queue
            .ids()
            .into_iter()
            .filter(|&sid| self.syn_queue.get(sid).is_some_and(|e| e.listener == lid))
            .collect();
        for sid in orphans {
            if let Some(entry) = self.syn_queue.remove(sid) {
                self.syn_demux.remove(&entry.tuple);
            }
        }
        debug!(local = ?listener.local, "listener closed");
    }
}
