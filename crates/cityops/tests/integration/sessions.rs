//! Sessions the web UI holds in an HttpOnly cookie with CSRF protection, and sessions that
//! end: expired, signed out.

use cityops_test_support::{on_both_backends, TestApp, PASSWORD};
use serde_json::{json, Value};

struct CookieSession {
    cookie: String,
    csrf: String,
}

async fn sign_in_by_cookie(app: &TestApp, username: &str) -> CookieSession {
    let response = app
        .client
        .post(format!("{}/api/v1/sessions", app.base))
        .json(&json!({"username": username, "password": PASSWORD, "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body: Value = response.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "no token where scripts can read it: {body}"
    );
    let session = cookies
        .iter()
        .find(|c| c.starts_with("cityops_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    // The test server listens on 127.0.0.1: plain HTTP, so not Secure.
    assert!(!session.contains("Secure"), "{session}");
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("cityops_csrf="))
        .unwrap();
    assert!(
        !csrf_cookie.contains("HttpOnly"),
        "the UI reads it: {csrf_cookie}"
    );
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert!(csrf_cookie.starts_with(&format!("cityops_csrf={csrf};")));
    CookieSession {
        cookie: session.split(';').next().unwrap().to_owned(),
        csrf,
    }
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn the_web_ui_session_is_an_httponly_cookie_guarded_against_csrf(app: &TestApp) {
    let session = sign_in_by_cookie(app, "inspector").await;
    let me = app.client.get(format!("{}/api/v1/me", app.base));
    let (status, me) = send(me.header("cookie", &session.cookie)).await;
    assert_eq!((status, me["username"].clone()), (200, json!("inspector")));

    let report = json!({
        "source": "inspector",
        "description": "南京东路步行街东侧上水井盖缺失",
        "location": {"lon": 121.4919, "lat": 31.2150},
        "area": "310101002001",
    });
    let post = || {
        app.client
            .post(format!("{}/api/v1/cases", app.base))
            .header("cookie", &session.cookie)
            .json(&report)
    };
    // Another site can make the browser send the cookie, but cannot read the CSRF token.
    let (status, body) = send(post()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("csrf_required"))
    );
    let (status, _) = send(post().header("x-csrf-token", "0123456789abcdef0123456789abcdef")).await;
    assert_eq!(status, 403);
    let other = sign_in_by_cookie(app, "operator").await;
    let (status, _) = send(post().header("x-csrf-token", &other.csrf)).await;
    assert_eq!(status, 403, "another session's token does not fit this one");
    let (status, body) = send(post().header("x-csrf-token", &session.csrf)).await;
    assert_eq!(status, 201, "{body}");
    let (_, cases) = app.get(Some("operator"), "/api/v1/cases").await;
    assert_eq!(
        cases["items"].as_array().unwrap().len(),
        1,
        "only the guarded report was written"
    );

    // Signing out needs the token too, then the cookie is dead.
    let sign_out = || {
        app.client
            .delete(format!("{}/api/v1/sessions/current", app.base))
            .header("cookie", &session.cookie)
    };
    let (status, _) = send(sign_out()).await;
    assert_eq!(status, 403);
    let response = sign_out()
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("cityops_session=; ")));
    let me = app.client.get(format!("{}/api/v1/me", app.base));
    let (status, _) = send(me.header("cookie", &session.cookie)).await;
    assert_eq!(status, 401, "a signed-out cookie is refused");
}

async fn expired_and_revoked_tokens_are_refused(app: &TestApp) {
    let now = chrono::Utc::now();
    let expired = "expired-session-token";
    app.store
        .insert_session(
            &cityops_api::extract::token_hash(expired),
            "user-operator",
            now - chrono::Duration::hours(13),
            now - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let me = app.client.get(format!("{}/api/v1/me", app.base));
    let (status, body) = send(me.bearer_auth(expired)).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthenticated")),
        "{body}"
    );

    let (status, signed_in) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": "lead", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 201);
    let token = signed_in["token"].as_str().unwrap();
    let sign_out = app
        .client
        .delete(format!("{}/api/v1/sessions/current", app.base));
    let (status, _) = send(sign_out.bearer_auth(token)).await;
    assert_eq!(status, 204);
    for path in ["/api/v1/me", "/api/v1/cases", "/api/v1/stream"] {
        let request = app.client.get(format!("{}{path}", app.base));
        let (status, _) = send(request.bearer_auth(token)).await;
        assert_eq!(status, 401, "{path} after sign-out");
    }
}

on_both_backends!(
    the_web_ui_session_is_an_httponly_cookie_guarded_against_csrf,
    expired_and_revoked_tokens_are_refused,
);
