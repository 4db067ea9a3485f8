//! Plain-Rust reference of the receive path: `mac::rx` (preamble/SFD, FCS, lengths, PHY
//! errors), `mac::filter` (station / broadcast / multicast hash / promiscuous) and
//! `fifo::rx_frame` (store and forward, FCS stripped, whole-frame overflow drops).
//!
//! The gateware tests feed the same [`PhyBurst`]s to the blocks and to [`expected_rx`] and
//! compare what reaches the host and every counter. The simulation model and the
//! whole-path tests reuse the burst builders and random frame generators.
//!
//! # Decisions the gateware must match
//! * Before the SFD, 0x55 bytes are skipped (any number, including none). A byte flagged
//!   with a PHY error, or any byte other than 0x55/0xD5, ends the hunt: the rest of the
//!   burst is ignored and `bad_preamble` counts it. A burst that ends (or is empty) with
//!   only 0x55 bytes carries no frame and counts nothing.
//! * After the SFD every byte up to `end` belongs to the frame (FCS included). One reason
//!   per frame, in this precedence: PHY error (on any frame byte, or with `end`) >
//!   giant (longer than `max_len`) > runt (shorter than 64) > FCS error > filtered. Giant is
//!   checked before runt so that a `max_len` below 64 makes frames giants, not runts.
//! * Nothing in the model panics, whatever the input: indices of error flags beyond the
//!   burst are treated as an error with `end`, lengths saturate.
use rand::Rng;

/// Preamble byte as the PHY delivers it (bits 1010_1010 on the wire, LSB first).
pub const PREAMBLE: u8 = 0x55;
/// Start-of-frame delimiter.
pub const SFD: u8 = 0xD5;
/// Bytes of FCS at the end of every frame.
pub const FCS_LEN: usize = 4;
/// Shortest legal frame, destination address to FCS inclusive.
pub const MIN_FRAME_LEN: usize = 64;
/// Longest frame accepted by default (1518 plus a VLAN tag), FCS included.
pub const DEFAULT_MAX_LEN: u16 = 1522;
/// Standard preamble length in bytes, not counting the SFD.
pub const STANDARD_PREAMBLE: usize = 7;
/// The broadcast address.
pub const BROADCAST: [u8; 6] = [0xFF; 6];

/// The filter verdict that travels with a delivered frame (2 bits in the gateware).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Unicast to the station address.
    Station = 0,
    /// A multicast group accepted by the hash table or `all_multicast`.
    Multicast = 1,
    /// ff:ff:ff:ff:ff:ff.
    Broadcast = 2,
    /// Accepted only because the filter is promiscuous.
    Promiscuous = 3,
}

impl Verdict {
    /// The 2-bit code the gateware carries.
    pub fn code(self) -> u8 {
        self as u8
    }
    /// Decode the gateware's 2-bit code (only the low 2 bits are looked at).
    pub fn from_code(code: u8) -> Self {
        match code & 3 {
            0 => Verdict::Station,
            1 => Verdict::Multicast,
            2 => Verdict::Broadcast,
            _ => Verdict::Promiscuous,
        }
    }
}

/// How the receive path is configured (the gateware takes these as inputs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacConfig {
    /// Our station address, in wire order (`station[0]` is the first byte received).
    pub station: [u8; 6],
    /// 64-bin multicast hash table: bit `multicast_bin(group)` set = group joined.
    pub mcast_hash: u64,
    /// Accept every multicast frame.
    pub all_multicast: bool,
    /// Accept every frame (verdict `Promiscuous` when nothing else matched).
    pub promisc: bool,
    /// Longest accepted frame in bytes, FCS included.
    pub max_len: u16,
}

impl Default for MacConfig {
    /// A locally administered station address, no groups joined, not promiscuous,
    /// VLAN-sized maximum.
    fn default() -> Self {
        Self {
            station: [0x02, 0x00, 0x5E, 0x10, 0x20, 0x30],
            mcast_hash: 0,
            all_multicast: false,
            promisc: false,
            max_len: DEFAULT_MAX_LEN,
        }
    }
}

