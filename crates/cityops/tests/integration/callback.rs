//! The call-back (回访) of a hotline case over HTTP: attempts against the call-back clock,
//! three grades of satisfaction, the case closed as unreachable after the attempts allowed,
//! and the caller's number read only during the call-back.

use cityops_test_support::{on_both_backends, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_caller_not_reached_at_first_is_called_again_and_basically_satisfied,
    a_caller_never_reached_closes_the_case_as_unreachable,
    a_call_back_attempt_that_contradicts_itself_changes_nothing,
);

const PHONE: &str = "13900001111";

/// A hotline case with a caller's contact, handled and checked: ready for the call-back.
async fn checked_hotline_case(app: &TestApp, description: &str) -> Value {
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({
                "source": "hotline",
                "description": description,
                "location": {"lon": 121.4919, "lat": 31.2150},
                "area": "310101002001",
                "contact": {"name": "王小明", "phone": "+86 139-0000-1111"},
            }),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let case = app.ok("operator", &case, "accept", json!({})).await;
    let case = app.verified(&case).await;
    let case = app
        .ok("lead", &case, "file", json!({"category": "10101"}))
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
    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已更换井盖"}))
        .await;
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    let case = app
        .ok("inspector", &case, "check", json!({"passed": true}))
        .await;
    assert_eq!(case["state"], "checked");
    case
}

async fn read_contact(app: &TestApp, case: &Value, purpose: &str) -> (u16, Value) {
    let id = case["id"].as_str().unwrap();
    app.get(
        Some("operator"),
        &format!("/api/v1/cases/{id}/contact?purpose={purpose}"),
    )
    .await
}

