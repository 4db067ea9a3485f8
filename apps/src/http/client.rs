//! A small HTTP/1.1 client for the demo and the tests: several requests on one
//! connection, GET and HEAD, bodies framed by `Content-Length` or by the end of the
//! connection.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddrV4;
use std::time::Duration;

use nic_stack::threaded::{NetHandle, TcpStream};

use super::request::find_head_end;

/// One response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether the server said it closes the connection after this response.
    pub fn closes(&self) -> bool {
        self.header("connection").is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }
}

/// Largest response head and body the client accepts.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: u64 = 1 << 30;

/// One connection to a server, for any number of requests in turn.
pub struct HttpClient {
    stream: TcpStream,
    /// Received bytes not consumed yet.
    buf: Vec<u8>,
    host: String,
    /// The server closed its side (end of stream seen).
    eof: bool,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, msg.into())
}

impl HttpClient {
    /// Connects; `timeout` bounds the handshake and every later read and write.
    pub fn connect(net: &NetHandle, addr: SocketAddrV4, timeout: Duration) -> io::Result<HttpClient> {
        let mut stream = TcpStream::connect(net, addr, Some(timeout))?;
        stream.set_read_timeout(Some(timeout));
        stream.set_write_timeout(Some(timeout));
        Ok(HttpClient { stream, buf: Vec::new(), host: addr.to_string(), eof: false })
    }

    pub fn get(&mut self, path: &str) -> io::Result<HttpResponse> {
        self.request("GET", path, &[])
    }

    pub fn head(&mut self, path: &str) -> io::Result<HttpResponse> {
        self.request("HEAD", path, &[])
    }

    /// Sends `METHOD path HTTP/1.1` with `Host` and `headers`, and reads the response
    /// (no body for HEAD).
    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<HttpResponse> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        req.push_str("\r\n");
        self.send_raw(req.as_bytes())?;
        self.read_response(method == "HEAD")
    }

    /// Sends bytes as they are (hand-made or malformed requests, pipelining).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one response; `head_request` says it answers a HEAD (so has no body).
    pub fn read_response(&mut self, head_request: bool) -> io::Result<HttpResponse> {
        let (head_len, total) = loop {
            if let Some(end) = find_head_end(&self.buf) {
                break end;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("response head too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(ErrorKind::UnexpectedEof, "connection closed before a response"));
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_len]).map_err(|_| invalid("response head is not UTF-8"))?;
        let mut lines = head.lines();
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
            return Err(invalid(format!("bad status line {status_line:?}")));
        };
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(invalid(format!("bad status line {status_line:?}")));
        }
        let status: u16 = code.parse().map_err(|_| invalid(format!("bad status code {code:?}")))?;
        let reason = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
            headers.push((name.to_string(), value.trim().to_string()));
        }
        self.buf.drain(..total);
        let mut resp = HttpResponse { status, reason, headers, body: Vec::new() };
        if head_request || status / 100 == 1 || status == 204 || status == 304 {
            return Ok(resp);
        }
        match resp.header("content-length") {
            Some(v) => {
                let len: u64 = v.parse().map_err(|_| invalid(format!("bad Content-Length {v:?}")))?;
                if len > MAX_BODY {
                    return Err(invalid(format!("body of {len} bytes is too large")));
                }
                let len = len as usize;
                while self.buf.len() < len {
                    if self.fill()? == 0 {
                        return Err(io::Error::new(
                            ErrorKind::UnexpectedEof,
                            format!("body ended after {} of {len} bytes", self.buf.len()),
                        ));
                    }
                }
                resp.body = self.buf.drain(..len).collect();
            }
            None => {
                // Framed by the end of the connection.
                while self.fill()? > 0 {
                    if self.buf.len() as u64 > MAX_BODY {
                        return Err(invalid("body too large"));
                    }
                }
                resp.body = std::mem::take(&mut self.buf);
            }
        }
        Ok(resp)
    }

    /// Whether the server has closed the connection: reads until end of stream, and
    /// returns the bytes that came before it (none, from a well-behaved server).
    pub fn read_until_closed(&mut self) -> io::Result<Vec<u8>> {
        while self.fill()? > 0 {
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("unexpected data after the response"));
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    /// The underlying stream (to change timeouts, or half-close).
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Reads more into `buf`: the count, 0 at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            self.eof = true;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

/// One GET on a fresh connection (`Connection: close`), `timeout` on every step.
pub fn http_get(net: &NetHandle, addr: SocketAddrV4, path: &str, timeout: Duration) -> io::Result<HttpResponse> {
    let mut client = HttpClient::connect(net, addr, timeout)?;
    client.request("GET", path, &[("Connection", "close")])
}
