//! The outbox is read and pruned: the relay feeds the live stream from it and records how far
//! it has read; rows go once every consumer has seen them and they are older than the
//! retention, never before; `cityops outbox` shows, prunes and forgets consumers.

use chrono::{Duration, Utc};
use cityops_test_support::{on_both_backends, Backend, TestApp};
use futures_util::StreamExt;
use serde_json::{json, Value};

on_both_backends!(rows_go_once_every_consumer_has_seen_them_and_not_before);

/// This node's consumer name (the default `node_name`).
const NODE: &str = "cityops";

async fn rows(app: &TestApp) -> i64 {
    app.store.outbox_status().await.unwrap().rows
}

/// Waits until this node's relay has recorded that it has seen every row written so far.
async fn relay_caught_up(app: &TestApp) -> i64 {
    let end = app.store.outbox_end().await.unwrap();
    for _ in 0..100 {
        let status = app.store.outbox_status().await.unwrap();
        if status
            .consumers
            .iter()
            .any(|c| c.name == NODE && c.last_seen >= end)
        {
            return end;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the relay did not record outbox row {end} within 10 s");
}

async fn rows_go_once_every_consumer_has_seen_them_and_not_before(app: &TestApp) {
    let store = &app.store;
    let now = Utc::now();
    let later = now + Duration::hours(1); // every row written so far counts as old
    let active = now - Duration::hours(1);
    // A second node that has read nothing yet.
    store.outbox_seen("node-b", 0, now).await.unwrap();
    let case = app.report("operator", "hotline").await;
    app.ok("operator", &case, "accept", json!({})).await;
    let end = relay_caught_up(app).await;
    assert_eq!(rows(app).await, 2);

    assert_eq!(
        store.outbox_prune(later, active).await.unwrap(),
        0,
        "node-b has seen neither row"
    );
    assert_eq!(rows(app).await, 2);
    store.outbox_seen("node-b", end - 1, now).await.unwrap();
    assert_eq!(store.outbox_prune(later, active).await.unwrap(), 1);
    assert_eq!(rows(app).await, 1);
    // Seen by everyone but younger than the retention: kept.
    store.outbox_seen("node-b", end, now).await.unwrap();
    assert_eq!(
        store
            .outbox_prune(now - Duration::hours(1), active)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.outbox_prune(later, active).await.unwrap(), 1);
    assert_eq!(rows(app).await, 0);

    // A consumer silent for longer than the window holds nothing back, and one forgotten is
    // gone; one that is active still does.
    store
        .outbox_seen("node-gone", 0, now - Duration::hours(100))
        .await
        .unwrap();
    app.report("operator", "hotline").await;
    let end = relay_caught_up(app).await;
    assert_eq!(
        store.outbox_prune(later, active).await.unwrap(),
        0,
        "node-b"
    );
    store.outbox_seen("node-b", end, now).await.unwrap();
    assert_eq!(store.outbox_prune(later, active).await.unwrap(), 1);
    assert!(store.outbox_forget("node-gone").await.unwrap());
    assert!(!store.outbox_forget("node-gone").await.unwrap());
    let names: Vec<String> = store
        .outbox_status()
        .await
        .unwrap()
        .consumers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["cityops", "node-b"]);

    // The live stream goes on after pruning, and past a row nobody can read.
    let mut stream = open_stream(app).await;
    let mut buffer = String::new();
    raw_sql(
        app,
        "INSERT INTO outbox (topic, case_id, payload, created_at) VALUES ('case.report', 'nobody', 'not json', 0)",
    )
    .await;
    let case = app.report("operator", "hotline").await;
    let event = next_case_event(&mut stream, &mut buffer).await;
    assert_eq!(event["number"], case["number"]);
    assert_eq!(event["action"], "report");
}

/// Runs SQL behind the store's back.
async fn raw_sql(app: &TestApp, sql: &str) {
    if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

pub(crate) type Events =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

pub(crate) async fn open_stream(app: &TestApp) -> Events {
    open_stream_as(app, "operator").await
}

pub(crate) async fn open_stream_as(app: &TestApp, who: &str) -> Events {
    let response = app
        .client
        .get(format!(
            "{}/api/v1/stream?access_token={}",
            app.base, app.tokens[who]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    Box::pin(response.bytes_stream())
}

pub(crate) async fn next_case_event(stream: &mut Events, buffer: &mut String) -> Value {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains("event: case") {
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str(data).unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Waits until the outbox holds `want` rows.
async fn rows_become(app: &TestApp, want: i64) {
    for _ in 0..100 {
        if rows(app).await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the outbox still holds {} rows, not {want}",
        rows(app).await
    );
}

/// With no retention and pruning every second, the server prunes by itself what every node
/// has seen, waits for a node that has not, and the stream hears every change meanwhile.
async fn the_server_prunes_by_itself(backend: Backend) {
    let Some(app) = TestApp::spawn_configured(backend, |config| {
        config.outbox_retention_hours = 0;
        config.outbox_prune_secs = 1;
    })
    .await
    else {
        return;
    };
    let mut stream = open_stream(&app).await;
    let mut buffer = String::new();
    let case = app.report("operator", "hotline").await;
    let event = next_case_event(&mut stream, &mut buffer).await;
    assert_eq!(event["number"], case["number"]);
    rows_become(&app, 0).await;

    app.store
        .outbox_seen("node-b", 0, Utc::now())
        .await
        .unwrap();
    app.ok("operator", &case, "accept", json!({})).await;
    let event = next_case_event(&mut stream, &mut buffer).await;
    assert_eq!(
        (event["action"].as_str(), event["state"].as_str()),
        (Some("accept"), Some("accepted"))
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(rows(&app).await, 1, "node-b has not seen the accept yet");

    // The command line shows the consumers, and forgetting node-b lets the row go.
    let status = cli(&app, &["outbox", "status"]);
    assert!(status.contains("1 rows"), "{status}");
    assert!(status.contains("consumer node-b: seen up to 0"), "{status}");
    assert!(status.contains("consumer cityops"), "{status}");
    let forgot = cli(&app, &["outbox", "forget", "node-b"]);
    assert!(forgot.contains("forgotten"), "{forgot}");
    rows_become(&app, 0).await;
    let pruned = cli(&app, &["outbox", "prune", "--older-than-hours", "0"]);
    assert!(pruned.contains("0 outbox rows pruned"), "{pruned}");
    app.finish().await;
}

#[tokio::test]
async fn the_server_prunes_by_itself_on_sqlite() {
    the_server_prunes_by_itself(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_server_prunes_by_itself_on_postgres() {
    the_server_prunes_by_itself(Backend::Postgres).await;
}

/// Runs `cityops ARGS` against the app's store; must succeed; returns its output.
pub(crate) fn cli(app: &TestApp, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(args)
        .arg("--data-dir")
        .arg(&app.data_dir)
        .args(["--database", &app.database_url])
        .env("CITYOPS_LOG_FILTER", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "cityops {args:?}: {text}");
    text
}
