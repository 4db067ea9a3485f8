//! The card as the stack's interrupt-driven device: [`IrqDevice`] wraps a [`Nic`] so the
//! stack thread (`nic_stack::threaded::NetThread`) sleeps until the card's RX interrupt, or
//! a TX completion interrupt, rings it.
//!
//! A small thread per device waits on the RX and TX eventfds (epoll) and rings the stack's
//! `Wakeup`; the stack thread then polls the device (`rx_burst` through `Device::receive`).
//! Both vectors are unmasked once; the card's moderation (`NicConfig::irq_mod_*`) bounds the
//! interrupt rate, and the stack's own timers (and its 50 ms longest sleep) cover the rest.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use nic_stack::buf::PacketBuf;
use nic_stack::device::{Device, DeviceCaps};
use nic_stack::threaded::{NotifyingDevice, Wakeup};
use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::eventfd::EventFd;

use crate::backend::{Backend, VEC_RX, VEC_TX};
use crate::nic::Nic;
use crate::Error;

/// How long the interrupt thread waits before looking at its stop flag again.
const POLL_STOP_MS: i32 = 50;

pub struct IrqDevice<B: Backend> {
    nic: Nic<B>,
    /// Duplicates of the RX and TX eventfds, for the interrupt thread.
    fds: Option<[EventFd; 2]>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl<B: Backend> IrqDevice<B> {
    /// Unmask the RX and TX vectors of `nic` and make it a device the stack can sleep on.
    pub fn new(mut nic: Nic<B>) -> Result<Self, Error> {
        let dup =
            |v: usize| nic.backend().irq_eventfd(v).try_clone().map_err(|e| Error::Irq(format!("dup eventfd: {e}")));
        let fds = [dup(VEC_RX)?, dup(VEC_TX)?];
        nic.unmask_vector(VEC_RX);
        nic.unmask_vector(VEC_TX);
        Ok(IrqDevice { nic, fds: Some(fds), stop: Arc::new(AtomicBool::new(false)), thread: None })
    }

    pub fn nic(&mut self) -> &mut Nic<B> {
        &mut self.nic
    }
}

impl<B: Backend> Drop for IrqDevice<B> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
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
    fn set_wakeup(&mut self, wakeup: Wakeup) {
        let Some(fds) = self.fds.take() else { return };
        let stop = self.stop.clone();
        let spawned = std::thread::Builder::new().name("nic-irq".into()).spawn(move || irq_thread(fds, wakeup, stop));
        match spawned {
            Ok(t) => self.thread = Some(t),
            Err(e) => tracing::error!(%e, "cannot start the interrupt thread: the stack falls back to its timers"),
        }
    }
}

fn irq_thread(fds: [EventFd; 2], wakeup: Wakeup, stop: Arc<AtomicBool>) {
    let ep = match Epoll::new() {
        Ok(ep) => ep,
        Err(e) => return tracing::error!(%e, "epoll_create: interrupts not delivered to the stack"),
    };
    for (i, fd) in fds.iter().enumerate() {
        let raw = std::os::fd::AsRawFd::as_raw_fd(fd);
        if let Err(e) = ep.ctl(ControlOperation::Add, raw, EpollEvent::new(EventSet::IN, i as u64)) {
            return tracing::error!(%e, "epoll_ctl: interrupts not delivered to the stack");
        }
    }
    let mut events = [EpollEvent::default(); 2];
    while !stop.load(Ordering::Relaxed) {
        match ep.wait(POLL_STOP_MS, &mut events) {
            Ok(0) => {}
            Ok(n) => {
                for e in &events[..n] {
                    // Readable: this does not block; it resets the count.
                    let _ = fds[e.data() as usize].read();
                }
                wakeup.notify();
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return tracing::error!(%e, "epoll_wait: interrupts no longer delivered"),
        }
    }
}
