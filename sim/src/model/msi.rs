//! MSI: the bridge's side of the XDMA-style user-interrupt handshake.
//!
//! A vector's `usr_irq_req` bit rising asks for an interrupt; the bridge answers with
//! `usr_irq_ack` high for one clock, on which the card drops the request, and sends the MSI:
//! here, a count per vector and, when one is attached, a write to the vector's eventfd —
//! what VFIO gives a driver on a board.
use nic_hdl::irq::VECTORS;
use vmm_sys_util::eventfd::EventFd;

#[derive(Default)]
pub struct Msi {
    /// `usr_irq_ack` for the coming clock.
    ack: u8,
    /// MSIs sent per vector.
    pub sent: [u64; VECTORS],
    /// Vectors that sent an MSI since the last [`Msi::take_fired`] (bit v).
    fired: u8,
    eventfds: [Option<EventFd>; VECTORS],
}

impl Msi {
    pub fn ack_bits(&self) -> u8 {
        self.ack
    }

    /// Signal `fd` on each MSI of `vector`.
    pub fn attach_eventfd(&mut self, vector: usize, fd: EventFd) {
        self.eventfds[vector] = Some(fd);
    }

    /// The vectors that fired since the last call (bit v), cleared.
    pub fn take_fired(&mut self) -> u8 {
        std::mem::take(&mut self.fired)
    }

    /// One rising edge; `req` is `usr_irq_req` sampled before it.
    pub fn clock(&mut self, req: u8) {
        let acked = req & self.ack;
        for v in 0..VECTORS {
            if acked >> v & 1 == 1 {
                self.sent[v] += 1;
                self.fired |= 1 << v;
                if let Some(fd) = &self.eventfds[v] {
                    // The counter cannot fill while a reader drains it; an error is ignored,
                    // as a lost MSI would be.
                    let _ = fd.write(1);
                }
            }
        }
        // Acknowledge each request on the clock after it is seen (and not twice).
        self.ack = req & !acked;
    }
}
