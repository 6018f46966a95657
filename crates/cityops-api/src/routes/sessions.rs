//! Signing in and out (bearer token or HttpOnly cookie), the signed-in user (`/me`) and their
//! optional second factor (TOTP).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use std::net::IpAddr;

use crate::access::{throttled, ClientAddress};
use crate::auth;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{csrf_token, token_hash, JsonBody, CSRF_COOKIE, SESSION_COOKIE};
use crate::views::{LoginRequest, LoginResponse, SessionKind, UserView};
use crate::wire::Wire;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", post(sign_in))
        .route("/sessions/current", axum::routing::delete(sign_out))
        .route("/me", axum::routing::get(me))
        .route("/me/totp", post(enrol_totp).delete(remove_totp))
        .route("/me/totp/confirm", post(confirm_totp))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    /// The shared secret, base32, for typing into an authenticator app.
    secret: String,
    /// The same as an `otpauth://` URL, for a QR code.
    otpauth_url: String,
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The authenticator app's current 6-digit code.
    code: String,
}

/// Starting a second factor: the password again, so a session left open is not enough.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpEnrolRequest {
    /// The account's password.
    password: String,
}

/// Removing the second factor: the password again and a current code.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpRemoval {
    /// The account's password.
    password: String,
    /// The authenticator app's current 6-digit code.
    code: String,
}

/// Counts a failure of the (account, address) pair, raising the alerts it causes; the
/// refusal to answer when it imposed a wait.
async fn count_failure(
    state: &AppState,
    account: &str,
    address: IpAddr,
) -> ApiResult<Option<ApiError>> {
    let failure = state
        .sign_in_throttle
        .count_failure(account, address)
        .await?;
    raise(state, failure.alerts).await?;
    Ok(failure.wait.map(throttled))
}

/// Alerts on sustained failures: in the log, on the metrics, on the audit log.
async fn raise(state: &AppState, alerts: Vec<crate::access::Alert>) -> ApiResult<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    let mut records = Vec::new();
    for alert in alerts {
        tracing::warn!(
            subject = %alert.subject.object(),
            failures = alert.failures,
            "Sustained failed sign-ins."
        );
        state
            .metrics
            .sign_in_alerts
            .get_or_create(&crate::metrics::AlertLabels {
                scope: alert.subject.scope().to_owned(),
            })
            .inc();
        records.push(
            cityops_store::audit::record("session.sign_in_alert", alert.subject.object()).result(
                format!("{} refused sign-ins within an hour", alert.failures),
            ),
        );
    }
    state.store.append_audit(records).await?;
    Ok(())
}

/// The refusal of a pair that must still wait, if it must; the attempt counts towards the
/// alerts.
async fn must_wait(
    state: &AppState,
    account: &str,
    address: IpAddr,
) -> ApiResult<Option<ApiError>> {
    let Some(wait) = state.sign_in_throttle.must_wait(account, address).await? else {
        return Ok(None);
    };
    let alerts = state
        .sign_in_throttle
        .count_refused(account, address)
        .await?;
    raise(state, alerts).await?;
    Ok(Some(throttled(wait)))
}

/// Checks the signed-in user's password again before a change to their second factor. A
/// wrong one counts like a failed sign-in.
async fn reauthenticate(
    state: &AppState,
    user: &cityops_store::UserRecord,
    password: &str,
    address: IpAddr,
) -> ApiResult<()> {
    if let Some(refusal) = must_wait(state, &user.username, address).await? {
        return Err(refusal);
    }
    let (password, hash) = (password.to_owned(), user.password_hash.clone());
    let verified = password.len() <= 200
        && tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
            .await
            .map_err(ApiError::internal)?;
    if verified {
        return Ok(());
    }
    state
        .store
        .append_audit(vec![cityops_store::audit::record(
            "user.totp.reauthenticate",
            format!("user:{}", user.username),
        )
        .result("refused: wrong password")])
        .await?;
    if let Some(refusal) = count_failure(state, &user.username, address).await? {
        return Err(refusal);
    }
    Err(
        ApiError::new(ErrorCode::ReauthenticationFailed, "the password is wrong")
            .with_field("password"),
    )
}

/// Whether `code` is a current code of the user's second factor not used before; marks its
/// time step used, so a code works once.
async fn fresh_code(
    state: &AppState,
    user: &cityops_store::UserRecord,
    totp: &cityops_store::TotpState,
    code: &str,
) -> ApiResult<bool> {
    match auth::totp_step(&totp.secret, &user.username, code, Utc::now().timestamp()) {
        Some(step) => Ok(state.store.use_totp_step(&user.id, step).await?),
        None => Ok(false),
    }
}

