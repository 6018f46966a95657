//! Personal data that citizens and staff write into free text (descriptions, opinions,
//! comments): masked wherever the text is shown, sealed in clear for the purposes that may
//! read it, found by the number in any spelling, and erased with the contact, the timeline
//! saying that it happened.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

use crate::personal_data::{finish_by_rejecting, stored_texts};

const SAID: &str =
    "我叫王小明，电话 139-0000-1111，身份证310101199001011234，车牌沪A12345的车天天停在人行道上";
/// What must never show outside its purpose, in the spellings above and the stored form.
const CLEAR: [&str; 6] = [
    "王小明",
    "139-0000-1111",
    "13900001111",
    "310101199001011234",
    "沪A12345",
    "00001111",
];

async fn report(app: &TestApp, description: &str, phone: &str) -> (String, String) {
    let (status, receipt) = app
        .public_report(json!({
            "description": description,
            "location": {"lon": 121.4837, "lat": 31.2369},
            "contact": {"name": "王小明", "phone": phone},
        }))
        .await;
    assert_eq!(status, 201, "{receipt}");
    (
        receipt["number"].as_str().unwrap().to_owned(),
        receipt["follow_token"].as_str().unwrap().to_owned(),
    )
}

fn assert_clean(what: &str, text: &str) {
    for clear in CLEAR {
        assert!(!text.contains(clear), "{what} shows {clear}: {text}");
    }
}

