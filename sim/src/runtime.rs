//! The simulated runtime: host software on the cards' clock, one thread at a time.
//!
//! The driver, the stack and the applications are the code that runs on a board; what they
//! are given differs. On a board they get the OS runtime. On simulated cards they get this
//! one ([`SimRuntime`], a `nic_stack::runtime::Scheduler`):
//!
//! * **One clock.** Host time is the cards' simulated time: a 200 ms RTO is 25 million core
//!   clocks at 125 MHz, whatever the engine's speed. Nothing reads the OS clock.
//! * **One thread at a time, in a fixed order.** Host threads are real OS threads, but only
//!   the one holding the baton runs. A thread that waits (an [`Event`], a timeout, a join)
//!   hands the baton to the first thread in the run queue; threads enter the queue in the
//!   order they are woken (notified events wake their waiters in thread order; due timers
//!   wake theirs in thread order).
//! * **The cards advance only while every host thread waits**, up to the next thing that
//!   wakes one: an MSI or a timer. Host code takes no simulated time (an infinitely fast
//!   host); a register read does: the reading thread steps the cards until the card's
//!   register slave answers, as a CPU stalls on an MMIO read.
//!
//! So a run depends only on its inputs and seed: the same packets, the same waveform, the
//! same counters, on either engine.
//!
//! Once the cards are [powered off](SimRuntime::power_off) (their report taken), time moves
//! by jumps to the next timer, so host threads wind down at once.
//!
//! The rule for code on this runtime (as in `nic_stack::runtime`): block only through the
//! runtime. A `std::thread::sleep`, a `Condvar` or a `Mutex` held across a wait would stop
//! the whole simulation; a thread not started by the runtime must not touch it.
use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use nic_driver::interrupts::{IrqWait, Waker};
use nic_stack::runtime::{EventCore, Runtime, Scheduler};

use crate::model::axil::RegOp;
use crate::model::world::{Cards, WorldReport};

/// A handle to the simulated runtime. Cheap to clone.
#[derive(Clone)]
pub struct SimRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells runtimes apart in the thread-local [`ME`].
    id: usize,
    state: Mutex<State>,
}

thread_local! {
    /// (runtime id, slot) of the calling thread, when a runtime started it.
    static ME: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// When every host thread waits with no deadline, only an MSI can wake one: after this much
/// simulated time without one, the run is stuck and stops with the threads' names.
const NO_DEADLINE_LIMIT_FS: u64 = 1_000_000_000_000_000;

/// A register read the card never answers is given up after this many clock edges.
const READ_LIMIT_EDGES: u64 = 1 << 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Running,
    Runnable,
    Waiting { event: Option<(usize, u64)>, deadline_fs: Option<u64> },
    Exited,
}

struct Slot {
    name: String,
    state: SlotState,
    turn: Arc<Condvar>,
}

struct State {
    /// The cards; `None` once powered off.
    cards: Option<Cards>,
    now_fs: u64,
    slots: Vec<Slot>,
    running: Option<usize>,
    runnable: VecDeque<usize>,
    /// Generation of each event.
    events: Vec<u64>,
    /// Per card: MSI vectors fired and not yet taken (bit v), and the event they notify.
    irq_pending: Vec<u8>,
    irq_event: Vec<usize>,
    stats: SimStats,
}

/// What the runtime did, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Times the baton passed from one host thread to another.
    pub switches: u64,
    /// Clock edges stepped (all clocks of all cards).
    pub edges: u64,
    /// Host threads started.
    pub threads: u64,
}

impl SimRuntime {
    /// A runtime that steps `cards`. Its clock starts at the cards' time.
    pub fn new(cards: Cards) -> SimRuntime {
        Self::with(Some(cards))
    }

    /// A runtime without cards: time jumps from deadline to deadline. For host code alone.
    pub fn cardless() -> SimRuntime {
        Self::with(None)
    }

