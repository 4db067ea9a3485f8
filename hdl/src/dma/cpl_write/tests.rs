//! `CplWrite` against the completion rule in plain Rust (`nic_regs::ring::Completion`), on
//! random rings, pushes, consumers, engine delays and answers; the exported Verilog replayed
//! in Icarus on the same steps.
use super::*;
use crate::sim::{cycle_traced, settle};
use crate::verilog::export::{export, VerilogModule};
use crate::verilog::tools::tool_for_test;
use crate::verilog::vectors::{Qualified, VectorRecorder};
use crate::verilog::{assert_lints_and_checks, assert_replays};
use nic_regs::ring::{phase_for_index, slot, Completion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// What the engine pushed for a completion.
#[derive(Clone, Copy, Debug)]
struct Pushed {
    len: u16,
    csum: u16,
    verdict: u8,
    status: u8,
}

struct Bench {
    uut: CplWrite,
    rec: VectorRecorder,
    rng: ChaCha8Rng,
    log2: u32,
    base: u64,
    consumer: u16,
    /// Pushed and not yet taken, in order; the index of the next take.
    queue: VecDeque<Pushed>,
    taken: u16,
    /// Takes whose answer is still due: clocks left.
    answers: VecDeque<u32>,
    dones: u16,
    events: u16,
    /// `done` was high last clock (an event is due now).
    event_due: bool,
    /// Clocks the head has been in the queue (since a clock before), with room and allowed,
    /// and not ready.
    waiting: u32,
    most_waiting: u32,
}

impl Bench {
    fn new(seed: u64, module: &VerilogModule) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let log2 = rng.gen_range(1..=9u32);
        let base = rng.gen::<u64>() & !0xF | if seed % 2 == 1 { 0x9 } else { 0 };
        let mut uut = CplWrite::default();
        uut.connect_all();
        Bench {
            uut,
            rec: VectorRecorder::new(module),
            rng,
            log2,
            base,
            consumer: 0,
            queue: VecDeque::new(),
            taken: 0,
            answers: VecDeque::new(),
            dones: 0,
            events: 0,
            event_due: false,
            waiting: 0,
            most_waiting: 0,
        }
    }

    /// One clock: the engine may push, allow and take the head; the host may consume; an
    /// answer may come back. Every head taken is checked against the rule.
    fn step(&mut self, reset: bool, push: bool, allow: bool, take: bool, consume: bool) {
        let u = &mut self.uut;
        u.reset.next = reset;
        u.base.next = self.base.to_bits();
        u.log2_size.next = u64::from(self.log2).to_bits();
        u.discard.next = false;
        u.allow.next = allow;
        u.push.next = false;
        u.take.next = false;
        u.done.next = false;
        u.push_len.next = 0u64.to_bits();
        u.push_csum.next = 0u64.to_bits();
        u.push_verdict.next = 0u64.to_bits();
        u.push_status.next = 0u64.to_bits();
        // The host consumes only what the producer published.
        let published = u.producer.val().to_u64() as u16;
        if consume && self.consumer != published {
            self.consumer = self.consumer.wrapping_add(1);
        }
        u.consumer.next = u64::from(self.consumer).to_bits();
        settle(u);
        assert_eq!(u.answered.val(), self.event_due && !reset, "`answered` the clock after each done");
        if self.event_due && !reset {
            self.events += 1;
        }
        assert_eq!(u.full.val(), self.queue.len() == CPL_QUEUE_ENTRIES);
        assert_eq!(u.empty.val(), self.queue.is_empty());
        if !reset {
            assert_eq!(u.size.val().to_u64(), 1 << self.log2);
        }
        let queued_before = !self.queue.is_empty();
        if push && !u.full.val() && !reset {
            let p = Pushed {
                len: self.rng.gen(),
                csum: self.rng.gen(),
                verdict: self.rng.gen_range(0..4),
                status: self.rng.gen(),
            };
            u.push.next = true;
            u.push_len.next = u64::from(p.len).to_bits();
            u.push_csum.next = u64::from(p.csum).to_bits();
            u.push_verdict.next = u64::from(p.verdict).to_bits();
            u.push_status.next = u64::from(p.status).to_bits();
            self.queue.push_back(p);
        }
        let room = self.taken.wrapping_sub(self.consumer) < (1 << self.log2);
        if u.ready.val() && !reset {
            let p = *self.queue.front().expect("ready with nothing queued");
            assert!(room, "ready for completion {} with the ring full (consumer {})", self.taken, self.consumer);
            let want = Completion {
                len: p.len,
                csum: p.csum,
                desc_index: self.taken,
                verdict: p.verdict,
                status: p.status,
                phase: phase_for_index(self.taken, self.log2),
            }
            .to_u128()
            .unwrap();
            let addr = (self.base & !15) + 16 * slot(self.taken, self.log2) as u64;
            assert_eq!(u.addr.val().to_u64(), addr, "completion {} address", self.taken);
            assert_eq!(u.beat0.val().to_u64(), want as u64, "completion {} beat 0", self.taken);
            assert_eq!(u.beat1.val().to_u64(), (want >> 64) as u64, "completion {} beat 1", self.taken);
            assert_eq!(u.issued.val().to_u64() as u16, self.taken);
            if take {
                u.take.next = true;
                self.queue.pop_front();
                self.taken = self.taken.wrapping_add(1);
                self.answers.push_back(self.rng.gen_range(1..40));
            }
            self.waiting = 0;
        } else if queued_before && room && allow {
            self.waiting += 1;
            self.most_waiting = self.most_waiting.max(self.waiting);
        } else {
            self.waiting = 0;
        }
        // Answers come back in order.
        for a in self.answers.iter_mut() {
            *a = a.saturating_sub(1);
        }
        self.event_due = false;
        if self.answers.front() == Some(&0) {
            self.answers.pop_front();
            u.done.next = true;
            self.dones = self.dones.wrapping_add(1);
            self.event_due = true;
        }
        cycle_traced(u, |u| &mut u.clock, Some(&mut self.rec));
        if reset {
            self.queue.clear();
            self.answers.clear();
            self.taken = 0;
            self.dones = 0;
            self.consumer = 0;
            self.event_due = false;
        }
        assert_eq!(self.uut.producer.val().to_u64() as u16, self.dones, "producer counts the answers");
    }
}

