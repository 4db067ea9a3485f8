//! `Stats` against plain-Rust counts: random events (up to two per counter per clock) and
//! random reads; every read lies between the count
//! [`LAG_CLOCKS`] clocks before it and the count now, and once events stop every read is
//! exact. The exported Verilog is linted, synthesized and replayed in Icarus on the same steps.
use super::*;
use crate::sim::cycle_traced;
use crate::verilog::export::{export, VerilogModule};
use crate::verilog::tools::tool_for_test;
use crate::verilog::vectors::VectorRecorder;
use crate::verilog::{assert_lints_and_checks, assert_replays};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Bench {
    uut: Stats,
    rec: VectorRecorder,
    clock: u64,
    /// `history[t][i]`: counter `i`'s true count after clock `t`'s events.
    history: Vec<[u64; ENTRIES]>,
    counts: [u64; ENTRIES],
    reads: u64,
}

impl Bench {
    fn new(module: &VerilogModule) -> Self {
        let mut uut = Stats::default();
        uut.connect_all();
        let mut b = Bench {
            uut,
            rec: VectorRecorder::new(module),
            clock: 0,
            history: Vec::new(),
            counts: [0; ENTRIES],
            reads: 0,
        };
        b.uut.reset.next = true;
        b.step(0, 0, None);
        b.uut.reset.next = false;
        b.history.clear();
        b.clock = 0;
        b
    }

    /// One clock with these events and, if given, a read of that entry (checked).
    fn step(&mut self, events: u16, events2: u16, read: Option<usize>) {
        self.uut.events.next = (events as u64).to_bits();
        self.uut.events2.next = (events2 as u64).to_bits();
        self.uut.read_index.next = (read.unwrap_or(0) as u64).to_bits();
        cycle_traced(&mut self.uut, |u| &mut u.clock, Some(&mut self.rec));
        if let Some(i) = read {
            let got = self.uut.read_value.val().to_u64();
            let now = self.counts[i];
            let floor = if self.clock >= LAG_CLOCKS {
                self.history.get((self.clock - LAG_CLOCKS) as usize).map_or(0, |h| h[i])
            } else {
                0
            };
            assert!(
                (floor..=now).contains(&got),
                "clock {}: counter {i} read {got}, count {now}, {LAG_CLOCKS} clocks ago {floor}",
                self.clock
            );
            self.reads += 1;
        }
        for i in 0..ENTRIES {
            self.counts[i] += u64::from(events >> i & 1) + u64::from(events2 >> i & 1);
        }
        self.history.push(self.counts);
        self.clock += 1;
    }

    fn quiet_reads_are_exact(&mut self) {
        for _ in 0..LAG_CLOCKS {
            self.step(0, 0, None);
        }
        for i in 0..ENTRIES {
            // Quiet for LAG_CLOCKS: the bound the read is checked against is the count now.
            self.step(0, 0, Some(i));
            self.step(0, 0, None);
        }
    }

    /// Entry `i` as read on one clock (not recorded as a step).
    fn read(&mut self, i: usize) -> u64 {
        self.uut.read_index.next = (i as u64).to_bits();
        self.uut.events.next = 0u64.to_bits();
        self.uut.events2.next = 0u64.to_bits();
        crate::sim::cycle(&mut self.uut, |u| &mut u.clock);
        self.uut.read_value.val().to_u64()
    }
}

fn module() -> VerilogModule {
    export("nic_stats", &mut Stats::default())
}

/// Random events at every density (one counter busy every clock, bursts on all of them,
/// both inputs at once) and reads on most clocks: no event lost, none counted twice.
#[test]
fn counts_every_event_within_the_lag() {
    let module = module();
    for seed in 0..6u64 {
        let mut b = Bench::new(&module);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let density = [0.02, 0.3, 0.9][seed as usize % 3];
        for _ in 0..3_000 {
            let mut events = 0u16;
            let mut events2 = 0u16;
            for i in 0..ENTRIES {
                events |= u16::from(rng.gen_bool(density)) << i;
                events2 |= u16::from(rng.gen_bool(density / 3.0)) << i;
            }
            let read = rng.gen_bool(0.7).then(|| rng.gen_range(0..ENTRIES));
            b.step(events, events2, read);
        }
        b.quiet_reads_are_exact();
        assert!(b.counts[0] > 1_000 || density < 0.1, "seed {seed}: the run counted");
        assert!(b.reads > 1_500, "seed {seed}: the run read");
    }
}

/// Reset zeroes every counter at once (the entries read 0 before the scan rewrites them),
/// and counting starts again from 0.
#[test]
fn reset_zeroes_every_counter() {
    let mut b = Bench::new(&module());
    for _ in 0..100 {
        b.step(0xFFFF, 0x0F0F, None);
    }
    b.quiet_reads_are_exact();
    assert_eq!(b.read(3), 100 * 2);
    b.uut.reset.next = true;
    b.step(0xFFFF, 0, None);
    b.uut.reset.next = false;
    for i in 0..ENTRIES {
        assert_eq!(b.read(i), 0, "counter {i} right after reset");
    }
    b.counts = [0; ENTRIES];
    b.history.clear();
    b.clock = 0;
    b.reads = 0;
    for _ in 0..7 {
        b.step(1 << 5, 0, None);
    }
    b.quiet_reads_are_exact();
    assert_eq!(b.read(5), 7);
}

/// Icarus replays a random run step for step, every output compared.
#[test]
fn verilog_lints_synthesizes_and_replays() {
    if assert_lints_and_checks("nic_stats", &mut Stats::default()).is_none() || !tool_for_test("iverilog") {
        return;
    }
    let module = module();
    let mut b = Bench::new(&module);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..600 {
        let events = rng.gen::<u16>() & rng.gen::<u16>();
        let read = rng.gen_bool(0.7).then(|| rng.gen_range(0..ENTRIES));
        b.step(events, rng.gen::<u16>() & rng.gen::<u16>() & rng.gen::<u16>(), read);
    }
    b.quiet_reads_are_exact();
    assert_replays(&module, &b.rec, &[]);
}
