//! Who may come in and how often: failed sign-ins slow down the (account, address) pair
//! that failed, never the account everywhere, and answer made-up names exactly like real
//! ones; sustained failures raise an alert; the anonymous limit is decided after
//! authentication; each purpose has its own budget per address; a citizen's report carries
//! a solved, signed, fresh challenge.

use cityops_test_support::{client_from, on_both_backends, Backend, TestApp, PASSWORD};
use serde_json::{json, Value};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

const ELSEWHERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

async fn sign_in(app: &TestApp, username: &str, password: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let (status, body) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": username, "password": password}),
        )
        .await;
    (status, body, started.elapsed())
}

async fn audit_results(app: &TestApp, object: &str) -> Vec<(String, String)> {
    let (status, log) = app
        .get(
            Some("auditor"),
            &format!("/api/v1/audit?object={object}&limit=1000"),
        )
        .await;
    assert_eq!(status, 200, "{log}");
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["result"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn failures_slow_down_one_address_for_one_account_and_answer_alike(app: &TestApp) {
    // Three failures are free, for a real account and a made-up name alike, in about the
    // same time (the made-up one is checked against a dummy hash).
    let mut times = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        let (known, known_body, known_time) = sign_in(app, "evaluator", "wrong password!").await;
        let (ghost, ghost_body, ghost_time) = sign_in(app, "nobody-here", "wrong password!").await;
        assert_eq!((known, ghost), (401, 401));
        assert_eq!(known_body, ghost_body, "the same answer");
        assert_eq!(known_body["error"]["code"], "invalid_credentials");
        times = (times.0.min(known_time), times.1.min(ghost_time));
    }
    assert!(
        times.1 * 3 > times.0 && times.0 * 3 > times.1,
        "alike in time: {times:?}"
    );
    // The fourth must wait, the same for both names, said in the body and the header.
    for name in ["evaluator", "nobody-here"] {
        let response = app
            .client
            .post(format!("{}/api/v1/sessions", app.base))
            .json(&json!({"username": name, "password": "wrong password!"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429, "{name}");
        assert_eq!(response.headers()["retry-after"], "2", "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "sign_in_throttled", "{body}");
        assert_eq!(body["error"]["retry_after"], 2, "{body}");
    }
    // While it waits, this address is not heard even with the right password...
    let (status, body, _) = sign_in(app, "evaluator", PASSWORD).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("sign_in_throttled"))
    );
    // ...but the account is not locked: from another computer it signs in.
    let elsewhere = client_from(ELSEWHERE);
    let (status, body) = app
        .post_json_with(
            &elsewhere,
            None,
            "/api/v1/sessions",
            json!({"username": "evaluator", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // Nor are other accounts from this address.
    assert_eq!(sign_in(app, "leader", PASSWORD).await.0, 201);

    // The wait doubles with the next failure.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body, _) = sign_in(app, "evaluator", "wrong password!").await;
    assert_eq!(
        (status, body["error"]["retry_after"].as_u64()),
        (429, Some(4)),
        "{body}"
    );

    // Every refusal is on the audit log, real names and made-up ones.
    let results = audit_results(app, "user:evaluator").await;
    for result in ["refused: wrong password", "refused: throttled"] {
        assert!(
            results
                .iter()
                .any(|(action, r)| action == "session.sign_in" && r == result),
            "{result}: {results:?}"
        );
    }
    let results = audit_results(app, "user:nobody-here").await;
    assert!(
        results.iter().any(|(_, r)| r == "refused: unknown user"),
        "{results:?}"
    );
}

#[tokio::test]
async fn sustained_failures_raise_an_alert() {
    // In the process on SQLite; in the database every node shares on PostgreSQL.
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn_configured(backend, |config| {
            config.sign_in_requests_per_minute = 100;
        })
        .await
        else {
            continue;
        };
        sustained_failures_raise_an_alert_on(&app).await;
        app.finish().await;
    }
}

async fn sustained_failures_raise_an_alert_on(app: &TestApp) {
    // Twenty refused attempts within the hour (most refused unheard while waiting).
    for _ in 0..20 {
        let (status, _, _) = sign_in(app, "water", "wrong password!").await;
        assert!(status == 401 || status == 429, "{status}");
    }
    let (_, metrics) = app.get_text(Some("admin"), "/metrics").await;
    for scope in ["account", "address"] {
        assert!(
            metrics.contains(&format!(
                "cityops_sign_in_alerts_total{{scope=\"{scope}\"}} 1"
            )),
            "{scope}: {metrics}"
        );
    }
    let results = audit_results(app, "user:water").await;
    assert!(
        results
            .iter()
            .any(|(action, result)| action == "session.sign_in_alert"
                && result == "20 refused sign-ins within an hour"),
        "{results:?}"
    );
    let results = audit_results(app, "address:127.0.0.1").await;
    assert!(
        results
            .iter()
            .any(|(action, _)| action == "session.sign_in_alert"),
        "{results:?}"
    );
}

#[tokio::test]
async fn a_made_up_credential_is_anonymous_and_anonymous_answers_are_bounded() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.public_requests_per_minute = 5;
    })
    .await
    .unwrap();
    let workflow = |header: Option<(&'static str, &'static str)>| {
        let mut request = app.client.get(format!("{}/api/v1/workflow", app.base));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        request.send()
    };
    let mut statuses = Vec::new();
    for header in [
        ("authorization", "Bearer made-up"),
        ("authorization", "Basic b3BlcmF0b3I6eA=="),
        ("cookie", "cityops_session=made-up"),
    ] {
        for _ in 0..3 {
            statuses.push(workflow(Some(header)).await.unwrap().status().as_u16());
        }
    }
    // Made-up credentials are anonymous: they spent the address's budget of five.
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429]);
    let response = workflow(None).await.unwrap();
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // A real session is not counted.
    for _ in 0..10 {
        let (status, workflow) = app.get(Some("operator"), "/api/v1/workflow").await;
        assert_eq!(status, 200);
        assert!(workflow["commands"].as_array().unwrap().len() > 10);
    }
    // An anonymous map is bounded: all the city's communities at once are too many.
    let anonymous = client_from(ELSEWHERE);
    let response = anonymous
        .get(format!("{}/api/v1/geo/areas?level=community", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "bbox", "{body}");
    let response = anonymous
        .get(format!("{}/api/v1/geo/areas?level=district", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, communities) = app
        .get(Some("operator"), "/api/v1/geo/areas?level=community")
        .await;
    assert_eq!(status, 200);
    assert!(communities["features"].as_array().unwrap().len() > 2_000);
    app.finish().await;
}

#[tokio::test]
async fn each_purpose_has_its_own_budget_per_address() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.public_reports_per_minute = 3;
    })
    .await
    .unwrap();
    let report =
        json!({"description": "人行道井盖松动", "location": {"lon": 121.4837, "lat": 31.2369}});
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.public_report(report.clone()).await.0);
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    // The flood of reports spent only the reports' budget: staff still sign in from here,
    // and the citizen's pages still answer.
    assert_eq!(sign_in(&app, "operator", PASSWORD).await.0, 201);
    let (status, _) = app.get(None, "/api/v1/public/challenge").await;
    assert_eq!(status, 200);
    app.finish().await;
}

