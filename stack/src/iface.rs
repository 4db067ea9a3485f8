//! The interface: one Ethernet port with one IPv4 address. `poll` takes frames from the
//! device, runs them up the layers, runs the timers and hands frames back to the device.
//! Everything the stack owns below the socket layer lives here.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arp_cache::{ArpCache, ArpConfig, Enqueued};
use crate::buf::{PacketBuf, SharedBytes};
use crate::device::{Device, DeviceCaps, TX_HEADROOM};
use crate::gro::Run;
use crate::ratelimit::TokenBucket;
use crate::reassembly::{FragmentDrop, Reassembled, Reassembler, ReassemblyConfig};
use crate::stats::{count_drop, Stats};
use crate::tcp::{Output, RunHeader, SegmentSink, TcpConfig, TcpEngine};
use crate::udp::{UdpConfig, UdpError, UdpHandle, UdpTable, Undelivered};
use crate::wire::arp::{ArpOp, ArpRepr};
use crate::wire::checksum;
use crate::wire::ethernet::{EtherType, EthernetRepr, MacAddr};
use crate::wire::icmp::{unreachable, IcmpRepr};
use crate::wire::ipv4::{protocol, Ipv4Repr};
use crate::wire::udp::UdpRepr;
use crate::wire::{ipv4_at, WireError};

#[derive(Clone, Debug)]
pub struct InterfaceConfig {
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    /// Next hop for destinations outside the subnet; without one they are dropped.
    pub gateway: Option<Ipv4Addr>,
    pub ttl: u8,
    pub arp: ArpConfig,
    pub reassembly: ReassemblyConfig,
    /// ICMP errors: up to `burst` at once, `per_second` on average.
    pub icmp_error_burst: u32,
    pub icmp_errors_per_second: u32,
    pub udp: UdpConfig,
    pub tcp: TcpConfig,
    /// Frames asked of the device per `receive` call.
    pub rx_batch: usize,
    /// Receive batches per `poll`, so timers and transmit still run under a flood.
    pub rx_batches_per_poll: usize,
    /// Echo replies kept for `take_echo_reply` (oldest dropped first).
    pub echo_reply_queue: usize,
    /// Receive coalescing (`gro`): the TCP segments of a run in one receive batch skip the
    /// per-frame work of the lower layers. Off, each frame goes the whole way.
    pub rx_coalescing: bool,
}

impl InterfaceConfig {
    pub fn new(mac: MacAddr, ip: Ipv4Addr, prefix_len: u8) -> Self {
        InterfaceConfig {
            mac,
            ip,
            prefix_len,
            gateway: None,
            ttl: 64,
            arp: ArpConfig::default(),
            reassembly: ReassemblyConfig::default(),
            icmp_error_burst: 10,
            icmp_errors_per_second: 100,
            udp: UdpConfig::default(),
            tcp: TcpConfig::default(),
            rx_batch: 32,
            rx_batches_per_poll: 8,
            echo_reply_queue: 32,
            rx_coalescing: true,
        }
    }
}

/// Routing on the one subnet, and the IPv4 header of what we send.
impl InterfaceConfig {
    fn netmask(&self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.prefix_len.min(32))).unwrap_or(0)
    }

    fn on_link(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) ^ u32::from(self.ip)) & self.netmask() == 0
    }

    /// The limited broadcast or our subnet's directed broadcast.
    pub fn is_broadcast(&self, ip: Ipv4Addr) -> bool {
        ip.is_broadcast() || (self.prefix_len < 31 && self.on_link(ip) && u32::from(ip) | self.netmask() == u32::MAX)
    }

    /// Where a packet for `dst` goes first: `dst` itself on the subnet, else the gateway.
    fn next_hop(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        if self.on_link(dst) || dst.is_broadcast() {
            Some(dst)
        } else {
            self.gateway
        }
    }

    /// The header of a datagram we send with IP ident `ident`. TCP goes with DF set (the
    /// engine does path MTU discovery).
    fn ipv4_header(&self, ident: u16, dst: Ipv4Addr, proto: u8, payload_len: usize) -> Ipv4Repr {
        Ipv4Repr {
            src: self.ip,
            dst,
            protocol: proto,
            ttl: self.ttl,
            tos: 0,
            ident,
            dont_fragment: proto == protocol::TCP,
            more_fragments: false,
            frag_offset: 0,
            header_len: Ipv4Repr::MIN_LEN,
            payload_len,
        }
    }
}

/// The MAC address `next_hop` is reached at, if known without asking: the broadcast
/// address for a broadcast, else what the ARP cache holds.
fn known_mac(cfg: &InterfaceConfig, arp: &ArpCache, now: u64, next_hop: Ipv4Addr) -> Option<MacAddr> {
    if cfg.is_broadcast(next_hop) {
        Some(MacAddr::BROADCAST)
    } else {
        arp.lookup(now, next_hop)
    }
}

/// The next IP ident (one counter for everything we send).
fn next_ident(counter: &mut u16) -> u16 {
    *counter = counter.wrapping_add(1);
    *counter
}

/// An ICMP echo reply that came back to us (what `ping` prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EchoReply {
    pub from: Ipv4Addr,
    pub ident: u16,
    pub seq: u16,
    pub payload_len: usize,
}

pub struct Interface {
    cfg: InterfaceConfig,
    caps: DeviceCaps,
    arp: ArpCache,
    reassembler: Reassembler,
    icmp_errors: TokenBucket,
    udp: UdpTable,
    tcp: TcpEngine,
    stats: Stats,
    next_ident: u16,
    /// Frames ready for the device, handed over at the end of `poll`.
    tx: Vec<PacketBuf>,
    /// Segments the TCP engine emitted during one call, routed right after it.
    tcp_out: Vec<TcpSegment>,
    /// TCP segments of the current receive batch, for `deliver_tcp`.
    tcp_rx: Vec<TcpArrival>,
    /// The run the last TCP segment of the batch started, if the next frames may join it.
    rx_run: Option<Run>,
    /// The segments that joined runs, in order: each arrival's `run` are next.
    tcp_rx_runs: Vec<PacketBuf>,
    /// The receive batch, kept to reuse its allocation.
    rx: Vec<PacketBuf>,
    /// Transmit buffers the device lent (`Device::tx_buffers`), taken by TCP segments
    /// before any buffer is allocated; topped up to `TX_POOL` at every receive batch.
    tx_pool: Vec<PacketBuf>,
    echo_replies: VecDeque<EchoReply>,
    /// Gratuitous ARP sent (on the first poll).
    announced: bool,
    /// The last poll stopped at its frame budget with the device possibly holding more.
    rx_backlog: bool,
}

