//! Citizens' personal data: sealed at rest, masked in every response, read in clear only by
//! the roles that call citizens back, for a stated purpose and on the audit log; keys rotate.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

const PHONE: &str = "13812345678";
const NAME: &str = "刘女士";

/// Every stored text of the case tables, as an intruder with the database would read it.
pub(crate) async fn stored_texts(url: &str) -> Vec<String> {
    let queries = [
        "SELECT doc FROM cases",
        "SELECT COALESCE(reporter_tag, '') FROM cases",
        "SELECT doc FROM case_events",
        "SELECT payload FROM outbox",
        "SELECT COALESCE(duty_phone, '') || ' ' || COALESCE(contact_name, '') || ' ' || \
         COALESCE(contact_phone, '') FROM units",
    ];
    let mut texts = Vec::new();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for query in queries {
            texts.extend(
                sqlx::query_scalar::<_, String>(query)
                    .fetch_all(&pool)
                    .await
                    .unwrap(),
            );
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for query in queries {
            texts.extend(
                sqlx::query_scalar::<_, String>(query)
                    .fetch_all(&pool)
                    .await
                    .unwrap(),
            );
        }
        pool.close().await;
    }
    texts
}

/// Runs one statement directly in the database, as an operator with a SQL console would.
async fn exec(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn citizen_report(app: &TestApp) -> String {
    let (status, receipt) = app
        .public_report(json!({
            "description": "南京东路步行街上有个井盖松动了",
            "location": {"lon": 121.4837, "lat": 31.2369},
            "contact": {"name": NAME, "phone": PHONE},
        }))
        .await;
    assert_eq!(status, 201, "{receipt}");
    receipt["number"].as_str().unwrap().to_owned()
}

async fn contact_is_sealed_at_rest_and_masked_in_every_response(app: &TestApp) {
    let number = citizen_report(app).await;
    let texts = stored_texts(&app.database_url).await;
    assert!(
        texts.iter().any(|t| t.contains("pii1:")),
        "sealed values are stored"
    );
    for text in &texts {
        assert!(
            !text.contains(PHONE) && !text.contains(NAME),
            "clear contact at rest: {text}"
        );
    }

    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    assert_eq!(case["reporter_phone"], "138****5678");
    assert_eq!(case["reporter_name"], "刘**");
    let id = case["id"].as_str().unwrap().to_owned();
    let reads = [
        format!("/api/v1/cases/{id}"),
        format!("/api/v1/cases/{id}/timeline"),
        "/api/v1/cases?limit=200".to_owned(),
        "/api/v1/cases?text=井盖".to_owned(),
        "/ogc/collections/cases/items?limit=1000".to_owned(),
        format!("/api/v1/cases/{id}/routing"),
        "/api/v1/stats".to_owned(),
        format!("/api/v1/public/cases/{number}"),
    ];
    for (user, ..) in cityops_test_support::USERS {
        for path in &reads {
            let (status, body) = app.get(Some(user), path).await;
            let text = body.to_string();
            assert!(
                !text.contains(PHONE) && !text.contains(NAME),
                "{user} GET {path} ({status}) shows the clear contact: {text}"
            );
        }
    }
}

async fn the_clear_contact_is_read_for_a_purpose_and_on_record(app: &TestApp) {
    let number = citizen_report(app).await;
    let path = format!("/api/v1/cases/{number}/contact");
    let (status, _) = app
        .get(Some("inspector"), &format!("{path}?purpose=callback"))
        .await;
    assert_eq!(status, 403, "an inspector does not call citizens back");
    let (status, body) = app.get(Some("operator"), &path).await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("purpose")),
        "{body}"
    );
    let (status, body) = app
        .get(Some("operator"), &format!("{path}?purpose=curiosity"))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app
        .get(Some("xuhui_operator"), &format!("{path}?purpose=callback"))
        .await;
    assert_eq!(status, 404, "out of scope answers like missing");

    let (status, contact) = app
        .get(Some("operator"), &format!("{path}?purpose=callback"))
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(
        contact,
        json!({"name": NAME, "phone": PHONE, "purpose": "callback", "texts": []})
    );

    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{number}"))
        .await;
    let object = format!("case:{}", case["id"].as_str().unwrap());
    let (_, log) = app
        .get(
            Some("auditor"),
            &format!("/api/v1/audit?action=pii.read&object={object}"),
        )
        .await;
    let reads: Vec<&Value> = log["items"].as_array().unwrap().iter().collect();
    assert_eq!(reads.len(), 1, "one clear read, one entry: {log}");
    assert_eq!(reads[0]["actor"], "operator");
    assert_eq!(reads[0]["detail"], "purpose callback; name, phone");
    // The audit log itself holds no contact.
    let (_, all) = app.get(Some("auditor"), "/api/v1/audit?limit=1000").await;
    assert!(!all.to_string().contains(PHONE));
}

