//! One NIC on the zero-latency model: rings, pool, starvation, interrupts, counters.
mod common;

use std::time::{Duration, Instant};

use common::*;
use nic_driver::model::RxOutcome;
use nic_driver::{Backend, Buf, Error, ModelBackend, ModelNic, Nic, NicConfig, VEC_ERR, VEC_RX, VEC_TX};
use nic_regs::{Counter, IRQ_BIT_RX_NO_BUFFER, IRQ_CAUSE};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn rx_and_tx_rings_wrap_many_times() {
    // 8-entry rings, 200 frames each way: 25 wraps, completions found by the phase bit only.
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    let (model, mut nic) = card(small(MAC_A, 3, 24));
    let mut got = Vec::new();
    let mut sent_total = 0;
    for round in 0..40 {
        let n = rng.gen_range(1..=5);
        let frames: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let len = rng.gen_range(60..=1514);
                frame(&mut rng, MAC_A, MAC_B, len)
            })
            .collect();
        for f in &frames {
            assert_eq!(model.inject(f), RxOutcome::Delivered { verdict: 0 }, "round {round}");
        }
        assert_eq!(nic.rx_burst(&mut got, 64), n, "round {round}");
        for (b, f) in got.iter().zip(&frames) {
            assert_eq!(nic.data(b).unwrap(), &f[..]);
            assert_eq!(b.csum(), nic_regs::rx_sum(f));
            assert_eq!(b.verdict(), 0);
        }
        check(&mut nic, n as u32);
        // Send the same frames back out (zero copy: the received buffers themselves).
        for b in got.iter_mut() {
            let d = nic.data_mut(b).unwrap();
            d[..6].copy_from_slice(&MAC_B);
            d[6..12].copy_from_slice(&MAC_A);
        }
        assert_eq!(nic.tx_burst(&mut got), n);
        assert!(got.is_empty());
        sent_total += n;
        let sent = model.take_sent();
        assert_eq!(sent.len(), n);
        for (s, f) in sent.iter().zip(&frames) {
            assert_eq!(&s[..6], &MAC_B);
            assert_eq!(&s[12..], &f[12..], "round {round}: bytes sent as built");
        }
    }
    assert!(nic.reap_tx() > 0, "the last burst's completions, reaped here");
    assert_eq!(nic.tx_in_flight(), 0);
    check(&mut nic, 0);
    assert!(sent_total > 3 * 8, "at least 3 wraps");
    assert_eq!(nic.counter(Counter::TxFrames), sent_total as u64);
    assert_eq!(nic.counter(Counter::RxFrames), sent_total as u64);
}

#[test]
fn rx_starvation_then_recovery_with_exact_counters() {
    let mut rng = ChaCha8Rng::seed_from_u64(seed() + 1);
    let (model, mut nic) = card(small(MAC_A, 3, 8)); // the pool is exactly the ring
    assert_eq!(nic.rx_posted(), 8);
    let frames: Vec<Vec<u8>> = (0..8).map(|_| frame(&mut rng, MAC_A, MAC_B, 100)).collect();
    for f in &frames {
        assert_eq!(model.inject(f), RxOutcome::Delivered { verdict: 0 });
    }
    let mut held = Vec::new();
    assert_eq!(nic.rx_burst(&mut held, 64), 8);
    assert_eq!(nic.rx_posted(), 0, "nothing left to post: the test holds every buffer");
    check(&mut nic, 8);

    // Starved: 5 frames dropped and counted, the RX_NO_BUFFER cause raised.
    for _ in 0..5 {
        assert_eq!(model.inject(&frame(&mut rng, MAC_A, MAC_B, 100)), RxOutcome::NoBuffer);
    }
    assert_eq!(nic.counter(Counter::RxNoBuffer), 5);
    assert_eq!(nic.counter(Counter::RxFrames), 8);
    assert_ne!(nic.backend().read32(IRQ_CAUSE.offset) & (1 << IRQ_BIT_RX_NO_BUFFER), 0);
    assert_eq!(nic.rx_burst(&mut held, 64), 0);

    // Recovery: give the buffers back; the next burst posts them and frames land again.
    nic.recycle_all(&mut held).unwrap();
    check(&mut nic, 0);
    assert_eq!(nic.rx_burst(&mut held, 64), 0);
    assert_eq!(nic.rx_posted(), 8);
    let later: Vec<Vec<u8>> = (0..3).map(|_| frame(&mut rng, MAC_A, MAC_B, 200)).collect();
    for f in &later {
        assert_eq!(model.inject(f), RxOutcome::Delivered { verdict: 0 });
    }
    assert_eq!(nic.rx_burst(&mut held, 64), 3);
    for (b, f) in held.iter().zip(&later) {
        assert_eq!(nic.data(b).unwrap(), &f[..]);
    }
    assert_eq!(nic.counter(Counter::RxFrames), 11);
    assert_eq!(nic.counter(Counter::RxBytes), 8 * 100 + 3 * 200);
    assert_eq!(nic.counter(Counter::RxNoBuffer), 5, "no drop once buffers were back");
    assert_eq!(nic.stats().rx_frames, 11);
    nic.recycle_all(&mut held).unwrap();
    check(&mut nic, 0);
}

