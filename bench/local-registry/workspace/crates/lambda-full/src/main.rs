//! A Lambda-like handler with a realistic dependency tree: an async runtime loop (tokio) that
//! reads invocations, validates them (regex), stamps them (chrono), logs (tracing, log) and answers
//! JSON (serde). It talks to the Runtime API address it is given, like a real `bootstrap`.
use anyhow::Context;
use bytes::{BufMut, BytesMut};
use clap::Parser;
use regex::Regex;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

// The benchmark's one-line edit changes this line.
const GREETING: &str = "hello";

#[derive(Parser, Debug)]
struct Args {
    /// host:port of the Lambda Runtime API.
    #[arg(long, env = "AWS_LAMBDA_RUNTIME_API", default_value = "127.0.0.1:9001")]
    runtime_api: String,
    /// Stop after this many invocations (0: never).
    #[arg(long, default_value_t = 0)]
    max_invocations: u64,
}

#[derive(Deserialize, Debug)]
struct Event {
    name: String,
    #[serde(default)]
    points: Vec<f64>,
}

#[derive(Serialize)]
struct Response {
    message: String,
    total: f64,
    at: String,
}

#[derive(thiserror::Error, Debug)]
enum HandlerError {
    #[error("invalid name {0:?}")]
    InvalidName(String),
}

fn handle(event: Event, name_rule: &Regex) -> Result<Response, HandlerError> {
    if !name_rule.is_match(&event.name) {
        return Err(HandlerError::InvalidName(event.name));
    }
    let total = event.points.iter().sum();
    tracing::info!(total, "handled");
    log::debug!("handled {}", event.name);
    Ok(Response { message: format!("{GREETING}, {}", event.name), total, at: chrono::Utc::now().to_rfc3339() })
}

/// One HTTP/1.1 request to the Runtime API; returns (request id header, body).
async fn request(api: &str, method: &str, path: &str, body: &[u8]) -> anyhow::Result<(Option<String>, Vec<u8>)> {
    let mut stream = TcpStream::connect(api).await.with_context(|| format!("connecting to {api}"))?;
    let mut head = BytesMut::new();
    head.put(format!("{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    head.put(body);
    stream.write_all(&head).await?;
    let mut reader = BufReader::new(stream);
    let mut request_id = None;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("lambda-runtime-aws-request-id:") {
            request_id = Some(value.trim().to_string());
        } else if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok((request_id, body))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let name_rule = Regex::new(r"^[A-Za-z][A-Za-z0-9 _-]{0,63}$")?;
    let mut done = 0u64;
    loop {
        let (id, body) = request(&args.runtime_api, "GET", "/2018-06-01/runtime/invocation/next", b"").await?;
        let id = id.context("no request id")?;
        let reply = match serde_json::from_slice::<Event>(&body).map_err(anyhow::Error::from).and_then(|e| Ok(handle(e, &name_rule)?)) {
            Ok(response) => ("response", serde_json::to_vec(&response)?),
            Err(error) => ("error", serde_json::to_vec(&serde_json::json!({ "errorMessage": error.to_string() }))?),
        };
        request(&args.runtime_api, "POST", &format!("/2018-06-01/runtime/invocation/{id}/{}", reply.0), &reply.1).await?;
        done += 1;
        if args.max_invocations != 0 && done >= args.max_invocations {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(0)).await;
    }
}
