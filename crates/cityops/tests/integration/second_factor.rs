//! The optional second factor: enrol with the password again, confirm with a code, then
//! every sign-in needs a fresh code; wrong and replayed codes count towards the sign-in
//! throttle; removing it needs the password and a code, and wrong ones count too; a
//! password reset removes it.

use cityops_test_support::{client_from, on_both_backends, TestApp, PASSWORD};
use serde_json::json;
use std::net::Ipv4Addr;

/// Another computer: the throttle slows down the address that failed, not this one.
const ELSEWHERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    otp: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut body = json!({"username": "operator", "password": PASSWORD});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    app.post_json_with(client, None, "/api/v1/sessions", body)
        .await
}

/// Enrols and confirms a second factor for the operator; returns its secret.
async fn enrolled(app: &TestApp) -> String {
    let (status, enrolment) = app
        .post_json(
            Some("operator"),
            "/api/v1/me/totp",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post_json(
            Some("operator"),
            "/api/v1/me/totp/confirm",
            json!({"code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    secret
}

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
    // A session left open is not enough to enrol: the password again, named when missing.
    for (body, status_and_code) in [
        (json!({}), (422, "invalid_body")),
        (
            json!({"password": "not the password"}),
            (403, "reauthentication_failed"),
        ),
    ] {
        let (status, error) = app
            .post_json(Some("operator"), "/api/v1/me/totp", body)
            .await;
        assert_eq!(
            (
                status,
                error["error"]["code"].as_str(),
                error["error"]["field"].as_str()
            ),
            (status_and_code.0, Some(status_and_code.1), Some("password")),
            "{error}"
        );
    }
    let (status, enrolment) = app
        .post_json(
            Some("operator"),
            "/api/v1/me/totp",
            json!({"password": PASSWORD}),
        )
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
        (403, json!("code"))
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
        .post_json(
            Some("operator"),
            "/api/v1/me/totp",
            json!({"password": PASSWORD}),
        )
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

    // Wrong codes slow down this address like wrong passwords: the replay was the first,
    // two more are free, the fourth must wait.
    let mut statuses = Vec::new();
    let mut last = json!(null);
    while statuses.len() < 5 && statuses.last() != Some(&429) {
        let (status, body) = sign_in(app, Some("123456")).await;
        statuses.push(status);
        last = body;
    }
    assert_eq!(statuses, [401, 401, 429], "{last}");
    assert_eq!(last["error"]["code"], "sign_in_throttled", "{last}");
    assert_eq!(last["error"]["retry_after"], 2, "{last}");

    // A lost phone: the admin's reset removes the factor; from another computer the
    // operator signs in at once, this address still waits.
    let hash = cityops_api::auth::hash_password(PASSWORD).unwrap();
    assert!(app.store.set_password("operator", &hash).await.unwrap());
    assert_eq!(sign_in(app, None).await.0, 429);
    let elsewhere = client_from(ELSEWHERE);
    assert_eq!(sign_in_from(app, &elsewhere, None).await.0, 201);

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
        "user.totp.reauthenticate",
        "user.totp.enrol",
        "user.totp.confirm",
        "user.reset_password",
    ] {
        assert!(actions.contains(&action), "{action} on record: {actions:?}");
    }
    // The secret is sealed at rest like personal data.
    assert!(!log.to_string().contains(&secret));
}

async fn removing_the_second_factor_needs_the_password_and_a_code(app: &TestApp) {
    let secret = enrolled(app).await;
    let remove =
        |body: serde_json::Value| app.delete_json(Some("operator"), "/api/v1/me/totp", body);
    let (status, error) = remove(json!({"code": code(&secret, 0)})).await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (422, Some("password")),
        "{error}"
    );
    // A wrong password, then wrong codes: each a failure of this address for the account.
    let attempts = [
        (
            json!({"password": "not the password", "code": "000000"}),
            "password",
        ),
        (json!({"password": PASSWORD, "code": "000000"}), "code"),
        (json!({"password": PASSWORD, "code": "999999"}), "code"),
    ];
    for (body, field) in attempts {
        let (status, error) = remove(body).await;
        assert_eq!(
            (status, error["error"]["field"].as_str()),
            (403, Some(field)),
            "{error}"
        );
    }
    let (status, error) = remove(json!({"password": PASSWORD, "code": "111111"})).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (429, Some("sign_in_throttled")),
        "{error}"
    );
    let wait = error["error"]["retry_after"].as_u64().unwrap();
    assert_eq!(wait, 2);
    // While it waits, even the right code is not heard, nor a sign-in from this address.
    // (Codes refused unheard are not used up.)
    let (status, _) = remove(json!({"password": PASSWORD, "code": code(&secret, 30)})).await;
    assert_eq!(status, 429);
    assert_eq!(sign_in(app, Some(&code(&secret, 30))).await.0, 429);
    // The factor is still there: another computer needs a code.
    let elsewhere = client_from(ELSEWHERE);
    let (status, error) = sign_in_from(app, &elsewhere, None).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (401, Some("otp_required"))
    );

    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let (status, body) = remove(json!({"password": PASSWORD, "code": code(&secret, 30)})).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = sign_in_from(app, &elsewhere, None).await;
    assert_eq!(status, 201, "the factor is gone");
}

on_both_backends!(
    a_confirmed_second_factor_guards_every_sign_in,
    removing_the_second_factor_needs_the_password_and_a_code
);
