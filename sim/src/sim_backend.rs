//! The driver's simulation backend: `nic-driver`'s [`Backend`] on a simulated card.
//!
//! Register accesses go over the card's modeled AXI4-Lite bus (a read blocks until the
//! gateware's register slave answers), DMA memory is the card's [`SharedMemory`], which the
//! gateware's DMA really reads and writes, and each MSI wakes the driver's interrupt wait:
//! on the simulated runtime directly, on a free-running world through the vector's eventfd,
//! exactly as on a board.
use crate::model::world::CardHandle;
use nic_driver::backend::{Backend, DmaRegion};
use nic_driver::interrupts::{EventFdWaiter, IrqWait};
use nic_driver::Error;
use nic_stack::runtime::Runtime;
use vmm_sys_util::eventfd::EventFd;

pub struct SimBackend {
    card: CardHandle,
    /// Next free byte of host memory (allocations are 4 KiB aligned and never freed: a
    /// driver allocates its rings and pool once).
    next: usize,
    name: String,
}

impl SimBackend {
    pub fn new(card: CardHandle, name: &str) -> SimBackend {
        SimBackend { card, next: 0, name: name.to_string() }
    }

    pub fn card(&self) -> &CardHandle {
        &self.card
    }
}

impl Backend for SimBackend {
    fn read32(&self, offset: u32) -> u32 {
        self.card.read32(offset)
    }

    fn write32(&self, offset: u32, value: u32) {
        self.card.write32(offset, value)
    }

    fn alloc_dma(&mut self, len: usize) -> Result<DmaRegion, Error> {
        let mem = &self.card.memory;
        let len = len.max(1).div_ceil(4096) * 4096;
        let end = self.next.checked_add(len).filter(|&e| e <= mem.len()).ok_or_else(|| {
            Error::Dma(format!(
                "the simulated host memory ({} MiB) is used up: {len} more bytes wanted",
                mem.len() >> 20
            ))
        })?;
        let off = self.next;
        self.next = end;
        // SAFETY: `off..end` is inside the shared region (checked above), handed out once
        // (the bump pointer never goes back), 4 KiB aligned (the region starts on a page and
        // `off` is a multiple of 4096), and kept alive by the `SharedMemory` clone the
        // region owns. The model thread touches it only through atomic word accesses.
        let virt = unsafe { mem.as_ptr().add(off) };
        // SAFETY: as above.
        unsafe { DmaRegion::new(virt, mem.base() + off as u64, len, Box::new(mem.clone())) }
    }

    fn irq_eventfd(&self, vector: usize) -> &EventFd {
        self.card.eventfd(vector)
    }

    fn describe(&self) -> String {
        format!("sim:{}", self.name)
    }

    fn irq_waiter(&self, vectors: &[usize]) -> Result<Box<dyn IrqWait>, Error> {
        match self.card.regs.sim_runtime() {
            Some((rt, card)) => Ok(rt.irq_waiter(card, vectors)),
            None => {
                let fds: Vec<(usize, &EventFd)> = vectors.iter().map(|&v| (v, self.card.eventfd(v))).collect();
                Ok(Box::new(EventFdWaiter::new(&fds)?))
            }
        }
    }

    /// The simulated runtime when the card is on one; the OS runtime when its world runs
    /// freely (`nic tap`).
    fn runtime(&self) -> Runtime {
        match self.card.regs.sim_runtime() {
            Some((rt, _)) => rt.runtime(),
            None => Runtime::os(),
        }
    }
}
