//! kill -9 while clients create cases: every case whose creation was acknowledged is there
//! after the restart.

use cityops_test_support::scratch::{test_url, ScratchDatabase};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::process::{add_user, serve, sign_in};
use std::time::{Duration, Instant};

async fn acknowledged_cases_survive_sigkill(store_args: &[&str]) {
    let mut add = vec!["--username", "operator", "--role", "operator"];
    add.extend_from_slice(store_args);
    assert!(add_user(&add).success());

    let (mut child, base) = serve(store_args);
    let client = reqwest::Client::new();
    let token = sign_in(&client, &base).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for writer in 0..6 {
        let (client, base, token, acknowledged) = (
            client.clone(),
            base.clone(),
            token.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            for i in 0.. {
                if Instant::now() > deadline {
                    break;
                }
                let sent = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "source": "hotline",
                        "description": format!("写入者{writer}的第{i}个案件：路灯不亮"),
                        "location": {"lon": 121.4919, "lat": 31.2150},
                        "area": "310101002",
                    }))
                    .send()
                    .await;
                // Once the server is killed, requests fail: the writer stops.
                let Ok(response) = sent else { break };
                if response.status() != 201 {
                    break;
                }
                let Ok(case) = response.json::<Value>().await else {
                    break;
                };
                acknowledged
                    .lock()
                    .unwrap()
                    .push(case["id"].as_str().unwrap().to_owned());
            }
        }));
    }
    // Kill mid-stream, once a good number of cases is in.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 150 && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 150,
        "only {} cases were acknowledged",
        acknowledged.len()
    );

    let (mut child, base) = serve(store_args);
    let token = sign_in(&client, &base).await;
    let mut missing = Vec::new();
    for id in &acknowledged {
        let response = client
            .get(format!("{base}/api/v1/cases/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            missing.push(id.clone());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged cases were lost: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
}

#[tokio::test]
async fn acknowledged_cases_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().unwrap();
    acknowledged_cases_survive_sigkill(&["--data-dir", data_dir]).await;
}

#[tokio::test]
async fn acknowledged_cases_survive_sigkill_on_postgres() {
    let Some(admin) = test_url() else {
        eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL durability test skipped");
        return;
    };
    let db = ScratchDatabase::create(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data").to_str().unwrap().to_owned();
    acknowledged_cases_survive_sigkill(&["--data-dir", &data_dir, "--database", &db.url]).await;
    db.drop_now().await.unwrap();
}

/// SIGTERM ends the server promptly even while a live stream is open.
#[tokio::test]
async fn sigterm_shuts_down_gracefully_with_a_live_stream_open() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data").to_str().unwrap().to_owned();
    let add = [
        "--username",
        "operator",
        "--role",
        "operator",
        "--data-dir",
        &data_dir,
    ];
    assert!(add_user(&add).success());
    let (mut child, base) = serve(&["--data-dir", &data_dir]);
    let client = reqwest::Client::new();
    let token = sign_in(&client, &base).await;
    let stream = client
        .get(format!("{base}/api/v1/stream?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(stream);
}
