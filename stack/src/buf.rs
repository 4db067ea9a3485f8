//! `PacketBuf`: one frame in one contiguous buffer, with room in front for headers.
//!
//! Receive pulls headers off the front as each layer parses them; transmit writes the
//! payload first and pushes each layer's header in front of it. Neither direction copies
//! the payload (the sk_buff idea). The storage never grows after creation: a driver can
//! register it for DMA once and reuse it, so every operation that needs more room than the
//! buffer has fails instead of reallocating.
//!
//! The storage is either the stack's own, reference-counted, or an [`ExternalStorage`]
//! that someone else owns (a driver's DMA buffer): a received frame is parsed where the
//! card wrote it, and a driver hands out buffers for frames to be built in place. Dropping
//! a `PacketBuf` drops its storage, so an external storage's own `Drop` gives the buffer
//! back to its owner.
//!
//! The stack's own storage can be shared: `clone` gives a second handle on the same bytes
//! (each with its own data window), and the first write through a handle whose bytes are
//! shared copies them first (copy on write, `Arc::make_mut`). That is how a TCP sender
//! transmits a segment without copying its payload: the frame it keeps for retransmission
//! and the frame on the wire are two handles on one buffer (as Linux clones an sk_buff),
//! and neither can see the other write.

use std::any::Any;
use std::sync::Arc;

/// Bytes that live outside the stack, typically a driver's DMA buffer.
///
/// The slices must stay the same length for the storage's whole life (a `PacketBuf` over
/// it never grows). `Any` lets the owner recognise its own storage when the stack hands a
/// buffer back (`PacketBuf::into_external` then `Box<dyn Any>::downcast`).
pub trait ExternalStorage: Any + Send {
    fn bytes(&self) -> &[u8];
    fn bytes_mut(&mut self) -> &mut [u8];
}

/// Where a `PacketBuf`'s bytes live.
enum Storage {
    /// The stack's own bytes, possibly shared with other handles (see the module doc).
    Owned(Arc<[u8]>),
    External(Box<dyn ExternalStorage>),
}

impl Storage {
    /// `len` zero bytes of the stack's own.
    fn zeroed(len: usize) -> Self {
        Storage::Owned(std::iter::repeat_n(0u8, len).collect())
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Owned(v) => v,
            Storage::External(e) => e.bytes(),
        }
    }

    /// The bytes for writing; shared bytes are copied first, so the other handles keep
    /// what they had.
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Storage::Owned(v) => Arc::make_mut(v),
            Storage::External(e) => e.bytes_mut(),
        }
    }

    fn is_shared(&self) -> bool {
        match self {
            Storage::Owned(v) => Arc::strong_count(v) > 1,
            Storage::External(_) => false,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.bytes().len()
    }
}

/// A clone of the stack's own bytes shares them (until either side writes); a clone of an
/// external buffer is a copy: the external storage is one buffer with one owner, and a
/// duplicate (a wire that duplicates frames) must not alias it.
impl Clone for Storage {
    fn clone(&self) -> Self {
        match self {
            Storage::Owned(v) => Storage::Owned(v.clone()),
            Storage::External(e) => Storage::Owned(e.bytes().into()),
        }
    }
}

/// The bytes of a `PacketBuf`'s own storage without the buffer around them: a reference
/// that keeps them alive and readable while the buffer itself is elsewhere (a TCP sender
/// keeps one for each frame on the wire, for retransmission). While it exists, writes
/// through the buffer copy first, as for a clone.
pub struct SharedBytes(Arc<[u8]>);

impl SharedBytes {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether this is the last reference (the buffer it came from is gone).
    pub fn is_unique(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes(len {})", self.0.len())
    }
}

/// A frame under construction or being parsed: `storage[start..end]` is the live data.
/// A clone is a second handle on the same bytes with a window of its own (see the module
/// doc: copy on write).
///
/// The fields live behind one pointer, so a `PacketBuf` moves as a single word. Frames
/// move a lot (device batches, queues, pools, socket buffers), and moving a wider struct
/// right after one of its fields changed stalls the CPU: the compiler copies it with
/// loads wider than the store that just wrote the field, which the store buffer cannot
/// forward. Measured on the bulk benchmark, such moves cost more than the pointer does.
#[derive(Clone)]
pub struct PacketBuf {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    storage: Storage,
    start: usize,
    end: usize,
    meta: RxMeta,
}

/// Equal when the whole storage, the data window and the metadata are equal (wherever the
/// bytes live).
impl PartialEq for PacketBuf {
    fn eq(&self, other: &Self) -> bool {
        self.inner.start == other.inner.start
            && self.inner.end == other.inner.end
            && self.inner.meta == other.inner.meta
            && self.inner.storage.bytes() == other.inner.storage.bytes()
    }
}