async fn free_text_is_masked_everywhere_and_read_in_clear_only_for_a_purpose(app: &TestApp) {
    let (number, token) = report(app, SAID, "+86 139 0000 1111").await;
    for text in stored_texts(&app.database_url).await {
        assert_clean("the database", &text);
    }
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    let id = case["id"].as_str().unwrap().to_owned();
    let description = case["description"].as_str().unwrap();
    assert!(
        description.contains("139****1111") && description.contains("人行道"),
        "{description}"
    );
    // A staff opinion that names the caller is masked too.
    app.ok(
        "operator",
        &case,
        "accept",
        json!({"opinion": "已电话联系13900001111王先生确认"}),
    )
    .await;
    let reads = [
        format!("/api/v1/cases/{id}"),
        format!("/api/v1/cases/{id}/timeline"),
        "/api/v1/cases?limit=200".to_owned(),
        "/api/v1/cases?text=人行道".to_owned(),
        "/ogc/collections/cases/items?limit=1000".to_owned(),
        format!("/api/v1/public/cases/{number}?token={token}"),
    ];
    for (user, ..) in cityops_test_support::USERS {
        for path in &reads {
            let (status, body) = app.get(Some(user), path).await;
            assert_clean(&format!("{user} GET {path} ({status})"), &body.to_string());
        }
    }
    // The number alone shows the state, nothing the citizen wrote.
    let (status, public) = app
        .get(None, &format!("/api/v1/public/cases/{number}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&public["details"], &public["description"], &public["steps"]),
        (&json!(false), &Value::Null, &json!([])),
        "{public}"
    );
    let (status, followed) = app
        .get(
            None,
            &format!("/api/v1/public/cases/{number}?token={token}"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(followed["description"].as_str().unwrap().contains("人行道"));

    // For a call-back the operator reads the clear texts, on the record.
    let (status, contact) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{id}/contact?purpose=callback"),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["phone"], "13900001111", "one form for the phone");
    let texts = contact["texts"].as_array().unwrap();
    assert!(
        texts
            .iter()
            .any(|t| t["field"] == "description" && t["text"] == SAID && t["seq"] == 1),
        "{contact}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t["action"] == "accept" && t["text"].as_str().unwrap().contains("13900001111")),
        "{contact}"
    );
    let (_, log) = app
        .get(Some("auditor"), "/api/v1/audit?action=pii.read&limit=100")
        .await;
    assert!(log.to_string().contains("texts"), "{log}");

    // The steward finds the citizen by their number in any spelling, and gives them what
    // they wrote, in clear.
    for phone in [
        "13900001111",
        "%2B86%20139-0000-1111",
        "0086%20139%200000%201111",
    ] {
        let (status, export) = app
            .get(
                Some("steward"),
                &format!("/api/v1/personal-data?phone={phone}"),
            )
            .await;
        assert_eq!(status, 200, "{export}");
        let cases = export["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 1, "{phone}: {export}");
        assert_eq!(cases[0]["description"], SAID);
        assert_eq!(cases[0]["phone"], "13900001111");
    }
}

async fn erasure_reaches_free_text_and_is_on_the_timeline(app: &TestApp) {
    // The name without a cue is not found by pattern: erasure still finds it, as the
    // reporter's own name.
    let description = "王小明每天晚上都看到车牌沪A12345的车停在这里，电话13900001111";
    let (number, token) = report(app, description, "139 0000 1111").await;
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    assert!(case["description"].as_str().unwrap().contains("王小明"));
    let id = case["id"].as_str().unwrap().to_owned();
    finish_by_rejecting(app, &number).await;

    let response = app
        .client
        .delete(format!(
            "{}/api/v1/personal-data?phone=%2B86-139-0000-1111",
            app.base
        ))
        .bearer_auth(&app.tokens["steward"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let erasure: Value = response.json().await.unwrap();
    assert_eq!(erasure["anonymised"], 1, "{erasure}");

    for text in stored_texts(&app.database_url).await {
        assert_clean("the database after erasure", &text);
        assert!(!text.contains("clear_text"), "clear texts dropped: {text}");
    }
    for (user, ..) in cityops_test_support::USERS {
        for path in [
            format!("/api/v1/cases/{id}"),
            format!("/api/v1/cases/{id}/timeline"),
            format!("/api/v1/public/cases/{number}?token={token}"),
        ] {
            let (_, body) = app.get(Some(user), &path).await;
            assert_clean(
                &format!("{user} GET {path} after erasure"),
                &body.to_string(),
            );
        }
    }
    let (_, timeline) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}/timeline"))
        .await;
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "erase_personal_data", "{timeline}");
    assert_eq!(last["role"], "data_steward");
    assert_eq!(last["details"]["reason"], "the citizen asked for erasure");
    let (_, erased) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}"))
        .await;
    assert_eq!(erased["version"], last["seq"], "the erasure is a version");
    // Nothing is left to find, or to erase again.
    let (_, export) = app
        .get(Some("steward"), "/api/v1/personal-data?phone=13900001111")
        .await;
    assert_eq!(export["cases"], json!([]));

    // Retention leaves the same trace, by the system.
    let (other, _) = report(app, "路灯不亮，联系人李华", "13900002222").await;
    finish_by_rejecting(app, &other).await;
    let ids = app
        .store
        .expired_contacts(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    let system = cityops_domain::Actor {
        user_id: "system".into(),
        username: "system".into(),
        role: cityops_domain::Role::System,
        unit: None,
        scope: cityops_domain::AreaCode::parse("100000").unwrap(),
    };
    let done = app
        .store
        .anonymise_reporters(&ids, &system, "retention: 1 days", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(done, 1);
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{other}"))
        .await;
    let (_, timeline) = app
        .get(
            Some("operator"),
            &format!("/api/v1/cases/{}/timeline", case["id"].as_str().unwrap()),
        )
        .await;
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["action"], &last["role"]),
        (&json!("erase_personal_data"), &json!("system"))
    );
    assert!(!timeline.to_string().contains("李华"), "{timeline}");
}

async fn phone_numbers_are_refused_or_taken_in_one_form(app: &TestApp) {
    for bad in ["139abc", "+86+139", "1234"] {
        let (status, body) = app
            .public_report(json!({
                "description": "井盖缺失",
                "location": {"lon": 121.4837, "lat": 31.2369},
                "contact": {"phone": bad},
            }))
            .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some("contact.phone")),
            "{bad}: {body}"
        );
    }
    let (status, body) = app
        .get(Some("steward"), "/api/v1/personal-data?phone=12")
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("phone"))
    );
}

on_both_backends!(
    free_text_is_masked_everywhere_and_read_in_clear_only_for_a_purpose,
    erasure_reaches_free_text_and_is_on_the_timeline,
    phone_numbers_are_refused_or_taken_in_one_form,
);
