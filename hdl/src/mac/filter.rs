//! Destination address filter: station unicast, broadcast, multicast by hash, promiscuous.
//!
//! The filter watches the first 6 bytes of a frame (the destination address) as `mac::rx`
//! forwards them, decides a clock after the 6th (the address tests are registered), and
//! holds its decision until the next `clear`. It does not compute a CRC
//! of its own: the multicast hash bin is the top 6 bits of the standard CRC-32 of the
//! destination, i.e. of the complement of the running FCS register after byte 6, which
//! `mac::rx` already has (`Crc32Byte::crc_next` on the clock of byte 6).
//!
//! Decision (the plain-Rust twin is `model::rx_reference::filter`):
//! * ff:ff:ff:ff:ff:ff → accept, verdict 2 (broadcast). Always accepted.
//! * I/G bit (bit 0 of the first byte) set → accept with verdict 1 if `all_multicast` or the
//!   hash bin is set in `mcast_hash`; else verdict 3 if `promisc`; else reject.
//! * unicast → verdict 0 if it equals `station_mac`; else verdict 3 if `promisc`; else reject.
//!
//! `station_mac` holds the first address byte seen on the wire in bits 7:0 and the last in
//! bits 47:40 (`model::rx_reference::station_bits` packs it), because the destination is
//! shifted in here in arrival order and then compared as one 48-bit word.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct MacFilter {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Forget the previous frame: the next `valid` byte is destination byte 0.
    pub clear: Signal<In, Bit>,
    /// A frame byte in `data` this clock (bytes after the 6th are ignored).
    pub valid: Signal<In, Bit>,
    pub data: Signal<In, Bits<8>>,
    /// The FCS register after folding in `data` (`Crc32Byte::crc_next`, not complemented).
    pub crc_next: Signal<In, Bits<32>>,
    pub station_mac: Signal<In, Bits<48>>,
    pub mcast_hash: Signal<In, Bits<64>>,
    pub all_multicast: Signal<In, Bit>,
    pub promisc: Signal<In, Bit>,
    /// All 6 destination bytes have been seen (a clock ago); `accept` and `verdict` are
    /// meaningful.
    pub decided: Signal<Out, Bit>,
    pub accept: Signal<Out, Bit>,
    pub verdict: Signal<Out, Bits<2>>,
    /// Destination bytes shifted in from the top, so byte 0 ends in bits 7:0.
    dst: DFF<Bits<48>>,
    /// Destination bytes seen so far (0..=6).
    seen: DFF<Bits<3>>,
    /// Hash bin captured with the 6th byte.
    bin: DFF<Bits<6>>,
    // The address tests, registered a clock after the bytes they read: the 64-way hash bit
    // select and the 48-bit compare each take a clock of their own, ahead of the verdict.
    decided_q: DFF<Bit>,
    is_broadcast: DFF<Bit>,
    is_station: DFF<Bit>,
    hash_hit: DFF<Bit>,
    is_group: Signal<Local, Bit>,
    /// Accept / verdict before the `decided` gate.
    hit: Signal<Local, Bit>,
    code: Signal<Local, Bits<2>>,
}

