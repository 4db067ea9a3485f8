//! smoltcp's `phy::Device` on a port of our in-memory hub, so smoltcp and our stack share
//! one network. Used by the interop tests and by `examples/bench_vs_smoltcp.rs`.

use nic_stack::memnet::Port;
use nic_stack::{Device, PacketBuf};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant as SmolInstant;

/// smoltcp's device on a port of our hub. smoltcp takes one frame per `receive` call;
/// the port hands them over in batches of up to 32, as it does to our interface, so
/// smoltcp pays one lock of the hub per batch, not per frame.
pub struct SmolPort {
    port: Port,
    rx: std::collections::VecDeque<PacketBuf>,
    batch: Vec<PacketBuf>,
    tx: Vec<PacketBuf>,
}

impl SmolPort {
    pub fn new(port: Port) -> Self {
        SmolPort { port, rx: Default::default(), batch: Vec::with_capacity(RX_BATCH), tx: Vec::with_capacity(1) }
    }
}

const RX_BATCH: usize = 32;

/// A received frame, handed to smoltcp without a copy (as our stack gets it).
pub struct SmolRx(PacketBuf);

/// Sends through the port, reusing one batch vector (no allocation but the frame's).
pub struct SmolTx<'a>(&'a mut Port, &'a mut Vec<PacketBuf>);

impl phy::RxToken for SmolRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0.data())
    }
}

impl phy::TxToken for SmolTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.1.push(PacketBuf::from_frame(frame));
        self.0.transmit(self.1);
        r
    }
}

impl phy::Device for SmolPort {
    type RxToken<'a> = SmolRx;
    type TxToken<'a> = SmolTx<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(SmolRx, SmolTx<'_>)> {
        if self.rx.is_empty() {
            self.port.receive(&mut self.batch, RX_BATCH);
            self.rx.extend(self.batch.drain(..));
        }
        let frame = self.rx.pop_front()?;
        Some((SmolRx(frame), SmolTx(&mut self.port, &mut self.tx)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<SmolTx<'_>> {
        Some(SmolTx(&mut self.port, &mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514; // smoltcp counts the Ethernet header
        caps
    }
}

