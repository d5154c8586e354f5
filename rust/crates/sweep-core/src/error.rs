//! The error a handler returns, in the shape Lambda reports to the caller.

use std::fmt;

use crate::json::Value;

/// What kind of failure; its [`ErrorKind::as_str`] is Lambda's `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The event is not JSON text (or not UTF-8).
    InvalidJson,
    /// The event is JSON but not a valid sweep request.
    InvalidEvent,
    /// The function is undefined or overflows at one of the points.
    DomainError,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidJson => "InvalidJson",
            ErrorKind::InvalidEvent => "InvalidEvent",
            ErrorKind::DomainError => "DomainError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A handler failure: a kind and a message for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    kind: ErrorKind,
    message: String,
}

impl HandlerError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        HandlerError {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Lambda's `errorType`, such as "InvalidEvent".
    pub fn error_type(&self) -> &'static str {
        self.kind.as_str()
    }

    /// Lambda's `errorMessage`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The body Lambda's Runtime API expects for an error:
    /// `{"errorMessage":"...","errorType":"..."}`.
    pub fn to_json(&self) -> String {
        error_json(self.error_type(), &self.message)
    }
}

/// `{"errorMessage":...,"errorType":...}` for any type and message.
pub fn error_json(error_type: &str, message: &str) -> String {
    Value::Object(vec![
        ("errorMessage".to_owned(), Value::from(message)),
        ("errorType".to_owned(), Value::from(error_type)),
    ])
    .to_json()
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for HandlerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_lambda_shaped() {
        let e = HandlerError::new(ErrorKind::InvalidEvent, "field \"step\" must be > 0\n");
        assert_eq!(e.error_type(), "InvalidEvent");
        assert_eq!(e.message(), "field \"step\" must be > 0\n");
        assert_eq!(
            e.to_json(),
            r#"{"errorMessage":"field \"step\" must be > 0\n","errorType":"InvalidEvent"}"#
        );
        assert_eq!(e.to_string(), "InvalidEvent: field \"step\" must be > 0\n");
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(ErrorKind::InvalidJson.as_str(), "InvalidJson");
        assert_eq!(ErrorKind::InvalidEvent.as_str(), "InvalidEvent");
        assert_eq!(ErrorKind::DomainError.as_str(), "DomainError");
    }
}
