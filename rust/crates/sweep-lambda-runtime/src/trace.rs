//! The one-line summary of an invocation that a function with a `trace` option writes to stderr,
//! and so to CloudWatch Logs. The option itself belongs to each function's crate: this crate
//! has no features, so one function's option cannot switch on another's in a shared build.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::Invocation;
use crate::serve::Outcome;

/// `<name>: request_id=<id> status=ok|error:<type> event_bytes=<n> duration_ms=<ms>
/// remaining_ms=<ms>`, the last only when Lambda sent a deadline.
pub fn trace_line(
    name: &str,
    invocation: &Invocation,
    outcome: &Outcome,
    elapsed: Duration,
) -> String {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format_line(name, invocation, outcome, elapsed, now_ms)
}

fn format_line(
    name: &str,
    invocation: &Invocation,
    outcome: &Outcome,
    elapsed: Duration,
    now_ms: u128,
) -> String {
    let status = match outcome {
        Ok(_) => "ok".to_owned(),
        Err(report) => format!("error:{}", report.error_type),
    };
    let remaining = invocation.deadline_ms.map_or_else(String::new, |deadline| {
        format!(" remaining_ms={}", deadline as i128 - now_ms as i128)
    });
    format!(
        "{name}: request_id={} status={status} event_bytes={} duration_ms={:.3}{remaining}",
        invocation.request_id,
        invocation.body.len(),
        elapsed.as_secs_f64() * 1000.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ErrorReport;

    fn invocation(deadline_ms: Option<u64>) -> Invocation {
        Invocation {
            request_id: "r-1".to_owned(),
            deadline_ms,
            function_arn: None,
            trace_id: None,
            body: b"{\"a\":1}".to_vec(),
        }
    }

    #[test]
    fn says_outcome_size_duration_and_time_left() {
        let line = format_line(
            "sweep",
            &invocation(Some(10_500)),
            &Ok("{}".to_owned()),
            Duration::from_micros(1_250),
            10_000,
        );
        assert_eq!(
            line,
            "sweep: request_id=r-1 status=ok event_bytes=7 duration_ms=1.250 remaining_ms=500"
        );
    }

    #[test]
    fn names_the_error_type_and_leaves_out_an_unknown_deadline() {
        let line = format_line(
            "sweep",
            &invocation(None),
            &Err(ErrorReport::new("InvalidEvent", "no")),
            Duration::ZERO,
            10_000,
        );
        assert_eq!(
            line,
            "sweep: request_id=r-1 status=error:InvalidEvent event_bytes=7 duration_ms=0.000"
        );
        // Past the deadline: a negative time left, not an overflow.
        let late = trace_line(
            "s",
            &invocation(Some(1)),
            &Ok(String::new()),
            Duration::ZERO,
        );
        assert!(late.contains(" remaining_ms=-"), "{late}");
    }
}
