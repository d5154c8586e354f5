//! The parameter sweep: read an event, evaluate a function over its points, summarise.
//!
//! Event (a JSON object), either a range or explicit values:
//!
//! ```json
//! {"function": "square", "start": 0, "stop": 10, "step": 2.5}
//! {"function": "sin", "values": [0, 0.5, 1]}
//! ```
//!
//! A range runs from `start` to `stop` inclusive in steps of `step` (`stop` is included when it
//! is reached to within rounding: 0 to 0.3 in steps of 0.1 gives 4 points). Any other member is
//! an error, so that a misspelt field is reported instead of ignored.
//!
//! Result:
//!
//! ```json
//! {"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},...],
//!  "min":0,"max":100,"mean":37.5,"sum":187.5}
//! ```
//!
//! `min`, `max`, `mean` and `sum` are over the `y` values.

use std::fmt;

use crate::error::{ErrorKind, HandlerError};
use crate::json::{format_number, quote, Value};

/// Most points one sweep may have by default (the response stays well below Lambda's 6 MB).
pub const MAX_POINTS: usize = 100_000;

/// Limits applied to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most points a sweep may have.
    pub max_points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_points: MAX_POINTS,
        }
    }
}

/// The functions a sweep can evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Identity,
    Square,
    Cube,
    Sqrt,
    Sin,
    Cos,
    Exp,
}

impl Function {
    pub const ALL: [Function; 7] = [
        Function::Identity,
        Function::Square,
        Function::Cube,
        Function::Sqrt,
        Function::Sin,
        Function::Cos,
        Function::Exp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Identity => "identity",
            Function::Square => "square",
            Function::Cube => "cube",
            Function::Sqrt => "sqrt",
            Function::Sin => "sin",
            Function::Cos => "cos",
            Function::Exp => "exp",
        }
    }

    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn apply(self, x: f64) -> f64 {
        match self {
            Function::Identity => x,
            Function::Square => x * x,
            Function::Cube => x * x * x,
            Function::Sqrt => x.sqrt(),
            Function::Sin => x.sin(),
            Function::Cos => x.cos(),
            Function::Exp => x.exp(),
        }
    }

    /// "identity, square, ... or exp", for messages.
    fn list() -> String {
        let names: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
        let (last, rest) = names.split_last().expect("at least one function");
        format!("{} or {}", rest.join(", "), last)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated sweep: a function and the points to evaluate it at.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub function: Function,
    pub xs: Vec<f64>,
}

const FIELDS: [&str; 5] = ["function", "start", "stop", "step", "values"];

fn invalid(message: String) -> HandlerError {
    HandlerError::new(ErrorKind::InvalidEvent, message)
}

fn number_field(event: &Value, name: &str) -> Result<Option<f64>, HandlerError> {
    match event.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(*n)),
        Some(other) => Err(invalid(format!(
            "field \"{name}\" must be a number, got {}",
            other.type_name()
        ))),
    }
}

impl Sweep {
    /// Validates an event (already parsed) against `limits`.
    pub fn from_event(event: &Value, limits: &Limits) -> Result<Sweep, HandlerError> {
        let members = event.as_object().ok_or_else(|| {
            invalid(format!(
                "the event must be a JSON object, got {}",
                event.type_name()
            ))
        })?;
        if let Some((key, _)) = members.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err(invalid(format!(
                "unknown field {} (expected function, start, stop, step or values)",
                quote(key)
            )));
        }

        let function = match event.get("function") {
            None => {
                return Err(invalid(format!(
                    "missing field \"function\" (one of {})",
                    Function::list()
                )))
            }
            Some(Value::String(name)) => Function::from_name(name).ok_or_else(|| {
                invalid(format!(
                    "unknown function {} (expected {})",
                    quote(name),
                    Function::list()
                ))
            })?,
            Some(other) => {
                return Err(invalid(format!(
                    "field \"function\" must be a string, got {}",
                    other.type_name()
                )))
            }
        };

