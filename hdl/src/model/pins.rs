//! Pin-level models of external PHY chips (GMII and MII): what a PHY puts on the receive
//! pins for a frame, what the MAC's PHY byte stream should then carry, how to read the
//! transmit pins back into byte times, and a two-clock harness that drives a receive path
//! with the PHY clock offset from the core clock by some ppm.
//!
//! One [`PinSample`] is one PHY clock: 8 data bits on GMII, 4 (low nibble first) on MII.
use crate::model::tx_reference::WireByte;
use crate::verilog::vectors::VectorRecorder;
// The two-clock schedule lives with the other stepping helpers; re-exported here because
// pin-level tests always need it.
pub use crate::sim::{ppm_period_ps, Domain, TwoClocks};
use rust_hdl::prelude::*;

/// Preamble nibble / byte and SFD as they appear on the pins.
const PREAMBLE_BYTE: u8 = 0x55;
const SFD: u8 = 0xD5;

/// The receive (or transmit) pins during one PHY clock.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PinSample {
    /// RXD/TXD: 8 bits on GMII, the low 4 bits on MII.
    pub data: u8,
    /// RX_DV / TX_EN.
    pub dv: bool,
    /// RX_ER / TX_ER.
    pub er: bool,
}

impl PinSample {
    pub const IDLE: PinSample = PinSample { data: 0, dv: false, er: false };
}

/// How a PHY delivers one frame on its receive pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RxFrameSpec {
    /// Preamble symbols before the SFD: bytes of 0x55 on GMII, nibbles of 0x5 on MII (the
    /// SFD's own low nibble 0x5 not counted). 0 = SFD only. PHYs may eat some preamble, so
    /// any count, odd ones on MII included, must be accepted.
    pub preamble: usize,
    /// Assert `rx_er` with this byte of the frame (0 = first byte after the SFD); on MII
    /// with both of its nibbles. Past the end of the frame: no error.
    pub error_at: Option<usize>,
    /// Idle PHY clocks (`rx_dv` low) after the frame.
    pub gap: usize,
}

impl RxFrameSpec {
    /// 7 preamble bytes and the 12-byte minimum gap.
    pub fn gmii() -> Self {
        RxFrameSpec { preamble: 7, error_at: None, gap: 12 }
    }
    /// 15 preamble nibbles and the 24-nibble (12-byte) minimum gap.
    pub fn mii() -> Self {
        RxFrameSpec { preamble: 15, error_at: None, gap: 24 }
    }
}

/// GMII receive pins for `frame` (the bytes after the SFD, FCS included if wanted).
pub fn gmii_rx_pins(frame: &[u8], spec: &RxFrameSpec) -> Vec<PinSample> {
    let mut v: Vec<PinSample> = std::iter::repeat_n(PREAMBLE_BYTE, spec.preamble)
        .chain(std::iter::once(SFD))
        .map(|data| PinSample { data, dv: true, er: false })
        .collect();
    v.extend(frame.iter().enumerate().map(|(i, &data)| PinSample { data, dv: true, er: spec.error_at == Some(i) }));
    v.extend(std::iter::repeat_n(PinSample::IDLE, spec.gap));
    v
}

/// MII receive pins for `frame`: nibbles low first.
pub fn mii_rx_pins(frame: &[u8], spec: &RxFrameSpec) -> Vec<PinSample> {
    let nib = |data: u8, er: bool| PinSample { data, dv: true, er };
    let mut v: Vec<PinSample> = std::iter::repeat_n(nib(0x5, false), spec.preamble).collect();
    v.push(nib(SFD & 0xF, false));
    v.push(nib(SFD >> 4, false));
    for (i, &b) in frame.iter().enumerate() {
        let er = spec.error_at == Some(i);
        v.push(nib(b & 0xF, er));
        v.push(nib(b >> 4, er));
    }
    v.extend(std::iter::repeat_n(PinSample::IDLE, spec.gap));
    v
}