    fn with(cards: Option<Cards>) -> SimRuntime {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        let n = cards.as_ref().map_or(0, |c| c.cards.len());
        let mut state = State {
            now_fs: cards.as_ref().map_or(0, Cards::now_fs),
            cards,
            slots: Vec::new(),
            running: None,
            runnable: VecDeque::new(),
            events: Vec::new(),
            irq_pending: vec![0; n],
            irq_event: Vec::new(),
            stats: SimStats::default(),
        };
        state.irq_event = (0..n).map(|_| state.new_event()).collect();
        SimRuntime { inner: Arc::new(Inner { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), state: Mutex::new(state) }) }
    }

    /// This runtime as the host software's `Runtime`.
    pub fn runtime(&self) -> Runtime {
        Runtime::new(Arc::new(self.clone()))
    }

    /// Makes the calling thread the runtime's first host thread (it holds the baton until it
    /// waits). Call once, before any other thread is started; [`SimRuntime::leave`] at the end.
    pub fn enter(&self, name: &str) {
        let mut st = self.inner.lock();
        assert!(st.running.is_none(), "SimRuntime::enter: a host thread is already running");
        let me = st.add_slot(name, SlotState::Running);
        st.running = Some(me);
        ME.set(Some((self.inner.id, me)));
    }

    /// The calling thread (from [`SimRuntime::enter`]) is done. Threads still waiting stay
    /// parked: join them first.
    pub fn leave(&self) {
        let me = self.inner.me();
        let mut st = self.inner.lock();
        st.slots[me].state = SlotState::Exited;
        st.running = None;
        ME.set(None);
    }

    /// Simulated time, ns.
    pub fn now_ns(&self) -> u64 {
        self.inner.lock().now_fs / 1_000_000
    }

    pub fn stats(&self) -> SimStats {
        self.inner.lock().stats
    }

    /// Reads a register of `card`: steps the cards until its register slave answers. All
    /// ones once the cards are off.
    pub fn read32(&self, card: usize, offset: u32) -> u32 {
        let mut st = self.inner.lock();
        let Some(cards) = st.cards.as_mut() else { return u32::MAX };
        cards.nic(card).submit(RegOp::Read { offset });
        for _ in 0..READ_LIMIT_EDGES {
            if let Some(done) = st.cards.as_mut().and_then(|c| c.nic(card).take_done()) {
                return done.value;
            }
            st.step_cards();
        }
        tracing::error!(card, offset, "register read not answered in {READ_LIMIT_EDGES} clock edges");
        u32::MAX
    }

    /// Queues a register write (posted: it reaches the card as the cards advance).
    pub fn write32(&self, card: usize, offset: u32, value: u32) {
        if let Some(cards) = self.inner.lock().cards.as_mut() {
            cards.nic(card).submit(RegOp::Write { offset, value });
        }
    }

    /// Powers the cards off and reports on them. From now on register reads return all
    /// ones, writes are dropped, and time jumps to the next timer whenever every host
    /// thread waits.
    pub fn power_off(&self) -> WorldReport {
        let cards = self.inner.lock().cards.take();
        cards.map(Cards::finish).unwrap_or_default()
    }

    /// An interrupt waiter for `card`'s `vectors`, woken by the card's MSIs on this runtime.
    pub fn irq_waiter(&self, card: usize, vectors: &[usize]) -> Box<dyn IrqWait> {
        let mask = vectors.iter().fold(0u8, |m, &v| m | 1 << v);
        Box::new(SimIrqWait { rt: self.clone(), card, mask })
    }

    /// Waits until one of `mask`'s vectors of `card` fires or `timeout` passes; takes and
    /// returns the vectors that fired.
    fn wait_irq(&self, card: usize, mask: u8, timeout: Duration) -> u8 {
        let deadline = self.inner.lock().now_fs.saturating_add(fs(timeout));
        loop {
            let (event, seen) = {
                let mut st = self.inner.lock();
                let got = st.irq_pending[card] & mask;
                if got != 0 {
                    st.irq_pending[card] &= !got;
                    return got;
                }
                if st.now_fs >= deadline {
                    return 0;
                }
                let e = st.irq_event[card];
                (e, st.events[e])
            };
            self.inner.wait(Some((event, seen)), Some(deadline));
        }
    }
}