impl MacConfig {
    /// Set the hash bin of `group` (as a driver does when the stack joins a group).
    pub fn join(&mut self, group: &[u8; 6]) {
        self.mcast_hash |= 1u64 << multicast_bin(group);
    }
    /// Whether `group` falls in a joined hash bin.
    pub fn hash_hit(&self, group: &[u8; 6]) -> bool {
        self.mcast_hash >> multicast_bin(group) & 1 == 1
    }
}

/// Hash bin of a destination address: the top 6 bits of the standard CRC-32 of its 6 bytes.
pub fn multicast_bin(dst: &[u8; 6]) -> u8 {
    (crc32fast::hash(dst) >> 26) as u8
}

/// Pack an address into the gateware's 48-bit `station_mac` input: the first byte on the
/// wire in bits 7:0, the last in bits 47:40 (the same byte order as the frame stream).
pub fn station_bits(mac: &[u8; 6]) -> u64 {
    mac.iter().rev().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
}

/// Whether the filter accepts a frame to `dst`, and with which verdict.
/// Broadcast is always accepted; broadcast is checked before multicast (it is one).
pub fn filter(cfg: &MacConfig, dst: &[u8; 6]) -> Option<Verdict> {
    let is_group = dst[0] & 1 == 1;
    if *dst == BROADCAST {
        Some(Verdict::Broadcast)
    } else if is_group && (cfg.all_multicast || cfg.hash_hit(dst)) {
        Some(Verdict::Multicast)
    } else if !is_group && *dst == cfg.station {
        Some(Verdict::Station)
    } else if cfg.promisc {
        Some(Verdict::Promiscuous)
    } else {
        None
    }
}

/// What the PHY delivered for one burst of carrier: every byte (preamble, SFD, frame, FCS)
/// and where the PHY raised its error flag. The burst ends with the PHY's `end`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhyBurst {
    pub bytes: Vec<u8>,
    /// Indices into `bytes` of the bytes delivered with `error` set.
    pub error_at: Vec<usize>,
    /// `error` came together with `end` (e.g. a code violation in the last symbol).
    pub error_at_end: bool,
}

impl PhyBurst {
    fn byte_has_error(&self, i: usize) -> bool {
        self.error_at.contains(&i)
    }
    /// An error index past the last byte cannot be delivered with a byte: it is an error
    /// with `end` (keeps malformed bursts meaningful instead of panicking).
    fn end_has_error(&self) -> bool {
        self.error_at_end || self.error_at.iter().any(|&i| i >= self.bytes.len())
    }
}

/// A frame as the host receives it: destination address to payload, FCS stripped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveredFrame {
    pub bytes: Vec<u8>,
    pub verdict: Verdict,
}

/// What became of one burst in the MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RxOutcome {
    /// No SFD and no bad byte: nothing started, nothing counted.
    NoFrame,
    BadPreamble,
    PhyError,
    Giant,
    Runt,
    FcsError,
    Filtered,
    /// Committed by the MAC (the FIFO may still drop it for lack of space).
    Accepted(DeliveredFrame),
}

/// Every counter of the receive path. All saturate at `u32::MAX`, as in the gateware.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxCounters {
    pub frames_ok: u32,
    pub fcs_errors: u32,
    pub runts: u32,
    pub giants: u32,
    pub phy_errors: u32,
    pub bad_preamble: u32,
    pub filtered: u32,
    /// Frames the FIFO published to the host.
    pub frames_committed: u32,
    /// Committed frames the FIFO dropped whole for lack of data or metadata space.
    pub overflow_drops: u32,
}

