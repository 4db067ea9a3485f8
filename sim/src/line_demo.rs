//! `nic line`: the line itself under stress, gateware only. Frames from host A go out
//! through the transmit path (MAC TX + PHY), across a simulated line with a clock offset,
//! jitter and bit errors, and in through the receive path (PHY, MAC with FCS and filter,
//! store-and-forward FIFO) of host B, whose host side is written to a pcap. Every frame is
//! checked against the plain-Rust reference. (`nic demo` runs the whole system.)
use crate::line::frames::{flip_bits, rx_pins};
use crate::pcap::PcapWriter;
use nic_hdl::model::line::{decode_samples, encode_frames, words_to_samples, LineConfig};
use nic_hdl::model::pins::{mii_tx_bytes, ppm_period_ps, PinSample, TwoClocks};
use nic_hdl::model::rx_reference::{expected_rx, random_frame, DestClass, MacConfig, PhyBurst, PREAMBLE, SFD};
use nic_hdl::model::tx_reference::{decode_frame, split_frames, WireByte};
use nic_hdl::top::drive::{self, RxRun, TxTopCounters};
use nic_hdl::top::rx_path::{RxGmiiTop, RxMiiTop};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

pub use crate::model::Phy;

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub phy: Phy,
    pub frames: usize,
    pub seed: u64,
    pub ppm: f64,
    pub jitter_ui: f64,
    pub ber: f64,
    pub max_len: usize,
    pub pcap: String,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            phy: Phy::Gmii,
            frames: 40,
            seed: 1,
            ppm: 150.0,
            jitter_ui: 0.1,
            ber: 2e-5,
            max_len: 1514,
            pcap: "demo.pcap".into(),
        }
    }
}

/// What a demo run found; `Ok` only if every frame matched the reference.
pub struct DemoReport {
    pub delivered: usize,
    pub expected: usize,
}

fn step(title: &str) -> Instant {
    eprintln!("… {title}");
    Instant::now()
}

fn done(t: Instant, what: String) {
    eprintln!("  done in {:.1} s: {what}", t.elapsed().as_secs_f64());
}

/// Host A's traffic: a mix the filter must sort (to B, broadcast, B's multicast group, a
/// group B did not join, another station).
fn traffic(opts: &DemoOptions, b: &MacConfig) -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let classes = [
        DestClass::Station,
        DestClass::Station,
        DestClass::Broadcast,
        DestClass::JoinedMulticast,
        DestClass::UnjoinedMulticast,
        DestClass::OtherUnicast,
    ];
    (0..opts.frames)
        .map(|i| {
            let len = if i == 0 { 60 } else { rng.gen_range(60..=opts.max_len.clamp(60, 1514)) };
            let class = classes[i % classes.len()];
            random_frame(&mut rng, b, class, len).expect("every class is possible for B")
        })
        .collect()
}

pub fn run(opts: &DemoOptions) -> Result<DemoReport, String> {
    println!("nic line — the line under stress: host A's transmit path (MAC TX + PHY) across an");
    println!("impaired line into host B's receive path (PHY, MAC, filter, FIFO), simulated cycle by");
    println!("cycle in Rust-HDL; every frame checked against the reference.\n");
    println!("PHY      {}", opts.phy.describe());
    let jitter = match opts.phy {
        Phy::Manchester => format!("jitter ±{} UI on every edge, ", opts.jitter_ui),
        Phy::Gmii | Phy::Mii => String::new(),
    };
    println!(
        "line     {:+} ppm between the hosts' clocks, {jitter}bit error rate {:e}, seed {}",
        opts.ppm, opts.ber, opts.seed
    );

    let mut b = MacConfig { station: [0x02, 0x00, 0x00, 0x00, 0x00, 0x0B], ..Default::default() };
    b.join(&[0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB]);
    let frames = traffic(opts, &b);
    let payload: usize = frames.iter().map(Vec::len).sum();
    println!("traffic  {} frames ({} bytes) from host A to host B's address, broadcast, B's group, other groups, other stations\n", frames.len(), payload);

    // Host A: transmit path.
    let t = step("host A: MAC TX + PHY TX gateware");
    let (on_line, tx) = transmit(opts, &frames)?;
    done(t, format!("{} frames, {} bytes on the wire incl. padding and FCS", tx.frames_sent, tx.bytes_sent));
    if on_line != frames.iter().map(|f| padded(f)).collect::<Vec<_>>() {
        return Err("host A's line does not carry the frames it was given".into());
    }

    // The line and host B: receive path.
    let t = step("line + host B: PHY RX, MAC RX (FCS, filter), store-and-forward FIFO");
    let (run, corrupted) = receive(opts, &b, &on_line)?;
    done(t, format!("{} core clock cycles", run.core_cycles));

    // The reference: what B must deliver given what the line did to each frame.
    let clean: Vec<PhyBurst> = on_line
        .iter()
        .zip(&corrupted)
        .filter(|(_, &c)| !c)
        .map(|(f, _)| {
            let mut bytes = vec![PREAMBLE; 7];
            bytes.push(SFD);
            bytes.extend_from_slice(&nic_hdl::model::rx_reference::with_fcs(f));
            PhyBurst { bytes, ..Default::default() }
        })
        .collect();
    let (want, want_counters) = expected_rx(&b, &clean);
    let n_corrupted = corrupted.iter().filter(|&&c| c).count();

    let c = run.counters;
    println!(
        "\nhost A  TX MAC   frames_sent {:>6}  bytes_sent {:>8}  underflows {}  oversize {}",
        tx.frames_sent, tx.bytes_sent, tx.underflows, tx.oversize
    );
    println!("line             frames corrupted by bit errors {n_corrupted}");
    match opts.phy {
        Phy::Manchester => println!("host B  RX PHY   code violations {}", c.phy_events),
        _ => println!("host B  RX PHY   clock-crossing overflows {}", c.phy_events),
    }
    println!(
        "host B  RX MAC   frames_ok {:>6}  fcs_errors {}  filtered {}  runts {}  giants {}  phy_errors {}  bad_preamble {}",
        c.frames_ok, c.fcs_errors, c.filtered, c.runts, c.giants, c.phy_errors, c.bad_preamble
    );
    println!("host B  RX FIFO  overflow drops {}", c.fifo_overflows);

    let mut pcap = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&opts.pcap).map_err(|e| format!("cannot create {}: {e}", opts.pcap))?,
    ))
    .map_err(|e| format!("{}: {e}", opts.pcap))?;
    for (i, f) in run.frames.iter().enumerate() {
        pcap.write_frame(i as u64 * 1000, &f.bytes).map_err(|e| format!("{}: {e}", opts.pcap))?;
    }
    pcap.finish().map_err(|e| format!("{}: {e}", opts.pcap))?;
    println!(
        "\nhost B's host side: {} frames written to {} (FCS stripped, as the host sees them)",
        run.frames.len(),
        opts.pcap
    );

    let mut problems = run.protocol_errors.clone();
    if run.frames.len() != want.len()
        || run.frames.iter().zip(&want).any(|(g, w)| g.bytes != w.bytes || g.verdict != w.verdict)
    {
        problems.push(format!("delivered {} frames, the reference expects {}", run.frames.len(), want.len()));
    }
    if c.frames_ok != want_counters.frames_ok
        || c.filtered != want_counters.filtered
        || c.fcs_errors as usize != n_corrupted
    {
        problems.push("counters differ from the reference".into());
    }
    if problems.is_empty() {
        println!("check: every frame the reference expects arrived byte-exact and in order; nothing else did ✔");
        Ok(DemoReport { delivered: run.frames.len(), expected: want.len() })
    } else {
        Err(problems.join("; "))
    }
}