impl Interface {
    /// `seed` drives every random choice (TCP ISN secret, ephemeral ports, IP ident).
    pub fn new(cfg: InterfaceConfig, caps: DeviceCaps, seed: u64) -> Self {
        // Every IPv4 link carries at least 68 bytes (RFC 791); a device claiming less would
        // leave no room for a fragment.
        let caps = DeviceCaps { mtu: caps.mtu.clamp(68, usize::from(u16::MAX)), ..caps };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut tcp = TcpEngine::new(cfg.tcp.clone(), rng.gen());
        tcp.set_mtu(caps.mtu.min(usize::from(u16::MAX)) as u16);
        Interface {
            arp: ArpCache::new(cfg.arp.clone()),
            reassembler: Reassembler::new(cfg.reassembly.clone()),
            icmp_errors: TokenBucket::new(cfg.icmp_error_burst, cfg.icmp_errors_per_second),
            udp: UdpTable::new(cfg.udp.clone(), ChaCha8Rng::seed_from_u64(rng.gen())),
            tcp,
            stats: Stats::default(),
            next_ident: rng.gen(),
            tx: Vec::new(),
            tcp_out: Vec::new(),
            tcp_rx: Vec::new(),
            rx_run: None,
            tcp_rx_runs: Vec::new(),
            rx: Vec::new(),
            tx_pool: Vec::new(),
            echo_replies: VecDeque::new(),
            announced: false,
            rx_backlog: false,
            caps,
            cfg,
        }
    }

    pub fn config(&self) -> &InterfaceConfig {
        &self.cfg
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn arp_cache(&self) -> &ArpCache {
        &self.arp
    }

    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }

    /// Receives, processes, runs timers, transmits. Returns whether any frame moved.
    pub fn poll<D: Device>(&mut self, now: u64, dev: &mut D) -> bool {
        let mut activity = false;
        if !self.announced {
            self.announced = true;
            self.send_arp(ArpOp::Request, MacAddr::BROADCAST, MacAddr::default(), self.cfg.ip);
        }
        // Frame buffers the application has read out of TCP receive buffers.
        for spent in self.tcp.spent_buffers() {
            dev.recycle(spent);
        }
        let mut batch = std::mem::take(&mut self.rx);
        // Stays true only if every batch came back full: the device may hold more.
        self.rx_backlog = true;
        let batch_size = self.cfg.rx_batch.max(1);
        // TCP acknowledges in-order data once per connection per poll (up to a bound), as
        // after Linux's GRO, rather than every second segment.
        self.tcp.begin_batch();
        for _ in 0..self.cfg.rx_batches_per_poll.max(1) {
            let missing = TX_POOL.saturating_sub(self.tx_pool.len());
            if missing > 0 {
                dev.tx_buffers(&mut self.tx_pool, missing);
            }
            let received = dev.receive(&mut batch, batch_size);
            if received < batch_size {
                self.rx_backlog = false;
            }
            if received == 0 {
                break;
            }
            activity = true;
            for mut frame in batch.drain(..) {
                if self.rx_run.as_mut().is_some_and(|run| run.join(&mut frame)) {
                    self.joined_run(frame);
                    continue;
                }
                self.rx_run = None;
                if let Some(spent) = self.process_frame(now, frame) {
                    dev.recycle(spent);
                }
            }
            self.rx_run = None;
            self.deliver_tcp(now, |spent| dev.recycle(spent));
        }
        self.rx = batch;
        self.with_tcp(now, |tcp, out| tcp.end_batch(now, out));
        self.run_timers(now);
        if !self.tx.is_empty() {
            activity = true;
            self.stats.eth_tx_frames += self.tx.len() as u64;
            dev.transmit(&mut self.tx);
            self.tx.clear(); // a device that left frames behind has dropped them
        }
        activity
    }

    /// When `poll` next has work: 0 (now) if frames wait to go out or the last poll left
    /// received frames in the device; otherwise the next timer, if any.
    pub fn poll_at(&self) -> Option<u64> {
        if !self.announced || !self.tx.is_empty() || self.rx_backlog {
            return Some(0);
        }
        [self.arp.next_timer(), self.reassembler.next_timer(), self.tcp.next_timer()].into_iter().flatten().min()
    }

    fn run_timers(&mut self, now: u64) {
        let mut due = Vec::new();
        self.stats.arp_pending_timeout += self.arp.poll(now, |ip| due.push(ip)) as u64;
        for ip in due {
            self.send_arp(ArpOp::Request, MacAddr::BROADCAST, MacAddr::default(), ip);
        }
        self.reassembler.poll(now);
        self.with_tcp(now, |tcp, out| tcp.poll_timers(now, out));
        // The submodules count their own evictions; mirror them into the one Stats.
        self.stats.arp_cache_evictions = self.arp.evictions;
        self.stats.reasm_timeout = self.reassembler.timeouts;
        self.stats.reasm_evicted = self.reassembler.evictions;
    }

    // ---- receive path -------------------------------------------------------------

    /// Returns the buffer if nothing kept it (so the device can reuse it).
    fn process_frame(&mut self, now: u64, frame: PacketBuf) -> Option<PacketBuf> {
        self.stats.eth_rx_frames += 1;
        let eth = match EthernetRepr::parse(frame.data()) {
            Ok(eth) => eth,
            Err(_) => {
                count_drop!(self.stats, eth_truncated, len = frame.len());
                return Some(frame);
            }
        };
        if eth.dst != self.cfg.mac && !eth.dst.is_broadcast() {
            count_drop!(self.stats, eth_not_for_us, dst = %eth.dst);
            return Some(frame);
        }
        match eth.ethertype {
            EtherType::Arp => {
                self.process_arp(now, &frame.data()[EthernetRepr::LEN..]);
                Some(frame)
            }
            EtherType::Ipv4 => self.process_ipv4(now, frame),
            EtherType::Other(ethertype) => {
                count_drop!(self.stats, eth_unknown_ethertype, ethertype);
                Some(frame)
            }
        }
    }

    /// A frame that continues the TCP segment last received (see `gro`): it joins that
    /// segment's run, its Ethernet and IPv4 layers done.
    fn joined_run(&mut self, segment: PacketBuf) {
        self.stats.eth_rx_frames += 1;
        self.stats.ipv4_rx += 1;
        self.stats.tcp_segments_rx += 1;
        self.stats.tcp_rx_coalesced += 1;
        self.tcp_rx.last_mut().expect("a run follows its first segment").run += 1;
        self.tcp_rx_runs.push(segment);
    }

    /// Hands the TCP segments of the receive batch to the engine in one call (its code and
    /// the connection stay hot from one to the next); `recycle` gets the buffers it did
    /// not keep.
    fn deliver_tcp(&mut self, now: u64, mut recycle: impl FnMut(PacketBuf)) {
        if self.tcp_rx.is_empty() {
            return;
        }
        let (mut arrivals, mut runs) = (std::mem::take(&mut self.tcp_rx), std::mem::take(&mut self.tcp_rx_runs));
        self.with_tcp(now, |tcp, out| {
            let mut runs = runs.drain(..);
            for TcpArrival { src, dst, buf, verified, run } in arrivals.drain(..) {
                // The connection may keep the buffers as received data (zero-copy receive).
                if run == 0 {
                    if let Some(spent) = tcp.on_segment_in(now, src, dst, buf, verified, out) {
                        recycle(spent);
                    }
                } else {
                    tcp.on_run_in(now, src, dst, buf, runs.by_ref().take(run), out, &mut recycle);
                }
            }
        });
        (self.tcp_rx, self.tcp_rx_runs) = (arrivals, runs);
    }

