//! The overdue watch over the real server and database: a case left past its deadline turns
//! yellow, then red, then is escalated to its unit's head and the district's center, each
//! once, on its timeline and on the live stream; a leader's supervision notice unanswered by
//! its deadline is announced; several processes on one database run one watch.
//!
//! The server's own watch runs on the wall clock; to see a case days late without waiting
//! days, the tests run a sweep of the same watch at a later moment, on the same store, from a
//! second state whose own watch is off. What it writes reaches the server's live stream
//! through the outbox like any other node's change.

use chrono::{Duration, Utc};
use cityops_api::{watch, ApiConfig, AppState};
use cityops_test_support::{on_both_backends, Backend, TestApp};
use serde_json::{json, Value};

use super::outbox::{next_case_event, open_stream, open_stream_as, Events};

on_both_backends!(
    a_late_case_turns_yellow_red_and_is_escalated_once_on_the_stream,
    an_unanswered_supervision_notice_is_announced,
    an_assisting_part_turns_yellow_and_red_on_the_assisting_units_stream,
);

/// A second process on the app's database, whose watch is off and whose outbox relay reads
/// under a name of its own.
fn second_process(app: &TestApp, watch_on: bool) -> AppState {
    let mut config = ApiConfig::new(app.data_dir.clone());
    config.watch.enabled = watch_on;
    config.watch.every = std::time::Duration::from_millis(200);
    config.duties.lease = std::time::Duration::from_secs(2);
    config.outbox.node_name = format!("second-{}", uuid::Uuid::new_v4().simple());
    AppState::new(app.store.clone(), config)
}

/// A case signed for by Huangpu's water company, in handling.
async fn in_handling(app: &TestApp) -> Value {
    let case = app.report("operator", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "20101"}))
        .await;
    let case = app
        .ok(
            "dispatcher",
            &case,
            "dispatch",
            json!({"unit": "310101-ZLS"}),
        )
        .await;
    let case = app.ok("water", &case, "sign", json!({})).await;
    assert_eq!(case["stage"], "handling");
    case
}

