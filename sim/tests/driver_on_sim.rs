//! The real driver on the simulated cards: two cards (the whole gateware, on the Verilator
//! engine when it is installed) on one simulated GMII wire, each driven by `nic-driver`
//! through the simulation backend. Random frames each way arrive byte-exact and in order,
//! with the receive filter checked frame by frame; a blocked receiver is woken by the
//! interrupt eventfd; starvation then recovery with exact counters.
//!
//! The test thread is host software on the simulated runtime: its waits are simulated time,
//! so a run is the same clock for clock every time. A failing run prints its seed; rerun it
//! with `NIC_SEED=<seed>`.
use nic_driver::{Buf, Nic, NicConfig};
use nic_regs::net::multicast_bin;
use nic_regs::Counter;
use nic_sim::model::world::{start_simulated, WorldConfig, WorldReport};
use nic_sim::runtime::SimRuntime;
use nic_sim::sim_backend::SimBackend;
use nic_stack::runtime::Runtime;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0A];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0B];
const OTHER_STATION: [u8; 6] = [0x02, 0x77, 0x77, 0x77, 0x77, 0x77];
const JOINED: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];

fn seed() -> u64 {
    std::env::var("NIC_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x51A1)
}

fn frames_each_way() -> usize {
    std::env::var("NIC_FRAMES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

fn unjoined() -> [u8; 6] {
    (2u8..)
        .map(|k| [0x01, 0x00, 0x5E, 0x00, 0x00, k])
        .find(|g| multicast_bin(g) != multicast_bin(&JOINED))
        .expect("a group")
}

fn frame(rng: &mut impl Rng, dst: [u8; 6], src: [u8; 6], len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x88, 0xB5]);
    f.resize(len, 0);
    rng.fill(&mut f[14..]);
    f
}

fn expected_verdict(dst: [u8; 6], station: [u8; 6]) -> Option<u8> {
    match dst {
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] => Some(2),
        JOINED => Some(1),
        d if d == station => Some(0),
        _ => None,
    }
}

/// Two cards on the simulated runtime, the calling thread their host.
struct Cards {
    sim: SimRuntime,
    clock: Runtime,
}

impl Cards {
    /// Drops the drivers, powers the cards off and reports.
    fn finish(self, nics: Vec<Nic<SimBackend>>) -> WorldReport {
        drop(nics);
        let report = self.sim.power_off();
        self.sim.leave();
        report
    }
}