    fn process_arp(&mut self, now: u64, packet: &[u8]) {
        let arp = match ArpRepr::parse(packet) {
            Ok(arp) if !arp.sender_mac.is_multicast() => arp,
            _ => return count_drop!(self.stats, arp_malformed),
        };
        match arp.op {
            ArpOp::Request => self.stats.arp_requests_rx += 1,
            ArpOp::Reply => self.stats.arp_replies_rx += 1,
        }
        if arp.sender_ip == self.cfg.ip {
            if arp.sender_mac != self.cfg.mac {
                count_drop!(self.stats, arp_addr_conflict, mac = %arp.sender_mac);
            }
            return;
        }
        let for_us = arp.target_ip == self.cfg.ip;
        // RFC 826 "merge": refresh a sender we know (this is how gratuitous ARP updates
        // us); learn a new one only when it talks to us, so a broadcast storm of
        // requests between others cannot fill the cache.
        let learnable = !arp.sender_ip.is_unspecified() && !self.is_broadcast(arp.sender_ip);
        if learnable && (for_us || self.arp.contains(arp.sender_ip)) {
            tracing::trace!(ip = %arp.sender_ip, mac = %arp.sender_mac, "arp learned");
            for waiting in self.arp.insert(now, arp.sender_ip, arp.sender_mac) {
                self.push_ethernet(waiting, arp.sender_mac, EtherType::Ipv4);
            }
        }
        if arp.op == ArpOp::Request && for_us {
            self.send_arp(ArpOp::Reply, arp.sender_mac, arp.sender_mac, arp.sender_ip);
        }
    }

    /// An IPv4 packet in an Ethernet frame (the Ethernet header checked, still in front).
    fn process_ipv4(&mut self, now: u64, mut packet: PacketBuf) -> Option<PacketBuf> {
        packet.pull(EthernetRepr::LEN).expect("the Ethernet header was parsed");
        self.stats.ipv4_rx += 1;
        let ip = match Ipv4Repr::parse(packet.data()) {
            Ok(ip) => ip,
            Err(e) => {
                match e {
                    WireError::Truncated => count_drop!(self.stats, ipv4_truncated),
                    WireError::Unsupported => count_drop!(self.stats, ipv4_bad_version),
                    WireError::BadLength => count_drop!(self.stats, ipv4_bad_length),
                    WireError::BadChecksum => count_drop!(self.stats, ipv4_bad_checksum),
                }
                return Some(packet);
            }
        };
        if ip.ttl == 0 {
            count_drop!(self.stats, ipv4_ttl_zero, src = %ip.src);
            return Some(packet);
        }
        if ip.dst != self.cfg.ip && !self.is_broadcast(ip.dst) {
            count_drop!(self.stats, ipv4_not_for_us, dst = %ip.dst);
            return Some(packet);
        }
        if self.is_broadcast(ip.src) || ip.src.is_multicast() || ip.src == self.cfg.ip {
            count_drop!(self.stats, ipv4_bad_source, src = %ip.src);
            return Some(packet);
        }
        let sum_hint = match packet.meta().l3_sum {
            Some(all) if self.caps.rx_l3_sum && !ip.is_fragment() => Some(transport_sum(all, packet.data(), &ip)),
            _ => None,
        };
        packet.truncate(ip.header_len + ip.payload_len);
        packet.pull(ip.header_len).expect("parse checked the length");
        if !ip.is_fragment() {
            return self.dispatch(now, &ip, packet, sum_hint, true);
        }
        self.stats.reasm_fragments_rx += 1;
        match self.reassembler.push(now, &ip, packet.data()) {
            Reassembled::Incomplete => {}
            Reassembled::Complete(whole, datagram) => {
                self.stats.reasm_ok += 1;
                tracing::trace!(src = %whole.src, ident = whole.ident, len = whole.payload_len, "reassembled");
                self.dispatch(now, &whole, datagram, None, false);
            }
            Reassembled::Dropped(FragmentDrop::Invalid) => count_drop!(self.stats, reasm_invalid),
            Reassembled::Dropped(FragmentDrop::Overlap) => count_drop!(self.stats, reasm_overlap, ident = ip.ident),
            Reassembled::Dropped(FragmentDrop::Duplicate) => count_drop!(self.stats, reasm_duplicate),
            Reassembled::Dropped(FragmentDrop::Poisoned) => count_drop!(self.stats, reasm_poisoned),
            Reassembled::Dropped(FragmentDrop::MemoryCap) => count_drop!(self.stats, reasm_memory_cap),
        }
        self.stats.reasm_evicted = self.reassembler.evictions;
        Some(packet)
    }

    /// `payload` is the IP payload, with the IP header still in its headroom. `from_wire`:
    /// it came in one frame (not reassembled), its Ethernet header in front of the IP one.
    fn dispatch(
        &mut self,
        now: u64,
        ip: &Ipv4Repr,
        payload: PacketBuf,
        sum_hint: Option<u16>,
        from_wire: bool,
    ) -> Option<PacketBuf> {
        match ip.protocol {
            protocol::ICMP => self.process_icmp(now, ip, payload, sum_hint),
            protocol::UDP => self.process_udp(now, ip, payload, sum_hint),
            protocol::TCP => {
                if ip.dst != self.cfg.ip {
                    count_drop!(self.stats, ipv4_not_for_us, dst = %ip.dst, "tcp to a broadcast");
                    return Some(payload);
                }
                self.stats.tcp_segments_rx += 1;
                let (src, dst) = (ip.src, ip.dst);
                // With the device's sum, the checksum costs a few additions instead of a
                // pass over the bytes. A sum that does not verify is not trusted to reject
                // the segment: the engine checks it again (and counts it if it is bad).
                let verified = sum_hint.is_some_and(|sum| {
                    let len = payload.len() as u16; // an IP payload, under 2^16 bytes
                    checksum::add(checksum::pseudo_header(src, dst, protocol::TCP, len), sum) == 0xffff
                });
                if verified {
                    self.stats.tcp_rx_checksum_assisted += 1;
                }
                // Without the device's sum, the segments that follow may join this one's run.
                if from_wire && sum_hint.is_none() && self.cfg.rx_coalescing {
                    self.rx_run = Run::start(&payload);
                }
                // To the engine at the end of the receive batch, with the batch's others.
                self.tcp_rx.push(TcpArrival { src, dst, buf: payload, verified, run: 0 });
                None
            }
            other => {
                count_drop!(self.stats, ipv4_unknown_protocol, protocol = other);
                let mut payload = payload;
                self.send_unreachable(now, ip, &mut payload, unreachable::PROTOCOL);
                Some(payload)
            }
        }
    }

