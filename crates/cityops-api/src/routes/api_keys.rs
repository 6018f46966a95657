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
use crate::wire::{self, Wire};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", delete(revoke))
}

/// What a key may do. Every request needs one: reads `read`, new reports `report`,
/// readings `telemetry`, any other change `write`. Stored by name with the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Report,
    Telemetry,
    Write,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::Read,
        Permission::Report,
        Permission::Telemetry,
        Permission::Write,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Report => "report",
            Permission::Telemetry => "telemetry",
            Permission::Write => "write",
        }
    }

    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// The permission a request needs.
pub fn required_permission(method: &axum::http::Method, path: &str) -> Permission {
    use axum::http::Method;
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Permission::Read,
        Method::POST if path == "/api/v1/telemetry" => Permission::Telemetry,
        Method::POST if path == "/api/v1/cases" => Permission::Report,
        _ => Permission::Write,
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
    let needed = required_permission(method, path).as_str();
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
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    name: String,
    /// The role it acts with: any staff role (not `citizen` or `system`).
    #[schema(value_type = wire::StaffRole)]
    role: String,
    /// The area subtree it acts within.
    #[schema(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    scope: String,
    /// The unit it acts for (required for a unit handler's key).
    unit: Option<String>,
    #[schema(value_type = Vec<wire::ApiKeyPermission>, min_items = 1)]
    permissions: Vec<String>,
    /// Days until it expires (1 to 3650); none: until revoked.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    id: String,
    name: String,
    role: wire::Role,
    scope: String,
    unit: Option<String>,
    #[schema(value_type = Vec<wire::ApiKeyPermission>)]
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
            role: Wire(k.role),
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
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "scope",
            "no such area",
        ));
    }
    if !actor.scope.contains(&scope) {
        return Err(
            ApiError::new(ErrorCode::Forbidden, "a key's scope lies within yours")
                .with_field("scope"),
        );
    }
    if let Some(unit) = &new.unit {
        let Some(unit) = state.store.unit(unit).await? else {
            return Err(ApiError::rule(
                ErrorCode::UnknownReference,
                "unit",
                "no such unit",
            ));
        };
        if unit.retired.is_some() {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "unit",
                format!("unit {} is retired", unit.code),
            ));
        }
        // A key acts for its unit only where the unit answers: a unit whose jurisdiction and
        // the key's scope do not meet would give a key that sees nothing and, worse, one
        // that reports for a unit outside the admin's own reach.
        let overlaps = |a: &AreaCode, b: &AreaCode| a.contains(b) || b.contains(a);
        if !overlaps(&unit.jurisdiction, &scope) {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "unit",
                format!(
                    "unit {} answers for area {}, outside the key's scope {scope}",
                    unit.code, unit.jurisdiction
                ),
            ));
        }
    } else if role == Role::UnitHandler {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
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
        if Permission::parse(permission).is_none() {
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
    // An admin manages the keys within their own scope, as they create them.
    Ok(Json(
        keys.iter()
            .filter(|k| actor.scope.contains(&k.scope))
            .map(ApiKeyView::from)
            .collect(),
    ))
}

/// Revoke a key within the admin's scope: it stops working at once, for good.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api keys",
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&actor)?;
    let within = state
        .store
        .api_key(&id)
        .await?
        .is_some_and(|k| actor.scope.contains(&k.scope));
    if within && state.store.revoke_api_key(&id, Utc::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("an unrevoked API key with this id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn every_permission_is_listed_and_read_back_from_its_name() {
        // Exhaustive: a new permission does not compile until it has its place in the
        // sequence, and then this fails until `ALL` lists it there too.
        let next = |permission: Permission| match permission {
            Permission::Read => Some(Permission::Report),
            Permission::Report => Some(Permission::Telemetry),
            Permission::Telemetry => Some(Permission::Write),
            Permission::Write => None,
        };
        let listed: Vec<Permission> =
            std::iter::successors(Some(Permission::Read), |p| next(*p)).collect();
        assert_eq!(listed, Permission::ALL);
        for permission in Permission::ALL {
            assert_eq!(Permission::parse(permission.as_str()), Some(permission));
        }
    }

    #[test]
    fn reads_reports_readings_and_other_changes_each_need_their_permission() {
        let needed = |method: Method, path: &str| required_permission(&method, path);
        assert_eq!(needed(Method::GET, "/api/v1/cases"), Permission::Read);
        assert_eq!(needed(Method::POST, "/api/v1/cases"), Permission::Report);
        assert_eq!(
            needed(Method::POST, "/api/v1/telemetry"),
            Permission::Telemetry
        );
        assert_eq!(
            needed(Method::POST, "/api/v1/cases/1/accept"),
            Permission::Write
        );
    }
}
