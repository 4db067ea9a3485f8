//! The device trait: what the stack needs from a network card (or a test link).
//!
//! Frames move in batches of `PacketBuf`s. Receive hands the stack buffers the device
//! filled; the stack parses them in place and gives back with `recycle` those it did not
//! keep (a queued UDP payload or an echo request answered in place are kept). Transmit
//! hands the device finished frames, each built back to front in one buffer with
//! `TX_HEADROOM` in front of the payload. A `PacketBuf`'s storage never moves or grows,
//! so a driver can map it for DMA as it is, or copy it into its ring.

use crate::buf::PacketBuf;

/// Bytes reserved in front of a transmit payload: Ethernet (14) + IPv4 with options (60)
/// + the largest transport header we push (TCP with options, 60), rounded up.
pub const TX_HEADROOM: usize = 160;

/// What the device can do; read once when the interface is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceCaps {
    /// Largest IP packet the link carries (Ethernet payload), normally 1500.
    pub mtu: usize,
    /// The device fills `RxMeta::l3_sum` on every received frame (the card's RX checksum
    /// assist), so the stack need not sum UDP, ICMP or TCP payloads itself.
    pub rx_l3_sum: bool,
    /// The device keeps the buffers of the frames it sends (and of received frames the
    /// stack recycles) and lends them back through `Device::tx_buffers`, keeping only
    /// those that hold a whole frame. The stack then allocates any new transmit buffer
    /// whole (`TX_HEADROOM + mtu`) so that it can go round too; otherwise every small
    /// segment (a SYN, an ACK) would allocate a buffer of its own size, which the device
    /// could not keep.
    pub pools_tx_buffers: bool,
}

impl Default for DeviceCaps {
    fn default() -> Self {
        DeviceCaps { mtu: 1500, rx_l3_sum: false, pools_tx_buffers: false }
    }
}

pub trait Device {
    fn caps(&self) -> DeviceCaps;

    /// Moves up to `max` received frames (whole Ethernet frames, FCS already stripped)
    /// into `batch`. Returns how many were added.
    fn receive(&mut self, batch: &mut Vec<PacketBuf>, max: usize) -> usize;

    /// Takes every frame in `batch` for transmission (the vector is left empty). A device
    /// whose ring is full drops and counts what it cannot take.
    fn transmit(&mut self, batch: &mut Vec<PacketBuf>);

    /// Returns a buffer the stack is done with (a received frame, or a transmitted one the
    /// peer acknowledged), for the device to reuse. Its bytes may still be shared
    /// (`PacketBuf::is_shared`: a sender keeps the bytes of each frame on the wire until
    /// they are acknowledged); a write through it copies them first.
    fn recycle(&mut self, _buf: PacketBuf) {}

    /// Moves up to `max` empty buffers of the device's own into `pool`, for the stack to
    /// build frames in (a driver's transmit buffers, a test link's recycled frames), and
    /// returns how many. Their contents are arbitrary: the stack writes every byte of a
    /// frame it builds. A buffer too small for a frame, or whose bytes are still shared,
    /// is dropped, not used. The default
    /// has none, and the stack allocates its transmit buffers.
    fn tx_buffers(&mut self, _pool: &mut Vec<PacketBuf>, _max: usize) -> usize {
        0
    }
}
