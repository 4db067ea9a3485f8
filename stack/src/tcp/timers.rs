//! Timers: one min-heap for the whole engine, and what each connection does when its
//! earliest deadline comes.
//!
//! A connection keeps its deadlines in its own fields and has at most one *valid* entry in
//! the heap: the one whose time equals its `scheduled` field. When a deadline moves
//! earlier a new entry is pushed; when it moves later the old entry is left and, when it
//! pops, the connection simply reschedules. So arming a timer is O(log n) at worst, most
//! re-arms (every ACK restarts the retransmission timer) cost nothing, and `next_timer`
//! is a peek.

use super::connection::{rto_bounds, Connection};
use super::demux::SlotId;
use super::{Ctx, Instant, Owner, TcpError, TcpState};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tracing::debug;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerOwner {
    Connection(SlotId),
    SynEntry(SlotId),
}

#[derive(Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, TimerOwner)>>,
}

impl TimerQueue {
    pub fn push(&mut self, at: Instant, owner: TimerOwner) {
        self.heap.push(Reverse((at, owner)));
    }

    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// The earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, TimerOwner)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(entry)| entry),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|at| at <= now)
}

impl Connection {
    pub fn next_deadline(&self) -> Option<Instant> {
        // Runs after every segment: plain comparisons, not an iterator chain.
        fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, None) => a,
                (None, b) => b,
            }
        }
        let a = earlier(self.rtx_at, self.persist_at);
        let b = earlier(self.delack_at, self.idle_at);
        let c = earlier(self.time_wait_until, self.release_buffers_at);
        earlier(earlier(a, b), c)
    }

    /// Runs every deadline that is due.
    pub fn on_timer(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        if due(self.time_wait_until, now) {
            ctx.stats.time_wait_expired += 1;
            self.enter_closed(None);
            return;
        }
        if due(self.rtx_at, now) {
            self.retransmission_expired(ctx);
            if self.state == TcpState::Closed {
                return;
            }
        }
        if due(self.persist_at, now) {
            self.persist_expired(ctx);
        }
        if due(self.delack_at, now) {
            self.delack_at = None;
            if self.state.is_synchronized() {
                self.send_ack(ctx);
            }
        }
        if due(self.idle_at, now) {
            self.idle_expired(ctx);
        }
        if due(self.release_buffers_at, now) {
            self.release_buffers_at = None;
            self.send_buf.release();
            self.recv_buf.release();
        }
    }

    /// RFC 6298 (5.4)-(5.6): back off, go back to SND.UNA, and let slow start resend.
    fn retransmission_expired(&mut self, ctx: &mut Ctx) {
        self.rtx_at = None;
        if self.snd_una == self.snd_max {
            return;
        }
        let handshake = matches!(self.state, TcpState::SynSent | TcpState::SynReceived);
        let limit = if handshake { ctx.cfg.syn_retries } else { ctx.cfg.max_retransmits };
        if self.retries >= limit {
            ctx.stats.timeouts += 1;
            debug!(tuple = ?self.tuple, state = ?self.state, retries = self.retries, "connection timed out");
            self.abort_with(ctx, TcpError::TimedOut);
            return;
        }
        if self.snd_wnd == 0 && !handshake {
            // Outstanding data into a closed window: that is the persist timer's job.
            self.persist_expired(ctx);
            return;
        }
        self.retries += 1;
        ctx.stats.rto_expirations += 1;
        self.rto.on_timeout(&rto_bounds(ctx.cfg));
        self.rtt_probe = None;
        self.ts_at_last_timeout = Some(self.tsval(ctx));
        if handshake {
            ctx.stats.retransmissions += 1;
            self.send_syn(ctx);
            if self.state == TcpState::SynSent {
                // Spread the retries of clients refused together (a full backlog drops a whole
                // burst), so they do not return as the same burst: up to +50 %, from the ISN.
                let rto = u64::from(self.rto.rto_ms());
                let jitter = u64::from(self.iss.0) % (rto / 2).max(1);
                self.rtx_at = Some(ctx.now + rto + jitter);
            }
            return;
        }
        let mss = self.max_payload();
        self.cc.on_timeout(self.bytes_in_flight(), mss);
        self.in_recovery = false;
        self.dup_acks = 0;
        self.recover = self.snd_max;
        self.snd_nxt = self.snd_una;
        self.output_inner(ctx, true);
    }

    fn abort_with(&mut self, ctx: &mut Ctx, error: TcpError) {
        if self.state.is_synchronized() && self.state != TcpState::TimeWait {
            self.send_rst(ctx);
        }
        self.enter_closed(Some(error));
    }

    /// Keepalive (RFC 9293 section 3.8.4) or the orphan FIN-WAIT-2 timeout.
    fn idle_expired(&mut self, ctx: &mut Ctx) {
        self.idle_at = None;
        let now = ctx.now;
        match (self.state, self.keepalive) {
            (TcpState::FinWait2, _) if self.owner == Owner::Released => {
                debug!(tuple = ?self.tuple, "orphan FIN-WAIT-2 timed out");
                ctx.stats.timeouts += 1;
                self.enter_closed(None);
            }
            (TcpState::Established | TcpState::CloseWait, Some(keepalive)) => {
                let quiet_for = now.saturating_sub(self.last_heard);
                if self.keepalive_probes_sent == 0 && quiet_for < keepalive.idle_ms {
                    self.idle_at = Some(self.last_heard + keepalive.idle_ms);
                    return;
                }
                if self.keepalive_probes_sent >= keepalive.probes {
                    ctx.stats.timeouts += 1;
                    debug!(tuple = ?self.tuple, "keepalive: peer gone");
                    self.abort_with(ctx, TcpError::TimedOut);
                    return;
                }
                if self.snd_max == self.snd_una {
                    ctx.stats.keepalive_probes += 1;
                    self.keepalive_probes_sent += 1;
                    self.send_keepalive_probe(ctx);
                }
                self.idle_at = Some(now + keepalive.interval_ms);
            }
            _ => {}
        }
    }
}
