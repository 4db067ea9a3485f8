//! The two ways out of the engine give the same bytes: segments built in a buffer the
//! output lends (what the interface does, no copy) equal, byte for byte, those built in
//! the engine's scratch buffer and handed to a closure.

use super::super::{SegmentSink, TcpConfig, TcpEngine};
use crate::buf::PacketBuf;
use crate::device::TX_HEADROOM;
use std::net::Ipv4Addr;

const A: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

type Wire = Vec<(Ipv4Addr, Ipv4Addr, Vec<u8>)>;

/// With `lend`, lends room in buffers full of junk (so a byte the engine forgot to write
/// would show) with more room than asked for, and keeps only the segment; without, lends
/// nothing and takes slices of the engine's scratch buffer, as a closure does.
struct Out<'a> {
    lend: bool,
    wire: &'a mut Wire,
    lent: &'a mut usize,
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
}

/// A handshake, 300 kB one way with a small send buffer (its ring wraps), a few bytes
/// back, and both closes; every segment either engine sent, in order, and how many
/// buffers were lent.
fn conversation(lend: bool) -> (Wire, usize) {
    let cfg = TcpConfig { send_buffer: 10_000, recv_buffer: 30_000, ..TcpConfig::default() };
    let mut engines = [TcpEngine::new(cfg.clone(), 1), TcpEngine::new(cfg, 2)];
    let mut log = Wire::new();
    let mut lent = 0;
    let mut wire = Wire::new();
    macro_rules! out {
        () => {
            &mut Out { lend, wire: &mut wire, lent: &mut lent, pending: None }
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
    (log, lent)
}

#[test]
fn segments_built_in_lent_buffers_equal_those_built_in_the_scratch_buffer() {
    let (copied, lent_none) = conversation(false);
    let (in_place, lent) = conversation(true);
    assert_eq!(lent_none, 0);
    assert_eq!(lent, in_place.len(), "one lent buffer per segment");
    assert!(copied.iter().filter(|(_, _, seg)| seg.len() > 1000).count() > 200, "full-sized segments went out");
    assert_eq!(copied.len(), in_place.len());
    for (i, (x, y)) in copied.iter().zip(&in_place).enumerate() {
        assert_eq!(x, y, "segment {i} differs");
    }
}
