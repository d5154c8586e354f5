//! An AWS Lambda custom runtime's side of the Runtime API (`provided.al2023`), standard library
//! only, shared by the sweep service's functions.
//!
//! It knows the protocol, not what a function does: a function's binary reads its settings,
//! builds a [`RuntimeApi`] for the address in `AWS_LAMBDA_RUNTIME_API`, reports a bad setting
//! with [`RuntimeApi::report_init_error`], and then hands its handler to [`serve()`].
//!
//! ```no_run
//! use std::process::ExitCode;
//! use sweep_lambda_runtime::{parse_authority, serve, Retry, RuntimeApi};
//!
//! fn main() -> ExitCode {
//!     let address = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
//!     let Ok(authority) = parse_authority(&address) else {
//!         return ExitCode::FAILURE;
//!     };
//!     let api = RuntimeApi::new("echo", authority, Retry::default());
//!     let echo = |invocation: &sweep_lambda_runtime::Invocation| {
//!         Ok(String::from_utf8_lossy(&invocation.body).into_owned())
//!     };
//!     let error = serve(&api, echo, |_, _, _| {});
//!     eprintln!("echo: {error}; exiting");
//!     ExitCode::FAILURE
//! }
//! ```
//!
//! Modules: [`http`] (a minimal HTTP/1.1 client on `std::net`), [`api`] (the Runtime API's
//! calls), `serve` (the invocation loop), `report` (Lambda's error document), `setting`
//! (numeric settings from the environment) and `trace` (a per-invocation log line).

pub mod api;
pub mod http;
mod report;
mod serve;
mod setting;
mod trace;

pub use api::{parse_authority, Invocation, Retry, RuntimeApi, RuntimeError};
pub use report::{ErrorReport, INIT_ERROR_TYPE, PANIC_ERROR_TYPE};
pub use serve::{serve, Outcome};
pub use setting::whole_number;
pub use trace::trace_line;
