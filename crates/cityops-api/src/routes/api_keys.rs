//! Keys for machines: a gateway posting telemetry, the 12345 hotline's system filing
//! reports, an integration reading cases. A key acts with a role within a scope, like a
//! user, narrowed further to the permissions it was given; its secret is shown once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use cityops_domain::{Actor, AreaCode, Role};
use cityops_store::ApiKeyRecord;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", delete(revoke))
}

/// What a key may do. Every request needs one: reads `read`, new reports `report`,
/// readings `telemetry`, any other change `write`.
pub const PERMISSIONS: [&str; 4] = ["read", "report", "telemetry", "write"];

/// The permission a request needs.
pub fn required_permission(method: &axum::http::Method, path: &str) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => "read",
        Method::POST if path == "/api/v1/telemetry" => "telemetry",
        Method::POST if path == "/api/v1/cases" => "report",
        _ => "write",
    }
}

/// Keys look like `cok_<id>_<secret>`: the id finds the row, the secret proves the holder.
pub const PREFIX: &str = "cok_";

fn secret_hash(secret: &str) -> String {
    // The secret is 256 random bits: a fast hash suffices, unlike a password.
    crate::extract::token_hash(secret)
}

/// The actor behind an API key, if the key is valid and grants what the request needs.
pub async fn key_actor(
    state: &AppState,
    token: &str,
    method: &axum::http::Method,
    path: &str,
) -> Result<Actor, ApiError> {
    let refused = || {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "the API key is unknown, revoked or expired",
        )
    };
    let (id, secret) = token
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .ok_or_else(refused)?;
    let key = state.store.api_key(id).await?.ok_or_else(refused)?;
    let now = Utc::now();
    if key.secret_hash != secret_hash(secret)
        || key.revoked_at.is_some()
        || key.expires_at.is_some_and(|at| at <= now)
    {
        return Err(refused());
    }
    let needed = required_permission(method, path);
    if !key.permissions.iter().any(|p| p == needed) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this API key lacks the '{needed}' permission"),
        ));
    }
    let username = format!("key:{}", key.name);
    cityops_store::audit::identify(&username, key.role.as_str(), key.scope.as_str());
    Ok(Actor {
        user_id: format!("key:{}", key.id),
        username,
        role: key.role,
        unit: key.unit,
        scope: key.scope,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Who holds it, e.g. `huangpu-gateway-7` (1 to 64 letters, digits, `-`, `_`, `.`).
    name: String,
    /// The role it acts with: any staff role.
    role: String,
    /// The area subtree it acts within.
    scope: String,
    /// The unit it acts for (required for a unit handler's key).
    unit: Option<String>,
    /// Some of read, report, telemetry, write.
    permissions: Vec<String>,
    /// Days until it expires (1 to 3650); none: until revoked.
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    id: String,
    name: String,
    role: String,
    scope: String,
    unit: Option<String>,
    permissions: Vec<String>,
    created_by: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    /// The key itself, shown once, at creation: send it as `Authorization: Bearer <key>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl From<&ApiKeyRecord> for ApiKeyView {
    fn from(k: &ApiKeyRecord) -> ApiKeyView {
        ApiKeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.as_str().to_owned(),
            scope: k.scope.to_string(),
            unit: k.unit.clone(),
            permissions: k.permissions.clone(),
            created_by: k.created_by.clone(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            key: None,
        }
    }
}

fn admin(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only admins manage API keys",
        ))
    }
}

/// Create a key; the answer holds the key itself, which is never shown again.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api keys", request_body = NewApiKey,
    responses((status = 201, body = ApiKeyView), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(new): JsonBody<NewApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKeyView>)> {
    admin(&actor)?;
    let name = new.name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ApiError::invalid(
            "name",
            "a key name is 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    let role = Role::parse(&new.role)
        .filter(|r| !matches!(r, Role::Citizen | Role::System))
        .ok_or_else(|| ApiError::invalid("role", "role is one of the staff roles"))?;
    let scope =
        AreaCode::parse(&new.scope).map_err(|e| ApiError::invalid("scope", e.to_string()))?;
    if state.store.area(&scope).await?.is_none() {
        return Err(ApiError::invalid("scope", "no such area"));
    }
    if !actor.scope.contains(&scope) {
        return Err(ApiError::invalid(
            "scope",
            "a key's scope lies within yours",
        ));
    }
    if let Some(unit) = &new.unit {
        if state.store.unit(unit).await?.is_none() {
            return Err(ApiError::invalid("unit", "no such unit"));
        }
    } else if role == Role::UnitHandler {
        return Err(ApiError::invalid(
            "unit",
            "a unit handler's key needs its unit",
        ));
    }
    if new.permissions.is_empty() {
        return Err(ApiError::invalid(
            "permissions",
            "give at least one permission",
        ));
    }
    let mut permissions = Vec::new();
    for (i, permission) in new.permissions.iter().enumerate() {
        if !PERMISSIONS.contains(&permission.as_str()) {
            return Err(ApiError::invalid(
                format!("permissions[{i}]"),
                "a permission is read, report, telemetry or write",
            ));
        }
        if !permissions.contains(permission) {
            permissions.push(permission.clone());
        }
    }
    let expires_at = match new.expires_in_days {
        None => None,
        Some(days) if (1..=3650).contains(&days) => Some(Utc::now() + Duration::days(days)),
        Some(_) => {
            return Err(ApiError::invalid(
                "expires_in_days",
                "a key lasts 1 to 3650 days",
            ))
        }
    };
    let mut bytes = [0u8; 40];
    rand::thread_rng().fill_bytes(&mut bytes);
    let id = hex::encode(&bytes[..8]);
    let secret = hex::encode(&bytes[8..]);
    let record = ApiKeyRecord {
        id: id.clone(),
        name: name.to_owned(),
        secret_hash: secret_hash(&secret),
        role,
        unit: new.unit,
        scope,
        permissions,
        created_by: actor.username.clone(),
        created_at: Utc::now(),
        expires_at,
        revoked_at: None,
    };
    state.store.insert_api_key(&record).await?;
    let mut view = ApiKeyView::from(&record);
    view.key = Some(format!("{PREFIX}{id}_{secret}"));
    Ok((StatusCode::CREATED, Json(view)))
}

/// Every key, revoked ones included; never their secrets.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api keys",
    responses((status = 200, body = Vec<ApiKeyView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<Vec<ApiKeyView>>> {
    admin(&actor)?;
    let keys = state.store.api_keys().await?;
    Ok(Json(keys.iter().map(ApiKeyView::from).collect()))
}

/// Revoke a key: it stops working at once, for good.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api keys",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&actor)?;
    if state.store.revoke_api_key(&id, Utc::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("an unrevoked API key with this id"))
    }
}
