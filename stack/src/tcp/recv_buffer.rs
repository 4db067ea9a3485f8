//! The receive side: in-order bytes waiting for the application, and a bounded queue of
//! out-of-order segments waiting for the gap before them to fill (RFC 9293 section 3.10.7.4,
//! "segment text"). Like the send buffer, storage grows only when data arrives.
//!
//! In-order bytes wait in a queue of chunks. A full-sized segment's frame buffer becomes a
//! chunk as it is (its data window narrowed to the payload), so the payload is copied once,
//! to the application, instead of twice; small segments are copied into a chunk's free
//! tail. Drained chunks go back to the caller (`read`'s `spent`) for the device to reuse.

use super::payload::Payload;
use super::seq::Seq;
use crate::buf::PacketBuf;
use std::collections::VecDeque;

/// Chunks made for copied bytes hold between these many (more for a bigger segment), so
/// small segments share one.
const MIN_COPY_CHUNK: usize = 64;
const COPY_CHUNK: usize = 2048;

/// Drained chunks held for the device at most, between two interface polls (more are
/// freed).
pub const SPENT_MAX: usize = 512;

/// A drained chunk queue with room for more chunks than this keeps it (a bulk receiver
/// drains and refills it every round trip); the connection's buffer timer frees it later.
const LINGER_CHUNKS: usize = 32;

/// A run of bytes received ahead of RCV.NXT.
#[derive(Debug)]
struct Island {
    seq: Seq,
    bytes: Vec<u8>,
}

impl Island {
    fn end(&self) -> Seq {
        self.seq + self.bytes.len() as u32
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Bytes now readable that were not before (including ones pulled from the queue).
    InOrder(usize),
    /// Stored ahead of a gap.
    OutOfOrder,
    /// Nothing new: everything was already received or lies outside the window.
    Duplicate,
    /// Out of order, but the queue is at its segment limit.
    QueueFull,
}

#[derive(Debug, Default)]
pub struct RecvBuffer {
    /// The readable bytes, in order: each chunk's data window.
    readable: VecDeque<PacketBuf>,
    readable_len: usize,
    /// Sorted by sequence, never overlapping, never touching RCV.NXT.
    islands: Vec<Island>,
}

impl RecvBuffer {
    pub fn readable_len(&self) -> usize {
        self.readable_len
    }

    pub fn has_gaps(&self) -> bool {
        !self.islands.is_empty()
    }

    /// Free space behind RCV.NXT: the receive window.
    pub fn window(&self, capacity: usize) -> usize {
        capacity.saturating_sub(self.readable_len)
    }

    /// Takes the payload of a segment starting at `seq`; advances `rcv_nxt` past what
    /// became contiguous. `capacity` bounds the buffered bytes, `max_islands` the queue.
    /// In-order bytes keep the payload's frame when it is worth keeping (see `Payload`).
    pub fn insert(
        &mut self,
        rcv_nxt: &mut Seq,
        seq: Seq,
        payload: &mut Payload,
        capacity: usize,
        max_islands: usize,
    ) -> Arrival {
        // Clip to [RCV.NXT, RCV.NXT + window).
        let window = self.window(capacity) as u32;
        let start = seq.max(*rcv_nxt);
        let end = (seq + payload.len() as u32).min(*rcv_nxt + window);
        if !start.lt(end) {
            return Arrival::Duplicate;
        }
        let (skip, len) = ((start - seq) as usize, (end - start) as usize);
        if start != *rcv_nxt {
            return self.store_island(start, &payload.bytes()[skip..skip + len], max_islands);
        }
        match payload.take_frame() {
            Some(mut frame) => {
                frame.pull(skip).expect("clipped inside the payload");
                frame.truncate(len);
                self.push_chunk(frame);
            }
            None => self.push_copy(&payload.bytes()[skip..skip + len]),
        }
        *rcv_nxt = end;
        let mut delivered = len;
        // Pull islands that the new bytes reached.
        while let Some(first) = self.islands.first() {
            if first.seq.gt(*rcv_nxt) {
                break;
            }
            let island = self.islands.remove(0);
            if island.end().gt(*rcv_nxt) {
                let skip = (*rcv_nxt - island.seq) as usize;
                *rcv_nxt = island.end();
                let mut chunk = PacketBuf::from_frame(island.bytes);
                chunk.pull(skip).expect("the island reaches past RCV.NXT");
                delivered += chunk.len();
                self.push_chunk(chunk);
            }
        }
        Arrival::InOrder(delivered)
    }

