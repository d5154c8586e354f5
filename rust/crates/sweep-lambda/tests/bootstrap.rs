//! Runs the real `bootstrap` binary against a fake Runtime API on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_bootstrap");

#[derive(Debug)]
struct Received {
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn receive(stream: &TcpStream) -> Received {
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

fn invocation(id: &str, event: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
         Lambda-Runtime-Deadline-Ms: 4102444800000\r\n\
         Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:sweep\r\n\
         Lambda-Runtime-Trace-Id: Root=1-67891233-abcdef012345678912345678;Parent=0123456789abcdef;Sampled=1\r\n\
         Content-Length: {}\r\n\r\n{event}",
        event.len()
    )
}

const ACCEPTED: &str = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
const SHUTDOWN: &str = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

/// Serves `responses` one connection each, then returns what the binary sent.
fn fake_api(responses: Vec<String>) -> (String, thread::JoinHandle<Vec<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let mut received = Vec::new();
        for response in responses {
            let (mut stream, _) = listener.accept().unwrap();
            received.push(receive(&stream));
            stream.write_all(response.as_bytes()).unwrap();
        }
        received
    });
    (authority, server)
}

fn run_bootstrap(envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BOOTSTRAP);
    command
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("SWEEP_MAX_POINTS");
    command.envs(envs.iter().copied()).stdin(Stdio::null());
    command.output().unwrap()
}

#[test]
fn serves_invocations_until_the_api_says_stop() {
    let (authority, server) = fake_api(vec![
        invocation(
            "req-1",
            r#"{"start": 0, "stop": 10, "step": 2.5, "function": "square"}"#,
        ),
        ACCEPTED.to_owned(),
        invocation(
            "req-2",
            r#"{"function": "square", "start": 0, "stop": 10, "step": 0}"#,
        ),
        ACCEPTED.to_owned(),
        invocation("req-3", "{not json"),
        ACCEPTED.to_owned(),
        SHUTDOWN.to_owned(),
    ]);
    let output = run_bootstrap(&[("AWS_LAMBDA_RUNTIME_API", &authority)]);
    let received = server.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("next: Runtime API answered 500"),
        "{stderr}"
    );

    let lines: Vec<&str> = received.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /2018-06-01/runtime/invocation/req-2/error HTTP/1.1",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /2018-06-01/runtime/invocation/req-3/error HTTP/1.1",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
        ]
    );
    assert_eq!(received[0].header("Host"), Some(authority.as_str()));

    let response = &received[1];
    assert_eq!(response.header("Content-Type"), Some("application/json"));
    assert_eq!(
        response.body,
        r#"{"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},{"x":5,"y":25},{"x":7.5,"y":56.25},{"x":10,"y":100}],"min":0,"max":100,"mean":37.5,"sum":187.5}"#
    );

    let error = &received[3];
    assert_eq!(error.header("Content-Type"), Some("application/json"));
    assert_eq!(
        error.header("Lambda-Runtime-Function-Error-Type"),
        Some("InvalidEvent")
    );
    assert_eq!(
        error.body,
        r#"{"errorMessage":"field \"step\" must be greater than 0, got 0","errorType":"InvalidEvent"}"#
    );

    let error = &received[5];
    assert_eq!(
        error.header("Lambda-Runtime-Function-Error-Type"),
        Some("InvalidJson")
    );
    assert_eq!(
        error.body,
        r#"{"errorMessage":"the event is not valid JSON: unexpected character 'n', expected a string key after '{' at line 1, column 2","errorType":"InvalidJson"}"#
    );

    // One line per invocation with `trace`, none without.
    let traced = stderr.lines().filter(|l| l.contains("request_id=")).count();
    assert_eq!(
        traced,
        if cfg!(feature = "trace") { 3 } else { 0 },
        "{stderr}"
    );
}

#[test]
fn reports_bad_configuration_to_init_error() {
    let (authority, server) = fake_api(vec![ACCEPTED.to_owned()]);
    let output = run_bootstrap(&[
        ("AWS_LAMBDA_RUNTIME_API", &authority),
        ("SWEEP_MAX_POINTS", "lots"),
    ]);
    let received = server.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].line,
        "POST /2018-06-01/runtime/init/error HTTP/1.1"
    );
    assert_eq!(
        received[0].header("Lambda-Runtime-Function-Error-Type"),
        Some("Runtime.ConfigInvalid")
    );
    assert_eq!(
        received[0].body,
        r#"{"errorMessage":"SWEEP_MAX_POINTS must be a whole number from 1 to 100000, got \"lots\"","errorType":"Runtime.ConfigInvalid"}"#
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("initialization failed: SWEEP_MAX_POINTS")
    );
}

#[test]
fn applies_the_configured_point_limit() {
    let (authority, server) = fake_api(vec![
        invocation("req-1", r#"{"function":"identity","values":[1,2,3]}"#),
        ACCEPTED.to_owned(),
        SHUTDOWN.to_owned(),
    ]);
    let output = run_bootstrap(&[
        ("AWS_LAMBDA_RUNTIME_API", &authority),
        ("SWEEP_MAX_POINTS", "2"),
    ]);
    let received = server.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        received[1].line,
        "POST /2018-06-01/runtime/invocation/req-1/error HTTP/1.1"
    );
    assert_eq!(
        received[1].body,
        r#"{"errorMessage":"too many points: \"values\" has 3 entries, the limit is 2","errorType":"InvalidEvent"}"#
    );
}

#[test]
fn exits_without_the_runtime_api_variable() {
    let output = run_bootstrap(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("AWS_LAMBDA_RUNTIME_API"));
}

#[test]
fn exits_when_the_api_is_unreachable() {
    let authority = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let started = Instant::now();
    let output = run_bootstrap(&[("AWS_LAMBDA_RUNTIME_API", &authority)]);
    assert_eq!(output.status.code(), Some(1));
    // Four attempts with 100, 200 and 400 ms between them, then gives up.
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("retrying in").count(), 3, "{stderr}");
    assert!(
        stderr.contains("(gave up after 4 attempts); exiting"),
        "{stderr}"
    );
}

#[test]
fn malformed_api_address_is_an_init_failure() {
    let output = run_bootstrap(&[("AWS_LAMBDA_RUNTIME_API", "no-port")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWS_LAMBDA_RUNTIME_API must be host:port, got \"no-port\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("could not report the initialization error"),
        "{stderr}"
    );
}
