//! Hardening at the edge: security headers, per-address limits on what anyone may call,
//! and CORS only for named origins.

use cityops_test_support::{Backend, TestApp};
use serde_json::json;

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for path in ["/api/v1/me", "/", "/healthz", "/api/v1/no-such-thing"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&app.tokens["operator"])
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        if path.starts_with("/api/") {
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
        // Same origin only unless configured.
        assert!(headers.get("access-control-allow-origin").is_none());
    }
    // Only liveness and readiness answer anyone; the counters need a caller.
    let (status, _) = app.get_text(None, "/metrics").await;
    assert_eq!(status, 401);
    let (status, _) = app.get_text(Some("admin"), "/metrics").await;
    assert_eq!(status, 200);
    let (status, _) = app.get_text(None, "/healthz").await;
    assert_eq!(status, 200);
    app.finish().await;
}

#[tokio::test]
async fn sign_in_and_the_citizen_channel_are_rate_limited_per_address_and_purpose() {
    // The test harness itself signs in its fifteen users first.
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.sign_in_requests_per_minute = 20;
        config.public_requests_per_minute = 4;
    })
    .await
    .unwrap();
    let mut statuses = Vec::new();
    for n in 0..8 {
        // A new name each time: the per-account throttle is not what is tested here.
        let (status, body) = app
            .post_json(
                None,
                "/api/v1/sessions",
                json!({"username": format!("nobody{n}"), "password": "wrong password!"}),
            )
            .await;
        if status == 429 {
            assert_eq!(body["error"]["code"], "rate_limited", "{body}");
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let response = app
        .client
        .post(format!("{}/api/v1/sessions", app.base))
        .json(&json!({"username": "operator", "password": cityops_test_support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "60");
    // The citizen channel has a budget of its own, which sign-in did not spend.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = app
            .get(None, "/api/v1/public/cases/3101012026112500001")
            .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [404, 404, 404, 404, 429, 429]);
    // Signed-in staff are not throttled on the endpoints they share with the public.
    for _ in 0..30 {
        let (status, _) = app.get(Some("operator"), "/api/v1/categories").await;
        assert_eq!(status, 200);
    }
    app.finish().await;
}

#[tokio::test]
async fn only_named_origins_may_call_the_api_from_a_browser() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.cors_origins = vec!["https://portal.example".into()];
    })
    .await
    .unwrap();
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/cases", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://portal.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://portal.example"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    app.finish().await;
}
