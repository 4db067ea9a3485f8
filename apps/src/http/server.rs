//! The static-file server: one listener thread, a bounded queue of accepted connections,
//! and a pool of pre-started worker threads that serve them (HTTP/1.1 keep-alive,
//! pipelining, GET and HEAD).

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nic_stack::threaded::{Event, NetHandle, Runtime, Task, TcpListener, TcpStream};

use super::request::{self, find_head_end, leading_blank_lines, Method, Request};
use super::response::{self, Connection};

/// How the server runs.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The directory served; `/` is its `index.html`.
    pub docroot: PathBuf,
    /// Worker threads, started with the server (at least 1).
    pub workers: usize,
    /// Accepted connections waiting for a worker; beyond this the listener answers 503.
    pub queue: usize,
    /// How long a worker waits for (the rest of) the next request before closing.
    pub idle_timeout: Duration,
    /// How long one write may wait for the peer to make room.
    pub write_timeout: Duration,
    /// Largest request head (request line and headers); above it the answer is 431.
    pub max_head: usize,
    /// The stack's accept backlog for the listening socket.
    pub backlog: usize,
}

impl HttpConfig {
    /// 4 workers, a queue of 16, 5 s idle timeout, 10 s write timeout, 8 KiB heads.
    pub fn new(docroot: impl Into<PathBuf>) -> Self {
        HttpConfig {
            docroot: docroot.into(),
            workers: 4,
            queue: 16,
            idle_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            max_head: 8 * 1024,
            backlog: 64,
        }
    }
}

/// The status codes the server sends, in the order `HttpStats` counts them.
pub const STATUS_CODES: [u16; 11] = [200, 400, 403, 404, 405, 408, 413, 431, 500, 503, 505];

/// Counters of one server, updated by its threads; read them at any time.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Connections accepted (including those answered 503 by the listener).
    pub connections: AtomicU64,
    /// Requests answered: one response each, whatever its status (the listener's 503s
    /// included).
    pub requests: AtomicU64,
    /// Bytes written to clients (heads and bodies).
    pub bytes_sent: AtomicU64,
    /// Keep-alive connections closed because no request came within the idle timeout.
    pub idle_timeouts: AtomicU64,
    by_status: [AtomicU64; STATUS_CODES.len()],
}

impl HttpStats {
    /// Responses sent with `status` (0 for a code the server never sends).
    pub fn status(&self, status: u16) -> u64 {
        STATUS_CODES.iter().position(|&c| c == status).map_or(0, |i| self.by_status[i].load(Ordering::Relaxed))
    }

    fn count_response(&self, status: u16, bytes: usize) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        if let Some(i) = STATUS_CODES.iter().position(|&c| c == status) {
            self.by_status[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> HttpStatsSnapshot {
        HttpStatsSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            idle_timeouts: self.idle_timeouts.load(Ordering::Relaxed),
            by_status: STATUS_CODES.iter().map(|&c| (c, self.status(c))).filter(|&(_, n)| n > 0).collect(),
        }
    }
}

/// The counters at one moment; `Display` prints them on one line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpStatsSnapshot {
    pub connections: u64,
    pub requests: u64,
    pub bytes_sent: u64,
    pub idle_timeouts: u64,
    /// `(status, count)` for every status sent at least once.
    pub by_status: Vec<(u16, u64)>,
}

impl fmt::Display for HttpStatsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connections {} requests {} bytes_sent {} idle_timeouts {}",
            self.connections, self.requests, self.bytes_sent, self.idle_timeouts
        )?;
        for (status, n) in &self.by_status {
            write!(f, " {status}:{n}")?;
        }
        Ok(())
    }
}

/// How often blocked threads look at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// How long a closing connection is drained so the client's unread request bytes do not
/// turn our FIN into a RST that could discard the response at the client.
const LINGER: Duration = Duration::from_millis(500);
/// The listener's own drain after a 503, kept short: it is not accepting meanwhile.
const REJECT_LINGER: Duration = Duration::from_millis(50);
/// File bytes read and written per step.
const CHUNK: usize = 64 * 1024;

struct Shared {
    config: HttpConfig,
    /// The docroot, canonical: every served file's canonical path must start with it.
    root: PathBuf,
    stats: Arc<HttpStats>,
    stop: AtomicBool,
    queue: Mutex<VecDeque<TcpStream>>,
    /// Notified when a connection is queued, and on stop.
    queued: Event,
    /// The stack's runtime: the server's clock, waits and threads.
    rt: Runtime,
}

