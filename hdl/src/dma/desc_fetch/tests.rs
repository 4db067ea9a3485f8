//! `DescFetch` against the plain-Rust prefetch rule, on random rings, posting patterns, read
//! latencies and pops; the exported Verilog replayed in Icarus on the same steps.
use super::*;
use crate::sim::cycle_traced;
use crate::verilog::export::export;
use crate::verilog::tools::tool_for_test;
use crate::verilog::vectors::{Qualified, VectorRecorder};
use crate::verilog::{assert_lints_and_checks, assert_replays};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// The descriptor the host posts as index `i` (a different one on every lap of the ring).
fn descriptor(i: u64) -> (u64, u16) {
    let addr = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0123_4567;
    (addr, (i.wrapping_mul(2654435761) % 1600) as u16 + 1)
}

/// The rule for the next read from index `requested`: its address, its count (the least of
/// posted-not-requested, the batch, the room to the ring's end and to the page's end),
/// whether it is offered (something posted and room in the buffer for all of it), and the
/// most any read may fetch (the count, and never more than the buffer's room).
struct Rule {
    addr: u64,
    n: u16,
    offered: bool,
    most: u16,
}

fn rule(log2: u32, base: u64, requested: u16, producer: u16, used: u16) -> Rule {
    let size = 1u32 << log2;
    let avail = u32::from(producer.wrapping_sub(requested));
    let free = 16 - u32::from(requested.wrapping_sub(used));
    let want = avail.min(DESC_BATCH as u32);
    let slot = u32::from(requested) & (size - 1);
    let addr = (base & !15).wrapping_add(u64::from(slot) << 4);
    let room_page = (4096 - (addr & 0xFFF) as u32) >> 4;
    let n = want.min(size - slot).min(room_page) as u16;
    Rule { addr, n, offered: avail > 0 && free >= want, most: n.min(free as u16) }
}

struct Bench {
    uut: DescFetch,
    rec: VectorRecorder,
    rng: ChaCha8Rng,
    log2: u32,
    base: u64,
    producer: u16,
    /// Reads taken and not yet answered: (first index, beats left).
    reads: VecDeque<(u16, u16)>,
    /// Beats to send, in order, each with the index of its descriptor.
    next_beat: u32,
    popped: u16,
    reads_taken: usize,
    /// Clocks since `producer` or `used` last changed.
    quiet: usize,
}

impl Bench {
    fn new(seed: u64, module: &crate::verilog::export::VerilogModule) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let log2 = rng.gen_range(1..=10u32);
        let base = rng.gen::<u64>() & !0xF | if seed % 3 == 0 { 0x7 } else { 0 };
        let mut uut = DescFetch::default();
        uut.connect_all();
        Bench {
            uut,
            rec: VectorRecorder::new(module),
            rng,
            log2,
            base,
            producer: 0,
            reads: VecDeque::new(),
            next_beat: 0,
            popped: 0,
            reads_taken: 0,
            quiet: 0,
        }
    }

    /// One clock: the host may post, the engine takes an offered read (when its AR is
    /// free), a beat may arrive, the head may be popped; every offered read is checked
    /// against the rule and every popped head against what the host posted.
    fn step(&mut self, reset: bool, post: bool, ar_free: bool, beat_ok: bool, pop_ok: bool) {
        let u = &mut self.uut;
        u.reset.next = reset;
        u.base.next = self.base.to_bits();
        u.log2_size.next = u64::from(self.log2).to_bits();
        // The host posts only into slots already fetched (it may not overwrite earlier).
        let fetched = u.fetched.val().to_u64() as u16;
        let size = 1u16 << self.log2;
        if post && self.producer.wrapping_sub(fetched) < size {
            self.producer = self
                .producer
                .wrapping_add(self.rng.gen_range(1..=3u16).min(size - self.producer.wrapping_sub(fetched)));
            self.quiet = 0;
        }
        u.producer.next = u64::from(self.producer).to_bits();
        u.req_take.next = false;
        u.beat.next = false;
        u.drop_beats.next = false;
        u.pop.next = false;
        u.beat_data.next = 0u64.to_bits();
        // The outputs of this clock (from registers and the inputs above).
        cycle_settle(u);
        if u.req.val() && !reset {
            let requested = u.requested.val().to_u64() as u16;
            let used = u.used.val().to_u64() as u16;
            let len = u.req_len.val().to_u64() as u16;
            let addr = u.req_addr.val().to_u64();
            assert_eq!(len % 2, 1, "a read is whole descriptors");
            let n = (len + 1) / 2;
            let r = rule(self.log2, self.base, requested, self.producer, used);
            assert_eq!(addr, r.addr, "read address");
            // A post or pop still in the pipeline only makes the read smaller.
            assert!(n >= 1 && n <= r.most, "read of {n} from {requested}, at most {} allowed", r.most);
            if self.quiet > SETTLE + 2 {
                assert!(r.offered && n == r.n, "with nothing changing, the read is the rule's ({n} vs {})", r.n);
            }
            if ar_free {
                u.req_take.next = true;
                self.reads.push_back((requested, 2 * n));
                self.reads_taken += 1;
            }
        }
        if beat_ok {
            if let Some(front) = self.reads.front_mut() {
                let index = (front.0 as u32 + self.next_beat / 2) as u64;
                let (addr, len) = descriptor(index);
                u.beat.next = true;
                u.beat_data.next = if self.next_beat % 2 == 0 { addr } else { u64::from(len) | 0xABCD_0000 }.to_bits();
                self.next_beat += 1;
                if self.next_beat == u32::from(front.1) {
                    self.reads.pop_front();
                    self.next_beat = 0;
                }
            }
        }
        if pop_ok && u.head_valid.val() && !reset {
            let i = u.used.val().to_u64();
            assert_eq!((u.head_addr.val().to_u64(), u.head_len.val().to_u64() as u16), descriptor(i), "head {i}");
            u.pop.next = true;
            self.popped = self.popped.wrapping_add(1);
            self.quiet = 0;
        }
        cycle_traced(u, |u| &mut u.clock, Some(&mut self.rec));
        self.quiet += 1;
    }
}

