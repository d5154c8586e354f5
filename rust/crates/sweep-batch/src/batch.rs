//! The batch handler: every job of a batch event is one sweep, and the response summarises each,
//! in job order.
//!
//! A job that fails (not a valid sweep event, or a domain error) is summarised by its error and
//! the other jobs still run: the invocation succeeds. Only an event that is not a batch at all
//! fails the invocation. Response:
//!
//! ```json
//! {"count":2,"succeeded":1,"failed":1,"results":[
//!   {"function":"square","count":5,"min":0,"max":100,"mean":37.5},
//!   {"errorMessage":"sqrt(-1) is undefined","errorType":"DomainError"}]}
//! ```
//!
//! Summaries leave out the points, so a batch's response stays small whatever its sweeps' sizes,
//! and each job's points are dropped before the next job runs.

use sweep_core::json::Value;
use sweep_core::{HandlerError, Limits, Sweep, SweepResult, MAX_POINTS};

use crate::event;

/// Most jobs `SWEEP_MAX_JOBS` may allow in one batch.
pub const MAX_JOBS: usize = 1000;
/// Jobs allowed in one batch by default. The jobs run one after another within one invocation's
/// timeout; a function with a long timeout can allow more.
pub const DEFAULT_MAX_JOBS: usize = 100;

/// Limits applied to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_jobs: usize,
    /// Applied to each job.
    pub sweep: Limits,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_jobs: DEFAULT_MAX_JOBS,
            sweep: Limits {
                max_points: MAX_POINTS,
            },
        }
    }
}

/// What a batch reports for a job that ran.
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    function: &'static str,
    count: usize,
    min: f64,
    max: f64,
    mean: f64,
}

impl Summary {
    fn of(result: &SweepResult) -> Summary {
        Summary {
            function: result.function.name(),
            count: result.points.len(),
            min: result.min,
            max: result.max,
            mean: result.mean,
        }
    }

    fn to_value(&self) -> Value {
        Value::Object(vec![
            ("function".to_owned(), Value::from(self.function)),
            ("count".to_owned(), Value::Number(self.count as f64)),
            ("min".to_owned(), Value::Number(self.min)),
            ("max".to_owned(), Value::Number(self.max)),
            ("mean".to_owned(), Value::Number(self.mean)),
        ])
    }
}

/// Handles one batch event's JSON text and writes the response as compact JSON.
pub fn handle(event_json: &str, limits: &BatchLimits) -> Result<String, HandlerError> {
    let event = sweep_core::parse_event(event_json)?;
    let outcomes: Vec<Result<Summary, HandlerError>> = event::jobs(&event, limits.max_jobs)?
        .iter()
        .map(|job| run_job(job, &limits.sweep))
        .collect();
    Ok(response(&outcomes).to_json())
}

fn run_job(job: &Value, limits: &Limits) -> Result<Summary, HandlerError> {
    let result = Sweep::from_event(job, limits)?.run()?;
    Ok(Summary::of(&result))
}

fn response(outcomes: &[Result<Summary, HandlerError>]) -> Value {
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    let results = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(summary) => summary.to_value(),
            // Lambda's own error shape, as the single-sweep function reports a failed event.
            Err(e) => Value::Object(vec![
                ("errorMessage".to_owned(), Value::from(e.message())),
                ("errorType".to_owned(), Value::from(e.error_type())),
            ]),
        })
        .collect();
    Value::Object(vec![
        ("count".to_owned(), Value::Number(outcomes.len() as f64)),
        (
            "succeeded".to_owned(),
            Value::Number((outcomes.len() - failed) as f64),
        ),
        ("failed".to_owned(), Value::Number(failed as f64)),
        ("results".to_owned(), Value::Array(results)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use sweep_core::ErrorKind;

    #[test]
    fn summarises_every_job_in_order() {
        let out = handle(
            r#"{"jobs":[
                {"function":"square","start":0,"stop":10,"step":2.5},
                {"function":"cube","values":[-1,2]}
            ]}"#,
            &BatchLimits::default(),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"count":2,"succeeded":2,"failed":0,"results":[{"function":"square","count":5,"min":0,"max":100,"mean":37.5},{"function":"cube","count":2,"min":-1,"max":8,"mean":3.5}]}"#
        );
    }

    #[test]
    fn a_failed_job_is_reported_in_its_place_and_the_others_still_run() {
        let out = handle(
            r#"{"jobs":[
                {"function":"sqrt","values":[4,-1]},
                {"function":"identity","values":[1,2,3]},
                {"function":"tan","values":[1]},
                "not a job",
                {"function":"identity","values":[1,2,3,4]}
            ]}"#,
            &BatchLimits {
                max_jobs: 5,
                sweep: Limits { max_points: 3 },
            },
        )
        .unwrap();
        assert_eq!(
            out,
            concat!(
                r#"{"count":5,"succeeded":1,"failed":4,"results":["#,
                r#"{"errorMessage":"sqrt(-1) is undefined","errorType":"DomainError"},"#,
                r#"{"function":"identity","count":3,"min":1,"max":3,"mean":2},"#,
                r#"{"errorMessage":"unknown function \"tan\" (expected identity, square, cube, sqrt, sin, cos or exp)","errorType":"InvalidEvent"},"#,
                r#"{"errorMessage":"the event must be a JSON object, got string","errorType":"InvalidEvent"},"#,
                r#"{"errorMessage":"too many points: \"values\" has 4 entries, the limit is 3","errorType":"InvalidEvent"}"#,
                "]}"
            )
        );
    }

    #[test]
    fn an_eventbridge_event_runs_the_jobs_in_its_detail() {
        let out = handle(
            r#"{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-26T06:00:00Z",
                "detail":{"jobs":[{"function":"identity","values":[2]}]}}"#,
            &BatchLimits::default(),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"count":1,"succeeded":1,"failed":0,"results":[{"function":"identity","count":1,"min":2,"max":2,"mean":2}]}"#
        );
    }

    #[test]
    fn an_event_that_is_not_a_batch_fails_the_invocation() {
        let limits = BatchLimits::default();
        let e = handle("{\"jobs\": [", &limits).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidJson);
        assert_eq!(
            e.message(),
            "the event is not valid JSON: unexpected end of input, expected a value at line 1, column 11"
        );
        let e = handle(
            r#"{"jobs":[{},{}]}"#,
            &BatchLimits {
                max_jobs: 1,
                ..limits
            },
        )
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (
                ErrorKind::InvalidEvent,
                "too many jobs: \"jobs\" has 2 entries, the limit is 1"
            )
        );
    }

    #[test]
    fn the_largest_sweeps_give_a_small_response() {
        let job = r#"{"function":"sin","start":0,"stop":99999,"step":1}"#;
        let event = format!(r#"{{"jobs":[{}]}}"#, [job; 10].join(","));
        let out = handle(&event, &BatchLimits::default()).unwrap();
        assert!(
            out.starts_with(r#"{"count":10,"succeeded":10,"failed":0,"#),
            "{out:.80}"
        );
        // About 100 bytes a job, where one such sweep's points alone take 3 MB.
        assert!(out.len() < 10 * 150, "{} bytes", out.len());
    }
}
