//! Likely duplicates over HTTP: a second report of the same problem finds the open case by
//! place, words and class; another problem, another place, another jurisdiction or a finished
//! case does not; bad input is named.

use cityops_test_support::{on_both_backends, percent_encode, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_second_report_of_the_same_problem_finds_the_open_case,
    duplicate_candidates_refuse_bad_input,
);

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
