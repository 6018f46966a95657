//! Class suggestions over HTTP: a report's text gives its likely small classes with the words
//! that decided them; the model learns from the operators' filings without a restart; bad
//! input is named.

use cityops_test_support::{on_both_backends, percent_encode, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_text_gets_its_likely_classes_and_learns_from_filings,
    class_suggestions_refuse_bad_input,
);

async fn suggest(app: &TestApp, who: &str, text: &str) -> Vec<Value> {
    let path = format!("/api/v1/class-suggestions?text={}", percent_encode(text));
    let (status, body) = app.get(Some(who), &path).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

async fn a_text_gets_its_likely_classes_and_learns_from_filings(app: &TestApp) {
    let found = suggest(
        app,
        "operator",
        "人行道上有个下水道井盖不见了，晚上看不清很危险",
    )
    .await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found
            .iter()
            .any(|s| s["category"].as_str().unwrap().starts_with("101")),
        "a manhole cover among {found:?}"
    );
    let mut total = 0.0;
    for s in &found {
        let confidence = s["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{s}");
        total += confidence;
        assert!(!s["zh"].as_str().unwrap().is_empty() && !s["en"].as_str().unwrap().is_empty());
    }
    assert!(total <= 1.001);
    assert!(
        !found[0]["words"].as_array().unwrap().is_empty(),
        "the deciding words: {found:?}"
    );
    let street = suggest(
        app,
        "inspector",
        "路口有小贩推着三轮车卖水果，占了半条人行道",
    )
    .await;
    assert_eq!(
        street[0]["category"].as_str().unwrap().get(..3),
        Some("205"),
        "{street:?}"
    );
    let english = suggest(
        app,
        "dispatcher",
        "street vendor selling fruit on the sidewalk",
    )
    .await;
    assert!(!english.is_empty(), "English is understood");
    let limited = app
        .get(
            Some("operator"),
            "/api/v1/class-suggestions?text=%E4%BA%95%E7%9B%96&limit=1",
        )
        .await
        .1;
    assert_eq!(limited.as_array().unwrap().len(), 1);

    // The city's own word for a thing is learned from its filings.
    let odd = "滨江步道上的蓝鲸雕塑歪斜";
    let class = "10606";
    let before = suggest(app, "operator", odd).await;
    assert!(
        before.first().is_none_or(|s| s["category"] != class),
        "not yet: {before:?}"
    );
    for _ in 0..4 {
        let (status, case) = app
            .post_json(
                Some("inspector"),
                "/api/v1/cases",
                json!({
                    "source": "inspector",
                    "description": odd,
                    "location": {"lon": 121.4919, "lat": 31.2150},
                    "area": "310101002001",
                }),
            )
            .await;
        assert_eq!(status, 201, "{case}");
        let case = app.ok("operator", &case, "accept", json!({})).await;
        app.ok("lead", &case, "file", json!({"category": class}))
            .await;
    }
    // Learned as the filings reach the live stream, on every node.
    let mut after = Vec::new();
    for _ in 0..100 {
        after = suggest(app, "operator", odd).await;
        if after.first().is_some_and(|s| s["category"] == class) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        after[0]["category"], class,
        "the filings were not learned: {after:?}"
    );

    // A process started later (a restart, another node) learns them from the store.
    let mut config = cityops_api::ApiConfig::new(app.data_dir.clone());
    config.class_seed = cityops::reference::class_seed().unwrap();
    config.outbox.node_name = format!("second-{}", uuid::Uuid::new_v4().simple());
    let later = cityops_api::AppState::new(app.store.clone(), config);
    for _ in 0..100 {
        let first = later.suggest_classes(odd, |_| true, 1);
        if first.first().is_some_and(|s| s.class.as_str() == class) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("a later process did not learn the stored filings");
}

async fn class_suggestions_refuse_bad_input(app: &TestApp) {
    for (path, field) in [
        ("/api/v1/class-suggestions?text=", "text"),
        ("/api/v1/class-suggestions", "text"),
        ("/api/v1/class-suggestions?text=%E4%BA%95&limit=0", "limit"),
        ("/api/v1/class-suggestions?text=%E4%BA%95&limit=11", "limit"),
        ("/api/v1/class-suggestions?text=%E4%BA%95&lang=zh", "lang"),
    ] {
        let (status, body) = app.get(Some("operator"), path).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert!(body.to_string().contains(field), "{path}: {body}");
    }
    let long = "井".repeat(2001);
    let (status, body) = app
        .get(
            Some("operator"),
            &format!("/api/v1/class-suggestions?text={}", percent_encode(&long)),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "text", "{body}");
    let (status, _) = app
        .get(None, "/api/v1/class-suggestions?text=%E4%BA%95")
        .await;
    assert_eq!(status, 401);
    // Nothing the model knows: no suggestion rather than a guess.
    assert!(suggest(app, "operator", "12345 !!!").await.is_empty());
}
