//! Lambda's Runtime API (version 2018-06-01), as a custom runtime uses it:
//! <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::fmt;
use std::thread;
use std::time::Duration;

use crate::http::{self, HttpError, Request, Response};
use crate::report::ErrorReport;

const PREFIX: &str = "/2018-06-01/runtime";
/// How long to wait for the Runtime API to answer a post (not for `next`, which long-polls).
const POST_TIMEOUT: Duration = Duration::from_secs(30);

/// One invocation, as `next` returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`: when the invocation times out, in ms since the Unix epoch.
    pub deadline_ms: Option<u64>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: Option<String>,
    /// `Lambda-Runtime-Trace-Id`, for `_X_AMZN_TRACE_ID`.
    pub trace_id: Option<String>,
    /// The event.
    pub body: Vec<u8>,
}

/// Why a Runtime API call failed.
#[derive(Debug)]
pub enum RuntimeError {
    /// The API could not be reached (after retries, for `next`).
    Transport {
        call: &'static str,
        attempts: u32,
        source: HttpError,
    },
    /// The API answered with a status the runtime cannot go on from.
    Status {
        call: &'static str,
        status: u16,
        body: String,
    },
    /// The API's answer breaks the protocol (such as a missing request id).
    Protocol(String),
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Transport {
                call,
                attempts: 1,
                source,
            } => write!(f, "{call}: {source}"),
            RuntimeError::Transport {
                call,
                attempts,
                source,
            } => {
                write!(f, "{call}: {source} (gave up after {attempts} attempts)")
            }
            RuntimeError::Status { call, status, body } => {
                write!(f, "{call}: Runtime API answered {status}")?;
                let body = body.trim();
                if !body.is_empty() {
                    write!(f, ": {body}")?;
                }
                Ok(())
            }
            RuntimeError::Protocol(msg) => write!(f, "protocol error: {msg}"),
        }
    }
}

impl std::error::Error for RuntimeError {}

/// Retries of `next` when the Runtime API cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
    pub first_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_backoff: Duration::from_millis(100),
        }
    }
}

/// Checks the value of `AWS_LAMBDA_RUNTIME_API`: "host:port" (a name, an IPv4 address or a
/// bracketed IPv6 address, and a port from 1 to 65535).
pub fn parse_authority(value: &str) -> Result<String, String> {
    let bad = || format!("AWS_LAMBDA_RUNTIME_API must be host:port, got {value:?}");
    let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    };
    let port_ok = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0);
    if host_ok && port_ok {
        Ok(value.to_owned())
    } else {
        Err(bad())
    }
}

/// A request id is put into a URL path: accept only characters that need no escaping there.
fn valid_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b))
}

/// A client of one Runtime API endpoint.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    name: String,
    authority: String,
    retry: Retry,
}

