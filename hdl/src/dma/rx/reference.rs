//! The plain-Rust reference of [`super::RxDma`], frame by frame, written from the module
//! documentation: what each frame does to host memory, the completion ring and the counters.
//!
//! It decides a frame from what the device knows at its decision edge: `enable`, the host's
//! `rxd_producer`, and the descriptor ring in (expected) host memory. Timing (prefetch,
//! waiting for ring room, bus pacing) is not modelled: those only delay a frame, never change
//! what happens to it, as long as the host's `rxd_producer` and `enable` at the decision are
//! the ones given here.
use crate::model::axi_mem::{HostMemory, VecMemory};
use nic_regs::net::rx_sum;
use nic_regs::ring::{phase_for_index, slot, Completion, Descriptor, ENTRY_BYTES};

/// Why a frame was dropped (all counted in `no_buffer_drops`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    /// `enable` was low.
    Disabled,
    /// No descriptor posted beyond those used.
    NoBuffer,
    /// The next descriptor's buffer is shorter than the frame (the descriptor stays).
    TooBig,
}

/// What happened to one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Written(Completion),
    Dropped(Drop),
}

/// The rings as the host configured them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rings {
    pub rxd_base: u64,
    pub rxd_log2: u32,
    pub rxc_base: u64,
    pub rxc_log2: u32,
}

impl Rings {
    pub fn desc_addr(&self, index: u16) -> u64 {
        (self.rxd_base & !15) + (slot(index, self.rxd_log2) * ENTRY_BYTES) as u64
    }

    pub fn cpl_addr(&self, index: u16) -> u64 {
        (self.rxc_base & !15) + (slot(index, self.rxc_log2) * ENTRY_BYTES) as u64
    }
}

pub struct Reference {
    /// Expected host memory: the test writes descriptors here as into the real memory.
    pub mem: VecMemory,
    pub rings: Rings,
    /// Next descriptor to use = next completion to write (both count written frames).
    pub next: u16,
    pub frames_written: u32,
    pub no_buffer_drops: u32,
    pub outcomes: Vec<Outcome>,
}

impl Reference {
    pub fn new(mem: VecMemory, rings: Rings) -> Self {
        Reference { mem, rings, next: 0, frames_written: 0, no_buffer_drops: 0, outcomes: Vec::new() }
    }

    /// The descriptor with free-running index `index`, read from expected memory.
    pub fn descriptor(&self, index: u16) -> Descriptor {
        let mut b = [0u8; ENTRY_BYTES];
        self.mem.read(self.rings.desc_addr(index), &mut b).expect("descriptor ring inside memory");
        Descriptor::decode(&b).expect("descriptor with reserved bits clear")
    }

    /// One frame at its decision edge.
    pub fn frame(&mut self, frame: &[u8], verdict: u8, enable: bool, rxd_producer: u16) -> Outcome {
        assert!(!frame.is_empty() && frame.len() <= u16::MAX as usize && verdict < 4);
        let out = if !enable {
            Outcome::Dropped(Drop::Disabled)
        } else if rxd_producer == self.next {
            Outcome::Dropped(Drop::NoBuffer)
        } else {
            let d = self.descriptor(self.next);
            if frame.len() > d.len as usize {
                Outcome::Dropped(Drop::TooBig)
            } else {
                self.mem.fill(d.addr, frame);
                let c = Completion {
                    len: frame.len() as u16,
                    csum: rx_sum(frame),
                    desc_index: self.next,
                    verdict,
                    status: 0,
                    phase: phase_for_index(self.next, self.rings.rxc_log2),
                };
                self.mem.fill(self.rings.cpl_addr(self.next), &c.encode().expect("verdict fits"));
                self.next = self.next.wrapping_add(1);
                Outcome::Written(c)
            }
        };
        match out {
            Outcome::Written(_) => self.frames_written += 1,
            Outcome::Dropped(_) => self.no_buffer_drops += 1,
        }
        self.outcomes.push(out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_decides_and_writes() {
        let rings = Rings { rxd_base: 0x1000, rxd_log2: 1, rxc_base: 0x2000, rxc_log2: 1 };
        let mut r = Reference::new(VecMemory::new(0, 0x10000), rings);
        let d = [Descriptor { addr: 0x4003, len: 100, flags: 0 }, Descriptor { addr: 0x5000, len: 60, flags: 0 }];
        for (i, d) in d.iter().enumerate() {
            r.mem.fill(rings.desc_addr(i as u16), &d.encode());
        }
        let f: Vec<u8> = (0..80u8).collect();
        assert_eq!(r.frame(&f, 1, false, 2), Outcome::Dropped(Drop::Disabled));
        assert_eq!(r.frame(&f, 1, true, 0), Outcome::Dropped(Drop::NoBuffer));
        let Outcome::Written(c) = r.frame(&f, 1, true, 2) else { panic!() };
        assert_eq!((c.len, c.csum, c.desc_index, c.verdict, c.phase), (80, rx_sum(&f), 0, 1, true));
        assert_eq!(r.mem.slice(0x4003, 80), &f[..]);
        assert_eq!(r.frame(&f, 0, true, 2), Outcome::Dropped(Drop::TooBig), "80 > 60");
        assert_eq!(r.next, 1, "the short descriptor stays");
        let Outcome::Written(c) = r.frame(&f[..60], 2, true, 2) else { panic!() };
        assert_eq!(c.desc_index, 1);
        assert_eq!(Completion::decode(r.mem.slice(0x2010, 16).try_into().unwrap()), Ok(c));
        assert_eq!((r.frames_written, r.no_buffer_drops), (2, 3));
    }
}