impl RxCounters {
    fn count(&mut self, outcome: &RxOutcome) {
        let c = match outcome {
            RxOutcome::NoFrame => return,
            RxOutcome::BadPreamble => &mut self.bad_preamble,
            RxOutcome::PhyError => &mut self.phy_errors,
            RxOutcome::Giant => &mut self.giants,
            RxOutcome::Runt => &mut self.runts,
            RxOutcome::FcsError => &mut self.fcs_errors,
            RxOutcome::Filtered => &mut self.filtered,
            RxOutcome::Accepted(_) => &mut self.frames_ok,
        };
        *c = c.saturating_add(1);
    }
}

/// The MAC's decision for one burst (see the module doc for the rules and precedence).
pub fn receive(cfg: &MacConfig, burst: &PhyBurst) -> RxOutcome {
    let mut sfd_at = None;
    for (i, &b) in burst.bytes.iter().enumerate() {
        if burst.byte_has_error(i) || (b != PREAMBLE && b != SFD) {
            return RxOutcome::BadPreamble;
        }
        if b == SFD {
            sfd_at = Some(i);
            break;
        }
    }
    let Some(sfd_at) = sfd_at else {
        return RxOutcome::NoFrame;
    };
    let frame = &burst.bytes[sfd_at + 1..];
    let frame_error = burst.end_has_error() || burst.error_at.iter().any(|&i| i > sfd_at);
    if frame_error {
        return RxOutcome::PhyError;
    }
    if frame.len() > usize::from(cfg.max_len) {
        return RxOutcome::Giant;
    }
    if frame.len() < MIN_FRAME_LEN {
        return RxOutcome::Runt;
    }
    let (data, fcs) = frame.split_at(frame.len() - FCS_LEN);
    if crc32fast::hash(data).to_le_bytes() != fcs {
        return RxOutcome::FcsError;
    }
    let mut dst = [0u8; 6];
    dst.copy_from_slice(&data[..6]);
    match filter(cfg, &dst) {
        None => RxOutcome::Filtered,
        Some(verdict) => RxOutcome::Accepted(DeliveredFrame { bytes: data.to_vec(), verdict }),
    }
}

/// Size of the store-and-forward FIFO, for the capacity-aware model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FifoCapacity {
    /// Data RAM in bytes. A frame is written with its FCS, so it fits when its length
    /// including FCS is at most the free space; after commit the FCS space is freed.
    pub data_bytes: usize,
    /// Metadata entries: frames that can wait for the host at once.
    pub meta_entries: usize,
}

impl Default for FifoCapacity {
    /// The gateware's default sizes (`fifo::rx_frame::RxFrameFifo<12>`): 4096 data bytes,
    /// 32 frames.
    fn default() -> Self {
        FifoCapacity { data_bytes: 4096, meta_entries: 32 }
    }
}

impl FifoCapacity {
    /// Large enough never to drop anything in any test.
    pub const UNBOUNDED: FifoCapacity = FifoCapacity { data_bytes: usize::MAX, meta_entries: usize::MAX };
}

/// Frames and counters the host sees after `bursts`, with a FIFO that never fills
/// (the host reads fast enough).
pub fn expected_rx(cfg: &MacConfig, bursts: &[PhyBurst]) -> (Vec<DeliveredFrame>, RxCounters) {
    expected_rx_unread(cfg, bursts, FifoCapacity::UNBOUNDED)
}

/// [`expected_rx`] for frames as sent (FCS included, corrupted or not), each after the
/// standard preamble and the SFD.
pub fn expected_rx_sent(cfg: &MacConfig, sent: &[Vec<u8>]) -> (Vec<DeliveredFrame>, RxCounters) {
    let bursts: Vec<PhyBurst> = sent
        .iter()
        .map(|f| {
            let mut bytes = vec![PREAMBLE; STANDARD_PREAMBLE];
            bytes.push(SFD);
            bytes.extend_from_slice(f);
            PhyBurst { bytes, ..Default::default() }
        })
        .collect();
    expected_rx(cfg, &bursts)
}

