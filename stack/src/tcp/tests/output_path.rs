//! The three ways out of the engine give the same bytes: segments built in a buffer the
//! output lends, and data segments sent in the send buffer's own frames (what the
//! interface does, no copy), equal, byte for byte, those built in the engine's scratch
//! buffer and handed to a closure.

use super::super::{SegmentSink, TcpConfig, TcpEngine};
use crate::buf::PacketBuf;
use crate::device::TX_HEADROOM;
use std::net::Ipv4Addr;

const A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

type Wire = Vec<(Ipv4Addr, Ipv4Addr, Vec<u8>)>;

/// With `lend`, lends room in buffers full of junk (so a byte the engine forgot to write
/// would show) with more room than asked for, and keeps only the segment; without, lends
/// nothing and takes slices of the engine's scratch buffer, as a closure does. With
/// `frames` (and `lend`), takes send-buffer frames too, as the interface does.
struct Out<'a> {
    lend: bool,
    frames: bool,
    /// Frames on the "wire": their buffers are held a while, as a device does.
    held: &'a mut Vec<PacketBuf>,
    wire: &'a mut Wire,
    lent: &'a mut usize,
    sent_in_frames: &'a mut usize,
    /// The buffer last lent, until `send_lent`.
    pending: Option<PacketBuf>,
}

impl SegmentSink for Out<'_> {
    fn lend(&mut self, len: usize) -> Option<&mut [u8]> {
        if !self.lend {
            return None;
        }
        *self.lent += 1;
        let mut buf = PacketBuf::from_frame(vec![0xa5; TX_HEADROOM + len + 7]);
        buf.reset(TX_HEADROOM);
        self.pending.insert(buf).append_for_write(len)
    }
    fn send_lent(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let segment = self.pending.take().expect("a segment was lent");
        assert_eq!(segment.headroom(), TX_HEADROOM, "the headroom is left for the lower layers");
        self.wire.push((src, dst, segment.data().to_vec()));
    }
    fn send(&mut self, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) {
        assert!(!self.lend, "a lending output gets every segment in its own buffer");
        self.wire.push((src, dst, segment.to_vec()));
    }
    fn send_frame(
        &mut self,
        header: &crate::tcp::RunHeader,
        mut frame: PacketBuf,
    ) -> Result<crate::buf::SharedBytes, PacketBuf> {
        let (src, dst) = (header.template.src, header.template.dst);
        if !self.frames {
            return Err(frame);
        }
        assert!(frame.headroom() >= TX_HEADROOM, "room for every header in front");
        *self.sent_in_frames += 1;
        let payload_len = frame.len();
        header.write(frame.push(header.header_len()).unwrap(), payload_len);
        self.wire.push((src, dst, frame.data().to_vec()));
        let bytes = frame.share_bytes().unwrap();
        self.held.push(frame);
        if self.held.len() > 8 {
            self.held.remove(0); // the device is done with the oldest
        }
        Ok(bytes)
    }
}

/// A handshake, 300 kB one way with a small send buffer, a few bytes back, and both
/// closes; every segment either engine sent, in order, how many buffers were lent and how
/// many segments went out in their frames.
fn conversation(lend: bool, frames: bool) -> (Wire, usize, usize) {
    let cfg = TcpConfig { send_buffer: 10_000, recv_buffer: 30_000, ..TcpConfig::default() };
    let mut engines = [TcpEngine::new(cfg.clone(), 1), TcpEngine::new(cfg, 2)];
    let mut log = Wire::new();
    let (mut lent, mut sent_in_frames, mut held) = (0, 0, Vec::new());
    let mut wire = Wire::new();
    macro_rules! out {
        () => {
            &mut Out {
                lend,
                frames,
                held: &mut held,
                wire: &mut wire,
                lent: &mut lent,
                sent_in_frames: &mut sent_in_frames,
                pending: None,
            }
        };
    }
    let listener = engines[1].listen((B, 80), 4).unwrap();
    let client = engines[0].connect(0, A, (B, 80), out!()).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let (mut sent, mut got, mut server, mut replied, mut closed) = (0, Vec::new(), None, false, false);
    let mut buf = vec![0; 4096];
    for now in 0..100_000u64 {
        for (src, dst, seg) in std::mem::take(&mut wire) {
            log.push((src, dst, seg.clone()));
            let to = usize::from(dst == B);
            engines[to].on_segment(now, src, dst, &seg, out!());
        }
        if server.is_none() {
            server = engines[1].accept(listener).unwrap();
        }
        while sent < data.len() {
            match engines[0].send(now, client, &data[sent..], out!()) {
                Ok(n) if n > 0 => sent += n,
                _ => break,
            }
        }
        if let Some(s) = server {
            while let Ok(n) = engines[1].recv(s, &mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            if got.len() == data.len() && !replied {
                replied = true;
                engines[1].send(now, s, b"thanks", out!()).unwrap();
                engines[1].close(now, s, out!()).unwrap();
            }
        }
        if replied && !closed && engines[0].recv(client, &mut buf) == Ok(6) {
            closed = true;
            engines[0].close(now, client, out!()).unwrap();
        }
        for e in &mut engines {
            e.poll_timers(now, out!());
        }
        if closed && wire.is_empty() && engines.iter().all(|e| e.connection_count() == 0) {
            break;
        }
    }
    assert_eq!(got, data, "the transfer completed");
    assert!(closed);
    (log, lent, sent_in_frames)
}

#[test]
fn header_prediction_sends_what_the_general_path_sends() {
    let (predicted, _, _) = conversation(true, true);
    super::super::input::HEADER_PREDICTION.set(false);
    let (general, _, _) = conversation(true, true);
    super::super::input::HEADER_PREDICTION.set(true);
    assert_eq!(predicted.len(), general.len());
    for (i, (x, y)) in predicted.iter().zip(&general).enumerate() {
        assert_eq!(x, y, "segment {i} differs");
    }
}

#[test]
fn segments_built_in_lent_buffers_or_sent_in_their_frames_equal_those_built_in_the_scratch_buffer() {
    let (copied, lent_none, _) = conversation(false, false);
    let (in_place, lent, _) = conversation(true, false);
    let (framed, lent_for_control, in_frames) = conversation(true, true);
    assert_eq!(lent_none, 0);
    assert_eq!(lent, in_place.len(), "one lent buffer per segment");
    let full = copied.iter().filter(|(_, _, seg)| seg.len() > 1000).count();
    assert!(full > 200, "full-sized segments went out: {full}");
    assert!(in_frames >= full, "every full segment went out in its frame: {in_frames} of {full}");
    assert_eq!(lent_for_control + in_frames, framed.len(), "the rest in lent buffers");
    for other in [&in_place, &framed] {
        assert_eq!(copied.len(), other.len());
        for (i, (x, y)) in copied.iter().zip(other).enumerate() {
            assert_eq!(x, y, "segment {i} differs");
        }
    }
}