        let start = number_field(event, "start")?;
        let stop = number_field(event, "stop")?;
        let step = number_field(event, "step")?;
        let has_range = start.is_some() || stop.is_some() || step.is_some();

        let xs = match event.get("values") {
            Some(_) if has_range => {
                return Err(invalid(
                    "give either \"values\" or \"start\", \"stop\" and \"step\", not both"
                        .to_owned(),
                ))
            }
            Some(values) => values_points(values, limits)?,
            None => match (start, stop, step) {
                (None, None, None) => {
                    return Err(invalid(
                        "the event needs either \"values\" or \"start\", \"stop\" and \"step\""
                            .to_owned(),
                    ))
                }
                (Some(start), Some(stop), Some(step)) => range_points(start, stop, step, limits)?,
                _ => {
                    let missing = [("start", start), ("stop", stop), ("step", step)]
                        .iter()
                        .filter(|(_, v)| v.is_none())
                        .map(|(name, _)| format!("\"{name}\""))
                        .collect::<Vec<_>>()
                        .join(" and ");
                    return Err(invalid(format!("missing field {missing} for a range")));
                }
            },
        };
        Ok(Sweep { function, xs })
    }

    /// Evaluates the function at every point.
    pub fn run(&self) -> Result<SweepResult, HandlerError> {
        let mut points = Vec::with_capacity(self.xs.len());
        let mut sum = Sum::default();
        let mut min = f64::INFINITY;
        let mut max = f64::NEG_INFINITY;
        for &x in &self.xs {
            let y = self.function.apply(x);
            if y.is_nan() {
                return Err(HandlerError::new(
                    ErrorKind::DomainError,
                    format!("{}({}) is undefined", self.function, format_number(x)),
                ));
            }
            if y.is_infinite() {
                return Err(HandlerError::new(
                    ErrorKind::DomainError,
                    format!("{}({}) overflows", self.function, format_number(x)),
                ));
            }
            min = min.min(y);
            max = max.max(y);
            sum.add(y);
            points.push((x, y));
        }
        let sum = sum.total();
        if !sum.is_finite() {
            return Err(HandlerError::new(
                ErrorKind::DomainError,
                "the sum of the results overflows".to_owned(),
            ));
        }
        let count = points.len();
        Ok(SweepResult {
            function: self.function,
            points,
            min,
            max,
            mean: sum / count as f64,
            sum,
        })
    }
}

