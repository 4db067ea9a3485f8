//! The receive side: in-order bytes waiting for the application, and a bounded queue of
//! out-of-order segments waiting for the gap before them to fill (RFC 9293 section 3.10.7.4,
//! "segment text"). Like the send buffer, storage grows only when data arrives.

use super::send_buffer::LINGER_ABOVE;
use super::seq::Seq;
use std::collections::VecDeque;

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
    readable: VecDeque<u8>,
    /// Sorted by sequence, never overlapping, never touching RCV.NXT.
    islands: Vec<Island>,
}

impl RecvBuffer {
    pub fn readable_len(&self) -> usize {
        self.readable.len()
    }

    pub fn has_gaps(&self) -> bool {
        !self.islands.is_empty()
    }

    /// Free space behind RCV.NXT: the receive window.
    pub fn window(&self, capacity: usize) -> usize {
        capacity.saturating_sub(self.readable.len())
    }

    /// Takes the payload of a segment starting at `seq`; advances `rcv_nxt` past what
    /// became contiguous. `capacity` bounds the buffered bytes, `max_islands` the queue.
    pub fn insert(
        &mut self,
        rcv_nxt: &mut Seq,
        seq: Seq,
        payload: &[u8],
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
        let bytes = &payload[(start - seq) as usize..(end - seq) as usize];
        if start != *rcv_nxt {
            return self.store_island(start, bytes, max_islands);
        }
        self.readable.extend(bytes);
        *rcv_nxt = end;
        let mut delivered = bytes.len();
        // Pull islands that the new bytes reached.
        while let Some(first) = self.islands.first() {
            if first.seq.gt(*rcv_nxt) {
                break;
            }
            let island = self.islands.remove(0);
            if island.end().gt(*rcv_nxt) {
                let skip = (*rcv_nxt - island.seq) as usize;
                self.readable.extend(&island.bytes[skip..]);
                delivered += island.bytes.len() - skip;
                *rcv_nxt = island.end();
            }
        }
        Arrival::InOrder(delivered)
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

    /// Moves up to `out.len()` readable bytes to the application.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let count = out.len().min(self.readable.len());
        let (front, back) = self.readable.as_slices();
        let from_front = count.min(front.len());
        out[..from_front].copy_from_slice(&front[..from_front]);
        out[from_front..count].copy_from_slice(&back[..count - from_front]);
        self.readable.drain(..count);
        if self.readable.is_empty() && self.readable.capacity() <= LINGER_ABOVE {
            self.readable = VecDeque::new();
        }
        count
    }

    /// Whether the readable bytes are drained but their storage is kept (see `LINGER_ABOVE`).
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
        self.readable.capacity()
            + self.islands.iter().map(|i| i.bytes.capacity()).sum::<usize>()
            + self.islands.capacity() * core::mem::size_of::<Island>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(buf: &mut RecvBuffer) -> Vec<u8> {
        let mut out = vec![0; buf.readable_len()];
        let n = buf.read(&mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn reads_span_the_ring_wrap() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(0);
        buf.insert(&mut nxt, Seq(0), &[1; 6], 8, 4);
        let mut out = [0u8; 5];
        assert_eq!(buf.read(&mut out), 5);
        buf.insert(&mut nxt, Seq(6), &[2, 3, 4, 5, 6], 8, 4); // may wrap around the ring
        let mut out = [0u8; 8];
        assert_eq!(buf.read(&mut out), 6);
        assert_eq!(&out[..6], &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn in_order_bytes_become_readable_and_advance_rcv_nxt() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(u32::MAX - 1);
        assert_eq!(buf.insert(&mut nxt, Seq(u32::MAX - 1), b"abcd", 100, 4), Arrival::InOrder(4));
        assert_eq!(nxt, Seq(2), "wrapped past 2^32");
        assert_eq!(read_all(&mut buf), b"abcd");
    }

    #[test]
    fn out_of_order_islands_fill_in_and_merge() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(1000);
        assert_eq!(buf.insert(&mut nxt, Seq(1006), b"gh", 100, 4), Arrival::OutOfOrder);
        assert_eq!(buf.insert(&mut nxt, Seq(1003), b"def", 100, 4), Arrival::OutOfOrder, "touching islands merge");
        assert_eq!(buf.islands.len(), 1);
        assert_eq!(buf.insert(&mut nxt, Seq(1004), b"ef", 100, 4), Arrival::Duplicate);
        assert_eq!(nxt, Seq(1000));
        assert_eq!(buf.insert(&mut nxt, Seq(1000), b"abcd", 100, 4), Arrival::InOrder(8));
        assert_eq!(nxt, Seq(1008));
        assert!(!buf.has_gaps());
        assert_eq!(read_all(&mut buf), b"abcdefgh");
    }

    #[test]
    fn old_and_overlapping_bytes_are_trimmed() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(10);
        assert_eq!(buf.insert(&mut nxt, Seq(5), b"xxxxxab", 100, 4), Arrival::InOrder(2));
        assert_eq!(buf.insert(&mut nxt, Seq(5), b"xxxxx", 100, 4), Arrival::Duplicate);
        assert_eq!(read_all(&mut buf), b"ab");
    }

    #[test]
    fn window_edge_clips_and_queue_limit_holds() {
        let mut buf = RecvBuffer::default();
        let mut nxt = Seq(0);
        // Capacity 4: the fifth byte is beyond the right edge.
        assert_eq!(buf.insert(&mut nxt, Seq(0), b"abcde", 4, 1), Arrival::InOrder(4));
        assert_eq!(buf.window(4), 0);
        assert_eq!(buf.insert(&mut nxt, Seq(4), b"e", 4, 1), Arrival::Duplicate, "zero window");
        read_all(&mut buf);
        assert_eq!(buf.insert(&mut nxt, Seq(6), b"g", 4, 1), Arrival::OutOfOrder);
        assert_eq!(buf.insert(&mut nxt, Seq(8), b"i", 4, 1), Arrival::Duplicate, "beyond window");
        assert_eq!(buf.insert(&mut nxt, Seq(7), b"h", 4, 1), Arrival::OutOfOrder, "merging needs no new slot");
        let mut two = RecvBuffer::default();
        let mut n2 = Seq(0);
        assert_eq!(two.insert(&mut n2, Seq(2), b"c", 10, 1), Arrival::OutOfOrder);
        assert_eq!(two.insert(&mut n2, Seq(5), b"f", 10, 1), Arrival::QueueFull);
    }
}
