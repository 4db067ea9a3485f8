//! A minimal receive-only host: what `nic replay` and `nic bench linerate` run on the host
//! side of the model. It brings the card up through registers, keeps the RX descriptor ring
//! full of buffers, and reaps completions by their phase bit, reposting in batches with one
//! doorbell per batch, as a polling driver does. (The real driver is `nic-driver`.)
use super::axil::RegOp;
use super::memory::SharedMemory;
use super::nic::NicModel;
use nic_regs::ring::{phase_for_index, slot, Completion, Descriptor, ENTRY_BYTES};
use nic_regs::{
    Ring, CONTROL, CONTROL_RX_EN, FILTER, FILTER_ALL_MULTICAST, FILTER_PROMISC, MAC_HI, MAC_LO, MAX_LEN, MCAST_HASH_HI,
    MCAST_HASH_LO,
};

/// How the host sets the card up.
#[derive(Clone, Debug)]
pub struct RxHostConfig {
    pub mac: [u8; 6],
    /// Multicast groups joined (the hash filter's bins are set for them).
    pub multicast: Vec<[u8; 6]>,
    pub all_multicast: bool,
    pub promisc: bool,
    /// log2 of the RX descriptor and completion ring sizes.
    pub ring_log2: u32,
    /// Bytes per RX buffer.
    pub buf_size: u16,
    /// Longest frame accepted, FCS included.
    pub max_len: u16,
}

impl Default for RxHostConfig {
    fn default() -> Self {
        RxHostConfig {
            mac: nic_regs::DEFAULT_MAC,
            multicast: Vec::new(),
            all_multicast: false,
            promisc: false,
            ring_log2: 8,
            buf_size: 2048,
            max_len: nic_regs::DEFAULT_MAX_LEN as u16,
        }
    }
}

/// A frame that reached host memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub bytes: Vec<u8>,
    pub completion: Completion,
    /// Core clock at which the host saw the completion.
    pub cycle: u64,
}

pub struct RxHost {
    mem: SharedMemory,
    log2: u32,
    desc_base: u64,
    cpl_base: u64,
    buf_base: u64,
    buf_size: u16,
    /// Next descriptor index to post.
    producer: u16,
    /// Next completion index to look at.
    consumer: u16,
    pub received: Vec<Received>,
    /// Completions that decode wrongly (reserved bits set): must stay 0.
    pub bad_completions: u64,
}

/// Bytes of host memory an [`RxHost`] needs.
pub fn memory_needed(cfg: &RxHostConfig) -> usize {
    let n = 1usize << cfg.ring_log2;
    2 * n * ENTRY_BYTES + n * usize::from(cfg.buf_size)
}

impl RxHost {
    /// Lay out the rings and buffers at the start of `mem`, post every buffer and queue the
    /// register writes that bring the card up (run the model until `nic.axil.idle()`).
    pub fn bring_up(nic: &mut NicModel, mem: SharedMemory, cfg: &RxHostConfig) -> RxHost {
        assert!((1..=nic_regs::MAX_LOG2_SIZE).contains(&cfg.ring_log2));
        assert!(memory_needed(cfg) <= mem.len(), "host memory too small");
        let n = 1u64 << cfg.ring_log2;
        let desc_base = mem.base();
        let cpl_base = desc_base + n * ENTRY_BYTES as u64;
        let buf_base = cpl_base + n * ENTRY_BYTES as u64;
        let mut host = RxHost {
            mem,
            log2: cfg.ring_log2,
            desc_base,
            cpl_base,
            buf_base,
            buf_size: cfg.buf_size,
            producer: 0,
            consumer: 0,
            received: Vec::new(),
            bad_completions: 0,
        };
        let (lo, hi) = nic_regs::mac_to_words(cfg.mac);
        let hash = nic_regs::net::multicast_hash(&cfg.multicast);
        let filter =
            (u32::from(cfg.promisc) << FILTER_PROMISC.lsb) | (u32::from(cfg.all_multicast) << FILTER_ALL_MULTICAST.lsb);
        let rxd = nic_regs::ring(Ring::RxDesc);
        let rxc = nic_regs::ring(Ring::RxCpl);
        let mut w = |offset: u32, value: u32| {
            nic.submit(RegOp::Write { offset, value });
        };
        w(MAC_LO.offset, lo);
        w(MAC_HI.offset, hi);
        w(FILTER.offset, filter);
        w(MCAST_HASH_LO.offset, hash as u32);
        w(MCAST_HASH_HI.offset, (hash >> 32) as u32);
        w(MAX_LEN.offset, u32::from(cfg.max_len));
        w(rxd.base_lo.offset, desc_base as u32);
        w(rxd.base_hi.offset, (desc_base >> 32) as u32);
        w(rxd.log2_size.offset, cfg.ring_log2);
        w(rxc.base_lo.offset, cpl_base as u32);
        w(rxc.base_hi.offset, (cpl_base >> 32) as u32);
        w(rxc.log2_size.offset, cfg.ring_log2);
        host.post(n as u16);
        nic.submit(RegOp::Write { offset: rxd.producer.offset, value: u32::from(host.producer) });
        nic.submit(RegOp::Write { offset: CONTROL.offset, value: 1 << CONTROL_RX_EN.lsb });
        host
    }

    /// Post `count` descriptors from `producer` on: descriptor `i` always uses buffer slot
    /// `i mod size`, free again once completion `i - size` has been reaped.
    fn post(&mut self, count: u16) {
        for _ in 0..count {
            let s = slot(self.producer, self.log2) as u64;
            let d = Descriptor { addr: self.buf_base + s * u64::from(self.buf_size), len: self.buf_size, flags: 0 };
            self.mem
                .write_bytes(self.desc_base + s * ENTRY_BYTES as u64, &d.encode())
                .expect("ring inside host memory");
            self.producer = self.producer.wrapping_add(1);
        }
    }

    /// Reap every completion that is there (phase bit), copy the frames out, repost their
    /// buffers and ring both doorbells once. Returns how many were reaped.
    pub fn poll(&mut self, nic: &mut NicModel) -> usize {
        let mut reaped = 0u16;
        loop {
            let s = slot(self.consumer, self.log2) as u64;
            let at = self.cpl_base + s * ENTRY_BYTES as u64;
            let hi = self.mem.load64(at + 8).expect("ring inside host memory");
            if (hi >> 63 == 1) != phase_for_index(self.consumer, self.log2) {
                break;
            }
            let lo = self.mem.load64(at).expect("ring inside host memory");
            match Completion::from_u128(u128::from(hi) << 64 | u128::from(lo)) {
                Ok(c) => {
                    let b = slot(c.desc_index, self.log2) as u64;
                    let mut bytes = vec![0; usize::from(c.len.min(self.buf_size))];
                    self.mem
                        .read_bytes(self.buf_base + b * u64::from(self.buf_size), &mut bytes)
                        .expect("buffer inside host memory");
                    self.received.push(Received { bytes, completion: c, cycle: nic.cycles });
                }
                Err(_) => self.bad_completions += 1,
            }
            self.consumer = self.consumer.wrapping_add(1);
            reaped += 1;
        }
        if reaped > 0 {
            self.post(reaped);
            let rxd = nic_regs::ring(Ring::RxDesc);
            let rxc = nic_regs::ring(Ring::RxCpl);
            nic.submit(RegOp::Write { offset: rxc.consumer.offset, value: u32::from(self.consumer) });
            nic.submit(RegOp::Write { offset: rxd.producer.offset, value: u32::from(self.producer) });
        }
        usize::from(reaped)
    }
}
