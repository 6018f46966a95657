//! The evaluation over HTTP: a case taken from its report to closing counts for its district,
//! street and community, for the unit that handled it and for each member of staff in their
//! position; a number drills down to the case behind it; the same ranking comes as CSV with a
//! BOM and as an XLSX workbook a real reader (calamine) opens, with its chart sheet; bad
//! periods and levels are refused naming the field; only evaluators and center leaders read it;
//! the ledger kept as the case moved equals a recomputation from its timeline.

use calamine::{DataType, Reader};
use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

use super::outbox::cli;

on_both_backends!(
    a_closed_case_counts_for_its_areas_unit_and_staff,
    an_accepted_appeal_takes_the_count_back
);

/// Today in Beijing, as the evaluation dates steps.
fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string()
}

async fn closed_case(app: &TestApp) -> Value {
    let case = app.report("inspector", "inspector").await;
    let case = app.signed_for(&case, "20101", "310101-ZLS", "water").await;
    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已修复"}))
        .await;
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    let case = app
        .ok("inspector", &case, "check", json!({"passed": true}))
        .await;
    let case = app.ok("lead", &case, "close", json!({})).await;
    assert_eq!(case["state"], "closed");
    case
}

fn row<'a>(answer: &'a Value, key: &str) -> &'a Value {
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {answer}"))
}