/// Mixed traffic for comparing engines: a configuration that joined one multicast group,
/// and `n` frames with FCS to every destination class in turn, lengths in `lens`, every
/// fourth frame with a corrupted byte (an FCS error).
pub fn mixed_traffic(seed: u64, n: usize, lens: std::ops::RangeInclusive<usize>) -> (MacConfig, Vec<Vec<u8>>) {
    use rand::SeedableRng;
    let mut cfg = MacConfig::default();
    cfg.join(&[0x01, 0x00, 0x5E, 0x00, 0x00, 0x01]);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let frames = (0..n)
        .map(|i| {
            let class = DestClass::ALL[i % DestClass::ALL.len()];
            let len = rng.gen_range(lens.clone());
            let mut f = with_fcs(&random_frame(&mut rng, &cfg, class, len).expect("every class is allowed"));
            if i % 4 == 3 {
                f[30] ^= 4;
            }
            f
        })
        .collect();
    (cfg, frames)
}

/// As [`expected_rx`], but with a FIFO of `capacity` that the host does not read until all
/// bursts are in: a committed frame that does not fit is dropped whole and counted in
/// `overflow_drops`; later frames that fit are still delivered.
pub fn expected_rx_unread(
    cfg: &MacConfig,
    bursts: &[PhyBurst],
    capacity: FifoCapacity,
) -> (Vec<DeliveredFrame>, RxCounters) {
    let mut counters = RxCounters::default();
    let mut fifo = FifoModel::new(capacity);
    for burst in bursts {
        let outcome = receive(cfg, burst);
        counters.count(&outcome);
        if let RxOutcome::Accepted(frame) = outcome {
            fifo.commit(frame);
        }
    }
    counters.frames_committed = fifo.frames_committed;
    counters.overflow_drops = fifo.overflow_drops;
    (fifo.queue.into_iter().collect(), counters)
}

/// The store-and-forward FIFO at frame level: what `fifo::rx_frame` holds, given which
/// frames the MAC committed and which the host has read.
#[derive(Clone, Debug)]
pub struct FifoModel {
    pub capacity: FifoCapacity,
    /// Frames waiting for the host, oldest first.
    pub queue: std::collections::VecDeque<DeliveredFrame>,
    /// Data bytes the queue occupies (FCS not stored once committed).
    pub used: usize,
    pub frames_committed: u32,
    pub overflow_drops: u32,
}

impl FifoModel {
    pub fn new(capacity: FifoCapacity) -> Self {
        Self { capacity, queue: Default::default(), used: 0, frames_committed: 0, overflow_drops: 0 }
    }

    /// The MAC commits `frame` (its FCS was written too). Returns whether it was kept:
    /// it needs room for its bytes plus FCS, and a free metadata entry.
    pub fn commit(&mut self, frame: DeliveredFrame) -> bool {
        let with_fcs = frame.bytes.len() + FCS_LEN;
        let fits = with_fcs <= self.capacity.data_bytes.saturating_sub(self.used)
            && self.queue.len() < self.capacity.meta_entries;
        if fits {
            self.used += frame.bytes.len();
            self.queue.push_back(frame);
            self.frames_committed = self.frames_committed.saturating_add(1);
        } else {
            self.overflow_drops = self.overflow_drops.saturating_add(1);
        }
        fits
    }

    /// The host reads the oldest frame.
    pub fn pop(&mut self) -> Option<DeliveredFrame> {
        let f = self.queue.pop_front()?;
        self.used -= f.bytes.len();
        Some(f)
    }
}

/// `frame` followed by its correct FCS (CRC-32, least significant byte first).
pub fn with_fcs(frame: &[u8]) -> Vec<u8> {
    let mut v = frame.to_vec();
    v.extend_from_slice(&crc32fast::hash(frame).to_le_bytes());
    v
}

