//! Waiting for the card's interrupts: [`IrqWait`], what [`crate::Backend::irq_waiter`]
//! hands out, and [`EventFdWaiter`], its implementation on MSI eventfds (a board through
//! VFIO, the zero-latency model).
//!
//! A simulated card on the simulated runtime (`nic-sim`) has its own waiter: there an MSI
//! wakes the waiting host thread on the cards' clock, not through the kernel.
use std::os::fd::AsRawFd;
use std::time::Duration;

use vmm_sys_util::epoll::{ControlOperation, Epoll, EpollEvent, EventSet};
use vmm_sys_util::eventfd::EventFd;

use crate::Error;

/// Blocks until an interrupt on a chosen set of vectors; usable from any thread.
pub trait IrqWait: Send {
    /// Waits until one of the vectors fires or `timeout` passes. Returns the vectors that
    /// fired (bit `v` for vector `v`), 0 on timeout, and takes the interrupts it returns.
    fn wait(&mut self, timeout: Duration) -> Result<u32, Error>;

    /// Something any thread can call to end a wait in progress (or make the next one
    /// return at once, as if an interrupt came): how the waiting thread is stopped promptly.
    fn waker(&self) -> Result<Waker, Error>;
}

/// Ends an [`IrqWait::wait`] from another thread.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// An [`IrqWait`] on eventfds: epoll over duplicates of each vector's eventfd.
pub struct EventFdWaiter {
    epoll: Epoll,
    /// (vector, its eventfd).
    fds: Vec<(usize, EventFd)>,
}

impl EventFdWaiter {
    /// Waits on `fds`, each the eventfd of its vector (duplicated here).
    pub fn new(fds: &[(usize, &EventFd)]) -> Result<Self, Error> {
        let epoll = Epoll::new().map_err(|e| Error::Irq(format!("epoll_create: {e}")))?;
        let mut own = Vec::new();
        for (i, &(v, fd)) in fds.iter().enumerate() {
            let dup = fd.try_clone().map_err(|e| Error::Irq(format!("dup eventfd: {e}")))?;
            epoll
                .ctl(ControlOperation::Add, dup.as_raw_fd(), EpollEvent::new(EventSet::IN, i as u64))
                .map_err(|e| Error::Irq(format!("epoll_ctl: {e}")))?;
            own.push((v, dup));
        }
        Ok(EventFdWaiter { epoll, fds: own })
    }
}

impl IrqWait for EventFdWaiter {
    fn wait(&mut self, timeout: Duration) -> Result<u32, Error> {
        let mut events = [EpollEvent::default(); crate::IRQ_VECTORS];
        // Rounded up: a wait never ends before its timeout.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let n = loop {
            match self.epoll.wait(ms, &mut events) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Irq(format!("epoll_wait: {e}"))),
            }
        };
        let mut fired = 0;
        for e in &events[..n] {
            let (v, fd) = &self.fds[e.data() as usize];
            // Readable: this does not block; it resets the count.
            let _ = fd.read();
            fired |= 1 << v;
        }
        Ok(fired)
    }

    fn waker(&self) -> Result<Waker, Error> {
        let (_, fd) = self.fds.first().ok_or_else(|| Error::Irq("no vector to wake".into()))?;
        let fd = fd.try_clone().map_err(|e| Error::Irq(format!("dup eventfd: {e}")))?;
        Ok(Box::new(move || {
            let _ = fd.write(1);
        }))
    }
}
