//! What a host serves (HTTP from a directory, TCP and UDP echo) and how its counters are
//! printed: shared by `nic demo`, `nic tap` and `nic host`.
use crate::host::Host;
use crate::model::world::Registers;
use nic_apps::echo::{EchoConfig, EchoServer};
use nic_apps::http::server::{HttpConfig, HttpServer};
use std::net::SocketAddrV4;
use std::path::Path;
use std::sync::atomic::Ordering;

pub struct Services {
    pub http: Option<HttpServer>,
    pub echo: Option<EchoServer>,
}

impl Services {
    /// HTTP on port 80 from `docroot` and echo on `echo_port`, each when given.
    pub fn start(host: &Host, docroot: Option<&Path>, echo_port: Option<u16>) -> Result<Services, String> {
        let ip = host.config.ip;
        let http = match docroot {
            Some(dir) => {
                if !dir.is_dir() {
                    return Err(format!("--http {}: not a directory", dir.display()));
                }
                let cfg = HttpConfig { workers: 4, queue: 16, ..HttpConfig::new(dir) };
                Some(
                    HttpServer::start(&host.net(), SocketAddrV4::new(ip, 80), cfg)
                        .map_err(|e| format!("HTTP server on port 80: {e}"))?,
                )
            }
            None => None,
        };
        let echo = match echo_port {
            Some(p) => Some(
                EchoServer::start(&host.net(), SocketAddrV4::new(ip, p), EchoConfig::default())
                    .map_err(|e| format!("echo on port {p}: {e}"))?,
            ),
            None => None,
        };
        Ok(Services { http, echo })
    }

    /// One line per service with its counters.
    pub fn report(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(h) = &self.http {
            let s = h.stats().snapshot();
            let codes: Vec<String> = s.by_status.iter().map(|(c, n)| format!("{c}×{n}")).collect();
            out.push(format!(
                "HTTP     connections {}  requests {} ({})  bytes sent {}",
                s.connections,
                s.requests,
                codes.join(" "),
                s.bytes_sent
            ));
        }
        if let Some(e) = &self.echo {
            let s = e.stats();
            out.push(format!(
                "echo     TCP connections {}  UDP datagrams {}",
                s.tcp_connections.load(Ordering::Relaxed),
                s.udp_datagrams.load(Ordering::Relaxed)
            ));
        }
        out
    }

    /// HTTP responses sent, `(status, count)`, for each status sent at least once.
    pub fn http_by_status(&self) -> Vec<(u16, u64)> {
        self.http.as_ref().map(|h| h.stats().snapshot().by_status).unwrap_or_default()
    }

    pub fn stop(self) {
        if let Some(h) = self.http {
            h.stop();
        }
        if let Some(e) = self.echo {
            e.stop();
        }
    }
}

/// The card's counters and status, as a driver reads them, in one line per group.
pub fn card_report(regs: &Registers) -> Vec<String> {
    let status = regs.read32(nic_regs::STATUS.offset);
    let bit = |f: nic_regs::Field| status >> f.lsb & 1;
    let c: std::collections::HashMap<&str, u64> = regs.counters().into_iter().collect();
    vec![
        format!(
            "PHY      link {}  clock recovery locked {}  PHY errors {}",
            bit(nic_regs::STATUS_LINK_UP),
            bit(nic_regs::STATUS_CDR_LOCK),
            c["RX_PHY_ERRORS"]
        ),
        format!(
            "MAC      FCS errors {}  runts {}  giants {}  filtered {}  FIFO overflows {}",
            c["RX_FCS_ERRORS"], c["RX_RUNTS"], c["RX_GIANTS"], c["RX_FILTERED"], c["RX_FIFO_OVERFLOW"]
        ),
        format!(
            "DMA      RX frames {} ({} bytes)  TX frames {} ({} bytes)  no RX buffer {}  bus errors {}",
            c["RX_FRAMES"], c["RX_BYTES"], c["TX_FRAMES"], c["TX_BYTES"], c["RX_NO_BUFFER"], c["DMA_ERRORS"]
        ),
    ]
}

/// The stack's per-layer counters, one line per layer.
pub fn stack_report(host: &Host) -> Vec<String> {
    let (s, t) = host.stack_stats();
    vec![
        format!("Ethernet frames in {}  out {}  not for us {}", s.eth_rx_frames, s.eth_tx_frames, s.eth_not_for_us),
        format!(
            "ARP      requests in {} out {}  replies in {} out {}",
            s.arp_requests_rx, s.arp_requests_tx, s.arp_replies_rx, s.arp_replies_tx
        ),
        format!("IPv4     packets in {}  out {}  bad checksum {}", s.ipv4_rx, s.ipv4_tx, s.ipv4_bad_checksum),
        format!("ICMP     echo requests in {}  replies out {}", s.icmp_echo_requests_rx, s.icmp_echo_replies_tx),
        format!("UDP      datagrams in {}  out {}", s.udp_rx, s.udp_tx),
        format!(
            "TCP      segments in {}  out {}  retransmissions {} (fast {})  checksum by the card {}",
            t.segments_in, t.segments_out, t.retransmissions, t.fast_retransmits, s.tcp_rx_checksum_assisted
        ),
    ]
}