fn fs(d: Duration) -> u64 {
    d.as_nanos().saturating_mul(1_000_000).min(u64::MAX as u128) as u64
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The calling thread's slot.
    fn me(&self) -> usize {
        match ME.get() {
            Some((id, slot)) if id == self.id => slot,
            _ => panic!(
                "a thread the simulated runtime did not start used it: start host threads with \
                 Runtime::spawn, or call SimRuntime::enter on the main thread"
            ),
        }
    }

    /// The calling thread waits until `event` (id, generation seen) moves on or
    /// `deadline_fs` comes; other threads run, and the cards advance, meanwhile.
    fn wait(&self, event: Option<(usize, u64)>, deadline_fs: Option<u64>) {
        let me = self.me();
        let mut st = self.lock();
        if event.is_some_and(|(e, seen)| st.events[e] != seen) || deadline_fs.is_some_and(|d| st.now_fs >= d) {
            return;
        }
        st.slots[me].state = SlotState::Waiting { event, deadline_fs };
        st.hand_on(me);
        let turn = st.slots[me].turn.clone();
        while st.running != Some(me) {
            st = turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl State {
    fn new_event(&mut self) -> usize {
        self.events.push(0);
        self.events.len() - 1
    }

    fn add_slot(&mut self, name: &str, state: SlotState) -> usize {
        self.slots.push(Slot { name: name.to_string(), state, turn: Arc::new(Condvar::new()) });
        self.stats.threads += 1;
        self.slots.len() - 1
    }

    fn make_runnable(&mut self, slot: usize) {
        self.slots[slot].state = SlotState::Runnable;
        self.runnable.push_back(slot);
    }

    fn notify(&mut self, e: usize) {
        self.events[e] += 1;
        for i in 0..self.slots.len() {
            if let SlotState::Waiting { event: Some((w, _)), .. } = self.slots[i].state {
                if w == e {
                    self.make_runnable(i);
                }
            }
        }
    }

    /// Wakes the threads whose deadline has come, in slot order; whether any woke.
    fn wake_due(&mut self) -> bool {
        let mut any = false;
        for i in 0..self.slots.len() {
            if let SlotState::Waiting { deadline_fs: Some(d), .. } = self.slots[i].state {
                if d <= self.now_fs {
                    self.make_runnable(i);
                    any = true;
                }
            }
        }
        any
    }

    /// One clock edge of the cards; MSIs wake their waiters.
    fn step_cards(&mut self) {
        let Some(cards) = self.cards.as_mut() else { return };
        cards.step();
        self.now_fs = cards.now_fs();
        self.stats.edges += 1;
        let fired: Vec<(usize, u8)> = cards.take_msis().collect();
        for (card, vectors) in fired {
            self.irq_pending[card] |= vectors;
            let e = self.irq_event[card];
            self.notify(e);
        }
    }

    fn waiting_names(&self) -> Vec<&str> {
        self.slots.iter().filter(|s| s.state != SlotState::Exited).map(|s| s.name.as_str()).collect()
    }

    /// The baton leaves `me` (waiting or exited): to the first runnable thread, after
    /// advancing the cards (or, with the cards off, time) until one is.
    fn hand_on(&mut self, me: usize) {
        loop {
            if let Some(next) = self.runnable.pop_front() {
                self.slots[next].state = SlotState::Running;
                self.running = Some(next);
                if next != me {
                    self.stats.switches += 1;
                    self.slots[next].turn.notify_one();
                }
                return;
            }
            let deadline = self
                .slots
                .iter()
                .filter_map(|s| match s.state {
                    SlotState::Waiting { deadline_fs, .. } => deadline_fs,
                    _ => None,
                })
                .min();
            let waiting = self.slots.iter().any(|s| matches!(s.state, SlotState::Waiting { .. }));
            if !waiting {
                self.running = None; // every thread has exited
                return;
            }
            match (&self.cards, deadline) {
                (Some(_), _) => {
                    // Step until an MSI wakes someone or the next deadline comes.
                    let give_up = self.now_fs.saturating_add(NO_DEADLINE_LIMIT_FS);
                    while self.runnable.is_empty() {
                        let next_edge = self.cards.as_ref().map_or(u64::MAX, Cards::next_edge_fs);
                        if deadline.is_some_and(|d| next_edge > d) {
                            self.now_fs = self.now_fs.max(deadline.unwrap_or(0));
                            self.wake_due();
                            break;
                        }
                        if deadline.is_none() && self.now_fs > give_up {
                            panic!(
                                "simulated runtime: every host thread waits with no deadline and no interrupt \
                                 came in 1 s of simulated time: {:?}",
                                self.waiting_names()
                            );
                        }
                        self.step_cards();
                    }
                }
                (None, Some(d)) => {
                    self.now_fs = self.now_fs.max(d);
                    self.wake_due();
                }
                (None, None) => {
                    panic!(
                        "simulated runtime: every host thread waits with no deadline and the cards are off: {:?}",
                        self.waiting_names()
                    );
                }
            }
        }
    }
}

impl Scheduler for SimRuntime {
    fn now_ns(&self) -> u64 {
        SimRuntime::now_ns(self)
    }

    fn new_event(&self) -> Arc<dyn EventCore> {
        let id = self.inner.lock().new_event();
        Arc::new(SimEvent { inner: self.inner.clone(), id })
    }

    fn spawn(&self, name: String, body: Box<dyn FnOnce() + Send>) -> io::Result<std::thread::JoinHandle<()>> {
        let slot = {
            let mut st = self.inner.lock();
            let slot = st.add_slot(&name, SlotState::Runnable);
            st.runnable.push_back(slot);
            slot
        };
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            ME.set(Some((inner.id, slot)));
            {
                let mut st = inner.lock();
                let turn = st.slots[slot].turn.clone();
                while st.running != Some(slot) {
                    st = turn.wait(st).unwrap_or_else(|p| p.into_inner());
                }
            }
            body();
            let mut st = inner.lock();
            st.slots[slot].state = SlotState::Exited;
            st.hand_on(slot);
        });
        if spawned.is_err() {
            let mut st = self.inner.lock();
            st.slots[slot].state = SlotState::Exited;
            st.runnable.retain(|&s| s != slot);
        }
        spawned
    }

    fn kind(&self) -> &'static str {
        "simulated"
    }
}