async fn get_case(app: &TestApp, who: &str, case: &Value) -> Value {
    let (status, body) = app
        .get(
            Some(who),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The next watch finding on the stream. The steps that brought the case to handling were
/// committed before the stream opened, but the relay may still be sending them: skip them.
async fn next_watch_event(stream: &mut Events, buffer: &mut String) -> Value {
    loop {
        let event = next_case_event(stream, buffer).await;
        if event["action"] == "watch" {
            return event;
        }
    }
}

/// The watch's findings on the case's timeline, in order.
async fn findings(app: &TestApp, case: &Value) -> Vec<Value> {
    app.timeline(case)
        .await
        .into_iter()
        .filter(|e| e["action"] == "watch")
        .collect()
}

async fn a_late_case_turns_yellow_red_and_is_escalated_once_on_the_stream(app: &TestApp) {
    let case = in_handling(app).await;
    assert_eq!(case["watch"], Value::Null, "nothing announced yet");
    let deadline: chrono::DateTime<Utc> = case["deadline"].as_str().unwrap().parse().unwrap();
    let timeline = app.timeline(&case).await;
    let warning: chrono::DateTime<Utc> = timeline.last().unwrap()["clock"]["warning"]
        .as_str()
        .expect("the clock records when the stage turns yellow")
        .parse()
        .unwrap();
    assert!(warning < deadline);

    let mut stream = open_stream(app).await;
    let mut buffer = String::new();
    let second = second_process(app, false);

    // Before the yellow point nothing is due; at it, yellow only.
    let done = watch::sweep(&second, warning - Duration::minutes(1), false)
        .await
        .unwrap();
    assert_eq!(done.recorded, 0, "{done:?}");
    let done = watch::sweep(&second, warning, false).await.unwrap();
    assert_eq!(done.recorded, 1, "{done:?}");
    let event = next_watch_event(&mut stream, &mut buffer).await;
    assert_eq!(
        (&event["number"], &event["action"], &event["mark"]),
        (&case["number"], &json!("watch"), &json!("due"))
    );

    // A month late: red, then both escalation steps of the default policy, in one sweep.
    let late = deadline + Duration::days(30);
    let done = watch::sweep(&second, late, false).await.unwrap();
    assert_eq!(done.recorded, 3, "{done:?}");
    // Three changes on the stream; each shows the case as the relay read it, so a burst may
    // show the last state more than once.
    let mut last = Value::Null;
    for _ in 0..3 {
        last = next_watch_event(&mut stream, &mut buffer).await;
        assert_eq!(
            (&last["action"], &last["mark"]),
            (&json!("watch"), &json!("overdue"))
        );
    }
    assert_eq!(last["escalated_to"], "next_center");
    // Each once: the same moment again finds nothing.
    let again = watch::sweep(&second, late, false).await.unwrap();
    assert_eq!(again.recorded, 0, "{again:?}");

    let seen = get_case(app, "water", &case).await;
    assert_eq!(
        seen["watch"],
        json!({"stage": "handling", "mark": "overdue", "steps": 2,
               "escalated_to": "next_center", "center": "310101",
               "escalated_at": seen["watch"]["escalated_at"], "next_step_at": null})
    );
    let recorded = findings(app, &case).await;
    let names: Vec<&str> = recorded
        .iter()
        .map(|e| e["details"]["finding"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["due", "overdue", "escalated", "escalated"]);
    assert!(recorded.iter().all(|e| e["role"] == "system"));
    assert_eq!(recorded[3]["details"]["to"], "next_center");
    assert_eq!(recorded[3]["details"]["center"], "310101");

    // The unit's feedback ends the stage: nothing announced about the next one yet.
    let seen = app
        .ok("water", &seen, "feedback", json!({"opinion": "已修复"}))
        .await;
    assert_eq!(seen["watch"], Value::Null);
    second.begin_shutdown();
}

/// An assisting unit's part (协办) has its own clock: the watch announces its yellow and red
/// once each, on the case's timeline and on the assisting unit's live stream (with the part's
/// mark, not the lead's); its late feedback takes the red back out of the unit's figures.
async fn an_assisting_part_turns_yellow_and_red_on_the_assisting_units_stream(app: &TestApp) {
    let case = in_handling(app).await;
    let case = app
        .ok(
            "dispatcher",
            &case,
            "assist",
            json!({"unit": "310101-GD", "opinion": "配合断电"}),
        )
        .await;
    let case = app.ok("power", &case, "sign-assist", json!({})).await;
    let part = &case["assists"][0];
    let time = |v: &Value| -> chrono::DateTime<Utc> { v.as_str().unwrap().parse().unwrap() };
    let (deadline, warning) = (time(&part["deadline"]), time(&part["warning_at"]));
    assert!(warning < deadline, "{part}");
    assert_eq!(part["announced"], Value::Null);

    let mut stream = open_stream_as(app, "power").await;
    let mut buffer = String::new();
    let second = second_process(app, false);
    // Both clocks were started together with the same term: the lead's yellow comes first or
    // at the same moment; then the part's.
    let done = watch::sweep(&second, warning, false).await.unwrap();
    assert!(done.recorded >= 1, "{done:?}");
    let seen = get_case(app, "power", &case).await;
    assert_eq!(seen["assists"][0]["announced"], "due", "{seen}");
    loop {
        let event = next_watch_event(&mut stream, &mut buffer).await;
        if event["mark"] == "due" {
            break;
        }
    }
    // Past the part's deadline: its red, once.
    let late = deadline + Duration::minutes(1);
    watch::sweep(&second, late, false).await.unwrap();
    assert_eq!(
        watch::sweep(&second, late, false).await.unwrap().recorded,
        0,
        "each once"
    );
    let seen = get_case(app, "power", &case).await;
    assert_eq!(seen["assists"][0]["announced"], "overdue", "{seen}");
    loop {
        let event = next_watch_event(&mut stream, &mut buffer).await;
        if event["mark"] == "overdue" {
            break;
        }
    }
    let recorded = findings(app, &case).await;
    let parts: Vec<(&str, &str)> = recorded
        .iter()
        .filter(|e| {
            e["details"]["finding"]
                .as_str()
                .is_some_and(|f| f.starts_with("assist_"))
        })
        .map(|e| {
            (
                e["details"]["finding"].as_str().unwrap(),
                e["details"]["unit"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [("assist_due", "310101-GD"), ("assist_overdue", "310101-GD")]
    );

    // The unit's figures count the part overdue unhandled, until it is fed back.
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let overdue_parts = |body: &Value| {
        body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "310101-GD")
            .map_or(0, |r| {
                r["figures"]["part_overdue_unhandled"].as_u64().unwrap_or(0)
            })
    };
    // The sweep recorded the red at its own (later) moment: a period that holds it.
    let until = today + Duration::days(30);
    let query = format!("/api/v1/evaluation?level=unit&from={today}&to={until}");
    let (status, body) = app.get(Some("evaluator"), &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(overdue_parts(&body), 1, "{body}");
    app.ok(
        "power",
        &seen,
        "assist-feedback",
        json!({"opinion": "已配合断电"}),
    )
    .await;
    let (_, body) = app.get(Some("evaluator"), &query).await;
    assert_eq!(overdue_parts(&body), 0, "{body}");
    second.begin_shutdown();
}

async fn an_unanswered_supervision_notice_is_announced(app: &TestApp) {
    let case = in_handling(app).await;
    // A term that is not one: refused, naming the field, nothing changed.
    for (term, field) in [
        (json!({"amount": 0, "unit": "working_days"}), "term.amount"),
        (json!({"amount": 1, "unit": "weeks"}), "term.unit"),
    ] {
        let (status, body) = app
            .command(
                "leader",
                &case,
                "supervise",
                json!({"opinion": "请尽快处置", "term": term}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    assert_eq!(
        get_case(app, "leader", &case).await["version"],
        case["version"]
    );

    let case = app
        .ok(
            "leader",
            &case,
            "supervise",
            json!({"opinion": "请于两小时内答复处置进展",
                   "term": {"amount": 2, "unit": "hours"}}),
        )
        .await;
    let supervision = &case["supervision"];
    let at: chrono::DateTime<Utc> = supervision["at"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<Utc> = supervision["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - at, Duration::hours(2));
    assert_eq!(supervision["overdue"], false);

    let second = second_process(app, false);
    watch::sweep(&second, due, false).await.unwrap();
    assert!(findings(app, &case).await.is_empty(), "not yet past it");
    let done = watch::sweep(&second, due + Duration::minutes(1), false)
        .await
        .unwrap();
    assert_eq!(done.recorded, 1, "{done:?}");
    let recorded = findings(app, &case).await;
    let names: Vec<&str> = recorded
        .iter()
        .map(|e| e["details"]["finding"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"supervision_overdue"), "{names:?}");
    let seen = get_case(app, "leader", &case).await;
    assert_eq!(seen["supervision"]["overdue"], true);
    assert_eq!(seen["supervision"]["answered_at"], Value::Null);

    // Without a term the city's default applies (a working day).
    let other = in_handling(app).await;
    let other = app
        .ok(
            "leader",
            &other,
            "supervise",
            json!({"opinion": "请加快处置"}),
        )
        .await;
    assert!(other["supervision"]["deadline"].is_string());
    second.begin_shutdown();
}

/// Two processes on one database: one holds the watch's lease and runs it; when it stops,
/// the other takes over once the lease runs out.
async fn one_process_of_two_runs_the_watch(backend: Backend) {
    let Some(app) = TestApp::spawn_configured(backend, |config| {
        // The server's own watch is off: the two below are the only candidates.
        config.overdue_watch_secs = 0;
    })
    .await
    else {
        return;
    };
    let first = second_process(&app, true);
    let second = second_process(&app, true);
    let holder = async || {
        for _ in 0..50 {
            if let Some((holder, _)) = app
                .store
                .lease_holder(watch::LEASE, Utc::now())
                .await
                .unwrap()
            {
                return holder;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("nobody took the watch's lease");
    };
    let running = holder().await;
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(holder().await, running, "the holder keeps its lease");
    }
    // The holder stops (and gives the lease up); the other process takes over.
    let (stopping, staying) = if running.starts_with(&first.config.outbox.node_name) {
        (first, second)
    } else {
        (second, first)
    };
    stopping.begin_shutdown();
    let mut taken = None;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let now = holder().await;
        if now != running {
            taken = Some(now);
            break;
        }
    }
    let taken = taken.expect("the other process takes the lease over");
    assert!(
        taken.starts_with(&staying.config.outbox.node_name),
        "{taken}"
    );
    staying.begin_shutdown();
    app.finish().await;
}

#[tokio::test]
async fn one_process_of_two_runs_the_watch_on_sqlite() {
    one_process_of_two_runs_the_watch(Backend::Sqlite).await;
}

#[tokio::test]
async fn one_process_of_two_runs_the_watch_on_postgres() {
    one_process_of_two_runs_the_watch(Backend::Postgres).await;
}
