//! `bootstrap`: the sweep function as an AWS Lambda custom runtime (`provided.al2023`), one
//! parameter sweep per invocation.
//!
//! Lambda starts this binary with `AWS_LAMBDA_RUNTIME_API` set to the Runtime API's host:port.
//! It checks its settings (a bad one goes to `/runtime/init/error`), then serves invocations with
//! [`sweep_core::handle_with_limits`] through [`sweep_lambda_runtime::serve`] until the Runtime
//! API fails, and exits non-zero, which is how a runtime tells Lambda to replace it.
//!
//! Environment:
//! - `AWS_LAMBDA_RUNTIME_API` (set by Lambda): host:port of the Runtime API.
//! - `SWEEP_MAX_POINTS` (optional): most points per sweep, 1 to 100000 (the default).
//!
//! With the `trace` feature, one line per invocation goes to stderr (and so to CloudWatch).

use std::env;
use std::process::ExitCode;
use std::time::Duration;

use sweep_core::{HandlerError, Limits, MAX_POINTS};
use sweep_lambda_runtime::{
    parse_authority, serve, whole_number, ErrorReport, Invocation, Outcome, Retry, RuntimeApi,
    INIT_ERROR_TYPE,
};

/// Starts this function's log lines, and the runtime client's.
const NAME: &str = "sweep-lambda";

fn main() -> ExitCode {
    let api_value = match env::var("AWS_LAMBDA_RUNTIME_API") {
        Ok(value) => value,
        Err(e) => {
            eprintln!(
                "sweep-lambda: AWS_LAMBDA_RUNTIME_API: {e}; this binary is a Lambda custom \
                 runtime and needs the Runtime API's host:port there"
            );
            return ExitCode::FAILURE;
        }
    };
    let (api, limits) = match init(&api_value, env::var("SWEEP_MAX_POINTS").ok().as_deref()) {
        Ok(ready) => ready,
        Err(message) => {
            eprintln!("sweep-lambda: initialization failed: {message}");
            // Best effort: with a malformed address this cannot get through either.
            let api = RuntimeApi::new(NAME, api_value, Retry::default());
            if let Err(e) = api.report_init_error(&ErrorReport::new(INIT_ERROR_TYPE, message)) {
                eprintln!("sweep-lambda: could not report the initialization error: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let error = serve(&api, |invocation| invoke(&invocation.body, &limits), trace);
    eprintln!(
        "sweep-lambda: Runtime API at {}: {error}; exiting",
        api.authority()
    );
    ExitCode::FAILURE
}

/// Checks the environment: the Runtime API address and the optional point limit.
fn init(api_value: &str, max_points: Option<&str>) -> Result<(RuntimeApi, Limits), String> {
    let authority = parse_authority(api_value)?;
    let max_points = whole_number("SWEEP_MAX_POINTS", max_points, MAX_POINTS, MAX_POINTS)?;
    Ok((
        RuntimeApi::new(NAME, authority, Retry::default()),
        Limits { max_points },
    ))
}

/// Runs the sweep on one event.
fn invoke(body: &[u8], limits: &Limits) -> Outcome {
    sweep_core::event_text(body)
        .and_then(|event| sweep_core::handle_with_limits(event, limits))
        .map_err(|e| report(&e))
}

fn report(e: &HandlerError) -> ErrorReport {
    ErrorReport::new(e.error_type(), e.message())
}

#[cfg(feature = "trace")]
fn trace(invocation: &Invocation, outcome: &Outcome, elapsed: Duration) {
    eprintln!(
        "{}",
        sweep_lambda_runtime::trace_line(NAME, invocation, outcome, elapsed)
    );
}

#[cfg(not(feature = "trace"))]
fn trace(_invocation: &Invocation, _outcome: &Outcome, _elapsed: Duration) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_checks_address_and_limit() {
        let (api, limits) = init("127.0.0.1:9001", None).unwrap();
        assert_eq!((api.name(), api.authority()), (NAME, "127.0.0.1:9001"));
        assert_eq!(limits, Limits::default());
        assert_eq!(
            init("127.0.0.1:9001", Some(" 250 ")).unwrap().1,
            Limits { max_points: 250 }
        );
        assert_eq!(
            init("127.0.0.1:9001", Some("")).unwrap().1,
            Limits::default()
        );
        assert_eq!(
            init("127.0.0.1", None).unwrap_err(),
            "AWS_LAMBDA_RUNTIME_API must be host:port, got \"127.0.0.1\""
        );
        for bad in ["0", "-1", "100001", "1e3", "many"] {
            assert_eq!(
                init("127.0.0.1:9001", Some(bad)).unwrap_err(),
                format!("SWEEP_MAX_POINTS must be a whole number from 1 to 100000, got {bad:?}")
            );
        }
    }

    #[test]
    fn invoke_maps_outcomes() {
        let limits = Limits::default();
        assert_eq!(
            invoke(br#"{"function":"identity","values":[2]}"#, &limits).unwrap(),
            r#"{"function":"identity","count":1,"points":[{"x":2,"y":2}],"min":2,"max":2,"mean":2,"sum":2}"#
        );
        let report = invoke(br#"{"function":"identity"}"#, &limits).unwrap_err();
        assert_eq!(report.error_type, "InvalidEvent");
        let report = invoke(b"{\"function\":\"\xff\"}", &limits).unwrap_err();
        assert_eq!(report.error_type, "InvalidJson");
        assert!(
            report.message.starts_with("the event is not valid UTF-8: "),
            "{}",
            report.message
        );
    }
}