fn values_points(values: &Value, limits: &Limits) -> Result<Vec<f64>, HandlerError> {
    let items = values.as_array().ok_or_else(|| {
        invalid(format!(
            "field \"values\" must be an array of numbers, got {}",
            values.type_name()
        ))
    })?;
    if items.is_empty() {
        return Err(invalid("field \"values\" must not be empty".to_owned()));
    }
    if items.len() > limits.max_points {
        return Err(invalid(format!(
            "too many points: \"values\" has {} entries, the limit is {}",
            items.len(),
            limits.max_points
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_f64().ok_or_else(|| {
                invalid(format!(
                    "values[{i}] must be a number, got {}",
                    item.type_name()
                ))
            })
        })
        .collect()
}

fn range_points(
    start: f64,
    stop: f64,
    step: f64,
    limits: &Limits,
) -> Result<Vec<f64>, HandlerError> {
    if step <= 0.0 {
        return Err(invalid(format!(
            "field \"step\" must be greater than 0, got {}",
            format_number(step)
        )));
    }
    if stop < start {
        return Err(invalid(format!(
            "field \"stop\" ({}) must not be less than \"start\" ({})",
            format_number(stop),
            format_number(start)
        )));
    }
    let steps = (stop - start) / step;
    if !steps.is_finite() {
        return Err(invalid(
            "the range from \"start\" to \"stop\" is too wide".to_owned(),
        ));
    }
    // Tolerate rounding so that a stop that is a whole number of steps away is included:
    // (0.3 - 0) / 0.1 is 2.9999999999999996, which means 3 steps.
    let nearest = steps.round();
    let steps = if (steps - nearest).abs() <= 1e-9 * nearest.max(1.0) {
        nearest
    } else {
        steps.floor()
    };
    let count = steps + 1.0;
    if count > limits.max_points as f64 {
        return Err(invalid(format!(
            "too many points: start {}, stop {}, step {} gives {} points, the limit is {}",
            format_number(start),
            format_number(stop),
            format_number(step),
            format_number(count),
            limits.max_points
        )));
    }
    let count = count as usize;
    // Each point from its index, not by repeated addition, so errors do not accumulate; a last
    // point just past `stop` through rounding is `stop`.
    Ok((0..count)
        .map(|i| (start + i as f64 * step).min(stop))
        .collect())
}

/// Neumaier's compensated sum: accurate for long sweeps of values of mixed size.
#[derive(Default)]
struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// What a sweep computed.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepResult {
    pub function: Function,
    /// `(x, y)` pairs in the order of the points.
    pub points: Vec<(f64, f64)>,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub sum: f64,
}

impl SweepResult {
    pub fn to_value(&self) -> Value {
        let points = self
            .points
            .iter()
            .map(|&(x, y)| {
                Value::Object(vec![
                    ("x".to_owned(), Value::Number(x)),
                    ("y".to_owned(), Value::Number(y)),
                ])
            })
            .collect();
        Value::Object(vec![
            ("function".to_owned(), Value::from(self.function.name())),
            ("count".to_owned(), Value::Number(self.points.len() as f64)),
            ("points".to_owned(), Value::Array(points)),
            ("min".to_owned(), Value::Number(self.min)),
            ("max".to_owned(), Value::Number(self.max)),
            ("mean".to_owned(), Value::Number(self.mean)),
            ("sum".to_owned(), Value::Number(self.sum)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn sweep(event: &str) -> Result<Sweep, HandlerError> {
        Sweep::from_event(&parse(event).unwrap(), &Limits::default())
    }

    fn invalid_message(event: &str) -> String {
        let e = sweep(event).expect_err(event);
        assert_eq!(e.kind(), ErrorKind::InvalidEvent, "{event}");
        e.message().to_owned()
    }

    #[test]
    fn function_names_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        assert_eq!(Function::from_name("tan"), None);
        assert_eq!(Function::from_name("Square"), None);
        assert_eq!(
            Function::list(),
            "identity, square, cube, sqrt, sin, cos or exp"
        );
    }

    #[test]
    fn functions_apply() {
        assert_eq!(Function::Identity.apply(-2.0), -2.0);
        assert_eq!(Function::Square.apply(-3.0), 9.0);
        assert_eq!(Function::Cube.apply(-3.0), -27.0);
        assert_eq!(Function::Sqrt.apply(16.0), 4.0);
        assert_eq!(Function::Sin.apply(0.0), 0.0);
        assert_eq!(Function::Cos.apply(0.0), 1.0);
        assert_eq!(Function::Exp.apply(0.0), 1.0);
    }

    #[test]
    fn range_includes_stop() {
        assert_eq!(
            sweep(r#"{"function":"identity","start":0,"stop":10,"step":2.5}"#)
                .unwrap()
                .xs,
            [0.0, 2.5, 5.0, 7.5, 10.0]
        );
        assert_eq!(
            sweep(r#"{"function":"identity","start":0,"stop":9,"step":2.5}"#)
                .unwrap()
                .xs,
            [0.0, 2.5, 5.0, 7.5]
        );
        assert_eq!(
            sweep(r#"{"function":"identity","start":-1,"stop":1,"step":1}"#)
                .unwrap()
                .xs,
            [-1.0, 0.0, 1.0]
        );
    }

    #[test]
    fn range_tolerates_rounding() {
        // (0.3 - 0) / 0.1 is 2.9999999999999996 in f64; 0.3 must still be a point, and exactly.
        let xs = sweep(r#"{"function":"identity","start":0,"stop":0.3,"step":0.1}"#)
            .unwrap()
            .xs;
        assert_eq!(xs.len(), 4);
        assert_eq!(xs[3], 0.3);
        let xs = sweep(r#"{"function":"identity","start":0,"stop":1,"step":0.1}"#)
            .unwrap()
            .xs;
        assert_eq!(xs.len(), 11);
        assert_eq!(xs[10], 1.0);
        assert!(xs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn single_point_range() {
        assert_eq!(
            sweep(r#"{"function":"square","start":3,"stop":3,"step":1}"#)
                .unwrap()
                .xs,
            [3.0]
        );
        // A step wider than the range still gives the start.
        assert_eq!(
            sweep(r#"{"function":"square","start":0,"stop":1,"step":5}"#)
                .unwrap()
                .xs,
            [0.0]
        );
    }

    #[test]
    fn explicit_values() {
        let s = sweep(r#"{"function":"cube","values":[3,-1,0.5]}"#).unwrap();
        assert_eq!(s.function, Function::Cube);
        assert_eq!(s.xs, [3.0, -1.0, 0.5]);
    }

    #[test]
    fn point_limit() {
        assert_eq!(
            sweep(r#"{"function":"identity","start":1,"stop":100000,"step":1}"#)
                .unwrap()
                .xs
                .len(),
            100_000
        );
        assert_eq!(
            invalid_message(r#"{"function":"identity","start":0,"stop":100000,"step":1}"#),
            "too many points: start 0, stop 100000, step 1 gives 100001 points, the limit is 100000"
        );
        assert_eq!(
            invalid_message(r#"{"function":"identity","start":0,"stop":1e300,"step":1e-300}"#),
            "the range from \"start\" to \"stop\" is too wide"
        );
        assert_eq!(
            invalid_message(r#"{"function":"identity","start":0,"stop":1e300,"step":1}"#),
            "too many points: start 0, stop 1e300, step 1 gives 1e300 points, the limit is 100000"
        );
        let values = format!("[{}]", vec!["1"; 100_001].join(","));
        assert_eq!(
            invalid_message(&format!(r#"{{"function":"identity","values":{values}}}"#)),
            "too many points: \"values\" has 100001 entries, the limit is 100000"
        );
        let small = Limits { max_points: 3 };
        let event = parse(r#"{"function":"identity","start":0,"stop":3,"step":1}"#).unwrap();
        assert!(Sweep::from_event(&event, &small).is_err());
        let event = parse(r#"{"function":"identity","start":0,"stop":2,"step":1}"#).unwrap();
        assert!(Sweep::from_event(&event, &small).is_ok());
    }

    #[test]
    fn rejects_invalid_events() {
        let cases = [
            ("[]", "the event must be a JSON object, got array"),
            ("null", "the event must be a JSON object, got null"),
            (
                r#"{"start":0,"stop":1,"step":1}"#,
                "missing field \"function\" (one of identity, square, cube, sqrt, sin, cos or exp)",
            ),
            (
                r#"{"function":"tan","values":[1]}"#,
                "unknown function \"tan\" (expected identity, square, cube, sqrt, sin, cos or exp)",
            ),
            (
                r#"{"function":7,"values":[1]}"#,
                "field \"function\" must be a string, got number",
            ),
            (
                r#"{"function":"sin"}"#,
                "the event needs either \"values\" or \"start\", \"stop\" and \"step\"",
            ),
            (
                r#"{"function":"sin","start":0,"stop":1}"#,
                "missing field \"step\" for a range",
            ),
            (
                r#"{"function":"sin","step":1}"#,
                "missing field \"start\" and \"stop\" for a range",
            ),
            (
                r#"{"function":"sin","start":"0","stop":1,"step":1}"#,
                "field \"start\" must be a number, got string",
            ),
            (
                r#"{"function":"sin","start":0,"stop":1,"step":0}"#,
                "field \"step\" must be greater than 0, got 0",
            ),
            (
                r#"{"function":"sin","start":0,"stop":1,"step":-0.5}"#,
                "field \"step\" must be greater than 0, got -0.5",
            ),
            (
                r#"{"function":"sin","start":2,"stop":1,"step":1}"#,
                "field \"stop\" (1) must not be less than \"start\" (2)",
            ),
            (
                r#"{"function":"sin","values":[1],"start":0}"#,
                "give either \"values\" or \"start\", \"stop\" and \"step\", not both",
            ),
            (
                r#"{"function":"sin","values":[]}"#,
                "field \"values\" must not be empty",
            ),
            (
                r#"{"function":"sin","values":{"a":1}}"#,
                "field \"values\" must be an array of numbers, got object",
            ),
            (
                r#"{"function":"sin","values":[1,2,"3"]}"#,
                "values[2] must be a number, got string",
            ),
            (
                r#"{"function":"sin","values":[1],"stpe":1}"#,
                "unknown field \"stpe\" (expected function, start, stop, step or values)",
            ),
        ];
        for (event, message) in cases {
            assert_eq!(invalid_message(event), message, "{event}");
        }
    }

    #[test]
    fn runs_and_summarises() {
        let result = sweep(r#"{"function":"square","start":0,"stop":10,"step":2.5}"#)
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(
            result.points,
            [
                (0.0, 0.0),
                (2.5, 6.25),
                (5.0, 25.0),
                (7.5, 56.25),
                (10.0, 100.0)
            ]
        );
        assert_eq!(
            (result.min, result.max, result.sum, result.mean),
            (0.0, 100.0, 187.5, 37.5)
        );
        assert_eq!(
            result.to_value().to_json(),
            r#"{"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},{"x":5,"y":25},{"x":7.5,"y":56.25},{"x":10,"y":100}],"min":0,"max":100,"mean":37.5,"sum":187.5}"#
        );
    }

    #[test]
    fn min_and_max_follow_y_not_x() {
        let result = sweep(r#"{"function":"cos","values":[0,3.141592653589793]}"#)
            .unwrap()
            .run()
            .unwrap();
        assert_eq!((result.min, result.max), (-1.0, 1.0));
        assert!(result.mean.abs() < 1e-15);
    }

    #[test]
    fn compensated_sum() {
        // Naive summation loses the small terms entirely.
        let result = Sweep {
            function: Function::Identity,
            xs: vec![1e16, 1.0, 1.0, -1e16],
        }
        .run()
        .unwrap();
        assert_eq!(result.sum, 2.0);
        let result = Sweep {
            function: Function::Identity,
            xs: vec![0.1; 10],
        }
        .run()
        .unwrap();
        assert_eq!(result.sum, 1.0);
    }

    #[test]
    fn domain_errors() {
        let e = sweep(r#"{"function":"sqrt","values":[4,-1]}"#)
            .unwrap()
            .run()
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::DomainError, "sqrt(-1) is undefined")
        );
        let e = sweep(r#"{"function":"exp","values":[1000]}"#)
            .unwrap()
            .run()
            .unwrap_err();
        assert_eq!(e.message(), "exp(1000) overflows");
        let e = sweep(r#"{"function":"square","values":[1e200]}"#)
            .unwrap()
            .run()
            .unwrap_err();
        assert_eq!(e.message(), "square(1e200) overflows");
        let e = sweep(r#"{"function":"identity","values":[1.7e308,1.7e308]}"#)
            .unwrap()
            .run()
            .unwrap_err();
        assert_eq!(e.message(), "the sum of the results overflows");
        // sqrt(-0) is -0, which is fine.
        assert!(sweep(r#"{"function":"sqrt","values":[-0]}"#)
            .unwrap()
            .run()
            .is_ok());
    }
}