    fn process_icmp(
        &mut self,
        now: u64,
        ip: &Ipv4Repr,
        mut msg: PacketBuf,
        sum_hint: Option<u16>,
    ) -> Option<PacketBuf> {
        self.stats.icmp_rx += 1;
        let icmp = match IcmpRepr::parse(msg.data(), sum_hint) {
            Ok(icmp) => icmp,
            Err(WireError::Truncated) => {
                count_drop!(self.stats, icmp_truncated);
                return Some(msg);
            }
            Err(_) => {
                count_drop!(self.stats, icmp_bad_checksum);
                return Some(msg);
            }
        };
        match icmp {
            IcmpRepr::EchoRequest { ident, seq } => {
                self.stats.icmp_echo_requests_rx += 1;
                if ip.dst != self.cfg.ip {
                    count_drop!(self.stats, icmp_echo_broadcast_ignored, src = %ip.src);
                    return Some(msg);
                }
                // The reply is built in the request's own buffer: the payload stays put,
                // only the headers in front of it are rewritten.
                IcmpRepr::EchoReply { ident, seq }.emit(msg.data_mut());
                self.stats.icmp_echo_replies_tx += 1;
                self.send_ipv4(now, ip.src, protocol::ICMP, msg);
                return None;
            }
            IcmpRepr::EchoReply { ident, seq } => {
                self.stats.icmp_echo_replies_rx += 1;
                if self.echo_replies.len() >= self.cfg.echo_reply_queue {
                    self.echo_replies.pop_front();
                }
                let payload_len = msg.len() - IcmpRepr::HEADER_LEN;
                self.echo_replies.push_back(EchoReply { from: ip.src, ident, seq, payload_len });
            }
            IcmpRepr::DstUnreachable { code, next_hop_mtu } => {
                self.stats.icmp_unreachable_rx += 1;
                if code == unreachable::FRAG_NEEDED {
                    self.on_frag_needed(&msg.data()[IcmpRepr::HEADER_LEN..], next_hop_mtu);
                }
            }
            IcmpRepr::Other { kind, code } => {
                self.stats.icmp_other_rx += 1;
                tracing::trace!(kind, code, "icmp ignored");
            }
        }
        Some(msg)
    }

    /// "Fragmentation needed" quotes the header of a packet we sent; a quote that is not
    /// ours (or an MTU below the IPv4 minimum of 68) is a forgery or garbage.
    fn on_frag_needed(&mut self, quote: &[u8], mtu: u16) {
        if quote.len() < Ipv4Repr::MIN_LEN || quote[0] >> 4 != 4 || ipv4_at(quote, 12) != self.cfg.ip || mtu < 68 {
            return count_drop!(self.stats, icmp_frag_needed_bogus, mtu);
        }
        self.stats.icmp_frag_needed_rx += 1;
        let (remote, quoted_protocol) = (ipv4_at(quote, 16), quote[9]);
        tracing::debug!(%remote, mtu, "path mtu lowered");
        if quoted_protocol == protocol::TCP {
            self.tcp.set_path_mtu(remote, mtu);
        }
    }

    fn process_udp(
        &mut self,
        now: u64,
        ip: &Ipv4Repr,
        mut dgram: PacketBuf,
        sum_hint: Option<u16>,
    ) -> Option<PacketBuf> {
        self.stats.udp_rx += 1;
        let udp = match UdpRepr::parse(dgram.data(), ip.src, ip.dst, sum_hint) {
            Ok(udp) => udp,
            Err(e) => {
                match e {
                    WireError::BadChecksum => count_drop!(self.stats, udp_bad_checksum),
                    WireError::BadLength => count_drop!(self.stats, udp_bad_length),
                    _ => count_drop!(self.stats, udp_truncated),
                }
                return Some(dgram);
            }
        };
        dgram.pull(UdpRepr::HEADER_LEN).expect("parse checked the length");
        dgram.truncate(udp.payload_len);
        let src = SocketAddrV4::new(ip.src, udp.src_port);
        match self.udp.deliver(src, udp.dst_port, dgram) {
            Ok(_) => None,
            Err((Undelivered::QueueFull, dgram)) => {
                count_drop!(self.stats, udp_queue_full, port = udp.dst_port);
                Some(dgram)
            }
            Err((Undelivered::NoSocket, mut dgram)) => {
                count_drop!(self.stats, udp_no_socket, port = udp.dst_port);
                dgram.push(UdpRepr::HEADER_LEN).expect("pulled above");
                self.send_unreachable(now, ip, &mut dgram, unreachable::PORT);
                Some(dgram)
            }
        }
    }

    // ---- transmit path ------------------------------------------------------------

    /// Sends a destination-unreachable about `offending` (the IP payload, its header
    /// still in the headroom), within the RFC 1122 3.2.2 rules and the rate limit.
    fn send_unreachable(&mut self, now: u64, ip: &Ipv4Repr, offending: &mut PacketBuf, code: u8) {
        if ip.dst != self.cfg.ip || ip.frag_offset != 0 {
            return count_drop!(self.stats, icmp_error_suppressed, code);
        }
        if !self.icmp_errors.try_take(now) {
            return count_drop!(self.stats, icmp_rate_limited, code);
        }
        // Quote the original header and the first 8 bytes of its payload (RFC 792).
        let quoted_payload = offending.len().min(8);
        let Some(header) = offending.push(ip.header_len) else {
            return count_drop!(self.stats, icmp_error_suppressed, "no header to quote");
        };
        let _ = header;
        let quote_len = ip.header_len + quoted_payload;
        let mut msg = outgoing(IcmpRepr::HEADER_LEN, &offending.data()[..quote_len]);
        offending.pull(ip.header_len).expect("pushed above");
        IcmpRepr::DstUnreachable { code, next_hop_mtu: 0 }.emit(msg.data_mut());
        self.stats.icmp_unreachable_tx += 1;
        self.send_ipv4(now, ip.src, protocol::ICMP, msg);
    }

    /// Puts an IPv4 header in front of `payload` and sends it toward `dst`. TCP goes
    /// with DF set (the engine does path MTU discovery); anything else larger than the
    /// MTU is fragmented.
    fn send_ipv4(&mut self, now: u64, dst: Ipv4Addr, proto: u8, mut payload: PacketBuf) {
        let Some(next_hop) = self.cfg.next_hop(dst) else {
            return count_drop!(self.stats, ipv4_no_route, %dst);
        };
        let ip = self.ipv4_header(dst, proto, payload.len());
        let fits = Ipv4Repr::MIN_LEN + payload.len() <= self.caps.mtu;
        if !fits && (ip.dont_fragment || payload.len() > usize::from(u16::MAX) - Ipv4Repr::MIN_LEN) {
            return count_drop!(self.stats, ipv4_tx_too_big, len = payload.len());
        }
        if fits {
            let Some(header) = payload.push(Ipv4Repr::MIN_LEN) else {
                return count_drop!(self.stats, ipv4_tx_too_big, "no headroom");
            };
            ip.emit(header);
            self.stats.ipv4_tx += 1;
            return self.send_to_next_hop(now, next_hop, payload);
        }
        // Every fragment but the last carries a multiple of 8 bytes (offsets count in 8s).
        let chunk = (self.caps.mtu - Ipv4Repr::MIN_LEN) / 8 * 8;
        let total = payload.len();
        for offset in (0..total).step_by(chunk) {
            let piece = &payload.data()[offset..total.min(offset + chunk)];
            let mut fragment = PacketBuf::from_payload(piece, TX_HEADROOM);
            let frag_ip = Ipv4Repr {
                more_fragments: offset + chunk < total,
                frag_offset: offset as u16,
                payload_len: piece.len(),
                ..ip
            };
            frag_ip.emit(fragment.push(Ipv4Repr::MIN_LEN).expect("TX_HEADROOM"));
            self.stats.ipv4_fragments_tx += 1;
            self.stats.ipv4_tx += 1;
            self.send_to_next_hop(now, next_hop, fragment);
        }
    }

