//! Request parsing: the header section, the request line, header fields, the target's
//! percent-decoding and its mapping to a file under the docroot. Pure functions over
//! bytes; every malformed input is an error value, never a panic.

use std::path::{Component, Path, PathBuf};

/// Where the header section ends in `buf`: `(head_len, total_len)`, where `head_len`
/// excludes the blank line and `total_len` includes it. Accepts CRLF and bare LF line
/// ends (RFC 9112 section 2.2 lets a recipient accept LF alone).
pub fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + off;
        // The line after this newline is empty if it is "\n" or "\r\n".
        match buf.get(nl + 1..) {
            Some([b'\n', ..]) => return Some((nl + 1, nl + 2)),
            Some([b'\r', b'\n', ..]) => return Some((nl + 1, nl + 3)),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

/// Leading empty lines before a request line, which RFC 9112 section 2.2 says a server
/// should ignore: how many bytes of them `buf` starts with.
pub fn leading_blank_lines(buf: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match &buf[i..] {
            [b'\r', b'\n', ..] => i += 2,
            [b'\n', ..] => i += 1,
            _ => return i,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other well-formed method token (answered 405).
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Other(m) => m,
        }
    }
}

/// A parsed request head.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// The request target in origin-form (starts with '/'); an absolute-form target
    /// (`http://host/path`) is reduced to its path.
    pub target: String,
    /// HTTP/1.x minor version (0 or 1).
    pub minor: u8,
    /// Header fields in order; names as sent, values trimmed of surrounding whitespace.
    pub headers: Vec<(String, String)>,
}

/// Why a request head is not acceptable, each with its status code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// 400: the request line or a header line is not well formed (or not UTF-8 text).
    Malformed(&'static str),
    /// 505: a well-formed version other than HTTP/1.0 and HTTP/1.1.
    Version,
}

impl RequestError {
    pub fn status(&self) -> u16 {
        match self {
            RequestError::Malformed(_) => 400,
            RequestError::Version => 505,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            RequestError::Malformed(why) => why,
            RequestError::Version => "unsupported HTTP version",
        }
    }
}

/// RFC 9110 `tchar`: what method tokens and field names are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Splits `head` (the header section without its final blank line) into lines without
/// their line ends.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Parses a request head. `head` is what `find_head_end` delimited, after any leading
/// blank lines.
pub fn parse_request(head: &[u8]) -> Result<Request, RequestError> {
    use RequestError::Malformed;
    let text = std::str::from_utf8(head).map_err(|_| Malformed("request head is not UTF-8"))?;
    let mut lines = lines(text.as_bytes()).map(|l| std::str::from_utf8(l).unwrap_or_default());
    let line = lines.next().ok_or(Malformed("empty request"))?;
    if line.bytes().any(|b| b == b'\r' || b == 0) {
        return Err(Malformed("control character in the request line"));
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed("request line is not METHOD SP TARGET SP VERSION"));
    };
    if !is_token(method) {
        return Err(Malformed("bad method"));
    }
    let minor = parse_version(version)?;
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(Malformed("bad request target"));
    }
    let target = origin_form(target).ok_or(Malformed("request target is not an absolute path"))?;
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        other => Method::Other(other.to_string()),
    };
    let mut headers = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            return Err(Malformed("obsolete line folding"));
        }
        let (name, value) = line.split_once(':').ok_or(Malformed("header line without a colon"))?;
        if !is_token(name) {
            return Err(Malformed("bad header name"));
        }
        if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(Malformed("control character in a header value"));
        }
        headers.push((name.to_string(), value.trim_matches([' ', '\t']).to_string()));
    }
    Ok(Request { method, target: target.to_string(), minor, headers })
}

