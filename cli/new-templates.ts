/*
 * What `sweep-runtime new NAME` writes: a function crate (its Cargo.toml and a minimal main.rs),
 * and a workspace Cargo.toml when there is none. Standard library only: a workspace built here
 * can reach no crate registry, and the toolchain image's cargo (1.78 in rust:1-bullseye) knows
 * edition 2021.
 */

/** A new workspace's Cargo.toml, with the crate as its first member. */
export function workspaceManifest(member: string): string {
  return `[workspace]
resolver = "2"
members = ["${member}"]

# Lambda binaries: the same sources give the same bytes (no debug info, stripped symbols, so no
# absolute paths in the binary), and an edit rebuilds fast.
[profile.release]
opt-level = 3
debug = false
strip = true
incremental = false
`;
}

/** The crate's Cargo.toml; `runtimeCrate` when the workspace has the example's Runtime API client. */
export function crateManifest(name: string, runtimeCrate: boolean): string {
  return `[package]
name = "${name}"
version = "0.1.0"
edition = "2021"
publish = false

# The Lambda binary (zipped as \`bootstrap\`, the file Lambda starts).
[[bin]]
name = "${name}"
path = "src/main.rs"
${runtimeCrate ? '\n[dependencies]\nsweep-lambda-runtime.workspace = true\n' : ''}`;
}

/** main.rs on the workspace's sweep-lambda-runtime crate (the Runtime API client the example functions use). */
export function mainWithRuntimeCrate(name: string): string {
  return `//! \`${name}\`: an AWS Lambda function on the custom runtime (provided.al2023), served by this
//! workspace's Runtime API client (sweep-lambda-runtime): it answers each event with the event.
//! Replace \`handle\` with what your function does.

use std::process::ExitCode;

use sweep_lambda_runtime::{parse_authority, serve, ErrorReport, Invocation, Outcome, Retry, RuntimeApi};

/// Starts this function's log lines.
const NAME: &str = "${name}";

fn main() -> ExitCode {
    let address = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    let authority = match parse_authority(&address) {
        Ok(authority) => authority,
        Err(message) => {
            eprintln!("{NAME}: {message}; this binary is a Lambda custom runtime");
            return ExitCode::FAILURE;
        }
    };
    let api = RuntimeApi::new(NAME, authority, Retry::default());
    let error = serve(&api, handle, |_, _, _| {});
    eprintln!("{NAME}: Runtime API at {}: {error}; exiting", api.authority());
    ExitCode::FAILURE
}

/// One invocation: the response body (JSON), or the error Lambda reports to the caller.
fn handle(invocation: &Invocation) -> Outcome {
    let text = String::from_utf8_lossy(&invocation.body);
    let event = text.trim();
    if event.is_empty() {
        return Err(ErrorReport::new("EmptyEvent", "the event is empty"));
    }
    Ok(format!("{{\\"function\\":\\"{NAME}\\",\\"event\\":{event}}}"))
}
`;
}

/** A self-contained main.rs: the Runtime API's two calls over std::net, for a workspace without a runtime crate. */
export function mainStandalone(name: string): string {
  return `//! \`${name}\`: an AWS Lambda function on the custom runtime (provided.al2023), standard library
//! only. It asks the Runtime API for the next event, answers it, and repeats; Lambda starts it with
//! AWS_LAMBDA_RUNTIME_API set to the API's host:port. Replace \`handle\` with what your function does.

use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

/// Starts this function's log lines.
const NAME: &str = "${name}";
const API: &str = "/2018-06-01/runtime/invocation";

fn main() -> ExitCode {
    let Ok(api) = env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("{NAME}: AWS_LAMBDA_RUNTIME_API is not set; this binary is a Lambda custom runtime");
        return ExitCode::FAILURE;
    };
    loop {
        let (request_id, event) = match request(&api, "GET", &format!("{API}/next"), "") {
            Ok((headers, body)) => match header(&headers, "lambda-runtime-aws-request-id") {
                Some(id) => (id, body),
                None => {
                    eprintln!("{NAME}: the Runtime API sent an event without a request id");
                    return ExitCode::FAILURE;
                }
            },
            Err(e) => {
                eprintln!("{NAME}: Runtime API at {api}: {e}; exiting");
                return ExitCode::FAILURE;
            }
        };
        let (path, body) = match handle(&event) {
            Ok(response) => (format!("{API}/{request_id}/response"), response),
            Err(message) => (
                format!("{API}/{request_id}/error"),
                format!("{{\\"errorType\\":\\"HandlerError\\",\\"errorMessage\\":{}}}", json_string(&message)),
            ),
        };
        if let Err(e) = request(&api, "POST", &path, &body) {
            eprintln!("{NAME}: request {request_id}: {e}");
        }
    }
}

/// One invocation: the response body (JSON), or an error message Lambda reports to the caller.
fn handle(event: &str) -> Result<String, String> {
    let event = event.trim();
    if event.is_empty() {
        return Err("the event is empty".to_owned());
    }
    Ok(format!("{{\\"function\\":\\"{NAME}\\",\\"event\\":{event}}}"))
}

/// One HTTP/1.1 request on its own connection: the response's headers (names in lower case) and body.
fn request(api: &str, method: &str, path: &str, body: &str) -> io::Result<(Vec<(String, String)>, String)> {
    let mut stream = TcpStream::connect(api)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\\r\\nHost: {api}\\r\\nContent-Type: application/json\\r\\nContent-Length: {}\\r\\nConnection: close\\r\\n\\r\\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let code = status.split_whitespace().nth(1).unwrap_or("");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut body = Vec::new();
    match header(&headers, "content-length").and_then(|n| n.parse::<usize>().ok()) {
        Some(length) => {
            body.resize(length, 0);
            reader.read_exact(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    if !code.starts_with('2') {
        return Err(io::Error::other(format!("{method} {path}: HTTP {}", status.trim_end())));
    }
    Ok((headers, String::from_utf8_lossy(&body).into_owned()))
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// A JSON string literal of \`text\`.
fn json_string(text: &str) -> String {
    let mut out = String::from("\\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\\\\""),
            '\\\\' => out.push_str("\\\\\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
`;
}