impl Eq for PacketBuf {}

/// What the device learned about a received frame before the stack saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxMeta {
    /// The card's checksum assist: the 16-bit ones'-complement sum (not complemented) of
    /// every byte after the 14-byte Ethernet header, up to the end of the frame.
    /// Layers above adjust it as they pull headers (see `PacketBuf::pull`).
    pub l3_sum: Option<u16>,
}

impl PacketBuf {
    fn new(inner: Inner) -> Self {
        PacketBuf { inner: Box::new(inner) }
    }

    /// What the device learned about the frame (receive side).
    pub fn meta(&self) -> RxMeta {
        self.inner.meta
    }

    pub fn set_meta(&mut self, meta: RxMeta) {
        self.inner.meta = meta;
    }

    /// An empty buffer of `capacity` bytes whose data starts `headroom` bytes in.
    pub fn with_headroom(capacity: usize, headroom: usize) -> Self {
        let headroom = headroom.min(capacity);
        PacketBuf::new(Inner {
            storage: Storage::zeroed(capacity),
            start: headroom,
            end: headroom,
            meta: RxMeta::default(),
        })
    }

    /// A buffer holding exactly `frame` (a received frame), with no headroom.
    pub fn from_frame(frame: Vec<u8>) -> Self {
        let end = frame.len();
        PacketBuf::new(Inner { storage: Storage::Owned(frame.into()), start: 0, end, meta: RxMeta::default() })
    }

    /// A transmit buffer holding a copy of `payload`, with `headroom` bytes free in front.
    pub fn from_payload(payload: &[u8], headroom: usize) -> Self {
        // Only the headroom is zeroed: the payload bytes are written once, by the copy.
        let storage: Arc<[u8]> = std::iter::repeat_n(0, headroom).chain(payload.iter().copied()).collect();
        let end = storage.len();
        PacketBuf::new(Inner { storage: Storage::Owned(storage), start: headroom, end, meta: RxMeta::default() })
    }

    /// A buffer over external storage (a driver's DMA buffer) whose live data is
    /// `start..end`. Gives the storage back if the window does not fit in it.
    pub fn from_external(
        storage: Box<dyn ExternalStorage>,
        start: usize,
        end: usize,
    ) -> Result<Self, Box<dyn ExternalStorage>> {
        if start > end || end > storage.bytes().len() {
            return Err(storage);
        }
        Ok(PacketBuf::new(Inner { storage: Storage::External(storage), start, end, meta: RxMeta::default() }))
    }

    /// A reference to the bytes that outlives this buffer (see `SharedBytes`); `None` for
    /// an external storage, which has one owner.
    pub fn share_bytes(&self) -> Option<SharedBytes> {
        match &self.inner.storage {
            Storage::Owned(v) => Some(SharedBytes(v.clone())),
            Storage::External(_) => None,
        }
    }

    /// A buffer over `bytes` with the data window `start..end` (clamped to the bytes).
    pub fn from_shared(bytes: SharedBytes, start: usize, end: usize) -> Self {
        let end = end.min(bytes.0.len());
        PacketBuf::new(Inner { storage: Storage::Owned(bytes.0), start: start.min(end), end, meta: RxMeta::default() })
    }

    /// Whether another handle (a clone) holds the same bytes: a write through this one
    /// would copy them first. A device that pools buffers keeps only those nobody else
    /// holds (the last handle given back is the one that counts).
    pub fn is_shared(&self) -> bool {
        self.inner.storage.is_shared()
    }

    /// Whether the bytes live in an external storage.
    pub fn is_external(&self) -> bool {
        matches!(self.inner.storage, Storage::External(_))
    }

    /// The external storage and the live data window `(start, end)`, so its owner can
    /// recycle or transmit the buffer; the buffer itself back if its storage is owned.
    #[allow(clippy::type_complexity)]
    pub fn into_external(self) -> Result<(Box<dyn ExternalStorage>, usize, usize), PacketBuf> {
        if !self.is_external() {
            return Err(self);
        }
        let Inner { storage, start, end, .. } = *self.inner;
        match storage {
            Storage::External(e) => Ok((e, start, end)),
            Storage::Owned(_) => unreachable!("checked above"),
        }
    }

    pub fn len(&self) -> usize {
        self.inner.end - self.inner.start
    }

    pub fn is_empty(&self) -> bool {
        self.inner.start == self.inner.end
    }

    /// Free bytes in front of the data (room for headers still to be pushed).
    pub fn headroom(&self) -> usize {
        self.inner.start
    }

    /// Free bytes after the data.
    pub fn tailroom(&self) -> usize {
        self.inner.storage.len() - self.inner.end
    }

