//! The web server over two stacks joined in memory: every status code, keep-alive,
//! HEAD, a 256 KiB file, path traversal, 503 under load, the idle timeout, counters.

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use common::*;
use nic_apps::http::{http_get, HttpClient, HttpConfig, HttpResponse, HttpServer};
use nic_apps::transfer::{self, fetch_verified};
use nic_stack::threaded::{NetThread, TcpStream};

const INDEX: &str = "<!doctype html><h1>home</h1>\n";
const SECRET: &str = "the secret outside the docroot\n";

/// A server on host 2 over a docroot `dir/www`, a client stack on host 1. The server is
/// the first field, so it stops before the stacks go.
struct Site {
    server: HttpServer,
    client_net: NetThread,
    _server_net: NetThread,
    dir: TempDir,
}

impl Site {
    fn new(tag: &str, tune: impl FnOnce(&mut HttpConfig)) -> Site {
        let dir = TempDir::new(tag);
        let www = dir.path().join("www");
        std::fs::create_dir(&www).unwrap();
        let w = |name: &str, data: &[u8]| std::fs::write(www.join(name), data).unwrap();
        w("index.html", INDEX.as_bytes());
        w("hello.txt", b"hello\n");
        w("style.css", b"body{}\n");
        w("app.js", b"let x = 1;\n");
        w("data.json", b"{\"a\":1}\n");
        w("img.png", b"\x89PNG\r\n\x1a\n");
        w("photo.jpg", b"\xff\xd8\xff\xe0");
        w("blob.bin", &[0, 1, 2, 255]);
        w("noext", b"plain bytes");
        w("empty.txt", b"");
        w("a b.txt", b"space\n");
        std::fs::create_dir(www.join("sub")).unwrap();
        std::fs::write(www.join("sub/index.html"), b"sub index\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
        std::os::unix::fs::symlink(www.join("loop"), www.join("loop")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), www.join("link-out.txt")).unwrap();
        std::os::unix::fs::symlink(www.join("hello.txt"), www.join("link-in.txt")).unwrap();
        let (client_net, server_net) = two_stacks();
        let mut config = HttpConfig::new(&www);
        config.idle_timeout = Duration::from_secs(5);
        tune(&mut config);
        let server = HttpServer::start(&server_net.handle(), server_addr(80), config).unwrap();
        Site { server, client_net, _server_net: server_net, dir }
    }

    fn www(&self) -> std::path::PathBuf {
        self.dir.path().join("www")
    }

    fn client(&self) -> HttpClient {
        HttpClient::connect(&self.client_net.handle(), server_addr(80), TIMEOUT).unwrap()
    }

    /// Sends `bytes` on a fresh connection and reads one response.
    fn raw(&self, bytes: &[u8], head_request: bool) -> (HttpResponse, HttpClient) {
        let mut c = self.client();
        c.send_raw(bytes).unwrap();
        let r = c.read_response(head_request).unwrap();
        (r, c)
    }
}

/// An error response as the server makes them: text body naming the status, framed by
/// Content-Length.
fn assert_error(r: &HttpResponse, status: u16, reason: &str) {
    assert_eq!((r.status, r.reason.as_str()), (status, reason), "{r:?}");
    assert_eq!(r.body, format!("{status} {reason}\n").as_bytes());
    assert_eq!(r.header("content-length"), Some(r.body.len().to_string().as_str()));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
}

/// The server closed the connection after its response, with nothing more sent.
fn assert_closed(c: &mut HttpClient) {
    assert_eq!(c.read_until_closed().unwrap(), b"", "the server should have closed");
}

