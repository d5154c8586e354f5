//! A minimal HTTP/1.1 client over `std::net::TcpStream`, enough for Lambda's Runtime API.
//!
//! One request per connection (`Connection: close`). Requests carry `Host`, `User-Agent`,
//! `Connection` and, when there is a body or the method is POST/PUT/PATCH, `Content-Length`;
//! other headers (such as `Content-Type`) come from the caller. Responses are read per
//! RFC 9112: interim 1xx responses are skipped, header names are matched without regard to
//! case, and the body is framed by `Transfer-Encoding: chunked`, by `Content-Length`, or by the
//! server closing the connection.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Longest status or header line accepted.
pub const MAX_LINE: usize = 8 * 1024;
/// Most header fields accepted in one response.
pub const MAX_HEADERS: usize = 100;
/// Largest response body accepted (Lambda events are at most 6 MB, or 1 MB for async ones).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Why a request failed.
#[derive(Debug)]
pub enum HttpError {
    /// The request itself is malformed (such as a header value with a line break).
    InvalidRequest(String),
    /// The address could not be resolved or connected to.
    Connect {
        authority: String,
        source: io::Error,
    },
    /// Sending the request or receiving the response failed.
    Io(io::Error),
    /// The response is not valid HTTP/1.x, or exceeds a limit.
    Protocol(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidRequest(msg) => write!(f, "invalid request: {msg}"),
            HttpError::Connect { authority, source } => {
                write!(f, "cannot connect to {authority}: {source}")
            }
            HttpError::Io(e) => write!(f, "connection error: {e}"),
            HttpError::Protocol(msg) => write!(f, "malformed response: {msg}"),
        }
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HttpError::Connect { source, .. } => Some(source),
            HttpError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        HttpError::Io(e)
    }
}

fn protocol<T>(msg: impl Into<String>) -> Result<T, HttpError> {
    Err(HttpError::Protocol(msg.into()))
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Origin-form target, starting with '/'.
    pub path: &'a str,
    /// Extra header fields, sent in this order after `Host`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// How long to wait for the response; `None` waits for ever (for long polls).
    pub read_timeout: Option<Duration>,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str) -> Self {
        Request {
            method: "GET",
            path,
            headers: &[],
            body: &[],
            read_timeout: None,
        }
    }

    pub fn post(path: &'a str, headers: &'a [(&'a str, &'a str)], body: &'a [u8]) -> Self {
        Request {
            method: "POST",
            path,
            headers,
            body,
            read_timeout: None,
        }
    }
}

/// A response, body read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Header fields in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header field called `name`, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text, invalid UTF-8 replaced, for messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Builds the request head (request line and header fields, through the empty line).
pub fn request_head(authority: &str, req: &Request<'_>) -> Result<String, HttpError> {
    if !is_token(req.method) {
        return Err(HttpError::InvalidRequest(format!(
            "bad method {:?}",
            req.method
        )));
    }
    if !req.path.starts_with('/') || req.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(HttpError::InvalidRequest(format!(
            "bad path {:?}",
            req.path
        )));
    }
    if authority.is_empty()
        || authority
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || b == b'/')
    {
        return Err(HttpError::InvalidRequest(format!("bad host {authority:?}")));
    }
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n",
        req.method, req.path
    );
    for (name, value) in req.headers {
        if !is_token(name) {
            return Err(HttpError::InvalidRequest(format!(
                "bad header name {name:?}"
            )));
        }
        if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(HttpError::InvalidRequest(format!(
                "bad value for header {name}"
            )));
        }
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    if !req.body.is_empty() || matches!(req.method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("\r\n");
    Ok(head)
}

fn connect(authority: &str) -> Result<TcpStream, HttpError> {
    let connect_error = |source| HttpError::Connect {
        authority: authority.to_owned(),
        source,
    };
    let addrs = authority.to_socket_addrs().map_err(connect_error)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address found");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(connect_error(last))
}

/// Sends `req` to `authority` ("host:port") on a new connection and reads the response.
pub fn send(authority: &str, req: &Request<'_>) -> Result<Response, HttpError> {
    let head = request_head(authority, req)?;
    let stream = connect(authority)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    stream.set_read_timeout(req.read_timeout)?;
    {
        let mut writer = io::BufWriter::new(&stream);
        writer.write_all(head.as_bytes())?;
        writer.write_all(req.body)?;
        writer.flush()?;
    }
    read_response(BufReader::new(&stream), req.method == "HEAD")
}

