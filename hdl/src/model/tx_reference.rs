//! Plain-Rust reference for the transmit side: what `mac::tx` must put on the PHY TX byte
//! stream for a frame, and a checker that turns a captured byte-time stream back into
//! frames and gaps.
//!
//! Everything here works on *byte times*: one entry per byte the PHY took (one `ready`
//! pulse of the PHY TX byte stream, one GMII clock, or two MII nibbles). The checker never
//! panics: malformed captures come back as [`WireError`]s.

/// Preamble bytes before the SFD on transmit (IEEE 802.3 clause 4.2.5).
pub const PREAMBLE_LEN: usize = 7;
pub const PREAMBLE_BYTE: u8 = 0x55;
/// Start frame delimiter.
pub const SFD: u8 = 0xD5;
/// Shortest frame before the FCS: shorter frames are padded with zeros up to this length.
pub const MIN_FRAME_NO_FCS: usize = 60;
pub const FCS_LEN: usize = 4;
/// Default inter-frame gap in byte times (96 bit times).
pub const DEFAULT_IFG: u8 = 12;
/// Default maximum frame length including the FCS (untagged Ethernet).
pub const DEFAULT_MAX_LEN: u16 = 1518;

/// The frame padded with zeros to [`MIN_FRAME_NO_FCS`] and followed by its FCS
/// (CRC-32, little-endian): the bytes between the SFD and the end of carrier.
pub fn padded_with_fcs(frame: &[u8]) -> Vec<u8> {
    let mut v = frame.to_vec();
    if v.len() < MIN_FRAME_NO_FCS {
        v.resize(MIN_FRAME_NO_FCS, 0);
    }
    let fcs = crc32fast::hash(&v);
    v.extend_from_slice(&fcs.to_le_bytes());
    v
}

/// Everything the MAC sends for `frame` while `en` is high: 7 preamble bytes, the SFD,
/// the frame padded to 60 bytes, the FCS.
pub fn wire_bytes(frame: &[u8]) -> Vec<u8> {
    let mut v = vec![PREAMBLE_BYTE; PREAMBLE_LEN];
    v.push(SFD);
    v.extend(padded_with_fcs(frame));
    v
}

/// One byte time of a PHY TX interface: `en` (in a frame), `er` (error/abort), `data`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct WireByte {
    pub en: bool,
    pub er: bool,
    pub data: u8,
}

impl WireByte {
    pub const IDLE: WireByte = WireByte { en: false, er: false, data: 0 };
    pub fn frame(data: u8) -> Self {
        WireByte { en: true, er: false, data }
    }
}

/// One burst of `en` in a captured stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireFrame {
    /// Idle byte times (en low) between the previous frame's last byte and this frame's
    /// first byte; for the first frame, since the start of the capture.
    pub gap_before: usize,
    /// The bytes sent while `en` was high, preamble and SFD included.
    pub bytes: Vec<u8>,
    /// Offsets into `bytes` where `er` was high.
    pub er_at: Vec<usize>,
    /// False if the capture ended while `en` was still high.
    pub complete: bool,
}

/// A captured stream cut into frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub frames: Vec<WireFrame>,
    /// Idle byte times after the last frame.
    pub trailing_idle: usize,
    /// Byte times with `er` high while `en` was low (GMII uses these for carrier extension
    /// and error propagation; a full-duplex MAC must never send them).
    pub er_outside_frame: usize,
}

/// Cut a stream of byte times into frames (maximal runs of `en`) and the gaps between them.
pub fn split_frames(stream: &[WireByte]) -> Capture {
    let mut frames = Vec::new();
    let mut gap = 0usize;
    let mut er_outside_frame = 0usize;
    let mut cur: Option<WireFrame> = None;
    for b in stream {
        if b.en {
            let f = cur.get_or_insert_with(|| WireFrame {
                gap_before: gap,
                bytes: Vec::new(),
                er_at: Vec::new(),
                complete: false,
            });
            if b.er {
                f.er_at.push(f.bytes.len());
            }
            f.bytes.push(b.data);
        } else {
            if let Some(mut f) = cur.take() {
                f.complete = true;
                frames.push(f);
                gap = 0;
            }
            gap += 1;
            er_outside_frame += b.er as usize;
        }
    }
    let trailing_idle = if cur.is_some() { 0 } else { gap };
    frames.extend(cur);
    Capture { frames, trailing_idle, er_outside_frame }
}

