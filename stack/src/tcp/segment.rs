//! The TCP header on the wire (RFC 9293 section 3.1) and the options the engine speaks:
//! MSS (kind 2), window scale (kind 3, RFC 7323), SACK-permitted (kind 4, recognised and
//! ignored) and timestamps (kind 8, RFC 7323).
//!
//! Parsing never panics: every length is checked before it is used, and a segment that
//! fails a check is reported as a [`ParseError`] that the engine counts and drops.

use super::seq::Seq;
use crate::wire::checksum as wire_sum;
use std::net::Ipv4Addr;

pub const HEADER_LEN: usize = 20;
/// The longest TCP header: a data offset of 15 words.
pub const MAX_HEADER_LEN: usize = 60;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WSCALE: u8 = 3;
const OPT_SACK_PERMITTED: u8 = 4;
const OPT_TIMESTAMPS: u8 = 8;

/// The largest shift RFC 7323 allows; larger values are clamped to it (section 2.3).
pub const MAX_WSCALE: u8 = 14;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
}

impl TcpOptions {
    /// Bytes these options take in a header, padded to a multiple of 4.
    pub fn encoded_len(&self) -> usize {
        let mut len = 0;
        if self.mss.is_some() {
            len += 4;
        }
        if self.window_scale.is_some() {
            len += 4; // NOP + 3
        }
        if self.timestamps.is_some() {
            len += 12; // NOP NOP + 10
        }
        len
    }
}

/// A parsed header; the payload is returned beside it, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: u8,
    pub window: u16,
    pub options: TcpOptions,
}

impl TcpHeader {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than the fixed header, or than the data offset says.
    Truncated,
    /// Data offset below 5 words.
    BadDataOffset,
    BadChecksum,
    /// An option whose length is below 2 or runs past the header.
    BadOption,
}

/// The Internet checksum over the IPv4 pseudo-header and `segment` (RFC 9293 section 3.1).
/// Returns 0 for a segment whose checksum field is correct. The sum over the segment is
/// `wire::checksum::sum`, written so that the compiler vectorizes it: this runs over every
/// byte sent and received.
pub fn checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    checksum_with_sum(src, dst, segment.len(), wire_sum::sum(segment))
}

/// The checksum of a segment of `len` bytes whose ones'-complement sum (not complemented)
/// is `sum`, e.g. one the device computed on receive.
pub fn checksum_with_sum(src: Ipv4Addr, dst: Ipv4Addr, len: usize, sum: u16) -> u16 {
    // A TCP segment carried in IPv4 is shorter than 2^16 bytes; a longer slice (only in
    // tests) is summed as the textbook does, with the length taken modulo 0xffff.
    let len = if len < 0xffff { len as u16 } else { (len % 0xffff) as u16 };
    !wire_sum::add(wire_sum::pseudo_header(src, dst, 6, len), sum)
}

/// `parse_checked` with the checksum verified: for captures and tests.
pub fn parse(segment: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<(TcpHeader, &[u8]), ParseError> {
    parse_checked(segment, src, dst, Checksum::Verify)
}

/// Whether `parse` computes the checksum or the caller already did (device offload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    Verify,
    AlreadyVerified,
}

