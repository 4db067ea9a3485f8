//! Echo on one port over TCP and UDP (RFC 862): every TCP connection gets back what it
//! sends until it closes its side, every datagram goes back to its sender.
//!
//! TCP connections each get a thread, up to `max_connections` at a time; a connection
//! beyond that is closed at once. Idle connections close after `idle_timeout`.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nic_stack::threaded::{NetHandle, Runtime, Task, TcpListener, TcpStream, UdpSocket};

#[derive(Clone, Debug)]
pub struct EchoConfig {
    /// TCP connections served at once.
    pub max_connections: usize,
    /// A TCP connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// How long one write may wait for the peer to make room.
    pub write_timeout: Duration,
}

impl Default for EchoConfig {
    /// 16 connections, 30 s idle, 10 s write timeout.
    fn default() -> Self {
        EchoConfig {
            max_connections: 16,
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of one echo server.
#[derive(Debug, Default)]
pub struct EchoStats {
    /// TCP connections accepted and served.
    pub tcp_connections: AtomicU64,
    /// TCP connections closed at once because `max_connections` were being served.
    pub tcp_rejected: AtomicU64,
    /// TCP connections closed by the idle timeout.
    pub tcp_idle_timeouts: AtomicU64,
    /// TCP bytes echoed.
    pub tcp_bytes: AtomicU64,
    /// Datagrams echoed.
    pub udp_datagrams: AtomicU64,
    /// UDP payload bytes echoed.
    pub udp_bytes: AtomicU64,
}

impl std::fmt::Display for EchoStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        write!(
            f,
            "tcp connections {} rejected {} idle_timeouts {} bytes {}; udp datagrams {} bytes {}",
            g(&self.tcp_connections),
            g(&self.tcp_rejected),
            g(&self.tcp_idle_timeouts),
            g(&self.tcp_bytes),
            g(&self.udp_datagrams),
            g(&self.udp_bytes)
        )
    }
}

/// How often blocked threads look at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

struct Shared {
    rt: Runtime,
    config: EchoConfig,
    stats: Arc<EchoStats>,
    stop: AtomicBool,
    active: AtomicUsize,
}

/// A running TCP + UDP echo server; `stop` (or dropping it) shuts it down.
pub struct EchoServer {
    shared: Arc<Shared>,
    threads: Vec<Task<()>>,
}

impl EchoServer {
    /// Binds `addr` (a port other than 0) for TCP and for UDP and starts serving.
    pub fn start(net: &NetHandle, addr: SocketAddrV4, config: EchoConfig) -> io::Result<EchoServer> {
        if addr.port() == 0 {
            return Err(io::Error::new(ErrorKind::InvalidInput, "the echo server needs a port other than 0"));
        }
        let mut listener = TcpListener::bind(net, addr, config.max_connections.max(1))?;
        listener.set_timeout(Some(STOP_POLL));
        let mut udp = UdpSocket::bind(net, addr)?;
        udp.set_read_timeout(Some(STOP_POLL));
        let shared = Arc::new(Shared {
            rt: net.runtime().clone(),
            config,
            stats: Arc::new(EchoStats::default()),
            stop: AtomicBool::new(false),
            active: AtomicUsize::new(0),
        });
        let tcp_shared = shared.clone();
        let udp_shared = shared.clone();
        let rt = net.runtime();
        let threads = vec![
            rt.spawn("echo-tcp", move || tcp_accept_loop(&tcp_shared, listener))?,
            rt.spawn("echo-udp", move || udp_loop(&udp_shared, udp))?,
        ];
        Ok(EchoServer { shared, threads })
    }

    pub fn stats(&self) -> Arc<EchoStats> {
        self.shared.stats.clone()
    }

    /// Stops both services and joins every thread (connection threads included).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn tcp_accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    let mut conns: Vec<Task<()>> = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        conns.retain(|t| !t.is_finished());
        let stream = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::TimedOut => continue,
            Err(e) => {
                tracing::warn!(error = %e, "echo accept failed");
                shared.rt.sleep(STOP_POLL);
                continue;
            }
        };
        if shared.active.load(Ordering::Relaxed) >= shared.config.max_connections {
            shared.stats.tcp_rejected.fetch_add(1, Ordering::Relaxed);
            continue; // dropped: closed at once
        }
        shared.active.fetch_add(1, Ordering::Relaxed);
        shared.stats.tcp_connections.fetch_add(1, Ordering::Relaxed);
        let conn_shared = shared.clone();
        let spawned = shared.rt.spawn("echo-conn", move || {
            let mut stream = stream;
            echo_connection(&conn_shared, &mut stream);
            // The slot is free before the close goes out, so a client that saw the close
            // and connects again is not turned away.
            conn_shared.active.fetch_sub(1, Ordering::Relaxed);
            drop(stream);
        });
        match spawned {
            Ok(t) => conns.push(t),
            Err(e) => {
                // The closure (and the stream) was dropped with the failed spawn.
                shared.active.fetch_sub(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "cannot start an echo thread");
            }
        }
    }
    for t in conns {
        let _ = t.join();
    }
}

/// Echoes until the client closes its side (the caller's drop then closes ours).
fn echo_connection(shared: &Shared, stream: &mut TcpStream) {
    stream.set_write_timeout(Some(shared.config.write_timeout));
    let mut buf = vec![0u8; 16 * 1024];
    let rt = &shared.rt;
    let mut deadline = rt.deadline(shared.config.idle_timeout);
    while !shared.stop.load(Ordering::Relaxed) {
        let left = rt.until(deadline);
        if left.is_zero() {
            shared.stats.tcp_idle_timeouts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        stream.set_read_timeout(Some(left.min(STOP_POLL)));
        match stream.read(&mut buf) {
            // The client is done: dropping the stream sends our FIN.
            Ok(0) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).is_err() {
                    return;
                }
                shared.stats.tcp_bytes.fetch_add(n as u64, Ordering::Relaxed);
                deadline = rt.deadline(shared.config.idle_timeout);
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

fn udp_loop(shared: &Shared, sock: UdpSocket) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => match sock.send_to(&buf[..n], from) {
                Ok(_) => {
                    shared.stats.udp_datagrams.fetch_add(1, Ordering::Relaxed);
                    shared.stats.udp_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, %from, "udp echo send failed"),
            },
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(e) => {
                tracing::warn!(error = %e, "udp echo receive failed");
                shared.rt.sleep(STOP_POLL);
            }
        }
    }
}
