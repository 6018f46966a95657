//! The outbox is read and pruned: the relay feeds the live stream from it and records how far
//! it has read; rows go once every consumer has seen them and they are older than the
//! retention, never before; `cityops outbox` shows, prunes and forgets consumers.

use chrono::{Duration, Utc};
use cityops_test_support::{on_both_backends, Backend, TestApp};
use futures_util::StreamExt;
use serde_json::{json, Value};

on_both_backends!(
    rows_go_once_every_consumer_has_seen_them_and_not_before,
    a_reconnecting_subscriber_is_given_what_it_missed_once
);

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
    next_case_frame(stream, buffer, std::time::Duration::from_secs(10))
        .await
        .expect("a case event within 10 s")
        .1
}

/// The next `case` event and its id, if one comes within `wait`.
pub(crate) async fn next_case_frame(
    stream: &mut Events,
    buffer: &mut String,
    wait: std::time::Duration,
) -> Option<(i64, Value)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.lines().any(|l| l == "event: case") {
                let field = |name: &str| {
                    frame
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap_or_else(|| panic!("no {name} in {frame:?}"))
                        .to_owned()
                };
                let id = field("id: ").parse().unwrap();
                return Some((id, serde_json::from_str(&field("data: ")).unwrap()));
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .ok()?;
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
}

/// The live stream of `who`, resuming after the case event `last` when given.
pub(crate) async fn resume_stream(app: &TestApp, who: &str, last: &str) -> reqwest::Response {
    app.client
        .get(format!(
            "{}/api/v1/stream?access_token={}",
            app.base, app.tokens[who]
        ))
        .header("Last-Event-ID", last)
        .send()
        .await
        .unwrap()
}

/// A subscriber that reconnects with `Last-Event-ID` is given what it missed, in order and
/// once, then the live changes; an id that is no number is refused naming the header.
async fn a_reconnecting_subscriber_is_given_what_it_missed_once(app: &TestApp) {
    let second = std::time::Duration::from_secs(1);
    let mut stream = open_stream(app).await;
    let mut buffer = String::new();
    let first = app.report("operator", "hotline").await;
    let (seen, event) = next_case_frame(&mut stream, &mut buffer, second * 10)
        .await
        .unwrap();
    assert_eq!(event["id"], first["id"]);
    drop(stream);

    // While it is away: a report and its acceptance.
    let missed = app.report("operator", "hotline").await;
    app.ok("operator", &missed, "accept", json!({})).await;
    let response = resume_stream(app, "operator", &seen.to_string()).await;
    assert_eq!(response.status(), 200);
    let mut stream: Events = Box::pin(response.bytes_stream());
    let mut buffer = String::new();
    let mut next = async || {
        next_case_frame(&mut stream, &mut buffer, second * 10)
            .await
            .expect("a case event within 10 s")
    };
    let (report_id, report) = next().await;
    let (accept_id, accept) = next().await;
    assert_eq!(
        (
            &report["id"],
            &report["action"],
            &accept["id"],
            &accept["action"]
        ),
        (
            &missed["id"],
            &json!("report"),
            &missed["id"],
            &json!("accept")
        )
    );
    assert!(seen < report_id && report_id < accept_id);
    // Then the live ones, and nothing twice.
    let live = app.report("operator", "hotline").await;
    let (live_id, event) = next().await;
    assert_eq!(event["id"], live["id"]);
    assert!(live_id > accept_id);
    let again = next_case_frame(&mut stream, &mut buffer, second * 2).await;
    assert!(again.is_none(), "an event came twice: {again:?}");

    // Resuming from the newest sees nothing old; a bad id is refused.
    let response = resume_stream(app, "operator", &live_id.to_string()).await;
    let mut stream: Events = Box::pin(response.bytes_stream());
    let mut buffer = String::new();
    let old = next_case_frame(&mut stream, &mut buffer, second * 2).await;
    assert!(old.is_none(), "{old:?}");
    // An id the database never gave (a restored database) is not waited for.
    let response = resume_stream(app, "operator", "999999999999").await;
    let mut stream: Events = Box::pin(response.bytes_stream());
    let mut buffer = String::new();
    let later = app.report("operator", "hotline").await;
    let (_, event) = next_case_frame(&mut stream, &mut buffer, second * 10)
        .await
        .expect("a change after an unknown id");
    assert_eq!(event["id"], later["id"]);
    let response = resume_stream(app, "operator", "yesterday").await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "Last-Event-ID", "{body}");
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