/// One clock of the PHY byte stream (`lib.rs`) that carries something.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RxEvent {
    Byte { data: u8, error: bool },
    End { error: bool },
}

impl RxEvent {
    /// Read the PHY byte stream outputs of a receive block (valid, data, error, end).
    pub fn sample(valid: bool, data: u8, error: bool, end: bool) -> Option<RxEvent> {
        if valid {
            Some(RxEvent::Byte { data, error })
        } else if end {
            Some(RxEvent::End { error })
        } else {
            None
        }
    }
}

fn frame_events(head: &[u8], frame: &[u8], spec: &RxFrameSpec) -> Vec<RxEvent> {
    let mut v: Vec<RxEvent> = head.iter().map(|&data| RxEvent::Byte { data, error: false }).collect();
    v.extend(frame.iter().enumerate().map(|(i, &data)| RxEvent::Byte { data, error: spec.error_at == Some(i) }));
    v.push(RxEvent::End { error: false });
    v
}

/// What `GmiiRx` must deliver for [`gmii_rx_pins`]: every byte with `rx_dv` (preamble
/// included), then one end.
pub fn gmii_rx_expected(frame: &[u8], spec: &RxFrameSpec) -> Vec<RxEvent> {
    let mut head = vec![PREAMBLE_BYTE; spec.preamble];
    head.push(SFD);
    frame_events(&head, frame, spec)
}

/// What `MiiRx` must deliver for [`mii_rx_pins`]: the SFD and the frame (the preamble is
/// dropped because its byte alignment is only known at the SFD), then one end.
pub fn mii_rx_expected(frame: &[u8], spec: &RxFrameSpec) -> Vec<RxEvent> {
    frame_events(&[SFD], frame, spec)
}

/// GMII transmit pins (one sample per GTX_CLK) as byte times.
pub fn gmii_tx_bytes(pins: &[PinSample]) -> Vec<WireByte> {
    pins.iter().map(|p| WireByte { en: p.dv, er: p.er, data: p.data }).collect()
}

/// Why a captured MII transmit nibble stream does not form whole bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinError {
    /// `tx_en` fell after an odd number of nibbles; `at` is the sample index.
    OddNibbles { at: usize },
    /// An odd number of idle nibbles between two frames (a byte time split in half).
    OddGap { at: usize },
    /// A nibble wider than 4 bits.
    NotANibble { at: usize, data: u8 },
}

impl std::fmt::Display for PinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinError::OddNibbles { at } => write!(f, "tx_en fell mid-byte at nibble {at}"),
            PinError::OddGap { at } => write!(f, "odd number of idle nibbles before nibble {at}"),
            PinError::NotANibble { at, data } => write!(f, "sample {at} has data {data:#x}"),
        }
    }
}

impl std::error::Error for PinError {}

/// MII transmit pins (one sample per TX_CLK) as byte times: nibbles are paired low first
/// from the rising edge of `tx_en`; idle nibbles count half a byte time each. Idle before
/// the first frame may be odd (the capture starts anywhere); other gaps must be whole bytes.
/// `er` of a byte is the OR of its two nibbles.
pub fn mii_tx_bytes(pins: &[PinSample]) -> Result<Vec<WireByte>, PinError> {
    let mut out = Vec::new();
    let mut idle = 0usize;
    let mut seen_frame = false;
    let mut low: Option<PinSample> = None;
    for (at, p) in pins.iter().enumerate() {
        if p.data > 0xF {
            return Err(PinError::NotANibble { at, data: p.data });
        }
        if p.dv {
            if idle > 0 {
                if seen_frame && idle % 2 == 1 {
                    return Err(PinError::OddGap { at });
                }
                out.extend(std::iter::repeat_n(WireByte::IDLE, idle / 2));
                idle = 0;
            }
            seen_frame = true;
            match low.take() {
                None => low = Some(*p),
                Some(l) => out.push(WireByte { en: true, er: l.er || p.er, data: l.data | p.data << 4 }),
            }
        } else {
            if low.is_some() {
                return Err(PinError::OddNibbles { at });
            }
            idle += 1;
        }
    }
    out.extend(std::iter::repeat_n(WireByte::IDLE, idle / 2));
    Ok(out)
}

