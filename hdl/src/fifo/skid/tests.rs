//! `Skid` against a plain queue: random producers and consumers, every word out once and in
//! order, `in_ready` exactly "fewer than two words held", one word per clock when the
//! consumer always takes; Icarus agrees with Rust-HDL.
use super::*;
use crate::sim::cycle_traced;
use crate::verilog::vectors::VectorRecorder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

type Slice = Skid<Bits<9>>;

/// What a run saw: words offered and taken at the input, words taken at the output, and
/// the clocks it took.
struct Run {
    taken_in: Vec<u16>,
    taken_out: Vec<u16>,
}

/// `clocks` clocks; the producer offers with probability `p_in` (and, as valid/ready
/// requires, keeps offering the same word until it is taken), the consumer is ready with
/// probability `p_out`. Checks the slice's occupancy against a model queue on every clock.
fn run(seed: u64, p_in: f64, p_out: f64, clocks: usize, mut rec: Option<&mut VectorRecorder>) -> Run {
    let mut uut = Slice::default();
    uut.connect_all();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    uut.reset.next = true;
    cycle_traced(&mut uut, |u| &mut u.clock, rec.as_deref_mut());
    uut.reset.next = false;
    let mut model = VecDeque::<u16>::new();
    let mut out = Run { taken_in: Vec::new(), taken_out: Vec::new() };
    let mut next = 0u16;
    let mut offering = false;
    for k in 0..clocks {
        offering |= rng.gen_bool(p_in);
        let ready = rng.gen_bool(p_out);
        uut.in_valid.next = offering;
        uut.in_data.next = (next as u64 & 0x1FF).to_bits();
        uut.out_ready.next = ready;
        crate::sim::settle(&mut uut);
        assert_eq!(uut.in_ready.val(), model.len() < 2, "clock {k}: in_ready with {} words held", model.len());
        assert_eq!(uut.out_valid.val(), !model.is_empty(), "clock {k}: out_valid with {} words held", model.len());
        if let Some(&head) = model.front() {
            assert_eq!(uut.out_data.val().to_u32() as u16, head, "clock {k}: head word");
        }
        let took_out = uut.out_valid.val() && ready;
        let took_in = offering && uut.in_ready.val();
        cycle_traced(&mut uut, |u| &mut u.clock, rec.as_deref_mut());
        if took_out {
            out.taken_out.push(model.pop_front().unwrap());
        }
        if took_in {
            model.push_back(next & 0x1FF);
            out.taken_in.push(next & 0x1FF);
            next = next.wrapping_add(1);
            offering = false;
        }
    }
    out
}

#[test]
fn skid_passes_every_word_once_in_order() {
    for (seed, p_in, p_out) in [(1, 0.5, 0.5), (2, 0.9, 0.3), (3, 0.3, 0.9), (4, 1.0, 1.0), (5, 1.0, 0.5)] {
        let r = run(seed, p_in, p_out, 5_000, None);
        assert!(r.taken_out.len() > 1_000, "seed {seed}: {} words through", r.taken_out.len());
        assert_eq!(r.taken_out[..], r.taken_in[..r.taken_out.len()], "seed {seed}");
        assert!(r.taken_in.len() - r.taken_out.len() <= 2, "seed {seed}: at most two words held");
    }
}

#[test]
fn skid_streams_one_word_per_clock() {
    // Producer and consumer always willing: after one clock of latency, a word every clock.
    let r = run(6, 1.0, 1.0, 1_000, None);
    assert_eq!(r.taken_out.len(), 999);
}

#[test]
fn skid_verilog_lints_and_replays() {
    let Some(module) = crate::verilog::assert_lints_and_checks("nic_skid", &mut Slice::default()) else {
        return;
    };
    if !crate::verilog::tools::tool_for_test("iverilog") {
        return;
    }
    let mut rec = VectorRecorder::new(&module);
    run(7, 0.6, 0.6, 2_000, Some(&mut rec));
    crate::verilog::assert_replays(&module, &rec, &[]);
}
