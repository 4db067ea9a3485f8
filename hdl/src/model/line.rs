//! The 10BASE-T-style line: frames → oversampled Manchester samples, and samples → frames.
//!
//! [`LineEncoder`] is what a receiving PHY sees: it adds preamble and SFD to each frame,
//! Manchester-encodes it (IEEE 802.3: a 1 is low-to-high at mid-bit, a 0 high-to-low, bytes
//! LSB first), ends it with TP_IDL (line high for 2 bit times after the last bit, then idle
//! low) and an idle gap, and optionally sends normal link pulses while idle. The transmitter
//! clock can be off by `ppm`, every edge can be displaced by uniform random jitter, and data
//! bits after the SFD can be flipped at a bit error rate; every frame's report says whether it
//! was corrupted, so a test can check an error counter exactly. All randomness comes from one
//! seeded `ChaCha8Rng`: the same config gives the same samples.
//!
//! [`decode_samples`] goes the other way for checking a transmitter: it splits a sample stream
//! into frames and link pulses, measures TP_IDL and the gaps, and returns an error (never a
//! panic) for anything that is not a well-formed frame.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Start frame delimiter as a byte (sent LSB first: 1,0,1,0,1,0,1,1).
pub const SFD: u8 = 0xD5;
/// Preamble byte (sent LSB first: 1,0,1,0,1,0,1,0).
pub const PREAMBLE_BYTE: u8 = 0x55;
/// TP_IDL: the line stays high this many bit times after the last bit of a frame.
pub const TP_IDL_HIGH_BITS: u32 = 2;
/// Normal link pulse interval of 10BASE-T (16 ms at 10 Mb/s), in bit times.
pub const NLP_INTERVAL_BITS: u64 = 160_000;

#[derive(Clone, Debug, PartialEq)]
pub struct LineConfig {
    /// Receiver samples per bit (the oversampling ratio R).
    pub samples_per_bit: u32,
    /// Transmitter clock offset: positive means the transmitter is fast (shorter bits).
    pub ppm: f64,
    /// Every edge is displaced by a uniform random amount in ±this many bit times.
    pub jitter_peak_ui: f64,
    /// Probability that a data bit after the SFD is flipped.
    pub bit_error_rate: f64,
    /// Number of 0x55 bytes before the SFD, 0..=7 (larger values are clamped to 7).
    pub preamble_bytes: usize,
    /// Bit times from the end of a frame's last bit to the next frame (TP_IDL included).
    pub idle_bits: u32,
    /// Send normal link pulses every `link_pulse_interval_bits` of idle line.
    pub link_pulses: bool,
    pub link_pulse_interval_bits: u64,
    pub seed: u64,
}

impl Default for LineConfig {
    fn default() -> Self {
        Self {
            samples_per_bit: 16,
            ppm: 0.0,
            jitter_peak_ui: 0.0,
            bit_error_rate: 0.0,
            preamble_bytes: 7,
            idle_bits: 96,
            link_pulses: false,
            link_pulse_interval_bits: NLP_INTERVAL_BITS,
            seed: 0,
        }
    }
}

/// What happened to one frame on the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameReport {
    /// At least one data bit was flipped: the FCS of this frame must fail.
    pub corrupted: bool,
    pub flipped_bits: usize,
    /// Code violations (missing mid-bit transitions) injected into this frame.
    pub violations: usize,
    /// Nominal sample index of the first preamble (or SFD) bit.
    pub start_sample: u64,
}

/// Streams frames onto the line as packed sample words.
pub struct LineEncoder {
    cfg: LineConfig,
    rng: ChaCha8Rng,
    /// Nominal length of half a bit, in receiver samples (includes the ppm offset).
    half_period: f64,
    /// Half-bits sent so far (the nominal time axis).
    halves: u64,
    /// Line level after the last edge.
    level: bool,
    /// Next sample index not yet rendered.
    next_sample: u64,
    word_bits: usize,
    acc: u64,
    acc_len: usize,
    words: Vec<u64>,
    idle_since_pulse: u64,
}

