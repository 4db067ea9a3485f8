//! A deterministic in-memory network for tests and benchmarks: hosts plugged into one
//! hub (every frame goes to every other port; each stack filters by MAC, as on a shared
//! segment), a virtual clock, and seeded impairments per delivered copy: delay, jitter
//! (which reorders), loss, duplication, corruption and an MTU. The same seed gives the
//! same run, so a failing test prints its seed and can be replayed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::buf::{PacketBuf, RxMeta};
use crate::device::{Device, DeviceCaps};
use crate::iface::Interface;
use crate::wire::checksum;
use crate::wire::ethernet::EthernetRepr;

#[derive(Clone, Debug)]
pub struct LinkConfig {
    pub delay_ms: u64,
    /// Extra delay drawn uniformly from `0..=jitter_ms` per frame; frames overtake each other.
    pub jitter_ms: u64,
    /// Probabilities per delivered copy.
    pub loss: f64,
    pub duplicate: f64,
    /// One random bit flipped somewhere after the Ethernet header (damage the FCS missed).
    pub corrupt: f64,
    /// Frames whose IP packet is larger than this are dropped by the wire.
    pub mtu: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig { delay_ms: 1, jitter_ms: 0, loss: 0.0, duplicate: 0.0, corrupt: 0.0, mtu: 1500 }
    }
}

/// What the wire did, for tests to check that impairments really happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WireStats {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub corrupted: u64,
    pub too_big: u64,
}

struct InFlight {
    deliver_at: u64,
    /// Tie-break so equal times deliver in send order (determinism).
    seq: u64,
    port: usize,
    frame: PacketBuf,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.deliver_at, self.seq) == (other.deliver_at, other.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deliver_at, self.seq).cmp(&(other.deliver_at, other.seq))
    }
}

struct Wire {
    cfg: LinkConfig,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    /// Frames on the wire, in delivery order (time, then send order). A frame due no
    /// earlier than the last one queued (always so without jitter) joins the FIFO in O(1);
    /// one that overtakes goes to the heap. Delivery takes the earlier of the two fronts,
    /// so the order is exactly that of one priority queue.
    in_order: VecDeque<InFlight>,
    overtaking: BinaryHeap<Reverse<InFlight>>,
    inboxes: Vec<VecDeque<PacketBuf>>,
    caps: Vec<DeviceCaps>,
    stats: WireStats,
    /// Every frame put on the wire, with the sending port (when capturing).
    capture: Option<Vec<(usize, Vec<u8>)>>,
    /// Buffers the stacks were done with (`Device::recycle`), lent again for transmit
    /// (`Device::tx_buffers`), most recently recycled first: what a driver's buffer pool
    /// does. Every stack on the hub gets the same.
    pool: Vec<PacketBuf>,
}

/// Buffers the hub's pool keeps at most.
const POOL_MAX: usize = 1024;

impl Wire {
    /// Takes a port's recycled buffers into the pool, dropping the oldest beyond `POOL_MAX`.
    fn take_recycled(&mut self, recycled: &mut Vec<PacketBuf>) {
        self.pool.append(recycled);
        if self.pool.len() > POOL_MAX {
            let excess = self.pool.len() - POOL_MAX;
            self.pool.drain(..excess);
        }
    }
}

