//! The sweep Lambda's logic, independent of the Lambda runtime: a small JSON module, the
//! parameter sweep, and [`handle`], which turns an event's JSON text into the response's.
//!
//! ```
//! let out = sweep_core::handle(r#"{"function":"square","values":[1,2,3]}"#).unwrap();
//! assert_eq!(
//!     out,
//!     r#"{"function":"square","count":3,"points":[{"x":1,"y":1},{"x":2,"y":4},{"x":3,"y":9}],"min":1,"max":9,"mean":4.666666666666667,"sum":14}"#
//! );
//! let err = sweep_core::handle(r#"{"function":"square"}"#).unwrap_err();
//! assert_eq!(err.error_type(), "InvalidEvent");
//! ```

pub mod error;
pub mod json;
pub mod sweep;

pub use error::{error_json, ErrorKind, HandlerError};
pub use sweep::{Function, Limits, Sweep, SweepResult, MAX_POINTS};

/// Handles one event with the default [`Limits`].
pub fn handle(event_json: &str) -> Result<String, HandlerError> {
    handle_with_limits(event_json, &Limits::default())
}

/// Handles one event: parse, validate against `limits`, evaluate, and write the result as
/// compact JSON.
pub fn handle_with_limits(event_json: &str, limits: &Limits) -> Result<String, HandlerError> {
    let event = parse_event(event_json)?;
    let sweep = Sweep::from_event(&event, limits)?;
    Ok(sweep.run()?.to_value().to_json())
}

/// An event's bytes as text (JSON is UTF-8); anything else is an `InvalidJson` error.
pub fn event_text(body: &[u8]) -> Result<&str, HandlerError> {
    std::str::from_utf8(body).map_err(|e| {
        HandlerError::new(
            ErrorKind::InvalidJson,
            format!("the event is not valid UTF-8: {e}"),
        )
    })
}

/// Parses an event's JSON text; a syntax error is an `InvalidJson` error giving its position.
pub fn parse_event(event_json: &str) -> Result<json::Value, HandlerError> {
    json::parse(event_json).map_err(|e| {
        HandlerError::new(
            ErrorKind::InvalidJson,
            format!("the event is not valid JSON: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_the_documented_example() {
        let out = handle(r#"{"start": 0, "stop": 10, "step": 2.5, "function": "square"}"#).unwrap();
        assert_eq!(
            out,
            r#"{"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},{"x":5,"y":25},{"x":7.5,"y":56.25},{"x":10,"y":100}],"min":0,"max":100,"mean":37.5,"sum":187.5}"#
        );
        // The output is itself valid JSON with the advertised fields.
        let value = json::parse(&out).unwrap();
        assert_eq!(value.get("count").and_then(json::Value::as_f64), Some(5.0));
    }

    #[test]
    fn invalid_json_reports_position() {
        let e = handle("{\"function\": \"square\",\n \"values\": [1, 2,]}").unwrap_err();
        assert_eq!(e.error_type(), "InvalidJson");
        assert_eq!(
            e.message(),
            "the event is not valid JSON: unexpected character ']', expected a value at line 2, column 18"
        );
    }

    #[test]
    fn event_text_must_be_utf8() {
        assert_eq!(event_text(b"{}"), Ok("{}"));
        let e = event_text(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(e.error_type(), "InvalidJson");
        assert_eq!(
            e.message(),
            "the event is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 6"
        );
    }

    #[test]
    fn invalid_event_error_json() {
        let e = handle(r#"{"function":"square","start":0,"stop":10,"step":0}"#).unwrap_err();
        assert_eq!(
            e.to_json(),
            r#"{"errorMessage":"field \"step\" must be greater than 0, got 0","errorType":"InvalidEvent"}"#
        );
    }

    #[test]
    fn domain_error_type() {
        let e = handle(r#"{"function":"sqrt","start":-2,"stop":2,"step":1}"#).unwrap_err();
        assert_eq!(
            (e.error_type(), e.message()),
            ("DomainError", "sqrt(-2) is undefined")
        );
    }

    #[test]
    fn limits_are_applied() {
        let event = r#"{"function":"identity","values":[1,2,3]}"#;
        assert!(handle_with_limits(event, &Limits { max_points: 3 }).is_ok());
        let e = handle_with_limits(event, &Limits { max_points: 2 }).unwrap_err();
        assert_eq!(
            e.message(),
            "too many points: \"values\" has 3 entries, the limit is 2"
        );
    }

    #[test]
    fn largest_sweep_fits_in_a_lambda_response() {
        let out = handle(r#"{"function":"sin","start":0,"stop":99999,"step":1}"#).unwrap();
        // Lambda's synchronous response limit is 6 MB.
        assert!(out.len() < 6 * 1024 * 1024, "{} bytes", out.len());
    }
}