    /// `insert` for the payload of the segment at RCV.NXT that fits the window, with no
    /// out-of-order data waiting: appended whole, nothing to clip or to pull in.
    pub fn append_in_order(&mut self, rcv_nxt: &mut Seq, payload: &mut Payload) {
        debug_assert!(!self.has_gaps());
        match payload.take_frame() {
            Some(frame) => self.push_chunk(frame),
            None => self.push_copy(payload.bytes()),
        }
        *rcv_nxt += payload.len() as u32;
    }

    fn push_chunk(&mut self, chunk: PacketBuf) {
        self.readable_len += chunk.len();
        self.readable.push_back(chunk);
    }

    /// Copies `bytes` into the last chunk's free tail if it has room (and is the stack's
    /// own storage), else into a new chunk.
    fn push_copy(&mut self, bytes: &[u8]) {
        if let Some(last) = self.readable.back_mut().filter(|c| !c.is_external()) {
            if last.append(bytes).is_some() {
                self.readable_len += bytes.len();
                return;
            }
        }
        // Sized by what is queued: a request of a few bytes gets a small chunk, a stream
        // of small segments chunks that double up to `COPY_CHUNK`.
        let size = (self.readable_len + bytes.len()).next_power_of_two().clamp(MIN_COPY_CHUNK, COPY_CHUNK);
        let mut chunk = PacketBuf::with_headroom(size.max(bytes.len()), 0);
        chunk.append(bytes).expect("sized for the bytes");
        self.push_chunk(chunk);
    }

    /// Merges `bytes` at `seq` with every island it overlaps or touches.
    fn store_island(&mut self, seq: Seq, bytes: &[u8], max_islands: usize) -> Arrival {
        let end = seq + bytes.len() as u32;
        let first = self.islands.iter().position(|i| i.end().ge(seq)).unwrap_or(self.islands.len());
        let last = self.islands[first..].iter().position(|i| i.seq.gt(end)).map_or(self.islands.len(), |n| first + n);
        if first == last {
            if self.islands.len() >= max_islands {
                return Arrival::QueueFull;
            }
            self.islands.insert(first, Island { seq, bytes: bytes.to_vec() });
            return Arrival::OutOfOrder;
        }
        let merged_seq = seq.min(self.islands[first].seq);
        let merged_end = end.max(self.islands[last - 1].end());
        if self.islands[first..last].iter().any(|i| i.seq.le(seq) && i.end().ge(end)) {
            return Arrival::Duplicate;
        }
        let mut merged = vec![0u8; (merged_end - merged_seq) as usize];
        let at = (seq - merged_seq) as usize;
        merged[at..at + bytes.len()].copy_from_slice(bytes);
        for island in self.islands.drain(first..last) {
            let at = (island.seq - merged_seq) as usize;
            merged[at..at + island.bytes.len()].copy_from_slice(&island.bytes);
        }
        self.islands.insert(first, Island { seq: merged_seq, bytes: merged });
        Arrival::OutOfOrder
    }

    /// Moves up to `out.len()` readable bytes to the application. Chunks it empties go to
    /// `spent` (up to `spent_max` there), for the device to reuse; the rest are freed.
    pub fn read(&mut self, out: &mut [u8], spent: &mut Vec<PacketBuf>, spent_max: usize) -> usize {
        let (mut count, mut drained) = (0, 0);
        for chunk in self.readable.iter_mut() {
            if count == out.len() {
                break;
            }
            let n = chunk.len().min(out.len() - count);
            out[count..count + n].copy_from_slice(&chunk.data()[..n]);
            count += n;
            if n < chunk.len() {
                chunk.pull(n).expect("n is under the chunk's length");
                break;
            }
            drained += 1;
        }
        let kept = drained.min(spent_max.saturating_sub(spent.len()));
        spent.extend(self.readable.drain(..kept));
        self.readable.drain(..drained - kept);
        self.readable_len -= count;
        if self.readable.is_empty() && self.readable.capacity() <= LINGER_CHUNKS {
            self.readable = VecDeque::new();
        }
        count
    }