    /// The header of the next datagram we send (a new ident).
    fn ipv4_header(&mut self, dst: Ipv4Addr, proto: u8, payload_len: usize) -> Ipv4Repr {
        self.cfg.ipv4_header(next_ident(&mut self.next_ident), dst, proto, payload_len)
    }

    fn send_to_next_hop(&mut self, now: u64, next_hop: Ipv4Addr, packet: PacketBuf) {
        if let Some(mac) = known_mac(&self.cfg, &self.arp, now, next_hop) {
            return self.push_ethernet(packet, mac, EtherType::Ipv4);
        }
        match self.arp.enqueue(now, next_hop, packet) {
            Enqueued::SendRequest => self.send_arp(ArpOp::Request, MacAddr::BROADCAST, MacAddr::default(), next_hop),
            Enqueued::Waiting => {}
            Enqueued::Full(_) => count_drop!(self.stats, arp_pending_full, %next_hop),
        }
    }

    fn push_ethernet(&mut self, mut packet: PacketBuf, dst: MacAddr, ethertype: EtherType) {
        let Some(header) = packet.push(EthernetRepr::LEN) else {
            return count_drop!(self.stats, ipv4_tx_too_big, "no headroom for ethernet");
        };
        EthernetRepr { dst, src: self.cfg.mac, ethertype }.emit(header);
        self.tx.push(packet);
    }

    /// An ARP packet from us asking for (or answering) `target_ip`. A request with our own
    /// address as the target is the gratuitous ARP sent at start.
    fn send_arp(&mut self, op: ArpOp, eth_dst: MacAddr, target_mac: MacAddr, target_ip: Ipv4Addr) {
        let arp = ArpRepr { op, sender_mac: self.cfg.mac, sender_ip: self.cfg.ip, target_mac, target_ip };
        let mut packet = outgoing(ArpRepr::LEN, &[]);
        arp.emit(packet.data_mut());
        match op {
            ArpOp::Request => self.stats.arp_requests_tx += 1,
            ArpOp::Reply => self.stats.arp_replies_tx += 1,
        }
        self.push_ethernet(packet, eth_dst, EtherType::Arp);
    }

    /// The limited broadcast or our subnet's directed broadcast.
    pub fn is_broadcast(&self, ip: Ipv4Addr) -> bool {
        self.cfg.is_broadcast(ip)
    }

    // ---- what the socket layer calls ------------------------------------------------

    /// Runs `f` on the TCP engine with an output that frames every segment it emits as it
    /// is sent: the engine builds each segment straight into a transmit buffer the output
    /// lends it, or hands over a send-buffer frame with the header to put in front (see
    /// `SegmentSink::send_frame`), and IPv4 and Ethernet are pushed in front of it there,
    /// in the `TX_HEADROOM`. Segments that need more (an ARP resolution, a foreign source
    /// address) are routed the ordinary way once `f` returns.
    pub fn with_tcp<R>(&mut self, now: u64, f: impl FnOnce(&mut TcpEngine, &mut Output) -> R) -> R {
        let new_capacity = if self.caps.pools_tx_buffers { TX_HEADROOM + self.caps.mtu } else { 0 };
        let mut out = TcpTx {
            now,
            cfg: &self.cfg,
            mtu: self.caps.mtu,
            arp: &self.arp,
            stats: &mut self.stats,
            next_ident: &mut self.next_ident,
            tx: &mut self.tx,
            unrouted: &mut self.tcp_out,
            pool: &mut self.tx_pool,
            new_capacity,
            lower: None,
            lent: None,
        };
        let result = f(&mut self.tcp, &mut out);
        // Routing needs `&mut self`, so the queue is moved out while it is emptied and put
        // back afterwards, keeping its allocation for the next call.
        let mut segments = std::mem::take(&mut self.tcp_out);
        for TcpSegment { dst, buf } in segments.drain(..) {
            self.send_ipv4(now, dst, protocol::TCP, buf);
        }
        self.tcp_out = segments;
        result
    }

    pub fn tcp(&self) -> &TcpEngine {
        &self.tcp
    }

    /// The engine for calls that emit nothing (listen, accept, recv, readiness).
    pub fn tcp_mut(&mut self) -> &mut TcpEngine {
        &mut self.tcp
    }

    pub fn udp_bind(&mut self, port: u16) -> Result<UdpHandle, UdpError> {
        self.udp.bind(port)
    }

    pub fn udp_connect(&mut self, h: UdpHandle, remote: SocketAddrV4) -> Result<(), UdpError> {
        self.udp.connect(h, remote)
    }

    pub fn udp_local_port(&self, h: UdpHandle) -> Result<u16, UdpError> {
        self.udp.local_port(h)
    }

    /// Sends one datagram (fragmented if larger than the MTU). The frame goes out at the
    /// next `poll`, or once ARP resolves.
    pub fn udp_send_to(&mut self, now: u64, h: UdpHandle, dst: SocketAddrV4, data: &[u8]) -> Result<usize, UdpError> {
        let src_port = self.udp.local_port(h)?;
        if data.len() > usize::from(u16::MAX) - Ipv4Repr::MIN_LEN - UdpRepr::HEADER_LEN {
            return Err(UdpError::TooBig);
        }
        if self.cfg.next_hop(*dst.ip()).is_none() {
            return Err(UdpError::Dropped);
        }
        let mut dgram = outgoing(UdpRepr::HEADER_LEN, data);
        let udp = UdpRepr { src_port, dst_port: dst.port(), payload_len: data.len() };
        udp.emit(dgram.data_mut(), self.cfg.ip, *dst.ip());
        self.stats.udp_tx += 1;
        self.send_ipv4(now, *dst.ip(), protocol::UDP, dgram);
        Ok(data.len())
    }

    /// Sends to the connected remote.
    pub fn udp_send(&mut self, now: u64, h: UdpHandle, data: &[u8]) -> Result<usize, UdpError> {
        let remote = self.udp.remote(h)?.ok_or(UdpError::NotConnected)?;
        self.udp_send_to(now, h, remote, data)
    }

    pub fn udp_recv_from(&mut self, h: UdpHandle, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), UdpError> {
        self.udp.recv_from(h, buf)
    }

    pub fn udp_readable(&self, h: UdpHandle) -> bool {
        self.udp.readable(h)
    }

