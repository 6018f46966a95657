//! What the operator's intake console sends and reads: a call taken down with its kind and the
//! reply owed to the caller, and the place search over the city's area names.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_call_is_taken_down_with_its_kind_and_the_reply_owed,
    a_call_that_is_no_case_or_not_a_call_changes_nothing,
    places_are_found_by_name_within_the_callers_jurisdiction,
);

fn call_report(source: &str, call: Value) -> Value {
    json!({
        "source": source,
        "description": "河南中路上一处窨井盖缺失，来电市民担心夜间有人踩空",
        "location": {"lon": 121.4919, "lat": 31.2150},
        "contact": {"name": "王小明", "phone": "13900001111"},
        "call": call,
    })
}

async fn case_count(app: &TestApp) -> usize {
    let (_, page) = app.get(Some("operator"), "/api/v1/cases?limit=200").await;
    page["items"].as_array().map_or(0, Vec::len)
}

async fn a_call_is_taken_down_with_its_kind_and_the_reply_owed(app: &TestApp) {
    let (status, case) = app
        .post_json(
            Some("operator"),
            "/api/v1/cases",
            call_report(
                "hotline",
                json!({
                    "kind": "complaint",
                    "reply_owed": "三个工作日内回电 13900001111 告知处理结果",
                }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["call"]["kind"], "complaint");
    // The reply owed is free text: a phone in it is masked as in the description.
    let reply = case["call"]["reply_owed"].as_str().unwrap();
    assert!(
        reply.contains("139****1111") && !reply.contains("13900001111"),
        "{reply}"
    );
    let (_, read) = app
        .get(
            Some("lead"),
            &format!("/api/v1/cases/{}", case["number"].as_str().unwrap()),
        )
        .await;
    assert_eq!(read["call"], case["call"]);

    // A department's report may carry one; a blank reply owed is none.
    let (status, department) = app
        .post_json(
            Some("lead"),
            "/api/v1/cases",
            call_report("department", json!({"kind": "request", "reply_owed": "  "})),
        )
        .await;
    assert_eq!(status, 201, "{department}");
    assert_eq!(
        department["call"],
        json!({"kind": "request", "reply_owed": null})
    );
}

async fn a_call_that_is_no_case_or_not_a_call_changes_nothing(app: &TestApp) {
    let before = case_count(app).await;
    let refused = [
        (
            {
                let mut body = call_report("inspector", json!({"kind": "request"}));
                body.as_object_mut().unwrap().remove("contact");
                body
            },
            "inconsistent_fields",
            "call",
        ),
        (
            call_report("hotline", json!({"kind": "enquiry"})),
            "inconsistent_fields",
            "call.kind",
        ),
        (
            call_report("hotline", json!({"kind": "gossip"})),
            "invalid_input",
            "call.kind",
        ),
        (
            call_report(
                "hotline",
                json!({"kind": "request", "reply_owed": "回".repeat(501)}),
            ),
            "invalid_input",
            "call.reply_owed",
        ),
    ];
    for (body, code, field) in refused {
        let (status, error) = app
            .post_json(Some("operator"), "/api/v1/cases", body.clone())
            .await;
        assert_eq!(
            (
                status,
                error["error"]["code"].as_str(),
                error["error"]["field"].as_str()
            ),
            (422, Some(code), Some(field)),
            "{body}: {error}"
        );
    }
    assert_eq!(case_count(app).await, before, "nothing was opened");
}

async fn places_are_found_by_name_within_the_callers_jurisdiction(app: &TestApp) {
    let (status, found) = app.get(Some("operator"), "/api/v1/areas?q=南京东路").await;
    assert_eq!(status, 200, "{found}");
    let found = found.as_array().unwrap();
    assert_eq!(found[0]["code"], "310101002", "{found:?}");
    assert_eq!(found[0]["name"], "南京东路街道");
    assert!(found.len() <= 20);
    // Districts come first, then streets.
    let (_, districts) = app.get(Some("operator"), "/api/v1/areas?q=区").await;
    let levels: Vec<&str> = districts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels.first(), Some(&"district"), "{levels:?}");
    // LIKE's wildcards are text like any other.
    let (status, none) = app.get(Some("operator"), "/api/v1/areas?q=%25").await;
    assert_eq!((status, none), (200, json!([])));
    // Outside the caller's jurisdiction nothing is found.
    let (_, xuhui) = app
        .get(Some("xuhui_operator"), "/api/v1/areas?q=南京东路")
        .await;
    assert_eq!(xuhui, json!([]));
    for (path, field) in [
        ("/api/v1/areas?q=", "q"),
        ("/api/v1/areas?q=南京&level=street", "q"),
    ] {
        let (status, error) = app.get(Some("operator"), path).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (422, Some(field)),
            "{path}: {error}"
        );
    }
}
