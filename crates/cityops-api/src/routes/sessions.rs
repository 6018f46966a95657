use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration, Utc};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{token_hash, JsonBody};
use crate::views::{LoginRequest, LoginResponse, UserView};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", post(sign_in))
        .route("/me", axum::routing::get(me))
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
        .ok_or_else(|| ApiError::unauthenticated("the user no longer exists"))?;
    Ok(Json(UserView {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role.as_str().to_owned(),
        unit: user.unit,
        scope: user.scope.to_string(),
    }))
}

/// A fixed argon2id hash verified when the username is unknown, so the answer takes as
/// long as for a known user and does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2vgcX1DBZ5ZkXGf2zVUPNGsS4k2ll3rL3gLKb6wm1ZY";

/// Sign in with username and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions",
    request_body = LoginRequest,
    responses((status = 201, body = LoginResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<LoginRequest>,
) -> ApiResult<(StatusCode, Json<LoginResponse>)> {
    if request.username.len() > 100 || request.password.len() > 200 {
        return Err(ApiError::unauthenticated("wrong username or password"));
    }
    let user = state.store.user_by_name(&request.username).await?;
    let hash = user
        .as_ref()
        .map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password = request.password.clone();
    let verified = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong username or password",
            ))
        }
    };
    let token = auth::new_token();
    let now = Utc::now();
    let expires_at = now + Duration::hours(state.config.session_hours);
    state
        .store
        .insert_session(&token_hash(&token), &user.id, now, expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LoginResponse {
            token,
            expires_at,
            user: UserView {
                id: user.id,
                username: user.username,
                display_name: user.display_name,
                role: user.role.as_str().to_owned(),
                unit: user.unit,
                scope: user.scope.to_string(),
            },
        }),
    ))
}
