//! Tests of [`super::Irq`]: every edge of every test is compared with the plain-Rust
//! [`super::Model`]; the directed cases also assert exact edges computed by hand.
use super::*;
use crate::sim::{cycle_traced, settle};
use crate::verilog::vectors::VectorRecorder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const RX: u8 = 1 << nic_regs::IRQ_BIT_RX;
const TX: u8 = 1 << nic_regs::IRQ_BIT_TX;
const DMA: u8 = 1 << nic_regs::IRQ_BIT_DMA_ERROR;
const LINK: u8 = 1 << nic_regs::IRQ_BIT_LINK;
const NOBUF: u8 = 1 << nic_regs::IRQ_BIT_RX_NO_BUFFER;

struct Bench {
    uut: Irq,
    model: Model,
    rec: Option<VectorRecorder>,
    /// (irq_set sampled on the edge, usr_irq_req after the edge), one per edge.
    trace: Vec<(u8, u8)>,
}

impl Bench {
    fn new(cycles_per_us: u32) -> Self {
        let mut uut = Irq::new(cycles_per_us);
        uut.connect_all();
        Self { uut, model: Model::new(cycles_per_us), rec: None, trace: Vec::new() }
    }

    /// One edge with inputs `i`; checks `irq_set` and `usr_irq_req` against the model.
    fn step(&mut self, i: &Inputs) -> (u8, u8) {
        let u = &mut self.uut;
        u.reset.next = i.reset;
        u.rx_event.next = i.rx_event;
        u.tx_event.next = i.tx_event;
        u.rx_no_buffer.next = i.rx_no_buffer;
        u.dma_error.next = i.dma_error;
        u.link_change.next = i.link_change;
        u.irq_mask.next = (i.mask as u64).to_bits();
        u.irq_mod_frames.next = (i.frames as u64).to_bits();
        u.irq_mod_time_us.next = (i.time_us as u64).to_bits();
        u.usr_irq_ack.next = (i.ack as u64).to_bits();
        settle(u);
        let set = u.irq_set.val().to_u32() as u8;
        cycle_traced(u, |u| &mut u.clock, self.rec.as_mut());
        let req = u.usr_irq_req.val().to_u32() as u8;
        let k = self.trace.len();
        let want_set = self.model.step(i);
        assert_eq!(set, want_set, "irq_set on edge {k}: {i:?}");
        assert_eq!(req, self.model.req(), "usr_irq_req after edge {k}: {i:?}");
        self.trace.push((set, req));
        (set, req)
    }

    /// Run edges `0..n` (counted from the bench's current edge) with inputs from `f(k)`.
    fn run(&mut self, n: usize, mut f: impl FnMut(usize) -> Inputs) {
        let base = self.trace.len();
        for k in 0..n {
            let i = f(base + k);
            self.step(&i);
        }
    }

    /// Edges on which vector `v`'s request rose (high after the edge, low before it).
    fn rises(&self, v: usize) -> Vec<usize> {
        let mut before = false;
        let mut out = Vec::new();
        for (k, &(_, req)) in self.trace.iter().enumerate() {
            let now = req & (1 << v) != 0;
            if now && !before {
                out.push(k);
            }
            before = now;
        }
        out
    }

    /// Edges on which `irq_set` had any of `bits`.
    fn sets(&self, bits: u8) -> Vec<usize> {
        self.trace.iter().enumerate().filter(|(_, &(s, _))| s & bits != 0).map(|(k, _)| k).collect()
    }

    /// Number of edges after which vector `v` was requesting.
    fn high_edges(&self, v: usize) -> usize {
        self.trace.iter().filter(|&&(_, r)| r & (1 << v) != 0).count()
    }
}

fn unmasked(frames: u16, time_us: u16) -> Inputs {
    Inputs { frames, time_us, ..Default::default() }
}

#[test]
fn irq_cause_bits_match_nic_regs() {
    assert_eq!(VECTOR_CAUSES[VEC_RX] as u8, RX | NOBUF);
    assert_eq!(VECTOR_CAUSES[VEC_TX] as u8, TX);
    assert_eq!(VECTOR_CAUSES[VEC_ERR] as u8, DMA | LINK);
    assert_eq!(nic_regs::IRQ_MASK.reset, 0x1F, "all masked after reset");
}

