//! `GrayFifo` against a plain queue, under two unrelated clocks: every word comes out once,
//! in order, none is lost or invented; the flags are never optimistic; Icarus agrees.
use super::*;
use crate::model::pins::run_two_clocks_traced;
use crate::sim::{ppm_period_ps, TwoClocks};
use crate::verilog::assert_lints_and_checks;
use crate::verilog::export::export;
use crate::verilog::tools::tool_for_test;
use crate::verilog::vectors::{Qualified, VectorRecorder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::VecDeque;

type Fifo = GrayFifo<Bits<10>, 4, 5>;

/// Words written (by the write side, as the FIFO took them) and read, for one run.
struct Run {
    written: Vec<u16>,
    read: Vec<u16>,
    max_fill: u32,
}

/// `cycles` write-side clocks at the given periods; the writer writes with probability
/// `p_write`, the reader reads with `p_read`; each side checks its flags against the words
/// really in flight.
fn run(
    seed: u64,
    write_ps: f64,
    read_ps: f64,
    p_write: f64,
    p_read: f64,
    cycles: usize,
    rec: Option<&mut VectorRecorder>,
) -> Run {
    let mut uut = Fifo::new(12);
    uut.connect_all();
    let rng = RefCell::new(ChaCha8Rng::seed_from_u64(seed));
    let queue = RefCell::new(VecDeque::<u16>::new());
    let out = RefCell::new(Run { written: Vec::new(), read: Vec::new(), max_fill: 0 });
    let next = RefCell::new(0u16);
    let mut clocks = TwoClocks::new(read_ps, write_ps);
    // Domain A is the read clock ("core"), B the write clock ("phy").
    run_two_clocks_traced(
        &mut uut,
        &mut clocks,
        |u| &mut u.read_clock,
        |u| &mut u.write_clock,
        cycles,
        // Called just before each write edge: a word written now is in from that edge.
        |u, _| {
            crate::sim::settle(u);
            let q = queue.borrow().len() as u32;
            let fill = u.write_fill.val().to_u32();
            assert!(fill >= q, "write side sees {fill} words, {q} are in");
            assert!(u.full.val() || q < 16, "not full with {q} words in");
            let max = out.borrow().max_fill.max(fill);
            out.borrow_mut().max_fill = max;
            let write = rng.borrow_mut().gen_bool(p_write);
            let word = *next.borrow() & 0x3FF;
            u.write.next = write;
            u.data_in.next = u64::from(word).to_bits();
            if write && !u.full.val() {
                queue.borrow_mut().push_back(word);
                out.borrow_mut().written.push(word);
                *next.borrow_mut() += 1;
            }
        },
        // Called just before each read edge: a word read now is gone from that edge.
        |u| {
            crate::sim::settle(u);
            let q = queue.borrow().len();
            assert!(u.empty.val() || q > 0, "not empty with nothing in");
            if !u.empty.val() {
                assert_eq!(u.data_out.val().to_u64() as u16, queue.borrow()[0], "head word");
            }
            let read = rng.borrow_mut().gen_bool(p_read);
            u.read.next = read;
            if read && !u.empty.val() {
                let w = queue.borrow_mut().pop_front().expect("a word");
                out.borrow_mut().read.push(w);
            }
        },
        rec,
    );
    out.into_inner()
}

/// Reader faster, slower and equal (±200 ppm), busy and idle sides, writes into a full
/// FIFO and reads from an empty one: the reader gets exactly the words written, in order.
#[test]
fn gray_fifo_carries_every_word_once_in_order() {
    for (seed, wps, rps, pw, pr) in [
        (1u64, 8000.0, ppm_period_ps(8000.0, -200.0), 0.9, 1.0),
        (2, 8000.0, ppm_period_ps(8000.0, 200.0), 1.0, 1.0),
        (3, 8000.0, 20000.0, 0.5, 0.9),
        (4, 40000.0, 8000.0, 0.8, 0.3),
        (5, 8000.0, 8000.0, 0.7, 0.2),
    ] {
        let r = run(seed, wps, rps, pw, pr, 3000, None);
        assert!(r.read.len() > 200, "seed {seed}: {} words read", r.read.len());
        assert_eq!(r.read, r.written[..r.read.len()], "seed {seed}");
        assert!(r.written.len() - r.read.len() <= 16, "seed {seed}");
    }
}

/// At full rate with the reader 200 ppm slow, the writer sees the FIFO nearly empty: the
/// pointers cross in a few clocks.
#[test]
fn gray_fifo_fill_stays_low_at_full_rate() {
    let r = run(7, 8000.0, ppm_period_ps(8000.0, 200.0), 1.0, 1.0, 4000, None);
    println!("GrayFifo: max fill {} of 16 at full rate, reader -200 ppm", r.max_fill);
    assert!(r.max_fill <= 8, "{}", r.max_fill);
}

/// The exported Verilog, replayed in Icarus with the same clock edges, gives the same
/// outputs (`data_out` compared while `empty` is low: the RAM reads as x before a write).
#[test]
fn gray_fifo_verilog_replays() {
    let module = export("nic_gray_fifo", &mut Fifo::new(12));
    let mut rec = VectorRecorder::new(&module);
    let r = run(9, 8000.0, 11000.0, 0.7, 0.8, 600, Some(&mut rec));
    assert!(r.read.len() > 100);
    if tool_for_test("iverilog") {
        crate::verilog::assert_replays(&module, &rec, &[Qualified { output: "data_out", when: "valid" }]);
    }
    assert_lints_and_checks("nic_gray_fifo", &mut Fifo::new(12));
}
