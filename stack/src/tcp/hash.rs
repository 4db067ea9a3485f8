//! SipHash, a keyed hash, written from the SipHash paper (Aumasson & Bernstein).
//!
//! The engine needs a keyed hash three times: the ISN generator of RFC 6528, the
//! ephemeral-port offset of RFC 6056 (both SipHash-2-4), and the 4-tuple hash tables
//! (SipHash-1-3, as the std `HashMap` uses: fewer rounds on the path of every segment and
//! every connection). The std `RandomState` would do for the tables but takes its key
//! from the OS, and the stack's randomness must come from the injected seed so that a run
//! is reproducible. A keyed hash also keeps a remote host from choosing 4-tuples that all
//! land in one bucket.

use core::hash::{BuildHasher, Hasher};

/// Streaming SipHash-C-D state: C rounds per message word, D rounds to finish.
#[derive(Clone)]
pub struct SipHasher<const C: usize, const D: usize> {
    v: [u64; 4],
    tail: u64,
    tail_len: u32,
    total_len: u64,
}

/// The SipHash of the paper, for the ISN and port secrets.
pub type SipHasher24 = SipHasher<2, 4>;
/// The faster variant the std hash maps use, for the tables.
pub type SipHasher13 = SipHasher<1, 3>;

impl<const C: usize, const D: usize> SipHasher<C, D> {
    pub fn new(key: (u64, u64)) -> Self {
        let (k0, k1) = key;
        SipHasher {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            tail_len: 0,
            total_len: 0,
        }
    }

    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, word: u64) {
        self.v[3] ^= word;
        for _ in 0..C {
            self.round();
        }
        self.v[0] ^= word;
    }
}

impl<const C: usize, const D: usize> Hasher for SipHasher<C, D> {
    fn write(&mut self, mut bytes: &[u8]) {
        self.total_len += bytes.len() as u64;
        // Whole little-endian words straight from the input while nothing is pending.
        while self.tail_len == 0 && bytes.len() >= 8 {
            let (word, rest) = bytes.split_at(8);
            self.compress(u64::from_le_bytes(word.try_into().expect("8 bytes")));
            bytes = rest;
        }
        if self.tail_len == 0 {
            // The rest (under 8 bytes) becomes the pending tail at once.
            let mut word = [0u8; 8];
            word[..bytes.len()].copy_from_slice(bytes);
            self.tail = u64::from_le_bytes(word);
            self.tail_len = bytes.len() as u32;
            return;
        }
        for &byte in bytes {
            self.tail |= u64::from(byte) << (8 * self.tail_len);
            self.tail_len += 1;
            if self.tail_len == 8 {
                let word = self.tail;
                self.compress(word);
                self.tail = 0;
                self.tail_len = 0;
            }
        }
    }

    fn finish(&self) -> u64 {
        let mut state = self.clone();
        let last = state.tail | ((state.total_len & 0xff) << 56);
        state.compress(last);
        state.v[2] ^= 0xff;
        for _ in 0..D {
            state.round();
        }
        state.v[0] ^ state.v[1] ^ state.v[2] ^ state.v[3]
    }
}

/// One-shot SipHash-2-4 of `data` under `key`.
pub fn sip_hash(key: (u64, u64), data: &[u8]) -> u64 {
    let mut hasher = SipHasher24::new(key);
    hasher.write(data);
    hasher.finish()
}

/// A `BuildHasher` for hash maps keyed from the engine's seed.
#[derive(Clone, Copy, Debug)]
pub struct SeededState(pub (u64, u64));

impl BuildHasher for SeededState {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: (u64, u64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);

    #[test]
    fn matches_the_reference_vectors() {
        // Key 00..0f and messages 00..(n-1) from the SipHash reference test vectors.
        assert_eq!(sip_hash(KEY, &[]), 0x726f_db47_dd0e_0e31);
        let message: Vec<u8> = (0..15).collect();
        assert_eq!(sip_hash(KEY, &message), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn sip_1_3_matches_its_reference_vector() {
        // SipHash-1-3 of the empty message under key 00..0f (the reference
        // implementation's vectors_sip64 for cROUNDS = 1, dROUNDS = 3).
        let hasher = SipHasher13::new(KEY);
        assert_eq!(hasher.finish(), 0xabac_0158_050f_c4dc);
    }

    #[test]
    fn streaming_equals_one_shot() {
        let message: Vec<u8> = (0..37).collect();
        let mut hasher = SipHasher24::new(KEY);
        hasher.write(&message[..5]);
        hasher.write(&message[5..20]);
        hasher.write(&message[20..]);
        assert_eq!(hasher.finish(), sip_hash(KEY, &message));
        assert_ne!(sip_hash(KEY, &message), sip_hash((1, 2), &message));
    }
}