    pub fn udp_close(&mut self, h: UdpHandle) -> Result<(), UdpError> {
        self.udp.close(h)
    }

    pub fn udp_drain_events(&mut self, f: impl FnMut(UdpHandle)) {
        self.udp.drain_events(f)
    }

    /// Sends an ICMP echo request; replies show up in `take_echo_reply`.
    pub fn ping(&mut self, now: u64, dst: Ipv4Addr, ident: u16, seq: u16, payload: &[u8]) {
        let mut msg = outgoing(IcmpRepr::HEADER_LEN, payload);
        IcmpRepr::EchoRequest { ident, seq }.emit(msg.data_mut());
        self.send_ipv4(now, dst, protocol::ICMP, msg);
    }

    pub fn take_echo_reply(&mut self) -> Option<EchoReply> {
        self.echo_replies.pop_front()
    }
}

/// Transmit buffers the interface keeps from the device: enough for the segments one
/// receive batch sets off (each ACK of a bulk transfer opens the window by tens of them).
const TX_POOL: usize = 128;

/// A received TCP segment (its IP header pulled) waiting for the engine.
struct TcpArrival {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    buf: PacketBuf,
    /// The device's checksum assist verified it.
    verified: bool,
    /// How many segments followed it in its run (`gro`): the next ones of `tcp_rx_runs`,
    /// windows at their TCP headers.
    run: usize,
}

/// A TCP segment that needs more than its two headers (see `with_tcp`).
struct TcpSegment {
    dst: Ipv4Addr,
    buf: PacketBuf,
}

/// The Ethernet and IPv4 headers of TCP segments to one destination, written and summed
/// once: each segment's differ only in the IP total length, ident and checksum.
struct LowerHeaders {
    dst: Ipv4Addr,
    bytes: [u8; LowerHeaders::LEN],
    /// The sum of the IPv4 header without its total length, ident and checksum.
    sum: u16,
}

impl LowerHeaders {
    const LEN: usize = EthernetRepr::LEN + Ipv4Repr::MIN_LEN;

    fn new(cfg: &InterfaceConfig, mac: MacAddr, dst: Ipv4Addr) -> Self {
        let mut bytes = [0; Self::LEN];
        let (eth, ip) = bytes.split_at_mut(EthernetRepr::LEN);
        EthernetRepr { dst: mac, src: cfg.mac, ethertype: EtherType::Ipv4 }.emit(eth);
        cfg.ipv4_header(0, dst, protocol::TCP, 0).emit(ip);
        ip[2..4].fill(0); // total length
        ip[10..12].fill(0); // checksum
        LowerHeaders { dst, sum: checksum::sum(ip), bytes }
    }

    /// The headers of a datagram with `ident` and `ip_payload` bytes of payload.
    #[inline]
    fn write(&self, out: &mut [u8], ident: u16, ip_payload: usize) {
        out.copy_from_slice(&self.bytes);
        let total = (Ipv4Repr::MIN_LEN + ip_payload) as u16; // under the MTU
        let ip = &mut out[EthernetRepr::LEN..];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&ident.to_be_bytes());
        let sum = checksum::add(checksum::add(self.sum, total), ident);
        ip[10..12].copy_from_slice(&(!sum).to_be_bytes());
    }
}

/// The TCP engine's output inside `with_tcp`: lends room in transmit buffers (the
/// device's if it lent some, else new ones), takes send-buffer frames, and puts the IPv4
/// and Ethernet headers in front of each segment as it comes.
struct TcpTx<'a> {
    now: u64,
    cfg: &'a InterfaceConfig,
    mtu: usize,
    arp: &'a ArpCache,
    stats: &'a mut Stats,
    next_ident: &'a mut u16,
    /// Frames ready for the device.
    tx: &'a mut Vec<PacketBuf>,
    /// Segments for `send_ipv4`, once the engine returns.
    unrouted: &'a mut Vec<TcpSegment>,
    pool: &'a mut Vec<PacketBuf>,
    /// The least capacity of a buffer allocated when the pool has none that fits: a whole
    /// frame's if the device keeps sent buffers for lending (`DeviceCaps::pools_tx_buffers`).
    new_capacity: usize,
    /// The lower headers towards the last destination (a batch usually goes to one peer).
    lower: Option<LowerHeaders>,
    /// The buffer `lend` lent, until `send_lent`.
    lent: Option<PacketBuf>,
}

impl TcpTx<'_> {
    /// An empty buffer of at least `capacity` bytes with `TX_HEADROOM` in front: the last
    /// one the device lent (the one it most recently had back, warm in the cache), or a
    /// new one. A lent buffer too small, or still held elsewhere, is dropped, not kept.
    fn buffer(&mut self, capacity: usize) -> PacketBuf {
        let mut buf = match self.pool.pop().filter(|buf| buf.capacity() >= capacity && !buf.is_shared()) {
            Some(buf) => buf,
            None => PacketBuf::with_headroom(capacity.max(self.new_capacity), TX_HEADROOM),
        };
        // The next one is likely filled next, as far as this one (a run of full frames,
        // or of control segments): its lines start coming while this one is filled.
        if let Some(next) = self.pool.last() {
            next.prefetch_storage(capacity);
        }
        buf.reset(TX_HEADROOM);
        buf
    }

    /// The Ethernet and IPv4 headers towards `dst`, if the next hop's MAC is known.
    #[inline]
    fn lower_headers(&mut self, dst: Ipv4Addr) -> Option<&LowerHeaders> {
        if self.lower.as_ref().is_none_or(|lower| lower.dst != dst) {
            let mac = known_mac(self.cfg, self.arp, self.now, self.cfg.next_hop(dst)?)?;
            self.lower = Some(LowerHeaders::new(self.cfg, mac, dst));
        }
        self.lower.as_ref()
    }

    /// Pushes Ethernet and IPv4, and `tcp` when the segment in `buf` is only its payload,
    /// in front of `buf`'s data, in one write. False, with `buf` untouched, when the segment
    /// needs more: it is larger than the MTU, or the next hop's MAC is unknown.
    #[inline]
    fn frame_in_place(&mut self, dst: Ipv4Addr, buf: &mut PacketBuf, tcp: Option<&RunHeader>) -> bool {
        let tcp_len = tcp.map_or(0, |tcp| tcp.header_len());
        let headers = LowerHeaders::LEN + tcp_len;
        let ip_payload = tcp_len + buf.len();
        if buf.headroom() < headers || Ipv4Repr::MIN_LEN + ip_payload > self.mtu {
            return false;
        }
        let ident = self.next_ident.wrapping_add(1);
        let payload_len = buf.len();
        let Some(lower) = self.lower_headers(dst) else { return false };
        let room = buf.push(headers).expect("room checked");
        let (lower_room, tcp_room) = room.split_at_mut(LowerHeaders::LEN);
        lower.write(lower_room, ident, ip_payload);
        if let Some(tcp) = tcp {
            tcp.write(tcp_room, payload_len);
        }
        *self.next_ident = ident;
        self.stats.ipv4_tx += 1;
        true
    }

    /// Whether a segment from `src` may leave (counted either way).
    fn may_leave(&mut self, src: Ipv4Addr) -> bool {
        if src != self.cfg.ip {
            count_drop!(self.stats, ipv4_no_route, %src, "tcp segment from a foreign address");
            return false;
        }
        self.stats.tcp_segments_tx += 1;
        true
    }
}

