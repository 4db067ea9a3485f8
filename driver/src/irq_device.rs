//! The card as the stack's interrupt-driven device: [`IrqDevice`] wraps a [`Nic`] so the
//! stack thread (`nic_stack::threaded::NetThread`) sleeps until the card's RX interrupt, or
//! a TX completion interrupt, rings it.
//!
//! A small thread per device waits for the RX and TX vectors ([`Backend::irq_waiter`]: epoll
//! on their eventfds, or the simulated runtime's MSI wake-up) and rings the stack's
//! `Wakeup`; the stack thread then polls the device (`rx_burst` through `Device::receive`).
//! Both vectors are unmasked once; the card's moderation (`NicConfig::irq_mod_*`) bounds the
//! interrupt rate, and the stack's own timers (and its 50 ms longest sleep) cover the rest.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nic_stack::buf::PacketBuf;
use nic_stack::device::{Device, DeviceCaps};
use nic_stack::threaded::{NotifyingDevice, Runtime, Task, Wakeup};

use crate::backend::{Backend, VEC_RX, VEC_TX};
use crate::interrupts::{IrqWait, Waker};
use crate::nic::Nic;
use crate::Error;

/// The interrupt thread's longest wait (its stop is also signalled through the waiter).
const POLL_STOP: Duration = Duration::from_millis(50);

pub struct IrqDevice<B: Backend> {
    nic: Nic<B>,
    /// The RX and TX vectors' waiter, for the interrupt thread.
    waiter: Option<Box<dyn IrqWait>>,
    /// Ends the interrupt thread's wait when the device is dropped.
    waker: Waker,
    stop: Arc<AtomicBool>,
    thread: Option<Task<()>>,
}

impl<B: Backend> IrqDevice<B> {
    /// Unmask the RX and TX vectors of `nic` and make it a device the stack can sleep on.
    pub fn new(mut nic: Nic<B>) -> Result<Self, Error> {
        let waiter = nic.backend().irq_waiter(&[VEC_RX, VEC_TX])?;
        let waker = waiter.waker()?;
        nic.unmask_vector(VEC_RX);
        nic.unmask_vector(VEC_TX);
        Ok(IrqDevice { nic, waiter: Some(waiter), waker, stop: Arc::new(AtomicBool::new(false)), thread: None })
    }

    pub fn nic(&mut self) -> &mut Nic<B> {
        &mut self.nic
    }
}

impl<B: Backend> Drop for IrqDevice<B> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        (self.waker)();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<B: Backend> Device for IrqDevice<B> {
    fn caps(&self) -> DeviceCaps {
        self.nic.caps()
    }

    fn receive(&mut self, batch: &mut Vec<PacketBuf>, max: usize) -> usize {
        self.nic.receive(batch, max)
    }

    fn transmit(&mut self, batch: &mut Vec<PacketBuf>) {
        self.nic.reap_tx();
        self.nic.transmit(batch)
    }

    fn recycle(&mut self, buf: PacketBuf) {
        Device::recycle(&mut self.nic, buf)
    }
}

impl<B: Backend + 'static> NotifyingDevice for IrqDevice<B> {
    fn set_wakeup(&mut self, wakeup: Wakeup, rt: &Runtime) {
        let Some(waiter) = self.waiter.take() else { return };
        let stop = self.stop.clone();
        match rt.spawn("nic-irq", move || irq_thread(waiter, wakeup, stop)) {
            Ok(t) => self.thread = Some(t),
            Err(e) => tracing::error!(%e, "cannot start the interrupt thread: the stack falls back to its timers"),
        }
    }
}

fn irq_thread(mut waiter: Box<dyn IrqWait>, wakeup: Wakeup, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match waiter.wait(POLL_STOP) {
            Ok(0) => {}
            Ok(_) => wakeup.notify(),
            Err(e) => return tracing::error!(%e, "interrupts no longer delivered to the stack"),
        }
    }
}
