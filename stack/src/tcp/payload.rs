//! A received segment's payload: bytes borrowed from the caller, or the frame buffer they
//! arrived in, which the receive buffer may keep instead of copying (zero-copy receive,
//! the way Linux queues an sk_buff on a socket).

use crate::buf::PacketBuf;

pub struct Payload<'a> {
    source: Source<'a>,
    len: usize,
}

enum Source<'a> {
    Borrowed(&'a [u8]),
    /// A buffer whose data window is exactly the payload; `None` once the receive buffer
    /// took it.
    Frame(Option<PacketBuf>),
}

impl<'a> Payload<'a> {
    pub fn borrowed(bytes: &'a [u8]) -> Self {
        Payload { len: bytes.len(), source: Source::Borrowed(bytes) }
    }

    /// `buf`'s data window must be the payload alone (the TCP header already pulled).
    pub fn frame(buf: PacketBuf) -> Self {
        Payload { len: buf.len(), source: Source::Frame(Some(buf)) }
    }

    /// The payload's length, also after the frame was taken.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes, while they are still here (empty once the frame was taken).
    pub fn bytes(&self) -> &[u8] {
        match &self.source {
            Source::Borrowed(bytes) => bytes,
            Source::Frame(Some(buf)) => buf.data(),
            Source::Frame(None) => &[],
        }
    }

    /// The frame, for a receive buffer to keep, if the payload came in one that is worth
    /// keeping: storage the stack owns (a driver's DMA buffer goes back to its ring at
    /// once), and at least half of it payload, so a flood of small segments cannot hold
    /// whole frames per byte of window.
    pub fn take_frame(&mut self) -> Option<PacketBuf> {
        match &mut self.source {
            Source::Frame(slot) if slot.as_ref().is_some_and(worth_keeping) => slot.take(),
            _ => None,
        }
    }

    /// Whether a receive buffer took the frame.
    pub fn taken(&self) -> bool {
        matches!(self.source, Source::Frame(None))
    }

    /// The frame buffer, unless it was taken: the caller recycles it.
    pub fn into_frame(self) -> Option<PacketBuf> {
        match self.source {
            Source::Frame(slot) => slot,
            Source::Borrowed(_) => None,
        }
    }
}

fn worth_keeping(buf: &PacketBuf) -> bool {
    !buf.is_external() && buf.len() * 2 >= buf.capacity()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A frame as the interface hands it over: `payload` at the end of a `capacity`-byte
    /// buffer (the headers pulled off in front of it).
    pub(in crate::tcp) fn frame(payload: &[u8], capacity: usize) -> PacketBuf {
        let mut buf = PacketBuf::with_headroom(capacity, capacity - payload.len());
        buf.append(payload).unwrap();
        buf
    }

    #[test]
    fn a_mostly_full_owned_frame_is_taken_and_its_length_remembered() {
        let mut payload = Payload::frame(frame(&[7; 800], 1500));
        assert_eq!(payload.bytes(), &[7; 800][..]);
        let taken = payload.take_frame().expect("800 of 1500 bytes is worth keeping");
        assert_eq!(taken.data(), &[7; 800][..]);
        assert_eq!((payload.len(), payload.bytes(), payload.taken()), (800, &[][..], true));
        assert!(payload.into_frame().is_none());
    }

    #[test]
    fn a_small_payload_in_a_big_frame_is_copied_and_the_frame_given_back() {
        let mut payload = Payload::frame(frame(b"tiny", 1500));
        assert!(payload.take_frame().is_none());
        assert_eq!(payload.bytes(), b"tiny");
        assert_eq!(payload.into_frame().map(|b| b.capacity()), Some(1500));
        let mut borrowed = Payload::borrowed(b"abc");
        assert!(borrowed.take_frame().is_none());
        assert_eq!(borrowed.bytes(), b"abc");
    }

    struct Dma(Vec<u8>);
    impl crate::buf::ExternalStorage for Dma {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.0
        }
    }

    #[test]
    fn a_device_owned_buffer_is_never_kept() {
        let buf = PacketBuf::from_external(Box::new(Dma(vec![9; 1500])), 60, 1500).ok().unwrap();
        let mut payload = Payload::frame(buf);
        assert!(payload.take_frame().is_none(), "a DMA buffer goes back to its ring at once");
        assert_eq!(payload.bytes(), &[9; 1440][..]);
        assert!(payload.into_frame().is_some_and(|b| b.is_external()));
    }
}