/// The origin-form of a target: itself if it starts with '/', the path part of an
/// absolute-form `http://host[:port]/path` (RFC 9112 section 3.2.2: a server must accept
/// it), `None` for anything else (`*`, relative paths, other schemes).
fn origin_form(target: &str) -> Option<&str> {
    if target.starts_with('/') {
        return Some(target);
    }
    let scheme_len = ["http://", "https://"]
        .iter()
        .find(|p| target.get(..p.len()).is_some_and(|t| t.eq_ignore_ascii_case(p)))?
        .len();
    let rest = &target[scheme_len..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if authority_end == 0 {
        return None;
    }
    match &rest[authority_end..] {
        "" => Some("/"),
        path if path.starts_with('/') => Some(path),
        _ => None, // "http://host?query": no path to serve
    }
}

/// "HTTP/1.1" → 1, "HTTP/1.0" → 0; another well-formed version is 505, anything else 400.
fn parse_version(v: &str) -> Result<u8, RequestError> {
    let digits = v.strip_prefix("HTTP/").ok_or(RequestError::Malformed("bad HTTP version"))?.as_bytes();
    match digits {
        [b'1', b'.', m @ (b'0' | b'1')] => Ok(m - b'0'),
        [a, b'.', c] if a.is_ascii_digit() && c.is_ascii_digit() => Err(RequestError::Version),
        [a] if a.is_ascii_digit() => Err(RequestError::Version),
        _ => Err(RequestError::Malformed("bad HTTP version")),
    }
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether any `Connection` header lists `token` (case-insensitive).
    pub fn connection_has(&self, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the connection stays open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.connection_has("close") {
            return false;
        }
        self.minor >= 1 || self.connection_has("keep-alive")
    }

    /// Whether the request carries a body: `Transfer-Encoding` of any kind, or a
    /// `Content-Length` above zero. Unparseable or conflicting lengths are malformed.
    pub fn has_body(&self) -> Result<bool, RequestError> {
        if self.header("transfer-encoding").is_some() {
            return Ok(true);
        }
        let mut length: Option<u64> = None;
        for (_, v) in self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
            for item in v.split(',') {
                let item = item.trim();
                if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(RequestError::Malformed("bad Content-Length"));
                }
                // Too many digits for u64 is still a (huge) body, not a parse error.
                let n = item.parse::<u64>().unwrap_or(u64::MAX);
                if length.is_some_and(|l| l != n) {
                    return Err(RequestError::Malformed("conflicting Content-Length values"));
                }
                length = Some(n);
            }
        }
        Ok(length.unwrap_or(0) > 0)
    }
}

/// Why a target does not name a servable path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathError {
    /// 400: a '%' not followed by two hex digits, or the decoded path is not UTF-8.
    BadEncoding,
    /// 403: a `..` segment, a NUL byte, or a segment that would leave the docroot.
    Forbidden,
}

impl PathError {
    pub fn status(&self) -> u16 {
        match self {
            PathError::BadEncoding => 400,
            PathError::Forbidden => 403,
        }
    }
}

/// Percent-decodes `s` (RFC 3986 section 2.1). '+' stays '+' (that is form encoding).
pub fn percent_decode(s: &str) -> Result<Vec<u8>, PathError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let (Some(hi), Some(lo)) = (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
            else {
                return Err(PathError::BadEncoding);
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The path below the docroot that `target` names: the query is dropped, the path
/// percent-decoded and split into segments; empty and `.` segments are skipped, `..`,
/// NUL and anything else that is not a plain file name is refused. A path ending in '/'
/// (so also `/` itself) names `index.html` in that directory. The result is relative
/// and made only of normal components.
pub fn target_to_relative_path(target: &str) -> Result<PathBuf, PathError> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    if decoded.contains(&0) {
        return Err(PathError::Forbidden);
    }
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::BadEncoding)?;
    if !decoded.starts_with('/') {
        // "%2F.." and friends decode to something that is not an absolute path.
        return Err(PathError::Forbidden);
    }
    let mut rel = PathBuf::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Err(PathError::Forbidden),
            s => {
                // One segment must be exactly one normal component (no separators, no
                // prefixes, nothing the platform reads specially).
                let mut comps = Path::new(s).components();
                match (comps.next(), comps.next()) {
                    (Some(Component::Normal(c)), None) if c == s => rel.push(c),
                    _ => return Err(PathError::Forbidden),
                }
            }
        }
    }
    if decoded.ends_with('/') {
        rel.push("index.html");
    }
    Ok(rel)
}