async fn a_closed_case_counts_for_its_areas_unit_and_staff(app: &TestApp) {
    let case = closed_case(app).await;
    let day = today();
    let evaluation = |level: &str| format!("/api/v1/evaluation?level={level}&from={day}&to={day}");

    let (status, districts) = app.get(Some("evaluator"), &evaluation("district")).await;
    assert_eq!(status, 200, "{districts}");
    let huangpu = row(&districts, "310101");
    assert_eq!(huangpu["name"], "黄浦区");
    for (counter, n) in [
        ("reported", 1),
        ("filed", 1),
        ("handled", 1),
        ("closed", 1),
        ("closed_on_time", 1),
    ] {
        assert_eq!(huangpu["figures"][counter], n, "{counter}: {huangpu}");
    }
    assert_eq!(huangpu["indicators"]["closing_rate"], 1.0);
    assert_eq!(huangpu["indicators"]["on_time_closing_rate"], 1.0);
    // One filing in one day is thirty in thirty days (band 0.8); no citizen's report among
    // them (the lowest band, 0.4): 100 × (0.10 × 0.4 + 0.20 × 0.8 + 0.30 × 1 + 0.40 × 1).
    assert_eq!(huangpu["composite"], 90.0);
    assert_eq!(
        (&huangpu["grade"], &huangpu["rank"]),
        (&json!("A"), &json!(1))
    );
    assert_eq!(districts["days"], 1);

    let (_, streets) = app.get(Some("leader"), &evaluation("street")).await;
    assert_eq!(row(&streets, "310101002")["figures"]["closed"], 1);
    let (_, communities) = app.get(Some("evaluator"), &evaluation("community")).await;
    assert_eq!(row(&communities, "310101002001")["figures"]["filed"], 1);

    let (_, units) = app.get(Some("evaluator"), &evaluation("unit")).await;
    let water = row(&units, "310101-ZLS");
    assert_eq!(water["figures"]["handled_on_time"], 1);
    assert_eq!(water["indicators"]["rework_rate"], 0.0);

    let (_, people) = app.get(Some("evaluator"), &evaluation("position")).await;
    let lead = row(&people, "user-lead");
    assert_eq!(lead["role"], "shift_lead");
    assert_eq!(lead["figures"]["filed"], 1);
    assert_eq!(lead["figures"]["closed_on_time"], 1);
    assert_eq!(row(&people, "user-dispatcher")["figures"]["dispatched"], 1);
    assert_eq!(row(&people, "user-water")["figures"]["handled"], 1);
    let inspector = row(&people, "user-inspector");
    assert_eq!(inspector["figures"]["valid_report"], 1);
    assert_eq!(inspector["indicators"]["valid_report_rate"], 1.0);

    // Drilling down from Huangpu's closings gives the case.
    let (status, behind) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation/cases?level=district&key=310101&counter=closed&from={day}&to={day}"),
        )
        .await;
    assert_eq!(status, 200, "{behind}");
    assert_eq!(behind[0]["number"], case["number"]);
    let (status, behind) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation/cases?level=position&key=user-lead&role=shift_lead&counter=filed&from={day}&to={day}"),
        )
        .await;
    assert_eq!((status, behind.as_array().unwrap().len()), (200, 1));

    // A spreadsheet: CSV with a BOM, and an XLSX with its ranking and chart sheets.
    let (status, text) = app
        .get_text(
            Some("evaluator"),
            &format!("{}&format=csv", evaluation("district")),
        )
        .await;
    assert_eq!(status, 200);
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("rank,key,name,role,grade,composite,"));
    assert!(text.contains("1,310101,黄浦区,,A,90.00,"), "{text}");
    let bytes = app
        .client
        .get(format!(
            "{}{}&format=xlsx",
            app.base,
            evaluation("district")
        ))
        .bearer_auth(&app.tokens["evaluator"])
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names();
    assert!(
        names.contains(&"ranking".to_owned()) && names.contains(&"chart".to_owned()),
        "{names:?}"
    );
    let ranking = book.worksheet_range("ranking").unwrap();
    assert_eq!(ranking.get((0, 1)).unwrap().to_string(), "key");
    assert_eq!(ranking.get((1, 1)).unwrap().to_string(), "310101");
    assert_eq!(ranking.get((1, 5)).unwrap().get_float(), Some(90.0));

    // Bad input, naming the field; nobody else reads it.
    for (query, status, field) in [
        (
            format!("level=district&from={day}&to=2020-01-01"),
            422,
            "from",
        ),
        (
            "level=district&from=2020-01-01&to=2022-01-01".to_owned(),
            422,
            "to",
        ),
        (format!("level=planet&from={day}&to={day}"), 422, "level"),
    ] {
        let (got, body) = app
            .get(Some("evaluator"), &format!("/api/v1/evaluation?{query}"))
            .await;
        assert_eq!(got, status, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let (got, body) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation?level=district&from={day}&to=2020-01-01"),
        )
        .await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (422, Some("invalid_period"))
    );
    for who in ["operator", "water", "admin"] {
        let (got, _) = app.get(Some(who), &evaluation("district")).await;
        assert_eq!(got, 403, "{who}");
    }

    // The ledger kept as the case moved is the ledger of its timeline.
    let checked = cli(app, &["evaluation", "check"]);
    assert!(checked.contains("matches every timeline"), "{checked}");
    let rebuilt = cli(app, &["evaluation", "rebuild"]);
    assert!(rebuilt.contains("rebuilt: 1 cases"), "{rebuilt}");
    let (_, again) = app.get(Some("evaluator"), &evaluation("district")).await;
    assert_eq!(again["rows"], districts["rows"]);

    // An installation from before the daily sums gets them from the ledger at start.
    let kept = app.store.daily_sums().await.unwrap();
    assert!(!kept.is_empty());
    app.store
        .replace_daily_sums(&Default::default())
        .await
        .unwrap();
    assert!(app.store.daily_sums_need_filling().await.unwrap());
    cityops::evaluation::fill_if_empty(app.store.as_ref())
        .await
        .unwrap();
    assert_eq!(app.store.daily_sums().await.unwrap(), kept);
    assert!(cityops::evaluation::check_daily(app.store.as_ref())
        .await
        .unwrap()
        .is_empty());
    let (_, filled) = app.get(Some("evaluator"), &evaluation("district")).await;
    assert_eq!(filled["rows"], districts["rows"]);
}