/// Why a captured frame is not a well-formed transmitted frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The capture ended in the middle of the frame.
    Incomplete,
    /// `er` was high on these byte offsets.
    ErrorSignalled(Vec<usize>),
    /// Byte `at` of the preamble was not 0x55 (`at` < 7) or the SFD was not 0xD5 (`at` = 7).
    BadPreamble { at: usize, got: u8 },
    /// Fewer bytes than preamble + SFD + 60 + FCS.
    TooShort { len: usize },
    /// The last four bytes are not the CRC-32 of what precedes them.
    BadFcs { expected: u32, got: u32 },
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Incomplete => write!(f, "capture ended inside the frame"),
            WireError::ErrorSignalled(at) => write!(f, "er asserted at byte offsets {at:?}"),
            WireError::BadPreamble { at, got } => {
                write!(f, "preamble/SFD byte {at} is {got:#04x}")
            }
            WireError::TooShort { len } => {
                write!(f, "frame of {len} bytes on the wire is too short")
            }
            WireError::BadFcs { expected, got } => {
                write!(f, "FCS {got:#010x}, expected {expected:#010x}")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Check one captured frame as a transmitter's output: complete, no `er`, full 7-byte
/// preamble and SFD, at least 64 bytes after the SFD, correct FCS. Returns the bytes between
/// the SFD and the FCS (padding included: the wire cannot tell padding from data).
pub fn decode_frame(f: &WireFrame) -> Result<Vec<u8>, WireError> {
    if !f.complete {
        return Err(WireError::Incomplete);
    }
    if !f.er_at.is_empty() {
        return Err(WireError::ErrorSignalled(f.er_at.clone()));
    }
    let head = PREAMBLE_LEN + 1;
    for (at, &got) in f.bytes.iter().take(head).enumerate() {
        let want = if at == PREAMBLE_LEN { SFD } else { PREAMBLE_BYTE };
        if got != want {
            return Err(WireError::BadPreamble { at, got });
        }
    }
    if f.bytes.len() < head + MIN_FRAME_NO_FCS + FCS_LEN {
        return Err(WireError::TooShort { len: f.bytes.len() });
    }
    let body = &f.bytes[head..f.bytes.len() - FCS_LEN];
    let fcs = &f.bytes[f.bytes.len() - FCS_LEN..];
    let got = u32::from_le_bytes([fcs[0], fcs[1], fcs[2], fcs[3]]);
    let expected = crc32fast::hash(body);
    if got != expected {
        return Err(WireError::BadFcs { expected, got });
    }
    Ok(body.to_vec())
}

/// Whether `f` is a frame aborted the way `mac::tx` aborts (underflow or oversize): `er`
/// asserted on its last four bytes and those four bytes are the complement of the CRC of
/// what precedes them, so that even a PHY that ignores `er` sends a frame that fails the FCS.
pub fn is_aborted_frame(f: &WireFrame) -> bool {
    let n = f.bytes.len();
    let head = PREAMBLE_LEN + 1;
    if !f.complete || n < head + FCS_LEN {
        return false;
    }
    let er_tail = (n - FCS_LEN..n).all(|i| f.er_at.contains(&i));
    let fcs = &f.bytes[n - FCS_LEN..];
    let got = u32::from_le_bytes([fcs[0], fcs[1], fcs[2], fcs[3]]);
    er_tail && got == !crc32fast::hash(&f.bytes[head..n - FCS_LEN])
}

/// Check a captured stream against the frames the MAC was given: one burst of `en` per
/// frame, each exactly [`wire_bytes`] of it with no `er`, and exactly `ifg` idle byte
/// times between consecutive frames (the time before the first one is not checked).
pub fn check_transmission(stream: &[WireByte], frames: &[Vec<u8>], ifg: usize) -> Result<(), String> {
    let cap = split_frames(stream);
    if cap.frames.len() != frames.len() {
        return Err(format!("{} frames on the wire, {} sent", cap.frames.len(), frames.len()));
    }
    if cap.er_outside_frame != 0 {
        return Err(format!("er high on {} idle byte times", cap.er_outside_frame));
    }
    for (k, (got, want)) in cap.frames.iter().zip(frames).enumerate() {
        decode_frame(got).map_err(|e| format!("frame {k}: {e}"))?;
        if got.bytes != wire_bytes(want) {
            return Err(format!("frame {k}: wire bytes differ from the reference"));
        }
        if k > 0 && got.gap_before != ifg {
            return Err(format!("gap before frame {k} is {} byte times, not {ifg}", got.gap_before));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(parts: &[(usize, &[u8])]) -> Vec<WireByte> {
        let mut s = Vec::new();
        for (gap, bytes) in parts {
            s.extend(std::iter::repeat_n(WireByte::IDLE, *gap));
            s.extend(bytes.iter().map(|&b| WireByte::frame(b)));
        }
        s
    }

    #[test]
    fn wire_bytes_layout() {
        let w = wire_bytes(&[0xAB]);
        assert_eq!(w.len(), 8 + 60 + 4);
        assert_eq!(&w[..8], &[0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xD5]);
        assert_eq!(w[8], 0xAB);
        assert!(w[9..68].iter().all(|&b| b == 0));
        let fcs = crc32fast::hash(&w[8..68]).to_le_bytes();
        assert_eq!(&w[68..], &fcs);
        // A long frame is not padded.
        let long: Vec<u8> = (0..100u8).collect();
        assert_eq!(wire_bytes(&long).len(), 8 + 100 + 4);
    }

    #[test]
    fn split_and_decode_round_trip() {
        let a: Vec<u8> = (0..61u8).collect();
        let b = vec![7u8; 3];
        let s = stream(&[(5, &wire_bytes(&a)), (12, &wire_bytes(&b)), (3, &[])]);
        let cap = split_frames(&s);
        assert_eq!(cap.frames.len(), 2);
        assert_eq!(cap.frames[0].gap_before, 5);
        assert_eq!(cap.frames[1].gap_before, 12);
        assert_eq!(cap.trailing_idle, 3);
        assert_eq!(decode_frame(&cap.frames[0]).unwrap(), a);
        assert_eq!(decode_frame(&cap.frames[1]).unwrap(), padded_with_fcs(&b)[..60].to_vec());
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let good = wire_bytes(&[1, 2, 3]);
        let frame = |bytes: Vec<u8>| WireFrame { gap_before: 0, bytes, er_at: vec![], complete: true };
        // Every truncation of a good frame is rejected with some error.
        for n in 0..good.len() {
            assert!(decode_frame(&frame(good[..n].to_vec())).is_err(), "len {n}");
        }
        let mut bad = good.clone();
        bad[3] = 0x54;
        assert_eq!(decode_frame(&frame(bad)), Err(WireError::BadPreamble { at: 3, got: 0x54 }));
        let mut bad = good.clone();
        bad[20] ^= 1;
        assert!(matches!(decode_frame(&frame(bad)), Err(WireError::BadFcs { .. })));
        // Capture ending inside a frame.
        let cap = split_frames(&stream(&[(0, &good[..10])]));
        assert_eq!(decode_frame(&cap.frames[0]), Err(WireError::Incomplete));
        assert_eq!(cap.trailing_idle, 0);
        // er anywhere.
        let mut s = stream(&[(1, &good), (1, &[])]);
        s[30].er = true;
        let cap = split_frames(&s);
        assert_eq!(decode_frame(&cap.frames[0]), Err(WireError::ErrorSignalled(vec![29])));
        // er outside a frame is counted, not a frame.
        let mut s = stream(&[(4, &[])]);
        s[2].er = true;
        let cap = split_frames(&s);
        assert!(cap.frames.is_empty());
        assert_eq!(cap.er_outside_frame, 1);
    }

    #[test]
    fn check_transmission_finds_each_fault() {
        let frames = vec![vec![1u8; 70], vec![2u8; 3]];
        let good = stream(&[(2, &wire_bytes(&frames[0])), (12, &wire_bytes(&frames[1])), (1, &[])]);
        assert_eq!(check_transmission(&good, &frames, 12), Ok(()));
        assert!(check_transmission(&good, &frames, 11).unwrap_err().contains("gap before frame 1"));
        assert!(check_transmission(&good, &frames[..1], 12).is_err());
        let mut bad = good.clone();
        bad[2 + 40].data ^= 0x10;
        assert!(check_transmission(&bad, &frames, 12).unwrap_err().contains("FCS"));
        let mut bad = good.clone();
        bad[0].er = true;
        assert!(check_transmission(&bad, &frames, 12).is_err());
        // Right bytes of the wrong frame.
        let swapped = vec![frames[0].clone(), vec![2u8; 4]];
        assert!(check_transmission(&good, &swapped, 12).unwrap_err().contains("differ"));
    }

    #[test]
    fn random_captures_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let frames = vec![vec![0u8; 1], vec![5u8; 80]];
        for _ in 0..2000 {
            let n = rng.gen_range(0..200);
            let s: Vec<WireByte> =
                (0..n).map(|_| WireByte { en: rng.gen_bool(0.8), er: rng.gen_bool(0.05), data: rng.gen() }).collect();
            let cap = split_frames(&s);
            for f in &cap.frames {
                let _ = decode_frame(f);
                let _ = is_aborted_frame(f);
            }
            assert!(check_transmission(&s, &frames, 12).is_err());
        }
    }

    #[test]
    fn aborted_frame_recognised() {
        let mut bytes = wire_bytes(&[9; 20])[..8 + 20].to_vec();
        let inv = !crc32fast::hash(&bytes[8..]);
        bytes.extend(inv.to_le_bytes());
        let n = bytes.len();
        let f = WireFrame { gap_before: 0, bytes, er_at: (n - 4..n).collect(), complete: true };
        assert!(is_aborted_frame(&f));
        assert!(decode_frame(&f).is_err());
        let mut g = f.clone();
        g.er_at.clear();
        assert!(!is_aborted_frame(&g));
        // A good frame is not an aborted one.
        let good = split_frames(&stream(&[(0, &wire_bytes(&[1])), (1, &[])]));
        assert!(!is_aborted_frame(&good.frames[0]));
    }
}