/// Drive a design with two free-running clocks: `clocks` domain A is the core clock,
/// domain B the PHY's. Runs until `phy_cycles` PHY clock cycles have been started.
///
/// Before each PHY rising edge `before_phy_edge(uut, n)` is called with the PHY cycle
/// number `n` (set the pins for that cycle); before each core rising edge
/// `before_core_edge(uut)` (sample the core-domain outputs, drive core inputs). The design
/// is settled when either is called, and settled again before the edge.
pub fn run_two_clocks<B: Block>(
    uut: &mut B,
    clocks: &mut TwoClocks,
    core_clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    phy_clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    phy_cycles: usize,
    before_phy_edge: impl FnMut(&mut B, usize),
    before_core_edge: impl FnMut(&mut B),
) {
    run_two_clocks_traced(uut, clocks, core_clk, phy_clk, phy_cycles, before_phy_edge, before_core_edge, None)
}

/// [`run_two_clocks`], recording every port after each settle when `rec` is given, for a
/// Verilog replay (`verilog::vectors`).
#[allow(clippy::too_many_arguments)]
pub fn run_two_clocks_traced<B: Block>(
    uut: &mut B,
    clocks: &mut TwoClocks,
    core_clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    phy_clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    phy_cycles: usize,
    mut before_phy_edge: impl FnMut(&mut B, usize),
    mut before_core_edge: impl FnMut(&mut B),
    mut rec: Option<&mut VectorRecorder>,
) {
    let mut n = 0usize;
    while n < phy_cycles {
        let e = clocks.peek();
        if e.rising {
            match e.domain {
                Domain::A => before_core_edge(uut),
                Domain::B => {
                    before_phy_edge(uut, n);
                    n += 1;
                }
            }
        }
        clocks.step_traced(uut, &core_clk, &phy_clk, rec.as_deref_mut());
    }
}

/// Play `pins` (then `tail` idle PHY clocks, so the crossing can drain) into a receive
/// block through `set_pins`, calling `before_core_edge` before each core rising edge.
/// `clocks`: A is the core clock, B the PHY's; the usual use is
/// `TwoClocks::new(8000.0, ppm_period_ps(8000.0, ppm))` for GMII or
/// `TwoClocks::new(8000.0, ppm_period_ps(40000.0, ppm))` for MII, possibly `.delayed(..)`
/// to start at another phase.
#[allow(clippy::too_many_arguments)]
pub fn drive_rx_pins<B: Block>(
    uut: &mut B,
    mut clocks: TwoClocks,
    core_clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    phy_clk: impl Fn(&mut B) -> &mut Signal<In, Clock>,
    pins: &[PinSample],
    tail: usize,
    mut set_pins: impl FnMut(&mut B, PinSample),
    before_core_edge: impl FnMut(&mut B),
) {
    run_two_clocks(
        uut,
        &mut clocks,
        core_clk,
        phy_clk,
        pins.len() + tail,
        |u, n| set_pins(u, pins.get(n).copied().unwrap_or(PinSample::IDLE)),
        before_core_edge,
    );
}

/// A receive adapter as seen from its pins and its PHY byte stream (`phy::gmii::GmiiRx`,
/// `phy::mii::MiiRx`), so one harness drives either.
pub trait PinReceiver: Block {
    fn core_clock(&mut self) -> &mut Signal<In, Clock>;
    fn phy_clock(&mut self) -> &mut Signal<In, Clock>;
    /// Put one PHY clock's pin values on the inputs.
    fn set_pins(&mut self, p: PinSample);
    /// The PHY byte stream outputs this core clock.
    fn output(&self) -> Option<RxEvent>;
    /// The adapter's overflow counter.
    fn overflow_count(&self) -> u32;
}

