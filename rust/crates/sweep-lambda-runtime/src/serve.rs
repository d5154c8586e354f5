//! The invocation loop a function runs once it has started: fetch the next event, run the
//! handler on it, post the result or the error, and go on until the Runtime API fails.

use std::env;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::api::{Invocation, RuntimeApi, RuntimeError};
use crate::report::{ErrorReport, PANIC_ERROR_TYPE};

/// What a handler makes of one invocation: the response body (JSON text) or the error to report.
pub type Outcome = Result<String, ErrorReport>;

/// Serves invocations until `next` fails, and returns that error: the caller logs it and exits
/// non-zero, which is how a runtime tells Lambda to replace it.
///
/// A handler that panics is reported as a [`PANIC_ERROR_TYPE`] error for that invocation, and
/// the loop goes on (the handler gets shared references only, so a panic leaves nothing
/// half-updated for the next invocation, unless it uses interior mutability). A failed post is
/// logged and the loop goes on too: Lambda has then failed or timed out that invocation on its
/// side. `observe` sees every invocation after its outcome was posted, with the time taken (a
/// function's trace line).
pub fn serve<H, O>(api: &RuntimeApi, handler: H, mut observe: O) -> RuntimeError
where
    H: Fn(&Invocation) -> Outcome,
    O: FnMut(&Invocation, &Outcome, Duration),
{
    loop {
        let invocation = match api.next() {
            Ok(invocation) => invocation,
            Err(e) => return e,
        };
        set_trace_id(invocation.trace_id.as_deref());
        let started = Instant::now();
        let outcome = run_handler(&handler, &invocation);
        let posted = match &outcome {
            Ok(body) => api.respond(&invocation.request_id, body.as_bytes()),
            Err(report) => api.report_error(&invocation.request_id, report),
        };
        observe(&invocation, &outcome, started.elapsed());
        if let Err(e) = posted {
            eprintln!("{}: request {}: {e}", api.name(), invocation.request_id);
        }
    }
}

/// `_X_AMZN_TRACE_ID` is where the X-Ray SDKs look for the invocation's trace header; a value
/// with a NUL byte could not be put in the environment.
fn set_trace_id(trace_id: Option<&str>) {
    match trace_id {
        Some(trace) if !trace.contains('\0') => env::set_var("_X_AMZN_TRACE_ID", trace),
        _ => env::remove_var("_X_AMZN_TRACE_ID"),
    }
}

/// Runs the handler; a panic becomes an error report, not a dead runtime.
fn run_handler<H>(handler: &H, invocation: &Invocation) -> Outcome
where
    H: Fn(&Invocation) -> Outcome,
{
    panic::catch_unwind(AssertUnwindSafe(|| handler(invocation))).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the handler panicked".to_owned());
        Err(ErrorReport::new(PANIC_ERROR_TYPE, message))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Retry;
    use sweep_lambda_testkit::{invocation, FakeRuntimeApi, ACCEPTED, SHUTDOWN};

    fn api(fake: &FakeRuntimeApi) -> RuntimeApi {
        RuntimeApi::new("test", fake.authority(), Retry::default())
    }

    /// Answers "echo:<event>", fails on "bad", panics on "boom"; and checks the trace header.
    fn handler(invocation: &Invocation) -> Outcome {
        assert_eq!(
            env::var("_X_AMZN_TRACE_ID").ok(),
            invocation.trace_id,
            "the trace id is in the environment while the handler runs"
        );
        match invocation.body.as_slice() {
            b"bad" => Err(ErrorReport::new("InvalidEvent", "bad event")),
            b"boom" => panic!("boom at {}", invocation.request_id),
            body => Ok(format!("echo:{}", String::from_utf8_lossy(body))),
        }
    }

    #[test]
    fn posts_each_outcome_until_next_fails() {
        let fake = FakeRuntimeApi::start(vec![
            invocation("r-1", "hi"),
            ACCEPTED.to_owned(),
            invocation("r-2", "bad"),
            ACCEPTED.to_owned(),
            invocation("r-3", "boom"),
            ACCEPTED.to_owned(),
            SHUTDOWN.to_owned(),
        ]);
        let mut observed = Vec::new();
        let error = serve(&api(&fake), handler, |invocation, outcome, _| {
            observed.push((invocation.request_id.clone(), outcome.clone()));
        });
        assert!(
            matches!(
                error,
                RuntimeError::Status {
                    call: "next",
                    status: 500,
                    ..
                }
            ),
            "{error:?}"
        );
        let requests = fake.finish();
        let lines: Vec<&str> = requests.iter().map(|r| r.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
                "POST /2018-06-01/runtime/invocation/r-1/response HTTP/1.1",
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
                "POST /2018-06-01/runtime/invocation/r-2/error HTTP/1.1",
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
                "POST /2018-06-01/runtime/invocation/r-3/error HTTP/1.1",
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1",
            ]
        );
        assert_eq!(requests[1].body, "echo:hi");
        assert_eq!(
            requests[3].body,
            r#"{"errorMessage":"bad event","errorType":"InvalidEvent"}"#
        );
        assert_eq!(
            requests[5].header("Lambda-Runtime-Function-Error-Type"),
            Some("Runtime.HandlerPanic")
        );
        assert_eq!(
            requests[5].body,
            r#"{"errorMessage":"boom at r-3","errorType":"Runtime.HandlerPanic"}"#
        );
        assert_eq!(
            observed,
            [
                ("r-1".to_owned(), Ok("echo:hi".to_owned())),
                (
                    "r-2".to_owned(),
                    Err(ErrorReport::new("InvalidEvent", "bad event"))
                ),
                (
                    "r-3".to_owned(),
                    Err(ErrorReport::new("Runtime.HandlerPanic", "boom at r-3"))
                ),
            ]
        );
    }

    #[test]
    fn a_failed_post_does_not_stop_the_loop() {
        let fake = FakeRuntimeApi::start(vec![
            invocation("r-1", "first"),
            "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n".to_owned(),
            invocation("r-2", "second"),
            ACCEPTED.to_owned(),
            SHUTDOWN.to_owned(),
        ]);
        let mut seen = 0;
        serve(&api(&fake), handler, |_, _, _| seen += 1);
        let requests = fake.finish();
        assert_eq!(seen, 2);
        assert_eq!(
            requests[3].line,
            "POST /2018-06-01/runtime/invocation/r-2/response HTTP/1.1"
        );
    }

    #[test]
    fn a_panic_with_a_non_text_payload_is_still_reported() {
        let invocation = Invocation {
            request_id: "r".to_owned(),
            deadline_ms: None,
            function_arn: None,
            trace_id: None,
            body: Vec::new(),
        };
        let outcome = run_handler(
            &|_: &Invocation| -> Outcome { panic::panic_any(7_u8) },
            &invocation,
        );
        assert_eq!(
            outcome,
            Err(ErrorReport::new(PANIC_ERROR_TYPE, "the handler panicked"))
        );
    }
}
