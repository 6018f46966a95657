//! The hotline's knowledge base over HTTP: an admin writes articles, an operator finds the one
//! a caller's question is about and records the enquiry answered from it (no case, no
//! contact); edits name their version; bad input changes nothing.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_operator_answers_an_enquiry_from_the_article_an_admin_wrote,
    articles_and_enquiries_refuse_bad_input_and_stale_edits,
    an_enquiry_sent_again_with_its_key_is_recorded_once,
);

async fn article(app: &TestApp, title: &str, keywords: Value, body: &str) -> Value {
    let (status, article) = app
        .post_json(
            Some("admin"),
            "/api/v1/knowledge",
            json!({"title": title, "keywords": keywords, "body": body}),
        )
        .await;
    assert_eq!(status, 201, "{article}");
    article
}

async fn an_operator_answers_an_enquiry_from_the_article_an_admin_wrote(app: &TestApp) {
    let waste = article(
        app,
        "生活垃圾分类投放时间",
        json!(["垃圾分类", "湿垃圾"]),
        "居民区湿垃圾定时定点投放：每天7:00-9:00、18:00-20:00。",
    )
    .await;
    article(
        app,
        "夜间施工噪音投诉受理范围",
        json!(["噪音", "夜间施工"]),
        "22:00至次日6:00未经许可的施工，可以投诉。",
    )
    .await;
    assert_eq!(waste["version"], 1);
    assert_eq!(waste["updated_by"], "admin");

    let (status, found) = app
        .get(Some("operator"), "/api/v1/knowledge?q=湿垃圾几点可以扔")
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found[0]["id"], waste["id"], "{found}");
    assert!(found[0]["score"].as_f64().unwrap() > 0.0);
    let (_, listed) = app.get(Some("dispatcher"), "/api/v1/knowledge").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "every member of staff reads it"
    );

    let cases_before = app.get(Some("operator"), "/api/v1/cases?limit=200").await.1["items"]
        .as_array()
        .unwrap()
        .len();
    let (status, enquiry) = app
        .post_json(
            Some("operator"),
            "/api/v1/enquiries",
            json!({
                "question": "湿垃圾每天几点可以投放？来电人13812345678",
                "answer": "每天7:00-9:00、18:00-20:00定时定点投放。",
                "articles": [waste["id"]],
                "area": "310101002",
            }),
        )
        .await;
    assert_eq!(status, 201, "{enquiry}");
    let question = enquiry["question"].as_str().unwrap();
    assert!(
        !question.contains("13812345678") && question.contains("138****5678"),
        "{question}"
    );
    assert_eq!(enquiry["taken_by"], "operator");
    let (_, listed) = app.get(Some("lead"), "/api/v1/enquiries").await;
    assert_eq!(listed[0]["id"], enquiry["id"], "{listed}");
    let cases_after = app.get(Some("operator"), "/api/v1/cases?limit=200").await.1["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(cases_after, cases_before, "an enquiry is no case");

    // On the audit log, as every write.
    let (_, log) = app
        .get(
            Some("auditor"),
            "/api/v1/audit?action=enquiry.record&limit=5",
        )
        .await;
    assert_eq!(log["items"].as_array().map(Vec::len), Some(1), "{log}");

    // An edit names its version; the new text is found.
    let path = format!("/api/v1/knowledge/{}", waste["id"].as_str().unwrap());
    let (status, edited) = app
        .put_json(
            Some("admin"),
            &path,
            json!({
                "title": "生活垃圾分类投放时间",
                "keywords": ["垃圾分类", "湿垃圾", "厨余垃圾"],
                "body": "湿垃圾（厨余垃圾）每天7:00-9:00、18:00-20:00定时定点投放。",
                "version": 1,
            }),
        )
        .await;
    assert_eq!(
        (status, edited["version"].clone()),
        (200, json!(2)),
        "{edited}"
    );
    let (_, found) = app
        .get(Some("operator"), "/api/v1/knowledge?q=厨余垃圾")
        .await;
    assert_eq!(found[0]["id"], waste["id"]);

    let (status, _) = app.delete_json(Some("admin"), &path, json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = app.delete_json(Some("admin"), &path, json!({})).await;
    assert_eq!(status, 404);
}

async fn articles_and_enquiries_refuse_bad_input_and_stale_edits(app: &TestApp) {
    let noise = article(
        app,
        "夜间施工噪音投诉受理范围",
        json!(["噪音"]),
        "22:00至次日6:00未经许可的施工，可以投诉。",
    )
    .await;
    let path = format!("/api/v1/knowledge/{}", noise["id"].as_str().unwrap());
    // Only admins write; operators read.
    for who in ["operator", "lead", "dispatcher"] {
        let (status, _) = app
            .post_json(
                Some(who),
                "/api/v1/knowledge",
                json!({"title": "t", "body": "b"}),
            )
            .await;
        assert_eq!(status, 403, "{who}");
    }
    for who in ["dispatcher", "water", "admin"] {
        let (status, _) = app
            .post_json(
                Some(who),
                "/api/v1/enquiries",
                json!({"question": "q", "answer": "a"}),
            )
            .await;
        assert_eq!(status, 403, "{who}");
    }
    let refused = [
        (
            "/api/v1/knowledge",
            json!({"title": "", "body": "b"}),
            "title",
        ),
        (
            "/api/v1/knowledge",
            json!({"title": "t", "body": "b", "keywords": vec!["k"; 13]}),
            "keywords",
        ),
        (
            "/api/v1/knowledge",
            json!({"title": "t", "body": "b", "version": 3}),
            "version",
        ),
        (
            "/api/v1/enquiries",
            json!({"question": "q", "answer": "a", "articles": ["no-such-article"]}),
            "articles[0]",
        ),
        (
            "/api/v1/enquiries",
            json!({"question": "q", "answer": "a", "area": "310101"}),
            "area",
        ),
        (
            "/api/v1/enquiries",
            json!({"question": "\u{85}", "answer": "a"}),
            "question",
        ),
    ];
    for (path, body, field) in refused {
        let who = if path.ends_with("knowledge") {
            "admin"
        } else {
            "xuhui_operator"
        };
        let (status, error) = app.post_json(Some(who), path, body.clone()).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {error}"
        );
    }
    let (_, listed) = app.get(Some("admin"), "/api/v1/knowledge").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing was added");
    let (_, enquiries) = app.get(Some("admin"), "/api/v1/enquiries").await;
    assert_eq!(enquiries, json!([]), "nothing was recorded");

    // Two admins edit version 1: the second is told, and changes nothing.
    let edit = |body: &str| json!({"title": "夜间施工噪音投诉受理范围", "keywords": ["噪音"], "body": body, "version": 1});
    let (status, _) = app.put_json(Some("admin"), &path, edit("第一版修改")).await;
    assert_eq!(status, 200);
    let (status, error) = app.put_json(Some("admin"), &path, edit("第二版修改")).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("version_conflict"))
    );
    let (_, found) = app.get(Some("operator"), "/api/v1/knowledge").await;
    assert_eq!(found[0]["body"], "第一版修改");
    let (status, _) = app
        .put_json(Some("admin"), "/api/v1/knowledge/none", edit("x"))
        .await;
    assert_eq!(status, 404);
    // A period the wrong way round, and a search too long.
    let (status, error) = app
        .get(
            Some("operator"),
            "/api/v1/enquiries?from=2026-02-01&to=2026-01-01",
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("invalid_period"))
    );
    let long = "噪".repeat(201);
    let (status, _) = app
        .get(Some("operator"), &format!("/api/v1/knowledge?q={long}"))
        .await;
    assert_eq!(status, 422);
}