/// A clean burst: `preamble_len` preamble bytes, the SFD, `frame`, its correct FCS.
pub fn burst(frame: &[u8], preamble_len: usize) -> PhyBurst {
    let mut bytes = vec![PREAMBLE; preamble_len];
    bytes.push(SFD);
    bytes.extend_from_slice(&with_fcs(frame));
    PhyBurst { bytes, ..Default::default() }
}

/// Which destination a generated frame has, relative to a [`MacConfig`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DestClass {
    Station,
    Broadcast,
    /// A multicast group whose hash bin is set.
    JoinedMulticast,
    /// A multicast group whose hash bin is clear.
    UnjoinedMulticast,
    /// Unicast to someone else.
    OtherUnicast,
}

impl DestClass {
    pub const ALL: [DestClass; 5] = [
        DestClass::Station,
        DestClass::Broadcast,
        DestClass::JoinedMulticast,
        DestClass::UnjoinedMulticast,
        DestClass::OtherUnicast,
    ];
}

/// A random destination of `class` for `cfg`, or `None` if the configuration makes the
/// class impossible (no bin joined, or every bin joined).
pub fn random_dest<R: Rng>(rng: &mut R, cfg: &MacConfig, class: DestClass) -> Option<[u8; 6]> {
    match class {
        DestClass::Station => Some(cfg.station),
        DestClass::Broadcast => Some(BROADCAST),
        DestClass::JoinedMulticast | DestClass::UnjoinedMulticast => {
            let want_hit = class == DestClass::JoinedMulticast;
            let possible = if want_hit { cfg.mcast_hash != 0 } else { cfg.mcast_hash != u64::MAX };
            if !possible {
                return None;
            }
            // Each try hits a given bin with probability 1/64: this ends quickly.
            loop {
                let mut d: [u8; 6] = rng.gen();
                d[0] |= 1;
                if d != BROADCAST && cfg.hash_hit(&d) == want_hit {
                    return Some(d);
                }
            }
        }
        DestClass::OtherUnicast => loop {
            let mut d: [u8; 6] = rng.gen();
            d[0] &= !1;
            if d != cfg.station {
                return Some(d);
            }
        },
    }
}

/// A frame of `len` bytes (FCS not included; at least 14 are used for the header) to
/// `dst`: destination, a random source, an IPv4 EtherType, random payload.
pub fn random_frame_to<R: Rng>(rng: &mut R, dst: &[u8; 6], len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len.max(14));
    f.extend_from_slice(dst);
    let mut src: [u8; 6] = rng.gen();
    src[0] &= !1;
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    while f.len() < len {
        f.push(rng.gen());
    }
    f
}

/// A random frame of `class` and `len` bytes (FCS not included), or `None` when `cfg`
/// makes the class impossible (see [`random_dest`]).
pub fn random_frame<R: Rng>(rng: &mut R, cfg: &MacConfig, class: DestClass, len: usize) -> Option<Vec<u8>> {
    random_dest(rng, cfg, class).map(|d| random_frame_to(rng, &d, len))
}

/// A random unicast frame of `len` bytes *including* its FCS (`len` >= 18), for tests below
/// the MAC (line coding, PHYs) that need well-formed frames but no particular destination.
pub fn random_frame_with_fcs<R: Rng>(rng: &mut R, len: usize) -> Vec<u8> {
    assert!(len >= 14 + FCS_LEN, "a frame with FCS has at least 18 bytes, not {len}");
    let dst = random_dest(rng, &MacConfig::default(), DestClass::OtherUnicast).expect("always possible");
    with_fcs(&random_frame_to(rng, &dst, len - FCS_LEN))
}