impl SegmentSink for TcpTx<'_> {
    fn lend(&mut self, len: usize) -> Option<&mut [u8]> {
        let buf = self.buffer(TX_HEADROOM + len);
        self.lent.insert(buf).append_for_write(len)
    }

    fn send_lent(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let Some(mut buf) = self.lent.take() else { return };
        if !self.may_leave(src) {
            return;
        }
        if self.frame_in_place(dst, &mut buf, None) {
            self.tx.push(buf);
        } else {
            self.unrouted.push(TcpSegment { dst, buf });
        }
    }

    /// Built in a lent buffer too: allocating one per control segment (SYN, ACK, FIN) is
    /// what limits the connection rate.
    fn send(&mut self, src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) {
        let bytes = self.lend(segment.len()).expect("lend always gives a buffer");
        bytes.copy_from_slice(segment);
        self.send_lent(src, dst);
    }

    /// The headers go in front of the frame's payload and the buffer goes to the device;
    /// the send buffer keeps a reference to its bytes. A segment that needs more than two
    /// headers in front (ARP, a foreign source) goes back to be copied the ordinary way.
    fn send_frame(&mut self, header: &RunHeader, mut frame: PacketBuf) -> Result<SharedBytes, PacketBuf> {
        let (src, dst) = (header.template.src, header.template.dst);
        if src != self.cfg.ip || frame.is_external() || !self.frame_in_place(dst, &mut frame, Some(header)) {
            return Err(frame);
        }
        self.stats.tcp_segments_tx += 1;
        let bytes = frame.share_bytes().expect("not external: checked above");
        self.tx.push(frame);
        Ok(bytes)
    }

    fn new_frame(&mut self, payload: usize) -> PacketBuf {
        self.buffer(TX_HEADROOM + payload)
    }
}

/// A transmit buffer holding `header_len` zero bytes (the header the caller emits next)
/// and then `body`, with `TX_HEADROOM` in front for the layers below.
fn outgoing(header_len: usize, body: &[u8]) -> PacketBuf {
    let mut buf = PacketBuf::with_headroom(TX_HEADROOM + header_len + body.len(), TX_HEADROOM);
    buf.append_zeroed(header_len).expect("sized for the header");
    buf.append(body).expect("sized for the body");
    buf
}