/// Validates and parses `segment` (header + payload as carried in the IPv4 packet).
#[inline]
pub fn parse_checked(
    segment: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    checksum_policy: Checksum,
) -> Result<(TcpHeader, &[u8]), ParseError> {
    if segment.len() < HEADER_LEN {
        return Err(ParseError::Truncated);
    }
    let header_len = usize::from(segment[12] >> 4) * 4;
    if header_len < HEADER_LEN {
        return Err(ParseError::BadDataOffset);
    }
    if header_len > segment.len() {
        return Err(ParseError::Truncated);
    }
    if checksum_policy == Checksum::Verify && checksum(src, dst, segment) != 0 {
        return Err(ParseError::BadChecksum);
    }
    let be16 = |at: usize| u16::from_be_bytes([segment[at], segment[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([segment[at], segment[at + 1], segment[at + 2], segment[at + 3]]);
    let header = TcpHeader {
        src_port: be16(0),
        dst_port: be16(2),
        seq: Seq(be32(4)),
        ack: Seq(be32(8)),
        flags: segment[13] & 0x3f,
        window: be16(14),
        options: parse_options(&segment[HEADER_LEN..header_len])?,
    };
    Ok((header, &segment[header_len..]))
}

fn parse_options(mut bytes: &[u8]) -> Result<TcpOptions, ParseError> {
    // The layout of nearly every segment once timestamps are on (RFC 7323 appendix A):
    // NOP, NOP, timestamps. The loop below gives the same result, one byte at a time.
    if let [OPT_NOP, OPT_NOP, OPT_TIMESTAMPS, 10, v0, v1, v2, v3, e0, e1, e2, e3] = *bytes {
        let timestamps = (u32::from_be_bytes([v0, v1, v2, v3]), u32::from_be_bytes([e0, e1, e2, e3]));
        return Ok(TcpOptions { timestamps: Some(timestamps), ..TcpOptions::default() });
    }
    let mut options = TcpOptions::default();
    while let Some(&kind) = bytes.first() {
        match kind {
            OPT_END => break,
            OPT_NOP => {
                bytes = &bytes[1..];
                continue;
            }
            _ => {}
        }
        let len = usize::from(*bytes.get(1).ok_or(ParseError::BadOption)?);
        if len < 2 || len > bytes.len() {
            return Err(ParseError::BadOption);
        }
        let body = &bytes[2..len];
        // An option with the wrong length for its kind is ignored, as Linux does.
        match (kind, body.len()) {
            (OPT_MSS, 2) => options.mss = Some(u16::from_be_bytes([body[0], body[1]])),
            (OPT_WSCALE, 1) => options.window_scale = Some(body[0].min(MAX_WSCALE)),
            (OPT_SACK_PERMITTED, 0) => options.sack_permitted = true,
            (OPT_TIMESTAMPS, 8) => {
                let val = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let ecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                options.timestamps = Some((val, ecr));
            }
            _ => {}
        }
        bytes = &bytes[len..];
    }
    Ok(options)
}

/// Everything needed to write one segment.
#[derive(Clone, Copy, Debug)]
pub struct SegmentSpec {
    pub src: (Ipv4Addr, u16),
    pub dst: (Ipv4Addr, u16),
    pub seq: Seq,
    pub ack: Seq,
    pub flags: u8,
    pub window: u16,
    pub options: TcpOptions,
}

/// Bytes the header for `spec` takes, options included.
pub fn header_len(spec: &SegmentSpec) -> usize {
    HEADER_LEN + spec.options.encoded_len()
}

/// Writes the header for `spec` into `buf` (cleared first). The caller appends the payload
/// and then calls [`finish`] to fill in the checksum (the tests' way of building segments).
#[cfg(test)]
pub fn write_header(buf: &mut Vec<u8>, spec: &SegmentSpec) {
    buf.clear();
    buf.resize(header_len(spec), 0);
    write_header_into(buf, spec);
}

/// Writes the header for `spec` (checksum zero) into the first [`header_len`] bytes of
/// `out`, which must be at least that long; returns that length.
pub fn write_header_into(out: &mut [u8], spec: &SegmentSpec) -> usize {
    let header_len = header_len(spec);
    debug_assert!(header_len <= MAX_HEADER_LEN);
    let out = &mut out[..header_len];
    out[0..2].copy_from_slice(&spec.src.1.to_be_bytes());
    out[2..4].copy_from_slice(&spec.dst.1.to_be_bytes());
    out[4..8].copy_from_slice(&spec.seq.0.to_be_bytes());
    out[8..12].copy_from_slice(&spec.ack.0.to_be_bytes());
    out[12] = ((header_len / 4) as u8) << 4;
    out[13] = spec.flags;
    out[14..16].copy_from_slice(&spec.window.to_be_bytes());
    out[16..20].fill(0); // checksum, urgent pointer
    let mut at = HEADER_LEN;
    if let Some(mss) = spec.options.mss {
        out[at..at + 2].copy_from_slice(&[OPT_MSS, 4]);
        out[at + 2..at + 4].copy_from_slice(&mss.to_be_bytes());
        at += 4;
    }
    if let Some(shift) = spec.options.window_scale {
        out[at..at + 4].copy_from_slice(&[OPT_NOP, OPT_WSCALE, 3, shift]);
        at += 4;
    }
    if let Some((val, ecr)) = spec.options.timestamps {
        out[at..at + 4].copy_from_slice(&[OPT_NOP, OPT_NOP, OPT_TIMESTAMPS, 10]);
        out[at + 4..at + 8].copy_from_slice(&val.to_be_bytes());
        out[at + 8..at + 12].copy_from_slice(&ecr.to_be_bytes());
        at += 12;
    }
    debug_assert_eq!(at, header_len);
    header_len
}

/// The checksum field of the segment of `len` bytes (header and payload) whose header
/// `write_header_into` writes for `spec` and whose payload sums to `payload_sum`.
pub fn checksum_from_sums(spec: &SegmentSpec, len: usize, payload_sum: u16) -> u16 {
    checksum_with_sum(spec.src.0, spec.dst.0, len, wire_sum::add(header_sum(spec), payload_sum))
}

/// The ones'-complement sum of the header `write_header_into` writes for `spec` (checksum
/// field zero), from the field values: reading back the bytes just written, in wider
/// loads than the stores that wrote them, would stall the CPU.
pub fn header_sum(spec: &SegmentSpec) -> u16 {
    let high = |v: u32| v >> 16;
    let low = |v: u32| v & 0xffff;
    let offset_flags = ((header_len(spec) / 4) as u32) << 12 | u32::from(spec.flags);
    let mut acc = u32::from(spec.src.1)
        + u32::from(spec.dst.1)
        + high(spec.seq.0)
        + low(spec.seq.0)
        + high(spec.ack.0)
        + low(spec.ack.0)
        + offset_flags
        + u32::from(spec.window);
    if let Some(mss) = spec.options.mss {
        acc += u32::from(u16::from_be_bytes([OPT_MSS, 4])) + u32::from(mss);
    }
    if let Some(shift) = spec.options.window_scale {
        acc += u32::from(u16::from_be_bytes([OPT_NOP, OPT_WSCALE])) + u32::from(u16::from_be_bytes([3, shift]));
    }
    if let Some((val, ecr)) = spec.options.timestamps {
        acc += u32::from(u16::from_be_bytes([OPT_NOP, OPT_NOP]))
            + u32::from(u16::from_be_bytes([OPT_TIMESTAMPS, 10]))
            + high(val)
            + low(val)
            + high(ecr)
            + low(ecr);
    }
    wire_sum::fold(acc)
}

/// The TCP header of a run of segments that differ only in sequence number, flags and
/// payload (what one call of the output loop sends): written and summed once, then copied
/// and patched for each segment, as a NIC's segmentation offload does with its template.
#[derive(Clone, Debug)]
pub struct HeaderTemplate {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
    /// The ones'-complement sum of the header without its sequence number and flags and of
    /// the pseudo-header without its length.
    sum: u16,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
}

impl HeaderTemplate {
    /// The template for the segments `spec` describes (its sequence number and flags are
    /// the first segment's; `header` sets each one's).
    pub fn new(spec: &SegmentSpec) -> Self {
        let base = SegmentSpec { seq: Seq(0), flags: 0, ..*spec };
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let len = write_header_into(&mut bytes, &base);
        let sum = wire_sum::add(header_sum(&base), wire_sum::pseudo_header(spec.src.0, spec.dst.0, 6, 0));
        HeaderTemplate { bytes, len, sum, src: spec.src.0, dst: spec.dst.0 }
    }

    /// Bytes of the header.
    pub fn header_len(&self) -> usize {
        self.len
    }

    /// Writes the header of the segment with `seq` and `flags` whose payload of
    /// `payload_len` bytes sums to `payload_sum` into `out[..len()]`, checksum included.
    #[inline]
    pub fn write(&self, out: &mut [u8], seq: Seq, flags: u8, payload_len: usize, payload_sum: u16) {
        let out = &mut out[..self.len];
        out.copy_from_slice(&self.bytes[..self.len]);
        out[4..8].copy_from_slice(&seq.0.to_be_bytes());
        out[13] = flags;
        // A segment carried in IPv4 is shorter than 2^16 bytes.
        let seg_len = (self.len + payload_len) as u32;
        let acc = u32::from(self.sum) + (seq.0 >> 16) + (seq.0 & 0xffff) + u32::from(flags) + seg_len;
        let sum = wire_sum::add(wire_sum::fold(acc), payload_sum);
        out[16..18].copy_from_slice(&(!sum).to_be_bytes());
    }
}

/// The TCP header of one segment of a run: its template and what differs.
#[derive(Clone, Copy, Debug)]
pub struct RunHeader<'a> {
    pub template: &'a HeaderTemplate,
    pub seq: Seq,
    pub flags: u8,
    /// The ones'-complement sum of the segment's payload.
    pub payload_sum: u16,
}

impl RunHeader<'_> {
    pub fn header_len(&self) -> usize {
        self.template.header_len()
    }

    /// Writes the header, checksum included, into `out[..len()]`, for a payload of
    /// `payload_len` bytes.
    pub fn write(&self, out: &mut [u8], payload_len: usize) {
        self.template.write(out, self.seq, self.flags, payload_len, self.payload_sum);
    }
}

/// Computes and stores the checksum of the complete segment in `buf` (the tests' way).
#[cfg(test)]
pub fn finish(buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) {
    buf[16] = 0;
    buf[17] = 0;
    let sum = checksum(src, dst, buf);
    buf[16..18].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

    fn spec(options: TcpOptions) -> SegmentSpec {
        SegmentSpec {
            src: (A, 1234),
            dst: (B, 80),
            seq: Seq(u32::MAX - 3),
            ack: Seq(77),
            flags: SYN | ACK,
            window: 4096,
            options,
        }
    }

    fn build(options: TcpOptions, payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        write_header(&mut buf, &spec(options));
        buf.extend_from_slice(payload);
        finish(&mut buf, A, B);
        buf
    }

    #[test]
    fn round_trips_header_options_and_payload() {
        let options =
            TcpOptions { mss: Some(1460), window_scale: Some(7), sack_permitted: false, timestamps: Some((5, 9)) };
        let bytes = build(options, b"hello");
        assert_eq!(bytes.len(), 20 + 20 + 5);
        let (header, payload) = parse(&bytes, A, B).unwrap();
        assert_eq!(payload, b"hello");
        assert_eq!(header.src_port, 1234);
        assert_eq!(header.dst_port, 80);
        assert_eq!(header.seq, Seq(u32::MAX - 3));
        assert_eq!(header.ack, Seq(77));
        assert_eq!(header.flags, SYN | ACK);
        assert_eq!(header.window, 4096);
        assert_eq!(header.options, options);
    }

    #[test]
    fn the_header_sum_from_the_fields_is_the_sum_of_the_bytes() {
        let all = TcpOptions {
            mss: Some(0xffff),
            window_scale: Some(14),
            sack_permitted: false,
            timestamps: Some((u32::MAX, 7)),
        };
        for options in
            [TcpOptions::default(), all, TcpOptions { timestamps: Some((1, u32::MAX)), ..Default::default() }]
        {
            for flags in [SYN, ACK | PSH | FIN, RST] {
                let spec = SegmentSpec { flags, window: 0xffff, ack: Seq(u32::MAX), ..spec(options) };
                let mut header = vec![0xa5; header_len(&spec)];
                write_header_into(&mut header, &spec);
                assert_eq!(header_sum(&spec), crate::wire::checksum::sum(&header), "{spec:?}");
            }
        }
    }

    #[test]
    fn a_header_from_the_template_is_the_header_written_and_checksummed_from_its_spec() {
        let payload: Vec<u8> = (0..1449u32).map(|i| (i * 31) as u8).collect();
        let options = TcpOptions { timestamps: Some((0xfedc_ba98, 7)), ..Default::default() };
        for (seq, flags, len) in [(0, ACK, 1448), (u32::MAX, ACK | PSH, 1449), (0x8000_ffff, ACK | FIN, 0), (5, ACK, 1)]
        {
            let first = SegmentSpec { seq: Seq(12345), flags: ACK, ack: Seq(0xffff_0001), ..spec(options) };
            let template = HeaderTemplate::new(&first);
            let mut from_template = vec![0xa5; template.header_len() + len];
            from_template[template.header_len()..].copy_from_slice(&payload[..len]);
            template.write(&mut from_template, Seq(seq), flags, len, crate::wire::checksum::sum(&payload[..len]));
            let mut written = Vec::new();
            write_header(&mut written, &SegmentSpec { seq: Seq(seq), flags, ..first });
            written.extend_from_slice(&payload[..len]);
            finish(&mut written, A, B);
            assert_eq!(from_template, written, "seq {seq:#x} flags {flags:#x} len {len}");
            assert_eq!(checksum(A, B, &from_template), 0);
        }
    }

    #[test]
    fn the_usual_timestamps_layout_parses_as_the_general_loop_does() {
        let bytes = [OPT_NOP, OPT_NOP, OPT_TIMESTAMPS, 10, 1, 2, 3, 4, 5, 6, 7, 8];
        let fast = parse_options(&bytes).unwrap();
        assert_eq!(fast.timestamps, Some((0x0102_0304, 0x0506_0708)));
        // The same option after a different padding takes the general loop.
        let general = parse_options(&[OPT_TIMESTAMPS, 10, 1, 2, 3, 4, 5, 6, 7, 8, OPT_NOP, OPT_END]).unwrap();
        assert_eq!(fast, general);
    }

    #[test]
    fn checksum_verifies_and_detects_corruption() {
        let bytes = build(TcpOptions::default(), &[]);
        // Recomputing over the finished segment gives zero; changing any byte breaks it.
        assert_eq!(checksum(A, B, &bytes), 0);
        let mut corrupted = bytes.clone();
        corrupted[5] ^= 1;
        assert_ne!(checksum(A, B, &corrupted), 0);
        // The pseudo-header counts: the same bytes between other hosts do not verify.
        assert_ne!(checksum(A, Ipv4Addr::new(198, 18, 0, 3), &bytes), 0);
    }

    #[test]
    fn checksum_of_a_known_pseudo_header_and_word() {
        // Pseudo-header words: c612 0001 c612 0002 0006 0002, then the word 0x1234.
        // Sum = 0x19e63 -> folded 0x9e64 -> complement 0x619b.
        assert_eq!(checksum(A, B, &[0x12, 0x34]), 0x619b);
    }

    /// The textbook definition: 16-bit words, end-around carry.
    fn reference_checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&src.octets());
        bytes.extend_from_slice(&dst.octets());
        bytes.extend_from_slice(&[0, 6]);
        bytes.extend_from_slice(&(segment.len() as u16).to_be_bytes());
        bytes.extend_from_slice(segment);
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        let mut sum: u32 = 0;
        for word in bytes.chunks(2) {
            sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn fast_checksum_equals_the_textbook_one() {
        let mut state = 0x1234_5678u32;
        for len in 0..200 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (state >> 16) as u8
                })
                .collect();
            assert_eq!(checksum(A, B, &data), reference_checksum(A, B, &data), "length {len}");
        }
        let ones = vec![0xffu8; 1500];
        assert_eq!(checksum(A, B, &ones), reference_checksum(A, B, &ones), "carries everywhere");
    }

    #[test]
    fn odd_length_payload_is_padded_for_the_checksum() {
        let bytes = build(TcpOptions::default(), b"abc");
        assert!(parse(&bytes, A, B).is_ok());
    }

    #[test]
    fn malformed_segments_are_errors_not_panics() {
        let good = build(TcpOptions { mss: Some(536), ..Default::default() }, b"xy");
        for len in 0..HEADER_LEN {
            assert_eq!(parse(&good[..len], A, B), Err(ParseError::Truncated));
        }
        let mut short_offset = good.clone();
        short_offset[12] = 4 << 4;
        assert_eq!(parse(&short_offset, A, B), Err(ParseError::BadDataOffset));
        let mut long_offset = good.clone();
        long_offset[12] = 15 << 4; // 60 bytes of header, only 26 present
        assert_eq!(parse(&long_offset, A, B), Err(ParseError::Truncated));
        let mut bad_sum = good.clone();
        bad_sum[16] ^= 0xff;
        assert_eq!(parse(&bad_sum, A, B), Err(ParseError::BadChecksum));
    }

    #[test]
    fn bad_option_lengths_are_rejected() {
        for bad in [[OPT_MSS, 0, 0, 0], [OPT_MSS, 9, 0, 0], [OPT_NOP, OPT_NOP, OPT_NOP, OPT_MSS]] {
            let mut bytes = build(TcpOptions::default(), &[]);
            bytes[12] = 6 << 4;
            bytes.extend_from_slice(&bad);
            finish(&mut bytes, A, B);
            assert_eq!(parse(&bytes, A, B), Err(ParseError::BadOption), "{bad:?}");
        }
    }

    #[test]
    fn unknown_and_wrong_length_options_are_skipped() {
        let mut bytes = build(TcpOptions::default(), &[]);
        bytes[12] = 8 << 4;
        // unknown kind 30 of length 4, an MSS of length 3 (ignored), a NOP, END.
        bytes.extend_from_slice(&[30, 4, 1, 2, OPT_MSS, 3, 5, OPT_NOP, OPT_WSCALE, 3, 20, OPT_END]);
        finish(&mut bytes, A, B);
        let (header, payload) = parse(&bytes, A, B).unwrap();
        assert!(payload.is_empty());
        assert_eq!(header.options.mss, None);
        assert_eq!(header.options.window_scale, Some(MAX_WSCALE), "shift clamped to 14");
    }
}