    /// Whether the readable bytes are drained but their queue's storage is kept (see
    /// `LINGER_CHUNKS`).
    pub fn lingering(&self) -> bool {
        self.readable.is_empty() && self.readable.capacity() > 0
    }

    /// Frees the readable bytes' storage if they are drained.
    pub fn release(&mut self) {
        if self.readable.is_empty() {
            self.readable = VecDeque::new();
        }
    }

    /// Heap bytes held, for memory accounting.
    pub fn allocated(&self) -> usize {
        self.readable.capacity() * core::mem::size_of::<PacketBuf>()
            + self.readable.iter().map(PacketBuf::capacity).sum::<usize>()
            + self.islands.iter().map(|i| i.bytes.capacity()).sum::<usize>()
            + self.islands.capacity() * core::mem::size_of::<Island>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::payload::tests::frame;

    fn read_all(buf: &mut RecvBuffer) -> Vec<u8> {
        let mut out = vec![0; buf.readable_len()];
        let n = buf.read(&mut out, &mut Vec::new(), 0);
        out.truncate(n);
        out
    }

    /// `RecvBuffer::insert` with borrowed bytes.
    fn put(buf: &mut RecvBuffer, nxt: &mut Seq, seq: Seq, bytes: &[u8], capacity: usize, islands: usize) -> Arrival {
        buf.insert(nxt, seq, &mut Payload::borrowed(bytes), capacity, islands)
    }

    #[test]
    fn reads_span_the_ring_wrap() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(0);
        put(&mut buf, &mut nxt, Seq(0), &[1; 6], 8, 4);
        let mut out = [0u8; 5];
        assert_eq!(buf.read(&mut out, &mut Vec::new(), 0), 5);
        put(&mut buf, &mut nxt, Seq(6), &[2, 3, 4, 5, 6], 8, 4); // may wrap around the ring
        let mut out = [0u8; 8];
        assert_eq!(buf.read(&mut out, &mut Vec::new(), 0), 6);
        assert_eq!(&out[..6], &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn in_order_bytes_become_readable_and_advance_rcv_nxt() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(u32::MAX - 1);
        assert_eq!(put(&mut buf, &mut nxt, Seq(u32::MAX - 1), b"abcd", 100, 4), Arrival::InOrder(4));
        assert_eq!(nxt, Seq(2), "wrapped past 2^32");
        assert_eq!(read_all(&mut buf), b"abcd");
    }

    #[test]
    fn out_of_order_islands_fill_in_and_merge() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(1000);
        assert_eq!(put(&mut buf, &mut nxt, Seq(1006), b"gh", 100, 4), Arrival::OutOfOrder);
        assert_eq!(put(&mut buf, &mut nxt, Seq(1003), b"def", 100, 4), Arrival::OutOfOrder, "touching islands merge");
        assert_eq!(buf.islands.len(), 1);
        assert_eq!(put(&mut buf, &mut nxt, Seq(1004), b"ef", 100, 4), Arrival::Duplicate);
        assert_eq!(nxt, Seq(1000));
        assert_eq!(put(&mut buf, &mut nxt, Seq(1000), b"abcd", 100, 4), Arrival::InOrder(8));
        assert_eq!(nxt, Seq(1008));
        assert!(!buf.has_gaps());
        assert_eq!(read_all(&mut buf), b"abcdefgh");
    }

    #[test]
    fn old_and_overlapping_bytes_are_trimmed() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(10);
        assert_eq!(put(&mut buf, &mut nxt, Seq(5), b"xxxxxab", 100, 4), Arrival::InOrder(2));
        assert_eq!(put(&mut buf, &mut nxt, Seq(5), b"xxxxx", 100, 4), Arrival::Duplicate);
        assert_eq!(read_all(&mut buf), b"ab");
    }

