//! smoltcp's `phy::Device` on a port of our in-memory hub, so smoltcp and our stack share
//! one network. Used by the interop tests and by `examples/bench_vs_smoltcp.rs`, which call
//! `SmolPort::flush` after each of smoltcp's polls.

use nic_stack::memnet::Port;
use nic_stack::{Device, PacketBuf};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant as SmolInstant;

/// smoltcp's device on a port of our hub. smoltcp takes one frame per `receive` call;
/// the port hands them over in batches of up to 32, as it does to our interface, and the
/// frames smoltcp sends go to the port together after its poll (`flush`), as ours do, so
/// smoltcp pays one lock of the hub per batch, not per frame. Buffers go round as they do
/// for our interface: received frames smoltcp is done with go back to the port
/// (`Device::recycle`), and frames are built in buffers the port lends
/// (`Device::tx_buffers`), a new one allocated only when it has none, and then whole
/// (a frame of the port's MTU), so that it can go round too, as our interface does for a
/// device that pools its buffers (`DeviceCaps::pools_tx_buffers`).
pub struct SmolPort {
    port: Port,
    rx: std::collections::VecDeque<PacketBuf>,
    batch: Vec<PacketBuf>,
    tx: Vec<PacketBuf>,
    /// Transmit buffers the port lent.
    spare: Vec<PacketBuf>,
    /// Received frames smoltcp has consumed, recycled at the next call.
    consumed: Vec<PacketBuf>,
    /// The capacity of a newly allocated transmit buffer: a whole frame.
    frame_len: usize,
}

impl SmolPort {
    pub fn new(port: Port) -> Self {
        let frame_len = port.caps().mtu + 14;
        SmolPort {
            port,
            rx: Default::default(),
            batch: Vec::with_capacity(RX_BATCH),
            tx: Vec::with_capacity(1),
            spare: Vec::with_capacity(RX_BATCH),
            consumed: Vec::with_capacity(RX_BATCH),
            frame_len,
        }
    }

    /// Hands the frames smoltcp built since the last call to the port, in one batch (one
    /// lock of the hub), as our interface does at the end of its poll. Call it after each
    /// `Interface::poll` of smoltcp's.
    pub fn flush(&mut self) {
        if !self.tx.is_empty() {
            self.port.transmit(&mut self.tx);
        }
    }

    fn recycle_consumed(&mut self) {
        for frame in self.consumed.drain(..) {
            self.port.recycle(frame);
        }
    }
}

const RX_BATCH: usize = 32;

/// A received frame, handed to smoltcp without a copy (as our stack gets it), and kept
/// for the port afterwards.
pub struct SmolRx<'a> {
    frame: PacketBuf,
    consumed: &'a mut Vec<PacketBuf>,
}

/// Queues frames for the port (`SmolPort::flush` sends them), reusing the port's buffers.
pub struct SmolTx<'a> {
    port: &'a mut Port,
    batch: &'a mut Vec<PacketBuf>,
    spare: &'a mut Vec<PacketBuf>,
    frame_len: usize,
}

impl phy::RxToken for SmolRx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(self.frame.data());
        self.consumed.push(self.frame);
        r
    }
}

impl phy::TxToken for SmolTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        if self.spare.is_empty() {
            self.port.tx_buffers(self.spare, RX_BATCH);
        }
        let mut frame = match self.spare.pop().filter(|buf| buf.capacity() >= len) {
            Some(mut buf) => {
                buf.reset(0);
                buf
            }
            None => PacketBuf::with_headroom(len.max(self.frame_len), 0),
        };
        let r = f(frame.append_for_write(len).expect("sized for the frame"));
        // Sent at `SmolPort::flush`, with the rest of the poll's frames.
        self.batch.push(frame);
        if self.batch.len() >= RX_BATCH {
            self.port.transmit(self.batch);
        }
        r
    }
}

impl phy::Device for SmolPort {
    type RxToken<'a> = SmolRx<'a>;
    type TxToken<'a> = SmolTx<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(SmolRx<'_>, SmolTx<'_>)> {
        self.recycle_consumed();
        if self.rx.is_empty() {
            self.port.receive(&mut self.batch, RX_BATCH);
            self.rx.extend(self.batch.drain(..));
        }
        let frame = self.rx.pop_front()?;
        let rx = SmolRx { frame, consumed: &mut self.consumed };
        let tx =
            SmolTx { port: &mut self.port, batch: &mut self.tx, spare: &mut self.spare, frame_len: self.frame_len };
        Some((rx, tx))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<SmolTx<'_>> {
        self.recycle_consumed();
        Some(SmolTx { port: &mut self.port, batch: &mut self.tx, spare: &mut self.spare, frame_len: self.frame_len })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514; // smoltcp counts the Ethernet header
        caps
    }
}