/// The frame as it leaves a MAC: padded to 60 bytes (the FCS is not part of it here).
fn padded(f: &[u8]) -> Vec<u8> {
    let mut v = f.to_vec();
    v.resize(v.len().max(60), 0);
    v
}

/// Host A's transmit path; returns the frames as they appeared on the wire (without FCS).
fn transmit(opts: &DemoOptions, frames: &[Vec<u8>]) -> Result<(Vec<Vec<u8>>, TxTopCounters), String> {
    let wire_frames = |stream: &[WireByte]| -> Result<Vec<Vec<u8>>, String> {
        split_frames(stream).frames.iter().map(|f| decode_frame(f).map_err(|e| e.to_string())).collect()
    };
    match opts.phy {
        Phy::Manchester => {
            let (words, c) = drive::run_manchester_tx(frames, 200, None);
            let line = decode_samples(&words_to_samples(&words, 8), 16).map_err(|e| e.to_string())?;
            let frames = line.frames.iter().map(|f| f.bytes[..f.bytes.len().saturating_sub(4)].to_vec()).collect();
            Ok((frames, c))
        }
        Phy::Gmii => {
            let (wire, c) = drive::run_gmii_tx(frames, 20, None);
            Ok((wire_frames(&wire)?, c))
        }
        Phy::Mii => {
            let clocks = TwoClocks::new(8000.0, 40000.0);
            let (pins, c) = drive::run_mii_tx(frames, clocks, 40, None);
            Ok((wire_frames(&mii_tx_bytes(&pins).map_err(|e| e.to_string())?)?, c))
        }
    }
}

/// The line (clock offset, jitter, bit errors) and host B's receive path. Returns the run
/// and which frames the line corrupted.
fn receive(opts: &DemoOptions, b: &MacConfig, on_line: &[Vec<u8>]) -> Result<(RxRun, Vec<bool>), String> {
    let with_fcs: Vec<Vec<u8>> = on_line.iter().map(|f| nic_hdl::model::rx_reference::with_fcs(f)).collect();
    match opts.phy {
        Phy::Manchester => {
            let line = LineConfig {
                ppm: opts.ppm,
                jitter_peak_ui: opts.jitter_ui,
                bit_error_rate: opts.ber,
                seed: opts.seed,
                ..Default::default()
            };
            let (words, reports) = encode_frames(&line, &with_fcs, 8);
            let run = drive::run_manchester_rx(b, &words, 3200, |_| true, None);
            Ok((run, reports.iter().map(|r| r.corrupted).collect()))
        }
        Phy::Gmii | Phy::Mii => {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0xB17);
            let mut corrupted = Vec::new();
            let mut pins: Vec<PinSample> = Vec::new();
            for f in &with_fcs {
                let mut bytes = f.clone();
                corrupted.push(flip_bits(&mut rng, &mut bytes, opts.ber));
                pins.extend(rx_pins(opts.phy == Phy::Mii, &bytes));
            }
            let run = if opts.phy == Phy::Gmii {
                let clocks = TwoClocks::new(8000.0, ppm_period_ps(8000.0, opts.ppm));
                drive::run_pin_rx::<RxGmiiTop>(b, clocks, &pins, 3200, |_| true, None)
            } else {
                let clocks = TwoClocks::new(8000.0, ppm_period_ps(40000.0, opts.ppm));
                drive::run_pin_rx::<RxMiiTop>(b, clocks, &pins, 700, |_| true, None)
            };
            Ok((run, corrupted))
        }
    }
}
