//! Helpers shared by the driver's integration tests.
#![allow(dead_code)]
use nic_driver::{ModelBackend, ModelNic, Nic, NicConfig};
use rand::Rng;

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0A];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0B];
/// A local experimental EtherType: the stack ignores it, nobody parses it.
pub const ETHERTYPE: [u8; 2] = [0x88, 0xB5];

/// A frame to `dst` from `src` with `len` bytes in all (FCS excluded), random payload.
pub fn frame(rng: &mut impl Rng, dst: [u8; 6], src: [u8; 6], len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ETHERTYPE);
    f.resize(len, 0);
    rng.fill(&mut f[14..]);
    f
}

/// A model card and its driver, brought up with `cfg`.
pub fn card(cfg: NicConfig) -> (ModelNic, Nic<ModelBackend>) {
    let model = ModelNic::new();
    let nic = Nic::new(model.backend(), cfg).expect("bring-up");
    (model, nic)
}

/// Small rings and pool, for tests that wrap rings and starve the card.
pub fn small(mac: [u8; 6], ring_log2: u32, buffers: u32) -> NicConfig {
    NicConfig { mac, rx_ring_log2: ring_log2, tx_ring_log2: ring_log2, buffers, ..NicConfig::default() }
}

/// The pool invariants: every buffer in exactly one place, `lent` held by the test.
pub fn check(nic: &mut Nic<ModelBackend>, lent: u32) {
    if let Err(e) = nic.check_invariants(lent) {
        panic!("buffer pool invariant broken: {e}");
    }
}

pub fn seed() -> u64 {
    std::env::var("NIC_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x05EE_DD12_u64)
}