/// The transport-layer sum from the device's sum over everything after the Ethernet
/// header: take out the IP header and any Ethernet padding after the datagram.
fn transport_sum(l3_sum: u16, packet: &[u8], ip: &Ipv4Repr) -> u16 {
    let end = ip.header_len + ip.payload_len;
    let header = checksum::sum(&packet[..ip.header_len]);
    let padding = checksum::sum_at_offset(&packet[end..], end);
    checksum::sub(checksum::sub(l3_sum, header), padding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::RxMeta;

    /// A device fed by hand that counts what comes back.
    #[derive(Default)]
    struct TestDevice {
        rx: VecDeque<PacketBuf>,
        tx: Vec<PacketBuf>,
        recycled: usize,
        /// Transmit buffers to lend.
        lendable: Vec<PacketBuf>,
    }

    impl Device for TestDevice {
        fn caps(&self) -> DeviceCaps {
            DeviceCaps::default()
        }
        fn receive(&mut self, batch: &mut Vec<PacketBuf>, max: usize) -> usize {
            let n = self.rx.len().min(max);
            batch.extend(self.rx.drain(..n));
            n
        }
        fn transmit(&mut self, batch: &mut Vec<PacketBuf>) {
            self.tx.append(batch);
        }
        fn recycle(&mut self, _buf: PacketBuf) {
            self.recycled += 1;
        }
        fn tx_buffers(&mut self, pool: &mut Vec<PacketBuf>, max: usize) -> usize {
            let n = max.min(self.lendable.len());
            pool.extend(self.lendable.drain(..n));
            n
        }
    }

    const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 9);

    fn iface() -> Interface {
        Interface::new(InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), US, 24), DeviceCaps::default(), 7)
    }

    fn udp_frame(dst_port: u16) -> PacketBuf {
        let mut frame = vec![0u8; 14 + 20 + 8 + 3];
        frame[42..].copy_from_slice(b"abc");
        UdpRepr { src_port: 1, dst_port, payload_len: 3 }.emit(&mut frame[34..], PEER, US);
        let ip = Ipv4Repr {
            src: PEER,
            dst: US,
            protocol: protocol::UDP,
            ttl: 64,
            tos: 0,
            ident: 1,
            dont_fragment: false,
            more_fragments: false,
            frag_offset: 0,
            header_len: 20,
            payload_len: 11,
        };
        ip.emit(&mut frame[14..]);
        let eth = EthernetRepr {
            dst: MacAddr([2, 0, 0, 0, 0, 1]),
            src: MacAddr([2, 0, 0, 0, 0, 9]),
            ethertype: EtherType::Ipv4,
        };
        eth.emit(&mut frame);
        PacketBuf::from_frame(frame)
    }

    #[test]
    fn buffers_go_back_to_the_device_unless_a_socket_keeps_them() {
        let mut i = iface();
        let mut dev = TestDevice::default();
        i.udp_bind(7).unwrap();
        dev.rx.push_back(udp_frame(7)); // kept in the socket's queue
        dev.rx.push_back(PacketBuf::from_frame(vec![0; 10])); // runt: dropped
        dev.rx.push_back(udp_frame(7)); // kept
        i.poll(0, &mut dev);
        assert_eq!(dev.recycled, 1);
        assert_eq!(i.stats().eth_truncated, 1);
    }

    /// An ARP request from the peer: the interface learns the peer's MAC from it.
    fn arp_request_from_peer() -> PacketBuf {
        let mut frame = vec![0u8; EthernetRepr::LEN + ArpRepr::LEN];
        let peer_mac = MacAddr([2, 0, 0, 0, 0, 9]);
        let arp = ArpRepr {
            op: ArpOp::Request,
            sender_mac: peer_mac,
            sender_ip: PEER,
            target_mac: MacAddr::default(),
            target_ip: US,
        };
        arp.emit(&mut frame[EthernetRepr::LEN..]);
        EthernetRepr { dst: MacAddr::BROADCAST, src: peer_mac, ethertype: EtherType::Arp }.emit(&mut frame);
        PacketBuf::from_frame(frame)
    }

    #[test]
    fn tcp_segments_are_built_in_the_devices_buffers_byte_for_byte_as_in_new_ones() {
        let run = |lendable: Vec<PacketBuf>| {
            let mut i = iface();
            let mut dev = TestDevice { lendable, ..TestDevice::default() };
            dev.rx.push_back(arp_request_from_peer());
            i.poll(0, &mut dev);
            i.with_tcp(0, |tcp, out| tcp.connect(0, US, (PEER, 80), out)).unwrap();
            i.poll(1, &mut dev);
            dev.tx
        };
        let new = run(Vec::new());
        // Buffers full of junk, larger than a frame: every byte of the frame must be written.
        let lent = run((0..4).map(|_| PacketBuf::from_frame(vec![0xa5; 2048])).collect());
        assert_eq!(new.len(), 3, "gratuitous ARP, ARP reply, SYN");
        let data = |frames: &[PacketBuf]| frames.iter().map(|f| f.data().to_vec()).collect::<Vec<_>>();
        assert_eq!(data(&lent), data(&new));
        assert_eq!(lent[2].capacity(), 2048, "the SYN went out in a lent buffer");
        assert_ne!(new[2].capacity(), 2048);
        // A lent buffer too small for the segment is not used.
        let small = run(vec![PacketBuf::from_frame(vec![0xa5; 64])]);
        assert_eq!(data(&small), data(&new));
    }

    #[test]
    fn the_lower_headers_template_writes_what_the_reprs_emit() {
        let cfg = InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), US, 24);
        let peer_mac = MacAddr([2, 0, 0, 0, 0, 9]);
        let lower = LowerHeaders::new(&cfg, peer_mac, PEER);
        for (ident, len) in [(0u16, 0usize), (1, 1480), (0xffff, 32), (0x8000, 1)] {
            let mut from_template = [0u8; LowerHeaders::LEN];
            lower.write(&mut from_template, ident, len);
            let mut emitted = [0u8; LowerHeaders::LEN];
            EthernetRepr { dst: peer_mac, src: cfg.mac, ethertype: EtherType::Ipv4 }.emit(&mut emitted[..14]);
            cfg.ipv4_header(ident, PEER, protocol::TCP, len).emit(&mut emitted[14..]);
            assert_eq!(from_template, emitted, "ident {ident} len {len}");
            assert!(Ipv4Repr::parse(&[&emitted[14..], &vec![0; len][..]].concat()).is_ok());
        }
    }

    #[test]
    fn a_device_that_pools_its_buffers_gets_whole_ones_even_for_a_syn() {
        let syn_capacity = |pools_tx_buffers: bool| {
            let caps = DeviceCaps { pools_tx_buffers, ..DeviceCaps::default() };
            let mut i = Interface::new(InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), US, 24), caps, 7);
            let mut dev = TestDevice::default();
            dev.rx.push_back(arp_request_from_peer());
            i.poll(0, &mut dev);
            i.with_tcp(0, |tcp, out| tcp.connect(0, US, (PEER, 80), out)).unwrap();
            i.poll(1, &mut dev);
            assert_eq!(dev.tx.len(), 3, "gratuitous ARP, ARP reply, SYN");
            dev.tx[2].capacity()
        };
        // Big enough for any segment the MTU allows, so the device can lend it again.
        assert_eq!(syn_capacity(true), TX_HEADROOM + 1500);
        // A device that copies frames out gets no more than the SYN needs.
        assert!(syn_capacity(false) < TX_HEADROOM + 100);
    }

    #[test]
    fn one_poll_takes_a_bounded_number_of_frames() {
        let mut i = iface();
        let mut dev = TestDevice::default();
        let per_poll = i.config().rx_batch * i.config().rx_batches_per_poll;
        for _ in 0..per_poll + 10 {
            dev.rx.push_back(PacketBuf::from_frame(vec![0; 10]));
        }
        i.poll(0, &mut dev);
        assert_eq!(i.stats().eth_rx_frames as usize, per_poll);
        assert_eq!(i.poll_at(), Some(0), "frames left behind: poll again at once");
        i.poll(0, &mut dev);
        assert_eq!(i.stats().eth_rx_frames as usize, per_poll + 10);
        assert_eq!(i.poll_at(), None);
    }

    #[test]
    fn the_first_poll_sends_the_gratuitous_arp_and_only_the_first() {
        let mut i = iface();
        let mut dev = TestDevice::default();
        assert_eq!(i.poll_at(), Some(0));
        i.poll(0, &mut dev);
        i.poll(1, &mut dev);
        assert_eq!(dev.tx.len(), 1);
        let arp = ArpRepr::parse(&dev.tx[0].data()[14..]).unwrap();
        assert_eq!((arp.sender_ip, arp.target_ip), (US, US));
        assert_eq!(i.poll_at(), None, "nothing pending");
    }

    #[test]
    fn the_device_sum_replaces_the_software_sum() {
        let cfg_caps = DeviceCaps { rx_l3_sum: true, ..DeviceCaps::default() };
        let mut i = Interface::new(InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), US, 24), cfg_caps, 7);
        let mut dev = TestDevice::default();
        let h = i.udp_bind(7).unwrap();
        let mut lying = udp_frame(7);
        lying.set_meta(RxMeta { l3_sum: Some(0x1234) }); // a device sum that disagrees with the bytes
        let mut honest = udp_frame(7);
        honest.set_meta(RxMeta { l3_sum: Some(checksum::sum(&honest.data()[14..])) });
        dev.rx.extend([lying, honest]);
        i.poll(0, &mut dev);
        assert_eq!(i.stats().udp_bad_checksum, 1, "the device's word was taken");
        assert!(i.udp_readable(h));
    }

    #[test]
    fn a_device_claiming_a_tiny_mtu_still_gets_valid_fragments() {
        let caps = DeviceCaps { mtu: 10, ..DeviceCaps::default() };
        let mut i = Interface::new(InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), US, 24), caps, 7);
        let mut dev = TestDevice::default();
        i.poll(0, &mut dev); // gratuitous ARP
        let h = i.udp_bind(0).unwrap();
        i.udp_send_to(0, h, SocketAddrV4::new(Ipv4Addr::BROADCAST, 9), &[7; 100]).unwrap();
        i.poll(1, &mut dev);
        let fragments: Vec<usize> = dev.tx[1..].iter().map(|f| f.len() - 14).collect();
        assert_eq!(fragments, vec![68, 68, 20 + 12], "108 bytes of UDP in 48-byte pieces");
    }

    #[test]
    fn only_on_link_destinations_or_a_gateway_are_routable() {
        let mut i = iface();
        let h = i.udp_bind(0).unwrap();
        let far = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 1), 9);
        assert_eq!(i.udp_send_to(0, h, far, b"x"), Err(UdpError::Dropped));
        let mut cfg = InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), US, 24);
        cfg.gateway = Some(Ipv4Addr::new(198, 18, 0, 254));
        let mut routed = Interface::new(cfg, DeviceCaps::default(), 7);
        let h = routed.udp_bind(0).unwrap();
        assert_eq!(routed.udp_send_to(0, h, far, b"x"), Ok(1));
        assert_eq!(routed.arp_cache().pending_count(), 1, "waiting for the gateway's MAC");
        assert!(routed.is_broadcast(Ipv4Addr::new(198, 18, 0, 255)));
        assert!(!routed.is_broadcast(Ipv4Addr::new(198, 18, 1, 255)));
    }
}
