//! `cityops demo`: a seeded Shanghai with users for every role, and a city that lives.

use futures_util::StreamExt;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn the_demo_seeds_every_role_and_keeps_the_city_alive() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--cases",
            "150",
            "--live-every",
            "1",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("CITYOPS_LOG_FILTER", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let base = loop {
        let line = lines.next().expect("the demo prints its address").unwrap();
        if let Some(url) = line.strip_prefix("CityOps listening on ") {
            break url.to_owned();
        }
        printed.push(line);
    };
    let printed = printed.join("\n");
    assert!(printed.contains("Seeded 150 demo cases"), "{printed}");
    let client = reqwest::Client::new();
    let mut tokens = std::collections::HashMap::new();
    for user in [
        "inspector",
        "operator",
        "shiftlead",
        "dispatcher",
        "handler",
        "water",
        "leader",
        "evaluator",
        "admin",
    ] {
        assert!(
            printed.contains(user),
            "the demo prints the sign-in of {user}"
        );
        let response: Value = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({"username": user, "password": "cityops-demo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.insert(
            user,
            response["token"]
                .as_str()
                .unwrap_or_else(|| panic!("{user}: {response}"))
                .to_owned(),
        );
    }
    let metrics = client
        .get(format!("{base}/metrics"))
        .bearer_auth(&tokens["admin"])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let states = metrics
        .lines()
        .filter(|l| l.starts_with("cityops_cases{"))
        .count();
    assert!(states >= 11, "cases in {states} states:\n{metrics}");

    // The hotline's knowledge base answers the common enquiries.
    let found: Value = client
        .get(format!("{base}/api/v1/knowledge?q=井盖丢了"))
        .bearer_auth(&tokens["operator"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found[0]["title"], "窨井盖缺失或破损", "{found}");

    // The live city: reports and workflow steps keep arriving on the stream.
    let stream = client
        .get(format!(
            "{base}/api/v1/stream?access_token={}",
            tokens["leader"]
        ))
        .send()
        .await
        .unwrap();
    let mut stream = stream.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while text.matches("event: case").count() < 3 {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("live events within 30 s");
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