async fn post_enquiry(app: &TestApp, who: &str, key: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/enquiries", app.base))
        .bearer_auth(&app.tokens[who])
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The console lost the answer and sends the enquiry again: one record, the same answer; the
/// key with another body is a mistake; the same key on a report is another matter.
async fn an_enquiry_sent_again_with_its_key_is_recorded_once(app: &TestApp) {
    let body = json!({"question": "幂等咨询：垃圾分类时间？", "answer": "每天7:00-9:00。"});
    let (status, first) = post_enquiry(app, "operator", "enquiry-7", &body).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_enquiry(app, "operator", "enquiry-7", &body).await;
    assert_eq!((status, &again), (201, &first));
    let concurrent = futures_util::future::join_all(
        (0..4).map(|_| post_enquiry(app, "operator", "enquiry-8", &body)),
    )
    .await;
    assert!(concurrent
        .iter()
        .all(|(s, e)| *s == 201 && e["id"] == concurrent[0].1["id"]));
    let other = json!({"question": "幂等咨询：另一个问题", "answer": "另一个回答。"});
    let (status, error) = post_enquiry(app, "operator", "enquiry-7", &other).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    assert_eq!(error["error"]["field"], "Idempotency-Key");
    let (status, error) = post_enquiry(app, "operator", &"k".repeat(129), &body).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("Idempotency-Key"))
    );
    let (_, listed) = app.get(Some("lead"), "/api/v1/enquiries").await;
    let recorded = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["question"].as_str().unwrap().starts_with("幂等咨询"))
        .count();
    assert_eq!(recorded, 2, "{listed}");
    // The same key names a report apart from the enquiry.
    let response = app
        .client
        .post(format!("{}/api/v1/cases", app.base))
        .bearer_auth(&app.tokens["operator"])
        .header("Idempotency-Key", "enquiry-7")
        .json(
            &json!({"source": "hotline", "description": "幂等咨询转报案：路灯不亮",
                      "location": {"lon": 121.4919, "lat": 31.2150}, "area": "310101002001"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}
