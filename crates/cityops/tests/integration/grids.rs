//! Responsibility grids over HTTP: an admin assigns a grid to an inspector; reports in the
//! grid take that inspector, whose queue holds their verification, and the evaluation counts
//! what others reported in the grid as missed (漏报); bad assignments change nothing.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_inspector_assigned_to_a_grid_gets_its_reports_and_is_held_to_what_they_missed,
    an_assignment_that_cannot_be_is_refused_and_changes_nothing,
);

/// The responsibility grid of the point every `TestApp::report` uses.
fn grid_of_the_report_point() -> String {
    let geography = cityops::reference::shanghai_geography().unwrap();
    geography
        .locate(121.4919, 31.2150)
        .unwrap()
        .responsibility_grid
        .clone()
}

fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string()
}

async fn assign(app: &TestApp, who: &str, grid: &str, inspector: Value) -> (u16, Value) {
    app.put_json(
        Some(who),
        &format!("/api/v1/responsibility-grids/{grid}"),
        json!({ "inspector": inspector }),
    )
    .await
}

async fn an_inspector_assigned_to_a_grid_gets_its_reports_and_is_held_to_what_they_missed(
    app: &TestApp,
) {
    let grid = grid_of_the_report_point();
    let (status, listed) = app
        .get(Some("admin"), "/api/v1/responsibility-grids?area=310101002")
        .await;
    assert_eq!(status, 200, "{listed}");
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == grid.as_str())
        .unwrap_or_else(|| panic!("{grid} not in {listed}"));
    assert_eq!(row["street"], "310101002");
    assert!(row["unit_grids"].as_u64().unwrap() >= 1);
    assert!(row["inspector"].is_null());

    // A case reported before the assignment has no inspector, and keeps none.
    let before = app.report("operator", "hotline").await;
    assert!(before["grid_inspector"].is_null(), "{before}");

    let (status, assigned) = assign(app, "admin", &grid, json!("inspector")).await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["inspector"]["username"], "inspector");
    assert_eq!(assigned["inspector"]["user_id"], "user-inspector");
    let (_, unassigned) = app
        .get(
            Some("lead"),
            "/api/v1/responsibility-grids?area=310101002&unassigned=true",
        )
        .await;
    assert!(unassigned
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["code"] != grid.as_str()));
    let (_, audit) = app
        .get(
            Some("auditor"),
            &format!("/api/v1/audit?action=grid.assign&object=grid:{grid}"),
        )
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

    // A hotline call in the grid takes its inspector; their queue holds its verification.
    let call = app.report("operator", "hotline").await;
    assert_eq!(call["grid_inspector"]["username"], "inspector", "{call}");
    assert_eq!(call["grid_inspector"]["grid"], grid.as_str());
    let call = app.ok("operator", &call, "accept", json!({})).await;
    let call = app
        .ok("operator", &call, "request-verification", json!({}))
        .await;
    let (_, mine) = app
        .get(
            Some("inspector"),
            "/api/v1/cases?mine=true&state=verifying,checking",
        )
        .await;
    let numbers: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["number"])
        .collect();
    assert_eq!(numbers, [&call["number"]], "{mine}");
    let (_, others) = app.get(Some("operator"), "/api/v1/cases?mine=true").await;
    assert!(others["items"].as_array().unwrap().is_empty(), "{others}");

    // Filed: someone else found it in the inspector's grid, a miss.
    let call = app
        .ok("inspector", &call, "verify", json!({"exists": true}))
        .await;
    app.ok("lead", &call, "file", json!({"category": "10101"}))
        .await;
    // The inspector's own report in the grid, filed: found, not missed.
    let own = app.report("inspector", "inspector").await;
    assert_eq!(own["grid_inspector"]["username"], "inspector");
    let own = app.ok("operator", &own, "accept", json!({})).await;
    app.ok("lead", &own, "file", json!({"category": "10101"}))
        .await;
    let day = today();
    let (status, people) = app
        .get(
            Some("evaluator"),
            &format!("/api/v1/evaluation?level=position&from={day}&to={day}"),
        )
        .await;
    assert_eq!(status, 200, "{people}");
    let inspector = people["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "user-inspector")
        .unwrap_or_else(|| panic!("no inspector row in {people}"));
    assert_eq!(inspector["figures"]["grid_filed"], 2, "{inspector}");
    assert_eq!(inspector["figures"]["missed"], 1, "{inspector}");
    assert_eq!(inspector["indicators"]["missed_report_rate"], 0.5);
    // The case reported before the assignment counts for no one's grid.
    assert!(app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", before["id"].as_str().unwrap())
        )
        .await
        .1["grid_inspector"]
        .is_null());

    // Taken away, new reports have no inspector; the earlier ones keep theirs.
    let (status, cleared) = assign(app, "admin", &grid, Value::Null).await;
    assert_eq!(status, 200, "{cleared}");
    assert!(cleared["inspector"].is_null());
    let after = app.report("operator", "hotline").await;
    assert!(after["grid_inspector"].is_null(), "{after}");
    let (_, still) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}", call["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(still["grid_inspector"]["username"], "inspector");
}

async fn an_assignment_that_cannot_be_is_refused_and_changes_nothing(app: &TestApp) {
    let grid = grid_of_the_report_point();
    for (who, body, status, field, code) in [
        (
            "admin",
            json!("operator"),
            422,
            "inspector",
            "inconsistent_fields",
        ),
        (
            "admin",
            json!("nobody"),
            422,
            "inspector",
            "unknown_reference",
        ),
        ("admin", json!(""), 422, "inspector", "invalid_input"),
        ("lead", json!("inspector"), 403, "", "forbidden"),
    ] {
        let (got, answer) = assign(app, who, &grid, body.clone()).await;
        assert_eq!(got, status, "{who} {body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    let (got, _) = assign(app, "admin", "R999999999001", json!("inspector")).await;
    assert_eq!(got, 404);
    let (got, answer) = app
        .put_json(
            Some("admin"),
            &format!("/api/v1/responsibility-grids/{grid}"),
            json!({"inspector": "inspector", "extra": 1}),
        )
        .await;
    assert_eq!(got, 422, "{answer}");
    let (got, answer) = app
        .get(Some("admin"), "/api/v1/responsibility-grids?area=3101")
        .await;
    assert_eq!(got, 422, "{answer}");
    assert_eq!(answer["error"]["field"], "area");
    // Xuhui's operator sees no grid of Huangpu.
    let (got, answer) = app
        .get(
            Some("xuhui_operator"),
            &format!("/api/v1/responsibility-grids/{grid}"),
        )
        .await;
    assert_eq!(got, 404, "{answer}");
    let (_, one) = app
        .get(
            Some("admin"),
            &format!("/api/v1/responsibility-grids/{grid}"),
        )
        .await;
    assert!(one["inspector"].is_null(), "{one}");
    let (_, audit) = app
        .get(
            Some("auditor"),
            &format!("/api/v1/audit?action=grid.assign&object=grid:{grid}"),
        )
        .await;
    assert!(audit["items"].as_array().unwrap().is_empty(), "{audit}");
}