impl LineEncoder {
    /// `word_bits` samples per output word (W, 1..=64), bit 0 = earliest sample.
    pub fn new(cfg: LineConfig, word_bits: usize) -> Self {
        assert!((1..=64).contains(&word_bits), "word width must be 1..=64");
        assert!(cfg.samples_per_bit >= 2, "need at least 2 samples per bit");
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let half_period = cfg.samples_per_bit as f64 / (1.0 + cfg.ppm * 1e-6) / 2.0;
        Self {
            cfg,
            rng,
            half_period,
            halves: 0,
            level: false,
            next_sample: 0,
            word_bits,
            acc: 0,
            acc_len: 0,
            words: Vec::new(),
            idle_since_pulse: 0,
        }
    }

    pub fn config(&self) -> &LineConfig {
        &self.cfg
    }

    fn push_sample(&mut self, s: bool) {
        self.acc |= (s as u64) << self.acc_len;
        self.acc_len += 1;
        if self.acc_len == self.word_bits {
            self.words.push(self.acc);
            self.acc = 0;
            self.acc_len = 0;
        }
    }

    /// Render samples at times before `t` with the current level.
    fn render_until(&mut self, t: f64) {
        while (self.next_sample as f64) < t {
            self.push_sample(self.level);
            self.next_sample += 1;
        }
    }

    /// One half-bit at `level`; an edge at its start if the level changes, displaced by jitter.
    fn half(&mut self, level: bool) {
        if level != self.level {
            let mut t = self.halves as f64 * self.half_period;
            if self.cfg.jitter_peak_ui > 0.0 {
                let j = self.rng.gen_range(-self.cfg.jitter_peak_ui..=self.cfg.jitter_peak_ui);
                t += j * 2.0 * self.half_period;
            }
            self.render_until(t);
            self.level = level;
        }
        self.halves += 1;
    }

    fn bit(&mut self, b: bool) {
        self.half(!b);
        self.half(b);
    }

    /// A bit with no mid-bit transition: a code violation.
    fn violation_bit(&mut self, b: bool) {
        self.half(!b);
        self.half(!b);
    }

    fn byte(&mut self, byte: u8) {
        for i in 0..8 {
            self.bit(byte >> i & 1 == 1);
        }
    }

    /// Idle (low) line for `bits` bit times, with link pulses if configured.
    pub fn idle(&mut self, bits: u64) {
        for _ in 0..bits {
            self.idle_since_pulse += 1;
            if self.cfg.link_pulses && self.idle_since_pulse >= self.cfg.link_pulse_interval_bits {
                self.link_pulse();
            } else {
                self.half(false);
                self.half(false);
            }
        }
    }

    /// One normal link pulse: high for one bit time, then low.
    pub fn link_pulse(&mut self) {
        self.half(true);
        self.half(true);
        self.idle_since_pulse = 0;
    }

    /// Preamble, SFD, `bytes` (destination .. FCS), TP_IDL and the idle gap.
    pub fn frame(&mut self, bytes: &[u8]) -> FrameReport {
        self.frame_with_violations(bytes, &[])
    }

    /// Like [`Self::frame`], but the data bits at the given indices (counted from the first
    /// bit after the SFD) are sent without their mid-bit transition.
    pub fn frame_with_violations(&mut self, bytes: &[u8], violate: &[usize]) -> FrameReport {
        let start_sample = (self.halves as f64 * self.half_period).round() as u64;
        for _ in 0..self.cfg.preamble_bytes.min(7) {
            self.byte(PREAMBLE_BYTE);
        }
        self.byte(SFD);
        let mut report = FrameReport { corrupted: false, flipped_bits: 0, violations: 0, start_sample };
        for (n, &byte) in bytes.iter().enumerate() {
            for i in 0..8 {
                let mut b = byte >> i & 1 == 1;
                if self.cfg.bit_error_rate > 0.0 && self.rng.gen::<f64>() < self.cfg.bit_error_rate {
                    b = !b;
                    report.flipped_bits += 1;
                }
                if violate.contains(&(n * 8 + i)) {
                    self.violation_bit(b);
                    report.violations += 1;
                } else {
                    self.bit(b);
                }
            }
        }
        report.corrupted = report.flipped_bits > 0;
        for _ in 0..TP_IDL_HIGH_BITS * 2 {
            self.half(true);
        }
        self.idle_since_pulse = 0;
        self.idle(self.cfg.idle_bits.saturating_sub(TP_IDL_HIGH_BITS) as u64);
        report
    }