async fn signed_in_user(
    state: &AppState,
    actor: &cityops_domain::Actor,
) -> ApiResult<cityops_store::UserRecord> {
    if actor.user_id.starts_with("key:") {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "API keys have no second factor",
        ));
    }
    state
        .store
        .user_by_name(&actor.username)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "the user no longer exists"))
}

/// Start enrolling a second factor: a new secret, active once confirmed with a code.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "sessions", request_body = TotpEnrolRequest,
    responses((status = 201, body = TotpEnrolment), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn enrol_totp(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    crate::extract::CurrentUser(actor): crate::extract::CurrentUser,
    JsonBody(body): JsonBody<TotpEnrolRequest>,
) -> ApiResult<(StatusCode, Json<TotpEnrolment>)> {
    let user = signed_in_user(&state, &actor).await?;
    reauthenticate(&state, &user, &body.password, address).await?;
    if user.totp.as_ref().is_some_and(|t| t.enabled) {
        return Err(ApiError::new(
            ErrorCode::TotpEnabled,
            "a second factor is active: remove it first (DELETE /me/totp with a code)",
        ));
    }
    let (secret, otpauth_url) =
        auth::new_totp(&user.username).ok_or_else(|| ApiError::internal("TOTP setup failed"))?;
    state.store.set_totp(&user.id, Some(&secret), false).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolment {
            secret,
            otpauth_url,
        }),
    ))
}