async fn a_caller_not_reached_at_first_is_called_again_and_basically_satisfied(app: &TestApp) {
    let case = checked_hotline_case(app, "河南中路上水井盖缺失，市民来电").await;

    // Before the call-back the caller's number stays sealed, whatever the purpose.
    for purpose in ["callback", "clarification"] {
        let (status, body) = read_contact(app, &case, purpose).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (409, json!("precondition_failed")),
            "{purpose}: {body}"
        );
    }

    let case = app.ok("operator", &case, "start-callback", json!({})).await;
    assert_eq!(case["state"], "callback");
    assert_eq!(case["stage"], "callback");
    // 10101 is an urgent class: its one working day runs on natural time.
    assert_eq!(
        case["category"]["terms"]["callback"],
        json!({"amount": 1, "unit": "working_days"})
    );
    let deadline =
        chrono::DateTime::parse_from_rfc3339(case["deadline"].as_str().unwrap()).unwrap();
    // The call-back's time runs from the check, which started its clock.
    let timeline = app.timeline(&case).await;
    let check = &timeline[timeline.len() - 2];
    assert_eq!(check["action"], "check");
    let checked = chrono::DateTime::parse_from_rfc3339(check["at"].as_str().unwrap()).unwrap();
    assert_eq!((deadline - checked).num_minutes(), 1440, "{case}");
    // Yellow once three quarters of the day are used, counted in whole minutes as the
    // countdown counts them.
    let warning =
        chrono::DateTime::parse_from_rfc3339(check["clock"]["warning"].as_str().unwrap()).unwrap();
    assert!(
        (1079..=1080).contains(&(warning - checked).num_minutes()),
        "{warning}"
    );
    assert_eq!(
        check["clock"],
        json!({"stage": "callback", "deadline": case["deadline"], "warning": check["clock"]["warning"],
               "reason": {"kind": "started", "term": {"amount": 1, "unit": "working_days"},
                          "working_time": false}}),
    );
    assert_eq!(
        timeline.last().unwrap()["clock"],
        Value::Null,
        "starting the call-back leaves its clock as it runs"
    );
    assert_eq!(
        case["callback"],
        json!({"attempts_allowed": 3, "failed_attempts": 0, "last_outcome": null,
               "satisfaction": null, "unreachable": false})
    );

    // During the call-back the operator reads the number, on the audit log.
    let (status, contact) = read_contact(app, &case, "callback").await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["phone"], PHONE);
    let (status, body) = read_contact(app, &case, "verification").await;
    assert_eq!(status, 409, "only for the call-back: {body}");
    let (_, log) = app
        .get(
            Some("auditor"),
            &format!(
                "/api/v1/audit?action=pii.read&object=case:{}",
                case["id"].as_str().unwrap()
            ),
        )
        .await;
    let reads = log["items"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(reads[0]["detail"], "purpose callback; name, phone");

    let case = app
        .ok(
            "operator",
            &case,
            "callback",
            json!({"outcome": "no_answer"}),
        )
        .await;
    assert_eq!(case["state"], "callback");
    assert_eq!(case["callback"]["failed_attempts"], 1);
    assert_eq!(case["callback"]["last_outcome"], "no_answer");
    assert!(case["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("callback")));

    let case = app
        .ok(
            "operator",
            &case,
            "callback",
            json!({"outcome": "reached", "satisfaction": "basically_satisfied",
                   "opinion": "市民表示基本满意"}),
        )
        .await;
    assert_eq!(case["state"], "checked");
    assert_eq!(case["stage"], "close", "the closing clock runs");
    assert_eq!(case["callback_satisfied"], true);
    assert_eq!(case["callback"]["satisfaction"], "basically_satisfied");
    let (status, body) = read_contact(app, &case, "callback").await;
    assert_eq!(status, 409, "the call-back is over: {body}");

    let case = app.ok("lead", &case, "close", json!({})).await;
    assert_eq!(case["state"], "closed");
    let timeline = app.timeline(&case).await;
    let attempts: Vec<&Value> = timeline
        .iter()
        .filter(|e| e["action"] == "callback")
        .collect();
    assert_eq!(attempts.len(), 2, "each attempt is on the timeline");
    assert_eq!(case["callback"]["unreachable"], false);
}

async fn a_caller_never_reached_closes_the_case_as_unreachable(app: &TestApp) {
    let case = checked_hotline_case(app, "西藏中路路灯不亮，市民来电").await;
    let mut case = app.ok("operator", &case, "start-callback", json!({})).await;
    for (n, outcome) in ["no_answer", "wrong_number"].into_iter().enumerate() {
        case = app
            .ok("operator", &case, "callback", json!({"outcome": outcome}))
            .await;
        assert_eq!(case["state"], "callback");
        assert_eq!(case["callback"]["failed_attempts"], n + 1);
    }
    let case = app
        .ok(
            "operator",
            &case,
            "callback",
            json!({"outcome": "no_answer"}),
        )
        .await;
    assert_eq!(case["state"], "closed");
    assert!(case["closed_at"].is_string());
    assert_eq!(case["callback"]["unreachable"], true);
    assert_eq!(case["callback"]["failed_attempts"], 3);
    assert_eq!(case["callback_satisfied"], Value::Null);
    assert_eq!(case["deadline"], Value::Null);
    let (status, body) = read_contact(app, &case, "callback").await;
    assert_eq!(status, 409, "{body}");
}

async fn a_call_back_attempt_that_contradicts_itself_changes_nothing(app: &TestApp) {
    let case = checked_hotline_case(app, "九江路占道经营，市民来电").await;
    let case = app.ok("operator", &case, "start-callback", json!({})).await;
    for (body, field, status) in [
        (json!({"outcome": "reached"}), "satisfaction", 422),
        (
            json!({"outcome": "no_answer", "satisfaction": "satisfied"}),
            "satisfaction",
            422,
        ),
        (json!({"outcome": "busy"}), "outcome", 422),
        (
            json!({"outcome": "reached", "satisfaction": "delighted"}),
            "satisfaction",
            422,
        ),
        (
            json!({"satisfaction": "satisfied", "satisfied": true}),
            "satisfied",
            422,
        ),
    ] {
        let (got, answer) = app
            .command("operator", &case, "callback", body.clone())
            .await;
        assert_eq!(
            (got, answer["error"]["field"].clone()),
            (status, json!(field)),
            "{body}: {answer}"
        );
    }
    let (_, now) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(now["version"], case["version"], "nothing changed");
    assert_eq!(now["callback"]["failed_attempts"], 0);

    // Only operators call back.
    let (status, _) = app
        .command("lead", &case, "callback", json!({"outcome": "no_answer"}))
        .await;
    assert_eq!(status, 403);
}

/// The city's policy decides the attempts; a call-back keeps the policy it started under.
#[tokio::test]
async fn the_citys_policy_sets_the_attempts_a_call_back_allows() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.callback_attempts = 1;
    })
    .await
    .unwrap();
    let case = checked_hotline_case(&app, "北京东路垃圾满溢，市民来电").await;
    let case = app.ok("operator", &case, "start-callback", json!({})).await;
    assert_eq!(case["callback"]["attempts_allowed"], 1);
    let case = app
        .ok(
            "operator",
            &case,
            "callback",
            json!({"outcome": "wrong_number"}),
        )
        .await;
    assert_eq!(case["state"], "closed");
    assert_eq!(case["callback"]["unreachable"], true);
    app.finish().await;
}
