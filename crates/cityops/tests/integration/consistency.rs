//! What is accepted must hang together: a case's point and area agree, a reading is one a
//! sensor could report, links point where the operator says CityOps lives, authenticated
//! answers are never cached, an API key's unit lies in its scope, and a CSV export never
//! hands a spreadsheet a formula. Each attack is replayed, refused, and nothing changes.

use chrono::Utc;
use cityops_test_support::{on_both_backends, Backend, TestApp};
use serde_json::{json, Value};

/// Every case the operator (the whole city) can see.
async fn case_count(app: &TestApp) -> usize {
    let mut count = 0;
    let mut path = "/api/v1/cases?limit=200".to_owned();
    loop {
        let (status, page) = app.get(Some("operator"), &path).await;
        assert_eq!(status, 200, "{page}");
        count += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/cases?limit=200&cursor={cursor}"),
            None => return count,
        }
    }
}

async fn a_case_whose_point_and_area_disagree_is_refused(app: &TestApp) {
    let before = case_count(app).await;
    // Filed in Nanjing East Road (Huangpu) with its point in Lujiazui (Pudong).
    let (status, error) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({"source": "hotline", "description": "路面塌陷，约一平方米",
                   "location": {"lon": 121.5055, "lat": 31.2397}, "area": "310101002001"}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "area", "{error}");
    // Its own code: the schema cannot say that a point and an area must agree.
    assert_eq!(error["error"]["code"], "location_mismatch", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("310115"),
        "the message names where the point lies: {error}"
    );
    // A district-level area with a point in another district: the same.
    let (status, error) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({"source": "hotline", "description": "路面塌陷，约一平方米",
                   "location": {"lon": 121.5055, "lat": 31.2397}, "area": "310104"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("area")),
        "{error}"
    );
    assert_eq!(case_count(app).await, before, "nothing was filed");

    // Point and area agree at any level: accepted, in the area given, on the point's grid.
    let (_, here) = app
        .get(
            Some("operator"),
            "/api/v1/geo/locate?lon=121.5055&lat=31.2397",
        )
        .await;
    let district = &here["district"]["code"];
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({"source": "hotline", "description": "路面塌陷，约一平方米",
                   "location": {"lon": 121.5055, "lat": 31.2397}, "area": district}),
        )
        .await;
    assert_eq!(status, 201, "{case} (located: {here})");
    assert_eq!(case["area"], *district);
    // Without an area the point decides.
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            json!({"source": "hotline", "description": "路面塌陷，约一平方米",
                   "location": {"lon": 121.5055, "lat": 31.2397}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert!(
        case["area"].as_str().unwrap().starts_with("310115"),
        "{case}"
    );
    assert_eq!(case_count(app).await, before + 2);
}

fn reading(device: &str, value: f64) -> Value {
    json!({"device": device, "metric": "gas_concentration", "value": value, "ts": Utc::now().to_rfc3339()})
}

async fn readings_no_sensor_could_report_go_to_the_dead_letters_and_raise_nothing(app: &TestApp) {
    let (status, device) = app
        .post_json(
            Some("admin"),
            "/api/v1/devices",
            json!({"id": "HP-GAS-X", "kind": "gas_detector", "name": "南京东路燃气监测点",
                   "location": {"lon": 121.4837, "lat": 31.2369}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    let (status, report) = app
        .post_json(
            Some("admin"),
            "/api/v1/telemetry",
            json!([
                reading("HP-GAS-X", 1.7e308),
                reading("HP-GAS-X", -1.7e308),
                reading("HP-GAS-X", 150.0),
                reading("HP-GAS-X", -0.5),
                reading("HP-GAS-X", 2.0),
            ]),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 1, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 4, "{report}");
    for rejection in rejected {
        assert_eq!(rejection["reason"], "implausible_value", "{report}");
        assert_eq!(rejection["field"], "value", "{report}");
    }
    let (status, letters) = app
        .get(
            Some("admin"),
            "/api/v1/telemetry/dead-letters?reason=implausible_value",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(letters.as_array().unwrap().len(), 4, "{letters}");
    // Nothing was raised: the one plausible reading is normal.
    let (_, alarms) = app.get(Some("admin"), "/api/v1/alarms").await;
    let alarms = alarms.as_array().unwrap().clone();
    assert!(
        !alarms
            .iter()
            .any(|a| a["device_id"] == "HP-GAS-X" || a["device"] == "HP-GAS-X"),
        "{alarms:?}"
    );

    // The catalogue states the measuring range; a normal range outside it is refused.
    let (status, indicators) = app.get(Some("admin"), "/api/v1/indicators").await;
    assert_eq!(status, 200);
    let gas = indicators
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "gas_concentration")
        .unwrap();
    assert_eq!(
        (gas["plausible_min"].as_f64(), gas["plausible_max"].as_f64()),
        (Some(0.0), Some(100.0))
    );
    let bad =
        "key,unit,name_zh,name_en,normal_min,normal_max,category,plausible_min,plausible_max\n\
               gas_concentration,%LEL,燃气浓度,Gas,0,120,20403,0,100\n";
    let (status, error) = app
        .put_raw(
            Some("admin"),
            "/api/v1/indicators",
            "text/csv",
            bad.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "line 2: normal_max", "{error}");
    let (_, after) = app.get(Some("admin"), "/api/v1/indicators").await;
    assert_eq!(after, indicators, "nothing changed");
}

async fn an_api_key_for_a_unit_outside_its_scope_is_refused(app: &TestApp) {
    let (_, before) = app.get(Some("admin"), "/api/v1/api-keys").await;
    let (status, error) = app
        .post_json(
            Some("admin"),
            "/api/v1/api-keys",
            json!({"name": "pudong-water", "role": "unit_handler", "scope": "310101",
                   "unit": "310115-ZLS", "permissions": ["read"]}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["field"], "unit", "{error}");
    let (_, after) = app.get(Some("admin"), "/api/v1/api-keys").await;
    assert_eq!(before, after, "no key was made");
    // The unit of the scope's own district is accepted.
    let (status, created) = app
        .post_json(
            Some("admin"),
            "/api/v1/api-keys",
            json!({"name": "huangpu-water", "role": "unit_handler", "scope": "310101",
                   "unit": "310101-ZLS", "permissions": ["read"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
}

async fn csv_exports_never_hand_a_spreadsheet_a_formula(app: &TestApp) {
    let formula = "=HYPERLINK(\"http://evil.example\",\"点此领取补贴\")";
    let (status, device) = app
        .post_json(
            Some("admin"),
            "/api/v1/devices",
            json!({"id": "HP-FORMULA", "kind": "gas_detector", "name": formula,
                   "location": {"lon": 121.4837, "lat": 31.2369}}),
        )
        .await;
    assert_eq!(status, 201, "{device}");
    let (status, csv) = app.get_text(Some("admin"), "/api/v1/devices.csv").await;
    assert_eq!(status, 200);
    let line = csv.lines().find(|l| l.starts_with("HP-FORMULA")).unwrap();
    let cells: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(cells[2], format!("'{formula}"), "{line}");
    assert!(
        cells.iter().all(|c| !c.starts_with(['=', '+', '@'])),
        "{line}"
    );
    // The export imports back unchanged: the escape comes off.
    let (status, imported) = app
        .put_raw(
            Some("admin"),
            "/api/v1/devices",
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{imported}");
    let (_, device) = app.get(Some("admin"), "/api/v1/devices/HP-FORMULA").await;
    assert_eq!(device["name"], formula, "{device}");
}

/// JSON has one number type and JSON Schema counts `1.0` as the integer 1, so a client (or a
/// generator working from the OpenAPI document) may send whole numbers that way; a fraction
/// is still refused.
async fn a_whole_number_written_with_a_point_is_that_number(app: &TestApp) {
    let case = app.report("operator", "hotline").await;
    let path = format!("/api/v1/cases/{}/accept", case["id"].as_str().unwrap());
    let (status, error) = app
        .post_json(Some("operator"), &path, json!({"version": 1.5}))
        .await;
    assert_eq!(
        (
            status,
            error["error"]["code"].as_str(),
            error["error"]["field"].as_str()
        ),
        (422, Some("invalid_body"), Some("version")),
        "{error}"
    );
    let (status, accepted) = app
        .post_json(Some("operator"), &path, json!({"version": 1.0}))
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["version"], 2, "{accepted}");
}

on_both_backends!(
    a_whole_number_written_with_a_point_is_that_number,
    a_case_whose_point_and_area_disagree_is_refused,
    readings_no_sensor_could_report_go_to_the_dead_letters_and_raise_nothing,
    an_api_key_for_a_unit_outside_its_scope_is_refused,
    csv_exports_never_hand_a_spreadsheet_a_formula,
);

/// Every `href` in an answer.
fn links(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("href" | "$id", Value::String(href)) => out.push(href.clone()),
                    _ => links(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| links(v, out)),
        _ => {}
    }
}

async fn ogc_links_under_a_forged_host(app: &TestApp) -> Vec<String> {
    let mut found = Vec::new();
    for path in [
        "/ogc",
        "/ogc/collections",
        "/ogc/collections/districts",
        "/ogc/collections/districts/queryables",
        "/ogc/collections/districts/items?limit=1",
        "/ogc/api",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .header("host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(!body.to_string().contains("evil.example"), "{path}: {body}");
        links(&body, &mut found);
    }
    assert!(found.len() > 5, "{found:?}");
    found
}

#[tokio::test]
async fn ogc_links_start_at_the_public_base_url_never_at_the_requests_host() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for href in ogc_links_under_a_forged_host(&app).await {
        assert!(href.starts_with(&format!("{}/ogc", app.base)), "{href}");
    }
    app.finish().await;

    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.public_base_url = Some("https://ops.example.gov.cn/city/".into());
    })
    .await
    .unwrap();
    for href in ogc_links_under_a_forged_host(&app).await {
        assert!(
            href.starts_with("https://ops.example.gov.cn/city/ogc"),
            "{href}"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn no_authenticated_answer_may_be_cached() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let cache_control = |response: &reqwest::Response| {
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let layer = "/api/v1/geo/areas?level=district";
    let anonymous = app
        .client
        .get(format!("{}{layer}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 200);
    assert!(
        cache_control(&anonymous).unwrap().starts_with("public"),
        "the public map layer may be cached for anyone"
    );
    for path in [
        layer,
        "/ogc/collections/cases/items?limit=1",
        "/ogc/collections/districts/items?limit=1",
        "/metrics",
        "/api/v1/me",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&app.tokens["admin"])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            cache_control(&response).as_deref(),
            Some("no-store"),
            "{path}"
        );
        // A session cookie counts as much as a bearer token.
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", "cityops_session=anything")
            .send()
            .await
            .unwrap();
        assert_eq!(
            cache_control(&response).as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
    app.finish().await;
}