impl Wire {
    /// A draw with probability `p`; no randomness is used up when `p` is 0, so a clean
    /// link costs nothing per frame.
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.gen_bool(p)
    }

    fn send(&mut self, from: usize, frame: PacketBuf) {
        self.stats.sent += 1;
        if let Some(cap) = &mut self.capture {
            cap.push((from, frame.data().to_vec()));
        }
        if frame.len() > self.cfg.mtu + EthernetRepr::LEN {
            self.stats.too_big += 1;
            return;
        }
        if self.inboxes.len() == 2 && from < 2 && self.cfg.loss == 0.0 && self.cfg.duplicate == 0.0 {
            // Two ports, nothing lost or duplicated: what the loop below does, directly.
            return self.put_in_flight(1 - from, frame);
        }
        // Every delivered copy but the last is a clone; on a two-port link nothing is copied.
        let last_port = (0..self.inboxes.len()).rev().find(|&p| p != from);
        let mut original = Some(frame);
        for port in (0..self.inboxes.len()).filter(|&p| p != from) {
            if self.chance(self.cfg.loss) {
                self.stats.lost += 1;
                continue;
            }
            let copy = if Some(port) == last_port { original.take() } else { original.clone() };
            let Some(copy) = copy else { continue };
            if self.chance(self.cfg.duplicate) {
                self.stats.duplicated += 1;
                self.put_in_flight(port, copy.clone());
            }
            self.put_in_flight(port, copy);
        }
    }

    /// Schedules one copy for `port`, maybe corrupted, after the delay and some jitter.
    fn put_in_flight(&mut self, port: usize, mut frame: PacketBuf) {
        if frame.len() > EthernetRepr::LEN && self.chance(self.cfg.corrupt) {
            let at = self.rng.gen_range(EthernetRepr::LEN..frame.len());
            frame.data_mut()[at] ^= 1 << self.rng.gen_range(0..8);
            self.stats.corrupted += 1;
        }
        let jitter = if self.cfg.jitter_ms > 0 { self.rng.gen_range(0..=self.cfg.jitter_ms) } else { 0 };
        self.seq += 1;
        let deliver_at = self.now + self.cfg.delay_ms + jitter;
        let f = InFlight { deliver_at, seq: self.seq, port, frame };
        if self.in_order.back().is_none_or(|last| last.deliver_at <= deliver_at) {
            self.in_order.push_back(f);
        } else {
            self.overtaking.push(Reverse(f));
        }
    }

    fn advance_to(&mut self, now: u64) {
        self.now = self.now.max(now);
        while let Some(f) = self.pop_due() {
            self.stats.delivered += 1;
            self.inboxes[f.port].push_back(f.frame);
        }
    }

    /// The next frame in delivery order if it is due by `now`.
    fn pop_due(&mut self) -> Option<InFlight> {
        let fifo_first = match (self.in_order.front(), self.overtaking.peek()) {
            (Some(a), Some(Reverse(b))) => a < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if fifo_first {
            self.in_order.pop_front_if(|f| f.deliver_at <= self.now)
        } else {
            let due = self.overtaking.peek().is_some_and(|f| f.0.deliver_at <= self.now);
            due.then(|| self.overtaking.pop().expect("peeked").0)
        }
    }

    fn next_delivery(&self) -> Option<u64> {
        let fifo = self.in_order.front().map(|f| f.deliver_at);
        let heap = self.overtaking.peek().map(|f| f.0.deliver_at);
        fifo.into_iter().chain(heap).min()
    }
}

/// The shared hub. Cloning gives another handle to the same network.
#[derive(Clone)]
pub struct Network {
    wire: Arc<Mutex<Wire>>,
}

impl Network {
    pub fn new(seed: u64, cfg: LinkConfig) -> Self {
        let wire = Wire {
            cfg,
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            seq: 0,
            in_order: VecDeque::new(),
            overtaking: BinaryHeap::new(),
            inboxes: Vec::new(),
            caps: Vec::new(),
            stats: WireStats::default(),
            capture: None,
            pool: Vec::new(),
        };
        Network { wire: Arc::new(Mutex::new(wire)) }
    }

    fn lock(&self) -> MutexGuard<'_, Wire> {
        self.wire.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Plugs in a new port. Its MTU is the link's; `rx_l3_sum` turns on the checksum assist.
    pub fn add_port(&self, rx_l3_sum: bool) -> Port {
        let mut wire = self.lock();
        let caps = DeviceCaps { mtu: wire.cfg.mtu, rx_l3_sum, pools_tx_buffers: true };
        wire.inboxes.push(VecDeque::new());
        wire.caps.push(caps);
        let frame_len = wire.cfg.mtu + EthernetRepr::LEN;
        Port {
            wire: self.wire.clone(),
            index: wire.inboxes.len() - 1,
            frame_len,
            recycled: Vec::new(),
            recycled_total: 0,
        }
    }