    /// Completed words so far (drained). Samples after the last edge are rendered lazily,
    /// so call [`Self::finish`] to get the tail.
    pub fn take_words(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.words)
    }

    /// Render everything sent so far and pad the last word with the current level.
    pub fn finish(mut self) -> Vec<u64> {
        let end = self.halves as f64 * self.half_period;
        self.render_until(end);
        while self.acc_len != 0 {
            self.push_sample(self.level);
        }
        self.words
    }
}

/// The line for a list of frames: `idle_bits` of idle line first, then every frame.
/// Returns the sample words (W = `word_bits` samples each) and one report per frame.
pub fn encode_frames(cfg: &LineConfig, frames: &[Vec<u8>], word_bits: usize) -> (Vec<u64>, Vec<FrameReport>) {
    let mut enc = LineEncoder::new(cfg.clone(), word_bits);
    enc.idle(cfg.idle_bits as u64);
    let reports = frames.iter().map(|f| enc.frame(f)).collect();
    (enc.finish(), reports)
}

/// Unpack words of `word_bits` samples (bit 0 earliest) into one sample per entry.
pub fn words_to_samples(words: &[u64], word_bits: usize) -> Vec<bool> {
    words.iter().flat_map(|w| (0..word_bits).map(move |i| w >> i & 1 == 1)).collect()
}