#[test]
fn a_blocked_receiver_is_woken_by_the_interrupt_eventfd() {
    let (model, mut nic) = card(NicConfig { mac: MAC_A, ..NicConfig::default() });
    // Nothing arrives: the wait times out with nothing.
    let mut got = Vec::new();
    let t = Instant::now();
    assert_eq!(nic.napi_rx(&mut got, 64, Duration::from_millis(50)).unwrap(), 0);
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert_eq!(nic.stats().irqs, 0);

    let f = frame(&mut ChaCha8Rng::seed_from_u64(seed() + 2), MAC_A, MAC_B, 300);
    let receiver = std::thread::spawn(move || {
        let mut got = Vec::new();
        let t = Instant::now();
        let n = nic.napi_rx(&mut got, 64, Duration::from_secs(20)).unwrap();
        let data = nic.data(&got[0]).unwrap().to_vec();
        nic.recycle_all(&mut got).unwrap();
        (n, data, t.elapsed(), nic)
    });
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(model.inject(&f), RxOutcome::Delivered { verdict: 0 });
    let (n, data, waited, mut nic) = receiver.join().unwrap();
    assert_eq!((n, data), (1, f.clone()));
    assert!(waited >= Duration::from_millis(100), "the receiver really slept ({waited:?})");
    assert_eq!(nic.stats().irqs, 1, "woken by exactly one interrupt");

    // While frames keep coming, the vector stays masked: polling finds them, no interrupt.
    for _ in 0..3 {
        model.inject(&f);
    }
    let mut got = Vec::new();
    assert_eq!(nic.napi_rx(&mut got, 64, Duration::from_secs(1)).unwrap(), 3);
    assert_eq!(nic.stats().irqs, 1);
    nic.recycle_all(&mut got).unwrap();
    check(&mut nic, 0);
}

#[test]
fn moderation_by_frame_count_and_timer() {
    let (model, mut nic) = card(NicConfig { mac: MAC_A, irq_mod_frames: 4, ..NicConfig::default() });
    let f = frame(&mut ChaCha8Rng::seed_from_u64(seed() + 3), MAC_A, MAC_B, 64);
    nic.unmask_vector(VEC_RX);
    for _ in 0..3 {
        model.inject(&f);
    }
    assert!(!nic.wait_irq(VEC_RX, Duration::from_millis(20)).unwrap(), "3 < 4 frames: no interrupt yet");
    model.inject(&f);
    assert!(nic.wait_irq(VEC_RX, Duration::from_millis(1000)).unwrap(), "the 4th frame interrupts");

    nic.set_moderation(8, 50);
    model.inject(&f);
    assert!(!nic.wait_irq(VEC_RX, Duration::from_millis(20)).unwrap());
    model.expire_moderation_timers();
    assert!(nic.wait_irq(VEC_RX, Duration::from_millis(1000)).unwrap(), "the timer fires the pending frame");

    // Masked causes are owed and interrupt at unmask (NAPI loses nothing).
    nic.mask_vector(VEC_RX);
    nic.set_moderation(1, 0);
    model.inject(&f);
    assert!(!nic.wait_irq(VEC_RX, Duration::from_millis(20)).unwrap());
    nic.unmask_vector(VEC_RX);
    assert!(nic.wait_irq(VEC_RX, Duration::from_millis(1000)).unwrap());
    let mut got = Vec::new();
    assert_eq!(nic.rx_burst(&mut got, 64), 6);
    nic.recycle_all(&mut got).unwrap();
    check(&mut nic, 0);
}