    pub fn data(&self) -> &[u8] {
        &self.inner.storage.bytes()[self.inner.start..self.inner.end]
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.inner.storage.bytes_mut()[self.inner.start..self.inner.end]
    }

    /// Receive: drops `n` header bytes from the front. `None` (and no change) if the data
    /// is shorter than `n`, so a truncated header can never be read past.
    pub fn pull(&mut self, n: usize) -> Option<()> {
        if n > self.len() {
            return None;
        }
        self.inner.start += n;
        Some(())
    }

    /// The bytes in front of the data: on receive, the headers pulled off it.
    pub fn headroom_bytes(&self) -> &[u8] {
        &self.inner.storage.bytes()[..self.inner.start]
    }

    /// Undoes `pull(n)`: the `n` bytes in front of the data belong to it again, as they
    /// are (no write, so shared bytes are not copied). `None` (and no change) if the
    /// headroom is shorter than `n`.
    pub fn unpull(&mut self, n: usize) -> Option<()> {
        if n > self.inner.start {
            return None;
        }
        self.inner.start -= n;
        Some(())
    }

    /// Transmit: makes room for an `n`-byte header in front of the data and returns it.
    /// `None` if the headroom is too small (the buffer never reallocates).
    pub fn push(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.inner.start {
            return None;
        }
        self.inner.start -= n;
        Some(&mut self.inner.storage.bytes_mut()[self.inner.start..self.inner.start + n])
    }

    /// Drops bytes past `len` (e.g. Ethernet padding after an IP datagram).
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.inner.end = self.inner.start + len;
        }
    }

    /// Appends `bytes` at the end. `None` if the tailroom is too small.
    pub fn append(&mut self, bytes: &[u8]) -> Option<()> {
        if bytes.len() > self.tailroom() {
            return None;
        }
        self.inner.storage.bytes_mut()[self.inner.end..self.inner.end + bytes.len()].copy_from_slice(bytes);
        self.inner.end += bytes.len();
        Some(())
    }

    /// Appends `n` zero bytes (room for a header to be emitted in place) and returns them.
    /// `None` if the tailroom is too small.
    pub fn append_zeroed(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.tailroom() {
            return None;
        }
        let new = &mut self.inner.storage.bytes_mut()[self.inner.end..self.inner.end + n];
        new.fill(0);
        self.inner.end += n;
        Some(new)
    }

    /// Extends the data by `n` bytes at the end and returns them for the caller to
    /// overwrite, without clearing them first: they hold whatever the storage held (zeros
    /// in a new buffer, old bytes in a reused one). For a writer that fills every byte,
    /// such as a transport building a segment in place. `None` if the tailroom is too small.
    pub fn append_for_write(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.tailroom() {
            return None;
        }
        self.inner.end += n;
        Some(&mut self.inner.storage.bytes_mut()[self.inner.end - n..self.inner.end])
    }

    /// Starts loading the first `len` bytes of the storage into the cache (`prefetch`):
    /// for a buffer about to be filled that far.
    pub fn prefetch_storage(&self, len: usize) {
        let bytes = self.inner.storage.bytes();
        crate::prefetch::prefetch(&bytes[..len.min(bytes.len())]);
    }

    /// Empties the buffer for reuse, leaving `headroom` bytes in front.
    pub fn reset(&mut self, headroom: usize) {
        self.inner.start = headroom.min(self.inner.storage.len());
        self.inner.end = self.inner.start;
        self.inner.meta = RxMeta::default();
    }

    /// Total size of the storage (never changes).
    pub fn capacity(&self) -> usize {
        self.inner.storage.len()
    }
}

