//! What a batch event is, and where its jobs are.
//!
//! Two forms, both JSON objects:
//!
//! ```json
//! {"jobs": [{"function": "square", "start": 0, "stop": 10, "step": 2.5}, {"function": "sin", "values": [0, 1]}]}
//! {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", ..., "detail": {"jobs": [...]}}
//! ```
//!
//! The first is what arrives when a schedule (EventBridge Scheduler, or a rule with a constant
//! input) or a caller sends the batch itself. The second is an EventBridge event passed on
//! whole, as a rule without an input transformer does: an object with a `detail-type` member is
//! taken for one, its envelope members are not checked, and its `detail` must be the first form.
//! In either form the jobs object has no member but `jobs`, so that a misspelt field is reported
//! rather than ignored (the same rule as for a sweep event).

use sweep_core::json::{quote, Value};
use sweep_core::{ErrorKind, HandlerError};

fn invalid(message: String) -> HandlerError {
    HandlerError::new(ErrorKind::InvalidEvent, message)
}

/// The jobs of a batch event (each still to be validated as a sweep event), at most `max_jobs`.
pub fn jobs(event: &Value, max_jobs: usize) -> Result<&[Value], HandlerError> {
    if event.as_object().is_none() {
        return Err(invalid(format!(
            "the event must be a JSON object, got {}",
            event.type_name()
        )));
    }
    if event.get("detail-type").is_none() {
        return jobs_in(event, "", max_jobs);
    }
    match event.get("detail") {
        Some(detail @ Value::Object(_)) => jobs_in(detail, "detail.", max_jobs),
        Some(other) => Err(invalid(format!(
            "field \"detail\" of the EventBridge event must be an object holding \"jobs\", got {}",
            other.type_name()
        ))),
        None => Err(invalid(
            "the EventBridge event has no \"detail\"; it must hold the batch: {\"jobs\": [...]}"
                .to_owned(),
        )),
    }
}

/// The `jobs` array of `object`, whose members' names are shown with the prefix `at`.
fn jobs_in<'a>(object: &'a Value, at: &str, max_jobs: usize) -> Result<&'a [Value], HandlerError> {
    let members = object.as_object().unwrap_or_default();
    if let Some((key, _)) = members.iter().find(|(k, _)| k != "jobs") {
        return Err(invalid(format!(
            "unknown field {} (expected only \"{at}jobs\")",
            quote(&format!("{at}{key}"))
        )));
    }
    let jobs = match object.get("jobs") {
        None => {
            return Err(invalid(format!(
                "missing field \"{at}jobs\" (an array of sweep events)"
            )))
        }
        Some(Value::Array(jobs)) => jobs,
        Some(other) => {
            return Err(invalid(format!(
                "field \"{at}jobs\" must be an array of sweep events, got {}",
                other.type_name()
            )))
        }
    };
    if jobs.is_empty() {
        return Err(invalid(format!("field \"{at}jobs\" must not be empty")));
    }
    if jobs.len() > max_jobs {
        return Err(invalid(format!(
            "too many jobs: \"{at}jobs\" has {} entries, the limit is {max_jobs}",
            jobs.len()
        )));
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sweep_core::json::parse;

    fn jobs_of(event: &str, max_jobs: usize) -> Result<Vec<String>, String> {
        let event = parse(event).unwrap();
        match jobs(&event, max_jobs) {
            Ok(jobs) => Ok(jobs.iter().map(Value::to_json).collect()),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidEvent);
                Err(e.message().to_owned())
            }
        }
    }

    #[test]
    fn takes_the_jobs_of_a_direct_batch() {
        assert_eq!(
            jobs_of(r#"{"jobs":[{"function":"sin","values":[1]},7]}"#, 10),
            Ok(vec![
                r#"{"function":"sin","values":[1]}"#.to_owned(),
                "7".to_owned()
            ])
        );
    }

    #[test]
    fn takes_the_jobs_of_an_eventbridge_event_from_its_detail() {
        let event = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
            "time":"2026-11-26T06:00:00Z","region":"eu-west-1",
            "resources":["arn:aws:events:eu-west-1:123456789012:rule/nightly-sweeps"],
            "detail":{"jobs":[{"function":"cube","values":[2]}]}}"#;
        assert_eq!(
            jobs_of(event, 10),
            Ok(vec![r#"{"function":"cube","values":[2]}"#.to_owned()])
        );
    }

    #[test]
    fn applies_the_job_limit() {
        let three = r#"{"jobs":[1,2,3]}"#;
        assert_eq!(jobs_of(three, 3).map(|j| j.len()), Ok(3));
        assert_eq!(
            jobs_of(three, 2),
            Err("too many jobs: \"jobs\" has 3 entries, the limit is 2".to_owned())
        );
        assert_eq!(
            jobs_of(r#"{"detail-type":"x","detail":{"jobs":[1,2,3]}}"#, 1),
            Err("too many jobs: \"detail.jobs\" has 3 entries, the limit is 1".to_owned())
        );
    }

    #[test]
    fn rejects_what_is_not_a_batch() {
        let cases = [
            ("[]", "the event must be a JSON object, got array"),
            (
                r#"{"function":"sin","values":[1]}"#,
                "unknown field \"function\" (expected only \"jobs\")",
            ),
            (
                r#"{"jobs":[1],"job":[2]}"#,
                "unknown field \"job\" (expected only \"jobs\")",
            ),
            ("{}", "missing field \"jobs\" (an array of sweep events)"),
            (
                r#"{"jobs":{"function":"sin"}}"#,
                "field \"jobs\" must be an array of sweep events, got object",
            ),
            (r#"{"jobs":[]}"#, "field \"jobs\" must not be empty"),
            // A scheduled rule without an input sends an empty detail.
            (
                r#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#,
                "missing field \"detail.jobs\" (an array of sweep events)",
            ),
            (
                r#"{"detail-type":"Scheduled Event","detail":{"jobs":[1],"note":"x"}}"#,
                "unknown field \"detail.note\" (expected only \"detail.jobs\")",
            ),
            (
                r#"{"detail-type":"Scheduled Event","detail":"jobs"}"#,
                "field \"detail\" of the EventBridge event must be an object holding \"jobs\", got string",
            ),
            (
                r#"{"detail-type":"Scheduled Event","source":"aws.events"}"#,
                "the EventBridge event has no \"detail\"; it must hold the batch: {\"jobs\": [...]}",
            ),
        ];
        for (event, message) in cases {
            assert_eq!(jobs_of(event, 10), Err(message.to_owned()), "{event}");
        }
    }
}