    #[test]
    fn window_edge_clips_and_queue_limit_holds() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(0);
        // Capacity 4: the fifth byte is beyond the right edge.
        assert_eq!(put(&mut buf, &mut nxt, Seq(0), b"abcde", 4, 1), Arrival::InOrder(4));
        assert_eq!(buf.window(4), 0);
        assert_eq!(put(&mut buf, &mut nxt, Seq(4), b"e", 4, 1), Arrival::Duplicate, "zero window");
        read_all(&mut buf);
        assert_eq!(put(&mut buf, &mut nxt, Seq(6), b"g", 4, 1), Arrival::OutOfOrder);
        assert_eq!(put(&mut buf, &mut nxt, Seq(8), b"i", 4, 1), Arrival::Duplicate, "beyond window");
        assert_eq!(put(&mut buf, &mut nxt, Seq(7), b"h", 4, 1), Arrival::OutOfOrder, "merging needs no new slot");
        let mut two = RecvBuffer::default();
        let mut n2 = Seq(0);
        assert_eq!(put(&mut two, &mut n2, Seq(2), b"c", 10, 1), Arrival::OutOfOrder);
        assert_eq!(put(&mut two, &mut n2, Seq(5), b"f", 10, 1), Arrival::QueueFull);
    }

    #[test]
    fn full_sized_segments_are_queued_in_their_frames_and_handed_back_once_read() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(100);
        let mut first = Payload::frame(frame(&[1; 1000], 1514));
        assert_eq!(buf.insert(&mut nxt, Seq(100), &mut first, 10_000, 4), Arrival::InOrder(1000));
        assert!(first.into_frame().is_none(), "the frame was kept, not copied");
        // Overlapping 200 old bytes: kept too, its window trimmed to the new bytes.
        let mut bytes = vec![1; 200];
        bytes.extend([2; 800]);
        let mut second = Payload::frame(frame(&bytes, 1514));
        assert_eq!(buf.insert(&mut nxt, Seq(900), &mut second, 10_000, 4), Arrival::InOrder(800));
        assert!(second.into_frame().is_none());
        assert_eq!((nxt, buf.readable_len()), (Seq(1900), 1800));
        assert_eq!(buf.allocated(), 2 * 1514 + buf.readable.capacity() * std::mem::size_of::<PacketBuf>());

        let (mut out, mut spent) = (vec![0; 1500], Vec::new());
        assert_eq!(buf.read(&mut out, &mut spent, 8), 1500);
        assert_eq!(&out[..1000], &[1; 1000][..]);
        assert_eq!(&out[1000..], &[2; 500][..]);
        assert_eq!(spent.len(), 1, "the drained frame goes back for the device");
        assert_eq!(spent[0].capacity(), 1514);
        assert_eq!(buf.read(&mut out, &mut spent, 1), 300);
        assert_eq!(&out[..300], &[2; 300][..]);
        assert_eq!(spent.len(), 1, "beyond `spent_max` drained frames are freed");
        assert_eq!(buf.readable_len(), 0);
    }

    #[test]
    fn small_segments_are_copied_into_shared_chunks_and_their_frames_given_back() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(0);
        for i in 0..100u8 {
            let mut payload = Payload::frame(frame(&[i; 10], 1514));
            assert_eq!(buf.insert(&mut nxt, Seq(u32::from(i) * 10), &mut payload, 10_000, 4), Arrival::InOrder(10));
            assert_eq!(payload.into_frame().map(|f| f.capacity()), Some(1514), "a frame mostly empty is not kept");
        }
        assert!(buf.readable.len() <= 6, "1,000 bytes in {} chunks", buf.readable.len());
        assert!(buf.allocated() < 4096, "small segments do not hold a frame each: {} bytes", buf.allocated());
        let expected: Vec<u8> = (0..100u8).flat_map(|i| [i; 10]).collect();
        assert_eq!(read_all(&mut buf), expected);
    }

    #[test]
    fn an_out_of_order_frame_is_copied_and_joins_when_the_gap_fills() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(0);
        let mut later = Payload::frame(frame(&[2; 1000], 1514));
        assert_eq!(buf.insert(&mut nxt, Seq(1000), &mut later, 10_000, 4), Arrival::OutOfOrder);
        assert!(later.into_frame().is_some(), "an island is a copy: the frame goes back at once");
        let mut first = Payload::frame(frame(&[1; 1000], 1514));
        assert_eq!(buf.insert(&mut nxt, Seq(0), &mut first, 10_000, 4), Arrival::InOrder(2000));
        let mut expected = vec![1; 1000];
        expected.extend([2; 1000]);
        assert_eq!(read_all(&mut buf), expected);
    }
}