impl RuntimeApi {
    /// `name` starts the client's own log lines (such as a retry of `next`), so that they say
    /// which function wrote them: every function's binary is called `bootstrap` on Lambda.
    pub fn new(name: impl Into<String>, authority: impl Into<String>, retry: Retry) -> Self {
        RuntimeApi {
            name: name.into(),
            authority: authority.into(),
            retry,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Waits for the next invocation (no read timeout: this long-polls until there is one).
    /// Transport errors are retried with backoff; an error status is not, since Lambda sends
    /// one only when the environment is going away.
    pub fn next(&self) -> Result<Invocation, RuntimeError> {
        let path = format!("{PREFIX}/invocation/next");
        let mut backoff = self.retry.first_backoff;
        let mut attempt = 1;
        let response = loop {
            match http::send(&self.authority, &Request::get(&path)) {
                Ok(response) => break response,
                Err(e @ HttpError::InvalidRequest(_)) => {
                    return Err(RuntimeError::Transport {
                        call: "next",
                        attempts: attempt,
                        source: e,
                    })
                }
                Err(e) if attempt >= self.retry.attempts.max(1) => {
                    return Err(RuntimeError::Transport {
                        call: "next",
                        attempts: attempt,
                        source: e,
                    })
                }
                Err(e) => {
                    eprintln!(
                        "{}: next: {e}; retrying in {} ms",
                        self.name,
                        backoff.as_millis()
                    );
                    thread::sleep(backoff);
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
            }
        };
        if response.status != 200 {
            return Err(RuntimeError::Status {
                call: "next",
                status: response.status,
                body: response.body_text(),
            });
        }
        let request_id = match response.header("Lambda-Runtime-Aws-Request-Id") {
            Some(id) if valid_request_id(id) => id.to_owned(),
            Some(id) => return Err(RuntimeError::Protocol(format!("invalid request id {id:?}"))),
            None => {
                return Err(RuntimeError::Protocol(
                    "next: no Lambda-Runtime-Aws-Request-Id header".to_owned(),
                ))
            }
        };
        let deadline_ms = response
            .header("Lambda-Runtime-Deadline-Ms")
            .and_then(|v| v.parse().ok());
        let function_arn = response
            .header("Lambda-Runtime-Invoked-Function-Arn")
            .map(str::to_owned);
        let trace_id = response
            .header("Lambda-Runtime-Trace-Id")
            .map(str::to_owned);
        Ok(Invocation {
            request_id,
            deadline_ms,
            function_arn,
            trace_id,
            body: response.body,
        })
    }

    fn post(
        &self,
        call: &'static str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, RuntimeError> {
        let mut request = Request::post(path, headers, body);
        request.read_timeout = Some(POST_TIMEOUT);
        let response =
            http::send(&self.authority, &request).map_err(|source| RuntimeError::Transport {
                call,
                attempts: 1,
                source,
            })?;
        if !response.is_success() {
            return Err(RuntimeError::Status {
                call,
                status: response.status,
                body: response.body_text(),
            });
        }
        Ok(response)
    }

    /// Sends the handler's result for `request_id`.
    pub fn respond(&self, request_id: &str, body: &[u8]) -> Result<(), RuntimeError> {
        let path = format!("{PREFIX}/invocation/{request_id}/response");
        self.post(
            "response",
            &path,
            &[("Content-Type", "application/json")],
            body,
        )
        .map(drop)
    }

    /// Reports that the invocation `request_id` failed.
    pub fn report_error(&self, request_id: &str, report: &ErrorReport) -> Result<(), RuntimeError> {
        let path = format!("{PREFIX}/invocation/{request_id}/error");
        self.post_error("error", &path, report)
    }

    /// Reports that the runtime could not initialise (before any `next`).
    pub fn report_init_error(&self, report: &ErrorReport) -> Result<(), RuntimeError> {
        let path = format!("{PREFIX}/init/error");
        self.post_error("init/error", &path, report)
    }

    fn post_error(
        &self,
        call: &'static str,
        path: &str,
        report: &ErrorReport,
    ) -> Result<(), RuntimeError> {
        let headers = [
            ("Content-Type", "application/json"),
            (
                "Lambda-Runtime-Function-Error-Type",
                report.error_type.as_str(),
            ),
        ];
        self.post(call, path, &headers, report.to_json().as_bytes())
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use sweep_lambda_testkit::{receive, unused_authority, FakeRuntimeApi, ACCEPTED};

    fn accepted() -> String {
        ACCEPTED.to_owned()
    }

    fn api(fake: &FakeRuntimeApi) -> RuntimeApi {
        RuntimeApi::new(
            "test",
            fake.authority(),
            Retry {
                attempts: 3,
                first_backoff: Duration::from_millis(10),
            },
        )
    }

    #[test]
    fn parses_the_api_address() {
        for ok in [
            "127.0.0.1:9001",
            "localhost:9001",
            "[::1]:9001",
            "my-host.internal:1",
        ] {
            assert_eq!(parse_authority(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "127.0.0.1",
            "127.0.0.1:",
            ":9001",
            "host:0",
            "host:65536",
            "host:9x",
            "ho st:1",
            "http://h:1",
            "[::1:9001",
            "[nope]:1",
        ] {
            assert_eq!(
                parse_authority(bad),
                Err(format!(
                    "AWS_LAMBDA_RUNTIME_API must be host:port, got {bad:?}"
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn next_reads_the_invocation_headers() {
        let fake = FakeRuntimeApi::start(vec![
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nlambda-runtime-aws-request-id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
             Lambda-Runtime-Deadline-Ms: 1542409706888\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:sweep\r\n\
             Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n\
             Content-Length: 16\r\n\r\n{\"function\":\"x\"}"
                .to_owned(),
        ]);
        let invocation = api(&fake).next().unwrap();
        assert_eq!(
            invocation,
            Invocation {
                request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned(),
                deadline_ms: Some(1542409706888),
                function_arn: Some(
                    "arn:aws:lambda:us-east-2:123456789012:function:sweep".to_owned()
                ),
                trace_id: Some(
                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
                        .to_owned()
                ),
                body: b"{\"function\":\"x\"}".to_vec(),
            }
        );
        let request = fake.next_request();
        assert_eq!(
            request.line,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1"
        );
        assert_eq!(request.header("host"), Some(fake.authority()));
        assert_eq!(request.header("content-length"), None);
        fake.finish();
    }

    #[test]
    fn next_needs_a_usable_request_id() {
        let fake = FakeRuntimeApi::start(vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_owned(),
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ../../x\r\nContent-Length: 2\r\n\r\n{}".to_owned(),
        ]);
        let api = api(&fake);
        assert_eq!(
            api.next().unwrap_err().to_string(),
            "protocol error: next: no Lambda-Runtime-Aws-Request-Id header"
        );
        assert_eq!(
            api.next().unwrap_err().to_string(),
            "protocol error: invalid request id \"../../x\""
        );
        fake.finish();
    }

    #[test]
    fn next_does_not_retry_an_error_status() {
        let fake = FakeRuntimeApi::start(vec!["HTTP/1.1 500 Internal Server Error\r\nContent-Length: 25\r\n\r\n{\"errorType\":\"Shutdown\"}\n".to_owned()]);
        let err = api(&fake).next().unwrap_err();
        assert!(matches!(err, RuntimeError::Status { status: 500, .. }));
        assert_eq!(
            err.to_string(),
            "next: Runtime API answered 500: {\"errorType\":\"Shutdown\"}"
        );
        fake.finish();
    }

    #[test]
    fn next_retries_transport_errors_then_gives_up() {
        let authority = unused_authority();
        let api = RuntimeApi::new(
            "test",
            authority.clone(),
            Retry {
                attempts: 3,
                first_backoff: Duration::from_millis(20),
            },
        );
        let started = std::time::Instant::now();
        let err = api.next().unwrap_err();
        // Waited 20 ms, then 40 ms, between the three attempts.
        assert!(started.elapsed() >= Duration::from_millis(60));
        assert!(
            matches!(err, RuntimeError::Transport { attempts: 3, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("next: cannot connect to {authority}: ")),
            "{err}"
        );
        assert!(
            err.to_string().ends_with(" (gave up after 3 attempts)"),
            "{err}"
        );
    }

    #[test]
    fn next_recovers_when_the_api_comes_back() {
        // Reserve a port, free it, and start listening on it only after the first attempt failed.
        let authority = unused_authority();
        let port = authority
            .rsplit_once(':')
            .unwrap()
            .1
            .parse::<u16>()
            .unwrap();
        let api = RuntimeApi::new(
            "test",
            authority,
            Retry {
                attempts: 10,
                first_backoff: Duration::from_millis(50),
            },
        );
        let server = thread::spawn(move || {
            thread::sleep(Duration::from_millis(30));
            let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
            let (mut stream, _) = listener.accept().unwrap();
            receive(&stream);
            stream.write_all(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        });
        assert_eq!(api.next().unwrap().request_id, "r1");
        server.join().unwrap();
    }

    #[test]
    fn respond_posts_the_result() {
        let fake = FakeRuntimeApi::start(vec![accepted()]);
        api(&fake).respond("r-1", b"{\"count\":1}").unwrap();
        let request = fake.next_request();
        assert_eq!(
            request.line,
            "POST /2018-06-01/runtime/invocation/r-1/response HTTP/1.1"
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("content-length"), Some("11"));
        assert_eq!(request.body, "{\"count\":1}");
        fake.finish();
    }

    #[test]
    fn report_error_posts_lambda_error_json() {
        let fake = FakeRuntimeApi::start(vec![accepted()]);
        let report = ErrorReport::new(
            "InvalidEvent",
            "field \"step\" must be greater than 0, got 0",
        );
        api(&fake).report_error("r-2", &report).unwrap();
        let request = fake.next_request();
        assert_eq!(
            request.line,
            "POST /2018-06-01/runtime/invocation/r-2/error HTTP/1.1"
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.header("lambda-runtime-function-error-type"),
            Some("InvalidEvent")
        );
        assert_eq!(
            request.body,
            r#"{"errorMessage":"field \"step\" must be greater than 0, got 0","errorType":"InvalidEvent"}"#
        );
        fake.finish();
    }

    #[test]
    fn init_error_goes_to_its_own_path() {
        let fake = FakeRuntimeApi::start(vec![accepted()]);
        api(&fake)
            .report_init_error(&ErrorReport::new("Runtime.ConfigInvalid", "bad"))
            .unwrap();
        let request = fake.next_request();
        assert_eq!(request.line, "POST /2018-06-01/runtime/init/error HTTP/1.1");
        assert_eq!(
            request.header("lambda-runtime-function-error-type"),
            Some("Runtime.ConfigInvalid")
        );
        fake.finish();
    }

    #[test]
    fn posts_fail_on_error_status() {
        let fake = FakeRuntimeApi::start(vec![
            "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n".to_owned(),
        ]);
        let err = api(&fake).respond("r-3", b"{}").unwrap_err();
        assert_eq!(err.to_string(), "response: Runtime API answered 413");
        fake.finish();
    }
}
