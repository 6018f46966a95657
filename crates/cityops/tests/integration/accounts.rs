//! Staff accounts managed over HTTP by admins (`/api/v1/users`): added, changed, disabled,
//! their passwords and second factors reset; every change audited, a narrowed account's
//! sessions ended, bad input refused with the field named and nothing changed.

use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_admin_adds_an_account_who_then_signs_in_and_acts_within_it,
    a_change_of_role_or_a_disabled_account_ends_the_sessions_at_once,
    bad_accounts_are_refused_with_the_field_named_and_nothing_changes,
    an_admin_cannot_lock_themselves_out,
    a_district_admin_manages_the_accounts_and_keys_of_the_district_only,
);

const NEW_PASSWORD: &str = "River-bank 2026";

async fn sign_in(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    app.post_json(
        None,
        "/api/v1/sessions",
        json!({"username": username, "password": password}),
    )
    .await
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> u16 {
    app.client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn an_admin_adds_an_account_who_then_signs_in_and_acts_within_it(app: &TestApp) {
    let (status, user) = app
        .post_json(
            Some("admin"),
            "/api/v1/users",
            json!({"username": "zls-li", "display_name": "李师傅", "role": "unit_handler",
                   "scope": "310101", "unit": "310101-ZLS", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["role"], "unit_handler");
    assert_eq!(user["second_factor"], "none");
    assert!(user.get("password").is_none() && !user.to_string().contains("argon2"));

    let (status, session) = sign_in(app, "zls-li", NEW_PASSWORD).await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap();
    assert_eq!(get_as(app, token, "/api/v1/cases").await, 200);
    assert_eq!(
        get_as(app, token, "/api/v1/users").await,
        403,
        "not an admin"
    );

    let (status, list) = app
        .get(Some("admin"), "/api/v1/users?role=unit_handler&q=zls")
        .await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["zls-li"]);

    // The password reset hands over a new one; the old one stops working.
    let response = app
        .client
        .put(format!("{}/api/v1/users/zls-li/password", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(&json!({"password": "Another-bank 2027"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        get_as(app, token, "/api/v1/cases").await,
        401,
        "sessions ended"
    );
    assert_eq!(sign_in(app, "zls-li", NEW_PASSWORD).await.0, 401);
    assert_eq!(sign_in(app, "zls-li", "Another-bank 2027").await.0, 201);

    let (_, log) = app
        .get(Some("auditor"), "/api/v1/audit?object=user:zls-li&limit=50")
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["user.add", "user.reset_password"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn a_change_of_role_or_a_disabled_account_ends_the_sessions_at_once(app: &TestApp) {
    let (status, session) = sign_in(app, "xuhui_operator", cityops_test_support::PASSWORD).await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    assert_eq!(get_as(app, &token, "/api/v1/cases").await, 200);

    let response = app
        .client
        .put(format!("{}/api/v1/users/xuhui_operator", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(&json!({"role": "inspector", "unit": null, "display_name": "徐汇巡查员"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["role"], "inspector");
    assert_eq!(changed["unit"], Value::Null);
    assert_eq!(changed["scope"], "310104", "kept");
    assert_eq!(get_as(app, &token, "/api/v1/cases").await, 401);

    let (status, session) = sign_in(app, "xuhui_operator", cityops_test_support::PASSWORD).await;
    assert_eq!(status, 201);
    let token = session["token"].as_str().unwrap().to_owned();
    let (status, disabled) = app
        .post_json(
            Some("admin"),
            "/api/v1/users/xuhui_operator/disable",
            json!({}),
        )
        .await;
    assert_eq!((status, disabled["disabled"].clone()), (200, json!(true)));
    assert_eq!(get_as(app, &token, "/api/v1/cases").await, 401);
    assert_eq!(
        sign_in(app, "xuhui_operator", cityops_test_support::PASSWORD)
            .await
            .0,
        401
    );
    let (status, _) = app
        .post_json(
            Some("admin"),
            "/api/v1/users/xuhui_operator/enable",
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sign_in(app, "xuhui_operator", cityops_test_support::PASSWORD)
            .await
            .0,
        201
    );

    // No second factor enrolled: nothing to remove.
    let response = app
        .client
        .delete(format!("{}/api/v1/users/water/second-factor", app.base))
        .bearer_auth(&app.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
}

async fn bad_accounts_are_refused_with_the_field_named_and_nothing_changes(app: &TestApp) {
    let good = json!({"username": "new-one", "display_name": "新人", "role": "operator",
                      "scope": "310101", "password": NEW_PASSWORD});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    for (body, status, field) in [
        (with("username", json!("有空格 name")), 422, "username"),
        (with("role", json!("citizen")), 422, "role"),
        (with("role", json!("unit_handler")), 422, "unit"),
        (with("scope", json!("999999")), 422, "scope"),
        (with("scope", json!("31")), 422, "scope"),
        (with("unit", json!("NO-SUCH-UNIT")), 422, "unit"),
        // A Xuhui unit for an account in Huangpu.
        (with("unit", json!("310104-ZLS")), 422, "unit"),
        (with("password", json!("short1")), 422, "password"),
        (with("password", json!("new-one-2026")), 422, "password"),
        (with("password", json!("password1")), 422, "password"),
        (with("display_name", json!("  ")), 422, "display_name"),
        (with("username", json!("water")), 409, ""),
    ] {
        let (got, answer) = app
            .post_json(Some("admin"), "/api/v1/users", body.clone())
            .await;
        assert_eq!(got, status, "{body}: {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        }
    }
    let (status, _) = app
        .post_json(Some("operator"), "/api/v1/users", good.clone())
        .await;
    assert_eq!(status, 403);
    let (_, list) = app.get(Some("admin"), "/api/v1/users?q=new-one").await;
    assert_eq!(list, json!([]), "nothing was added");

    let (status, _) = app.get(Some("admin"), "/api/v1/users/nobody").await;
    assert_eq!(status, 404);
    let response = app
        .client
        .put(format!("{}/api/v1/users/water", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(&json!({"unit": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        422,
        "a unit handler keeps a unit"
    );
    let (_, water) = app.get(Some("admin"), "/api/v1/users/water").await;
    assert_eq!(water["unit"], "310101-ZLS", "unchanged");
}

async fn an_admin_cannot_lock_themselves_out(app: &TestApp) {
    let (status, answer) = app
        .post_json(Some("admin"), "/api/v1/users/admin/disable", json!({}))
        .await;
    assert_eq!(status, 409, "{answer}");
    let response = app
        .client
        .put(format!("{}/api/v1/users/admin", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(&json!({"role": "operator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    // Their display name is theirs to change.
    let response = app
        .client
        .put(format!("{}/api/v1/users/admin", app.base))
        .bearer_auth(&app.tokens["admin"])
        .json(&json!({"display_name": "系统管理员"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        app.get(Some("admin"), "/api/v1/me").await.0,
        200,
        "still signed in"
    );
}

async fn a_district_admin_manages_the_accounts_and_keys_of_the_district_only(app: &TestApp) {
    let (status, _) = app
        .post_json(
            Some("admin"),
            "/api/v1/users",
            json!({"username": "hp-admin", "display_name": "黄浦管理员", "role": "admin",
                   "scope": "310101", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, city_key) = app
        .post_json(
            Some("admin"),
            "/api/v1/api-keys",
            json!({"name": "city-reader", "role": "operator", "scope": "310000",
                   "permissions": ["read"]}),
        )
        .await;
    assert_eq!(status, 201, "{city_key}");
    let (_, session) = sign_in(app, "hp-admin", NEW_PASSWORD).await;
    let token = session["token"].as_str().unwrap().to_owned();
    let get = |path: &'static str| {
        let token = token.clone();
        async move {
            let response = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, users) = get("/api/v1/users").await;
    assert_eq!(status, 200);
    let scopes: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["scope"].as_str().unwrap())
        .collect();
    assert!(
        !scopes.is_empty() && scopes.iter().all(|s| s.starts_with("310101")),
        "{scopes:?}"
    );
    assert_eq!(get("/api/v1/users/operator").await.0, 404, "a city account");
    let (status, keys) = get("/api/v1/api-keys").await;
    assert_eq!(status, 200);
    assert!(
        !keys.to_string().contains("city-reader"),
        "a city key is not the district's: {keys}"
    );
    let response = app
        .client
        .delete(format!(
            "{}/api/v1/api-keys/{}",
            app.base,
            city_key["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let (_, still) = app.get(Some("admin"), "/api/v1/api-keys").await;
    let city = still
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "city-reader")
        .unwrap();
    assert_eq!(city["revoked_at"], Value::Null, "not revoked");
}
