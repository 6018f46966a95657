//! The optional second factor: enrol, confirm with a code, then every sign-in needs a fresh
//! code; wrong and replayed codes count towards the lockout; a password reset removes it.

use cityops_test_support::{on_both_backends, TestApp, PASSWORD};
use serde_json::json;

async fn sign_in(app: &TestApp, otp: Option<&str>) -> (u16, serde_json::Value) {
    let mut body = json!({"username": "operator", "password": PASSWORD});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    app.post_json(None, "/api/v1/sessions", body).await
}

fn code(secret: &str, offset: i64) -> String {
    cityops_api::auth::totp_code(secret, "operator", chrono::Utc::now().timestamp() + offset)
        .unwrap()
}

async fn a_confirmed_second_factor_guards_every_sign_in(app: &TestApp) {
    let (status, enrolment) = app
        .post_json(Some("operator"), "/api/v1/me/totp", json!({}))
        .await;
    assert_eq!(status, 201, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/CityOps:operator?"));
    // Not active before it is confirmed.
    assert_eq!(sign_in(app, None).await.0, 201);

    let (status, error) = app
        .post_json(
            Some("operator"),
            "/api/v1/me/totp/confirm",
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].clone()),
        (422, json!("code"))
    );
    let (status, _) = app
        .post_json(
            Some("operator"),
            "/api/v1/me/totp/confirm",
            json!({"code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .post_json(Some("operator"), "/api/v1/me/totp", json!({}))
        .await;
    assert_eq!(
        status, 409,
        "remove the active factor before enrolling another"
    );

    let (status, error) = sign_in(app, None).await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (401, json!("otp_required"))
    );
    // The next step's code (a clock slightly ahead) signs in; the same code again does not.
    let next = code(&secret, 30);
    let (status, session) = sign_in(app, Some(&next)).await;
    assert_eq!(status, 201, "{session}");
    let (status, error) = sign_in(app, Some(&next)).await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (401, json!("invalid_otp")),
        "a replay"
    );

    // Wrong codes lock the account like wrong passwords.
    let mut last = (0, json!(null));
    for _ in 0..4 {
        last = sign_in(app, Some("123456")).await;
    }
    assert_eq!(
        (last.0, last.1["error"]["code"].clone()),
        (429, json!("account_locked")),
        "{}",
        last.1
    );

    // A lost phone: the admin's reset removes the factor (and unlocks).
    let hash = cityops_api::auth::hash_password(PASSWORD).unwrap();
    assert!(app.store.set_password("operator", &hash).await.unwrap());
    assert_eq!(sign_in(app, None).await.0, 201);

    let (_, log) = app
        .get(
            Some("auditor"),
            "/api/v1/audit?object=user:operator&limit=1000",
        )
        .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "user.totp.enrol",
        "user.totp.confirm",
        "user.reset_password",
    ] {
        assert!(actions.contains(&action), "{action} on record: {actions:?}");
    }
    // The secret is sealed at rest like personal data.
    assert!(!log.to_string().contains(&secret));
}

on_both_backends!(a_confirmed_second_factor_guards_every_sign_in);
