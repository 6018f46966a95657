//! Likely duplicates over HTTP: a second report of the same problem finds the open case by
//! place, words and class; another problem, another place, another jurisdiction or a finished
//! case does not; bad input is named.

use cityops_test_support::{on_both_backends, percent_encode, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_second_report_of_the_same_problem_finds_the_open_case,
    duplicate_candidates_refuse_bad_input,
    the_index_of_open_cases_follows_every_change_and_fills_from_the_store,
);

/// The number of open cases this server's index holds, from its metrics; -1 while filled.
async fn indexed(app: &TestApp) -> i64 {
    let (status, text) = app.get_text(Some("admin"), "/metrics").await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|line| line.strip_prefix("cityops_open_cases_indexed "))
        .unwrap_or_else(|| panic!("no open_cases_indexed in {text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Waits until the index holds `expected` open cases (the outbox relay delivers changes a
/// moment after they commit).
async fn indexed_becomes(app: &TestApp, expected: i64) {
    let mut seen = -2;
    for _ in 0..100 {
        seen = indexed(app).await;
        if seen == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the index holds {seen} open cases, not {expected}");
}

async fn the_index_of_open_cases_follows_every_change_and_fills_from_the_store(app: &TestApp) {
    let mut before = -1;
    for _ in 0..100 {
        before = indexed(app).await;
        if before >= 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(before >= 0, "the index was never filled");
    let (status, open) = app
        .post_json(
            Some("inspector"),
            "/api/v1/cases",
            json!({
                "source": "inspector",
                "description": "福州路书店门口的雨水箅子缺失",
                "location": {"lon": 121.4860, "lat": 31.2340},
                "area": "310101017015",
                "category_hint": "10104",
            }),
        )
        .await;
    assert_eq!(status, 201, "{open}");
    indexed_becomes(app, before + 1).await;
    // Found from the index: within 300 m, the same problem.
    let again = percent_encode("福州路书店门口雨水箅子没了");
    let query = format!("text={again}&lon=121.4862&lat=31.2341&category=10104");
    assert_eq!(
        candidates(app, "operator", &query).await[0]["case"]["id"],
        open["id"]
    );
    // Filed, it moves in the index and is found under its class.
    let accepted = app.ok("operator", &open, "accept", json!({})).await;
    let filed = app
        .ok("lead", &accepted, "file", json!({"category": "10104"}))
        .await;
    let found = candidates(app, "operator", &query).await;
    assert_eq!(found[0]["case"]["state"], "filed", "{found:?}");
    // A citizen is told of it too.
    let (status, public) = app
        .get(
            None,
            &format!("/api/v1/public/duplicate-candidates?{query}"),
        )
        .await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(public["candidates"][0]["number"], open["number"]);

    // A second open case, then a process started later (a restart, another node) reads
    // both from the store.
    let second = app.report("inspector", "inspector").await;
    indexed_becomes(app, before + 2).await;
    let mut config = cityops_api::ApiConfig::new(app.data_dir.clone());
    config.class_seed = cityops::reference::class_seed().unwrap();
    config.outbox.node_name = format!("second-{}", uuid::Uuid::new_v4().simple());
    config.districts = std::sync::Arc::new(
        cityops_geo::Boundaries::from_geojson_in(
            cityops::reference::DISTRICTS_GEOJSON,
            cityops::reference::DISTRICTS_CRS,
        )
        .unwrap(),
    );
    config.geography = Some(cityops::reference::shanghai_geography().unwrap());
    let later = cityops_api::AppState::new(app.store.clone(), config);
    let mut read = None;
    for _ in 0..100 {
        read = later.open_cases_indexed();
        if read.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(read, Some((before + 2) as usize));

    // Finished cases leave the index and are proposed no more.
    app.ok("lead", &filed, "cancel", json!({"reason": "测试"}))
        .await;
    app.ok("lead", &second, "cancel", json!({"reason": "测试"}))
        .await;
    indexed_becomes(app, before).await;
    assert!(candidates(app, "operator", &query).await.is_empty());
    let (_, public) = app
        .get(
            None,
            &format!("/api/v1/public/duplicate-candidates?{query}"),
        )
        .await;
    assert_eq!(public["candidates"], json!([]));
}

async fn candidates(app: &TestApp, who: &str, query: &str) -> Vec<Value> {
    let (status, body) = app
        .get(Some(who), &format!("/api/v1/duplicate-candidates?{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body.as_array().unwrap().clone()
}

async fn a_second_report_of_the_same_problem_finds_the_open_case(app: &TestApp) {
    // 南京东路步行街东侧上水井盖缺失 at (121.4919, 31.2150), with the class hinted.
    let (status, open) = app
        .post_json(
            Some("inspector"),
            "/api/v1/cases",
            json!({
                "source": "inspector",
                "description": "南京东路步行街东侧上水井盖缺失，已设置临时围挡",
                "location": {"lon": 121.4919, "lat": 31.2150},
                "area": "310101002001",
                "category_hint": "10101",
            }),
        )
        .await;
    assert_eq!(status, 201, "{open}");
    let again = percent_encode("市民来电：南京东路步行街上有个井盖缺失了，很危险");
    let found = candidates(
        app,
        "operator",
        &format!("text={again}&lon=121.4921&lat=31.2151&category=10101"),
    )
    .await;
    assert_eq!(found.len(), 1, "{found:?}");
    let first = &found[0];
    assert_eq!(first["case"]["id"], open["id"]);
    assert_eq!(first["case"]["number"], open["number"]);
    assert!(first["score"].as_f64().unwrap() >= 0.7, "{first}");
    assert!(first["distance_m"].as_f64().unwrap() < 50.0, "{first}");
    assert_eq!(first["same_class"], true);
    assert!(first["text_similarity"].as_f64().unwrap() > 0.2, "{first}");

    // Without a point, its street: the place counts half.
    let by_area = candidates(
        app,
        "operator",
        &format!("text={again}&area=310101002&category=10101"),
    )
    .await;
    assert_eq!(by_area[0]["case"]["id"], open["id"], "{by_area:?}");
    assert!(by_area[0]["distance_m"].is_null());

    // Another problem on the spot; the same words 1.5 km away (Renmin Square).
    let stall = percent_encode("路口有人摆摊卖水果，占了半条人行道");
    assert!(candidates(
        app,
        "operator",
        &format!("text={stall}&lon=121.4921&lat=31.2151")
    )
    .await
    .is_empty());
    assert!(candidates(
        app,
        "operator",
        &format!("text={again}&lon=121.4752&lat=31.2304&category=10101")
    )
    .await
    .is_empty());
    // Xuhui's operator sees no case of Huangpu.
    assert!(candidates(
        app,
        "xuhui_operator",
        &format!("text={again}&lon=121.4921&lat=31.2151&category=10101")
    )
    .await
    .is_empty());

    // A case turned away is no longer proposed.
    app.ok(
        "operator",
        &open,
        "reject",
        json!({"reject_reason": "invalid", "opinion": "测试"}),
    )
    .await;
    assert!(candidates(
        app,
        "operator",
        &format!("text={again}&lon=121.4921&lat=31.2151&category=10101")
    )
    .await
    .is_empty());
}

async fn duplicate_candidates_refuse_bad_input(app: &TestApp) {
    let text = percent_encode("井盖缺失");
    for (query, field) in [
        (format!("text={text}"), "lon"),
        (format!("text={text}&lon=121.49"), "lat"),
        (format!("text={text}&lon=10&lat=31.2"), "lon"),
        (format!("text={text}&area=310101"), "area"),
        (format!("text={text}&area=310101999"), "area"),
        (format!("text={text}&area=310101002&limit=0"), "limit"),
        (format!("text={text}&area=310101002&category=3"), "category"),
        ("text=&area=310101002".to_string(), "text"),
        (format!("text={text}&lon=120.0&lat=40.0"), "lon"),
    ] {
        let (status, body) = app
            .get(
                Some("operator"),
                &format!("/api/v1/duplicate-candidates?{query}"),
            )
            .await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let (status, _) = app
        .get(
            None,
            &format!("/api/v1/duplicate-candidates?text={text}&area=310101002"),
        )
        .await;
    assert_eq!(status, 401);
}