#[test]
fn tx_interrupt_link_status_and_link_interrupt() {
    let (model, mut nic) = card(NicConfig { mac: MAC_A, ..NicConfig::default() });
    let l = nic.link();
    assert!(l.up && l.cdr_lock && !l.rx_stopped && !l.tx_stopped);
    nic.unmask_vector(VEC_ERR);
    model.set_link(false);
    assert!(nic.wait_irq(VEC_ERR, Duration::from_secs(1)).unwrap());
    assert!(!nic.link().up);
    assert_eq!(nic.ack_vector(VEC_ERR), 1 << nic_regs::IRQ_BIT_LINK);
    assert_eq!(nic.ack_vector(VEC_ERR), 0, "W1C cleared it");

    nic.unmask_vector(VEC_TX);
    let mut out = vec![nic.alloc_copy(&[0xFF; 60]).unwrap()];
    assert_eq!(nic.tx_burst(&mut out), 1);
    assert!(nic.wait_irq(VEC_TX, Duration::from_secs(1)).unwrap());
    assert_eq!(nic.reap_tx(), 1);
    assert_eq!(model.take_sent(), vec![vec![0xFF; 60]]);
    check(&mut nic, 0);
}

#[test]
fn one_doorbell_per_burst() {
    let (model, mut nic) = card(NicConfig { buffers: 400, ..small(MAC_A, 7, 400) });
    let f = frame(&mut ChaCha8Rng::seed_from_u64(seed() + 4), MAC_A, MAC_B, 128);
    for _ in 0..32 {
        model.inject(&f);
    }
    let before = nic.backend().register_writes();
    let reads = nic.backend().register_reads();
    let mut got = Vec::new();
    assert_eq!(nic.rx_burst(&mut got, 64), 32);
    assert_eq!(
        nic.backend().register_writes() - before,
        2,
        "RX completion CONSUMER and RX descriptor PRODUCER, once each"
    );
    nic.recycle_all(&mut got).unwrap();
    let writes = nic.backend().register_writes();
    assert_eq!(nic.rx_burst(&mut got, 64), 0);
    assert_eq!(nic.backend().register_writes(), writes, "an idle poll writes no register");

    let mut out: Vec<Buf> = (0..32).map(|_| nic.alloc_copy(&f).unwrap()).collect();
    let before = nic.backend().register_writes();
    assert_eq!(nic.tx_burst(&mut out), 32);
    assert_eq!(nic.backend().register_writes() - before, 1, "TX PRODUCER once for 32 frames");
    let before = nic.backend().register_writes();
    assert_eq!(nic.reap_tx(), 32);
    assert_eq!(nic.backend().register_writes() - before, 1, "TX completion CONSUMER once");
    assert_eq!(model.take_sent().len(), 32);
    // More than a burst: capped at 64 per call.
    let mut out: Vec<Buf> = (0..100).map(|_| nic.alloc_copy(&f).unwrap()).collect();
    assert_eq!(nic.tx_burst(&mut out), 64);
    assert_eq!(nic.tx_burst(&mut out), 36);
    nic.reap_tx();
    assert_eq!(nic.backend().register_reads(), reads, "the fast path never reads a device register");
    assert_eq!(model.bad_accesses(), 0);
    check(&mut nic, 0);
}

#[test]
fn counters_are_read_race_free_and_match_the_device() {
    let (model, mut nic) = card(NicConfig { mac: MAC_A, ..NicConfig::default() });
    let mut rng = ChaCha8Rng::seed_from_u64(seed() + 5);
    let mut bytes = 0;
    for _ in 0..50 {
        let len = rng.gen_range(60..1500);
        let f = frame(&mut rng, MAC_A, MAC_B, len);
        bytes += f.len() as u64;
        model.inject(&f);
        // A frame to someone else: filtered.
        model.inject(&frame(&mut rng, [0x02, 9, 9, 9, 9, 9], MAC_B, 60));
    }
    model.inject(&[0u8; 40]); // runt
    model.inject(&vec![0u8; 1600]); // giant
    let all = nic.counters();
    let get = |name: &str| all.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap();
    assert_eq!(get("RX_FRAMES"), 50);
    assert_eq!(get("RX_BYTES"), bytes);
    assert_eq!(get("RX_FILTERED"), 50);
    assert_eq!(get("RX_RUNTS"), 1);
    assert_eq!(get("RX_GIANTS"), 1);
    assert_eq!(nic.counter(Counter::RxBytes), model.counter(Counter::RxBytes));
    let mut got = Vec::new();
    while nic.rx_burst(&mut got, 64) > 0 {}
    assert_eq!(got.len(), 50);
    nic.recycle_all(&mut got).unwrap();
    check(&mut nic, 0);
}

