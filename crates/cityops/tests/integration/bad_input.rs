//! Malformed and impossible requests: each gets its 4xx with a stable code naming the
//! field, and the database is unchanged afterwards.

use cityops_test_support::{Backend, TestApp};
use serde_json::{json, Value};

struct Row {
    name: &'static str,
    who: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn report_with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut body = json!({
        "source": "hotline",
        "description": "南京东路上水井盖缺失",
        "location": {"lon": 121.4919, "lat": 31.2150},
        "area": "310101002001"
    });
    change(&mut body);
    serde_json::to_vec(&body).unwrap()
}

fn j(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn row(
    name: &'static str,
    who: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Row {
    Row {
        name,
        who,
        method,
        path,
        content_type: "application/json",
        body,
        status,
        code,
        field,
    }
}

fn table() -> Vec<Row> {
    let op = Some("operator");
    let cases = "/api/v1/cases";
    let accept = "/api/v1/cases/{id}/accept";
    vec![
        // Rules JSON Schema cannot state answer with their own codes (README, "Errors").
        row(
            "a point outside the city and no area",
            op,
            "POST",
            cases,
            report_with(|b| {
                b["location"] = json!({"lon": 116.39, "lat": 39.91});
                b.as_object_mut().unwrap().remove("area");
            }),
            422,
            "outside_city",
            Some("area"),
        ),
        row(
            "a reading window that ends before it starts",
            op,
            "GET",
            "/api/v1/vital-signs/history?indicator=water_level&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            Vec::new(),
            422,
            "invalid_period",
            Some("from"),
        ),
        row(
            "an indicator file without its header",
            Some("admin"),
            "PUT",
            "/api/v1/indicators",
            Vec::new(),
            422,
            "invalid_file",
            Some("line 1"),
        ),
        row(
            "one reading alone, malformed, refuses the request",
            Some("admin"),
            "POST",
            "/api/v1/telemetry",
            j(json!({})),
            422,
            "invalid_input",
            Some("device"),
        ),
        row(
            "one reading alone from a device nobody registered",
            Some("admin"),
            "POST",
            "/api/v1/telemetry",
            j(json!({"device": "NO-SUCH-DEVICE", "metric": "water_level", "value": 3.0, "ts": 1_700_000_000_000i64})),
            422,
            "unknown_reference",
            Some("device"),
        ),
        row(
            "truncated JSON",
            op,
            "POST",
            cases,
            b"{\"source\":".to_vec(),
            400,
            "malformed_json",
            None,
        ),
        row(
            "not JSON at all",
            op,
            "POST",
            cases,
            b"source=hotline".to_vec(),
            400,
            "malformed_json",
            None,
        ),
        row(
            "unknown field",
            op,
            "POST",
            cases,
            report_with(|b| b["colour"] = json!("red")),
            422,
            "invalid_body",
            Some("colour"),
        ),
        row(
            "missing description",
            op,
            "POST",
            cases,
            report_with(|b| {
                b.as_object_mut().unwrap().remove("description");
            }),
            422,
            "invalid_body",
            Some("description"),
        ),
        row(
            "unknown source",
            op,
            "POST",
            cases,
            report_with(|b| b["source"] = json!("fax")),
            422,
            "invalid_input",
            Some("source"),
        ),
        row(
            "longitude outside China",
            op,
            "POST",
            cases,
            report_with(|b| b["location"]["lon"] = json!(200.0)),
            422,
            "invalid_input",
            Some("location.lon"),
        ),
        row(
            "latitude outside China",
            op,
            "POST",
            cases,
            report_with(|b| b["location"]["lat"] = json!(60.5)),
            422,
            "invalid_input",
            Some("location.lat"),
        ),
        row(
            "longitude as text",
            op,
            "POST",
            cases,
            report_with(|b| b["location"]["lon"] = json!("east")),
            422,
            "invalid_body",
            Some("location.lon"),
        ),
        row(
            "unknown field in location",
            op,
            "POST",
            cases,
            report_with(|b| b["location"]["alt"] = json!(3)),
            422,
            "invalid_body",
            Some("location.alt"),
        ),
        row(
            "empty description",
            op,
            "POST",
            cases,
            report_with(|b| b["description"] = json!("   ")),
            422,
            "invalid_input",
            Some("description"),
        ),
        row(
            "oversize description",
            op,
            "POST",
            cases,
            report_with(|b| b["description"] = json!("井".repeat(2001))),
            422,
            "invalid_input",
            Some("description"),
        ),
        row(
            "oversize body",
            op,
            "POST",
            cases,
            report_with(|b| b["description"] = json!("x".repeat(300_000))),
            413,
            "payload_too_large",
            None,
        ),
        row(
            "unknown area",
            op,
            "POST",
            cases,
            report_with(|b| b["area"] = json!("310199")),
            422,
            "unknown_reference",
            Some("area"),
        ),
        row(
            "malformed area",
            op,
            "POST",
            cases,
            report_with(|b| b["area"] = json!("31")),
            422,
            "invalid_input",
            Some("area"),
        ),
        row(
            "unknown category hint",
            op,
            "POST",
            cases,
            report_with(|b| b["category_hint"] = json!("19999")),
            422,
            "unknown_reference",
            Some("category_hint"),
        ),
        row(
            "malformed component id",
            op,
            "POST",
            cases,
            report_with(|b| b["component_id"] = json!("123")),
            422,
            "invalid_input",
            Some("component_id"),
        ),
        row(
            "deeply nested array for an object",
            op,
            "POST",
            cases,
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            422,
            "invalid_body",
            Some("[0]"),
        ),
        row(
            "deep nesting where text is expected",
            op,
            "POST",
            cases,
            format!(
                "{{\"description\": {}{}}}",
                "[".repeat(5000),
                "]".repeat(5000)
            )
            .into_bytes(),
            422,
            "invalid_body",
            Some("description"),
        ),
        row(
            "no token",
            None,
            "POST",
            cases,
            report_with(|_| {}),
            401,
            "unauthenticated",
            None,
        ),
        row(
            "role may not report",
            Some("evaluator"),
            "POST",
            cases,
            report_with(|_| {}),
            403,
            "role_not_allowed",
            None,
        ),
        row(
            "unknown command",
            op,
            "POST",
            "/api/v1/cases/{id}/fly",
            j(json!({"version": 1})),
            404,
            "unknown_command",
            None,
        ),
        row(
            "command without version",
            op,
            "POST",
            accept,
            j(json!({})),
            422,
            "invalid_body",
            Some("version"),
        ),
        row(
            "version as text",
            op,
            "POST",
            accept,
            j(json!({"version": "one"})),
            422,
            "invalid_body",
            Some("version"),
        ),
        row(
            "unknown command field",
            op,
            "POST",
            accept,
            j(json!({"version": 1, "why": "x"})),
            422,
            "invalid_body",
            Some("why"),
        ),
        row(
            "stale version",
            op,
            "POST",
            accept,
            j(json!({"version": 7})),
            409,
            "version_conflict",
            Some("version"),
        ),
        row(
            "unknown reject reason",
            op,
            "POST",
            "/api/v1/cases/{id}/reject",
            j(json!({"version": 1, "reject_reason": "maybe"})),
            422,
            "invalid_input",
            Some("reject_reason"),
        ),
        row(
            "filing with a bad category",
            Some("lead"),
            "POST",
            "/api/v1/cases/{id}/file",
            j(json!({"version": 1, "category": "abc"})),
            422,
            "invalid_input",
            Some("category"),
        ),
        row(
            "dispatch to no unit",
            Some("dispatcher"),
            "POST",
            "/api/v1/cases/{id}/dispatch",
            j(json!({"version": 1, "unit": "nobody"})),
            422,
            "invalid_input",
            Some("unit"),
        ),
        row(
            "verify without answer",
            Some("inspector"),
            "POST",
            "/api/v1/cases/{id}/verify",
            j(json!({"version": 1})),
            422,
            "inconsistent_fields",
            Some("exists"),
        ),
        row(
            "impossible transition",
            Some("lead"),
            "POST",
            "/api/v1/cases/{id}/close",
            j(json!({"version": 1})),
            409,
            "transition_not_allowed",
            None,
        ),
        row(
            "missing case",
            op,
            "POST",
            "/api/v1/cases/00000000-0000-0000-0000-000000000000/accept",
            j(json!({"version": 1})),
            404,
            "not_found",
            None,
        ),
        row(
            "oversize opinion",
            op,
            "POST",
            accept,
            j(json!({"version": 1, "opinion": "好".repeat(2001)})),
            422,
            "invalid_input",
            Some("opinion"),
        ),
        row(
            "unknown state filter",
            op,
            "GET",
            "/api/v1/cases?state=bogus",
            vec![],
            422,
            "invalid_input",
            Some("state"),
        ),
        row(
            "zero limit",
            op,
            "GET",
            "/api/v1/cases?limit=0",
            vec![],
            422,
            "invalid_input",
            Some("limit"),
        ),
        row(
            "forged cursor",
            op,
            "GET",
            "/api/v1/cases?cursor=abc",
            vec![],
            422,
            "invalid_input",
            Some("cursor"),
        ),
        row(
            "overdue not a boolean",
            op,
            "GET",
            "/api/v1/cases?overdue=maybe",
            vec![],
            422,
            "invalid_query",
            None,
        ),
        row(
            "unknown list parameter",
            op,
            "GET",
            "/api/v1/cases?colour=red",
            vec![],
            422,
            "invalid_query",
            None,
        ),
        row(
            "bad area code",
            op,
            "GET",
            "/api/v1/areas/abc",
            vec![],
            422,
            "invalid_input",
            Some("code"),
        ),
        row(
            "missing area",
            op,
            "GET",
            "/api/v1/areas/310199",
            vec![],
            404,
            "not_found",
            None,
        ),
        row(
            "tree too deep",
            op,
            "GET",
            "/api/v1/areas/tree?depth=9",
            vec![],
            422,
            "invalid_input",
            Some("depth"),
        ),
        row(
            "unknown unit kind",
            op,
            "GET",
            "/api/v1/units?kind=wizards",
            vec![],
            422,
            "invalid_input",
            Some("kind"),
        ),
        row(
            "unknown endpoint",
            op,
            "GET",
            "/api/v1/nothing",
            vec![],
            404,
            "not_found",
            None,
        ),
        row(
            "wrong password",
            None,
            "POST",
            "/api/v1/sessions",
            j(json!({"username": "operator", "password": "nope nope"})),
            401,
            "invalid_credentials",
            None,
        ),
        row(
            "unknown user",
            None,
            "POST",
            "/api/v1/sessions",
            j(json!({"username": "ghost", "password": "nope nope"})),
            401,
            "invalid_credentials",
            None,
        ),
        row(
            "sign-in without password",
            None,
            "POST",
            "/api/v1/sessions",
            j(json!({"username": "operator"})),
            422,
            "invalid_body",
            Some("password"),
        ),
        row(
            "category edit by an operator",
            op,
            "PUT",
            "/api/v1/categories/10101",
            j(json!({"terms": {"dispatch": {"amount": 10, "unit": "minutes"}}})),
            403,
            "forbidden",
            None,
        ),
        row(
            "category edit with a zero deadline",
            Some("admin"),
            "PUT",
            "/api/v1/categories/10101",
            j(json!({"terms": {"dispatch": {"amount": 0, "unit": "minutes"}}})),
            422,
            "invalid_input",
            Some("terms.dispatch.amount"),
        ),
        row(
            "category edit with a term of an unknown unit",
            Some("admin"),
            "PUT",
            "/api/v1/categories/10101",
            j(json!({"terms": {"handling": {"amount": 2, "unit": "fortnights"}}})),
            422,
            "invalid_input",
            Some("terms.handling.unit"),
        ),
        row(
            "category edit with a term longer than a year",
            Some("admin"),
            "PUT",
            "/api/v1/categories/10101",
            j(json!({"terms": {"handling": {"amount": 400, "unit": "working_days"}}})),
            422,
            "inconsistent_fields",
            Some("terms.handling.amount"),
        ),
        row(
            "category edit with a bad urgency",
            Some("admin"),
            "PUT",
            "/api/v1/categories/10101",
            j(json!({"urgency": "panic"})),
            422,
            "invalid_input",
            Some("urgency"),
        ),
        Row {
            content_type: "text/plain",
            ..row(
                "wrong content type",
                op,
                "POST",
                cases,
                report_with(|_| {}),
                415,
                "unsupported_media_type",
                None,
            )
        },
        Row {
            content_type: "image/jpeg",
            ..row(
                "attachment that is not an image",
                op,
                "POST",
                "/api/v1/cases/{id}/attachments?version=1",
                b"#!/bin/sh\nrm -rf /\n".to_vec(),
                415,
                "unsupported_image_format",
                Some("body"),
            )
        },
        Row {
            content_type: "image/jpeg",
            ..row(
                "empty attachment",
                op,
                "POST",
                "/api/v1/cases/{id}/attachments?version=1",
                vec![],
                422,
                "invalid_input",
                Some("body"),
            )
        },
        Row {
            content_type: "image/png",
            ..row(
                "attachment over 10 MiB",
                op,
                "POST",
                "/api/v1/cases/{id}/attachments?version=1",
                {
                    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
                    png.resize(11 * 1024 * 1024, 0);
                    png
                },
                413,
                "payload_too_large",
                None,
            )
        },
        Row {
            content_type: "image/jpeg",
            ..row(
                "attachment without version",
                op,
                "POST",
                "/api/v1/cases/{id}/attachments",
                vec![0xFF, 0xD8, 0xFF, 0xE0],
                422,
                "invalid_query",
                Some("version"),
            )
        },
        Row {
            content_type: "image/jpeg",
            ..row(
                "attachment with a path in its name",
                op,
                "POST",
                "/api/v1/cases/{id}/attachments?version=1&file_name=../../etc/passwd",
                vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0],
                422,
                "invalid_input",
                Some("file_name"),
            )
        },
    ]
}

async fn bad_requests_get_a_clear_error_and_change_nothing(app: &TestApp) {
    let case = app.report("operator", "hotline").await;
    let id = case["id"].as_str().unwrap();
    let before_timeline = app.timeline(&case).await;
    let (_, before_catalog) = app.get(Some("operator"), "/api/v1/categories/10101").await;
    let mut failures = Vec::new();
    for row in table() {
        let url = format!("{}{}", app.base, row.path.replace("{id}", id));
        let request = match row.method {
            "GET" => app.client.get(url),
            "PUT" => app.client.put(url),
            _ => app.client.post(url),
        };
        let request = request
            .header("content-type", row.content_type)
            .body(row.body.clone());
        let request = match row.who {
            Some(who) => request.bearer_auth(&app.tokens[who]),
            None => request,
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("<no code>");
        let field = body["error"]["field"].as_str();
        let message = body["error"]["message"].as_str().unwrap_or("");
        if status != row.status || code != row.code || field != row.field || message.is_empty() {
            failures.push(format!(
                "{}: expected {} {} {:?}, got {status} {code} {field:?} ({message})",
                row.name, row.status, row.code, row.field
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    // Nothing changed: one case, at version 1, with its one event; the catalogue as it was.
    let (_, list) = app.get(Some("operator"), "/api/v1/cases").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.timeline(&case).await, before_timeline);
    let (_, after) = app
        .get(Some("operator"), &format!("/api/v1/cases/{id}"))
        .await;
    assert_eq!(after["version"], 1);
    assert_eq!(after["state"], "reported");
    let (_, catalog) = app.get(Some("operator"), "/api/v1/categories/10101").await;
    assert_eq!(catalog, before_catalog);
    let attachments = app.data_dir.join("attachments");
    let files = walk(&attachments);
    assert!(
        files.is_empty(),
        "no attachment file was left behind: {files:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

#[tokio::test]
async fn bad_requests_on_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    bad_requests_get_a_clear_error_and_change_nothing(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn bad_requests_on_postgres() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    bad_requests_get_a_clear_error_and_change_nothing(&app).await;
    app.finish().await;
}

#[tokio::test]
async fn an_admin_edits_a_category_and_the_catalogue_version_moves() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, before) = app.get(Some("operator"), "/api/v1/categories").await;
    let (status, edited) = app
        .client
        .put(format!("{}/api/v1/categories/10118", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(
            &json!({"terms": {"handling": {"amount": 2, "unit": "working_days"}},
                      "urgency": "urgent"}),
        )
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(
        edited["terms"]["handling"],
        json!({"amount": 2, "unit": "working_days"})
    );
    assert_eq!(edited["urgency"], "urgent");
    let was = before["small"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "10118")
        .unwrap();
    assert_eq!(
        edited["terms"]["dispatch"], was["terms"]["dispatch"],
        "the other stages keep their terms"
    );
    let (_, after) = app.get(Some("operator"), "/api/v1/categories").await;
    assert_ne!(before["version"], after["version"]);
    assert_eq!(
        after["version"],
        format!("{}-e1", before["version"].as_str().unwrap())
    );
    app.finish().await;
}