impl Logic for MacFilter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, dst, seen, bin, decided_q, is_broadcast, is_station, hash_hit);
        // Collect the destination address.
        if self.reset.val() | self.clear.val() {
            self.seen.d.next = 0.into();
        } else if self.valid.val() & (self.seen.q.val() != 6) {
            self.dst.d.next = (self.dst.q.val() >> 8) | (bit_cast::<48, 8>(self.data.val()) << 40);
            self.seen.d.next = self.seen.q.val() + 1;
        }
        // The bin follows the CRC while the 6th byte is awaited, so it holds the CRC of all
        // six from the edge that takes the 6th (`seen` then leaves 5). crc32(dst) = !register,
        // so the bin (its top 6 bits) is !register[31:26]. Its enable is `seen == 5` alone,
        // not the byte's valid (timing: that comes through the MAC's state from the PHY).
        if self.seen.q.val() == 5 {
            self.bin.d.next = !self.crc_next.val().get_bits::<6>(26);
        }
        // Classify it.
        self.decided_q.d.next = (self.seen.q.val() == 6) & !self.reset.val() & !self.clear.val();
        self.is_broadcast.d.next = self.dst.q.val().all();
        self.is_station.d.next = self.dst.q.val() == self.station_mac.val();
        self.hash_hit.d.next = self.mcast_hash.val().get_bit(self.bin.q.val().index());
        self.decided.next = self.decided_q.q.val();
        self.is_group.next = self.dst.q.val().get_bit(0);
        // Work in locals and drive each output once: an output assigned a default and then
        // overridden glitches in Verilog simulation, and this block's outputs feed back into
        // mac::rx's combinational logic, which drives our inputs (an endless zero-delay loop
        // in Icarus Verilog, seen before this was written this way).
        self.hit.next = false;
        self.code.next = 0.into();
        if self.is_broadcast.q.val() {
            self.hit.next = true;
            self.code.next = 2.into();
        } else if self.is_group.val() & (self.all_multicast.val() | self.hash_hit.q.val()) {
            self.hit.next = true;
            self.code.next = 1.into();
        } else if !self.is_group.val() & self.is_station.q.val() {
            self.hit.next = true;
            self.code.next = 0.into();
        } else if self.promisc.val() {
            self.hit.next = true;
            self.code.next = 3.into();
        }
        self.accept.next = self.hit.val() & self.decided.val();
        self.verdict.next = self.code.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rx_reference::{filter, station_bits, MacConfig, Verdict, BROADCAST};
    use crate::sim::cycle;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn new_filter(cfg: &MacConfig) -> MacFilter {
        let mut uut = MacFilter::default();
        uut.connect_all();
        uut.station_mac.next = station_bits(&cfg.station).to_bits();
        uut.mcast_hash.next = cfg.mcast_hash.to_bits();
        uut.all_multicast.next = cfg.all_multicast;
        uut.promisc.next = cfg.promisc;
        uut.reset.next = true;
        cycle(&mut uut, |u| &mut u.clock);
        uut.reset.next = false;
        uut
    }

    /// Feed `dst` and a few payload bytes as `mac::rx` would, with the CRC register the
    /// Crc32Byte would show (computed here with crc32fast), and return the decision.
    fn classify(uut: &mut MacFilter, dst: &[u8; 6]) -> Option<Verdict> {
        uut.clear.next = true;
        cycle(uut, |u| &mut u.clock);
        uut.clear.next = false;
        let frame: Vec<u8> = dst.iter().copied().chain([0x08, 0x00, 0x45]).collect();
        for (i, &b) in frame.iter().enumerate() {
            // The address tests are registered: the decision shows a clock after byte 6.
            assert_eq!(uut.decided.val(), i >= 7, "decided flag before byte {i}");
            uut.valid.next = true;
            uut.data.next = b.to_bits();
            uut.crc_next.next = (!crc32fast::hash(&frame[..=i]) as u64).to_bits();
            cycle(uut, |u| &mut u.clock);
            uut.valid.next = false;
        }
        assert!(uut.decided.val());
        uut.accept.val().then(|| Verdict::from_code(uut.verdict.val().to_u32() as u8))
    }

    fn check(cfg: &MacConfig, dst: &[u8; 6]) -> Option<Verdict> {
        let mut uut = new_filter(cfg);
        let got = classify(&mut uut, dst);
        assert_eq!(got, filter(cfg, dst), "dst {dst:02x?} cfg {cfg:?}");
        got
    }

    #[test]
    fn each_mode_and_verdict() {
        let mut cfg = MacConfig::default();
        let group = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB];
        let other_group = (0u8..=255)
            .map(|b| [0x01, 0x00, 0x5E, 0x00, 0x01, b])
            .find(|g| crate::model::rx_reference::multicast_bin(g) != crate::model::rx_reference::multicast_bin(&group))
            .unwrap();
        let other = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        // Station address differing only in its last byte must not match.
        let mut near = cfg.station;
        near[5] ^= 0x80;
        assert_eq!(check(&cfg, &cfg.station.clone()), Some(Verdict::Station));
        assert_eq!(check(&cfg, &near), None);
        assert_eq!(check(&cfg, &BROADCAST), Some(Verdict::Broadcast));
        assert_eq!(check(&cfg, &group), None);
        assert_eq!(check(&cfg, &other), None);
        cfg.join(&group);
        assert_eq!(check(&cfg, &group), Some(Verdict::Multicast));
        assert_eq!(check(&cfg, &other_group), None);
        cfg.all_multicast = true;
        assert_eq!(check(&cfg, &other_group), Some(Verdict::Multicast));
        assert_eq!(check(&cfg, &other), None);
        cfg.all_multicast = false;
        cfg.promisc = true;
        assert_eq!(check(&cfg, &other), Some(Verdict::Promiscuous));
        assert_eq!(check(&cfg, &other_group), Some(Verdict::Promiscuous));
        assert_eq!(check(&cfg, &group), Some(Verdict::Multicast));
        assert_eq!(check(&cfg, &cfg.station.clone()), Some(Verdict::Station));
        assert_eq!(check(&cfg, &BROADCAST), Some(Verdict::Broadcast));
    }

    /// Every one of the 64 bins, by a group that lands in it, with only that bin set and
    /// with every other bin set: proves the bin comes out of the CRC register right.
    #[test]
    fn hash_bins_match_crc32fast() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut found = [None; 64];
        while found.iter().any(|f| f.is_none()) {
            let mut g: [u8; 6] = rng.gen();
            g[0] |= 1;
            found[crate::model::rx_reference::multicast_bin(&g) as usize] = Some(g);
        }
        let mut cfg = MacConfig::default();
        let mut uut = new_filter(&cfg);
        for (bin, g) in found.iter().enumerate() {
            let g = g.unwrap();
            for hash in [1u64 << bin, !(1u64 << bin)] {
                cfg.mcast_hash = hash;
                uut.mcast_hash.next = hash.to_bits();
                assert_eq!(classify(&mut uut, &g), filter(&cfg, &g), "bin {bin} hash {hash:016x}");
            }
        }
    }

    #[test]
    fn random_addresses_match_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..20 {
            let cfg = MacConfig {
                station: rng.gen(),
                mcast_hash: rng.gen(),
                all_multicast: rng.gen_bool(0.2),
                promisc: rng.gen_bool(0.2),
                ..Default::default()
            };
            let mut uut = new_filter(&cfg);
            for _ in 0..20 {
                let dst = match rng.gen_range(0..4) {
                    0 => cfg.station,
                    1 => BROADCAST,
                    _ => rng.gen(),
                };
                assert_eq!(classify(&mut uut, &dst), filter(&cfg, &dst), "{dst:02x?} {cfg:?}");
            }
        }
    }

    #[test]
    fn verilog_passes_yosys_and_verilator() {
        crate::verilog::assert_lints_and_checks("nic_macrx_filter", &mut MacFilter::default());
    }
}