/// A running server. `stop` (or dropping it) shuts it down.
pub struct HttpServer {
    shared: Arc<Shared>,
    addr: SocketAddrV4,
    threads: Vec<Task<()>>,
}

impl HttpServer {
    /// Binds `addr` (a port other than 0) on the stack behind `net`, starts the listener
    /// and `config.workers` workers. Fails if the docroot is not a readable directory or
    /// the port is taken.
    pub fn start(net: &NetHandle, addr: SocketAddrV4, config: HttpConfig) -> io::Result<HttpServer> {
        if addr.port() == 0 {
            return Err(io::Error::new(ErrorKind::InvalidInput, "the HTTP server needs a port other than 0"));
        }
        let root = config
            .docroot
            .canonicalize()
            .map_err(|e| io::Error::new(e.kind(), format!("docroot {}: {e}", config.docroot.display())))?;
        if !root.is_dir() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("docroot {} is not a directory", root.display()),
            ));
        }
        let mut listener = TcpListener::bind(net, addr, config.backlog.max(1))?;
        listener.set_timeout(Some(STOP_POLL));
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared {
            config,
            root,
            stats: Arc::new(HttpStats::default()),
            stop: AtomicBool::new(false),
            queue: Mutex::new(VecDeque::new()),
            queued: net.runtime().event(),
            rt: net.runtime().clone(),
        });
        let mut server = HttpServer { shared: shared.clone(), addr, threads: Vec::new() };
        for n in 0..workers {
            let shared = shared.clone();
            let t = net.runtime().spawn(format!("http-worker-{n}"), move || worker(&shared))?;
            server.threads.push(t);
        }
        let t = net.runtime().spawn("http-listener", move || accept_loop(&shared, listener))?;
        server.threads.push(t);
        Ok(server)
    }

    pub fn local_addr(&self) -> SocketAddrV4 {
        self.addr
    }

    /// The live counters (shared with the server's threads).
    pub fn stats(&self) -> Arc<HttpStats> {
        self.shared.stats.clone()
    }

    /// Stops accepting, closes queued connections, lets each worker finish the response
    /// it is writing, and joins every thread. Takes about `STOP_POLL` plus at most one
    /// write timeout.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.queued.notify();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        lock(&self.shared.queue).clear();
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn accept_loop(shared: &Shared, listener: TcpListener) {
    while !shared.stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::TimedOut => continue,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                shared.rt.sleep(STOP_POLL);
                continue;
            }
        };
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let rejected = {
            let mut queue = lock(&shared.queue);
            if queue.len() < shared.config.queue {
                queue.push_back(stream);
                None
            } else {
                Some(stream)
            }
        };
        match rejected {
            None => shared.queued.notify(),
            Some(stream) => reject_busy(shared, stream),
        }
    }
}

/// Every worker busy and the queue full: the listener answers 503 itself and closes.
fn reject_busy(shared: &Shared, mut stream: TcpStream) {
    stream.set_write_timeout(Some(REJECT_LINGER));
    let msg = response::error(503, Connection::Close, false, &[("Retry-After", "1")]);
    if stream.write_all(&msg).is_ok() {
        shared.stats.count_response(503, msg.len());
    }
    linger_close(&shared.rt, stream, REJECT_LINGER);
}

