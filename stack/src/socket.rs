//! The socket layer: small integer descriptors over the interface's UDP table and TCP
//! engine, and an epoll-like readiness API.
//!
//! Readiness is event-fed, never a scan: the TCP engine and the UDP table report which
//! handles changed (`drain_events`); a changed descriptor with a registered interest goes
//! on the ready list, and `wait` looks only at that list. It is level-triggered like
//! epoll's default: a descriptor stays on the list while it is still ready, and leaves it
//! the first time `wait` finds it not ready.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::device::Device;
use crate::iface::Interface;
use crate::tcp::{TcpError, TcpHandle};
use crate::udp::{UdpError, UdpHandle};

/// A socket descriptor. The lowest free number is reused first, as POSIX does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fd(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketType {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketError {
    BadFd,
    /// Nothing to read, no room to write, no connection to accept: try after `wait`.
    WouldBlock,
    /// The operation does not fit the socket's type or state (listen on UDP, read on a
    /// listener, connect twice, ...).
    InvalidState,
    /// The address is not ours.
    AddrNotAvailable,
    NotConnected,
    Tcp(TcpError),
    Udp(UdpError),
}

impl From<TcpError> for SocketError {
    fn from(e: TcpError) -> Self {
        match e {
            TcpError::WouldBlock => SocketError::WouldBlock,
            e => SocketError::Tcp(e),
        }
    }
}

impl From<UdpError> for SocketError {
    fn from(e: UdpError) -> Self {
        match e {
            UdpError::WouldBlock => SocketError::WouldBlock,
            UdpError::NotConnected => SocketError::NotConnected,
            e => SocketError::Udp(e),
        }
    }
}

/// What a waiter wants to hear about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    pub readable: bool,
    pub writable: bool,
}

impl Interest {
    pub const READABLE: Interest = Interest { readable: true, writable: false };
    pub const WRITABLE: Interest = Interest { readable: false, writable: true };
    pub const BOTH: Interest = Interest { readable: true, writable: true };
    const NONE: Interest = Interest { readable: false, writable: false };
}

/// A descriptor's readiness as `wait` reports it. `readable` on a listener means a
/// connection is waiting in its accept queue; `hup` means the peer closed (reads return
/// what is left, then 0); `error` means the connection was reset or timed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub fd: Fd,
    pub readable: bool,
    pub writable: bool,
    pub hup: bool,
    pub error: bool,
}

enum Socket {
    /// `socket(Tcp)` before `listen` or `connect`; `bind` only records the port.
    TcpFresh {
        port: Option<u16>,
    },
    TcpListener(TcpHandle),
    TcpStream(TcpHandle),
    /// Bound on first `bind`, `connect` or `send_to`.
    Udp(Option<UdpHandle>),
}

struct Entry {
    socket: Socket,
    interest: Interest,
    /// On the ready list (so it is never queued twice).
    queued: bool,
}

/// An interface plus the descriptor table: the single-threaded socket API.
pub struct Stack {
    iface: Interface,
    entries: Vec<Option<Entry>>,
    free: BinaryHeap<Reverse<u32>>,
    by_tcp: HashMap<TcpHandle, Fd>,
    by_udp: HashMap<UdpHandle, Fd>,
    ready: VecDeque<Fd>,
}

impl Stack {
    pub fn new(iface: Interface) -> Self {
        Stack {
            iface,
            entries: Vec::new(),
            free: BinaryHeap::new(),
            by_tcp: HashMap::new(),
            by_udp: HashMap::new(),
            ready: VecDeque::new(),
        }
    }

    pub fn iface(&self) -> &Interface {
        &self.iface
    }

    pub fn iface_mut(&mut self) -> &mut Interface {
        &mut self.iface
    }

    /// Runs the interface, then moves readiness changes onto the ready list.
    pub fn poll<D: Device>(&mut self, now: u64, dev: &mut D) -> bool {
        let activity = self.iface.poll(now, dev);
        self.collect_events();
        activity
    }

    pub fn poll_at(&self) -> Option<u64> {
        self.iface.poll_at()
    }

    fn local_ip(&self) -> Ipv4Addr {
        self.iface.config().ip
    }

    // ---- descriptor table -----------------------------------------------------------

    fn insert(&mut self, socket: Socket) -> Fd {
        let entry = Entry { socket, interest: Interest::NONE, queued: false };
        match self.free.pop() {
            Some(Reverse(n)) => {
                self.entries[n as usize] = Some(entry);
                Fd(n)
            }
            None => {
                self.entries.push(Some(entry));
                Fd(self.entries.len() as u32 - 1)
            }
        }
    }

    fn entry(&self, fd: Fd) -> Result<&Entry, SocketError> {
        self.entries.get(fd.0 as usize).and_then(Option::as_ref).ok_or(SocketError::BadFd)
    }