struct SimEvent {
    inner: Arc<Inner>,
    id: usize,
}

impl EventCore for SimEvent {
    fn generation(&self) -> u64 {
        self.inner.lock().events[self.id]
    }

    fn notify(&self) {
        self.inner.lock().notify(self.id)
    }

    fn wait(&self, seen: u64, deadline_ns: Option<u64>) {
        self.inner.wait(Some((self.id, seen)), deadline_ns.map(|d| d.saturating_mul(1_000_000)))
    }
}

struct SimIrqWait {
    rt: SimRuntime,
    card: usize,
    mask: u8,
}

impl IrqWait for SimIrqWait {
    fn wait(&mut self, timeout: Duration) -> Result<u32, nic_driver::Error> {
        Ok(self.rt.wait_irq(self.card, self.mask, timeout) as u32)
    }

    /// As if the lowest of the waited vectors fired.
    fn waker(&self) -> Result<Waker, nic_driver::Error> {
        let (rt, card, lowest) = (self.rt.clone(), self.card, self.mask & self.mask.wrapping_neg());
        Ok(Box::new(move || {
            let mut st = rt.inner.lock();
            st.irq_pending[card] |= lowest;
            let e = st.irq_event[card];
            st.notify(e);
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Three threads sleeping different times, logging (name, time): the log is fixed.
    fn sleepers() -> Vec<(String, u64)> {
        let sim = SimRuntime::cardless();
        sim.enter("main");
        let rt = sim.runtime();
        let log = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = [("a", 3u64), ("b", 2), ("c", 5)]
            .into_iter()
            .map(|(name, ms)| {
                let (rt2, log) = (rt.clone(), log.clone());
                rt.spawn(name, move || {
                    for _ in 0..3 {
                        log.lock().unwrap().push((name.to_string(), rt2.now_ns()));
                        rt2.sleep(Duration::from_millis(ms));
                    }
                })
                .unwrap()
            })
            .collect();
        for t in tasks {
            t.join().unwrap();
        }
        assert_eq!(rt.now_ns(), 15_000_000, "the last sleeper ends at 3 x 5 ms");
        sim.leave();
        Arc::try_unwrap(log).unwrap().into_inner().unwrap()
    }

    #[test]
    fn threads_run_one_at_a_time_in_a_fixed_order_on_simulated_time() {
        let log = sleepers();
        let at = |name: &str| log.iter().filter(|(n, _)| n == name).map(|(_, t)| t / 1_000_000).collect::<Vec<_>>();
        assert_eq!(at("a"), [0, 3, 6]);
        assert_eq!(at("b"), [0, 2, 4]);
        assert_eq!(at("c"), [0, 5, 10]);
        // The same interleaving every time, not just the same times.
        assert_eq!(log, sleepers());
        let order: Vec<&str> = log.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(order, ["a", "b", "c", "b", "a", "b", "c", "a", "c"]);
    }

    #[test]
    fn a_notify_wakes_a_waiter_before_its_deadline_and_time_does_not_move() {
        let sim = SimRuntime::cardless();
        sim.enter("main");
        let rt = sim.runtime();
        let e = rt.event();
        let e2 = e.clone();
        let rt2 = rt.clone();
        let waiter = rt
            .spawn("waiter", move || {
                let seen = e2.generation();
                e2.wait(seen, Some(rt2.deadline(Duration::from_secs(10))));
                rt2.now_ns()
            })
            .unwrap();
        rt.sleep(Duration::from_millis(1)); // the waiter runs and waits
        e.notify();
        assert_eq!(waiter.join().unwrap(), 1_000_000, "woken by the notify at 1 ms, not at its 10 s deadline");
        sim.leave();
    }

    #[test]
    #[should_panic(expected = "every host thread waits with no deadline")]
    fn a_run_where_nothing_can_wake_stops_with_a_message() {
        let sim = SimRuntime::cardless();
        sim.enter("main");
        let e = sim.runtime().event();
        e.wait(e.generation(), None);
    }
}
