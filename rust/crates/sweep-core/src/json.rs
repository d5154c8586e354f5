//! A small JSON (RFC 8259) reader and writer, standard library only.
//!
//! [`parse`] turns a JSON text into a [`Value`]; errors carry the byte offset, line and column
//! where the text went wrong. [`Value::to_json`] (and `Display`) writes compact JSON back.
//!
//! Choices worth knowing:
//! - numbers are `f64`; a number too large for `f64` (such as `1e400`) is an error;
//! - objects keep their members in text order, and a repeated key is an error;
//! - nesting deeper than [`MAX_DEPTH`] is an error (no stack overflow on hostile input);
//! - NaN and infinities, which JSON cannot express, are written as `null`.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

/// Deepest nesting of arrays and objects that [`parse`] accepts.
pub const MAX_DEPTH: usize = 128;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// Members in the order they appear; keys are unique.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object; `None` for a missing key or a value that is not an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The JSON name of this value's type, for error messages: "null", "boolean", "number",
    /// "string", "array" or "object".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Compact JSON text (no spaces or newlines).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self);
        out
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Where and why a JSON text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    message: String,
    offset: usize,
    line: usize,
    column: usize,
}

impl ParseError {
    fn at(text: &str, offset: usize, message: String) -> Self {
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            message,
            offset,
            line,
            column,
        }
    }

    /// What went wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset into the text (0-based).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Line number (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Column in characters (1-based).
    pub fn column(&self) -> usize {
        self.column
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a complete JSON text: one value, optionally surrounded by whitespace.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    parser.skip_ws();
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error_here(format!(
            "unexpected {} after the JSON value",
            parser.describe_here()
        )));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error_at(&self, offset: usize, message: String) -> ParseError {
        ParseError::at(self.text, offset, message)
    }

    fn error_here(&self, message: String) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// "end of input" or "character 'x'" for the text at the current position.
    fn describe_here(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "end of input".to_owned(),
            Some(c) if c.is_control() => format!("character U+{:04X}", c as u32),
            Some(c) => format!("character '{c}'"),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error_here(format!(
                "unexpected {}, expected a value",
                self.describe_here()
            ))),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, ParseError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error_here(format!("invalid literal, expected '{word}'")))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error_here(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        Ok(())
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        self.pos += 1; // '{'
        let mut members: Vec<(String, Value)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                let after = if members.is_empty() { "'{'" } else { "','" };
                return Err(self.error_here(format!(
                    "unexpected {}, expected a string key after {after}",
                    self.describe_here()
                )));
            }
            let key_start = self.pos;
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                return Err(self.error_at(key_start, format!("duplicate key {}", quote(&key))));
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error_here(format!(
                    "unexpected {}, expected ':' after an object key",
                    self.describe_here()
                )));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(self.error_here(format!(
                        "unexpected {}, expected ',' or '}}' in an object",
                        self.describe_here()
                    )))
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Object(members))
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(self.error_here(format!(
                        "unexpected {}, expected ',' or ']' in an array",
                        self.describe_here()
                    )))
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    /// A string starting at the current '"'; leaves the position after the closing '"'.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            // Copy the run of ordinary characters in one go. The run ends at an ASCII byte, so
            // both ends are character boundaries.
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.error_at(start, "unterminated string".to_owned())),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape_start = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            out.push(self.unicode_escape(escape_start)?);
                            continue;
                        }
                        None => return Err(self.error_at(start, "unterminated string".to_owned())),
                        Some(_) => {
                            return Err(self.error_at(
                                escape_start,
                                format!("invalid escape '\\{}' in a string", self.describe_char()),
                            ))
                        }
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(b) => {
                    return Err(self.error_here(format!(
                        "control character U+{b:04X} must be escaped in a string"
                    )))
                }
            }
        }
    }

    fn describe_char(&self) -> String {
        self.text[self.pos..]
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default()
    }

    /// The rest of a `\uXXXX` escape (position after the 'u'), joining a surrogate pair.
    fn unicode_escape(&mut self, escape_start: usize) -> Result<char, ParseError> {
        let high = self.hex4(escape_start)?;
        let code = match high {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(self.error_at(
                        escape_start,
                        format!("unpaired surrogate \\u{high:04X} in a string"),
                    ));
                }
                let low_start = self.pos;
                self.pos += 2;
                let low = self.hex4(low_start)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error_at(
                        escape_start,
                        format!("unpaired surrogate \\u{high:04X} in a string"),
                    ));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(self.error_at(
                    escape_start,
                    format!("unpaired surrogate \\u{high:04X} in a string"),
                ))
            }
            _ => high,
        };
        // Every value left is a Unicode scalar value.
        char::from_u32(code).ok_or_else(|| {
            self.error_at(
                escape_start,
                format!("invalid code point U+{code:04X} in a string"),
            )
        })
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, ParseError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let value = digits.and_then(|d| {
            d.iter().try_fold(0u32, |acc, &b| {
                (b as char).to_digit(16).map(|v| acc * 16 + v)
            })
        });
        match value {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.error_at(
                escape_start,
                "invalid \\u escape, expected 4 hex digits".to_owned(),
            )),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error_at(
                        start,
                        "invalid number, leading zeros are not allowed".to_owned(),
                    ));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => {
                return Err(self.error_here(format!(
                    "invalid number, unexpected {} after '-'",
                    self.describe_here()
                )))
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error_here(format!(
                    "invalid number, unexpected {}, expected a digit after '.'",
                    self.describe_here()
                )));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error_here(format!(
                    "invalid number, unexpected {}, expected a digit in the exponent",
                    self.describe_here()
                )));
            }
        }
        let literal = &self.text[start..self.pos];
        // The grammar above is a subset of what `f64::from_str` accepts, which rounds correctly.
        match literal.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Value::Number(n)),
            _ => Err(self.error_at(start, format!("number {literal} is out of range"))),
        }
    }
}