/// A backend that is not our card (wrong ID).
struct Impostor(ModelBackend);
impl Backend for Impostor {
    fn read32(&self, offset: u32) -> u32 {
        if offset == nic_regs::ID.offset {
            0xFFFF_FFFF
        } else {
            self.0.read32(offset)
        }
    }
    fn write32(&self, offset: u32, value: u32) {
        self.0.write32(offset, value)
    }
    fn alloc_dma(&mut self, len: usize) -> Result<nic_driver::DmaRegion, Error> {
        self.0.alloc_dma(len)
    }
    fn irq_eventfd(&self, vector: usize) -> &vmm_sys_util::eventfd::EventFd {
        self.0.irq_eventfd(vector)
    }
    fn describe(&self) -> String {
        "impostor".into()
    }
}

#[test]
fn bring_up_refuses_other_devices_and_bad_configs() {
    assert_eq!(NicConfig::default().dma_bytes(), 2048 * 2048 + 4 * 16 * 512);
    let e = Nic::new(Impostor(ModelBackend::new_detached()), NicConfig::default()).err().unwrap();
    assert_eq!(e, Error::NotOurDevice { id: 0xFFFF_FFFF });
    assert!(e.to_string().contains("0x4e494331"));
    for bad in [
        NicConfig { rx_ring_log2: 16, ..NicConfig::default() },
        NicConfig { tx_ring_log2: 0, ..NicConfig::default() },
        NicConfig { mac: [0x01, 0, 0, 0, 0, 1], ..NicConfig::default() },
        NicConfig { buf_size: 128, ..NicConfig::default() },
        NicConfig { buf_size: 2000, ..NicConfig::default() },
        NicConfig { buffers: 0, ..NicConfig::default() },
        NicConfig { max_len: 10, ..NicConfig::default() },
    ] {
        let e = Nic::new(ModelBackend::new_detached(), bad.clone()).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(matches!(e, Error::Config(_)), "{bad:?}: {e}");
    }
    // A boxed backend works the same (the trait is object safe).
    let boxed: Box<dyn Backend> = Box::new(ModelNic::new().backend());
    let nic = Nic::new(boxed, NicConfig::default()).unwrap();
    assert_eq!(nic.backend().describe(), "model");
}

#[test]
fn handles_from_another_nic_are_refused() {
    let (_ma, mut a) = card(small(MAC_A, 3, 16));
    let (_mb, mut b) = card(small(MAC_B, 3, 16));
    let buf = a.alloc_copy(&[1; 60]).unwrap();
    assert_eq!(b.data(&buf).err(), Some(Error::ForeignBuffer));
    let mut v = vec![buf];
    assert_eq!(b.tx_burst(&mut v), 0, "not b's buffer: the burst stops");
    assert_eq!(b.recycle(v.pop().unwrap()), Err(Error::ForeignBuffer));
    // (the handle is consumed by the failed recycle: a's pool counts it as lent)
    check(&mut a, 1);
    check(&mut b, 0);
    let mut x = a.alloc().unwrap();
    assert_eq!(a.set_len(&mut x, 4096), Err(Error::FrameTooLong { len: 4096, max: 2048 - 160 }));
    assert_eq!(a.alloc_copy(&[0; 3000]).err(), Some(Error::FrameTooLong { len: 3000, max: 2048 - 160 }));
    a.recycle(x).unwrap();
    check(&mut a, 1);
}

#[test]
fn pool_exhaustion_is_an_error_not_a_panic() {
    let (_m, mut nic) = card(small(MAC_A, 2, 6)); // 4 posted to RX, 2 free
    let a = nic.alloc().unwrap();
    let b = nic.alloc().unwrap();
    assert_eq!(nic.alloc().err(), Some(Error::NoBuffer));
    check(&mut nic, 2);
    nic.recycle(a).unwrap();
    nic.recycle(b).unwrap();
    check(&mut nic, 0);
}
