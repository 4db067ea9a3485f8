//! The whole transmit path, per PHY, through the exported top: frames on the line are
//! byte-exact against the reference (preamble, SFD, padding to 60 B, FCS) with the exact
//! inter-frame gap; and the Manchester line, looped back into the RX top, delivers the frames.
use nic_hdl::model::line::{decode_samples, words_to_samples};
use nic_hdl::model::pins::{mii_tx_bytes, ppm_period_ps, TwoClocks};
use nic_hdl::model::rx_reference::{random_frame, DestClass, MacConfig, Verdict};
use nic_hdl::model::tx_reference::{check_transmission, padded_with_fcs, DEFAULT_IFG};
use nic_hdl::top::drive::{run_gmii_tx, run_manchester_rx, run_manchester_tx, run_mii_tx, TxTopCounters};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SAMPLES_PER_BIT: usize = 16;

/// Edge cases first (padding below 60 B, exactly 60, one more, the largest), then random.
fn frames(seed: u64, random: usize) -> Vec<Vec<u8>> {
    let cfg = MacConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut lens = vec![14, 59, 60, 61, 1514];
    lens.extend((0..random).map(|_| rng.gen_range(14..=1514)));
    lens.into_iter().map(|len| random_frame(&mut rng, &cfg, DestClass::Station, len).expect("station frames")).collect()
}

fn expected_counters(frames: &[Vec<u8>]) -> TxTopCounters {
    TxTopCounters {
        frames_sent: frames.len() as u32,
        bytes_sent: frames.iter().map(|f| padded_with_fcs(f).len() as u32).sum(),
        underflows: 0,
        oversize: 0,
    }
}

#[test]
fn gmii_wire_bytes_and_gaps_match_the_reference() {
    let frames = frames(1, 20);
    let (wire, counters) = run_gmii_tx(&frames, 40, None);
    check_transmission(&wire, &frames, DEFAULT_IFG as usize).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counters, expected_counters(&frames));
}

#[test]
fn mii_wire_bytes_and_gaps_match_the_reference_at_200_ppm() {
    let frames = frames(2, 6);
    for ppm in [0.0, 200.0, -200.0] {
        let clocks = TwoClocks::new(8000.0, ppm_period_ps(40000.0, ppm));
        let (pins, counters) = run_mii_tx(&frames, clocks, 80, None);
        let wire = mii_tx_bytes(&pins).unwrap_or_else(|e| panic!("{ppm} ppm: {e}"));
        check_transmission(&wire, &frames, DEFAULT_IFG as usize).unwrap_or_else(|e| panic!("{ppm} ppm: {e}"));
        assert_eq!(counters, expected_counters(&frames), "{ppm} ppm");
    }
}

#[test]
fn manchester_line_carries_the_reference_frames_with_tp_idl_and_gap() {
    let frames = frames(3, 4);
    let (words, counters) = run_manchester_tx(&frames, 400, None);
    assert_eq!(counters, expected_counters(&frames));
    let line = decode_samples(&words_to_samples(&words, 8), SAMPLES_PER_BIT as u32)
        .unwrap_or_else(|e| panic!("the TX line does not decode: {e}"));
    assert_eq!(line.frames.len(), frames.len());
    for (i, (got, sent)) in line.frames.iter().zip(&frames).enumerate() {
        assert_eq!(got.bytes, padded_with_fcs(sent), "frame {i}: bytes after the SFD");
        assert_eq!(got.preamble_bits, 56, "frame {i}: preamble");
        assert_eq!(got.tp_idl_samples, 2 * SAMPLES_PER_BIT, "frame {i}: TP_IDL");
        if i > 0 {
            // The gap is 96 bit times from the end of one frame's last bit cell to the start
            // of the next frame's first; TP_IDL is part of it. The decoder counts idle up to
            // the first high sample, which is half a bit into the first preamble bit (a 1 is
            // low, then high).
            assert_eq!(
                got.gap_before_samples - SAMPLES_PER_BIT / 2 + line.frames[i - 1].tp_idl_samples,
                DEFAULT_IFG as usize * 8 * SAMPLES_PER_BIT,
                "frame {i}: inter-frame gap"
            );
        }
    }
}

#[test]
fn manchester_tx_looped_into_rx_delivers_every_frame() {
    let frames = frames(4, 6);
    let (words, _) = run_manchester_tx(&frames, 400, None);
    let cfg = MacConfig::default();
    let run = run_manchester_rx(&cfg, &words, 4000, |_| true, None);
    assert!(run.protocol_errors.is_empty(), "{:?}", run.protocol_errors);
    let got: Vec<Vec<u8>> = run.frames.iter().map(|f| f.bytes.clone()).collect();
    let want: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let mut p = padded_with_fcs(f);
            p.truncate(p.len() - 4);
            p
        })
        .collect();
    assert_eq!(got, want);
    assert!(run.frames.iter().all(|f| f.verdict == Verdict::Station));
    assert_eq!(run.counters.frames_ok, frames.len() as u32);
    assert_eq!(run.counters.fcs_errors + run.counters.phy_events, 0);
}
