//! A fake Lambda Runtime API for tests, shared by `sweep-lambda-runtime`'s unit tests and the
//! functions' integration tests (a dev-dependency only: no function binary links it).
//!
//! [`FakeRuntimeApi::start`] listens on 127.0.0.1 and answers each connection, in order, with
//! the next of the canned raw HTTP responses it was given, recording the request it received.
//! The canned answers a test needs most are [`invocation`], [`ACCEPTED`] and [`SHUTDOWN`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

/// What the Runtime API answers to a posted response or error.
pub const ACCEPTED: &str = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";

/// What the Runtime API answers to `next` when the environment is going away: the runtime must
/// exit.
pub const SHUTDOWN: &str = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

/// An answer to `next`: invocation `id` carrying `event`, with the headers Lambda sends.
pub fn invocation(id: &str, event: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
         Lambda-Runtime-Deadline-Ms: 4102444800000\r\n\
         Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:sweep\r\n\
         Lambda-Runtime-Trace-Id: Root=1-67891233-abcdef012345678912345678;Parent=0123456789abcdef;Sampled=1\r\n\
         Content-Length: {}\r\n\r\n{event}",
        event.len()
    )
}

/// `127.0.0.1:<port>` where nothing listens: bound to get a free port, then closed.
pub fn unused_authority() -> String {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string()
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The request line, such as "GET /2018-06-01/runtime/invocation/next HTTP/1.1".
    pub line: String,
    /// Header fields in the order sent, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    /// The first header field called `name`, ignoring ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request (head, then a body framed by Content-Length) from `stream`.
pub fn receive(stream: &TcpStream) -> Received {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.push((n.to_owned(), v.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Received {
        line: line.trim_end().to_owned(),
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

/// A fake Runtime API serving a fixed list of responses, one connection each.
pub struct FakeRuntimeApi {
    authority: String,
    requests: mpsc::Receiver<Received>,
    server: thread::JoinHandle<()>,
}

impl FakeRuntimeApi {
    pub fn start(responses: Vec<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let (tx, requests) = mpsc::channel();
        let server = thread::spawn(move || {
            for response in responses {
                let (mut stream, _) = listener.accept().unwrap();
                // The test may have stopped listening; the response must still be written.
                let _ = tx.send(receive(&stream));
                stream.write_all(response.as_bytes()).unwrap();
            }
        });
        FakeRuntimeApi {
            authority,
            requests,
            server,
        }
    }

    /// `127.0.0.1:<port>`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The next request received, waiting for it.
    pub fn next_request(&self) -> Received {
        self.requests
            .recv()
            .expect("the fake Runtime API stopped before receiving another request")
    }

    /// Waits until every response was served and returns the requests not yet taken.
    pub fn finish(self) -> Vec<Received> {
        self.server
            .join()
            .expect("the fake Runtime API's thread panicked");
        self.requests.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_responses_in_order_and_records_the_requests() {
        let fake = FakeRuntimeApi::start(vec![invocation("r-1", "{}"), ACCEPTED.to_owned()]);
        for (request, expected) in [
            (
                "GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
                "Lambda-Runtime-Aws-Request-Id: r-1",
            ),
            (
                "POST /r HTTP/1.1\r\ncontent-length: 2\r\n\r\nok",
                "202 Accepted",
            ),
        ] {
            let mut stream = TcpStream::connect(fake.authority()).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            assert!(answer.contains(expected), "{answer}");
        }
        assert_eq!(fake.next_request().header("HOST"), Some("h"));
        let rest = fake.finish();
        assert_eq!(rest.len(), 1);
        assert_eq!(
            (rest[0].line.as_str(), rest[0].body.as_str()),
            ("POST /r HTTP/1.1", "ok")
        );
    }

    #[test]
    fn unused_authority_refuses_connections() {
        assert!(TcpStream::connect(unused_authority()).is_err());
    }
}