/// Random rings, pushes in bursts (the queue filling up), a host slow and fast, an engine
/// that holds `allow` low and takes late: every completion is the rule's, in order, at its
/// slot, only with room; a head with room and leave is ready within two clocks; the
/// producer and events follow the answers; Icarus agrees.
#[test]
fn writes_by_the_rule_in_rust_hdl_and_verilog() {
    let module = export("nic_cpl_write", &mut CplWrite::default());
    let mut total = 0;
    for seed in 0..6u64 {
        let mut b = Bench::new(seed, &module);
        b.step(true, false, false, false, false);
        b.step(true, false, false, false, false);
        for k in 0..2000 {
            let busy = (k / 250) % 2 == 1;
            let push = b.rng.gen_bool(if busy { 0.6 } else { 0.1 });
            let allow = b.rng.gen_bool(0.8);
            let take = b.rng.gen_bool(0.7);
            let consume = b.rng.gen_bool(if k % 500 < 100 { 0.0 } else { 0.5 });
            b.step(false, push, allow, take, consume);
        }
        for _ in 0..300 {
            b.step(false, false, true, true, true);
        }
        assert!(b.queue.is_empty() && b.answers.is_empty(), "seed {seed}: everything written");
        assert_eq!((b.dones, b.events), (b.taken, b.taken), "seed {seed}");
        assert!(b.most_waiting <= 2, "seed {seed}: a head waited {} clocks", b.most_waiting);
        total += b.taken as usize;
        if tool_for_test("iverilog") {
            // The queue's RAM output is compared only while it shows a queued entry.
            assert_replays(
                &module,
                &b.rec,
                &[
                    Qualified { output: "addr", when: "ready" },
                    Qualified { output: "beat0", when: "ready" },
                    Qualified { output: "beat1", when: "ready" },
                ],
            );
        }
    }
    assert!(total > 1500, "{total} completions");
}

/// A full ring holds the head back until the host consumes; `discard` empties the queue and
/// leaves `issued` where it was.
#[test]
fn waits_for_room_and_discards() {
    let module = export("nic_cpl_write", &mut CplWrite::default());
    let mut b = Bench::new(7, &module);
    b.log2 = 2;
    b.step(true, false, false, false, false);
    for _ in 0..6 {
        b.step(false, true, true, false, false);
    }
    // Four fit the ring; the fifth waits while the host consumes nothing.
    for _ in 0..60 {
        b.step(false, false, true, true, false);
    }
    assert_eq!((b.taken, b.queue.len()), (4, 2));
    assert!(!b.uut.ready.val());
    b.step(false, false, true, true, true);
    for _ in 0..10 {
        b.step(false, false, true, true, false);
    }
    assert_eq!(b.taken, 5, "one slot consumed, one more written");
    b.uut.discard.next = true;
    b.uut.take.next = false;
    cycle_traced(&mut b.uut, |u| &mut u.clock, None);
    b.uut.discard.next = false;
    settle(&mut b.uut);
    assert!(b.uut.empty.val() && !b.uut.ready.val());
    assert_eq!(b.uut.issued.val().to_u64(), 5);
}

#[test]
fn verilog_passes_yosys_and_verilator() {
    assert_lints_and_checks("nic_cpl_write", &mut CplWrite::default());
}