    fn entry_mut(&mut self, fd: Fd) -> Result<&mut Entry, SocketError> {
        self.entries.get_mut(fd.0 as usize).and_then(Option::as_mut).ok_or(SocketError::BadFd)
    }

    fn tcp_stream(&self, fd: Fd) -> Result<TcpHandle, SocketError> {
        match self.entry(fd)?.socket {
            Socket::TcpStream(h) => Ok(h),
            Socket::TcpFresh { .. } => Err(SocketError::NotConnected),
            _ => Err(SocketError::InvalidState),
        }
    }

    fn set_socket(&mut self, fd: Fd, socket: Socket) {
        match socket {
            Socket::TcpListener(h) | Socket::TcpStream(h) => {
                self.by_tcp.insert(h, fd);
            }
            Socket::Udp(Some(h)) => {
                self.by_udp.insert(h, fd);
            }
            _ => {}
        }
        if let Ok(entry) = self.entry_mut(fd) {
            entry.socket = socket;
        }
    }

    /// The UDP handle behind `fd`, binding an ephemeral port first if there is none.
    fn udp_handle(&mut self, fd: Fd) -> Result<UdpHandle, SocketError> {
        match self.entry(fd)?.socket {
            Socket::Udp(Some(h)) => Ok(h),
            Socket::Udp(None) => {
                let h = self.iface.udp_bind(0)?;
                self.set_socket(fd, Socket::Udp(Some(h)));
                Ok(h)
            }
            _ => Err(SocketError::InvalidState),
        }
    }

    // ---- the calls --------------------------------------------------------------------

    pub fn socket(&mut self, kind: SocketType) -> Fd {
        self.insert(match kind {
            SocketType::Tcp => Socket::TcpFresh { port: None },
            SocketType::Udp => Socket::Udp(None),
        })
    }

    /// Binds to `addr` (our address or 0.0.0.0; port 0 = ephemeral for UDP).
    pub fn bind(&mut self, fd: Fd, addr: SocketAddrV4) -> Result<(), SocketError> {
        if !addr.ip().is_unspecified() && *addr.ip() != self.local_ip() {
            return Err(SocketError::AddrNotAvailable);
        }
        match self.entry(fd)?.socket {
            Socket::TcpFresh { port: None } => {
                self.entry_mut(fd)?.socket = Socket::TcpFresh { port: Some(addr.port()) };
                Ok(())
            }
            Socket::Udp(None) => {
                let h = self.iface.udp_bind(addr.port())?;
                self.set_socket(fd, Socket::Udp(Some(h)));
                Ok(())
            }
            _ => Err(SocketError::InvalidState),
        }
    }

    pub fn listen(&mut self, fd: Fd, backlog: usize) -> Result<(), SocketError> {
        let Socket::TcpFresh { port: Some(port) } = self.entry(fd)?.socket else {
            return Err(SocketError::InvalidState);
        };
        let ip = self.local_ip();
        let h = self.iface.tcp_mut().listen((ip, port), backlog)?;
        self.set_socket(fd, Socket::TcpListener(h));
        Ok(())
    }

    /// A new descriptor for the oldest connection in the listener's accept queue.
    pub fn accept(&mut self, fd: Fd) -> Result<Fd, SocketError> {
        let Socket::TcpListener(listener) = self.entry(fd)?.socket else {
            return Err(SocketError::InvalidState);
        };
        let h = self.iface.tcp_mut().accept(listener)?.ok_or(SocketError::WouldBlock)?;
        let conn = self.insert(Socket::TcpStream(h));
        self.by_tcp.insert(h, conn);
        Ok(conn)
    }

    /// TCP: starts the handshake (the descriptor turns writable when it completes), from
    /// the port given to `bind` or else an ephemeral one the engine picks (RFC 6056).
    /// UDP: sets the default destination and the only accepted sender.
    pub fn connect(&mut self, now: u64, fd: Fd, remote: SocketAddrV4) -> Result<(), SocketError> {
        let remote_pair = (*remote.ip(), remote.port());
        match self.entry(fd)?.socket {
            Socket::TcpFresh { port } => {
                let ip = self.local_ip();
                let h = self.iface.with_tcp(now, |tcp, out| match port {
                    Some(port) => tcp.connect_from(now, (ip, port), remote_pair, out),
                    None => tcp.connect(now, ip, remote_pair, out),
                })?;
                self.set_socket(fd, Socket::TcpStream(h));
                Ok(())
            }
            Socket::Udp(_) => {
                let h = self.udp_handle(fd)?;
                Ok(self.iface.udp_connect(h, remote)?)
            }
            _ => Err(SocketError::InvalidState),
        }
    }