/// Count only (N = 4, no timer): the request rises on the edge that takes the 4th event,
/// never earlier however long the gaps; 0 and 1 both mean every event.
#[test]
fn irq_count_only_fires_on_the_nth_event() {
    let mut b = Bench::new(4);
    let ev = [3, 5, 8, 200];
    b.run(210, |k| Inputs { rx_event: ev.contains(&k), ..unmasked(4, 0) });
    assert_eq!(b.sets(RX), vec![200]);
    assert_eq!(b.rises(VEC_RX), vec![200]);
    assert_eq!(b.sets(!RX), Vec::<usize>::new());
    for frames in [0, 1] {
        let mut b = Bench::new(4);
        b.run(40, |k| Inputs { tx_event: k == 7 || k == 30, ack: if k == 20 { 2 } else { 0 }, ..unmasked(frames, 0) });
        assert_eq!(b.sets(TX), vec![7, 30], "frames = {frames}");
        assert_eq!(b.rises(VEC_TX), vec![7, 30], "frames = {frames}");
        assert_eq!(b.rises(VEC_RX), Vec::<usize>::new());
    }
}

/// Time only (T = 3 µs at 5 clocks/µs = 15 clocks, count threshold out of reach): the request
/// rises exactly 15 edges after the edge that took the first pending event; later events
/// do not restart the timer; after firing the next event starts a new period.
#[test]
fn irq_time_only_fires_t_after_the_first_event() {
    let mut b = Bench::new(5);
    let ev = [10, 12, 24, 40];
    b.run(80, |k| Inputs { rx_event: ev.contains(&k), ack: if k == 30 { 1 } else { 0 }, ..unmasked(1000, 3) });
    assert_eq!(b.sets(RX), vec![25, 55]);
    assert_eq!(b.rises(VEC_RX), vec![25, 55]);
    // One clock per µs: the timer is T edges.
    let mut b = Bench::new(1);
    b.run(20, |k| Inputs { tx_event: k == 2, ..unmasked(0xFFFF, 7) });
    assert_eq!(b.rises(VEC_TX), vec![9]);
    // A 125 MHz core clock: T = 2 µs is 250 clocks.
    let mut b = Bench::new(125);
    b.run(400, |k| Inputs { rx_event: k == 20 || k == 100, ..unmasked(16, 2) });
    assert_eq!(b.rises(VEC_RX), vec![270]);
}

#[test]
#[should_panic(expected = "cycles_per_us")]
fn irq_zero_cycles_per_us_is_rejected() {
    let _ = Irq::new(0);
}

/// Both thresholds: whichever comes first fires, and firing restarts both.
#[test]
fn irq_count_or_time_whichever_first() {
    // N = 3, T = 2 µs at 4 clocks/µs = 8 clocks.
    // The settings are in place from edge 0; they count from edge 1 (they are registered).
    let mut b = Bench::new(4);
    let ev = [1, 2, 3, 11, 15, 31, 32, 33, 34, 51, 58];
    b.run(71, |k| Inputs {
        rx_event: ev.contains(&k),
        ack: if [6, 21, 37, 46].contains(&k) { 1 } else { 0 },
        ..unmasked(3, 2)
    });
    // 1,2,3: count at 3. 11,15: time at 19. 31,32,33: count at 33. 34: time at 42.
    // 51 then 58 (7 edges later): count of 2 < 3, time at 59.
    assert_eq!(b.sets(RX), vec![3, 19, 33, 42, 59]);
    assert_eq!(b.rises(VEC_RX), vec![3, 19, 33, 42, 59]);
}