async fn case_count(app: &TestApp) -> usize {
    let (status, page) = app.get(Some("operator"), "/api/v1/cases?limit=200").await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().len()
}

async fn a_report_needs_a_fresh_solved_challenge(app: &TestApp) {
    let before = case_count(app).await;
    let body = |challenge: &str, nonce: &str| {
        json!({"description": "小区门口的井盖松动了", "location": {"lon": 121.4837, "lat": 31.2369},
               "challenge": challenge, "nonce": nonce})
    };
    // Without one: the field is named.
    let (status, error) = app
        .post_json(
            None,
            "/api/v1/public/reports",
            json!({"description": "井盖松动", "location": {"lon": 121.4837, "lat": 31.2369}}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("challenge")),
        "{error}"
    );
    let (challenge, nonce) = app.solved_challenge().await;
    // Unsolved, forged, or made easier.
    let unsolved = (0u64..)
        .map(|n| n.to_string())
        .find(|n| !cityops_api::access::solves(&challenge, n, 4))
        .unwrap();
    let mut parts: Vec<&str> = challenge.split('.').collect();
    parts[1] = "0";
    let easier = parts.join(".");
    // The MAC's last character changed (a fixed replacement would equal it one time in 16).
    let last = if challenge.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &challenge[..challenge.len() - 1]);
    for (challenge, nonce, field) in [
        (challenge.as_str(), unsolved.as_str(), "nonce"),
        (easier.as_str(), "0", "challenge"),
        (forged.as_str(), nonce.as_str(), "challenge"),
        ("not-a-challenge", "0", "challenge"),
        (challenge.as_str(), "not a nonce!", "nonce"),
    ] {
        let (status, error) = app
            .post_json(None, "/api/v1/public/reports", body(challenge, nonce))
            .await;
        assert_eq!(
            (
                status,
                error["error"]["code"].as_str(),
                error["error"]["field"].as_str()
            ),
            (403, Some("challenge_failed"), Some(field)),
            "{challenge} {nonce}: {error}"
        );
    }
    // A report refused for its content keeps its challenge for the corrected one.
    let mut outside = body(&challenge, &nonce);
    outside["location"] = json!({"lon": 100.0, "lat": 20.0});
    let (status, _) = app.post_json(None, "/api/v1/public/reports", outside).await;
    assert_eq!(status, 422);
    let (status, receipt) = app
        .post_json(None, "/api/v1/public/reports", body(&challenge, &nonce))
        .await;
    assert_eq!(status, 201, "{receipt}");
    // Used once, never again.
    let (status, error) = app
        .post_json(None, "/api/v1/public/reports", body(&challenge, &nonce))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("challenge_failed")),
        "{error}"
    );
    assert_eq!(case_count(app).await, before + 1, "only the one report");
}

on_both_backends!(
    failures_slow_down_one_address_for_one_account_and_answer_alike,
    a_report_needs_a_fresh_solved_challenge
);