    /// Reads stream bytes (TCP) or one datagram (UDP, truncated to `buf`). `Ok(0)` on a
    /// TCP socket is end of stream.
    pub fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, SocketError> {
        if let Socket::Udp(_) = self.entry(fd)?.socket {
            return self.recv_from(fd, buf).map(|(n, _)| n.min(buf.len()));
        }
        let h = self.tcp_stream(fd)?;
        Ok(self.iface.tcp_mut().recv(h, buf)?)
    }

    /// Writes what fits in the send buffer (TCP) or sends one datagram (connected UDP).
    pub fn write(&mut self, now: u64, fd: Fd, data: &[u8]) -> Result<usize, SocketError> {
        if let Socket::Udp(_) = self.entry(fd)?.socket {
            let h = self.udp_handle(fd)?;
            return Ok(self.iface.udp_send(now, h, data)?);
        }
        let h = self.tcp_stream(fd)?;
        Ok(self.iface.with_tcp(now, |tcp, out| tcp.send(now, h, data, out))?)
    }

    pub fn send_to(&mut self, now: u64, fd: Fd, data: &[u8], dst: SocketAddrV4) -> Result<usize, SocketError> {
        let h = self.udp_handle(fd)?;
        Ok(self.iface.udp_send_to(now, h, dst, data)?)
    }

    /// One datagram: its full length (the copy is truncated to `buf`) and its sender.
    pub fn recv_from(&mut self, fd: Fd, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), SocketError> {
        match self.entry(fd)?.socket {
            Socket::Udp(Some(h)) => Ok(self.iface.udp_recv_from(h, buf)?),
            Socket::Udp(None) => Err(SocketError::WouldBlock),
            _ => Err(SocketError::InvalidState),
        }
    }

    /// The engine's handle behind a TCP descriptor (for the engine's own queries, e.g.
    /// `state` or memory accounting).
    pub fn tcp_handle(&self, fd: Fd) -> Option<TcpHandle> {
        match self.entry(fd).ok()?.socket {
            Socket::TcpListener(h) | Socket::TcpStream(h) => Some(h),
            _ => None,
        }
    }

    pub fn local_port(&self, fd: Fd) -> Result<u16, SocketError> {
        match self.entry(fd)?.socket {
            Socket::Udp(Some(h)) => Ok(self.iface.udp_local_port(h)?),
            Socket::TcpFresh { port: Some(p) } => Ok(p),
            _ => Err(SocketError::InvalidState),
        }
    }

    /// Half-close: sends FIN after the queued data; reads still work.
    pub fn shutdown_write(&mut self, now: u64, fd: Fd) -> Result<(), SocketError> {
        let h = self.tcp_stream(fd)?;
        Ok(self.iface.with_tcp(now, |tcp, out| tcp.shutdown_write(now, h, out))?)
    }

    /// Frees the descriptor. A TCP connection goes on closing inside the engine (FIN,
    /// TIME-WAIT) without it.
    pub fn close(&mut self, now: u64, fd: Fd) -> Result<(), SocketError> {
        let entry = self.entries.get_mut(fd.0 as usize).and_then(Option::take).ok_or(SocketError::BadFd)?;
        self.free.push(Reverse(fd.0));
        self.ready.retain(|&r| r != fd);
        match entry.socket {
            Socket::TcpListener(h) | Socket::TcpStream(h) => {
                self.by_tcp.remove(&h);
                self.iface.with_tcp(now, |tcp, out| tcp.close(now, h, out))?;
            }
            Socket::Udp(Some(h)) => {
                self.by_udp.remove(&h);
                self.iface.udp_close(h)?;
            }
            Socket::TcpFresh { .. } | Socket::Udp(None) => {}
        }
        Ok(())
    }

    // ---- readiness --------------------------------------------------------------------

    /// Sets what `wait` reports for `fd` (replacing an earlier interest). A descriptor
    /// that is already ready shows up in the next `wait`.
    pub fn register(&mut self, fd: Fd, interest: Interest) -> Result<(), SocketError> {
        self.entry_mut(fd)?.interest = interest;
        self.mark_changed(fd);
        Ok(())
    }

    pub fn readiness(&self, fd: Fd) -> Result<Event, SocketError> {
        let entry = self.entry(fd)?;
        let mut ev = Event { fd, readable: false, writable: false, hup: false, error: false };
        match entry.socket {
            Socket::TcpListener(h) => ev.readable = self.iface.tcp().readiness(h).acceptable(),
            Socket::TcpStream(h) => {
                let r = self.iface.tcp().readiness(h);
                (ev.readable, ev.writable, ev.hup, ev.error) = (r.readable(), r.writable(), r.hup(), r.error());
            }
            Socket::Udp(h) => {
                ev.readable = h.is_some_and(|h| self.iface.udp_readable(h));
                ev.writable = true;
            }
            Socket::TcpFresh { .. } => {}
        }
        Ok(ev)
    }