    pub fn now(&self) -> u64 {
        self.lock().now
    }

    /// Moves the clock forward and delivers every frame due by then.
    pub fn advance_to(&self, now: u64) {
        self.lock().advance_to(now)
    }

    pub fn next_delivery(&self) -> Option<u64> {
        self.lock().next_delivery()
    }

    pub fn set_config(&self, cfg: LinkConfig) {
        self.lock().cfg = cfg;
    }

    pub fn stats(&self) -> WireStats {
        self.lock().stats.clone()
    }

    /// Puts `frame` on the wire as if port `from` had sent it (impairments apply).
    pub fn inject(&self, from: usize, frame: Vec<u8>) {
        self.lock().send(from, PacketBuf::from_frame(frame))
    }

    /// Starts recording every frame sent (for tests that look at bytes on the wire).
    pub fn start_capture(&self) {
        self.lock().capture = Some(Vec::new());
    }

    pub fn take_capture(&self) -> Vec<(usize, Vec<u8>)> {
        self.lock().capture.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// One port of the hub: the `Device` a stack under test uses.
pub struct Port {
    wire: Arc<Mutex<Wire>>,
    index: usize,
    /// A whole frame at the link's MTU: recycled buffers that can hold one are pooled.
    frame_len: usize,
    /// Buffers given back since the last call that locked the hub.
    recycled: Vec<PacketBuf>,
    /// Buffers given back in all (kept for the pool or not).
    recycled_total: u64,
}

impl Port {
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many buffers the stack has given back to this port (`Device::recycle`).
    pub fn recycled(&self) -> u64 {
        self.recycled_total
    }
}

impl Device for Port {
    fn caps(&self) -> DeviceCaps {
        self.wire.lock().unwrap_or_else(|p| p.into_inner()).caps[self.index]
    }

    fn receive(&mut self, batch: &mut Vec<PacketBuf>, max: usize) -> usize {
        let mut wire = self.wire.lock().unwrap_or_else(|p| p.into_inner());
        wire.take_recycled(&mut self.recycled);
        let assist = wire.caps[self.index].rx_l3_sum;
        let inbox = &mut wire.inboxes[self.index];
        let n = inbox.len().min(max);
        for mut buf in inbox.drain(..n) {
            buf.set_meta(Default::default());
            if assist && buf.len() >= EthernetRepr::LEN {
                // What the card computes on the fly as the frame streams in.
                buf.set_meta(RxMeta { l3_sum: Some(checksum::sum(&buf.data()[EthernetRepr::LEN..])) });
            }
            batch.push(buf);
        }
        n
    }

    fn transmit(&mut self, batch: &mut Vec<PacketBuf>) {
        let mut wire = self.wire.lock().unwrap_or_else(|p| p.into_inner());
        wire.take_recycled(&mut self.recycled);
        for buf in batch.drain(..) {
            wire.send(self.index, buf);
        }
    }

    /// Keeps buffers that can hold a whole frame for the pool (without locking the hub:
    /// they join it at the port's next `receive`, `transmit` or `tx_buffers`).
    fn recycle(&mut self, buf: PacketBuf) {
        self.recycled_total += 1;
        if buf.capacity() >= self.frame_len && self.recycled.len() < POOL_MAX {
            self.recycled.push(buf);
        }
    }

    fn tx_buffers(&mut self, pool: &mut Vec<PacketBuf>, max: usize) -> usize {
        let mut wire = self.wire.lock().unwrap_or_else(|p| p.into_inner());
        wire.take_recycled(&mut self.recycled);
        let n = max.min(wire.pool.len());
        let from = wire.pool.len() - n;
        // In pool order: the most recently recycled ends up last, where stacks pop first.
        pool.extend(wire.pool.drain(from..));
        n
    }
}

const MAX_ROUNDS_PER_INSTANT: u32 = 10_000;

/// Anything that can be driven on a port: an `Interface`, or a socket layer around one.
pub trait Pollable {
    fn poll(&mut self, now: u64, port: &mut Port) -> bool;
    fn poll_at(&self) -> Option<u64>;
}

impl Pollable for Interface {
    fn poll(&mut self, now: u64, port: &mut Port) -> bool {
        Interface::poll(self, now, port)
    }
    fn poll_at(&self) -> Option<u64> {
        Interface::poll_at(self)
    }
}

pub struct Host<S = Interface> {
    pub stack: S,
    pub port: Port,
}

impl Network {
    /// Runs the hosts on the virtual clock until `done` says so (true) or the clock passes
    /// `deadline` (false). Time jumps straight to the next frame delivery or timer.
    pub fn run<S: Pollable>(
        &self,
        hosts: &mut [Host<S>],
        deadline: u64,
        mut done: impl FnMut(u64, &mut [Host<S>]) -> bool,
    ) -> bool {
        // Rounds spent at one instant: zero-delay traffic that never settles must not
        // stop the clock for good.
        let mut rounds_now = 0;
        loop {
            let now = self.now();
            let mut activity = false;
            for h in hosts.iter_mut() {
                activity |= h.stack.poll(now, &mut h.port);
            }
            if done(now, hosts) {
                return true;
            }
            // A frame sent with zero delay is deliverable now: stay at `now` while
            // anything moved, otherwise step at least one millisecond.
            self.advance_to(now);
            let pending_now = self.lock().inboxes.iter().any(|i| !i.is_empty());
            if activity && pending_now && rounds_now < MAX_ROUNDS_PER_INSTANT {
                rounds_now += 1;
                continue;
            }
            rounds_now = 0;
            let next = hosts
                .iter()
                .filter_map(|h| h.stack.poll_at())
                .chain(self.next_delivery())
                .min()
                .map_or(now + 1, |t| t.max(now + 1));
            if next > deadline {
                return false;
            }
            self.advance_to(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_frames_are_lent_for_transmit_on_any_port_newest_first() {
        let net = Network::new(1, LinkConfig::default());
        let (mut a, mut b) = (net.add_port(false), net.add_port(false));
        let frame = |fill: u8, len: usize| PacketBuf::from_frame(vec![fill; len]);
        a.recycle(frame(1, 1514));
        a.recycle(frame(2, 1600));
        a.recycle(frame(3, 100)); // cannot hold a whole frame: not kept
        a.transmit(&mut Vec::new()); // the port's next call hands them to the hub
        let mut lent = Vec::new();
        assert_eq!(b.tx_buffers(&mut lent, 8), 2, "recycled on one port, lent on another");
        let fills: Vec<u8> = lent.iter().map(|buf| buf.data()[0]).collect();
        assert_eq!(fills, [1, 2], "the most recently recycled is last, where it is taken first");
        assert_eq!(b.tx_buffers(&mut lent, 8), 0, "each buffer is lent once");
    }

    #[test]
    fn the_pool_keeps_the_newest_buffers_up_to_its_bound() {
        let net = Network::new(1, LinkConfig::default());
        let mut a = net.add_port(false);
        for round in 0..3u8 {
            for _ in 0..POOL_MAX / 2 + 1 {
                a.recycle(PacketBuf::from_frame(vec![round; 1514]));
            }
            a.transmit(&mut Vec::new()); // hands the recycled buffers to the hub
        }
        let mut lent = Vec::new();
        assert_eq!(a.tx_buffers(&mut lent, usize::MAX), POOL_MAX);
        assert_eq!(lent.last().map(|buf| buf.data()[0]), Some(2));
        assert!(lent.iter().all(|buf| buf.data()[0] >= 1), "the oldest went first");
    }
}
