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
use std::collections::{BinaryHeap, VecDeque};
use tracing::debug;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerOwner {
    Connection(SlotId),
    SynEntry(SlotId),
}

/// The entries in (time, owner) order, as one min-heap would give them. Deadlines of one
/// length pushed over time arrive in order (TIME-WAIT's 2 MSL, the delayed ACK, the
/// retransmission timeout at its floor, ...), so an entry goes at the back of the first
/// sorted run whose last time is not later, in O(1) (behind any of the same time with a
/// smaller owner); only one that fits no run (beyond `MAX_RUNS`) goes to the heap. Superseded entries wait for their time in a run rather
/// than deepen a heap that every timer pays for.
#[derive(Default)]
pub struct TimerQueue {
    runs: Vec<VecDeque<(Instant, TimerOwner)>>,
    heap: BinaryHeap<Reverse<(Instant, TimerOwner)>>,
}

/// Sorted runs kept at most: a few per deadline length in use.
const MAX_RUNS: usize = 8;

/// Where the earliest entry is.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Run(usize),
    Heap,
}

impl TimerQueue {
    pub fn push(&mut self, at: Instant, owner: TimerOwner) {
        let entry = (at, owner);
        // A run whose last time is not later takes it; entries of the same time (many
        // connections arm the same timer in the same millisecond) are kept in owner
        // order by stepping back over the few that sort after it.
        if let Some(run) = self.runs.iter_mut().find(|run| run.back().is_none_or(|last| last.0 <= at)) {
            let after = run.iter().rev().take_while(|queued| **queued > entry).count();
            run.insert(run.len() - after, entry);
        } else if self.runs.len() < MAX_RUNS {
            self.runs.push(VecDeque::from([entry]));
        } else {
            self.heap.push(Reverse(entry));
        }
    }

    /// The earliest entry and where it is.
    fn first(&self) -> Option<((Instant, TimerOwner), Source)> {
        let mut best = self.heap.peek().map(|Reverse(entry)| (*entry, Source::Heap));
        for (i, run) in self.runs.iter().enumerate() {
            if let Some(&front) = run.front() {
                if best.is_none_or(|(entry, _)| front < entry) {
                    best = Some((front, Source::Run(i)));
                }
            }
        }
        best
    }

    pub fn next(&self) -> Option<Instant> {
        self.first().map(|((at, _), _)| at)
    }

    /// The earliest entry if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, TimerOwner)> {
        let (entry, source) = self.first().filter(|((at, _), _)| *at <= now)?;
        match source {
            Source::Run(i) => self.runs[i].pop_front(),
            Source::Heap => self.heap.pop().map(|Reverse(entry)| entry),
        };
        Some(entry)
    }

    pub fn len(&self) -> usize {
        self.runs.iter().map(VecDeque::len).sum::<usize>() + self.heap.len()
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

#[cfg(test)]
mod queue_tests {
    use super::*;

    #[test]
    fn entries_come_out_in_time_then_owner_order_as_from_one_heap() {
        let owner = |i: u32| TimerOwner::Connection(SlotId { index: i, generation: 0 });
        let mut state = 12_345u64;
        let mut queue = TimerQueue::default();
        let mut reference = BinaryHeap::new();
        let mut used_heap = false;
        for round in 0..2000u64 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            // Mostly increasing deadlines (one length pushed over time), some earlier ones,
            // ties included.
            let at = match state >> 60 {
                0..=3 => round + 60_000,
                4..=7 => round + (state >> 40) % 50,
                8..=11 => round / 4 * 4 + 30_000,
                length => round + 1000 * length,
            };
            let who = owner((state >> 20) as u32 % 64);
            queue.push(at, who);
            reference.push(Reverse((at, who)));
            used_heap |= !queue.heap.is_empty();
            if round % 7 == 0 {
                let now = round + 10;
                while let Some(entry) = queue.pop_due(now) {
                    assert_eq!(reference.pop(), Some(Reverse(entry)));
                }
                assert!(reference.peek().is_none_or(|Reverse((at, _))| *at > now));
            }
            assert_eq!(queue.len(), reference.len());
            assert_eq!(queue.next(), reference.peek().map(|Reverse((at, _))| *at));
        }
        while let Some(entry) = queue.pop_due(u64::MAX) {
            assert_eq!(reference.pop(), Some(Reverse(entry)));
        }
        assert!(reference.is_empty());
        assert!(used_heap && queue.runs.len() == MAX_RUNS, "runs and heap both exercised");
    }
}