    fn mark_changed(&mut self, fd: Fd) {
        if let Ok(entry) = self.entry_mut(fd) {
            if entry.interest != Interest::NONE && !entry.queued {
                entry.queued = true;
                self.ready.push_back(fd);
            }
        }
    }

    /// Moves the engine's and the UDP table's change notices onto the ready list.
    fn collect_events(&mut self) {
        let mut changed = Vec::new();
        let by_tcp = &self.by_tcp;
        self.iface.tcp_mut().drain_events(|h| changed.extend(by_tcp.get(&h).copied()));
        let by_udp = &self.by_udp;
        self.iface.udp_drain_events(|h| changed.extend(by_udp.get(&h).copied()));
        for fd in changed {
            self.mark_changed(fd);
        }
    }

    /// Descriptors `wait` will look at next: the cost of a `wait`, whatever the number
    /// of open sockets.
    pub fn ready_list_len(&self) -> usize {
        self.ready.len()
    }

    /// Appends up to `max` ready descriptors (those whose readiness matches their
    /// interest, or with hup/error, which are always reported) to `events`. Never blocks.
    pub fn wait(&mut self, events: &mut Vec<Event>, max: usize) -> usize {
        self.collect_events();
        let mut reported = 0;
        for _ in 0..self.ready.len() {
            if reported == max {
                break;
            }
            let fd = self.ready.pop_front().expect("counted");
            let Ok(ev) = self.readiness(fd) else { continue };
            let interest = self.entry(fd).expect("closed descriptors leave the list").interest;
            let wanted = (interest.readable && ev.readable) || (interest.writable && ev.writable) || ev.hup || ev.error;
            if wanted {
                events.push(ev);
                reported += 1;
                self.ready.push_back(fd); // level-triggered: checked again next time
            } else {
                self.entry_mut(fd).expect("live").queued = false;
            }
        }
        reported
    }
}

impl crate::memnet::Pollable for Stack {
    fn poll(&mut self, now: u64, port: &mut crate::memnet::Port) -> bool {
        Stack::poll(self, now, port)
    }
    fn poll_at(&self) -> Option<u64> {
        Stack::poll_at(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceCaps;
    use crate::iface::InterfaceConfig;
    use crate::wire::ethernet::MacAddr;

    fn stack() -> Stack {
        let cfg = InterfaceConfig::new(MacAddr([2, 0, 0, 0, 0, 1]), Ipv4Addr::new(198, 18, 0, 1), 24);
        Stack::new(Interface::new(cfg, DeviceCaps::default(), 1))
    }

    #[test]
    fn descriptors_are_small_and_the_lowest_free_is_reused() {
        let mut s = stack();
        let fds: Vec<Fd> = (0..3).map(|_| s.socket(SocketType::Udp)).collect();
        assert_eq!(fds, vec![Fd(0), Fd(1), Fd(2)]);
        s.close(0, Fd(1)).unwrap();
        s.close(0, Fd(0)).unwrap();
        assert_eq!(s.socket(SocketType::Tcp), Fd(0));
        assert_eq!(s.socket(SocketType::Tcp), Fd(1));
        assert_eq!(s.close(0, Fd(9)), Err(SocketError::BadFd));
    }

    #[test]
    fn calls_that_do_not_fit_the_socket_are_refused() {
        let mut s = stack();
        let udp = s.socket(SocketType::Udp);
        let tcp = s.socket(SocketType::Tcp);
        assert_eq!(s.listen(udp, 8), Err(SocketError::InvalidState));
        assert_eq!(s.listen(tcp, 8), Err(SocketError::InvalidState), "listen needs bind");
        assert_eq!(s.read(tcp, &mut [0; 4]), Err(SocketError::NotConnected));
        assert_eq!(s.accept(udp), Err(SocketError::InvalidState));
        let elsewhere = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 7), 80);
        assert_eq!(s.bind(tcp, elsewhere), Err(SocketError::AddrNotAvailable));
        assert_eq!(s.recv_from(udp, &mut [0; 4]), Err(SocketError::WouldBlock));
        assert_eq!(s.write(0, udp, b"x"), Err(SocketError::NotConnected));
    }

    #[test]
    fn udp_bind_conflicts_surface_as_errors() {
        let mut s = stack();
        let a = s.socket(SocketType::Udp);
        let b = s.socket(SocketType::Udp);
        let any = |port| SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        s.bind(a, any(53)).unwrap();
        assert_eq!(s.bind(b, any(53)), Err(SocketError::Udp(UdpError::AddrInUse)));
        assert_eq!(s.bind(a, any(54)), Err(SocketError::InvalidState), "already bound");
        assert_eq!(s.local_port(a), Ok(53));
    }
}
