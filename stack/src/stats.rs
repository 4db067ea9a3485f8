//! Counters: one per thing that happened to a packet, and one per reason a packet was
//! dropped, so every drop can be told apart from the outside.

/// Increments a drop counter and records why at debug level.
macro_rules! count_drop {
    ($stats:expr, $field:ident $(, $($arg:tt)+)?) => {{
        $stats.$field += 1;
        tracing::debug!(drop = stringify!($field) $(, $($arg)+)?);
    }};
}
pub(crate) use count_drop;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    // Ethernet
    pub eth_rx_frames: u64,
    pub eth_tx_frames: u64,
    pub eth_truncated: u64,
    /// Unicast to another station, or multicast (we join no groups).
    pub eth_not_for_us: u64,
    pub eth_unknown_ethertype: u64,

    // ARP
    pub arp_requests_rx: u64,
    pub arp_replies_rx: u64,
    pub arp_requests_tx: u64,
    pub arp_replies_tx: u64,
    pub arp_malformed: u64,
    /// Another station claims our address.
    pub arp_addr_conflict: u64,
    pub arp_cache_evictions: u64,
    /// Packets dropped because the queue waiting for resolution was full.
    pub arp_pending_full: u64,
    /// Packets dropped because their next hop never answered.
    pub arp_pending_timeout: u64,

    // IPv4
    pub ipv4_rx: u64,
    pub ipv4_tx: u64,
    pub ipv4_truncated: u64,
    pub ipv4_bad_version: u64,
    pub ipv4_bad_length: u64,
    pub ipv4_bad_checksum: u64,
    pub ipv4_ttl_zero: u64,
    /// Source is broadcast, multicast or ours: never a real sender.
    pub ipv4_bad_source: u64,
    pub ipv4_not_for_us: u64,
    pub ipv4_unknown_protocol: u64,
    pub ipv4_no_route: u64,
    /// A TCP/ICMP packet larger than the MTU (only UDP is fragmented on send).
    pub ipv4_tx_too_big: u64,
    pub ipv4_fragments_tx: u64,

    // Reassembly
    pub reasm_fragments_rx: u64,
    pub reasm_ok: u64,
    pub reasm_invalid: u64,
    pub reasm_overlap: u64,
    pub reasm_duplicate: u64,
    /// Fragments of a datagram already dropped for an overlap.
    pub reasm_poisoned: u64,
    pub reasm_memory_cap: u64,
    /// Datagrams evicted to stay under the memory cap or the datagram limit.
    pub reasm_evicted: u64,
    pub reasm_timeout: u64,

    // ICMP
    pub icmp_rx: u64,
    pub icmp_truncated: u64,
    pub icmp_bad_checksum: u64,
    pub icmp_echo_requests_rx: u64,
    pub icmp_echo_replies_tx: u64,
    pub icmp_echo_replies_rx: u64,
    /// Echo requests to a broadcast address are not answered (smurf amplification).
    pub icmp_echo_broadcast_ignored: u64,
    pub icmp_unreachable_tx: u64,
    pub icmp_unreachable_rx: u64,
    pub icmp_rate_limited: u64,
    /// Errors we must not send (about ICMP errors, broadcasts, non-first fragments).
    pub icmp_error_suppressed: u64,
    pub icmp_frag_needed_rx: u64,
    /// Frag-needed quoting a packet we did not send, or an MTU below 68.
    pub icmp_frag_needed_bogus: u64,
    pub icmp_other_rx: u64,

    // UDP
    pub udp_rx: u64,
    pub udp_tx: u64,
    pub udp_truncated: u64,
    pub udp_bad_length: u64,
    pub udp_bad_checksum: u64,
    pub udp_no_socket: u64,
    pub udp_queue_full: u64,

    // TCP (the engine keeps its own counters; this is what the interface handed it)
    pub tcp_segments_rx: u64,
    /// Received TCP segments whose checksum the device's sum (`DeviceCaps::rx_l3_sum`)
    /// verified, so the engine did not sum them again.
    pub tcp_rx_checksum_assisted: u64,
    /// TCP segments that joined the run of the one before them (`gro`).
    pub tcp_rx_coalesced: u64,
    pub tcp_segments_tx: u64,
}