fn cards(cfg: [NicConfig; 2]) -> (Cards, Vec<Nic<SimBackend>>) {
    let (sim, handles) = start_simulated(&WorldConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    sim.enter("test");
    let clock = sim.runtime();
    let nics = handles
        .into_iter()
        .zip(cfg)
        .zip(["a", "b"])
        .map(|((h, c), name)| {
            Nic::new(SimBackend::new(h, name), c).unwrap_or_else(|e| panic!("bring-up of {name}: {e}"))
        })
        .collect();
    (Cards { sim, clock }, nics)
}

/// A counter once it reaches `want`, or its value after `limit`. The device counts a frame
/// when its completion's write is answered, a few dozen clocks after the completion is
/// visible in host memory, so a host that reaps fast can read the counter just before.
fn counter_settled(clock: &Runtime, nic: &mut Nic<SimBackend>, c: Counter, want: u64, limit: Duration) -> u64 {
    let end = clock.deadline(limit);
    loop {
        let v = nic.counter(c);
        if v == want || clock.now_ns() >= end {
            return v;
        }
        clock.sleep(Duration::from_micros(1));
    }
}

/// Receive until `want` frames are in `got` or `limit` of simulated time passes, polling
/// every 2 µs (the cards run while the test waits).
fn receive(clock: &Runtime, nic: &mut Nic<SimBackend>, got: &mut Vec<Buf>, want: usize, limit: Duration) {
    let end = clock.deadline(limit);
    while got.len() < want && clock.now_ns() < end {
        if nic.rx_burst(got, 64) == 0 {
            clock.sleep(Duration::from_micros(2));
        }
    }
}

/// Reap `nic`'s transmit completions until none is in flight or `limit` passes.
fn drain_tx(clock: &Runtime, nic: &mut Nic<SimBackend>, limit: Duration) {
    let end = clock.deadline(limit);
    while nic.tx_in_flight() > 0 && clock.now_ns() < end {
        nic.reap_tx();
        clock.sleep(Duration::from_micros(2));
    }
}

#[test]
fn random_frames_each_way_byte_exact_in_order_with_filtering() {
    let seed = seed();
    let n = frames_each_way();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let unjoined = unjoined();
    let macs = [MAC_A, MAC_B];
    let (sim, mut nics) = cards(macs.map(|mac| NicConfig { mac, multicast: vec![JOINED], ..NicConfig::default() }));
    let clock = &sim.clock.clone();
    let mut sent = [0usize; 2];
    let mut delivered = [0u64; 2];
    let mut filtered = [0u64; 2];
    let mut verdicts = [[0u64; 3]; 2];
    let mut got: Vec<Buf> = Vec::new();
    while sent[0] < n || sent[1] < n {
        let from = if sent[0] >= n {
            1
        } else if sent[1] >= n {
            0
        } else {
            rng.gen_range(0..2)
        };
        let to = 1 - from;
        let burst = rng.gen_range(1..=64).min(n - sent[from]);
        let frames: Vec<Vec<u8>> = (0..burst)
            .map(|_| {
                let dst = match rng.gen_range(0..100) {
                    0..=69 => macs[to],
                    70..=79 => [0xFF; 6],
                    80..=89 => JOINED,
                    90..=94 => unjoined,
                    _ => OTHER_STATION,
                };
                // Short and long frames; most short, so 20,000 frames stay quick to simulate.
                let len = if rng.gen_range(0..10) == 0 { rng.gen_range(60..=1514) } else { rng.gen_range(60..=300) };
                frame(&mut rng, dst, macs[from], len)
            })
            .collect();
        let mut out: Vec<Buf> = frames.iter().map(|f| nics[from].alloc_copy(f).unwrap()).collect();
        assert_eq!(nics[from].tx_burst(&mut out), burst, "seed {seed}");
        sent[from] += burst;
        let expected: Vec<(&Vec<u8>, u8)> = frames
            .iter()
            .filter_map(|f| expected_verdict(f[..6].try_into().unwrap(), macs[to]).map(|v| (f, v)))
            .collect();
        filtered[to] += (burst - expected.len()) as u64;
        receive(clock, &mut nics[to], &mut got, expected.len(), Duration::from_millis(100));
        assert_eq!(got.len(), expected.len(), "seed {seed}: frames delivered to card {to}");
        for (b, (f, v)) in got.iter().zip(&expected) {
            assert_eq!(nics[to].data(b).unwrap(), &f[..], "seed {seed}: bytes and order");
            assert_eq!(b.verdict(), *v, "seed {seed}: verdict");
            assert_eq!(b.csum(), nic_regs::net::rx_sum(f), "seed {seed}: checksum assist");
            verdicts[to][*v as usize] += 1;
        }
        delivered[to] += got.len() as u64;
        nics[to].recycle_all(&mut got).unwrap();
        nics[from].reap_tx();
    }
    // Let the last TX completions land, then check every counter.
    for nic in nics.iter_mut() {
        drain_tx(clock, nic, Duration::from_millis(10));
    }
    for (i, nic) in nics.iter_mut().enumerate() {
        nic.check_invariants(0).unwrap_or_else(|e| panic!("seed {seed}: card {i}: {e}"));
        assert_eq!(
            counter_settled(clock, nic, Counter::TxFrames, n as u64, Duration::from_millis(1)),
            n as u64,
            "seed {seed}"
        );
        assert_eq!(
            counter_settled(clock, nic, Counter::RxFrames, delivered[i], Duration::from_millis(1)),
            delivered[i],
            "seed {seed}"
        );
        assert_eq!(
            counter_settled(clock, nic, Counter::RxFiltered, filtered[i], Duration::from_millis(1)),
            filtered[i],
            "seed {seed}"
        );
        assert_eq!(nic.counter(Counter::RxNoBuffer), 0, "seed {seed}");
        assert_eq!(nic.counter(Counter::RxFcsErrors), 0, "seed {seed}");
        assert_eq!(nic.stats().bad_completions, 0);
        assert!(verdicts[i].iter().all(|&k| k > n as u64 / 50), "every kind exercised: {:?}", verdicts[i]);
    }
    let report = sim.finish(nics);
    assert!(report.bus_violations.is_empty(), "{:?}", report.bus_violations);
    assert_eq!(report.register_errors, 0);
}

#[test]
fn blocked_receiver_is_woken_by_the_interrupt_and_starvation_recovers() {
    let small = |mac| NicConfig { mac, rx_ring_log2: 3, tx_ring_log2: 3, buffers: 64, ..NicConfig::default() };
    let (sim, mut nics) = cards([small(MAC_A), small(MAC_B)]);
    let clock = &sim.clock.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ 1);
    let (a, b) = nics.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);

    // B sleeps on its RX eventfd; A sends one frame: the MSI wakes B with the frame there.
    let f = frame(&mut rng, MAC_B, MAC_A, 100);
    let mut out = vec![a.alloc_copy(&f).unwrap()];
    a.tx_burst(&mut out);
    let mut got = Vec::new();
    let n = b.napi_rx(&mut got, 64, Duration::from_millis(10)).unwrap();
    assert_eq!(n, 1, "woken with the frame");
    assert_eq!(b.data(&got[0]).unwrap(), &f[..]);
    assert!(b.stats().irqs >= 1, "the wake-up came from the interrupt");
    b.recycle_all(&mut got).unwrap();

    // Starve B: with its RX ring full of posted buffers and B not reaping, 4 frames more
    // than it has buffers for: those 4 are dropped and counted; after B reaps and reposts,
    // traffic flows again.
    let posted = b.rx_posted();
    assert!(posted >= 4, "{posted} buffers posted");
    let frames: Vec<Vec<u8>> = (0..posted + 4).map(|_| frame(&mut rng, MAC_B, MAC_A, 200)).collect();
    for chunk in frames.chunks(4) {
        let mut out: Vec<Buf> = chunk.iter().map(|f| a.alloc_copy(f).unwrap()).collect();
        a.tx_burst(&mut out);
        drain_tx(clock, a, Duration::from_millis(10));
    }
    clock.sleep(Duration::from_micros(200));
    receive(clock, b, &mut got, posted, Duration::from_millis(10));
    assert_eq!(got.len(), posted);
    for (g, f) in got.iter().zip(&frames) {
        assert_eq!(b.data(g).unwrap(), &f[..]);
    }
    b.recycle_all(&mut got).unwrap();
    assert_eq!(counter_settled(clock, b, Counter::RxNoBuffer, 4, Duration::from_millis(1)), 4);
    let more = frame(&mut rng, MAC_B, MAC_A, 300);
    let mut out = vec![a.alloc_copy(&more).unwrap()];
    a.tx_burst(&mut out);
    receive(clock, b, &mut got, 1, Duration::from_millis(10));
    assert_eq!(b.data(&got[0]).unwrap(), &more[..], "recovered");
    b.recycle_all(&mut got).unwrap();
    assert_eq!(
        counter_settled(clock, b, Counter::RxFrames, posted as u64 + 2, Duration::from_millis(1)),
        posted as u64 + 2
    );
    a.reap_tx();
    let report = sim.finish(nics);
    assert!(report.bus_violations.is_empty(), "{:?}", report.bus_violations);
}
