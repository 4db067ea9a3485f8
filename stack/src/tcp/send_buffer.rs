//! The send buffer: bytes from SND.UNA onwards, acknowledged bytes leave from the front.
//!
//! Storage is a `VecDeque` that starts empty and grows only as the application writes,
//! so an idle connection costs no buffer memory; the configured size only caps it.

use crate::wire::checksum;
use std::collections::VecDeque;

/// A buffer drained with more storage than this keeps it for a while (the connection's
/// buffer timer frees it if it stays empty): a bulk transfer drains and refills its
/// buffers every round trip, and freeing and growing hundreds of KiB each time costs more
/// than moving the data (page faults, the allocator's trimming, copies while growing).
/// Smaller buffers are freed at once, as idle connections hold none.
pub const LINGER_ABOVE: usize = 64 * 1024;

/// How long a drained buffer above `LINGER_ABOVE` lingers before its storage is freed.
pub const BUFFER_LINGER_MS: u64 = 1000;

#[derive(Debug, Default)]
pub struct SendBuffer {
    bytes: VecDeque<u8>,
}

impl SendBuffer {
    /// Bytes not yet acknowledged (sent or not).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends as much of `data` as fits under `limit` bytes in total; returns how much.
    pub fn push(&mut self, data: &[u8], limit: usize) -> usize {
        let take = data.len().min(limit.saturating_sub(self.bytes.len()));
        self.bytes.extend(&data[..take]);
        take
    }

    /// Drops `count` acknowledged bytes from the front. Returns true if the buffer is now
    /// empty but still holds its storage (see `LINGER_ABOVE`): the caller frees it later
    /// with `release` unless it filled again.
    pub fn consume(&mut self, count: usize) -> bool {
        let count = count.min(self.bytes.len());
        self.bytes.drain(..count);
        if self.bytes.is_empty() {
            if self.bytes.capacity() > LINGER_ABOVE {
                self.bytes.clear();
                return true;
            }
            // Give the memory back once everything is acknowledged: idle connections are
            // the common case on a server and should hold no buffer.
            self.bytes = VecDeque::new();
        }
        false
    }

    /// Frees the storage if the buffer is empty.
    pub fn release(&mut self) {
        if self.bytes.is_empty() {
            self.bytes = VecDeque::new();
        }
    }

    /// Appends `len` bytes starting `offset` bytes after SND.UNA to `out`.
    #[cfg(test)]
    pub fn copy_to(&self, offset: usize, len: usize, out: &mut Vec<u8>) {
        let (front, back) = self.bytes.as_slices();
        let end = (offset + len).min(self.bytes.len());
        let offset = offset.min(end);
        if offset < front.len() {
            out.extend_from_slice(&front[offset..end.min(front.len())]);
        }
        if end > front.len() {
            out.extend_from_slice(&back[offset.saturating_sub(front.len())..end - front.len()]);
        }
    }

    /// Fills `out` with the bytes starting `offset` bytes after SND.UNA; they must all be
    /// in the buffer (`offset + out.len() <= len()`).
    #[cfg(test)]
    pub fn copy_into(&self, offset: usize, out: &mut [u8]) {
        let (front, back) = self.bytes.as_slices();
        let end = offset + out.len();
        debug_assert!(end <= self.bytes.len());
        let from_front = front.len().saturating_sub(offset).min(out.len());
        if from_front > 0 {
            out[..from_front].copy_from_slice(&front[offset..offset + from_front]);
        }
        if from_front < out.len() {
            let back_start = (offset + from_front) - front.len();
            let rest = &mut out[from_front..];
            rest.copy_from_slice(&back[back_start..back_start + rest.len()]);
        }
    }

    /// `copy_into`, returning the ones'-complement sum of the bytes copied (as
    /// `wire::checksum::sum` of `out` afterwards would): the segment's checksum is taken
    /// while its payload is copied, not in a second pass.
    pub fn copy_and_sum_into(&self, offset: usize, out: &mut [u8]) -> u16 {
        let (front, back) = self.bytes.as_slices();
        let end = offset + out.len();
        debug_assert!(end <= self.bytes.len());
        let from_front = front.len().saturating_sub(offset).min(out.len());
        let (head, rest) = out.split_at_mut(from_front);
        let front_part = if from_front > 0 { &front[offset..offset + from_front] } else { &[] };
        let mut sum = checksum::copy_and_sum(head, front_part);
        if !rest.is_empty() {
            let back_start = (offset + from_front) - front.len();
            let tail = checksum::copy_and_sum(rest, &back[back_start..back_start + rest.len()]);
            // The back part lands `from_front` bytes into the payload: at an odd offset its
            // bytes sit in the other halves of the 16-bit words.
            let tail = if from_front % 2 == 1 { tail.swap_bytes() } else { tail };
            sum = checksum::add(sum, tail);
        }
        sum
    }

    /// Heap bytes held, for memory accounting.
    pub fn allocated(&self) -> usize {
        self.bytes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_respects_the_limit_and_copy_spans_the_wrap() {
        let mut buf = SendBuffer::default();
        assert_eq!(buf.allocated(), 0, "lazy: nothing allocated until written");
        assert_eq!(buf.push(b"0123456789", 8), 8);
        assert_eq!(buf.push(b"xyz", 8), 0);
        buf.consume(6); // "67" left
        assert_eq!(buf.push(b"abcdef", 8), 6);
        let mut out = Vec::new();
        buf.copy_to(1, 5, &mut out);
        assert_eq!(out, b"7abcd");
        out.clear();
        buf.copy_to(6, 100, &mut out);
        assert_eq!(out, b"ef");
        out.clear();
        buf.copy_to(50, 10, &mut out);
        assert!(out.is_empty());
        for offset in 0..8 {
            for len in 0..=8 - offset {
                let mut slice = vec![0; len];
                buf.copy_into(offset, &mut slice);
                out.clear();
                buf.copy_to(offset, len, &mut out);
                assert_eq!(slice, out, "copy_into({offset}, {len}) across the wrap");
                let mut summed = vec![0; len];
                let sum = buf.copy_and_sum_into(offset, &mut summed);
                assert_eq!(summed, out, "copy_and_sum_into({offset}, {len})");
                assert_eq!(sum, checksum::sum(&out), "copy_and_sum_into({offset}, {len}) sum");
            }
        }
        buf.consume(100);
        assert!(buf.is_empty());
        assert_eq!(buf.allocated(), 0);
    }
}
