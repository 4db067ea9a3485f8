//! A file transfer checked end to end: the server's docroot holds `NAME` and
//! `NAME.crc32` (the CRC-32 of `NAME` as 8 hex digits and a newline); the client fetches
//! both over one HTTP connection and compares the checksum of what it received.

use std::io::{self, ErrorKind};
use std::net::SocketAddrV4;
use std::path::Path;
use std::time::Duration;

use nic_stack::threaded::NetHandle;

use crate::http::HttpClient;

/// CRC-32 (IEEE, as Ethernet's FCS and zlib's) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// The checksum file that goes with `name`.
pub fn sidecar_name(name: &str) -> String {
    format!("{name}.crc32")
}

/// `len` reproducible bytes from `seed` (xorshift64*): a file whose every byte matters.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes `dir/name` with `len` pattern bytes from `seed` and its `name.crc32`; returns
/// the checksum.
pub fn write_checked_file(dir: &Path, name: &str, len: usize, seed: u64) -> io::Result<u32> {
    let data = pattern(len, seed);
    let sum = crc32(&data);
    std::fs::write(dir.join(name), &data)?;
    std::fs::write(dir.join(sidecar_name(name)), format!("{sum:08x}\n"))?;
    Ok(sum)
}

/// Writes a small site into `dir`: `index.html`, `hello.txt`, `style.css`, `data.json`
/// and `big.bin` (`big_len` pattern bytes from `seed`) with `big.bin.crc32`. Returns
/// the checksum of `big.bin`.
pub fn write_demo_site(dir: &Path, big_len: usize, seed: u64) -> io::Result<u32> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html>\n<html><head><title>nic</title><link rel=\"stylesheet\" href=\"style.css\"></head>\n\
         <body><h1>Served by nic-stack</h1><p>This page came through the simulated card.</p>\n\
         <p><a href=\"hello.txt\">hello.txt</a> <a href=\"big.bin\">big.bin</a></p></body></html>\n",
    )?;
    std::fs::write(dir.join("hello.txt"), "hello from the card\n")?;
    std::fs::write(dir.join("style.css"), "body { font-family: sans-serif; }\n")?;
    std::fs::write(dir.join("data.json"), "{\"card\": \"nic\", \"ok\": true}\n")?;
    write_checked_file(dir, "big.bin", big_len, seed)
}

/// What one checked transfer moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub bytes: u64,
    pub crc32: u32,
    pub elapsed: Duration,
}

impl Transfer {
    /// Payload throughput in Mb/s (0 if the transfer took no measurable time).
    pub fn mbit_per_s(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.bytes as f64 * 8.0 / s / 1e6
        } else {
            0.0
        }
    }
}

/// Fetches `path` and `path.crc32` from the server at `addr` on one connection and
/// checks the body's checksum. `InvalidData` if they differ or the sidecar is malformed;
/// `Other` with the status if either request is not answered 200.
pub fn fetch_verified(net: &NetHandle, addr: SocketAddrV4, path: &str, timeout: Duration) -> io::Result<Transfer> {
    let mut client = HttpClient::connect(net, addr, timeout)?;
    let sum = client.get(&sidecar_name(path))?;
    if sum.status != 200 {
        return Err(io::Error::other(format!("GET {} answered {}", sidecar_name(path), sum.status)));
    }
    let expected = std::str::from_utf8(&sum.body)
        .ok()
        .and_then(|s| u32::from_str_radix(s.trim(), 16).ok())
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "the checksum file is not 8 hex digits"))?;
    let rt = net.runtime();
    let start = rt.now_ns();
    let file = client.get(path)?;
    let elapsed = Duration::from_nanos(rt.now_ns() - start);
    if file.status != 200 {
        return Err(io::Error::other(format!("GET {path} answered {}", file.status)));
    }
    let got = crc32(&file.body);
    if got != expected {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("{path}: CRC-32 {got:08x} of {} bytes, expected {expected:08x}", file.body.len()),
        ));
    }
    Ok(Transfer { bytes: file.body.len() as u64, crc32: got, elapsed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value_and_pattern_is_reproducible() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(pattern(1000, 7), pattern(1000, 7));
        assert_ne!(pattern(1000, 7), pattern(1000, 8));
        assert_eq!(pattern(13, 1).len(), 13);
    }
}