/// Confirm the second factor with a first code; from then on sign-in asks for one.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "sessions", request_body = TotpCode,
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    crate::extract::CurrentUser(actor): crate::extract::CurrentUser,
    JsonBody(body): JsonBody<TotpCode>,
) -> ApiResult<StatusCode> {
    let user = signed_in_user(&state, &actor).await?;
    let Some(totp) = user.totp.as_ref().filter(|t| !t.enabled) else {
        return Err(ApiError::new(
            ErrorCode::NoEnrolment,
            "nothing to confirm: start with POST /me/totp",
        ));
    };
    let step = auth::totp_step(
        &totp.secret,
        &user.username,
        &body.code,
        Utc::now().timestamp(),
    )
    .ok_or_else(|| {
        ApiError::new(
            ErrorCode::ReauthenticationFailed,
            "the code is wrong or expired",
        )
        .with_field("code")
    })?;
    state.store.use_totp_step(&user.id, step).await?;
    state
        .store
        .set_totp(&user.id, Some(&totp.secret), true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the second factor, with the password again and a current code; wrong ones count
/// towards the same throttle as sign-in. (An admin's `cityops user reset` removes it too,
/// for a lost phone.)
#[utoipa::path(delete, path = "/api/v1/me/totp", tag = "sessions", request_body = TotpRemoval,
    responses((status = 204), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn remove_totp(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    crate::extract::CurrentUser(actor): crate::extract::CurrentUser,
    JsonBody(body): JsonBody<TotpRemoval>,
) -> ApiResult<StatusCode> {
    let user = signed_in_user(&state, &actor).await?;
    reauthenticate(&state, &user, &body.password, address).await?;
    if let Some(totp) = user.totp.as_ref().filter(|t| t.enabled) {
        if !fresh_code(&state, &user, totp, &body.code).await? {
            if let Some(refusal) = count_failure(&state, &user.username, address).await? {
                return Err(refusal);
            }
            return Err(ApiError::new(
                ErrorCode::ReauthenticationFailed,
                "the code is wrong, expired or already used",
            )
            .with_field("code"));
        }
    }
    state.store.set_totp(&user.id, None, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "sessions",
    responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    crate::extract::CurrentUser(actor): crate::extract::CurrentUser,
) -> ApiResult<Json<UserView>> {
    let user = state
        .store
        .user_by_name(&actor.username)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "the user no longer exists"))?;
    Ok(Json(UserView {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: Wire(user.role),
        unit: user.unit,
        scope: user.scope.to_string(),
    }))
}

/// A fixed argon2id hash verified when the username is unknown, so the answer takes as
/// long as for a known user and does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2vgcX1DBZ5ZkXGf2zVUPNGsS4k2ll3rL3gLKb6wm1ZY";

/// Sign in with username and password; returns a bearer token. Failed attempts slow down
/// the (username, address) pair that made them (`sign_in_throttled` with `retry_after`);
/// an unknown username is answered exactly like a known one.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", security(()),
    request_body = LoginRequest,
    responses((status = 201, body = LoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    JsonBody(request): JsonBody<LoginRequest>,
) -> ApiResult<(StatusCode, axum::http::HeaderMap, Json<LoginResponse>)> {
    if request.username.len() > 100 || request.password.len() > 200 {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "wrong username or password",
        ));
    }
    // A refusal that changes nothing is still a sign-in attempt on record.
    let refused = |why: &str| {
        let object: String = request.username.chars().take(100).collect();
        cityops_store::audit::record("session.sign_in", format!("user:{object}"))
            .result(format!("refused: {why}"))
    };
    // A pair that must wait is refused unheard, whatever it sends: guessing gains nothing,
    // and the answer is the same for every name.
    if let Some(refusal) = must_wait(&state, &request.username, address).await? {
        state.store.append_audit(vec![refused("throttled")]).await?;
        return Err(refusal);
    }
    let user = state.store.user_by_name(&request.username).await?;
    // An unknown name is checked against a dummy hash, so it takes as long as a known one.
    let hash = user
        .as_ref()
        .map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password = request.password.clone();
    let verified = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let now = Utc::now();
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        other => {
            let why = match &other {
                None => "unknown user",
                Some(user) if user.disabled => "account disabled",
                Some(_) => "wrong password",
            };
            state.store.append_audit(vec![refused(why)]).await?;
            if let Some(refusal) = count_failure(&state, &request.username, address).await? {
                return Err(refusal);
            }
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "wrong username or password",
            ));
        }
    };
    if let Some(totp) = user.totp.as_ref().filter(|t| t.enabled) {
        let Some(code) = request.otp.as_deref() else {
            state
                .store
                .append_audit(vec![refused("second factor missing")])
                .await?;
            return Err(ApiError::new(
                ErrorCode::OtpRequired,
                "this account has a second factor: send the authenticator app's code as otp",
            )
            .with_field("otp"));
        };
        // A replayed code counts as a wrong one.
        if !fresh_code(&state, &user, totp, code).await? {
            state
                .store
                .append_audit(vec![refused("wrong second-factor code")])
                .await?;
            if let Some(refusal) = count_failure(&state, &user.username, address).await? {
                return Err(refusal);
            }
            return Err(ApiError::new(
                ErrorCode::InvalidOtp,
                "the code is wrong, expired or already used",
            )
            .with_field("otp"));
        }
    }
    state
        .sign_in_throttle
        .count_success(&user.username, address)
        .await?;
    // Accounts locked by earlier versions are unlocked by signing in.
    if user.failed_logins > 0 || user.locked_until.is_some() {
        state.store.record_login_success(&user.id).await?;
    }
    let token = auth::new_token();
    let expires_at = now + Duration::hours(state.config.session_hours);
    state
        .store
        .insert_session(&token_hash(&token), &user.id, now, expires_at)
        .await?;
    let mut headers = axum::http::HeaderMap::new();
    let (token, csrf) = match request.session {
        SessionKind::Bearer => (Some(token), None),
        SessionKind::Cookie => {
            let csrf = csrf_token(&token);
            let max_age = (expires_at - now).num_seconds();
            let secure = if state.config.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            for cookie in [
                format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"),
                format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={max_age}; SameSite=Strict{secure}"),
            ] {
                headers.append(
                    axum::http::header::SET_COOKIE,
                    axum::http::HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
                );
            }
            (None, Some(csrf))
        }
    };
    Ok((
        StatusCode::CREATED,
        headers,
        Json(LoginResponse {
            token,
            csrf_token: csrf,
            expires_at,
            user: UserView {
                id: user.id,
                username: user.username,
                display_name: user.display_name,
                role: Wire(user.role),
                unit: user.unit,
                scope: user.scope.to_string(),
            },
        }),
    ))
}

/// Sign out: the session token stops working at once.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
    _user: crate::extract::CurrentUser,
) -> ApiResult<(StatusCode, axum::http::HeaderMap)> {
    let token = crate::extract::presented_token(&method, &headers)?.unwrap_or_default();
    state.store.delete_session(&token_hash(&token)).await?;
    // A cookie session's cookies go too; harmless for a bearer session.
    let mut cleared = axum::http::HeaderMap::new();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        cleared.append(
            axum::http::header::SET_COOKIE,
            axum::http::HeaderValue::from_str(&format!(
                "{name}=; Path=/; Max-Age=0; SameSite=Strict"
            ))
            .map_err(ApiError::internal)?,
        );
    }
    Ok((StatusCode::NO_CONTENT, cleared))
}