/// The Content-Type for a file name, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("txt" | "sum" | "crc32") => "text/plain; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_with_crlf_and_lf() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"), Some((25, 27)));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\nHost: a\n\nrest"), Some((23, 24)));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(leading_blank_lines(b"\r\n\nGET"), 3);
    }

    #[test]
    fn parses_a_request_and_its_headers() {
        let r = parse_request(b"GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nConnection:  Keep-Alive, close \r\n").unwrap();
        assert_eq!((r.method.clone(), r.target.as_str(), r.minor), (Method::Get, "/a%20b?x=1", 1));
        assert_eq!(r.header("HOST"), Some("h"));
        assert!(r.connection_has("close") && !r.keep_alive());
        let abs = parse_request(b"GET HTTP://h:80/a/b?c HTTP/1.1\r\nHost: h\r\n").unwrap();
        assert_eq!(abs.target, "/a/b?c");
        assert_eq!(parse_request(b"GET http://h HTTP/1.1\r\n").unwrap().target, "/");
        let r10 = parse_request(b"HEAD / HTTP/1.0\r\n").unwrap();
        assert!(!r10.keep_alive());
        let r10ka = parse_request(b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n").unwrap();
        assert!(r10ka.keep_alive());
    }

    #[test]
    fn malformed_heads_are_errors() {
        for bad in [
            &b"GET /\r\n"[..],
            b"GET  / HTTP/1.1\r\n",
            b"GET / HTTP/1.1 extra\r\n",
            b"G(T / HTTP/1.1\r\n",
            b"GET / HTTQ/1.1\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n",
            b"GET / HTTP/1.1\r\nbad name: x\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n",
            b"GET / HTTP/1.1\r\nA: b\x01\r\n",
            b"GET \xff HTTP/1.1\r\n",
            b"GET ftp://x/ HTTP/1.1\r\n",
            b"GET http:///x HTTP/1.1\r\n",
            b"GET * HTTP/1.1\r\n",
        ] {
            assert!(
                matches!(parse_request(bad), Err(RequestError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_request(b"GET / HTTP/2.0\r\n").unwrap_err(), RequestError::Version);
    }

    #[test]
    fn body_detection() {
        let with = |h: &str| parse_request(format!("GET / HTTP/1.1\r\n{h}\r\n").as_bytes()).unwrap().has_body();
        assert_eq!(with("Content-Length: 0"), Ok(false));
        assert_eq!(with("Content-Length: 5"), Ok(true));
        assert_eq!(with("Content-Length: 99999999999999999999999"), Ok(true));
        assert_eq!(with("Transfer-Encoding: chunked"), Ok(true));
        assert!(with("Content-Length: -1").is_err());
        assert!(with("Content-Length: 1, 2").is_err());
        assert_eq!(with("X: y"), Ok(false));
    }

    /// Mutated and random heads: every function answers, none panics, and every path
    /// that comes out is relative and made of plain names only.
    #[test]
    fn random_and_mutated_input_never_panics() {
        let seeds: [&[u8]; 3] = [
            b"GET /a/b%20c.txt?q HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n",
            b"HEAD /%2e%2e/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n",
            b"\r\n\nPOST / HTTP/1.1\nA:b\n\n",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut input = seeds[round % seeds.len()].to_vec();
            for _ in 0..(next() % 6) {
                let pos = (next() as usize) % (input.len() + 1);
                match next() % 4 {
                    0 if pos < input.len() => input[pos] = next() as u8,
                    1 if pos < input.len() => drop(input.remove(pos)),
                    2 => input.insert(pos, b"%/.\r\n: \0"[(next() % 8) as usize]),
                    _ => input.insert(pos, next() as u8),
                }
            }
            let _ = find_head_end(&input);
            let _ = leading_blank_lines(&input);
            if let Ok(req) = parse_request(&input) {
                let _ = (req.keep_alive(), req.has_body());
                if let Ok(rel) = target_to_relative_path(&req.target) {
                    assert!(rel.components().all(|c| matches!(c, Component::Normal(_))), "{rel:?}");
                }
            }
            let text = String::from_utf8_lossy(&input);
            if let Ok(rel) = target_to_relative_path(&text) {
                assert!(rel.components().all(|c| matches!(c, Component::Normal(_))), "{rel:?}");
            }
        }
    }

    #[test]
    fn targets_map_to_relative_paths() {
        assert_eq!(target_to_relative_path("/").unwrap(), PathBuf::from("index.html"));
        assert_eq!(target_to_relative_path("/a/b.txt?q=..").unwrap(), PathBuf::from("a/b.txt"));
        assert_eq!(target_to_relative_path("/a/./b/").unwrap(), PathBuf::from("a/b/index.html"));
        assert_eq!(target_to_relative_path("/a%20b").unwrap(), PathBuf::from("a b"));
        for bad in ["/../etc/passwd", "/a/../../x", "/%2e%2e/x", "/%2E%2E%2Fx", "/a%00b", "/..%2f..%2fetc"] {
            assert_eq!(target_to_relative_path(bad), Err(PathError::Forbidden), "{bad}");
        }
        for bad in ["/%", "/%zz", "/%4", "/%ff"] {
            assert_eq!(target_to_relative_path(bad), Err(PathError::BadEncoding), "{bad}");
        }
    }
}
