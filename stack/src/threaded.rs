//! The std-style API: the stack runs on its own thread, and applications use blocking
//! `TcpListener`, `TcpStream` (`Read + Write`) and `UdpSocket` with timeouts.
//!
//! The stack thread sleeps until the device rings its `Wakeup` (frames arrived: the
//! driver does this from its interrupt), an application call queued something to send,
//! or the stack's next timer is due. Application threads wait on an event that the stack
//! thread notifies after every poll. Everything is behind one mutex: the stack is
//! single-threaded by design, the lock is held only for short calls and never across a
//! wait.
//!
//! Time, waiting and threads come from the [`Runtime`] the stack thread is given: the OS
//! runtime on a board or a TAP, the simulated one on simulated cards. Nothing here reads
//! the OS clock.

use std::io;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::device::Device;
pub use crate::runtime::{Event, Runtime, Task};
use crate::socket::{Fd, SocketError, SocketType, Stack};
use crate::tcp::TcpError;
use crate::udp::UdpError;

/// A doorbell: `notify` wakes the stack thread (or makes its next sleep return at once).
#[derive(Clone)]
pub struct Wakeup {
    event: Event,
}

impl Wakeup {
    pub fn new(rt: &Runtime) -> Self {
        Wakeup { event: rt.event() }
    }

    pub fn notify(&self) {
        self.event.notify()
    }
}

/// A device that can ring the stack thread when frames arrive.
pub trait NotifyingDevice: Device + Send + 'static {
    /// `rt` is the stack thread's runtime: a device that needs a thread of its own (an
    /// interrupt thread) starts it there.
    fn set_wakeup(&mut self, wakeup: Wakeup, rt: &Runtime);
}

/// The stack thread never sleeps longer than this, so a lost interrupt costs at most this.
const MAX_SLEEP: Duration = Duration::from_millis(50);

struct Shared {
    stack: Mutex<Stack>,
    /// Notified after every poll: application threads re-check their sockets.
    changed: Event,
    wakeup: Wakeup,
    rt: Runtime,
    stop: AtomicBool,
}

/// A handle to a running stack, for making sockets. Cheap to clone.
#[derive(Clone)]
pub struct NetHandle {
    shared: Arc<Shared>,
}

/// Owns the stack thread; dropping it stops the thread.
pub struct NetThread {
    handle: NetHandle,
    thread: Option<Task<()>>,
}

