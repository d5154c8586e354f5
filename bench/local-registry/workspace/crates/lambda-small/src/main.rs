//! A Lambda-like handler with few dependencies: reads one JSON event on stdin, answers on stdout.
use serde::{Deserialize, Serialize};
use std::io::Read;

// The benchmark's one-line edit changes this line.
const GREETING: &str = "hello";

#[derive(Deserialize)]
struct Event {
    name: String,
    #[serde(default)]
    points: Vec<f64>,
}

#[derive(Serialize)]
struct Response {
    message: String,
    total: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let event: Event = serde_json::from_str(&input)?;
    let response = Response { message: format!("{GREETING}, {}", event.name), total: event.points.iter().sum() };
    println!("{}", serde_json::to_string(&response)?);
    Ok(())
}