/// Sends FIN, then reads and discards what the client still sends until it closes or
/// `linger` passes, so that closing does not reset the connection under the response.
fn linger_close(rt: &Runtime, mut stream: TcpStream, linger: Duration) {
    if stream.shutdown_write().is_err() {
        return;
    }
    let deadline = rt.deadline(linger);
    let mut scratch = [0u8; 4096];
    let mut drained = 0usize;
    while drained < 1 << 20 {
        let left = rt.until(deadline);
        if left.is_zero() {
            break;
        }
        stream.set_read_timeout(Some(left));
        match stream.read(&mut scratch) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

fn worker(shared: &Shared) {
    loop {
        let stream = loop {
            let seen = shared.queued.generation();
            if shared.stop.load(Ordering::Relaxed) {
                return;
            }
            if let Some(s) = lock(&shared.queue).pop_front() {
                break s;
            }
            shared.queued.wait(seen, None);
        };
        // A bug in serving one connection must not cost the pool a worker.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ClientConn::new(shared, stream).serve()));
        if served.is_err() {
            tracing::error!("a worker panicked serving a connection; the connection was dropped");
        }
    }
}

/// What waiting for the next request head ended with.
enum HeadWait {
    /// A head ends at `(head_len, total_len)` of the buffer.
    Ready(usize, usize),
    /// Nothing at all arrived within the idle timeout.
    Idle,
    /// Part of a head arrived, but not the rest within the idle timeout.
    Partial,
    /// The head grew past `max_head`.
    TooLarge,
    /// The client closed (or the connection failed, or the server is stopping).
    Gone,
}

/// What the worker does after a response.
#[derive(PartialEq, Eq)]
enum After {
    KeepAlive,
    /// Close, draining what the client still sends first.
    Close,
    /// The connection is unusable (a write failed): drop it.
    Drop,
}

/// One client connection served by a worker.
struct ClientConn<'a> {
    shared: &'a Shared,
    stream: TcpStream,
    /// Received bytes not consumed yet (a pipelined client may send several requests).
    buf: Vec<u8>,
}

impl<'a> ClientConn<'a> {
    fn new(shared: &'a Shared, mut stream: TcpStream) -> Self {
        stream.set_write_timeout(Some(shared.config.write_timeout));
        ClientConn { shared, stream, buf: Vec::with_capacity(1024) }
    }

    fn serve(mut self) {
        loop {
            let after = match self.wait_head() {
                HeadWait::Ready(head_len, total) => {
                    let after = self.answer(head_len);
                    self.buf.drain(..total);
                    after
                }
                HeadWait::Idle => {
                    self.shared.stats.idle_timeouts.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                HeadWait::Partial => self.send_error(408, false, &[]),
                HeadWait::TooLarge => self.send_error(431, false, &[]),
                HeadWait::Gone => return,
            };
            match after {
                After::KeepAlive if !self.shared.stop.load(Ordering::Relaxed) => continue,
                After::KeepAlive | After::Close => return linger_close(&self.shared.rt, self.stream, LINGER),
                After::Drop => return,
            }
        }
    }

    /// Reads until `buf` holds a whole request head, in slices short enough to notice
    /// the stop flag.
    fn wait_head(&mut self) -> HeadWait {
        let rt = &self.shared.rt;
        let deadline = rt.deadline(self.shared.config.idle_timeout);
        let mut chunk = [0u8; 4096];
        loop {
            let blank = leading_blank_lines(&self.buf);
            self.buf.drain(..blank);
            if let Some((head_len, total)) = find_head_end(&self.buf) {
                return if head_len > self.shared.config.max_head {
                    HeadWait::TooLarge
                } else {
                    HeadWait::Ready(head_len, total)
                };
            }
            if self.buf.len() > self.shared.config.max_head {
                return HeadWait::TooLarge;
            }
            if self.shared.stop.load(Ordering::Relaxed) {
                return HeadWait::Gone;
            }
            let left = rt.until(deadline);
            if left.is_zero() {
                return if self.buf.is_empty() { HeadWait::Idle } else { HeadWait::Partial };
            }
            self.stream.set_read_timeout(Some(left.min(STOP_POLL)));
            match self.stream.read(&mut chunk) {
                Ok(0) => return HeadWait::Gone,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::TimedOut => {}
                Err(_) => return HeadWait::Gone,
            }
        }
    }

    /// Writes `bytes`, counting them; false if the write failed.
    fn write(&mut self, bytes: &[u8]) -> bool {
        match self.stream.write_all(bytes) {
            Ok(()) => {
                self.shared.stats.bytes_sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "write to client failed");
                false
            }
        }
    }

    /// An error response with a text body; `keep` says whether the connection may stay.
    fn send_error(&mut self, status: u16, keep: bool, extra: &[(&str, &str)]) -> After {
        self.send_error_to(status, keep, None, false, extra)
    }

    fn send_error_to(
        &mut self,
        status: u16,
        keep: bool,
        req: Option<&Request>,
        head_only: bool,
        extra: &[(&str, &str)],
    ) -> After {
        let connection = connection_header(keep, req);
        let msg = response::error(status, connection, head_only, extra);
        self.shared.stats.count_response(status, 0);
        if !self.write(&msg) {
            return After::Drop;
        }
        if keep {
            After::KeepAlive
        } else {
            After::Close
        }
    }

    /// Answers the request whose head is `buf[..head_len]`.
    fn answer(&mut self, head_len: usize) -> After {
        let req = match request::parse_request(&self.buf[..head_len]) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(reason = e.reason(), "bad request");
                return self.send_error(e.status(), false, &[]);
            }
        };
        let head_only = req.method == Method::Head;
        if req.minor >= 1 && req.header("host").is_none() {
            return self.send_error_to(400, false, Some(&req), head_only, &[]);
        }
        match req.has_body() {
            Err(_) => return self.send_error_to(400, false, Some(&req), head_only, &[]),
            // The body is not read, so the next request's start is unknown: close.
            Ok(true) => return self.send_error_to(413, false, Some(&req), head_only, &[]),
            Ok(false) => {}
        }
        let keep = req.keep_alive();
        if let Method::Other(_) = req.method {
            return self.send_error_to(405, keep, Some(&req), false, &[("Allow", "GET, HEAD")]);
        }
        let rel = match request::target_to_relative_path(&req.target) {
            Ok(p) => p,
            Err(e) => {
                let status = e.status();
                return self.send_error_to(status, keep && status != 400, Some(&req), head_only, &[]);
            }
        };
        self.send_file(&req, &rel, keep, head_only)
    }

    fn send_file(&mut self, req: &Request, rel: &Path, keep: bool, head_only: bool) -> After {
        let full = self.shared.root.join(rel);
        let mut file = match File::open(&full) {
            Ok(f) => f,
            Err(e) => {
                let status = match e.kind() {
                    // Not there, or a path through a regular file ("/a.txt/b").
                    ErrorKind::NotFound | ErrorKind::NotADirectory => 404,
                    _ => 500,
                };
                tracing::debug!(path = %full.display(), error = %e, status, "open failed");
                return self.send_error_to(status, keep, Some(req), head_only, &[]);
            }
        };
        // A symbolic link may point outside the docroot: what is served must be inside.
        match full.canonicalize() {
            Ok(real) if real.starts_with(&self.shared.root) => {}
            Ok(_) => return self.send_error_to(403, keep, Some(req), head_only, &[]),
            Err(_) => return self.send_error_to(500, keep, Some(req), head_only, &[]),
        }
        let len = match file.metadata() {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) | Err(_) => return self.send_error_to(500, keep, Some(req), head_only, &[]),
        };
        // Read the first chunk before committing to 200, so a read error is still a 500.
        let mut chunk = vec![0u8; CHUNK.min(len as usize).max(1)];
        let first = if head_only { 0 } else { read_full(&mut file, &mut chunk) };
        let first = match first {
            n if head_only || n == chunk.len().min(len as usize) => n,
            _ => return self.send_error_to(500, keep, Some(req), head_only, &[]),
        };
        let head = response::head(200, request::content_type(rel), len, connection_header(keep, Some(req)), &[]);
        self.shared.stats.count_response(200, 0);
        // The head and the first chunk in one write (as a server's writev): written apart,
        // a small head and a small body would be two small segments, and Nagle would hold
        // the body until the client's delayed ACK of the head.
        let mut head = head;
        head.extend_from_slice(&chunk[..first]);
        if !self.write(&head) {
            return After::Drop;
        }
        if head_only {
            return if keep { After::KeepAlive } else { After::Close };
        }
        let mut sent = first as u64;
        while sent < len {
            let want = (len - sent).min(chunk.len() as u64) as usize;
            let n = read_full(&mut file, &mut chunk[..want]);
            if n == 0 {
                // The file shrank or failed under us: the length promised cannot be met.
                tracing::warn!(path = %full.display(), sent, len, "file ended early; closing");
                return After::Drop;
            }
            if !self.write(&chunk[..n]) {
                return After::Drop;
            }
            sent += n as u64;
        }
        if keep {
            After::KeepAlive
        } else {
            After::Close
        }
    }
}

/// Reads until `buf` is full, the file ends, or an error: the bytes read (an error after
/// some bytes returns those; the next call sees the error as 0).
fn read_full(file: &mut File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    n
}

/// The `Connection` header of a response: close if the server will close, keep-alive
/// for an HTTP/1.0 client that asked for it, nothing for HTTP/1.1's default.
fn connection_header(keep: bool, req: Option<&Request>) -> Connection {
    match (keep, req) {
        (false, _) => Connection::Close,
        (true, Some(r)) if r.minor == 0 => Connection::KeepAlive,
        (true, _) => Connection::Default,
    }
}
