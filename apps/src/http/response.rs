//! Response heads and the small bodies of error responses.

/// The reason phrase for the status codes this server sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// A response head: status line, `Server`, `Content-Length`, `Content-Type`,
/// `Connection`, then `extra` headers, then the blank line.
pub fn head(
    status: u16,
    content_type: &str,
    content_length: u64,
    connection: Connection,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut h = format!(
        "HTTP/1.1 {status} {}\r\nServer: nic-apps\r\nContent-Length: {content_length}\r\nContent-Type: {content_type}\r\n",
        reason_phrase(status)
    );
    match connection {
        Connection::Close => h.push_str("Connection: close\r\n"),
        Connection::KeepAlive => h.push_str("Connection: keep-alive\r\n"),
        Connection::Default => {}
    }
    for (name, value) in extra {
        h.push_str(name);
        h.push_str(": ");
        h.push_str(value);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// What the `Connection` header of a response says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// `Connection: close`: the server closes after this response.
    Close,
    /// `Connection: keep-alive`: said to HTTP/1.0 clients that asked for it.
    KeepAlive,
    /// No header: HTTP/1.1's default, persistent.
    Default,
}

/// The body of an error response: one line of text naming the status.
pub fn error_body(status: u16) -> Vec<u8> {
    format!("{status} {}\n", reason_phrase(status)).into_bytes()
}

/// A whole error response (head and body; a HEAD request gets the head only).
pub fn error(status: u16, connection: Connection, head_only: bool, extra: &[(&str, &str)]) -> Vec<u8> {
    let body = error_body(status);
    let mut out = head(status, "text/plain; charset=utf-8", body.len() as u64, connection, extra);
    if !head_only {
        out.extend_from_slice(&body);
    }
    out
}
