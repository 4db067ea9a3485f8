//! Frames ⇄ external-PHY pin samples, one sample per PHY clock.
//!
//! [`PinEncoder`] turns frames (without FCS) into receive-pin samples: preamble, SFD, frame,
//! FCS, then the minimum gap, as a PHY delivers them. [`PinDecoder`] watches transmit pins and
//! returns each frame as it ends, checked: preamble and SFD, FCS, `tx_er`.
use nic_hdl::model::pins::{gmii_rx_pins, mii_rx_pins, PinSample, RxFrameSpec};
use nic_hdl::model::rx_reference::with_fcs;
use rand::Rng;
use std::collections::VecDeque;

/// Receive pins for one frame (FCS included) as an external PHY delivers it: preamble, SFD,
/// the bytes, then the minimum gap.
pub fn rx_pins(mii: bool, frame: &[u8]) -> Vec<PinSample> {
    if mii {
        mii_rx_pins(frame, &RxFrameSpec::mii())
    } else {
        gmii_rx_pins(frame, &RxFrameSpec::gmii())
    }
}

/// Flip each bit of `bytes` with probability `ber`, drawing from `rng`; whether any flipped.
pub fn flip_bits(rng: &mut impl Rng, bytes: &mut [u8], ber: f64) -> bool {
    let mut flipped = false;
    if ber > 0.0 {
        for bit in 0..bytes.len() * 8 {
            if rng.gen_bool(ber.clamp(0.0, 1.0)) {
                bytes[bit / 8] ^= 1 << (bit % 8);
                flipped = true;
            }
        }
    }
    flipped
}

/// The frame in `body` (frame then FCS) when its FCS is right.
pub fn strip_good_fcs(body: &[u8]) -> Option<&[u8]> {
    let n = body.len();
    (n >= 5 && crc32fast::hash(&body[..n - 4]).to_le_bytes() == body[n - 4..]).then(|| &body[..n - 4])
}

/// Receive pins from frames: one sample per `next()`, idle when nothing is queued.
#[derive(Default)]
pub struct PinEncoder {
    mii: bool,
    queue: VecDeque<PinSample>,
}

impl PinEncoder {
    pub fn new(mii: bool) -> Self {
        PinEncoder { mii, queue: VecDeque::new() }
    }

    /// Queue `frame` (without FCS; the FCS is computed here).
    pub fn push_frame(&mut self, frame: &[u8]) {
        self.queue.extend(rx_pins(self.mii, &with_fcs(frame)));
    }

    /// Samples still queued (a frame and its gap take `8 + len + 4 + 12` on GMII).
    pub fn backlog(&self) -> usize {
        self.queue.len()
    }

    pub fn next_sample(&mut self) -> PinSample {
        self.queue.pop_front().unwrap_or(PinSample::IDLE)
    }
}

/// What the transmit pins carried between two idle periods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxFrame {
    /// A well-formed frame: preamble, SFD, frame and a correct FCS (the FCS removed).
    Good(Vec<u8>),
    /// Anything else, with what was wrong.
    Bad { bytes: Vec<u8>, why: &'static str },
}

impl TxFrame {
    /// The frame's bytes (for a bad one, what the pins carried).
    pub fn bytes(&self) -> &[u8] {
        match self {
            TxFrame::Good(b) => b,
            TxFrame::Bad { bytes, .. } => bytes,
        }
    }
}

/// Watches transmit pins; returns a frame when `tx_en` falls.
#[derive(Default)]
pub struct PinDecoder {
    mii: bool,
    /// Bytes (GMII) or nibbles (MII) of the transmission in progress.
    bytes: Vec<u8>,
    error: bool,
    active: bool,
}

impl PinDecoder {
    pub fn new(mii: bool) -> Self {
        PinDecoder { mii, ..Default::default() }
    }

    pub fn push(&mut self, s: PinSample) -> Option<TxFrame> {
        if s.dv {
            self.active = true;
            self.error |= s.er;
            if self.mii {
                // Nibbles are kept one per entry; they are paired once the SFD is found.
                self.bytes.push(s.data & 0xF);
            } else {
                self.bytes.push(s.data);
            }
            return None;
        }
        if !self.active {
            return None;
        }
        self.active = false;
        let mut bytes = std::mem::take(&mut self.bytes);
        if self.mii {
            bytes = Self::pair_nibbles(&bytes);
        }
        let error = std::mem::replace(&mut self.error, false);
        Some(Self::check(bytes, error))
    }

    /// MII nibbles (low first) → bytes, aligned on the SFD (preamble nibbles 0x5, then 0xD):
    /// a PHY may deliver any number of preamble nibbles, odd ones included.
    fn pair_nibbles(nibbles: &[u8]) -> Vec<u8> {
        match nibbles.iter().position(|&n| n != 0x5) {
            Some(i) if i > 0 && nibbles[i] == 0xD => {
                let mut out = vec![0x55, 0xD5];
                out.extend(nibbles[i + 1..].chunks_exact(2).map(|p| p[0] | p[1] << 4));
                out
            }
            // No SFD: keep the nibbles so the check reports it.
            _ => nibbles.to_vec(),
        }
    }

    fn check(bytes: Vec<u8>, error: bool) -> TxFrame {
        if error {
            return TxFrame::Bad { bytes, why: "tx_er asserted" };
        }
        let Some(sfd) = bytes.iter().position(|&b| b != 0x55) else {
            return TxFrame::Bad { bytes, why: "no start-of-frame delimiter" };
        };
        if bytes[sfd] != 0xD5 {
            return TxFrame::Bad { bytes, why: "bad start-of-frame delimiter" };
        }
        match strip_good_fcs(&bytes[sfd + 1..]) {
            Some(frame) => TxFrame::Good(frame.to_vec()),
            None => TxFrame::Bad { bytes, why: "bad FCS" },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_and_decoder_round_trip_on_gmii_and_mii() {
        for mii in [false, true] {
            let mut enc = PinEncoder::new(mii);
            let mut dec = PinDecoder::new(mii);
            let frames: Vec<Vec<u8>> = vec![(0..60).collect(), (0..200).map(|i| (i * 7) as u8).collect()];
            for f in &frames {
                enc.push_frame(f);
            }
            let mut out = Vec::new();
            while enc.backlog() > 0 {
                if let Some(f) = dec.push(enc.next_sample()) {
                    out.push(f);
                }
            }
            assert_eq!(out, frames.iter().map(|f| TxFrame::Good(f.clone())).collect::<Vec<_>>());
            // A flipped bit is a bad FCS, not a frame.
            let mut f = with_fcs(&frames[0]);
            f[10] ^= 4;
            let pins = rx_pins(mii, &f);
            let got: Vec<TxFrame> = pins.into_iter().filter_map(|p| dec.push(p)).collect();
            assert!(matches!(&got[..], [TxFrame::Bad { why: "bad FCS", .. }]), "{got:?}");
        }
    }
}
