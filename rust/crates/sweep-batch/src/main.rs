//! `sweep-batch`: the sweep service's batch function as an AWS Lambda custom runtime
//! (`provided.al2023`), for schedules: many sweeps per invocation, one summary each.
//!
//! The event is `{"jobs": [<sweep event>, ...]}`, or an EventBridge event whose `detail` is that
//! (see `event`); the response has one summary or error per job (see `batch`). It starts up as
//! `sweep-lambda` does (settings checked first, a bad one reported to `/runtime/init/error`) and
//! serves invocations with [`sweep_lambda_runtime::serve`] until the Runtime API fails.
//!
//! Environment:
//! - `AWS_LAMBDA_RUNTIME_API` (set by Lambda): host:port of the Runtime API.
//! - `SWEEP_MAX_JOBS` (optional): most jobs per batch, 1 to 1000 (default 100).
//! - `SWEEP_MAX_POINTS` (optional): most points per job, 1 to 100000 (the default).
//!
//! With the `trace` feature, one line per invocation goes to stderr (and so to CloudWatch).

mod batch;
mod event;

use std::env;
use std::process::ExitCode;
use std::time::Duration;

use batch::{BatchLimits, DEFAULT_MAX_JOBS, MAX_JOBS};
use sweep_core::{HandlerError, Limits, MAX_POINTS};
use sweep_lambda_runtime::{
    parse_authority, serve, whole_number, ErrorReport, Invocation, Outcome, Retry, RuntimeApi,
    INIT_ERROR_TYPE,
};

/// Starts this function's log lines, and the runtime client's.
const NAME: &str = "sweep-batch";

fn main() -> ExitCode {
    let api_value = match env::var("AWS_LAMBDA_RUNTIME_API") {
        Ok(value) => value,
        Err(e) => {
            eprintln!(
                "sweep-batch: AWS_LAMBDA_RUNTIME_API: {e}; this binary is a Lambda custom \
                 runtime and needs the Runtime API's host:port there"
            );
            return ExitCode::FAILURE;
        }
    };
    let settings = Settings {
        max_jobs: env::var("SWEEP_MAX_JOBS").ok(),
        max_points: env::var("SWEEP_MAX_POINTS").ok(),
    };
    let (api, limits) = match init(&api_value, &settings) {
        Ok(ready) => ready,
        Err(message) => {
            eprintln!("sweep-batch: initialization failed: {message}");
            // Best effort: with a malformed address this cannot get through either.
            let api = RuntimeApi::new(NAME, api_value, Retry::default());
            if let Err(e) = api.report_init_error(&ErrorReport::new(INIT_ERROR_TYPE, message)) {
                eprintln!("sweep-batch: could not report the initialization error: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let error = serve(&api, |invocation| invoke(&invocation.body, &limits), trace);
    eprintln!(
        "sweep-batch: Runtime API at {}: {error}; exiting",
        api.authority()
    );
    ExitCode::FAILURE
}

/// The optional settings, as found in the environment.
#[derive(Debug, Default)]
struct Settings {
    max_jobs: Option<String>,
    max_points: Option<String>,
}

/// Checks the environment: the Runtime API address and the optional limits.
fn init(api_value: &str, settings: &Settings) -> Result<(RuntimeApi, BatchLimits), String> {
    let authority = parse_authority(api_value)?;
    let max_jobs = whole_number(
        "SWEEP_MAX_JOBS",
        settings.max_jobs.as_deref(),
        DEFAULT_MAX_JOBS,
        MAX_JOBS,
    )?;
    let max_points = whole_number(
        "SWEEP_MAX_POINTS",
        settings.max_points.as_deref(),
        MAX_POINTS,
        MAX_POINTS,
    )?;
    let limits = BatchLimits {
        max_jobs,
        sweep: Limits { max_points },
    };
    Ok((RuntimeApi::new(NAME, authority, Retry::default()), limits))
}

/// Runs one batch.
fn invoke(body: &[u8], limits: &BatchLimits) -> Outcome {
    sweep_core::event_text(body)
        .and_then(|event| batch::handle(event, limits))
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

    fn settings(max_jobs: Option<&str>, max_points: Option<&str>) -> Settings {
        Settings {
            max_jobs: max_jobs.map(str::to_owned),
            max_points: max_points.map(str::to_owned),
        }
    }

    #[test]
    fn init_checks_address_and_limits() {
        let (api, limits) = init("127.0.0.1:9001", &Settings::default()).unwrap();
        assert_eq!((api.name(), api.authority()), (NAME, "127.0.0.1:9001"));
        assert_eq!(limits, BatchLimits::default());
        assert_eq!(
            init("127.0.0.1:9001", &settings(Some("1000"), Some(" 7 ")))
                .unwrap()
                .1,
            BatchLimits {
                max_jobs: 1000,
                sweep: Limits { max_points: 7 }
            }
        );
        assert_eq!(
            init("127.0.0.1", &Settings::default()).unwrap_err(),
            "AWS_LAMBDA_RUNTIME_API must be host:port, got \"127.0.0.1\""
        );
        assert_eq!(
            init("127.0.0.1:9001", &settings(Some("1001"), None)).unwrap_err(),
            "SWEEP_MAX_JOBS must be a whole number from 1 to 1000, got \"1001\""
        );
        assert_eq!(
            init("127.0.0.1:9001", &settings(None, Some("0"))).unwrap_err(),
            "SWEEP_MAX_POINTS must be a whole number from 1 to 100000, got \"0\""
        );
    }

    #[test]
    fn invoke_maps_outcomes() {
        let limits = BatchLimits::default();
        assert_eq!(
            invoke(
                br#"{"jobs":[{"function":"identity","values":[2]}]}"#,
                &limits
            )
            .unwrap(),
            r#"{"count":1,"succeeded":1,"failed":0,"results":[{"function":"identity","count":1,"min":2,"max":2,"mean":2}]}"#
        );
        let report = invoke(br#"{"jobs":[]}"#, &limits).unwrap_err();
        assert_eq!(
            report,
            ErrorReport::new("InvalidEvent", "field \"jobs\" must not be empty")
        );
        let report = invoke(b"{\"jobs\":\"\xff\"}", &limits).unwrap_err();
        assert_eq!(report.error_type, "InvalidJson");
        assert!(
            report.message.starts_with("the event is not valid UTF-8: "),
            "{}",
            report.message
        );
    }
}