#[test]
fn files_are_served_with_their_content_type_and_length() {
    let site = Site::new("types", |_| {});
    let mut c = site.client();
    let cases: [(&str, &[u8], &str); 11] = [
        ("/", INDEX.as_bytes(), "text/html; charset=utf-8"),
        ("/index.html", INDEX.as_bytes(), "text/html; charset=utf-8"),
        ("/hello.txt", b"hello\n", "text/plain; charset=utf-8"),
        ("/style.css", b"body{}\n", "text/css; charset=utf-8"),
        ("/app.js", b"let x = 1;\n", "text/javascript; charset=utf-8"),
        ("/data.json", b"{\"a\":1}\n", "application/json"),
        ("/img.png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("/photo.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"),
        ("/blob.bin", &[0, 1, 2, 255], "application/octet-stream"),
        ("/noext", b"plain bytes", "application/octet-stream"),
        ("/empty.txt", b"", "text/plain; charset=utf-8"),
    ];
    for (path, body, ctype) in cases {
        let r = c.get(path).unwrap();
        assert_eq!((r.status, r.reason.as_str()), (200, "OK"), "{path}");
        assert_eq!(r.body, body, "{path}");
        assert_eq!(r.header("content-type"), Some(ctype), "{path}");
        assert_eq!(r.header("content-length"), Some(body.len().to_string().as_str()), "{path}");
        assert_eq!(r.header("connection"), None, "HTTP/1.1 keep-alive is the default");
    }
    for (path, body) in [
        ("/sub/", &b"sub index\n"[..]),
        ("/a%20b.txt", b"space\n"),
        ("/hello.txt?x=1", b"hello\n"),
        ("/link-in.txt", b"hello\n"),
    ] {
        let r = c.get(path).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, body), "{path}");
    }
    // The absolute form of a target (as sent to proxies) names the same file.
    c.send_raw(b"GET http://198.18.0.2/hello.txt HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n").unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello\n"[..]));
    let stats = site.server.stats();
    assert_eq!(stats.status(200), 16);
    assert_eq!(stats.connections.load(std::sync::atomic::Ordering::Relaxed), 1, "one keep-alive connection");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection_and_pipelined_ones() {
    let site = Site::new("keepalive", |_| {});
    let mut c = site.client();
    for i in 0..10 {
        let path = if i % 2 == 0 { "/hello.txt" } else { "/missing" };
        let r = c.get(path).unwrap();
        assert_eq!(r.status, if i % 2 == 0 { 200 } else { 404 });
    }
    // Three requests in one write: three responses in order, on the same connection.
    c.send_raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\nGET /data.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r1 = c.read_response(false).unwrap();
    let r2 = c.read_response(true).unwrap();
    let r3 = c.read_response(false).unwrap();
    assert_eq!((r1.status, r1.body.as_slice()), (200, &b"hello\n"[..]));
    assert_eq!((r2.status, r2.header("content-length"), r2.body.len()), (200, Some("7"), 0));
    assert_eq!((r3.status, r3.body.as_slice()), (200, &b"{\"a\":1}\n"[..]));
    // Connection: close is honoured: answered, then closed.
    let last = c.request("GET", "/hello.txt", &[("Connection", "close")]).unwrap();
    assert_eq!((last.status, last.header("connection")), (200, Some("close")));
    assert_closed(&mut c);
    let s = site.server.stats().snapshot();
    assert_eq!((s.connections, s.requests), (1, 14));
    assert_eq!(s.by_status, vec![(200, 9), (404, 5)]);
}

#[test]
fn http_1_0_closes_unless_keep_alive_is_asked() {
    let site = Site::new("http10", |_| {});
    let (r, mut c) = site.raw(b"GET /hello.txt HTTP/1.0\r\n\r\n", false);
    assert_eq!((r.status, r.header("connection"), r.body.as_slice()), (200, Some("close"), &b"hello\n"[..]));
    assert_closed(&mut c);
    let (r, mut c) = site.raw(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false);
    assert_eq!((r.status, r.header("connection")), (200, Some("keep-alive")));
    c.send_raw(b"GET /style.css HTTP/1.0\r\n\r\n").unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!((r.status, r.body.as_slice(), r.header("connection")), (200, &b"body{}\n"[..], Some("close")));
    assert_closed(&mut c);
}

#[test]
fn head_has_the_headers_of_get_and_no_body() {
    let site = Site::new("head", |_| {});
    let mut c = site.client();
    for path in ["/", "/hello.txt", "/blob.bin", "/missing"] {
        let h = c.head(path).unwrap();
        let g = c.get(path).unwrap();
        assert_eq!(h.status, g.status, "{path}");
        assert_eq!(h.headers, g.headers, "{path}: HEAD has GET's headers");
        assert!(h.body.is_empty());
        assert_eq!(h.header("content-length"), Some(g.body.len().to_string().as_str()));
    }
    // Had HEAD sent a body, it would have been read as the start of the next response.
    let after = c.get("/hello.txt").unwrap();
    assert_eq!((after.status, after.body.as_slice()), (200, &b"hello\n"[..]));
}

#[test]
fn a_256_kib_file_arrives_byte_exact() {
    let site = Site::new("big", |_| {});
    let sum = transfer::write_checked_file(&site.www(), "big.bin", 256 * 1024, 7).unwrap();
    let expected = transfer::pattern(256 * 1024, 7);
    let r = http_get(&site.client_net.handle(), server_addr(80), "/big.bin", TIMEOUT).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("262144"));
    assert!(r.body == expected, "256 KiB body differs");
    let t = fetch_verified(&site.client_net.handle(), server_addr(80), "/big.bin", TIMEOUT).unwrap();
    assert_eq!((t.bytes, t.crc32), (256 * 1024, sum));
    // A corrupted checksum file is caught.
    std::fs::write(site.www().join("big.bin.crc32"), format!("{:08x}\n", sum ^ 1)).unwrap();
    let err = fetch_verified(&site.client_net.handle(), server_addr(80), "/big.bin", TIMEOUT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let sent = site.server.stats().bytes_sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent > 3 * 256 * 1024, "bytes_sent {sent}");
}