impl NetThread {
    /// Starts the stack thread on `rt`, polling `device`.
    pub fn spawn<D: NotifyingDevice>(stack: Stack, mut device: D, rt: Runtime) -> io::Result<Self> {
        let wakeup = Wakeup::new(&rt);
        device.set_wakeup(wakeup.clone(), &rt);
        let shared = Arc::new(Shared {
            stack: Mutex::new(stack),
            changed: rt.event(),
            wakeup,
            rt: rt.clone(),
            stop: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        let thread = rt.spawn("nic-stack", move || run(&thread_shared, device))?;
        Ok(NetThread { handle: NetHandle { shared }, thread: Some(thread) })
    }

    pub fn handle(&self) -> NetHandle {
        self.handle.clone()
    }
}

impl Drop for NetThread {
    fn drop(&mut self) {
        self.handle.shared.stop.store(true, Ordering::Relaxed);
        self.handle.shared.wakeup.notify();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The stack thread: poll, tell the applications, sleep until rung or the next timer. The
/// device is dropped here, on the runtime, when the thread stops.
fn run<D: Device>(shared: &Shared, mut device: D) {
    let bell = &shared.wakeup.event;
    while !shared.stop.load(Ordering::Relaxed) {
        // Read before polling: a ring during the poll makes the sleep below return at once.
        let seen = bell.generation();
        let now_ns = shared.rt.now_ns();
        let next = {
            let mut stack = lock(&shared.stack);
            stack.poll(now_ns / 1_000_000, &mut device);
            stack.poll_at()
        };
        shared.changed.notify();
        // Wake when the stack's millisecond clock reads `next` (not `next - now` ms from
        // now, which would overshoot by the part of a millisecond already gone).
        let latest = now_ns.saturating_add(MAX_SLEEP.as_nanos() as u64);
        let wake_ns = next.map_or(latest, |t| t.saturating_mul(1_000_000).min(latest));
        if wake_ns > now_ns {
            bell.wait(seen, Some(wake_ns));
        }
    }
}

fn lock(stack: &Mutex<Stack>) -> MutexGuard<'_, Stack> {
    // A panic on an application thread mid-call must not take the whole stack down.
    stack.lock().unwrap_or_else(|p| p.into_inner())
}

fn io_error(e: SocketError) -> io::Error {
    use io::ErrorKind as K;
    let kind = match e {
        SocketError::WouldBlock => K::WouldBlock,
        SocketError::BadFd | SocketError::InvalidState => K::InvalidInput,
        SocketError::AddrNotAvailable => K::AddrNotAvailable,
        SocketError::NotConnected => K::NotConnected,
        SocketError::Udp(UdpError::AddrInUse | UdpError::NoPorts) => K::AddrInUse,
        SocketError::Udp(UdpError::TooBig) => K::InvalidInput,
        SocketError::Tcp(TcpError::AddrInUse | TcpError::NoEphemeralPorts) => K::AddrInUse,
        SocketError::Tcp(TcpError::ConnectionRefused) => K::ConnectionRefused,
        SocketError::Tcp(TcpError::ConnectionReset) => K::ConnectionReset,
        SocketError::Tcp(TcpError::TimedOut) => K::TimedOut,
        SocketError::Tcp(TcpError::WriteClosed) => K::BrokenPipe,
        SocketError::Tcp(TcpError::InvalidHandle | TcpError::InvalidState) => K::InvalidInput,
        SocketError::Udp(_) | SocketError::Tcp(_) => K::Other,
    };
    io::Error::new(kind, format!("{e:?}"))
}

impl NetHandle {
    /// Runs `f` on the stack under the lock (for statistics, or calls the typed API lacks).
    pub fn with_stack<R>(&self, f: impl FnOnce(&mut Stack) -> R) -> R {
        let r = f(&mut lock(&self.shared.stack));
        self.shared.wakeup.notify();
        r
    }

    /// The runtime the stack runs on: applications take their clock, waits and threads
    /// from it.
    pub fn runtime(&self) -> &Runtime {
        &self.shared.rt
    }

    fn now(&self) -> u64 {
        self.shared.rt.now_ms()
    }

    /// Retries `op` until it stops saying `WouldBlock`, sleeping between tries until the
    /// stack thread has polled again, for at most `timeout` (`None`: forever).
    fn blocking<R>(
        &self,
        timeout: Option<Duration>,
        mut op: impl FnMut(&mut Stack, u64) -> Result<R, SocketError>,
    ) -> io::Result<R> {
        let rt = &self.shared.rt;
        let deadline = timeout.map(|t| rt.deadline(t));
        loop {
            let seen = self.shared.changed.generation();
            let result = op(&mut lock(&self.shared.stack), self.now());
            match result {
                Err(SocketError::WouldBlock) => {}
                result => {
                    // Whatever the call queued goes out on the stack thread's next poll.
                    self.shared.wakeup.notify();
                    return result.map_err(io_error);
                }
            }
            if deadline.is_some_and(|d| rt.now_ns() >= d) {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
            }
            // The lock is not held here: on the simulated runtime another thread runs now.
            self.shared.changed.wait(seen, deadline);
        }
    }

    /// A new descriptor set up by `setup`; closed again if setup fails.
    fn open(
        &self,
        kind: SocketType,
        setup: impl FnOnce(&mut Stack, Fd, u64) -> Result<(), SocketError>,
    ) -> io::Result<Fd> {
        let now = self.now();
        self.with_stack(|s| {
            let fd = s.socket(kind);
            setup(s, fd, now).map(|_| fd).map_err(|e| {
                let _ = s.close(now, fd);
                io_error(e)
            })
        })
    }

    fn close(&self, fd: Fd) {
        let now = self.now();
        self.with_stack(|s| {
            if let Err(e) = s.close(now, fd) {
                tracing::debug!(?fd, ?e, "close failed");
            }
        });
    }
}

/// A listening TCP socket.
pub struct TcpListener {
    net: NetHandle,
    fd: Fd,
    timeout: Option<Duration>,
}

impl TcpListener {
    pub fn bind(net: &NetHandle, addr: SocketAddrV4, backlog: usize) -> io::Result<Self> {
        let fd = net.open(SocketType::Tcp, |s, fd, _| s.bind(fd, addr).and_then(|_| s.listen(fd, backlog)))?;
        Ok(TcpListener { net: net.clone(), fd, timeout: None })
    }

    /// Waits at most this long in `accept` (`None`: forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    pub fn accept(&self) -> io::Result<TcpStream> {
        let fd = self.net.blocking(self.timeout, |s, _| s.accept(self.fd))?;
        Ok(TcpStream { net: self.net.clone(), fd, read_timeout: None, write_timeout: None })
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.net.close(self.fd);
    }
}

/// A connected TCP socket.
pub struct TcpStream {
    net: NetHandle,
    fd: Fd,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl TcpStream {
    /// Connects and waits for the handshake, at most `timeout`.
    pub fn connect(net: &NetHandle, remote: SocketAddrV4, timeout: Option<Duration>) -> io::Result<Self> {
        let fd = net.open(SocketType::Tcp, |s, fd, now| s.connect(now, fd, remote))?;
        let stream = TcpStream { net: net.clone(), fd, read_timeout: None, write_timeout: None };
        net.blocking(timeout, |s, _| {
            let ev = s.readiness(fd)?;
            if ev.writable {
                Ok(()) // established (the peer may already have sent FIN: reads will say so)
            } else if ev.error || ev.hup {
                Err(SocketError::NotConnected)
            } else {
                Err(SocketError::WouldBlock)
            }
        })
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotConnected => {
                io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused or reset")
            }
            _ => e,
        })?;
        Ok(stream)
    }

    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// Sends FIN once the queued data is out; reading goes on.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.net.blocking(Some(Duration::ZERO), |s, now| s.shutdown_write(now, self.fd))
    }
}