async fn keys_rotate_and_old_rows_are_sealed_again(app: &TestApp) {
    let number = citizen_report(app).await;
    // A unit's duty phone is sealed like a citizen's and rotates with it.
    let mut unit = app.get(Some("admin"), "/api/v1/units/310101-GD").await.1;
    for field in [
        "open_cases",
        "district",
        "active",
        "retired_at",
        "successor",
        "code",
    ] {
        unit.as_object_mut().unwrap().remove(field);
    }
    unit["duty_phone"] = serde_json::json!("021-63210000");
    let (status, body) = app
        .put_raw(
            Some("admin"),
            "/api/v1/units/310101-GD",
            "application/json",
            serde_json::to_vec(&unit).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let k1 = std::fs::read_to_string(app.key_dir.join("pii.keys")).unwrap();
    let k2 = cityops_store::PiiKeys::new_key_line("k2");
    let rotated = cityops_store::PiiKeys::parse(&format!("{k1}\n{k2}")).unwrap();
    let store = cityops_store::open(&app.database_url, rotated)
        .await
        .unwrap();
    // The phone index still finds the case written under the old key, by its old entry.
    let found = |cases: Vec<cityops_domain::Case>| cases.iter().any(|c| c.number.0 == number);
    assert!(found(store.cases_of_reporter(PHONE).await.unwrap()));
    let changed = store.reseal_personal_data().await.unwrap();
    assert!(
        changed >= 4,
        "the case, its report event, the outbox row and the unit: {changed}"
    );
    assert_eq!(
        store.reseal_personal_data().await.unwrap(),
        0,
        "nothing left to re-seal"
    );
    let texts = stored_texts(&app.database_url).await;
    assert!(
        texts.iter().all(|t| !t.contains("pii1:k1:")),
        "no row names the old key"
    );
    assert!(texts.iter().any(|t| t.contains("pii1:k2:")));

    // The old key can now be retired: the new one alone opens everything.
    let only_k2 = cityops_store::PiiKeys::parse(&k2).unwrap();
    let store = cityops_store::open(&app.database_url, only_k2)
        .await
        .unwrap();
    // Re-sealing moved the index entries to the new key too.
    assert!(found(store.cases_of_reporter(PHONE).await.unwrap()));
    // A row from before the index (no entry) is still found, and a re-seal fills it in.
    exec(&app.database_url, "UPDATE cases SET reporter_tag = NULL").await;
    assert!(found(store.cases_of_reporter(PHONE).await.unwrap()));
    assert!(store.reseal_personal_data().await.unwrap() >= 1);
    assert_eq!(store.reseal_personal_data().await.unwrap(), 0);
    let tagged = stored_texts(&app.database_url)
        .await
        .into_iter()
        .filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .count();
    assert_eq!(tagged, 1, "the case's index entry is back");
    let case = store.case_by_number(&number).await.unwrap().unwrap();
    let reporter = case.reporter.unwrap();
    assert_eq!(reporter.phone.as_deref(), Some(PHONE));
    assert_eq!(reporter.name.as_deref(), Some(NAME));
    let events = store.timeline(&case.id).await.unwrap();
    assert!(!events.is_empty());
}

/// Ends a case: the operator rejects it as invalid.
pub(crate) async fn finish_by_rejecting(app: &TestApp, id: &str) {
    let (_, case) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}"))
        .await;
    app.ok(
        "operator",
        &case,
        "reject",
        json!({"reject_reason": "invalid", "opinion": "不属实"}),
    )
    .await;
}