impl std::fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PacketBuf(len {}, headroom {})", self.len(), self.headroom())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_builds_headers_in_front_of_the_payload_without_moving_it() {
        let mut buf = PacketBuf::from_payload(b"data", 8);
        buf.push(2).unwrap().copy_from_slice(b"L4");
        buf.push(3).unwrap().copy_from_slice(b"IP_");
        assert_eq!(buf.data(), b"IP_L4data");
        assert_eq!(buf.headroom(), 3);
        assert!(buf.push(4).is_none(), "push past the headroom must fail, not reallocate");
        assert_eq!(buf.data(), b"IP_L4data");
    }

    #[test]
    fn pull_strips_headers_and_refuses_truncated_ones() {
        let mut buf = PacketBuf::from_frame(b"ETHIPpayload".to_vec());
        buf.pull(3).unwrap();
        buf.pull(2).unwrap();
        assert_eq!(buf.data(), b"payload");
        assert!(buf.pull(8).is_none());
        assert_eq!(buf.data(), b"payload", "a failed pull leaves the data alone");
        assert_eq!(buf.headroom_bytes(), b"ETHIP");
        buf.unpull(2).unwrap();
        assert_eq!(buf.data(), b"IPpayload");
        assert!(buf.unpull(4).is_none());
        buf.pull(2).unwrap();
        buf.truncate(3);
        assert_eq!(buf.data(), b"pay");
        buf.truncate(10);
        assert_eq!(buf.data(), b"pay");
    }

    #[test]
    fn append_and_reset_respect_the_fixed_capacity() {
        let mut buf = PacketBuf::with_headroom(6, 2);
        assert_eq!(buf.tailroom(), 4);
        buf.append(b"ab").unwrap();
        buf.append_zeroed(2).unwrap().copy_from_slice(b"cd");
        assert!(buf.append(b"e").is_none());
        assert!(buf.append_zeroed(1).is_none());
        assert_eq!(buf.data(), b"abcd");
        buf.reset(4);
        assert!(buf.is_empty());
        assert_eq!((buf.headroom(), buf.tailroom(), buf.capacity()), (4, 2, 6));
    }

    #[test]
    fn a_clone_shares_the_bytes_until_one_side_writes() {
        let mut kept = PacketBuf::from_payload(b"payload", 4);
        assert!(!kept.is_shared());
        let mut sent = kept.clone();
        assert!(kept.is_shared() && sent.is_shared());
        // Each handle has its own window: headers pushed on one are not on the other...
        sent.pull(3).unwrap();
        assert_eq!((kept.data(), sent.data()), (&b"payload"[..], &b"load"[..]));
        // ...and a write copies the bytes first, so the other handle keeps what it had.
        sent.push(3).unwrap().copy_from_slice(b"HDR");
        assert_eq!((kept.data(), sent.data()), (&b"payload"[..], &b"HDRload"[..]));
        assert!(!kept.is_shared() && !sent.is_shared(), "the write gave `sent` bytes of its own");
        // The bytes can outlive the buffer, and become a buffer again.
        let bytes = sent.share_bytes().unwrap();
        assert!(sent.is_shared() && !bytes.is_unique());
        drop(sent);
        assert!(bytes.is_unique());
        assert_eq!(PacketBuf::from_shared(bytes, 4, 11).data(), b"HDRload");
        // Once the other handle is gone, writes happen in place.
        let other = kept.clone();
        drop(other);
        assert!(!kept.is_shared());
        kept.data_mut()[0] = b'P';
        assert_eq!(kept.data(), b"Payload");
    }

    /// A stand-in for a driver's DMA buffer that counts how often it was given back.
    struct Lent {
        bytes: Vec<u8>,
        returned: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }
    impl ExternalStorage for Lent {
        fn bytes(&self) -> &[u8] {
            &self.bytes
        }
        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.bytes
        }
    }
    impl Drop for Lent {
        fn drop(&mut self) {
            self.returned.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn external_storage_is_parsed_in_place_recovered_and_returned_on_drop() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let returned = std::sync::Arc::new(AtomicUsize::new(0));
        let lent = |bytes: &[u8]| Box::new(Lent { bytes: bytes.to_vec(), returned: returned.clone() });
        assert!(PacketBuf::from_external(lent(b"abc"), 2, 4).is_err(), "window past the end");
        assert!(PacketBuf::from_external(lent(b"abc"), 3, 2).is_err(), "start after end");
        assert_eq!(returned.load(Ordering::SeqCst), 2, "a refused storage is given back, then dropped");

        let mut buf = PacketBuf::from_external(lent(b"..ETHpayload"), 2, 12).ok().unwrap();
        assert!(buf.is_external());
        buf.pull(3).unwrap();
        assert_eq!(buf.data(), b"payload");
        buf.push(1).unwrap().copy_from_slice(b"H");
        assert_eq!((buf.headroom(), buf.tailroom(), buf.capacity()), (4, 0, 12));
        let copy = buf.clone();
        assert!(!copy.is_external(), "a clone is an owned copy");
        assert_eq!(copy, buf);
        assert_eq!(copy.into_external().err().unwrap().data(), b"Hpayload");
        let (storage, start, end) = buf.into_external().ok().unwrap();
        assert_eq!(&storage.bytes()[start..end], b"Hpayload");
        let any: Box<dyn std::any::Any> = storage;
        let lent = any.downcast::<Lent>().ok().unwrap();
        assert_eq!(returned.load(Ordering::SeqCst), 2);
        drop(lent);
        assert_eq!(returned.load(Ordering::SeqCst), 3);
        drop(
            PacketBuf::from_external(Box::new(Lent { bytes: vec![0; 4], returned: returned.clone() }), 0, 0)
                .ok()
                .unwrap(),
        );
        assert_eq!(returned.load(Ordering::SeqCst), 4, "dropping the PacketBuf returns its storage");
    }
}