impl io::Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.net.blocking(self.read_timeout, |s, _| s.read(self.fd, buf))
    }
}

impl io::Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.net.blocking(self.write_timeout, |s, now| match s.write(now, self.fd, data) {
            Ok(0) if !data.is_empty() => Err(SocketError::WouldBlock),
            other => other,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.net.close(self.fd);
    }
}

/// A UDP socket.
pub struct UdpSocket {
    net: NetHandle,
    fd: Fd,
    read_timeout: Option<Duration>,
}

impl UdpSocket {
    pub fn bind(net: &NetHandle, addr: SocketAddrV4) -> io::Result<Self> {
        let fd = net.open(SocketType::Udp, |s, fd, _| s.bind(fd, addr))?;
        Ok(UdpSocket { net: net.clone(), fd, read_timeout: None })
    }

    pub fn local_port(&self) -> io::Result<u16> {
        self.net.with_stack(|s| s.local_port(self.fd)).map_err(io_error)
    }

    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    pub fn connect(&self, remote: SocketAddrV4) -> io::Result<()> {
        let now = self.net.now();
        self.net.with_stack(|s| s.connect(now, self.fd, remote)).map_err(io_error)
    }

    pub fn send_to(&self, data: &[u8], dst: SocketAddrV4) -> io::Result<usize> {
        let now = self.net.now();
        self.net.with_stack(|s| s.send_to(now, self.fd, data, dst)).map_err(io_error)
    }

    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        let now = self.net.now();
        self.net.with_stack(|s| s.write(now, self.fd, data)).map_err(io_error)
    }

    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddrV4)> {
        let (n, from) = self.net.blocking(self.read_timeout, |s, _| s.recv_from(self.fd, buf))?;
        Ok((n.min(buf.len()), from))
    }

    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_from(buf).map(|(n, _)| n)
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        self.net.close(self.fd);
    }
}

/// Two devices joined back to back, each ringing the other's stack when it transmits:
/// what a driver does with its receive interrupt, without a wire model.
pub fn channel_pair(caps: crate::device::DeviceCaps) -> (ChannelDevice, ChannelDevice) {
    let a = Arc::new(Mutex::new(Inbox::default()));
    let b = Arc::new(Mutex::new(Inbox::default()));
    (ChannelDevice { caps, rx: a.clone(), peer: b.clone() }, ChannelDevice { caps, rx: b, peer: a })
}

#[derive(Default)]
struct Inbox {
    frames: std::collections::VecDeque<crate::buf::PacketBuf>,
    wakeup: Option<Wakeup>,
}

pub struct ChannelDevice {
    caps: crate::device::DeviceCaps,
    rx: Arc<Mutex<Inbox>>,
    peer: Arc<Mutex<Inbox>>,
}

impl Device for ChannelDevice {
    fn caps(&self) -> crate::device::DeviceCaps {
        self.caps
    }

    fn receive(&mut self, batch: &mut Vec<crate::buf::PacketBuf>, max: usize) -> usize {
        let mut inbox = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        let n = inbox.frames.len().min(max);
        batch.extend(inbox.frames.drain(..n));
        n
    }

    fn transmit(&mut self, batch: &mut Vec<crate::buf::PacketBuf>) {
        let mut peer = self.peer.lock().unwrap_or_else(|p| p.into_inner());
        peer.frames.extend(batch.drain(..));
        if let Some(w) = &peer.wakeup {
            w.notify();
        }
    }
}

impl NotifyingDevice for ChannelDevice {
    fn set_wakeup(&mut self, wakeup: Wakeup, _rt: &Runtime) {
        self.rx.lock().unwrap_or_else(|p| p.into_inner()).wakeup = Some(wakeup);
    }
}
