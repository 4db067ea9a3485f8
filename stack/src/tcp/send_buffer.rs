//! The send buffer: bytes from SND.UNA onwards, kept in the frames they are sent in.
//!
//! `push` copies the application's bytes once, into frame buffers with room in front for
//! the headers, one segment's payload per frame, and sums them for the checksum in the
//! same pass. A segment that is exactly one frame goes out in that frame
//! (`send_in_frame`): the headers are written in front of the payload and the buffer goes
//! to the device, while the send buffer keeps a reference to its bytes (`SharedBytes`)
//! for retransmission, as Linux transmits a clone of the sk_buff it keeps. The payload is
//! neither copied nor summed again. Any other segment (a retransmission, a segment after
//! an MSS change) is copied out of the frames (`copy_and_sum_into`). Acknowledged frames
//! leave from the front, for the device to reuse (`consume`).
//!
//! Frames are allocated only as the application writes, so an idle connection holds none.

use crate::buf::{PacketBuf, SharedBytes};
use crate::device::TX_HEADROOM;
use crate::wire::checksum;
use std::collections::VecDeque;

/// A drained queue with room for more frames than this keeps its slots for a while (the
/// connection's buffer timer frees them if it stays empty): a bulk transfer drains and
/// refills the queue every round trip. Smaller queues are freed at once, as idle
/// connections hold none.
pub const LINGER_ABOVE: usize = 64;

/// How long a drained queue above `LINGER_ABOVE` slots lingers before it is freed.
pub const BUFFER_LINGER_MS: u64 = 1000;

/// Where a frame's bytes are.
#[derive(Debug)]
enum Held {
    /// In the buffer they were copied into, which only the send buffer holds.
    Buffer(PacketBuf),
    /// The buffer went to the device, in a segment: the bytes are still readable here.
    OnWire(SharedBytes),
    /// Out for `send`'s call in `Frame::send_in`, for a moment.
    Taken,
}

/// Whether a frame is sent in its own buffer: at least half of it is payload (the rule
/// the receive side keeps frames by, `tcp::payload`).
fn worth_sending_in(buf: &PacketBuf) -> bool {
    buf.len() * 2 >= buf.capacity()
}

/// One frame of the queue: `len` bytes not yet acknowledged, starting `start` bytes into
/// the storage (the buffer's data window while it is held).
#[derive(Debug)]
struct Frame {
    held: Held,
    start: usize,
    len: usize,
    /// The ones'-complement sum of the bytes (`wire::checksum::sum`), taken as they were
    /// copied in; `None` after an acknowledgement trimmed the front.
    sum: Option<u16>,
}