/// Implement [`PinReceiver`] for a block with the receive adapter ports `clock`,
/// `phy_clock`, `rxd`, `rx_dv`, `rx_er`, `valid`, `data`, `error`, `frame_end`, `overflows`.
macro_rules! impl_pin_receiver {
    ($block:ty) => {
        impl $crate::model::pins::PinReceiver for $block {
            fn core_clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
            fn phy_clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.phy_clock
            }
            fn set_pins(&mut self, p: $crate::model::pins::PinSample) {
                self.rxd.next = p.data.to_bits();
                self.rx_dv.next = p.dv;
                self.rx_er.next = p.er;
            }
            fn output(&self) -> Option<$crate::model::pins::RxEvent> {
                $crate::model::pins::RxEvent::sample(
                    self.valid.val(),
                    self.data.val().to_u8(),
                    self.error.val(),
                    self.frame_end.val(),
                )
            }
            fn overflow_count(&self) -> u32 {
                self.overflows.val().to_u32()
            }
        }
    };
}
pub(crate) use impl_pin_receiver;

/// Play `pins` (then `tail` idle PHY clocks) into `uut` and collect its PHY byte stream.
pub fn receive<B: PinReceiver>(uut: &mut B, clocks: TwoClocks, pins: &[PinSample], tail: usize) -> Vec<RxEvent> {
    receive_traced(uut, clocks, pins, tail, None)
}