/// A unit appeals a rework counted against it; the evaluator finds the appeal in the queue,
/// upholds it, and the unit's rework rate falls back, for the day the rework was counted. The
/// appeal and the decision are on the timeline; the ledger still equals its recomputation.
async fn an_accepted_appeal_takes_the_count_back(app: &TestApp) {
    let case = app.report("inspector", "inspector").await;
    let case = app.signed_for(&case, "20101", "310101-ZLS", "water").await;
    let case = app
        .ok("water", &case, "feedback", json!({"opinion": "已修复"}))
        .await;
    let case = app.ok("operator", &case, "send-check", json!({})).await;
    // The check fails: a rework against the water company.
    let case = app
        .ok(
            "inspector",
            &case,
            "check",
            json!({"passed": false, "opinion": "仍在漏水"}),
        )
        .await;
    let day = today();
    let units = format!("/api/v1/evaluation?level=unit&from={day}&to={day}");
    let (_, before) = app.get(Some("evaluator"), &units).await;
    assert_eq!(
        row(&before, "310101-ZLS")["figures"]["rework"],
        1,
        "{before}"
    );
    assert_eq!(row(&before, "310101-ZLS")["indicators"]["rework_rate"], 1.0);

    // Bad appeals change nothing: a ground the case never counted, a unit that never had
    // it, no reason.
    let bad = [
        (
            "water",
            json!({"ground": "late_handling", "reason": "不是我们的问题"}),
            "ground",
        ),
        ("water", json!({"ground": "rework"}), "reason"),
        (
            "water",
            json!({"ground": "weather", "reason": "x"}),
            "ground",
        ),
    ];
    for (who, body, field) in bad {
        let (status, error) = app.command(who, &case, "appeal", body.clone()).await;
        assert!(matches!(status, 409 | 422), "{body}: {status} {error}");
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    let (status, _) = app
        .command(
            "power",
            &case,
            "appeal",
            json!({"ground": "rework", "reason": "x"}),
        )
        .await;
    assert!(matches!(status, 403 | 404), "another unit: {status}");
    // The unit is offered an appeal on what the case counted against it only.
    let id = case["id"].as_str().unwrap();
    let (_, seen) = app.get(Some("water"), &format!("/api/v1/cases/{id}")).await;
    assert_eq!(seen["appealable"], json!(["rework"]), "{seen}");
    assert!(seen["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("appeal")));
    let (_, unchanged) = app
        .get(
            Some("water"),
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(unchanged["version"], case["version"]);

    let case = app
        .ok(
            "water",
            &case,
            "appeal",
            json!({"ground": "rework", "reason": "核查时施工尚未养护完成，非处置质量问题"}),
        )
        .await;
    assert_eq!(case["appeals"][0]["number"], 1);
    assert_eq!(case["appeals"][0]["unit"], "310101-ZLS");
    assert_eq!(case["appeals"][0]["filed_by"], "user-water");
    assert!(case["appeals"][0]["decision"].is_null());
    assert_eq!(case["appealable"], json!([]));
    assert!(!case["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("appeal")));
    // Once is enough.
    let (status, _) = app
        .command(
            "water",
            &case,
            "appeal",
            json!({"ground": "rework", "reason": "再申诉"}),
        )
        .await;
    assert_eq!(status, 409);

    // The evaluators' queue holds it; a unit may not decide.
    let (_, queue) = app
        .get(Some("evaluator"), "/api/v1/cases?appeals_pending=true")
        .await;
    let numbers: Vec<&Value> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["number"])
        .collect();
    assert_eq!(numbers, vec![&case["number"]], "{queue}");
    let (status, _) = app
        .command(
            "water",
            &case,
            "decide-appeal",
            json!({"appeal": 1, "accepted": true, "opinion": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, error) = app
        .command(
            "evaluator",
            &case,
            "decide-appeal",
            json!({"appeal": 2, "accepted": true, "opinion": "同意"}),
        )
        .await;
    assert_eq!(
        (status, &error["error"]["field"]),
        (422, &json!("appeal")),
        "{error}"
    );

    let case = app
        .ok(
            "evaluator",
            &case,
            "decide-appeal",
            json!({"appeal": 1, "accepted": true, "opinion": "经核实，申诉成立"}),
        )
        .await;
    assert_eq!(case["appeals"][0]["decision"]["accepted"], true);
    assert_eq!(case["appeals"][0]["decision"]["by"], "user-evaluator");
    let (_, after) = app.get(Some("evaluator"), &units).await;
    // A counter with nothing in it is left out.
    assert_eq!(
        row(&after, "310101-ZLS")["figures"]["rework"]
            .as_u64()
            .unwrap_or(0),
        0,
        "{after}"
    );
    assert_eq!(row(&after, "310101-ZLS")["indicators"]["rework_rate"], 0.0);
    // The handler's own figures move with the unit's.
    let (_, people) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation?level=position&from={day}&to={day}"),
        )
        .await;
    assert_eq!(
        row(&people, "user-water")["figures"]["rework"]
            .as_u64()
            .unwrap_or(0),
        0,
        "{people}"
    );
    let (_, queue) = app
        .get(Some("evaluator"), "/api/v1/cases?appeals_pending=true")
        .await;
    assert_eq!(queue["items"], json!([]));

    let actions: Vec<String> = app
        .timeline(&case)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        actions.ends_with(&["appeal".to_owned(), "decide_appeal".to_owned()]),
        "{actions:?}"
    );
    let checked = cli(app, &["evaluation", "check"]);
    assert!(checked.contains("matches every timeline"), "{checked}");
    let rebuilt = cli(app, &["evaluation", "rebuild"]);
    assert!(rebuilt.contains("rebuilt: 1 cases"), "{rebuilt}");
    let (_, again) = app.get(Some("evaluator"), &units).await;
    assert_eq!(again["rows"], after["rows"]);
}

/// A city's own weights are read from its configuration file; a composite whose weights do
/// not sum to 1 keeps the server from starting, naming the composite, and the same file with
/// the weights put right starts it and rates by them.
#[tokio::test]
async fn weights_that_do_not_sum_to_one_keep_the_server_from_starting() {
    let Some(app) = TestApp::spawn(cityops_test_support::Backend::Sqlite).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cityops.toml");
    let area = |closing: f64| {
        format!(
            "[[evaluation.area]]\nindicator = \"closing_rate\"\nweight = {closing}\n\
             [[evaluation.area]]\nindicator = \"on_time_closing_rate\"\nweight = 0.4\n"
        )
    };
    let start = |text: String| {
        let file = file.clone();
        let app = &app;
        async move {
            std::fs::write(&file, text).unwrap();
            let mut config =
                cityops::config::Config::load(Some(&file), Default::default()).unwrap();
            config.listen = "127.0.0.1:0".into();
            config.data_dir = app.data_dir.clone();
            cityops::start(&config, app.store.clone(), std::future::pending()).await
        }
    };
    let refused = start(area(0.5)).await.err().expect("0.5 + 0.4 is refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("evaluation.area") && message.contains("sum to 1"),
        "{message}"
    );
    let refused = start(area(-0.6)).await.err().expect("a negative weight");
    assert!(format!("{refused:#}").contains("evaluation.area"));

    let server = start(area(0.6)).await.expect("0.6 + 0.4 starts");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"username": "admin", "password": cityops_test_support::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let settings: Value = client
        .get(format!("{base}/api/v1/settings"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let evaluation = settings
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "evaluation")
        .unwrap_or_else(|| panic!("{settings}"));
    assert_eq!(evaluation["source"], "file", "{evaluation}");
    let weights: Vec<f64> = evaluation["value"]["area"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["weight"].as_f64().unwrap())
        .collect();
    assert_eq!(weights, [0.6, 0.4], "{evaluation}");
    app.finish().await;
}
