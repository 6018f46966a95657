//! Keys for machines: a role within a scope narrowed to permissions, shown once, stored
//! hashed, revocable, and on the audit log when used.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_json(Some("admin"), "/api/v1/api-keys", body).await
}

async fn with_key(
    app: &TestApp,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn report() -> Value {
    json!({
        "source": "inspector",
        "description": "南京东路步行街东侧上水井盖缺失",
        "location": {"lon": 121.4919, "lat": 31.2150},
        "area": "310101002001",
    })
}

async fn a_key_acts_within_its_role_scope_and_permissions(app: &TestApp) {
    let (status, created) = create(
        app,
        json!({"name": "huangpu-patrol-app", "role": "inspector", "scope": "310101",
               "permissions": ["read", "report"], "expires_in_days": 30}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("cok_"));

    let (status, case) = with_key(
        app,
        &key,
        reqwest::Method::POST,
        "/api/v1/cases",
        Some(report()),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(
        case["reported_by"],
        format!("key:{}", created["id"].as_str().unwrap())
    );
    let (status, _) = with_key(
        app,
        &key,
        reqwest::Method::GET,
        &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // Its role still rules: an inspector does not accept cases, whatever the permission.
    let (status, body) = with_key(
        app,
        &key,
        reqwest::Method::POST,
        &format!("/api/v1/cases/{}/accept", case["id"].as_str().unwrap()),
        Some(json!({"version": 1})),
    )
    .await;
    assert_eq!(status, 403, "no write permission: {body}");

    // A read-only key of another district: Huangpu's case is not there for it.
    let (_, reader) = create(
        app,
        json!({"name": "xuhui-dashboard", "role": "center_leader", "scope": "310104", "permissions": ["read"]}),
    )
    .await;
    let reader = reader["key"].as_str().unwrap().to_owned();
    let (status, _) = with_key(
        app,
        &reader,
        reqwest::Method::GET,
        &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, list) = with_key(app, &reader, reqwest::Method::GET, "/api/v1/cases", None).await;
    assert_eq!((status, list["items"].as_array().unwrap().len()), (200, 0));
    let (status, body) = with_key(
        app,
        &reader,
        reqwest::Method::POST,
        "/api/v1/cases",
        Some(report()),
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // Its use is on record under its name.
    let (_, log) = app
        .get(
            Some("auditor"),
            &format!("/api/v1/audit?object=case:{}", case["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(log["items"][0]["actor"], "key:huangpu-patrol-app", "{log}");

    // Listed without secrets; revoked at once.
    let (_, keys) = app.get(Some("admin"), "/api/v1/api-keys").await;
    let text = keys.to_string();
    assert!(
        !text.contains(&key[20..]) && !text.contains("secret"),
        "{text}"
    );
    let id = created["id"].as_str().unwrap();
    let response = app
        .client
        .delete(format!("{}/api/v1/api-keys/{id}", app.base))
        .bearer_auth(&app.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (status, _) = with_key(app, &key, reqwest::Method::GET, "/api/v1/cases", None).await;
    assert_eq!(status, 401, "a revoked key is refused");
    let forged = format!("{}0", &key[..key.len() - 1]);
    let (status, _) = with_key(
        app,
        &reader[..reader.len() - 1],
        reqwest::Method::GET,
        "/api/v1/cases",
        None,
    )
    .await;
    assert_eq!(status, 401, "a wrong secret is refused");
    let (status, _) = with_key(app, &forged, reqwest::Method::GET, "/api/v1/cases", None).await;
    assert_eq!(status, 401);
}

async fn only_admins_create_keys_and_bad_requests_name_the_field(app: &TestApp) {
    let good =
        json!({"name": "gw", "role": "operator", "scope": "310101", "permissions": ["read"]});
    let (status, _) = app
        .post_json(Some("operator"), "/api/v1/api-keys", good.clone())
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.get(Some("operator"), "/api/v1/api-keys").await;
    assert_eq!(status, 403);
    for (change, field) in [
        (json!({"name": "bad name!"}), "name"),
        (json!({"role": "citizen"}), "role"),
        (json!({"role": "system"}), "role"),
        (json!({"scope": "999999"}), "scope"),
        (json!({"permissions": []}), "permissions"),
        (json!({"permissions": ["read", "admin"]}), "permissions[1]"),
        (json!({"expires_in_days": 0}), "expires_in_days"),
        (json!({"role": "unit_handler"}), "unit"),
        (json!({"unit": "NO-SUCH-UNIT"}), "unit"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, error) = create(app, body).await;
        assert_eq!(
            (status, error["error"]["field"].clone()),
            (422, json!(field)),
            "{change}: {error}"
        );
    }
    let (_, keys) = app.get(Some("admin"), "/api/v1/api-keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 0, "nothing was created");
    let (status, _) = app
        .client
        .delete(format!("{}/api/v1/api-keys/nope", app.base))
        .bearer_auth(&app.tokens["admin"])
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 404);
}

on_both_backends!(
    a_key_acts_within_its_role_scope_and_permissions,
    only_admins_create_keys_and_bad_requests_name_the_field,
);
