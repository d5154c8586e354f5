//! `bootstrap`: the sweep function as an AWS Lambda custom runtime (`provided.al2023`).
//!
//! Lambda starts this binary with `AWS_LAMBDA_RUNTIME_API` set to the Runtime API's host:port.
//! It then loops: fetch the next invocation, run [`sweep_core::handle_with_limits`] on the event,
//! post the result or the error. Setup failures are reported to `/runtime/init/error`; when the
//! Runtime API cannot be reached (after a few retries) or answers `next` with an error, the
//! process exits non-zero, which is how a runtime tells Lambda to replace it.
//!
//! Environment:
//! - `AWS_LAMBDA_RUNTIME_API` (set by Lambda): host:port of the Runtime API.
//! - `SWEEP_MAX_POINTS` (optional): most points per sweep, 1 to 100000 (the default).
//!
//! With the `trace` feature, one line per invocation goes to stderr (and so to CloudWatch).

mod http;
mod runtime;

use std::env;
use std::panic;
use std::process::ExitCode;
use std::time::Instant;

use runtime::{ErrorReport, Invocation, Retry, RuntimeApi, RuntimeError};
use sweep_core::{ErrorKind, Limits, MAX_POINTS};

/// `errorType` of a failed initialisation.
const INIT_ERROR_TYPE: &str = "Runtime.ConfigInvalid";
/// `errorType` of a handler that panicked.
const PANIC_ERROR_TYPE: &str = "Runtime.HandlerPanic";

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
            let api = RuntimeApi::new(api_value, Retry::default());
            if let Err(e) = api.report_init_error(&ErrorReport::new(INIT_ERROR_TYPE, message)) {
                eprintln!("sweep-lambda: could not report the initialization error: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    loop {
        if let Err(e) = serve_one(&api, &limits) {
            eprintln!(
                "sweep-lambda: Runtime API at {}: {e}; exiting",
                api.authority()
            );
            return ExitCode::FAILURE;
        }
    }
}

/// Checks the environment: the Runtime API address and the optional point limit.
fn init(api_value: &str, max_points: Option<&str>) -> Result<(RuntimeApi, Limits), String> {
    let authority = runtime::parse_authority(api_value)?;
    let limits = limits_from(max_points)?;
    Ok((RuntimeApi::new(authority, Retry::default()), limits))
}

/// `SWEEP_MAX_POINTS`: unset or empty for the default, else a whole number from 1 to the default.
fn limits_from(max_points: Option<&str>) -> Result<Limits, String> {
    match max_points.map(str::trim) {
        None | Some("") => Ok(Limits::default()),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_POINTS).contains(&n) => Ok(Limits { max_points: n }),
            _ => Err(format!(
                "SWEEP_MAX_POINTS must be a whole number from 1 to {MAX_POINTS}, got {text:?}"
            )),
        },
    }
}

/// Fetches one invocation, handles it and posts the outcome. Only a failure of `next` is an
/// error: a failed post is logged and the loop goes on (Lambda has then failed or timed out
/// that invocation on its side).
fn serve_one(api: &RuntimeApi, limits: &Limits) -> Result<(), RuntimeError> {
    let invocation = api.next()?;
    // What the X-Ray SDKs read; a NUL byte could not be put in the environment.
    match &invocation.trace_id {
        Some(trace) if !trace.contains('\0') => env::set_var("_X_AMZN_TRACE_ID", trace),
        _ => env::remove_var("_X_AMZN_TRACE_ID"),
    }

    let started = Instant::now();
    let outcome = invoke(&invocation.body, limits);
    let posted = match &outcome {
        Ok(body) => api.respond(&invocation.request_id, body.as_bytes()),
        Err(report) => api.report_error(&invocation.request_id, report),
    };
    trace(&invocation, &outcome, started);
    if let Err(e) = posted {
        eprintln!("sweep-lambda: request {}: {e}", invocation.request_id);
    }
    Ok(())
}

/// Runs the handler on one event; a panic becomes an error report, not a dead runtime.
fn invoke(body: &[u8], limits: &Limits) -> Result<String, ErrorReport> {
    let event = std::str::from_utf8(body).map_err(|e| {
        ErrorReport::new(
            ErrorKind::InvalidJson.as_str(),
            format!("the event is not valid UTF-8: {e}"),
        )
    })?;
    match panic::catch_unwind(|| sweep_core::handle_with_limits(event, limits)) {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(ErrorReport::from(&e)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the handler panicked".to_owned());
            Err(ErrorReport::new(PANIC_ERROR_TYPE, message))
        }
    }
}

#[cfg(feature = "trace")]
fn trace(invocation: &Invocation, outcome: &Result<String, ErrorReport>, started: Instant) {
    let elapsed = started.elapsed();
    let status = match outcome {
        Ok(_) => "ok".to_owned(),
        Err(report) => format!("error:{}", report.error_type),
    };
    let remaining = invocation.deadline_ms.and_then(|deadline| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(deadline as i128 - now.as_millis() as i128)
    });
    let remaining = remaining.map_or_else(String::new, |ms| format!(" remaining_ms={ms}"));
    eprintln!(
        "sweep-lambda: request_id={} status={status} event_bytes={} duration_ms={:.3}{remaining}",
        invocation.request_id,
        invocation.body.len(),
        elapsed.as_secs_f64() * 1000.0,
    );
}

#[cfg(not(feature = "trace"))]
fn trace(_invocation: &Invocation, _outcome: &Result<String, ErrorReport>, _started: Instant) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_checks_address_and_limit() {
        let (api, limits) = init("127.0.0.1:9001", None).unwrap();
        assert_eq!(api.authority(), "127.0.0.1:9001");
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