#[test]
fn malformed_requests_are_400_and_close() {
    let site = Site::new("400", |_| {});
    let cases: [&[u8]; 10] = [
        b"\x00\xff\xfe binary junk\x01\r\n\r\n",
        b"GET /hello.txt\r\n\r\n",
        b"GET  /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /hello.txt HTTQ/1.1\r\nHost: x\r\n\r\n",
        b"GET /hello.txt HTTP/1.1\r\nHost x\r\n\r\n",
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        b"GET /hello.txt HTTP/1.1\r\n\r\n", // HTTP/1.1 without Host
        b"GET /hello%zz.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    ];
    for bytes in cases {
        let (r, mut c) = site.raw(bytes, false);
        assert_error(&r, 400, "Bad Request");
        assert_eq!(r.header("connection"), Some("close"), "{:?}", String::from_utf8_lossy(bytes));
        assert_closed(&mut c);
    }
    let (r, mut c) = site.raw(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", false);
    assert_error(&r, 505, "HTTP Version Not Supported");
    assert_closed(&mut c);
    assert_eq!(site.server.stats().status(400), 10);
}

#[test]
fn missing_files_are_404_and_the_connection_stays() {
    let site = Site::new("404", |_| {});
    let mut c = site.client();
    for path in ["/missing.html", "/sub/missing", "/hello.txt/below", "/nodir/"] {
        let r = c.get(path).unwrap();
        assert_error(&r, 404, "Not Found");
        assert_eq!(r.header("connection"), None, "{path}");
    }
    assert_eq!(c.get("/hello.txt").unwrap().status, 200);
    assert_eq!(site.server.stats().status(404), 4);
}

#[test]
fn other_methods_are_405_with_allow() {
    let site = Site::new("405", |_| {});
    let mut c = site.client();
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"] {
        let r = c.request(method, "/hello.txt", &[]).unwrap();
        assert_error(&r, 405, "Method Not Allowed");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // No body came with them, so the connection carries on.
    assert_eq!(c.get("/hello.txt").unwrap().status, 200);
    assert_eq!(site.server.stats().status(405), 6);
}

#[test]
fn requests_with_bodies_are_413_and_close() {
    let site = Site::new("413", |_| {});
    let cases: [&[u8]; 4] = [
        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        b"PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\npartial",
    ];
    for bytes in cases {
        let (r, mut c) = site.raw(bytes, false);
        assert_error(&r, 413, "Content Too Large");
        assert_eq!(r.header("connection"), Some("close"));
        assert_closed(&mut c);
    }
    // Content-Length: 0 is no body.
    let (r, _c) = site.raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", false);
    assert_eq!(r.status, 200);
    assert_eq!(site.server.stats().status(413), 4);
}

#[test]
fn oversized_heads_are_431() {
    let site = Site::new("431", |c| c.max_head = 1024);
    let mut big = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..40 {
        big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "v".repeat(40)).as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    let (r, mut c) = site.raw(&big, false);
    assert_error(&r, 431, "Request Header Fields Too Large");
    assert_closed(&mut c);
    // A head that never ends is cut off at the limit too.
    let (r, _c) = site.raw(&vec![b'a'; 4000], false);
    assert_error(&r, 431, "Request Header Fields Too Large");
}

#[test]
fn unreadable_files_are_500() {
    let site = Site::new("500", |_| {});
    let mut c = site.client();
    // A directory without the trailing slash, and a symbolic link to itself.
    for path in ["/sub", "/loop"] {
        let r = c.get(path).unwrap();
        assert_error(&r, 500, "Internal Server Error");
        let h = c.head(path).unwrap();
        assert_eq!((h.status, h.body.len()), (500, 0));
    }
    assert_eq!(c.get("/hello.txt").unwrap().status, 200, "the connection survives a 500");
    assert_eq!(site.server.stats().status(500), 4);
}

#[test]
fn path_traversal_is_refused() {
    let site = Site::new("traversal", |_| {});
    let mut c = site.client();
    let cases = [
        ("/../secret.txt", 403),
        ("/sub/../../secret.txt", 403),
        ("/%2e%2e/secret.txt", 403),
        ("/%2E%2E%2Fsecret.txt", 403),
        ("/sub/%2e%2e/%2e%2e/secret.txt", 403),
        ("/..%2f..%2fsecret.txt", 403),
        ("/.%2e/secret.txt", 403),
        ("/hello.txt%00.html", 403),
        ("/%00", 403),
        ("/link-out.txt", 403),
        // Absolute paths inside the target stay below the docroot.
        (&format!("/{}", site.dir.path().join("secret.txt").display()), 404),
        ("//etc/passwd", 404),
        ("/%2Fetc%2Fpasswd", 404),
    ];
    for (path, status) in &cases {
        let r = c.get(path).unwrap();
        assert_eq!(r.status, *status, "{path}");
        assert!(!String::from_utf8_lossy(&r.body).contains("secret"), "{path} leaked the file");
    }
    // Targets that are not absolute paths at all are malformed.
    for target in ["../secret.txt", "%2e%2e/secret.txt", "secret.txt"] {
        let (r, _c) = site.raw(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(), false);
        assert_eq!(r.status, 400, "{target}");
    }
    assert_eq!(site.server.stats().status(200), 0);
}

#[test]
fn every_worker_busy_and_the_queue_full_is_503() {
    let site = Site::new("503", |c| {
        c.workers = 1;
        c.queue = 1;
    });
    // The only worker holds the first connection (waiting for its next request).
    let mut first = site.client();
    assert_eq!(first.get("/hello.txt").unwrap().status, 200);
    // The second waits in the queue with its request sent.
    let mut second = site.client();
    second.send_raw(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // The third finds the queue full: the listener answers 503 and closes.
    let (r, mut third) = site.raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", false);
    assert_error(&r, 503, "Service Unavailable");
    assert_eq!((r.header("connection"), r.header("retry-after")), (Some("close"), Some("1")));
    assert_closed(&mut third);
    // The first lets go: the worker takes the second, which is answered.
    let bye = first.request("GET", "/hello.txt", &[("Connection", "close")]).unwrap();
    assert_eq!(bye.status, 200);
    drop(first);
    let r = second.read_response(false).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"body{}\n"[..]));
    let s = site.server.stats().snapshot();
    assert_eq!((s.connections, s.by_status.clone()), (3, vec![(200, 3), (503, 1)]), "{s}");
}

#[test]
fn idle_keep_alive_connections_time_out_and_free_the_worker() {
    let idle = Duration::from_millis(300);
    let site = Site::new("idle", |c| {
        c.workers = 1;
        c.queue = 4;
        c.idle_timeout = idle;
    });
    let mut first = site.client();
    assert_eq!(first.get("/hello.txt").unwrap().status, 200);
    let start = Instant::now();
    // The second is queued behind the idle first one, and served once it times out.
    let mut second = site.client();
    let r = second.get("/style.css").unwrap();
    let waited = start.elapsed();
    assert_eq!(r.status, 200);
    assert!(waited >= idle / 2 && waited < TIMEOUT, "served after {waited:?}");
    // The idle one was closed quietly (no response, just the end of the stream).
    assert_closed(&mut first);
    assert_eq!(site.server.stats().idle_timeouts.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn a_request_head_that_stops_halfway_is_408() {
    let site = Site::new("408", |c| c.idle_timeout = Duration::from_millis(300));
    let (r, mut c) = site.raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n", false);
    assert_error(&r, 408, "Request Timeout");
    assert_closed(&mut c);
}

#[test]
fn stop_is_bounded_with_connections_open() {
    let site = Site::new("stop", |c| c.idle_timeout = Duration::from_secs(60));
    let mut held = site.client();
    assert_eq!(held.get("/hello.txt").unwrap().status, 200);
    let mut half = TcpStream::connect(&site.client_net.handle(), server_addr(80), Some(TIMEOUT)).unwrap();
    half.set_read_timeout(Some(TIMEOUT));
    let Site { server, client_net, _server_net, dir } = site;
    let start = Instant::now();
    server.stop();
    assert!(start.elapsed() < Duration::from_secs(2), "stop took {:?}", start.elapsed());
    // Both connections are closed by the server, and nothing listens any more.
    assert_closed(&mut held);
    let mut rest = Vec::new();
    let _ = half.read_to_end(&mut rest);
    assert!(rest.is_empty());
    let err = TcpStream::connect(&client_net.handle(), server_addr(80), Some(TIMEOUT)).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    drop(dir);
}

#[test]
fn starting_on_a_missing_docroot_or_a_taken_port_fails() {
    let (_a, b) = two_stacks();
    let err = HttpServer::start(&b.handle(), server_addr(80), HttpConfig::new("/nonexistent/nic-apps")).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let dir = TempDir::new("taken");
    let first = HttpServer::start(&b.handle(), server_addr(80), HttpConfig::new(dir.path())).unwrap();
    let err = HttpServer::start(&b.handle(), server_addr(80), HttpConfig::new(dir.path())).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    first.stop();
}