/// [`receive`], recording every port after each settle when `rec` is given, for a Verilog
/// replay (`verilog::vectors`).
pub fn receive_traced<B: PinReceiver>(
    uut: &mut B,
    mut clocks: TwoClocks,
    pins: &[PinSample],
    tail: usize,
    rec: Option<&mut VectorRecorder>,
) -> Vec<RxEvent> {
    let mut got = vec![];
    run_two_clocks_traced(
        uut,
        &mut clocks,
        |u| u.core_clock(),
        |u| u.phy_clock(),
        pins.len() + tail,
        |u, n| u.set_pins(pins.get(n).copied().unwrap_or(PinSample::IDLE)),
        |u| got.extend(u.output()),
        rec,
    );
    got
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tx_reference::{split_frames, wire_bytes};

    fn er_positions(pins: &[PinSample]) -> Vec<usize> {
        (0..pins.len()).filter(|&i| pins[i].er).collect()
    }

    fn byte(data: u8, error: bool) -> RxEvent {
        RxEvent::Byte { data, error }
    }

    #[test]
    fn gmii_pins_layout() {
        let spec = RxFrameSpec { preamble: 2, error_at: Some(1), gap: 3 };
        let p = gmii_rx_pins(&[0xA1, 0xB2], &spec);
        let data: Vec<u8> = p.iter().map(|s| s.data).collect();
        assert_eq!(data, [0x55, 0x55, 0xD5, 0xA1, 0xB2, 0, 0, 0]);
        let dv: Vec<bool> = p.iter().map(|s| s.dv).collect();
        assert_eq!(dv, [true, true, true, true, true, false, false, false]);
        let er = er_positions(&p);
        assert_eq!(er, [4]);
        assert_eq!(
            gmii_rx_expected(&[0xA1, 0xB2], &spec),
            vec![
                byte(0x55, false),
                byte(0x55, false),
                byte(0xD5, false),
                byte(0xA1, false),
                byte(0xB2, true),
                RxEvent::End { error: false },
            ]
        );
    }

    #[test]
    fn mii_pins_layout_odd_preamble() {
        let spec = RxFrameSpec { preamble: 3, error_at: Some(0), gap: 2 };
        let p = mii_rx_pins(&[0xA1], &spec);
        let data: Vec<u8> = p.iter().map(|s| s.data).collect();
        assert_eq!(data, [5, 5, 5, 5, 0xD, 0x1, 0xA, 0, 0]);
        let er = er_positions(&p);
        assert_eq!(er, [5, 6]);
        assert_eq!(mii_rx_expected(&[0xA1], &spec)[0], RxEvent::Byte { data: 0xD5, error: false });
    }

    /// MII transmit nibbles of a byte-time stream, the way `MiiTx` puts them out.
    fn to_nibbles(bytes: &[WireByte]) -> Vec<PinSample> {
        bytes
            .iter()
            .flat_map(|b| [b.data & 0xF, b.data >> 4].map(|data| PinSample { data, dv: b.en, er: b.er }))
            .collect()
    }

    #[test]
    fn mii_tx_decode_round_trip_and_errors() {
        let mut s = vec![WireByte::IDLE; 3];
        s.extend(wire_bytes(&[1, 2, 3]).into_iter().map(WireByte::frame));
        s.extend(vec![WireByte::IDLE; 12]);
        s.extend(wire_bytes(&[4]).into_iter().map(WireByte::frame));
        s.push(WireByte::IDLE);
        let mut nibbles = to_nibbles(&s);
        assert_eq!(mii_tx_bytes(&nibbles), Ok(s.clone()));
        assert_eq!(split_frames(&s).frames[1].gap_before, 12);
        // An odd leading idle is tolerated (capture started mid byte).
        nibbles.insert(0, PinSample::IDLE);
        assert_eq!(mii_tx_bytes(&nibbles), Ok(s.clone()));
        // A frame ending after half a byte.
        let mut odd = to_nibbles(&s);
        odd.remove(6 + 10);
        assert!(matches!(mii_tx_bytes(&odd), Err(PinError::OddNibbles { .. })));
        // A gap of 23 nibbles.
        let mut gap = to_nibbles(&s);
        gap.remove(2 * (3 + 72) + 1);
        assert!(matches!(mii_tx_bytes(&gap), Err(PinError::OddGap { .. })));
        let wide = [PinSample { data: 0x10, dv: true, er: false }];
        assert_eq!(mii_tx_bytes(&wide), Err(PinError::NotANibble { at: 0, data: 0x10 }));
    }

    #[test]
    fn random_nibble_captures_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
        for _ in 0..2000 {
            let n = rng.gen_range(0..100);
            let pins: Vec<PinSample> = (0..n)
                .map(|_| PinSample { data: rng.gen_range(0..18), dv: rng.gen_bool(0.7), er: rng.gen_bool(0.1) })
                .collect();
            if let Ok(bytes) = mii_tx_bytes(&pins) {
                // Whatever decodes, decodes to at most one byte time per two nibbles.
                assert!(bytes.len() * 2 <= pins.len());
            }
            let _ = gmii_tx_bytes(&pins);
        }
    }

    #[test]
    fn two_clock_harness_counts_edges_in_period_ratio() {
        // With no design behind it, a block of two clock inputs is enough to watch the
        // schedule: PHY cycles started vs core cycles in the same time.
        #[derive(LogicBlock, Default)]
        struct Clocks {
            a: Signal<In, Clock>,
            b: Signal<In, Clock>,
        }
        impl Logic for Clocks {
            fn update(&mut self) {}
        }
        let mut uut = Clocks::default();
        uut.connect_all();
        for (pa, pb) in [(8000.0, 40000.0), (8000.0, crate::sim::ppm_period_ps(8000.0, -200.0))] {
            let mut core = 0usize;
            let mut clocks = TwoClocks::new(pa, pb);
            run_two_clocks(&mut uut, &mut clocks, |u| &mut u.a, |u| &mut u.b, 50_000, |_, _| {}, |_| core += 1);
            // Core rising edges at pa/2 + k*pa up to the last PHY rising edge.
            let last_phy_edge = pb / 2.0 + 49_999.0 * pb;
            let expect = ((last_phy_edge - pa / 2.0) / pa).floor() + 1.0;
            assert!((core as f64 - expect).abs() <= 1.0, "{core} core cycles, expected {expect}");
        }
    }
}