/// Reads one line ending in LF (CRLF or bare LF); `None` at end of input before any byte.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, HttpError> {
    let mut line = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64 + 2)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        if line.len() > MAX_LINE {
            return protocol(format!("line longer than {MAX_LINE} bytes"));
        }
        return protocol("connection closed in the middle of a line");
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn read_status_line(reader: &mut impl BufRead) -> Result<(u16, String), HttpError> {
    let line = match read_line(reader)? {
        Some(line) => line,
        None => return protocol("connection closed before the status line"),
    };
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.")
        || code.len() != 3
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return protocol(format!("bad status line {line:?}"));
    }
    let status = code.parse().expect("three digits");
    if status < 100 {
        return protocol(format!("bad status line {line:?}"));
    }
    Ok((status, reason.to_owned()))
}

fn read_headers(reader: &mut impl BufRead) -> Result<Vec<(String, String)>, HttpError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let line = match read_line(reader)? {
            Some(line) => line,
            None => return protocol("connection closed in the header section"),
        };
        if line.is_empty() {
            return Ok(headers);
        }
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: a continuation of the previous field's value.
            match headers.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                    continue;
                }
                None => return protocol("header section starts with a continuation line"),
            }
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) if is_token(name) => (name, value),
            _ => return protocol(format!("bad header line {line:?}")),
        };
        if headers.len() == MAX_HEADERS {
            return protocol(format!("more than {MAX_HEADERS} header fields"));
        }
        headers.push((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()));
    }
}

/// Reads a response from `reader`; `head_request` says the request was HEAD (no body).
pub fn read_response(mut reader: impl BufRead, head_request: bool) -> Result<Response, HttpError> {
    let (status, reason, headers) = loop {
        let (status, reason) = read_status_line(&mut reader)?;
        let headers = read_headers(&mut reader)?;
        match status {
            101 => return protocol("unexpected 101 Switching Protocols"),
            100..=199 => continue, // interim response: the real one follows
            _ => break (status, reason, headers),
        }
    };
    let mut response = Response {
        status,
        reason,
        headers,
        body: Vec::new(),
    };
    if head_request || status == 204 || status == 304 {
        return Ok(response);
    }

    let transfer_encoding: Vec<String> = response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    if !transfer_encoding.is_empty() {
        if transfer_encoding.last().map(String::as_str) == Some("chunked") {
            response.body = read_chunked(&mut reader)?;
        } else {
            response.body = read_to_close(&mut reader)?;
        }
        return Ok(response);
    }

    let mut length: Option<usize> = None;
    for (_, value) in response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        for part in value.split(',') {
            let part = part.trim();
            let parsed = match part.parse::<usize>() {
                Ok(n) if part.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return protocol(format!("bad Content-Length {value:?}")),
            };
            if length.is_some_and(|l| l != parsed) {
                return protocol("conflicting Content-Length values");
            }
            length = Some(parsed);
        }
    }
    response.body = match length {
        Some(n) if n > MAX_BODY => {
            return protocol(format!("body of {n} bytes exceeds {MAX_BODY}"))
        }
        Some(n) => {
            let mut body = Vec::with_capacity(n);
            reader.by_ref().take(n as u64).read_to_end(&mut body)?;
            if body.len() < n {
                return protocol(format!("body ended after {} of {n} bytes", body.len()));
            }
            body
        }
        None => read_to_close(&mut reader)?,
    };
    Ok(response)
}

