//! Classic libpcap files (Ethernet link type): written for Wireshark and tcpdump, read for
//! `nic replay`.
use std::io::{self, Write};

const MAGIC_MICROSECONDS: u32 = 0xA1B2_C3D4;
const MAGIC_NANOSECONDS: u32 = 0xA1B2_3C4D;
const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 65535;

pub struct PcapWriter<W: Write> {
    out: W,
    frames: u64,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&MAGIC_MICROSECONDS.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?; // version 2.4
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?; // GMT offset
        out.write_all(&0u32.to_le_bytes())?; // timestamp accuracy
        out.write_all(&SNAPLEN.to_le_bytes())?;
        out.write_all(&LINKTYPE_ETHERNET.to_le_bytes())?;
        Ok(Self { out, frames: 0 })
    }

    /// Append one frame (without FCS) seen at `time_ns` of simulated time.
    pub fn write_frame(&mut self, time_ns: u64, frame: &[u8]) -> io::Result<()> {
        let len = frame.len().min(SNAPLEN as usize) as u32;
        self.out.write_all(&((time_ns / 1_000_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&(((time_ns / 1000) % 1_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(&frame[..len as usize])?;
        self.frames += 1;
        Ok(())
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One record of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapRecord {
    pub time_ns: u64,
    pub data: Vec<u8>,
    /// The length on the wire, when the capture cut the record short (snap length).
    pub orig_len: u32,
}

/// Why a capture cannot be read; the message names the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PcapError {
    NotPcap { magic: u32 },
    TruncatedHeader,
    LinkType(u32),
    TruncatedRecord { index: usize, offset: usize },
    Snapped { index: usize, caplen: u32, orig_len: u32 },
}

impl std::fmt::Display for PcapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcapError::NotPcap { magic } => write!(f, "not a classic pcap file (magic {magic:#010x}; pcapng is not supported: convert with `editcap -F pcap IN OUT`)"),
            PcapError::TruncatedHeader => write!(f, "truncated pcap file header (shorter than 24 bytes)"),
            PcapError::LinkType(t) => write!(f, "link type {t} is not Ethernet (1)"),
            PcapError::TruncatedRecord { index, offset } => write!(f, "record {index} at byte {offset} is truncated"),
            PcapError::Snapped { index, caplen, orig_len } => write!(f, "record {index} was captured short ({caplen} of {orig_len} bytes): recapture with a larger snap length"),
        }
    }
}

/// Parse a whole classic pcap file (either byte order, µs or ns timestamps, Ethernet).
pub fn read_pcap(bytes: &[u8]) -> Result<Vec<PcapRecord>, PcapError> {
    if bytes.len() < 4 {
        return Err(PcapError::NotPcap { magic: 0 });
    }
    let magic_le = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let (big, nanos) = match magic_le {
        MAGIC_MICROSECONDS => (false, false),
        MAGIC_NANOSECONDS => (false, true),
        m if m.swap_bytes() == MAGIC_MICROSECONDS => (true, false),
        m if m.swap_bytes() == MAGIC_NANOSECONDS => (true, true),
        m => return Err(PcapError::NotPcap { magic: m }),
    };
    if bytes.len() < 24 {
        return Err(PcapError::TruncatedHeader);
    }
    let u32_at = |o: usize| {
        let b: [u8; 4] = bytes[o..o + 4].try_into().expect("4 bytes");
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let link = u32_at(20) & 0x0FFF_FFFF;
    if link != LINKTYPE_ETHERNET {
        return Err(PcapError::LinkType(link));
    }
    let mut out = Vec::new();
    let mut off = 24;
    while off < bytes.len() {
        let index = out.len();
        if bytes.len() - off < 16 {
            return Err(PcapError::TruncatedRecord { index, offset: off });
        }
        let (sec, frac, caplen, orig_len) = (u32_at(off), u32_at(off + 4), u32_at(off + 8), u32_at(off + 12));
        let start = off + 16;
        let end = start.checked_add(caplen as usize).filter(|&e| e <= bytes.len());
        let Some(end) = end else {
            return Err(PcapError::TruncatedRecord { index, offset: off });
        };
        if caplen < orig_len {
            return Err(PcapError::Snapped { index, caplen, orig_len });
        }
        let time_ns = u64::from(sec) * 1_000_000_000 + u64::from(frac) * if nanos { 1 } else { 1000 };
        out.push(PcapRecord { time_ns, data: bytes[start..end].to_vec(), orig_len });
        off = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_frame(1_500_002_000, &[1, 2, 3]).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 24 + 16 + 3);
        assert_eq!(&bytes[0..4], &[0xD4, 0xC3, 0xB2, 0xA1]);
        assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 1); // seconds
        assert_eq!(u32::from_le_bytes(bytes[28..32].try_into().unwrap()), 500_002); // microseconds
        assert_eq!(&bytes[40..], &[1, 2, 3]);
    }

    #[test]
    fn reads_what_it_writes_and_names_bad_input() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_frame(1_500_002_000, &[1, 2, 3]).unwrap();
        w.write_frame(2_000_000_000, &[4; 70]).unwrap();
        let bytes = w.finish().unwrap();
        let recs = read_pcap(&bytes).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0], PcapRecord { time_ns: 1_500_002_000, data: vec![1, 2, 3], orig_len: 3 });
        assert_eq!(recs[1].data, vec![4; 70]);
        assert_eq!(
            read_pcap(b"hello world, not a capture").unwrap_err(),
            PcapError::NotPcap { magic: u32::from_le_bytes(*b"hell") }
        );
        assert_eq!(read_pcap(&bytes[..20]).unwrap_err(), PcapError::TruncatedHeader);
        assert_eq!(
            read_pcap(&bytes[..bytes.len() - 1]).unwrap_err(),
            PcapError::TruncatedRecord { index: 1, offset: 24 + 16 + 3 }
        );
        let mut other = bytes.clone();
        other[20] = 101; // LINKTYPE_RAW
        assert_eq!(read_pcap(&other).unwrap_err(), PcapError::LinkType(101));
        assert!(read_pcap(&other).unwrap_err().to_string().contains("not Ethernet"));
        // Big-endian files are read too.
        let mut be = vec![0xA1, 0xB2, 0xC3, 0xD4, 0, 2, 0, 4];
        be.extend([0; 8]);
        be.extend(65535u32.to_be_bytes());
        be.extend(1u32.to_be_bytes());
        be.extend([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0xAB]);
        assert_eq!(read_pcap(&be).unwrap(), vec![PcapRecord { time_ns: 1_000_002_000, data: vec![0xAB], orig_len: 1 }]);
    }
}