/// A frame found on the line by [`decode_samples`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Sample index of the first mid-bit transition.
    pub start_sample: usize,
    /// Bits before the SFD (8 per preamble byte).
    pub preamble_bits: usize,
    /// The bytes after the SFD.
    pub bytes: Vec<u8>,
    /// How long the line stayed high after the end of the last bit (TP_IDL), in samples.
    pub tp_idl_samples: usize,
    /// Idle samples between the previous activity (frame end, link pulse or the start of
    /// the stream) and this frame.
    pub gap_before_samples: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkPulse {
    pub start_sample: usize,
    pub width_samples: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodedLine {
    pub frames: Vec<DecodedFrame>,
    pub link_pulses: Vec<LinkPulse>,
}

/// Why a sample stream is not a sequence of well-formed frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// The oversampling ratio is too small to decode.
    BadSamplesPerBit(u32),
    /// A burst of transitions without the SFD pattern after an alternating preamble.
    NoSfd { at_sample: usize },
    /// The bits after the SFD are not a whole number of bytes.
    PartialByte { at_sample: usize, bits: usize },
    /// A missing mid-bit transition while the line was still active.
    CodeViolation { at_sample: usize },
    /// The frame did not end with TP_IDL (high for about 2 bit times, then low).
    NoTpIdl { at_sample: usize },
    /// The stream ended inside a frame.
    Truncated { at_sample: usize },
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for LineError {}

/// First sample index in `from..to` (clamped to the stream) whose level differs from the
/// sample before it.
fn next_edge(s: &[bool], from: usize, to: usize) -> Option<usize> {
    (from.max(1)..to.min(s.len())).find(|&n| s[n] != s[n - 1])
}

/// Decode a sample stream (as `ManchesterTx` produces it, or the line model with moderate
/// jitter) into frames and link pulses. Mid-bit transitions are searched ±R/4 around one bit
/// after the previous one; the first missing one ends the frame, which must then be followed
/// by TP_IDL and a quiet line.
pub fn decode_samples(s: &[bool], samples_per_bit: u32) -> Result<DecodedLine, LineError> {
    if samples_per_bit < 4 {
        return Err(LineError::BadSamplesPerBit(samples_per_bit));
    }
    let r = samples_per_bit as usize;
    let mut out = DecodedLine::default();
    let mut last_activity = 0usize;
    let mut pos = 1usize;
    while let Some(start) = next_edge(s, pos, s.len()) {
        if !s[start] {
            // A falling edge on an idle line: the end of a pulse we already handled, or a
            // stream that starts high. Nothing to decode.
            pos = start + 1;
            last_activity = start;
            continue;
        }
        // The first rising edge from idle is the mid-bit transition of a 1.
        let mut bits = vec![true];
        let mut mid = start;
        while let Some(e) = next_edge(s, mid + 3 * r / 4, mid + 5 * r / 4 + 1) {
            bits.push(s[e]);
            mid = e;
        }
        if mid + 5 * r / 4 + 1 > s.len() {
            return Err(LineError::Truncated { at_sample: start });
        }
        // After the last transition: at most a boundary rise, then one fall, then quiet.
        let first = next_edge(s, mid + 1, s.len());
        let fall = match first {
            Some(e) if !s[e] => Some(e),
            Some(e) => next_edge(s, e + 1, s.len()),
            None => None,
        };
        if bits == [true, false] && first.is_none_or(|e| e >= mid + 2 * r) {
            out.link_pulses.push(LinkPulse { start_sample: start, width_samples: mid - start });
            last_activity = mid;
            pos = mid + 1;
            continue;
        }
        let fall = match fall {
            Some(f) => f,
            // The line went quiet without the high TP_IDL tail.
            None if s.len() > mid + 3 * r => return Err(LineError::NoTpIdl { at_sample: mid }),
            None => return Err(LineError::Truncated { at_sample: start }),
        };
        if let Some(e) = next_edge(s, fall + 1, fall + 2 * r) {
            return Err(LineError::CodeViolation { at_sample: e });
        }
        let bit_end = mid + r / 2;
        let tp_idl = fall.saturating_sub(bit_end);
        // TP_IDL is nominally 2 bit times; anything under 1.5 is a line still switching.
        if tp_idl < 3 * r / 2 || !s[fall - 1] {
            return Err(LineError::NoTpIdl { at_sample: bit_end });
        }
        let sfd_bits: Vec<bool> = (0..8).map(|i| SFD >> i & 1 == 1).collect();
        let sfd_end =
            (7..bits.len()).find(|&k| bits[k - 7..=k] == sfd_bits[..]).ok_or(LineError::NoSfd { at_sample: start })?;
        let data = &bits[sfd_end + 1..];
        if data.len() % 8 != 0 {
            return Err(LineError::PartialByte { at_sample: start, bits: data.len() });
        }
        let bytes = data.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |b, (i, &x)| b | (x as u8) << i)).collect();
        out.frames.push(DecodedFrame {
            start_sample: start,
            preamble_bits: sfd_end - 7,
            bytes,
            tp_idl_samples: tp_idl,
            gap_before_samples: start - last_activity,
        });
        last_activity = fall;
        pos = fall + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rx_reference::random_frame_with_fcs;

    fn frame(len: usize, seed: u64) -> Vec<u8> {
        random_frame_with_fcs(&mut ChaCha8Rng::seed_from_u64(seed), len)
    }

    #[test]
    fn clean_line_round_trips_through_the_decoder() {
        let frames = vec![frame(64, 1), frame(300, 2), frame(64, 3)];
        let cfg = LineConfig::default();
        let (words, reports) = encode_frames(&cfg, &frames, 8);
        assert!(reports.iter().all(|r| !r.corrupted));
        let line = decode_samples(&words_to_samples(&words, 8), 16).unwrap();
        assert_eq!(line.frames.len(), 3);
        for (d, f) in line.frames.iter().zip(&frames) {
            assert_eq!(&d.bytes, f);
            assert_eq!(d.preamble_bits, 56);
            assert_eq!(d.tp_idl_samples, 32, "TP_IDL is 2 bit times");
        }
        // Gap = idle_bits minus TP_IDL, plus the first half bit of the next preamble.
        assert_eq!(line.frames[1].gap_before_samples, (96 - 2) * 16 + 8);
    }

    #[test]
    fn ppm_stretches_the_line() {
        let frames = vec![frame(1000, 4)];
        let n = |ppm| {
            let cfg = LineConfig { ppm, ..Default::default() };
            words_to_samples(&encode_frames(&cfg, &frames, 8).0, 8).len()
        };
        let (slow, nominal, fast) = (n(-200.0), n(0.0), n(200.0));
        // ~8100 bits × 16 samples × 200e-6 ≈ 26 samples.
        assert!(slow > nominal + 16 && fast + 16 < nominal, "{slow} {nominal} {fast}");
    }

    #[test]
    fn jittered_line_still_decodes_and_is_deterministic() {
        let frames = vec![frame(200, 5)];
        let cfg = LineConfig { jitter_peak_ui: 0.1, ppm: 100.0, seed: 9, ..Default::default() };
        let a = encode_frames(&cfg, &frames, 8).0;
        assert_eq!(a, encode_frames(&cfg, &frames, 8).0, "same seed, same samples");
        let other = LineConfig { seed: 10, ..cfg.clone() };
        assert_ne!(a, encode_frames(&other, &frames, 8).0);
        let line = decode_samples(&words_to_samples(&a, 8), 16).unwrap();
        assert_eq!(line.frames[0].bytes, frames[0]);
    }

    #[test]
    fn bit_errors_are_reported_and_break_the_fcs() {
        let frames: Vec<Vec<u8>> = (0..40).map(|i| frame(64, 100 + i)).collect();
        let cfg = LineConfig { bit_error_rate: 1e-3, seed: 3, ..Default::default() };
        let (words, reports) = encode_frames(&cfg, &frames, 8);
        let line = decode_samples(&words_to_samples(&words, 8), 16).unwrap();
        let mut corrupted = 0;
        for ((d, f), r) in line.frames.iter().zip(&frames).zip(&reports) {
            let fcs_ok = crc32fast::hash(&d.bytes[..d.bytes.len() - 4]).to_le_bytes() == d.bytes[d.bytes.len() - 4..];
            assert_eq!(fcs_ok, !r.corrupted);
            assert_eq!(r.corrupted, d.bytes != *f);
            corrupted += r.corrupted as usize;
        }
        // 40 × 512 bits at 1e-3: ~20 expected; the point is that some but not all are hit.
        assert!(corrupted > 0 && corrupted < 40, "{corrupted}");
    }

    #[test]
    fn link_pulses_are_sent_while_idle() {
        let cfg = LineConfig { link_pulses: true, link_pulse_interval_bits: 100, ..Default::default() };
        let mut enc = LineEncoder::new(cfg, 8);
        enc.idle(350);
        let line = decode_samples(&words_to_samples(&enc.finish(), 8), 16).unwrap();
        assert!(line.frames.is_empty());
        assert_eq!(line.link_pulses.len(), 3);
        for p in &line.link_pulses {
            assert_eq!(p.width_samples, 16);
        }
        assert_eq!(line.link_pulses[1].start_sample - line.link_pulses[0].start_sample, 100 * 16);
    }

    #[test]
    fn malformed_streams_give_errors_not_panics() {
        let f = frame(64, 7);
        let mut enc = LineEncoder::new(LineConfig::default(), 8);
        enc.idle(20);
        enc.frame_with_violations(&f, &[100]);
        let s = words_to_samples(&enc.finish(), 8);
        assert!(matches!(decode_samples(&s, 16), Err(LineError::CodeViolation { .. })));
        // Cut in the middle of the frame.
        assert!(decode_samples(&s[..2000], 16).is_err());
        // A burst of alternating bits with no SFD.
        let mut enc = LineEncoder::new(LineConfig { preamble_bytes: 0, ..Default::default() }, 8);
        enc.idle(10);
        for _ in 0..4 {
            enc.byte(PREAMBLE_BYTE);
        }
        enc.idle(20);
        let s = words_to_samples(&enc.finish(), 8);
        assert!(matches!(decode_samples(&s, 16), Err(LineError::NoTpIdl { .. })));
        assert_eq!(decode_samples(&s, 2), Err(LineError::BadSamplesPerBit(2)));
        // Random garbage never panics.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let g: Vec<bool> = (0..3000).map(|_| rng.gen_bool(0.5)).collect();
            let _ = decode_samples(&g, 16);
        }
    }
}