fn read_to_close(reader: &mut impl BufRead) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    reader
        .by_ref()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body)?;
    if body.len() > MAX_BODY {
        return protocol(format!("body exceeds {MAX_BODY} bytes"));
    }
    Ok(body)
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = match read_line(reader)? {
            Some(line) => line,
            None => return protocol("chunked body ended before the last chunk"),
        };
        // chunk-size [ ";" chunk-ext ]
        let size_text = line
            .split(';')
            .next()
            .unwrap_or_default()
            .trim_matches([' ', '\t']);
        let size = match usize::from_str_radix(size_text, 16) {
            Ok(size)
                if !size_text.is_empty() && size_text.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                size
            }
            _ => return protocol(format!("bad chunk size line {line:?}")),
        };
        if size == 0 {
            // Trailer fields, then the empty line; a server that closes right after the last
            // chunk is tolerated.
            while let Some(trailer) = read_line(reader)? {
                if trailer.is_empty() {
                    break;
                }
            }
            return Ok(body);
        }
        if size > MAX_BODY - body.len() {
            return protocol(format!("body exceeds {MAX_BODY} bytes"));
        }
        let before = body.len();
        reader.by_ref().take(size as u64).read_to_end(&mut body)?;
        if body.len() - before < size {
            return protocol("chunked body ended in the middle of a chunk");
        }
        match read_line(reader)? {
            Some(line) if line.is_empty() => {}
            _ => return protocol("chunk not followed by CRLF"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// Reads one request (head and Content-Length body) from a test connection.
    fn read_request(stream: &TcpStream) -> Vec<u8> {
        let mut reader = BufReader::new(stream);
        let mut raw = Vec::new();
        let mut length = 0;
        loop {
            let mut line = Vec::new();
            reader.read_until(b'\n', &mut line).unwrap();
            raw.extend_from_slice(&line);
            let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
            if let Some(v) = text.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == b"\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        raw.extend_from_slice(&body);
        raw
    }

    /// A server that answers one connection with `response` and returns the request it got.
    fn serve_once(response: &'static [u8]) -> (String, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let request = read_request(&stream);
            stream.write_all(response).unwrap();
            request
        });
        (authority, handle)
    }

    fn parse(raw: &[u8]) -> Result<Response, HttpError> {
        read_response(raw, false)
    }

    #[test]
    fn sends_a_well_formed_post() {
        let (authority, server) =
            serve_once(b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n");
        let headers = [("Content-Type", "application/json"), ("X-Extra", "1")];
        let response = send(
            &authority,
            &Request::post("/a/b?c=d", &headers, b"{\"x\":1}"),
        )
        .unwrap();
        assert_eq!(response.status, 202);
        assert_eq!(response.reason, "Accepted");
        assert_eq!(response.body, b"{\"status\":\"OK\"}\n");
        let request = String::from_utf8(server.join().unwrap()).unwrap();
        assert_eq!(
            request,
            format!(
                "POST /a/b?c=d HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nX-Extra: 1\r\nContent-Length: 7\r\n\r\n{{\"x\":1}}"
            )
        );
    }

    #[test]
    fn get_has_no_content_length_and_post_always_does() {
        let get = request_head("h:1", &Request::get("/next")).unwrap();
        assert_eq!(get, format!("GET /next HTTP/1.1\r\nHost: h:1\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n"));
        let post = request_head("h:1", &Request::post("/x", &[], b"")).unwrap();
        assert!(post.ends_with("Content-Length: 0\r\n\r\n"), "{post}");
    }

    #[test]
    fn refuses_header_injection() {
        let bad_value = [("X-A", "1\r\nX-B: 2")];
        assert!(matches!(
            request_head("h:1", &Request::post("/", &bad_value, b"")),
            Err(HttpError::InvalidRequest(_))
        ));
        let bad_name = [("X A", "1")];
        assert!(matches!(
            request_head("h:1", &Request::post("/", &bad_name, b"")),
            Err(HttpError::InvalidRequest(_))
        ));
        assert!(matches!(
            request_head("h:1", &Request::get("/a b")),
            Err(HttpError::InvalidRequest(_))
        ));
        assert!(matches!(
            request_head("h:1", &Request::get("nope")),
            Err(HttpError::InvalidRequest(_))
        ));
        assert!(matches!(
            request_head("h:1\r\n", &Request::get("/")),
            Err(HttpError::InvalidRequest(_))
        ));
    }

    #[test]
    fn get_reads_headers_case_insensitively() {
        let (authority, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: abc\r\nCONTENT-TYPE:application/json\r\ncontent-length: 2\r\n\r\n{}",
        );
        let response = send(&authority, &Request::get("/next")).unwrap();
        assert_eq!(
            response.header("Lambda-Runtime-Aws-Request-Id"),
            Some("abc")
        );
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("Missing"), None);
        assert_eq!(response.body, b"{}");
        assert!(String::from_utf8(server.join().unwrap())
            .unwrap()
            .starts_with("GET /next HTTP/1.1\r\n"));
    }

    #[test]
    fn reads_a_chunked_body() {
        let (authority, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n",
        );
        let response = send(&authority, &Request::get("/")).unwrap();
        assert_eq!(response.body, b"Wikipedia in\r\n\r\nchunks.");
        server.join().unwrap();
    }

    #[test]
    fn reads_until_close_without_framing() {
        let (authority, server) =
            serve_once(b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it\nuntil close");
        let response = send(&authority, &Request::get("/")).unwrap();
        assert_eq!(response.body, b"all of it\nuntil close");
        server.join().unwrap();
    }

    #[test]
    fn skips_interim_responses() {
        let response = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, b"ok".as_slice())
        );
        assert_eq!(response.header("x"), None);
    }

    #[test]
    fn bodiless_statuses() {
        let response = parse(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").unwrap();
        assert!(response.body.is_empty());
        let response =
            read_response(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..], true).unwrap();
        assert!(response.body.is_empty());
    }

    #[test]
    fn accepts_bare_lf_folding_and_reasonless_status() {
        let response = parse(b"HTTP/1.1 500\nX-Long: a\n  b\nContent-Length: 3\n\nerr").unwrap();
        assert_eq!((response.status, response.reason.as_str()), (500, ""));
        assert_eq!(response.header("x-long"), Some("a b"));
        assert_eq!(response.body, b"err");
        assert!(!response.is_success());
    }

    #[test]
    fn content_length_wins_over_extra_bytes() {
        let response = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA").unwrap();
        assert_eq!(response.body, b"ok");
        let response = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok").unwrap();
        assert_eq!(response.body, b"ok");
    }

    #[test]
    fn rejects_malformed_responses() {
        let cases: [(&[u8], &str); 12] = [
            (b"", "connection closed before the status line"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "body ended after 5 of 10 bytes",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                "bad Content-Length \"x\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
                "bad Content-Length \"+1\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "conflicting Content-Length values",
            ),
            (
                b"SSH-2.0-OpenSSH\r\n",
                "bad status line \"SSH-2.0-OpenSSH\"",
            ),
            (
                b"HTTP/1.1 20 OK\r\n\r\n",
                "bad status line \"HTTP/1.1 20 OK\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                "bad header line \"no colon\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
                "connection closed in the header section",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "bad chunk size line \"zz\"",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                "chunked body ended in the middle of a chunk",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
                "chunk not followed by CRLF",
            ),
        ];
        for (raw, expected) in cases {
            match parse(raw) {
                Err(HttpError::Protocol(msg)) => {
                    assert_eq!(msg, expected, "{}", String::from_utf8_lossy(raw))
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(raw)),
            }
        }
    }

    #[test]
    fn enforces_limits() {
        let long_line = format!(
            "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_LINE + 10)
        );
        assert!(
            matches!(parse(long_line.as_bytes()), Err(HttpError::Protocol(m)) if m.contains("longer than"))
        );
        let many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "X: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        assert!(
            matches!(parse(many.as_bytes()), Err(HttpError::Protocol(m)) if m.contains("header fields"))
        );
        let huge = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(
            matches!(parse(huge.as_bytes()), Err(HttpError::Protocol(m)) if m.contains("exceeds"))
        );
    }

    #[test]
    fn connection_refused_is_a_connect_error() {
        // Bind to get a free port, then close it so nothing listens there.
        let authority = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string();
        match send(&authority, &Request::get("/")) {
            Err(HttpError::Connect { authority: a, .. }) => assert_eq!(a, authority),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            send("no-port-here", &Request::get("/")),
            Err(HttpError::Connect { .. })
        ));
    }

    #[test]
    fn read_timeout_applies_when_set() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let server = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            read_request(&stream);
            thread::sleep(Duration::from_millis(500)); // never answers in time
        });
        let mut req = Request::get("/slow");
        req.read_timeout = Some(Duration::from_millis(50));
        assert!(matches!(send(&authority, &req), Err(HttpError::Io(_))));
        server.join().unwrap();
    }
}
