//! The administrators' tools over HTTP: "who gets class X at place Y" from the matrix in
//! force or from a draft; a draft telemetry rule tried on a device's stored readings; the
//! configuration in force with its secrets hidden. Each refuses bad input naming the field,
//! changes nothing, and answers 403 to the roles it is not for.

use chrono::{Duration, Utc};
use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    the_matrix_answers_who_gets_a_class_at_a_place,
    a_draft_rule_is_tried_on_a_devices_readings,
    the_configuration_in_force_hides_its_secrets
);

async fn preview(app: &TestApp, who: &str, body: Value) -> (u16, Value) {
    app.post_json(Some(who), "/api/v1/routing/preview", body)
        .await
}

async fn the_matrix_answers_who_gets_a_class_at_a_place(app: &TestApp) {
    // No rule yet: the category's default unit of the district.
    let (status, answer) = preview(
        app,
        "dispatcher",
        json!({"category": "20101", "area": "310101002001"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["draft"], false);
    assert_eq!(answer["area"], "310101002001");
    let default_unit = answer["routing"]["unit"].as_str().unwrap().to_owned();
    assert!(answer["routing"]["rule"].is_null(), "{answer}");
    assert!(
        answer["routing"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("no rule matches"),
        "{answer}"
    );

    // A point on Nanjing Road East is located to its community and unit grid.
    let (status, at_point) = preview(
        app,
        "admin",
        json!({"category": "20101", "lon": 121.4837, "lat": 31.2369}),
    )
    .await;
    assert_eq!(status, 200, "{at_point}");
    assert!(
        at_point["area"].as_str().unwrap().starts_with("310101"),
        "{at_point}"
    );
    assert_eq!(
        at_point["unit_grid"].as_str().unwrap().len(),
        14,
        "{at_point}"
    );
    assert!(at_point["area_name"].is_string());

    // A draft: the street's rule beats the district's, and the answer names both.
    let draft = json!([
        {"category": "201", "area": "310101", "unit": "310101-ZLS"},
        {"category": "20101", "area": "310101002", "unit": "310101-GD"},
    ]);
    let (status, answer) = preview(
        app,
        "admin",
        json!({"category": "20101", "area": "310101002001", "rules": draft}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["draft"], true);
    assert_eq!(answer["routing"]["unit"], "310101-GD");
    assert_eq!(answer["routing"]["rule"]["area"], "310101002");
    assert_eq!(answer["routing"]["overridden"][0]["unit"], "310101-ZLS");
    // Elsewhere in the district only the district's rule holds.
    let (_, answer) = preview(
        app,
        "admin",
        json!({"category": "20101", "area": "310101013", "rules": draft}),
    )
    .await;
    assert_eq!(answer["routing"]["unit"], "310101-ZLS", "{answer}");
    // An owner rule wins for that owner's components only.
    let owned = json!([
        {"category": "20101", "area": "310101002", "unit": "310101-GD"},
        {"category": "2", "area": "310101", "owner": "310101-SWJ", "unit": "310101-ZLS"},
    ]);
    for (owner, unit) in [
        (json!("310101-SWJ"), "310101-ZLS"),
        (json!("310101-FGJ"), "310101-GD"),
        (Value::Null, "310101-GD"),
    ] {
        let (status, answer) = preview(
            app,
            "admin",
            json!({"category": "20101", "area": "310101002001", "owner": owner, "rules": owned}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["routing"]["unit"], unit, "owner {owner}: {answer}");
    }
    // The draft was only asked: the matrix in force still has no rule.
    let (_, rules) = app.get(Some("admin"), "/api/v1/routing/rules").await;
    assert_eq!(rules, json!([]));
    let (_, again) = preview(
        app,
        "dispatcher",
        json!({"category": "20101", "area": "310101002001"}),
    )
    .await;
    assert_eq!(again["routing"]["unit"], default_unit.as_str());

    for (body, field) in [
        (json!({"category": "2010", "area": "310101"}), "category"),
        (json!({"category": "29999", "area": "310101"}), "category"),
        (json!({"category": "20101"}), "area"),
        (
            json!({"category": "20101", "area": "310101", "lon": 121.48, "lat": 31.23}),
            "area",
        ),
        (json!({"category": "20101", "area": "999999"}), "area"),
        (
            json!({"category": "20101", "lon": 100.0, "lat": 31.0}),
            "lon",
        ),
        (
            json!({"category": "20101", "area": "310101", "rules": [{"category": "x", "area": "310101", "unit": "u"}]}),
            "rules[0].category",
        ),
        (
            json!({"category": "20101", "area": "310101", "colour": "red"}),
            "colour",
        ),
        (
            json!({"category": "20101", "area": "310101", "component_id": "3101010101999999"}),
            "component_id",
        ),
        (
            json!({"category": "20101", "area": "310101", "component_id": "3101010101999999", "owner": "310101-SWJ"}),
            "owner",
        ),
    ] {
        let (status, error) = preview(app, "admin", body.clone()).await;
        assert!(matches!(status, 400 | 422), "{body}: {status} {error}");
        let named = error["error"]["field"].as_str().unwrap_or_default();
        assert!(named.contains(field), "{body}: {error}");
    }
}

async fn a_draft_rule_is_tried_on_a_devices_readings(app: &TestApp) {
    let (status, device) = app
        .post_json(
            Some("admin"),
            "/api/v1/devices",
            json!({"id": "HP-WL-T1", "kind": "water_level_gauge", "name": "下立交积水", "location": {"lon": 121.4837, "lat": 31.2369}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    // An hour of readings a minute apart: above 30 cm from minute 20 to minute 40.
    // Whole seconds: readings are stored to the millisecond.
    let start = chrono::DateTime::from_timestamp(Utc::now().timestamp() - 90 * 60, 0).unwrap();
    let readings: Vec<Value> = (0..60)
        .map(|m| {
            let value = if (20..40).contains(&m) { 35.0 } else { 10.0 };
            json!({"device": "HP-WL-T1", "metric": "water_level", "value": value,
                   "ts": (start + Duration::minutes(m)).to_rfc3339()})
        })
        .collect();
    let (status, report) = app
        .post_json(Some("admin"), "/api/v1/telemetry", json!(readings))
        .await;
    assert_eq!(status, 200, "{report}");
    let (_, alarms_before) = app.get(Some("admin"), "/api/v1/alarms").await;

    let draft = json!({"id": "draft-flood", "name": "积水超过30厘米持续10分钟", "indicator": "water_level",
        "scope": {"kind": "all"}, "condition": {"kind": "above", "value": 30, "clear": 25},
        "duration_secs": 600, "level": "orange", "enabled": false});
    let mut answer = Value::Null;
    // Readings are stored by the pipeline right after it answers.
    for _ in 0..100 {
        let (status, body) = app
            .post_json(
                Some("admin"),
                "/api/v1/telemetry/rule-tests",
                json!({"rule": draft, "device": "HP-WL-T1", "from": (start - Duration::minutes(1)).to_rfc3339()}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        answer = body;
        if answer["readings"] == 60 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(answer["readings"], 60, "{answer}");
    assert_eq!(answer["watches_device"], true);
    assert_eq!(answer["alarms"], 1);
    let changes: Vec<(&str, i64)> = answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let at = chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
            (
                e["change"].as_str().unwrap(),
                (at.with_timezone(&Utc) - start).num_minutes(),
            )
        })
        .collect();
    // Held ten minutes at minute 30, cleared at minute 40.
    assert_eq!(changes, vec![("raise", 30), ("clear", 40)], "{answer}");
    assert_eq!(answer["events"][0]["level"], "orange");
    assert_eq!(answer["active_at_end"], false);
    // Nothing was stored: no rule, no new alarm.
    let (status, _) = app
        .get(Some("admin"), "/api/v1/telemetry/rules/draft-flood")
        .await;
    assert_eq!(status, 404);
    let (_, alarms_after) = app.get(Some("admin"), "/api/v1/alarms").await;
    assert_eq!(alarms_before, alarms_after);

    // A rule scoped to another district never fires on the device.
    let mut elsewhere = draft.clone();
    elsewhere["scope"] = json!({"kind": "area", "area": "310104"});
    let (_, answer) = app
        .post_json(Some("admin"), "/api/v1/telemetry/rule-tests", json!({"rule": elsewhere, "device": "HP-WL-T1", "from": (start - Duration::minutes(1)).to_rfc3339()}))
        .await;
    assert_eq!(
        (&answer["watches_device"], &answer["alarms"]),
        (&json!(false), &json!(0)),
        "{answer}"
    );

    let mut bad = draft.clone();
    bad["indicator"] = json!("no_such_indicator");
    let mut too_long = draft.clone();
    too_long["duration_secs"] = json!(10_000_000);
    for (body, field) in [
        (json!({"rule": bad, "device": "HP-WL-T1"}), "rule.indicator"),
        (
            json!({"rule": too_long, "device": "HP-WL-T1"}),
            "rule.duration_secs",
        ),
        (json!({"rule": draft, "device": "NO-SUCH"}), "device"),
        (
            json!({"rule": draft, "device": "HP-WL-T1", "from": Utc::now().to_rfc3339(), "to": start.to_rfc3339()}),
            "from",
        ),
    ] {
        let (status, error) = app
            .post_json(Some("admin"), "/api/v1/telemetry/rule-tests", body.clone())
            .await;
        assert!(matches!(status, 404 | 422), "{body}: {status} {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let (status, _) = app
        .post_json(
            Some("dispatcher"),
            "/api/v1/telemetry/rule-tests",
            json!({"rule": draft, "device": "HP-WL-T1"}),
        )
        .await;
    assert_eq!(status, 403);
}

async fn the_configuration_in_force_hides_its_secrets(app: &TestApp) {
    let (status, settings) = app.get(Some("admin"), "/api/v1/settings").await;
    assert_eq!(status, 200, "{settings}");
    let settings = settings.as_array().unwrap();
    let setting = |key: &str| {
        settings
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("no setting {key}"))
    };
    assert_eq!(setting("overdue_watch_secs")["value"], 30);
    assert_eq!(
        setting("working_hours")["value"],
        json!(["08:30-12:00", "13:30-17:30"])
    );
    assert!(
        setting("evaluation")["value"]["grades"].is_array()
            || setting("evaluation")["value"].is_object()
    );
    for s in settings {
        assert!(
            ["default", "file", "environment", "command_line"]
                .contains(&s["source"].as_str().unwrap()),
            "{s}"
        );
    }
    // The personal-data keys live in their file: no setting shows a line of it.
    let keys = std::fs::read_to_string(app.key_dir.join("pii.keys")).unwrap();
    let shown = serde_json::to_string(settings).unwrap();
    for line in keys
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let secret = line.split_whitespace().last().unwrap();
        assert!(!shown.contains(secret));
    }
    for who in ["dispatcher", "auditor", "evaluator"] {
        let (status, _) = app.get(Some(who), "/api/v1/settings").await;
        assert_eq!(status, 403, "{who}");
    }
}