/// A random burst for random tests: any destination class (falling back to broadcast when
/// `cfg` makes the class impossible), a frame of a length in `lens` (FCS not included),
/// 0 to 8 preamble bytes, and with probability `corrupt` one corruption: a flipped bit
/// after the SFD, a PHY error on a frame byte or with `end`, a bad preamble byte, or the
/// burst cut short.
pub fn random_burst<R: Rng>(
    rng: &mut R,
    cfg: &MacConfig,
    lens: std::ops::RangeInclusive<usize>,
    corrupt: f64,
) -> PhyBurst {
    let class = DestClass::ALL[rng.gen_range(0..DestClass::ALL.len())];
    let len = rng.gen_range(lens);
    let dst = random_dest(rng, cfg, class).unwrap_or(BROADCAST);
    let frame = random_frame_to(rng, &dst, len);
    let mut b = burst(&frame, rng.gen_range(0..=8));
    let sfd = b.bytes.len() - frame.len() - FCS_LEN - 1;
    if rng.gen_bool(corrupt.clamp(0.0, 1.0)) {
        match rng.gen_range(0..5) {
            0 => {
                let i = rng.gen_range(sfd + 1..b.bytes.len());
                b.bytes[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => b.error_at = vec![rng.gen_range(sfd + 1..b.bytes.len())],
            2 => b.error_at_end = true,
            3 => b.bytes[rng.gen_range(0..=sfd)] = rng.gen_range(0..0x50),
            _ => b.bytes.truncate(rng.gen_range(sfd + 1..b.bytes.len())),
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn frame_to(dst: [u8; 6], len: usize) -> Vec<u8> {
        random_frame_to(&mut ChaCha8Rng::seed_from_u64(len as u64), &dst, len)
    }

    #[test]
    fn station_bits_puts_first_wire_byte_low() {
        assert_eq!(station_bits(&[1, 2, 3, 4, 5, 6]), 0x0605_0403_0201);
    }

    #[test]
    fn multicast_bin_is_top_of_crc_and_join_sets_it() {
        let g = [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB];
        assert_eq!(u32::from(multicast_bin(&g)), crc32fast::hash(&g) >> 26);
        let mut cfg = MacConfig::default();
        assert!(!cfg.hash_hit(&g));
        cfg.join(&g);
        assert_eq!(cfg.mcast_hash.count_ones(), 1);
        assert!(cfg.hash_hit(&g));
    }

    #[test]
    fn filter_verdicts() {
        let mut cfg = MacConfig::default();
        let g = [0x01, 0x00, 0x5E, 0x7F, 0xFF, 0xFA];
        let other = [0x02, 0, 0, 0, 0, 9];
        assert_eq!(filter(&cfg, &cfg.station.clone()), Some(Verdict::Station));
        assert_eq!(filter(&cfg, &BROADCAST), Some(Verdict::Broadcast));
        assert_eq!(filter(&cfg, &g), None);
        assert_eq!(filter(&cfg, &other), None);
        cfg.join(&g);
        assert_eq!(filter(&cfg, &g), Some(Verdict::Multicast));
        cfg.mcast_hash = 0;
        cfg.all_multicast = true;
        assert_eq!(filter(&cfg, &g), Some(Verdict::Multicast));
        cfg.promisc = true;
        assert_eq!(filter(&cfg, &other), Some(Verdict::Promiscuous));
        assert_eq!(filter(&cfg, &BROADCAST), Some(Verdict::Broadcast));
        // The station address with the group bit set is a group, not us.
        let mut s = MacConfig::default();
        s.station[0] |= 1;
        assert_eq!(filter(&s, &s.station.clone()), None);
    }

    #[test]
    fn receive_lengths_and_precedence() {
        let cfg = MacConfig::default();
        let ok = frame_to(cfg.station, 60);
        assert!(matches!(receive(&cfg, &burst(&ok, 7)), RxOutcome::Accepted(_)));
        assert!(matches!(receive(&cfg, &burst(&ok, 0)), RxOutcome::Accepted(_)));
        assert_eq!(receive(&cfg, &burst(&ok[..59], 7)), RxOutcome::Runt);
        let max = frame_to(cfg.station, 1518);
        assert!(matches!(receive(&cfg, &burst(&max, 7)), RxOutcome::Accepted(_)));
        assert_eq!(receive(&cfg, &burst(&frame_to(cfg.station, 1519), 7)), RxOutcome::Giant);
        let mut bad = burst(&ok, 7);
        *bad.bytes.last_mut().unwrap() ^= 1;
        assert_eq!(receive(&cfg, &bad), RxOutcome::FcsError);
        let mut err = bad.clone();
        err.error_at_end = true;
        assert_eq!(receive(&cfg, &err), RxOutcome::PhyError);
        let mut runt_err = burst(&ok[..20], 7);
        runt_err.error_at = vec![10];
        assert_eq!(receive(&cfg, &runt_err), RxOutcome::PhyError);
        let mut pre = burst(&ok, 7);
        pre.bytes[3] = 0x54;
        assert_eq!(receive(&cfg, &pre), RxOutcome::BadPreamble);
        let mut pre_err = burst(&ok, 7);
        pre_err.error_at = vec![2];
        assert_eq!(receive(&cfg, &pre_err), RxOutcome::BadPreamble);
        assert_eq!(receive(&cfg, &PhyBurst { bytes: vec![PREAMBLE; 5], ..Default::default() }), RxOutcome::NoFrame);
        assert_eq!(receive(&cfg, &PhyBurst::default()), RxOutcome::NoFrame);
        let filtered = frame_to([0x02, 1, 2, 3, 4, 5], 100);
        assert_eq!(receive(&cfg, &burst(&filtered, 7)), RxOutcome::Filtered);
        // An error index past the end is an error with `end`, not a panic.
        let mut odd = burst(&ok, 7);
        odd.error_at = vec![10_000];
        assert_eq!(receive(&cfg, &odd), RxOutcome::PhyError);
    }

    #[test]
    fn unread_fifo_drops_whole_frames_that_do_not_fit() {
        let cfg = MacConfig::default();
        let cap = FifoCapacity { data_bytes: 200, meta_entries: 3 };
        // 100 + 4 fits in 200; then 96 free: a 92-byte frame (+4 = 96) fits exactly,
        // a 93-byte one would not.
        let a = frame_to(cfg.station, 100);
        let too_big = frame_to(cfg.station, 97);
        let exact = frame_to(cfg.station, 92);
        let bursts = [burst(&a, 7), burst(&too_big, 7), burst(&exact, 7)];
        let (got, c) = expected_rx_unread(&cfg, &bursts, cap);
        assert_eq!(got.iter().map(|f| f.bytes.clone()).collect::<Vec<_>>(), vec![a, exact]);
        assert_eq!((c.frames_ok, c.frames_committed, c.overflow_drops), (3, 2, 1));
        // Metadata limit: the fourth small frame is dropped.
        let small = frame_to(BROADCAST, 60);
        let cap = FifoCapacity { data_bytes: 4096, meta_entries: 3 };
        let (got, c) = expected_rx_unread(&cfg, &vec![burst(&small, 1); 4], cap);
        assert_eq!(got.len(), 3);
        assert_eq!(c.overflow_drops, 1);
    }

    #[test]
    fn random_frames_have_their_class() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut cfg = MacConfig::default();
        cfg.mcast_hash = 0x0000_0000_FFFF_0000;
        for class in DestClass::ALL {
            for _ in 0..50 {
                let f = random_frame(&mut rng, &cfg, class, 60).unwrap();
                let dst: [u8; 6] = f[..6].try_into().unwrap();
                let v = filter(&cfg, &dst);
                let want = match class {
                    DestClass::Station => Some(Verdict::Station),
                    DestClass::Broadcast => Some(Verdict::Broadcast),
                    DestClass::JoinedMulticast => Some(Verdict::Multicast),
                    DestClass::UnjoinedMulticast | DestClass::OtherUnicast => None,
                };
                assert_eq!(v, want, "{class:?} {dst:02x?}");
            }
        }
        cfg.mcast_hash = 0;
        assert_eq!(random_dest(&mut rng, &cfg, DestClass::JoinedMulticast), None);
    }
}