async fn citizens_export_and_erase_their_data_and_retention_removes_it(app: &TestApp) {
    let finished = citizen_report(app).await;
    let open = citizen_report(app).await;
    finish_by_rejecting(app, &finished).await;

    let path = format!("/api/v1/personal-data?phone={PHONE}");
    let (status, _) = app.get(Some("operator"), &path).await;
    assert_eq!(status, 403, "only data stewards");
    let (status, body) = app
        .get(Some("steward"), "/api/v1/personal-data?phone=abc")
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("phone"))
    );
    let (status, body) = app
        .get(Some("steward"), &format!("{path}&request=%20%20"))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("request")),
        "a blank request reference"
    );
    // The citizen's request is named, so the audit log says why the data left.
    let (status, export) = app
        .get(Some("steward"), &format!("{path}&request=REQ-2026-17"))
        .await;
    assert_eq!(status, 200, "{export}");
    let numbers: Vec<&str> = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert!(
        numbers.contains(&finished.as_str()) && numbers.contains(&open.as_str()),
        "{export}"
    );
    assert_eq!(
        export["cases"][0]["phone"], PHONE,
        "the citizen gets their own data in clear"
    );

    let response = app
        .client
        .delete(format!("{}{path}&request=REQ-2026-18", app.base))
        .bearer_auth(&app.tokens["steward"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let erasure: Value = response.json().await.unwrap();
    assert_eq!(erasure["anonymised"], 1, "{erasure}");
    assert_eq!(
        erasure["kept_open"],
        json!([open]),
        "an open case keeps its call-back number"
    );
    let erased = app.store.case_by_number(&finished).await.unwrap().unwrap();
    let reporter = erased.reporter.clone().unwrap();
    assert_eq!((reporter.name, reporter.phone), (None, None));
    for event in app.store.timeline(&erased.id).await.unwrap() {
        let text = serde_json::to_string(&event).unwrap();
        assert!(!text.contains("pii1:") && !text.contains(PHONE), "{text}");
    }
    let (_, again) = app.get(Some("steward"), &path).await;
    assert_eq!(again["cases"].as_array().unwrap().len(), 1, "{again}");

    // Retention: once the open case is finished and its time has run out, it goes too.
    finish_by_rejecting(app, &open).await;
    let removed = cityops::audit::apply_retention(app.store.as_ref(), 1)
        .await
        .unwrap();
    assert_eq!(removed, 0, "not yet a day old");
    let before = chrono::Utc::now() + chrono::Duration::minutes(1);
    let ids = app.store.expired_contacts(before).await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        app.store
            .anonymise_reporters(
                &ids,
                &cityops_domain::Actor {
                    user_id: "system".into(),
                    username: "system".into(),
                    role: cityops_domain::Role::System,
                    unit: None,
                    scope: cityops_domain::AreaCode::parse("310000").unwrap(),
                },
                "retention test",
                chrono::Utc::now(),
            )
            .await
            .unwrap(),
        1
    );
    let (_, none) = app.get(Some("steward"), &path).await;
    assert_eq!(none["cases"], json!([]));
    let (_, log) = app
        .get(Some("auditor"), "/api/v1/audit?action=pii.&limit=1000")
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"pii.export")
            && actions.iter().filter(|a| **a == "pii.anonymise").count() == 2,
        "{actions:?}"
    );
    let details: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details.contains(&"2 cases; request REQ-2026-17")
            && details.contains(&"the citizen asked for erasure (request REQ-2026-18)"),
        "{details:?}"
    );
}

on_both_backends!(
    citizens_export_and_erase_their_data_and_retention_removes_it,
    contact_is_sealed_at_rest_and_masked_in_every_response,
    the_clear_contact_is_read_for_a_purpose_and_on_record,
    keys_rotate_and_old_rows_are_sealed_again,
);

#[test]
fn cityops_pii_rotate_adds_a_key_and_reseals_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let cityops = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cityops"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("CITYOPS_LOG_FILTER", "warn")
            .output()
            .unwrap()
    };
    let first = cityops(&["pii", "reseal"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let before = std::fs::read_to_string(dir.path().join("data.keys/pii.keys")).unwrap();
    let rotate = cityops(&["pii", "rotate"]);
    let output = String::from_utf8_lossy(&rotate.stdout);
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    assert!(output.contains("key k2 added after k1"), "{output}");
    let after = std::fs::read_to_string(dir.path().join("data.keys/pii.keys")).unwrap();
    assert!(
        after.starts_with(before.trim_end()),
        "old keys stay to open old rows"
    );
    assert_eq!(
        cityops_store::PiiKeys::parse(&after).unwrap().current_id(),
        "k2"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data.keys/pii.keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the key file is its owner's only: {mode:o}"
        );
    }
}
