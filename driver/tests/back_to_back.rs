//! Two model cards back to back, each driven by this driver: 10,000 random frames each way,
//! byte-exact and in order, with the receive filter checked frame by frame.
mod common;

use common::*;
use nic_driver::{Buf, ModelBackend, ModelNic, Nic, NicConfig};
use nic_regs::{multicast_bin, Counter};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FRAMES_EACH_WAY: usize = 10_000;
const JOINED: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
const OTHER_STATION: [u8; 6] = [0x02, 0x77, 0x77, 0x77, 0x77, 0x77];

/// A multicast group whose hash bin differs from `JOINED`'s (so the filter must drop it).
fn unjoined_group() -> [u8; 6] {
    (2u8..)
        .map(|k| [0x01, 0x00, 0x5E, 0x00, 0x00, k])
        .find(|g| multicast_bin(g) != multicast_bin(&JOINED))
        .expect("some group hashes elsewhere")
}

struct Side {
    model: ModelNic,
    nic: Nic<ModelBackend>,
    mac: [u8; 6],
}

/// The filter a receiver with one joined group applies, written from the spec: the verdict
/// (0 station, 1 multicast, 2 broadcast) or `None` (dropped).
fn expected_verdict(dst: [u8; 6], station: [u8; 6], unjoined: [u8; 6]) -> Option<u8> {
    match dst {
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] => Some(2),
        JOINED => Some(1),
        d if d == unjoined => None,
        d if d == station => Some(0),
        _ => None,
    }
}

#[test]
fn ten_thousand_random_frames_each_way_byte_exact_in_order_with_filtering() {
    let seed = seed();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let unjoined = unjoined_group();
    let mut sides: Vec<Side> = [MAC_A, MAC_B]
        .into_iter()
        .map(|mac| {
            let (model, nic) = card(NicConfig { mac, multicast: vec![JOINED], ..NicConfig::default() });
            Side { model, nic, mac }
        })
        .collect();
    ModelNic::connect(&sides[0].model, &sides[1].model);

    let mut sent = [0usize; 2];
    let mut delivered = [0u64; 2];
    let mut filtered = [0u64; 2];
    let mut verdicts = [[0u64; 3]; 2];
    let mut got: Vec<Buf> = Vec::new();
    while sent[0] < FRAMES_EACH_WAY || sent[1] < FRAMES_EACH_WAY {
        let from = rng.gen_range(0..2);
        let to = 1 - from;
        let burst = rng.gen_range(1..=64).min(FRAMES_EACH_WAY - sent[from]);
        if burst == 0 {
            continue;
        }
        let (src, dst_station) = (sides[from].mac, sides[to].mac);
        let frames: Vec<Vec<u8>> = (0..burst)
            .map(|_| {
                let dst = match rng.gen_range(0..100) {
                    0..=69 => dst_station,
                    70..=79 => [0xFF; 6],
                    80..=89 => JOINED,
                    90..=94 => unjoined,
                    _ => OTHER_STATION,
                };
                let len = rng.gen_range(60..=1514);
                frame(&mut rng, dst, src, len)
            })
            .collect();
        let mut out: Vec<Buf> = frames.iter().map(|f| sides[from].nic.alloc_copy(f).unwrap()).collect();
        assert_eq!(sides[from].nic.tx_burst(&mut out), burst, "seed {seed}");
        sent[from] += burst;

        let expected: Vec<(&Vec<u8>, u8)> = frames
            .iter()
            .filter_map(|f| expected_verdict(f[..6].try_into().unwrap(), dst_station, unjoined).map(|v| (f, v)))
            .collect();
        filtered[to] += (burst - expected.len()) as u64;
        let rx = &mut sides[to].nic;
        while rx.rx_burst(&mut got, 64) > 0 {}
        assert_eq!(got.len(), expected.len(), "seed {seed}: frames delivered");
        for (b, (f, v)) in got.iter().zip(&expected) {
            assert_eq!(rx.data(b).unwrap(), &f[..], "seed {seed}: bytes and order");
            assert_eq!(b.verdict(), *v, "seed {seed}: verdict");
            assert_eq!(b.csum(), nic_regs::rx_sum(f));
            verdicts[to][*v as usize] += 1;
        }
        delivered[to] += got.len() as u64;
        rx.recycle_all(&mut got).unwrap();
    }
    for (i, s) in sides.iter_mut().enumerate() {
        s.nic.reap_tx();
        check(&mut s.nic, 0);
        assert_eq!(s.nic.counter(Counter::TxFrames), FRAMES_EACH_WAY as u64);
        assert_eq!(s.nic.counter(Counter::RxFrames), delivered[i]);
        assert_eq!(s.nic.counter(Counter::RxFiltered), filtered[i]);
        assert_eq!(s.nic.counter(Counter::RxNoBuffer), 0);
        assert!(verdicts[i].iter().all(|&n| n > 500), "every kind exercised: {:?}", verdicts[i]);
        assert!(filtered[i] > 500, "unjoined multicast and other stations dropped");
        assert_eq!(s.nic.stats().bad_completions, 0);
    }
}

#[test]
fn short_frames_are_padded_on_the_wire_and_promiscuous_mode_sees_everything() {
    let (ma, mut a) = card(NicConfig { mac: MAC_A, ..NicConfig::default() });
    let (mb, mut b) = card(NicConfig { mac: MAC_B, promisc: true, ..NicConfig::default() });
    ModelNic::connect(&ma, &mb);
    let mut rng = ChaCha8Rng::seed_from_u64(seed() + 7);
    let short = frame(&mut rng, MAC_B, MAC_A, 42);
    let stranger = frame(&mut rng, OTHER_STATION, MAC_A, 100);
    let mut out = vec![a.alloc_copy(&short).unwrap(), a.alloc_copy(&stranger).unwrap()];
    assert_eq!(a.tx_burst(&mut out), 2);
    let mut got = Vec::new();
    assert_eq!(b.rx_burst(&mut got, 64), 2);
    let mut padded = short.clone();
    padded.resize(60, 0);
    assert_eq!(b.data(&got[0]).unwrap(), &padded[..], "the MAC pads to 60 bytes");
    assert_eq!((got[0].verdict(), got[1].verdict()), (0, 3), "station, then promiscuous");
    assert_eq!(b.data(&got[1]).unwrap(), &stranger[..]);
    b.recycle_all(&mut got).unwrap();
    a.reap_tx();
    check(&mut a, 0);
    check(&mut b, 0);
}
