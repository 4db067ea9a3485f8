//! UDP sockets: a table of bound ports with bounded receive queues.
//!
//! Demux is one hash lookup on the destination port (a socket binds a port on our one
//! address; `connect` adds a filter on the remote). Received payloads stay in the buffer
//! they arrived in (header pulled) until the application reads them.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddrV4;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::buf::PacketBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UdpHandle(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpError {
    AddrInUse,
    /// No ephemeral port left.
    NoPorts,
    BadHandle,
    /// Nothing queued (receive) or no destination (send on an unconnected socket).
    WouldBlock,
    NotConnected,
    /// Larger than a UDP datagram can be (65,507 bytes of payload over IPv4).
    TooBig,
    /// The packet could not be queued for transmission (e.g. ARP queue full, no route).
    Dropped,
}

#[derive(Clone, Debug)]
pub struct UdpConfig {
    pub rx_queue_datagrams: usize,
    pub rx_queue_bytes: usize,
    /// The ephemeral range (RFC 6335: 49152–65535).
    pub ephemeral: (u16, u16),
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig { rx_queue_datagrams: 64, rx_queue_bytes: 256 * 1024, ephemeral: (49152, 65535) }
    }
}

struct UdpSocket {
    port: u16,
    remote: Option<SocketAddrV4>,
    rx: VecDeque<(SocketAddrV4, PacketBuf)>,
    rx_bytes: usize,
}

/// Why a received datagram was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undelivered {
    /// No socket on the port (or the connected socket filters this sender).
    NoSocket,
    QueueFull,
}

pub struct UdpTable {
    cfg: UdpConfig,
    sockets: Vec<Option<UdpSocket>>,
    free: Vec<u32>,
    by_port: HashMap<u16, u32>,
    rng: ChaCha8Rng,
    /// Sockets that became readable since `drain_events`.
    events: Vec<UdpHandle>,
}

impl UdpTable {
    pub fn new(cfg: UdpConfig, rng: ChaCha8Rng) -> Self {
        UdpTable { cfg, sockets: Vec::new(), free: Vec::new(), by_port: HashMap::new(), rng, events: Vec::new() }
    }

    /// Binds `port` on our address; port 0 picks an ephemeral one.
    pub fn bind(&mut self, port: u16) -> Result<UdpHandle, UdpError> {
        let port = if port == 0 { self.pick_ephemeral()? } else { port };
        if self.by_port.contains_key(&port) {
            return Err(UdpError::AddrInUse);
        }
        let sock = UdpSocket { port, remote: None, rx: VecDeque::new(), rx_bytes: 0 };
        let index = match self.free.pop() {
            Some(i) => {
                self.sockets[i as usize] = Some(sock);
                i
            }
            None => {
                self.sockets.push(Some(sock));
                (self.sockets.len() - 1) as u32
            }
        };
        self.by_port.insert(port, index);
        Ok(UdpHandle(index))
    }

    /// RFC 6056 algorithm 1 (random start, then the next free port): unpredictable
    /// without per-port state.
    fn pick_ephemeral(&mut self) -> Result<u16, UdpError> {
        let (lo, hi) = self.cfg.ephemeral;
        let count = u32::from(hi - lo) + 1;
        let start = self.rng.gen_range(0..count);
        (0..count)
            .map(|i| lo + ((start + i) % count) as u16)
            .find(|p| !self.by_port.contains_key(p))
            .ok_or(UdpError::NoPorts)
    }

    fn get(&self, h: UdpHandle) -> Result<&UdpSocket, UdpError> {
        self.sockets.get(h.0 as usize).and_then(Option::as_ref).ok_or(UdpError::BadHandle)
    }

    fn get_mut(&mut self, h: UdpHandle) -> Result<&mut UdpSocket, UdpError> {
        self.sockets.get_mut(h.0 as usize).and_then(Option::as_mut).ok_or(UdpError::BadHandle)
    }

    pub fn local_port(&self, h: UdpHandle) -> Result<u16, UdpError> {
        Ok(self.get(h)?.port)
    }

    /// Sets the default destination and accepts datagrams only from it.
    pub fn connect(&mut self, h: UdpHandle, remote: SocketAddrV4) -> Result<(), UdpError> {
        self.get_mut(h)?.remote = Some(remote);
        Ok(())
    }

    pub fn remote(&self, h: UdpHandle) -> Result<Option<SocketAddrV4>, UdpError> {
        Ok(self.get(h)?.remote)
    }

    pub fn close(&mut self, h: UdpHandle) -> Result<(), UdpError> {
        let port = self.get(h)?.port;
        self.by_port.remove(&port);
        self.sockets[h.0 as usize] = None;
        self.free.push(h.0);
        Ok(())
    }