impl Frame {
    /// Sends the frame in its own buffer, its bytes summing to `sum`: `send` gets the
    /// buffer and gives back a reference to its bytes (the buffer went to the device) or
    /// the buffer (it was not sent). False if it was not sent, or had gone already.
    fn send_in(&mut self, sum: u16, send: impl FnOnce(PacketBuf, u16) -> Result<SharedBytes, PacketBuf>) -> bool {
        match std::mem::replace(&mut self.held, Held::Taken) {
            Held::Buffer(buf) => match send(buf, sum) {
                Ok(bytes) => {
                    self.held = Held::OnWire(bytes);
                    true
                }
                Err(buf) => {
                    self.held = Held::Buffer(buf);
                    false
                }
            },
            other => {
                self.held = other;
                false
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.held {
            Held::Buffer(buf) => buf.data(),
            Held::OnWire(bytes) => &bytes.bytes()[self.start..self.start + self.len],
            Held::Taken => unreachable!("a frame is taken only inside Frame::send_in"),
        }
    }
}

#[derive(Debug, Default)]
pub struct SendBuffer {
    frames: VecDeque<Frame>,
    len: usize,
    /// The frame the last lookup found, as (index, offset of its first byte): segments go
    /// out in order, so the next lookup starts there.
    cursor: (usize, usize),
}

impl SendBuffer {
    /// Bytes not yet acknowledged (sent or not).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends as much of `data` as fits under `limit` bytes in total, `frame_payload` bytes
    /// per frame, and returns how much. The first `sent` bytes of the buffer have been
    /// sent: the last frame is topped up only if none of its bytes has, so that segments
    /// and frames stay aligned. `new_frame(n)` gives an empty buffer with `TX_HEADROOM` in
    /// front and room for `n` bytes after it.
    ///
    /// The frames are bounded too, to what `limit` bytes fill plus one: small writes that
    /// each went out alone (each in a frame of its own) cannot hold a frame per byte.
    pub fn push(
        &mut self,
        data: &[u8],
        limit: usize,
        frame_payload: usize,
        sent: usize,
        mut new_frame: impl FnMut(usize) -> PacketBuf,
    ) -> usize {
        let frame_payload = frame_payload.max(1);
        let max_frames = limit.div_ceil(frame_payload) + 1;
        let mut rest = &data[..data.len().min(limit.saturating_sub(self.len))];
        let before = rest.len();
        let unsent_from = self.len - self.frames.back().map_or(0, |last| last.len);
        if let Some(last) = self.frames.back_mut().filter(|_| unsent_from >= sent) {
            if let Held::Buffer(buf) = &mut last.held {
                let room = frame_payload.saturating_sub(last.len).min(buf.tailroom()).min(rest.len());
                if room > 0 {
                    let sum = checksum::copy_and_sum(buf.append_for_write(room).expect("room checked"), &rest[..room]);
                    // Appended at an odd offset, the new bytes sit in the other halves of the words.
                    let at = last.len;
                    last.sum = last.sum.map(|s| checksum::add(s, if at % 2 == 1 { sum.swap_bytes() } else { sum }));
                    last.len += room;
                    rest = &rest[room..];
                }
            }
        }
        while !rest.is_empty() && self.frames.len() < max_frames {
            let mut buf = new_frame(frame_payload);
            let n = frame_payload.min(buf.tailroom()).min(rest.len());
            if n == 0 || buf.headroom() < TX_HEADROOM {
                break; // a buffer that cannot take a frame: stop here rather than loop
            }
            let sum = checksum::copy_and_sum(buf.append_for_write(n).expect("room checked"), &rest[..n]);
            let start = buf.headroom();
            self.frames.push_back(Frame { held: Held::Buffer(buf), start, len: n, sum: Some(sum) });
            rest = &rest[n..];
        }
        let taken = before - rest.len();
        self.len += taken;
        taken
    }

    /// Drops `count` acknowledged bytes from the front; frames left empty go to `spent`
    /// (up to `spent_max` there) for the device to reuse: their buffer, or the bytes of a
    /// frame on the wire once nobody else holds them. Returns true if the queue is now
    /// empty but keeps its slots (see `LINGER_ABOVE`): the caller frees them later with
    /// `release` unless it filled again.
    pub fn consume(&mut self, count: usize, spent: &mut Vec<PacketBuf>, spent_max: usize) -> bool {
        let count = count.min(self.len);
        self.len -= count;
        let (mut left, mut popped) = (count, 0);
        while left > 0 {
            let first = self.frames.front_mut().expect("len counts the frames' bytes");
            if first.len > left {
                if let Held::Buffer(buf) = &mut first.held {
                    buf.pull(left).expect("shorter than the frame");
                }
                first.start += left;
                first.len -= left;
                first.sum = None;
                break;
            }
            left -= first.len;
            let frame = self.frames.pop_front().expect("just looked at it");
            popped += 1;
            let buf = match frame.held {
                Held::Buffer(buf) => Some(buf),
                // The device's handle is still out there (it goes back itself when done).
                Held::OnWire(bytes) if bytes.is_unique() => Some(PacketBuf::from_shared(bytes, 0, 0)),
                Held::OnWire(_) | Held::Taken => None,
            };
            if let Some(buf) = buf.filter(|_| spent.len() < spent_max) {
                spent.push(buf);
            }
        }
        // Every consumed byte lay before a frame behind the popped ones, which moved up; a
        // cursor on a frame that went, or that lost bytes at its front, starts over.
        let (index, offset) = self.cursor;
        self.cursor = if index > popped { (index - popped, offset - count) } else { (0, 0) };
        if self.frames.is_empty() {
            if self.frames.capacity() > LINGER_ABOVE {
                return true;
            }
            // Give the memory back once everything is acknowledged: idle connections are
            // the common case on a server and should hold no buffer.
            self.frames = VecDeque::new();
        }
        false
    }

    /// Frees the queue's slots if it is empty.
    pub fn release(&mut self) {
        if self.frames.is_empty() {
            self.frames = VecDeque::new();
        }
    }

    /// The frame holding the byte `offset` bytes after SND.UNA, as (index, offset of the
    /// frame's first byte); `(frames.len(), len)` past the end.
    fn find(&mut self, offset: usize) -> (usize, usize) {
        let (mut index, mut at) = self.cursor;
        if offset < at || index > self.frames.len() {
            (index, at) = (0, 0);
        }
        while let Some(frame) = self.frames.get(index) {
            if at + frame.len > offset {
                break;
            }
            at += frame.len;
            index += 1;
        }
        self.cursor = (index, at);
        (index, at)
    }

    /// How many of `len` bytes starting `offset` bytes after SND.UNA lie in the frame
    /// that holds the first of them: a segment cut there ends where its frame ends, so the
    /// next one starts at a frame's start and can go out in it.
    pub fn within_frame(&mut self, offset: usize, len: usize) -> usize {
        let (index, at) = self.find(offset);
        match self.frames.get(index) {
            Some(frame) => len.min(at + frame.len - offset),
            None => len,
        }
    }

    /// Sends the `len` bytes starting `offset` bytes after SND.UNA in their own frame, if
    /// they are exactly one frame whose buffer is here (not sent in it before): `send`
    /// gets the buffer and the sum of the bytes, and gives back a reference to the bytes
    /// (the buffer went to the device) or the buffer (it was not sent). Returns whether it
    /// was sent; if not, the caller copies the bytes into a segment instead.
    pub fn send_in_frame(
        &mut self,
        offset: usize,
        len: usize,
        send: impl FnOnce(PacketBuf, u16) -> Result<SharedBytes, PacketBuf>,
    ) -> bool {
        let (index, at) = self.find(offset);
        let Some(frame) = self.frames.get_mut(index) else { return false };
        if at != offset || frame.len != len || len == 0 {
            return false;
        }
        match &frame.held {
            // A frame mostly empty (a small write) is copied into a segment instead: on
            // the wire it would keep a whole buffer from the device's pool until the ACK.
            Held::Buffer(buf) if worth_sending_in(buf) => {}
            _ => return false,
        }
        let sum = match frame.sum {
            Some(sum) => sum,
            None => *frame.sum.insert(checksum::sum(frame.bytes())),
        };
        frame.send_in(sum, send)
    }

    /// `send_in_frame` for a run: sends the frames from `offset` bytes after SND.UNA on,
    /// one after the other, while each is `frame_len` bytes not sent before and the run
    /// stays within `max` bytes. `send` gets each buffer, the sum of its bytes and its
    /// offset. Returns how many bytes went out (a multiple of `frame_len`); the run stops
    /// at the first frame `send` gives back.
    pub fn send_whole_frames(
        &mut self,
        offset: usize,
        max: usize,
        frame_len: usize,
        mut send: impl FnMut(PacketBuf, u16, usize) -> Result<SharedBytes, PacketBuf>,
    ) -> usize {
        let (mut index, at) = self.find(offset);
        if at != offset {
            return 0;
        }
        let mut sent = 0;
        while sent + frame_len <= max {
            let Some(frame) = self.frames.get_mut(index) else { break };
            let (Some(sum), true) = (frame.sum, frame.len == frame_len) else { break };
            if !frame.send_in(sum, |buf, sum| send(buf, sum, offset + sent)) {
                break;
            }
            sent += frame_len;
            index += 1;
        }
        sent
    }

    /// Fills `out` with the bytes starting `offset` bytes after SND.UNA (they must all be
    /// in the buffer: `offset + out.len() <= len()`) and returns their ones'-complement sum
    /// (as `wire::checksum::sum` of `out` afterwards would), taken while they are copied.
    pub fn copy_and_sum_into(&mut self, offset: usize, out: &mut [u8]) -> u16 {
        debug_assert!(offset + out.len() <= self.len);
        let (mut index, at) = self.find(offset);
        let mut skip = offset - at;
        let (mut done, mut sum) = (0, 0u16);
        while done < out.len() {
            let Some(frame) = self.frames.get(index) else { break };
            let bytes = &frame.bytes()[skip..];
            let n = bytes.len().min(out.len() - done);
            let part = checksum::copy_and_sum(&mut out[done..done + n], &bytes[..n]);
            // A part landing at an odd offset of the segment sits in the other halves of the words.
            sum = checksum::add(sum, if done % 2 == 1 { part.swap_bytes() } else { part });
            done += n;
            index += 1;
            skip = 0;
        }
        sum
    }

    /// Heap bytes held, for memory accounting: the frames and the queue's slots.
    pub fn allocated(&self) -> usize {
        let frame_bytes = |f: &Frame| match &f.held {
            Held::Buffer(buf) => buf.capacity(),
            Held::OnWire(bytes) => bytes.bytes().len(),
            Held::Taken => 0,
        };
        self.frames.capacity() * core::mem::size_of::<Frame>() + self.frames.iter().map(frame_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn new_frame(n: usize) -> PacketBuf {
        PacketBuf::with_headroom(TX_HEADROOM + n, TX_HEADROOM)
    }

    fn copy(buf: &mut SendBuffer, offset: usize, len: usize) -> (Vec<u8>, u16) {
        let mut out = vec![0xa5; len];
        let sum = buf.copy_and_sum_into(offset, &mut out);
        (out, sum)
    }

    #[test]
    fn push_fills_frames_of_one_segment_each_within_the_limits() {
        let mut buf = SendBuffer::default();
        assert_eq!(buf.allocated(), 0, "lazy: nothing allocated until written");
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        assert_eq!(buf.push(&data[..2500], 4000, 1000, 0, new_frame), 2500);
        assert_eq!(buf.frames.iter().map(|f| f.len).collect::<Vec<_>>(), [1000, 1000, 500]);
        // Nothing sent yet: the last frame is topped up first.
        assert_eq!(buf.push(&data[2500..], 4000, 1000, 0, new_frame), 1500, "up to the byte limit");
        assert_eq!(buf.frames.iter().map(|f| f.len).collect::<Vec<_>>(), [1000, 1000, 1000, 1000]);
        assert_eq!(copy(&mut buf, 0, 4000).0, &data[..4000]);
        // Once a frame's bytes went out, new bytes start a new frame (segments stay aligned).
        buf.consume(3500, &mut Vec::new(), 8);
        assert_eq!(buf.push(&data[..100], 4000, 1000, 500, new_frame), 100);
        assert_eq!(buf.frames.iter().map(|f| f.len).collect::<Vec<_>>(), [500, 100]);
        // Frames are bounded as well as bytes: tiny writes that each went out alone.
        let mut tiny = SendBuffer::default();
        let mut taken = 0;
        for _ in 0..20 {
            let sent = tiny.len();
            taken += tiny.push(b"x", 2000, 1000, sent, new_frame);
        }
        assert_eq!((taken, tiny.frames.len()), (3, 3), "2000 bytes of frames of 1000 fill three");
    }

    #[test]
    fn a_frame_goes_out_in_its_buffer_and_its_bytes_stay_readable() {
        let mut buf = SendBuffer::default();
        let data: Vec<u8> = (0..3001u32).map(|i| (i * 7) as u8).collect();
        buf.push(&data, 10_000, 1448, 0, new_frame);
        let mut wire = Vec::new();
        let mut send = |frame: PacketBuf, sum: u16| {
            assert_eq!(sum, checksum::sum(frame.data()), "the sum taken while copying in");
            let bytes = frame.share_bytes().unwrap();
            wire.push(frame);
            Ok(bytes)
        };
        assert!(!buf.send_in_frame(1, 1447, &mut send), "not at a frame's start");
        assert!(!buf.send_in_frame(0, 1000, &mut send), "not the whole frame");
        assert!(buf.send_in_frame(0, 1448, &mut send));
        assert!(!buf.send_in_frame(0, 1448, &mut send), "sent in it once: a retransmission is copied");
        assert!(buf.send_in_frame(1448, 1448, &mut send));
        assert!(!buf.send_in_frame(2896, 100, &mut send), "the last frame holds 105 bytes");
        assert!(!buf.send_in_frame(2896, 105, &mut send), "mostly empty: copied into a segment instead");
        assert_eq!(wire.len(), 2);
        let mut other = SendBuffer::default();
        other.push(&data[..1448], 10_000, 1448, 0, new_frame);
        assert!(!other.send_in_frame(0, 1448, |frame, _| Err(frame)), "a sink that refuses gives it back...");
        assert!(matches!(other.frames[0].held, Held::Buffer(_)), "...and the frame keeps its buffer");
        assert_eq!(wire[0].data(), &data[..1448]);
        // The bytes of frames on the wire are still here, for retransmission.
        let (bytes, sum) = copy(&mut buf, 1000, 2001);
        assert_eq!(bytes, &data[1000..]);
        assert_eq!(sum, checksum::sum(&data[1000..]));
        // Acknowledged: a frame whose buffer is still out there is not handed back; one
        // whose buffer came back (the device dropped its handle) is.
        let mut spent = Vec::new();
        drop(wire.remove(1));
        buf.consume(2896, &mut spent, 8);
        assert_eq!(spent.len(), 1, "the second frame, whose bytes nobody else holds");
        assert!(!spent[0].is_shared());
        assert!(!wire[0].is_shared(), "the wire's handle is the last one of the first frame");
    }

    /// The buffer against a plain byte queue, through random writes, segments (in their
    /// frames or copied), acknowledgements and MSS changes.
    #[test]
    fn random_operations_match_a_plain_byte_queue() {
        let seed = std::env::var("NIC_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(11u64);
        eprintln!("seed {seed} (rerun with NIC_SEED={seed})");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut buf = SendBuffer::default();
        let mut model: VecDeque<u8> = VecDeque::new();
        let mut sent = 0usize; // bytes of the buffer sent at least once
        let mut wire: Vec<PacketBuf> = Vec::new();
        let mut spent = Vec::new();
        let (mut next, mut in_frames) = (0u8, 0);
        for step in 0..20_000 {
            match rng.gen_range(0..4) {
                0 => {
                    let data: Vec<u8> =
                        (0..rng.gen_range(0..5000)).map(|_| (next, next = next.wrapping_add(1)).0).collect();
                    let frame_payload = [536, 1448, 1460, 100][rng.gen_range(0..4)];
                    let taken = buf.push(&data, 20_000, frame_payload, sent, new_frame);
                    assert!(taken <= data.len());
                    model.extend(&data[..taken]);
                    next = data.get(taken).copied().unwrap_or(next);
                }
                1 if !model.is_empty() => {
                    // Mostly what TCP does (the next unsent bytes, cut at their frame's
                    // end); sometimes a retransmission from anywhere.
                    let in_order = sent < model.len() && rng.gen_bool(0.7);
                    let offset = if in_order { sent } else { rng.gen_range(0..model.len()) };
                    let len = rng.gen_range(0..=(model.len() - offset).min(2000));
                    let len = if in_order || rng.gen_bool(0.5) { buf.within_frame(offset, len) } else { len };
                    if in_order && rng.gen_bool(0.3) {
                        // A run of whole frames of one size, as the output loop sends them.
                        let frame_len = buf.within_frame(offset, usize::MAX);
                        let run = buf.send_whole_frames(offset, len.max(frame_len * 3), frame_len, |frame, sum, at| {
                            assert_eq!(sum, checksum::sum(frame.data()));
                            assert!(
                                frame.data().iter().eq(model.range(at..at + frame_len)),
                                "step {step}: run at {at}"
                            );
                            let bytes = frame.share_bytes().unwrap();
                            wire.push(frame);
                            Ok(bytes)
                        });
                        assert_eq!(run % frame_len, 0);
                        in_frames += run / frame_len;
                        sent = sent.max(offset + run);
                        continue;
                    }
                    let in_frame = buf.send_in_frame(offset, len, |frame, sum| {
                        assert_eq!(sum, checksum::sum(frame.data()));
                        let bytes = frame.share_bytes().unwrap();
                        wire.push(frame);
                        Ok(bytes)
                    });
                    if !in_frame {
                        let (bytes, sum) = copy(&mut buf, offset, len);
                        let expected: Vec<u8> = model.range(offset..offset + len).copied().collect();
                        assert_eq!(bytes, expected, "step {step}: copy at {offset}+{len}");
                        assert_eq!(sum, checksum::sum(&expected), "step {step}");
                    } else {
                        in_frames += 1;
                        let frame = wire.last().unwrap();
                        assert!(frame.data().iter().eq(model.range(offset..offset + len)), "step {step}");
                    }
                    sent = sent.max(offset + len);
                }
                2 if !model.is_empty() => {
                    let count = rng.gen_range(0..=model.len().min(4000));
                    buf.consume(count, &mut spent, 64);
                    model.drain(..count);
                    sent = sent.saturating_sub(count);
                }
                _ => {
                    // The device is done with some frames (in any order).
                    let n = rng.gen_range(0..=wire.len());
                    for _ in 0..n {
                        wire.swap_remove(rng.gen_range(0..wire.len()));
                    }
                    spent.clear();
                }
            }
            assert_eq!(buf.len(), model.len(), "step {step}");
        }
        assert!(in_frames > 500, "segments sent in their frames: {in_frames}");
    }
}
