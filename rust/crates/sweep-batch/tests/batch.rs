//! Runs the real `sweep-batch` binary against a fake Runtime API on 127.0.0.1.

use std::process::{Command, Output, Stdio};

use sweep_lambda_testkit::{invocation, FakeRuntimeApi, ACCEPTED, SHUTDOWN};

const SWEEP_BATCH: &str = env!("CARGO_BIN_EXE_sweep-batch");

fn run_sweep_batch(envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(SWEEP_BATCH);
    command
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("SWEEP_MAX_JOBS")
        .env_remove("SWEEP_MAX_POINTS");
    command.envs(envs.iter().copied()).stdin(Stdio::null());
    command.output().unwrap()
}

#[test]
fn serves_batches_until_the_api_says_stop() {
    let scheduled = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
        "time":"2026-11-26T06:00:00Z","region":"eu-west-1","resources":[],
        "detail":{"jobs":[{"function":"exp","values":[0]}]}}"#;
    let fake = FakeRuntimeApi::start(vec![
        invocation(
            "req-1",
            r#"{"jobs": [{"function": "square", "start": 0, "stop": 10, "step": 2.5}, {"function": "sqrt", "values": [-1]}]}"#,
        ),
        ACCEPTED.to_owned(),
        invocation("req-2", scheduled),
        ACCEPTED.to_owned(),
        invocation("req-3", r#"{"jobs": {}}"#),
        ACCEPTED.to_owned(),
        SHUTDOWN.to_owned(),
    ]);
    let output = run_sweep_batch(&[("AWS_LAMBDA_RUNTIME_API", fake.authority())]);
    let received = fake.finish();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("sweep-batch: Runtime API at 127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("next: Runtime API answered 500; exiting"),
        "{stderr}"
    );

    let lines: Vec<&str> = received.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /2018-06-01/runtime/invocation/req-2/response HTTP/1.1",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            "POST /2018-06-01/runtime/invocation/req-3/error HTTP/1.1",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
        ]
    );

    // A failed job is reported in its place; the batch itself succeeds.
    assert_eq!(received[1].header("Content-Type"), Some("application/json"));
    assert_eq!(
        received[1].body,
        r#"{"count":2,"succeeded":1,"failed":1,"results":[{"function":"square","count":5,"min":0,"max":100,"mean":37.5},{"errorMessage":"sqrt(-1) is undefined","errorType":"DomainError"}]}"#
    );
    assert_eq!(
        received[3].body,
        r#"{"count":1,"succeeded":1,"failed":0,"results":[{"function":"exp","count":1,"min":1,"max":1,"mean":1}]}"#
    );
    // An event that is not a batch fails the invocation.
    assert_eq!(
        received[5].header("Lambda-Runtime-Function-Error-Type"),
        Some("InvalidEvent")
    );
    assert_eq!(
        received[5].body,
        r#"{"errorMessage":"field \"jobs\" must be an array of sweep events, got object","errorType":"InvalidEvent"}"#
    );

    // One line per invocation with `trace`, none without.
    let traced: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("request_id="))
        .collect();
    if cfg!(feature = "trace") {
        assert_eq!(traced.len(), 3, "{stderr}");
        assert!(
            traced[2].starts_with("sweep-batch: request_id=req-3 status=error:InvalidEvent "),
            "{stderr}"
        );
    } else {
        assert_eq!(traced, Vec::<&str>::new(), "{stderr}");
    }
}

#[test]
fn applies_the_configured_limits() {
    let fake = FakeRuntimeApi::start(vec![
        invocation(
            "req-1",
            r#"{"jobs":[{"function":"identity","values":[1,2,3]},{"function":"identity","values":[1]}]}"#,
        ),
        ACCEPTED.to_owned(),
        invocation("req-2", r#"{"jobs":[{},{},{}]}"#),
        ACCEPTED.to_owned(),
        SHUTDOWN.to_owned(),
    ]);
    let output = run_sweep_batch(&[
        ("AWS_LAMBDA_RUNTIME_API", fake.authority()),
        ("SWEEP_MAX_JOBS", "2"),
        ("SWEEP_MAX_POINTS", "2"),
    ]);
    let received = fake.finish();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        received[1].body,
        r#"{"count":2,"succeeded":1,"failed":1,"results":[{"errorMessage":"too many points: \"values\" has 3 entries, the limit is 2","errorType":"InvalidEvent"},{"function":"identity","count":1,"min":1,"max":1,"mean":1}]}"#
    );
    assert_eq!(
        received[3].line,
        "POST /2018-06-01/runtime/invocation/req-2/error HTTP/1.1"
    );
    assert_eq!(
        received[3].body,
        r#"{"errorMessage":"too many jobs: \"jobs\" has 3 entries, the limit is 2","errorType":"InvalidEvent"}"#
    );
}

#[test]
fn reports_bad_configuration_to_init_error() {
    let fake = FakeRuntimeApi::start(vec![ACCEPTED.to_owned()]);
    let output = run_sweep_batch(&[
        ("AWS_LAMBDA_RUNTIME_API", fake.authority()),
        ("SWEEP_MAX_JOBS", "0"),
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
        r#"{"errorMessage":"SWEEP_MAX_JOBS must be a whole number from 1 to 1000, got \"0\"","errorType":"Runtime.ConfigInvalid"}"#
    );
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("sweep-batch: initialization failed: SWEEP_MAX_JOBS"));
}

#[test]
fn exits_without_the_runtime_api_variable() {
    let output = run_sweep_batch(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("sweep-batch: AWS_LAMBDA_RUNTIME_API: ")
    );
}