    /// Queues `payload` (a buffer pulled down to the UDP payload) for the socket on
    /// `dst_port`. A refused buffer is handed back (the caller may quote it in an ICMP error).
    pub fn deliver(
        &mut self,
        src: SocketAddrV4,
        dst_port: u16,
        payload: PacketBuf,
    ) -> Result<UdpHandle, (Undelivered, PacketBuf)> {
        let Some(&index) = self.by_port.get(&dst_port) else { return Err((Undelivered::NoSocket, payload)) };
        let cfg = &self.cfg;
        let sock = self.sockets[index as usize].as_mut().expect("by_port points at live sockets");
        if sock.remote.is_some_and(|r| r != src) {
            return Err((Undelivered::NoSocket, payload));
        }
        if sock.rx.len() >= cfg.rx_queue_datagrams || sock.rx_bytes + payload.len() > cfg.rx_queue_bytes {
            return Err((Undelivered::QueueFull, payload));
        }
        if sock.rx.is_empty() {
            self.events.push(UdpHandle(index));
        }
        sock.rx_bytes += payload.len();
        sock.rx.push_back((src, payload));
        Ok(UdpHandle(index))
    }

    /// Copies the oldest datagram into `buf` (truncating, as recvfrom does) and returns its
    /// full length and sender.
    pub fn recv_from(&mut self, h: UdpHandle, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), UdpError> {
        let sock = self.get_mut(h)?;
        let (src, payload) = sock.rx.pop_front().ok_or(UdpError::WouldBlock)?;
        sock.rx_bytes -= payload.len();
        let n = payload.len().min(buf.len());
        buf[..n].copy_from_slice(&payload.data()[..n]);
        Ok((payload.len(), src))
    }

    pub fn readable(&self, h: UdpHandle) -> bool {
        self.get(h).is_ok_and(|s| !s.rx.is_empty())
    }

    pub fn drain_events(&mut self, mut f: impl FnMut(UdpHandle)) {
        for h in self.events.drain(..) {
            f(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::net::Ipv4Addr;

    fn table() -> UdpTable {
        let cfg = UdpConfig { rx_queue_datagrams: 2, rx_queue_bytes: 10, ephemeral: (50000, 50002) };
        UdpTable::new(cfg, ChaCha8Rng::seed_from_u64(1))
    }

    fn peer(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 9), port)
    }

    #[test]
    fn bind_refuses_a_taken_port_and_ephemeral_ports_run_out() {
        let mut t = table();
        t.bind(7).unwrap();
        assert_eq!(t.bind(7), Err(UdpError::AddrInUse));
        let ports: Vec<u16> = (0..3)
            .map(|_| {
                let h = t.bind(0).unwrap();
                t.local_port(h).unwrap()
            })
            .collect();
        let mut sorted = ports.clone();
        sorted.sort();
        assert_eq!(sorted, vec![50000, 50001, 50002]);
        assert_eq!(t.bind(0), Err(UdpError::NoPorts));
    }

    #[test]
    fn queues_are_bounded_and_connected_sockets_filter_senders() {
        let mut t = table();
        let h = t.bind(7).unwrap();
        let deliver = |t: &mut UdpTable, from: u16, to: u16, n: usize| {
            t.deliver(peer(from), to, PacketBuf::from_frame(vec![1; n])).map_err(|(why, _)| why)
        };
        assert_eq!(deliver(&mut t, 1, 8, 1), Err(Undelivered::NoSocket));
        assert_eq!(deliver(&mut t, 1, 7, 6), Ok(h));
        assert_eq!(deliver(&mut t, 1, 7, 6), Err(Undelivered::QueueFull), "byte limit 10");
        assert_eq!(deliver(&mut t, 1, 7, 4), Ok(h));
        assert_eq!(deliver(&mut t, 1, 7, 0), Err(Undelivered::QueueFull), "datagram limit 2");
        let mut buf = [0u8; 3];
        assert_eq!(t.recv_from(h, &mut buf), Ok((6, peer(1))), "truncated copy, full length");
        t.connect(h, peer(2)).unwrap();
        assert_eq!(deliver(&mut t, 1, 7, 1), Err(Undelivered::NoSocket));
        assert_eq!(deliver(&mut t, 2, 7, 1), Ok(h));
        t.close(h).unwrap();
        assert_eq!(t.recv_from(h, &mut buf), Err(UdpError::BadHandle));
        assert_eq!(t.bind(7).map(|h| h.0), Ok(0), "port and slot are free again");
    }

    #[test]
    fn only_the_empty_to_readable_edge_is_an_event() {
        let mut t = table();
        let h = t.bind(7).unwrap();
        t.deliver(peer(1), 7, PacketBuf::from_frame(vec![1])).unwrap();
        t.deliver(peer(1), 7, PacketBuf::from_frame(vec![1])).unwrap();
        let mut events = Vec::new();
        t.drain_events(|h| events.push(h));
        assert_eq!(events, vec![h]);
    }
}
