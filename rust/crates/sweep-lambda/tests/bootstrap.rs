//! Runs the real `bootstrap` binary against a fake Runtime API on 127.0.0.1.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sweep_lambda_testkit::{invocation, unused_authority, FakeRuntimeApi, ACCEPTED, SHUTDOWN};

const BOOTSTRAP: &str = env!("CARGO_BIN_EXE_bootstrap");

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
    let fake = FakeRuntimeApi::start(vec![
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
    let fake_authority = fake.authority().to_owned();
    let output = run_bootstrap(&[("AWS_LAMBDA_RUNTIME_API", &fake_authority)]);
    let received = fake.finish();
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
    assert_eq!(received[0].header("Host"), Some(fake_authority.as_str()));

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
    let fake = FakeRuntimeApi::start(vec![ACCEPTED.to_owned()]);
    let output = run_bootstrap(&[
        ("AWS_LAMBDA_RUNTIME_API", fake.authority()),
        ("SWEEP_MAX_POINTS", "lots"),
    ]);
    let received = fake.finish();
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
    let fake = FakeRuntimeApi::start(vec![
        invocation("req-1", r#"{"function":"identity","values":[1,2,3]}"#),
        ACCEPTED.to_owned(),
        SHUTDOWN.to_owned(),
    ]);
    let output = run_bootstrap(&[
        ("AWS_LAMBDA_RUNTIME_API", fake.authority()),
        ("SWEEP_MAX_POINTS", "2"),
    ]);
    let received = fake.finish();
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
    let authority = unused_authority();
    let started = Instant::now();
    let output = run_bootstrap(&[("AWS_LAMBDA_RUNTIME_API", &authority)]);
    assert_eq!(output.status.code(), Some(1));
    // Four attempts with 100, 200 and 400 ms between them, then gives up.
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let retries = stderr
        .lines()
        .filter(|l| l.starts_with("sweep-lambda: next: ") && l.contains("; retrying in "));
    assert_eq!(retries.count(), 3, "{stderr}");
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