fn cycle_settle(u: &mut DescFetch) {
    crate::sim::settle(u);
}

/// Random rings (small and large, aligned and not), bursts of posts, a busy or idle AR
/// channel, read data late and in bursts, pops at random: every read offered is the rule's
/// (or smaller only while a post or pop is still in the pipeline), every head is the
/// descriptor the host posted, every posted descriptor is fetched and used; Icarus agrees.
#[test]
fn fetches_by_the_rule_in_rust_hdl_and_verilog() {
    let mut uut = DescFetch::default();
    let module = export("nic_desc_fetch", &mut uut);
    let mut total = 0;
    for seed in 0..6u64 {
        let mut b = Bench::new(seed, &module);
        b.step(true, false, false, false, false);
        b.step(true, false, false, false, false);
        for k in 0..1500 {
            let busy = (k / 200) % 2 == 1;
            let post = b.rng.gen_bool(if busy { 0.3 } else { 0.05 });
            let ar_free = b.rng.gen_bool(0.7);
            let beat_ok = b.rng.gen_bool(if k % 300 < 30 { 0.0 } else { 0.8 });
            let pop_ok = b.rng.gen_bool(if busy { 0.2 } else { 0.6 });
            b.step(false, post, ar_free, beat_ok, pop_ok);
        }
        // Drain: no more posts; everything posted is fetched and used.
        for _ in 0..400 {
            b.step(false, false, true, true, true);
        }
        assert_eq!(b.uut.fetched.val().to_u64() as u16, b.producer, "seed {seed}: all posted fetched");
        assert_eq!(b.popped, b.producer, "seed {seed}: all used");
        assert!(!b.uut.reading.val() && !b.uut.head_valid.val());
        assert!(b.reads_taken > 20, "seed {seed}: {} reads", b.reads_taken);
        total += b.producer as usize;
        if tool_for_test("iverilog") {
            // The RAM's output is compared only while it shows a written entry.
            assert_replays(
                &module,
                &b.rec,
                &[
                    Qualified { output: "head_addr", when: "head_valid" },
                    Qualified { output: "head_len", when: "head_valid" },
                ],
            );
        }
    }
    assert!(total > 1000, "{total} descriptors");
}

/// Reads stop at a batch, at the ring's end and at the page's end: (ring, base, posts
/// (each after everything before it was used), the reads expected).
#[test]
fn batches_stop_at_the_ring_and_page_ends() {
    let module = export("nic_desc_fetch", &mut DescFetch::default());
    let cases: [(u32, u64, &[u16], &[u16]); 3] =
        [(6, 0x1000, &[12], &[8, 4]), (3, 0x1000, &[6, 6], &[6, 2, 4]), (8, 0x2FC0, &[12], &[4, 8])];
    for (log2, base, posts, want) in cases {
        let mut b = Bench::new(1, &module);
        b.log2 = log2;
        b.base = base;
        b.step(true, false, false, false, false);
        let mut reads = Vec::new();
        for &p in posts {
            b.producer = b.producer.wrapping_add(p);
            b.quiet = 0;
            for k in 0..120 {
                let before = b.reads_taken;
                b.step(false, false, true, k % 2 == 0, true);
                if b.reads_taken > before {
                    reads.push(b.reads.back().map_or(0, |r| r.1 / 2));
                }
            }
        }
        assert_eq!(reads, want, "ring of {} at {base:#x}", 1 << log2);
    }
}

#[test]
fn verilog_passes_yosys_and_verilator() {
    assert_lints_and_checks("nic_desc_fetch", &mut DescFetch::default());
}
