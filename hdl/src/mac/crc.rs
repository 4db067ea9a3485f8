//! CRC-32 (IEEE 802.3 FCS), one byte per clock.
//!
//! Reflected polynomial 0xEDB88320, register initialised to all ones, bytes fed LSB first
//! (the order they leave the wire). The running register is exposed un-complemented:
//! the FCS of a frame is `!crc`, and a frame followed by its own FCS leaves the register at
//! [`CRC32_RESIDUE`]. The MAC filter also reads the register after the 6 destination bytes
//! to get the multicast hash (see `mac::filter`).
use rust_hdl::prelude::*;

/// Register value after a frame and its correct FCS have been fed in: the well-known
/// residue 0xC704DD7B, bit-reversed because this register is the reflected form.
pub const CRC32_RESIDUE: u32 = 0xDEBB_20E3;

#[derive(LogicBlock)]
pub struct Crc32Byte {
    pub clock: Signal<In, Clock>,
    /// Reload the register with all ones (takes priority over `enable`).
    pub init: Signal<In, Bit>,
    /// Fold `data` into the register on this clock edge.
    pub enable: Signal<In, Bit>,
    pub data: Signal<In, Bits<8>>,
    /// The running register (not complemented).
    pub crc: Signal<Out, Bits<32>>,
    /// The register after folding in `data` (combinational look-ahead), for blocks that
    /// must decide on the same clock the last byte arrives.
    pub crc_next: Signal<Out, Bits<32>>,
    state: DFF<Bits<32>>,
    poly: Constant<Bits<32>>,
    ones: Constant<Bits<32>>,
    /// The register after each of the 8 bit steps; step[0] is the register xor the byte.
    step: [Signal<Local, Bits<32>>; 9],
}

impl Default for Crc32Byte {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            init: Default::default(),
            enable: Default::default(),
            data: Default::default(),
            crc: Default::default(),
            crc_next: Default::default(),
            state: Default::default(),
            poly: Constant::new(0xEDB8_8320_u64.to_bits()),
            ones: Constant::new(0xFFFF_FFFF_u64.to_bits()),
            step: Default::default(),
        }
    }
}

impl Logic for Crc32Byte {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state);
        self.step[0].next = self.state.q.val() ^ bit_cast::<32, 8>(self.data.val());
        for i in 0..8 {
            if self.step[i].val().get_bit(0) {
                self.step[i + 1].next = (self.step[i].val() >> 1) ^ self.poly.val();
            } else {
                self.step[i + 1].next = self.step[i].val() >> 1;
            }
        }
        self.crc_next.next = self.step[8].val();
        self.crc.next = self.state.q.val();
        if self.init.val() {
            self.state.d.next = self.ones.val();
        } else if self.enable.val() {
            self.state.d.next = self.step[8].val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::cycle;

    fn run(bytes: &[u8]) -> (Crc32Byte, u32) {
        let mut uut = Crc32Byte::default();
        uut.connect_all();
        uut.init.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        uut.init.next = false;
        uut.enable.next = true;
        for &b in bytes {
            uut.data.next = b.to_bits();
            cycle(&mut uut, |u| &mut u.clock);
        }
        let c = uut.crc.val().to_u32();
        (uut, c)
    }

    #[test]
    fn fcs_matches_crc32fast() {
        for len in [0usize, 1, 5, 60, 1514] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            let (_, c) = run(&data);
            assert_eq!(!c, crc32fast::hash(&data), "len {len}");
        }
    }

    #[test]
    fn frame_plus_fcs_leaves_residue() {
        let mut data: Vec<u8> = (0..60).map(|i| (i * 13) as u8).collect();
        let fcs = crc32fast::hash(&data);
        data.extend_from_slice(&fcs.to_le_bytes());
        assert_eq!(run(&data).1, CRC32_RESIDUE);
    }

    #[test]
    fn verilog_generates() {
        let mut uut = Crc32Byte::default();
        uut.connect_all();
        let v = generate_verilog(&uut);
        assert!(v.contains("module top"));
    }
}