/// Mask → poll → unmask: a masked vector sets its cause and keeps moderating but requests
/// nothing; the request rises on the first edge the mask bit is seen low. Per-cause masks:
/// an unmasked cause of a vector requests while its masked sibling stays owed.
#[test]
fn irq_mask_then_unmask_requests_what_is_pending() {
    let mut b = Bench::new(2);
    let mask_at = |k: usize| if (1..20).contains(&k) || k >= 40 { 0x1F } else { 0 };
    let ev = [2, 4, 6, 42];
    b.run(60, |k| Inputs {
        rx_event: ev.contains(&k),
        mask: mask_at(k),
        ack: if k == 25 { 1 } else { 0 },
        ..unmasked(2, 0)
    });
    // 2,4 fire at 4 (masked: cause set, no request); 6 is pending below N; unmask at 20.
    assert_eq!(b.sets(RX), vec![4, 42]);
    assert_eq!(b.rises(VEC_RX), vec![20]);
    // Masked again from 40: 6 and 42 fire at 42 but request nothing.
    assert_eq!(b.high_edges(VEC_RX), 5, "after edges 20..=24");

    // Per cause: RX masked, RX_NO_BUFFER not.
    let mut b = Bench::new(2);
    b.run(30, |k| Inputs {
        rx_event: k == 1,
        rx_no_buffer: k == 3,
        mask: if k < 10 { RX } else { 0 },
        ack: if k == 6 || k == 15 { 1 } else { 0 },
        ..unmasked(1, 0)
    });
    assert_eq!(b.sets(RX), vec![1]);
    assert_eq!(b.sets(NOBUF), vec![3]);
    assert_eq!(b.rises(VEC_RX), vec![3, 10], "NOBUF at 3; RX, owed since 1, at unmask (10)");

    // Masking with a request outstanding does not withdraw it.
    let mut b = Bench::new(2);
    b.run(20, |k| Inputs {
        tx_event: k == 1,
        mask: if k >= 3 { 0x1F } else { 0 },
        ack: if k == 9 { 2 } else { 0 },
        ..unmasked(1, 0)
    });
    assert_eq!(b.rises(VEC_TX), vec![1]);
    assert_eq!(b.high_edges(VEC_TX), 8, "after edges 1..=8");
}

/// Ack latency L: the request is high after exactly the L edges 1..=L after it rose and drops
/// on the edge the ack is sampled; an ack with no request outstanding is ignored.
#[test]
fn irq_ack_latency_is_exact() {
    for lat in 1..=6usize {
        let mut b = Bench::new(3);
        b.run(20, |k| Inputs { dma_error: k == 2, ack: if k == 2 + lat || k == 1 { 4 } else { 0 }, ..unmasked(1, 0) });
        assert_eq!(b.rises(VEC_ERR), vec![2]);
        assert_eq!(b.high_edges(VEC_ERR), lat, "latency {lat}");
        assert_eq!(b.sets(DMA), vec![2]);
    }
    // Ack on the very edge the request rises is before the request existed: ignored.
    let mut b = Bench::new(3);
    b.run(10, |k| Inputs { link_change: k == 2, ack: if k == 2 || k == 6 { 4 } else { 0 }, ..unmasked(1, 0) });
    assert_eq!(b.high_edges(VEC_ERR), 4);
}