/// `s` as a JSON string literal, quotes included.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

/// `n` as JSON: integers without a fraction (`5`, not `5.0`), other numbers in the shortest
/// form that reads back as the same `f64`, with an exponent when very large or small (`1e-7`).
/// NaN and infinities, which JSON cannot express, become `null`.
pub fn format_number(n: f64) -> String {
    let mut out = String::new();
    write_number(&mut out, n);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, *n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
    } else if n == 0.0 {
        out.push('0'); // also for -0.0, as JavaScript does
    } else if n.fract() == 0.0 && n.abs() < 1e16 {
        // Exact: every such f64 is an integer that fits in i64.
        let _ = write!(out, "{}", n as i64);
    } else {
        // Debug gives the shortest round-trip digits and switches to an exponent for very large
        // or small magnitudes ("1e16", "1.5e-7"); both forms are valid JSON numbers.
        let _ = write!(out, "{n:?}");
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escaped);
        }
        run_start = i + c.len_utf8();
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(members: &[(&str, Value)]) -> Value {
        Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn err(text: &str) -> ParseError {
        parse(text).expect_err(text)
    }

    #[test]
    fn parses_scalars() {
        assert_eq!(parse("null").unwrap(), Value::Null);
        assert_eq!(parse("true").unwrap(), Value::Bool(true));
        assert_eq!(parse("false").unwrap(), Value::Bool(false));
        assert_eq!(parse(" \t\r\n42 \n").unwrap(), Value::Number(42.0));
        assert_eq!(parse("\"hi\"").unwrap(), Value::String("hi".into()));
    }

    #[test]
    fn parses_numbers() {
        let cases = [
            ("0", 0.0),
            ("-0", 0.0),
            ("7", 7.0),
            ("-12", -12.0),
            ("2.5", 2.5),
            ("-0.125", -0.125),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("25e-1", 2.5),
            ("0.1", 0.1),
            ("1.7976931348623157e308", f64::MAX),
            ("5e-324", 5e-324),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).unwrap(), Value::Number(expected), "{text}");
        }
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(
            err("01").message(),
            "invalid number, leading zeros are not allowed"
        );
        assert_eq!(
            err("-").message(),
            "invalid number, unexpected end of input after '-'"
        );
        assert_eq!(
            err("-a").message(),
            "invalid number, unexpected character 'a' after '-'"
        );
        assert_eq!(
            err("1.").message(),
            "invalid number, unexpected end of input, expected a digit after '.'"
        );
        assert_eq!(
            err("1.e5").message(),
            "invalid number, unexpected character 'e', expected a digit after '.'"
        );
        assert_eq!(
            err("1e").message(),
            "invalid number, unexpected end of input, expected a digit in the exponent"
        );
        assert_eq!(err("1e400").message(), "number 1e400 is out of range");
        assert_eq!(err("-1e400").message(), "number -1e400 is out of range");
        assert!(err(".5").message().starts_with("unexpected character '.'"));
        assert!(err("+1").message().starts_with("unexpected character '+'"));
        assert!(err("NaN").message().starts_with("unexpected character 'N'"));
        assert_eq!(
            err("Infinity").message(),
            "unexpected character 'I', expected a value"
        );
    }

    #[test]
    fn parses_strings_with_escapes() {
        let text = r#""a\"b\\c\/d\be\ff\ng\rh\ti""#;
        assert_eq!(
            parse(text).unwrap(),
            Value::String("a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti".into())
        );
        assert_eq!(
            parse(r#""\u0041\u00e9\u20AC""#).unwrap(),
            Value::String("Aé€".into())
        );
        // A surrogate pair becomes one character.
        assert_eq!(
            parse(r#""\uD83D\uDE00""#).unwrap(),
            Value::String("😀".into())
        );
        // Raw non-ASCII passes through.
        assert_eq!(
            parse("\"héllo ✓ 😀\"").unwrap(),
            Value::String("héllo ✓ 😀".into())
        );
        assert_eq!(parse(r#""\u0000""#).unwrap(), Value::String("\0".into()));
    }

    #[test]
    fn rejects_bad_strings() {
        assert_eq!(err("\"abc").message(), "unterminated string");
        assert_eq!(err("\"abc\\").message(), "unterminated string");
        assert_eq!(err(r#""\x""#).message(), "invalid escape '\\x' in a string");
        assert_eq!(
            err(r#""\u12""#).message(),
            "invalid \\u escape, expected 4 hex digits"
        );
        assert_eq!(
            err(r#""\u12G4""#).message(),
            "invalid \\u escape, expected 4 hex digits"
        );
        assert_eq!(
            err(r#""\uD83D""#).message(),
            "unpaired surrogate \\uD83D in a string"
        );
        assert_eq!(
            err(r#""\uD83Dx""#).message(),
            "unpaired surrogate \\uD83D in a string"
        );
        assert_eq!(
            err(r#""\uD83D\u0041""#).message(),
            "unpaired surrogate \\uD83D in a string"
        );
        assert_eq!(
            err(r#""\uDE00""#).message(),
            "unpaired surrogate \\uDE00 in a string"
        );
        assert_eq!(
            err("\"a\nb\"").message(),
            "control character U+000A must be escaped in a string"
        );
    }

    #[test]
    fn parses_nested_structures() {
        let text = r#" { "a" : [1, 2.5, {"b": null}], "c": {}, "d": [], "e": "x" } "#;
        let expected = obj(&[
            (
                "a",
                Value::Array(vec![
                    Value::Number(1.0),
                    Value::Number(2.5),
                    obj(&[("b", Value::Null)]),
                ]),
            ),
            ("c", Value::Object(vec![])),
            ("d", Value::Array(vec![])),
            ("e", Value::String("x".into())),
        ]);
        let value = parse(text).unwrap();
        assert_eq!(value, expected);
        assert_eq!(value.get("e").and_then(Value::as_str), Some("x"));
        assert_eq!(value.get("missing"), None);
        assert_eq!(
            value.get("a").and_then(Value::as_array).map(<[Value]>::len),
            Some(3)
        );
    }

    #[test]
    fn object_keeps_member_order() {
        let value = parse(r#"{"z":1,"a":2,"m":3}"#).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(value.to_json(), r#"{"z":1,"a":2,"m":3}"#);
    }

    #[test]
    fn rejects_bad_structure_with_positions() {
        let e = err(r#"{"a":1,}"#);
        assert_eq!(
            e.message(),
            "unexpected character '}', expected a string key after ','"
        );
        assert_eq!((e.line(), e.column(), e.offset()), (1, 8, 7));

        let e = err("{\n  \"a\": 1\n  \"b\": 2\n}");
        assert_eq!(
            e.message(),
            "unexpected character '\"', expected ',' or '}' in an object"
        );
        assert_eq!((e.line(), e.column()), (3, 3));
        assert_eq!(
            e.to_string(),
            "unexpected character '\"', expected ',' or '}' in an object at line 3, column 3"
        );

        let e = err("[1, 2");
        assert_eq!(
            e.message(),
            "unexpected end of input, expected ',' or ']' in an array"
        );
        assert_eq!(e.column(), 6);

        assert_eq!(
            err("[1,]").message(),
            "unexpected character ']', expected a value"
        );
        assert_eq!(
            err(r#"{"a" 1}"#).message(),
            "unexpected character '1', expected ':' after an object key"
        );
        assert_eq!(
            err("{1:2}").message(),
            "unexpected character '1', expected a string key after '{'"
        );
        assert_eq!(
            err("").message(),
            "unexpected end of input, expected a value"
        );
        assert_eq!(
            err("   ").message(),
            "unexpected end of input, expected a value"
        );
        assert_eq!(
            err("[1] [2]").message(),
            "unexpected character '[' after the JSON value"
        );
        assert_eq!(
            err("truex").message(),
            "unexpected character 'x' after the JSON value"
        );
        assert_eq!(err("tru").message(), "invalid literal, expected 'true'");
        assert_eq!(err("nul").message(), "invalid literal, expected 'null'");
        assert_eq!(
            err("\u{1}").message(),
            "unexpected character U+0001, expected a value"
        );
    }

    #[test]
    fn column_counts_characters_not_bytes() {
        let e = err("[\"é€😀\", x]");
        assert_eq!(e.column(), 9);
        assert_eq!(e.offset(), 14);
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second_key() {
        let e = err(r#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(e.message(), "duplicate key \"a\"");
        assert_eq!(e.column(), 14);
    }

    #[test]
    fn limits_nesting_depth() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(
            err(&deep).message(),
            format!("nesting deeper than {MAX_DEPTH} levels")
        );
        // Far deeper than any stack could take if it recursed without a limit.
        let hostile = "[".repeat(1_000_000);
        assert!(parse(&hostile).is_err());
    }

    #[test]
    fn writes_numbers() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (5.0, "5"),
            (-3.0, "-3"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1000000000000000"),
            (9007199254740993.0, "9007199254740992"),
            (1e16, "1e16"),
            (1.5e300, "1.5e300"),
            (1e-7, "1e-7"),
            (-2.5e-8, "-2.5e-8"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (f64::NEG_INFINITY, "null"),
        ];
        for (n, expected) in cases {
            assert_eq!(format_number(n), expected, "{n:?}");
        }
    }

    #[test]
    fn written_numbers_read_back_exactly() {
        let samples = [
            0.1,
            1.0 / 3.0,
            -2.0 / 7.0,
            1e-300,
            123456.789,
            6.02214076e23,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            9007199254740991.0,
            0.479425538604203,
        ];
        for n in samples {
            let text = format_number(n);
            assert_eq!(parse(&text).unwrap(), Value::Number(n), "{text}");
        }
    }

    #[test]
    fn writes_strings_with_escapes() {
        assert_eq!(quote("plain"), r#""plain""#);
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(quote("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\u{7f}\"");
        assert_eq!(quote("/é€😀"), "\"/é€😀\"");
        assert_eq!(quote(""), r#""""#);
    }

    #[test]
    fn writes_compact_json() {
        let value = obj(&[
            ("s", Value::from("x\"y")),
            ("n", Value::from(1.5)),
            ("b", Value::from(true)),
            ("z", Value::Null),
            (
                "a",
                Value::Array(vec![
                    Value::from(1.0),
                    Value::Array(vec![]),
                    Value::Object(vec![]),
                ]),
            ),
        ]);
        let text = value.to_json();
        assert_eq!(
            text,
            r#"{"s":"x\"y","n":1.5,"b":true,"z":null,"a":[1,[],{}]}"#
        );
        assert_eq!(value.to_string(), text);
    }

    #[test]
    fn round_trips() {
        let texts = [
            r#"{"a":[1,2.5,-3,1e-7,{"b":null,"c":[true,false]}],"d":"\"\\\n\u0001é😀"}"#,
            r#"[]"#,
            r#"{}"#,
            r#""""#,
            r#"[[[[]]]]"#,
        ];
        for text in texts {
            let value = parse(text).unwrap();
            let written = value.to_json();
            assert_eq!(parse(&written).unwrap(), value, "{text}");
            // Compact output of compact input is the same text.
            assert_eq!(written, text);
        }
    }

    #[test]
    fn type_names() {
        let names: Vec<&str> = [
            Value::Null,
            Value::Bool(true),
            Value::Number(1.0),
            Value::from("s"),
            Value::Array(vec![]),
            Value::Object(vec![]),
        ]
        .iter()
        .map(Value::type_name)
        .collect();
        assert_eq!(
            names,
            ["null", "boolean", "number", "string", "array", "object"]
        );
        assert_eq!(Value::Bool(false).as_bool(), Some(false));
        assert!(Value::Null.is_null());
        assert_eq!(Value::Null.get("a"), None);
    }
}
