//! Asking the CPU to start loading bytes into its caches before the code needs them.
//!
//! A frame the stack comes back to after a while has left the core's own caches: the
//! payload of a received frame (written by the sender a round trip earlier), a recycled
//! buffer about to be filled. Each 64-byte line then costs a trip to the shared cache, and
//! the hardware prefetcher, which learns from a few misses in a row, has barely learnt by
//! the time a 1.5 KB frame is done. Naming the next frame's lines while the current one is
//! worked on overlaps those trips with useful work, as Linux's drivers `prefetch` the
//! next descriptor's buffer. Two places do it, where the bulk benchmark showed a gain:
//! the segments of a receive run (`TcpEngine::on_run_in`, before each checksum) and the
//! transmit buffer pool (`TcpTx::buffer`, before each fill).
//!
//! A prefetch is only a hint: it reads nothing the program can see, cannot fault and
//! changes no result, so the intrinsic is a safe function wherever its CPU feature is
//! enabled. `multiversion` builds the loop once with AVX2 enabled (which implies the SSE
//! the instruction belongs to) and picks it on CPUs that have it, as for the checksum
//! loops; on any other CPU the hint is skipped.

/// Starts loading the cache lines `bytes` covers (a hint; nothing is read here).
#[inline]
pub fn prefetch(bytes: &[u8]) {
    if !bytes.is_empty() {
        prefetch_lines(bytes);
    }
}

const LINE: usize = 64;

#[multiversion::multiversion(targets("x86_64+avx2"))]
fn prefetch_lines(bytes: &[u8]) {
    multiversion::target::match_target! {
        "x86_64+avx2" => {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // One address in every line the slice touches: each 64th byte, and the last
            // (its line is not reached by the steps when the slice starts mid-line).
            // `wrapping_add` only computes an address; nothing is dereferenced.
            let start = bytes.as_ptr();
            for offset in (0..bytes.len()).step_by(LINE) {
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset).cast());
            }
            _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(bytes.len() - 1).cast());
        }
        _ => {
            let _ = bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Empty, one-byte, unaligned and whole slices: the address arithmetic stays inside
    /// each (an empty one gets no prefetch at all) and the bytes are untouched.
    #[test]
    fn prefetch_takes_any_slice_and_leaves_the_bytes_alone() {
        let bytes: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        for (from, to) in [(0, 0), (17, 17), (0, 1), (1, 64), (63, 200), (0, 5000), (4999, 5000)] {
            prefetch(&bytes[from..to]);
        }
        assert!(bytes.iter().enumerate().all(|(i, &b)| b == i as u8));
    }
}