/// Events during an outstanding request: they are moderated and set their cause as usual,
/// coalesce into one owed interrupt, and raise exactly one new request the edge after the ack.
#[test]
fn irq_events_during_an_outstanding_request() {
    let mut b = Bench::new(3);
    b.run(20, |k| Inputs {
        rx_event: [0, 2, 3, 4].contains(&k),
        link_change: k == 3,
        dma_error: k == 4,
        ack: if k == 6 || k == 12 {
            1
        } else if k == 9 {
            4
        } else {
            0
        },
        ..unmasked(1, 0)
    });
    assert_eq!(b.sets(RX), vec![0, 2, 3, 4]);
    assert_eq!(b.rises(VEC_RX), vec![0, 7]);
    assert_eq!(b.rises(VEC_ERR), vec![3, 10], "LINK at 3; DMA_ERROR at 4 while outstanding, owed until the ack at 9");
    // The error vector: ack at 9 drops it, DMA_ERROR owed since 4 -> rise at 10.
    let err: Vec<usize> = b.trace.iter().enumerate().filter(|(_, t)| t.1 & 4 != 0).map(|(k, _)| k).collect();
    assert_eq!(err, vec![3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    assert_eq!(b.high_edges(VEC_RX), 6 + 5, "0..=5 and 7..=11");
}

/// Reset clears counts, owed causes and requests.
#[test]
fn irq_reset_clears_everything() {
    let mut b = Bench::new(2);
    // Settings from edge 0, counted from edge 1 (registered); events on edges 1 to 3.
    b.run(30, |k| Inputs { reset: k == 6, rx_event: (1..4).contains(&k), tx_event: k == 1, ..unmasked(5, 10) });
    assert_eq!(b.rises(VEC_RX), Vec::<usize>::new(), "3 of 5 events, then reset before the timer (20 clocks)");
    assert_eq!(b.sets(0x1F), Vec::<usize>::new());
}

fn random_inputs(rng: &mut ChaCha8Rng, b: &Bench, cfg: &mut Inputs, ack_wait: &mut [u32; 3]) -> Inputs {
    if rng.gen_bool(0.002) {
        cfg.frames = [0, 1, 2, 3, 5, 16][rng.gen_range(0..6)];
        cfg.time_us = [0, 0, 1, 2, 7][rng.gen_range(0..5)];
    }
    if rng.gen_bool(0.01) {
        cfg.mask = rng.gen_range(0..32);
    }
    let req = b.trace.last().map_or(0, |t| t.1);
    let mut ack = 0;
    for (v, wait) in ack_wait.iter_mut().enumerate() {
        if req & (1 << v) != 0 {
            if *wait == 0 {
                ack |= 1 << v;
                *wait = rng.gen_range(1..12);
            } else {
                *wait -= 1;
            }
        } else if rng.gen_bool(0.01) {
            ack |= 1 << v; // a stray ack with nothing outstanding
        }
    }
    let busy = rng.gen_bool(0.5);
    Inputs {
        reset: rng.gen_bool(0.0005),
        rx_event: rng.gen_bool(if busy { 0.3 } else { 0.02 }),
        tx_event: rng.gen_bool(if busy { 0.2 } else { 0.02 }),
        rx_no_buffer: rng.gen_bool(0.002),
        dma_error: rng.gen_bool(0.001),
        link_change: rng.gen_bool(0.001),
        ack,
        ..*cfg
    }
}

/// Random traffic, config changes, mask toggles, acks at random latency, stray acks and
/// resets: every edge equal to the model.
#[test]
fn irq_random_matches_the_model() {
    // A µs of one clock (every clock ends a µs), of two, and of three.
    for cycles_per_us in [1, 2, 3] {
        let mut b = Bench::new(cycles_per_us);
        let mut rng = ChaCha8Rng::seed_from_u64(5 + cycles_per_us as u64);
        let mut cfg = unmasked(3, 2);
        let mut wait = [2; 3];
        for _ in 0..50_000 {
            let i = random_inputs(&mut rng, &b, &mut cfg, &mut wait);
            b.step(&i);
        }
        for v in 0..VECTORS {
            assert!(
                b.rises(v).len() > 20,
                "{cycles_per_us} clocks/µs: vector {v} requested {} times",
                b.rises(v).len()
            );
        }
    }
}

/// Verilator lint and Yosys check; a random session replayed in Icarus, every output equal
/// at every step.
#[test]
fn irq_verilog_lints_and_replays() {
    let Some(module) = crate::verilog::assert_lints_and_checks("nic_irq", &mut Irq::new(3)) else {
        return;
    };
    if !crate::verilog::tools::tool_for_test("iverilog") {
        return;
    }
    let mut b = Bench::new(3);
    b.rec = Some(VectorRecorder::new(&module));
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut cfg = unmasked(3, 2);
    let mut wait = [2; 3];
    for _ in 0..3000 {
        let i = random_inputs(&mut rng, &b, &mut cfg, &mut wait);
        b.step(&i);
    }
    assert!(b.rises(VEC_RX).len() > 5);
    let rec = b.rec.take().unwrap();
    crate::verilog::assert_replays(&module, &rec, &[]);
}

/// Resource counts after Yosys synthesis (run by hand: `-- --ignored irq_resources`).
#[test]
#[ignore]
fn irq_resources() {
    use crate::verilog::synth::{synthesize, Family};
    let module = crate::verilog::export::export("nic_irq", &mut Irq::new(125));
    for f in Family::ALL {
        let dir = crate::verilog::workdir(&format!("synth-irq-{}", f.name()));
        let r = synthesize(&module, f, &dir).unwrap();
        println!("{} {}", f.name(), r.to_json());
    }
}

/// The interrupt block wired to the register slave as a NIC top will wire it.
#[derive(LogicBlock)]
struct WithCsr {
    clock: Signal<In, Clock>,
    reset: Signal<In, Bit>,
    rx_event: Signal<In, Bit>,
    usr_irq_ack: Signal<In, Bits<3>>,
    csr: crate::csr::Csr,
    irq: Irq,
}

impl Logic for WithCsr {
    #[hdl_gen]
    fn update(&mut self) {
        self.csr.clock.next = self.clock.val();
        self.irq.clock.next = self.clock.val();
        self.csr.reset.next = self.reset.val();
        self.irq.reset.next = self.reset.val() | self.csr.soft_reset.val();
        self.irq.rx_event.next = self.rx_event.val();
        self.irq.tx_event.next = false;
        self.irq.rx_no_buffer.next = false;
        self.irq.dma_error.next = false;
        self.irq.link_change.next = false;
        self.irq.usr_irq_ack.next = self.usr_irq_ack.val();
        self.irq.irq_mask.next = self.csr.irq_mask.val();
        self.irq.irq_mod_frames.next = self.csr.irq_mod_frames.val();
        self.irq.irq_mod_time_us.next = self.csr.irq_mod_time_us.val();
        self.csr.irq_set.next = self.irq.irq_set.val();
    }
}

fn tick(u: &mut WithCsr) -> u8 {
    crate::sim::cycle(u, |u| &mut u.clock);
    u.rx_event.next = false;
    u.usr_irq_ack.next = 0.into();
    u.irq.usr_irq_req.val().to_u32() as u8
}

fn axil_write(u: &mut WithCsr, addr: u32, data: u32) {
    u.csr.axil_awaddr.next = (addr as u64).to_bits();
    u.csr.axil_awvalid.next = true;
    u.csr.axil_wdata.next = (data as u64).to_bits();
    u.csr.axil_wstrb.next = 0xF.into();
    u.csr.axil_wvalid.next = true;
    u.csr.axil_bready.next = true;
    for _ in 0..10 {
        tick(u);
        u.csr.axil_awvalid.next = false;
        u.csr.axil_wvalid.next = false;
        if u.csr.axil_bvalid.val() {
            tick(u);
            return;
        }
    }
    panic!("no write response");
}

fn axil_read(u: &mut WithCsr, addr: u32) -> u32 {
    u.csr.axil_araddr.next = (addr as u64).to_bits();
    u.csr.axil_arvalid.next = true;
    u.csr.axil_rready.next = true;
    for _ in 0..10 {
        tick(u);
        u.csr.axil_arvalid.next = false;
        if u.csr.axil_rvalid.val() {
            let v = u.csr.axil_rdata.val().to_u32();
            tick(u);
            return v;
        }
    }
    panic!("no read response");
}

/// Through the register slave: all masked after reset (causes still set, no request);
/// unmasking requests what was owed; NAPI mask → events → W1C → unmask requests once.
#[test]
fn irq_with_csr_napi_mask_poll_unmask() {
    use nic_regs::{IRQ_CAUSE, IRQ_MASK, IRQ_MOD_FRAMES};
    let mut u = WithCsr {
        clock: Default::default(),
        reset: Default::default(),
        rx_event: Default::default(),
        usr_irq_ack: Default::default(),
        csr: Default::default(),
        irq: Irq::new(4),
    };
    u.connect_all();
    u.reset.next = true;
    tick(&mut u);
    u.reset.next = false;
    u.rx_event.next = true;
    assert_eq!(tick(&mut u), 0, "masked after reset");
    for _ in 0..5 {
        assert_eq!(tick(&mut u), 0);
    }
    assert_eq!(axil_read(&mut u, IRQ_CAUSE.offset), RX as u32);
    axil_write(&mut u, IRQ_MOD_FRAMES.offset, 3);
    axil_write(&mut u, IRQ_MASK.offset, 0);
    assert_eq!(u.irq.usr_irq_req.val().to_u32(), 1, "the owed RX interrupt at unmask");
    u.usr_irq_ack.next = 1.into();
    assert_eq!(tick(&mut u), 0);
    // NAPI: mask, three events arrive while polling, clear the cause, unmask.
    axil_write(&mut u, IRQ_MASK.offset, 0x1F);
    for _ in 0..3 {
        u.rx_event.next = true;
        assert_eq!(tick(&mut u), 0);
        tick(&mut u);
    }
    axil_write(&mut u, IRQ_CAUSE.offset, RX as u32);
    assert_eq!(axil_read(&mut u, IRQ_CAUSE.offset), 0);
    assert_eq!(u.irq.usr_irq_req.val().to_u32(), 0);
    axil_write(&mut u, IRQ_MASK.offset, 0);
    assert_eq!(u.irq.usr_irq_req.val().to_u32(), 1, "nothing lost across mask/poll/unmask");
    u.usr_irq_ack.next = 1.into();
    for _ in 0..20 {
        assert_eq!(tick(&mut u), 0, "exactly one request");
    }
}

/// A setting is registered: lowering the threshold below the pending count fires on the
/// second edge that sees the new value, not the first.
#[test]
fn irq_lowered_threshold_fires_one_edge_after_it_is_seen() {
    let mut b = Bench::new(4);
    b.run(20, |k| Inputs { rx_event: (2..5).contains(&k), ..unmasked(if k < 10 { 8 } else { 2 }, 0) });
    assert_eq!(b.sets(RX), vec![11], "3 pending; frames 8 -> 2 seen on edge 10, used from edge 11");
}
