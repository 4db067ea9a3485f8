//! The two computations the host and the gateware must do identically, as reference
//! implementations without dependencies.

/// Length of the Ethernet header the receive sum skips (destination, source, EtherType).
pub const ETH_HEADER_LEN: usize = 14;

/// The standard CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, init and final
/// complement all ones), bit by bit, usable in `const` context.
pub const fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    let mut i = 0;
    while i < bytes.len() {
        crc ^= bytes[i] as u32;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            k += 1;
        }
        i += 1;
    }
    !crc
}

/// The multicast hash bin of a destination address: the top 6 bits of the CRC-32 of its 6
/// bytes in wire order. Bin `b` is bit `b` of `MCAST_HASH_HI:MCAST_HASH_LO`.
pub const fn multicast_bin(dst: &[u8; 6]) -> u8 {
    (crc32(dst) >> 26) as u8
}

/// The 64-bit hash table with the bins of `groups` set (what a driver writes to
/// `MCAST_HASH_LO`/`HI`: low word = bits 31:0).
pub fn multicast_hash(groups: &[[u8; 6]]) -> u64 {
    groups.iter().fold(0, |h, g| h | 1u64 << multicast_bin(g))
}

/// The ones'-complement sum the device reports in an RX completion (`CPL_CSUM`): the frame
/// bytes after the 14-byte Ethernet header (FCS excluded, VLAN tag or not), taken as
/// big-endian 16-bit words (an odd last byte is the high byte of a word whose low byte is
/// 0), added with end-around carry, not complemented. 0 for a frame of 14 bytes or fewer.
/// For an untagged IPv4 frame this is the sum of the IP header and payload, from which the
/// host checks the IP header sum and, with a pseudo-header, the TCP/UDP sum.
pub const fn rx_sum(frame: &[u8]) -> u16 {
    let mut sum = 0u32;
    let mut i = ETH_HEADER_LEN;
    while i < frame.len() {
        let hi = (frame[i] as u32) << 8;
        let lo = if i + 1 < frame.len() { frame[i + 1] as u32 } else { 0 };
        sum += hi | lo;
        sum = (sum & 0xFFFF) + (sum >> 16);
        i += 2;
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn multicast_bins() {
        // Known bins (crc32 of the address >> 26), cross-checked in nic-hdl against
        // model::rx_reference::multicast_bin, which uses crc32fast.
        const B: u8 = multicast_bin(&[0xFF; 6]);
        assert_eq!(B, (crc32(&[0xFF; 6]) >> 26) as u8);
        let g = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB];
        assert_eq!(multicast_hash(&[g]), 1 << multicast_bin(&g));
        assert!(multicast_bin(&g) < 64);
    }

    #[test]
    fn rx_sum_rules() {
        let hdr = [0u8; 14];
        assert_eq!(rx_sum(&hdr), 0);
        let f: Vec<u8> = hdr.iter().copied().chain([0x12, 0x34, 0x56]).collect();
        assert_eq!(rx_sum(&f), 0x1234 + 0x5600, "odd byte is a high byte");
        let f: Vec<u8> = hdr.iter().copied().chain([0xFF, 0xFF, 0x00, 0x02]).collect();
        assert_eq!(rx_sum(&f), 0x0002, "end-around carry: 0xFFFF + 2 = 0x1_0001 -> 0x0002");
        // An IPv4 header with a correct checksum sums to 0xFFFF.
        let ip = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xB8, 0x61, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8,
            0x00, 0xC7,
        ];
        let f: Vec<u8> = hdr.iter().copied().chain(ip).collect();
        assert_eq!(rx_sum(&f), 0xFFFF);
    }
}
