//! The error document a runtime posts to Lambda: `{"errorMessage": ..., "errorType": ...}`.
//!
//! It is the only JSON this crate writes, so it carries its own string escaping rather than
//! depending on a function's JSON code: the runtime knows nothing about what a function does.

use std::fmt::Write as _;

/// `errorType` of a function whose configuration (its environment) is invalid at start-up.
pub const INIT_ERROR_TYPE: &str = "Runtime.ConfigInvalid";
/// `errorType` of an invocation whose handler panicked.
pub const PANIC_ERROR_TYPE: &str = "Runtime.HandlerPanic";

/// An error to report to Lambda for an invocation or for start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub error_type: String,
    pub message: String,
}

impl ErrorReport {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorReport {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// The body Lambda expects: `{"errorMessage":"...","errorType":"..."}`, compact.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"errorMessage\":");
        write_json_string(&mut out, &self.message);
        out.push_str(",\"errorType\":");
        write_json_string(&mut out, &self.error_type);
        out.push('}');
        out
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped (the short forms
/// where JSON has them, else `\u00XX`), everything else as is.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_lambdas_error_shape() {
        let report = ErrorReport::new(
            "InvalidEvent",
            "field \"step\" must be greater than 0, got 0",
        );
        assert_eq!(
            report.to_json(),
            r#"{"errorMessage":"field \"step\" must be greater than 0, got 0","errorType":"InvalidEvent"}"#
        );
    }

    #[test]
    fn escapes_what_json_requires_and_nothing_else() {
        let report = ErrorReport::new("T", "a\\b\n\r\t\u{8}\u{c}\u{0}\u{1f} /é€😀\u{7f}");
        assert_eq!(
            report.to_json(),
            "{\"errorMessage\":\"a\\\\b\\n\\r\\t\\b\\f\\u0000\\u001f /é€😀\u{7f}\",\"errorType\":\"T\"}"
        );
        assert_eq!(
            ErrorReport::new("", "").to_json(),
            r#"{"errorMessage":"","errorType":""}"#
        );
    }
}
