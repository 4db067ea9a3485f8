//! smoltcp's `phy::Device` on a port of our in-memory hub, so smoltcp and our stack share
//! one network. Used by the interop tests and by `examples/bench_vs_smoltcp.rs`.

use nic_stack::memnet::Port;
use nic_stack::{Device, PacketBuf};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant as SmolInstant;

/// smoltcp's device on a port of our hub.
pub struct SmolPort(pub Port);

/// A received frame, handed to smoltcp without a copy (as our stack gets it).
pub struct SmolRx(PacketBuf);

pub struct SmolTx<'a>(&'a mut Port);

impl phy::RxToken for SmolRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0.data())
    }
}

impl phy::TxToken for SmolTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.transmit(&mut vec![PacketBuf::from_frame(frame)]);
        r
    }
}

impl phy::Device for SmolPort {
    type RxToken<'a> = SmolRx;
    type TxToken<'a> = SmolTx<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(SmolRx, SmolTx<'_>)> {
        let mut batch = Vec::new();
        self.0.receive(&mut batch, 1);
        let frame = batch.pop()?;
        Some((SmolRx(frame), SmolTx(&mut self.0)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<SmolTx<'_>> {
        Some(SmolTx(&mut self.0))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514; // smoltcp counts the Ethernet header
        caps
    }
}

